//! Multilateral settlement over all of Q2 (docs/lsm.md §3–§4): TARGET2's all-or-nothing
//! algorithm and partial multilateral settlement (Bech–Soramäki gridlock resolution).
//!
//! Both read Q2 once into flat arrays: the payments in Q2 order, and per bank the positions of
//! its outgoing payments (its queue `Q_i`, in Q2 order). A selection is a *profile*: how many of
//! the first payments of each `Q_i` are in. Net positions and gross outflows are kept per bank
//! and updated in O(1) per removed payment, so a partial run costs O(|Q2| + banks + limits)
//! and needs no work cap. Only the receiver of a removed payment can lose coverage, so a FIFO
//! worklist of uncovered banks reaches the fixpoint; which uncovered bank goes first does not
//! change the result (docs/lsm.md §4 proves the fixpoint is the greatest feasible profile).
//!
//! A feasible group then settles like every offset group: gross counters per payment, net
//! positions once per member in agent order, one `OffsetSettlement` per payment in Q2 order
//! after the group's summary event. The summary lists no payment ids (a group may be all of
//! Q2); each member points at it through `group_seq`.

use super::super::offset::Mechanism;
use super::super::settle::Path;
use super::super::Engine;
use crate::events::{EventType, Key, Val};
use crate::state::Slot;

/// One Q2 payment, in Q2 order.
#[derive(Clone, Copy, Debug)]
struct Entry {
    slot: Slot,
    sender: u32,
    receiver: u32,
    amount: i64,
    /// Position within its sender's queue `Q_i`.
    rank: u32,
}

/// A bilateral limit of a sender: what it may still send to `receiver` today, and what the
/// current selection sends.
#[derive(Clone, Copy, Debug)]
struct LimitRow {
    receiver: u32,
    headroom: i128,
    selected: i128,
}

/// Buffers of the multilateral algorithms, reused from run to run.
#[derive(Debug, Default)]
pub(super) struct MultiScratch {
    q: Vec<Entry>,
    /// `Q_i` is `by_sender[start[i] .. start[i + 1]]`, positions into `q`.
    start: Vec<u32>,
    by_sender: Vec<u32>,
    /// The profile: `x_i`, the selected length of `Q_i`.
    keep: Vec<u32>,
    net: Vec<i128>,
    out: Vec<i128>,
    /// Per bank `lim_start[i] .. lim_start[i + 1]` into `lims`, sorted by receiver; empty when
    /// no bank has a bilateral limit.
    lim_start: Vec<u32>,
    lims: Vec<LimitRow>,
    queued: Vec<bool>,
    work: std::collections::VecDeque<u32>,
    member: Vec<bool>,
    agents: Vec<u32>,
    /// Bulk removal: the settled payments by slot, and the removed sums per pair.
    gone: Vec<bool>,
    pair_delta: Vec<((u32, u32), i64, u32)>,
    positions: Vec<i64>,
}

impl MultiScratch {
    /// Whether bank `i` covers the current selection (docs/lsm.md §2).
    fn covers(&self, i: usize, agents: &[crate::state::Agent]) -> bool {
        if self.keep[i] == 0 {
            return true;
        }
        let a = &agents[i];
        let n = self.net[i];
        if n < 0 {
            let avail = crate::liquidity::available_liquidity(a.balance, a.limit());
            if -n > i128::from(avail) {
                return false;
            }
        }
        if let Some(limit) = a.multilateral_limit {
            if i128::from(a.out_total) + self.out[i] > i128::from(limit) {
                return false;
            }
        }
        if !self.lims.is_empty() {
            let rows = &self.lims[self.lim_start[i] as usize..self.lim_start[i + 1] as usize];
            if rows
                .iter()
                .any(|r| r.selected > 0 && r.selected > r.headroom)
            {
                return false;
            }
        }
        true
    }

    /// The bilateral limit row of `sender → receiver`, if the sender has one.
    fn limit_row(&mut self, sender: u32, receiver: u32) -> Option<&mut LimitRow> {
        if self.lims.is_empty() {
            return None;
        }
        let s = sender as usize;
        let rows = &mut self.lims[self.lim_start[s] as usize..self.lim_start[s + 1] as usize];
        let k = rows.binary_search_by_key(&receiver, |r| r.receiver).ok()?;
        Some(&mut rows[k])
    }
}

