//! The policy language inside the tick loop: context fields against independent computations,
//! evaluation errors under `fail` and `hold`, decision paths, policy changes and registers.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use paysim_core::engine::InjectRecord;
use paysim_core::events::{EventType, Key, OwnedVal};
use paysim_core::policy::{FieldId, Tree, FIELDS};
use paysim_core::{Engine, EngineError};
use serde_json::{json, Value};

fn policy(doc: Value) -> Value {
    json!({"document": doc, "parameters": {}, "source": "inline"})
}

fn hold_all() -> Value {
    policy(json!({"version": "1.0", "policy_id": "hold_all",
        "payment_tree": {"type": "action", "node_id": "h", "action": "Hold"}}))
}

fn inject(e: &mut Engine, tick: i64, s: &str, r: &str, amount: i64, deadline: i64) {
    e.inject_arrivals(&[InjectRecord {
        tick,
        sender: s.into(),
        receiver: r.into(),
        amount,
        deadline_tick: deadline,
        priority: None,
        divisible: Some(true),
        rtgs_priority: None,
    }])
    .expect("inject");
}

/// Fixture states: three banks with limits, collateral, a pool, queued payments in Q1 (held)
/// and Q2 (short of liquidity), observed at several ticks.
fn fixtures() -> Vec<Engine> {
    let mut out = Vec::new();
    for stop in [1u32, 4, 6, 9] {
        let mut a = agent("A", 5_000);
        a["unsecured_cap"] = json!(500);
        a["posted_collateral"] = json!(1_000);
        a["liquidity_pool"] = json!(3_000);
        a["limits"] = json!({"bilateral_limits": {"B": 50_000}, "multilateral_limit": 90_000});
        let mut b = agent("B", 0);
        b["policy"] = hold_all();
        b["liquidity_buffer"] = json!(700);
        let c = agent("C", 100);
        let mut d = agent("D", 0);
        d["policy"] = hold_all();
        let mut cfg = config(10, 1, 3, vec![a, b, c, d]);
        cfg["settlement"]["throughput_guidance"] = json!([[0.0, 0.0], [0.5, 0.8], [1.0, 1.0]]);
        let mut e = engine(&cfg);
        for (t, s, r, amt, d) in [
            (0, "A", "B", 4_000, 8),
            (0, "C", "A", 900, 3),
            (0, "C", "B", 700, 9),
            (1, "B", "C", 300, 2),
            (2, "A", "C", 60_000, 9),
            (3, "C", "A", 50, 9),
            (5, "B", "A", 100, 6),
            (2, "A", "C", 5_000, 9),
            (5, "A", "B", 1_000, 9),
            (1, "A", "B", 100_000, 9),
            (0, "D", "A", 10, 9),
            (6, "C", "A", 2_500, 9),
            (3, "B", "C", 50_000, 9),
            (7, "C", "B", 90_000, 9),
        ] {
            inject(&mut e, t, s, r, amt, d);
        }
        e.inject_arrivals(&[InjectRecord {
            tick: 1,
            sender: "C".into(),
            receiver: "B".into(),
            amount: 5_000,
            deadline_tick: 9,
            priority: Some(8),
            divisible: None,
            rtgs_priority: Some("Urgent".into()),
        }])
        .unwrap();
        e.run_until(stop).unwrap();
        out.push(e);
    }
    out
}

fn live_payments(e: &Engine) -> Vec<(String, String)> {
    let mut v = Vec::new();
    for id in e.agent_ids().to_vec() {
        for tx in e.queue1(&id).unwrap() {
            v.push((id.clone(), tx));
        }
    }
    for tx in e.queue2() {
        let p = e.payment(&tx).unwrap();
        v.push((p.sender.clone(), tx));
    }
    v
}

