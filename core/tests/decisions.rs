//! Policy decisions applied by the engine, driven by scripted deciders: hold, timed release,
//! split, stagger-split, drop, budgets, registers, collateral, Q2 withdraw/resubmit,
//! reprioritize, escalation. Table-driven where the cases share a shape.

mod common;

use common::*;
use paysim_core::config::RtgsPriority;
use paysim_core::engine::decisions::{
    BankAction, CollateralAction, Decider, PaymentAction, PaymentInfo,
};
use paysim_core::engine::InjectRecord;
use paysim_core::events::{EventType, Key, OwnedVal};
use paysim_core::Engine;
use serde_json::json;

type PayFn = Box<dyn FnMut(u32, &PaymentInfo) -> PaymentAction + Send + Sync>;
type BankFn = Box<dyn FnMut(u32) -> BankAction + Send + Sync>;
type CollFn = Box<dyn FnMut(u32) -> CollateralAction + Send + Sync>;

#[derive(Default)]
struct Script {
    pay: Option<PayFn>,
    bank: Option<BankFn>,
    strategic: Option<CollFn>,
    end: Option<CollFn>,
    q2: bool,
}

impl Decider for Script {
    fn payment(&mut self, tick: u32, p: &PaymentInfo) -> PaymentAction {
        match &mut self.pay {
            Some(f) => f(tick, p),
            None => release(),
        }
    }
    fn bank(&mut self, _agent: u32, tick: u32) -> BankAction {
        self.bank
            .as_mut()
            .map(|f| f(tick))
            .unwrap_or(BankAction::NoAction)
    }
    fn strategic_collateral(&mut self, _agent: u32, tick: u32) -> CollateralAction {
        self.strategic
            .as_mut()
            .map(|f| f(tick))
            .unwrap_or(CollateralAction::Hold)
    }
    fn end_of_tick_collateral(&mut self, _agent: u32, tick: u32) -> CollateralAction {
        self.end
            .as_mut()
            .map(|f| f(tick))
            .unwrap_or(CollateralAction::Hold)
    }
    fn uses_q2_actions(&self) -> bool {
        self.q2
    }
}

fn release() -> PaymentAction {
    PaymentAction::Release {
        priority_flag: None,
        timed_for_tick: None,
        rtgs_priority: None,
    }
}

fn pay(f: impl FnMut(u32, &PaymentInfo) -> PaymentAction + Send + Sync + 'static) -> Box<Script> {
    Box::new(Script {
        pay: Some(Box::new(f)),
        ..Script::default()
    })
}

