//! The typed form of a policy document, as read by `parse`: shapes are checked, names are not
//! yet resolved. Every element keeps its location so later checks and the compiler can point
//! at it. Parts that could not be read are `Invalid`; a document containing one has errors
//! and is never compiled.

use super::actions::{ActionSpec, ParamSpec};
use super::registry::Tree;

/// Where an element is: its RFC 6901 pointer and the byte offset of its JSON value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loc {
    pub ptr: String,
    pub offset: usize,
}

#[derive(Debug, Default)]
pub struct Doc {
    pub policy_id: Option<String>,
    /// Location of the `parameters` object (or the document when absent).
    pub params_loc: Option<Loc>,
    pub params: Vec<ParamDecl>,
    /// Present trees, in document order.
    pub trees: Vec<TreeRoot>,
    /// Tree keys holding something other than null (read or not).
    pub tree_values: usize,
}

#[derive(Debug)]
pub struct TreeRoot {
    pub tree: Tree,
    pub root: Node,
}

/// A declared parameter (§5.1). `ok` is false when its declaration has errors.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamDecl {
    pub name: String,
    pub loc: Loc,
    pub value: f64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub step: Option<f64>,
    pub log: bool,
    pub int: bool,
    pub ok: bool,
}

#[derive(Debug)]
pub struct Node {
    pub loc: Loc,
    /// The `node_id` and the location of its string.
    pub id: Option<(String, Loc)>,
    pub kind: NodeKind,
}

#[derive(Debug)]
pub enum NodeKind {
    Condition {
        cond: Cond,
        on_true: Box<Node>,
        on_false: Box<Node>,
    },
    Action(Action),
    Invalid,
}

#[derive(Debug)]
pub struct Action {
    /// Location of the action name string.
    pub loc: Loc,
    pub name: String,
    /// `None` for an unknown action (already reported).
    pub spec: Option<&'static ActionSpec>,
    pub args: Vec<Arg>,
}

#[derive(Debug)]
pub struct Arg {
    pub spec: &'static ParamSpec,
    pub loc: Loc,
    pub value: ArgValue,
}

#[derive(Debug)]
pub enum ArgValue {
    Num(Expr),
    /// A literal string (enum values already in canonical spelling) and its location.
    Text(String, Loc),
    List(Vec<(String, Loc)>),
    Invalid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn parse(op: &str) -> Option<CmpOp> {
        Some(match op {
            "==" => CmpOp::Eq,
            "!=" => CmpOp::Ne,
            "<" => CmpOp::Lt,
            "<=" => CmpOp::Le,
            ">" => CmpOp::Gt,
            ">=" => CmpOp::Ge,
            _ => return None,
        })
    }
}

#[derive(Debug)]
pub struct Cond {
    pub loc: Loc,
    pub kind: CondKind,
}

#[derive(Debug)]
pub enum CondKind {
    Cmp(CmpOp, Expr, Expr),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Invalid,
}

#[derive(Debug)]
pub struct Expr {
    pub loc: Loc,
    pub kind: ExprKind,
}

#[derive(Debug)]
pub enum ExprKind {
    /// A field or register name and the location of the name string.
    Field(String, Loc),
    Param(String, Loc),
    Lit(f64),
    Compute(Box<Compute>),
    Invalid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompOp {
    Add,
    Sub,
    Mul,
    Div,
    Min,
    Max,
    Ceil,
    Floor,
    Round,
    Abs,
    Clamp,
    Div0,
}

impl CompOp {
    pub fn parse(op: &str) -> Option<CompOp> {
        Some(match op {
            "+" => CompOp::Add,
            "-" => CompOp::Sub,
            "*" => CompOp::Mul,
            "/" => CompOp::Div,
            "min" => CompOp::Min,
            "max" => CompOp::Max,
            "ceil" => CompOp::Ceil,
            "floor" => CompOp::Floor,
            "round" => CompOp::Round,
            "abs" => CompOp::Abs,
            "clamp" => CompOp::Clamp,
            "div0" => CompOp::Div0,
            _ => return None,
        })
    }
}

/// A computation. `args` follow the operand order of `actions::COMPUTE_OPS`:
/// `[left, right]`, `values...`, `[value]`, `[value, min, max]`, `[numerator, denominator, default]`.
#[derive(Debug)]
pub struct Compute {
    pub loc: Loc,
    pub op: CompOp,
    pub args: Vec<Expr>,
}

/// 2^63: a truncated value must lie in `-2^63..2^63` to convert to an i64.
pub const I64_BOUND: f64 = 9_223_372_036_854_775_808.0;

/// Does the truncation of `t` fit an i64?
pub fn fits_i64(t: f64) -> bool {
    (-I64_BOUND..I64_BOUND).contains(&t)
}

/// Tolerance of comparisons and of division by zero (§3, §4).
pub const EPS: f64 = 1e-9;

/// `==` of §3: exact equality (so `+∞ == +∞`) or an absolute difference below 1e-9.
pub fn approx_eq(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() < EPS
}

/// A comparison under the rules of §3: `<` and `>` are the complements of `>=` and `<=`.
pub fn compare(op: CmpOp, a: f64, b: f64) -> bool {
    let ge = a > b || approx_eq(a, b);
    let le = a < b || approx_eq(a, b);
    match op {
        CmpOp::Eq => approx_eq(a, b),
        CmpOp::Ne => !approx_eq(a, b),
        CmpOp::Ge => ge,
        CmpOp::Le => le,
        CmpOp::Lt => !ge,
        CmpOp::Gt => !le,
    }
}

/// Result of a scalar computation: the value, or why there is none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithError {
    DivisionByZero,
    NotANumber,
}