/// Every field is computed, finite (or +∞ where documented), in every fixture; the
/// non-constant ones take at least two values across the fixtures.
#[test]
fn every_field_is_computed_and_varies() {
    let fx = fixtures();
    let mut seen: BTreeMap<FieldId, BTreeSet<u64>> = BTreeMap::new();
    for e in &fx {
        let payments = live_payments(e);
        assert!(!payments.is_empty());
        for spec in FIELDS {
            let pay_level = !spec.trees.contains(Tree::Bank);
            let contexts: Vec<(String, Option<String>)> = if pay_level {
                payments
                    .iter()
                    .map(|(a, t)| (a.clone(), Some(t.clone())))
                    .collect()
            } else {
                e.agent_ids().iter().map(|a| (a.clone(), None)).collect()
            };
            for (agent, tx) in contexts {
                let v = e.field_value(spec.id, &agent, tx.as_deref()).unwrap();
                assert!(!v.is_nan(), "{} is NaN", spec.name);
                assert!(v.is_finite() || v == f64::INFINITY, "{} = {v}", spec.name);
                seen.entry(spec.id).or_default().insert(v.to_bits());
            }
        }
    }
    // Constant fields (the penalty fields are constant outside the payment tree, where they
    // are read here), fields these one-day fixtures pin, and the LSM run rate (no LSM
    // activity in these fixtures).
    let constant = [
        "settled_amount",
        "is_overdraft_capped",
        "total_agents",
        "system_ticks_per_day",
        "system_current_day",
        "cost_overdraft_bps_per_tick",
        "cost_delay_per_tick_per_cent",
        "cost_collateral_bps_per_tick",
        "cost_liquidity_bps_per_tick",
        "cost_split_friction",
        "cost_deadline_penalty",
        "cost_eod_penalty",
        "collateral_haircut",
        "lsm_run_rate_last_10_ticks",
        "liquidity_pool",
        "max_collateral_capacity",
        "is_split",
        "cost_drop_penalty",
    ];
    // Q2 flows here involve at most two counterparties per bank: slots 3..5 stay empty (the ranking
    // test below fills them).
    let empty_slots = |name: &str| {
        ["_3", "_4", "_5"]
            .iter()
            .any(|k| name.starts_with("top_cpty") && name.contains(k))
            || ["top_3", "top_4", "top_5"]
                .iter()
                .any(|k| name.ends_with(k))
    };
    for spec in FIELDS {
        if constant.contains(&spec.name) || empty_slots(spec.name) {
            continue;
        }
        let n = seen.get(&spec.id).map_or(0, BTreeSet::len);
        assert!(n >= 2, "field {} took only {n} value(s)", spec.name);
    }
}

/// Today's gross settled outflow of an agent, from the event stream (fixtures are one day).
fn outflow(e: &Engine, id: &str) -> f64 {
    let idx = e.agent_index(id).unwrap();
    all_events(e)
        .iter()
        .filter(|v| v.ty.is_settlement_class() && v.agent == Some(idx))
        .map(|v| v.amount.unwrap_or(0) as f64)
        .sum()
}

