//! One row per problem code of §8.1: the document, the pointer and the suggestion expected.

use std::collections::{BTreeMap, BTreeSet};

use super::helpers::*;
use crate::policy::{validate, Code, ScenarioInfo};

struct Row {
    code: &'static str,
    doc: String,
    pointer: String,
    /// Substring of the suggestion; `None`: no suggestion expected.
    suggestion: Option<&'static str>,
    warning: bool,
    scenario: bool,
    overrides: Vec<(&'static str, f64)>,
}

fn row(code: &'static str, doc: String, pointer: &str, suggestion: Option<&'static str>) -> Row {
    Row {
        code,
        doc,
        pointer: pointer.to_string(),
        suggestion,
        warning: false,
        scenario: false,
        overrides: Vec::new(),
    }
}

fn warn(code: &'static str, doc: String, pointer: &str, suggestion: Option<&'static str>) -> Row {
    Row {
        warning: true,
        ..row(code, doc, pointer, suggestion)
    }
}

fn scen(mut r: Row) -> Row {
    r.scenario = true;
    r
}

fn overriding(mut r: Row, name: &'static str, value: f64) -> Row {
    r.overrides.push((name, value));
    scen(r)
}

const REL: &str = r#"{"type": "action", "node_id": "A", "action": "Release"}"#;
const HOLD: &str = r#"{"type": "action", "node_id": "H", "action": "Hold"}"#;

fn cmp(left: &str, right: &str) -> String {
    format!(r#"{{"op": ">=", "left": {left}, "right": {right}}}"#)
}

fn when(condition: &str) -> String {
    payment(&cond("N", condition, REL, HOLD))
}

fn rows() -> Vec<Row> {
    let bal = r#"{"field": "balance"}"#;
    let zero = r#"{"value": 0}"#;
    let regs: Vec<String> = (0..11)
        .map(|i| {
            act(
                &format!("S{i}"),
                "SetState",
                &format!(r#"{{"key": {{"value": "bank_state_r{i}"}}, "value": {{"value": 1}}}}"#),
            )
        })
        .collect();
    let mut reg_tree = regs[10].clone();
    for (i, r) in regs.iter().enumerate().take(10).rev() {
        reg_tree = cond(&format!("C{i}"), &cmp(bal, zero), r, &reg_tree);
    }
    vec![
        row("INVALID_JSON", r#"{"version": "1.0", "#.into(), "", None),
        row("DUPLICATE_KEY", r#"{"version": "1.0", "version": "1.0", "policy_id": "t"}"#.into(), "/version", None),
        row("DOCUMENT_TOO_LARGE", format!("{}{}", doc(""), " ".repeat(1_048_576)), "", None),
        row("MISSING_KEY", r#"{"version": "1.0", "payment_tree": null}"#.into(), "", None),
        row("UNKNOWN_KEY", doc(&format!(r#""paymnt_tree": {REL}"#)), "/paymnt_tree", Some("did you mean `payment_tree`?")),
        row("WRONG_TYPE", when(&cmp(r#"{"field": "balance", "value": 1}"#, zero)), "/payment_tree/condition/left", None),
        row("UNSUPPORTED_VERSION", r#"{"version": "2.0", "policy_id": "t"}"#.into(), "/version", Some("\"1.0\"")),
        row("INVALID_ID", r#"{"version": "1.0", "policy_id": ""}"#.into(), "/policy_id", None),
        row("DUPLICATE_NODE_ID", payment(&cond("N", &cmp(bal, zero), &act("X", "Release", ""), &act("X", "Hold", ""))), "/payment_tree/on_false/node_id", None),
        row("TREE_TOO_DEEP", payment(&super::limits::chain(101)), &super::limits::first_too_deep(), None),
        row("TOO_MANY_NODES", super::limits::many_nodes(10_001).0, &super::limits::many_nodes(10_001).1, None),
        row("NESTING_TOO_DEEP", payment(&act("A", "Reprioritize", &format!(r#"{{"new_priority": {}}}"#, super::limits::nested_abs(65)))), &super::limits::nest_pointer("/payment_tree/parameters/new_priority", 65), None),
        row("UNKNOWN_FIELD", when(&cmp(r#"{"field": "tiks_to_deadline"}"#, zero)), "/payment_tree/condition/left/field", Some("did you mean `ticks_to_deadline`?")),
        row("FIELD_NOT_IN_TREE", tree_doc("bank_tree", &cond("N", &cmp(r#"{"field": "amount"}"#, zero), &act("A", "NoAction", ""), &act("B", "NoAction", "")), "{}"), "/bank_tree/condition/left/field", Some("`amount` is available in: payment_tree")),
        row("INVALID_REGISTER_NAME", when(&cmp(r#"{"field": "bank_state_a-b"}"#, zero)), "/payment_tree/condition/left/field", None),
        row("TOO_MANY_REGISTERS", tree_doc("bank_tree", &reg_tree, "{}"), "/bank_tree/on_false/on_false/on_false/on_false/on_false/on_false/on_false/on_false/on_false/on_false/parameters/key/value", None),
        row("UNKNOWN_PARAMETER", tree_doc("payment_tree", &cond("N", &cmp(bal, r#"{"param": "thresold"}"#), REL, HOLD), r#"{"threshold": 1}"#), "/payment_tree/condition/right/param", Some("did you mean `threshold`?")),
        row("INVALID_PARAMETER", tree_doc("payment_tree", REL, r#"{"p": {"value": 1, "min": 3, "max": 2}}"#), "/parameters/p", None),
        row("UNKNOWN_OPERATOR", when(r#"{"op": "=", "left": {"value": 1}, "right": {"field": "balance"}}"#), "/payment_tree/condition/op", Some("did you mean `==`?")),
        row("EMPTY_LIST", when(&cmp(r#"{"compute": {"op": "max", "values": []}}"#, zero)), "/payment_tree/condition/left/compute/values", None),
        row("INVALID_LITERAL", when(&cmp(bal, r#"{"value": "abc"}"#)), "/payment_tree/condition/right/value", None),
        row("DIVISION_BY_ZERO", when(&cmp(r#"{"compute": {"op": "/", "left": {"field": "balance"}, "right": {"value": 0}}}"#, zero)), "/payment_tree/condition/left/compute/right", Some("div0")),
        row("UNKNOWN_ACTION", payment(&act("A", "Relase", "")), "/payment_tree/action", Some("did you mean `Release`?")),
        row("ACTION_NOT_IN_TREE", payment(&act("A", "NoAction", "")), "/payment_tree/action", Some("`NoAction` belongs to bank_tree")),
        row("UNKNOWN_ACTION_PARAMETER", payment(&act("A", "Hold", r#"{"reasn": {"value": "x"}}"#)), "/payment_tree/parameters/reasn", Some("did you mean `reason`?")),
        row("MISSING_ACTION_PARAMETER", payment(&act("A", "Split", "{}")), "/payment_tree/parameters", Some("num_splits")),
        row("INVALID_ACTION_PARAMETER", payment(&act("A", "Release", r#"{"rtgs_priority": {"value": "urgent"}}"#)), "/payment_tree/parameters/rtgs_priority/value", Some("did you mean `Urgent`?")),
        warn("UNREACHABLE_BRANCH", when(r#"{"op": "==", "left": {"value": 1}, "right": {"value": 1}}"#), "/payment_tree/on_false", None),
        warn("UNUSED_PARAMETER", tree_doc("payment_tree", REL, r#"{"min_buffer": 5}"#), "/parameters/min_buffer", None),
        warn("REGISTER_NEVER_WRITTEN", when(&cmp(r#"{"field": "bank_state_x"}"#, zero)), "/payment_tree/condition/left/field", Some("SetState")),
        warn("CONSTANT_FIELD", when(&cmp(r#"{"field": "settled_amount"}"#, zero)), "/payment_tree/condition/left/field", None),
        warn("POSSIBLE_DIVISION_BY_ZERO", when(&cmp(r#"{"compute": {"op": "/", "left": {"value": 1}, "right": {"field": "balance"}}}"#, zero)), "/payment_tree/condition/left/compute/right", Some("div0")),
        warn("PARAMETER_OFF_GRID", tree_doc("payment_tree", &cond("N", &cmp(bal, r#"{"param": "p"}"#), REL, HOLD), r#"{"p": {"value": 0.3, "min": 0, "max": 1, "step": 0.25}}"#), "/parameters/p", None),
        warn("NEWER_VERSION", r#"{"version": "1.3", "policy_id": "t", "payment_tree": {"type": "action", "node_id": "A", "action": "Release"}}"#.into(), "/version", None),
        warn("NO_TREES", doc(""), "", Some("payment_tree")),
        scen(row("UNKNOWN_COUNTERPARTY", tree_doc("bank_tree", &act("B", "SetReleaseBudget", r#"{"max_value_to_release": {"value": 5}, "focus_counterparties": {"value": ["BANK_B", "BANK_X"]}}"#), "{}"), "/bank_tree/parameters/focus_counterparties/value/1", Some("did you mean `BANK_A`, `BANK_B` or `BANK_C`?"))),
        overriding(row("UNKNOWN_PARAMETER_OVERRIDE", tree_doc("payment_tree", &cond("N", &cmp(bal, r#"{"param": "threshold"}"#), REL, HOLD), r#"{"threshold": 1}"#), "/parameters", Some("did you mean `threshold`?")), "thresold", 2.0),
        overriding(warn("PARAMETER_OVERRIDE_OUT_OF_RANGE", tree_doc("payment_tree", &cond("N", &cmp(bal, r#"{"param": "limit"}"#), REL, HOLD), r#"{"limit": {"value": 1, "min": 0, "max": 10}}"#), "/parameters/limit", None), "limit", 50.0),
        scen(warn("SPLIT_NEVER_POSSIBLE", payment(&act("A", "Split", r#"{"num_splits": {"value": 2}}"#)), "/payment_tree/action", None)),
        scen(warn("FIELD_CONSTANT_IN_SCENARIO", when(&cmp(r#"{"field": "lsm_run_rate_last_10_ticks"}"#, zero)), "/payment_tree/condition/left/field", None)),
        warn("SIMCASH_FORM", tree_doc("bank_tree", &act("B", "Hold", ""), "{}"), "/bank_tree/action", Some("write \"NoAction\"")),
    ]
}

fn scenario() -> ScenarioInfo {
    ScenarioInfo {
        agent_ids: vec!["BANK_A".into(), "BANK_B".into(), "BANK_C".into()],
        any_divisible: false,
        lsm_enabled: false,
        has_limits: true,
        has_pools: true,
        rate_penalties: false,
        parameter_overrides: BTreeMap::new(),
    }
}

#[test]
fn every_code_has_its_pointer_and_suggestion() {
    for r in rows() {
        let mut s = scenario();
        s.parameter_overrides = r
            .overrides
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
        let report = validate(r.doc.as_bytes(), r.scenario.then_some(&s));
        let list = if r.warning {
            &report.warnings
        } else {
            &report.errors
        };
        let Some(p) = list.iter().find(|p| p.code.as_str() == r.code) else {
            panic!(
                "{}: not reported; got {:?} / {:?}",
                r.code,
                errors(&report),
                warnings(&report)
            );
        };
        assert_eq!(p.pointer, r.pointer, "{}: pointer ({})", r.code, p.message);
        match (r.suggestion, &p.suggestion) {
            (None, None) => {}
            (Some(want), Some(got)) => assert!(
                got.contains(want),
                "{}: suggestion {got:?} lacks {want:?}",
                r.code
            ),
            (want, got) => panic!("{}: suggestion {got:?}, expected {want:?}", r.code),
        }
        assert_eq!(report.valid, report.errors.is_empty());
        if r.warning {
            assert!(
                report.valid,
                "{}: should be a warning only: {:?}",
                r.code,
                errors(&report)
            );
        }
    }
}

#[test]
fn the_table_covers_every_code() {
    let covered: BTreeSet<&str> = rows().iter().map(|r| r.code).collect();
    let all: BTreeSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(covered, all);
}

#[test]
fn a_clean_document_has_no_problems() {
    let d = tree_doc(
        "payment_tree",
        &cond(
            "N",
            &cmp(r#"{"field": "balance"}"#, r#"{"param": "p"}"#),
            REL,
            HOLD,
        ),
        r#"{"p": 1}"#,
    );
    let r = report(&d);
    assert!(
        r.valid && r.errors.is_empty() && r.warnings.is_empty(),
        "{:?} {:?}",
        errors(&r),
        warnings(&r)
    );
    assert_eq!(r.policy_id.as_deref(), Some("t"));
}

#[test]
fn problems_come_in_document_order_and_json_shape() {
    let d = tree_doc(
        "payment_tree",
        &cond(
            "N",
            &cmp(r#"{"field": "zzz"}"#, r#"{"field": "yyy"}"#),
            &act("A", "Nope", ""),
            HOLD,
        ),
        r#"{"unused": 1}"#,
    );
    let r = report(&d);
    let ptrs: Vec<String> = r.errors.iter().map(|p| p.pointer.clone()).collect();
    assert_eq!(
        ptrs,
        [
            "/payment_tree/condition/left/field",
            "/payment_tree/condition/right/field",
            "/payment_tree/on_true/action"
        ]
    );
    let json: serde_json::Value = serde_json::from_str(&r.to_json("f.json")).unwrap();
    assert_eq!(json["file"], "f.json");
    assert_eq!(json["valid"], false);
    assert_eq!(json["errors"][0]["code"], "UNKNOWN_FIELD");
    assert_eq!(json["warnings"][0]["suggestion"], serde_json::Value::Null);
    assert!(json.get("omitted").is_none());
}

#[test]
fn text_report_matches_section_8_3() {
    let d = tree_doc(
        "payment_tree",
        &cond(
            "N",
            &cmp(r#"{"field": "balance"}"#, zero_v()),
            REL,
            &cond(
                "M",
                &cmp(r#"{"field": "tiks_to_deadline"}"#, zero_v()),
                &act("B", "Release", ""),
                HOLD,
            ),
        ),
        r#"{"min_buffer": 1}"#,
    );
    let text = crate::policy::render_text("policies/my_policy.json", &report(&d));
    assert_eq!(
        text,
        "policies/my_policy.json: invalid (1 error, 1 warning)\n  error   UNKNOWN_FIELD at /payment_tree/on_false/condition/left/field: unknown field `tiks_to_deadline`; did you mean `ticks_to_deadline`?\n  warning UNUSED_PARAMETER at /parameters/min_buffer: parameter `min_buffer` is never used\n"
    );
}

fn zero_v() -> &'static str {
    r#"{"value": 0}"#
}

#[test]
fn at_most_200_problems_are_listed() {
    let conds: Vec<String> = (0..300)
        .map(|i| {
            format!(r#"{{"op": ">", "left": {{"field": "nope{i}"}}, "right": {{"value": 0}}}}"#)
        })
        .collect();
    let d = when(&format!(
        r#"{{"op": "and", "conditions": [{}]}}"#,
        conds.join(",")
    ));
    let r = report(&d);
    assert_eq!(r.errors.len(), 200);
    assert_eq!(r.omitted, 100);
    assert!(crate::policy::render_text("f", &r).ends_with("  ... and 100 more problems\n"));
}

#[test]
fn category_hints_name_the_right_construct() {
    let d = tree_doc(
        "payment_tree",
        &cond(
            "N",
            &cmp(r#"{"field": "limit"}"#, r#"{"param": "balance"}"#),
            REL,
            HOLD,
        ),
        r#"{"limit": 1}"#,
    );
    let r = report(&d);
    let sugg: Vec<_> = r
        .errors
        .iter()
        .map(|p| p.suggestion.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        sugg[0],
        "`limit` is a parameter: write {\"param\": \"limit\"}"
    );
    assert_eq!(
        sugg[1],
        "`balance` is a context field: write {\"field\": \"balance\"}"
    );
    let r = report(&when(
        r#"{"op": "+", "left": {"value": 1}, "right": {"value": 1}}"#,
    ));
    assert!(r.errors[0]
        .suggestion
        .as_deref()
        .unwrap_or("")
        .contains("is a computation"));
    let r = report(&when(&cmp(
        r#"{"compute": {"op": ">=", "left": {"value": 1}, "right": {"value": 1}}}"#,
        zero_v(),
    )));
    assert!(r.errors[0]
        .suggestion
        .as_deref()
        .unwrap_or("")
        .contains("condition operator"));
    let r = report(&when(&cmp("5", zero_v())));
    assert_eq!(
        r.errors[0].suggestion.as_deref(),
        Some("write {\"value\": 5}")
    );
}

#[test]
fn parameter_declaration_rules() {
    let cases: &[(&str, &str, bool)] = &[
        (r#"{"value": 1, "min": 0}"#, "INVALID_PARAMETER", false),
        (r#"{"value": 1, "step": 1}"#, "INVALID_PARAMETER", false),
        (r#"{"value": 1, "log": true}"#, "INVALID_PARAMETER", false),
        (
            r#"{"value": 1, "min": 0, "max": 2, "step": 0}"#,
            "INVALID_PARAMETER",
            false,
        ),
        (
            r#"{"value": 1.5, "min": 0, "max": 2, "kind": "int"}"#,
            "INVALID_PARAMETER",
            false,
        ),
        (
            r#"{"value": 1, "min": 0, "max": 2, "log": true}"#,
            "INVALID_PARAMETER",
            false,
        ),
        (
            r#"{"value": 1, "min": 1, "max": 4, "log": true, "step": 0.5}"#,
            "INVALID_PARAMETER",
            false,
        ),
        (
            r#"{"value": 3, "min": 0, "max": 2}"#,
            "INVALID_PARAMETER",
            false,
        ),
        (
            r#"{"value": 1, "min": 1, "max": 1}"#,
            "INVALID_PARAMETER",
            true,
        ),
        (
            r#"{"value": 1, "min": 0, "max": 1, "step": 0.3}"#,
            "PARAMETER_OFF_GRID",
            true,
        ),
        (
            r#"{"value": 1, "kind": "double"}"#,
            "INVALID_PARAMETER",
            false,
        ),
        (r#"{"value": 1, "low": 0}"#, "UNKNOWN_KEY", false),
        (r#"{"min": 0, "max": 1}"#, "MISSING_KEY", false),
        (r#""five""#, "WRONG_TYPE", false),
        (r#"1e999"#, "INVALID_PARAMETER", false),
    ];
    for (decl, code, warning) in cases {
        let d = tree_doc(
            "payment_tree",
            &cond(
                "N",
                &cmp(r#"{"field": "balance"}"#, r#"{"param": "p"}"#),
                REL,
                HOLD,
            ),
            &format!(r#"{{"p": {decl}}}"#),
        );
        let r = report(&d);
        let list = if *warning { warnings(&r) } else { errors(&r) };
        assert!(
            list.iter().any(|(c, _)| c == code),
            "{decl}: expected {code}, got {:?} {:?}",
            errors(&r),
            warnings(&r)
        );
    }
    // Log with step 1 is allowed for int; the reserved parameter must lie in [0, 1].
    let ok = tree_doc(
        "payment_tree",
        REL,
        r#"{"n": {"value": 2, "min": 1, "max": 8, "log": true, "step": 1, "kind": "int"}}"#,
    );
    assert!(report(&ok).valid);
    let ilf = tree_doc(
        "payment_tree",
        REL,
        r#"{"initial_liquidity_fraction": 1.5}"#,
    );
    assert_eq!(
        errors(&report(&ilf)),
        [(
            "INVALID_PARAMETER",
            "/parameters/initial_liquidity_fraction".to_string()
        )]
    );
    let ilf = tree_doc(
        "payment_tree",
        REL,
        r#"{"initial_liquidity_fraction": 0.5, "1bad": 1}"#,
    );
    let r = report(&ilf);
    assert_eq!(
        errors(&r),
        [("INVALID_PARAMETER", "/parameters/1bad".to_string())]
    );
    assert!(
        !warnings(&r).iter().any(|(_, p)| p.contains("initial")),
        "reserved parameter is never unused"
    );
}
