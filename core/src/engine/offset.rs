//! Offset groups (ENGINE.md §6.2, §7): queued payments that settle together because their net
//! effect is affordable although their gross effect may not be. Entry offsets (§7.5),
//! bilateral offsets (§7.1) and cycles (§7.2) all describe a group as *legs* and go through the
//! two routines here, so feasibility and the money rules are written once.
//!
//! The money moves as net positions, once per group: every member with a net outflow is
//! debited its net, every member with a net inflow is credited its net (pending under deferred
//! crediting). So no member passes below `−L` half-way through a group, and a receiver cannot
//! spend incoming gross funds before the tick ends. Each payment is still booked on its own
//! (`book_settled`), with its own `OffsetSettlement` event. A net receiver's credit is one
//! pending credit, so it adds one to the `source_count` of its `DeferredCreditApplied`.

use super::settle::Path;
use super::Engine;
use crate::state::Slot;

/// Which mechanism settled an offset group (the `mechanism` detail of `OffsetSettlement`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mechanism {
    Entry,
    Bilateral,
    Cycle,
    /// docs/lsm.md §3.
    Multilateral,
    /// docs/lsm.md §4.
    Partial,
}

impl Mechanism {
    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::Entry => "entry",
            Mechanism::Bilateral => "bilateral",
            Mechanism::Cycle => "cycle",
            Mechanism::Multilateral => "multilateral",
            Mechanism::Partial => "partial",
        }
    }
}

/// One directed leg of an offset group: all of the group's payments from `from` to `to`,
/// summing to `total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Leg {
    pub from: u32,
    pub to: u32,
    pub total: i64,
}

/// Net position of every member of a group (inflow minus outflow), in `i128` so that no sum of
/// legs can overflow. Members appear in order of first mention; groups have at most ten.
pub(super) fn net_positions(legs: &[Leg], nets: &mut Vec<(u32, i128)>) {
    nets.clear();
    for leg in legs {
        for (agent, delta) in [
            (leg.from, -i128::from(leg.total)),
            (leg.to, i128::from(leg.total)),
        ] {
            match nets.iter_mut().find(|(a, _)| *a == agent) {
                Some((_, n)) => *n += delta,
                None => nets.push((agent, delta)),
            }
        }
    }
}

impl Engine {
    /// Whether the group may settle now: every leg passes its sender's bilateral and
    /// multilateral limits (gross, as every settlement counts gross outflows), and every
    /// member with a net outflow covers it within its overdraft limit (`balance + n ≥ −L`).
    /// A member already below `−L` (after an exogenous operation) can only take part with a
    /// net of zero or an inflow, so Invariant A holds for offsets too.
    ///
    /// A leg total of `i64::MAX` is a saturated Q2 aggregate, not a real sum: such a group is
    /// refused rather than settled on a wrong amount.
    pub(super) fn offset_feasible(&mut self, legs: &[Leg]) -> bool {
        if legs
            .iter()
            .any(|l| l.total == i64::MAX || self.limits_allow(l.from, l.to, l.total).is_err())
        {
            return false;
        }
        let mut nets = std::mem::take(&mut self.scratch.nets);
        net_positions(legs, &mut nets);
        let ok = nets.iter().all(|&(agent, n)| {
            let a = &self.st.agents[agent as usize];
            n >= 0 || -n <= i128::from(crate::liquidity::available_liquidity(a.balance, a.limit()))
        });
        self.scratch.nets = nets;
        ok
    }

    /// Settles a group that `offset_feasible` accepted: grows each leg sender's counters by
    /// the leg's gross total, applies the net positions once, then takes every payment of
    /// `slots` out of Q2 (if it is there) and books it as an `OffsetSettlement` of the group
    /// whose summary event has seq `group_seq`. The caller emits that summary first.
    pub(super) fn settle_offset_group(
        &mut self,
        legs: &[Leg],
        slots: &[Slot],
        mechanism: Mechanism,
        group_seq: u64,
    ) {
        for leg in legs {
            self.count_outflow(leg.from, leg.to, leg.total);
        }
        let mut nets = std::mem::take(&mut self.scratch.nets);
        net_positions(legs, &mut nets);
        for &(agent, n) in nets.iter() {
            let amount = i64::try_from(n.unsigned_abs()).unwrap_or(i64::MAX);
            if n < 0 {
                let a = &mut self.st.agents[agent as usize];
                a.balance = a.balance.saturating_sub(amount);
            } else if n > 0 {
                self.credit(agent, amount);
            }
        }
        self.scratch.nets = nets;
        let path = Path::Offset {
            mechanism,
            group_seq,
        };
        for &slot in slots {
            self.q2_remove(slot);
            self.book_settled(slot, path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_positions_of_a_pair_and_a_cycle() {
        let mut nets = Vec::new();
        let leg = |from, to, total| Leg { from, to, total };
        net_positions(&[leg(0, 1, 100), leg(1, 0, 60)], &mut nets);
        assert_eq!(nets, vec![(0, -40), (1, 40)]);
        net_positions(&[leg(2, 5, 100), leg(5, 7, 100), leg(7, 2, 60)], &mut nets);
        assert_eq!(nets, vec![(2, -40), (5, 0), (7, 40)]);
        net_positions(&[leg(0, 1, i64::MAX), leg(2, 1, i64::MAX)], &mut nets);
        assert_eq!(nets[1], (1, 2 * i128::from(i64::MAX)));
    }
}
