//! Problems found while reading a policy, and errors raised while evaluating one.
//!
//! Validation never stops at the first problem: every check pushes a [`Problem`] into a
//! [`Problems`] sink together with the byte offset of the value it points at, and the report
//! is sorted by that offset at the end. That is how "document order" (POLICY_DSL.md §8) holds
//! even though some checks (unused parameters, register writes) can only run after the whole
//! document has been read.

use serde::{Serialize, Serializer};

use super::registry::Tree;

macro_rules! codes {
    ($($variant:ident = $text:literal,)*) => {
        /// Every problem code of POLICY_DSL.md §8.1. The severity is chosen where the problem is
        /// raised, because one code (`INVALID_PARAMETER`) is an error or a warning by rule.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($variant,)* }

        impl Code {
            /// Every code, in the order of §8.1.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable upper-case name used in reports.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $text,)* }
            }
        }
    };
}

codes! {
    InvalidJson = "INVALID_JSON",
    DuplicateKey = "DUPLICATE_KEY",
    DocumentTooLarge = "DOCUMENT_TOO_LARGE",
    MissingKey = "MISSING_KEY",
    UnknownKey = "UNKNOWN_KEY",
    WrongType = "WRONG_TYPE",
    UnsupportedVersion = "UNSUPPORTED_VERSION",
    InvalidId = "INVALID_ID",
    DuplicateNodeId = "DUPLICATE_NODE_ID",
    TreeTooDeep = "TREE_TOO_DEEP",
    TooManyNodes = "TOO_MANY_NODES",
    NestingTooDeep = "NESTING_TOO_DEEP",
    UnknownField = "UNKNOWN_FIELD",
    FieldNotInTree = "FIELD_NOT_IN_TREE",
    InvalidRegisterName = "INVALID_REGISTER_NAME",
    TooManyRegisters = "TOO_MANY_REGISTERS",
    UnknownParameter = "UNKNOWN_PARAMETER",
    InvalidParameter = "INVALID_PARAMETER",
    UnknownOperator = "UNKNOWN_OPERATOR",
    EmptyList = "EMPTY_LIST",
    InvalidLiteral = "INVALID_LITERAL",
    DivisionByZero = "DIVISION_BY_ZERO",
    UnknownAction = "UNKNOWN_ACTION",
    ActionNotInTree = "ACTION_NOT_IN_TREE",
    UnknownActionParameter = "UNKNOWN_ACTION_PARAMETER",
    MissingActionParameter = "MISSING_ACTION_PARAMETER",
    InvalidActionParameter = "INVALID_ACTION_PARAMETER",
    UnreachableBranch = "UNREACHABLE_BRANCH",
    UnusedParameter = "UNUSED_PARAMETER",
    RegisterNeverWritten = "REGISTER_NEVER_WRITTEN",
    ConstantField = "CONSTANT_FIELD",
    PossibleDivisionByZero = "POSSIBLE_DIVISION_BY_ZERO",
    ParameterOffGrid = "PARAMETER_OFF_GRID",
    NewerVersion = "NEWER_VERSION",
    NoTrees = "NO_TREES",
    UnknownCounterparty = "UNKNOWN_COUNTERPARTY",
    UnknownParameterOverride = "UNKNOWN_PARAMETER_OVERRIDE",
    ParameterOverrideOutOfRange = "PARAMETER_OVERRIDE_OUT_OF_RANGE",
    SplitNeverPossible = "SPLIT_NEVER_POSSIBLE",
    FieldConstantInScenario = "FIELD_CONSTANT_IN_SCENARIO",
    SimcashForm = "SIMCASH_FORM",
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding, in the JSON shape of POLICY_DSL.md §8.3.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Problem {
    pub code: Code,
    pub message: String,
    /// RFC 6901 pointer to the offending value; `""` for the whole document.
    pub pointer: String,
    pub suggestion: Option<String>,
    /// Byte offset of the pointed value; only used to sort problems into document order.
    #[serde(skip)]
    pub offset: usize,
}

/// Most problems a report lists (POLICY_DSL.md §8).
pub const MAX_PROBLEMS: usize = 200;

/// Collects errors and warnings while a document is read.
#[derive(Debug, Default)]
pub struct Problems {
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
}

impl Problems {
    pub fn error(&mut self, code: Code, offset: usize, pointer: &str, message: String) {
        self.errors
            .push(problem(code, offset, pointer, message, None));
    }

    pub fn error_s(
        &mut self,
        code: Code,
        offset: usize,
        pointer: &str,
        message: String,
        suggestion: Option<String>,
    ) {
        self.errors
            .push(problem(code, offset, pointer, message, suggestion));
    }

    pub fn warning(&mut self, code: Code, offset: usize, pointer: &str, message: String) {
        self.warnings
            .push(problem(code, offset, pointer, message, None));
    }

    pub fn warning_s(
        &mut self,
        code: Code,
        offset: usize,
        pointer: &str,
        message: String,
        suggestion: Option<String>,
    ) {
        self.warnings
            .push(problem(code, offset, pointer, message, suggestion));
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}

fn problem(
    code: Code,
    offset: usize,
    pointer: &str,
    message: String,
    suggestion: Option<String>,
) -> Problem {
    Problem {
        code,
        message,
        pointer: pointer.to_string(),
        suggestion,
        offset,
    }
}

/// The outcome of `validate`: serialises to the JSON object of POLICY_DSL.md §8.3 (the caller
/// adds `file`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ValidationReport {
    pub valid: bool,
    pub policy_id: Option<String>,
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
    /// Problems left out beyond the first 200 (errors are kept before warnings). Serialised
    /// only when non-zero, so the §8.3 shape is unchanged for ordinary reports.
    #[serde(skip_serializing_if = "is_zero")]
    pub omitted: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl ValidationReport {
    /// Sorts both lists into document order (stable, so problems at one place keep the order
    /// in which they were found) and applies the 200-problem cap.
    pub fn from_problems(policy_id: Option<String>, mut p: Problems) -> Self {
        p.errors.sort_by_key(|e| e.offset);
        p.warnings.sort_by_key(|e| e.offset);
        let total = p.errors.len() + p.warnings.len();
        let valid = p.errors.is_empty();
        p.errors.truncate(MAX_PROBLEMS);
        p.warnings.truncate(MAX_PROBLEMS - p.errors.len());
        let omitted = total - p.errors.len() - p.warnings.len();
        ValidationReport {
            valid,
            policy_id,
            errors: p.errors,
            warnings: p.warnings,
            omitted,
        }
    }

    /// The §8.3 JSON object for one file.
    pub fn to_json(&self, file: &str) -> String {
        let mut v = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let serde_json::Value::Object(m) = &mut v {
            m.insert("file".into(), serde_json::Value::String(file.into()));
        }
        v.to_string()
    }

    pub fn has_code(&self, code: Code) -> bool {
        self.errors
            .iter()
            .chain(&self.warnings)
            .any(|p| p.code == code)
    }
}

/// What went wrong while evaluating a compiled policy (POLICY_DSL.md §9.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EvalErrorKind {
    DivisionByZero,
    NotANumber,
    NonFiniteActionValue,
    OutOfRange,
}

impl EvalErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EvalErrorKind::DivisionByZero => "DivisionByZero",
            EvalErrorKind::NotANumber => "NotANumber",
            EvalErrorKind::NonFiniteActionValue => "NonFiniteActionValue",
            EvalErrorKind::OutOfRange => "OutOfRange",
        }
    }
}

/// An evaluation failure. It owns its strings: errors are rare, and the engine keeps them
/// after the policy may have been replaced. The engine adds policy, agent, payment and tick.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}: {message} (tree {}, node `{node_id}`, at {pointer})", kind.as_str(), tree.json_name())]
pub struct EvalError {
    pub kind: EvalErrorKind,
    pub tree: Tree,
    pub node_id: String,
    pub pointer: String,
    pub message: String,
}

/// Why a document could not be compiled: it (or an override) is invalid; the report says
/// where. `Internal` marks a broken compiler invariant, reported rather than panicking.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PolicyCompileError {
    #[error("invalid policy: {} error(s)", .0.errors.len())]
    Invalid(ValidationReport),
    #[error("internal policy compiler error: {0}")]
    Internal(String),
}
