//! One tick, in the order of ENGINE.md §5.2 (S1–S16).

use super::decisions::Layer;
use super::{Engine, TickSummary};
use crate::costs::CostComponent;
use crate::error::{EngineError, EngineResult};
use crate::events::{EventType, Key, Val};
use crate::state::{Location, Source, Status};

impl Engine {
    /// Processes `current_tick`, then advances it. A policy evaluation failure (under
    /// `on_policy_error: fail`) or an arithmetic overflow fails the engine: later ticks and
    /// checkpoints are refused with the original error, queries still work.
    pub fn tick(&mut self) -> EngineResult<TickSummary> {
        let result = self.tick_inner();
        if let Err(e) = &result {
            if matches!(
                e,
                EngineError::PolicyEvaluation(_) | EngineError::Overflow { .. }
            ) {
                self.st.failed = Some(e.to_string());
                self.failed_error = Some(e.clone());
            }
        }
        result
    }

    fn tick_inner(&mut self) -> EngineResult<TickSummary> {
        if let Some(e) = &self.failed_error {
            return Err(EngineError::EngineFailed(Box::new(e.clone())));
        }
        if self.done() {
            return Err(EngineError::EpisodeComplete {
                total_ticks: self.setup.total_ticks,
            });
        }
        let first_seq = self.st.next_event_seq;
        self.tick_settled = 0;
        self.tick_lsm = 0;
        self.tick_arrivals = 0;
        let t = self.st.tick;
        let tpd = self.setup.tpd;
        let within = t % tpd;
        if within == 0 {
            self.start_of_day();
        }
        self.scenario_events()?;
        self.generate_arrivals();
        self.ingest_injected();
        self.collateral_layer(Layer::Strategic)?;
        self.bank_step()?;
        self.collateral_timers();
        self.q1_pass()?;
        self.q2_policy_pass();
        self.rtgs_entry();
        self.queue_pass(false);
        self.lsm_step();
        self.collateral_layer(Layer::EndOfTick)?;
        self.apply_deferred_credits();
        let cost = self.costs_and_overdue();
        if within == tpd - 1 {
            self.end_of_day();
        }
        let (mut q1, mut q2) = (0u64, 0u64);
        for a in self.st.agents.iter_mut() {
            a.min_balance = a.min_balance.min(a.balance);
            a.peak_net_debit = a.peak_net_debit.max(a.net_out);
            q1 += u64::from(a.q1_count);
            q2 += u64::from(a.q2_count);
            let used = crate::liquidity::credit_used(a.balance);
            if used > self.st.metrics.peak_overdraft {
                self.st.metrics.peak_overdraft = used;
            }
        }
        self.st.lsm_bits = (self.st.lsm_bits << 1) | u16::from(self.tick_lsm > 0);
        self.st.tick += 1;
        Ok(TickSummary {
            tick: t,
            arrivals: self.tick_arrivals,
            settled: self.tick_settled,
            lsm_settled: self.tick_lsm,
            q1_size: q1,
            q2_size: q2,
            cost,
            events: self.st.next_event_seq - first_seq,
        })
    }

    /// S1: open the day's cost buckets and bring in pool liquidity (§3.3).
    fn start_of_day(&mut self) {
        let t = self.st.tick;
        let day = t / self.setup.tpd;
        let realloc = self.setup.cfg.settlement.daily_liquidity_reallocation;
        self.st.received_today.clear();
        for i in 0..self.st.agents.len() {
            self.st.agents[i].costs.open_day(day as usize);
            let a = &self.st.agents[i];
            self.st.day_due[i] = a.q1_value.saturating_add(a.q2_value);
            self.st.day_settled[i] = 0;
            let a = &self.st.agents[i];
            if a.pool <= 0 || (day > 0 && !realloc) {
                continue;
            }
            let f = self.st.policies[a.policy as usize]
                .initial_liquidity_fraction
                .unwrap_or(a.alloc_fraction);
            let big_f = libm::round(f * 1e9) as i128;
            let alloc = (i128::from(a.pool) * big_f / 1_000_000_000) as i64;
            let a = &mut self.st.agents[i];
            a.balance = a.balance.saturating_add(alloc);
            a.allocated = alloc;
            let bal = a.balance;
            self.emit(
                EventType::LiquidityAllocation,
                None,
                Some(i as u32),
                None,
                Some(alloc),
                &[
                    (Key::Day, Val::U64(u64::from(day))),
                    (Key::Fraction, Val::F64(f)),
                    (Key::BalanceAfter, Val::I64(bal)),
                ],
            );
        }
    }

