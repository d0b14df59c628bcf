//! Table-driven engine tests: costs through the tick loop, arrivals, scenario events, limits,
//! deferred crediting, deadline capping.

mod common;

use common::*;
use paysim_core::engine::InjectRecord;
use paysim_core::events::{EventType, Key};
use serde_json::json;

fn inject(e: &mut paysim_core::Engine, tick: i64, s: &str, r: &str, amount: i64, deadline: i64) {
    e.inject_arrivals(&[InjectRecord {
        tick,
        sender: s.into(),
        receiver: r.into(),
        amount,
        deadline_tick: deadline,
        priority: None,
        divisible: None,
        rtgs_priority: None,
    }])
    .expect("inject");
}

/// ENGINE.md §8.4, driven through the engine: P is held in Q2 by a zero bilateral limit.
#[test]
fn worked_cost_example_through_the_tick_loop() {
    let mut a = agent("A", 0);
    a["unsecured_cap"] = json!(3_000_000);
    a["limits"]["bilateral_limits"] = json!({"C": 0});
    let mut cfg = config(10, 1, 1, vec![a, agent("B", 0), agent("C", 0)]);
    cfg["cost_rates"]["overdraft_bps_per_tick"] = json!(0.5);
    cfg["cost_rates"]["collateral_cost_per_tick_bps"] = json!(0.0);
    cfg["cost_rates"]["eod_penalty"] = json!({"mode": "rate", "bps_per_event": 50.0});
    let mut e = engine(&cfg);
    inject(&mut e, 0, "A", "B", 2_000_000, 9);
    inject(&mut e, 0, "A", "C", 100_000, 3);
    e.run().expect("run");
    let costs = e.costs("A", None).expect("costs");
    assert_eq!(costs["overdraft"], json!(1_000));
    assert_eq!(costs["delay"], json!(340));
    assert_eq!(costs["deadline_penalty"], json!(50_000));
    assert_eq!(costs["eod_penalty"], json!(500));
    assert_eq!(costs["total"], json!(51_840));
    let evs = all_events(&e);
    let overdue: Vec<_> = evs
        .iter()
        .filter(|v| v.ty == EventType::TransactionWentOverdue)
        .collect();
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].tick, 3);
    let limit: Vec<_> = evs
        .iter()
        .filter(|v| v.ty == EventType::BilateralLimitExceeded)
        .collect();
    assert_eq!(
        limit.len(),
        1,
        "the limit event is emitted at RTGS entry only"
    );
    let s = e.summary();
    assert_eq!(s["totals"]["arrivals"], json!(2));
    assert_eq!(s["totals"]["settled"], json!(1));
    assert_eq!(s["totals"]["unsettled"], json!(1));
    assert_eq!(s["totals"]["overdue"], json!(1));
}

#[test]
fn deadline_capping_table() {
    // (tpd, days, cap_at_eod, arrival, deadline given) -> expected
    let cases = [
        (10, 2, false, 3, 8, 8),
        (10, 2, false, 3, 50, 19),
        (10, 2, true, 3, 50, 9),
        (10, 2, true, 12, 15, 15),
        (10, 2, true, 12, 12, 12),
    ];
    for (tpd, days, cap, arrival, deadline, expected) in cases {
        let mut cfg = config(tpd, days, 1, vec![agent("A", 0), agent("B", 0)]);
        cfg["settlement"]["deadline_cap_at_eod"] = json!(cap);
        let mut e = engine(&cfg);
        inject(&mut e, arrival, "A", "B", 10, deadline);
        e.run_until(arrival as u32 + 1).expect("run");
        let ev = all_events(&e)
            .into_iter()
            .find(|v| v.ty == EventType::Arrival)
            .expect("arrival");
        assert_eq!(
            ev.detail(Key::DeadlineTick).and_then(|v| v.as_u64()),
            Some(expected),
            "case {tpd} {days} {cap} {arrival} {deadline}"
        );
    }
}

#[test]
fn insufficient_liquidity_queues_then_incoming_funds_release() {
    let cfg = config(5, 1, 1, vec![agent("A", 0), agent("B", 100)]);
    let mut e = engine(&cfg);
    inject(&mut e, 0, "A", "B", 100, 4);
    inject(&mut e, 1, "B", "A", 100, 4);
    e.run().expect("run");
    let evs = all_events(&e);
    let queued = evs.iter().filter(|v| v.ty == EventType::QueuedRtgs).count();
    let released: Vec<_> = evs
        .iter()
        .filter(|v| v.ty == EventType::Queue2LiquidityRelease)
        .collect();
    assert_eq!(queued, 1);
    assert_eq!(released.len(), 1);
    assert_eq!(released[0].tick, 1);
    assert_eq!(
        released[0]
            .detail(Key::QueueWaitTicks)
            .and_then(|v| v.as_u64()),
        Some(1)
    );
    assert_eq!(e.agent_state("A").unwrap().balance, 0);
    assert_eq!(e.agent_state("B").unwrap().balance, 100);
}

