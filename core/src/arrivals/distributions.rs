//! Per-payment attribute draws of an arrival stream (ENGINE.md §9.2).
//!
//! The *number* of draws each sampler consumes is part of the spec: a draw is
//! skipped exactly when its outcome is fixed by the configuration (a `Fixed`
//! amount, a one-value range, a single positive weight), and made in every
//! other case, even when rounding forces the outcome. Keeping that rule exact
//! is what makes streams reproducible across implementations.
//!
//! Transcendental functions come from `libm` (never the platform library) so
//! the same seed gives the same amounts on every platform.

use serde::{Deserialize, Serialize};

use super::rng::Xoshiro256pp;

/// Smallest payment amount in cents (§4).
pub const MIN_AMOUNT: i64 = 1;
/// Largest payment amount in cents (§4).
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;

/// Amount distribution of a stream, in cents.
///
/// `LogNormal` always holds log-space parameters; the config's arithmetic-moment
/// form `{mean, std_dev}` is converted with [`lognormal_from_moments`] (or
/// [`AmountDist::lognormal_from_moments`]), and `Exponential{lambda}` with
/// [`exponential_mean_from_lambda`], so the conversion uses `libm` too.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AmountDist {
    Uniform { min: i64, max: i64 },
    Normal { mean: f64, std_dev: f64 },
    LogNormal { mu: f64, sigma: f64 },
    Exponential { mean: f64 },
    Fixed { amount: i64 },
}

/// Log-space `(mu, sigma)` of a log-normal with arithmetic `mean` and `std_dev`:
/// σ² = ln(1 + sd²/mean²), μ = ln(mean) − σ²/2.
///
/// Validation requires `mean > 0` and `std_dev ≥ 0`; otherwise the result may
/// be NaN, which [`AmountDist::sample`] turns into the minimum amount rather
/// than panicking.
pub fn lognormal_from_moments(mean: f64, std_dev: f64) -> (f64, f64) {
    let sigma2 = libm::log(1.0 + (std_dev * std_dev) / (mean * mean));
    let mu = libm::log(mean) - sigma2 / 2.0;
    (mu, libm::sqrt(sigma2))
}

/// Mean of an exponential with rate `lambda` (`1/lambda`). A zero rate gives an
/// infinite mean, which sampling clamps to the maximum amount.
pub fn exponential_mean_from_lambda(lambda: f64) -> f64 {
    1.0 / lambda
}

/// Standard normal deviate by Box–Muller (cosine branch only, so exactly two
/// draws per payment; `u1` is drawn first). `1 − u1` lies in (0, 1], so the
/// logarithm is finite.
fn standard_normal(rng: &mut Xoshiro256pp) -> f64 {
    let u1 = rng.next_f64();
    let u2 = rng.next_f64();
    libm::sqrt(-2.0 * libm::log(1.0 - u1)) * libm::cos(core::f64::consts::TAU * u2)
}

/// Rounds half away from zero and clamps into the amount range. NaN (from
/// invalid parameters) maps to the minimum and ±∞ to the nearest bound, so the
/// final cast is always in range and never saturates silently.
fn round_amount(x: f64) -> i64 {
    if x.is_nan() {
        return MIN_AMOUNT;
    }
    let r = libm::round(x);
    if r <= MIN_AMOUNT as f64 {
        MIN_AMOUNT
    } else if r >= MAX_AMOUNT as f64 {
        MAX_AMOUNT
    } else {
        r as i64
    }
}

/// Clamps an integer amount into [1, 10^15].
fn clamp_amount(x: i128) -> i64 {
    x.clamp(i128::from(MIN_AMOUNT), i128::from(MAX_AMOUNT)) as i64
}

impl AmountDist {
    /// `LogNormal` from arithmetic moments (the config's `{mean, std_dev}` form).
    pub fn lognormal_from_moments(mean: f64, std_dev: f64) -> Self {
        let (mu, sigma) = lognormal_from_moments(mean, std_dev);
        AmountDist::LogNormal { mu, sigma }
    }

    /// `Exponential` from a rate (the config's `{lambda}` form).
    pub fn exponential_from_lambda(lambda: f64) -> Self {
        AmountDist::Exponential {
            mean: exponential_mean_from_lambda(lambda),
        }
    }

