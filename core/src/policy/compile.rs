//! Compilation of a validated document into an immutable [`CompiledPolicy`] (§9.1).
//!
//! Nodes go into one flat array (children as indices). Every condition and numeric action
//! parameter becomes a short instruction sequence for the stack machine of `eval.rs`, with
//! `{param}` replaced by its resolved value and field-free subexpressions folded by the same
//! arithmetic the evaluator uses. A subexpression whose folding fails (say, a division by a
//! parameter that is 0) is left to run time, so it fails only if that branch is taken.

use std::collections::{BTreeMap, BTreeSet};

use super::actions::ActionKind;
use super::ast::{
    const_cond, const_value, Action, ArgValue, CompOp, Cond, CondKind, Doc, Expr, ExprKind, Node,
    NodeKind,
};
use super::compiled::{
    CKind, CNode, CodeRange, CompiledPolicy, Instr, NumArg, Op, Template, STACK_SIZE,
};
use super::decision::RtgsPriority;
use super::error::{PolicyCompileError, Problems, ValidationReport};
use super::params;
use super::registry::{field_by_name, Tree, REGISTER_PREFIX};
use super::validate::analyse;

/// Validates `doc`, applies `overrides` (§5.2) and compiles.
pub fn compile(
    doc: &[u8],
    overrides: &BTreeMap<String, f64>,
) -> Result<CompiledPolicy, PolicyCompileError> {
    let analysis = analyse(doc, None);
    let mut problems = analysis.problems;
    let Some(ast) = analysis.doc.filter(|_| !problems.has_errors()) else {
        return Err(invalid(None, problems));
    };
    let resolved = params::resolve(
        &ast.params,
        overrides,
        ast.params_loc.as_ref(),
        &mut problems,
    );
    let id = ast.policy_id.clone();
    if problems.has_errors() {
        return Err(invalid(id, problems));
    }
    let warnings = ValidationReport::from_problems(id.clone(), problems).warnings;
    let mut c = Compiler::new(&ast, resolved);
    for t in &ast.trees {
        c.tree = t.tree;
        let root = c.node(&t.root)?;
        c.out.roots[t.tree.index()] = Some(root);
    }
    for used in &mut c.out.fields_used {
        used.sort();
        used.dedup();
    }
    c.out.reads_payment = c.out.fields_used[Tree::Payment.index()]
        .iter()
        .any(|f| f.spec().payment_dependent());
    c.out.policy_id = id.unwrap_or_default();
    c.out.document = analysis.text;
    c.out.warnings = warnings;
    Ok(c.out)
}

fn invalid(id: Option<String>, p: Problems) -> PolicyCompileError {
    PolicyCompileError::Invalid(ValidationReport::from_problems(id, p))
}

fn internal(msg: &str) -> PolicyCompileError {
    PolicyCompileError::Internal(msg.to_string())
}

struct Compiler {
    out: CompiledPolicy,
    tree: Tree,
}

impl Compiler {
    fn new(ast: &Doc, parameters: BTreeMap<String, f64>) -> Self {
        let mut regs = BTreeSet::new();
        for t in &ast.trees {
            collect_registers(&t.root, &mut regs);
        }
        Compiler {
            out: CompiledPolicy {
                policy_id: String::new(),
                document: String::new(),
                parameters,
                roots: [None; 4],
                nodes: Vec::new(),
                code: Vec::new(),
                pointers: Vec::new(),
                fields_used: Default::default(),
                registers: regs.into_iter().collect(),
                uses_q2: false,
                reads_payment: false,
                warnings: Vec::new(),
            },
            tree: Tree::Payment,
        }
    }

    fn pointer(&mut self, ptr: &str) -> u32 {
        self.out.pointers.push(ptr.to_string());
        (self.out.pointers.len() - 1) as u32
    }

    fn here(&self) -> u32 {
        self.out.code.len() as u32
    }

    fn emit(&mut self, op: Op, src: u32) -> usize {
        self.out.code.push(Instr { op, src });
        self.out.code.len() - 1
    }

    /// Points the jump at `at` to the current end of the code.
    fn patch(&mut self, at: usize) {
        let end = self.here();
        if let Some(i) = self.out.code.get_mut(at) {
            i.op = match i.op {
                Op::Div0(_) => Op::Div0(end),
                Op::AndJump(_) => Op::AndJump(end),
                Op::OrJump(_) => Op::OrJump(end),
                other => other,
            };
        }
    }

