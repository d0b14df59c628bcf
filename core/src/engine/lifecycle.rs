//! Creation of the engine state and the payment lifecycle: creating payments, moving them in
//! and out of the queues (keeping every aggregate in step), and retiring finished ones.

use std::collections::BTreeMap;

use std::sync::Arc;

use super::{Engine, Metrics, Q1Key, Q2Key, Setup, State};
use crate::arrivals::Arrivals;
use crate::config::{EngineConfig, Queue1Ordering, RtgsPriority};
use crate::costs::{CostLedger, CostModel};
use crate::error::{ConfigError, EngineError, EngineResult};
use crate::events::{EventType, Key, Val};
use crate::liquidity;
use crate::policy::CompiledPolicy;
use crate::policy_rt::RuntimePolicy;
use crate::state::{Agent, Location, Payment, PaymentSlab, Slot, Source, Status};

impl Setup {
    pub(super) fn build(cfg: EngineConfig, value: serde_json::Value) -> EngineResult<Setup> {
        let config_hash = crate::checkpoint_frame::config_hash(&value);
        let costs = CostModel::compile(&cfg.cost_rates).map_err(|e| {
            ConfigError::new(
                e.path.clone(),
                format!("expected {}, found {}", e.expected, e.found),
            )
        })?;
        let mut ids: Vec<String> = cfg.agents.iter().map(|a| a.id.clone()).collect();
        ids.sort();
        let index = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i as u32))
            .collect();
        let mut scenario_policies = BTreeMap::new();
        for (i, ev) in cfg.scenario_events.iter().enumerate() {
            if let crate::config::ScenarioEventCfg::PolicyChange { agent, policy, .. } = ev {
                let p = RuntimePolicy::from_cfg(policy).map_err(|r| EngineError::Policy {
                    agent: agent.clone(),
                    message: r.message,
                    problems: r.problems,
                })?;
                scenario_policies.insert(i, p);
            }
        }
        let tpd = cfg.simulation.ticks_per_day;
        let total_ticks = cfg.total_ticks() as u32;
        Ok(Setup {
            cfg,
            config_json: value,
            config_hash,
            ids,
            index,
            costs,
            tpd,
            total_ticks,
            scenario_policies,
        })
    }
}

