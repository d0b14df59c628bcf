//! Running compiled policies at the decision points: building the evaluation context from
//! engine state, turning the language's decisions into the engine's actions, reporting
//! conversion warnings, and handling evaluation errors under `on_policy_error`.

use std::sync::Arc;

use super::decisions::{BankAction, CollateralAction, Layer, PaymentAction};
use super::fields::PhaseAggs;
use super::Engine;
use crate::config::{OnPolicyError, RtgsPriority};
use crate::error::{EngineError, EngineResult, PolicyFailure};
use crate::events::{EventType, Key, Val};
use crate::policy::{
    BankDecision, CollateralDecision, CompiledPolicy, ConversionWarningKind, EvalContext,
    EvalError, Evaluated, PaymentDecision, Tree, Warnings, FIELD_COUNT,
};
use crate::state::Slot;

/// The result of asking a policy: a decision, or nothing when an evaluation error was
/// recorded under `on_policy_error: hold` (the no-op of the tree applies).
pub(super) enum Outcome<T> {
    Decided(T),
    Skipped,
}

fn rtgs(p: crate::policy::RtgsPriority) -> RtgsPriority {
    RtgsPriority::from_rank(p as u8)
}

/// The language's payment decision in the engine's terms.
fn payment_action(d: PaymentDecision<'_>) -> PaymentAction {
    match d {
        PaymentDecision::Release {
            priority_flag,
            timed_for_tick,
            rtgs_priority,
            ..
        } => PaymentAction::Release {
            priority_flag,
            timed_for_tick,
            rtgs_priority: rtgs_priority.map(rtgs),
        },
        PaymentDecision::Split { num_splits } => PaymentAction::Split { num_splits },
        PaymentDecision::StaggerSplit {
            num_splits,
            first_now,
            gap_ticks,
            priority_boost,
        } => PaymentAction::StaggerSplit {
            num_splits,
            first_now,
            gap_ticks,
            priority_boost,
        },
        PaymentDecision::Hold { reason } => PaymentAction::Hold {
            reason: reason.to_string(),
        },
        PaymentDecision::Drop => PaymentAction::Drop,
        PaymentDecision::Reprioritize { new_priority } => {
            PaymentAction::Reprioritize { new_priority }
        }
        PaymentDecision::WithdrawFromRtgs => PaymentAction::WithdrawFromRtgs,
        PaymentDecision::ResubmitToRtgs { rtgs_priority } => PaymentAction::ResubmitToRtgs {
            rtgs_priority: rtgs(rtgs_priority),
        },
    }
}

impl Engine {
    pub(super) fn compiled_for(&self, agent: u32) -> Option<Arc<CompiledPolicy>> {
        self.compiled.get(agent as usize).cloned()
    }

    /// Whether any agent's policy reads a field that needs a pass over the queues.
    pub(super) fn needs_pass(&self, tree: Tree) -> bool {
        self.needs_pass_cache[tree.index()]
    }

    /// Recomputes `needs_pass` for every tree (at creation, restore and policy changes).
    pub(super) fn refresh_needs_pass(&mut self) {
        for tree in Tree::ALL {
            self.needs_pass_cache[tree.index()] = self.compute_needs_pass(tree);
        }
    }

    fn compute_needs_pass(&self, tree: Tree) -> bool {
        use crate::policy::FieldId as F;
        self.compiled.iter().any(|c| {
            c.fields_used(tree).iter().any(|f| {
                matches!(
                    f,
                    F::Queue2NearestDeadline
                        | F::TicksToNearestQueue2Deadline
                        | F::TxIsTopCounterparty
                        | F::TopCpty1IdHash
                        | F::TopCpty2IdHash
                        | F::TopCpty3IdHash
                        | F::TopCpty4IdHash
                        | F::TopCpty5IdHash
                        | F::MyQ2OutValueTop1
                        | F::MyQ2OutValueTop2
                        | F::MyQ2OutValueTop3
                        | F::MyQ2OutValueTop4
                        | F::MyQ2OutValueTop5
                        | F::MyQ2InValueTop1
                        | F::MyQ2InValueTop2
                        | F::MyQ2InValueTop3
                        | F::MyQ2InValueTop4
                        | F::MyQ2InValueTop5
                        | F::MyBilateralNetQ2Top1
                        | F::MyBilateralNetQ2Top2
                        | F::MyBilateralNetQ2Top3
                        | F::MyBilateralNetQ2Top4
                        | F::MyBilateralNetQ2Top5
                )
            })
        })
    }

