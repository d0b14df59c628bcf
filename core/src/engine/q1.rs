//! S7 and S8: payment-tree decisions and their application (ENGINE.md §5.3, §4.3, §3.4).
//!
//! Decisions for every agent are taken first, against one snapshot of the state; only then are
//! they applied, agent by agent in Q1 order. That makes evaluation order irrelevant (and lets the
//! policy language evaluate in parallel later) while application stays sequential.

use super::decisions::{PaymentAction, PaymentInfo};
use super::lifecycle::NewPayment;
use super::policy_eval::Outcome;
use super::Engine;
use crate::config::RtgsPriority;
use crate::costs::CostComponent;
use crate::error::EngineResult;
use crate::events::{EventType, Key, Val};
use crate::state::{Location, Slot, Source, Status};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DecisionSource {
    Scripted,
    Policy,
    Baseline,
}

const RELEASE: PaymentAction = PaymentAction::Release {
    priority_flag: None,
    timed_for_tick: None,
    rtgs_priority: None,
};

impl Engine {
    pub(super) fn payment_info(&self, slot: Slot) -> Option<PaymentInfo> {
        let p = self.st.payments.get(slot)?;
        let mut tx_id = String::new();
        crate::state::tx_id_of(p.key, &mut tx_id);
        Some(PaymentInfo {
            tx_id,
            sender: p.sender,
            receiver: p.receiver,
            amount: p.amount,
            remaining: p.remaining,
            arrival_tick: p.arrival,
            deadline_tick: p.deadline,
            priority: p.priority,
            divisible: p.divisible,
            is_split: p.parent.is_some(),
            is_overdue: p.is_overdue(),
            in_queue2: p.location == Location::Q2,
            rtgs_priority: p.rtgs,
        })
    }

    /// Which source decides an agent's payments.
    fn payment_source(&self, agent: usize) -> DecisionSource {
        if self.deciders.get(agent).is_some_and(Option::is_some) {
            DecisionSource::Scripted
        } else if self
            .compiled
            .get(agent)
            .is_some_and(|c| c.has_tree(crate::policy::Tree::Payment))
        {
            DecisionSource::Policy
        } else {
            DecisionSource::Baseline
        }
    }

    /// S7: escalation and ordering, decisions against the snapshot, then application.
    pub(super) fn q1_pass(&mut self) -> EngineResult<()> {
        let t = self.st.tick;
        self.escalate();
        // (c)+(d): every decision is taken before any is applied.
        let mut decisions: Vec<(u32, Slot, PaymentAction, Vec<String>)> = Vec::new();
        let mut slots = std::mem::take(&mut self.scratch.slots);
        let aggs = self.phase_aggs(self.needs_pass(crate::policy::Tree::Payment));
        let mut constant: Vec<Option<(PaymentAction, Vec<String>)>> =
            vec![None; self.st.agents.len()];
        for i in 0..self.st.agents.len() {
            if self.st.agents[i].in_outage(t) {
                continue;
            }
            let source = self.payment_source(i);
            if source == DecisionSource::Baseline {
                continue;
            }
            if source == DecisionSource::Policy && !self.st.q1[i].is_empty() {
                if let Some(d) = self.dsl_payment_for_agent(i as u32, &aggs) {
                    if let Some(c) = constant.get_mut(i) {
                        *c = Some(d);
                    }
                    continue;
                }
            }
            slots.clear();
            slots.extend(self.st.q1[i].values().copied());
            for slot in slots.iter().copied() {
                match source {
                    DecisionSource::Scripted => {
                        let Some(info) = self.payment_info(slot) else {
                            continue;
                        };
                        if let Some(d) = self.deciders.get_mut(i).and_then(Option::as_mut) {
                            decisions.push((i as u32, slot, d.payment(t, &info), Vec::new()));
                        }
                    }
                    DecisionSource::Policy => {
                        if let Outcome::Decided((action, path)) =
                            self.dsl_payment(i as u32, slot, false, &aggs)?
                        {
                            decisions.push((i as u32, slot, action, path));
                        }
                    }
                    DecisionSource::Baseline => {}
                }
            }
        }
        // S8's decisions come from the same snapshot; they are applied after S7.
        let q2_decisions = self.q2_decide(&aggs)?;
        // (e): per agent, due staggered pieces, then decisions in Q1 order.
        let mut release = std::mem::take(&mut self.scratch.release);
        release.clear();
        let mut next = 0;
        for i in 0..self.st.agents.len() {
            if self.st.agents[i].in_outage(t) {
                continue;
            }
            slots.clear();
            slots.extend(
                self.st.scheduled[i]
                    .range(..=(t, u64::MAX))
                    .map(|(_, s)| *s),
            );
            for slot in slots.iter().copied() {
                self.schedule_remove(slot);
                self.push_release(slot, true, &mut release);
            }
            if self.payment_source(i) == DecisionSource::Baseline {
                // An absent payment tree releases every unscheduled Q1 payment, in Q1 order.
                slots.clear();
                slots.extend(self.st.q1[i].values().copied());
                for slot in slots.iter().copied() {
                    self.apply_payment_action(slot, RELEASE, &mut release);
                }
                continue;
            }
            if let Some((action, path)) = constant.get_mut(i).and_then(Option::take) {
                slots.clear();
                slots.extend(self.st.q1[i].values().copied());
                for slot in slots.iter().copied() {
                    self.decision_path.clone_from(&path);
                    self.apply_payment_action(slot, action.clone(), &mut release);
                }
                self.decision_path.clear();
                continue;
            }
            while next < decisions.len() && decisions[next].0 as usize == i {
                let (_, slot, action, path) = std::mem::replace(
                    &mut decisions[next],
                    (0, 0, PaymentAction::Drop, Vec::new()),
                );
                next += 1;
                self.decision_path = path;
                self.apply_payment_action(slot, action, &mut release);
                self.decision_path.clear();
            }
        }
        self.scratch.slots = slots;
        self.scratch.release = release;
        self.pending_q2 = q2_decisions;
        Ok(())
    }

