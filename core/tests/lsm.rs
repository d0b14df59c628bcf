//! The liquidity-saving mechanism (ENGINE.md §7): the canonical gridlock cases of §7.4 as a
//! table, entry-disposition offsetting (§7.5), iteration and algorithm sequencing (§7.3), the
//! per-tick cycle cap, the skip of passes whose outcome cannot change (§14), and the property
//! tests of I10 (safety: I1–I4 and Invariant A after every group; maximality by brute force;
//! the LSM never settles less than the same tick without it).

mod common;
mod lsm_support;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use paysim_core::config::LsmAlgorithm;
use paysim_core::engine::decisions::{Decider, PaymentAction, PaymentInfo};
use paysim_core::engine::InjectRecord;
use paysim_core::events::{EventType, EventView, Key, OwnedVal};
use paysim_core::Engine;
use proptest::prelude::*;
use serde_json::{json, Value};

const NAMES: [&str; 8] = ["A", "B", "C", "D", "E", "F", "G", "H"];

/// Agents `A, B, …` with the given balances, `unsecured_cap` 0, FIFO, LSM defaults.
fn gridlock_config(balances: &[i64]) -> Value {
    let agents = balances
        .iter()
        .enumerate()
        .map(|(i, b)| agent(NAMES[i], *b))
        .collect();
    config(10, 1, 1, agents)
}

/// Runs one tick after injecting `(sender index, receiver index, amount)` at tick 0.
fn run_tick0(cfg: &Value, payments: &[(usize, usize, i64)]) -> Engine {
    let mut e = engine(cfg);
    let named: Vec<(&str, &str, i64)> = payments
        .iter()
        .map(|&(s, r, x)| (NAMES[s], NAMES[r], x))
        .collect();
    inject_at(&mut e, 0, 9, &named);
    e.tick().expect("tick");
    e
}

fn of_type(evs: &[EventView], ty: EventType) -> Vec<&EventView> {
    evs.iter().filter(|v| v.ty == ty).collect()
}

/// Keys of the payments with a settlement-class event, in event order.
fn settled_keys(evs: &[EventView]) -> Vec<u64> {
    evs.iter()
        .filter(|v| v.ty.is_settlement_class())
        .filter_map(|v| v.tx)
        .collect()
}

fn balances(e: &Engine) -> Vec<i64> {
    e.state().agents.iter().map(|a| a.balance).collect()
}

const LSM_EVENTS: [EventType; 5] = [
    EventType::EntryDispositionOffset,
    EventType::LsmBilateralOffset,
    EventType::LsmCycleSettlement,
    EventType::OffsetSettlement,
    EventType::AlgorithmExecution,
];

struct Case {
    name: &'static str,
    balances: &'static [i64],
    payments: &'static [(usize, usize, i64)],
    max_cycle_length: u32,
    /// Indexes (into `payments`) of the payments that settle.
    settled: &'static [usize],
    end: &'static [i64],
    bilateral: usize,
    cycles: usize,
}

const EQUAL_3: [(usize, usize, i64); 3] = [(0, 1, 100), (1, 2, 100), (2, 0, 100)];
const UNEQUAL_3: [(usize, usize, i64); 3] = [(0, 1, 100), (1, 2, 100), (2, 0, 60)];
const RING_4: [(usize, usize, i64); 4] = [(0, 1, 100), (1, 2, 100), (2, 3, 100), (3, 0, 100)];

const CASES: [Case; 11] = [
    Case {
        name: "equal pair",
        balances: &[0, 0],
        payments: &[(0, 1, 100), (1, 0, 100)],
        max_cycle_length: 4,
        settled: &[0, 1],
        end: &[0, 0],
        bilateral: 1,
        cycles: 0,
    },
    Case {
        name: "unequal pair, enough",
        balances: &[40, 0],
        payments: &[(0, 1, 100), (1, 0, 60)],
        max_cycle_length: 4,
        settled: &[0, 1],
        end: &[0, 40],
        bilateral: 1,
        cycles: 0,
    },
    Case {
        name: "unequal pair, short",
        balances: &[39, 0],
        payments: &[(0, 1, 100), (1, 0, 60)],
        max_cycle_length: 4,
        settled: &[],
        end: &[39, 0],
        bilateral: 0,
        cycles: 0,
    },
    Case {
        name: "equal 3-cycle",
        balances: &[0, 0, 0],
        payments: &EQUAL_3,
        max_cycle_length: 4,
        settled: &[0, 1, 2],
        end: &[0, 0, 0],
        bilateral: 0,
        cycles: 1,
    },
    Case {
        name: "reverse 3-cycle",
        balances: &[0, 0, 0],
        payments: &[(0, 2, 100), (2, 1, 100), (1, 0, 100)],
        max_cycle_length: 4,
        settled: &[0, 1, 2],
        end: &[0, 0, 0],
        bilateral: 0,
        cycles: 1,
    },
    Case {
        name: "unequal 3-cycle",
        balances: &[40, 0, 0],
        payments: &UNEQUAL_3,
        max_cycle_length: 4,
        settled: &[0, 1, 2],
        end: &[0, 0, 40],
        bilateral: 0,
        cycles: 1,
    },
    Case {
        name: "unequal 3-cycle, short",
        balances: &[39, 0, 0],
        payments: &UNEQUAL_3,
        max_cycle_length: 4,
        settled: &[],
        end: &[39, 0, 0],
        bilateral: 0,
        cycles: 0,
    },
    Case {
        name: "cycle + outside leg",
        balances: &[0, 0, 0, 0],
        payments: &[(0, 1, 100), (1, 2, 100), (2, 0, 100), (0, 3, 50)],
        max_cycle_length: 4,
        settled: &[0, 1, 2],
        end: &[0, 0, 0, 0],
        bilateral: 0,
        cycles: 1,
    },
    Case {
        name: "4-cycle, max_cycle_length 4",
        balances: &[0, 0, 0, 0],
        payments: &RING_4,
        max_cycle_length: 4,
        settled: &[0, 1, 2, 3],
        end: &[0, 0, 0, 0],
        bilateral: 0,
        cycles: 1,
    },
    Case {
        name: "4-cycle, max_cycle_length 3",
        balances: &[0, 0, 0, 0],
        payments: &RING_4,
        max_cycle_length: 3,
        settled: &[],
        end: &[0, 0, 0, 0],
        bilateral: 0,
        cycles: 0,
    },
    Case {
        name: "pair and cycle in one tick",
        balances: &[30, 0, 0, 0, 0],
        payments: &[(0, 1, 100), (1, 0, 70), (2, 3, 50), (3, 4, 50), (4, 2, 50)],
        max_cycle_length: 4,
        settled: &[0, 1, 2, 3, 4],
        end: &[0, 30, 0, 0, 0],
        bilateral: 1,
        cycles: 1,
    },
];