    fn node(&mut self, n: &Node) -> Result<u32, PolicyCompileError> {
        let idx = self.out.nodes.len() as u32;
        let id =
            n.id.as_ref()
                .map(|(s, _)| s.clone())
                .ok_or_else(|| internal("node without id"))?;
        // Reserve the slot so a parent precedes its children (root first, depth-first order).
        self.out.nodes.push(CNode {
            id,
            ptr: n.loc.ptr.clone(),
            kind: CKind::Action(Template::NoAction),
        });
        let kind = match &n.kind {
            NodeKind::Condition {
                cond,
                on_true,
                on_false,
            } => {
                let code = self.cond_code(cond)?;
                let on_true = self.node(on_true)?;
                let on_false = self.node(on_false)?;
                CKind::Cond {
                    code,
                    on_true,
                    on_false,
                }
            }
            NodeKind::Action(a) => CKind::Action(self.action(a)?),
            NodeKind::Invalid => return Err(internal("invalid node in a valid document")),
        };
        if let Some(slot) = self.out.nodes.get_mut(idx as usize) {
            slot.kind = kind;
        }
        Ok(idx)
    }

    fn cond_code(&mut self, c: &Cond) -> Result<CodeRange, PolicyCompileError> {
        let start = self.here();
        self.cond(c)?;
        self.finish_code(start)
    }

    fn expr_code(&mut self, e: &Expr) -> Result<CodeRange, PolicyCompileError> {
        let start = self.here();
        self.expr(e)?;
        self.finish_code(start)
    }

    /// Checks the sequence leaves one value and never needs more than [`STACK_SIZE`].
    fn finish_code(&mut self, start: u32) -> Result<CodeRange, PolicyCompileError> {
        let end = self.here();
        let (mut depth, mut max) = (0i64, 0i64);
        for i in self.out.code.get(start as usize..).unwrap_or(&[]) {
            depth += match i.op {
                Op::Const(_) | Op::Field(_) | Op::Reg(_) => 1,
                Op::Bin(_) | Op::Cmp(_) | Op::AndJump(_) | Op::OrJump(_) => -1,
                Op::Un(_) | Op::Not => 0,
                Op::Clamp | Op::Div0(_) => -2,
            };
            max = max.max(depth);
        }
        if depth != 1 || max > STACK_SIZE as i64 {
            return Err(internal("expression does not fit the evaluation stack"));
        }
        Ok(CodeRange { start, end })
    }