    /// Fills the evaluation buffers (fields and registers) for one evaluation; the caller
    /// evaluates and hands them back with `return_buffers`.
    fn prepare(
        &mut self,
        agent: u32,
        tree: Tree,
        pay: Option<(Slot, bool)>,
        aggs: &PhaseAggs,
        c: &CompiledPolicy,
    ) -> (Vec<f64>, Vec<f64>) {
        let mut fields = std::mem::take(&mut self.scratch.fields);
        fields.resize(FIELD_COUNT, 0.0);
        self.fill_fields(agent, pay, c.fields_used(tree), aggs, &mut fields);
        let mut regs = std::mem::take(&mut self.scratch.registers);
        regs.clear();
        let stored = &self.st.agents[agent as usize].registers;
        regs.extend(
            c.registers()
                .iter()
                .map(|r| stored.get(r).copied().unwrap_or(0.0)),
        );
        (fields, regs)
    }

    fn return_buffers(&mut self, fields: Vec<f64>, regs: Vec<f64>) {
        self.scratch.fields = fields;
        self.scratch.registers = regs;
    }

    fn conversion_warnings(
        &mut self,
        c: &CompiledPolicy,
        tree: Tree,
        node: Option<u32>,
        warnings: &Warnings,
        agent: u32,
        tx: Option<u64>,
    ) {
        let node_id = node.and_then(|n| c.node_id(n)).unwrap_or("").to_string();
        for w in warnings.iter() {
            let (code, msg) = match w.kind {
                ConversionWarningKind::Clamped { .. } => {
                    ("Clamped", "value clamped into its range")
                }
                ConversionWarningKind::NegativeNotCarriedOut => (
                    "NegativeAmount",
                    "negative amount: the action was not carried out",
                ),
                ConversionWarningKind::NegativeBudgetZeroed => {
                    ("NegativeAmount", "negative budget amount set to 0")
                }
                ConversionWarningKind::SplitBelowTwo => {
                    ("SplitCountBelowTwo", "fewer than 2 pieces: released whole")
                }
            };
            let message = format!("{}: {msg}", w.parameter);
            self.emit(
                EventType::PolicyWarning,
                tx,
                Some(agent),
                None,
                None,
                &[
                    (Key::Code, Val::Str(code)),
                    (Key::Tree, Val::Str(tree.json_name())),
                    (Key::NodeId, Val::Str(&node_id)),
                    (Key::Value, Val::F64(w.value)),
                    (Key::Message, Val::Str(&message)),
                ],
            );
        }
    }

    /// Handles an evaluation error: `fail` stops the run, `hold` records it and skips.
    fn policy_fault(
        &mut self,
        c: &CompiledPolicy,
        agent: u32,
        tx: Option<u64>,
        e: EvalError,
    ) -> EngineResult<()> {
        let tx_id = tx.map(|k| {
            let mut s = String::new();
            crate::state::tx_id_of(k, &mut s);
            s
        });
        if self.setup.cfg.on_policy_error == OnPolicyError::Fail {
            return Err(EngineError::PolicyEvaluation(Box::new(PolicyFailure {
                kind: e.kind.as_str().to_string(),
                policy_id: c.policy_id().to_string(),
                agent_id: self.setup.ids[agent as usize].clone(),
                tree: e.tree.json_name().to_string(),
                node_id: e.node_id,
                pointer: e.pointer,
                tx_id,
                tick: self.st.tick,
                message: e.message,
            })));
        }
        self.emit(
            EventType::PolicyEvaluationError,
            tx,
            Some(agent),
            None,
            None,
            &[
                (Key::Kind, Val::Str(e.kind.as_str())),
                (Key::PolicyId, Val::Str(c.policy_id())),
                (Key::Tree, Val::Str(e.tree.json_name())),
                (Key::NodeId, Val::Str(&e.node_id)),
                (Key::Pointer, Val::Str(&e.pointer)),
                (Key::Message, Val::Str(&e.message)),
            ],
        );
        Ok(())
    }

