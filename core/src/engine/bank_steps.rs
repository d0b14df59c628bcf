//! S4, S5 and S12: the collateral trees and the bank tree (ENGINE.md §3.4, §3.5).

use super::decisions::{BankAction, CollateralAction, Layer};
use super::policy_eval::Outcome;
use super::Engine;
use crate::error::EngineResult;
use crate::events::{EventType, Key, Val};
use crate::liquidity;
use crate::policy::Tree;
use crate::state::{Budget, Timer};

impl Engine {
    /// S4 / S12: one collateral decision per agent (agents in outage skip it).
    pub(super) fn collateral_layer(&mut self, layer: Layer) -> EngineResult<()> {
        let t = self.st.tick;
        let tree = match layer {
            Layer::Strategic => Tree::StrategicCollateral,
            Layer::EndOfTick => Tree::EndOfTickCollateral,
        };
        let mut aggs = None;
        for i in 0..self.st.agents.len() {
            if self.st.agents[i].in_outage(t) {
                continue;
            }
            let (action, path) = if let Some(d) = self.deciders.get_mut(i).and_then(Option::as_mut)
            {
                let a = match layer {
                    Layer::Strategic => d.strategic_collateral(i as u32, t),
                    Layer::EndOfTick => d.end_of_tick_collateral(i as u32, t),
                };
                (a, Vec::new())
            } else if self.compiled.get(i).is_some_and(|c| c.has_tree(tree)) {
                if aggs.is_none() {
                    aggs = Some(self.phase_aggs(self.needs_pass(tree)));
                }
                let Some(ag) = aggs.as_ref() else { continue };
                match self.dsl_collateral(i as u32, layer, ag)? {
                    Outcome::Decided(x) => x,
                    Outcome::Skipped => continue,
                }
            } else {
                continue;
            };
            self.decision_path = path;
            self.apply_collateral(i as u32, layer, action);
            self.decision_path.clear();
        }
        Ok(())
    }

    pub(super) fn apply_collateral(&mut self, agent: u32, layer: Layer, action: CollateralAction) {
        let t = self.st.tick;
        let i = agent as usize;
        match action {
            CollateralAction::Hold => {}
            CollateralAction::Post {
                amount,
                reason,
                auto_withdraw_after_ticks,
            } => {
                if amount <= 0 {
                    return;
                }
                let a = &mut self.st.agents[i];
                let room =
                    liquidity::remaining_capacity(a.max_collateral_capacity, a.posted_collateral);
                let applied = amount.min(room);
                if applied < amount {
                    self.emit(
                        EventType::PolicyWarning,
                        None,
                        Some(agent),
                        None,
                        None,
                        &[
                            (Key::Code, Val::Str("CappedPost")),
                            (Key::Value, Val::I64(amount)),
                            (
                                Key::Message,
                                Val::Str("post capped at the remaining collateral capacity"),
                            ),
                        ],
                    );
                }
                if applied <= 0 {
                    return;
                }
                let a = &mut self.st.agents[i];
                a.posted_collateral += applied;
                let new_total = a.posted_collateral;
                let due = auto_withdraw_after_ticks
                    .filter(|n| *n >= 1)
                    .map(|n| t.saturating_add(n));
                if let Some(due) = due {
                    a.timers.entry(due).or_default().push(Timer {
                        amount: applied,
                        reason: reason.clone(),
                        posted_at: t,
                    });
                }
                let mut details = vec![
                    (Key::Requested, Val::I64(amount)),
                    (Key::Layer, Val::Str(layer.as_str())),
                    (Key::Reason, Val::Str(&reason)),
                    (Key::NewTotal, Val::I64(new_total)),
                ];
                if let Some(due) = due {
                    details.push((Key::AutoWithdrawTick, Val::U64(u64::from(due))));
                }
                self.emit_policy(
                    EventType::CollateralPost,
                    None,
                    Some(agent),
                    None,
                    Some(applied),
                    &details,
                );
            }
            CollateralAction::Withdraw { amount, reason } => {
                let a = &mut self.st.agents[i];
                let allowed = liquidity::max_withdrawable(
                    a.posted_collateral,
                    a.balance,
                    a.unsecured_cap,
                    a.k,
                );
                let applied = amount.min(a.posted_collateral).min(allowed);
                if applied <= 0 {
                    return;
                }
                a.posted_collateral -= applied;
                let new_total = a.posted_collateral;
                self.emit_policy(
                    EventType::CollateralWithdraw,
                    None,
                    Some(agent),
                    None,
                    Some(applied),
                    &[
                        (Key::Requested, Val::I64(amount)),
                        (Key::Layer, Val::Str(layer.as_str())),
                        (Key::Reason, Val::Str(&reason)),
                        (Key::NewTotal, Val::I64(new_total)),
                    ],
                );
            }
        }
    }

