//! Evaluation of a compiled policy (§9): a loop from the root to an action node, conditions
//! and numeric parameters run on a fixed-size operand stack, then the action's parameters
//! converted by §6.1 (`convert.rs`). No recursion, no allocation (except to build an error),
//! no hashing.

use super::ast::{apply, approx_eq, compare, ArithError, CompOp, EPS};
use super::compiled::{CKind, CodeRange, CompiledPolicy, Op, Template, STACK_SIZE};
use super::decision::{
    BankDecision, CollateralDecision, DecisionPath, EvalContext, Evaluated, PaymentDecision,
    Warnings,
};
use super::error::{EvalError, EvalErrorKind};
use super::registry::{FieldId, Tree};

/// A failure inside one instruction sequence, before strings are attached.
#[derive(Clone, Copy, Debug)]
pub(super) struct Fault {
    kind: EvalErrorKind,
    src: u32,
    what: What,
}

#[derive(Clone, Copy, Debug)]
pub(super) enum What {
    Division,
    Nan,
    FieldNan(FieldId),
    MissingField(FieldId),
    MissingRegister(u16),
    Machine,
    NonFinite(f64),
    BeyondI64(f64),
    RegisterOverflow,
}

pub(super) fn fault(kind: EvalErrorKind, src: u32, what: What) -> Fault {
    Fault { kind, src, what }
}

impl CompiledPolicy {
    /// Runs one instruction sequence and returns its value.
    pub(super) fn run(&self, range: CodeRange, ctx: &EvalContext) -> Result<f64, Fault> {
        let mut stack = [0f64; STACK_SIZE];
        let mut sp = 0usize;
        let mut pc = range.start as usize;
        let end = range.end as usize;
        let machine = |src| fault(EvalErrorKind::OutOfRange, src, What::Machine);
        while pc < end {
            let ins = *self.code.get(pc).ok_or(machine(0))?;
            let src = ins.src;
            // Pops two operands (b on top); pushes are checked at the write.
            macro_rules! pop {
                () => {{
                    sp = sp.checked_sub(1).ok_or(machine(src))?;
                    *stack.get(sp).ok_or(machine(src))?
                }};
            }
            macro_rules! push {
                ($v:expr) => {{
                    *stack.get_mut(sp).ok_or(machine(src))? = $v;
                    sp += 1;
                }};
            }
            let arith = |r: Result<f64, ArithError>| {
                r.map_err(|e| match e {
                    ArithError::DivisionByZero => {
                        fault(EvalErrorKind::DivisionByZero, src, What::Division)
                    }
                    ArithError::NotANumber => fault(EvalErrorKind::NotANumber, src, What::Nan),
                })
            };
            match ins.op {
                Op::Const(x) => push!(x),
                Op::Field(id) => {
                    let x = *ctx.fields.get(id as usize).ok_or(fault(
                        EvalErrorKind::OutOfRange,
                        src,
                        What::MissingField(id),
                    ))?;
                    if x.is_nan() {
                        return Err(fault(EvalErrorKind::NotANumber, src, What::FieldNan(id)));
                    }
                    push!(x)
                }
                Op::Reg(slot) => {
                    let x = *ctx.registers.get(slot as usize).ok_or(fault(
                        EvalErrorKind::OutOfRange,
                        src,
                        What::MissingRegister(slot),
                    ))?;
                    if x.is_nan() {
                        return Err(fault(EvalErrorKind::NotANumber, src, What::Nan));
                    }
                    push!(x)
                }
                Op::Bin(op) => {
                    let b = pop!();
                    let a = pop!();
                    push!(arith(apply(op, &[a, b]))?)
                }
                Op::Un(op) => {
                    let a = pop!();
                    push!(arith(apply(op, &[a]))?)
                }
                Op::Clamp => {
                    let hi = pop!();
                    let lo = pop!();
                    let v = pop!();
                    push!(arith(apply(CompOp::Clamp, &[v, lo, hi]))?)
                }
                Op::Div0(target) => {
                    let d = pop!();
                    let n = pop!();
                    if d.abs() >= EPS {
                        push!(arith(apply(CompOp::Div, &[n, d]))?);
                        pc = target as usize;
                        continue;
                    }
                }
                Op::Cmp(op) => {
                    let b = pop!();
                    let a = pop!();
                    push!(if compare(op, a, b) { 1.0 } else { 0.0 })
                }
                Op::Not => {
                    let a = pop!();
                    push!(if approx_eq(a, 0.0) { 1.0 } else { 0.0 })
                }
                Op::AndJump(target) | Op::OrJump(target) => {
                    let top = *stack.get(sp.wrapping_sub(1)).ok_or(machine(src))?;
                    let decides = (top == 0.0) == matches!(ins.op, Op::AndJump(_));
                    if decides {
                        pc = target as usize;
                        continue;
                    }
                    sp -= 1;
                }
            }
            pc += 1;
        }
        if sp != 1 {
            return Err(machine(0));
        }
        Ok(stack[0])
    }