impl State {
    /// The state at creation, and every agent's compiled policy (by agent index).
    pub(super) fn initial(setup: &Setup) -> EngineResult<(State, Vec<Arc<CompiledPolicy>>)> {
        let cfg = &setup.cfg;
        // Agents are held in agent order (ascending byte order of ids).
        let mut by_order: Vec<&crate::config::AgentCfg> = cfg.agents.iter().collect();
        by_order.sort_by(|a, b| a.id.cmp(&b.id));
        let mut agents = Vec::with_capacity(by_order.len());
        let mut policies = Vec::with_capacity(by_order.len());
        let mut compiled = Vec::with_capacity(by_order.len());
        // One compilation per distinct (document, overrides): banks sharing a policy share
        // the compiled form (POLICY_DSL.md §9.1).
        let mut cache: BTreeMap<(String, Vec<(String, u64)>), RuntimePolicy> = BTreeMap::new();
        for (i, a) in by_order.iter().enumerate() {
            let key = (
                crate::checkpoint_frame::canonical_json(&a.policy.document),
                a.policy
                    .parameters
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_bits()))
                    .collect::<Vec<_>>(),
            );
            let policy = match cache.get(&key) {
                Some(p) => p.clone(),
                None => {
                    let p = RuntimePolicy::from_parts(key.0.clone(), a.policy.parameters.clone())
                        .map_err(|r| EngineError::Policy {
                        agent: a.id.clone(),
                        message: r.message,
                        problems: r.problems,
                    })?;
                    cache.insert(key, p.clone());
                    p
                }
            };
            policies.push(policy.state);
            compiled.push(policy.compiled);
            let k = liquidity::haircut_factor(a.collateral_haircut);
            let max_cap = a
                .max_collateral_capacity
                .unwrap_or(a.unsecured_cap.saturating_mul(10))
                .max(a.posted_collateral);
            let bilateral_limits = a
                .limits
                .bilateral_limits
                .iter()
                .filter_map(|(cp, v)| setup.index.get(cp).map(|j| (*j, *v)))
                .collect();
            agents.push(Agent {
                balance: a.opening_balance,
                opening_balance: a.opening_balance,
                unsecured_cap: a.unsecured_cap,
                posted_collateral: a.posted_collateral,
                haircut: a.collateral_haircut,
                k,
                max_collateral_capacity: max_cap,
                liquidity_buffer: a.liquidity_buffer,
                pool: a.liquidity_pool,
                allocated: 0,
                alloc_fraction: a.liquidity_allocation_fraction,
                bilateral_limits,
                multilateral_limit: a.limits.multilateral_limit,
                out_to: BTreeMap::new(),
                out_total: 0,
                budget: None,
                registers: BTreeMap::new(),
                timers: BTreeMap::new(),
                outage: None,
                pending_credit: 0,
                pending_credit_sources: 0,
                q1_count: 0,
                q1_value: 0,
                q2_count: 0,
                q2_value: 0,
                incoming_q2_count: 0,
                incoming_q2_value: 0,
                delay_sums: [0; 6],
                sent: 0,
                settled_sent: 0,
                received: 0,
                dropped: 0,
                min_balance: a.opening_balance,
                settlement_delay: 0,
                net_out: 0,
                peak_net_debit: 0,
                costs: CostLedger::new(),
                policy: i as u32,
            });
        }
        let sorted_cfgs: Vec<crate::config::AgentCfg> =
            by_order.iter().map(|a| (*a).clone()).collect();
        let n = agents.len();
        let state = State {
            tick: 0,
            next_root: 1,
            next_creation: 1,
            next_event_seq: 0,
            enqueue_seq: 0,
            q2_seq: 0,
            failed: None,
            agents,
            policies,
            payments: PaymentSlab::default(),
            q1: vec![BTreeMap::new(); n],
            scheduled: vec![BTreeMap::new(); n],
            q2: BTreeMap::new(),
            pair_q2: BTreeMap::new(),
            q2_by_pair: BTreeMap::new(),
            deadlines: BTreeMap::new(),
            injected: BTreeMap::new(),
            arrivals: Arrivals::new(cfg.simulation.rng_seed, &sorted_cfgs, &setup.ids),
            metrics: Metrics::default(),
            received_today: std::collections::HashMap::new(),
            day_due: vec![0; n],
            day_settled: vec![0; n],
            lsm_bits: 0,
        };
        Ok((state, compiled))
    }
}

impl State {
    /// Rebuilds the indexes that are derived from the queues and not checkpointed.
    pub(super) fn rebuild_derived(&mut self) {
        self.q2_by_pair.clear();
        for (key, slot) in &self.q2 {
            if let Some(p) = self.payments.get(*slot) {
                self.q2_by_pair.insert((p.sender, p.receiver, *key), *slot);
            }
        }
    }
}

/// What a new payment needs besides its id.
pub(super) struct NewPayment {
    pub sender: u32,
    pub receiver: u32,
    pub amount: i64,
    pub deadline: u32,
    pub priority: u8,
    pub divisible: bool,
    pub rtgs: RtgsPriority,
    pub source: Source,
}

impl Engine {
    /// Deadline capping (§2), one rule for every source.
    pub(super) fn cap_deadline(&self, arrival: u32, raw: u64) -> u32 {
        let tpd = u64::from(self.setup.tpd);
        let mut d = raw.min(u64::from(self.setup.total_ticks) - 1);
        if self.setup.cfg.settlement.deadline_cap_at_eod {
            let day_cap = (u64::from(arrival) / tpd + 1) * tpd - 1;
            d = d.min(day_cap);
        }
        d.max(u64::from(arrival)) as u32
    }

    pub(super) fn q1_key(&self, p: &Payment) -> Q1Key {
        match self.setup.cfg.settlement.queue1_ordering {
            Queue1Ordering::Fifo => (0, 0, p.enqueue_seq),
            Queue1Ordering::PriorityDeadline => {
                (10 - p.priority.min(10), p.deadline, p.enqueue_seq)
            }
        }
    }

    pub(super) fn q2_key(&self, p: &Payment) -> Q2Key {
        if self.setup.cfg.settlement.priority_mode {
            (p.rtgs.rank(), p.rtgs_entry_seq)
        } else {
            (0, p.rtgs_entry_seq)
        }
    }