/// Fields against independent computations from the engine's public queries.
#[test]
fn fields_match_independent_computations() {
    for e in fixtures() {
        let t = f64::from(e.current_tick());
        for id in e.agent_ids().to_vec() {
            let s = e.agent_state(&id).unwrap();
            let f = |name: &str| {
                e.field_value(paysim_core::policy::field_by_name(name).unwrap(), &id, None)
                    .unwrap()
            };
            let credit_used = (-s.balance).max(0) as f64;
            let table: Vec<(&str, f64)> = vec![
                ("balance", s.balance as f64),
                ("unsecured_cap", s.unsecured_cap as f64),
                ("credit_limit", s.unsecured_cap as f64),
                ("credit_used", credit_used),
                ("available_liquidity", s.available_liquidity as f64),
                ("allowed_overdraft_limit", s.allowed_overdraft_limit as f64),
                (
                    "overdraft_headroom",
                    s.allowed_overdraft_limit as f64 - credit_used,
                ),
                ("posted_collateral", s.posted_collateral as f64),
                ("outgoing_queue_size", f64::from(s.q1_count)),
                ("queue1_total_value", s.q1_value as f64),
                (
                    "queue1_liquidity_gap",
                    (s.q1_value - s.available_liquidity).max(0) as f64,
                ),
                ("headroom", (s.available_liquidity - s.q1_value) as f64),
                ("queue2_count_for_agent", f64::from(s.q2_count)),
                ("queue2_value_for_agent", s.q2_value as f64),
                ("liquidity_buffer", if id == "B" { 700.0 } else { 0.0 }),
                ("allocated_liquidity", s.allocated_liquidity as f64),
                ("current_tick", t),
                ("system_tick_in_day", t % 10.0),
                ("ticks_remaining_in_day", 9.0 - t % 10.0),
                ("day_progress_fraction", (t % 10.0) / 10.0),
                (
                    "is_eod_rush",
                    if (t % 10.0) / 10.0 >= 0.8 { 1.0 } else { 0.0 },
                ),
                ("rtgs_queue_size", e.queue2().len() as f64),
                (
                    "multilateral_limit_headroom",
                    if id == "A" {
                        90_000.0 - outflow(&e, "A")
                    } else {
                        f64::INFINITY
                    },
                ),
            ];
            for (name, want) in table {
                assert_eq!(f(name), want, "{name} of {id} at tick {t}");
            }
            // Guidance curve: piecewise linear through (0,0), (0.5,0.8), (1,1).
            let x = (t % 10.0) / 10.0;
            let g = if x <= 0.5 {
                1.6 * x
            } else {
                0.8 + 0.4 * (x - 0.5)
            };
            assert!((f("system_throughput_guidance_fraction_by_tick") - g).abs() < 1e-12);
        }
        for (agent, tx) in live_payments(&e) {
            let p = e.payment(&tx).unwrap();
            let f = |name: &str| {
                e.field_value(
                    paysim_core::policy::field_by_name(name).unwrap(),
                    &agent,
                    Some(&tx),
                )
                .unwrap()
            };
            assert_eq!(f("amount"), p.amount as f64);
            assert_eq!(f("remaining_amount"), p.remaining as f64);
            assert_eq!(f("ticks_to_deadline"), f64::from(p.deadline_tick) - t);
            assert_eq!(f("queue_age"), t - f64::from(p.arrival_tick));
            assert_eq!(
                f("is_past_deadline"),
                if t > f64::from(p.deadline_tick) {
                    1.0
                } else {
                    0.0
                }
            );
            assert_eq!(
                f("is_in_queue2"),
                if p.location == "Q2" { 1.0 } else { 0.0 }
            );
            assert_eq!(
                f("is_overdue"),
                if p.status.starts_with("Overdue") {
                    1.0
                } else {
                    0.0
                }
            );
            assert_eq!(f("priority"), f64::from(p.priority));
            assert_eq!(
                f("tx_counterparty_id"),
                paysim_core::arrivals::rng::fnv1a64(p.receiver.as_bytes()) as f64
            );
            assert_eq!(
                f("cost_overdraft_this_amount_one_tick"),
                p.remaining as f64 * 0.001 / 10_000.0
            );
        }
    }
}

/// Top counterparties are the same whatever the insertion order of the payments.
#[test]
fn top_counterparties_do_not_depend_on_insertion_order() {
    let flows = [
        ("A", "B", 500),
        ("A", "C", 300),
        ("A", "D", 300),
        ("B", "A", 100),
        ("D", "A", 50),
    ];
    let mut results = Vec::new();
    for order in [[0usize, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 0, 4, 1, 3]] {
        let cfg = config(
            10,
            1,
            1,
            vec![agent("A", 0), agent("B", 0), agent("C", 0), agent("D", 0)],
        );
        let mut e = engine(&cfg);
        for k in order {
            let (s, r, a) = flows[k];
            inject(&mut e, 0, s, r, a, 9);
        }
        e.tick().unwrap();
        let v: Vec<f64> = [
            "top_cpty_1_id_hash",
            "my_q2_out_value_top_1",
            "top_cpty_2_id_hash",
            "my_bilateral_net_q2_top_2",
            "top_cpty_3_id_hash",
            "my_q2_in_value_top_3",
            "top_cpty_4_id_hash",
        ]
        .iter()
        .map(|n| {
            e.field_value(paysim_core::policy::field_by_name(n).unwrap(), "A", None)
                .unwrap()
        })
        .collect();
        results.push(v);
    }
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0], results[2]);
    let hash = |id: &str| paysim_core::arrivals::rng::fnv1a64(id.as_bytes()) as f64;
    // |out − in|: B 400, C 300, D 250 → B, C, D; slot 4 empty.
    assert_eq!(
        results[0],
        vec![hash("B"), 500.0, hash("C"), 300.0, hash("D"), 50.0, 0.0]
    );
}

fn div_policy() -> Value {
    policy(json!({"version": "1.0", "policy_id": "divider",
        "payment_tree": {"type": "condition", "node_id": "c",
            "condition": {"op": ">", "left": {"compute": {"op": "/", "left": {"field": "amount"},
                "right": {"field": "balance"}}}, "right": {"value": 1}},
            "on_true": {"type": "action", "node_id": "r", "action": "Release"},
            "on_false": {"type": "action", "node_id": "h", "action": "Hold"}}}))
}

