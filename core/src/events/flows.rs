//! Per-tick aggregates of the event stream, computed from the compact rows.
//!
//! A store keeps, beside the events, small per-tick tables that a report reads
//! instead of millions of events: per tick, how many payments arrived,
//! settled, were dropped or went overdue and the cost booked; per tick and
//! agent, what left and entered its balance (ENGINE.md §12.2) and the cost it
//! was charged. Computing them here, while the rows are exported, costs a few
//! nanoseconds per event; nothing is rendered.
//!
//! [`TickCounts`] has one row per tick that has events, in tick order.
//! [`BalanceMoves`] has one row per tick and agent whose balance moved or that
//! was charged a cost, in tick order and then agent order, with the agent's
//! balance at the end of that tick: the caller gives the balances at the start
//! of the range and gets them back at its end, so consecutive ranges chain. Balance movements
//! follow §12.2: a settlement-class event moves `amount` from `agent` to
//! `counterparty`, and so does a `ScenarioEventExecuted` whose `event_type`
//! detail is `DirectTransfer`, or `ScheduledSettlement` with `settled: true`;
//! `LiquidityAllocation` brings `amount` into `agent`'s balance and
//! `LiquidityReturn` takes it out; `CostAccrual` charges `agent` `amount`.

use super::kinds::{EventType, Key};
use super::log::{EventLog, EventRow, EventsReleased};
use super::value::OwnedVal;

/// Per-tick counts (one row per tick that has events).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TickCounts {
    /// Tick.
    pub tick: Vec<i64>,
    /// `Arrival` events.
    pub arrivals: Vec<i64>,
    /// Settlement-class events.
    pub settlements: Vec<i64>,
    /// Sum of their amounts.
    pub settled_value: Vec<i64>,
    /// `OffsetSettlement` events.
    pub lsm_settled: Vec<i64>,
    /// `TransactionWentOverdue` events.
    pub overdue: Vec<i64>,
    /// `PolicyDrop` events.
    pub dropped: Vec<i64>,
    /// Sum of `CostAccrual` amounts.
    pub cost: Vec<i64>,
    /// All events.
    pub events: Vec<i64>,
}

impl TickCounts {
    /// Column names in order.
    pub const COLUMN_NAMES: [&'static str; 9] = [
        "tick",
        "arrivals",
        "settlements",
        "settled_value",
        "lsm_settled",
        "overdue",
        "dropped",
        "cost",
        "events",
    ];
}

/// Per-tick, per-agent balance movements and costs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BalanceMoves {
    /// Tick.
    pub tick: Vec<i64>,
    /// Agent index.
    pub agent_index: Vec<i32>,
    /// Paid out (settlements, transfers, liquidity returned).
    pub outflow: Vec<i64>,
    /// Received (settlements, transfers, liquidity brought in).
    pub inflow: Vec<i64>,
    /// Balance at the end of the tick.
    pub balance: Vec<i64>,
    /// Cost charged.
    pub cost: Vec<i64>,
}

impl BalanceMoves {
    /// Column names in order.
    pub const COLUMN_NAMES: [&'static str; 6] = [
        "tick",
        "agent_index",
        "outflow",
        "inflow",
        "balance",
        "cost",
    ];
}

#[derive(Clone, Copy, Default)]
struct Move {
    outflow: i64,
    inflow: i64,
    cost: i64,
}

/// The tick being aggregated.
#[derive(Default)]
struct Current {
    tick: Option<u32>,
    counts: [i64; 8],
    /// Indexed by agent; `touched` lists the agents with a row this tick.
    moves: Vec<Move>,
    seen: Vec<bool>,
    touched: Vec<u32>,
}

impl Current {
    fn touch(&mut self, agent: u32) -> Option<&mut Move> {
        let i = agent as usize;
        if i >= self.moves.len() {
            self.moves.resize(i + 1, Move::default());
            self.seen.resize(i + 1, false);
        }
        if !self.seen.get(i).copied().unwrap_or(true) {
            self.seen[i] = true;
            self.touched.push(agent);
        }
        self.moves.get_mut(i)
    }

    fn flush(
        &mut self,
        counts: &mut TickCounts,
        moves: &mut BalanceMoves,
        balances: &mut Vec<i64>,
    ) {
        let Some(tick) = self.tick.take() else {
            return;
        };
        let t = i64::from(tick);
        let c = self.counts;
        counts.tick.push(t);
        counts.arrivals.push(c[0]);
        counts.settlements.push(c[1]);
        counts.settled_value.push(c[2]);
        counts.lsm_settled.push(c[3]);
        counts.overdue.push(c[4]);
        counts.dropped.push(c[5]);
        counts.cost.push(c[6]);
        counts.events.push(c[7]);
        self.counts = [0; 8];
        self.touched.sort_unstable();
        for &a in &self.touched {
            let i = a as usize;
            let m = self.moves.get(i).copied().unwrap_or_default();
            if balances.len() <= i {
                balances.resize(i + 1, 0);
            }
            let balance = balances.get_mut(i).map_or(0, |b| {
                *b = b.saturating_add(m.inflow).saturating_sub(m.outflow);
                *b
            });
            moves.tick.push(t);
            moves.agent_index.push(i32::try_from(a).unwrap_or(i32::MAX));
            moves.outflow.push(m.outflow);
            moves.inflow.push(m.inflow);
            moves.balance.push(balance);
            moves.cost.push(m.cost);
            if let Some(slot) = self.moves.get_mut(i) {
                *slot = Move::default();
            }
            if let Some(s) = self.seen.get_mut(i) {
                *s = false;
            }
        }
        self.touched.clear();
    }
}