    /// Evaluates one tree for `agent` (and the payment in `pay`) and turns the language's
    /// decision into the engine's action with `convert`. Conversion warnings become
    /// `PolicyWarning` events; an evaluation error stops the run (`fail`) or is recorded and
    /// skipped (`hold`). Returns the action with its decision path (node ids, when recorded).
    fn run_tree<A>(
        &mut self,
        agent: u32,
        tree: Tree,
        pay: Option<(Slot, bool)>,
        aggs: &PhaseAggs,
        eval: impl Fn(&CompiledPolicy, &EvalContext) -> Result<Evaluated<A>, EvalError>,
    ) -> EngineResult<Outcome<(A, Vec<String>)>> {
        let tx = pay.and_then(|(slot, _)| self.st.payments.get(slot).map(|p| p.key));
        let Some(c) = self.compiled_for(agent) else {
            return Ok(Outcome::Skipped);
        };
        let (fields, regs) = self.prepare(agent, tree, pay, aggs, &c);
        let ctx = EvalContext {
            fields: &fields,
            registers: &regs,
            current_tick: i64::from(self.st.tick),
        };
        let res = eval(&c, &ctx);
        self.return_buffers(fields, regs);
        match res {
            Err(e) => {
                self.policy_fault(&c, agent, tx, e)?;
                Ok(Outcome::Skipped)
            }
            Ok(ev) => {
                self.conversion_warnings(&c, tree, ev.node, &ev.warnings, agent, tx);
                let path = self.path_of(&c, &ev.path);
                Ok(Outcome::Decided((ev.decision, path)))
            }
        }
    }

    /// The node ids of a decision path, when decision paths are recorded.
    fn path_of(&self, c: &CompiledPolicy, path: &crate::policy::DecisionPath) -> Vec<String> {
        if self.setup.cfg.settlement.record_decision_paths {
            c.path_ids(path).into_iter().map(str::to_string).collect()
        } else {
            Vec::new()
        }
    }

    /// When an agent's payment tree reads no field whose value depends on the payment (the
    /// registry decides which: `FieldSpec::payment_dependent`, compiled into
    /// `CompiledPolicy::payment_tree_reads_payment`), every Q1 payment gets the same decision
    /// from the snapshot: evaluate it once. Returns `None` (evaluate per payment) when the
    /// tree reads such a field or the agent-level evaluation produced a warning or an error,
    /// whose events must name each payment.
    pub(super) fn dsl_payment_for_agent(
        &mut self,
        agent: u32,
        aggs: &PhaseAggs,
    ) -> Option<(PaymentAction, Vec<String>)> {
        let c = self.compiled_for(agent)?;
        if c.payment_tree_reads_payment() {
            return None;
        }
        let (fields, regs) = self.prepare(agent, Tree::Payment, None, aggs, &c);
        let ctx = EvalContext {
            fields: &fields,
            registers: &regs,
            current_tick: i64::from(self.st.tick),
        };
        let res = c.eval_payment(&ctx);
        self.return_buffers(fields, regs);
        let ev = res.ok().filter(|ev| ev.warnings.is_empty())?;
        Some((payment_action(ev.decision), self.path_of(&c, &ev.path)))
    }

    /// Evaluates the payment tree for one payment (Q1 or, with `in_q2`, Q2).
    pub(super) fn dsl_payment(
        &mut self,
        agent: u32,
        slot: Slot,
        in_q2: bool,
        aggs: &PhaseAggs,
    ) -> EngineResult<Outcome<(PaymentAction, Vec<String>)>> {
        self.run_tree(agent, Tree::Payment, Some((slot, in_q2)), aggs, |c, ctx| {
            c.eval_payment(ctx).map(|ev| owned(ev, payment_action))
        })
    }

