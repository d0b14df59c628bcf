//! Issue #18, item 1: the per-payment cost fields of the payment tree (POLICY_DSL.md §7.2).
//!
//! In the payment tree `cost_deadline_penalty`, `cost_eod_penalty` and `cost_drop_penalty` are
//! the payment's own penalties, so a tree that reads only them is not constant: it must be
//! evaluated per payment. Which fields depend on the payment is the registry's answer
//! (`FieldSpec::payment_dependent`); the last test checks that answer against the engine's
//! field values.
//!
//! Hand-computed values use `resolve(penalty, x) = fixed ? amount : rdiv(x × bps × 10^9, 10^13)`
//! (ENGINE.md §8.2): x × bps / 10,000 exactly for the round numbers below.

mod common;

use common::*;
use paysim_core::events::{EventType, Key, OwnedVal};
use paysim_core::policy::{FieldId, Tree, FIELDS};
use paysim_core::Engine;
use serde_json::{json, Value};

fn policy(id: &str, tree: Value) -> Value {
    json!({"document": {"version": "1.0", "policy_id": id, "payment_tree": tree},
           "parameters": {}, "source": format!("test:{id}")})
}

fn hold(reason: &str) -> Value {
    json!({"type": "action", "node_id": format!("hold_{reason}"), "action": "Hold",
           "parameters": {"reason": {"value": reason}}})
}

fn cmp(op: &str, field: &str, value: f64) -> Value {
    json!({"op": op, "left": {"field": field}, "right": {"value": value}})
}

/// A payment tree that holds every payment with the reason `saw_<v>` for the value `v` of
/// `field` it reads, among `values`, and `saw_other` for any other value.
fn probe(field: &str, values: &[i64]) -> Value {
    let mut values = values.to_vec();
    values.sort_unstable();
    values.dedup();
    let mut node = hold("saw_other");
    for (k, v) in values.iter().enumerate() {
        node = json!({"type": "condition", "node_id": format!("is_{k}"),
            "condition": cmp("==", field, *v as f64),
            "on_true": hold(&format!("saw_{v}")), "on_false": node});
    }
    node
}

fn penalty(p: &str) -> Value {
    match p.split_once(' ') {
        Some(("fixed", v)) => json!({"mode": "fixed", "amount": v.parse::<i64>().unwrap()}),
        Some(("rate", v)) => json!({"mode": "rate", "bps_per_event": v.parse::<f64>().unwrap()}),
        _ => Value::Null,
    }
}

/// A (balance 0) and B; payments of A: `fresh` 10,000 due at tick 9 and `late` 40,000 due
/// at tick 2, both arriving at tick 0 and held all day by `tree`.
fn run_probe(tree: Value, deadline: &str, eod: &str, drop: &str) -> Engine {
    let mut a = agent("A", 0);
    a["policy"] = policy("probe", tree);
    let mut cfg = config(10, 1, 1, vec![a, agent("B", 0)]);
    cfg["cost_rates"]["deadline_penalty"] = penalty(deadline);
    cfg["cost_rates"]["eod_penalty"] = penalty(eod);
    cfg["cost_rates"]["drop_penalty"] = penalty(drop);
    let mut e = engine(&cfg);
    inject_at(&mut e, 0, 9, &[("A", "B", 10_000)]);
    inject_at(&mut e, 0, 2, &[("A", "B", 40_000)]);
    e.run_until(4).expect("run");
    e
}

/// The hold reasons of A's payments at `tick`, in id order.
fn reasons_at(e: &Engine, tick: u32) -> Vec<String> {
    all_events(e)
        .into_iter()
        .filter(|v| v.ty == EventType::PolicyHold && v.tick == tick)
        .map(|v| match v.detail(Key::Reason) {
            Some(OwnedVal::Str(s)) => s.clone(),
            other => panic!("reason {other:?}"),
        })
        .collect()
}