    fn param_value(&self) -> impl Fn(&str) -> Option<f64> + '_ {
        |name| self.out.parameters.get(name).copied()
    }

    fn cond(&mut self, c: &Cond) -> Result<(), PolicyCompileError> {
        let src = self.pointer(&c.loc.ptr);
        let folded = const_cond(c, &self.param_value());
        if let Some(b) = folded {
            self.emit(Op::Const(if b { 1.0 } else { 0.0 }), src);
            return Ok(());
        }
        match &c.kind {
            CondKind::Cmp(op, l, r) => {
                self.expr(l)?;
                self.expr(r)?;
                self.emit(Op::Cmp(*op), src);
            }
            CondKind::Not(inner) => {
                self.cond(inner)?;
                self.emit(Op::Not, src);
            }
            CondKind::And(cs) | CondKind::Or(cs) => {
                let is_and = matches!(c.kind, CondKind::And(_));
                let mut jumps = Vec::new();
                let mut emitted = false;
                for item in cs {
                    // A constant that cannot decide is skipped; one that decides ends the list,
                    // since later items are never evaluated.
                    let k = const_cond(item, &self.param_value());
                    if k == Some(is_and) {
                        continue;
                    }
                    if emitted {
                        let j = self.emit(
                            if is_and {
                                Op::AndJump(0)
                            } else {
                                Op::OrJump(0)
                            },
                            src,
                        );
                        jumps.push(j);
                    }
                    self.cond(item)?;
                    emitted = true;
                    if k.is_some() {
                        break;
                    }
                }
                if !emitted {
                    self.emit(Op::Const(if is_and { 1.0 } else { 0.0 }), src);
                }
                for j in jumps {
                    self.patch(j);
                }
            }
            CondKind::Invalid => return Err(internal("invalid condition in a valid document")),
        }
        Ok(())
    }

    fn expr(&mut self, e: &Expr) -> Result<(), PolicyCompileError> {
        let src = self.pointer(&e.loc.ptr);
        let folded = const_value(e, &self.param_value());
        if let Some(x) = folded {
            self.emit(Op::Const(x), src);
            return Ok(());
        }
        match &e.kind {
            ExprKind::Lit(x) => {
                self.emit(Op::Const(*x), src);
            }
            ExprKind::Param(name, _) => {
                let x = self
                    .out
                    .parameters
                    .get(name)
                    .copied()
                    .ok_or_else(|| internal("undeclared parameter"))?;
                self.emit(Op::Const(x), src);
            }
            ExprKind::Field(name, _) => {
                let op = self.field(name)?;
                self.emit(op, src);
            }
            ExprKind::Compute(c) => {
                let csrc = self.pointer(&c.loc.ptr);
                let mut args = c.args.iter();
                match c.op {
                    CompOp::Div0 => {
                        let (Some(n), Some(d), Some(def)) = (args.next(), args.next(), args.next())
                        else {
                            return Err(internal("div0 without three operands"));
                        };
                        self.expr(n)?;
                        self.expr(d)?;
                        let j = self.emit(Op::Div0(0), csrc);
                        self.expr(def)?;
                        self.patch(j);
                    }
                    CompOp::Clamp => {
                        for a in args {
                            self.expr(a)?;
                        }
                        self.emit(Op::Clamp, csrc);
                    }
                    CompOp::Ceil | CompOp::Floor | CompOp::Round | CompOp::Abs => {
                        self.expr(
                            args.next()
                                .ok_or_else(|| internal("unary without operand"))?,
                        )?;
                        self.emit(Op::Un(c.op), csrc);
                    }
                    _ => {
                        // Binary operators, and min/max folded pairwise left to right.
                        self.expr(
                            args.next()
                                .ok_or_else(|| internal("operator without operand"))?,
                        )?;
                        for a in args {
                            self.expr(a)?;
                            self.emit(Op::Bin(c.op), csrc);
                        }
                    }
                }
            }
            ExprKind::Invalid => return Err(internal("invalid value in a valid document")),
        }
        Ok(())
    }

    fn field(&mut self, name: &str) -> Result<Op, PolicyCompileError> {
        if name.starts_with(REGISTER_PREFIX) {
            let slot = self
                .out
                .registers
                .iter()
                .position(|r| r == name)
                .ok_or_else(|| internal("unknown register"))?;
            return Ok(Op::Reg(slot as u16));
        }
        let id = field_by_name(name).ok_or_else(|| internal("unknown field"))?;
        self.out.fields_used[self.tree.index()].push(id);
        Ok(Op::Field(id))
    }

    fn num(
        &mut self,
        a: &Action,
        name: &'static str,
    ) -> Result<Option<NumArg>, PolicyCompileError> {
        let Some(arg) = a.args.iter().find(|g| g.spec.name == name) else {
            return Ok(None);
        };
        let ArgValue::Num(e) = &arg.value else {
            return Err(internal("numeric parameter without a value"));
        };
        let src = self.pointer(&arg.loc.ptr);
        let code = self.expr_code(e)?;
        Ok(Some(NumArg { code, name, src }))
    }

    fn req(&mut self, a: &Action, name: &'static str) -> Result<NumArg, PolicyCompileError> {
        self.num(a, name)?
            .ok_or_else(|| internal("missing required parameter"))
    }

    fn action(&mut self, a: &Action) -> Result<Template, PolicyCompileError> {
        let spec = a
            .spec
            .ok_or_else(|| internal("unknown action in a valid document"))?;
        let text = |name: &str| {
            a.args
                .iter()
                .find(|g| g.spec.name == name)
                .and_then(|g| match &g.value {
                    ArgValue::Text(s, _) => Some(s.clone()),
                    _ => None,
                })
        };
        let rtgs = |name: &str| text(name).and_then(|s| RtgsPriority::from_name(&s));
        let reason = |default: &str| text("reason").unwrap_or_else(|| default.to_string());
        Ok(match spec.kind {
            ActionKind::Release | ActionKind::ReleaseWithCredit => Template::Release {
                with_credit: spec.kind == ActionKind::ReleaseWithCredit,
                priority_flag: text("priority_flag").map(|f| match f.as_str() {
                    "HIGH" => 10,
                    "MEDIUM" => 5,
                    _ => 1,
                }),
                timed_for_tick: self.num(a, "timed_for_tick")?,
                rtgs_priority: rtgs("rtgs_priority"),
            },
            ActionKind::Split | ActionKind::PaceAndRelease => Template::Split {
                num_splits: self.req(a, "num_splits")?,
            },
            ActionKind::StaggerSplit => Template::StaggerSplit {
                num_splits: self.req(a, "num_splits")?,
                first_now: self.req(a, "stagger_first_now")?,
                gap: self.req(a, "stagger_gap_ticks")?,
                boost: self.req(a, "priority_boost_children")?,
            },
            ActionKind::Hold => Template::Hold {
                reason: reason("PolicyDecision"),
            },
            ActionKind::Drop => Template::Drop,
            ActionKind::Reprioritize => Template::Reprioritize {
                new_priority: self.req(a, "new_priority")?,
            },
            ActionKind::WithdrawFromRtgs => {
                self.out.uses_q2 |= self.tree == Tree::Payment;
                Template::WithdrawFromRtgs
            }
            ActionKind::ResubmitToRtgs => {
                self.out.uses_q2 |= self.tree == Tree::Payment;
                Template::ResubmitToRtgs {
                    rtgs_priority: rtgs("rtgs_priority")
                        .ok_or_else(|| internal("missing rtgs_priority"))?,
                }
            }
            ActionKind::SetReleaseBudget => Template::SetReleaseBudget {
                max_value: self.req(a, "max_value_to_release")?,
                focus: a.args.iter().find_map(|g| match &g.value {
                    ArgValue::List(ids) => Some(ids.iter().map(|(s, _)| s.clone()).collect()),
                    _ => None,
                }),
                max_per_counterparty: self.num(a, "max_per_counterparty")?,
            },
            ActionKind::SetState | ActionKind::AddState => {
                let key = text("key").ok_or_else(|| internal("missing register key"))?;
                let slot = self
                    .out
                    .registers
                    .iter()
                    .position(|r| *r == key)
                    .ok_or_else(|| internal("unknown register"))?;
                Template::SetState {
                    slot: slot as u16,
                    value: self.req(a, "value")?,
                    reason: reason("policy_action"),
                    add: spec.kind == ActionKind::AddState,
                }
            }
            ActionKind::NoAction => Template::NoAction,
            ActionKind::PostCollateral => Template::Post {
                amount: self.req(a, "amount")?,
                reason: reason("PolicyDecision"),
                auto_withdraw: self.num(a, "auto_withdraw_after_ticks")?,
            },
            ActionKind::WithdrawCollateral => Template::Withdraw {
                amount: self.req(a, "amount")?,
                reason: reason("PolicyDecision"),
            },
            ActionKind::HoldCollateral => Template::HoldCollateral,
        })
    }
}

