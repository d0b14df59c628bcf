//! The registry pinned: every field in every tree, names, aliases and the action table.

use super::helpers::*;
use crate::policy::actions::{actions_in, ACTIONS};
use crate::policy::registry::{field_by_name, TreeSet};
use crate::policy::{EvalContext, Tree, FIELDS, FIELD_COUNT};

/// Two actions the tree admits, for the two branches.
fn actions(tree: Tree) -> (String, String) {
    match tree {
        Tree::Payment => (act("T", "Release", ""), act("F", "Hold", "")),
        Tree::Bank => (act("T", "NoAction", ""), act("F", "NoAction", "")),
        _ => (
            act("T", "HoldCollateral", ""),
            act("F", "HoldCollateral", ""),
        ),
    }
}

#[test]
fn every_field_in_every_tree() {
    for f in FIELDS {
        for tree in Tree::ALL {
            let (t, e) = actions(tree);
            let c = format!(
                r#"{{"op": ">=", "left": {{"field": "{}"}}, "right": {{"value": 0}}}}"#,
                f.name
            );
            let d = tree_doc(tree.json_name(), &cond("N", &c, &t, &e), "{}");
            let r = report(&d);
            if !f.trees.contains(tree) {
                assert_eq!(
                    errors(&r),
                    [(
                        "FIELD_NOT_IN_TREE",
                        format!("/{}/condition/left/field", tree.json_name())
                    )],
                    "{}",
                    f.name
                );
                continue;
            }
            assert!(r.valid, "{} in {tree:?}: {:?}", f.name, errors(&r));
            let policy = compiled(&d);
            assert_eq!(policy.fields_used(tree), [f.id]);
            for (value, want) in [(1.0, "T"), (-1.0, "F"), (f64::INFINITY, "T")] {
                let mut fs = vec![0.0; FIELD_COUNT];
                fs[f.id as usize] = value;
                let ctx = EvalContext {
                    fields: &fs,
                    registers: &[],
                    current_tick: 0,
                };
                let node = match tree {
                    Tree::Payment => policy.eval_payment(&ctx).map(|o| o.node),
                    Tree::Bank => policy.eval_bank(&ctx).map(|o| o.node),
                    _ => policy.eval_collateral(tree, &ctx).map(|o| o.node),
                };
                assert_eq!(
                    policy.node_id(node.unwrap().unwrap()),
                    Some(want),
                    "{} = {value}",
                    f.name
                );
            }
        }
    }
}

#[test]
fn registry_is_consistent() {
    assert_eq!(FIELDS.len(), FIELD_COUNT);
    assert_eq!(FIELD_COUNT, 103);
    for (i, f) in FIELDS.iter().enumerate() {
        assert_eq!(f.id as usize, i, "{}", f.name);
        assert_eq!(field_by_name(f.name), Some(f.id));
        assert!(!f.description.is_empty());
        assert!(f.trees == TreeSet::P || f.trees == TreeSet::ALL);
        assert_eq!(FIELDS.iter().filter(|g| g.name == f.name).count(), 1);
    }
    assert_eq!(
        field_by_name("credit_limit"),
        field_by_name("unsecured_cap")
    );
    assert_eq!(
        field_by_name("queue2_size"),
        field_by_name("rtgs_queue_size")
    );
    for k in 1..=5 {
        for name in [
            format!("top_cpty_{k}_id_hash"),
            format!("my_q2_out_value_top_{k}"),
            format!("my_q2_in_value_top_{k}"),
            format!("my_bilateral_net_q2_top_{k}"),
        ] {
            assert!(field_by_name(&name).is_some(), "{name}");
        }
    }
    for (i, a) in ACTIONS.iter().enumerate() {
        assert_eq!(a.kind as usize, i);
    }
    let names = |t| actions_in(t).map(|a| a.name).collect::<Vec<_>>();
    assert_eq!(
        names(Tree::Bank),
        ["SetReleaseBudget", "SetState", "AddState", "NoAction"]
    );
    assert_eq!(
        names(Tree::StrategicCollateral),
        names(Tree::EndOfTickCollateral)
    );
    assert_eq!(names(Tree::Payment).len(), 10);
}

#[test]
fn registers_are_read_in_every_tree() {
    for tree in Tree::ALL {
        let (t, e) = actions(tree);
        let c = r#"{"op": ">", "left": {"field": "bank_state_level"}, "right": {"value": 0}}"#;
        let mut d = tree_doc(tree.json_name(), &cond("N", c, &t, &e), "{}");
        if tree != Tree::Bank {
            let w = act(
                "W",
                "SetState",
                r#"{"key": {"value": "bank_state_level"}, "value": {"value": 1}}"#,
            );
            d = d.replacen('{', &format!(r#"{{"bank_tree": {w}, "#), 1);
        }
        let r = report(&d);
        assert!(r.valid, "{:?}", errors(&r));
        let p = compiled(&d);
        let fs = vec![0.0; FIELD_COUNT];
        let ctx = EvalContext {
            fields: &fs,
            registers: &[3.0],
            current_tick: 0,
        };
        let node = match tree {
            Tree::Payment => p.eval_payment(&ctx).unwrap().node,
            Tree::Bank => p.eval_bank(&ctx).unwrap().node,
            _ => p.eval_collateral(tree, &ctx).unwrap().node,
        };
        assert_eq!(p.node_id(node.unwrap()), Some("T"));
    }
}

/// Which fields depend on the payment in the payment tree (the constant-tree optimisation
/// of the engine rests on it): every `P` field, and of the fields of every tree exactly the
/// three per-payment penalties (§7.2). A compiled payment tree knows whether it reads one.
#[test]
fn payment_dependence_is_declared_in_the_registry() {
    for f in FIELDS {
        if f.flags.per_payment {
            assert!(f.trees.contains(Tree::Payment), "{}", f.name);
        }
        if f.trees == TreeSet::P {
            assert!(f.payment_dependent(), "{}", f.name);
        }
    }
    let everywhere: Vec<&str> = FIELDS
        .iter()
        .filter(|f| f.trees == TreeSet::ALL && f.payment_dependent())
        .map(|f| f.name)
        .collect();
    assert_eq!(
        everywhere,
        [
            "cost_deadline_penalty",
            "cost_eod_penalty",
            "cost_drop_penalty"
        ]
    );
    let (t, e) = actions(Tree::Payment);
    for (field, reads_payment) in [
        ("balance", false),
        ("cost_split_friction", false),
        ("cost_deadline_penalty", true),
        ("cost_eod_penalty", true),
        ("cost_drop_penalty", true),
        ("amount", true),
    ] {
        let c =
            format!(r#"{{"op": ">=", "left": {{"field": "{field}"}}, "right": {{"value": 0}}}}"#);
        let d = tree_doc("payment_tree", &cond("N", &c, &t, &e), "{}");
        assert_eq!(
            compiled(&d).payment_tree_reads_payment(),
            reads_payment,
            "{field}"
        );
        // The same field in the bank tree never makes the payment tree per-payment.
        let b = tree_doc(
            "bank_tree",
            &cond(
                "N",
                &c,
                &act("T", "NoAction", ""),
                &act("F", "NoAction", ""),
            ),
            "{}",
        );
        let b = b.replace(
            r#""bank_tree""#,
            r#""payment_tree": {"type": "action", "node_id": "R", "action": "Release"}, "bank_tree""#,
        );
        if !field.starts_with("amount") {
            assert!(
                !compiled(&b).payment_tree_reads_payment(),
                "{field} in bank tree"
            );
        }
    }
}