fn inject(
    e: &mut Engine,
    tick: i64,
    s: &str,
    r: &str,
    amount: i64,
    deadline: i64,
    divisible: bool,
) {
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

fn of_type(e: &Engine, ty: EventType) -> Vec<paysim_core::events::EventView> {
    all_events(e).into_iter().filter(|v| v.ty == ty).collect()
}

fn two(balance_a: i64) -> Engine {
    engine(&config(
        10,
        1,
        1,
        vec![agent("A", balance_a), agent("B", 0)],
    ))
}

#[test]
fn hold_until_a_tick_then_release() {
    let mut e = two(1_000);
    e.set_decider(
        "A",
        pay(|t, _| {
            if t < 3 {
                PaymentAction::Hold {
                    reason: "AwaitingInflows".into(),
                }
            } else {
                release()
            }
        }),
    )
    .unwrap();
    inject(&mut e, 0, "A", "B", 100, 9, false);
    e.run().unwrap();
    let holds = of_type(&e, EventType::PolicyHold);
    assert_eq!(holds.len(), 3);
    assert_eq!(
        holds[0].detail(Key::Reason),
        Some(&OwnedVal::Str("AwaitingInflows".into()))
    );
    assert_eq!(of_type(&e, EventType::RtgsImmediateSettlement)[0].tick, 3);
    // Delay cost while held: rdiv(100 × 10^6 × 100_000, 10^15) = 0.01 → 0 per tick; use value.
    assert_eq!(e.summary()["totals"]["settled"], json!(1));
}

#[test]
fn timed_release_and_priority_flag() {
    let mut e = two(1_000);
    e.set_decider(
        "A",
        pay(|_, _| PaymentAction::Release {
            priority_flag: Some(10),
            timed_for_tick: Some(4),
            rtgs_priority: Some(RtgsPriority::Urgent),
        }),
    )
    .unwrap();
    inject(&mut e, 0, "A", "B", 100, 9, false);
    e.run().unwrap();
    let holds = of_type(&e, EventType::PolicyHold);
    assert_eq!(holds.len(), 4, "held at ticks 0..3 as TimedRelease");
    assert!(holds
        .iter()
        .all(|h| h.detail(Key::Reason) == Some(&OwnedVal::Str("TimedRelease".into()))));
    let repr = of_type(&e, EventType::TransactionReprioritized);
    assert_eq!(repr.len(), 1, "the flag changes the priority once");
    let submit = &of_type(&e, EventType::PolicySubmit)[0];
    assert_eq!(submit.tick, 4);
    assert_eq!(
        submit.detail(Key::RtgsPriority),
        Some(&OwnedVal::Str("Urgent".into()))
    );
}

#[test]
fn split_pieces_amounts_friction_and_parent_settlement() {
    // (amount, n, divisible) -> expected piece amounts (empty = released whole)
    let cases: Vec<(i64, u32, bool, Vec<i64>)> = vec![
        (1_001, 3, true, vec![333, 333, 335]),
        (5, 10, true, vec![1, 1, 1, 1, 1]),
        (1_000, 3, false, vec![]),
        (1_000, 1, true, vec![]),
    ];
    for (amount, n, divisible, pieces) in cases {
        let mut e = two(10_000);
        e.set_decider(
            "A",
            pay(move |_, p| {
                if p.is_split {
                    release()
                } else {
                    PaymentAction::Split { num_splits: n }
                }
            }),
        )
        .unwrap();
        inject(&mut e, 0, "A", "B", amount, 9, divisible);
        e.run().unwrap();
        let splits = of_type(&e, EventType::PolicySplit);
        if pieces.is_empty() {
            assert!(splits.is_empty());
            assert_eq!(of_type(&e, EventType::PolicyWarning).len(), 1);
            assert_eq!(e.costs("A", None).unwrap()["split_friction"], json!(0));
        } else {
            assert_eq!(splits.len(), 1);
            assert_eq!(
                splits[0].detail(Key::ChildAmounts),
                Some(&OwnedVal::I64List(pieces.clone()))
            );
            let k = pieces.len() as i64;
            assert_eq!(
                e.costs("A", None).unwrap()["split_friction"],
                json!(1_000 * (k - 1))
            );
            assert_eq!(
                of_type(&e, EventType::RtgsImmediateSettlement).len(),
                pieces.len()
            );
            assert_eq!(of_type(&e, EventType::SplitParentSettled).len(), 1);
            let lines = json_lines(&e, 0);
            assert!(lines.iter().any(|l| l.contains("\"tx_00000001.2\"")));
        }
        let s = e.summary();
        assert_eq!(s["totals"]["arrivals"], json!(1));
        assert_eq!(s["totals"]["settled"], json!(1));
        assert_eq!(s["totals"]["settled_value"], json!(amount));
        assert_eq!(e.agent_state("B").unwrap().balance, amount);
    }
}

#[test]
fn stagger_split_schedules_pieces() {
    let mut e = two(10_000);
    e.set_decider(
        "A",
        pay(|_, p| {
            if p.is_split {
                release()
            } else {
                PaymentAction::StaggerSplit {
                    num_splits: 4,
                    first_now: 1,
                    gap_ticks: 2,
                    priority_boost: 3,
                }
            }
        }),
    )
    .unwrap();
    inject(&mut e, 1, "A", "B", 400, 9, true);
    e.run_until(2).unwrap();
    assert_eq!(
        e.agent_state("A").unwrap().q1_count,
        3,
        "waiting pieces count in Q1"
    );
    e.run().unwrap();
    let split = &of_type(&e, EventType::PolicySplit)[0];
    assert_eq!(
        split.detail(Key::DueTicks),
        Some(&OwnedVal::I64List(vec![1, 3, 5, 7]))
    );
    let subs = of_type(&e, EventType::RtgsSubmission);
    let ticks: Vec<(u32, bool)> = subs
        .iter()
        .map(|v| {
            (
                v.tick,
                v.detail(Key::Scheduled) == Some(&OwnedVal::Bool(true)),
            )
        })
        .collect();
    assert_eq!(ticks, vec![(1, false), (3, true), (5, true), (7, true)]);
    assert!(subs
        .iter()
        .all(|v| v.detail(Key::Priority) == Some(&OwnedVal::U64(8))));
    assert_eq!(e.summary()["totals"]["settled"], json!(1));
}

#[test]
fn drop_penalty_before_and_after_the_deadline() {
    // ENGINE.md §8.4: dropping P at tick 2 costs 500 + 50,000; at tick 5, 500.
    for (drop_at, expected) in [(2u32, 50_500i64), (5, 500)] {
        let mut cfg = config(10, 1, 1, vec![agent("A", 0), agent("B", 0)]);
        cfg["cost_rates"]["eod_penalty"] = json!({"mode": "rate", "bps_per_event": 50.0});
        cfg["cost_rates"]["delay_cost_per_tick_per_cent"] = json!(0.0);
        cfg["cost_rates"]["overdraft_bps_per_tick"] = json!(0.0);
        let mut e = engine(&cfg);
        e.set_decider(
            "A",
            pay(move |t, _| {
                if t == drop_at {
                    PaymentAction::Drop
                } else {
                    PaymentAction::Hold { reason: "x".into() }
                }
            }),
        )
        .unwrap();
        inject(&mut e, 0, "A", "B", 100_000, 3, false);
        e.run().unwrap();
        let c = e.costs("A", None).unwrap();
        assert_eq!(c["drop_penalty"], json!(expected), "drop at {drop_at}");
        let deadline = if drop_at > 3 { 50_000 } else { 0 };
        assert_eq!(
            c["deadline_penalty"],
            json!(deadline),
            "charged once, when it went overdue"
        );
        assert_eq!(
            c["eod_penalty"],
            json!(0),
            "a dropped payment pays no EOD penalty"
        );
        let s = e.summary();
        assert_eq!(s["totals"]["dropped"], json!(1));
        assert_eq!(s["agents"]["A"]["dropped"], json!(1));
        assert_eq!(e.agent_state("A").unwrap().q1_count, 0);
    }
}

#[test]
fn release_budget_focus_and_per_counterparty_caps() {
    // (max, focus, per_cpty) -> which of [A→B 100, A→B 100, A→C 40] are released at tick 0
    type Case = (i64, Option<Vec<u32>>, Option<i64>, usize);
    let cases: Vec<Case> = vec![
        (150, None, None, 2),            // 100 passes, 100 refused, 40 passes
        (1_000, Some(vec![2]), None, 1), // only C is in focus
        (1_000, None, Some(100), 2),     // second 100 to B exceeds its cap
        (0, None, None, 0),
    ];
    for (max, focus, per, released) in cases {
        let mut e = engine(&config(
            10,
            1,
            1,
            vec![agent("A", 10_000), agent("B", 0), agent("C", 0)],
        ));
        let (f2, p2) = (focus.clone(), per);
        e.set_decider(
            "A",
            Box::new(Script {
                bank: Some(Box::new(move |_| BankAction::SetReleaseBudget {
                    max_value: max,
                    focus: f2.clone(),
                    max_per_counterparty: p2,
                })),
                ..Script::default()
            }),
        )
        .unwrap();
        inject(&mut e, 0, "A", "B", 100, 9, false);
        inject(&mut e, 0, "A", "B", 100, 9, false);
        inject(&mut e, 0, "A", "C", 40, 9, false);
        e.tick().unwrap();
        assert_eq!(
            of_type(&e, EventType::PolicySubmit).len(),
            released,
            "{max} {focus:?} {per:?}"
        );
        assert_eq!(of_type(&e, EventType::BankBudgetSet).len(), 1);
        let held = of_type(&e, EventType::PolicyHold);
        assert_eq!(held.len(), 3 - released);
        assert!(held
            .iter()
            .all(|h| h.detail(Key::Reason) == Some(&OwnedVal::Str("BudgetExhausted".into()))));
    }
}

#[test]
fn registers_are_set_added_and_reset_at_end_of_day() {
    let mut e = engine(&config(3, 2, 1, vec![agent("A", 0), agent("B", 0)]));
    e.set_decider(
        "A",
        Box::new(Script {
            bank: Some(Box::new(|t| {
                if t % 3 == 0 {
                    BankAction::SetState {
                        key: "bank_state_x".into(),
                        value: 2.5,
                        reason: "policy_action".into(),
                    }
                } else {
                    BankAction::AddState {
                        key: "bank_state_x".into(),
                        value: 1.0,
                        reason: "policy_action".into(),
                    }
                }
            })),
            ..Script::default()
        }),
    )
    .unwrap();
    e.run_until(2).unwrap();
    assert_eq!(
        e.agent_state("A").unwrap().registers.get("bank_state_x"),
        Some(&3.5)
    );
    e.run_until(3).unwrap();
    assert!(e.agent_state("A").unwrap().registers.is_empty());
    let sets = of_type(&e, EventType::StateRegisterSet);
    let reasons: Vec<_> = sets
        .iter()
        .filter_map(|v| v.detail(Key::Reason).cloned())
        .collect();
    assert_eq!(reasons.last(), Some(&OwnedVal::Str("eod_reset".into())));
    assert_eq!(sets.len(), 4);
}

#[test]
fn collateral_post_with_timer_and_withdraw_limits() {
    let mut a = agent("A", 0);
    a["unsecured_cap"] = json!(100);
    a["collateral_haircut"] = json!(0.0);
    let mut e = engine(&config(10, 1, 1, vec![a, agent("B", 0)]));
    e.set_decider(
        "A",
        Box::new(Script {
            strategic: Some(Box::new(|t| {
                if t == 0 {
                    CollateralAction::Post {
                        amount: 5_000,
                        reason: "PreemptivePosting".into(),
                        auto_withdraw_after_ticks: Some(3),
                    }
                } else {
                    CollateralAction::Hold
                }
            })),
            end: Some(Box::new(|t| {
                if t == 1 {
                    CollateralAction::Withdraw {
                        amount: 10_000,
                        reason: "LiquidityRestored".into(),
                    }
                } else {
                    CollateralAction::Hold
                }
            })),
            ..Script::default()
        }),
    )
    .unwrap();
    // Capacity is 10 × cap = 1,000, so the post is capped.
    inject(&mut e, 0, "A", "B", 600, 9, false);
    e.run().unwrap();
    let post = &of_type(&e, EventType::CollateralPost)[0];
    assert_eq!(post.amount, Some(1_000));
    assert_eq!(post.detail(Key::AutoWithdrawTick), Some(&OwnedVal::U64(3)));
    assert!(of_type(&e, EventType::PolicyWarning)
        .iter()
        .any(|w| w.detail(Key::Code) == Some(&OwnedVal::Str("CappedPost".into()))));
    // Balance −600 with cap 100 needs 500 of collateral: only 500 can be withdrawn.
    let wd = &of_type(&e, EventType::CollateralWithdraw)[0];
    assert_eq!(wd.amount, Some(500));
    // The timer finds nothing withdrawable left.
    assert_eq!(of_type(&e, EventType::CollateralTimerBlocked).len(), 1);
    let st = e.agent_state("A").unwrap();
    assert_eq!(st.posted_collateral, 500);
    assert!(st.balance >= -st.allowed_overdraft_limit);
}

#[test]
fn q2_withdraw_and_resubmit() {
    let mut cfg = config(10, 1, 1, vec![agent("A", 0), agent("B", 0)]);
    cfg["settlement"]["priority_mode"] = json!(true);
    let mut e = engine(&cfg);
    e.set_decider(
        "A",
        Box::new(Script {
            pay: Some(Box::new(|t, p| {
                if p.in_queue2 && t == 1 && p.amount == 100 {
                    PaymentAction::WithdrawFromRtgs
                } else if p.in_queue2 && p.amount == 200 {
                    PaymentAction::ResubmitToRtgs {
                        rtgs_priority: RtgsPriority::HighlyUrgent,
                    }
                } else if !p.in_queue2 && t >= 1 && p.amount == 100 {
                    PaymentAction::Hold { reason: "x".into() }
                } else {
                    release()
                }
            })),
            q2: true,
            ..Script::default()
        }),
    )
    .unwrap();
    inject(&mut e, 0, "A", "B", 100, 9, false);
    inject(&mut e, 0, "A", "B", 200, 9, false);
    e.run_until(2).unwrap();
    assert_eq!(of_type(&e, EventType::RtgsWithdrawal).len(), 1);
    assert_eq!(e.agent_state("A").unwrap().q1_count, 1);
    let resub = of_type(&e, EventType::RtgsResubmission);
    assert_eq!(
        resub.len(),
        1,
        "resubmitting with the current class is a no-op"
    );
    assert_eq!(e.queue2().len(), 1);
}

#[test]
fn q1_and_q2_actions_on_the_wrong_queue_hold() {
    let mut e = two(0);
    e.set_decider("A", pay(|_, _| PaymentAction::WithdrawFromRtgs))
        .unwrap();
    inject(&mut e, 0, "A", "B", 100, 9, false);
    e.tick().unwrap();
    let h = &of_type(&e, EventType::PolicyHold)[0];
    assert_eq!(
        h.detail(Key::Reason),
        Some(&OwnedVal::Str("NotInCentralQueue".into()))
    );
}

#[test]
fn priority_deadline_ordering_and_escalation() {
    let mut cfg = config(40, 1, 1, vec![agent("A", 0), agent("B", 0)]);
    cfg["settlement"]["queue1_ordering"] = json!("priority_deadline");
    cfg["settlement"]["priority_escalation"] = json!({"enabled": true, "curve": "linear", "start_escalating_at_ticks": 10, "max_boost": 4});
    let mut e = engine(&cfg);
    e.set_decider("A", pay(|_, _| PaymentAction::Hold { reason: "x".into() }))
        .unwrap();
    e.inject_arrivals(&[
        InjectRecord {
            tick: 0,
            sender: "A".into(),
            receiver: "B".into(),
            amount: 1,
            deadline_tick: 30,
            priority: Some(5),
            divisible: None,
            rtgs_priority: None,
        },
        InjectRecord {
            tick: 0,
            sender: "A".into(),
            receiver: "B".into(),
            amount: 2,
            deadline_tick: 12,
            priority: Some(5),
            divisible: None,
            rtgs_priority: None,
        },
        InjectRecord {
            tick: 0,
            sender: "A".into(),
            receiver: "B".into(),
            amount: 3,
            deadline_tick: 30,
            priority: Some(9),
            divisible: None,
            rtgs_priority: None,
        },
    ])
    .unwrap();
    e.tick().unwrap();
    assert_eq!(
        e.queue1("A").unwrap(),
        vec!["tx_00000003", "tx_00000002", "tx_00000001"]
    );
    e.run_until(8).unwrap();
    // tx 2 (deadline 12): r = 8 at tick 4 → boost round(4 × 2 / 10) = 1; r = 6 at tick 6 →
    // round(1.6) = 2. Nothing else is within 10 ticks of its deadline yet.
    let esc: Vec<(u32, Option<OwnedVal>)> = of_type(&e, EventType::PriorityEscalated)
        .iter()
        .map(|v| (v.tick, v.detail(Key::NewPriority).cloned()))
        .collect();
    assert_eq!(
        esc,
        vec![(4, Some(OwnedVal::U64(6))), (6, Some(OwnedVal::U64(7)))]
    );
    e.run_until(12).unwrap();
    // By tick 11 tx 2 reaches 5 + 4 = 9 with an earlier deadline than tx 3: first in Q1.
    assert_eq!(e.queue1("A").unwrap()[0], "tx_00000002");
}

#[test]
fn a_split_family_pays_one_fixed_eod_penalty() {
    let mut e = two(0);
    e.set_decider(
        "A",
        pay(|_, p| {
            if p.is_split {
                PaymentAction::Hold { reason: "x".into() }
            } else {
                PaymentAction::Split { num_splits: 3 }
            }
        }),
    )
    .unwrap();
    inject(&mut e, 0, "A", "B", 300, 2, true);
    e.run().unwrap();
    let c = e.costs("A", None).unwrap();
    assert_eq!(
        c["eod_penalty"],
        json!(10_000),
        "one fixed EOD penalty for the family"
    );
    assert_eq!(
        c["deadline_penalty"],
        json!(50_000),
        "one deadline penalty per original payment"
    );
    assert_eq!(e.summary()["totals"]["overdue"], json!(1));
}
