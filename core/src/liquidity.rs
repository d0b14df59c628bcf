//! Liquidity formulas of ENGINE.md §3.2, as pure functions.
//!
//! Why pure functions: settlement, the LSM, collateral operations and the policy context all ask
//! the same questions ("can this bank pay x?", "how much collateral may it withdraw?"); one
//! implementation keeps them consistent, and Invariant A (no settlement breaks `balance ≥ −L`)
//! can be tested on the formulas alone.
//!
//! Every product is computed in `i128`, so no input combination can overflow or panic. Results
//! are clamped to the `i64` range: with the config bound of P1 (balances, caps and collateral sum
//! to at most 2^62) the clamp never bites, and without it a saturated limit is still a safe
//! answer.
//!
//! The haircut is stored as the fixed-point factor `K = round((1 − haircut) × 10^9)` so that the
//! collateral credit is exact integer arithmetic, identical on every platform (P2).

/// Scale of the haircut factor `K`.
pub const HAIRCUT_SCALE: u64 = 1_000_000_000;

const SCALE: i128 = HAIRCUT_SCALE as i128;

/// Clamps an `i128` intermediate to the `i64` range.
fn clamp_i64(v: i128) -> i64 {
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// `K = round((1 − haircut) × 10^9)`, half away from zero.
///
/// Config validation keeps `haircut` in [0, 1]; anything else is clamped to `[0, 10^9]`, and a
/// NaN haircut gives `K = 0` (collateral gives no credit), the conservative reading.
pub fn haircut_factor(haircut: f64) -> u64 {
    let k = ((1.0 - haircut) * HAIRCUT_SCALE as f64).round();
    if k.is_nan() || k <= 0.0 {
        0
    } else if k >= HAIRCUT_SCALE as f64 {
        HAIRCUT_SCALE
    } else {
        k as u64
    }
}

/// `⌊posted × K / 10^9⌋`: the credit that posted collateral is worth after the haircut.
/// Floor division, so collateral never buys more credit than it is worth.
pub fn collateral_credit(posted: i64, k: u64) -> i64 {
    clamp_i64((i128::from(posted) * i128::from(k)).div_euclid(SCALE))
}

/// `L = unsecured_cap + collateral_credit`: how far below zero the balance may go.
pub fn overdraft_limit(unsecured_cap: i64, posted: i64, k: u64) -> i64 {
    clamp_i64(i128::from(unsecured_cap) + i128::from(collateral_credit(posted, k)))
}

/// `max(0, balance + L)`: what the bank can pay right now. Zero (never negative) when an
/// exogenous operation has left the balance below `−L`.
pub fn available_liquidity(balance: i64, l: i64) -> i64 {
    clamp_i64((i128::from(balance) + i128::from(l)).max(0))
}

/// `x ≤ available_liquidity`: the RTGS rule. Computed exactly in `i128` (no clamping), so it
/// agrees with `balance − x ≥ −L` for every `x > 0`.
pub fn can_pay(balance: i64, l: i64, x: i64) -> bool {
    i128::from(x) <= (i128::from(balance) + i128::from(l)).max(0)
}

/// `max(0, −balance)`: the credit in use. `i64::MIN` saturates to `i64::MAX`.
pub fn credit_used(balance: i64) -> i64 {
    clamp_i64((-i128::from(balance)).max(0))
}

/// Collateral that must stay posted to back the credit in use:
/// `need = max(0, credit_used − unsecured_cap)`, then `⌈need × 10^9 / K⌉`.
///
/// Ceiling division, because flooring could leave the remaining collateral one cent of credit
/// short of `need` and so let a withdrawal break Invariant A. With `K = 0` collateral backs
/// nothing, so none is required (and none can be lost by withdrawing it).
pub fn required_collateral(balance: i64, unsecured_cap: i64, k: u64) -> i64 {
    if k == 0 {
        return 0;
    }
    let need = (i128::from(credit_used(balance)) - i128::from(unsecured_cap)).max(0);
    let k = i128::from(k);
    // need ≥ 0 and k > 0, so this is the ceiling of need × 10^9 / k.
    clamp_i64((need * SCALE + k - 1) / k)
}

/// `max(0, posted − required_collateral)`: the most a policy or timer may withdraw without
/// pushing the balance below `−L`.
pub fn max_withdrawable(posted: i64, balance: i64, unsecured_cap: i64, k: u64) -> i64 {
    let required = required_collateral(balance, unsecured_cap, k);
    clamp_i64((i128::from(posted) - i128::from(required)).max(0))
}

/// `max(0, max_collateral_capacity − posted)`: how much more collateral may be posted.
pub fn remaining_capacity(max_cap: i64, posted: i64) -> i64 {
    clamp_i64((i128::from(max_cap) - i128::from(posted)).max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haircut_factor_table() {
        let cases = [
            (0.0, 1_000_000_000),
            (1.0, 0),
            (0.02, 980_000_000),
            (0.5, 500_000_000),
            (0.1, 900_000_000),
            (0.3, 700_000_000),
            (0.25, 750_000_000),
            (0.000_000_001, 999_999_999),
            (-0.5, 1_000_000_000),
            (2.0, 0),
            (f64::NAN, 0),
            (f64::INFINITY, 0),
            (f64::NEG_INFINITY, 1_000_000_000),
        ];
        for (h, k) in cases {
            assert_eq!(haircut_factor(h), k, "haircut {h}");
        }
    }

    #[test]
    fn credit_and_limit_table() {
        let k2 = haircut_factor(0.02);
        // (unsecured_cap, posted, k, credit, L)
        let cases = [
            (0, 0, k2, 0, 0),
            (1_000, 0, k2, 0, 1_000),
            (0, 100_000, k2, 98_000, 98_000),
            (500, 100_000, k2, 98_000, 98_500),
            (0, 99, k2, 97, 97),  // 97.02 → 97
            (0, 101, k2, 98, 98), // 98.98 → 98
            (0, 12_345, HAIRCUT_SCALE, 12_345, 12_345),
            (7, 12_345, 0, 0, 7),
            (0, i64::MAX, HAIRCUT_SCALE, i64::MAX, i64::MAX),
            (i64::MAX, i64::MAX, HAIRCUT_SCALE, i64::MAX, i64::MAX),
            (0, -101, k2, -99, -99), // never happens; floor, no panic
        ];
        for (cap, posted, k, credit, l) in cases {
            assert_eq!(collateral_credit(posted, k), credit, "credit {posted} {k}");
            assert_eq!(overdraft_limit(cap, posted, k), l, "L {cap} {posted} {k}");
        }
        // A factor above 10^9 (never produced by haircut_factor) still cannot overflow.
        assert_eq!(collateral_credit(i64::MAX, u64::MAX), i64::MAX);
    }

    #[test]
    fn availability_table() {
        // (balance, L, available, credit_used)
        let cases = [
            (0, 0, 0, 0),
            (100, 0, 100, 0),
            (-100, 300, 200, 100),
            (-300, 300, 0, 300),
            (-500, 300, 0, 500), // below −L after an exogenous operation
            (i64::MAX, i64::MAX, i64::MAX, 0),
            (i64::MIN, 0, 0, i64::MAX),
            (i64::MIN, i64::MAX, 0, i64::MAX),
        ];
        for (b, l, avail, used) in cases {
            assert_eq!(available_liquidity(b, l), avail, "available {b} {l}");
            assert_eq!(credit_used(b), used, "credit_used {b}");
        }
    }

    #[test]
    fn can_pay_table() {
        // (balance, L, x, ok)
        let cases = [
            (0, 0, 1, false),
            (0, 0, 0, true),
            (100, 0, 100, true),
            (100, 0, 101, false),
            (-100, 300, 200, true),
            (-100, 300, 201, false),
            (-500, 300, 1, false), // below −L: cannot pay until inflows restore it
            (i64::MAX, i64::MAX, i64::MAX, true),
            (i64::MIN, 0, 1, false),
        ];
        for (b, l, x, ok) in cases {
            assert_eq!(can_pay(b, l, x), ok, "can_pay {b} {l} {x}");
            if x > 0 {
                // Equivalent form of §3.2 for positive amounts.
                let alt = i128::from(b) - i128::from(x) >= -i128::from(l);
                assert_eq!(can_pay(b, l, x), alt);
            }
        }
    }

    #[test]
    fn required_collateral_and_withdrawal_table() {
        let k2 = haircut_factor(0.02);
        // (balance, cap, posted, k, required, max_withdrawable)
        let cases = [
            (0, 0, 1_000, k2, 0, 1_000),
            (-500, 1_000, 1_000, k2, 0, 1_000), // covered by the unsecured cap
            (-1_000, 1_000, 1_000, k2, 0, 1_000),
            (-1_098, 1_000, 1_000, k2, 100, 900), // 98 / 0.98 = 100 exactly
            (-1_001, 1_000, 1_000, k2, 2, 998),   // 1 / 0.98 = 1.02 → 2
            (-1_049, 1_000, 1_000, k2, 50, 950),  // 49 / 0.98 = 50 exactly
            (-1_050, 1_000, 1_000, k2, 52, 948),  // 50 / 0.98 = 51.02 → 52
            (-98_000, 0, 100_000, k2, 100_000, 0),
            (-200_000, 0, 100_000, k2, 204_082, 0), // below −L: nothing withdrawable
            (-5_000, 0, 10_000, HAIRCUT_SCALE, 5_000, 5_000),
            (-5_000, 0, 10_000, 0, 0, 10_000), // haircut 1: collateral backs nothing
            (-1, 0, 10, 3, 333_333_334, 0),    // tiny K, ceil
            (i64::MIN, 0, 10, 1, i64::MAX, 0), // saturates, no panic
        ];
        for (b, cap, posted, k, req, mw) in cases {
            assert_eq!(
                required_collateral(b, cap, k),
                req,
                "required {b} {cap} {k}"
            );
            assert_eq!(
                max_withdrawable(posted, b, cap, k),
                mw,
                "mw {b} {cap} {posted} {k}"
            );
        }
    }

    #[test]
    fn remaining_capacity_table() {
        let cases = [
            (1_000, 0, 1_000),
            (1_000, 400, 600),
            (1_000, 1_000, 0),
            (1_000, 1_500, 0), // opening posted above the default rule: clamp
            (i64::MAX, i64::MIN, i64::MAX),
            (i64::MIN, i64::MAX, 0),
        ];
        for (cap, posted, rem) in cases {
            assert_eq!(remaining_capacity(cap, posted), rem, "{cap} {posted}");
        }
    }

    /// SplitMix64: a tiny deterministic generator so the property loop needs no extra crate.
    struct SplitMix(u64);

    impl SplitMix {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    #[test]
    fn withdrawing_max_keeps_invariant_a() {
        let mut rng = SplitMix(0x5EED);
        let haircuts = [0.0, 1.0, 0.02, 0.5, 0.333, 0.999_999_999, 0.000_000_001];
        let mut held_before = 0;
        for i in 0..200_000 {
            // Mix small values (where rounding matters) with large ones near the 2^62 bound.
            let scale = if i % 2 == 0 { 1_000 } else { 1u64 << 60 };
            let k = if i % 5 == 0 {
                rng.below(HAIRCUT_SCALE + 1)
            } else {
                haircut_factor(haircuts[rng.below(haircuts.len() as u64) as usize])
            };
            let cap = rng.below(scale) as i64;
            let posted = rng.below(scale) as i64;
            let balance = rng.below(4 * scale) as i64 - 3 * scale as i64;

            let l = overdraft_limit(cap, posted, k);
            let mw = max_withdrawable(posted, balance, cap, k);
            assert!((0..=posted).contains(&mw));
            let l_after = overdraft_limit(cap, posted - mw, k);
            if balance >= -l {
                held_before += 1;
                assert!(
                    balance >= -l_after,
                    "balance {balance} cap {cap} posted {posted} k {k} mw {mw} L' {l_after}"
                );
                // Maximal: one more cent would break it (unless nothing was left or K = 0).
                if mw < posted && k > 0 {
                    let l_more = overdraft_limit(cap, posted - mw - 1, k);
                    assert!(
                        balance < -l_more,
                        "not maximal: {balance} {cap} {posted} {k}"
                    );
                }
            } else {
                // Already below −L: no withdrawal is allowed at all (K > 0).
                if k > 0 {
                    assert_eq!(mw, 0);
                }
            }
        }
        assert!(held_before > 10_000);
    }
}