impl Engine {
    /// One run of `multilateral` (`partial == false`) or `partial`. Returns the number and
    /// value of the payments settled; `removed` receives the number of Q2 payments the run
    /// left queued when it settled a group.
    pub(super) fn multilateral_round(&mut self, partial: bool, removed: &mut u64) -> (u64, i64) {
        if self.st.q2.is_empty() {
            return (0, 0);
        }
        let mut m = std::mem::take(&mut self.scratch.lsm.multi);
        self.load_q2(&mut m);
        let n = self.st.agents.len();
        let agents = &self.st.agents;
        m.work.clear();
        m.queued.clear();
        m.queued.resize(n, false);
        for i in 0..n {
            if !m.covers(i, agents) {
                m.queued[i] = true;
                m.work.push_back(i as u32);
            }
        }
        let mut left = 0u64;
        if !m.work.is_empty() {
            if !partial {
                self.scratch.lsm.multi = m;
                return (0, 0);
            }
            while let Some(i) = m.work.pop_front() {
                let i = i as usize;
                m.queued[i] = false;
                while !m.covers(i, agents) {
                    // `covers` is true when `keep[i] == 0`, so there is a last payment.
                    m.keep[i] -= 1;
                    let e = m.q[m.by_sender[(m.start[i] + m.keep[i]) as usize] as usize];
                    let (r, a) = (e.receiver as usize, i128::from(e.amount));
                    m.net[i] += a;
                    m.out[i] -= a;
                    m.net[r] -= a;
                    if let Some(row) = m.limit_row(e.sender, e.receiver) {
                        row.selected -= a;
                    }
                    left += 1;
                    if !m.queued[r] && !m.covers(r, agents) {
                        m.queued[r] = true;
                        m.work.push_back(r as u32);
                    }
                }
            }
            if left == m.q.len() as u64 {
                self.scratch.lsm.multi = m;
                return (0, 0);
            }
        }
        let result = self.settle_multilateral(&mut m, partial, left);
        *removed += left;
        self.scratch.lsm.multi = m;
        result
    }

    /// Reads Q2 into the scratch with every payment selected: the entries in Q2 order, each
    /// bank's queue, net positions, gross outflows and bilateral limit rows.
    fn load_q2(&self, m: &mut MultiScratch) {
        let n = self.st.agents.len();
        m.q.clear();
        m.keep.clear();
        m.keep.resize(n, 0);
        m.net.clear();
        m.net.resize(n, 0);
        m.out.clear();
        m.out.resize(n, 0);
        for &slot in self.st.q2.values() {
            let Some(p) = self.st.payments.get(slot) else {
                continue;
            };
            let (s, r, x) = (p.sender, p.receiver, p.remaining);
            m.q.push(Entry {
                slot,
                sender: s,
                receiver: r,
                amount: x,
                rank: m.keep[s as usize],
            });
            m.keep[s as usize] += 1;
            m.net[s as usize] -= i128::from(x);
            m.net[r as usize] += i128::from(x);
            m.out[s as usize] += i128::from(x);
        }
        // Each bank's queue: counting sort of the positions by sender, stable.
        m.start.clear();
        m.start.push(0);
        for i in 0..n {
            let next = m.start[i] + m.keep[i];
            m.start.push(next);
        }
        m.by_sender.clear();
        m.by_sender.resize(m.q.len(), 0);
        for (k, e) in m.q.iter().enumerate() {
            m.by_sender[(m.start[e.sender as usize] + e.rank) as usize] = k as u32;
        }
        m.lims.clear();
        m.lim_start.clear();
        if self.st.agents.iter().all(|a| a.bilateral_limits.is_empty()) {
            return;
        }
        for a in &self.st.agents {
            m.lim_start.push(m.lims.len() as u32);
            for (&r, &limit) in &a.bilateral_limits {
                let used = a.out_to.get(&r).copied().unwrap_or(0);
                m.lims.push(LimitRow {
                    receiver: r,
                    headroom: i128::from(limit) - i128::from(used),
                    selected: 0,
                });
            }
        }
        m.lim_start.push(m.lims.len() as u32);
        if m.lims.is_empty() {
            return;
        }
        for k in 0..m.q.len() {
            let e = m.q[k];
            if let Some(row) = m.limit_row(e.sender, e.receiver) {
                row.selected += i128::from(e.amount);
            }
        }
    }