    /// Draws one amount in cents, always in [1, 10^15].
    ///
    /// The spec clamps drawn amounts; `Fixed` and one-value `Uniform` amounts
    /// are clamped too, which is a no-op for validated configs and guarantees
    /// the payment invariant `1 ≤ amount ≤ 10^15` even for unvalidated ones.
    /// A `Uniform` with `max < min` (a config error) returns `min` without a
    /// draw.
    pub fn sample(&self, rng: &mut Xoshiro256pp) -> i64 {
        match *self {
            AmountDist::Fixed { amount } => clamp_amount(i128::from(amount)),
            AmountDist::Uniform { min, max } => {
                if max <= min {
                    return clamp_amount(i128::from(min));
                }
                // i128 because `max − min + 1` overflows i64 for extreme ranges.
                let span = i128::from(max) - i128::from(min) + 1;
                let offset = match u64::try_from(span) {
                    Ok(n) => i128::from(rng.bounded(n)),
                    // Only the full i64 range (span 2^64) gets here: every u64 is
                    // then a uniform offset.
                    Err(_) => i128::from(rng.next_u64()),
                };
                clamp_amount(i128::from(min) + offset)
            }
            AmountDist::Normal { mean, std_dev } => {
                let z = standard_normal(rng);
                round_amount(mean + std_dev * z)
            }
            AmountDist::LogNormal { mu, sigma } => {
                let z = standard_normal(rng);
                round_amount(libm::exp(mu + sigma * z))
            }
            AmountDist::Exponential { mean } => {
                let u = rng.next_f64();
                round_amount(-mean * libm::log(1.0 - u))
            }
        }
    }
}

/// Priority band of an arrival band stream; the band fixes the priority range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Band {
    /// Priorities 8–10.
    Urgent,
    /// Priorities 4–7.
    Normal,
    /// Priorities 0–3.
    Low,
}

impl Band {
    /// Uniform priority within the band (always one draw).
    pub fn sample(self, rng: &mut Xoshiro256pp) -> u8 {
        // bounded(n) < n ≤ 4, so the casts cannot truncate.
        match self {
            Band::Urgent => 8 + rng.bounded(3) as u8,
            Band::Normal => 4 + rng.bounded(4) as u8,
            Band::Low => rng.bounded(4) as u8,
        }
    }
}

/// Internal-priority distribution of a stream (values 0..=10 after validation).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PriorityDist {
    /// Also the normalized form of the legacy `priority: N`.
    Fixed(u8),
    Uniform {
        min: u8,
        max: u8,
    },
    Categorical {
        values: Vec<u8>,
        weights: Vec<f64>,
    },
    Band(Band),
}

impl PriorityDist {
    /// Draws one priority.
    ///
    /// Invalid configurations (rejected by validation) still never panic: a
    /// `Uniform` with `max < min` gives `min` without a draw; a `Categorical`
    /// uses only the first `min(values, weights)` entries and, with no positive
    /// weight, gives its first value (0 if empty) without a draw. Values are
    /// returned as configured, not clamped to 0..=10.
    pub fn sample(&self, rng: &mut Xoshiro256pp) -> u8 {
        match self {
            PriorityDist::Fixed(v) => *v,
            PriorityDist::Uniform { min, max } => {
                if max <= min {
                    return *min;
                }
                // span ≤ 256 and the offset < span, so min + offset ≤ max fits u8.
                let span = u64::from(*max - *min) + 1;
                *min + rng.bounded(span) as u8
            }
            PriorityDist::Categorical { values, weights } => {
                let n = values.len().min(weights.len());
                let idx = pick_weighted(rng, &weights[..n]);
                values.get(idx).copied().unwrap_or(0)
            }
            PriorityDist::Band(band) => band.sample(rng),
        }
    }
}

/// A weight counts only when strictly positive; NaN and negatives (config
/// errors) count as zero so they can never be picked.
fn is_positive(w: f64) -> bool {
    w > 0.0
}