#[test]
fn evaluation_errors_fail_or_hold() {
    for mode in ["fail", "hold"] {
        let mut a = agent("A", 0);
        a["policy"] = div_policy();
        let mut cfg = config(5, 1, 1, vec![a, agent("B", 0)]);
        cfg["on_policy_error"] = json!(mode);
        let mut e = engine(&cfg);
        inject(&mut e, 1, "A", "B", 10, 4);
        e.tick().unwrap();
        let r = e.tick();
        if mode == "fail" {
            match r {
                Err(EngineError::PolicyEvaluation(f)) => {
                    assert_eq!(f.kind, "DivisionByZero");
                    assert_eq!(f.agent_id, "A");
                    assert_eq!(f.node_id, "c");
                    assert_eq!(f.tx_id.as_deref(), Some("tx_00000001"));
                    assert_eq!(f.tick, 1);
                }
                other => panic!("expected a policy failure, got {other:?}"),
            }
            assert!(matches!(e.tick(), Err(EngineError::EngineFailed(_))));
            assert!(e.checkpoint().is_err());
            assert_eq!(
                e.agent_state("A").unwrap().q1_count,
                1,
                "queries still work"
            );
        } else {
            r.unwrap();
            e.run().unwrap();
            let errs: Vec<_> = all_events(&e)
                .into_iter()
                .filter(|v| v.ty == EventType::PolicyEvaluationError)
                .collect();
            assert_eq!(errs.len(), 4, "one per tick the payment waited");
            assert_eq!(
                errs[0].detail(Key::Kind),
                Some(&OwnedVal::Str("DivisionByZero".into()))
            );
            assert_eq!(e.agent_state("A").unwrap().q1_count, 1, "the payment stays");
        }
    }
}

#[test]
fn decision_paths_are_recorded_when_asked() {
    for record in [false, true] {
        let mut a = agent("A", 100);
        a["policy"] = policy(json!({"version": "1.0", "policy_id": "p",
            "payment_tree": {"type": "condition", "node_id": "N1",
                "condition": {"op": ">=", "left": {"field": "balance"}, "right": {"field": "amount"}},
                "on_true": {"type": "action", "node_id": "A_go", "action": "Release"},
                "on_false": {"type": "action", "node_id": "A_wait", "action": "Hold"}}}));
        let mut cfg = config(5, 1, 1, vec![a, agent("B", 0)]);
        cfg["settlement"]["record_decision_paths"] = json!(record);
        let mut e = engine(&cfg);
        inject(&mut e, 0, "A", "B", 60, 4);
        inject(&mut e, 0, "A", "B", 60, 4);
        e.tick().unwrap();
        let evs = all_events(&e);
        let submit = evs
            .iter()
            .find(|v| v.ty == EventType::PolicySubmit)
            .unwrap();
        let hold = evs.iter().find(|v| v.ty == EventType::PolicyHold);
        if record {
            assert_eq!(
                submit.detail(Key::DecisionPath),
                Some(&OwnedVal::StrList(vec!["N1".into(), "A_go".into()]))
            );
        } else {
            assert_eq!(submit.detail(Key::DecisionPath), None);
        }
        // Both payments were decided on the snapshot (balance 100 ≥ 60): both released,
        // and the second then queues for lack of liquidity.
        assert!(hold.is_none());
        assert_eq!(
            evs.iter().filter(|v| v.ty == EventType::QueuedRtgs).count(),
            1
        );
    }
}

