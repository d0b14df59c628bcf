//! Builders for test documents and contexts.

use std::collections::BTreeMap;

use crate::policy::{
    compile, field_by_name_for_tests, validate, CompiledPolicy, ValidationReport, FIELD_COUNT,
};

/// A document with the given members after `version` and `policy_id`.
pub fn doc(rest: &str) -> String {
    if rest.is_empty() {
        r#"{"version": "1.0", "policy_id": "t"}"#.to_string()
    } else {
        format!(r#"{{"version": "1.0", "policy_id": "t", {rest}}}"#)
    }
}

/// A document whose `tree` is `node`, with `params` as its parameters object.
pub fn tree_doc(tree: &str, node: &str, params: &str) -> String {
    doc(&format!(r#""parameters": {params}, "{tree}": {node}"#))
}

pub fn payment(node: &str) -> String {
    tree_doc("payment_tree", node, "{}")
}

/// An action node.
pub fn act(id: &str, action: &str, params: &str) -> String {
    if params.is_empty() {
        format!(r#"{{"type": "action", "node_id": "{id}", "action": "{action}"}}"#)
    } else {
        format!(
            r#"{{"type": "action", "node_id": "{id}", "action": "{action}", "parameters": {params}}}"#
        )
    }
}

/// A condition node.
pub fn cond(id: &str, condition: &str, on_true: &str, on_false: &str) -> String {
    format!(
        r#"{{"type": "condition", "node_id": "{id}", "condition": {condition}, "on_true": {on_true}, "on_false": {on_false}}}"#
    )
}

pub fn report(doc: &str) -> ValidationReport {
    validate(doc.as_bytes(), None)
}

/// Compiles or panics with the report (tests only).
pub fn compiled(doc: &str) -> CompiledPolicy {
    match compile(doc.as_bytes(), &BTreeMap::new()) {
        Ok(c) => c,
        Err(e) => panic!("compile failed: {e:?}\n{doc}"),
    }
}

/// `(code, pointer)` of every error.
pub fn errors(r: &ValidationReport) -> Vec<(&'static str, String)> {
    r.errors
        .iter()
        .map(|p| (p.code.as_str(), p.pointer.clone()))
        .collect()
}

pub fn warnings(r: &ValidationReport) -> Vec<(&'static str, String)> {
    r.warnings
        .iter()
        .map(|p| (p.code.as_str(), p.pointer.clone()))
        .collect()
}

/// A field vector with the named values set (others 0).
pub fn fields(values: &[(&str, f64)]) -> Vec<f64> {
    let mut f = vec![0.0; FIELD_COUNT];
    for (name, v) in values {
        let id = field_by_name_for_tests(name);
        f[id as usize] = *v;
    }
    f
}
