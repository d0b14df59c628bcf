//! Cost model (ENGINE.md §8): rate configuration, its one-time conversion to fixed-point
//! integers, the per-tick and per-event cost formulas, and the per-agent cost ledger.
//!
//! Why fixed point: P1 demands integer money and P2 demands byte-identical results on every
//! platform. Rates arrive as `f64` in the config, so each one is converted exactly once, at load,
//! to an integer (`R = round(rate × 10^9)`); from then on every cost is computed with integer
//! arithmetic in checked `u128` and rounded half up with [`rdiv`]. Costs saturate at `i64::MAX`
//! instead of failing, because a cost component is a report, not a balance: an absurd scenario
//! should still run to the end and show an obviously absurd cost.
//!
//! This module depends only on `std`, `serde` and `thiserror` so that it can be copied verbatim
//! into the engine crate.

use serde::{Deserialize, Serialize};

/// Scale of every converted rate: `R = round(rate × 10^9)`.
const RATE_SCALE: f64 = 1e9;
/// Scale of the delay weights: `w_c = round(m_overdue × m_band × 10^6)`.
const WEIGHT_SCALE: f64 = 1e6;
/// Divisor of the bps formulas: 10^4 (bps) × 10^9 (rate scale).
const BPS_DIVISOR: u128 = 10_000_000_000_000;
/// Divisor of the delay formula: 10^6 (weight scale) × 10^9 (rate scale).
const DELAY_DIVISOR: u128 = 1_000_000_000_000_000;

/// Largest accepted bps rate (100 % per tick or per event): anything larger is a typo, not a
/// scenario (§8.1).
pub const MAX_BPS_RATE: f64 = 10_000.0;
/// Largest accepted delay rate in cents per cent per tick (§8.1).
pub const MAX_DELAY_RATE: f64 = 1.0;
/// Largest accepted delay multiplier (§8.1). Keeps `w_c ≤ 10^12`, so weights fit `u64`.
pub const MAX_MULTIPLIER: f64 = 1_000.0;

/// Number of (band, overdue) delay classes: 3 bands × {on time, overdue}.
pub const NUM_DELAY_CLASSES: usize = 6;
/// Number of ledger slots: the eight components plus the total.
pub const NUM_SLOTS: usize = 9;
/// Ledger slot of the total of all components.
pub const TOTAL_INDEX: usize = 8;

/// Path prefix of every validation error, naming the key in the engine config.
const ROOT: &str = "/cost_rates";

// ---------------------------------------------------------------------------------------------
// Configuration (serde shape of `cost_rates` in docs/engine-config.md)
// ---------------------------------------------------------------------------------------------

/// A penalty as it appears in the normalized engine config: the Python layer has already turned
/// bare integers into `{"mode": "fixed", ...}`, so only the two tagged objects are accepted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase", deny_unknown_fields)]
pub enum PenaltyConfig {
    /// A fixed amount in cents per event.
    Fixed {
        /// Cents charged per event; must be ≥ 0.
        amount: i64,
    },
    /// A rate in basis points of the payment value per event (Castro's r_b in rate mode).
    Rate {
        /// Basis points per event; must be finite, ≥ 0 and ≤ 10^4.
        bps_per_event: f64,
    },
}

/// Delay multipliers by priority band (urgent 8–10, normal 4–7, low 0–3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DelayMultipliers {
    /// Multiplier of band 0 (priorities 8–10).
    pub urgent_multiplier: f64,
    /// Multiplier of band 1 (priorities 4–7).
    pub normal_multiplier: f64,
    /// Multiplier of band 2 (priorities 0–3).
    pub low_multiplier: f64,
}

impl Default for DelayMultipliers {
    /// 1.0 for every band (§8.1): priorities do not weigh delay unless a scenario says so.
    fn default() -> Self {
        DelayMultipliers {
            urgent_multiplier: 1.0,
            normal_multiplier: 1.0,
            low_multiplier: 1.0,
        }
    }
}

/// `cost_rates` of the normalized engine config. Every key is required (the Python layer fills
/// in defaults), and unknown keys are rejected so that a misspelt rate cannot silently fall back
/// to a default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostRatesConfig {
    /// Basis points of the negative balance, per tick.
    pub overdraft_bps_per_tick: f64,
    /// Cents per cent of queued remaining amount, per tick.
    pub delay_cost_per_tick_per_cent: f64,
    /// Basis points of posted collateral, per tick.
    pub collateral_cost_per_tick_bps: f64,
    /// Basis points of allocated pool liquidity, per tick.
    pub liquidity_cost_per_tick_bps: f64,
    /// Charged once per payment when it becomes overdue.
    pub deadline_penalty: PenaltyConfig,
    /// Charged per overdue live payment at every EOD.
    pub eod_penalty: PenaltyConfig,
    /// Charged per dropped payment; `null` derives it from the other penalties (§8.3). Required
    /// to be present (possibly `null`) because the normalized form has every key.
    #[serde(deserialize_with = "Option::deserialize")]
    pub drop_penalty: Option<PenaltyConfig>,
    /// Cents per extra child of a split.
    pub split_friction_cost: i64,
    /// Delay multiplier once a payment is overdue.
    pub overdue_delay_multiplier: f64,
    /// Delay multipliers by priority band.
    pub priority_delay_multipliers: DelayMultipliers,
}

impl Default for CostRatesConfig {
    /// The defaults of ENGINE.md §8.1.
    fn default() -> Self {
        CostRatesConfig {
            overdraft_bps_per_tick: 0.001,
            delay_cost_per_tick_per_cent: 0.0001,
            collateral_cost_per_tick_bps: 0.0002,
            liquidity_cost_per_tick_bps: 0.0,
            deadline_penalty: PenaltyConfig::Fixed { amount: 50_000 },
            eod_penalty: PenaltyConfig::Fixed { amount: 10_000 },
            drop_penalty: None,
            split_friction_cost: 1_000,
            overdue_delay_multiplier: 5.0,
            priority_delay_multipliers: DelayMultipliers::default(),
        }
    }
}

/// A rejected `cost_rates` value. Carries the JSON pointer of the offending key so that the
/// Python layer can show the user exactly which line of the scenario is wrong (P3, P6).
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[error("invalid config at {path}: expected {expected}, found {found}")]
pub struct CostConfigError {
    /// JSON pointer of the key, e.g. `/cost_rates/eod_penalty/bps_per_event`.
    pub path: String,
    /// What the key must hold.
    pub expected: String,
    /// What it held.
    pub found: String,
}