    /// Evaluates the bank tree of one agent.
    pub(super) fn dsl_bank(
        &mut self,
        agent: u32,
        aggs: &PhaseAggs,
    ) -> EngineResult<Outcome<(BankAction, Vec<String>)>> {
        // The setup is shared (Arc): borrowing the id index costs nothing per evaluation.
        let setup = Arc::clone(&self.setup);
        self.run_tree(agent, Tree::Bank, None, aggs, |c, ctx| {
            c.eval_bank(ctx)
                .map(|ev| owned(ev, |d| bank_action(c, &setup.index, d)))
        })
    }

    /// Evaluates one collateral tree of one agent.
    pub(super) fn dsl_collateral(
        &mut self,
        agent: u32,
        layer: Layer,
        aggs: &PhaseAggs,
    ) -> EngineResult<Outcome<(CollateralAction, Vec<String>)>> {
        let tree = match layer {
            Layer::Strategic => Tree::StrategicCollateral,
            Layer::EndOfTick => Tree::EndOfTickCollateral,
        };
        self.run_tree(agent, tree, None, aggs, |c, ctx| {
            c.eval_collateral(tree, ctx)
                .map(|ev| owned(ev, collateral_action))
        })
    }

    /// Emits a policy-driven event, with `decision_path` when one is being applied.
    pub(super) fn emit_policy(
        &mut self,
        ty: EventType,
        tx: Option<u64>,
        agent: Option<u32>,
        cp: Option<u32>,
        amount: Option<i64>,
        details: &[(Key, Val<'_>)],
    ) {
        if self.decision_path.is_empty() {
            self.emit(ty, tx, agent, cp, amount, details);
            return;
        }
        let path = std::mem::take(&mut self.decision_path);
        {
            let refs: Vec<&str> = path.iter().map(String::as_str).collect();
            let mut all: Vec<(Key, Val<'_>)> = details.to_vec();
            all.push((Key::DecisionPath, Val::StrList(&refs)));
            self.emit(ty, tx, agent, cp, amount, &all);
        }
        self.decision_path = path;
    }
}

/// An evaluation with its decision turned into an owned engine action.
fn owned<T, A>(ev: Evaluated<T>, f: impl FnOnce(T) -> A) -> Evaluated<A> {
    Evaluated {
        decision: f(ev.decision),
        node: ev.node,
        path: ev.path,
        warnings: ev.warnings,
    }
}

/// The language's bank decision in the engine's terms (register slots become names, focus ids
/// become agent indices).
fn bank_action(
    c: &CompiledPolicy,
    index: &std::collections::BTreeMap<String, u32>,
    d: BankDecision<'_>,
) -> BankAction {
    let reg = |slot: u16| {
        c.registers()
            .get(slot as usize)
            .cloned()
            .unwrap_or_default()
    };
    match d {
        BankDecision::SetReleaseBudget {
            max_value,
            focus,
            max_per_counterparty,
        } => BankAction::SetReleaseBudget {
            max_value,
            focus: focus.map(|ids| ids.iter().filter_map(|id| index.get(id).copied()).collect()),
            max_per_counterparty,
        },
        BankDecision::SetState {
            slot,
            value,
            reason,
        } => BankAction::SetState {
            key: reg(slot),
            value,
            reason: reason.to_string(),
        },
        BankDecision::AddState {
            slot,
            value,
            reason,
        } => BankAction::AddState {
            key: reg(slot),
            value,
            reason: reason.to_string(),
        },
        BankDecision::NoAction => BankAction::NoAction,
    }
}

/// The language's collateral decision in the engine's terms.
fn collateral_action(d: CollateralDecision<'_>) -> CollateralAction {
    match d {
        CollateralDecision::Post {
            amount,
            reason,
            auto_withdraw_after_ticks,
        } => CollateralAction::Post {
            amount,
            reason: reason.to_string(),
            auto_withdraw_after_ticks,
        },
        CollateralDecision::Withdraw { amount, reason } => CollateralAction::Withdraw {
            amount,
            reason: reason.to_string(),
        },
        CollateralDecision::Hold => CollateralAction::Hold,
    }
}