    /// Creates an original payment arriving now, appends it to its sender's Q1 → `Arrival`.
    pub(super) fn arrive(&mut self, np: NewPayment) -> Slot {
        let root = self.st.next_root;
        self.st.next_root += 1;
        let key = root << 8;
        let slot = self.create_payment(key, &np, None);
        let m = &mut self.st.metrics;
        m.arrivals += 1;
        m.arrivals_value = m.arrivals_value.saturating_add(np.amount);
        self.st.agents[np.sender as usize].sent += 1;
        let due = &mut self.st.day_due[np.sender as usize];
        *due = due.saturating_add(np.amount);
        self.tick_arrivals += 1;
        let (deadline, priority) = (np.deadline, np.priority);
        self.emit(
            EventType::Arrival,
            Some(key),
            Some(np.sender),
            Some(np.receiver),
            Some(np.amount),
            &[
                (Key::DeadlineTick, Val::U64(u64::from(deadline))),
                (Key::Priority, Val::U64(u64::from(priority))),
                (Key::Divisible, Val::Bool(np.divisible)),
                (Key::RtgsPriority, Val::Str(np.rtgs.as_str())),
                (Key::Source, Val::Str(np.source.as_str())),
            ],
        );
        self.q1_insert(slot);
        slot
    }

    /// Adds a payment to the slab and the deadline index; the caller queues it.
    pub(super) fn create_payment(
        &mut self,
        key: u64,
        np: &NewPayment,
        parent: Option<Slot>,
    ) -> Slot {
        let creation = self.st.next_creation;
        self.st.next_creation += 1;
        let p = Payment {
            key,
            creation,
            sender: np.sender,
            receiver: np.receiver,
            amount: np.amount,
            remaining: np.amount,
            arrival: self.st.tick,
            deadline: np.deadline,
            priority: np.priority,
            base_priority: np.priority,
            divisible: np.divisible,
            declared_rtgs: np.rtgs,
            rtgs: np.rtgs,
            rtgs_entry_seq: 0,
            queued_at: 0,
            enqueue_seq: 0,
            status: Status::Pending,
            location: Location::None,
            parent,
            live_children: 0,
            child_dropped: false,
            num_children: 0,
            deadline_penalty_charged: false,
            source: np.source,
            counted_overdue: false,
        };
        let class = p.class();
        let slot = self.st.payments.insert(p);
        let a = &mut self.st.agents[np.sender as usize];
        a.delay_sums[class] = a.delay_sums[class].saturating_add(np.amount);
        self.st
            .deadlines
            .entry(np.deadline)
            .or_default()
            .push((slot, creation));
        slot
    }

    /// Appends a payment at the back of its sender's Q1.
    pub(super) fn q1_insert(&mut self, slot: Slot) {
        self.st.enqueue_seq += 1;
        let seq = self.st.enqueue_seq;
        let Some(p) = self.st.payments.get_mut(slot) else {
            return;
        };
        p.enqueue_seq = seq;
        p.location = Location::Q1;
        let (sender, rem) = (p.sender, p.remaining);
        let key = {
            let p = &*p;
            match self.setup.cfg.settlement.queue1_ordering {
                Queue1Ordering::Fifo => (0, 0, p.enqueue_seq),
                Queue1Ordering::PriorityDeadline => {
                    (10 - p.priority.min(10), p.deadline, p.enqueue_seq)
                }
            }
        };
        self.st.q1[sender as usize].insert(key, slot);
        let a = &mut self.st.agents[sender as usize];
        a.q1_count += 1;
        a.q1_value = a.q1_value.saturating_add(rem);
    }

    /// Removes a payment from its sender's Q1 (it keeps its slot).
    pub(super) fn q1_remove(&mut self, slot: Slot) {
        let Some(p) = self.st.payments.get(slot) else {
            return;
        };
        let key = self.q1_key(p);
        let (sender, rem) = (p.sender, p.remaining);
        if self.st.q1[sender as usize].remove(&key).is_some() {
            let a = &mut self.st.agents[sender as usize];
            a.q1_count -= 1;
            a.q1_value -= rem;
        }
        if let Some(p) = self.st.payments.get_mut(slot) {
            p.location = Location::None;
        }
    }

    /// Schedules a staggered piece in its sender's Q1 for release at `due`.
    pub(super) fn schedule_insert(&mut self, slot: Slot, due: u32) {
        let Some(p) = self.st.payments.get_mut(slot) else {
            return;
        };
        p.location = Location::Q1Scheduled { release_tick: due };
        let (sender, rem, creation) = (p.sender, p.remaining, p.creation);
        self.st.scheduled[sender as usize].insert((due, creation), slot);
        let a = &mut self.st.agents[sender as usize];
        a.q1_count += 1;
        a.q1_value = a.q1_value.saturating_add(rem);
    }

