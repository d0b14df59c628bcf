//! Bilateral offsetting, one round (ENGINE.md §7.1): every pair of agents with Q2 payments in
//! both directions, in order of liquidity saved, settles all its queued payments at once when
//! the net payer can cover the difference.

use super::super::offset::{Leg, Mechanism};
use super::super::Engine;
use crate::events::{EventType, Key, Val};

/// A ready pair: `a < b` (by index), with `s_ab`, `s_ba` the Q2 sums of each direction.
#[derive(Clone, Copy, Debug)]
pub(super) struct ReadyPair {
    a: u32,
    b: u32,
    s_ab: i64,
    s_ba: i64,
}

impl ReadyPair {
    /// `2 × min(S_ab, S_ba)`, the liquidity the offset saves (in `i128`: it may exceed `i64`).
    fn saving(&self) -> i128 {
        2 * i128::from(self.s_ab.min(self.s_ba))
    }
}

impl Engine {
    /// One bilateral round. Pairs are taken from the pair sums alone; within the round an
    /// earlier pair's settlement never changes a later pair's sums (they share no payment),
    /// only the balances, which are read at each pair's turn. Returns the number and value of
    /// the payments settled.
    pub(super) fn bilateral_round(&mut self) -> (u64, i64) {
        let mut pairs = std::mem::take(&mut self.scratch.lsm.pairs);
        pairs.clear();
        for (&(a, b), &(s_ab, _)) in &self.st.pair_q2 {
            if a < b {
                if let Some(&(s_ba, _)) = self.st.pair_q2.get(&(b, a)) {
                    pairs.push(ReadyPair { a, b, s_ab, s_ba });
                }
            }
        }
        pairs.sort_unstable_by(|x, y| {
            y.saving()
                .cmp(&x.saving())
                .then_with(|| (x.a, x.b).cmp(&(y.a, y.b)))
        });
        let (mut count, mut value) = (0u64, 0i64);
        for pair in pairs.iter() {
            let legs = [
                Leg {
                    from: pair.a,
                    to: pair.b,
                    total: pair.s_ab,
                },
                Leg {
                    from: pair.b,
                    to: pair.a,
                    total: pair.s_ba,
                },
            ];
            if self.offset_feasible(&legs) {
                count += self.settle_pair(pair, &legs);
                value = value.saturating_add(pair.s_ab).saturating_add(pair.s_ba);
            }
        }
        self.scratch.lsm.pairs = pairs;
        (count, value)
    }

    /// Settles a feasible pair → `LsmBilateralOffset`, then `OffsetSettlement` per payment,
    /// direction `a → b` first, each direction in Q2 order. Returns the payments settled.
    fn settle_pair(&mut self, pair: &ReadyPair, legs: &[Leg; 2]) -> u64 {
        let mut slots = std::mem::take(&mut self.scratch.group);
        let mut keys = std::mem::take(&mut self.scratch.group_keys);
        self.gather_group(legs, &mut slots, &mut keys);
        let net_payer = match pair.s_ab.cmp(&pair.s_ba) {
            std::cmp::Ordering::Greater => Val::Agent(pair.a),
            std::cmp::Ordering::Less => Val::Agent(pair.b),
            std::cmp::Ordering::Equal => Val::Null,
        };
        let group_seq = self.emit(
            EventType::LsmBilateralOffset,
            None,
            Some(pair.a),
            Some(pair.b),
            Some(pair.s_ab.saturating_add(pair.s_ba)),
            &[
                (Key::AmountAb, Val::I64(pair.s_ab)),
                (Key::AmountBa, Val::I64(pair.s_ba)),
                (Key::TxIds, Val::TxList(&keys)),
                (Key::NetPayer, net_payer),
                (Key::Net, Val::I64(pair.s_ab.abs_diff(pair.s_ba) as i64)),
            ],
        );
        self.settle_offset_group(legs, &slots, Mechanism::Bilateral, group_seq);
        let n = slots.len() as u64;
        self.scratch.group = slots;
        self.scratch.group_keys = keys;
        n
    }
}