/// Does this `ScenarioEventExecuted` move money from `agent` to `counterparty`?
fn is_scenario_transfer(log: &EventLog, seq: u64) -> bool {
    let Some(view) = log.get(seq) else {
        return false;
    };
    let kind = match view.detail(Key::EventType) {
        Some(OwnedVal::Str(s)) => s.as_str(),
        _ => return false,
    };
    match kind {
        "DirectTransfer" => true,
        "ScheduledSettlement" => matches!(view.detail(Key::Settled), Some(OwnedVal::Bool(true))),
        _ => false,
    }
}

fn add(slot: &mut i64, amount: i64) {
    *slot = slot.saturating_add(amount);
}

impl EventLog {
    /// [`TickCounts`] and [`BalanceMoves`] of the retained events with seqs in
    /// `[from_seq, to_seq)` (`to_seq` clamped to `next_seq()`). `balances`
    /// holds each agent's balance (by index) when the range starts and is left
    /// holding them at its end (an agent beyond its length starts at 0). A
    /// tick whose events straddle `to_seq` is split between two calls; callers
    /// ask for whole ticks (the events up to the end of a tick).
    pub fn tick_aggregates(
        &self,
        from_seq: u64,
        to_seq: u64,
        balances: &mut Vec<i64>,
    ) -> Result<(TickCounts, BalanceMoves), EventsReleased> {
        let mut counts = TickCounts::default();
        let mut moves = BalanceMoves::default();
        let mut cur = Current::default();
        let end = to_seq.min(self.next_seq());
        if from_seq >= end {
            self.rows_from(from_seq)?;
            return Ok((counts, moves));
        }
        for r in self.rows_from(from_seq)? {
            if r.seq >= end {
                break;
            }
            if cur.tick != Some(r.tick) {
                cur.flush(&mut counts, &mut moves, balances);
                cur.tick = Some(r.tick);
            }
            self.count(&r, &mut cur);
        }
        cur.flush(&mut counts, &mut moves, balances);
        Ok((counts, moves))
    }