/// Weighted pick: the first candidate whose cumulative weight exceeds `u × W`,
/// falling back to the last positive one.
///
/// No draw is made when exactly one weight is positive (the outcome is fixed).
/// The fallback only matters for non-finite weights, since `u < 1` keeps
/// `u × W` below the final cumulative sum otherwise. With no positive weight (a
/// config error) it returns 0 without a draw.
pub fn pick_weighted(rng: &mut Xoshiro256pp, weights: &[f64]) -> usize {
    let mut positive = weights.iter().enumerate().filter(|&(_, &w)| is_positive(w));
    let Some((first, _)) = positive.next() else {
        return 0;
    };
    if positive.next().is_none() {
        return first;
    }
    // Summed in candidate order, exactly as the cumulative sum below, so the
    // last positive candidate's cumulative weight equals W bit for bit.
    let total: f64 = weights.iter().copied().filter(|&w| is_positive(w)).sum();
    let target = rng.next_f64() * total;
    let mut cumulative = 0.0;
    let mut last_positive = first;
    for (i, &w) in weights.iter().enumerate() {
        if !is_positive(w) {
            continue;
        }
        cumulative += w;
        if cumulative > target {
            return i;
        }
        last_positive = i;
    }
    last_positive
}

/// Uniform pick among `n` candidates: ⌊u × n⌋.
///
/// No draw when `n == 1` (the outcome is fixed) or `n == 0` (nothing to pick, a
/// caller bug; returns 0). The result is capped at `n − 1` as a guard against
/// the product rounding up to `n`.
pub fn pick_uniform(rng: &mut Xoshiro256pp, n: usize) -> usize {
    if n <= 1 {
        return 0;
    }
    let idx = libm::floor(rng.next_f64() * n as f64) as usize;
    idx.min(n - 1)
}

/// Deadline offset `min + bounded(max − min + 1)` from `deadline_range`, before
/// capping (§2). No draw when `min == max`; `max < min` (a config error) gives
/// `min` without a draw.
pub fn deadline_offset(rng: &mut Xoshiro256pp, min: u32, max: u32) -> u32 {
    if max <= min {
        return min;
    }
    // span ≤ 2^32 and the offset < span, so min + offset ≤ max fits u32.
    let span = u64::from(max - min) + 1;
    min + rng.bounded(span) as u32
}