/// Each field in each penalty form: (field, deadline, eod, drop penalty, value seen by `fresh`
/// and `late` at tick 3 — `late` went overdue at tick 2, so its deadline penalty is charged —,
/// value in the other trees (the rule applied to 0)).
#[test]
fn each_cost_field_in_each_penalty_form_is_the_payments_own() {
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        [i64; 2],
        i64,
    );
    let cases: &[Case] = &[
        (
            "cost_deadline_penalty",
            "fixed 50000",
            "fixed 10000",
            "",
            [50_000, 50_000],
            50_000,
        ),
        // 1 % of the amount: 100 and 400.
        (
            "cost_deadline_penalty",
            "rate 100",
            "fixed 10000",
            "",
            [100, 400],
            0,
        ),
        (
            "cost_eod_penalty",
            "fixed 50000",
            "fixed 10000",
            "",
            [10_000, 10_000],
            10_000,
        ),
        // 0.5 % of the remaining amount: 50 and 200.
        (
            "cost_eod_penalty",
            "fixed 50000",
            "rate 50",
            "",
            [50, 200],
            0,
        ),
        (
            "cost_drop_penalty",
            "fixed 50000",
            "fixed 10000",
            "fixed 7000",
            [7_000, 7_000],
            7_000,
        ),
        // 2 % of the remaining amount: 200 and 800.
        (
            "cost_drop_penalty",
            "fixed 50000",
            "fixed 10000",
            "rate 200",
            [200, 800],
            0,
        ),
        // Derived (§8.3): EOD penalty + the deadline penalty unless already charged.
        // fresh: 10,000 + 50,000; late (charged): 10,000.
        (
            "cost_drop_penalty",
            "fixed 50000",
            "fixed 10000",
            "",
            [60_000, 10_000],
            60_000,
        ),
        // fresh: 50 + 100; late: 200 (its 400 of deadline penalty is charged).
        (
            "cost_drop_penalty",
            "rate 100",
            "rate 50",
            "",
            [150, 200],
            0,
        ),
        // fresh: 50 + 50,000; late: 200.
        (
            "cost_drop_penalty",
            "fixed 50000",
            "rate 50",
            "",
            [50_050, 200],
            50_000,
        ),
        // fresh: 10,000 + 100; late: 10,000.
        (
            "cost_drop_penalty",
            "rate 100",
            "fixed 10000",
            "",
            [10_100, 10_000],
            10_000,
        ),
    ];
    for (field, deadline, eod, drop, seen, other_trees) in cases {
        let what = format!("{field} / deadline {deadline} / eod {eod} / drop {drop:?}");
        let e = run_probe(probe(field, seen), deadline, eod, drop);
        let want: Vec<String> = seen.iter().map(|v| format!("saw_{v}")).collect();
        assert_eq!(reasons_at(&e, 3), want, "{what}");
        let id = paysim_core::policy::field_by_name(field).expect("field");
        let bank_level = e.field_value(id, "A", None).expect("value");
        assert_eq!(bank_level, *other_trees as f64, "{what}: other trees");
    }
}

/// The first case of the issue: `cost_drop_penalty <= 10000 → Drop, else Hold` under the
/// default penalties (deadline 50,000, EOD 10,000, drop derived). A payment's drop penalty is
/// 60,000 until its deadline penalty is charged, then 10,000: each payment is dropped on the
/// tick after it went overdue, and the bank pays drop penalties, not EOD penalties.
#[test]
fn drop_once_the_deadline_penalty_is_charged() {
    let tree = json!({"type": "condition", "node_id": "cheap_to_drop",
        "condition": cmp("<=", "cost_drop_penalty", 10_000.0),
        "on_true": {"type": "action", "node_id": "drop", "action": "Drop"},
        "on_false": hold("wait")});
    let mut a = agent("A", 0);
    a["policy"] = policy("drop_when_cheap", tree);
    let mut e = engine(&config(10, 1, 1, vec![a, agent("B", 0)]));
    inject_at(&mut e, 0, 3, &[("A", "B", 100_000)]);
    inject_at(&mut e, 0, 5, &[("A", "B", 100_000)]);
    e.run().expect("run");
    let drops: Vec<(u32, Option<OwnedVal>)> = all_events(&e)
        .into_iter()
        .filter(|v| v.ty == EventType::PolicyDrop)
        .map(|v| (v.tick, v.detail(Key::DropPenalty).cloned()))
        .collect();
    assert_eq!(
        drops,
        vec![
            (4, Some(OwnedVal::I64(10_000))),
            (6, Some(OwnedVal::I64(10_000)))
        ]
    );
    let c = e.costs("A", None).expect("costs");
    // Delay: 10 per tick on time — ticks 0..3 for the first, 0..5 for the second; a payment
    // dropped in S7 accrues nothing at that tick's S14.
    assert_eq!(c["delay"], json!(40 + 60));
    assert_eq!(c["deadline_penalty"], json!(100_000));
    assert_eq!(c["drop_penalty"], json!(20_000));
    assert_eq!(c["eod_penalty"], json!(0));
    assert_eq!(c["total"], json!(120_100));
}