/// ENGINE.md §7.4, each case with deferred crediting off and on, and again with the LSM off
/// (then nothing settles, Q2 keeps every payment and no LSM event is emitted).
#[test]
fn canonical_gridlock_cases() {
    for case in &CASES {
        for deferred in [false, true] {
            for lsm_on in [true, false] {
                let what = format!("{} (deferred {deferred}, LSM {lsm_on})", case.name);
                let mut cfg = gridlock_config(case.balances);
                cfg["settlement"]["deferred_crediting"] = json!(deferred);
                cfg["lsm_config"]["max_cycle_length"] = json!(case.max_cycle_length);
                cfg["lsm_config"]["enable_bilateral"] = json!(lsm_on);
                cfg["lsm_config"]["enable_cycles"] = json!(lsm_on);
                let e = run_tick0(&cfg, case.payments);
                let evs = all_events(&e);
                let settled: &[usize] = if lsm_on { case.settled } else { &[] };
                let mut got = settled_keys(&evs);
                got.sort_unstable();
                let want: Vec<u64> = settled.iter().map(|&i| tx_key(i)).collect();
                assert_eq!(got, want, "{what}: settled payments");
                let end: &[i64] = if lsm_on { case.end } else { case.balances };
                assert_eq!(balances(&e), end, "{what}: end-of-tick balances");
                let queued: Vec<u64> = (0..case.payments.len())
                    .filter(|i| !settled.contains(i))
                    .map(tx_key)
                    .collect();
                let mut in_q2: Vec<u64> = e
                    .queue2()
                    .iter()
                    .filter_map(|id| paysim_core::state::key_of_tx_id(id))
                    .collect();
                in_q2.sort_unstable();
                assert_eq!(in_q2, queued, "{what}: Q2 after the tick");
                let count = |ty| of_type(&evs, ty).len();
                let (bil, cyc) = if lsm_on {
                    (case.bilateral, case.cycles)
                } else {
                    (0, 0)
                };
                assert_eq!(count(EventType::LsmBilateralOffset), bil, "{what}");
                assert_eq!(count(EventType::LsmCycleSettlement), cyc, "{what}");
                assert_eq!(count(EventType::OffsetSettlement), settled.len(), "{what}");
                if settled.is_empty() {
                    for ty in LSM_EVENTS {
                        assert_eq!(count(ty), 0, "{what}: no {ty} when nothing is feasible");
                    }
                }
                for v in of_type(&evs, EventType::OffsetSettlement) {
                    assert_eq!(
                        v.detail(Key::Deferred).and_then(|d| d.as_bool()),
                        Some(deferred)
                    );
                }
                assert_eq!(e.system_metrics().lsm_settled, settled.len() as u64);
            }
        }
    }
}

fn detail_i64s(v: &EventView, key: Key) -> Vec<i64> {
    match v.detail(key) {
        Some(OwnedVal::I64List(xs)) => xs.clone(),
        other => panic!("{key:?} is not an i64 list: {other:?}"),
    }
}

fn detail_txs(v: &EventView) -> Vec<u64> {
    match v.detail(Key::TxIds) {
        Some(OwnedVal::TxList(xs)) => xs.clone(),
        other => panic!("tx_ids is not a tx list: {other:?}"),
    }
}

/// The members of a group: their `OffsetSettlement` events point at the summary's seq, in
/// the order of the summary's `tx_ids`.
fn assert_group(evs: &[EventView], summary: &EventView, mechanism: &str, txs: &[u64]) {
    let members: Vec<&EventView> = evs
        .iter()
        .filter(|v| {
            v.ty == EventType::OffsetSettlement
                && v.detail(Key::GroupSeq).and_then(|g| g.as_u64()) == Some(summary.seq)
        })
        .collect();
    let keys: Vec<u64> = members.iter().filter_map(|v| v.tx).collect();
    assert_eq!(keys, txs, "members of group {}", summary.seq);
    for m in members {
        assert!(m.seq > summary.seq);
        assert_eq!(
            m.detail(Key::Mechanism)
                .and_then(|x| x.as_str().map(String::from)),
            Some(mechanism.to_string())
        );
    }
}

#[test]
fn bilateral_offset_event_details() {
    let e = run_tick0(&gridlock_config(&[40, 0]), &[(0, 1, 100), (1, 0, 60)]);
    let evs = all_events(&e);
    let summary = of_type(&evs, EventType::LsmBilateralOffset)[0];
    assert_eq!(
        (summary.agent, summary.cp, summary.amount),
        (Some(0), Some(1), Some(160))
    );
    assert_eq!(
        summary.detail(Key::AmountAb).and_then(|v| v.as_i64()),
        Some(100)
    );
    assert_eq!(
        summary.detail(Key::AmountBa).and_then(|v| v.as_i64()),
        Some(60)
    );
    assert_eq!(summary.detail(Key::NetPayer), Some(&OwnedVal::Agent(0)));
    assert_eq!(summary.detail(Key::Net).and_then(|v| v.as_i64()), Some(40));
    assert_eq!(detail_txs(summary), vec![tx_key(0), tx_key(1)]);
    assert_group(&evs, summary, "bilateral", &[tx_key(0), tx_key(1)]);
    // Equal sums: no net payer.
    let e = run_tick0(&gridlock_config(&[0, 0]), &[(1, 0, 100), (0, 1, 100)]);
    let evs = all_events(&e);
    let summary = of_type(&evs, EventType::LsmBilateralOffset)[0];
    assert_eq!(summary.detail(Key::NetPayer), Some(&OwnedVal::Null));
    // Direction a → b first (A's payment, created second, comes first).
    assert_group(&evs, summary, "bilateral", &[tx_key(1), tx_key(0)]);
}

