//! Settlement (ENGINE.md §6): the RTGS rule, the one routine that books a settled payment on
//! every path (so deferred crediting, counters and events cannot differ between paths), and the
//! non-blocking queue pass.
//!
//! Settling has two halves. The *money* half moves balances and grows the outflow counters:
//! `transfer` does it per payment for the gross paths (RTGS entry, queue passes), and
//! `offset.rs` does it once per offset group from net positions. The *bookkeeping* half,
//! `book_settled`, is shared by all paths: status, aggregates, the path's settlement event,
//! `OverdueTransactionSettled`, split-parent bookkeeping and retirement.

use super::offset::Mechanism;
use super::Engine;
use crate::events::{EventType, Key, Val};
use crate::state::{Location, Slot, Status};

/// Why a payment could not settle, in the order the checks run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    BilateralLimit { outflow: i64, limit: i64 },
    MultilateralLimit { outflow: i64, limit: i64 },
    InsufficientLiquidity,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::BilateralLimit { .. } => "bilateral_limit",
            Refusal::MultilateralLimit { .. } => "multilateral_limit",
            Refusal::InsufficientLiquidity => "insufficient_liquidity",
        }
    }
}

/// The settlement path, which decides the settlement-class event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    Rtgs,
    QueuePass {
        lsm_retry: bool,
    },
    /// A member of an offset group; `group_seq` is the seq of the group's summary event, so
    /// each payment's `OffsetSettlement` points at the group it settled in.
    Offset {
        mechanism: Mechanism,
        group_seq: u64,
    },
}

impl Engine {
    /// The limit checks of §3.4 for a gross outflow of `x` from `s` to `r`.
    pub(super) fn limits_allow(&self, s: u32, r: u32, x: i64) -> Result<(), Refusal> {
        let a = &self.st.agents[s as usize];
        if let Some(limit) = a.bilateral_limits.get(&r) {
            let outflow = a.out_to.get(&r).copied().unwrap_or(0);
            if outflow.saturating_add(x) > *limit {
                return Err(Refusal::BilateralLimit {
                    outflow,
                    limit: *limit,
                });
            }
        }
        if let Some(limit) = a.multilateral_limit {
            if a.out_total.saturating_add(x) > limit {
                return Err(Refusal::MultilateralLimit {
                    outflow: a.out_total,
                    limit,
                });
            }
        }
        Ok(())
    }

    /// The RTGS rule (§6.1): bilateral limit, multilateral limit, then liquidity.
    pub(super) fn rtgs_check(&self, s: u32, r: u32, x: i64) -> Result<(), Refusal> {
        self.limits_allow(s, r, x)?;
        if !self.st.agents[s as usize].can_pay(x) {
            return Err(Refusal::InsufficientLiquidity);
        }
        Ok(())
    }

    /// Moves `x` from `s` to `r` (honouring deferred crediting) and grows the outflow counters.
    pub(super) fn transfer(&mut self, s: u32, r: u32, x: i64) {
        let a = &mut self.st.agents[s as usize];
        a.balance = a.balance.saturating_sub(x);
        self.count_outflow(s, r, x);
        self.credit(r, x);
    }

    /// Grows `s`'s gross outflow counters by `x`: limits count gross outflows on every path,
    /// offsets included, whatever the net effect on the balance.
    pub(super) fn count_outflow(&mut self, s: u32, r: u32, x: i64) {
        let a = &mut self.st.agents[s as usize];
        if !a.bilateral_limits.is_empty() {
            *a.out_to.entry(r).or_insert(0) += x;
        }
        a.out_total = a.out_total.saturating_add(x);
    }

    /// Credits `x` to `r`: at once, or as one pending credit under deferred crediting (§6.2),
    /// so that funds received in a tick cannot be spent before its S13.
    pub(super) fn credit(&mut self, r: u32, x: i64) {
        let b = &mut self.st.agents[r as usize];
        if self.setup.cfg.settlement.deferred_crediting {
            b.pending_credit = b.pending_credit.saturating_add(x);
            b.pending_credit_sources += 1;
        } else {
            b.balance = b.balance.saturating_add(x);
        }
    }

