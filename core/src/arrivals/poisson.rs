//! Poisson arrival counts (ENGINE.md §9.2 step 2).
//!
//! Two exact algorithms, chosen by λ, both written exactly as the spec gives
//! them so that every implementation consumes the same draws: inversion for
//! small λ (cheap, one draw) and Hörmann's PTRS transformed rejection for
//! large λ (O(1) expected draws, where inversion would need O(λ) steps and
//! e^−λ would underflow).

use super::rng::Xoshiro256pp;

/// λ from which PTRS is used instead of inversion.
pub const PTRS_THRESHOLD: f64 = 10.0;

/// Number of arrivals in one tick for mean `lambda`.
///
/// `λ ≤ 0` gives 0 without a draw, as the spec says. Values that validation
/// rejects are handled without panicking and, like `λ = 0`, without a draw:
/// NaN and ±∞ give 0, since no count would be meaningful and an unbounded one
/// would stall the engine.
pub fn poisson(rng: &mut Xoshiro256pp, lambda: f64) -> u64 {
    // The finiteness test also catches NaN.
    if !lambda.is_finite() || lambda <= 0.0 {
        return 0;
    }
    if lambda < PTRS_THRESHOLD {
        inversion(rng, lambda)
    } else {
        ptrs(rng, lambda)
    }
}

/// Sequential-search inversion: one draw, then walk the CDF until it passes `u`.
fn inversion(rng: &mut Xoshiro256pp, lambda: f64) -> u64 {
    inversion_count(rng.next_f64(), lambda)
}

/// The deterministic part of inversion, split out so tests can feed extreme `u`.
///
/// Terminates even when `u` exceeds the rounded CDF's limit, because the
/// probability term `p` eventually underflows to 0.
fn inversion_count(u: f64, lambda: f64) -> u64 {
    let mut k: u64 = 0;
    let mut p = libm::exp(-lambda);
    let mut cdf = p;
    while u >= cdf && p > 0.0 {
        k += 1;
        p = p * lambda / k as f64;
        cdf += p;
    }
    k
}

/// PTRS (Hörmann 1993), operation for operation as in the spec.
///
/// `k` is kept as an f64 because the spec's candidate can be negative (or −∞
/// when `us` is 0); it is only converted once accepted, and accepted
/// candidates are never negative for λ ≥ 10 (the guard is defensive).
fn ptrs(rng: &mut Xoshiro256pp, lambda: f64) -> u64 {
    let b = 0.931 + 2.53 * libm::sqrt(lambda);
    let a = -0.059 + 0.02483 * b;
    let inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
    let v_r = 0.9277 - 3.6224 / (b - 2.0);
    // Loop-invariant terms, hoisted; they are the same f64 values the spec's
    // expressions produce on every iteration.
    let ln_inv_alpha = libm::log(inv_alpha);
    let ln_lambda = libm::log(lambda);
    loop {
        let u = rng.next_f64() - 0.5;
        let v = rng.next_f64();
        let us = 0.5 - libm::fabs(u);
        let k = libm::floor((2.0 * a / us + b) * u + lambda + 0.43);
        if us >= 0.07 && v <= v_r {
            return count_from_f64(k);
        }
        if k < 0.0 || (us < 0.013 && v > us) {
            continue;
        }
        let lhs = libm::log(v) + ln_inv_alpha - libm::log(a / (us * us) + b);
        let rhs = -lambda + k * ln_lambda - libm::lgamma(k + 1.0);
        if lhs <= rhs {
            return count_from_f64(k);
        }
    }
}