    /// S3 (generated part).
    fn generate_arrivals(&mut self) {
        let t = self.st.tick;
        let within = t % self.setup.tpd;
        let mut draws = std::mem::take(&mut self.scratch.draws);
        draws.clear();
        self.st.arrivals.generate(within, &mut draws);
        for d in draws.iter() {
            let deadline = self.cap_deadline(t, u64::from(t) + u64::from(d.deadline_offset));
            self.arrive(super::lifecycle::NewPayment {
                sender: d.sender,
                receiver: d.receiver,
                amount: d.amount,
                deadline,
                priority: d.priority,
                divisible: d.divisible,
                rtgs: crate::config::RtgsPriority::Normal,
                source: Source::Generated,
            });
        }
        self.scratch.draws = draws;
    }

    /// S3 (injected part): records for this tick, in injection order.
    fn ingest_injected(&mut self) {
        let t = self.st.tick;
        let Some(batch) = self.st.injected.remove(&t) else {
            return;
        };
        for r in batch {
            let deadline = self.cap_deadline(t, u64::from(r.deadline));
            self.arrive(super::lifecycle::NewPayment {
                sender: r.sender,
                receiver: r.receiver,
                amount: r.amount,
                deadline,
                priority: r.priority,
                divisible: r.divisible,
                rtgs: r.rtgs_priority,
                source: Source::Injected,
            });
        }
    }

    /// S6: collateral timers due now, per agent in creation order (§3.5).
    fn collateral_timers(&mut self) {
        let t = self.st.tick;
        for i in 0..self.st.agents.len() {
            let Some(timers) = self.st.agents[i].timers.remove(&t) else {
                continue;
            };
            for timer in timers {
                let a = &self.st.agents[i];
                let withdrawable = crate::liquidity::max_withdrawable(
                    a.posted_collateral,
                    a.balance,
                    a.unsecured_cap,
                    a.k,
                );
                let applied = timer
                    .amount
                    .min(a.posted_collateral)
                    .min(withdrawable)
                    .max(0);
                let a = &mut self.st.agents[i];
                a.posted_collateral -= applied;
                let new_total = a.posted_collateral;
                let ty = if applied > 0 {
                    EventType::CollateralTimerWithdrawn
                } else {
                    EventType::CollateralTimerBlocked
                };
                self.emit(
                    ty,
                    None,
                    Some(i as u32),
                    None,
                    Some(applied),
                    &[
                        (Key::Requested, Val::I64(timer.amount)),
                        (Key::OriginalReason, Val::Str(&timer.reason)),
                        (Key::PostedAt, Val::U64(u64::from(timer.posted_at))),
                        (Key::NewTotal, Val::I64(new_total)),
                    ],
                );
            }
        }
    }

    /// S7(a): linear priority escalation for payments in Q1 (scheduled split pieces waiting
    /// in `Q1Scheduled` included, ENGINE.md §5.1: they count in Q1 aggregates and delay costs
    /// like any Q1 payment) or Q2, in id order.
    pub(super) fn escalate(&mut self) {
        let esc = &self.setup.cfg.settlement.priority_escalation;
        if !esc.enabled {
            return;
        }
        let (s_ticks, max_boost) = (esc.start_escalating_at_ticks, u32::from(esc.max_boost));
        let t = self.st.tick;
        let mut live: Vec<(u64, crate::state::Slot)> = self
            .st
            .payments
            .iter()
            .filter(|(_, p)| {
                matches!(
                    p.location,
                    Location::Q1 | Location::Q1Scheduled { .. } | Location::Q2
                )
            })
            .map(|(s, p)| (p.creation, s))
            .collect();
        live.sort_unstable();
        for (_, slot) in live {
            let Some(p) = self.st.payments.get(slot) else {
                continue;
            };
            let r = p.deadline.saturating_sub(t);
            if r > s_ticks {
                continue;
            }
            let boost = if s_ticks == 0 {
                max_boost
            } else {
                (2 * max_boost * (s_ticks - r) + s_ticks) / (2 * s_ticks)
            };
            let new = (u32::from(p.base_priority) + boost).min(10) as u8;
            if new > p.priority {
                let (key, sender, old) = (p.key, p.sender, p.priority);
                self.set_priority(slot, new, false);
                self.emit(
                    EventType::PriorityEscalated,
                    Some(key),
                    Some(sender),
                    None,
                    None,
                    &[
                        (Key::OldPriority, Val::U64(u64::from(old))),
                        (Key::NewPriority, Val::U64(u64::from(new))),
                        (Key::TicksToDeadline, Val::U64(u64::from(r))),
                    ],
                );
            }
        }
    }

