//! The action registry (POLICY_DSL.md §6): every action, the trees that admit it, and its
//! parameters with type, range, default and description. `define_actions!` generates the
//! `ActionKind` enum and the [`ACTIONS`] table from one declaration, which the validator,
//! compiler, JSON Schema and docs share.

use super::registry::{Tree, TreeSet};

/// A closed set of literal strings for a string parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EnumSpec {
    pub values: &'static [&'static str],
    /// `priority_flag` accepts any case; RTGS class names are exact.
    pub any_case: bool,
}

pub const PRIORITY_FLAGS: EnumSpec = EnumSpec {
    values: &["HIGH", "MEDIUM", "LOW"],
    any_case: true,
};
pub const RTGS_PRIORITIES: EnumSpec = EnumSpec {
    values: &["HighlyUrgent", "Urgent", "Normal"],
    any_case: false,
};

/// The type of an action parameter and its documented range (§6.1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ArgType {
    /// Money: truncated to i64; negative at run time means "not carried out".
    Cents,
    /// A count, clamped into `min..=max` at run time.
    Count { min: i64, max: i64 },
    /// A duration in ticks, clamped into `min..=max` at run time.
    Ticks { min: i64, max: i64 },
    /// An internal priority 0..10, clamped at run time.
    Priority,
    /// An absolute tick; any value, a past tick means now.
    Tick,
    /// Any finite number, kept as is.
    Number,
    /// A literal from a closed set.
    Enum(EnumSpec),
    /// Free text, 1..128 characters, literal only.
    Reason,
    /// A literal register name `bank_state_<name>`.
    RegisterKey,
    /// A literal list of agent ids.
    AgentList,
}

impl ArgType {
    /// Numeric parameters are value expressions; the others take literals only.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            ArgType::Cents
                | ArgType::Count { .. }
                | ArgType::Ticks { .. }
                | ArgType::Priority
                | ArgType::Tick
                | ArgType::Number
        )
    }

    /// Inclusive documented range for numeric types, if bounded.
    pub fn range(self) -> Option<(i64, i64)> {
        match self {
            ArgType::Count { min, max } | ArgType::Ticks { min, max } => Some((min, max)),
            ArgType::Priority => Some((0, 10)),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ArgType::Cents => "cents",
            ArgType::Count { .. } => "count",
            ArgType::Ticks { .. } => "ticks",
            ArgType::Priority => "priority",
            ArgType::Tick => "tick",
            ArgType::Number => "number",
            ArgType::Enum(_) => "string",
            ArgType::Reason => "string",
            ArgType::RegisterKey => "string",
            ArgType::AgentList => "list",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParamSpec {
    pub name: &'static str,
    pub ty: ArgType,
    pub required: bool,
    /// Default shown in docs ("declared class", "PolicyDecision", ...).
    pub default: Option<&'static str>,
    pub description: &'static str,
}

const fn req(name: &'static str, ty: ArgType, description: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        ty,
        required: true,
        default: None,
        description,
    }
}

const fn opt(
    name: &'static str,
    ty: ArgType,
    default: Option<&'static str>,
    description: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        ty,
        required: false,
        default,
        description,
    }
}

const SPLITS: ArgType = ArgType::Count { min: 2, max: 100 };