    fn hold(&mut self, slot: Slot, reason: &str) {
        let Some(p) = self.st.payments.get(slot) else {
            return;
        };
        let (key, s) = (p.key, p.sender);
        self.emit_policy(
            EventType::PolicyHold,
            Some(key),
            Some(s),
            None,
            None,
            &[(Key::Reason, Val::Str(reason))],
        );
    }

    fn reprioritize(&mut self, slot: Slot, new: u8) {
        let Some(p) = self.st.payments.get(slot) else {
            return;
        };
        let (key, s, old) = (p.key, p.sender, p.priority);
        let new = new.min(10);
        self.set_priority(slot, new, true);
        if old != new {
            self.emit_policy(
                EventType::TransactionReprioritized,
                Some(key),
                Some(s),
                None,
                None,
                &[
                    (Key::OldPriority, Val::U64(u64::from(old))),
                    (Key::NewPriority, Val::U64(u64::from(new))),
                ],
            );
        }
    }

    /// The release budget check of §3.4; books the usage when it passes.
    fn budget_allows(&mut self, sender: u32, receiver: u32, x: i64) -> bool {
        let Some(b) = self.st.agents[sender as usize].budget.as_mut() else {
            return true;
        };
        if x > b.remaining {
            return false;
        }
        if let Some(focus) = &b.focus {
            if !focus.contains(&receiver) {
                return false;
            }
        }
        let used = b.usage.get(&receiver).copied().unwrap_or(0);
        if let Some(cap) = b.per_cpty {
            if used.saturating_add(x) > cap {
                return false;
            }
        }
        b.remaining -= x;
        b.usage.insert(receiver, used.saturating_add(x));
        true
    }

