//! The compiled policy's interface: overrides, folding, fields used, registers, Q2 use.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::helpers::*;
use crate::policy::{
    compile, Code, CompiledPolicy, EvalContext, FieldId, PaymentDecision, PolicyCompileError, Tree,
};

fn threshold_doc(decl: &str) -> String {
    tree_doc(
        "payment_tree",
        &cond(
            "N",
            r#"{"op": "<=", "left": {"field": "ticks_to_deadline"}, "right": {"param": "k"}}"#,
            &act("R", "Release", ""),
            &act("H", "Hold", ""),
        ),
        &format!(r#"{{"k": {decl}, "initial_liquidity_fraction": 0.25}}"#),
    )
}

fn over(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[test]
fn compiled_policy_is_shareable() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<CompiledPolicy>();
    let c = Arc::new(compiled(&threshold_doc("5")));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let c = Arc::clone(&c);
            std::thread::spawn(move || {
                let f = fields(&[("ticks_to_deadline", i as f64 * 3.0)]);
                let out = c
                    .eval_payment(&EvalContext {
                        fields: &f,
                        registers: &[],
                        current_tick: 0,
                    })
                    .unwrap();
                c.node_id(out.node.unwrap()).unwrap().to_string()
            })
        })
        .collect();
    let got: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(got, ["R", "R", "H", "H"]);
}

