//! The example policies of §11.1–11.3: no errors, no warnings, and the behaviour described.

use super::helpers::*;
use crate::policy::{
    BankDecision, CollateralDecision, EvalContext, PaymentDecision, RtgsPriority, Tree,
};

const FIFO: &str = include_str!("fixtures/fifo.json");
const DEADLINE: &str = include_str!("fixtures/deadline.json");
const BUFFER: &str = include_str!("fixtures/liquidity_buffer.json");

#[test]
fn examples_validate_cleanly() {
    for d in [FIFO, DEADLINE, BUFFER] {
        let r = report(d);
        assert!(
            r.valid && r.errors.is_empty() && r.warnings.is_empty(),
            "{:?} {:?}",
            errors(&r),
            warnings(&r)
        );
    }
}

#[test]
fn fifo_releases_everything() {
    let c = compiled(FIFO);
    let f = fields(&[]);
    let out = c
        .eval_payment(&EvalContext {
            fields: &f,
            registers: &[],
            current_tick: 3,
        })
        .unwrap();
    assert_eq!(out.decision, PaymentDecision::RELEASE);
    assert_eq!(c.path_ids(&out.path), ["release_all"]);
    assert!(c.fields_used(Tree::Payment).is_empty());
}

#[test]
fn deadline_waits_unless_urgent_or_comfortable() {
    let c = compiled(DEADLINE);
    let run = |ttd: f64, liq: f64, amt: f64| {
        let f = fields(&[
            ("ticks_to_deadline", ttd),
            ("available_liquidity", liq),
            ("remaining_amount", amt),
        ]);
        let out = c
            .eval_payment(&EvalContext {
                fields: &f,
                registers: &[],
                current_tick: 0,
            })
            .unwrap();
        (out.decision, c.path_ids(&out.path).join(">"))
    };
    let high = PaymentDecision::Release {
        priority_flag: Some(10),
        timed_for_tick: None,
        rtgs_priority: None,
        with_credit: false,
    };
    assert_eq!(
        run(5.0, 0.0, 100.0),
        (high, "is_urgent>release_urgent".into())
    );
    assert_eq!(
        run(-3.0, 0.0, 100.0),
        (high, "is_urgent>release_urgent".into()),
        "past deadline is urgent"
    );
    assert_eq!(
        run(6.0, 200.0, 100.0),
        (
            PaymentDecision::RELEASE,
            "is_urgent>is_comfortable>release_early".into()
        )
    );
    assert_eq!(
        run(6.0, 199.0, 100.0),
        (
            PaymentDecision::Hold {
                reason: "AwaitingInflows"
            },
            "is_urgent>is_comfortable>wait".into()
        )
    );
    let c8 = crate::policy::compile(
        DEADLINE.as_bytes(),
        &[("urgency_threshold".to_string(), 8.0)].into(),
    )
    .unwrap();
    let f = fields(&[("ticks_to_deadline", 7.0)]);
    assert_eq!(
        c8.eval_payment(&EvalContext {
            fields: &f,
            registers: &[],
            current_tick: 0
        })
        .unwrap()
        .decision,
        high
    );
}

#[test]
fn liquidity_buffer_budgets_and_returns_collateral() {
    let c = compiled(BUFFER);
    let bank = |nearest: f64, liq: f64, buffer: f64| {
        let f = fields(&[
            ("ticks_to_nearest_queue1_deadline", nearest),
            ("available_liquidity", liq),
            ("liquidity_buffer", buffer),
        ]);
        c.eval_bank(&EvalContext {
            fields: &f,
            registers: &[],
            current_tick: 0,
        })
        .unwrap()
        .decision
    };
    let budget = |v| BankDecision::SetReleaseBudget {
        max_value: v,
        focus: None,
        max_per_counterparty: None,
    };
    assert_eq!(bank(2.0, 5000.0, 1000.0), budget(5000));
    assert_eq!(
        bank(f64::INFINITY, 5000.0, 1000.0),
        budget(4000),
        "empty Q1: +inf is not urgent"
    );
    assert_eq!(bank(10.0, 500.0, 1000.0), budget(0));
    let pay = |ttd: f64| {
        let f = fields(&[("ticks_to_deadline", ttd)]);
        c.eval_payment(&EvalContext {
            fields: &f,
            registers: &[],
            current_tick: 0,
        })
        .unwrap()
        .decision
    };
    let urgent = PaymentDecision::Release {
        priority_flag: None,
        timed_for_tick: None,
        rtgs_priority: Some(RtgsPriority::Urgent),
        with_credit: false,
    };
    assert_eq!(pay(3.0), urgent);
    assert_eq!(pay(4.0), PaymentDecision::RELEASE);
    let eot = |q: f64, excess: f64| {
        let f = fields(&[("outgoing_queue_size", q), ("excess_collateral", excess)]);
        c.eval_collateral(
            Tree::EndOfTickCollateral,
            &EvalContext {
                fields: &f,
                registers: &[],
                current_tick: 0,
            },
        )
        .unwrap()
        .decision
    };
    assert_eq!(
        eot(0.0, 1000.0),
        CollateralDecision::Withdraw {
            amount: 750,
            reason: "LiquidityRestored"
        }
    );
    assert_eq!(eot(1.0, 1000.0), CollateralDecision::Hold);
    assert_eq!(eot(0.0, 0.0), CollateralDecision::Hold);
    assert!(!c.has_tree(Tree::StrategicCollateral));
}
