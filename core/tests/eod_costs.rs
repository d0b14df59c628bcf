//! End-of-day costs of payments due on the EOD tick (ENGINE.md §2, §5.2 S14, §8.3): a payment
//! whose deadline is the last tick of its day and that is still unsettled is marked overdue
//! by that tick's S14 *before* the day's EOD penalties are computed, so it pays them.
//!
//! Every case below is computed by hand from §8.2 with the rates of `cfg`: a queued 100,000
//! costs `rdiv(100,000 × 10^6 × 10^5, 10^15)` = 10 of delay per tick, 50 once overdue
//! (multiplier 5); the deadline penalty is 50,000 (fixed); the EOD penalty 10,000 (fixed) or
//! `rdiv(x × 50 × 10^9, 10^13)` = x × 0.5 % (rate, 50 bps).

mod common;

use common::*;
use paysim_core::engine::decisions::{Decider, PaymentAction, PaymentInfo};
use paysim_core::engine::InjectRecord;
use paysim_core::events::{EventType, Key, OwnedVal};
use paysim_core::Engine;
use serde_json::{json, Value};

fn cfg(tpd: u32, days: u32, eod_rate: bool) -> Value {
    let mut c = config(tpd, days, 1, vec![agent("A", 0), agent("B", 0)]);
    c["cost_rates"]["overdraft_bps_per_tick"] = json!(0.0);
    c["cost_rates"]["collateral_cost_per_tick_bps"] = json!(0.0);
    c["lsm_config"]["enable_bilateral"] = json!(false);
    c["lsm_config"]["enable_cycles"] = json!(false);
    if eod_rate {
        c["cost_rates"]["eod_penalty"] = json!({"mode": "rate", "bps_per_event": 50.0});
    }
    c
}

fn inject(e: &mut Engine, tick: i64, s: &str, amount: i64, deadline: i64, divisible: bool) {
    let r = if s == "A" { "B" } else { "A" };
    e.inject_arrivals(&[InjectRecord {
        tick,
        sender: s.into(),
        receiver: r.into(),
        amount,
        deadline_tick: deadline,
        priority: None,
        divisible: Some(divisible),
        rtgs_priority: None,
    }])
    .expect("inject");
}

fn component(e: &Engine, agent: &str, day: Option<usize>, key: &str) -> i64 {
    e.costs(agent, day).expect("costs")[key]
        .as_i64()
        .expect("integer")
}

/// (what, tpd, days, rate EOD penalty, deadline, expected per day: [delay, deadline, eod]).
/// A cannot pay (balance 0, no credit), so the payment of 100,000 stays queued all run.
#[test]
fn a_payment_due_on_the_eod_tick_pays_that_days_eod_penalty() {
    type Day = [i64; 3];
    type Case = (&'static str, u32, u32, bool, i64, &'static [Day]);
    let cases: &[Case] = &[
        // Ticks 0..4 on time (t > deadline never holds): 5 × 10 of delay.
        ("due at EOD, fixed", 5, 1, false, 4, &[[50, 50_000, 10_000]]),
        ("due at EOD, rate", 5, 1, true, 4, &[[50, 50_000, 500]]),
        // One tick per day: the tick is SOD and EOD; due in its arrival tick.
        (
            "tpd 1, due at once",
            1,
            1,
            false,
            0,
            &[[10, 50_000, 10_000]],
        ),
        // Day 1: overdue all day, 5 × 50 of delay, and again the EOD penalty.
        (
            "due at EOD of day 0, two days",
            5,
            2,
            false,
            4,
            &[[50, 50_000, 10_000], [250, 0, 10_000]],
        ),
        // Control, unchanged by the ordering: overdue from tick 3, 4 × 10 + 50 of delay.
        ("due before EOD", 5, 1, false, 3, &[[90, 50_000, 10_000]]),
    ];
    for &(what, tpd, days, rate, deadline, expected) in cases {
        let mut e = engine(&cfg(tpd, days, rate));
        inject(&mut e, 0, "A", 100_000, deadline, false);
        e.run().expect("run");
        let mut total = [0i64; 3];
        for (d, want) in expected.iter().enumerate() {
            let got = ["delay", "deadline_penalty", "eod_penalty"]
                .map(|k| component(&e, "A", Some(d), k));
            assert_eq!(&got, want, "{what}: day {d}");
            for k in 0..3 {
                total[k] += want[k];
            }
        }
        assert_eq!(
            component(&e, "A", None, "total"),
            total.iter().sum::<i64>(),
            "{what}: total"
        );
        assert_eq!(component(&e, "B", None, "total"), 0, "{what}: B");
        assert_eq!(e.summary()["totals"]["overdue"], json!(1), "{what}");
    }
}