/// Each direction in Q2 order, which under `priority_mode` is not creation order.
#[test]
fn bilateral_members_follow_q2_order() {
    let mut cfg = gridlock_config(&[0, 0]);
    cfg["settlement"]["priority_mode"] = json!(true);
    let mut e = engine(&cfg);
    let rec = |s: &str, r: &str, amount, rtgs: &str| InjectRecord {
        tick: 0,
        sender: s.into(),
        receiver: r.into(),
        amount,
        deadline_tick: 9,
        priority: None,
        divisible: None,
        rtgs_priority: Some(rtgs.into()),
    };
    e.inject_arrivals(&[
        rec("B", "A", 30, "Normal"),
        rec("B", "A", 70, "Urgent"),
        rec("A", "B", 100, "Normal"),
    ])
    .expect("inject");
    e.tick().expect("tick");
    let evs = all_events(&e);
    let summary = of_type(&evs, EventType::LsmBilateralOffset)[0];
    let order = [tx_key(2), tx_key(1), tx_key(0)];
    assert_eq!(detail_txs(summary), order);
    assert_group(&evs, summary, "bilateral", &order);
}

#[test]
fn cycle_settlement_event_details() {
    let e = run_tick0(&gridlock_config(&[40, 0, 0]), &UNEQUAL_3);
    let evs = all_events(&e);
    let summary = of_type(&evs, EventType::LsmCycleSettlement)[0];
    assert_eq!((summary.agent, summary.amount), (Some(0), Some(260)));
    assert_eq!(
        summary.detail(Key::Agents),
        Some(&OwnedVal::AgentList(vec![0, 1, 2]))
    );
    assert_eq!(detail_i64s(summary, Key::EdgeAmounts), vec![100, 100, 60]);
    assert_eq!(detail_i64s(summary, Key::NetPositions), vec![-40, 0, 40]);
    assert_group(&evs, summary, "cycle", &[tx_key(0), tx_key(1), tx_key(2)]);
    // The reverse orientation is rooted at A too: A→C, C→B, B→A.
    let e = run_tick0(
        &gridlock_config(&[0, 0, 0]),
        &[(1, 0, 100), (0, 2, 100), (2, 1, 100)],
    );
    let evs = all_events(&e);
    let summary = of_type(&evs, EventType::LsmCycleSettlement)[0];
    assert_eq!(
        summary.detail(Key::Agents),
        Some(&OwnedVal::AgentList(vec![0, 2, 1]))
    );
    assert_group(&evs, summary, "cycle", &[tx_key(1), tx_key(2), tx_key(0)]);
}

/// Deferred crediting on every path: an offset's net receiver gets a pending credit, which it
/// cannot spend before S13; without deferral the LSM's queue pass releases its payment.
#[test]
fn offset_credit_is_deferred_like_every_other() {
    for deferred in [false, true] {
        let mut cfg = gridlock_config(&[40, 0, 0]);
        cfg["settlement"]["deferred_crediting"] = json!(deferred);
        // A→B 100 and B→A 60 offset (B nets +40); B→C 40 then needs that 40.
        let e = run_tick0(&cfg, &[(0, 1, 100), (1, 0, 60), (1, 2, 40)]);
        let evs = all_events(&e);
        let released = of_type(&evs, EventType::Queue2LiquidityRelease);
        if deferred {
            assert!(released.is_empty());
            assert_eq!(balances(&e), vec![0, 40, 0]);
            let credits = of_type(&evs, EventType::DeferredCreditApplied);
            assert_eq!(credits.len(), 1);
            assert_eq!((credits[0].agent, credits[0].amount), (Some(1), Some(40)));
            assert_eq!(
                credits[0].detail(Key::SourceCount).and_then(|v| v.as_u64()),
                Some(1)
            );
        } else {
            assert_eq!(released.len(), 1);
            assert_eq!(released[0].tx, Some(tx_key(2)));
            assert_eq!(
                released[0]
                    .detail(Key::Pass)
                    .and_then(|v| v.as_str().map(String::from)),
                Some("lsm_retry".to_string())
            );
            assert_eq!(balances(&e), vec![0, 0, 40]);
        }
    }
}

/// With `max_cycles_per_tick` 1 the larger cycle settles first, the other on the next tick.
#[test]
fn cycles_per_tick_cap_and_value_order() {
    let mut cfg = gridlock_config(&[0; 6]);
    cfg["lsm_config"]["max_cycles_per_tick"] = json!(1);
    let mut e = engine(&cfg);
    inject_at(
        &mut e,
        0,
        9,
        &[
            ("A", "B", 100),
            ("B", "C", 100),
            ("C", "A", 100),
            ("D", "E", 200),
            ("E", "F", 200),
            ("F", "D", 200),
        ],
    );
    e.tick().expect("tick 0");
    e.tick().expect("tick 1");
    let evs = all_events(&e);
    let cycles = of_type(&evs, EventType::LsmCycleSettlement);
    assert_eq!(cycles.len(), 2);
    assert_eq!((cycles[0].tick, cycles[0].agent), (0, Some(3)));
    assert_eq!((cycles[1].tick, cycles[1].agent), (1, Some(0)));
}

/// An engine for entry offsetting: `B→A` payments queue at tick 0 (B has nothing), then the
/// incoming `A→B` arrives at tick 1. The LSM is off so that only S9 can offset.
fn entry_engine(balance_a: i64, queued: &[i64], incoming: i64, deferred: bool) -> Engine {
    let mut cfg = gridlock_config(&[balance_a, 0, 0]);
    cfg["settlement"]["entry_disposition_offsetting"] = json!(true);
    cfg["settlement"]["deferred_crediting"] = json!(deferred);
    cfg["lsm_config"]["enable_bilateral"] = json!(false);
    cfg["lsm_config"]["enable_cycles"] = json!(false);
    let mut e = engine(&cfg);
    let q: Vec<(&str, &str, i64)> = queued.iter().map(|&x| ("B", "A", x)).collect();
    inject_at(&mut e, 0, 9, &q);
    inject_at(&mut e, 1, 9, &[("A", "B", incoming)]);
    e.tick().expect("tick 0");
    assert_eq!(e.state().q2.len(), queued.len());
    e
}

