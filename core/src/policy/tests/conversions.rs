//! Actions and the conversion of their parameters (§6.1–6.4), one row per case.

use super::helpers::*;
use crate::policy::{
    BankDecision, CollateralDecision, ConversionWarningKind as W, EvalContext, EvalErrorKind,
    PaymentDecision as P, RtgsPriority, Tree,
};

/// `{"field": "balance"}` carries the computed value in these tests.
const X: &str = r#"{"field": "balance"}"#;

fn ctx_eval<T>(x: f64, tick: i64, regs: &[f64], f: impl FnOnce(&EvalContext) -> T) -> T {
    let fs = fields(&[("balance", x)]);
    f(&EvalContext {
        fields: &fs,
        registers: regs,
        current_tick: tick,
    })
}

fn pay(action: &str, params: &str, x: f64) -> (Result<String, EvalErrorKind>, Vec<W>) {
    let c = compiled(&payment(&act("A", action, params)));
    ctx_eval(x, 10, &[], |ctx| match c.eval_payment(ctx) {
        Ok(e) => (
            Ok(format!("{:?}", e.decision)),
            e.warnings.iter().map(|w| w.kind).collect(),
        ),
        Err(e) => (Err(e.kind), vec![]),
    })
}

#[test]
fn payment_actions() {
    let rel = |flag: Option<u8>, t: Option<i64>, r: Option<RtgsPriority>, credit: bool| {
        format!(
            "{:?}",
            P::Release {
                priority_flag: flag,
                timed_for_tick: t,
                rtgs_priority: r,
                with_credit: credit
            }
        )
    };
    let d = |p: P| format!("{p:?}");
    let num = |name: &str| format!(r#"{{"{name}": {X}}}"#);
    type Row<'a> = (&'a str, String, f64, Result<String, EvalErrorKind>, Vec<W>);
    let rows: Vec<Row> = vec![
        ("Release", String::new(), 0.0, Ok(d(P::RELEASE)), vec![]),
        (
            "Release",
            r#"{"priority_flag": {"value": "high"}}"#.into(),
            0.0,
            Ok(rel(Some(10), None, None, false)),
            vec![],
        ),
        (
            "Release",
            r#"{"priority_flag": {"value": "Medium"}}"#.into(),
            0.0,
            Ok(rel(Some(5), None, None, false)),
            vec![],
        ),
        (
            "Release",
            r#"{"priority_flag": {"value": "LOW"}, "rtgs_priority": {"value": "Urgent"}}"#.into(),
            0.0,
            Ok(rel(Some(1), None, Some(RtgsPriority::Urgent), false)),
            vec![],
        ),
        (
            "Release",
            num("timed_for_tick"),
            17.9,
            Ok(rel(None, Some(17), None, false)),
            vec![],
        ),
        (
            "Release",
            num("timed_for_tick"),
            3.0,
            Ok(rel(None, Some(10), None, false)),
            vec![],
        ),
        (
            "Release",
            num("timed_for_tick"),
            1e19,
            Err(EvalErrorKind::OutOfRange),
            vec![],
        ),
        (
            "ReleaseWithCredit",
            String::new(),
            0.0,
            Ok(rel(None, None, None, true)),
            vec![],
        ),
        (
            "Split",
            num("num_splits"),
            3.7,
            Ok(d(P::Split { num_splits: 3 })),
            vec![],
        ),
        (
            "Split",
            num("num_splits"),
            1.9,
            Ok(d(P::RELEASE)),
            vec![W::SplitBelowTwo],
        ),
        (
            "Split",
            num("num_splits"),
            -4.0,
            Ok(d(P::RELEASE)),
            vec![W::SplitBelowTwo],
        ),
        (
            "Split",
            num("num_splits"),
            250.0,
            Ok(d(P::Split { num_splits: 100 })),
            vec![W::Clamped { to: 100 }],
        ),
        (
            "PaceAndRelease",
            num("num_splits"),
            4.0,
            Ok(d(P::Split { num_splits: 4 })),
            vec![],
        ),
        (
            "Split",
            num("num_splits"),
            f64::INFINITY,
            Err(EvalErrorKind::NonFiniteActionValue),
            vec![],
        ),
        (
            "StaggerSplit",
            format!(
                r#"{{"num_splits": {{"value": 5}}, "stagger_first_now": {X}, "stagger_gap_ticks": {{"compute": {{"op": "-", "left": {{"value": 0}}, "right": {X}}}}}, "priority_boost_children": {X}}}"#
            ),
            12.0,
            Ok(d(P::StaggerSplit {
                num_splits: 5,
                first_now: 5,
                gap_ticks: 0,
                priority_boost: 10,
            })),
            vec![
                W::Clamped { to: 5 },
                W::Clamped { to: 0 },
                W::Clamped { to: 10 },
            ],
        ),
        (
            "StaggerSplit",
            format!(
                r#"{{"num_splits": {X}, "stagger_first_now": {{"value": 1}}, "stagger_gap_ticks": {{"value": 3}}, "priority_boost_children": {{"value": 2}}}}"#
            ),
            1.0,
            Ok(d(P::RELEASE)),
            vec![W::SplitBelowTwo],
        ),
        (
            "Hold",
            String::new(),
            0.0,
            Ok(d(P::Hold {
                reason: "PolicyDecision",
            })),
            vec![],
        ),
        (
            "Hold",
            r#"{"reason": {"value": "AwaitingInflows"}}"#.into(),
            0.0,
            Ok(d(P::Hold {
                reason: "AwaitingInflows",
            })),
            vec![],
        ),
        ("Drop", String::new(), 0.0, Ok(d(P::Drop)), vec![]),
        (
            "Reprioritize",
            num("new_priority"),
            4.9,
            Ok(d(P::Reprioritize { new_priority: 4 })),
            vec![],
        ),
        (
            "Reprioritize",
            num("new_priority"),
            11.0,
            Ok(d(P::Reprioritize { new_priority: 10 })),
            vec![W::Clamped { to: 10 }],
        ),
        (
            "Reprioritize",
            num("new_priority"),
            -1.5,
            Ok(d(P::Reprioritize { new_priority: 0 })),
            vec![W::Clamped { to: 0 }],
        ),
        (
            "WithdrawFromRtgs",
            String::new(),
            0.0,
            Ok(d(P::WithdrawFromRtgs)),
            vec![],
        ),
        (
            "ResubmitToRtgs",
            r#"{"rtgs_priority": {"value": "HighlyUrgent"}}"#.into(),
            0.0,
            Ok(d(P::ResubmitToRtgs {
                rtgs_priority: RtgsPriority::HighlyUrgent,
            })),
            vec![],
        ),
    ];
    for (action, params, x, want, warns) in rows {
        let (got, w) = pay(action, &params, x);
        assert_eq!(got, want, "{action} {params} x={x}");
        assert_eq!(w, warns, "{action} {params} x={x}");
    }
}

