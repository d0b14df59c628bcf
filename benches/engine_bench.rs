//! Engine throughput (ENGINE.md §14): arrivals/s and ticks/s at 10, 100 and 1,000 banks, and
//! the day-20 / day-1 throughput ratio of the pinned throughput scenario (100 banks,
//! 20 days × 1,000 ticks, Poisson 1 payment per bank per tick, LogNormal amounts, ample
//! liquidity, release-everything policies, LSM settings on). Events are drained every tick,
//! as a long run's caller would, so memory stays flat.
//!
//! Usage: `engine_bench [--quick] [--constant-only]` (quick: fewer days, for a smoke run;
//! constant-only: just the FIFO vs constant bank-level tree comparison).

use std::time::Instant;

use paysim_core::Engine;
use serde_json::{json, Value};

/// A 20-node payment tree (10 conditions, 10 actions) reading payment- and bank-level fields,
/// every path ending in a release, so the flow matches FIFO while each payment is evaluated.
fn twenty_node_policy() -> Value {
    let checks = [
        ("amount", ">", 5_000_000.0),
        ("ticks_to_deadline", "<", 0.0),
        ("balance", "<", 0.0),
        ("available_liquidity", "<", 1_000.0),
        ("queue1_total_value", ">", 1e13),
        ("priority", ">=", 9.0),
        ("is_overdue", "==", 1.0),
        ("queue_age", ">", 100.0),
        ("my_q2_out_value_to_counterparty", ">", 1e12),
        ("day_progress_fraction", ">", 1.0),
    ];
    let mut node = json!({"type": "action", "node_id": "A_last", "action": "Release"});
    for (k, (field, op, value)) in checks.iter().enumerate().rev() {
        node = json!({"type": "condition", "node_id": format!("C{k}"),
            "condition": {"op": op, "left": {"field": field}, "right": {"value": value}},
            "on_true": {"type": "action", "node_id": format!("A{k}"), "action": "Release",
                        "parameters": {"rtgs_priority": {"value": "Urgent"}}},
            "on_false": node});
    }
    json!({"version": "1.0", "policy_id": "twenty_nodes", "payment_tree": node})
}

/// A "truly constant" payment tree: ten conditions on bank-level fields only (balance, queue
/// and time aggregates, cost rates), every path ending in a release. Its decision is the same
/// for every payment of a bank in a tick, so the engine evaluates it once per bank and tick
/// (the constant-tree path of S7). Benchmarked against FIFO to show that path stays cheap.
fn bank_level_policy() -> Value {
    let checks = [
        ("balance", "<", -1e15),
        ("available_liquidity", "<", 0.0),
        ("queue1_total_value", ">", 1e15),
        ("outgoing_queue_size", ">", 1e9),
        ("day_progress_fraction", ">", 1.0),
        ("cost_split_friction", ">", 1e12),
        ("credit_used", ">", 1e15),
        ("rtgs_queue_size", ">", 1e12),
        ("my_throughput_fraction_today", ">", 2.0),
        ("ticks_to_nearest_queue1_deadline", "<", -1e9),
    ];
    let mut node = json!({"type": "action", "node_id": "A_last", "action": "Release"});
    for (k, (field, op, value)) in checks.iter().enumerate().rev() {
        node = json!({"type": "condition", "node_id": format!("C{k}"),
            "condition": {"op": op, "left": {"field": field}, "right": {"value": value}},
            "on_true": {"type": "action", "node_id": format!("A{k}"), "action": "Hold"},
            "on_false": node});
    }
    json!({"version": "1.0", "policy_id": "bank_level", "payment_tree": node})
}

/// Arrivals/s of FIFO and of the bank-level (constant) tree, 100 banks, `days` days.
fn constant_tree_comparison(days: u32, tpd: u32) {
    let policy = bank_level_policy();
    let rate = |stats: &[DayStat]| {
        let secs: f64 = stats.iter().map(|d| d.seconds).sum();
        stats.iter().map(|d| d.arrivals).sum::<u64>() as f64 / secs
    };
    match (
        run(100, days, tpd, None),
        run(100, days, tpd, Some(&policy)),
    ) {
        (Ok(fifo), Ok(tree)) => {
            let (f, t) = (rate(&fifo), rate(&tree));
            println!(
                "constant bank-level payment tree (10 conditions), 100 banks, {days} days: {t:.0} arrivals/s vs FIFO {f:.0} → {:.0}% of FIFO",
                100.0 * t / f
            );
        }
        (Err(e), _) | (_, Err(e)) => println!("constant-tree comparison failed: {e}"),
    }
}