#[test]
fn deferred_crediting_blocks_recycling_within_the_tick() {
    for (deferred, expect_q) in [(false, 0u32), (true, 1)] {
        let mut cfg = config(3, 1, 1, vec![agent("A", 100), agent("B", 0)]);
        cfg["settlement"]["deferred_crediting"] = json!(deferred);
        let mut e = engine(&cfg);
        inject(&mut e, 0, "A", "B", 100, 2);
        inject(&mut e, 0, "B", "A", 100, 2);
        e.tick().expect("tick");
        assert_eq!(
            e.agent_state("B").unwrap().q2_count,
            expect_q,
            "deferred={deferred}"
        );
        // Balances at the end of the tick: B's outgoing waits for the credit when deferred.
        let bal_b = e.agent_state("B").unwrap().balance;
        assert_eq!(bal_b, if deferred { 100 } else { 0 });
        e.run().expect("run");
        assert_eq!(e.agent_state("A").unwrap().balance, 100);
    }
}

#[test]
fn scenario_events_table() {
    let ev = |v: serde_json::Value| v;
    let cases: Vec<(serde_json::Value, &str, i64, i64)> = vec![
        (
            ev(
                json!({"type": "DirectTransfer", "schedule": {"type": "OneTime", "tick": 1},
             "from_agent": "A", "to_agent": "B", "amount": 70}),
            ),
            "A",
            30,
            70,
        ),
        (
            ev(
                json!({"type": "ScheduledSettlement", "schedule": {"type": "OneTime", "tick": 1},
             "from_agent": "A", "to_agent": "B", "amount": 60}),
            ),
            "A",
            40,
            60,
        ),
        (
            ev(
                json!({"type": "ScheduledSettlement", "schedule": {"type": "OneTime", "tick": 1},
             "from_agent": "A", "to_agent": "B", "amount": 160}),
            ),
            "A",
            100,
            0,
        ),
        (
            ev(
                json!({"type": "CustomTransactionArrival", "schedule": {"type": "OneTime", "tick": 2},
             "from_agent": "A", "to_agent": "B", "amount": 25, "priority": 7, "deadline": null,
             "is_divisible": false, "rtgs_priority": "Urgent"}),
            ),
            "A",
            75,
            25,
        ),
        (
            ev(
                json!({"type": "DirectTransfer", "schedule": {"type": "Repeating", "start_tick": 0, "interval": 2},
             "from_agent": "A", "to_agent": "B", "amount": 10}),
            ),
            "A",
            70,
            30,
        ),
    ];
    for (event, who, bal_a, bal_b) in cases {
        let mut cfg = config(6, 1, 1, vec![agent("A", 100), agent("B", 0)]);
        cfg["scenario_events"] = json!([event.clone()]);
        let mut e = engine(&cfg);
        e.run().expect("run");
        assert_eq!(e.agent_state(who).unwrap().balance, bal_a, "{event}");
        assert_eq!(e.agent_state("B").unwrap().balance, bal_b, "{event}");
        let evs = all_events(&e);
        assert!(evs.iter().any(|v| v.ty == EventType::ScenarioEventExecuted));
        assert_eq!(reconstruct(&evs, 2), vec![bal_a, bal_b], "{event}");
    }
}

#[test]
fn collateral_and_cap_changes_move_the_overdraft_limit() {
    let mut a = agent("A", 0);
    a["max_collateral_capacity"] = json!(1_000);
    a["collateral_haircut"] = json!(0.5);
    let mut cfg = config(5, 1, 1, vec![a, agent("B", 0)]);
    cfg["scenario_events"] = json!([
        {"type": "CollateralAdjustment", "schedule": {"type": "OneTime", "tick": 1}, "agent": "A", "delta": 5_000},
        {"type": "UnsecuredCapChange", "schedule": {"type": "OneTime", "tick": 2}, "agent": "A", "delta": 300},
        {"type": "UnsecuredCapChange", "schedule": {"type": "OneTime", "tick": 3}, "agent": "A", "delta": -1_000}
    ]);
    let mut e = engine(&cfg);
    e.run_until(2).unwrap();
    let s = e.agent_state("A").unwrap();
    assert_eq!(s.posted_collateral, 1_000, "clamped to the capacity");
    assert_eq!(s.allowed_overdraft_limit, 500);
    e.run_until(3).unwrap();
    assert_eq!(e.agent_state("A").unwrap().allowed_overdraft_limit, 800);
    e.run_until(4).unwrap();
    assert_eq!(e.agent_state("A").unwrap().unsecured_cap, 0);
}

