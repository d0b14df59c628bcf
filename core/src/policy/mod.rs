//! The policy language of paysim (POLICY_DSL.md): JSON decision trees that banks use to
//! release payments, set budgets and registers, and manage collateral.
//!
//! Pipeline: [`json`] reads bytes into a positioned value tree; [`parse`] checks shapes into
//! a typed document; [`validate`] checks meaning and produces the report every tool shows;
//! [`compile`] turns a valid document into an immutable [`CompiledPolicy`]; [`eval`] runs it
//! against a context the engine fills. [`registry`] and [`actions`] are the single source of
//! field and action names; [`schema`] and [`docs`] render them.

pub mod actions;
pub mod ast;
pub mod compile;
pub mod compiled;
mod convert;
pub mod decision;
pub mod docs;
pub mod error;
pub mod eval;
pub mod json;
mod json_scalar;
pub mod params;
pub mod parse;
mod parse_args;
mod parse_expr;
pub mod registry;
pub mod schema;
mod simcash;
pub mod suggest;
pub mod validate;

pub use compile::compile;
pub use compiled::CompiledPolicy;
pub use decision::{
    BankDecision, CollateralDecision, ConversionWarning, ConversionWarningKind, DecisionPath,
    EvalContext, Evaluated, PaymentDecision, RtgsPriority, Warnings,
};
pub use docs::{registry_json, registry_markdown};
pub use error::{Code, EvalError, EvalErrorKind, PolicyCompileError, Problem, ValidationReport};
pub use registry::{field_by_name, FieldId, Tree, FIELDS, FIELD_COUNT};
pub use schema::policy_json_schema;
pub use validate::{render_text, validate, ScenarioInfo};

/// Test-only lookup that fails loudly on a misspelt field name.
#[cfg(test)]
pub(crate) fn field_by_name_for_tests(name: &str) -> FieldId {
    field_by_name(name).unwrap_or_else(|| panic!("no field {name}"))
}

#[cfg(test)]
mod tests;
