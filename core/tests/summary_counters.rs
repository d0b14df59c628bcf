//! The run-summary counters behind `paysim optimize`'s delay and liquidity objectives:
//! `settlement_delay` / `avg_settlement_delay` (ticks from arrival to settlement of original
//! payments) and `peak_net_debit` (the largest end-of-tick cumulative value settled out minus
//! value settled in). Each case is small enough to compute by hand.

mod common;

use common::*;
use paysim_core::engine::InjectRecord;
use paysim_core::Engine;
use serde_json::json;

fn inject(e: &mut Engine, tick: i64, s: &str, r: &str, amount: i64, deadline: i64) {
    e.inject_arrivals(&[InjectRecord {
        tick,
        sender: s.into(),
        receiver: r.into(),
        amount,
        deadline_tick: deadline,
        priority: None,
        divisible: Some(false),
        rtgs_priority: None,
    }])
    .expect("inject");
}

struct Case {
    name: &'static str,
    balances: (i64, i64),
    payments: &'static [(i64, &'static str, &'static str, i64)],
    /// (settled, settlement_delay, avg, A's delay, B's delay, A's peak, B's peak)
    expect: (u64, u64, f64, u64, u64, i64, i64),
}

const CASES: &[Case] = &[
    Case {
        // Everything settles on arrival: no delay. A's net outflow is 100 after t0, 40 after
        // t1, 90 after t2: its peak is 100. B never pays out more than it received.
        name: "immediate",
        balances: (100, 0),
        payments: &[(0, "A", "B", 100), (1, "B", "A", 60), (2, "A", "B", 50)],
        expect: (3, 0, 0.0, 0, 0, 100, 0),
    },
    Case {
        // A cannot pay at t0; B's payment at t3 funds it, so A's settles at t3 (delay 3).
        // At the end of t3 both nets are back to 0: no peak at end of tick.
        name: "waiting for an inflow",
        balances: (0, 100),
        payments: &[(0, "A", "B", 100), (3, "B", "A", 100)],
        expect: (2, 3, 1.5, 3, 0, 0, 0),
    },
    Case {
        // B pays 70 at t1 (B's net 70 after t1), A pays 30 back at t4 and 50 at t5 that waits
        // for nothing (A has 70 + 20): delays 0. B's peak 70; A's net is −70, −40, 10: peak 10.
        name: "peaks on both sides",
        balances: (20, 70),
        payments: &[(1, "B", "A", 70), (4, "A", "B", 30), (5, "A", "B", 50)],
        expect: (3, 0, 0.0, 0, 0, 10, 70),
    },
    Case {
        // A's 50 at t0 waits for B's 50 at t2 (delay 2); A's second 50 at t1 waits for B's
        // second 50 at t6 (delay 5). B's payments settle on arrival. Total 7 over 4 payments.
        name: "two waits",
        balances: (0, 100),
        payments: &[
            (0, "A", "B", 50),
            (1, "A", "B", 50),
            (2, "B", "A", 50),
            (6, "B", "A", 50),
        ],
        expect: (4, 7, 1.75, 7, 0, 0, 0),
    },
];

#[test]
fn delay_and_peak_net_debit_counters() {
    for case in CASES {
        let mut cfg = config(
            10,
            1,
            1,
            vec![agent("A", case.balances.0), agent("B", case.balances.1)],
        );
        // LSM off so every settlement is gross and the hand count above holds.
        cfg["lsm_config"]["enable_bilateral"] = json!(false);
        cfg["lsm_config"]["enable_cycles"] = json!(false);
        let mut e = engine(&cfg);
        for &(tick, s, r, amount) in case.payments {
            inject(&mut e, tick, s, r, amount, 9);
        }
        e.run().expect("run");
        let s = e.summary();
        let (settled, delay, avg, a_delay, b_delay, a_peak, b_peak) = case.expect;
        let t = &s["totals"];
        assert_eq!(t["settled"], json!(settled), "{}", case.name);
        assert_eq!(t["settlement_delay"], json!(delay), "{}", case.name);
        assert_eq!(t["avg_settlement_delay"], json!(avg), "{}", case.name);
        assert_eq!(
            s["agents"]["A"]["settlement_delay"],
            json!(a_delay),
            "{}",
            case.name
        );
        assert_eq!(
            s["agents"]["B"]["settlement_delay"],
            json!(b_delay),
            "{}",
            case.name
        );
        assert_eq!(
            s["agents"]["A"]["peak_net_debit"],
            json!(a_peak),
            "{}",
            case.name
        );
        assert_eq!(
            s["agents"]["B"]["peak_net_debit"],
            json!(b_peak),
            "{}",
            case.name
        );
        assert_eq!(t["peak_net_debit"], json!(a_peak + b_peak), "{}", case.name);
    }
}

#[test]
fn no_settlement_means_zero_average_delay() {
    let mut e = engine(&config(5, 1, 1, vec![agent("A", 0), agent("B", 0)]));
    inject(&mut e, 0, "A", "B", 10, 4);
    e.run().expect("run");
    let s = e.summary();
    assert_eq!(s["totals"]["settled"], json!(0));
    assert_eq!(s["totals"]["avg_settlement_delay"], json!(0.0));
    assert_eq!(s["totals"]["peak_net_debit"], json!(0));
}

#[test]
fn run_many_reports_each_run_wall_time() {
    let cfg = config(5, 1, 1, vec![agent("A", 10), agent("B", 0)]).to_string();
    let specs = vec![
        paysim_core::engine::many::RunSpec {
            config_json: cfg,
            arrivals: vec![],
        };
        2
    ];
    for out in paysim_core::engine::many::run_many(&specs, Some(2)) {
        let s = out.expect("run");
        assert!(s["wall_seconds"].as_f64().is_some_and(|w| w >= 0.0));
    }
}
