//! Issue #18, item 2: priority escalation applies to scheduled split pieces (`Q1Scheduled`)
//! as to every Q1 payment (ENGINE.md §5.1), so a staggered piece pays the delay band of its
//! escalated priority while it waits.

mod common;

use common::*;
use paysim_core::engine::decisions::{Decider, PaymentAction, PaymentInfo};
use paysim_core::engine::InjectRecord;
use paysim_core::events::{EventType, Key, OwnedVal};
use serde_json::json;

/// Staggers every original payment into two pieces, the first due 8 ticks later, the second
/// 16 ticks later, with no priority boost.
struct Stagger;

impl Decider for Stagger {
    fn payment(&mut self, _tick: u32, _p: &PaymentInfo) -> PaymentAction {
        PaymentAction::StaggerSplit {
            num_splits: 2,
            first_now: 0,
            gap_ticks: 8,
            priority_boost: 0,
        }
    }
}

/// One payment of 100,000 (priority 5, deadline 10) staggered at tick 0 into pieces of 50,000
/// due at ticks 8 and 16; A has nothing to pay with, so after release each piece waits in Q2.
/// Escalation: S = 4, max boost 4, so `boost = 4 − (10 − t)` from tick 7 and priority
/// 6, 7, 8, 9 at ticks 7, 8, 9, 10 (9 from then on), for both pieces wherever they wait.
///
/// Delay (rate 0.0001, urgent multiplier 3, others 1, overdue 1): the two pieces weigh
/// 100,000, i.e. 10 per tick in the normal band (priority 4–7) and 30 in the urgent band
/// (8–10). Ticks 0–8 normal: 9 × 10 = 90; ticks 9–19 urgent: 11 × 30 = 330; total 420.
/// (Without escalation of the waiting piece, the second piece would stay normal until tick
/// 16, and the run would cost 340.)
#[test]
fn scheduled_pieces_escalate_and_pay_the_escalated_delay_band() {
    let mut cfg = config(20, 1, 1, vec![agent("A", 0), agent("B", 0)]);
    cfg["settlement"]["priority_escalation"] = json!({"enabled": true, "curve": "linear",
        "start_escalating_at_ticks": 4, "max_boost": 4});
    cfg["cost_rates"]["overdue_delay_multiplier"] = json!(1.0);
    cfg["cost_rates"]["priority_delay_multipliers"]["urgent_multiplier"] = json!(3.0);
    cfg["cost_rates"]["deadline_penalty"] = json!({"mode": "fixed", "amount": 0});
    cfg["cost_rates"]["eod_penalty"] = json!({"mode": "fixed", "amount": 0});
    cfg["cost_rates"]["split_friction_cost"] = json!(0);
    cfg["cost_rates"]["overdraft_bps_per_tick"] = json!(0.0);
    let mut e = engine(&cfg);
    e.set_decider("A", Box::new(Stagger)).expect("decider");
    e.inject_arrivals(&[InjectRecord {
        tick: 0,
        sender: "A".into(),
        receiver: "B".into(),
        amount: 100_000,
        deadline_tick: 10,
        priority: Some(5),
        divisible: Some(true),
        rtgs_priority: None,
    }])
    .expect("inject");
    e.run().expect("run");
    let escalations: Vec<(u32, u64, Option<OwnedVal>)> = all_events(&e)
        .into_iter()
        .filter(|v| v.ty == EventType::PriorityEscalated)
        .map(|v| {
            (
                v.tick,
                v.tx.unwrap_or(0),
                v.detail(Key::NewPriority).cloned(),
            )
        })
        .collect();
    let (p1, p2) = (tx_key(0) | 1, tx_key(0) | 2);
    let mut want = Vec::new();
    for (tick, priority) in [(7, 6), (8, 7), (9, 8), (10, 9)] {
        for piece in [p1, p2] {
            want.push((tick, piece, Some(OwnedVal::U64(priority))));
        }
    }
    assert_eq!(escalations, want);
    let c = e.costs("A", None).expect("costs");
    assert_eq!(c["delay"], json!(420));
    assert_eq!(c["total"], json!(420));
    // Both pieces were released on their due ticks, the second while already escalated.
    let submissions: Vec<(u32, Option<OwnedVal>)> = all_events(&e)
        .into_iter()
        .filter(|v| v.ty == EventType::RtgsSubmission)
        .map(|v| (v.tick, v.detail(Key::Priority).cloned()))
        .collect();
    assert_eq!(
        submissions,
        vec![(8, Some(OwnedVal::U64(7))), (16, Some(OwnedVal::U64(9)))]
    );
}