#[test]
fn policy_change_event_and_set_policy_swap_trees_and_keep_named_registers() {
    let mut a = agent("A", 1_000);
    a["policy"] = policy(json!({"version": "1.0", "policy_id": "counting",
        "bank_tree": {"type": "action", "node_id": "b", "action": "AddState",
            "parameters": {"key": {"value": "bank_state_n"}, "value": {"value": 1}}},
        "payment_tree": {"type": "action", "node_id": "h", "action": "Hold"}}));
    let mut cfg = config(10, 1, 1, vec![a, agent("B", 0)]);
    cfg["scenario_events"] = json!([{"type": "PolicyChange", "schedule": {"type": "OneTime", "tick": 4},
        "agent": "A", "policy": fifo()}]);
    let mut e = engine(&cfg);
    inject(&mut e, 0, "A", "B", 100, 9);
    e.run_until(4).unwrap();
    assert_eq!(
        e.agent_state("A").unwrap().registers.get("bank_state_n"),
        Some(&4.0)
    );
    e.run_until(5).unwrap();
    let evs = all_events(&e);
    let replaced = evs
        .iter()
        .find(|v| v.ty == EventType::PolicyReplaced)
        .unwrap();
    assert_eq!(replaced.tick, 4);
    assert_eq!(
        replaced.detail(Key::Source),
        Some(&OwnedVal::Str("scenario".into()))
    );
    // fifo names no register: the counter is dropped with a policy_change event.
    assert!(e.agent_state("A").unwrap().registers.is_empty());
    assert!(evs.iter().any(|v| v.ty == EventType::StateRegisterSet
        && v.detail(Key::Reason) == Some(&OwnedVal::Str("policy_change".into()))));
    assert_eq!(
        evs.iter()
            .find(|v| v.ty == EventType::RtgsImmediateSettlement)
            .unwrap()
            .tick,
        4
    );
    // An invalid policy through set_policy changes nothing.
    let bad: paysim_core::config::PolicyCfg = serde_json::from_value(policy(json!({"version": "1.0",
        "policy_id": "bad", "payment_tree": {"type": "action", "node_id": "x", "action": "Relase"}}))).unwrap();
    match e.set_policy("A", &bad) {
        Err(EngineError::Policy { problems, .. }) => {
            assert_eq!(problems[0].code, "UNKNOWN_ACTION");
            assert_eq!(problems[0].pointer, "/payment_tree/action");
        }
        other => panic!("expected a policy error, got {other:?}"),
    }
    assert_eq!(e.agent_state("A").unwrap().policy_id, "fifo");
}

#[test]
fn budget_and_collateral_trees_run_from_documents() {
    let mut a = agent("A", 0);
    a["unsecured_cap"] = json!(1_000);
    a["collateral_haircut"] = json!(0.0);
    a["policy"] = policy(json!({"version": "1.0", "policy_id": "mix",
        "strategic_collateral_tree": {"type": "condition", "node_id": "s",
            "condition": {"op": ">", "left": {"field": "queue1_liquidity_gap"}, "right": {"value": 0}},
            "on_true": {"type": "action", "node_id": "post", "action": "PostCollateral",
                "parameters": {"amount": {"field": "queue1_liquidity_gap"},
                               "auto_withdraw_after_ticks": {"value": 2}}},
            "on_false": {"type": "action", "node_id": "keep", "action": "HoldCollateral"}},
        "bank_tree": {"type": "action", "node_id": "budget", "action": "SetReleaseBudget",
            "parameters": {"max_value_to_release": {"field": "available_liquidity"}}}}));
    let e_cfg = config(10, 1, 1, vec![a, agent("B", 0)]);
    let mut e = engine(&e_cfg);
    inject(&mut e, 0, "A", "B", 3_000, 9);
    e.run_until(3).unwrap();
    let evs = all_events(&e);
    let post = evs
        .iter()
        .find(|v| v.ty == EventType::CollateralPost)
        .unwrap();
    assert_eq!(
        post.amount,
        Some(2_000),
        "covers the gap: 3,000 queued, 1,000 available"
    );
    assert_eq!(post.detail(Key::AutoWithdrawTick), Some(&OwnedVal::U64(2)));
    let budget = evs
        .iter()
        .find(|v| v.ty == EventType::BankBudgetSet)
        .unwrap();
    // S4 posts before S5 runs, so the budget sees the posted collateral: 1,000 + 2,000.
    assert_eq!(budget.amount, Some(3_000));
    assert_eq!(
        evs.iter()
            .filter(|v| v.ty == EventType::RtgsImmediateSettlement)
            .count(),
        1
    );
    assert!(evs.iter().any(|v| v.ty == EventType::CollateralTimerBlocked
        || v.ty == EventType::CollateralTimerWithdrawn));
}