    /// Settles a payment that the caller has already taken out of its queue and checked:
    /// moves its gross amount, then books it.
    pub(super) fn settle(&mut self, slot: Slot, path: Path) {
        let Some(p) = self.st.payments.get(slot) else {
            return;
        };
        let (s, r, x) = (p.sender, p.receiver, p.remaining);
        self.transfer(s, r, x);
        self.book_settled(slot, path);
    }

    /// The bookkeeping of a settled payment whose money has already moved: emits the path's
    /// settlement event, then `OverdueTransactionSettled` and `SplitParentSettled` when they
    /// apply, and retires finished payments.
    pub(super) fn book_settled(&mut self, slot: Slot, path: Path) {
        let t = self.st.tick;
        let Some(p) = self.st.payments.get(slot) else {
            return;
        };
        let (key, s, r, x, class, status, deadline, parent, queued_at, arrival) = (
            p.key,
            p.sender,
            p.receiver,
            p.remaining,
            p.class(),
            p.status,
            p.deadline,
            p.parent,
            p.queued_at,
            p.arrival,
        );
        self.note_settled(s, r, x);
        let deferred = self.setup.cfg.settlement.deferred_crediting;
        {
            let a = &mut self.st.agents[s as usize];
            a.delay_sums[class] -= x;
        }
        if let Some(p) = self.st.payments.get_mut(slot) {
            p.remaining = 0;
            p.status = Status::Settled { tick: t };
            p.location = Location::None;
        }
        let balance_after = self.st.agents[s as usize].balance;
        match path {
            Path::Rtgs => {
                self.emit(
                    EventType::RtgsImmediateSettlement,
                    Some(key),
                    Some(s),
                    Some(r),
                    Some(x),
                    &[
                        (Key::SenderBalanceAfter, Val::I64(balance_after)),
                        (Key::Deferred, Val::Bool(deferred)),
                    ],
                );
            }
            Path::QueuePass { lsm_retry } => {
                self.emit(
                    EventType::Queue2LiquidityRelease,
                    Some(key),
                    Some(s),
                    Some(r),
                    Some(x),
                    &[
                        (
                            Key::QueueWaitTicks,
                            Val::U64(u64::from(t - queued_at.min(t))),
                        ),
                        (
                            Key::Pass,
                            Val::Str(if lsm_retry { "lsm_retry" } else { "queue" }),
                        ),
                        (Key::Deferred, Val::Bool(deferred)),
                    ],
                );
            }
            Path::Offset {
                mechanism,
                group_seq,
            } => {
                let m = &mut self.st.metrics;
                m.lsm_settled += 1;
                if mechanism == Mechanism::Entry {
                    m.entry_offsets += 1;
                }
                self.tick_lsm += 1;
                self.emit(
                    EventType::OffsetSettlement,
                    Some(key),
                    Some(s),
                    Some(r),
                    Some(x),
                    &[
                        (Key::Mechanism, Val::Str(mechanism.as_str())),
                        (Key::GroupSeq, Val::U64(group_seq)),
                        (Key::Deferred, Val::Bool(deferred)),
                    ],
                );
            }
        }
        if let Status::Overdue { since } = status {
            self.emit(
                EventType::OverdueTransactionSettled,
                Some(key),
                Some(s),
                Some(r),
                Some(x),
                &[
                    (Key::DeadlineTick, Val::U64(u64::from(deadline))),
                    (Key::OverdueSince, Val::U64(u64::from(since))),
                    (
                        Key::TicksLate,
                        Val::U64(u64::from(t.saturating_sub(deadline))),
                    ),
                ],
            );
        }
        match parent {
            None => {
                self.count_original_settled(s, r, x, arrival);
                self.retire(slot);
            }
            Some(ps) => {
                self.retire(slot);
                self.child_finished(ps, false, x);
            }
        }
    }

