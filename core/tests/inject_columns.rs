//! `Engine::inject_columns` (ENGINE.md §9.3): the columnar path of arrival-generator plugins.
//! It is the one validator of injected arrivals, so the row form (`inject_arrivals`) and the
//! columnar form must agree on every batch: same error (index, field, message) for a bad one,
//! same run for a good one.

mod common;

use common::{agent, all_events, config, engine, json_lines};
use paysim_core::engine::inject::InjectColumns;
use paysim_core::engine::InjectRecord;
use paysim_core::error::{EngineError, InjectError};
use proptest::prelude::*;

const NAMES: [&str; 4] = ["A", "B", "C", "Z"]; // Z is not an agent
const CLASSES: [&str; 4] = ["Normal", "Urgent", "HighlyUrgent", "Later"];

/// Owned columns in the dictionary form Python hands over: one name list per string column.
#[derive(Default)]
struct Columns {
    tick: Vec<i64>,
    names: Vec<String>,
    sender: Vec<i32>,
    receiver: Vec<i32>,
    amount: Vec<i64>,
    deadline: Vec<i64>,
    priority: Vec<i64>,
    priority_valid: Vec<u8>,
    divisible: Vec<u8>,
    divisible_valid: Vec<u8>,
    classes: Vec<String>,
    rtgs: Vec<i32>,
}

impl Columns {
    fn of(records: &[InjectRecord]) -> Self {
        let code = |list: &[&str], name: &str| {
            list.iter()
                .position(|n| *n == name)
                .map_or(-1, |i| i as i32)
        };
        let mut c = Columns {
            names: NAMES.iter().map(|s| s.to_string()).collect(),
            classes: CLASSES.iter().map(|s| s.to_string()).collect(),
            ..Columns::default()
        };
        for r in records {
            c.tick.push(r.tick);
            c.sender.push(code(&NAMES, &r.sender));
            c.receiver.push(code(&NAMES, &r.receiver));
            c.amount.push(r.amount);
            c.deadline.push(r.deadline_tick);
            c.priority.push(r.priority.unwrap_or(-7));
            c.priority_valid.push(u8::from(r.priority.is_some()));
            c.divisible.push(u8::from(r.divisible == Some(true)));
            c.divisible_valid.push(u8::from(r.divisible.is_some()));
            c.rtgs
                .push(r.rtgs_priority.as_deref().map_or(-1, |n| code(&CLASSES, n)));
        }
        c
    }

    fn view(&self) -> InjectColumns<'_> {
        InjectColumns {
            tick: &self.tick,
            sender_names: &self.names,
            sender: &self.sender,
            receiver_names: &self.names,
            receiver: &self.receiver,
            amount: &self.amount,
            deadline_tick: &self.deadline,
            priority: Some(&self.priority),
            priority_valid: Some(&self.priority_valid),
            divisible: Some(&self.divisible),
            divisible_valid: Some(&self.divisible_valid),
            rtgs_names: &self.classes,
            rtgs_priority: Some(&self.rtgs),
        }
    }
}

fn record(tick: i64, s: &str, r: &str, amount: i64, deadline: i64) -> InjectRecord {
    InjectRecord {
        tick,
        sender: s.into(),
        receiver: r.into(),
        amount,
        deadline_tick: deadline,
        priority: None,
        divisible: None,
        rtgs_priority: None,
    }
}

fn cfg() -> serde_json::Value {
    config(
        10,
        2,
        1,
        vec![agent("A", 5_000), agent("B", 1_000), agent("C", 0)],
    )
}

fn inject_error(result: Result<(), EngineError>) -> Option<(usize, &'static str, String)> {
    match result {
        Ok(()) => None,
        Err(EngineError::Inject(InjectError {
            index,
            field,
            message,
        })) => Some((index, field, message)),
        Err(other) => panic!("not an inject error: {other}"),
    }
}

