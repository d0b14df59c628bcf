//! What an evaluation reads and returns. Results borrow strings (reasons, focus lists) from
//! the compiled policy and keep the decision path and conversion warnings in fixed-size
//! buffers, so evaluating allocates nothing.

use super::parse::MAX_TREE_DEPTH;

/// The engine's view of one evaluation.
#[derive(Clone, Copy, Debug)]
pub struct EvalContext<'a> {
    /// Indexed by `FieldId as usize`, length `FIELD_COUNT`; only `fields_used` need be filled.
    pub fields: &'a [f64],
    /// Register values by slot (`CompiledPolicy::registers`).
    pub registers: &'a [f64],
    pub current_tick: i64,
}

/// RTGS class of a payment in Q2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RtgsPriority {
    HighlyUrgent = 0,
    Urgent = 1,
    Normal = 2,
}

impl RtgsPriority {
    pub fn from_name(s: &str) -> Option<RtgsPriority> {
        match s {
            "HighlyUrgent" => Some(RtgsPriority::HighlyUrgent),
            "Urgent" => Some(RtgsPriority::Urgent),
            "Normal" => Some(RtgsPriority::Normal),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            RtgsPriority::HighlyUrgent => "HighlyUrgent",
            RtgsPriority::Urgent => "Urgent",
            RtgsPriority::Normal => "Normal",
        }
    }
}

/// A payment-tree result (§6.2). `Split` also stands for `PaceAndRelease`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PaymentDecision<'p> {
    Release {
        /// Internal priority from `priority_flag` (10/5/1).
        priority_flag: Option<u8>,
        /// Never before `current_tick`: a past tick means now.
        timed_for_tick: Option<i64>,
        /// `None`: the payment's declared class.
        rtgs_priority: Option<RtgsPriority>,
        with_credit: bool,
    },
    Split {
        num_splits: u32,
    },
    StaggerSplit {
        num_splits: u32,
        first_now: u32,
        gap_ticks: u32,
        priority_boost: u8,
    },
    Hold {
        reason: &'p str,
    },
    Drop,
    Reprioritize {
        new_priority: u8,
    },
    WithdrawFromRtgs,
    ResubmitToRtgs {
        rtgs_priority: RtgsPriority,
    },
}

impl PaymentDecision<'_> {
    /// What an absent payment tree does (§1.2), and what a split below 2 pieces becomes.
    pub const RELEASE: PaymentDecision<'static> = PaymentDecision::Release {
        priority_flag: None,
        timed_for_tick: None,
        rtgs_priority: None,
        with_credit: false,
    };
}

/// A bank-tree result (§6.3).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BankDecision<'p> {
    SetReleaseBudget {
        max_value: i64,
        focus: Option<&'p [String]>,
        max_per_counterparty: Option<i64>,
    },
    SetState {
        slot: u16,
        value: f64,
        reason: &'p str,
    },
    /// `value` is the amount added; the evaluator has checked the sum is finite.
    AddState {
        slot: u16,
        value: f64,
        reason: &'p str,
    },
    NoAction,
}

/// A collateral-tree result (§6.4).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CollateralDecision<'p> {
    Post {
        amount: i64,
        reason: &'p str,
        auto_withdraw_after_ticks: Option<u32>,
    },
    Withdraw {
        amount: i64,
        reason: &'p str,
    },
    Hold,
}

/// Node indices from the root to the chosen action (render with `CompiledPolicy::node_id`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DecisionPath {
    nodes: [u32; MAX_TREE_DEPTH],
    len: usize,
}

impl DecisionPath {
    pub(super) const EMPTY: DecisionPath = DecisionPath {
        nodes: [0; MAX_TREE_DEPTH],
        len: 0,
    };

    /// Appends a node; false when the path is full (a tree deeper than the limit).
    pub(super) fn push(&mut self, node: u32) -> bool {
        match self.nodes.get_mut(self.len) {
            Some(slot) => {
                *slot = node;
                self.len += 1;
                true
            }
            None => false,
        }
    }
    pub fn as_slice(&self) -> &[u32] {
        self.nodes.get(..self.len).unwrap_or(&[])
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Why a computed action parameter was adjusted (§6.1); the engine emits `PolicyWarning`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ConversionWarningKind {
    /// A count, ticks or priority out of range, clamped to `to`.
    Clamped { to: i64 },
    /// A negative amount: the action was not carried out.
    NegativeNotCarriedOut,
    /// A negative budget amount, set to 0.
    NegativeBudgetZeroed,
    /// `num_splits` below 2: the payment is released whole.
    SplitBelowTwo,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConversionWarning {
    pub parameter: &'static str,
    /// The computed value before conversion.
    pub value: f64,
    pub kind: ConversionWarningKind,
}

/// Most conversion warnings one action can produce (`StaggerSplit` has four parameters).
pub const MAX_WARNINGS: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Warnings {
    items: [Option<ConversionWarning>; MAX_WARNINGS],
    len: usize,
}

impl Warnings {
    pub(super) const EMPTY: Warnings = Warnings {
        items: [None; MAX_WARNINGS],
        len: 0,
    };

    pub(super) fn push(&mut self, w: ConversionWarning) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = Some(w);
            self.len += 1;
        }
    }
    pub fn iter(&self) -> impl Iterator<Item = &ConversionWarning> {
        self.items.iter().flatten()
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// One evaluation's result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluated<T> {
    pub decision: T,
    /// The action node chosen; `None` when the tree is absent and its default applies.
    pub node: Option<u32>,
    pub path: DecisionPath,
    pub warnings: Warnings,
}