impl CostConfigError {
    fn new(path: &str, expected: &str, found: impl ToString) -> Self {
        CostConfigError {
            path: path.to_string(),
            expected: expected.to_string(),
            found: found.to_string(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Compiled model
// ---------------------------------------------------------------------------------------------

/// A compiled penalty: a fixed amount in cents, or a converted bps rate `R = round(bps × 10^9)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Penalty {
    /// Cents per event.
    Fixed(i64),
    /// `round(bps_per_event × 10^9)`.
    Rate(u64),
}

/// The integer form of `cost_rates`, built once at engine creation. Every formula of §8.2 is a
/// method; none of them can fail or panic.
#[derive(Clone, Debug, PartialEq)]
pub struct CostModel {
    r_overdraft: u64,
    r_delay: u64,
    r_collateral: u64,
    r_liquidity: u64,
    weights: [u64; NUM_DELAY_CLASSES],
    deadline: Penalty,
    eod: Penalty,
    drop: Option<Penalty>,
    split_friction: i64,
    /// The validated source, kept because policies read the rates as `f64` context fields and
    /// converting `R` back would not give the configured value.
    config: CostRatesConfig,
}

/// Checks that `v` is a finite, non-negative number not above `max`.
fn check_rate(path: &str, v: f64, max: f64, max_text: &str) -> Result<(), CostConfigError> {
    if v.is_nan() {
        return Err(CostConfigError::new(path, "a number", "NaN"));
    }
    if v.is_infinite() {
        return Err(CostConfigError::new(path, "a finite number", v));
    }
    if v < 0.0 {
        return Err(CostConfigError::new(path, "a non-negative number", v));
    }
    if v > max {
        return Err(CostConfigError::new(path, max_text, v));
    }
    Ok(())
}

/// `round(v × 10^9)` half away from zero. `v` is validated (finite, 0 ≤ v ≤ 10^4), so the result
/// is at most 10^13 and the cast is exact.
fn to_fixed(v: f64) -> u64 {
    (v * RATE_SCALE).round() as u64
}

fn compile_penalty(name: &str, p: &PenaltyConfig) -> Result<Penalty, CostConfigError> {
    match *p {
        PenaltyConfig::Fixed { amount } => {
            if amount < 0 {
                let path = format!("{ROOT}/{name}/amount");
                return Err(CostConfigError::new(
                    &path,
                    "a non-negative integer (cents)",
                    amount,
                ));
            }
            Ok(Penalty::Fixed(amount))
        }
        PenaltyConfig::Rate { bps_per_event } => {
            let path = format!("{ROOT}/{name}/bps_per_event");
            check_rate(&path, bps_per_event, MAX_BPS_RATE, "at most 10000 bps")?;
            Ok(Penalty::Rate(to_fixed(bps_per_event)))
        }
    }
}

/// Converts a checked `u128` result to a cost: overflow (`None`) or anything above `i64::MAX`
/// saturates, as §8.2 requires.
fn saturate(v: Option<u128>) -> i64 {
    match v {
        Some(x) => i64::try_from(x).unwrap_or(i64::MAX),
        None => i64::MAX,
    }
}

/// The non-negative part of `x` as `u128`. Costs are charged on magnitudes that are ≥ 0 by
/// construction; clamping here keeps every cost ≥ 0 even if a caller passes a negative base.
fn non_negative(x: i64) -> u128 {
    if x > 0 {
        x as u128
    } else {
        0
    }
}

/// `rdiv(n × r, divisor)` in checked `u128`, saturated to a cost.
fn scaled(n: u128, r: u64, divisor: u128) -> i64 {
    saturate(n.checked_mul(u128::from(r)).and_then(|p| rdiv(p, divisor)))
}

/// Integer division rounding half up: `⌊(n + ⌊d/2⌋) / d⌋`. `None` when `d = 0` or when
/// `n + ⌊d/2⌋` overflows, so callers can saturate instead of panicking.
pub fn rdiv(n: u128, d: u128) -> Option<u128> {
    if d == 0 {
        return None;
    }
    n.checked_add(d / 2).map(|m| m / d)
}

/// Priority band of an internal priority: 0 urgent (8–10), 1 normal (4–7), 2 low (0–3).
/// Priorities above 10 cannot occur (validation clamps them); they count as urgent.
pub fn band_index(priority: u8) -> usize {
    match priority {
        0..=3 => 2,
        4..=7 => 1,
        _ => 0,
    }
}

/// Delay class `c = band_index × 2 + overdue`, the index into the six delay sums `S_c` and the
/// weights `w_c`.
pub fn class_index(priority: u8, overdue: bool) -> usize {
    band_index(priority) * 2 + usize::from(overdue)
}

impl CostModel {
    /// Validates `cfg` (§8.1) and converts it to fixed point (§8.2). Keys are checked in config
    /// order and the first offending one is reported, so the error is deterministic.
    pub fn compile(cfg: &CostRatesConfig) -> Result<CostModel, CostConfigError> {
        let bps = |name: &str, v: f64| {
            check_rate(
                &format!("{ROOT}/{name}"),
                v,
                MAX_BPS_RATE,
                "at most 10000 bps",
            )
        };
        bps("overdraft_bps_per_tick", cfg.overdraft_bps_per_tick)?;
        check_rate(
            &format!("{ROOT}/delay_cost_per_tick_per_cent"),
            cfg.delay_cost_per_tick_per_cent,
            MAX_DELAY_RATE,
            "at most 1.0",
        )?;
        bps(
            "collateral_cost_per_tick_bps",
            cfg.collateral_cost_per_tick_bps,
        )?;
        bps(
            "liquidity_cost_per_tick_bps",
            cfg.liquidity_cost_per_tick_bps,
        )?;
        let deadline = compile_penalty("deadline_penalty", &cfg.deadline_penalty)?;
        let eod = compile_penalty("eod_penalty", &cfg.eod_penalty)?;
        let drop = match &cfg.drop_penalty {
            Some(p) => Some(compile_penalty("drop_penalty", p)?),
            None => None,
        };
        if cfg.split_friction_cost < 0 {
            return Err(CostConfigError::new(
                &format!("{ROOT}/split_friction_cost"),
                "a non-negative integer (cents)",
                cfg.split_friction_cost,
            ));
        }
        let mult = |path: String, v: f64| check_rate(&path, v, MAX_MULTIPLIER, "at most 1000");
        mult(
            format!("{ROOT}/overdue_delay_multiplier"),
            cfg.overdue_delay_multiplier,
        )?;
        let m = &cfg.priority_delay_multipliers;
        let bands = [
            ("urgent_multiplier", m.urgent_multiplier),
            ("normal_multiplier", m.normal_multiplier),
            ("low_multiplier", m.low_multiplier),
        ];
        for (name, v) in bands {
            mult(format!("{ROOT}/priority_delay_multipliers/{name}"), v)?;
        }

        let mut weights = [0u64; NUM_DELAY_CLASSES];
        for (band, (_, m_band)) in bands.iter().enumerate() {
            for overdue in [false, true] {
                let m_overdue = if overdue {
                    cfg.overdue_delay_multiplier
                } else {
                    1.0
                };
                // Both factors are in [0, 1000], so the product is ≤ 10^12 and fits u64.
                weights[band * 2 + usize::from(overdue)] =
                    (m_overdue * m_band * WEIGHT_SCALE).round() as u64;
            }
        }

        Ok(CostModel {
            r_overdraft: to_fixed(cfg.overdraft_bps_per_tick),
            r_delay: to_fixed(cfg.delay_cost_per_tick_per_cent),
            r_collateral: to_fixed(cfg.collateral_cost_per_tick_bps),
            r_liquidity: to_fixed(cfg.liquidity_cost_per_tick_bps),
            weights,
            deadline,
            eod,
            drop,
            split_friction: cfg.split_friction_cost,
            config: cfg.clone(),
        })
    }

    /// Overdraft cost of one tick: `rdiv(max(0, −balance) × R_overdraft, 10^13)`.
    pub fn overdraft_cost(&self, balance: i64) -> i64 {
        let debt = if balance < 0 {
            u128::from(balance.unsigned_abs())
        } else {
            0
        };
        scaled(debt, self.r_overdraft, BPS_DIVISOR)
    }

    /// Collateral opportunity cost of one tick: `rdiv(posted × R_collateral, 10^13)`.
    pub fn collateral_cost(&self, posted: i64) -> i64 {
        scaled(non_negative(posted), self.r_collateral, BPS_DIVISOR)
    }

    /// Liquidity opportunity cost of one tick: `rdiv(allocated × R_liquidity, 10^13)`.
    pub fn liquidity_cost(&self, allocated: i64) -> i64 {
        scaled(non_negative(allocated), self.r_liquidity, BPS_DIVISOR)
    }

    /// Delay cost of one tick from the six class sums `S_c` (indexed by [`class_index`]):
    /// `rdiv(Σ_c S_c × w_c × R_delay, 10^15)`, the sum taken in `u128` so the whole agent is
    /// rounded once per tick (§8.2).
    pub fn delay_cost(&self, sums: &[i64; NUM_DELAY_CLASSES]) -> i64 {
        let weighted = sums
            .iter()
            .zip(self.weights.iter())
            .try_fold(0u128, |acc, (&s, &w)| {
                non_negative(s)
                    .checked_mul(u128::from(w))
                    .and_then(|p| acc.checked_add(p))
            });
        saturate(
            weighted
                .and_then(|v| v.checked_mul(u128::from(self.r_delay)))
                .and_then(|p| rdiv(p, DELAY_DIVISOR)),
        )
    }

    /// Value of a penalty for base `x`: the fixed amount, or `rdiv(x × R_bps, 10^13)`. Rounded
    /// per payment (§8.2). A negative fixed amount (only constructible by hand, never by
    /// [`CostModel::compile`]) counts as 0 so that costs stay ≥ 0.
    pub fn resolve(&self, p: &Penalty, x: i64) -> i64 {
        match *p {
            Penalty::Fixed(amount) => amount.max(0),
            Penalty::Rate(r) => scaled(non_negative(x), r, BPS_DIVISOR),
        }
    }

    /// Deadline penalty of a payment of original value `amount` (charged once, when it becomes
    /// overdue).
    pub fn deadline_penalty(&self, amount: i64) -> i64 {
        self.resolve(&self.deadline, amount)
    }

    /// EOD penalty of an overdue live payment with `remaining` unsettled value.
    pub fn eod_penalty(&self, remaining: i64) -> i64 {
        self.resolve(&self.eod, remaining)
    }

    /// Cost of dropping a payment (§8.3) and the new value of its "deadline penalty charged"
    /// flag.
    ///
    /// With `drop_penalty` configured: `resolve(drop_penalty, remaining)`; the flag is returned
    /// unchanged, because no deadline penalty is booked. Without it, the drop costs what missing
    /// the deadline and staying unsettled at EOD would have cost — the EOD penalty on `remaining`
    /// plus the deadline penalty on `amount` unless already charged — and the flag becomes true.
    pub fn drop_penalty(
        &self,
        remaining: i64,
        amount: i64,
        deadline_penalty_charged: bool,
    ) -> (i64, bool) {
        match &self.drop {
            Some(p) => (self.resolve(p, remaining), deadline_penalty_charged),
            None => {
                let eod = self.eod_penalty(remaining);
                let deadline = if deadline_penalty_charged {
                    0
                } else {
                    self.deadline_penalty(amount)
                };
                (eod.saturating_add(deadline), true)
            }
        }
    }

    /// Split friction of a split into `n` children: `split_friction_cost × (n − 1)`; 0 for
    /// `n ≤ 1`, because only extra children cost.
    pub fn split_friction(&self, n: u32) -> i64 {
        let extra = u128::from(n.saturating_sub(1));
        saturate(non_negative(self.split_friction).checked_mul(extra))
    }

    /// Fixed-point overdraft rate `round(overdraft_bps_per_tick × 10^9)`.
    pub fn r_overdraft(&self) -> u64 {
        self.r_overdraft
    }

    /// Fixed-point delay rate `round(delay_cost_per_tick_per_cent × 10^9)`.
    pub fn r_delay(&self) -> u64 {
        self.r_delay
    }

    /// Fixed-point collateral rate `round(collateral_cost_per_tick_bps × 10^9)`.
    pub fn r_collateral(&self) -> u64 {
        self.r_collateral
    }

    /// Fixed-point liquidity rate `round(liquidity_cost_per_tick_bps × 10^9)`.
    pub fn r_liquidity(&self) -> u64 {
        self.r_liquidity
    }

    /// The six delay weights `w_c`, indexed by [`class_index`].
    pub fn weights(&self) -> &[u64; NUM_DELAY_CLASSES] {
        &self.weights
    }

    /// The compiled deadline penalty.
    pub fn deadline(&self) -> Penalty {
        self.deadline
    }

    /// The compiled EOD penalty.
    pub fn eod(&self) -> Penalty {
        self.eod
    }

    /// The compiled drop penalty; `None` means "derived" (§8.3).
    pub fn drop(&self) -> Option<Penalty> {
        self.drop
    }

    /// Split friction in cents per extra child.
    pub fn split_friction_cost(&self) -> i64 {
        self.split_friction
    }

    /// The validated configuration this model was compiled from.
    pub fn config(&self) -> &CostRatesConfig {
        &self.config
    }

    /// Configured overdraft rate (policy context field).
    pub fn overdraft_bps_per_tick(&self) -> f64 {
        self.config.overdraft_bps_per_tick
    }

    /// Configured delay rate (policy context field).
    pub fn delay_cost_per_tick_per_cent(&self) -> f64 {
        self.config.delay_cost_per_tick_per_cent
    }

    /// Configured collateral rate (policy context field).
    pub fn collateral_cost_per_tick_bps(&self) -> f64 {
        self.config.collateral_cost_per_tick_bps
    }

    /// Configured liquidity rate (policy context field).
    pub fn liquidity_cost_per_tick_bps(&self) -> f64 {
        self.config.liquidity_cost_per_tick_bps
    }

    /// Configured overdue delay multiplier (policy context field).
    pub fn overdue_delay_multiplier(&self) -> f64 {
        self.config.overdue_delay_multiplier
    }

    /// Configured band multipliers (policy context fields).
    pub fn priority_delay_multipliers(&self) -> &DelayMultipliers {
        &self.config.priority_delay_multipliers
    }
}

// ---------------------------------------------------------------------------------------------
// Accumulators
// ---------------------------------------------------------------------------------------------

/// A cost component; its discriminant is its ledger slot (the total is slot [`TOTAL_INDEX`]).
#[repr(usize)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CostComponent {
    /// Negative balance, per tick.
    Overdraft = 0,
    /// Queued value, per tick.
    Delay = 1,
    /// Posted collateral, per tick.
    Collateral = 2,
    /// Allocated pool liquidity, per tick.
    Liquidity = 3,
    /// Once per payment becoming overdue.
    DeadlinePenalty = 4,
    /// Per overdue live payment at EOD.
    EodPenalty = 5,
    /// Per dropped payment.
    DropPenalty = 6,
    /// Per extra split child.
    SplitFriction = 7,
}

/// Run-summary key of each ledger slot, the total included, in slot order.
pub const SLOT_KEYS: [&str; NUM_SLOTS] = [
    "overdraft",
    "delay",
    "collateral",
    "liquidity",
    "deadline_penalty",
    "eod_penalty",
    "drop_penalty",
    "split_friction",
    "total",
];

impl CostComponent {
    /// Every component in slot order (the order of events and run summaries).
    pub const ALL: [CostComponent; 8] = [
        CostComponent::Overdraft,
        CostComponent::Delay,
        CostComponent::Collateral,
        CostComponent::Liquidity,
        CostComponent::DeadlinePenalty,
        CostComponent::EodPenalty,
        CostComponent::DropPenalty,
        CostComponent::SplitFriction,
    ];

    /// The run-summary key (INTERFACES.md), e.g. `deadline_penalty`.
    pub fn as_str(self) -> &'static str {
        match self {
            CostComponent::Overdraft => "overdraft",
            CostComponent::Delay => "delay",
            CostComponent::Collateral => "collateral",
            CostComponent::Liquidity => "liquidity",
            CostComponent::DeadlinePenalty => "deadline_penalty",
            CostComponent::EodPenalty => "eod_penalty",
            CostComponent::DropPenalty => "drop_penalty",
            CostComponent::SplitFriction => "split_friction",
        }
    }

    /// The ledger slot of this component.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// One agent's cost accumulators (§8.3): a bucket per day, the run's cumulative totals and the
/// current tick's bookings. Each bucket is `[i64; 9]` indexed by [`CostComponent::index`] with
/// the total at [`TOTAL_INDEX`]. Nothing is ever reset, so per-day and cumulative queries are both
/// exact; the whole ledger is serializable because checkpoints hold every bucket (§11).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostLedger {
    days: Vec<[i64; NUM_SLOTS]>,
    cumulative: [i64; NUM_SLOTS],
    tick: [i64; NUM_SLOTS],
}

impl CostLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes `day` the current day: appends zero buckets up to and including `day`. Opening the
    /// current or an earlier day changes nothing — days only move forward, and an earlier
    /// bucket is never reopened, so a misordered call cannot corrupt history. (Days are
    /// `⌊t / tpd⌋ < 2^31`; the impossible `usize::MAX` is ignored rather than overflowing.)
    pub fn open_day(&mut self, day: usize) {
        if let Some(len) = day.checked_add(1) {
            if len > self.days.len() {
                self.days.resize(len, [0; NUM_SLOTS]);
            }
        }
    }