    fn error(&self, tree: Tree, node: u32, f: Fault) -> EvalError {
        let node_id = self.node_id(node).unwrap_or("").to_string();
        let pointer = self
            .pointers
            .get(f.src as usize)
            .cloned()
            .unwrap_or_default();
        let message = match f.what {
            What::Division => "division by a value within 1e-9 of zero".to_string(),
            What::Nan => "the computation yields NaN".to_string(),
            What::FieldNan(id) => format!("field `{}` is NaN", id.name()),
            What::MissingField(id) => format!("the context has no value for field `{}`", id.name()),
            What::MissingRegister(s) => format!(
                "the context has no value for register `{}`",
                self.registers.get(s as usize).map_or("?", String::as_str)
            ),
            What::Machine => "internal evaluator error".to_string(),
            What::NonFinite(x) => format!("the action parameter is {x}, not a finite number"),
            What::BeyondI64(x) => {
                format!("the action parameter {x} is beyond the 64-bit integer range")
            }
            What::RegisterOverflow => "the register would become non-finite".to_string(),
        };
        EvalError {
            kind: f.kind,
            tree,
            node_id,
            pointer,
            message,
        }
    }

    /// Walks from the root of `tree` to an action node.
    fn walk(
        &self,
        tree: Tree,
        ctx: &EvalContext,
        path: &mut DecisionPath,
    ) -> Result<Option<(u32, &Template)>, EvalError> {
        let Some(mut idx) = self.roots[tree.index()] else {
            return Ok(None);
        };
        loop {
            let node = self.nodes.get(idx as usize);
            let Some(node) = node.filter(|_| path.push(idx)) else {
                return Err(self.error(
                    tree,
                    idx,
                    fault(EvalErrorKind::OutOfRange, 0, What::Machine),
                ));
            };
            match &node.kind {
                CKind::Cond {
                    code,
                    on_true,
                    on_false,
                } => {
                    let v = self.run(*code, ctx).map_err(|f| self.error(tree, idx, f))?;
                    idx = if v != 0.0 { *on_true } else { *on_false };
                }
                CKind::Action(t) => return Ok(Some((idx, t))),
            }
        }
    }

    pub fn eval_payment(
        &self,
        ctx: &EvalContext,
    ) -> Result<Evaluated<PaymentDecision<'_>>, EvalError> {
        let mut path = DecisionPath::EMPTY;
        let Some((idx, t)) = self.walk(Tree::Payment, ctx, &mut path)? else {
            return Ok(Evaluated {
                decision: PaymentDecision::RELEASE,
                node: None,
                path,
                warnings: Warnings::EMPTY,
            });
        };
        let mut w = Warnings::EMPTY;
        let d = self
            .payment(t, ctx, &mut w)
            .map_err(|f| self.error(Tree::Payment, idx, f))?;
        Ok(Evaluated {
            decision: d,
            node: Some(idx),
            path,
            warnings: w,
        })
    }

    pub fn eval_bank(&self, ctx: &EvalContext) -> Result<Evaluated<BankDecision<'_>>, EvalError> {
        let mut path = DecisionPath::EMPTY;
        let Some((idx, t)) = self.walk(Tree::Bank, ctx, &mut path)? else {
            return Ok(Evaluated {
                decision: BankDecision::NoAction,
                node: None,
                path,
                warnings: Warnings::EMPTY,
            });
        };
        let mut w = Warnings::EMPTY;
        let d = self
            .bank(t, ctx, &mut w)
            .map_err(|f| self.error(Tree::Bank, idx, f))?;
        Ok(Evaluated {
            decision: d,
            node: Some(idx),
            path,
            warnings: w,
        })
    }

    /// Evaluates a collateral tree (`StrategicCollateral` or `EndOfTickCollateral`).
    pub fn eval_collateral(
        &self,
        tree: Tree,
        ctx: &EvalContext,
    ) -> Result<Evaluated<CollateralDecision<'_>>, EvalError> {
        if !tree.is_collateral() {
            return Err(EvalError {
                kind: EvalErrorKind::OutOfRange,
                tree,
                node_id: String::new(),
                pointer: String::new(),
                message: format!("`{}` is not a collateral tree", tree.json_name()),
            });
        }
        let mut path = DecisionPath::EMPTY;
        let Some((idx, t)) = self.walk(tree, ctx, &mut path)? else {
            return Ok(Evaluated {
                decision: CollateralDecision::Hold,
                node: None,
                path,
                warnings: Warnings::EMPTY,
            });
        };
        let mut w = Warnings::EMPTY;
        let d = self
            .collateral(t, ctx, &mut w)
            .map_err(|f| self.error(tree, idx, f))?;
        Ok(Evaluated {
            decision: d,
            node: Some(idx),
            path,
            warnings: w,
        })
    }

    /// The node ids of a decision path, root first (allocates; for events only).
    pub fn path_ids(&self, path: &DecisionPath) -> Vec<&str> {
        path.as_slice()
            .iter()
            .filter_map(|&i| self.node_id(i))
            .collect()
    }
}
