//! Tests of the log as a whole: emission, decoding, retention, export.

use super::*;
use serde_json::Value as Json;

/// Agents with ids that need escaping; payments `tx_%08d`, children of
/// creation number ≥ 1000 rendered as `tx_00000001.<n - 999>`.
struct TestNames {
    agents: Vec<String>,
}

impl TestNames {
    fn new() -> Self {
        TestNames {
            agents: ["BANK_A", "BANK_\"B\"", "ü-bank\n", "D"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

impl Names for TestNames {
    fn tx_id(&self, creation_no: u64, out: &mut String) {
        if creation_no >= 1000 {
            write_root_tx_id(out, 1);
            out.push('.');
            write_u64(out, creation_no - 999);
        } else {
            write_root_tx_id(out, creation_no);
        }
    }

    fn agent_id(&self, index: u32) -> &str {
        self.agents.get(index as usize).map_or("?", |s| s.as_str())
    }
}

/// Deterministic xorshift for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn details_of(log: &EventLog, seq: u64) -> String {
    log.details_json(seq, &TestNames::new())
        .expect("retained")
        .expect("emitted")
}

/// One event to emit: tick, type, tx, agent, counterparty, amount, details.
type Case<'a> = (
    u32,
    EventType,
    Option<u64>,
    Option<u32>,
    Option<u32>,
    Option<i64>,
    Vec<(Key, Val<'a>)>,
);

#[test]
fn emit_and_get_round_trip_columns_and_details() {
    let mut log = EventLog::new();
    let path = ["N1_urgent", "N4_liquidity", "A7_hold"];
    let unique = format!("message {}", "z".repeat(100));
    let cases: Vec<Case<'_>> = vec![
        (
            0,
            EventType::SimulationStarted,
            None,
            None,
            None,
            None,
            vec![
                (Key::ConfigHash, Val::Str("ab12")),
                (Key::EngineVersion, Val::Str("0.1.0")),
                (Key::Seed, Val::U64(u64::MAX)),
                (Key::TicksPerDay, Val::U64(100)),
            ],
        ),
        (
            0,
            EventType::AgentOpened,
            None,
            Some(0),
            None,
            Some(i64::MIN),
            vec![
                (Key::CollateralHaircut, Val::F64(0.02)),
                (Key::UnsecuredCap, Val::I64(i64::MAX)),
            ],
        ),
        (
            3,
            EventType::Arrival,
            Some(1),
            Some(1),
            Some(2),
            Some(0),
            vec![
                (Key::DeadlineTick, Val::I64(40)),
                (Key::Priority, Val::I64(5)),
                (Key::Divisible, Val::Bool(false)),
                (Key::RtgsPriority, Val::Str("Normal")),
                (Key::Source, Val::Str("generated")),
            ],
        ),
        (
            3,
            EventType::PolicyHold,
            None,
            Some(3),
            None,
            None,
            vec![
                (Key::Reason, Val::Str("ctl\u{1}\"q\"\\ ünï")),
                (Key::Message, Val::Str(&unique)),
                (Key::DecisionPath, Val::StrList(&path)),
            ],
        ),
        (
            4,
            EventType::PolicySplit,
            Some(1),
            Some(1),
            None,
            Some(-5),
            vec![
                (Key::ChildIds, Val::TxList(&[1000, 1001, 1002])),
                (Key::ChildAmounts, Val::I64List(&[-1, 0, i64::MAX])),
                (Key::DueTicks, Val::I64List(&[])),
                (Key::FrictionCost, Val::Null),
            ],
        ),
        (
            5,
            EventType::LsmCycleSettlement,
            None,
            Some(0),
            None,
            Some(300),
            vec![
                (Key::Agents, Val::AgentList(&[0, 1, 2])),
                (Key::EdgeAmounts, Val::F64List(&[f64::NAN, -0.0, 1e21])),
                (Key::TxIds, Val::TxList(&[7, 3, 9])),
                (Key::NetPayer, Val::Agent(2)),
                (Key::QueuedTxId, Val::Tx(9)),
                (Key::DecisionPath, Val::StrList(&[])),
            ],
        ),
        (
            u32::MAX - 1,
            EventType::EndOfDay,
            None,
            None,
            None,
            None,
            vec![],
        ),
    ];
    for (i, (tick, ty, tx, ag, cp, amt, det)) in cases.iter().enumerate() {
        assert_eq!(log.emit(*tick, *ty, *tx, *ag, *cp, *amt, det), i as u64);
    }
    assert_eq!(log.len(), cases.len());
    assert_eq!(log.next_seq(), cases.len() as u64);
    for (i, (tick, ty, tx, ag, cp, amt, det)) in cases.iter().enumerate() {
        let v = log.get(i as u64).expect("event");
        assert_eq!(v.seq, i as u64);
        assert_eq!(
            (v.tick, v.ty, v.tx, v.agent, v.cp, v.amount),
            (*tick, *ty, *tx, *ag, *cp, *amt)
        );
        assert_eq!(v.details.len(), det.len());
        for ((k1, got), (k2, want)) in v.details.iter().zip(det) {
            assert_eq!(k1, k2);
            match (got, want) {
                (OwnedVal::F64List(a), Val::F64List(b)) => {
                    let a: Vec<u64> = a.iter().map(|x| x.to_bits()).collect();
                    let b: Vec<u64> = b.iter().map(|x| x.to_bits()).collect();
                    assert_eq!(a, b);
                }
                _ => assert_eq!(*got, want.to_owned_val()),
            }
        }
        assert_eq!(log.row(i as u64), Ok(Some(v.row())));
    }
    let arrival = log.get(2).expect("arrival");
    assert_eq!(arrival.detail(Key::Priority), Some(&OwnedVal::I64(5)));
    assert_eq!(
        arrival.detail(Key::Source).and_then(OwnedVal::as_str),
        Some("generated")
    );
    assert_eq!(arrival.detail(Key::Seed), None);
    assert_eq!(log.get(cases.len() as u64), None);
    assert_eq!(log.try_get(cases.len() as u64), Ok(None));
}

#[test]
fn details_json_literals() {
    let names = TestNames::new();
    let mut log = EventLog::new();
    log.emit(0, EventType::EndOfDay, None, None, None, None, &[]);
    log.emit(
        1,
        EventType::Arrival,
        Some(42),
        Some(0),
        Some(1),
        Some(100),
        &[
            (Key::DeadlineTick, Val::I64(40)),
            (Key::Priority, Val::I64(5)),
            (Key::Divisible, Val::Bool(true)),
            (Key::RtgsPriority, Val::Str("Normal")),
            (Key::Source, Val::Str("generated")),
        ],
    );
    log.emit(
        2,
        EventType::PolicySplit,
        Some(1),
        Some(0),
        None,
        Some(10),
        &[
            (Key::NumSplits, Val::U64(3)),
            (Key::ChildIds, Val::TxList(&[1000, 1001, 1002])),
            (Key::ChildAmounts, Val::I64List(&[3, 3, 4])),
            (Key::DueTicks, Val::I64List(&[])),
            (Key::FrictionCost, Val::I64(-2000)),
            (Key::DecisionPath, Val::StrList(&["N1", "A\t2"])),
        ],
    );
    log.emit(
        3,
        EventType::LsmCycleSettlement,
        None,
        Some(0),
        None,
        Some(300),
        &[
            (Key::Agents, Val::AgentList(&[0, 1, 2])),
            (
                Key::NetPositions,
                Val::F64List(&[0.1, f64::INFINITY, -0.0, 1e-7]),
            ),
            (Key::NetPayer, Val::Agent(1)),
            (Key::Message, Val::Null),
            (Key::Fraction, Val::F64(f64::NAN)),
        ],
    );
    let want = [
        "{}",
        r#"{"deadline_tick":40,"priority":5,"divisible":true,"rtgs_priority":"Normal","source":"generated"}"#,
        r#"{"num_splits":3,"child_ids":["tx_00000001.1","tx_00000001.2","tx_00000001.3"],"child_amounts":[3,3,4],"due_ticks":[],"friction_cost":-2000,"decision_path":["N1","A\u00092"]}"#,
        r#"{"agents":["BANK_A","BANK_\"B\"","ü-bank\u000a"],"net_positions":[0.1,null,-0.0,1e-7],"net_payer":"BANK_\"B\"","message":null,"fraction":null}"#,
    ];
    for (seq, want) in want.iter().enumerate() {
        let got = details_of(&log, seq as u64);
        assert_eq!(got, *want);
        let parsed: Json = serde_json::from_str(&got).expect("valid JSON");
        assert!(parsed.is_object());
    }
    let line = event_json_line(&log.get(1).expect("event"), 100, &names);
    assert_eq!(
        line,
        r#"{"seq":1,"tick":1,"day":0,"event_type":"Arrival","tx_id":"tx_00000042","agent_id":"BANK_A","counterparty_id":"BANK_\"B\"","amount":100,"details":{"deadline_tick":40,"priority":5,"divisible":true,"rtgs_priority":"Normal","source":"generated"}}"#
    );
    let line = event_json_line(&log.get(0).expect("event"), 1, &names);
    assert_eq!(
        line,
        r#"{"seq":0,"tick":0,"day":0,"event_type":"EndOfDay","tx_id":null,"agent_id":null,"counterparty_id":null,"amount":null,"details":{}}"#
    );
}

/// Emits a random mix of every value kind and checks that every export row
/// is valid JSON, equals the JSON Lines rendering of the decoded view, and
/// that the decoded details parse to the same values.
#[test]
fn random_details_render_consistently() {
    let names = TestNames::new();
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut log = EventLog::new();
    let words = [
        "Normal",
        "ünï",
        "a\"b",
        "\u{0}\u{7}",
        "",
        "long-long-long-long-long-long-long-long-long-long-x",
    ];
    for i in 0..20_000u32 {
        let mut det: Vec<(Key, Val<'_>)> = Vec::new();
        let n = rng.below(6);
        let ints = [rng.next() as i64, -(rng.below(100) as i64), 7];
        let floats = [f64::from_bits(rng.next()), rng.below(1000) as f64 / 7.0];
        for _ in 0..n {
            let key = Key::ALL[rng.below(Key::ALL.len() as u64) as usize];
            let v = match rng.below(13) {
                0 => Val::I64(rng.next() as i64 >> rng.below(64)),
                1 => Val::U64(rng.next() >> rng.below(64)),
                2 => Val::F64(f64::from_bits(rng.next())),
                3 => Val::Bool(rng.below(2) == 0),
                4 => Val::Str(words[rng.below(words.len() as u64) as usize]),
                5 => Val::Null,
                6 => Val::Tx(rng.below(2000)),
                7 => Val::Agent(rng.below(4) as u32),
                8 => Val::I64List(&ints),
                9 => Val::F64List(&floats),
                10 => Val::StrList(&words),
                11 => Val::TxList(&[999, 1000, 5]),
                _ => Val::AgentList(&[3, 0]),
            };
            det.push((key, v));
        }
        let amount = (rng.below(3) > 0).then(|| rng.next() as i64);
        let ty = EventType::ALL[rng.below(EventType::ALL.len() as u64) as usize];
        log.emit(
            i / 10,
            ty,
            Some(u64::from(i) + 1),
            Some(i % 4),
            None,
            amount,
            &det,
        );
    }
    let batch = log.export(0, None, 7, &names).expect("export");
    assert_eq!(batch.len, 20_000);
    for (i, view) in log.iter_from(0).expect("retained").enumerate() {
        let details = batch.details.value(i).expect("details");
        let parsed: Json =
            serde_json::from_str(details).unwrap_or_else(|e| panic!("{details}: {e}"));
        let obj = parsed.as_object().expect("object");
        // Duplicate keys collapse in the parsed object; count distinct keys.
        let mut keys: Vec<&str> = view.details.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(obj.len(), keys.len());
        let line = event_json_line(&view, 7, &names);
        let line_json: Json = serde_json::from_str(&line).expect("valid line");
        assert!(line.ends_with(&format!("\"details\":{details}}}")));
        assert_eq!(line_json["seq"], Json::from(i as u64));
        assert_eq!(line_json["day"], Json::from(view.tick / 7));
        assert_eq!(batch.amount.value(i), view.amount);
        assert_eq!(line_json["amount"].as_i64(), view.amount);
        assert_eq!(
            batch.tx_id.value(i).map(str::to_owned),
            line_json["tx_id"].as_str().map(str::to_owned)
        );
    }
}

#[test]
fn retention_and_seq_continuity() {
    let names = TestNames::new();
    let mut log = EventLog::new();
    let total = 3 * CHUNK_ROWS as u64 + 17;
    for i in 0..total {
        let s = log.emit(
            (i / 100) as u32,
            EventType::CostAccrual,
            None,
            Some(1),
            None,
            Some(i as i64),
            &[(Key::Delay, Val::I64(i as i64))],
        );
        assert_eq!(s, i);
    }
    let held_before = log.bytes_held();
    let cut = 2 * CHUNK_ROWS as u64 + 5;
    log.release_before(cut);
    assert_eq!(log.oldest_retained(), cut);
    assert_eq!(log.len() as u64, total - cut);
    assert!(log.bytes_held() < held_before, "two whole chunks freed");
    let released = EventsReleased {
        oldest_retained: cut,
    };
    assert_eq!(log.get(cut - 1), None);
    assert_eq!(log.try_get(cut - 1), Err(released.clone()));
    assert_eq!(log.row(0), Err(released.clone()));
    assert!(matches!(log.iter_from(cut - 1), Err(e) if e == released));
    assert!(matches!(log.rows_from(3), Err(e) if e == released));
    assert_eq!(log.export(cut - 1, None, 10, &names), Err(released.clone()));
    assert_eq!(log.details_json(0, &names), Err(released.clone()));
    assert_eq!(
        released.to_string(),
        format!("events before seq {cut} have been released")
    );
    let err: &dyn std::error::Error = &released;
    assert!(!err.to_string().is_empty());

    // Everything from the cut on is intact and gap-free.
    let seqs: Vec<u64> = log
        .iter_from(cut)
        .expect("retained")
        .map(|v| v.seq)
        .collect();
    assert_eq!(seqs, (cut..total).collect::<Vec<_>>());
    let rows: Vec<u64> = log
        .rows_from(cut)
        .expect("retained")
        .map(|r| r.amount.unwrap_or(-1) as u64)
        .collect();
    assert_eq!(rows, (cut..total).collect::<Vec<_>>());
    assert_eq!(
        log.get(cut)
            .and_then(|v| v.detail(Key::Delay).and_then(OwnedVal::as_i64)),
        Some(cut as i64)
    );
    let from_mid = log.export(cut, Some(3), 100, &names).expect("retained");
    assert_eq!(
        from_mid.seq.values,
        vec![cut as i64, cut as i64 + 1, cut as i64 + 2]
    );
    assert_eq!(
        from_mid.amount.values,
        vec![cut as i64, cut as i64 + 1, cut as i64 + 2]
    );

    // Releasing backwards is a no-op; releasing past the end clamps.
    log.release_before(1);
    assert_eq!(log.oldest_retained(), cut);
    let s = log.emit(999, EventType::EndOfDay, None, None, None, None, &[]);
    assert_eq!(s, total);
    log.release_before(u64::MAX);
    assert_eq!(log.oldest_retained(), total + 1);
    assert!(log.is_empty());
    assert_eq!(log.len(), 0);
    assert_eq!(log.iter_from(total + 1).expect("empty ok").count(), 0);
    let empty = log
        .export(total + 1, None, 10, &names)
        .expect("empty batch");
    assert_eq!(empty.len, 0);
    assert_eq!(empty.details.offsets, vec![0]);

    // Seqs continue after releasing everything.
    assert_eq!(
        log.emit(1000, EventType::EndOfDay, None, None, None, None, &[]),
        total + 1
    );
    assert_eq!(log.get(total + 1).map(|v| v.tick), Some(1000));
    assert_eq!(
        log.iter_from(0).err(),
        Some(EventsReleased {
            oldest_retained: total + 1
        })
    );
}

#[test]
fn start_seq_for_restored_engines() {
    let mut log = EventLog::with_start_seq(500);
    assert_eq!(log.oldest_retained(), 500);
    assert!(log.is_empty());
    assert_eq!(
        log.emit(
            7,
            EventType::Arrival,
            Some(3),
            Some(0),
            Some(1),
            Some(9),
            &[]
        ),
        500
    );
    assert_eq!(log.get(500).map(|v| v.seq), Some(500));
    assert_eq!(
        log.try_get(499),
        Err(EventsReleased {
            oldest_retained: 500
        })
    );
    let batch = log.export(500, None, 5, &TestNames::new()).expect("export");
    assert_eq!(batch.seq.values, vec![500]);
    assert_eq!(batch.day.values, vec![1]);
}

#[test]
fn export_layout_is_arrow() {
    let names = TestNames::new();
    let mut log = EventLog::new();
    let mut rng = Rng(99);
    let n = CHUNK_ROWS + 1001;
    for i in 0..n {
        let tx = (rng.below(3) == 0).then(|| rng.below(1500) + 1);
        let ag = (rng.below(4) != 0).then(|| rng.below(4) as u32);
        let cp = (rng.below(2) == 0).then(|| rng.below(4) as u32);
        let amt = (rng.below(5) != 0).then(|| rng.next() as i64);
        log.emit(
            (i / 3) as u32,
            EventType::ALL[i % EventType::ALL.len()],
            tx,
            ag,
            cp,
            amt,
            &[(Key::Pass, Val::Str("queue"))],
        );
    }
    let from = 10u64;
    let max = n - 20;
    let b = log.export(from, Some(max), 100, &names).expect("export");
    assert_eq!(b.len, max);

    fn check_i64(c: &I64Column, len: usize, nullable: bool) {
        assert_eq!(c.values.len(), len);
        match &c.validity {
            None => assert_eq!(c.null_count, 0),
            Some(bits) => {
                assert!(nullable);
                assert_eq!(bits.len(), len.div_ceil(8));
                let nulls = (0..len)
                    .filter(|&i| bits[i / 8] >> (i % 8) & 1 == 0)
                    .count();
                assert_eq!(nulls, c.null_count);
                assert!(nulls > 0);
                // Unused trailing bits are zero.
                if !len.is_multiple_of(8) {
                    assert_eq!(bits[len / 8] >> (len % 8), 0);
                }
            }
        }
    }
    fn check_utf8(c: &Utf8Column, len: usize, nullable: bool) {
        assert_eq!(c.offsets.len(), len + 1);
        assert_eq!(c.offsets[0], 0);
        assert!(c.offsets.windows(2).all(|w| w[0] <= w[1]), "monotone");
        assert_eq!(*c.offsets.last().expect("offsets") as usize, c.data.len());
        assert!(std::str::from_utf8(&c.data).is_ok());
        match &c.validity {
            None => assert_eq!(c.null_count, 0),
            Some(bits) => {
                assert!(nullable);
                assert_eq!(bits.len(), len.div_ceil(8));
                let mut nulls = 0;
                for i in 0..len {
                    if bits[i / 8] >> (i % 8) & 1 == 0 {
                        nulls += 1;
                        assert_eq!(c.offsets[i], c.offsets[i + 1], "null slot is empty");
                    }
                }
                assert_eq!(nulls, c.null_count);
                assert!(nulls > 0);
            }
        }
    }
    check_i64(&b.seq, max, false);
    check_i64(&b.tick, max, false);
    check_i64(&b.day, max, false);
    check_i64(&b.amount, max, true);
    check_utf8(&b.event_type, max, false);
    check_utf8(&b.tx_id, max, true);
    check_utf8(&b.agent_id, max, true);
    check_utf8(&b.counterparty_id, max, true);
    check_utf8(&b.details, max, false);
    assert!(b.seq.validity.is_none() && b.tick.validity.is_none() && b.day.validity.is_none());
    assert!(b.event_type.validity.is_none() && b.details.validity.is_none());

    let mut tx = String::new();
    for i in 0..max {
        let seq = from + i as u64;
        let v = log.get(seq).expect("event");
        assert_eq!(b.seq.values[i], seq as i64);
        assert_eq!(b.tick.values[i], i64::from(v.tick));
        assert_eq!(b.day.values[i], i64::from(v.tick / 100));
        assert_eq!(b.event_type.value(i), Some(v.ty.as_str()));
        tx.clear();
        let want_tx = v.tx.map(|t| {
            names.tx_id(t, &mut tx);
            tx.as_str()
        });
        assert_eq!(b.tx_id.value(i), want_tx);
        assert_eq!(b.agent_id.value(i), v.agent.map(|a| names.agent_id(a)));
        assert_eq!(b.counterparty_id.value(i), v.cp.map(|a| names.agent_id(a)));
        assert_eq!(b.amount.value(i), v.amount);
        if v.amount.is_none() {
            assert_eq!(b.amount.values[i], 0);
        }
        assert_eq!(b.details.value(i), Some(r#"{"pass":"queue"}"#));
    }

    // Paging with max_rows reproduces the one-shot export.
    let all = log.export(0, None, 100, &names).expect("export");
    let mut next = 0u64;
    let mut paged_details = Vec::new();
    while next < log.next_seq() {
        let page = log.export(next, Some(777), 100, &names).expect("page");
        assert!(page.len > 0);
        for i in 0..page.len {
            paged_details.push(page.details.value(i).expect("details").to_owned());
        }
        next += page.len as u64;
    }
    let whole: Vec<String> = (0..all.len)
        .map(|i| all.details.value(i).expect("d").to_owned())
        .collect();
    assert_eq!(paged_details, whole);
    assert_eq!(log.export(0, Some(0), 100, &names).expect("zero").len, 0);
    // Determinism: the same emissions give an identical batch.
    assert_eq!(log.export(0, None, 100, &names).expect("export"), all);
}

/// The coded export holds, row for row, the numbers the text export renders:
/// catalogue codes, payment keys and agent indices; every other column is
/// identical, with the same paging.
#[test]
fn coded_export_matches_text_export() {
    let names = TestNames::new();
    let mut log = EventLog::with_start_seq(5);
    let mut rng = Rng(4242);
    let n = 2 * CHUNK_ROWS + 333;
    for i in 0..n {
        let tx = (rng.below(3) != 0).then(|| rng.below(2500) + 1);
        let ag = (rng.below(4) != 0).then(|| rng.below(4) as u32);
        let cp = (rng.below(2) == 0).then(|| rng.below(4) as u32);
        let amt = (rng.below(5) != 0).then(|| rng.next() as i64);
        let child = [rng.below(2000)];
        log.emit(
            (i / 7) as u32,
            EventType::ALL[rng.below(EventType::ALL.len() as u64) as usize],
            tx,
            ag,
            cp,
            amt,
            &[
                (Key::Pass, Val::Str("lsm")),
                (Key::ChildIds, Val::TxList(&child)),
            ],
        );
    }
    let text = log.export(5, None, 60, &names).expect("export");
    let coded = log.export_coded(5, None, 60, &names).expect("export");
    assert_eq!(coded.len, n);
    assert_eq!(coded.seq, text.seq);
    assert_eq!(coded.tick, text.tick);
    assert_eq!(coded.day, text.day);
    assert_eq!(coded.amount, text.amount);
    assert_eq!(coded.details, text.details);
    assert_eq!(coded.event_type.len(), n);
    let mut id = String::new();
    for i in 0..n {
        let ty = EventType::from_code(coded.event_type[i]).expect("code");
        assert_eq!(Some(ty.as_str()), text.event_type.value(i));
        id.clear();
        let rendered = coded.tx_key.value(i).map(|k| {
            names.tx_id(k, &mut id);
            id.as_str()
        });
        assert_eq!(rendered, text.tx_id.value(i));
        let agent = |c: &I32Column| c.value(i).map(|a| names.agent_id(a as u32).to_owned());
        assert_eq!(agent(&coded.agent_index).as_deref(), text.agent_id.value(i));
        assert_eq!(
            agent(&coded.counterparty_index).as_deref(),
            text.counterparty_id.value(i)
        );
    }
    for c in [&coded.agent_index, &coded.counterparty_index] {
        let bits = c.validity.as_ref().expect("some nulls");
        assert_eq!(bits.len(), n.div_ceil(8));
        assert!(c.null_count > 0);
    }
    assert!(coded.tx_key.null_count > 0);
    // Paging gives the same rows; asking below the retained range is refused.
    let mut next = 5u64;
    let mut keys = Vec::new();
    while next < log.next_seq() {
        let page = log
            .export_coded(next, Some(1000), 60, &names)
            .expect("page");
        assert!(page.len > 0 && page.len <= 1000);
        keys.extend((0..page.len).map(|i| page.tx_key.value(i)));
        next += page.len as u64;
    }
    assert_eq!(
        keys,
        (0..n).map(|i| coded.tx_key.value(i)).collect::<Vec<_>>()
    );
    log.release_before(100);
    assert_eq!(
        log.export_coded(99, None, 60, &names),
        Err(EventsReleased {
            oldest_retained: 100
        })
    );
    assert_eq!(
        log.export_coded(log.next_seq(), None, 60, &names)
            .map(|b| b.len),
        Ok(0)
    );
}

/// Puts the integers of a stored row back at the marks of its template.
fn rebuild(template: &str, n: &[Option<i64>]) -> String {
    let mut out = String::new();
    let mut values = n.iter();
    for c in template.chars() {
        if c == Slots::MARK {
            let v = values.next().copied().flatten().expect("a value per mark");
            write_i64(&mut out, v);
        } else {
            out.push(c);
        }
    }
    assert!(
        values.all(Option::is_none),
        "values beyond the marks must be null"
    );
    out
}

/// The stored export is the text export in another form: each row's details
/// are its shape's template with the row's integers put back, its event type
/// is the shape's, its agents are renumbered through the store's positions,
/// and one `DetailShapes` numbers templates consistently across pages.
#[test]
fn stored_export_rebuilds_the_text_export() {
    let names = TestNames::new();
    let mut log = EventLog::with_start_seq(3);
    let mut rng = Rng(97);
    let n = 2 * CHUNK_ROWS + 71;
    let ints = [0i64, 1, -1, 7, 42, i64::MIN, i64::MAX, 1_000_000_000_000];
    for i in 0..n {
        let pick = |rng: &mut Rng| ints[rng.below(ints.len() as u64) as usize];
        let (a, b, c, d) = (
            pick(&mut rng),
            pick(&mut rng),
            pick(&mut rng),
            pick(&mut rng),
        );
        let big = [u64::MAX, 5, 0][rng.below(3) as usize];
        let list = [a, b];
        let strs = ["x\u{0}y", "plain"];
        let ty = EventType::ALL[rng.below(EventType::ALL.len() as u64) as usize];
        let details: Vec<(Key, Val<'_>)> = match rng.below(5) {
            0 => vec![],
            1 => vec![
                (Key::DeadlineTick, Val::U64(big)),
                (Key::Priority, Val::I64(a)),
            ],
            2 => vec![
                (Key::Overdraft, Val::I64(a)),
                (Key::Delay, Val::I64(b)),
                (Key::Collateral, Val::I64(c)),
                (Key::Liquidity, Val::I64(d)),
                (Key::DeadlinePenalty, Val::I64(a)),
            ],
            3 => vec![
                (Key::ChildAmounts, Val::I64List(&list)),
                (Key::DecisionPath, Val::StrList(&strs)),
                (Key::FrictionCost, Val::I64(b)),
                (Key::Reason, Val::Str(strs[0])),
            ],
            _ => vec![
                (Key::CollateralHaircut, Val::F64(0.02)),
                (Key::Divisible, Val::Bool(a > 0)),
                (Key::Source, Val::Null),
                (Key::QueuedTxId, Val::Tx(rng.below(1500) + 1)),
                (Key::NetPayer, Val::Agent(rng.below(4) as u32)),
                (Key::SenderBalanceAfter, Val::I64(c)),
            ],
        };
        let tx = (rng.below(3) != 0).then(|| rng.below(2500) + 1);
        let ag = (rng.below(4) != 0).then(|| rng.below(4) as u32);
        let cp = (rng.below(2) == 0).then(|| rng.below(4) as u32);
        let amt = (rng.below(5) != 0).then(|| rng.next() as i64);
        log.emit((i / 9) as u32, ty, tx, ag, cp, amt, &details);
    }
    let text = log.export(3, None, 60, &names).expect("export");
    // The store numbers the agents in its own order: here reversed.
    let positions = vec![3, 2, 1, 0];
    let mut shapes = DetailShapes::new(positions.clone());
    let mut pages = Vec::new();
    let mut next = 3u64;
    while next < log.next_seq() {
        let page = log
            .export_stored(next, Some(5000), 60, &names, &mut shapes)
            .expect("page");
        assert!(page.len > 0);
        next += page.len as u64;
        pages.push(page);
    }
    let new = shapes.take_new();
    assert_eq!(new.len(), shapes.len());
    assert!(
        shapes.take_new().is_empty(),
        "each shape is handed out once"
    );
    let mut row = 0usize;
    for page in &pages {
        for i in 0..page.len {
            let shape = page.shape.value(i).expect("shape");
            let (number, code, template) = &new[usize::try_from(shape).expect("shape")];
            assert_eq!(*number, shape);
            let ty = EventType::from_code(*code).expect("code");
            assert_eq!(Some(ty.as_str()), text.event_type.value(row));
            let n = [page.n[0].value(i), page.n[1].value(i), page.n[2].value(i)];
            assert_eq!(
                rebuild(template, &n),
                text.details.value(row).expect("details"),
                "row {row}"
            );
            assert_eq!(page.seq.value(i), text.seq.value(row));
            assert_eq!(page.tick.value(i), text.tick.value(row));
            assert_eq!(page.day.value(i), text.day.value(row));
            assert_eq!(page.amount.value(i), text.amount.value(row));
            let agent = |c: &I32Column| {
                c.value(i).map(|p| {
                    let index = positions.iter().position(|&q| q == p).expect("position");
                    names.agent_id(index as u32).to_owned()
                })
            };
            assert_eq!(
                agent(&page.agent_index).as_deref(),
                text.agent_id.value(row)
            );
            assert_eq!(
                agent(&page.counterparty_index).as_deref(),
                text.counterparty_id.value(row)
            );
            let mut id = String::new();
            let rendered = page.tx_key.value(i).map(|k| {
                names.tx_id(k, &mut id);
                id.clone()
            });
            assert_eq!(rendered.as_deref(), text.tx_id.value(row));
            row += 1;
        }
    }
    assert_eq!(row, n);
    // Interning by hand gives the numbers the export gave.
    let (number, code, template) = new.last().expect("a shape");
    assert_eq!(shapes.intern(*code, template), Some(*number));
    assert_eq!(shapes.intern(200, "{}"), None);

    // Events of one kind that differ only in their non-zero integers share a
    // shape; a zero stays in the text.
    let mut log = EventLog::new();
    for i in 1..=1000i64 {
        let p = if i == 500 { 0 } else { i % 9 + 1 };
        let details = [
            (Key::DeadlineTick, Val::U64(i as u64 * 3)),
            (Key::Priority, Val::I64(p)),
            (Key::Source, Val::Str("generated")),
        ];
        log.emit(
            0,
            EventType::Arrival,
            Some(i as u64),
            Some(0),
            Some(1),
            Some(i),
            &details,
        );
    }
    let mut shapes = DetailShapes::new(vec![0, 1]);
    let batch = log
        .export_stored(0, None, 60, &names, &mut shapes)
        .expect("export");
    let new = shapes.take_new();
    let templates: Vec<&str> = new.iter().map(|(_, _, t)| t.as_str()).collect();
    assert_eq!(
        templates,
        [
            "{\"deadline_tick\":\u{0},\"priority\":\u{0},\"source\":\"generated\"}",
            "{\"deadline_tick\":\u{0},\"priority\":0,\"source\":\"generated\"}",
        ]
    );
    assert_eq!(batch.shape.value(499), Some(1));
    assert_eq!(batch.n[1].value(499), None);
    assert_eq!(
        (batch.n[0].value(9), batch.n[1].value(9)),
        (Some(30), Some(2))
    );
}

#[test]
fn no_nulls_means_no_bitmap() {
    let mut log = EventLog::new();
    for i in 0..10 {
        log.emit(
            0,
            EventType::Arrival,
            Some(i + 1),
            Some(0),
            Some(1),
            Some(5),
            &[],
        );
    }
    let b = log.export(0, None, 10, &TestNames::new()).expect("export");
    for c in [&b.tx_id, &b.agent_id, &b.counterparty_id] {
        assert_eq!(c.validity, None);
        assert_eq!(c.null_count, 0);
    }
    assert_eq!(b.amount.validity, None);
}

#[test]
fn many_distinct_strings_round_trip() {
    let mut log = EventLog::new();
    let n = 20_000usize;
    let msgs: Vec<String> = (0..n).map(|i| format!("msg-{i}")).collect();
    for (i, m) in msgs.iter().enumerate() {
        log.emit(
            0,
            EventType::PolicyWarning,
            None,
            Some(0),
            None,
            None,
            &[
                (Key::Message, Val::Str(m)),
                (Key::Code, Val::Str("Clamped")),
            ],
        );
        assert_eq!(
            log.get(i as u64)
                .and_then(|v| v.detail(Key::Message).cloned()),
            Some(OwnedVal::Str(m.clone()))
        );
    }
    assert!(log.interned_strings() <= 16_384);
    for (i, m) in msgs.iter().enumerate().step_by(997) {
        assert_eq!(
            details_of(&log, i as u64),
            format!(r#"{{"message":"{m}","code":"Clamped"}}"#)
        );
    }
}

/// The ≤ 64 bytes per event target (ENGINE.md §14) on a realistic mix:
/// per tick, 100 arrivals (5 details), 100 immediate settlements (2) and
/// 100 cost accruals (8), 100,000 events in all.
#[test]
fn bytes_per_event_target() {
    let mut log = EventLog::new();
    let mut rng = Rng(0xfeed_beef);
    let mut next_tx = 1u64;
    let n = 100_000usize;
    let mut i = 0usize;
    let mut tick = 0u32;
    while i < n {
        for slot in 0..300 {
            if i == n {
                break;
            }
            let a = rng.below(100) as u32;
            let b = (a + 1 + rng.below(99) as u32) % 100;
            let amount = 10f64.powf(3.0 + (rng.below(4000) as f64) / 1000.0) as i64;
            match slot / 100 {
                0 => {
                    log.emit(
                        tick,
                        EventType::Arrival,
                        Some(next_tx),
                        Some(a),
                        Some(b),
                        Some(amount),
                        &[
                            (
                                Key::DeadlineTick,
                                Val::I64(i64::from(tick) + 10 + rng.below(90) as i64),
                            ),
                            (Key::Priority, Val::I64(rng.below(11) as i64)),
                            (Key::Divisible, Val::Bool(rng.below(4) == 0)),
                            (
                                Key::RtgsPriority,
                                Val::Str(if rng.below(10) == 0 {
                                    "Urgent"
                                } else {
                                    "Normal"
                                }),
                            ),
                            (Key::Source, Val::Str("generated")),
                        ],
                    );
                    next_tx += 1;
                }
                1 => {
                    let tx = next_tx.saturating_sub(1 + rng.below(100));
                    log.emit(
                        tick,
                        EventType::RtgsImmediateSettlement,
                        Some(tx),
                        Some(a),
                        Some(b),
                        Some(amount),
                        &[
                            (
                                Key::SenderBalanceAfter,
                                Val::I64(rng.below(2_000_000_000) as i64 - 500_000_000),
                            ),
                            (Key::Deferred, Val::Bool(false)),
                        ],
                    );
                }
                _ => {
                    let delay = rng.below(5000) as i64;
                    let overdraft = if rng.below(3) == 0 {
                        rng.below(100_000) as i64
                    } else {
                        0
                    };
                    let deadline = if rng.below(50) == 0 { 50_000 } else { 0 };
                    log.emit(
                        tick,
                        EventType::CostAccrual,
                        None,
                        Some(slot as u32 - 200),
                        None,
                        Some(delay + overdraft + deadline),
                        &[
                            (Key::Overdraft, Val::I64(overdraft)),
                            (Key::Delay, Val::I64(delay)),
                            (Key::Collateral, Val::I64(0)),
                            (Key::Liquidity, Val::I64(0)),
                            (Key::DeadlinePenalty, Val::I64(deadline)),
                            (Key::EodPenalty, Val::I64(0)),
                            (Key::DropPenalty, Val::I64(0)),
                            (Key::SplitFriction, Val::I64(0)),
                        ],
                    );
                }
            }
            i += 1;
        }
        tick += 1;
    }
    assert_eq!(log.len(), n);
    let amortised = log.bytes_held() as f64 / n as f64;
    log.shrink_to_fit();
    let exact = log.bytes_held() as f64 / n as f64;
    println!("bytes per event: {amortised:.2} held with amortised growth, {exact:.2} after shrink_to_fit");
    assert!(amortised <= 64.0, "{amortised}");
    assert!(exact <= 64.0, "{exact}");
    // The data survives shrinking.
    assert_eq!(log.get(0).map(|v| v.details.len()), Some(5));
}

#[test]
fn log_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<EventLog>();
    check::<EventBatch>();
    check::<CodedEventBatch>();
    check::<EventsReleased>();
    let log = EventLog::with_start_seq(3);
    assert!(format!("{log:?}").contains("next_seq: 3"));
    assert_eq!(EventBatch::COLUMN_NAMES.len(), 9);
}

/// A run that drains and releases its events every "tick" holds a bounded
/// amount of memory, reuses its chunks, and exports correctly from the middle
/// of a partly released chunk.
#[test]
fn steady_state_drain_is_bounded() {
    let names = TestNames::new();
    let mut log = EventLog::new();
    let mut peak = 0usize;
    let mut exported = 0u64;
    for tick in 0..400u32 {
        for k in 0..1000u64 {
            log.emit(
                tick,
                EventType::Queue2LiquidityRelease,
                Some(k + 1),
                Some(0),
                Some(1),
                Some(k as i64),
                &[
                    (Key::QueueWaitTicks, Val::I64(3)),
                    (Key::Pass, Val::Str("lsm_retry")),
                    (Key::Deferred, Val::Bool(true)),
                ],
            );
        }
        let batch = log.export(exported, None, 50, &names).expect("retained");
        assert_eq!(batch.len, 1000);
        assert_eq!(batch.seq.values.first().copied(), Some(exported as i64));
        assert_eq!(
            batch.details.value(999),
            Some(r#"{"queue_wait_ticks":3,"pass":"lsm_retry","deferred":true}"#)
        );
        exported += batch.len as u64;
        log.release_before(exported);
        assert!(log.is_empty());
        if tick >= 10 {
            peak = peak.max(log.bytes_held());
        }
    }
    assert_eq!(log.next_seq(), 400_000);
    // Active chunk + one sealed chunk + the spare, at most.
    assert!(peak <= 4 * CHUNK_ROWS * 48, "{peak}");
}