    /// S13: credit each receiver its pending sum, in agent order.
    fn apply_deferred_credits(&mut self) {
        if !self.setup.cfg.settlement.deferred_crediting {
            return;
        }
        for i in 0..self.st.agents.len() {
            let a = &mut self.st.agents[i];
            if a.pending_credit_sources == 0 {
                continue;
            }
            let (sum, n) = (a.pending_credit, a.pending_credit_sources);
            a.balance = a.balance.saturating_add(sum);
            a.pending_credit = 0;
            a.pending_credit_sources = 0;
            self.emit(
                EventType::DeferredCreditApplied,
                None,
                Some(i as u32),
                None,
                Some(sum),
                &[(Key::SourceCount, Val::U64(u64::from(n)))],
            );
        }
    }

    /// S14: per agent, in agent order: per-tick costs, overdue marking with deadline penalties,
    /// on the EOD tick the EOD penalties, then one `CostAccrual`. Returns the total booked this
    /// tick over all agents.
    ///
    /// The EOD penalties of an agent are computed *after* its payments due this tick have been
    /// marked overdue, so a payment due on the EOD tick and still unsettled pays that day's EOD
    /// penalty (ENGINE.md §2, §5.2 S14, §8.3 "marked this tick or before"). Marking one agent's
    /// payments never changes another agent's penalties (a split family has one sender), so
    /// the per-agent order of events is kept.
    fn costs_and_overdue(&mut self) -> i64 {
        let t = self.st.tick;
        let eod = t % self.setup.tpd == self.setup.tpd - 1;
        let setup = std::sync::Arc::clone(&self.setup);
        let cm = &setup.costs;
        // Payments due now, grouped by sender, each group in id (creation) order.
        let mut due = self.st.deadlines.remove(&t).unwrap_or_default();
        due.retain(|(slot, creation)| {
            self.st.payments.get(*slot).is_some_and(|p| {
                p.creation == *creation
                    && p.status == Status::Pending
                    && p.live_children == 0
                    && p.num_children == 0
            })
        });
        due.sort_unstable_by_key(|(slot, creation)| {
            (
                self.st.payments.get(*slot).map(|p| p.sender).unwrap_or(0),
                *creation,
            )
        });
        let eod_leaves = if eod {
            self.live_leaves_by_sender()
        } else {
            Vec::new()
        };
        let mut total = 0i64;
        let (mut di, mut li) = (0, 0);
        for i in 0..self.st.agents.len() {
            let a = &mut self.st.agents[i];
            let over = cm.overdraft_cost(a.balance);
            let coll = cm.collateral_cost(a.posted_collateral);
            let liq = cm.liquidity_cost(a.allocated);
            let delay = cm.delay_cost(&a.delay_sums);
            a.costs.book(CostComponent::Overdraft, over);
            a.costs.book(CostComponent::Collateral, coll);
            a.costs.book(CostComponent::Liquidity, liq);
            a.costs.book(CostComponent::Delay, delay);
            while di < due.len() {
                let (slot, _) = due[di];
                let Some(p) = self.st.payments.get(slot) else {
                    di += 1;
                    continue;
                };
                if p.sender as usize != i {
                    break;
                }
                di += 1;
                self.mark_overdue(slot);
            }
            if eod {
                let start = li;
                while li < eod_leaves.len() && eod_leaves[li].0 as usize == i {
                    li += 1;
                }
                let charge = self.eod_penalty_of(&eod_leaves[start..li]);
                self.st.agents[i]
                    .costs
                    .book(CostComponent::EodPenalty, charge);
            }
            let booked = self.st.agents[i].costs.take_tick();
            let sum = booked[crate::costs::TOTAL_INDEX];
            if sum > 0 {
                total = total.saturating_add(sum);
                let details: Vec<(Key, Val<'_>)> = CostComponent::ALL
                    .iter()
                    .map(|c| (cost_key(*c), Val::I64(booked[c.index()])))
                    .collect();
                self.emit(
                    EventType::CostAccrual,
                    None,
                    Some(i as u32),
                    None,
                    Some(sum),
                    &details,
                );
            }
        }
        total
    }

    /// Marks one leaf overdue and charges its deadline penalty once per original payment.
    fn mark_overdue(&mut self, slot: crate::state::Slot) {
        let t = self.st.tick;
        let Some(p) = self.st.payments.get(slot) else {
            return;
        };
        let (key, s, r, rem, amount, old_class, charged, parent) = (
            p.key,
            p.sender,
            p.receiver,
            p.remaining,
            p.amount,
            p.class(),
            p.deadline_penalty_charged,
            p.parent,
        );
        // Fixed penalties are charged once per original payment: a piece pays only if its
        // family has not; rate penalties apply to each piece's own amount.
        let fixed = matches!(self.setup.costs.deadline(), crate::costs::Penalty::Fixed(_));
        let family_charged = match parent {
            Some(ps) if fixed => {
                let p = self.st.payments.get_mut(ps);
                let was = p.as_ref().is_some_and(|p| p.deadline_penalty_charged);
                if let Some(p) = p {
                    p.deadline_penalty_charged = true;
                }
                was
            }
            _ => false,
        };
        let cm_pen = if charged || family_charged {
            0
        } else {
            self.setup.costs.deadline_penalty(amount)
        };
        if let Some(p) = self.st.payments.get_mut(slot) {
            p.status = Status::Overdue { since: t };
            p.deadline_penalty_charged = true;
        }
        let new_class = self
            .st
            .payments
            .get(slot)
            .map(|p| p.class())
            .unwrap_or(old_class);
        let a = &mut self.st.agents[s as usize];
        a.delay_sums[old_class] -= rem;
        a.delay_sums[new_class] += rem;
        a.costs.book(CostComponent::DeadlinePenalty, cm_pen);
        self.count_overdue_original(slot, parent);
        let deadline = self.st.payments.get(slot).map(|p| p.deadline).unwrap_or(t);
        self.emit(
            EventType::TransactionWentOverdue,
            Some(key),
            Some(s),
            Some(r),
            Some(rem),
            &[
                (Key::DeadlineTick, Val::U64(u64::from(deadline))),
                (Key::DeadlinePenalty, Val::I64(cm_pen)),
            ],
        );
    }

    /// Counts an original payment in the run summary's `overdue` the first time it (or one of
    /// its pieces) goes overdue.
    fn count_overdue_original(
        &mut self,
        slot: crate::state::Slot,
        parent: Option<crate::state::Slot>,
    ) {
        let target = parent.unwrap_or(slot);
        if let Some(p) = self.st.payments.get_mut(target) {
            if !p.counted_overdue {
                p.counted_overdue = true;
                if parent.is_some() {
                    p.status = match p.status {
                        Status::Pending => Status::Overdue {
                            since: self.st.tick,
                        },
                        s => s,
                    };
                }
                self.st.metrics.overdue += 1;
            }
        }
    }

    /// Every unfinished leaf payment as `(sender, slot)`, grouped by sender in agent order and,
    /// within a sender, in key order (so the pieces of a split family are adjacent). Taken at
    /// the start of the EOD tick's S14; the overdue status is read later, after marking.
    fn live_leaves_by_sender(&self) -> Vec<(u32, crate::state::Slot)> {
        let mut leaves: Vec<(u32, crate::state::Slot)> = self
            .st
            .payments
            .iter()
            .filter(|(_, p)| p.num_children == 0 && !p.is_finished())
            .map(|(slot, p)| (p.sender, slot))
            .collect();
        // Stable: key order is kept within a sender.
        leaves.sort_by_key(|(sender, _)| *sender);
        leaves
    }

    /// The EOD penalty of one agent's leaves (§8.3): every one that is overdue now pays;
    /// a fixed penalty once per original payment (a split family pays one), a rate penalty on
    /// each overdue piece's remaining amount.
    fn eod_penalty_of(&self, leaves: &[(u32, crate::state::Slot)]) -> i64 {
        let cm = &self.setup.costs;
        let fixed = matches!(cm.eod(), crate::costs::Penalty::Fixed(_));
        let mut total = 0i64;
        let mut last_family = None;
        for (_, slot) in leaves {
            let Some(p) = self.st.payments.get(*slot) else {
                continue;
            };
            if !p.is_overdue() {
                continue;
            }
            let family = p.key >> 8;
            if fixed && last_family == Some(family) {
                continue;
            }
            last_family = Some(family);
            total = total.saturating_add(cm.eod_penalty(p.remaining));
        }
        total
    }

    /// S15: registers cleared, outflow counters reset, pool liquidity returned, `EndOfDay`.
    fn end_of_day(&mut self) {
        let t = self.st.tick;
        let day = t / self.setup.tpd;
        let realloc = self.setup.cfg.settlement.daily_liquidity_reallocation;
        for i in 0..self.st.agents.len() {
            let regs = std::mem::take(&mut self.st.agents[i].registers);
            for (k, v) in regs.iter() {
                if *v != 0.0 {
                    self.emit(
                        EventType::StateRegisterSet,
                        None,
                        Some(i as u32),
                        None,
                        None,
                        &[
                            (Key::RegisterKey, Val::Str(k)),
                            (Key::OldValue, Val::F64(*v)),
                            (Key::NewValue, Val::F64(0.0)),
                            (Key::Reason, Val::Str("eod_reset")),
                        ],
                    );
                }
            }
            let a = &mut self.st.agents[i];
            a.out_to.clear();
            a.out_total = 0;
            if realloc && a.allocated > 0 {
                let amt = a.allocated;
                a.balance = a.balance.saturating_sub(amt);
                a.allocated = 0;
                let bal = a.balance;
                self.emit(
                    EventType::LiquidityReturn,
                    None,
                    Some(i as u32),
                    None,
                    Some(amt),
                    &[
                        (Key::Day, Val::U64(u64::from(day))),
                        (Key::BalanceAfter, Val::I64(bal)),
                    ],
                );
            }
        }
        let (mut count, mut value, mut overdue) = (0u64, 0i64, 0u64);
        for (_, p) in self.st.payments.iter() {
            if p.num_children > 0 || p.is_finished() {
                continue;
            }
            count += 1;
            value = value.saturating_add(p.remaining);
            if p.is_overdue() {
                overdue += 1;
            }
        }
        let day_cost: i64 = self
            .st
            .agents
            .iter()
            .map(|a| {
                a.costs
                    .day(day as usize)
                    .map(|d| d[crate::costs::TOTAL_INDEX])
                    .unwrap_or(0)
            })
            .fold(0i64, |x, y| x.saturating_add(y));
        self.emit(
            EventType::EndOfDay,
            None,
            None,
            None,
            None,
            &[
                (Key::Day, Val::U64(u64::from(day))),
                (Key::UnsettledCount, Val::U64(count)),
                (Key::UnsettledValue, Val::I64(value)),
                (Key::OverdueCount, Val::U64(overdue)),
                (Key::DayCost, Val::I64(day_cost)),
            ],
        );
    }
}

fn cost_key(c: CostComponent) -> Key {
    match c {
        CostComponent::Overdraft => Key::Overdraft,
        CostComponent::Delay => Key::Delay,
        CostComponent::Collateral => Key::Collateral,
        CostComponent::Liquidity => Key::Liquidity,
        CostComponent::DeadlinePenalty => Key::DeadlinePenalty,
        CostComponent::EodPenalty => Key::EodPenalty,
        CostComponent::DropPenalty => Key::DropPenalty,
        CostComponent::SplitFriction => Key::SplitFriction,
    }
}