    /// Today's counters behind the throughput and received-from fields.
    pub(super) fn note_settled(&mut self, s: u32, r: u32, x: i64) {
        let d = &mut self.st.day_settled[s as usize];
        *d = d.saturating_add(x);
        let out = &mut self.st.agents[s as usize].net_out;
        *out = out.saturating_add(x);
        let inc = &mut self.st.agents[r as usize].net_out;
        *inc = inc.saturating_sub(x);
        let e = self.st.received_today.entry((r, s)).or_insert(0);
        *e = e.saturating_add(x);
    }

    /// Counts an original payment (or split family) that arrived at tick `arrival` and
    /// settled now, with its settlement delay in ticks.
    fn count_original_settled(&mut self, s: u32, r: u32, amount: i64, arrival: u32) {
        let delay = u64::from(self.st.tick.saturating_sub(arrival));
        let m = &mut self.st.metrics;
        m.settled += 1;
        m.settled_value = m.settled_value.saturating_add(amount);
        m.settlement_delay = m.settlement_delay.saturating_add(delay);
        let a = &mut self.st.agents[s as usize];
        a.settled_sent += 1;
        a.settlement_delay = a.settlement_delay.saturating_add(delay);
        self.st.agents[r as usize].received += 1;
        self.tick_settled += 1;
    }

    /// Bookkeeping of a split parent when one of its pieces settles or is dropped.
    pub(super) fn child_finished(&mut self, parent: Slot, dropped: bool, amount: i64) {
        let t = self.st.tick;
        let Some(p) = self.st.payments.get_mut(parent) else {
            return;
        };
        p.live_children = p.live_children.saturating_sub(1);
        p.remaining = p.remaining.saturating_sub(amount);
        p.child_dropped |= dropped;
        if p.live_children > 0 {
            return;
        }
        let (key, s, r, amount, n, any_dropped, arrival) = (
            p.key,
            p.sender,
            p.receiver,
            p.amount,
            p.num_children,
            p.child_dropped,
            p.arrival,
        );
        if any_dropped {
            p.status = Status::Dropped { tick: t };
            self.st.metrics.dropped += 1;
            self.st.agents[s as usize].dropped += 1;
        } else {
            p.status = Status::Settled { tick: t };
            self.emit(
                EventType::SplitParentSettled,
                Some(key),
                Some(s),
                Some(r),
                Some(amount),
                &[(Key::NumChildren, Val::U64(u64::from(n)))],
            );
            self.count_original_settled(s, r, amount, arrival);
        }
        self.retire(parent);
    }

    /// One non-blocking pass over Q2 in Q2 order (§6.3). Under `algorithm_sequencing` every
    /// queue pass, S10's included, is one algorithm run and reports itself (§7.3); emitting
    /// here keeps the tick loop unaware of sequencing.
    pub(super) fn queue_pass(&mut self, lsm_retry: bool) -> (u64, i64) {
        let mut keys = std::mem::take(&mut self.scratch.q2_keys);
        keys.clear();
        keys.extend(self.st.q2.iter().map(|(k, s)| (*k, *s)));
        let (mut count, mut value) = (0u64, 0i64);
        for (_, slot) in keys.iter().copied() {
            let Some(p) = self.st.payments.get(slot) else {
                continue;
            };
            let (s, r, x) = (p.sender, p.receiver, p.remaining);
            if self.rtgs_check(s, r, x).is_ok() {
                self.q2_remove(slot);
                self.settle(slot, Path::QueuePass { lsm_retry });
                count += 1;
                value = value.saturating_add(x);
            }
        }
        self.scratch.q2_keys = keys;
        if self.setup.cfg.settlement.algorithm_sequencing {
            self.emit_algorithm_execution("queue", count, value);
        }
        (count, value)
    }
}