const RELEASE_PARAMS: &[ParamSpec] = &[
    opt(
        "priority_flag",
        ArgType::Enum(PRIORITY_FLAGS),
        None,
        "HIGH/MEDIUM/LOW (any case) → internal priority 10/5/1, applied first.",
    ),
    opt(
        "timed_for_tick",
        ArgType::Tick,
        None,
        "Hold until this tick (TimedRelease); a past tick means now.",
    ),
    opt(
        "rtgs_priority",
        ArgType::Enum(RTGS_PRIORITIES),
        Some("the payment's declared class"),
        "RTGS class in Q2.",
    ),
];
const SPLIT_PARAMS: &[ParamSpec] = &[req(
    "num_splits",
    SPLITS,
    "Number of pieces; below 2 releases whole, capped at remaining_amount by the engine.",
)];
const STAGGER_PARAMS: &[ParamSpec] = &[
    req("num_splits", SPLITS, "Number of pieces."),
    req(
        "stagger_first_now",
        ArgType::Count { min: 0, max: 100 },
        "Pieces submitted now, 0..num_splits.",
    ),
    req(
        "stagger_gap_ticks",
        ArgType::Ticks {
            min: 0,
            max: 10_000,
        },
        "Ticks between later pieces; 0 submits all now.",
    ),
    req(
        "priority_boost_children",
        ArgType::Priority,
        "Added to each piece's priority (max 10).",
    ),
];
const HOLD_PARAMS: &[ParamSpec] = &[opt(
    "reason",
    ArgType::Reason,
    Some("PolicyDecision"),
    "Label; standard: InsufficientLiquidity, AwaitingInflows, LowPriority, NearDeadline.",
)];
const REPRIORITIZE_PARAMS: &[ParamSpec] = &[req(
    "new_priority",
    ArgType::Priority,
    "New internal priority 0..10.",
)];
const RESUBMIT_PARAMS: &[ParamSpec] = &[req(
    "rtgs_priority",
    ArgType::Enum(RTGS_PRIORITIES),
    "New RTGS class in Q2.",
)];
const BUDGET_PARAMS: &[ParamSpec] = &[
    req(
        "max_value_to_release",
        ArgType::Cents,
        "Most value the Q1 pass may release this tick; negative becomes 0.",
    ),
    opt(
        "focus_counterparties",
        ArgType::AgentList,
        None,
        "Only payments to these agents may be released.",
    ),
    opt(
        "max_per_counterparty",
        ArgType::Cents,
        None,
        "Most value released to one receiver this tick; negative becomes 0.",
    ),
];
const STATE_PARAMS: &[ParamSpec] = &[
    req(
        "key",
        ArgType::RegisterKey,
        "Register name bank_state_<name>.",
    ),
    req(
        "value",
        ArgType::Number,
        "Value set (SetState) or added (AddState).",
    ),
    opt(
        "reason",
        ArgType::Reason,
        Some("policy_action"),
        "Label of the StateRegisterSet event.",
    ),
];
const POST_PARAMS: &[ParamSpec] = &[
    req(
        "amount",
        ArgType::Cents,
        "Amount to post, capped at remaining capacity; negative: not carried out.",
    ),
    opt(
        "reason",
        ArgType::Reason,
        Some("PolicyDecision"),
        "Label; standard: UrgentLiquidityNeed, PreemptivePosting, DeadlineEmergency, CostOptimization.",
    ),
    opt(
        "auto_withdraw_after_ticks",
        ArgType::Ticks { min: 1, max: 100_000 },
        None,
        "A timer withdraws the posted amount after this many ticks.",
    ),
];
const WITHDRAW_PARAMS: &[ParamSpec] = &[
    req(
        "amount",
        ArgType::Cents,
        "Amount to withdraw, capped by what is posted and withdrawable; negative: not carried out.",
    ),
    opt(
        "reason",
        ArgType::Reason,
        Some("PolicyDecision"),
        "Label; standard: LiquidityRestored, EndOfDayCleanup, CostOptimization.",
    ),
];

/// One action.
#[derive(Clone, Copy, Debug)]
pub struct ActionSpec {
    pub kind: ActionKind,
    pub name: &'static str,
    pub trees: TreeSet,
    pub params: &'static [ParamSpec],
    pub description: &'static str,
}

macro_rules! define_actions {
    ($($variant:ident = $name:literal, $trees:ident, $params:expr, $desc:literal;)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ActionKind { $($variant,)* }

        /// Every action, in the order of §6.
        pub const ACTIONS: &[ActionSpec] = &[$(ActionSpec {
            kind: ActionKind::$variant,
            name: $name,
            trees: TreeSet::$trees,
            params: $params,
            description: $desc,
        },)*];
    };
}