#[test]
fn bank_actions() {
    let budget = act(
        "B",
        "SetReleaseBudget",
        &format!(
            r#"{{"max_value_to_release": {X}, "focus_counterparties": {{"value": ["BANK_B"]}}, "max_per_counterparty": {{"compute": {{"op": "*", "left": {X}, "right": {{"value": 0.5}}}}}}}}"#
        ),
    );
    let c = compiled(&tree_doc("bank_tree", &budget, "{}"));
    let out = ctx_eval(1001.9, 0, &[], |ctx| c.eval_bank(ctx)).unwrap();
    let focus = ["BANK_B".to_string()];
    assert_eq!(
        out.decision,
        BankDecision::SetReleaseBudget {
            max_value: 1001,
            focus: Some(&focus),
            max_per_counterparty: Some(500)
        }
    );
    let out = ctx_eval(-20.0, 0, &[], |ctx| c.eval_bank(ctx)).unwrap();
    assert_eq!(
        out.decision,
        BankDecision::SetReleaseBudget {
            max_value: 0,
            focus: Some(&focus),
            max_per_counterparty: Some(0)
        }
    );
    assert_eq!(
        out.warnings.iter().map(|w| w.kind).collect::<Vec<_>>(),
        [W::NegativeBudgetZeroed, W::NegativeBudgetZeroed]
    );
    assert_eq!(
        ctx_eval(-0.5, 0, &[], |ctx| c.eval_bank(ctx))
            .unwrap()
            .warnings
            .len(),
        0,
        "-0.5 truncates to 0"
    );

    let state = |a: &str| {
        act(
            "S",
            a,
            &format!(
                r#"{{"key": {{"value": "bank_state_x"}}, "value": {X}, "reason": {{"value": "why"}}}}"#
            ),
        )
    };
    let c = compiled(&tree_doc("bank_tree", &state("SetState"), "{}"));
    assert_eq!(c.registers(), ["bank_state_x"]);
    let out = ctx_eval(2.5, 0, &[7.0], |ctx| c.eval_bank(ctx)).unwrap();
    assert_eq!(
        out.decision,
        BankDecision::SetState {
            slot: 0,
            value: 2.5,
            reason: "why"
        }
    );
    let c = compiled(&tree_doc("bank_tree", &state("AddState"), "{}"));
    let out = ctx_eval(2.5, 0, &[7.0], |ctx| c.eval_bank(ctx)).unwrap();
    assert_eq!(
        out.decision,
        BankDecision::AddState {
            slot: 0,
            value: 2.5,
            reason: "why"
        }
    );
    let e = ctx_eval(f64::MAX, 0, &[f64::MAX], |ctx| c.eval_bank(ctx)).unwrap_err();
    assert_eq!(e.kind, EvalErrorKind::NonFiniteActionValue);
    let c = compiled(&tree_doc("bank_tree", &act("N", "NoAction", ""), "{}"));
    assert_eq!(
        ctx_eval(0.0, 0, &[], |ctx| c.eval_bank(ctx))
            .unwrap()
            .decision,
        BankDecision::NoAction
    );
    let c = compiled(&tree_doc(
        "bank_tree",
        &act(
            "S",
            "SetState",
            r#"{"key": {"value": "bank_state_y"}, "value": {"value": 1}}"#,
        ),
        "{}",
    ));
    assert_eq!(
        ctx_eval(0.0, 0, &[0.0], |ctx| c.eval_bank(ctx))
            .unwrap()
            .decision,
        BankDecision::SetState {
            slot: 0,
            value: 1.0,
            reason: "policy_action"
        }
    );
}