/// `round` of §4: halves away from zero (`f64::round` does exactly this).
pub fn round_half_away(x: f64) -> f64 {
    x.round()
}

/// One computation step on evaluated operands, in the operand order of [`Compute::args`].
/// The validator's constant analysis, the compiler's folding and the evaluator all use it,
/// so a folded constant equals what evaluation would have produced.
pub fn apply(op: CompOp, a: &[f64]) -> Result<f64, ArithError> {
    let arg = |i: usize| a.get(i).copied().unwrap_or(f64::NAN);
    let r = match op {
        CompOp::Add => arg(0) + arg(1),
        CompOp::Sub => arg(0) - arg(1),
        CompOp::Mul => arg(0) * arg(1),
        CompOp::Div => div(arg(0), arg(1))?,
        CompOp::Min => a.iter().copied().reduce(f64::min).unwrap_or(f64::NAN),
        CompOp::Max => a.iter().copied().reduce(f64::max).unwrap_or(f64::NAN),
        CompOp::Ceil => arg(0).ceil(),
        CompOp::Floor => arg(0).floor(),
        CompOp::Round => round_half_away(arg(0)),
        CompOp::Abs => arg(0).abs(),
        CompOp::Clamp => clamp(arg(0), arg(1), arg(2)),
        CompOp::Div0 => {
            if arg(1).abs() < EPS {
                arg(2)
            } else {
                arg(0) / arg(1)
            }
        }
    };
    if r.is_nan() {
        Err(ArithError::NotANumber)
    } else {
        Ok(r)
    }
}

/// `/` of §4: an error when the denominator is within 1e-9 of zero.
pub fn div(a: f64, b: f64) -> Result<f64, ArithError> {
    if b.abs() < EPS {
        Err(ArithError::DivisionByZero)
    } else {
        Ok(a / b)
    }
}

/// `clamp` of §4: `min(max(value, lo), hi)`, which yields `hi` when `lo > hi`.
pub fn clamp(v: f64, lo: f64, hi: f64) -> f64 {
    v.max(lo).min(hi)
}

/// The value of an expression without fields, or `None` when it reads a field, is invalid,
/// or fails (division by ~0, NaN). `param` resolves `{param}`; returning `None` from it
/// makes parameters non-constant (the validator's "literals only").
pub fn const_value(e: &Expr, param: &dyn Fn(&str) -> Option<f64>) -> Option<f64> {
    match &e.kind {
        ExprKind::Lit(x) => Some(*x),
        ExprKind::Param(name, _) => param(name),
        ExprKind::Field(..) | ExprKind::Invalid => None,
        ExprKind::Compute(c) => {
            // A div0 whose denominator is constant needs only the operand it selects.
            if c.op == CompOp::Div0 {
                let n = const_value(c.args.first()?, param)?;
                let d = const_value(c.args.get(1)?, param)?;
                return if d.abs() < EPS {
                    const_value(c.args.get(2)?, param)
                } else {
                    apply(CompOp::Div, &[n, d]).ok()
                };
            }
            let mut vals = Vec::with_capacity(c.args.len());
            for a in &c.args {
                vals.push(const_value(a, param)?);
            }
            apply(c.op, &vals).ok()
        }
    }
}

/// The value of a condition without fields (see [`const_value`]).
pub fn const_cond(c: &Cond, param: &dyn Fn(&str) -> Option<f64>) -> Option<bool> {
    match &c.kind {
        CondKind::Cmp(op, l, r) => {
            Some(compare(*op, const_value(l, param)?, const_value(r, param)?))
        }
        CondKind::And(cs) => cs
            .iter()
            .try_fold(true, |acc, c| Some(acc & const_cond(c, param)?)),
        CondKind::Or(cs) => cs
            .iter()
            .try_fold(false, |acc, c| Some(acc | const_cond(c, param)?)),
        CondKind::Not(c) => const_cond(c, param).map(|b| !b),
        CondKind::Invalid => None,
    }
}

/// Does the expression read a field or register?
pub fn reads_field(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Field(..) => true,
        ExprKind::Compute(c) => c.args.iter().any(reads_field),
        _ => false,
    }
}
