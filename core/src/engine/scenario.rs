//! S2: scenario events due at this tick, in config order (ENGINE.md §10). Each emits
//! `ScenarioEventExecuted` first, then the events of its effects.

use super::Engine;
use crate::config::ScenarioEventCfg;
use crate::error::EngineResult;
use crate::events::{EventType, Key, Val};
use crate::state::Source;

impl Engine {
    pub(super) fn scenario_events(&mut self) -> EngineResult<()> {
        let t = self.st.tick;
        let setup = std::sync::Arc::clone(&self.setup);
        for (i, ev) in setup.cfg.scenario_events.iter().enumerate() {
            if ev.fires_at(t) {
                self.run_scenario_event(i, ev);
            }
        }
        Ok(())
    }

    fn idx(&self, id: &str) -> u32 {
        self.setup.index.get(id).copied().unwrap_or(0)
    }

    fn run_scenario_event(&mut self, index: usize, ev: &ScenarioEventCfg) {
        let t = self.st.tick;
        let ty = Val::Str(ev.type_name());
        let ei = Val::U64(index as u64);
        match ev {
            ScenarioEventCfg::DirectTransfer {
                from_agent,
                to_agent,
                amount,
                ..
            } => {
                let (s, r) = (self.idx(from_agent), self.idx(to_agent));
                let a = &mut self.st.agents[s as usize];
                a.balance = a.balance.saturating_sub(*amount);
                let b = &mut self.st.agents[r as usize];
                b.balance = b.balance.saturating_add(*amount);
                self.emit(
                    EventType::ScenarioEventExecuted,
                    None,
                    Some(s),
                    Some(r),
                    Some(*amount),
                    &[(Key::EventIndex, ei), (Key::EventType, ty)],
                );
            }
            ScenarioEventCfg::CustomTransactionArrival {
                from_agent,
                to_agent,
                amount,
                priority,
                deadline,
                is_divisible,
                rtgs_priority,
                ..
            } => {
                let (s, r) = (self.idx(from_agent), self.idx(to_agent));
                let offset = deadline.unwrap_or_else(|| (self.setup.tpd / 10).max(5));
                let dl = self.cap_deadline(t, u64::from(t) + u64::from(offset));
                self.emit(
                    EventType::ScenarioEventExecuted,
                    None,
                    Some(s),
                    Some(r),
                    Some(*amount),
                    &[(Key::EventIndex, ei), (Key::EventType, ty)],
                );
                self.arrive(super::lifecycle::NewPayment {
                    sender: s,
                    receiver: r,
                    amount: *amount,
                    deadline: dl,
                    priority: (*priority).clamp(0, 10) as u8,
                    divisible: *is_divisible,
                    rtgs: *rtgs_priority,
                    source: Source::Scenario,
                });
            }
            ScenarioEventCfg::ScheduledSettlement {
                from_agent,
                to_agent,
                amount,
                ..
            } => {
                let (s, r) = (self.idx(from_agent), self.idx(to_agent));
                let ok = self.rtgs_check(s, r, *amount).is_ok();
                if ok {
                    self.transfer(s, r, *amount);
                }
                self.emit(
                    EventType::ScenarioEventExecuted,
                    None,
                    Some(s),
                    Some(r),
                    Some(*amount),
                    &[
                        (Key::EventIndex, ei),
                        (Key::EventType, ty),
                        (Key::Settled, Val::Bool(ok)),
                    ],
                );
            }
            ScenarioEventCfg::CollateralAdjustment { agent, delta, .. } => {
                let i = self.idx(agent);
                let a = &mut self.st.agents[i as usize];
                let before = a.posted_collateral;
                a.posted_collateral = before
                    .saturating_add(*delta)
                    .clamp(0, a.max_collateral_capacity.max(0));
                let applied = a.posted_collateral - before;
                self.emit(
                    EventType::ScenarioEventExecuted,
                    None,
                    Some(i),
                    None,
                    Some(applied),
                    &[
                        (Key::EventIndex, ei),
                        (Key::EventType, ty),
                        (Key::Requested, Val::I64(*delta)),
                        (Key::AppliedDelta, Val::I64(applied)),
                    ],
                );
            }
            ScenarioEventCfg::UnsecuredCapChange { agent, delta, .. } => {
                let i = self.idx(agent);
                let a = &mut self.st.agents[i as usize];
                let before = a.unsecured_cap;
                a.unsecured_cap = before.saturating_add(*delta).max(0);
                let applied = a.unsecured_cap - before;
                self.emit(
                    EventType::ScenarioEventExecuted,
                    None,
                    Some(i),
                    None,
                    Some(applied),
                    &[
                        (Key::EventIndex, ei),
                        (Key::EventType, ty),
                        (Key::Requested, Val::I64(*delta)),
                        (Key::AppliedDelta, Val::I64(applied)),
                    ],
                );
            }
            ScenarioEventCfg::GlobalArrivalRateChange { multiplier, .. } => {
                self.st.arrivals.global = *multiplier;
                self.emit(
                    EventType::ScenarioEventExecuted,
                    None,
                    None,
                    None,
                    None,
                    &[
                        (Key::EventIndex, ei),
                        (Key::EventType, ty),
                        (Key::Multiplier, Val::F64(*multiplier)),
                    ],
                );
            }
            ScenarioEventCfg::AgentArrivalRateChange {
                agent, multiplier, ..
            } => {
                let i = self.idx(agent);
                if let Some(a) = self.st.arrivals.agents.get_mut(i as usize) {
                    a.multiplier = *multiplier;
                }
                self.emit(
                    EventType::ScenarioEventExecuted,
                    None,
                    Some(i),
                    None,
                    None,
                    &[
                        (Key::EventIndex, ei),
                        (Key::EventType, ty),
                        (Key::Multiplier, Val::F64(*multiplier)),
                    ],
                );
            }
            ScenarioEventCfg::CounterpartyWeightChange {
                agent,
                counterparty,
                new_weight,
                ..
            } => {
                let (i, j) = (self.idx(agent), self.idx(counterparty));
                self.st.arrivals.set_weight(i, j, *new_weight);
                self.emit(
                    EventType::ScenarioEventExecuted,
                    None,
                    Some(i),
                    Some(j),
                    None,
                    &[
                        (Key::EventIndex, ei),
                        (Key::EventType, ty),
                        (Key::NewWeight, Val::F64(*new_weight)),
                    ],
                );
            }
            ScenarioEventCfg::DeadlineWindowChange {
                min_ticks_multiplier,
                max_ticks_multiplier,
                ..
            } => {
                self.st
                    .arrivals
                    .change_deadlines(*min_ticks_multiplier, *max_ticks_multiplier);
                let f = |v: Option<f64>| v.map(Val::F64).unwrap_or(Val::Null);
                self.emit(
                    EventType::ScenarioEventExecuted,
                    None,
                    None,
                    None,
                    None,
                    &[
                        (Key::EventIndex, ei),
                        (Key::EventType, ty),
                        (Key::MinTicksMultiplier, f(*min_ticks_multiplier)),
                        (Key::MaxTicksMultiplier, f(*max_ticks_multiplier)),
                    ],
                );
            }
            ScenarioEventCfg::AgentOutage {
                agent,
                start_tick,
                end_tick,
                ..
            } => {
                let i = self.idx(agent);
                let phase = if t == *start_tick { "start" } else { "end" };
                if t == *start_tick {
                    self.st.agents[i as usize].outage = Some((*start_tick, *end_tick));
                }
                self.emit(
                    EventType::ScenarioEventExecuted,
                    None,
                    Some(i),
                    None,
                    None,
                    &[
                        (Key::EventIndex, ei),
                        (Key::EventType, ty),
                        (Key::Phase, Val::Str(phase)),
                        (Key::StartTick, Val::U64(u64::from(*start_tick))),
                        (Key::EndTick, Val::U64(u64::from(*end_tick))),
                    ],
                );
            }
            ScenarioEventCfg::PolicyChange { agent, .. } => {
                let i = self.idx(agent);
                self.emit(
                    EventType::ScenarioEventExecuted,
                    None,
                    Some(i),
                    None,
                    None,
                    &[(Key::EventIndex, ei), (Key::EventType, ty)],
                );
                if let Some(p) = self.setup.scenario_policies.get(&index).cloned() {
                    self.replace_policy(i, p, "scenario");
                }
            }
        }
    }