#[test]
fn entry_offset_settles_the_incoming_payment_with_a_queued_one() {
    let mut e = entry_engine(40, &[60], 100, false);
    e.tick().expect("tick 1");
    let evs = all_events(&e);
    let offsets = of_type(&evs, EventType::EntryDispositionOffset);
    assert_eq!(offsets.len(), 1);
    let o = offsets[0];
    assert_eq!(
        (o.tx, o.agent, o.cp, o.amount),
        (Some(tx_key(1)), Some(0), Some(1), Some(160))
    );
    assert_eq!(o.detail(Key::QueuedTxId), Some(&OwnedVal::Tx(tx_key(0))));
    assert_eq!(
        o.detail(Key::IncomingAmount).and_then(|v| v.as_i64()),
        Some(100)
    );
    assert_eq!(
        o.detail(Key::QueuedAmount).and_then(|v| v.as_i64()),
        Some(60)
    );
    assert_eq!(o.detail(Key::NetPayer), Some(&OwnedVal::Agent(0)));
    assert_eq!(o.detail(Key::Net).and_then(|v| v.as_i64()), Some(40));
    assert_group(&evs, o, "entry", &[tx_key(1), tx_key(0)]);
    assert!(of_type(&evs, EventType::QueuedRtgs)
        .iter()
        .all(|v| v.tx != Some(tx_key(1))));
    assert_eq!(balances(&e), vec![0, 40, 0]);
    let m = e.system_metrics();
    assert_eq!((m.entry_offsets, m.lsm_settled, m.settled), (2, 2, 2));
}