    /// Adds `amount` to `component` (and to the total) in the current day's bucket, the
    /// cumulative totals and the current tick's bucket. Additions saturate at `i64::MAX` like
    /// the components themselves; negative amounts are ignored because costs are never negative.
    /// Booking before any [`CostLedger::open_day`] opens day 0.
    pub fn book(&mut self, component: CostComponent, amount: i64) {
        if amount <= 0 {
            return;
        }
        if self.days.is_empty() {
            self.days.push([0; NUM_SLOTS]);
        }
        let i = component.index();
        let today = self.days.last_mut();
        for bucket in [Some(&mut self.cumulative), Some(&mut self.tick), today]
            .into_iter()
            .flatten()
        {
            bucket[i] = bucket[i].saturating_add(amount);
            bucket[TOTAL_INDEX] = bucket[TOTAL_INDEX].saturating_add(amount);
        }
    }

    /// Returns the costs booked since the last call and clears them (the `CostAccrual` event of
    /// the tick).
    pub fn take_tick(&mut self) -> [i64; NUM_SLOTS] {
        std::mem::take(&mut self.tick)
    }

    /// Costs booked since the last [`CostLedger::take_tick`], without clearing them.
    pub fn tick(&self) -> &[i64; NUM_SLOTS] {
        &self.tick
    }