/// Absolute deadline of a payment (§2, one rule for every source):
/// `min(arrival + offset, T − 1, cap_at_eod ? last tick of arrival's day : ∞)`.
///
/// Computed in u64 so `arrival + offset` cannot overflow. `ticks_per_day == 0`
/// or `total_ticks == 0` (rejected by validation) disable the respective cap
/// rather than dividing by zero or underflowing.
pub fn cap_deadline(
    arrival: u32,
    offset: u32,
    ticks_per_day: u32,
    total_ticks: u32,
    cap_at_eod: bool,
) -> u32 {
    let mut deadline = u64::from(arrival) + u64::from(offset);
    if total_ticks > 0 {
        deadline = deadline.min(u64::from(total_ticks) - 1);
    }
    if cap_at_eod && ticks_per_day > 0 {
        let tpd = u64::from(ticks_per_day);
        let day_cap = (u64::from(arrival) / tpd + 1) * tpd - 1;
        deadline = deadline.min(day_cap);
    }
    // Never below the arrival (only reachable for inconsistent inputs such as
    // arrival ≥ T), and the result fits u32 since it is ≤ max(arrival, T − 1)
    // or ≤ arrival + offset capped by a u32 bound.
    u32::try_from(deadline.max(u64::from(arrival))).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: usize = 200_000;

    fn rng(seed: u64) -> Xoshiro256pp {
        Xoshiro256pp::for_stream(seed, "BANK_T", "single")
    }

    /// Sample mean and unbiased sample variance.
    fn mean_var(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, var)
    }

    /// Checks sample mean and variance against theory within `z` standard
    /// errors. `mu4` is the distribution's 4th central moment, which sets the
    /// exact variance of the unbiased sample variance:
    /// μ4/n − σ⁴(n − 3)/(n(n − 1)) (not the asymptotic (μ4 − σ⁴)/n, which is 0
    /// for a two-point distribution).
    fn check_moments(label: &str, xs: &[f64], mean: f64, var: f64, mu4: f64, z: f64) {
        let n = xs.len() as f64;
        let (m, v) = mean_var(xs);
        let se_mean = (var / n).sqrt();
        let se_var = (mu4 / n - var * var * (n - 3.0) / (n * (n - 1.0))).sqrt();
        assert!(
            (m - mean).abs() <= z * se_mean,
            "{label}: mean {m} vs {mean} (±{})",
            z * se_mean
        );
        assert!(
            (v - var).abs() <= z * se_var,
            "{label}: variance {v} vs {var} (±{})",
            z * se_var
        );
    }

    /// Central moments (variance, μ4) of a log-normal from its raw moments
    /// E[X^k] = exp(kμ + k²σ²/2).
    fn lognormal_central(mu: f64, sigma: f64) -> (f64, f64, f64) {
        let raw = |k: f64| (k * mu + k * k * sigma * sigma / 2.0).exp();
        let (m1, m2, m3, m4) = (raw(1.0), raw(2.0), raw(3.0), raw(4.0));
        let var = m2 - m1 * m1;
        let mu4 = m4 - 4.0 * m3 * m1 + 6.0 * m2 * m1 * m1 - 3.0 * m1.powi(4);
        (m1, var, mu4)
    }

    fn samples(dist: &AmountDist, seed: u64) -> Vec<f64> {
        let mut r = rng(seed);
        (0..N).map(|_| dist.sample(&mut r) as f64).collect()
    }

    /// Asserts that `f` consumed exactly `draws` u64 outputs.
    fn assert_draws<T>(label: &str, draws: usize, f: impl FnOnce(&mut Xoshiro256pp) -> T) {
        let mut r = rng(4242);
        let mut reference = r.clone();
        f(&mut r);
        for _ in 0..draws {
            reference.next_u64();
        }
        assert_eq!(r, reference, "{label}: expected {draws} draws");
    }

    #[test]
    fn skipped_draws_leave_state_unchanged() {
        let amounts = [
            ("fixed", AmountDist::Fixed { amount: 5_000 }),
            ("uniform min=max", AmountDist::Uniform { min: 7, max: 7 }),
        ];
        for (label, d) in &amounts {
            assert_draws(label, 0, |r| d.sample(r));
        }
        let priorities = [
            ("fixed", PriorityDist::Fixed(5)),
            ("uniform min=max", PriorityDist::Uniform { min: 3, max: 3 }),
            (
                "categorical one positive",
                PriorityDist::Categorical {
                    values: vec![1, 9, 4],
                    weights: vec![0.0, 2.5, 0.0],
                },
            ),
        ];
        for (label, d) in &priorities {
            assert_draws(label, 0, |r| d.sample(r));
        }
        assert_draws("deadline min=max", 0, |r| deadline_offset(r, 10, 10));
        assert_draws("pick_uniform 1", 0, |r| pick_uniform(r, 1));
        assert_draws("pick_weighted one positive", 0, |r| {
            pick_weighted(r, &[0.0, 0.0, 3.0])
        });
    }

    #[test]
    fn draws_are_made_even_when_outcome_is_nearly_forced() {
        let cases: [(&str, AmountDist, usize); 4] = [
            ("uniform", AmountDist::Uniform { min: 1, max: 2 }, 1),
            (
                "normal sd 0",
                AmountDist::Normal {
                    mean: 100.0,
                    std_dev: 0.0,
                },
                2,
            ),
            (
                "lognormal sigma 0",
                AmountDist::LogNormal {
                    mu: 5.0,
                    sigma: 0.0,
                },
                2,
            ),
            ("exponential", AmountDist::Exponential { mean: 1e-9 }, 1),
        ];
        for (label, d, draws) in &cases {
            assert_draws(label, *draws, |r| d.sample(r));
        }
        assert_draws("categorical tiny weight", 1, |r| {
            PriorityDist::Categorical {
                values: vec![1, 2],
                weights: vec![1.0, 1e-300],
            }
            .sample(r)
        });
        assert_draws("priority uniform", 1, |r| {
            PriorityDist::Uniform { min: 0, max: 10 }.sample(r)
        });
        assert_draws("band", 1, |r| Band::Low.sample(r));
        assert_draws("deadline", 1, |r| deadline_offset(r, 10, 50));
        assert_draws("pick_uniform 2", 1, |r| pick_uniform(r, 2));
    }

    #[test]
    fn normal_uses_u1_first_box_muller() {
        let mut r = rng(17);
        let mut raw = r.clone();
        let got = AmountDist::Normal {
            mean: 1e6,
            std_dev: 1e4,
        }
        .sample(&mut r);
        let u1 = raw.next_f64();
        let u2 = raw.next_f64();
        let z = (-2.0 * (1.0 - u1).ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        let want = (1e6 + 1e4 * z).round() as i64;
        // The platform math may differ from libm in the last ulp; the rounded
        // amount is far from a .5 boundary for this seed in practice.
        assert!((got - want).abs() <= 1, "{got} vs {want}");
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round_amount(2.5), 3);
        assert_eq!(round_amount(3.5), 4);
        assert_eq!(round_amount(2.4999999), 2);
        assert_eq!(round_amount(1.5), 2);
    }

    #[test]
    fn amounts_are_clamped_and_never_panic() {
        let cases = [
            (
                "normal far below",
                AmountDist::Normal {
                    mean: -1e9,
                    std_dev: 1.0,
                },
                1,
                1,
            ),
            (
                "normal far above",
                AmountDist::Normal {
                    mean: 1e300,
                    std_dev: 1.0,
                },
                MAX_AMOUNT,
                MAX_AMOUNT,
            ),
            (
                "normal NaN",
                AmountDist::Normal {
                    mean: f64::NAN,
                    std_dev: 1.0,
                },
                1,
                1,
            ),
            (
                "normal inf sd",
                AmountDist::Normal {
                    mean: 0.0,
                    std_dev: f64::INFINITY,
                },
                1,
                MAX_AMOUNT,
            ),
            (
                "lognormal huge",
                AmountDist::LogNormal {
                    mu: 1000.0,
                    sigma: 1.0,
                },
                MAX_AMOUNT,
                MAX_AMOUNT,
            ),
            (
                "lognormal tiny",
                AmountDist::LogNormal {
                    mu: -1000.0,
                    sigma: 1.0,
                },
                1,
                1,
            ),
            (
                "exponential inf",
                AmountDist::exponential_from_lambda(0.0),
                1,
                MAX_AMOUNT,
            ),
            (
                "exponential negative",
                AmountDist::Exponential { mean: -5.0 },
                1,
                1,
            ),
            (
                "moments invalid",
                AmountDist::lognormal_from_moments(-1.0, 1.0),
                1,
                1,
            ),
            (
                "uniform wide",
                AmountDist::Uniform {
                    min: i64::MIN,
                    max: i64::MAX,
                },
                1,
                MAX_AMOUNT,
            ),
            (
                "uniform above",
                AmountDist::Uniform {
                    min: MAX_AMOUNT,
                    max: i64::MAX,
                },
                MAX_AMOUNT,
                MAX_AMOUNT,
            ),
            (
                "uniform inverted",
                AmountDist::Uniform { min: 9, max: 3 },
                9,
                9,
            ),
            ("fixed zero", AmountDist::Fixed { amount: 0 }, 1, 1),
            (
                "fixed huge",
                AmountDist::Fixed { amount: i64::MAX },
                MAX_AMOUNT,
                MAX_AMOUNT,
            ),
        ];
        for (label, d, lo, hi) in &cases {
            let mut r = rng(5);
            for _ in 0..1000 {
                let a = d.sample(&mut r);
                assert!((*lo..=*hi).contains(&a), "{label}: {a}");
            }
        }
    }

    #[test]
    fn uniform_amount_moments() {
        let cases = [(1i64, 100i64, 21u64), (1_000, 1_000_000, 22), (5, 6, 23)];
        for (min, max, seed) in cases {
            let xs = samples(&AmountDist::Uniform { min, max }, seed);
            assert!(xs.iter().all(|&x| x >= min as f64 && x <= max as f64));
            let k = (max - min + 1) as f64;
            let var = (k * k - 1.0) / 12.0;
            // Discrete uniform: μ4 = (k² − 1)(3k² − 7)/240.
            let mu4 = (k * k - 1.0) * (3.0 * k * k - 7.0) / 240.0;
            let mean = (min + max) as f64 / 2.0;
            check_moments(&format!("uniform {min}..{max}"), &xs, mean, var, mu4, 5.0);
        }
    }

    #[test]
    fn normal_amount_moments() {
        // Large mean so clamping at 1 never happens; rounding adds 1/12 variance.
        let cases = [(1e9, 1e6, 31u64), (50_000.0, 5_000.0, 32)];
        for (mean, sd, seed) in cases {
            let xs = samples(&AmountDist::Normal { mean, std_dev: sd }, seed);
            let var = sd * sd + 1.0 / 12.0;
            check_moments(
                &format!("normal {mean}"),
                &xs,
                mean,
                var,
                3.0 * var * var,
                5.0,
            );
        }
    }

    #[test]
    fn lognormal_log_space_moments() {
        let cases = [(10.0, 0.5, 41u64), (12.0, 0.25, 42)];
        for (mu, sigma, seed) in cases {
            let xs = samples(&AmountDist::LogNormal { mu, sigma }, seed);
            let (mean, var, mu4) = lognormal_central(mu, sigma);
            // Sanity: the amount's mean is exp(mu + sigma²/2).
            assert!((mean - libm::exp(mu + sigma * sigma / 2.0)).abs() < 1e-6 * mean);
            check_moments(&format!("lognormal mu={mu}"), &xs, mean, var, mu4, 5.0);
        }
    }

    #[test]
    fn lognormal_moments_form_matches_given_mean_and_sd() {
        let cases = [(50_000.0, 20_000.0, 51u64), (1_000_000.0, 250_000.0, 52)];
        for (mean, sd, seed) in cases {
            let (mu, sigma) = lognormal_from_moments(mean, sd);
            let (m1, var, mu4) = lognormal_central(mu, sigma);
            // The conversion reproduces the moments analytically…
            assert!((m1 - mean).abs() < 1e-9 * mean);
            assert!((var.sqrt() - sd).abs() < 1e-9 * sd);
            // …and sampling reproduces them statistically.
            let xs = samples(&AmountDist::lognormal_from_moments(mean, sd), seed);
            check_moments(
                &format!("lognormal moments {mean}"),
                &xs,
                mean,
                sd * sd,
                mu4,
                5.0,
            );
        }
    }

    #[test]
    fn lognormal_from_moments_known_values() {
        // sd = 0 is degenerate: sigma 0, mu = ln(mean).
        let (mu, sigma) = lognormal_from_moments(100.0, 0.0);
        assert_eq!(sigma, 0.0);
        assert!((mu - 100f64.ln()).abs() < 1e-15);
        // sd = mean: σ² = ln 2, μ = ln(mean) − ln(2)/2.
        let (mu, sigma) = lognormal_from_moments(1000.0, 1000.0);
        assert!((sigma * sigma - 2f64.ln()).abs() < 1e-15);
        assert!((mu - (1000f64.ln() - 2f64.ln() / 2.0)).abs() < 1e-12);
    }

    #[test]
    fn exponential_moments_mean_and_lambda_forms() {
        let cases = [
            ("mean", AmountDist::Exponential { mean: 1e6 }, 1e6, 61u64),
            (
                "lambda",
                AmountDist::exponential_from_lambda(1.0 / 250_000.0),
                250_000.0,
                62,
            ),
        ];
        for (label, d, mean, seed) in &cases {
            let xs = samples(d, *seed);
            let var = mean * mean;
            // Exponential: μ4 = 9·mean⁴.
            check_moments(label, &xs, *mean, var, 9.0 * var * var, 5.0);
        }
        assert_eq!(exponential_mean_from_lambda(4.0), 0.25);
    }

    /// Asserts each category's frequency is within 5 binomial standard errors.
    fn check_frequencies(label: &str, counts: &[u64], probs: &[f64]) {
        let n: u64 = counts.iter().sum();
        for (i, (&c, &p)) in counts.iter().zip(probs).enumerate() {
            let expected = n as f64 * p;
            let se = (n as f64 * p * (1.0 - p)).sqrt();
            assert!(
                (c as f64 - expected).abs() <= 5.0 * se + 1e-9,
                "{label}[{i}]: {c} vs {expected} ± {}",
                5.0 * se
            );
        }
    }

    #[test]
    fn pick_weighted_frequencies() {
        let cases: [(&[f64], u64); 4] = [
            (&[1.0, 2.0, 3.0], 71),
            (&[0.0, 5.0, 0.0, 5.0], 72),
            (&[0.1, 0.2, 0.3, 0.4], 73),
            (&[1e-3, 1.0], 74),
        ];
        for (weights, seed) in cases {
            let total: f64 = weights.iter().sum();
            let probs: Vec<f64> = weights.iter().map(|w| w / total).collect();
            let mut counts = vec![0u64; weights.len()];
            let mut r = rng(seed);
            for _ in 0..N {
                counts[pick_weighted(&mut r, weights)] += 1;
            }
            check_frequencies(&format!("{weights:?}"), &counts, &probs);
            for (c, w) in counts.iter().zip(weights) {
                if *w == 0.0 {
                    assert_eq!(*c, 0, "zero weight picked");
                }
            }
        }
    }

    #[test]
    fn pick_weighted_edge_cases() {
        let mut r = rng(80);
        let before = r.clone();
        assert_eq!(pick_weighted(&mut r, &[]), 0);
        assert_eq!(pick_weighted(&mut r, &[0.0, -1.0, f64::NAN]), 0);
        assert_eq!(pick_weighted(&mut r, &[-1.0, f64::NAN, 2.0]), 2);
        assert_eq!(r, before, "no draws for zero or one positive weight");
        // Non-finite total: u × W is ∞ or NaN, nothing exceeds it, so the
        // fallback to the last positive candidate applies.
        for _ in 0..100 {
            assert_eq!(pick_weighted(&mut r, &[1.0, f64::INFINITY, 0.0]), 1);
        }
    }

    #[test]
    fn pick_weighted_is_first_cumulative_exceeding_target() {
        let weights = [2.0, 0.0, 1.0, 1.0];
        let mut r = rng(81);
        let mut raw = r.clone();
        for _ in 0..1000 {
            let got = pick_weighted(&mut r, &weights);
            let t = raw.next_f64() * 4.0;
            let want = if t < 2.0 {
                0
            } else if t < 3.0 {
                2
            } else {
                3
            };
            assert_eq!(got, want);
        }
    }

    #[test]
    fn pick_uniform_frequencies_and_formula() {
        for (n, seed) in [(2usize, 91u64), (3, 92), (9, 93)] {
            let mut r = rng(seed);
            let mut raw = r.clone();
            let mut counts = vec![0u64; n];
            for _ in 0..N {
                let i = pick_uniform(&mut r, n);
                assert_eq!(i, (raw.next_f64() * n as f64).floor() as usize);
                counts[i] += 1;
            }
            check_frequencies(&format!("uniform {n}"), &counts, &vec![1.0 / n as f64; n]);
        }
        let mut r = rng(94);
        let before = r.clone();
        assert_eq!(pick_uniform(&mut r, 0), 0);
        assert_eq!(r, before);
    }

    #[test]
    fn categorical_priority_frequencies() {
        let values = vec![2u8, 5, 9];
        let weights = vec![0.2, 0.5, 0.3];
        let d = PriorityDist::Categorical {
            values: values.clone(),
            weights: weights.clone(),
        };
        let mut r = rng(101);
        let mut counts = [0u64; 3];
        for _ in 0..N {
            let p = d.sample(&mut r);
            let i = values.iter().position(|&v| v == p).unwrap_or(usize::MAX);
            assert!(i < 3, "unexpected priority {p}");
            counts[i] += 1;
        }
        check_frequencies("categorical", &counts, &weights);
    }

    #[test]
    fn categorical_priority_invalid_shapes_do_not_panic() {
        let mut r = rng(102);
        let cases = [
            (vec![], vec![], 0u8),
            (vec![4], vec![0.0], 4),
            (vec![7, 8], vec![0.0, 1.0, 5.0], 8),
            (vec![7, 8, 3], vec![1.0], 7),
        ];
        for (values, weights, want) in cases {
            let d = PriorityDist::Categorical { values, weights };
            assert_eq!(d.sample(&mut r), want, "{d:?}");
        }
    }

    #[test]
    fn uniform_priority_range_and_frequencies() {
        let cases = [(0u8, 10u8, 111u64), (3, 4, 112), (0, 255, 113)];
        for (min, max, seed) in cases {
            let d = PriorityDist::Uniform { min, max };
            let k = usize::from(max - min) + 1;
            let mut counts = vec![0u64; k];
            let mut r = rng(seed);
            for _ in 0..N {
                let p = d.sample(&mut r);
                assert!((min..=max).contains(&p));
                counts[usize::from(p - min)] += 1;
            }
            check_frequencies(
                &format!("prio {min}..{max}"),
                &counts,
                &vec![1.0 / k as f64; k],
            );
        }
        let mut r = rng(114);
        assert_eq!(PriorityDist::Uniform { min: 6, max: 2 }.sample(&mut r), 6);
    }

    #[test]
    fn band_ranges_and_frequencies() {
        let cases = [
            (Band::Urgent, 8u8, 10u8, 121u64),
            (Band::Normal, 4, 7, 122),
            (Band::Low, 0, 3, 123),
        ];
        for (band, lo, hi, seed) in cases {
            let d = PriorityDist::Band(band);
            let k = usize::from(hi - lo) + 1;
            let mut counts = vec![0u64; k];
            let mut r = rng(seed);
            let mut raw = r.clone();
            for _ in 0..N {
                let p = d.sample(&mut r);
                assert!((lo..=hi).contains(&p), "{band:?}: {p}");
                assert_eq!(p, lo + raw.bounded(k as u64) as u8);
                counts[usize::from(p - lo)] += 1;
            }
            check_frequencies(&format!("{band:?}"), &counts, &vec![1.0 / k as f64; k]);
        }
    }

    #[test]
    fn deadline_offset_range_and_frequencies() {
        let (min, max) = (10u32, 50u32);
        let mut r = rng(131);
        let mut counts = vec![0u64; 41];
        for _ in 0..N {
            let d = deadline_offset(&mut r, min, max);
            assert!((min..=max).contains(&d));
            counts[(d - min) as usize] += 1;
        }
        check_frequencies("deadline", &counts, &[1.0 / 41.0; 41]);
        let mut r = rng(132);
        for _ in 0..1000 {
            // The full u32 range (span 2^32) must not overflow.
            deadline_offset(&mut r, 0, u32::MAX);
            assert!(deadline_offset(&mut r, u32::MAX - 1, u32::MAX) >= u32::MAX - 1);
        }
        assert_eq!(deadline_offset(&mut r, 9, 3), 9);
    }

    #[test]
    fn cap_deadline_table() {
        // (arrival, offset, tpd, T, cap_at_eod, expected)
        let cases = [
            (0u32, 5u32, 10u32, 100u32, false, 5u32),
            (7, 5, 10, 100, false, 12),
            (7, 5, 10, 100, true, 9),
            (9, 0, 10, 100, true, 9),
            (95, 20, 10, 100, false, 99),
            (95, 20, 10, 100, true, 99),
            (0, 0, 1, 1, true, 0),
            (10, 3, 10, 100, true, 13),
            (u32::MAX - 1, u32::MAX, 10, u32::MAX, false, u32::MAX - 1),
            (5, 5, 0, 0, true, 10),
        ];
        for (arrival, offset, tpd, t, cap, want) in cases {
            assert_eq!(
                cap_deadline(arrival, offset, tpd, t, cap),
                want,
                "({arrival}, {offset}, {tpd}, {t}, {cap})"
            );
        }
    }

    /// Golden amounts and picks, cross-checked against an independent
    /// re-implementation of §9.2 written from the spec text. Each case starts
    /// from a fresh stream.
    #[test]
    fn golden_amounts_and_picks() {
        let cases: [(AmountDist, [i64; 6]); 5] = [
            (
                AmountDist::Normal {
                    mean: 50_000.0,
                    std_dev: 10_000.0,
                },
                [43896, 49257, 68883, 41568, 37355, 45699],
            ),
            (
                AmountDist::LogNormal {
                    mu: 10.0,
                    sigma: 1.0,
                },
                [11963, 20450, 145559, 9479, 6220, 14327],
            ),
            (
                AmountDist::Exponential { mean: 12_345.0 },
                [9180, 13559, 3167, 16323, 22010, 110498],
            ),
            (
                AmountDist::Uniform { min: 1, max: 1000 },
                [525, 667, 227, 734, 832, 1000],
            ),
            (
                AmountDist::lognormal_from_moments(50_000.0, 20_000.0),
                [36696, 45114, 96091, 33548, 28521, 39335],
            ),
        ];
        for (dist, want) in &cases {
            let mut r = Xoshiro256pp::for_stream(2, "A", "urgent");
            let got: Vec<i64> = (0..6).map(|_| dist.sample(&mut r)).collect();
            assert_eq!(&got, want, "{dist:?}");
        }
        let mut r = Xoshiro256pp::for_stream(3, "A", "low");
        let picks: Vec<usize> = (0..12)
            .map(|_| pick_weighted(&mut r, &[0.3, 0.0, 1.7, 2.0]))
            .collect();
        assert_eq!(picks, [3, 3, 2, 3, 2, 3, 3, 2, 3, 3, 2, 3]);
    }

    fn assert_serde<T: Serialize + for<'de> Deserialize<'de>>() {}

    #[test]
    fn config_types_are_serializable() {
        assert_serde::<AmountDist>();
        assert_serde::<PriorityDist>();
        assert_serde::<Band>();
    }
}