#[test]
fn overrides_follow_section_5_2() {
    let d = threshold_doc(r#"{"value": 5, "min": 0, "max": 10, "kind": "int"}"#);
    let c = compile(d.as_bytes(), &over(&[("k", 8.0)])).unwrap();
    assert_eq!(c.parameters()["k"], 8.0);
    assert_eq!(c.initial_liquidity_fraction(), Some(0.25));
    assert!(c.warnings().is_empty());
    let f = fields(&[("ticks_to_deadline", 7.0)]);
    let out = c
        .eval_payment(&EvalContext {
            fields: &f,
            registers: &[],
            current_tick: 0,
        })
        .unwrap();
    assert_eq!(c.node_id(out.node.unwrap()), Some("R"));

    let c = compile(d.as_bytes(), &over(&[("k", 50.0)])).unwrap();
    assert_eq!(
        c.warnings().iter().map(|w| w.code).collect::<Vec<_>>(),
        [Code::ParameterOverrideOutOfRange]
    );

    let Err(PolicyCompileError::Invalid(r)) = compile(d.as_bytes(), &over(&[("kk", 1.0)])) else {
        panic!()
    };
    assert_eq!(
        errors(&r),
        [("UNKNOWN_PARAMETER_OVERRIDE", "/parameters".to_string())]
    );
    assert_eq!(r.errors[0].suggestion.as_deref(), Some("did you mean `k`?"));
    let Err(PolicyCompileError::Invalid(r)) = compile(d.as_bytes(), &over(&[("k", 2.5)])) else {
        panic!()
    };
    assert_eq!(
        errors(&r),
        [("INVALID_PARAMETER", "/parameters/k".to_string())]
    );
    let Err(PolicyCompileError::Invalid(r)) =
        compile(d.as_bytes(), &over(&[("initial_liquidity_fraction", 2.0)]))
    else {
        panic!()
    };
    assert_eq!(errors(&r)[0].0, "INVALID_PARAMETER");
    let Err(PolicyCompileError::Invalid(r)) = compile(b"{", &BTreeMap::new()) else {
        panic!()
    };
    assert_eq!(errors(&r)[0].0, "INVALID_JSON");
}

#[test]
fn parameters_and_literals_are_folded() {
    let d = tree_doc(
        "payment_tree",
        &cond(
            "N",
            r#"{"op": ">", "left": {"field": "amount"}, "right": {"compute": {"op": "*", "left": {"param": "m"}, "right": {"compute": {"op": "+", "left": {"value": 1}, "right": {"value": 2}}}}}}"#,
            &act("R", "Release", ""),
            &act("H", "Hold", ""),
        ),
        r#"{"m": 10}"#,
    );
    let c = compiled(&d);
    // field, folded constant 30, comparison.
    assert_eq!(c.code.len(), 3);
    assert_eq!(c.fields_used(Tree::Payment), [FieldId::Amount]);
    let c = compile(d.as_bytes(), &over(&[("m", 100.0)])).unwrap();
    let f = fields(&[("amount", 250.0)]);
    let out = c
        .eval_payment(&EvalContext {
            fields: &f,
            registers: &[],
            current_tick: 0,
        })
        .unwrap();
    assert_eq!(c.node_id(out.node.unwrap()), Some("H"));
    // A division by a parameter equal to 0 is not folded: it fails only when evaluated.
    let d = tree_doc(
        "payment_tree",
        &cond(
            "N",
            r#"{"op": ">", "left": {"field": "amount"}, "right": {"value": 0}}"#,
            &act("R", "Release", ""),
            &act(
                "S",
                "Split",
                r#"{"num_splits": {"compute": {"op": "/", "left": {"value": 4}, "right": {"param": "z"}}}}"#,
            ),
        ),
        r#"{"z": 0}"#,
    );
    let c = compiled(&d);
    let ok = fields(&[("amount", 1.0)]);
    assert!(c
        .eval_payment(&EvalContext {
            fields: &ok,
            registers: &[],
            current_tick: 0
        })
        .is_ok());
    let zero = fields(&[]);
    assert_eq!(
        c.eval_payment(&EvalContext {
            fields: &zero,
            registers: &[],
            current_tick: 0
        })
        .unwrap_err()
        .kind,
        crate::policy::EvalErrorKind::DivisionByZero
    );
}

#[test]
fn fields_registers_and_q2_are_reported() {
    let d = doc(&format!(
        r#""payment_tree": {}, "bank_tree": {}, "end_of_tick_collateral_tree": {}"#,
        cond(
            "P",
            r#"{"op": ">", "left": {"field": "bank_state_b"}, "right": {"field": "credit_limit"}}"#,
            &act("W", "WithdrawFromRtgs", ""),
            &act("R", "Release", "")
        ),
        act(
            "B",
            "AddState",
            r#"{"key": {"value": "bank_state_b"}, "value": {"field": "queue2_size"}}"#
        ),
        act(
            "E",
            "WithdrawCollateral",
            r#"{"amount": {"field": "excess_collateral"}}"#
        ),
    ));
    let c = compiled(&d);
    assert!(c.uses_q2_actions());
    assert_eq!(c.fields_used(Tree::Payment), [FieldId::UnsecuredCap]);
    assert_eq!(c.fields_used(Tree::Bank), [FieldId::RtgsQueueSize]);
    assert_eq!(
        c.fields_used(Tree::EndOfTickCollateral),
        [FieldId::ExcessCollateral]
    );
    assert!(c.fields_used(Tree::StrategicCollateral).is_empty());
    assert_eq!(c.registers(), ["bank_state_b"]);
    assert_eq!(c.register_slot("bank_state_b"), Some(0));
    assert_eq!(c.register_slot("bank_state_c"), None);
    assert!(c.has_tree(Tree::Bank) && !c.has_tree(Tree::StrategicCollateral));
    assert_eq!(c.document_json(), d);
    assert_eq!(c.policy_id(), "t");
    let f = fields(&[("unsecured_cap", 1.0)]);
    let out = c
        .eval_payment(&EvalContext {
            fields: &f,
            registers: &[5.0],
            current_tick: 0,
        })
        .unwrap();
    assert_eq!(out.decision, PaymentDecision::WithdrawFromRtgs);
    assert_eq!(c.path_ids(&out.path), ["P", "W"]);
    let out = c
        .eval_payment(&EvalContext {
            fields: &f,
            registers: &[0.0],
            current_tick: 0,
        })
        .unwrap();
    assert_eq!(c.path_ids(&out.path), ["P", "R"]);
    assert!(!compiled(&payment(&act("R", "Release", ""))).uses_q2_actions());
}