#[test]
fn collateral_actions() {
    for tree in [Tree::StrategicCollateral, Tree::EndOfTickCollateral] {
        let post = act(
            "P",
            "PostCollateral",
            &format!(
                r#"{{"amount": {X}, "auto_withdraw_after_ticks": {{"compute": {{"op": "-", "left": {X}, "right": {X}}}}}}}"#
            ),
        );
        let c = compiled(&tree_doc(tree.json_name(), &post, "{}"));
        let out = ctx_eval(500.7, 0, &[], |ctx| c.eval_collateral(tree, ctx)).unwrap();
        assert_eq!(
            out.decision,
            CollateralDecision::Post {
                amount: 500,
                reason: "PolicyDecision",
                auto_withdraw_after_ticks: Some(1)
            }
        );
        assert_eq!(
            out.warnings.iter().map(|w| w.kind).collect::<Vec<_>>(),
            [W::Clamped { to: 1 }]
        );
        let out = ctx_eval(-3.0, 0, &[], |ctx| c.eval_collateral(tree, ctx)).unwrap();
        assert_eq!(out.decision, CollateralDecision::Hold);
        assert_eq!(
            out.warnings.iter().map(|w| w.kind).collect::<Vec<_>>(),
            [W::NegativeNotCarriedOut]
        );
        let e = ctx_eval(1e19, 0, &[], |ctx| c.eval_collateral(tree, ctx)).unwrap_err();
        assert_eq!(
            (e.kind, e.pointer.as_str()),
            (
                EvalErrorKind::OutOfRange,
                format!("/{}/parameters/amount", tree.json_name()).as_str()
            )
        );

        let wd = act(
            "W",
            "WithdrawCollateral",
            &format!(r#"{{"amount": {X}, "reason": {{"value": "LiquidityRestored"}}}}"#),
        );
        let c = compiled(&tree_doc(tree.json_name(), &wd, "{}"));
        let out = ctx_eval(42.0, 0, &[], |ctx| c.eval_collateral(tree, ctx)).unwrap();
        assert_eq!(
            out.decision,
            CollateralDecision::Withdraw {
                amount: 42,
                reason: "LiquidityRestored"
            }
        );
        let c = compiled(&tree_doc(
            tree.json_name(),
            &act("H", "HoldCollateral", ""),
            "{}",
        ));
        assert_eq!(
            ctx_eval(0.0, 0, &[], |ctx| c.eval_collateral(tree, ctx))
                .unwrap()
                .decision,
            CollateralDecision::Hold
        );
    }
}

#[test]
fn absent_trees_use_their_defaults() {
    let c = compiled(&doc(""));
    let out = ctx_eval(0.0, 0, &[], |ctx| c.eval_payment(ctx)).unwrap();
    assert_eq!(
        (out.decision, out.node, out.path.len()),
        (P::RELEASE, None, 0)
    );
    assert_eq!(
        ctx_eval(0.0, 0, &[], |ctx| c.eval_bank(ctx))
            .unwrap()
            .decision,
        BankDecision::NoAction
    );
    for t in [Tree::StrategicCollateral, Tree::EndOfTickCollateral] {
        assert_eq!(
            ctx_eval(0.0, 0, &[], |ctx| c.eval_collateral(t, ctx))
                .unwrap()
                .decision,
            CollateralDecision::Hold
        );
    }
    assert!(ctx_eval(0.0, 0, &[], |ctx| c.eval_collateral(Tree::Payment, ctx)).is_err());
}

#[test]
fn literal_parameters_out_of_range_are_validation_errors() {
    let rows = [
        ("Split", r#"{"num_splits": {"value": 1}}"#),
        ("Split", r#"{"num_splits": {"value": 101}}"#),
        ("Reprioritize", r#"{"new_priority": {"value": 11}}"#),
        ("Release", r#"{"timed_for_tick": {"value": 1e19}}"#),
        ("Release", r#"{"priority_flag": {"field": "balance"}}"#),
        ("Release", r#"{"priority_flag": {"value": "URGENT"}}"#),
        ("Hold", r#"{"reason": {"value": ""}}"#),
        (
            "StaggerSplit",
            r#"{"num_splits": {"value": 3}, "stagger_first_now": {"value": 4}, "stagger_gap_ticks": {"value": 1}, "priority_boost_children": {"value": 0}}"#,
        ),
        (
            "StaggerSplit",
            r#"{"num_splits": {"value": 3}, "stagger_first_now": {"value": 1}, "stagger_gap_ticks": {"value": 10001}, "priority_boost_children": {"value": 0}}"#,
        ),
    ];
    for (a, p) in rows {
        let r = report(&payment(&act("A", a, p)));
        assert_eq!(
            errors(&r).first().map(|e| e.0),
            Some("INVALID_ACTION_PARAMETER"),
            "{a} {p}"
        );
    }
    let r = report(&tree_doc(
        "strategic_collateral_tree",
        &act("A", "PostCollateral", r#"{"amount": {"value": -1}}"#),
        "{}",
    ));
    assert_eq!(errors(&r)[0].0, "INVALID_ACTION_PARAMETER");
    let r = report(&payment(&act(
        "A",
        "Split",
        r#"{"num_splits": {"value": "3"}}"#,
    )));
    assert_eq!(errors(&r)[0].0, "INVALID_LITERAL");
    let r = report(&tree_doc(
        "bank_tree",
        &act(
            "A",
            "SetState",
            r#"{"key": {"value": "state_x"}, "value": {"value": 1}}"#,
        ),
        "{}",
    ));
    assert_eq!(
        errors(&r)[0],
        (
            "INVALID_REGISTER_NAME",
            "/bank_tree/parameters/key/value".to_string()
        )
    );
}