    fn apply_payment_action(&mut self, slot: Slot, action: PaymentAction, release: &mut Vec<Slot>) {
        let t = self.st.tick;
        let Some(p) = self.st.payments.get(slot) else {
            return;
        };
        if p.location != Location::Q1 {
            return;
        }
        let (s, r, x) = (p.sender, p.receiver, p.remaining);
        match action {
            PaymentAction::Release {
                priority_flag,
                timed_for_tick,
                rtgs_priority,
            } => {
                if let Some(pf) = priority_flag {
                    self.reprioritize(slot, pf);
                }
                if timed_for_tick.is_some_and(|tt| tt > i64::from(t)) {
                    return self.hold(slot, "TimedRelease");
                }
                if !self.budget_allows(s, r, x) {
                    return self.hold(slot, "BudgetExhausted");
                }
                self.q1_remove(slot);
                if let Some(p) = self.st.payments.get_mut(slot) {
                    p.rtgs = rtgs_priority.unwrap_or(p.declared_rtgs);
                }
                self.policy_submit(slot);
                self.push_release(slot, false, release);
            }
            PaymentAction::Split { num_splits } => {
                self.split(slot, num_splits, None, release);
            }
            PaymentAction::StaggerSplit {
                num_splits,
                first_now,
                gap_ticks,
                priority_boost,
            } => {
                self.split(
                    slot,
                    num_splits,
                    Some((first_now, gap_ticks, priority_boost)),
                    release,
                );
            }
            PaymentAction::Hold { reason } => self.hold(slot, &reason),
            PaymentAction::Reprioritize { new_priority } => self.reprioritize(slot, new_priority),
            PaymentAction::Drop => self.drop_payment(slot),
            PaymentAction::WithdrawFromRtgs | PaymentAction::ResubmitToRtgs { .. } => {
                self.hold(slot, "NotInCentralQueue")
            }
        }
    }

    fn policy_submit(&mut self, slot: Slot) {
        let Some(p) = self.st.payments.get(slot) else {
            return;
        };
        let (key, s, r, x, rtgs, prio) =
            (p.key, p.sender, p.receiver, p.remaining, p.rtgs, p.priority);
        self.emit_policy(
            EventType::PolicySubmit,
            Some(key),
            Some(s),
            Some(r),
            Some(x),
            &[
                (Key::RtgsPriority, Val::Str(rtgs.as_str())),
                (Key::Priority, Val::U64(u64::from(prio))),
            ],
        );
    }

    /// A payment joins this tick's release list → `RtgsSubmission`.
    fn push_release(&mut self, slot: Slot, scheduled: bool, release: &mut Vec<Slot>) {
        let Some(p) = self.st.payments.get_mut(slot) else {
            return;
        };
        if scheduled {
            p.rtgs = p.declared_rtgs;
        }
        p.location = Location::Released;
        let (key, s, r, x, rtgs, prio) =
            (p.key, p.sender, p.receiver, p.remaining, p.rtgs, p.priority);
        self.emit(
            EventType::RtgsSubmission,
            Some(key),
            Some(s),
            Some(r),
            Some(x),
            &[
                (Key::RtgsPriority, Val::Str(rtgs.as_str())),
                (Key::Priority, Val::U64(u64::from(prio))),
                (Key::Scheduled, Val::Bool(scheduled)),
            ],
        );
        release.push(slot);
    }

    fn policy_warning(
        &mut self,
        tx: Option<u64>,
        agent: u32,
        code: &str,
        value: f64,
        message: &str,
    ) {
        self.emit(
            EventType::PolicyWarning,
            tx,
            Some(agent),
            None,
            None,
            &[
                (Key::Code, Val::Str(code)),
                (Key::Value, Val::F64(value)),
                (Key::Message, Val::Str(message)),
            ],
        );
    }