#[test]
fn outage_holds_releases_until_it_ends() {
    let mut cfg = config(10, 1, 1, vec![agent("A", 1_000), agent("B", 0)]);
    cfg["scenario_events"] = json!([
        {"type": "AgentOutage", "schedule": null, "agent": "A", "start_tick": 2, "end_tick": 5}
    ]);
    let mut e = engine(&cfg);
    inject(&mut e, 3, "A", "B", 100, 9);
    e.run().unwrap();
    let settle = all_events(&e)
        .into_iter()
        .find(|v| v.ty == EventType::RtgsImmediateSettlement)
        .expect("settled");
    assert_eq!(settle.tick, 5);
}

#[test]
fn liquidity_pool_allocation_and_return() {
    let mut a = agent("A", 0);
    a["liquidity_pool"] = json!(1_000);
    a["liquidity_allocation_fraction"] = json!(0.35);
    let cfg = config(4, 2, 1, vec![a, agent("B", 0)]);
    let mut e = engine(&cfg);
    e.run().unwrap();
    let evs = all_events(&e);
    let allocs: Vec<_> = evs
        .iter()
        .filter(|v| v.ty == EventType::LiquidityAllocation)
        .collect();
    let returns: Vec<_> = evs
        .iter()
        .filter(|v| v.ty == EventType::LiquidityReturn)
        .collect();
    assert_eq!(
        allocs
            .iter()
            .map(|v| (v.tick, v.amount))
            .collect::<Vec<_>>(),
        vec![(0, Some(350)), (4, Some(350))]
    );
    assert_eq!(
        returns.iter().map(|v| v.tick).collect::<Vec<_>>(),
        vec![3, 7]
    );
    assert_eq!(e.agent_state("A").unwrap().balance, 0);
}

#[test]
fn config_errors_name_the_pointer() {
    let base = config(10, 1, 1, vec![agent("A", 0), agent("B", 0)]);
    type Mutation = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(Mutation, &str)> = vec![
        (
            Box::new(|c| c["agents"][1]["id"] = json!("A")),
            "/agents/1/id",
        ),
        (
            Box::new(|c| c["agents"][0]["limits"]["bilateral_limits"] = json!({"Z": 5})),
            "/agents/0/limits/bilateral_limits/Z",
        ),
        (
            Box::new(|c| c["agents"][0]["surprise"] = json!(1)),
            "/agents/0",
        ),
        (
            Box::new(
                |c| c["scenario_events"] = json!([{"type": "DirectTransfer", "schedule": {"type": "OneTime", "tick": 10}, "from_agent": "A", "to_agent": "B", "amount": 1}]),
            ),
            "/scenario_events/0/schedule/tick",
        ),
        (
            Box::new(|c| c["agents"][0]["opening_balance"] = json!(1.5)),
            "/agents/0/opening_balance",
        ),
        (
            Box::new(|c| c["lsm_config"]["max_cycle_length"] = json!(2)),
            "/lsm_config/max_cycle_length",
        ),
    ];
    for (mutate, pointer) in cases {
        let mut c = base.clone();
        mutate(&mut c);
        match paysim_core::Engine::new(&c.to_string()) {
            Err(paysim_core::EngineError::Config(err)) => {
                assert!(
                    err.pointer.starts_with(pointer),
                    "{} vs {pointer}: {}",
                    err.pointer,
                    err.message
                )
            }
            Err(other) => panic!("expected a config error at {pointer}, got {other}"),
            Ok(_) => panic!("expected a config error at {pointer}"),
        }
    }
}

fn arrivals_by_tick(e: &paysim_core::Engine) -> Vec<(u32, u32, u64)> {
    all_events(e)
        .iter()
        .filter(|v| v.ty == EventType::Arrival)
        .map(|v| {
            (
                v.tick,
                v.cp.unwrap_or(0),
                v.detail(Key::DeadlineTick)
                    .and_then(|d| d.as_u64())
                    .unwrap_or(0)
                    - u64::from(v.tick),
            )
        })
        .collect()
}