#[test]
fn entry_offset_cases() {
    // (A's balance, queued B→A amounts in Q2 order, incoming A→B, settles with queued index)
    type EntryCase = (&'static str, i64, Vec<i64>, i64, Option<usize>);
    let mut sixty_four = vec![200; 64];
    sixty_four.push(100);
    let mut sixty_three = vec![200; 63];
    sixty_three.push(100);
    let cases: [EntryCase; 6] = [
        ("short by one", 39, vec![60], 100, None),
        (
            "first feasible in Q2 order",
            40,
            vec![200, 60, 80],
            100,
            Some(1),
        ),
        ("queued side is the net payer", 0, vec![150], 100, None),
        ("equal amounts, no liquidity", 0, vec![100], 100, Some(0)),
        ("the 65th is not examined", 0, sixty_four, 100, None),
        ("the 64th is", 0, sixty_three, 100, Some(63)),
    ];
    for (name, bal, queued, incoming, partner) in cases {
        let mut e = entry_engine(bal, &queued, incoming, false);
        e.tick().expect("tick 1");
        let evs = all_events(&e);
        let incoming_key = tx_key(queued.len());
        let offsets = of_type(&evs, EventType::EntryDispositionOffset);
        match partner {
            Some(i) => {
                assert_eq!(offsets.len(), 1, "{name}");
                assert_eq!(
                    offsets[0].detail(Key::QueuedTxId),
                    Some(&OwnedVal::Tx(tx_key(i))),
                    "{name}"
                );
                assert_group(&evs, offsets[0], "entry", &[incoming_key, tx_key(i)]);
            }
            None => {
                assert!(offsets.is_empty(), "{name}");
                let q = of_type(&evs, EventType::QueuedRtgs);
                assert_eq!(q.last().and_then(|v| v.tx), Some(incoming_key), "{name}");
                assert!(of_type(&evs, EventType::OffsetSettlement).is_empty());
            }
        }
    }
}

#[test]
fn entry_offsetting_off_or_refused_by_a_limit_queues() {
    let mut cfg = gridlock_config(&[1_000, 0]);
    cfg["agents"][0]["limits"]["bilateral_limits"] = json!({"B": 50});
    cfg["settlement"]["entry_disposition_offsetting"] = json!(true);
    cfg["lsm_config"]["enable_bilateral"] = json!(false);
    let mut e = engine(&cfg);
    inject_at(&mut e, 0, 9, &[("B", "A", 100)]);
    inject_at(&mut e, 1, 9, &[("A", "B", 100)]);
    e.run_until(2).expect("run");
    let evs = all_events(&e);
    assert!(of_type(&evs, EventType::EntryDispositionOffset).is_empty());
    assert_eq!(of_type(&evs, EventType::BilateralLimitExceeded).len(), 1);
    assert_eq!(e.state().q2.len(), 2);
    // Switched off: the same pair that would offset is queued.
    let mut cfg = gridlock_config(&[40, 0]);
    cfg["lsm_config"]["enable_bilateral"] = json!(false);
    let mut e = engine(&cfg);
    inject_at(&mut e, 0, 9, &[("B", "A", 60)]);
    inject_at(&mut e, 1, 9, &[("A", "B", 100)]);
    e.run_until(2).expect("run");
    assert!(of_type(&all_events(&e), EventType::OffsetSettlement).is_empty());
    assert_eq!(e.state().q2.len(), 2);
}

/// §6.2 for entry offsets: the net receiver's credit is pending until S13.
#[test]
fn entry_offset_under_deferred_crediting() {
    for deferred in [false, true] {
        let mut e = entry_engine(40, &[60], 100, deferred);
        // B→C 40 arrives with the offset; B can pay it only from the offset's net credit.
        inject_at(&mut e, 1, 9, &[("B", "C", 40)]);
        e.tick().expect("tick 1");
        let evs = all_events(&e);
        let c_paid = evs
            .iter()
            .any(|v| v.ty.is_settlement_class() && v.tx == Some(tx_key(2)));
        assert_eq!(c_paid, !deferred, "deferred {deferred}");
        let expected = if deferred { [0, 40, 0] } else { [0, 0, 40] };
        assert_eq!(balances(&e), expected, "deferred {deferred}");
    }
}

/// A scenario where every algorithm has work: A↔B offset (A nets −30, B +30), then B→F 30
/// becomes payable, and C→D→E→C is a cycle.
fn sequencing_engine(sequencing: bool, max_iterations: u32, lsm: bool) -> Engine {
    let mut cfg = gridlock_config(&[30, 0, 0, 0, 0, 0]);
    cfg["settlement"]["algorithm_sequencing"] = json!(sequencing);
    cfg["lsm_config"]["max_iterations"] = json!(max_iterations);
    cfg["lsm_config"]["enable_bilateral"] = json!(lsm);
    cfg["lsm_config"]["enable_cycles"] = json!(lsm);
    run_tick0(
        &cfg,
        &[
            (0, 1, 100),
            (1, 0, 70),
            (1, 5, 30),
            (2, 3, 100),
            (3, 4, 100),
            (4, 2, 100),
        ],
    )
}

fn executions(evs: &[EventView]) -> Vec<(String, u64, i64)> {
    of_type(evs, EventType::AlgorithmExecution)
        .iter()
        .map(|v| {
            (
                v.detail(Key::Algorithm)
                    .and_then(|a| a.as_str().map(String::from))
                    .unwrap_or_default(),
                v.detail(Key::SettledCount)
                    .and_then(|c| c.as_u64())
                    .unwrap_or(u64::MAX),
                v.detail(Key::SettledValue)
                    .and_then(|c| c.as_i64())
                    .unwrap_or(i64::MIN),
            )
        })
        .collect()
}

#[test]
fn algorithm_sequencing_order() {
    let ex = |a: &str, n: u64, v: i64| (a.to_string(), n, v);
    let e = sequencing_engine(true, 3, true);
    let evs = all_events(&e);
    assert_eq!(
        executions(&evs),
        vec![
            ex("queue", 0, 0),
            ex("bilateral", 2, 170),
            ex("queue", 1, 30),
            ex("bilateral", 0, 0),
            ex("cycles", 3, 300),
            ex("queue", 0, 0),
            ex("bilateral", 0, 0),
            ex("cycles", 0, 0),
        ]
    );
    // Each execution follows the events of its run.
    let types: Vec<EventType> = evs
        .iter()
        .map(|v| v.ty)
        .filter(|t| {
            matches!(
                t,
                EventType::AlgorithmExecution
                    | EventType::LsmBilateralOffset
                    | EventType::LsmCycleSettlement
                    | EventType::Queue2LiquidityRelease
            )
        })
        .collect();
    use EventType::{AlgorithmExecution as Ae, LsmBilateralOffset as Bo, LsmCycleSettlement as Cs};
    assert_eq!(
        types,
        vec![
            Ae,
            Bo,
            Ae,
            EventType::Queue2LiquidityRelease,
            Ae,
            Ae,
            Cs,
            Ae,
            Ae,
            Ae,
            Ae
        ]
    );
    assert_eq!(balances(&e), vec![0, 0, 0, 0, 0, 30]);
    // One restart allowed: the cycles run settles, and the sequence stops there.
    let e = sequencing_engine(true, 1, true);
    assert_eq!(
        executions(&all_events(&e)),
        vec![
            ex("queue", 0, 0),
            ex("bilateral", 2, 170),
            ex("queue", 1, 30),
            ex("bilateral", 0, 0),
            ex("cycles", 3, 300),
        ]
    );
    // LSM off: S10's pass still reports itself; no other algorithm runs.
    let e = sequencing_engine(true, 3, false);
    assert_eq!(executions(&all_events(&e)), vec![ex("queue", 0, 0)]);
    // Without sequencing nothing reports itself, and one default iteration does all the work.
    let e = sequencing_engine(false, 3, true);
    let evs = all_events(&e);
    assert!(executions(&evs).is_empty());
    assert_eq!(balances(&e), vec![0, 0, 0, 0, 0, 30]);
    assert_eq!(of_type(&evs, EventType::OffsetSettlement).len(), 5);
}

/// A gridlock that cannot resolve is skipped pass after pass (§14) until the liquidity of a Q2
/// sender changes; skipping never changes the events: an engine restored from a checkpoint
/// before every tick (so with no memo) emits exactly the same ones.
#[test]
fn unchanged_gridlock_is_skipped_without_changing_outcomes() {
    let mut cfg = gridlock_config(&[39, 0, 100]);
    cfg["scenario_events"] = json!([{"type": "DirectTransfer",
        "schedule": {"type": "OneTime", "tick": 6}, "from_agent": "C", "to_agent": "A",
        "amount": 1}]);
    let text = cfg.to_string();
    let mut steady = engine(&cfg);
    inject_at(&mut steady, 0, 9, &[("A", "B", 100), ("B", "A", 60)]);
    let mut fresh = Engine::restore(&text, &steady.checkpoint().expect("cp")).expect("restore");
    for t in 0..8 {
        let from = steady.events().next_seq();
        steady.tick().expect("tick");
        let bytes = fresh.checkpoint().expect("checkpoint");
        fresh = Engine::restore(&text, &bytes).expect("restore");
        fresh.tick().expect("tick");
        assert_eq!(
            json_lines(&steady, from),
            json_lines(&fresh, from),
            "tick {t}"
        );
    }
    let offsets = of_type(&all_events(&steady), EventType::LsmBilateralOffset)
        .iter()
        .map(|v| v.tick)
        .collect::<Vec<_>>();
    assert_eq!(offsets, vec![6], "settles once A's balance allows it");
    // Between ticks: S11 of the tick found nothing in this very state, so a pass is skipped;
    // once the memo is forgotten (switching the LSM again does that) the pass runs, settles
    // nothing, and the next one is skipped again.
    let mut e = engine(&gridlock_config(&[39, 0]));
    inject_at(&mut e, 0, 9, &[("A", "B", 100), ("B", "A", 60)]);
    e.tick().expect("tick");
    let after_tick = e.lsm_pass();
    assert!(after_tick.skipped && after_tick.quiescent);
    assert!(e.set_lsm_switches(true, true));
    let full = e.lsm_pass();
    assert!(!full.skipped && full.quiescent && full.settled == 0);
    assert!(e.lsm_pass().skipped);
}

// ---------------------------------------------------------------------------------------------
// Property tests (I10).

/// Invariant A after every settlement and every offset group, replayed from the events: funds
/// received under deferred crediting are pending (not spendable) until `DeferredCreditApplied`.
/// Starts from balances taken between ticks (when nothing is pending).
struct Replay {
    usable: Vec<i64>,
    pending: Vec<i64>,
    limits: Vec<i64>,
    deferred: bool,
    group: Option<(u64, Vec<i128>)>,
}

impl Replay {
    fn new(e: &Engine, deferred: bool) -> Replay {
        let st = e.state();
        Replay {
            usable: st.agents.iter().map(|a| a.balance).collect(),
            pending: st.agents.iter().map(|a| a.pending_credit).collect(),
            limits: st.agents.iter().map(|a| a.limit()).collect(),
            deferred,
            group: None,
        }
    }

    fn receive(&mut self, r: usize, x: i64) {
        if self.deferred {
            self.pending[r] += x;
        } else {
            self.usable[r] += x;
        }
    }

    fn check(&self, what: &str, seq: u64) -> Result<(), TestCaseError> {
        for (i, (b, l)) in self.usable.iter().zip(&self.limits).enumerate() {
            prop_assert!(*b >= -*l, "{what} (seq {seq}) left agent {i} at {b} < -{l}");
        }
        Ok(())
    }

    fn flush(&mut self, seq: u64) -> Result<(), TestCaseError> {
        if let Some((g, nets)) = self.group.take() {
            for (i, n) in nets.into_iter().enumerate() {
                let n = i64::try_from(n).expect("net fits");
                if n < 0 {
                    self.usable[i] += n;
                } else if n > 0 {
                    self.receive(i, n);
                }
            }
            self.check(&format!("offset group {g}"), seq)?;
        }
        Ok(())
    }

    fn apply(&mut self, evs: &[EventView]) -> Result<(), TestCaseError> {
        for v in evs {
            let (s, r, x) = (
                v.agent.unwrap_or(0) as usize,
                v.cp.unwrap_or(0) as usize,
                v.amount.unwrap_or(0),
            );
            match v.ty {
                EventType::OffsetSettlement => {
                    let g = v.detail(Key::GroupSeq).and_then(|g| g.as_u64());
                    let g = g.expect("group_seq");
                    if self.group.as_ref().map(|(cur, _)| *cur) != Some(g) {
                        self.flush(v.seq)?;
                        self.group = Some((g, vec![0; self.usable.len()]));
                    }
                    if let Some((_, nets)) = self.group.as_mut() {
                        nets[s] -= i128::from(x);
                        nets[r] += i128::from(x);
                    }
                }
                EventType::OverdueTransactionSettled | EventType::SplitParentSettled => {}
                EventType::RtgsImmediateSettlement | EventType::Queue2LiquidityRelease => {
                    self.flush(v.seq)?;
                    self.usable[s] -= x;
                    self.receive(r, x);
                    self.check("a gross settlement", v.seq)?;
                }
                EventType::DeferredCreditApplied => {
                    self.flush(v.seq)?;
                    self.usable[s] += x;
                    self.pending[s] -= x;
                }
                _ => self.flush(v.seq)?,
            }
        }
        self.flush(u64::MAX)
    }

    fn matches(&self, e: &Engine) -> Result<(), TestCaseError> {
        let st = e.state();
        let pending: Vec<i64> = st.agents.iter().map(|a| a.pending_credit).collect();
        prop_assert_eq!(&self.usable, &balances(e));
        prop_assert_eq!(&self.pending, &pending);
        Ok(())
    }
}

/// I1 (conservation, with pending credits), I2 (single settlement) and I4 (exclusive
/// membership; every Q2 aggregate and index equal to its recomputation from Q2).
fn check_state(
    e: &Engine,
    settled: &mut BTreeSet<u64>,
    evs: &[EventView],
) -> Result<(), TestCaseError> {
    let st = e.state();
    let held: i64 = st.agents.iter().map(|a| a.balance + a.pending_credit).sum();
    let opening: i64 = st.agents.iter().map(|a| a.opening_balance).sum();
    prop_assert_eq!(held, opening);
    for v in evs.iter().filter(|v| v.ty.is_settlement_class()) {
        prop_assert!(
            settled.insert(v.tx.unwrap_or(0)),
            "settled twice: {:?}",
            v.tx
        );
    }
    let mut pair: BTreeMap<(u32, u32), (i64, u32)> = BTreeMap::new();
    let mut by_pair = BTreeMap::new();
    let mut out = vec![(0u32, 0i64); st.agents.len()];
    let mut inc = vec![(0u32, 0i64); st.agents.len()];
    let mut seen = BTreeSet::new();
    for (key, slot) in &st.q2 {
        let p = st.payments.get(*slot).expect("a Q2 payment is live");
        prop_assert!(seen.insert(*slot));
        prop_assert!(!settled.contains(&p.key), "a settled payment is in Q2");
        prop_assert_eq!(p.location, paysim_core::state::Location::Q2);
        let e = pair.entry((p.sender, p.receiver)).or_default();
        e.0 += p.remaining;
        e.1 += 1;
        by_pair.insert((p.sender, p.receiver, *key), *slot);
        out[p.sender as usize].0 += 1;
        out[p.sender as usize].1 += p.remaining;
        inc[p.receiver as usize].0 += 1;
        inc[p.receiver as usize].1 += p.remaining;
    }
    for q in &st.q1 {
        for slot in q.values() {
            prop_assert!(seen.insert(*slot), "a payment in Q1 and Q2");
        }
    }
    prop_assert_eq!(&pair, &st.pair_q2);
    prop_assert_eq!(&by_pair, &st.q2_by_pair);
    for (i, a) in st.agents.iter().enumerate() {
        prop_assert_eq!((a.q2_count, a.q2_value), out[i]);
        prop_assert_eq!((a.incoming_q2_count, a.incoming_q2_value), inc[i]);
    }
    Ok(())
}

/// Whether settling `legs` together is feasible now (§7.1 step 3, §7.2 step 4), written
/// independently of the engine from the state's fields.
fn feasible(e: &Engine, legs: &[(u32, u32, i64)]) -> bool {
    let st = e.state();
    let mut nets = vec![0i128; st.agents.len()];
    for &(s, r, x) in legs {
        let a = &st.agents[s as usize];
        if let Some(limit) = a.bilateral_limits.get(&r) {
            if a.out_to.get(&r).copied().unwrap_or(0) + x > *limit {
                return false;
            }
        }
        if let Some(limit) = a.multilateral_limit {
            if a.out_total + x > limit {
                return false;
            }
        }
        nets[s as usize] -= i128::from(x);
        nets[r as usize] += i128::from(x);
    }
    nets.iter()
        .zip(&st.agents)
        .all(|(n, a)| *n >= 0 || -*n <= (i128::from(a.balance) + i128::from(a.limit())).max(0))
}

/// Maximality (I10) by brute force: no pair with Q2 payments both ways and no simple cycle
/// of 3..=max_len agents on Q2's edges is feasible.
fn check_maximal(
    e: &Engine,
    bilateral: bool,
    cycles: bool,
    max_len: usize,
) -> Result<(), TestCaseError> {
    let st = e.state();
    let sum = |a: u32, b: u32| st.pair_q2.get(&(a, b)).map(|x| x.0);
    let n = st.agents.len() as u32;
    if bilateral {
        for (&(a, b), &(s_ab, _)) in &st.pair_q2 {
            if let (true, Some(s_ba)) = (a < b, sum(b, a)) {
                prop_assert!(
                    !feasible(e, &[(a, b, s_ab), (b, a, s_ba)]),
                    "pair {a}-{b} left feasible"
                );
            }
        }
    }
    if !cycles {
        return Ok(());
    }
    // Every simple path from its smallest vertex, closed when an edge leads back.
    let mut stack: Vec<Vec<u32>> = (0..n).map(|s| vec![s]).collect();
    while let Some(path) = stack.pop() {
        let (s, last) = (path[0], path[path.len() - 1]);
        for w in 0..n {
            let Some(_) = sum(last, w) else { continue };
            if w == s && path.len() >= 3 {
                let legs: Vec<(u32, u32, i64)> = (0..path.len())
                    .map(|i| {
                        let (u, v) = (path[i], path[(i + 1) % path.len()]);
                        (u, v, sum(u, v).unwrap_or(0))
                    })
                    .collect();
                prop_assert!(!feasible(e, &legs), "cycle {path:?} left feasible");
            } else if w > s && !path.contains(&w) && path.len() < max_len {
                let mut next = path.clone();
                next.push(w);
                stack.push(next);
            }
        }
    }
    Ok(())
}

/// Maximality of the multilateral algorithms (docs/lsm.md §7): after a step that stopped
/// because nothing settled, all of Q2 is not feasible (`multilateral`), and the greatest
/// feasible queue-order-respecting selection is empty (`partial`; computed by the reference
/// fixpoint, which the brute-force test of `lsm_multilateral.rs` checks against every profile).
fn check_multilateral_maximal(
    e: &Engine,
    multilateral: bool,
    partial: bool,
) -> Result<(), TestCaseError> {
    let v = lsm_support::q2_view(e);
    if v.payments.is_empty() {
        return Ok(());
    }
    if multilateral {
        let all = vec![true; v.payments.len()];
        prop_assert!(
            !lsm_support::feasible(e, &v, &all),
            "all of Q2 left feasible"
        );
    }
    if partial {
        let x = lsm_support::naive_fixpoint(e, &v);
        prop_assert!(x.iter().all(|&k| k == 0), "feasible selection {x:?} left");
    }
    Ok(())
}

#[derive(Debug, Clone)]
struct Gridlock {
    cfg: Value,
    payments: Vec<(usize, usize, i64, u8)>,
    bilateral: bool,
    cycles: bool,
    /// An explicit `lsm_config.algorithms` (docs/lsm.md), or `None` for the switches alone.
    algorithms: Option<Vec<LsmAlgorithm>>,
    max_len: usize,
    deferred: bool,
}

impl Gridlock {
    /// Switches the engine's LSM to this case's settings.
    fn switch_on(&self, e: &mut Engine) -> bool {
        match &self.algorithms {
            Some(list) => e.set_lsm_algorithms(list),
            None => e.set_lsm_switches(self.bilateral, self.cycles),
        }
    }

    fn runs(&self, alg: LsmAlgorithm) -> bool {
        self.algorithms.as_ref().is_some_and(|l| l.contains(&alg))
    }
}

/// Small queues built at tick 0 with the LSM off, with every setting the LSM reads drawn at
/// random. Amounts on a coarse grid and small balances make offsets often just (in)feasible.
fn gridlock() -> impl Strategy<Value = Gridlock> {
    (
        3usize..=6,
        proptest::collection::vec((0i64..=3, 0i64..=2), 6),
        proptest::collection::vec((0usize..6, 0usize..5, 1i64..=5, 0u8..3), 1..36),
        (
            any::<bool>(),
            any::<bool>(),
            3usize..=5,
            1u32..=12,
            1u32..=4,
        ),
        (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        ),
        (
            any::<bool>(),
            proptest::sample::subsequence(LsmAlgorithm::ALL.to_vec(), 1..=4).prop_shuffle(),
        ),
    )
        .prop_map(|(n, money, pays, lsm, flags, (listed, list))| {
            let (bilateral, cycles, max_len, per_tick, iterations) = lsm;
            // A pass with the LSM off does nothing worth checking.
            let bilateral = bilateral || !cycles;
            let algorithms = listed.then_some(list);
            let (bilateral, cycles) = match &algorithms {
                Some(l) => (
                    l.contains(&LsmAlgorithm::Bilateral),
                    l.contains(&LsmAlgorithm::Cycles),
                ),
                None => (bilateral, cycles),
            };
            let (deferred, sequencing, priority_mode, limits, entry) = flags;
            let mut agents = Vec::new();
            for (i, (bal, cap)) in money.iter().take(n).enumerate() {
                let mut a = agent(NAMES[i], bal * 10);
                a["unsecured_cap"] = json!(cap * 10);
                if limits {
                    a["limits"]["bilateral_limits"] = json!({NAMES[(i + 1) % n]: 150});
                    a["limits"]["multilateral_limit"] = json!(300);
                }
                agents.push(a);
            }
            let mut cfg = config(10, 1, 1, agents);
            cfg["lsm_config"] = json!({"enable_bilateral": bilateral, "enable_cycles": cycles,
                "max_cycle_length": max_len, "max_cycles_per_tick": per_tick,
                "max_iterations": iterations});
            if let Some(list) = &algorithms {
                cfg["lsm_config"]["algorithms"] = json!(list);
            }
            let st = &mut cfg["settlement"];
            st["deferred_crediting"] = json!(deferred);
            st["algorithm_sequencing"] = json!(sequencing);
            st["priority_mode"] = json!(priority_mode);
            st["entry_disposition_offsetting"] = json!(entry);
            let payments = pays
                .into_iter()
                .map(|(s, r, x, p)| (s % n, (s % n + 1 + r % (n - 1)) % n, x * 20, p))
                .collect();
            Gridlock {
                cfg,
                payments,
                bilateral,
                cycles,
                algorithms,
                max_len,
                deferred,
            }
        })
}

/// A stateless churning policy: releases most payments, splits some, holds a few, and in Q2
/// resubmits or withdraws some, so that offsets meet pieces, overdue payments and a Q2 whose
/// order and content change between ticks. Decisions depend only on (seed, tick, payment).
struct Churn(u64);

impl Decider for Churn {
    fn payment(&mut self, tick: u32, p: &PaymentInfo) -> PaymentAction {
        let mut h = self.0 ^ u64::from(tick).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for b in p.tx_id.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
        }
        h ^= h >> 29;
        let release = PaymentAction::Release {
            priority_flag: None,
            timed_for_tick: None,
            rtgs_priority: None,
        };
        match (p.in_queue2, h % 10) {
            (true, 0) => PaymentAction::WithdrawFromRtgs,
            (true, 1) => PaymentAction::ResubmitToRtgs {
                rtgs_priority: paysim_core::config::RtgsPriority::from_rank((h >> 8) as u8 % 3),
            },
            (false, 0 | 1) if p.divisible => PaymentAction::Split {
                num_splits: 2 + (h >> 8) as u32 % 3,
            },
            (false, 2) => PaymentAction::Hold {
                reason: "churn".into(),
            },
            _ => release,
        }
    }
    fn uses_q2_actions(&self) -> bool {
        true
    }
}