/// Converts an accepted integral f64 candidate to a count: negative or NaN
/// (impossible for valid λ) → 0, too large → `u64::MAX`, never UB or panic.
fn count_from_f64(k: f64) -> u64 {
    if k.is_nan() || k <= 0.0 {
        0
    } else {
        // `as` saturates at u64::MAX for values beyond its range.
        k as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: usize = 200_000;

    fn rng(seed: u64) -> Xoshiro256pp {
        Xoshiro256pp::for_stream(seed, "BANK_P", "normal")
    }

    #[test]
    fn non_positive_and_invalid_lambda_give_zero_without_a_draw() {
        for lambda in [0.0, -0.0, -1.0, f64::NEG_INFINITY, f64::NAN, f64::INFINITY] {
            let mut r = rng(1);
            let before = r.clone();
            assert_eq!(poisson(&mut r, lambda), 0, "λ = {lambda}");
            assert_eq!(r, before, "λ = {lambda} must not draw");
        }
    }

    #[test]
    fn inversion_uses_exactly_one_draw() {
        for lambda in [1e-300, 0.05, 1.0, 9.99] {
            let mut r = rng(2);
            let mut reference = r.clone();
            for _ in 0..1000 {
                poisson(&mut r, lambda);
                reference.next_u64();
            }
            assert_eq!(r, reference, "λ = {lambda}");
        }
    }

    #[test]
    fn inversion_matches_cdf_table() {
        // Independent restatement with the CDF precomputed: k is the number of
        // CDF values ≤ u (the same comparisons, the same f64 accumulation).
        let lambda = 3.0;
        let mut cdf = Vec::new();
        let (mut p, mut f) = (libm::exp(-lambda), 0.0);
        f += p;
        cdf.push(f);
        for k in 1..200u32 {
            p = p * lambda / f64::from(k);
            f += p;
            cdf.push(f);
        }
        let mut r = rng(3);
        let mut raw = r.clone();
        for _ in 0..10_000 {
            let got = poisson(&mut r, lambda);
            let u = raw.next_f64();
            let want = cdf.iter().take_while(|&&c| u >= c).count() as u64;
            assert_eq!(got, want);
        }
    }

    #[test]
    fn inversion_terminates_for_extreme_u() {
        // The largest u next_f64 can return may exceed the rounded CDF's limit;
        // the loop must still stop (p underflows) with a large but finite k.
        let u_max = (u64::MAX >> 11) as f64 / 9_007_199_254_740_992.0;
        for lambda in [1e-300, 0.05, 0.5, 5.0, 9.999_999] {
            assert_eq!(inversion_count(0.0, lambda), 0);
            let k = inversion_count(u_max, lambda);
            assert!(k < 1000, "λ = {lambda}: k = {k}");
        }
        // Beyond any CDF value: terminates only through underflow of p.
        assert!(inversion_count(2.0, 5.0) < 1000);
    }

    /// Sample mean and unbiased sample variance of `N` counts.
    fn sample_moments(lambda: f64, seed: u64) -> (f64, f64) {
        let mut r = rng(seed);
        let xs: Vec<f64> = (0..N).map(|_| poisson(&mut r, lambda) as f64).collect();
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, var)
    }

    #[test]
    fn mean_and_variance_match_lambda() {
        let cases = [
            (0.05, 11u64),
            (0.5, 12),
            (3.0, 13),
            (9.99, 14),
            (10.0, 15),
            (37.5, 16),
            (1000.0, 17),
            (100_000.0, 18),
        ];
        for (lambda, seed) in cases {
            let (mean, var) = sample_moments(lambda, seed);
            let n = N as f64;
            // Poisson: Var = λ, μ4 = λ(1 + 3λ), so Var(s²) ≈ (λ + 2λ²)/n.
            let se_mean = (lambda / n).sqrt();
            let se_var = ((lambda + 2.0 * lambda * lambda) / n).sqrt();
            assert!(
                (mean - lambda).abs() <= 5.0 * se_mean,
                "λ = {lambda}: mean {mean} (±{})",
                5.0 * se_mean
            );
            assert!(
                (var - lambda).abs() <= 5.0 * se_var,
                "λ = {lambda}: variance {var} (±{})",
                5.0 * se_var
            );
        }
    }

    #[test]
    fn pmf_frequencies_small_and_large_lambda() {
        // Frequencies of individual counts against the exact pmf, within 5
        // binomial standard errors, on both sides of the algorithm switch.
        for (lambda, seed) in [(2.0f64, 21u64), (10.0, 22), (25.0, 23)] {
            let mut r = rng(seed);
            let mut counts = vec![0u64; 200];
            for _ in 0..N {
                let k = poisson(&mut r, lambda) as usize;
                counts[k.min(199)] += 1;
            }
            let lo = (lambda - 2.0 * lambda.sqrt()).max(0.0) as u32;
            let hi = (lambda + 2.0 * lambda.sqrt()) as u32;
            for k in lo..=hi {
                let ln_pmf =
                    -lambda + f64::from(k) * lambda.ln() - libm::lgamma(f64::from(k) + 1.0);
                let p = ln_pmf.exp();
                let expected = N as f64 * p;
                let se = (N as f64 * p * (1.0 - p)).sqrt();
                let c = counts[k as usize] as f64;
                assert!(
                    (c - expected).abs() <= 5.0 * se,
                    "λ = {lambda}, k = {k}: {c} vs {expected} ± {}",
                    5.0 * se
                );
            }
        }
    }

    #[test]
    fn ptrs_consumes_draws_in_pairs() {
        // Every PTRS iteration draws U then V; the total is even.
        let mut r = rng(31);
        for _ in 0..1000 {
            let before = r.clone();
            poisson(&mut r, 50.0);
            let mut probe = before.clone();
            let mut used = 0;
            while probe != r {
                probe.next_u64();
                used += 1;
                assert!(used <= 1000, "runaway");
            }
            assert!(used >= 2 && used % 2 == 0, "used {used}");
        }
    }

    #[test]
    fn deterministic_for_same_stream() {
        for lambda in [0.7, 12.0, 5000.0] {
            let mut a = rng(41);
            let mut b = rng(41);
            let xs: Vec<u64> = (0..500).map(|_| poisson(&mut a, lambda)).collect();
            let ys: Vec<u64> = (0..500).map(|_| poisson(&mut b, lambda)).collect();
            assert_eq!(xs, ys);
        }
    }

    /// Golden counts, cross-checked against an independent re-implementation
    /// of §9.2 written from the spec text (both algorithms, each side of the
    /// switch). Each λ starts from a fresh stream.
    #[test]
    fn golden_counts() {
        let cases: [(f64, [u64; 12]); 7] = [
            (0.5, [0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0, 0]),
            (3.0, [1, 3, 5, 0, 4, 5, 3, 4, 4, 1, 2, 2]),
            (9.99, [7, 10, 14, 4, 12, 13, 10, 11, 12, 6, 8, 9]),
            (10.0, [6, 14, 10, 13, 7, 18, 12, 14, 9, 9, 5, 11]),
            (37.5, [30, 46, 38, 43, 33, 41, 44, 35, 36, 28, 40, 45]),
            (
                1000.0,
                [
                    962, 1044, 1029, 1004, 1028, 976, 1017, 1034, 990, 992, 954, 1012,
                ],
            ),
            (
                100_000.0,
                [
                    99624, 100442, 100287, 100036, 100277, 99761, 100172, 100342, 99903, 99925,
                    99543, 100119,
                ],
            ),
        ];
        for (lambda, want) in cases {
            let mut r = Xoshiro256pp::for_stream(1, "A", "normal");
            let got: Vec<u64> = (0..12).map(|_| poisson(&mut r, lambda)).collect();
            assert_eq!(got, want, "λ = {lambda}");
        }
    }

    #[test]
    fn count_conversion_is_safe() {
        let cases = [
            (f64::NAN, 0u64),
            (-3.0, 0),
            (f64::NEG_INFINITY, 0),
            (0.0, 0),
            (42.0, 42),
            (1e30, u64::MAX),
            (f64::INFINITY, u64::MAX),
        ];
        for (k, want) in cases {
            assert_eq!(count_from_f64(k), want, "{k}");
        }
    }

    #[test]
    fn validation_cap_lambda_is_fast_and_sane() {
        let mut r = rng(51);
        let lambda = 1e6;
        let mut sum = 0.0;
        for _ in 0..10_000 {
            let k = poisson(&mut r, lambda) as f64;
            assert!((k - lambda).abs() < 10.0 * lambda.sqrt());
            sum += k;
        }
        let mean = sum / 10_000.0;
        assert!((mean - lambda).abs() <= 5.0 * (lambda / 10_000.0).sqrt());
    }
}