#[test]
fn each_rule_names_the_row_and_field_in_both_forms() {
    let good = record(1, "A", "B", 100, 5);
    let cases: Vec<(InjectRecord, &str, &str)> = vec![
        (
            record(20, "A", "B", 1, 20),
            "tick",
            "expected 0 ≤ tick < 20, found 20",
        ),
        (
            record(-1, "A", "B", 1, 3),
            "tick",
            "expected 0 ≤ tick < 20, found -1",
        ),
        (record(1, "Z", "B", 1, 3), "sender", "unknown agent `Z`"),
        (record(1, "A", "Z", 1, 3), "receiver", "unknown agent `Z`"),
        (
            record(1, "A", "A", 1, 3),
            "receiver",
            "sender and receiver must differ",
        ),
        (
            record(1, "A", "B", 0, 3),
            "amount",
            "expected 1..10^15 cents, found 0",
        ),
        (
            record(1, "A", "B", 10_i64.pow(15) + 1, 3),
            "amount",
            "expected 1..10^15 cents, found 1000000000000001",
        ),
        (
            record(3, "A", "B", 1, 2),
            "deadline_tick",
            "the deadline is before the arrival tick",
        ),
        (
            InjectRecord {
                priority: Some(11),
                ..good.clone()
            },
            "priority",
            "expected 0..10, found 11",
        ),
        (
            InjectRecord {
                rtgs_priority: Some("Later".into()),
                ..good.clone()
            },
            "rtgs_priority",
            "expected HighlyUrgent, Urgent or Normal, found `Later`",
        ),
    ];
    for (bad, field, message) in cases {
        let batch = vec![good.clone(), good.clone(), bad];
        let mut by_rows = engine(&cfg());
        let mut by_columns = engine(&cfg());
        let expected = Some((2, field, message.to_string()));
        assert_eq!(inject_error(by_rows.inject_arrivals(&batch)), expected);
        let columns = Columns::of(&batch);
        assert_eq!(
            inject_error(by_columns.inject_columns(&columns.view())),
            expected
        );
        // Atomic: the good rows before the bad one were not queued.
        by_columns.run().expect("run");
        assert_eq!(by_columns.summary()["totals"]["arrivals"], 0);
    }
}

#[test]
fn absent_optional_columns_take_the_engine_defaults_and_missing_codes_are_errors() {
    let names: Vec<String> = vec!["B".into(), "A".into()];
    let view = InjectColumns {
        tick: &[0, 0],
        sender_names: &names,
        sender: &[1, 1],
        receiver_names: &names,
        receiver: &[0, 0],
        amount: &[10, 20],
        deadline_tick: &[5, 6],
        ..InjectColumns::default()
    };
    let mut e = engine(&cfg());
    e.inject_columns(&view).expect("inject");
    e.tick().expect("tick");
    let arrivals: Vec<String> = json_lines(&e, 0)
        .into_iter()
        .filter(|l| l.contains("\"event_type\":\"Arrival\""))
        .collect();
    assert_eq!(arrivals.len(), 2);
    assert!(arrivals.iter().all(|l| l.contains(
        "\"details\":{\"deadline_tick\":5,\"priority\":5,\"divisible\":false,\"rtgs_priority\":\"Normal\",\"source\":\"injected\"}"
    ) || l.contains("\"deadline_tick\":6,\"priority\":5,\"divisible\":false,\"rtgs_priority\":\"Normal\"")));
    let missing = InjectColumns {
        sender: &[1, -1],
        ..view
    };
    let mut e = engine(&cfg());
    assert_eq!(
        inject_error(e.inject_columns(&missing)),
        Some((1, "sender", "missing".to_string()))
    );
    let short = InjectColumns {
        amount: &[10],
        ..view
    };
    assert_eq!(
        inject_error(e.inject_columns(&short)).map(|(_, f, _)| f),
        Some("amount")
    );
}

fn any_record() -> impl Strategy<Value = InjectRecord> {
    (
        -1i64..22,
        0usize..4,
        0usize..4,
        -1i64..2_000,
        -2i64..12,
        proptest::option::of(-1i64..12),
        proptest::option::of(any::<bool>()),
        proptest::option::of(0usize..4),
    )
        .prop_map(
            |(tick, s, r, amount, offset, priority, divisible, rtgs)| InjectRecord {
                tick,
                sender: NAMES[s].into(),
                receiver: NAMES[r].into(),
                amount,
                deadline_tick: tick + offset,
                priority,
                divisible,
                rtgs_priority: rtgs.map(|i| CLASSES[i].to_string()),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any batch, valid or not: the row and columnar forms give the same error, or the same run.
    #[test]
    fn rows_and_columns_agree(batch in proptest::collection::vec(any_record(), 0..12)) {
        let mut by_rows = engine(&cfg());
        let mut by_columns = engine(&cfg());
        let columns = Columns::of(&batch);
        let a = inject_error(by_rows.inject_arrivals(&batch));
        let b = inject_error(by_columns.inject_columns(&columns.view()));
        prop_assert_eq!(&a, &b);
        if a.is_none() {
            by_rows.run().expect("run");
            by_columns.run().expect("run");
            let (ra, rb) = (all_events(&by_rows), all_events(&by_columns));
            prop_assert_eq!(format!("{ra:?}"), format!("{rb:?}"));
        }
    }
}