    /// Replaces an agent's policy between ticks → `PolicyReplaced`; any budget is cleared and
    /// registers the new policy does not use are removed (release-everything policies use none).
    pub(super) fn replace_policy(
        &mut self,
        agent: u32,
        new: crate::policy_rt::RuntimePolicy,
        source: &str,
    ) {
        let old_id = self.st.policies[agent as usize].policy_id.clone();
        // Registers the new policy names keep their values; the others are dropped.
        let keep: Vec<String> = new.compiled.registers().to_vec();
        let regs = std::mem::take(&mut self.st.agents[agent as usize].registers);
        let (kept, dropped): (Vec<_>, Vec<_>) =
            regs.into_iter().partition(|(k, _)| keep.contains(k));
        self.st.agents[agent as usize].registers = kept.into_iter().collect();
        for (k, v) in dropped.iter() {
            self.emit(
                EventType::StateRegisterSet,
                None,
                Some(agent),
                None,
                None,
                &[
                    (Key::RegisterKey, Val::Str(k)),
                    (Key::OldValue, Val::F64(*v)),
                    (Key::NewValue, Val::F64(0.0)),
                    (Key::Reason, Val::Str("policy_change")),
                ],
            );
        }
        self.st.agents[agent as usize].budget = None;
        let (new_id, sha) = (new.state.policy_id.clone(), new.state.sha256.clone());
        self.st.policies[agent as usize] = new.state;
        if let Some(slot) = self.compiled.get_mut(agent as usize) {
            *slot = new.compiled;
        }
        self.refresh_needs_pass();
        self.emit(
            EventType::PolicyReplaced,
            None,
            Some(agent),
            None,
            None,
            &[
                (Key::OldPolicyId, Val::Str(&old_id)),
                (Key::NewPolicyId, Val::Str(&new_id)),
                (Key::PolicySha256, Val::Str(&sha)),
                (Key::Source, Val::Str(source)),
            ],
        );
    }
}