/// The arrival-shaping scenario events, each against the same run without it.
#[test]
fn arrival_rate_weight_and_deadline_events() {
    let base = || {
        let mut a = agent("A", 1_000_000);
        a["arrival_config"] = stream(2.0, 10, 20);
        let mut b = agent("B", 1_000_000);
        b["arrival_config"] = stream(2.0, 10, 20);
        config(200, 1, 5, vec![a, b, agent("C", 0)])
    };
    let run = |events: serde_json::Value| {
        let mut cfg = base();
        cfg["scenario_events"] = events;
        let mut e = engine(&cfg);
        e.run().unwrap();
        arrivals_by_tick(&e)
    };
    let plain = run(json!([]));
    let count = |v: &[(u32, u32, u64)], from: u32| v.iter().filter(|a| a.0 >= from).count();
    // A global multiplier near zero silences everyone from tick 50.
    let quiet = run(json!([{"type": "GlobalArrivalRateChange",
        "schedule": {"type": "OneTime", "tick": 50}, "multiplier": 1e-9}]));
    assert_eq!(count(&quiet, 50), 0);
    assert_eq!(
        quiet.iter().filter(|a| a.0 < 50).count(),
        plain.iter().filter(|a| a.0 < 50).count()
    );
    assert!(count(&plain, 50) > 100);
    // An agent multiplier changes that agent's stream only; B's arrivals are unchanged.
    let fast = {
        let mut cfg = base();
        cfg["scenario_events"] = json!([{"type": "AgentArrivalRateChange",
            "schedule": {"type": "OneTime", "tick": 0}, "agent": "A", "multiplier": 3.0}]);
        let mut e = engine(&cfg);
        e.run().unwrap();
        e.summary()
    };
    let plain_summary = {
        let mut e = engine(&base());
        e.run().unwrap();
        e.summary()
    };
    let sent = |s: &serde_json::Value, id: &str| s["agents"][id]["sent"].as_u64().unwrap();
    assert!(sent(&fast, "A") > 2 * sent(&plain_summary, "A"));
    assert_eq!(
        sent(&fast, "B"),
        sent(&plain_summary, "B"),
        "per-agent streams are independent"
    );
    // A weight change to 0 stops payments from A to C; a map is created for a stream without one.
    let no_c = {
        let mut cfg = base();
        cfg["scenario_events"] = json!([{"type": "CounterpartyWeightChange",
            "schedule": {"type": "OneTime", "tick": 30}, "agent": "A", "counterparty": "C", "new_weight": 0.0}]);
        let mut e = engine(&cfg);
        e.run().unwrap();
        all_events(&e)
            .iter()
            .filter(|v| v.ty == EventType::Arrival && v.agent == Some(0) && v.tick >= 30)
            .map(|v| v.cp.unwrap())
            .collect::<Vec<_>>()
    };
    assert!(
        !no_c.is_empty() && no_c.iter().all(|cp| *cp == 1),
        "only B receives after tick 30"
    );
    // Deadline windows: offsets move from [5, 20] to [10, 60] (min ×2, max ×3).
    let later = run(json!([{"type": "DeadlineWindowChange",
        "schedule": {"type": "OneTime", "tick": 40}, "min_ticks_multiplier": 2.0, "max_ticks_multiplier": 3.0}]));
    let offsets_after: Vec<u64> = later
        .iter()
        .filter(|a| a.0 >= 40 && a.0 + 60 < 200)
        .map(|a| a.2)
        .collect();
    assert!(offsets_after.iter().all(|o| (10..=60).contains(o)));
    assert!(
        offsets_after.iter().any(|o| *o > 20),
        "the wider range is used"
    );
    assert!(later
        .iter()
        .filter(|a| a.0 < 40)
        .all(|a| (5..=20).contains(&a.2)));
}

#[test]
fn a_custom_arrival_with_deadline_zero_is_due_in_its_arrival_tick() {
    let mut cfg = config(10, 1, 1, vec![agent("A", 0), agent("B", 0)]);
    cfg["scenario_events"] = json!([{"type": "CustomTransactionArrival",
        "schedule": {"type": "OneTime", "tick": 3}, "from_agent": "A", "to_agent": "B",
        "amount": 10, "priority": 5, "deadline": 0, "is_divisible": false, "rtgs_priority": "Normal"}]);
    let mut e = engine(&cfg);
    e.run().unwrap();
    let evs = all_events(&e);
    let arrival = evs.iter().find(|v| v.ty == EventType::Arrival).unwrap();
    assert_eq!(
        arrival.detail(Key::DeadlineTick).and_then(|d| d.as_u64()),
        Some(3)
    );
    let overdue = evs
        .iter()
        .find(|v| v.ty == EventType::TransactionWentOverdue)
        .unwrap();
    assert_eq!(
        overdue.tick, 3,
        "unsettled after its arrival tick's settlement steps"
    );
}
