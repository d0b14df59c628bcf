//! SimCash policy forms (docs/simcash.md): each is read as the form this language defines,
//! and gives the same decision.

use super::helpers::*;
use crate::policy::{BankDecision, CollateralDecision, EvalContext, Tree};

const BUDGET: &str = r#"{"max_value_to_release": {"value": 500000}, "focus_counterparties": {"value": ["BANK_B"]}, "max_per_counterparty": {"field": "balance"}}"#;
const SIMCASH_BUDGET: &str = r#"{"max_value_to_release": {"value": 500000}, "focus_cpty_list": {"value": ["BANK_B"]}, "max_per_cpty": {"field": "balance"}}"#;

fn bank(node: &str) -> String {
    tree_doc("bank_tree", node, "{}")
}

fn ctx(f: &[f64]) -> EvalContext<'_> {
    EvalContext {
        fields: f,
        registers: &[],
        current_tick: 0,
    }
}

#[test]
fn simcash_budget_parameter_names_mean_the_same_parameters() {
    let ours = bank(&act("B", "SetReleaseBudget", BUDGET));
    let theirs = bank(&act("B", "SetReleaseBudget", SIMCASH_BUDGET));
    let r = report(&theirs);
    assert!(r.valid && r.warnings.is_empty(), "{:?}", errors(&r));
    let f = fields(&[("balance", 120_000.0)]);
    let a = compiled(&ours);
    let b = compiled(&theirs);
    let (da, db) = (
        a.eval_bank(&ctx(&f)).unwrap().decision,
        b.eval_bank(&ctx(&f)).unwrap().decision,
    );
    assert_eq!(da, db);
    let focus = vec!["BANK_B".to_string()];
    assert_eq!(
        db,
        BankDecision::SetReleaseBudget {
            max_value: 500_000,
            focus: Some(&focus),
            max_per_counterparty: Some(120_000),
        }
    );
}

#[test]
fn a_simcash_name_and_ours_for_one_parameter_is_an_error() {
    let both = r#"{"max_value_to_release": {"value": 5}, "max_per_cpty": {"value": 1}, "max_per_counterparty": {"value": 2}}"#;
    let r = report(&bank(&act("B", "SetReleaseBudget", both)));
    assert_eq!(
        errors(&r),
        [(
            "DUPLICATE_KEY",
            "/bank_tree/parameters/max_per_counterparty".to_string()
        )]
    );
}

#[test]
fn simcash_budget_names_are_checked_against_the_scenario() {
    let theirs = bank(&act(
        "B",
        "SetReleaseBudget",
        r#"{"max_value_to_release": {"value": 5}, "focus_cpty_list": {"value": ["BANK_X"]}}"#,
    ));
    let info = crate::policy::ScenarioInfo {
        agent_ids: vec!["BANK_A".into(), "BANK_B".into()],
        any_divisible: true,
        lsm_enabled: true,
        has_limits: false,
        has_pools: false,
        rate_penalties: false,
        parameter_overrides: Default::default(),
    };
    let r = crate::policy::validate(theirs.as_bytes(), Some(&info));
    assert_eq!(
        errors(&r),
        [(
            "UNKNOWN_COUNTERPARTY",
            "/bank_tree/parameters/focus_cpty_list/value/0".to_string()
        )]
    );
}

#[test]
fn comment_is_a_note_on_any_node_and_must_be_text() {
    let node = r#"{"type": "condition", "node_id": "N", "comment": "why", "description": "what",
        "condition": {"op": ">", "left": {"field": "balance"}, "right": {"value": 0}},
        "on_true": {"type": "action", "node_id": "R", "action": "Release", "comment": "go"},
        "on_false": {"type": "action", "node_id": "H", "action": "Hold"}}"#;
    let r = report(&payment(node));
    assert!(r.valid && r.warnings.is_empty(), "{:?}", errors(&r));
    let bad = payment(r#"{"type": "action", "node_id": "R", "action": "Release", "comment": 3}"#);
    assert_eq!(
        errors(&report(&bad)),
        [("WRONG_TYPE", "/payment_tree/comment".to_string())]
    );
}

#[test]
fn hold_outside_the_payment_tree_is_its_nearest_meaning_with_a_warning() {
    // (tree key, tree, mapped action)
    for (key, tree, mapped) in [
        ("bank_tree", Tree::Bank, "NoAction"),
        (
            "strategic_collateral_tree",
            Tree::StrategicCollateral,
            "HoldCollateral",
        ),
        (
            "end_of_tick_collateral_tree",
            Tree::EndOfTickCollateral,
            "HoldCollateral",
        ),
    ] {
        let d = tree_doc(
            key,
            &act("H", "Hold", r#"{"reason": {"value": "Waiting"}}"#),
            "{}",
        );
        let r = report(&d);
        assert!(r.valid, "{key}: {:?}", errors(&r));
        let w = &r.warnings;
        assert_eq!(w.len(), 1, "{key}: {:?}", warnings(&r));
        assert_eq!(w[0].code.as_str(), "SIMCASH_FORM");
        assert_eq!(w[0].pointer, format!("/{key}/action"));
        assert!(w[0].message.contains(mapped), "{}", w[0].message);
        let c = compiled(&d);
        let f = fields(&[]);
        match tree {
            Tree::Bank => assert_eq!(
                c.eval_bank(&ctx(&f)).unwrap().decision,
                BankDecision::NoAction
            ),
            _ => assert_eq!(
                c.eval_collateral(tree, &ctx(&f)).unwrap().decision,
                CollateralDecision::Hold
            ),
        }
    }
}

#[test]
fn hold_keeps_its_meaning_in_the_payment_tree_and_other_misplaced_actions_stay_errors() {
    let r = report(&payment(&act("H", "Hold", "")));
    assert!(r.valid && r.warnings.is_empty());
    let r = report(&bank(&act("R", "Release", "")));
    assert_eq!(
        errors(&r),
        [("ACTION_NOT_IN_TREE", "/bank_tree/action".to_string())]
    );
    // A mapped Hold takes no parameters but Hold's own `reason`.
    let r = report(&bank(&act("H", "Hold", r#"{"num_splits": {"value": 2}}"#)));
    assert_eq!(
        errors(&r),
        [(
            "UNKNOWN_ACTION_PARAMETER",
            "/bank_tree/parameters/num_splits".to_string()
        )]
    );
}