/// S8 reads the same snapshot as S7: a Q2 decision that depends on the Q1 size sees the payment
/// that S7 releases in that very tick.
#[test]
fn q2_decisions_read_the_s7_snapshot() {
    let mut a = agent("A", 0);
    a["policy"] = policy(json!({"version": "1.0", "policy_id": "q2_on_snapshot",
        "payment_tree": {"type": "condition", "node_id": "in_q2",
            "condition": {"op": "and", "conditions": [
                {"op": "==", "left": {"field": "is_in_queue2"}, "right": {"value": 1}},
                {"op": ">=", "left": {"field": "outgoing_queue_size"}, "right": {"value": 1}}]},
            "on_true": {"type": "action", "node_id": "up", "action": "ResubmitToRtgs",
                "parameters": {"rtgs_priority": {"value": "Urgent"}}},
            "on_false": {"type": "action", "node_id": "go", "action": "Release"}}}));
    let mut cfg = config(10, 1, 1, vec![a, agent("B", 0)]);
    cfg["settlement"]["priority_mode"] = json!(true);
    let mut e = engine(&cfg);
    inject(&mut e, 0, "A", "B", 500, 9);
    inject(&mut e, 4, "A", "B", 700, 9);
    e.run_until(6).unwrap();
    let resub: Vec<_> = all_events(&e)
        .into_iter()
        .filter(|v| v.ty == EventType::RtgsResubmission)
        .collect();
    // At tick 4 the snapshot has the new payment in Q1 (size 1), although S7 releases it
    // before S8 applies anything.
    assert_eq!(resub.len(), 1);
    assert_eq!(resub[0].tick, 4);
    assert_eq!(resub[0].tx, Some(1 << 8));
}

/// Every registered field, in every tree where it is available, read by a one-node policy in a
/// real run: the condition `field >= -1e300` holds for every computed value (+∞ included) and
/// fails only for NaN, so the on_true action proves the engine computed the field there.
#[test]
fn every_field_evaluates_in_every_tree_it_is_available_in() {
    for spec in FIELDS {
        for tree in Tree::ALL {
            if !spec.trees.contains(tree) {
                continue;
            }
            let cond =
                json!({"op": ">=", "left": {"field": spec.name}, "right": {"value": -1e300}});
            let (on_true, on_false) = match tree {
                Tree::Payment => (
                    json!({"type": "action", "node_id": "yes", "action": "Release"}),
                    json!({"type": "action", "node_id": "no", "action": "Hold"}),
                ),
                Tree::Bank => (
                    json!({"type": "action", "node_id": "yes", "action": "SetState",
                           "parameters": {"key": {"value": "bank_state_ok"}, "value": {"value": 1}}}),
                    json!({"type": "action", "node_id": "no", "action": "NoAction"}),
                ),
                _ => (
                    json!({"type": "action", "node_id": "yes", "action": "PostCollateral",
                           "parameters": {"amount": {"value": 1}}}),
                    json!({"type": "action", "node_id": "no", "action": "HoldCollateral"}),
                ),
            };
            let mut doc = json!({"version": "1.0", "policy_id": "probe"});
            doc[tree.json_name()] = json!({"type": "condition", "node_id": "c", "condition": cond,
                                           "on_true": on_true, "on_false": on_false});
            let mut a = agent("A", 1_000);
            a["unsecured_cap"] = json!(100);
            a["policy"] = policy(doc);
            let mut e = engine(&config(5, 1, 1, vec![a, agent("B", 0)]));
            inject(&mut e, 0, "A", "B", 10, 3);
            e.tick()
                .unwrap_or_else(|err| panic!("{} in {}: {err}", spec.name, tree.json_name()));
            let evs = all_events(&e);
            let hit = match tree {
                Tree::Payment => evs.iter().any(|v| v.ty == EventType::PolicySubmit),
                Tree::Bank => evs.iter().any(|v| v.ty == EventType::StateRegisterSet),
                Tree::StrategicCollateral => evs.iter().any(|v| {
                    v.ty == EventType::CollateralPost
                        && v.detail(Key::Layer) == Some(&OwnedVal::Str("strategic".into()))
                }),
                Tree::EndOfTickCollateral => evs.iter().any(|v| {
                    v.ty == EventType::CollateralPost
                        && v.detail(Key::Layer) == Some(&OwnedVal::Str("end_of_tick".into()))
                }),
            };
            assert!(
                hit,
                "field {} was not computed in {}",
                spec.name,
                tree.json_name()
            );
        }
    }
}
