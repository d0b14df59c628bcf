//! Multilateral cycles, one round (ENGINE.md §7.2): search the pair-sum graph for simple cycles
//! (`search.rs`), then settle candidates in order while they stay intact and affordable, up to
//! `max_cycles_per_tick` per tick.

use super::super::offset::{Leg, Mechanism};
use super::super::Engine;
use super::LsmReport;
use crate::events::{EventType, Key, Val};

impl Engine {
    /// One cycle round. Returns the number and value of the payments settled.
    pub(super) fn cycle_round(&mut self, rep: &mut LsmReport) -> (u64, i64) {
        let lsm = &self.setup.cfg.lsm_config;
        let (cap, max_len) = (lsm.max_cycles_per_tick, lsm.max_cycle_length as usize);
        if self.scratch.lsm.cycles_settled >= cap {
            // Nothing may settle, so the search would be wasted work.
            rep.cycle_cap_reached |= !self.st.pair_q2.is_empty();
            return (0, 0);
        }
        let mut search = std::mem::take(&mut self.scratch.lsm.search);
        search.run(
            self.st.agents.len(),
            self.st
                .pair_q2
                .iter()
                .map(|(&(s, r), &(sum, _))| (s, r, sum)),
            max_len,
        );
        rep.search_steps += u64::from(search.steps);
        rep.cycles_found += search.len() as u64;
        rep.search_truncated |= search.truncated;
        let mut emptied = std::mem::take(&mut self.scratch.lsm.emptied);
        emptied.clear();
        emptied.resize(search.edge_count(), false);
        let mut legs = std::mem::take(&mut self.scratch.lsm.legs);
        let (mut count, mut value) = (0u64, 0i64);
        for i in 0..search.len() {
            if self.scratch.lsm.cycles_settled >= cap {
                rep.cycle_cap_reached = true;
                break;
            }
            let (verts, edges, total) = search.candidate(i);
            // An edge stands for all its payments, so a settled edge is empty, not smaller.
            if edges.iter().any(|&e| emptied[e as usize]) {
                continue;
            }
            legs.clear();
            for (k, &e) in edges.iter().enumerate() {
                legs.push(Leg {
                    from: verts[k],
                    to: verts[(k + 1) % verts.len()],
                    total: search.weight(e),
                });
            }
            if !self.offset_feasible(&legs) {
                continue;
            }
            for &e in edges {
                emptied[e as usize] = true;
            }
            let total = i64::try_from(total).unwrap_or(i64::MAX);
            count += self.settle_cycle(&legs, total);
            value = value.saturating_add(total);
            self.scratch.lsm.cycles_settled += 1;
        }
        self.scratch.lsm.search = search;
        self.scratch.lsm.emptied = emptied;
        self.scratch.lsm.legs = legs;
        (count, value)
    }

    /// Settles a feasible cycle → `LsmCycleSettlement` (root = first leg's sender, the cycle's
    /// smallest index), then `OffsetSettlement` per payment: edges in order along the cycle,
    /// each edge in Q2 order. Returns the payments settled.
    fn settle_cycle(&mut self, legs: &[Leg], total: i64) -> u64 {
        let mut slots = std::mem::take(&mut self.scratch.group);
        let mut keys = std::mem::take(&mut self.scratch.group_keys);
        let mut agents = std::mem::take(&mut self.scratch.lsm.agents);
        let mut amounts = std::mem::take(&mut self.scratch.lsm.amounts);
        let mut positions = std::mem::take(&mut self.scratch.lsm.positions);
        self.gather_group(legs, &mut slots, &mut keys);
        agents.clear();
        amounts.clear();
        positions.clear();
        let n = legs.len();
        for (k, leg) in legs.iter().enumerate() {
            agents.push(leg.from);
            amounts.push(leg.total);
            // In a simple cycle each member has one incoming and one outgoing edge.
            positions.push(legs[(k + n - 1) % n].total - leg.total);
        }
        let group_seq = self.emit(
            EventType::LsmCycleSettlement,
            None,
            Some(legs[0].from),
            None,
            Some(total),
            &[
                (Key::Agents, Val::AgentList(&agents)),
                (Key::EdgeAmounts, Val::I64List(&amounts)),
                (Key::NetPositions, Val::I64List(&positions)),
                (Key::TxIds, Val::TxList(&keys)),
            ],
        );
        self.settle_offset_group(legs, &slots, Mechanism::Cycle, group_seq);
        let settled = slots.len() as u64;
        self.scratch.group = slots;
        self.scratch.group_keys = keys;
        self.scratch.lsm.agents = agents;
        self.scratch.lsm.amounts = amounts;
        self.scratch.lsm.positions = positions;
        settled
    }
}