    /// The bucket of day `d`, if that day has been opened.
    pub fn day(&self, d: usize) -> Option<&[i64; NUM_SLOTS]> {
        self.days.get(d)
    }

    /// Every opened day's bucket, in day order.
    pub fn days(&self) -> &[[i64; NUM_SLOTS]] {
        &self.days
    }

    /// The current day (the last one opened), if any.
    pub fn current_day(&self) -> Option<usize> {
        self.days.len().checked_sub(1)
    }

    /// Cumulative totals of the run.
    pub fn cumulative(&self) -> &[i64; NUM_SLOTS] {
        &self.cumulative
    }

    /// Cumulative total of one component.
    pub fn total_of(&self, component: CostComponent) -> i64 {
        self.cumulative[component.index()]
    }

    /// Cumulative total of all components.
    pub fn total(&self) -> i64 {
        self.cumulative[TOTAL_INDEX]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CostComponent as C;

    fn model(cfg: &CostRatesConfig) -> CostModel {
        CostModel::compile(cfg).expect("valid config")
    }

    /// The rates of the §8.4 worked example.
    fn example_config() -> CostRatesConfig {
        CostRatesConfig {
            overdraft_bps_per_tick: 0.5,
            delay_cost_per_tick_per_cent: 0.0001,
            collateral_cost_per_tick_bps: 0.0,
            liquidity_cost_per_tick_bps: 0.0,
            deadline_penalty: PenaltyConfig::Fixed { amount: 50_000 },
            eod_penalty: PenaltyConfig::Rate {
                bps_per_event: 50.0,
            },
            drop_penalty: None,
            split_friction_cost: 0,
            overdue_delay_multiplier: 5.0,
            priority_delay_multipliers: DelayMultipliers::default(),
        }
    }

    #[test]
    fn worked_example_8_4() {
        let m = model(&example_config());
        assert_eq!(m.r_overdraft(), 500_000_000);
        assert_eq!(m.r_delay(), 100_000);
        assert_eq!(m.eod(), Penalty::Rate(50_000_000_000));

        let tpd = 10u32;
        let balance = -2_000_000i64; // released 2,000,000 at tick 0 against a 3,000,000 cap
        let (amount, deadline, priority) = (100_000i64, 3u32, 5u8); // payment P, held all day
        let mut overdue = false; // set by the cost step of the deadline tick
        let mut deadline_charged = false;
        let mut ledger = CostLedger::new();
        let mut per_tick = Vec::new();

        for t in 0..tpd {
            let day = (t / tpd) as usize;
            if t % tpd == 0 {
                ledger.open_day(day);
            }
            // S14: per-tick components first, on the state after settlement.
            ledger.book(C::Overdraft, m.overdraft_cost(balance));
            ledger.book(C::Collateral, m.collateral_cost(0));
            ledger.book(C::Liquidity, m.liquidity_cost(0));
            let mut sums = [0i64; NUM_DELAY_CLASSES];
            sums[class_index(priority, t > deadline)] += amount;
            ledger.book(C::Delay, m.delay_cost(&sums));
            // Mark overdue at the deadline tick.
            if t == deadline && !overdue {
                overdue = true;
                deadline_charged = true;
                ledger.book(C::DeadlinePenalty, m.deadline_penalty(amount));
            }
            if t % tpd == tpd - 1 && overdue {
                ledger.book(C::EodPenalty, m.eod_penalty(amount));
            }
            per_tick.push(ledger.take_tick());
        }
        assert!(deadline_charged);

        // Tick by tick.
        for (t, b) in per_tick.iter().enumerate() {
            assert_eq!(b[C::Overdraft.index()], 100, "overdraft at tick {t}");
            let delay = if t <= 3 { 10 } else { 50 };
            assert_eq!(b[C::Delay.index()], delay, "delay at tick {t}");
            let dp = if t == 3 { 50_000 } else { 0 };
            assert_eq!(b[C::DeadlinePenalty.index()], dp, "deadline at tick {t}");
            let eod = if t == 9 { 500 } else { 0 };
            assert_eq!(b[C::EodPenalty.index()], eod, "eod at tick {t}");
            assert_eq!(b[TOTAL_INDEX], 100 + delay + dp + eod);
        }

        let c = ledger.cumulative();
        assert_eq!(c[C::Overdraft.index()], 1_000);
        let delay_on_time: i64 = per_tick[..4].iter().map(|b| b[C::Delay.index()]).sum();
        let delay_overdue: i64 = per_tick[4..].iter().map(|b| b[C::Delay.index()]).sum();
        assert_eq!((delay_on_time, delay_overdue), (40, 300));
        assert_eq!(c[C::Delay.index()], 340);
        assert_eq!(c[C::DeadlinePenalty.index()], 50_000);
        assert_eq!(c[C::EodPenalty.index()], 500);
        assert_eq!(c[C::Collateral.index()], 0);
        assert_eq!(c[C::Liquidity.index()], 0);
        assert_eq!(ledger.total(), 51_840);
        assert_eq!(ledger.day(0), Some(c));
        assert_eq!(ledger.tick(), &[0; NUM_SLOTS]);
    }

    #[test]
    fn worked_example_formulas_literal() {
        // The computations column of the §8.4 table.
        assert_eq!(rdiv(2_000_000 * 500_000_000, 10u128.pow(13)), Some(100));
        assert_eq!(
            rdiv(100_000 * 1_000_000 * 100_000, 10u128.pow(15)),
            Some(10)
        );
        assert_eq!(
            rdiv(100_000 * 5_000_000 * 100_000, 10u128.pow(15)),
            Some(50)
        );
        assert_eq!(
            rdiv(100_000 * 50 * 1_000_000_000, 10u128.pow(13)),
            Some(500)
        );
    }

    #[test]
    fn delay_rounding_checks() {
        let m = model(&example_config());
        let one = |amount: i64, overdue: bool| {
            let mut s = [0i64; NUM_DELAY_CLASSES];
            s[class_index(5, overdue)] = amount;
            m.delay_cost(&s)
        };
        assert_eq!(one(12_345, false), 1); // 1.2345
        assert_eq!(one(12_345, true), 6); // 6.1725
        assert_eq!(one(15_000, false), 2); // 1.5 rounds up
        assert_eq!(one(14_999, false), 1); // 1.4999
        assert_eq!(one(0, true), 0);
        // One rounding per agent and tick, not per payment: 3 × 5,000 = 1.5 → 2 (not 3 × 1).
        let mut s = [0i64; NUM_DELAY_CLASSES];
        s[class_index(9, false)] = 5_000;
        s[class_index(5, false)] = 5_000;
        s[class_index(1, false)] = 5_000;
        assert_eq!(m.delay_cost(&s), 2);
    }

    #[test]
    fn drop_penalty_derived_and_configured() {
        let m = model(&example_config());
        // Tick 2: before the deadline, so the deadline penalty is included and marked charged.
        assert_eq!(m.drop_penalty(100_000, 100_000, false), (50_500, true));
        // Tick 5: the deadline penalty was charged at tick 3.
        assert_eq!(m.drop_penalty(100_000, 100_000, true), (500, true));
        // EOD penalty on remaining, deadline penalty on amount.
        let mut cfg = example_config();
        cfg.deadline_penalty = PenaltyConfig::Rate {
            bps_per_event: 100.0,
        };
        let m = model(&cfg);
        assert_eq!(m.drop_penalty(40_000, 100_000, false), (200 + 1_000, true));

        // Configured drop penalty: resolve(drop, remaining), flag untouched.
        cfg.drop_penalty = Some(PenaltyConfig::Fixed { amount: 7 });
        let m = model(&cfg);
        assert_eq!(m.drop_penalty(40_000, 100_000, false), (7, false));
        assert_eq!(m.drop_penalty(40_000, 100_000, true), (7, true));
        cfg.drop_penalty = Some(PenaltyConfig::Rate {
            bps_per_event: 25.0,
        });
        let m = model(&cfg);
        assert_eq!(m.drop_penalty(40_000, 100_000, false), (100, false));
    }

    #[test]
    fn penalty_resolution_rounds_per_payment() {
        let mut cfg = example_config();
        cfg.eod_penalty = PenaltyConfig::Rate { bps_per_event: 1.0 };
        let m = model(&cfg);
        assert_eq!(m.eod_penalty(15_000), 2); // 1.5 → 2
        assert_eq!(m.eod_penalty(14_999), 1);
        assert_eq!(m.eod_penalty(4_999), 0);
        assert_eq!(m.eod_penalty(-5), 0);
        assert_eq!(m.resolve(&Penalty::Fixed(-3), 10), 0);
        assert_eq!(m.resolve(&Penalty::Fixed(3), -10), 3);
    }

    #[test]
    fn per_tick_components() {
        let m = model(&CostRatesConfig::default());
        // 0.001 bps: 10^9 cents overdrawn cost 100 per tick.
        assert_eq!(m.overdraft_cost(-1_000_000_000), 100);
        assert_eq!(m.overdraft_cost(1_000_000_000), 0);
        assert_eq!(m.overdraft_cost(0), 0);
        // 0.0002 bps of 10^9 = 20.
        assert_eq!(m.collateral_cost(1_000_000_000), 20);
        assert_eq!(m.collateral_cost(-1_000_000_000), 0);
        assert_eq!(m.liquidity_cost(1_000_000_000), 0);
        let cfg = CostRatesConfig {
            liquidity_cost_per_tick_bps: 2.5,
            ..CostRatesConfig::default()
        };
        assert_eq!(model(&cfg).liquidity_cost(1_000_000), 250);
        assert_eq!(model(&cfg).liquidity_cost(2), 0); // 0.0005
        assert_eq!(model(&cfg).liquidity_cost(2_000), 1); // 0.5 → 1
    }

    #[test]
    fn split_friction_per_extra_child() {
        let m = model(&CostRatesConfig::default());
        assert_eq!(m.split_friction(0), 0);
        assert_eq!(m.split_friction(1), 0);
        assert_eq!(m.split_friction(2), 1_000);
        assert_eq!(m.split_friction(5), 4_000);
        let cfg = CostRatesConfig {
            split_friction_cost: i64::MAX,
            ..CostRatesConfig::default()
        };
        assert_eq!(model(&cfg).split_friction(3), i64::MAX);
    }

    #[test]
    fn saturation_at_i64_max() {
        let cfg = CostRatesConfig {
            overdraft_bps_per_tick: 10_000.0,
            collateral_cost_per_tick_bps: 10_000.0,
            liquidity_cost_per_tick_bps: 10_000.0,
            delay_cost_per_tick_per_cent: 1.0,
            overdue_delay_multiplier: 1_000.0,
            priority_delay_multipliers: DelayMultipliers {
                urgent_multiplier: 1_000.0,
                normal_multiplier: 1_000.0,
                low_multiplier: 1_000.0,
            },
            eod_penalty: PenaltyConfig::Rate {
                bps_per_event: 10_000.0,
            },
            deadline_penalty: PenaltyConfig::Fixed { amount: i64::MAX },
            ..CostRatesConfig::default()
        };
        let m = model(&cfg);
        // 100 % of |i64::MIN| = 2^63 > i64::MAX.
        assert_eq!(m.overdraft_cost(i64::MIN), i64::MAX);
        assert_eq!(m.overdraft_cost(-i64::MAX), i64::MAX);
        assert_eq!(m.collateral_cost(i64::MAX), i64::MAX);
        assert_eq!(m.liquidity_cost(i64::MAX), i64::MAX);
        assert_eq!(m.eod_penalty(i64::MAX), i64::MAX);
        // Σ S_c × w_c × R overflows u128 here.
        assert_eq!(m.delay_cost(&[i64::MAX; 6]), i64::MAX);
        // Result above i64::MAX without u128 overflow.
        let mut s = [0i64; 6];
        s[0] = i64::MAX;
        assert_eq!(m.delay_cost(&s), i64::MAX);
        // Saturating sum of the derived drop penalty.
        assert_eq!(m.drop_penalty(i64::MAX, 1, false), (i64::MAX, true));
        // The ledger saturates too.
        let mut l = CostLedger::new();
        l.book(C::Delay, i64::MAX);
        l.book(C::Delay, 5);
        l.book(C::Overdraft, 5);
        assert_eq!(l.total_of(C::Delay), i64::MAX);
        assert_eq!(l.total_of(C::Overdraft), 5);
        assert_eq!(l.total(), i64::MAX);
    }

    #[test]
    fn rdiv_edges() {
        assert_eq!(rdiv(0, 10), Some(0));
        assert_eq!(rdiv(4, 10), Some(0));
        assert_eq!(rdiv(5, 10), Some(1));
        assert_eq!(rdiv(14, 10), Some(1));
        assert_eq!(rdiv(15, 10), Some(2));
        assert_eq!(rdiv(1, 3), Some(0));
        assert_eq!(rdiv(2, 3), Some(1)); // ⌊d/2⌋ = 1
        assert_eq!(rdiv(7, 1), Some(7));
        assert_eq!(rdiv(7, 0), None);
        assert_eq!(rdiv(u128::MAX, 2), None);
        assert_eq!(rdiv(u128::MAX, 1), Some(u128::MAX));
    }

    #[test]
    fn rate_conversion_rounds_half_up() {
        let r = |v: f64| {
            let cfg = CostRatesConfig {
                overdraft_bps_per_tick: v,
                ..CostRatesConfig::default()
            };
            model(&cfg).r_overdraft()
        };
        assert_eq!(r(0.0000000005), 1);
        assert_eq!(r(0.0000000004), 0);
        assert_eq!(r(0.0000000015), 2);
        assert_eq!(r(0.0000000025), 3);
        assert_eq!(r(0.0000000125), 13);
        assert_eq!(r(0.001), 1_000_000);
        assert_eq!(r(0.5), 500_000_000);
        assert_eq!(r(-0.0), 0);
        assert_eq!(r(10_000.0), 10_000_000_000_000);
        let m = model(&CostRatesConfig::default());
        assert_eq!(m.r_delay(), 100_000);
        assert_eq!(m.r_collateral(), 200_000);
        assert_eq!(m.r_liquidity(), 0);
        assert_eq!(m.deadline(), Penalty::Fixed(50_000));
        assert_eq!(m.eod(), Penalty::Fixed(10_000));
        assert_eq!(m.drop(), None);
        assert_eq!(m.split_friction_cost(), 1_000);
        // The original f64s stay available for policy context fields.
        assert_eq!(m.overdraft_bps_per_tick(), 0.001);
        assert_eq!(m.delay_cost_per_tick_per_cent(), 0.0001);
        assert_eq!(m.collateral_cost_per_tick_bps(), 0.0002);
        assert_eq!(m.liquidity_cost_per_tick_bps(), 0.0);
        assert_eq!(m.overdue_delay_multiplier(), 5.0);
        assert_eq!(m.priority_delay_multipliers(), &DelayMultipliers::default());
        assert_eq!(m.config(), &CostRatesConfig::default());
    }

    #[test]
    fn delay_weight_table() {
        // (overdue, urgent, normal, low) → [w_0 .. w_5]
        let cases: &[(f64, f64, f64, f64, [u64; 6])] = &[
            (
                5.0,
                1.0,
                1.0,
                1.0,
                [
                    1_000_000, 5_000_000, 1_000_000, 5_000_000, 1_000_000, 5_000_000,
                ],
            ),
            (
                1.0,
                1.0,
                1.0,
                1.0,
                [
                    1_000_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000,
                ],
            ),
            (
                2.0,
                3.0,
                1.5,
                0.5,
                [
                    3_000_000, 6_000_000, 1_500_000, 3_000_000, 500_000, 1_000_000,
                ],
            ),
            (0.0, 1.0, 1.0, 0.0, [1_000_000, 0, 1_000_000, 0, 0, 0]),
            (
                1_000.0,
                1_000.0,
                0.001,
                0.0,
                [1_000_000_000, 1_000_000_000_000, 1_000, 1_000_000, 0, 0],
            ),
            // f64 product then rounding: 0.1 × 3 = 0.30000000000000004 → 300,000.
            (
                3.0,
                0.1,
                0.0000005,
                0.0000004,
                [100_000, 300_000, 1, 2, 0, 1],
            ),
        ];
        for &(od, u, n, l, expected) in cases {
            let cfg = CostRatesConfig {
                overdue_delay_multiplier: od,
                priority_delay_multipliers: DelayMultipliers {
                    urgent_multiplier: u,
                    normal_multiplier: n,
                    low_multiplier: l,
                },
                ..CostRatesConfig::default()
            };
            assert_eq!(
                model(&cfg).weights(),
                &expected,
                "multipliers {od} {u} {n} {l}"
            );
        }
    }

    #[test]
    fn band_and_class_indices() {
        let bands: Vec<usize> = (0u8..=10).map(band_index).collect();
        assert_eq!(bands, vec![2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0]);
        assert_eq!(band_index(255), 0);
        assert_eq!(class_index(10, false), 0);
        assert_eq!(class_index(8, true), 1);
        assert_eq!(class_index(5, false), 2);
        assert_eq!(class_index(4, true), 3);
        assert_eq!(class_index(0, false), 4);
        assert_eq!(class_index(3, true), 5);
    }

    #[test]
    fn validation_errors() {
        type Mutate = fn(&mut CostRatesConfig);
        let cases: &[(Mutate, &str, &str, &str)] = &[
            (
                |c| c.overdraft_bps_per_tick = f64::NAN,
                "/cost_rates/overdraft_bps_per_tick",
                "a number",
                "NaN",
            ),
            (
                |c| c.overdraft_bps_per_tick = f64::INFINITY,
                "/cost_rates/overdraft_bps_per_tick",
                "a finite number",
                "inf",
            ),
            (
                |c| c.overdraft_bps_per_tick = -0.5,
                "/cost_rates/overdraft_bps_per_tick",
                "a non-negative number",
                "-0.5",
            ),
            (
                |c| c.overdraft_bps_per_tick = 10_000.5,
                "/cost_rates/overdraft_bps_per_tick",
                "at most 10000 bps",
                "10000.5",
            ),
            (
                |c| c.delay_cost_per_tick_per_cent = 1.01,
                "/cost_rates/delay_cost_per_tick_per_cent",
                "at most 1.0",
                "1.01",
            ),
            (
                |c| c.delay_cost_per_tick_per_cent = f64::NEG_INFINITY,
                "/cost_rates/delay_cost_per_tick_per_cent",
                "a finite number",
                "-inf",
            ),
            (
                |c| c.collateral_cost_per_tick_bps = 20_000.0,
                "/cost_rates/collateral_cost_per_tick_bps",
                "at most 10000 bps",
                "20000",
            ),
            (
                |c| c.liquidity_cost_per_tick_bps = -1.0,
                "/cost_rates/liquidity_cost_per_tick_bps",
                "a non-negative number",
                "-1",
            ),
            (
                |c| c.deadline_penalty = PenaltyConfig::Fixed { amount: -1 },
                "/cost_rates/deadline_penalty/amount",
                "a non-negative integer (cents)",
                "-1",
            ),
            (
                |c| {
                    c.eod_penalty = PenaltyConfig::Rate {
                        bps_per_event: 10_001.0,
                    }
                },
                "/cost_rates/eod_penalty/bps_per_event",
                "at most 10000 bps",
                "10001",
            ),
            (
                |c| {
                    c.eod_penalty = PenaltyConfig::Rate {
                        bps_per_event: f64::NAN,
                    }
                },
                "/cost_rates/eod_penalty/bps_per_event",
                "a number",
                "NaN",
            ),
            (
                |c| {
                    c.drop_penalty = Some(PenaltyConfig::Rate {
                        bps_per_event: -2.0,
                    })
                },
                "/cost_rates/drop_penalty/bps_per_event",
                "a non-negative number",
                "-2",
            ),
            (
                |c| c.drop_penalty = Some(PenaltyConfig::Fixed { amount: i64::MIN }),
                "/cost_rates/drop_penalty/amount",
                "a non-negative integer (cents)",
                "-9223372036854775808",
            ),
            (
                |c| c.split_friction_cost = -1,
                "/cost_rates/split_friction_cost",
                "a non-negative integer (cents)",
                "-1",
            ),
            (
                |c| c.overdue_delay_multiplier = 1_000.001,
                "/cost_rates/overdue_delay_multiplier",
                "at most 1000",
                "1000.001",
            ),
            (
                |c| c.priority_delay_multipliers.urgent_multiplier = -0.1,
                "/cost_rates/priority_delay_multipliers/urgent_multiplier",
                "a non-negative number",
                "-0.1",
            ),
            (
                |c| c.priority_delay_multipliers.normal_multiplier = f64::NAN,
                "/cost_rates/priority_delay_multipliers/normal_multiplier",
                "a number",
                "NaN",
            ),
            (
                |c| c.priority_delay_multipliers.low_multiplier = 1e6,
                "/cost_rates/priority_delay_multipliers/low_multiplier",
                "at most 1000",
                "1000000",
            ),
        ];
        for (mutate, path, expected, found) in cases {
            let mut cfg = CostRatesConfig::default();
            mutate(&mut cfg);
            let err = CostModel::compile(&cfg).expect_err(path);
            assert_eq!(
                err,
                CostConfigError {
                    path: path.to_string(),
                    expected: expected.to_string(),
                    found: found.to_string(),
                }
            );
            assert!(err.to_string().contains(path));
        }
        // The limits themselves are accepted.
        let cfg = CostRatesConfig {
            overdraft_bps_per_tick: 10_000.0,
            delay_cost_per_tick_per_cent: 1.0,
            overdue_delay_multiplier: 1_000.0,
            priority_delay_multipliers: DelayMultipliers {
                low_multiplier: 0.0,
                ..DelayMultipliers::default()
            },
            deadline_penalty: PenaltyConfig::Fixed { amount: 0 },
            split_friction_cost: 0,
            ..CostRatesConfig::default()
        };
        assert!(CostModel::compile(&cfg).is_ok());
        // The first offending key in config order is reported.
        let cfg = CostRatesConfig {
            split_friction_cost: -1,
            overdraft_bps_per_tick: -1.0,
            ..CostRatesConfig::default()
        };
        assert_eq!(
            CostModel::compile(&cfg).map_err(|e| e.path),
            Err("/cost_rates/overdraft_bps_per_tick".to_string())
        );
    }

    #[test]
    fn config_json_shape() {
        let text = r#"{
            "overdraft_bps_per_tick": 0.001, "delay_cost_per_tick_per_cent": 0.0001,
            "collateral_cost_per_tick_bps": 0.0002, "liquidity_cost_per_tick_bps": 0.0,
            "deadline_penalty": {"mode": "fixed", "amount": 50000},
            "eod_penalty": {"mode": "fixed", "amount": 10000},
            "drop_penalty": null, "split_friction_cost": 1000, "overdue_delay_multiplier": 5.0,
            "priority_delay_multipliers": {"urgent_multiplier": 1.0, "normal_multiplier": 1.0,
                                           "low_multiplier": 1.0}
        }"#;
        let cfg: CostRatesConfig = serde_json::from_str(text).expect("parses");
        assert_eq!(cfg, CostRatesConfig::default());
        // Round trip through serde.
        let back: CostRatesConfig =
            serde_json::from_value(serde_json::to_value(&cfg).expect("ser")).expect("de");
        assert_eq!(back, cfg);

        let rate: PenaltyConfig =
            serde_json::from_str(r#"{"mode": "rate", "bps_per_event": 50.0}"#).expect("rate");
        assert_eq!(
            rate,
            PenaltyConfig::Rate {
                bps_per_event: 50.0
            }
        );
        let with_drop = text.replace(
            r#""drop_penalty": null"#,
            r#""drop_penalty": {"mode": "rate", "bps_per_event": 1}"#,
        );
        let cfg: CostRatesConfig = serde_json::from_str(&with_drop).expect("drop");
        assert_eq!(
            cfg.drop_penalty,
            Some(PenaltyConfig::Rate { bps_per_event: 1.0 })
        );

        // Rejected shapes: unknown keys (top level, penalty, multipliers), unknown mode, a
        // missing key (drop_penalty must be present, even as null), a bare-integer penalty
        // and a fractional fixed amount.
        let bad = [
            text.replace(
                "\"split_friction_cost\"",
                "\"extra\": 1, \"split_friction_cost\"",
            ),
            text.replace(r#""amount": 50000"#, r#""amount": 50000, "x": 1"#),
            text.replace(r#""low_multiplier""#, r#""x": 1, "low_multiplier""#),
            text.replace(
                r#""mode": "fixed", "amount": 50000"#,
                r#""mode": "flat", "amount": 1"#,
            ),
            text.replace(r#""drop_penalty": null,"#, ""),
            text.replace(r#"{"mode": "fixed", "amount": 50000}"#, "50000"),
            text.replace(r#""amount": 50000"#, r#""amount": 500.5"#),
            text.replace(r#""mode": "fixed", "amount": 50000"#, r#""mode": "fixed""#),
        ];
        for b in &bad {
            assert!(
                serde_json::from_str::<CostRatesConfig>(b).is_err(),
                "accepted: {b}"
            );
        }
    }

    #[test]
    fn component_keys() {
        let keys: Vec<&str> = CostComponent::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            keys,
            vec![
                "overdraft",
                "delay",
                "collateral",
                "liquidity",
                "deadline_penalty",
                "eod_penalty",
                "drop_penalty",
                "split_friction"
            ]
        );
        for (i, c) in CostComponent::ALL.iter().enumerate() {
            assert_eq!(c.index(), i);
            assert_eq!(*c as usize, i);
        }
        assert_eq!(SLOT_KEYS[TOTAL_INDEX], "total");
        for c in CostComponent::ALL {
            assert_eq!(SLOT_KEYS[c.index()], c.as_str());
        }
    }

    #[test]
    fn ledger_days_sum_to_cumulative() {
        let mut l = CostLedger::new();
        assert_eq!(l.current_day(), None);
        assert_eq!(l.day(0), None);
        // A deterministic pseudo-random booking sequence over 4 days, with day 2 skipped.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut ticks_sum = [0i64; NUM_SLOTS];
        for day in [0usize, 1, 3] {
            l.open_day(day);
            for _ in 0..50 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let c = CostComponent::ALL[(x % 8) as usize];
                let amount = ((x >> 8) % 10_000) as i64;
                l.book(c, amount);
                let t = l.take_tick();
                assert_eq!(t[c.index()], amount);
                assert_eq!(t[TOTAL_INDEX], amount);
                for i in 0..NUM_SLOTS {
                    ticks_sum[i] += t[i];
                }
            }
        }
        assert_eq!(l.current_day(), Some(3));
        assert_eq!(l.days().len(), 4);
        assert_eq!(l.day(2), Some(&[0; NUM_SLOTS]));
        let mut sum = [0i64; NUM_SLOTS];
        for d in l.days() {
            let parts: i64 = d[..TOTAL_INDEX].iter().sum();
            assert_eq!(parts, d[TOTAL_INDEX]);
            for i in 0..NUM_SLOTS {
                sum[i] += d[i];
            }
        }
        assert_eq!(&sum, l.cumulative());
        assert_eq!(sum, ticks_sum);
        assert_eq!(l.total(), sum[TOTAL_INDEX]);

        // Reopening an earlier day does not move "today" back; negative and zero bookings are
        // ignored.
        let before = l.clone();
        l.open_day(1);
        l.book(C::Delay, -5);
        l.book(C::Delay, 0);
        assert_eq!(l, before);
        l.book(C::Delay, 3);
        assert_eq!(
            l.day(3).map(|d| d[C::Delay.index()]),
            Some(before.days()[3][1] + 3)
        );
        assert_eq!(l.day(1), before.day(1));

        // Checkpointable.
        let json = serde_json::to_string(&l).expect("ser");
        let back: CostLedger = serde_json::from_str(&json).expect("de");
        assert_eq!(back, l);
    }

    #[test]
    fn booking_without_open_day_opens_day_zero() {
        let mut l = CostLedger::default();
        l.book(C::SplitFriction, 1_000);
        assert_eq!(l.current_day(), Some(0));
        assert_eq!(l.day(0).map(|d| d[TOTAL_INDEX]), Some(1_000));
        assert_eq!(l.tick()[C::SplitFriction.index()], 1_000);
        assert_eq!(l.take_tick()[TOTAL_INDEX], 1_000);
        assert_eq!(l.take_tick(), [0; NUM_SLOTS]);
    }
}