#[derive(Debug, Clone)]
struct Run {
    cfg: Value,
    deferred: bool,
    seed: u64,
    at: u32,
}

/// Whole runs with random arrivals, LSM settings and churn.
fn run_strategy() -> impl Strategy<Value = Run> {
    (gridlock(), 0.2f64..1.2, any::<u64>(), 0u32..12).prop_map(|(g, rate, seed, at)| {
        let mut cfg = g.cfg;
        for a in cfg["agents"].as_array_mut().expect("agents") {
            let mut s = stream(rate, 50, 200);
            s["divisible"] = json!(true);
            a["arrival_config"] = s;
        }
        cfg["simulation"] = json!({"ticks_per_day": 6, "num_days": 2, "rng_seed": seed});
        Run {
            cfg,
            deferred: g.deferred,
            seed,
            at: at % 12,
        }
    })
}

fn churned(cfg_text: &str, bytes: Option<&[u8]>, seed: u64) -> Engine {
    let mut e = match bytes {
        Some(b) => Engine::restore(cfg_text, b).expect("restore"),
        None => Engine::new(cfg_text).expect("engine"),
    };
    for id in e.agent_ids().to_vec() {
        e.set_decider(&id, Box::new(Churn(seed))).expect("decider");
    }
    e
}

fn tick_settled(e: &Engine, from: u64) -> BTreeSet<u64> {
    e.events()
        .iter_from(from)
        .expect("retained")
        .filter(|v| v.ty.is_settlement_class())
        .filter_map(|v| v.tx)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, .. ProptestConfig::default() })]

    /// One LSM pass over a random Q2: I1, I2, I4 after it, Invariant A after every group,
    /// and, when it stopped because an iteration settled nothing (and no cap bound), no
    /// feasible pair or cycle left.
    #[test]
    fn lsm_pass_is_safe_and_maximal(g in gridlock()) {
        let mut e = engine(&g.cfg);
        prop_assert!(e.set_lsm_switches(false, false));
        let records: Vec<InjectRecord> = g.payments.iter().map(|&(s, r, x, p)| InjectRecord {
            tick: 0, sender: NAMES[s].into(), receiver: NAMES[r].into(), amount: x,
            deadline_tick: 9, priority: None, divisible: None,
            rtgs_priority: Some(["HighlyUrgent", "Urgent", "Normal"][p as usize].into()),
        }).collect();
        e.inject_arrivals(&records).expect("inject");
        e.tick().expect("tick");
        let mut settled = BTreeSet::new();
        check_state(&e, &mut settled, &all_events(&e))?;
        let mut replay = Replay::new(&e, g.deferred);
        let from = e.events().next_seq();
        prop_assert!(g.switch_on(&mut e));
        let rep = e.lsm_pass();
        let evs: Vec<EventView> = e.events().iter_from(from).expect("retained").collect();
        replay.apply(&evs)?;
        replay.matches(&e)?;
        check_state(&e, &mut settled, &evs)?;
        let offsets = evs.iter().filter(|v| v.ty == EventType::OffsetSettlement).count() as u64;
        prop_assert_eq!(rep.offset_settled, offsets);
        if rep.quiescent && !rep.search_truncated && !rep.cycle_cap_reached {
            check_maximal(&e, g.bilateral, g.cycles, g.max_len)?;
            check_multilateral_maximal(
                &e,
                g.runs(LsmAlgorithm::Multilateral),
                g.runs(LsmAlgorithm::Partial),
            )?;
        }
    }

}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    /// Whole runs: the invariants after every tick and Invariant A after every group; at one
    /// tick, the same state ticked with the LSM off settles a subset of what the LSM-on tick
    /// settles; and a restore at that tick continues with identical events.
    #[test]
    fn runs_with_the_lsm_keep_the_invariants(run in run_strategy()) {
        let text = run.cfg.to_string();
        let mut e = churned(&text, None, run.seed);
        let mut settled = BTreeSet::new();
        let mut compared = None;
        while !e.done() {
            if e.current_tick() == run.at {
                let bytes = e.checkpoint().expect("checkpoint");
                let mut off = churned(&text, Some(&bytes), run.seed);
                prop_assert!(off.set_lsm_switches(false, false));
                let from = off.events().next_seq();
                off.tick().expect("tick");
                compared = Some((from, tick_settled(&off, from), bytes));
            }
            let mut replay = Replay::new(&e, run.deferred);
            let from = e.events().next_seq();
            e.tick().expect("tick");
            let evs: Vec<EventView> = e.events().iter_from(from).expect("retained").collect();
            replay.apply(&evs)?;
            replay.matches(&e)?;
            prop_assert!(e.state().agents.iter().all(|a| a.pending_credit == 0));
            check_state(&e, &mut settled, &evs)?;
            if let Some((at, off_settled, _)) = compared.as_ref().filter(|c| c.0 == from) {
                let on_settled = tick_settled(&e, *at);
                prop_assert!(off_settled.is_subset(&on_settled),
                    "LSM off settled {:?}, LSM on {:?}", off_settled, on_settled);
            }
        }
        if let Some((from, _, bytes)) = compared {
            let mut again = churned(&text, Some(&bytes), run.seed);
            again.run().expect("run");
            prop_assert_eq!(json_lines(&again, from), json_lines(&e, from));
        }
    }
}