/// Every register a tree names, read or written.
fn collect_registers(n: &Node, out: &mut BTreeSet<String>) {
    fn expr(e: &Expr, out: &mut BTreeSet<String>) {
        match &e.kind {
            ExprKind::Field(name, _) if name.starts_with(REGISTER_PREFIX) => {
                out.insert(name.clone());
            }
            ExprKind::Compute(c) => c.args.iter().for_each(|a| expr(a, out)),
            _ => {}
        }
    }
    fn cond(c: &Cond, out: &mut BTreeSet<String>) {
        match &c.kind {
            CondKind::Cmp(_, l, r) => {
                expr(l, out);
                expr(r, out);
            }
            CondKind::And(cs) | CondKind::Or(cs) => cs.iter().for_each(|c| cond(c, out)),
            CondKind::Not(c) => cond(c, out),
            CondKind::Invalid => {}
        }
    }
    match &n.kind {
        NodeKind::Condition {
            cond: c,
            on_true,
            on_false,
        } => {
            cond(c, out);
            collect_registers(on_true, out);
            collect_registers(on_false, out);
        }
        NodeKind::Action(a) => {
            for g in &a.args {
                match &g.value {
                    ArgValue::Num(e) => expr(e, out),
                    ArgValue::Text(s, _)
                        if s.starts_with(REGISTER_PREFIX) && g.spec.name == "key" =>
                    {
                        out.insert(s.clone());
                    }
                    _ => {}
                }
            }
        }
        NodeKind::Invalid => {}
    }
}