    /// `Split` / `StaggerSplit` (§4.3). `stagger` is `(first_now, gap, boost)`.
    fn split(
        &mut self,
        slot: Slot,
        num_splits: u32,
        stagger: Option<(u32, u32, u8)>,
        release: &mut Vec<Slot>,
    ) {
        let t = self.st.tick;
        let Some(p) = self.st.payments.get(slot).cloned() else {
            return;
        };
        let n = i64::from(num_splits).min(p.remaining).min(100);
        if !p.divisible || n < 2 {
            let (code, msg) = if !p.divisible {
                (
                    "Indivisible",
                    "the payment is not divisible; released whole",
                )
            } else {
                ("SplitCountBelowTwo", "fewer than 2 pieces; released whole")
            };
            self.policy_warning(Some(p.key), p.sender, code, f64::from(num_splits), msg);
            return self.apply_payment_action(slot, RELEASE, release);
        }
        let n = n as u32;
        let (first_now, gap, boost) = stagger.unwrap_or((n, 0, 0));
        let first_now = if gap == 0 { n } else { first_now.min(n) };
        let base = p.remaining / i64::from(n);
        let amounts: Vec<i64> = (1..=n)
            .map(|i| {
                if i == n {
                    base + p.remaining % i64::from(n)
                } else {
                    base
                }
            })
            .collect();
        let due: Vec<u32> = (1..=n)
            .map(|i| {
                if i <= first_now {
                    t
                } else {
                    let d = u64::from(t) + u64::from(i - first_now) * u64::from(gap);
                    d.min(u64::from(u32::MAX)) as u32
                }
            })
            .collect();
        let now_value: i64 = amounts
            .iter()
            .zip(&due)
            .filter(|(_, d)| **d == t)
            .map(|(a, _)| *a)
            .sum();
        if !self.budget_allows(p.sender, p.receiver, now_value) {
            return self.hold(slot, "BudgetExhausted");
        }
        let friction = self.setup.costs.split_friction(n);
        self.st.agents[p.sender as usize]
            .costs
            .book(CostComponent::SplitFriction, friction);
        // The parent leaves Q1 and stops being a leaf.
        self.q1_remove(slot);
        {
            let a = &mut self.st.agents[p.sender as usize];
            a.delay_sums[p.class()] -= p.remaining;
        }
        if let Some(pp) = self.st.payments.get_mut(slot) {
            pp.live_children = n as u16;
            pp.num_children = n as u16;
            pp.location = Location::None;
        }
        let priority = if stagger.is_some() {
            p.priority.saturating_add(boost).min(10)
        } else {
            p.priority
        };
        let mut child_keys = Vec::with_capacity(n as usize);
        let mut child_slots = Vec::with_capacity(n as usize);
        for (i, amount) in amounts.iter().enumerate() {
            let key = p.key | (i as u64 + 1);
            let np = NewPayment {
                sender: p.sender,
                receiver: p.receiver,
                amount: *amount,
                deadline: p.deadline,
                priority,
                divisible: false,
                rtgs: p.declared_rtgs,
                source: Source::Split,
            };
            let cs = self.create_payment(key, &np, Some(slot));
            if let Some(c) = self.st.payments.get_mut(cs) {
                c.arrival = p.arrival;
                c.base_priority = priority;
                c.deadline_penalty_charged = p.deadline_penalty_charged;
                if let Status::Overdue { since } = p.status {
                    c.status = Status::Overdue { since };
                }
            }
            // Creation used the Pending class; move to the inherited class if overdue.
            if p.is_overdue() {
                let a = &mut self.st.agents[p.sender as usize];
                let pending = crate::costs::class_index(priority, false);
                let overdue = crate::costs::class_index(priority, true);
                a.delay_sums[pending] -= *amount;
                a.delay_sums[overdue] += *amount;
            }
            child_keys.push(key);
            child_slots.push(cs);
        }
        let due_i64: Vec<i64> = due.iter().map(|d| i64::from(*d)).collect();
        self.emit_policy(
            EventType::PolicySplit,
            Some(p.key),
            Some(p.sender),
            Some(p.receiver),
            Some(p.remaining),
            &[
                (Key::NumSplits, Val::U64(u64::from(n))),
                (Key::ChildIds, Val::TxList(&child_keys)),
                (Key::ChildAmounts, Val::I64List(&amounts)),
                (Key::DueTicks, Val::I64List(&due_i64)),
                (Key::FrictionCost, Val::I64(friction)),
            ],
        );
        for (cs, d) in child_slots.iter().zip(&due) {
            if *d == t {
                self.push_release(*cs, false, release);
            } else {
                self.schedule_insert(*cs, *d);
            }
        }
    }

    /// `Drop` (§5.3, §8.3): the payment leaves Q1 for good; the drop penalty is booked.
    fn drop_payment(&mut self, slot: Slot) {
        let t = self.st.tick;
        let Some(p) = self.st.payments.get(slot).cloned() else {
            return;
        };
        let cm = &self.setup.costs;
        let penalty = match cm.drop() {
            Some(pen) => cm.resolve(&pen, p.remaining),
            None => {
                let (cost, _) = cm.drop_penalty(p.remaining, p.amount, p.deadline_penalty_charged);
                cost
            }
        };
        self.q1_remove(slot);
        let a = &mut self.st.agents[p.sender as usize];
        a.delay_sums[p.class()] -= p.remaining;
        a.costs.book(CostComponent::DropPenalty, penalty);
        if let Some(pp) = self.st.payments.get_mut(slot) {
            pp.status = Status::Dropped { tick: t };
            pp.deadline_penalty_charged = true;
        }
        self.emit_policy(
            EventType::PolicyDrop,
            Some(p.key),
            Some(p.sender),
            None,
            Some(p.remaining),
            &[(Key::DropPenalty, Val::I64(penalty))],
        );
        match p.parent {
            None => {
                self.st.metrics.dropped += 1;
                self.st.agents[p.sender as usize].dropped += 1;
                self.retire(slot);
            }
            Some(parent) => {
                self.retire(slot);
                self.child_finished(parent, true, p.remaining);
            }
        }
    }