    pub(super) fn schedule_remove(&mut self, slot: Slot) {
        let Some(p) = self.st.payments.get(slot) else {
            return;
        };
        let Location::Q1Scheduled { release_tick } = p.location else {
            return;
        };
        let (sender, rem, creation) = (p.sender, p.remaining, p.creation);
        if self.st.scheduled[sender as usize]
            .remove(&(release_tick, creation))
            .is_some()
        {
            let a = &mut self.st.agents[sender as usize];
            a.q1_count -= 1;
            a.q1_value -= rem;
        }
        if let Some(p) = self.st.payments.get_mut(slot) {
            p.location = Location::None;
        }
    }

    /// Appends a released payment to Q2 with a new entry sequence.
    pub(super) fn q2_insert(&mut self, slot: Slot) {
        self.st.q2_seq += 1;
        let seq = self.st.q2_seq;
        let t = self.st.tick;
        let Some(p) = self.st.payments.get_mut(slot) else {
            return;
        };
        p.rtgs_entry_seq = seq;
        p.queued_at = t;
        p.location = Location::Q2;
        let (s, r, rem) = (p.sender, p.receiver, p.remaining);
        let key = if self.setup.cfg.settlement.priority_mode {
            (p.rtgs.rank(), seq)
        } else {
            (0, seq)
        };
        self.st.q2.insert(key, slot);
        self.st.q2_by_pair.insert((s, r, key), slot);
        let e = self.st.pair_q2.entry((s, r)).or_insert((0, 0));
        e.0 = e.0.saturating_add(rem);
        e.1 += 1;
        let a = &mut self.st.agents[s as usize];
        a.q2_count += 1;
        a.q2_value = a.q2_value.saturating_add(rem);
        let b = &mut self.st.agents[r as usize];
        b.incoming_q2_count += 1;
        b.incoming_q2_value = b.incoming_q2_value.saturating_add(rem);
    }

    pub(super) fn q2_remove(&mut self, slot: Slot) {
        let Some(p) = self.st.payments.get(slot) else {
            return;
        };
        if p.location != Location::Q2 {
            return;
        }
        let key = self.q2_key(p);
        let (s, r, rem) = (p.sender, p.receiver, p.remaining);
        if self.st.q2.remove(&key).is_some() {
            self.st.q2_by_pair.remove(&(s, r, key));
            if let Some(e) = self.st.pair_q2.get_mut(&(s, r)) {
                e.0 -= rem;
                e.1 -= 1;
                if e.1 == 0 {
                    self.st.pair_q2.remove(&(s, r));
                }
            }
            let a = &mut self.st.agents[s as usize];
            a.q2_count -= 1;
            a.q2_value -= rem;
            let b = &mut self.st.agents[r as usize];
            b.incoming_q2_count -= 1;
            b.incoming_q2_value -= rem;
        }
        if let Some(p) = self.st.payments.get_mut(slot) {
            p.location = Location::None;
        }
    }

    /// Changes a live payment's internal priority, keeping Q1 order and delay classes right.
    pub(super) fn set_priority(&mut self, slot: Slot, new: u8, rebase: bool) {
        let Some(p) = self.st.payments.get(slot) else {
            return;
        };
        if p.priority == new {
            if rebase {
                if let Some(p) = self.st.payments.get_mut(slot) {
                    p.base_priority = new;
                }
            }
            return;
        }
        let in_q1 = p.location == Location::Q1;
        let old_key = self.q1_key(p);
        let (sender, rem, old_class) = (p.sender, p.remaining, p.class());
        let mut moved = p.clone();
        moved.priority = new;
        let new_key = self.q1_key(&moved);
        if in_q1 {
            self.st.q1[sender as usize].remove(&old_key);
            self.st.q1[sender as usize].insert(new_key, slot);
        }
        let Some(p) = self.st.payments.get_mut(slot) else {
            return;
        };
        p.priority = new;
        if rebase {
            p.base_priority = new;
        }
        let new_class = p.class();
        let a = &mut self.st.agents[sender as usize];
        a.delay_sums[old_class] -= rem;
        a.delay_sums[new_class] += rem;
    }

    /// Removes a finished leaf (or a finished split parent) from the slab.
    pub(super) fn retire(&mut self, slot: Slot) {
        self.st.payments.remove(slot);
    }
}
