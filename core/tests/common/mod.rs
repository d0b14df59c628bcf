//! Builders for engine configs in tests: the normalized JSON of docs/engine-config.md with
//! defaults filled, so each test states only what it is about.
#![allow(dead_code)]

pub mod random;

use paysim_core::events::{event_json_line, EventType, EventView};
use paysim_core::Engine;
use serde_json::{json, Value};

pub fn fifo() -> Value {
    json!({"document": {"version": "1.0", "policy_id": "fifo",
           "payment_tree": {"type": "action", "node_id": "r", "action": "Release"}},
           "parameters": {}, "source": "library:fifo"})
}

pub fn agent(id: &str, balance: i64) -> Value {
    json!({"id": id, "opening_balance": balance, "unsecured_cap": 0, "posted_collateral": 0,
           "collateral_haircut": 0.02, "max_collateral_capacity": null, "liquidity_pool": 0,
           "liquidity_allocation_fraction": 1.0, "liquidity_buffer": 0,
           "limits": {"bilateral_limits": {}, "multilateral_limit": null},
           "policy": fifo(), "arrival_config": null, "arrival_bands": null})
}

pub fn stream(rate: f64, min: i64, max: i64) -> Value {
    json!({"rate_per_tick": rate, "amount_distribution": {"type": "Uniform", "min": min, "max": max},
           "counterparty_weights": {}, "deadline_range": [5, 20],
           "priority_distribution": {"type": "Fixed", "value": 5}, "divisible": false,
           "time_windows": []})
}

pub fn config(tpd: u32, days: u32, seed: u64, agents: Vec<Value>) -> Value {
    json!({
        "simulation": {"ticks_per_day": tpd, "num_days": days, "rng_seed": seed},
        "agents": agents,
        "cost_rates": {"overdraft_bps_per_tick": 0.001, "delay_cost_per_tick_per_cent": 0.0001,
            "collateral_cost_per_tick_bps": 0.0002, "liquidity_cost_per_tick_bps": 0.0,
            "deadline_penalty": {"mode": "fixed", "amount": 50000},
            "eod_penalty": {"mode": "fixed", "amount": 10000}, "drop_penalty": null,
            "split_friction_cost": 1000, "overdue_delay_multiplier": 5.0,
            "priority_delay_multipliers": {"urgent_multiplier": 1.0, "normal_multiplier": 1.0,
                                           "low_multiplier": 1.0}},
        "lsm_config": {"enable_bilateral": true, "enable_cycles": true, "max_cycle_length": 4,
                       "max_cycles_per_tick": 10, "max_iterations": 3},
        "settlement": {"deferred_crediting": false, "deadline_cap_at_eod": false,
            "queue1_ordering": "fifo", "priority_mode": false,
            "priority_escalation": {"enabled": false, "curve": "linear",
                                    "start_escalating_at_ticks": 20, "max_boost": 3},
            "entry_disposition_offsetting": false, "algorithm_sequencing": false,
            "eod_rush_threshold": 0.8, "daily_liquidity_reallocation": true,
            "record_decision_paths": false, "throughput_guidance": [[0.0, 0.0], [1.0, 1.0]]},
        "scenario_events": [],
        "on_policy_error": "fail"
    })
}

pub fn engine(cfg: &Value) -> Engine {
    match Engine::new(&cfg.to_string()) {
        Ok(e) => e,
        Err(e) => panic!("engine creation failed: {e}"),
    }
}

pub fn all_events(e: &Engine) -> Vec<EventView> {
    e.events().iter_from(0).expect("retained").collect()
}

pub fn json_lines(e: &Engine, from: u64) -> Vec<String> {
    let names = e.names();
    e.events()
        .iter_from(from)
        .expect("retained")
        .map(|v| event_json_line(&v, e.setup().tpd, &names))
        .collect()
}

/// Balances rebuilt from the event stream alone (ENGINE.md §12.2), by agent index.
pub fn reconstruct(events: &[EventView], n: usize) -> Vec<i64> {
    let mut bal = vec![0i64; n];
    for ev in events {
        let (a, c, amt) = (
            ev.agent.map(|x| x as usize),
            ev.cp.map(|x| x as usize),
            ev.amount.unwrap_or(0),
        );
        match ev.ty {
            EventType::AgentOpened => bal[a.unwrap()] += amt,
            EventType::LiquidityAllocation => bal[a.unwrap()] += amt,
            EventType::LiquidityReturn => bal[a.unwrap()] -= amt,
            EventType::RtgsImmediateSettlement
            | EventType::Queue2LiquidityRelease
            | EventType::OffsetSettlement => {
                bal[a.unwrap()] -= amt;
                bal[c.unwrap()] += amt;
            }
            EventType::ScenarioEventExecuted => {
                let ty = ev
                    .detail(paysim_core::events::Key::EventType)
                    .and_then(|v| v.as_str().map(String::from));
                let settled = ev
                    .detail(paysim_core::events::Key::Settled)
                    .and_then(|v| v.as_bool());
                if ty.as_deref() == Some("DirectTransfer")
                    || (ty.as_deref() == Some("ScheduledSettlement") && settled == Some(true))
                {
                    bal[a.unwrap()] -= amt;
                    bal[c.unwrap()] += amt;
                }
            }
            _ => {}
        }
    }
    bal
}

/// Injects `(sender, receiver, amount)` arrivals at `tick`, in order, due at `deadline`.
pub fn inject_at(e: &mut Engine, tick: i64, deadline: i64, payments: &[(&str, &str, i64)]) {
    let records: Vec<paysim_core::engine::InjectRecord> = payments
        .iter()
        .map(|(s, r, amount)| paysim_core::engine::InjectRecord {
            tick,
            sender: (*s).into(),
            receiver: (*r).into(),
            amount: *amount,
            deadline_tick: deadline,
            priority: None,
            divisible: None,
            rtgs_priority: None,
        })
        .collect();
    e.inject_arrivals(&records).expect("inject");
}

/// The key of the `i`-th original payment of a run (0-based, creation order): its id is
/// `tx_{i + 1}` and split pieces are numbered below it (ENGINE.md §4.1).
pub fn tx_key(i: usize) -> u64 {
    ((i + 1) as u64) << 8
}
