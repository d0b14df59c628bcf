//! Tests of the policy language, kept inside the module tree so they travel with it.

mod compile_eval;
mod conversions;
mod examples;
mod fuzz;
mod helpers;
mod json;
mod limits;
mod operators;
mod registry;
mod schema_docs;
mod simcash;
mod validation;