    fn count(&self, r: &EventRow, cur: &mut Current) {
        let amount = r.amount.unwrap_or(0);
        let c = &mut cur.counts;
        c[7] += 1;
        let transfer = match r.ty {
            EventType::Arrival => {
                c[0] += 1;
                false
            }
            t if t.is_settlement_class() => {
                c[1] += 1;
                add(&mut c[2], amount);
                if t == EventType::OffsetSettlement {
                    c[3] += 1;
                }
                true
            }
            EventType::TransactionWentOverdue => {
                c[4] += 1;
                false
            }
            EventType::PolicyDrop => {
                c[5] += 1;
                false
            }
            EventType::CostAccrual => {
                add(&mut c[6], amount);
                if let Some(m) = r.agent.and_then(|a| cur.touch(a)) {
                    add(&mut m.cost, amount);
                }
                false
            }
            EventType::LiquidityAllocation => {
                if let Some(m) = r.agent.and_then(|a| cur.touch(a)) {
                    add(&mut m.inflow, amount);
                }
                false
            }
            EventType::LiquidityReturn => {
                if let Some(m) = r.agent.and_then(|a| cur.touch(a)) {
                    add(&mut m.outflow, amount);
                }
                false
            }
            EventType::ScenarioEventExecuted => is_scenario_transfer(self, r.seq),
            _ => false,
        };
        if transfer {
            if let Some(m) = r.agent.and_then(|a| cur.touch(a)) {
                add(&mut m.outflow, amount);
            }
            if let Some(m) = r.cp.and_then(|a| cur.touch(a)) {
                add(&mut m.inflow, amount);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Val;

    /// Hand-computed aggregates of a small stream (agents 0 = A, 1 = B).
    #[test]
    fn aggregates_by_hand() {
        let mut log = EventLog::new();
        let e = |log: &mut EventLog,
                 tick: u32,
                 ty: EventType,
                 ag: Option<u32>,
                 cp: Option<u32>,
                 amt: Option<i64>,
                 det: &[(Key, Val<'_>)]| {
            log.emit(tick, ty, None, ag, cp, amt, det);
        };
        e(
            &mut log,
            0,
            EventType::AgentOpened,
            Some(0),
            None,
            Some(1000),
            &[],
        );
        e(
            &mut log,
            1,
            EventType::Arrival,
            Some(0),
            Some(1),
            Some(300),
            &[],
        );
        e(
            &mut log,
            1,
            EventType::RtgsImmediateSettlement,
            Some(0),
            Some(1),
            Some(300),
            &[],
        );
        e(
            &mut log,
            2,
            EventType::Queue2LiquidityRelease,
            Some(1),
            Some(0),
            Some(50),
            &[],
        );
        e(
            &mut log,
            2,
            EventType::OffsetSettlement,
            Some(0),
            Some(1),
            Some(20),
            &[],
        );
        e(
            &mut log,
            2,
            EventType::PolicyDrop,
            Some(1),
            None,
            Some(9),
            &[],
        );
        let direct = [(Key::EventType, Val::Str("DirectTransfer"))];
        let unsettled = [
            (Key::EventType, Val::Str("ScheduledSettlement")),
            (Key::Settled, Val::Bool(false)),
        ];
        let settled = [
            (Key::EventType, Val::Str("ScheduledSettlement")),
            (Key::Settled, Val::Bool(true)),
        ];
        e(
            &mut log,
            3,
            EventType::ScenarioEventExecuted,
            Some(1),
            Some(0),
            Some(7),
            &direct,
        );
        e(
            &mut log,
            3,
            EventType::ScenarioEventExecuted,
            Some(1),
            Some(0),
            Some(99),
            &unsettled,
        );
        e(
            &mut log,
            3,
            EventType::ScenarioEventExecuted,
            Some(0),
            Some(1),
            Some(5),
            &settled,
        );
        e(
            &mut log,
            3,
            EventType::LiquidityAllocation,
            Some(1),
            None,
            Some(40),
            &[],
        );
        e(
            &mut log,
            4,
            EventType::LiquidityReturn,
            Some(1),
            None,
            Some(40),
            &[],
        );
        e(
            &mut log,
            4,
            EventType::CostAccrual,
            Some(0),
            None,
            Some(3),
            &[],
        );
        e(
            &mut log,
            4,
            EventType::TransactionWentOverdue,
            Some(0),
            Some(1),
            Some(1),
            &[],
        );

        let mut balances = vec![1000, 500];
        let (c, m) = log
            .tick_aggregates(0, u64::MAX, &mut balances)
            .expect("retained");
        assert_eq!(c.tick, vec![0, 1, 2, 3, 4]);
        assert_eq!(c.arrivals, vec![0, 1, 0, 0, 0]);
        assert_eq!(c.settlements, vec![0, 1, 2, 0, 0]);
        assert_eq!(c.settled_value, vec![0, 300, 70, 0, 0]);
        assert_eq!(c.lsm_settled, vec![0, 0, 1, 0, 0]);
        assert_eq!(c.overdue, vec![0, 0, 0, 0, 1]);
        assert_eq!(c.dropped, vec![0, 0, 1, 0, 0]);
        assert_eq!(c.cost, vec![0, 0, 0, 0, 3]);
        assert_eq!(c.events, vec![1, 2, 3, 4, 3]);
        let rows: Vec<(i64, i32, i64, i64, i64, i64)> = (0..m.tick.len())
            .map(|i| {
                let (o, n, b, c) = (m.outflow[i], m.inflow[i], m.balance[i], m.cost[i]);
                (m.tick[i], m.agent_index[i], o, n, b, c)
            })
            .collect();
        assert_eq!(
            rows,
            vec![
                (1, 0, 300, 0, 700, 0),
                (1, 1, 0, 300, 800, 0),
                (2, 0, 20, 50, 730, 0),
                (2, 1, 50, 20, 770, 0),
                (3, 0, 5, 7, 732, 0),
                (3, 1, 7, 45, 808, 0),
                (4, 0, 0, 0, 732, 3),
                (4, 1, 40, 0, 768, 0),
            ]
        );
        assert_eq!(balances, vec![732, 768]);
        // Ranges chain: ticks 0-1, then 2-3 (seqs 3..10); nothing past the end.
        let mut chained = vec![1000, 500];
        let (_, first) = log.tick_aggregates(0, 3, &mut chained).expect("retained");
        assert_eq!(first.balance, vec![700, 800]);
        let (c, m) = log.tick_aggregates(3, 10, &mut chained).expect("retained");
        assert_eq!(c.tick, vec![2, 3]);
        assert_eq!(m.tick, vec![2, 2, 3, 3]);
        assert_eq!(m.balance, vec![730, 770, 732, 808]);
        // An agent the caller gave no balance for starts at 0.
        let mut short = vec![];
        let (_, m) = log.tick_aggregates(0, 3, &mut short).expect("retained");
        assert_eq!((m.balance, short), (vec![-300, 300], vec![-300, 300]));
        let mut none = vec![];
        assert_eq!(
            log.tick_aggregates(15, 99, &mut none)
                .expect("empty")
                .0
                .tick
                .len(),
            0
        );
        log.release_before(5);
        assert!(log.tick_aggregates(4, 9, &mut none).is_err());
    }
}