    /// Settles the selected payments as one group → `LsmMultilateralSettlement`, then
    /// `OffsetSettlement` per payment in Q2 order. Returns the number and value settled.
    fn settle_multilateral(
        &mut self,
        m: &mut MultiScratch,
        partial: bool,
        left: u64,
    ) -> (u64, i64) {
        let n = self.st.agents.len();
        let mut slots = std::mem::take(&mut self.scratch.group);
        slots.clear();
        m.member.clear();
        m.member.resize(n, false);
        let mut value: i128 = 0;
        for e in &m.q {
            if e.rank < m.keep[e.sender as usize] {
                slots.push(e.slot);
                value += i128::from(e.amount);
                m.member[e.sender as usize] = true;
                m.member[e.receiver as usize] = true;
            }
        }
        m.agents.clear();
        m.positions.clear();
        for i in 0..n {
            if m.member[i] {
                m.agents.push(i as u32);
                m.positions.push(clamp(m.net[i]));
            }
        }
        let value = clamp(value);
        let (algorithm, mechanism) = if partial {
            ("partial", Mechanism::Partial)
        } else {
            ("multilateral", Mechanism::Multilateral)
        };
        let group_seq = self.emit(
            EventType::LsmMultilateralSettlement,
            None,
            None,
            None,
            Some(value),
            &[
                (Key::Algorithm, Val::Str(algorithm)),
                (Key::SettledCount, Val::U64(slots.len() as u64)),
                (Key::RemovedCount, Val::U64(left)),
                (Key::Agents, Val::AgentList(&m.agents)),
                (Key::NetPositions, Val::I64List(&m.positions)),
            ],
        );
        for e in &m.q {
            if e.rank < m.keep[e.sender as usize] {
                self.count_outflow(e.sender, e.receiver, e.amount);
            }
        }
        for k in 0..m.agents.len() {
            let (i, net) = (m.agents[k], m.positions[k]);
            if net < 0 {
                let a = &mut self.st.agents[i as usize];
                a.balance = a.balance.saturating_sub(net.saturating_neg());
            } else if net > 0 {
                self.credit(i, net);
            }
        }
        let path = Path::Offset {
            mechanism,
            group_seq,
        };
        if slots.len() >= BULK_MIN && slots.len() * 4 >= self.st.q2.len() {
            self.q2_remove_selected(m);
        } else {
            for &slot in &slots {
                self.q2_remove(slot);
            }
        }
        for &slot in &slots {
            self.book_settled(slot, path);
        }
        let count = slots.len() as u64;
        self.scratch.group = slots;
        (count, value)
    }
}

/// Groups at least this large, and at least a quarter of Q2, leave Q2 in one sweep.
const BULK_MIN: usize = 64;

impl Engine {
    /// Takes the selected payments out of Q2 at once: the same end state as `q2_remove` on
    /// each (queues, pair index and sums, per-agent Q2 aggregates, location), but with one
    /// ordered sweep of each map instead of a tree removal per payment and map, which
    /// dominates the cost of a group holding most of Q2.
    fn q2_remove_selected(&mut self, m: &mut MultiScratch) {
        let slots = m.q.iter().map(|e| e.slot as usize + 1).max().unwrap_or(0);
        m.gone.clear();
        m.gone.resize(slots, false);
        m.pair_delta.clear();
        for e in &m.q {
            if e.rank >= m.keep[e.sender as usize] {
                continue;
            }
            m.gone[e.slot as usize] = true;
            m.pair_delta.push(((e.sender, e.receiver), e.amount, 1));
            let a = &mut self.st.agents[e.sender as usize];
            a.q2_count -= 1;
            a.q2_value -= e.amount;
            let b = &mut self.st.agents[e.receiver as usize];
            b.incoming_q2_count -= 1;
            b.incoming_q2_value -= e.amount;
            if let Some(p) = self.st.payments.get_mut(e.slot) {
                p.location = crate::state::Location::None;
            }
        }
        let gone = &m.gone;
        self.st.q2.retain(|_, s| !gone[*s as usize]);
        self.st.q2_by_pair.retain(|_, s| !gone[*s as usize]);
        // Pair sums: the removed amounts per pair, merged in pair order, subtracted in one
        // ordered sweep (exactly what `q2_remove` subtracts payment by payment).
        m.pair_delta.sort_unstable_by_key(|d| d.0);
        let mut merged = 0;
        for k in 0..m.pair_delta.len() {
            let d = m.pair_delta[k];
            if merged > 0 && m.pair_delta[merged - 1].0 == d.0 {
                m.pair_delta[merged - 1].1 += d.1;
                m.pair_delta[merged - 1].2 += d.2;
            } else {
                m.pair_delta[merged] = d;
                merged += 1;
            }
        }
        m.pair_delta.truncate(merged);
        let mut next = m.pair_delta.iter().peekable();
        self.st.pair_q2.retain(|pair, v| {
            while next.next_if(|d| d.0 < *pair).is_some() {}
            if let Some(d) = next.next_if(|d| d.0 == *pair) {
                v.0 -= d.1;
                v.1 -= d.2;
            }
            v.1 > 0
        });
    }
}

/// An `i128` sum as `i64` cents, saturating (a real net position always fits: a debtor's is
/// bounded by its liquidity, a creditor's by the debtors' sum).
fn clamp(x: i128) -> i64 {
    i64::try_from(x).unwrap_or(if x < 0 { i64::MIN } else { i64::MAX })
}