fn config(banks: usize, days: u32, tpd: u32, rate: f64) -> Value {
    let agents: Vec<Value> = (0..banks)
        .map(|i| {
            json!({"id": format!("BANK_{i:04}"), "opening_balance": 1_000_000_000_000i64,
                "unsecured_cap": 0, "posted_collateral": 0, "collateral_haircut": 0.02,
                "max_collateral_capacity": null, "liquidity_pool": 0,
                "liquidity_allocation_fraction": 1.0, "liquidity_buffer": 0,
                "limits": {"bilateral_limits": {}, "multilateral_limit": null},
                "policy": {"document": {"version": "1.0", "policy_id": "fifo",
                    "payment_tree": {"type": "action", "node_id": "release_all", "action": "Release"}},
                    "parameters": {}, "source": "library:fifo"},
                "arrival_config": {"rate_per_tick": rate,
                    "amount_distribution": {"type": "LogNormal", "mu": 10.0, "sigma": 1.0},
                    "counterparty_weights": {}, "deadline_range": [10, 50],
                    "priority_distribution": {"type": "Fixed", "value": 5}, "divisible": false,
                    "time_windows": []},
                "arrival_bands": null})
        })
        .collect();
    json!({
        "simulation": {"ticks_per_day": tpd, "num_days": days, "rng_seed": 20_260_101},
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

struct DayStat {
    arrivals: u64,
    seconds: f64,
    events: u64,
}

fn run(banks: usize, days: u32, tpd: u32, policy: Option<&Value>) -> Result<Vec<DayStat>, String> {
    let mut cfg = config(banks, days, tpd, 1.0);
    if let (Some(p), Some(agents)) = (policy, cfg["agents"].as_array_mut()) {
        for a in agents {
            a["policy"]["document"] = p.clone();
        }
    }
    let cfg = cfg.to_string();
    let mut e = Engine::new(&cfg).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for _ in 0..days {
        let start = Instant::now();
        let (mut arrivals, mut events) = (0u64, 0u64);
        for _ in 0..tpd {
            let s = e.tick().map_err(|e| e.to_string())?;
            arrivals += s.arrivals;
            events += s.events;
            let next = e.events().next_seq();
            e.release_events_before(next);
        }
        out.push(DayStat {
            arrivals,
            seconds: start.elapsed().as_secs_f64(),
            events,
        });
    }
    Ok(out)
}

/// ENGINE.md §14 "TARGET2 day": 1,000 banks, 350 ticks × ~1,000 payments per tick,
/// heavy-tailed amounts, tight liquidity, every bank on the 20-node tree. Prints the wall time
/// of the day and the engine memory held per event before export.
fn target2_day() -> Result<(), String> {
    let mut cfg = config(1_000, 1, 350, 1.0);
    let policy = twenty_node_policy();
    if let Some(agents) = cfg["agents"].as_array_mut() {
        for a in agents {
            a["policy"]["document"] = policy.clone();
            // Tight: each bank holds about three typical payments of liquidity.
            a["opening_balance"] = json!(300_000);
            a["unsecured_cap"] = json!(100_000);
            a["arrival_config"]["amount_distribution"] =
                json!({"type": "LogNormal", "mu": 10.5, "sigma": 1.6});
        }
    }
    // The caller drains events every tick (as `paysim run` does), so the figure is the
    // engine's work, not the growth of an ever larger event buffer.
    let text = cfg.to_string();
    let mut e = Engine::new(&text).map_err(|e| e.to_string())?;
    let start = Instant::now();
    while !e.done() {
        e.tick().map_err(|e| e.to_string())?;
        let next = e.events().next_seq();
        e.release_events_before(next);
    }
    let secs = start.elapsed().as_secs_f64();
    let s = e.summary();
    println!(
        "TARGET2-sized day: 1,000 banks, {} payments, 350 ticks, 20-node tree, tight liquidity: {secs:.2} s (target < 1 s); settled {:.1}%, LSM-settled {}",
        s["totals"]["arrivals"],
        100.0 * s["totals"]["settlement_rate"].as_f64().unwrap_or(0.0),
        s["totals"]["lsm_settled"]
    );
    // Memory per event: the first 100 ticks of the same day, every event retained.
    let mut e = Engine::new(&text).map_err(|e| e.to_string())?;
    e.run_until(100).map_err(|e| e.to_string())?;
    let log = e.events();
    println!(
        "event memory: {} events, {:.1} bytes per event held before export (target ≤ 64)",
        log.len(),
        log.bytes_held() as f64 / log.len().max(1) as f64
    );
    Ok(())
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    if std::env::args().any(|a| a == "--target2-only") {
        if let Err(e) = target2_day() {
            println!("TARGET2-sized day failed: {e}");
        }
        return;
    }
    let tpd = 1_000;
    if std::env::args().any(|a| a == "--constant-only") {
        constant_tree_comparison(if quick { 2 } else { 5 }, tpd);
        return;
    }
    println!("paysim engine benchmark (release, one core); FIFO, ample liquidity, LSM settings on");
    println!(
        "{:>6} {:>5} {:>14} {:>12} {:>12} {:>10}",
        "banks", "days", "arrivals/s", "ticks/s", "events/s", "total s"
    );
    let scales: [(usize, u32); 3] = if quick {
        [(10, 2), (100, 2), (1_000, 1)]
    } else {
        [(10, 20), (100, 20), (1_000, 2)]
    };
    for (banks, days) in scales {
        match run(banks, days, tpd, None) {
            Ok(stats) => {
                let secs: f64 = stats.iter().map(|d| d.seconds).sum();
                let arr: u64 = stats.iter().map(|d| d.arrivals).sum();
                let evs: u64 = stats.iter().map(|d| d.events).sum();
                let ticks = f64::from(days * tpd);
                println!(
                    "{banks:>6} {days:>5} {:>14.0} {:>12.0} {:>12.0} {:>10.2}",
                    arr as f64 / secs,
                    ticks / secs,
                    evs as f64 / secs,
                    secs
                );
                if banks == 100 && stats.len() >= 2 {
                    let per_day: Vec<String> = stats
                        .iter()
                        .map(|d| format!("{:.2}", d.arrivals as f64 / d.seconds / 1e6))
                        .collect();
                    println!(
                        "       per-day arrivals/s (M, 100 banks): {}",
                        per_day.join(" ")
                    );
                    let rate = |d: &DayStat| d.arrivals as f64 / d.seconds;
                    let first = rate(&stats[0]);
                    let last = rate(&stats[stats.len() - 1]);
                    println!(
                        "       day-{} / day-1 throughput (100 banks): {:.3} (target ≥ 0.8); day 1 {:.0}/s, day {} {:.0}/s",
                        stats.len(),
                        last / first,
                        first,
                        stats.len(),
                        last
                    );
                }
            }
            Err(e) => println!("{banks:>6} failed: {e}"),
        }
    }
    println!("target: ≥ 1,000,000 arrivals/s at 100 banks");
    let days = if quick { 2 } else { 5 };
    let policy = twenty_node_policy();
    let rate = |stats: &[DayStat]| {
        let secs: f64 = stats.iter().map(|d| d.seconds).sum();
        stats.iter().map(|d| d.arrivals).sum::<u64>() as f64 / secs
    };
    match (
        run(100, days, tpd, None),
        run(100, days, tpd, Some(&policy)),
    ) {
        (Ok(fifo), Ok(tree)) => {
            let (f, t) = (rate(&fifo), rate(&tree));
            println!(
                "20-node payment tree, 100 banks, {days} days: {t:.0} arrivals/s vs FIFO {f:.0} → {:.0}% of FIFO (target ≥ 50%)",
                100.0 * t / f
            );
        }
        (Err(e), _) | (_, Err(e)) => println!("20-node comparison failed: {e}"),
    }
    constant_tree_comparison(days, tpd);
    if let Err(e) = target2_day() {
        println!("TARGET2-sized day failed: {e}");
    }
}
