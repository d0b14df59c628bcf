//! The compiled form of a policy (§9.1): a flat node array, instruction sequences for the
//! stack machine of `eval.rs`, and action templates whose literal parameters are parsed.
//! Built by `compile.rs`; immutable afterwards, so it is `Send + Sync` and shared via `Arc`.

use std::collections::BTreeMap;

use super::ast::{CmpOp, CompOp};
use super::decision::RtgsPriority;
use super::error::Problem;
use super::params::INITIAL_LIQUIDITY_FRACTION;
use super::parse::MAX_NESTING;
use super::registry::{FieldId, Tree};

/// Operand stack size: every nesting level keeps at most two operands pending (`clamp`), plus
/// the comparison's left operand and the value being computed.
pub const STACK_SIZE: usize = 2 * MAX_NESTING + 8;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Op {
    Const(f64),
    Field(FieldId),
    Reg(u16),
    /// Binary `+ - * / min max` on the two top values.
    Bin(CompOp),
    /// `ceil floor round abs` on the top value.
    Un(CompOp),
    Clamp,
    /// Pops denominator and numerator; when the denominator is not ~0 pushes the quotient
    /// and jumps to the target, past the default's code; otherwise falls into it.
    Div0(u32),
    Cmp(CmpOp),
    Not,
    /// Short circuits: jump keeping the top when it decides, else pop it and go on.
    AndJump(u32),
    OrJump(u32),
}

/// One instruction and the index of the pointer its failures report.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Instr {
    pub op: Op,
    pub src: u32,
}

/// A range of `CompiledPolicy::code`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct CodeRange {
    pub start: u32,
    pub end: u32,
}

/// A compiled numeric action parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct NumArg {
    pub code: CodeRange,
    pub name: &'static str,
    /// Pointer index of the parameter (for conversion errors).
    pub src: u32,
}

/// An action with its literal parameters parsed and numeric ones compiled.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Template {
    Release {
        with_credit: bool,
        priority_flag: Option<u8>,
        timed_for_tick: Option<NumArg>,
        rtgs_priority: Option<RtgsPriority>,
    },
    Split {
        num_splits: NumArg,
    },
    StaggerSplit {
        num_splits: NumArg,
        first_now: NumArg,
        gap: NumArg,
        boost: NumArg,
    },
    Hold {
        reason: String,
    },
    Drop,
    Reprioritize {
        new_priority: NumArg,
    },
    WithdrawFromRtgs,
    ResubmitToRtgs {
        rtgs_priority: RtgsPriority,
    },
    SetReleaseBudget {
        max_value: NumArg,
        focus: Option<Vec<String>>,
        max_per_counterparty: Option<NumArg>,
    },
    SetState {
        slot: u16,
        value: NumArg,
        reason: String,
        add: bool,
    },
    NoAction,
    Post {
        amount: NumArg,
        reason: String,
        auto_withdraw: Option<NumArg>,
    },
    Withdraw {
        amount: NumArg,
        reason: String,
    },
    HoldCollateral,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum CKind {
    Cond {
        code: CodeRange,
        on_true: u32,
        on_false: u32,
    },
    Action(Template),
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct CNode {
    pub id: String,
    pub ptr: String,
    pub kind: CKind,
}

/// A validated, compiled policy: immutable, `Send + Sync`, shared through `Arc`.
#[derive(Clone, Debug, PartialEq)]
pub struct CompiledPolicy {
    pub(super) policy_id: String,
    pub(super) document: String,
    pub(super) parameters: BTreeMap<String, f64>,
    pub(super) roots: [Option<u32>; 4],
    pub(super) nodes: Vec<CNode>,
    pub(super) code: Vec<Instr>,
    pub(super) pointers: Vec<String>,
    pub(super) fields_used: [Vec<FieldId>; 4],
    pub(super) registers: Vec<String>,
    pub(super) uses_q2: bool,
    /// Does the payment tree read a payment-dependent field ([`FieldSpec::payment_dependent`])?
    ///
    /// [`FieldSpec::payment_dependent`]: super::registry::FieldSpec::payment_dependent
    pub(super) reads_payment: bool,
    pub(super) warnings: Vec<Problem>,
}

impl CompiledPolicy {
    pub fn policy_id(&self) -> &str {
        &self.policy_id
    }
    /// Resolved parameter values (document values with overrides applied).
    pub fn parameters(&self) -> &BTreeMap<String, f64> {
        &self.parameters
    }
    pub fn initial_liquidity_fraction(&self) -> Option<f64> {
        self.parameters.get(INITIAL_LIQUIDITY_FRACTION).copied()
    }
    pub fn has_tree(&self, tree: Tree) -> bool {
        self.roots[tree.index()].is_some()
    }
    /// Does the payment tree hold `WithdrawFromRtgs` or `ResubmitToRtgs` (the Q2 pass, §1.3)?
    pub fn uses_q2_actions(&self) -> bool {
        self.uses_q2
    }
    /// Does the payment tree read any field whose value depends on the payment being decided?
    /// When it does not, every payment of a bank gets the same decision from one snapshot, and
    /// the engine evaluates the tree once per bank and tick.
    pub fn payment_tree_reads_payment(&self) -> bool {
        self.reads_payment
    }
    /// Fields a tree reads, sorted: the engine need compute only these.
    pub fn fields_used(&self, tree: Tree) -> &[FieldId] {
        &self.fields_used[tree.index()]
    }
    /// Register names, sorted; slot `i` is `registers()[i]`.
    pub fn registers(&self) -> &[String] {
        &self.registers
    }
    pub fn register_slot(&self, name: &str) -> Option<u16> {
        self.registers
            .iter()
            .position(|r| r == name)
            .map(|i| i as u16)
    }
    /// The original document text, for checkpoints.
    pub fn document_json(&self) -> &str {
        &self.document
    }
    /// Validation and override warnings, in document order.
    pub fn warnings(&self) -> &[Problem] {
        &self.warnings
    }
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }
    /// The `node_id` of a node index (as in a decision path).
    pub fn node_id(&self, index: u32) -> Option<&str> {
        self.nodes.get(index as usize).map(|n| n.id.as_str())
    }
    /// The JSON pointer of a node index.
    pub fn node_pointer(&self, index: u32) -> Option<&str> {
        self.nodes.get(index as usize).map(|n| n.ptr.as_str())
    }
}