    /// The Q2 decisions of S8, taken in S7's decision phase so that they read the same
    /// snapshot as the Q1 decisions (ENGINE.md S8); only agents whose policy can take Q2
    /// actions are asked, for each of their Q2 payments in Q2 order.
    fn q2_decide(
        &mut self,
        aggs: &super::fields::PhaseAggs,
    ) -> EngineResult<Vec<(Slot, PaymentAction, Vec<String>)>> {
        let t = self.st.tick;
        let active: Vec<Option<DecisionSource>> = (0..self.st.agents.len())
            .map(|i| {
                if self.st.agents[i].in_outage(t) {
                    return None;
                }
                match self.payment_source(i) {
                    DecisionSource::Scripted
                        if self.deciders[i]
                            .as_ref()
                            .is_some_and(|d| d.uses_q2_actions()) =>
                    {
                        Some(DecisionSource::Scripted)
                    }
                    DecisionSource::Policy if self.compiled[i].uses_q2_actions() => {
                        Some(DecisionSource::Policy)
                    }
                    _ => None,
                }
            })
            .collect();
        let mut decisions = Vec::new();
        if active.iter().all(Option::is_none) {
            return Ok(decisions);
        }
        let entries: Vec<Slot> = self.st.q2.values().copied().collect();
        for slot in entries {
            let Some(info) = self.payment_info(slot) else {
                continue;
            };
            let sender = info.sender;
            match active.get(sender as usize).copied().flatten() {
                Some(DecisionSource::Scripted) => {
                    if let Some(d) = self
                        .deciders
                        .get_mut(sender as usize)
                        .and_then(Option::as_mut)
                    {
                        decisions.push((slot, d.payment(t, &info), Vec::new()));
                    }
                }
                Some(DecisionSource::Policy) => {
                    if let Outcome::Decided((action, path)) =
                        self.dsl_payment(sender, slot, true, aggs)?
                    {
                        decisions.push((slot, action, path));
                    }
                }
                _ => {}
            }
        }
        Ok(decisions)
    }

    /// S8: applies the Q2 decisions taken with S7's snapshot, in Q2 order. Only
    /// `WithdrawFromRtgs` and `ResubmitToRtgs` act; anything else leaves the payment in Q2.
    pub(super) fn q2_policy_pass(&mut self) {
        let decisions = std::mem::take(&mut self.pending_q2);
        for (slot, action, path) in decisions {
            self.decision_path = path;
            match action {
                PaymentAction::WithdrawFromRtgs => self.withdraw(slot),
                PaymentAction::ResubmitToRtgs { rtgs_priority } => {
                    self.resubmit(slot, rtgs_priority)
                }
                _ => {}
            }
            self.decision_path.clear();
        }
    }

    fn withdraw(&mut self, slot: Slot) {
        let Some(p) = self.st.payments.get(slot) else {
            return;
        };
        let (key, s, rtgs) = (p.key, p.sender, p.declared_rtgs);
        self.q2_remove(slot);
        self.q1_insert(slot);
        self.emit_policy(
            EventType::RtgsWithdrawal,
            Some(key),
            Some(s),
            None,
            None,
            &[(Key::RtgsPriority, Val::Str(rtgs.as_str()))],
        );
    }

    fn resubmit(&mut self, slot: Slot, new: RtgsPriority) {
        let Some(p) = self.st.payments.get(slot) else {
            return;
        };
        if p.rtgs == new {
            return;
        }
        let (key, s, old) = (p.key, p.sender, p.rtgs);
        self.q2_remove(slot);
        if let Some(p) = self.st.payments.get_mut(slot) {
            p.rtgs = new;
        }
        self.q2_insert(slot);
        self.emit_policy(
            EventType::RtgsResubmission,
            Some(key),
            Some(s),
            None,
            None,
            &[
                (Key::OldRtgsPriority, Val::Str(old.as_str())),
                (Key::NewRtgsPriority, Val::Str(new.as_str())),
            ],
        );
    }
}