    /// S5: clear every budget, then one bank decision per agent.
    pub(super) fn bank_step(&mut self) -> EngineResult<()> {
        let t = self.st.tick;
        for a in self.st.agents.iter_mut() {
            a.budget = None;
        }
        let mut aggs = None;
        for i in 0..self.st.agents.len() {
            if self.st.agents[i].in_outage(t) {
                continue;
            }
            let (action, path) = if let Some(d) = self.deciders.get_mut(i).and_then(Option::as_mut)
            {
                (d.bank(i as u32, t), Vec::new())
            } else if self.compiled.get(i).is_some_and(|c| c.has_tree(Tree::Bank)) {
                if aggs.is_none() {
                    aggs = Some(self.phase_aggs(self.needs_pass(Tree::Bank)));
                }
                let Some(ag) = aggs.as_ref() else { continue };
                match self.dsl_bank(i as u32, ag)? {
                    Outcome::Decided(x) => x,
                    Outcome::Skipped => continue,
                }
            } else {
                continue;
            };
            self.decision_path = path;
            self.apply_bank(i as u32, action);
            self.decision_path.clear();
        }
        Ok(())
    }

    pub(super) fn apply_bank(&mut self, agent: u32, action: BankAction) {
        let i = agent as usize;
        match action {
            BankAction::NoAction => {}
            BankAction::SetReleaseBudget {
                max_value,
                focus,
                max_per_counterparty,
            } => {
                let max_value = max_value.max(0);
                let focus_list = focus.clone().unwrap_or_default();
                self.st.agents[i].budget = Some(Budget {
                    remaining: max_value,
                    focus,
                    per_cpty: max_per_counterparty,
                    usage: Default::default(),
                    max: max_value,
                });
                let per = max_per_counterparty.map(Val::I64).unwrap_or(Val::Null);
                self.emit_policy(
                    EventType::BankBudgetSet,
                    None,
                    Some(agent),
                    None,
                    Some(max_value),
                    &[
                        (Key::FocusCounterparties, Val::AgentList(&focus_list)),
                        (Key::MaxPerCounterparty, per),
                    ],
                );
            }
            BankAction::SetState { key, value, reason } => {
                self.set_register(agent, key, value, false, &reason)
            }
            BankAction::AddState { key, value, reason } => {
                self.set_register(agent, key, value, true, &reason)
            }
        }
    }

    fn set_register(&mut self, agent: u32, key: String, value: f64, add: bool, reason: &str) {
        let regs = &mut self.st.agents[agent as usize].registers;
        let old = regs.get(&key).copied().unwrap_or(0.0);
        let new = if add { old + value } else { value };
        if !new.is_finite() {
            return;
        }
        regs.insert(key.clone(), new);
        self.emit_policy(
            EventType::StateRegisterSet,
            None,
            Some(agent),
            None,
            None,
            &[
                (Key::RegisterKey, Val::Str(&key)),
                (Key::OldValue, Val::F64(old)),
                (Key::NewValue, Val::F64(new)),
                (Key::Reason, Val::Str(reason)),
            ],
        );
    }
}