/// The events of the EOD tick, per agent in agent order: the payment goes overdue, then the
/// agent's `CostAccrual` carries its EOD penalty; `EndOfDay` counts it as overdue.
#[test]
fn eod_tick_events_mark_then_charge_per_agent() {
    let mut e = engine(&cfg(5, 1, false));
    inject(&mut e, 0, "A", 100_000, 4, false);
    inject(&mut e, 2, "B", 30_000, 4, false);
    e.run().expect("run");
    let at_eod: Vec<(EventType, Option<u32>, Option<OwnedVal>)> = all_events(&e)
        .into_iter()
        .filter(|v| v.tick == 4)
        .filter(|v| {
            matches!(
                v.ty,
                EventType::TransactionWentOverdue | EventType::CostAccrual | EventType::EndOfDay
            )
        })
        .map(|v| {
            let detail = match v.ty {
                EventType::CostAccrual => v.detail(Key::EodPenalty).cloned(),
                EventType::EndOfDay => v.detail(Key::OverdueCount).cloned(),
                _ => v.detail(Key::DeadlinePenalty).cloned(),
            };
            (v.ty, v.agent, detail)
        })
        .collect();
    assert_eq!(
        at_eod,
        vec![
            (
                EventType::TransactionWentOverdue,
                Some(0),
                Some(OwnedVal::I64(50_000))
            ),
            (EventType::CostAccrual, Some(0), Some(OwnedVal::I64(10_000))),
            (
                EventType::TransactionWentOverdue,
                Some(1),
                Some(OwnedVal::I64(50_000))
            ),
            (EventType::CostAccrual, Some(1), Some(OwnedVal::I64(10_000))),
            (EventType::EndOfDay, None, Some(OwnedVal::U64(2))),
        ]
    );
    // B's 30,000: delay rdiv(30,000 × 10^11, 10^15) = 3 per tick, ticks 2..4.
    assert_eq!(component(&e, "B", None, "total"), 9 + 50_000 + 10_000);
}

/// Splits every payment of A into two pieces at once (§4.3).
struct SplitInTwo;

impl Decider for SplitInTwo {
    fn payment(&mut self, _tick: u32, p: &PaymentInfo) -> PaymentAction {
        if p.is_split {
            PaymentAction::Hold {
                reason: "never".into(),
            }
        } else {
            PaymentAction::Split { num_splits: 2 }
        }
    }
}

/// A split family due on the EOD tick: a fixed EOD penalty is charged once per original
/// payment, a rate penalty on each piece (§4.3, §8.3). The pieces of 50,000 are released at
/// tick 0 and queue in Q2 (A has nothing to pay with).
#[test]
fn split_family_due_on_the_eod_tick() {
    // (rate EOD penalty, expected EOD penalty)
    for (rate, eod) in [(false, 10_000), (true, 250 + 250)] {
        let mut e = engine(&cfg(5, 1, rate));
        e.set_decider("A", Box::new(SplitInTwo)).expect("decider");
        inject(&mut e, 0, "A", 100_000, 4, true);
        e.run().expect("run");
        assert_eq!(component(&e, "A", None, "eod_penalty"), eod, "rate {rate}");
        assert_eq!(component(&e, "A", None, "deadline_penalty"), 50_000);
        assert_eq!(component(&e, "A", None, "split_friction"), 1_000);
        // 100,000 queued for 5 ticks: 10 per tick.
        assert_eq!(component(&e, "A", None, "delay"), 50);
        assert_eq!(
            component(&e, "A", None, "total"),
            50 + 50_000 + 1_000 + eod,
            "rate {rate}"
        );
    }
}
