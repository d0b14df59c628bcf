//! The constant-tree optimisation never changes a run (issue #18).
//!
//! A payment tree that reads no payment-dependent field is evaluated once per bank and tick
//! (ENGINE.md §14, `FieldSpec::payment_dependent`). Wrapping any tree in a condition that is
//! always true but reads a payment-only field forces evaluation per payment; the property:
//! for random scenarios (the generator of `invariants.rs`), random penalty rules and random
//! payment trees over every field of the payment tree, both runs emit the same events and the
//! same summary.

mod common;

use common::random::scenario;
use common::*;
use paysim_core::policy::{Tree, FIELDS};
use proptest::prelude::*;
use serde_json::{json, Value};

/// A random payment tree, before node ids are assigned.
#[derive(Clone, Debug)]
enum Node {
    /// An action: its kind and a small parameter.
    Act(u8, u8),
    /// `field op threshold`, then the two branches.
    Cond(&'static str, &'static str, f64, Box<Node>, Box<Node>),
}

/// Field names of the payment tree, the per-payment penalties and a few bank-level fields
/// weighted up so that constant trees reading them are common.
fn field_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = FIELDS
        .iter()
        .filter(|f| f.trees.contains(Tree::Payment))
        .map(|f| f.name)
        .collect();
    for _ in 0..6 {
        names.extend([
            "cost_deadline_penalty",
            "cost_eod_penalty",
            "cost_drop_penalty",
            "balance",
            "queue1_total_value",
            "current_tick",
        ]);
    }
    names
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = (0u8..8, 0u8..11).prop_map(|(k, p)| Node::Act(k, p));
    let thresholds = prop::sample::select(vec![
        -1.0, 0.0, 0.5, 1.0, 3.0, 5.0, 10.0, 40.0, 100.0, 250.0, 5_000.0, 10_000.0, 20_000.0,
        50_000.0, 60_000.0, 1e6,
    ]);
    let ops = prop::sample::select(vec!["<", "<=", ">", ">=", "==", "!="]);
    leaf.prop_recursive(3, 12, 2, move |inner| {
        (
            prop::sample::select(field_names()),
            ops.clone(),
            thresholds.clone(),
            inner.clone(),
            inner,
        )
            .prop_map(|(f, op, v, t, e)| Node::Cond(f, op, v, Box::new(t), Box::new(e)))
    })
}

fn action(kind: u8, p: u8, id: String) -> Value {
    let (name, params) = match kind {
        0 | 1 => ("Release", json!({})),
        2 => ("Release", json!({"rtgs_priority": {"value": "Urgent"}})),
        3 => ("Hold", json!({"reason": {"value": format!("h{p}")}})),
        4 => ("Drop", json!({})),
        5 => ("Split", json!({"num_splits": {"value": 2 + p % 3}})),
        6 => ("Reprioritize", json!({"new_priority": {"value": p}})),
        _ => (
            "StaggerSplit",
            json!({"num_splits": {"value": 3}, "stagger_first_now": {"value": 1},
                   "stagger_gap_ticks": {"value": p % 3}, "priority_boost_children": {"value": 1}}),
        ),
    };
    json!({"type": "action", "node_id": id, "action": name, "parameters": params})
}

fn render(n: &Node, next: &mut usize) -> Value {
    *next += 1;
    let id = format!("n{next}");
    match n {
        Node::Act(k, p) => action(*k, *p, id),
        Node::Cond(f, op, v, t, e) => {
            json!({"type": "condition", "node_id": id,
                "condition": {"op": op, "left": {"field": f}, "right": {"value": v}},
                "on_true": render(t, next), "on_false": render(e, next)})
        }
    }
}

/// Conditions that hold for every payment the payment tree sees in the Q1 pass (the trees
/// here have no Q2 action, so there is no Q2 pass) and read only payment fields.
const ALWAYS: [(&str, &str, f64); 4] = [
    ("amount", ">", 0.0),
    ("remaining_amount", ">=", 1.0),
    ("queue_age", ">=", 0.0),
    ("is_in_queue2", "==", 0.0),
];

fn document(root: Value) -> Value {
    json!({"document": {"version": "1.0", "policy_id": "random", "payment_tree": root},
           "parameters": {}, "source": "test:random"})
}

fn penalty(form: u8, fixed: i64, bps: f64) -> Value {
    match form {
        0 => json!({"mode": "fixed", "amount": fixed}),
        _ => json!({"mode": "rate", "bps_per_event": bps}),
    }
}

/// Runs `cfg` to the end and returns its events as JSON lines and its summary. The first
/// event, `SimulationStarted`, carries the config hash, which differs with the documents.
fn run(cfg: &Value) -> (Vec<String>, Value) {
    let mut e = engine(cfg);
    e.run().expect("run");
    (json_lines(&e, 1), e.summary())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn an_always_true_payment_condition_never_changes_a_run(
        sc in scenario(),
        trees in prop::collection::vec(node(), 1..4),
        always in 0usize..ALWAYS.len(),
        forms in (0u8..2, 0u8..2, 0u8..3),
        divisible in any::<bool>(),
    ) {
        let mut plain = sc.cfg.clone();
        let (deadline, eod, drop) = forms;
        plain["cost_rates"]["deadline_penalty"] = penalty(deadline, 50_000, 100.0);
        plain["cost_rates"]["eod_penalty"] = penalty(eod, 10_000, 50.0);
        plain["cost_rates"]["drop_penalty"] = match drop {
            0 => Value::Null,
            k => penalty(k - 1, 7_000, 200.0),
        };
        let mut wrapped = plain.clone();
        let (field, op, value) = ALWAYS[always];
        let agents = plain["agents"].as_array().map_or(0, Vec::len);
        for i in 0..agents {
            let tree = &trees[i % trees.len()];
            let root = render(tree, &mut 0);
            let guard = json!({"type": "condition", "node_id": "guard",
                "condition": {"op": op, "left": {"field": field}, "right": {"value": value}},
                "on_true": root.clone(),
                "on_false": {"type": "action", "node_id": "never", "action": "Drop"}});
            for (cfg, tree) in [(&mut plain, root), (&mut wrapped, guard)] {
                let a = &mut cfg["agents"][i];
                a["policy"] = document(tree);
                if let Some(s) = a.get_mut("arrival_config").filter(|s| !s.is_null()) {
                    s["divisible"] = json!(divisible);
                }
            }
        }
        let (events, summary) = run(&plain);
        let (events_wrapped, summary_wrapped) = run(&wrapped);
        prop_assert_eq!(events, events_wrapped);
        prop_assert_eq!(summary, summary_wrapped);
    }
}