define_actions! {
    Release = "Release", P, RELEASE_PARAMS, "Submit the payment to RTGS this tick, within the release budget.";
    ReleaseWithCredit = "ReleaseWithCredit", P, RELEASE_PARAMS, "As Release; records the intent to use intraday credit.";
    Split = "Split", P, SPLIT_PARAMS, "Split a divisible payment into num_splits pieces submitted this tick.";
    PaceAndRelease = "PaceAndRelease", P, SPLIT_PARAMS, "Another name for Split.";
    StaggerSplit = "StaggerSplit", P, STAGGER_PARAMS, "Split; submit the first pieces now and the rest at stagger_gap_ticks intervals.";
    Hold = "Hold", P, HOLD_PARAMS, "Keep the payment in Q1.";
    Drop = "Drop", P, &[], "Remove the payment for good; it never settles and the drop penalty is charged.";
    Reprioritize = "Reprioritize", P, REPRIORITIZE_PARAMS, "Set the internal priority; the payment stays in Q1 this tick.";
    WithdrawFromRtgs = "WithdrawFromRtgs", P, &[], "Q2 pass: move the payment from Q2 back to the end of Q1.";
    ResubmitToRtgs = "ResubmitToRtgs", P, RESUBMIT_PARAMS, "Q2 pass: re-queue the payment in Q2 with a new RTGS class.";
    SetReleaseBudget = "SetReleaseBudget", BANK, BUDGET_PARAMS, "Set this tick's release budget.";
    SetState = "SetState", BANK, STATE_PARAMS, "Set a state register.";
    AddState = "AddState", BANK, STATE_PARAMS, "Add to a state register.";
    NoAction = "NoAction", BANK, &[], "Do nothing.";
    PostCollateral = "PostCollateral", COLLATERAL, POST_PARAMS, "Post collateral, raising the overdraft limit.";
    WithdrawCollateral = "WithdrawCollateral", COLLATERAL, WITHDRAW_PARAMS, "Withdraw posted collateral, never beyond the limit.";
    HoldCollateral = "HoldCollateral", COLLATERAL, &[], "Do nothing.";
}

impl ActionKind {
    pub fn spec(self) -> &'static ActionSpec {
        // Generated in declaration order: the discriminant is the index.
        &ACTIONS[self as usize]
    }
}

pub fn action_by_name(name: &str) -> Option<&'static ActionSpec> {
    ACTIONS.iter().find(|a| a.name == name)
}

/// Actions a tree admits, in registry order.
pub fn actions_in(tree: Tree) -> impl Iterator<Item = &'static ActionSpec> {
    ACTIONS.iter().filter(move |a| a.trees.contains(tree))
}

/// Comparison and boolean operators of conditions (§3).
pub const CONDITION_OPS: &[(&str, &str)] = &[
    ("==", "equal within an absolute tolerance of 1e-9"),
    ("!=", "not =="),
    ("<", "not >="),
    ("<=", "less than, or =="),
    (">", "not <="),
    (">=", "greater than, or =="),
    (
        "and",
        "all of `conditions` (left to right, stops at the first false; [] is true)",
    ),
    (
        "or",
        "any of `conditions` (stops at the first true; [] is false)",
    ),
    ("not", "`condition` is false"),
];

/// Computation operators (§4) with their operand keys.
pub const COMPUTE_OPS: &[(&str, &[&str], &str)] = &[
    ("+", &["left", "right"], "sum"),
    ("-", &["left", "right"], "difference"),
    ("*", &["left", "right"], "product"),
    (
        "/",
        &["left", "right"],
        "quotient; an evaluation error when |right| < 1e-9",
    ),
    ("min", &["values"], "smallest of a non-empty list"),
    ("max", &["values"], "largest of a non-empty list"),
    ("ceil", &["value"], "round up"),
    ("floor", &["value"], "round down"),
    ("round", &["value"], "round, halves away from zero"),
    ("abs", &["value"], "absolute value"),
    (
        "clamp",
        &["value", "min", "max"],
        "min(max(value, min), max); max when min > max",
    ),
    (
        "div0",
        &["numerator", "denominator", "default"],
        "quotient, or default when |denominator| < 1e-9",
    ),
];

/// Operand keys of a computation operator.
pub fn compute_operands(op: &str) -> Option<&'static [&'static str]> {
    COMPUTE_OPS
        .iter()
        .find(|(o, _, _)| *o == op)
        .map(|(_, k, _)| *k)
}