/// The second case of the issue: under a rate rule of 100 bps, `cost_deadline_penalty >= 50 →
/// Release` releases a 10,000 payment (penalty 100) and holds a 4,000 one (penalty 40).
#[test]
fn release_when_the_rate_penalty_is_high() {
    let tree = json!({"type": "condition", "node_id": "costly_if_late",
        "condition": cmp(">=", "cost_deadline_penalty", 50.0),
        "on_true": {"type": "action", "node_id": "go", "action": "Release"},
        "on_false": hold("cheap")});
    let mut a = agent("A", 100_000);
    a["policy"] = policy("release_when_costly", tree);
    let mut cfg = config(10, 1, 1, vec![a, agent("B", 0)]);
    cfg["cost_rates"]["deadline_penalty"] = penalty("rate 100");
    let mut e = engine(&cfg);
    inject_at(&mut e, 0, 9, &[("A", "B", 10_000), ("A", "B", 4_000)]);
    e.run().expect("run");
    let settled: Vec<(u32, Option<i64>)> = all_events(&e)
        .into_iter()
        .filter(|v| v.ty == EventType::RtgsImmediateSettlement)
        .map(|v| (v.tick, v.amount))
        .collect();
    assert_eq!(settled, vec![(0, Some(10_000))]);
    assert_eq!(reasons_at(&e, 9), vec!["cheap".to_string()]);
    let c = e.costs("A", None).expect("costs");
    // The 4,000 stays: delay rdiv(4,000 × 10^11, 10^15) = 0 per tick (0.4 rounds down);
    // overdraft none; at tick 9 its deadline penalty 40 and the EOD penalty 10,000.
    assert_eq!(c["deadline_penalty"], json!(40));
    assert_eq!(c["eod_penalty"], json!(10_000));
    assert_eq!(c["total"], json!(10_040));
}

/// The registry's `payment_dependent` agrees with the engine: on a varied fixture state, every
/// payment-tree field not marked payment-dependent reads the same for every payment as with
/// no payment, and each payment-dependent field available in every tree (the penalties) reads
/// differently for some payment.
#[test]
fn payment_dependence_comes_from_the_registry_and_matches_the_engine() {
    let mut agents = vec![agent("A", 30_000), agent("B", 5_000), agent("C", 0)];
    agents[0]["limits"]["bilateral_limits"] = json!({"C": 20_000});
    agents[0]["liquidity_pool"] = json!(10_000);
    agents[1]["unsecured_cap"] = json!(2_000);
    // Hold payments below 15,000 in Q1; release the rest (some queue in Q2).
    let tree = json!({"type": "condition", "node_id": "small",
        "condition": cmp("<", "amount", 15_000.0),
        "on_true": hold("small"),
        "on_false": {"type": "action", "node_id": "go", "action": "Release"}});
    for a in agents.iter_mut() {
        a["policy"] = policy("mixed", tree.clone());
    }
    let mut cfg = config(10, 2, 1, agents);
    cfg["cost_rates"]["deadline_penalty"] = penalty("rate 100");
    cfg["cost_rates"]["eod_penalty"] = penalty("rate 50");
    let mut e = engine(&cfg);
    inject_at(&mut e, 0, 2, &[("A", "B", 12_000), ("B", "C", 40_000)]);
    inject_at(&mut e, 0, 8, &[("A", "C", 25_000), ("C", "A", 14_000)]);
    inject_at(&mut e, 1, 15, &[("B", "A", 9_000), ("A", "B", 60_000)]);
    inject_at(&mut e, 2, 3, &[("C", "B", 33_000), ("B", "A", 1_000)]);
    e.run_until(5).expect("run");
    let dependent: Vec<FieldId> = FIELDS
        .iter()
        .filter(|f| f.payment_dependent())
        .map(|f| f.id)
        .collect();
    for name in [
        "cost_deadline_penalty",
        "cost_eod_penalty",
        "cost_drop_penalty",
    ] {
        let id = paysim_core::policy::field_by_name(name).expect("field");
        assert!(dependent.contains(&id), "{name} is payment-dependent");
    }
    let same = |x: f64, y: f64| x == y || (x.is_nan() && y.is_nan());
    let mut differs = vec![false; FIELDS.len()];
    let mut payments = 0;
    for agent_id in ["A", "B", "C"] {
        let mut txs = e.queue1(agent_id).expect("q1");
        txs.extend(
            e.queue2()
                .into_iter()
                .filter(|tx| e.payment(tx).is_ok_and(|p| p.sender == agent_id)),
        );
        for tx in &txs {
            payments += 1;
            for f in FIELDS.iter().filter(|f| f.trees.contains(Tree::Payment)) {
                let with = e.field_value(f.id, agent_id, Some(tx)).expect("value");
                let without = e.field_value(f.id, agent_id, None).expect("value");
                if !f.payment_dependent() {
                    assert!(
                        same(with, without),
                        "{} reads {with} for {tx} but {without} without a payment: it depends on \
                         the payment and must be marked so in the registry",
                        f.name
                    );
                } else if !same(with, without) {
                    differs[f.id as usize] = true;
                }
            }
        }
    }
    assert!(payments >= 5, "fixture has {payments} live payments");
    for f in FIELDS
        .iter()
        .filter(|f| f.payment_dependent() && f.trees.contains(Tree::Bank))
    {
        assert!(differs[f.id as usize], "{} never differs", f.name);
    }
}
