//! Multilateral all-or-nothing and partial settlement, and the configurable algorithm list
//! (docs/lsm.md): the worked cases of §8 as a table (the issue's two cases among them, under
//! the new algorithms and under today's default), event details, limits and priority classes,
//! sequencing over a list, config errors, and the brute-force check of the partial
//! algorithm's objective (§4) on small random queues.

mod common;
mod lsm_support;

use common::*;
use lsm_support::{all_profiles, feasible, naive_fixpoint, q2_view, selection};
use paysim_core::config::LsmAlgorithm;
use paysim_core::engine::InjectRecord;
use paysim_core::events::{EventType, EventView, Key, OwnedVal};
use paysim_core::Engine;
use proptest::prelude::*;
use serde_json::{json, Value};

const NAMES: [&str; 6] = ["A", "B", "C", "D", "E", "F"];

/// Agents `A, B, …` with the given balances, no credit, FIFO; LSM as `algorithms` says
/// (`None`: the default config, without the key).
fn cfg_with(balances: &[i64], algorithms: Option<&[&str]>) -> Value {
    let agents = balances
        .iter()
        .enumerate()
        .map(|(i, b)| agent(NAMES[i], *b))
        .collect();
    let mut cfg = config(10, 1, 1, agents);
    if let Some(list) = algorithms {
        set_algorithms(&mut cfg, list);
    }
    cfg
}

/// Sets `lsm_config.algorithms` and the switches as its projections.
fn set_algorithms(cfg: &mut Value, list: &[&str]) {
    let lsm = &mut cfg["lsm_config"];
    lsm["algorithms"] = json!(list);
    lsm["enable_bilateral"] = json!(list.contains(&"bilateral"));
    lsm["enable_cycles"] = json!(list.contains(&"cycles"));
}

/// Injects `(sender, receiver, amount)` at tick 0 (released in this order, failing RTGS
/// entry, so this is their Q2 order) and runs tick 0.
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

fn balances(e: &Engine) -> Vec<i64> {
    e.state().agents.iter().map(|a| a.balance).collect()
}

fn str_detail(v: &EventView, key: Key) -> Option<String> {
    v.detail(key).and_then(|x| x.as_str().map(String::from))
}

/// One algorithm list and what it settles: payment indexes, end balances (`None`: unchanged).
type Outcome = (
    &'static [&'static str],
    &'static [usize],
    Option<&'static [i64]>,
);

struct Case {
    name: &'static str,
    balances: &'static [i64],
    payments: &'static [(usize, usize, i64)],
    /// Under the default config (no `algorithms` key).
    today: (&'static [usize], Option<&'static [i64]>),
    outcomes: &'static [Outcome],
}

const M: &[&str] = &["multilateral"];
const P: &[&str] = &["partial"];
const T2: &[&str] = &["multilateral", "partial"];
const ALL: &[&str] = &["bilateral", "cycles", "multilateral", "partial"];
const ISSUE_1: [(usize, usize, i64); 5] =
    [(0, 1, 100), (1, 2, 50), (1, 3, 50), (2, 0, 50), (3, 0, 50)];
const ISSUE_2: [(usize, usize, i64); 4] = [(0, 1, 100), (1, 2, 100), (2, 0, 100), (0, 1, 30)];

/// docs/lsm.md §8, computed by hand there.
const CASES: [Case; 8] = [
    Case {
        name: "issue case 1: covered net positions, not a simple cycle",
        balances: &[0, 0, 0, 0],
        payments: &ISSUE_1,
        today: (&[], None),
        outcomes: &[
            (M, &[0, 1, 2, 3, 4], Some(&[0, 0, 0, 0])),
            (P, &[0, 1, 2, 3, 4], Some(&[0, 0, 0, 0])),
            (T2, &[0, 1, 2, 3, 4], Some(&[0, 0, 0, 0])),
            (ALL, &[0, 1, 2, 3, 4], Some(&[0, 0, 0, 0])),
        ],
    },
    Case {
        name: "issue case 2: a cycle short by one payment on one edge",
        balances: &[0, 0, 0],
        payments: &ISSUE_2,
        today: (&[], None),
        outcomes: &[
            (M, &[], None),
            (P, &[0, 1, 2], Some(&[0, 0, 0])),
            (T2, &[0, 1, 2], Some(&[0, 0, 0])),
            (ALL, &[0, 1, 2], Some(&[0, 0, 0])),
        ],
    },
    Case {
        name: "the extra payment queued first",
        balances: &[0, 0, 0],
        payments: &[(0, 1, 30), (0, 1, 100), (1, 2, 100), (2, 0, 100)],
        today: (&[], None),
        outcomes: &[(M, &[], None), (P, &[], None), (ALL, &[], None)],
    },
    Case {
        name: "cascade of removals, then a settlement",
        balances: &[0, 0, 0],
        payments: &[
            (0, 1, 100),
            (1, 2, 100),
            (2, 0, 100),
            (0, 1, 30),
            (1, 2, 30),
        ],
        today: (&[], None),
        outcomes: &[
            (M, &[], None),
            (P, &[0, 1, 2], Some(&[0, 0, 0])),
            (ALL, &[0, 1, 2], Some(&[0, 0, 0])),
        ],
    },
    Case {
        name: "nothing feasible",
        balances: &[0, 0, 10],
        payments: &[(0, 1, 50), (1, 2, 50), (2, 0, 30), (2, 0, 40)],
        today: (&[], None),
        outcomes: &[(M, &[], None), (P, &[], None), (ALL, &[], None)],
    },
    Case {
        name: "partial with spare liquidity",
        balances: &[10, 0, 0],
        payments: &[(0, 1, 100), (1, 2, 100), (2, 0, 90), (1, 0, 5)],
        today: (&[0, 1, 2], Some(&[0, 0, 10])),
        outcomes: &[
            (M, &[], None),
            (P, &[0, 1, 2], Some(&[0, 0, 10])),
            (T2, &[0, 1, 2], Some(&[0, 0, 10])),
        ],
    },
    Case {
        name: "unequal pair, short",
        balances: &[39, 0],
        payments: &[(0, 1, 100), (1, 0, 60)],
        today: (&[], None),
        outcomes: &[(M, &[], None), (P, &[], None), (ALL, &[], None)],
    },
    Case {
        name: "unequal pair, enough",
        balances: &[40, 0],
        payments: &[(0, 1, 100), (1, 0, 60)],
        today: (&[0, 1], Some(&[0, 40])),
        outcomes: &[(M, &[0, 1], Some(&[0, 40])), (P, &[0, 1], Some(&[0, 40]))],
    },
];

fn check_outcome(
    case: &Case,
    list: Option<&[&str]>,
    settled: &[usize],
    end: Option<&[i64]>,
    deferred: bool,
) {
    let what = format!("{} with {list:?} (deferred {deferred})", case.name);
    let mut cfg = cfg_with(case.balances, list);
    cfg["settlement"]["deferred_crediting"] = json!(deferred);
    let e = run_tick0(&cfg, case.payments);
    let evs = all_events(&e);
    let mut got: Vec<u64> = evs
        .iter()
        .filter(|v| v.ty.is_settlement_class())
        .filter_map(|v| v.tx)
        .collect();
    got.sort_unstable();
    let want: Vec<u64> = settled.iter().map(|&i| tx_key(i)).collect();
    assert_eq!(got, want, "{what}: settled payments");
    assert_eq!(
        balances(&e),
        end.unwrap_or(case.balances),
        "{what}: end-of-tick balances"
    );
    let offsets = of_type(&evs, EventType::OffsetSettlement);
    assert_eq!(offsets.len(), settled.len(), "{what}: all by offsets");
    let groups = of_type(&evs, EventType::LsmMultilateralSettlement);
    let uses_new = list.is_some_and(|l| l.contains(&"multilateral") || l.contains(&"partial"));
    if !uses_new {
        assert!(
            groups.is_empty(),
            "{what}: no multilateral group by default"
        );
    }
    for g in &groups {
        let alg = str_detail(g, Key::Algorithm).expect("algorithm");
        assert!(
            list.is_some_and(|l| l.contains(&alg.as_str())),
            "{what}: {alg}"
        );
    }
    assert_eq!(e.system_metrics().lsm_settled, settled.len() as u64);
}

#[test]
fn worked_cases_of_the_spec() {
    for case in &CASES {
        for deferred in [false, true] {
            check_outcome(case, None, case.today.0, case.today.1, deferred);
            // Today's list, written out, behaves as the default.
            let today: &[&str] = &["bilateral", "cycles"];
            check_outcome(case, Some(today), case.today.0, case.today.1, deferred);
            for &(list, settled, end) in case.outcomes {
                check_outcome(case, Some(list), settled, end, deferred);
            }
        }
    }
}

/// Issue case 1 under `multilateral`: one group, its summary and members.
#[test]
fn multilateral_group_events() {
    let e = run_tick0(&cfg_with(&[0, 0, 0, 0], Some(M)), &ISSUE_1);
    let evs = all_events(&e);
    let groups = of_type(&evs, EventType::LsmMultilateralSettlement);
    assert_eq!(groups.len(), 1);
    let g = groups[0];
    assert_eq!((g.agent, g.cp, g.amount), (None, None, Some(300)));
    assert_eq!(
        str_detail(g, Key::Algorithm).as_deref(),
        Some("multilateral")
    );
    assert_eq!(
        g.detail(Key::SettledCount).and_then(|v| v.as_u64()),
        Some(5)
    );
    assert_eq!(
        g.detail(Key::RemovedCount).and_then(|v| v.as_u64()),
        Some(0)
    );
    assert_eq!(
        g.detail(Key::Agents),
        Some(&OwnedVal::AgentList(vec![0, 1, 2, 3]))
    );
    assert_eq!(
        g.detail(Key::NetPositions),
        Some(&OwnedVal::I64List(vec![0, 0, 0, 0]))
    );
    let members: Vec<&EventView> = of_type(&evs, EventType::OffsetSettlement);
    let keys: Vec<u64> = members.iter().filter_map(|v| v.tx).collect();
    assert_eq!(keys, (0..5).map(tx_key).collect::<Vec<_>>(), "Q2 order");
    for m in members {
        assert!(m.seq > g.seq);
        assert_eq!(
            m.detail(Key::GroupSeq).and_then(|v| v.as_u64()),
            Some(g.seq)
        );
        assert_eq!(
            str_detail(m, Key::Mechanism).as_deref(),
            Some("multilateral")
        );
    }
    assert!(e.queue2().is_empty());
    assert_eq!(reconstruct(&evs, 4), balances(&e));
}

/// Issue case 2 under `partial`: the removed payment stays queued; non-zero net positions.
#[test]
fn partial_group_events_and_the_payment_left_queued() {
    let mut cfg = cfg_with(&[10, 0, 0], Some(P));
    cfg["settlement"]["deferred_crediting"] = json!(true);
    let e = run_tick0(&cfg, &[(0, 1, 100), (1, 2, 100), (2, 0, 90), (1, 0, 5)]);
    let evs = all_events(&e);
    let g = of_type(&evs, EventType::LsmMultilateralSettlement)[0];
    assert_eq!(g.amount, Some(290));
    assert_eq!(str_detail(g, Key::Algorithm).as_deref(), Some("partial"));
    assert_eq!(
        g.detail(Key::SettledCount).and_then(|v| v.as_u64()),
        Some(3)
    );
    assert_eq!(
        g.detail(Key::RemovedCount).and_then(|v| v.as_u64()),
        Some(1)
    );
    assert_eq!(
        g.detail(Key::NetPositions),
        Some(&OwnedVal::I64List(vec![-10, 0, 10]))
    );
    for m in of_type(&evs, EventType::OffsetSettlement) {
        assert_eq!(str_detail(m, Key::Mechanism).as_deref(), Some("partial"));
        assert_eq!(
            m.detail(Key::Deferred).and_then(|v| v.as_bool()),
            Some(true)
        );
    }
    // C's net +10 was a pending credit until S13: one source.
    let credits = of_type(&evs, EventType::DeferredCreditApplied);
    assert_eq!(credits.len(), 1);
    assert_eq!((credits[0].agent, credits[0].amount), (Some(2), Some(10)));
    assert_eq!(
        credits[0].detail(Key::SourceCount).and_then(|v| v.as_u64()),
        Some(1)
    );
    assert_eq!(e.queue2(), vec!["tx_00000004".to_string()]);
    assert_eq!(balances(&e), vec![0, 0, 10]);
}

/// Limits bind a bank's gross outflow in the group: a bank over a limit drops its last
/// payments until it passes, and the group settles without them. A (40) could cover its net
/// −30 over all five payments, but not pay its 50 gross.
#[test]
fn partial_respects_bilateral_and_multilateral_limits() {
    let pays = [
        (0, 1, 100),
        (1, 2, 100),
        (2, 0, 100),
        (0, 1, 50),
        (1, 0, 20),
    ];
    for (limits, settled, end) in [
        // A may send B 100 today: A drops its 50, which leaves B at −20: B drops its 20.
        (
            json!({"bilateral_limits": {"B": 100}, "multilateral_limit": null}),
            3usize,
            [40, 0, 0],
        ),
        // A may send 120 in all: the same.
        (
            json!({"bilateral_limits": {}, "multilateral_limit": 120}),
            3,
            [40, 0, 0],
        ),
        // Room for everything: A pays its net 30.
        (
            json!({"bilateral_limits": {"B": 150}, "multilateral_limit": 150}),
            5,
            [10, 30, 0],
        ),
    ] {
        let mut cfg = cfg_with(&[40, 0, 0], Some(P));
        cfg["agents"][0]["limits"] = limits.clone();
        let e = run_tick0(&cfg, &pays);
        let evs = all_events(&e);
        let n = of_type(&evs, EventType::OffsetSettlement).len();
        assert_eq!(n, settled, "limits {limits}");
        assert_eq!(balances(&e), end, "limits {limits}");
        let a = &e.state().agents[0];
        assert!(a.multilateral_limit.is_none_or(|l| a.out_total <= l));
        assert!(a.out_to.get(&1).is_none_or(|x| *x <= 150));
    }
    // Today's LSM settles none of it (the pair nets A −130, the cycle A −50).
    let e = run_tick0(&cfg_with(&[40, 0, 0], None), &pays);
    assert_eq!(e.queue2().len(), 5);
}

/// Under `priority_mode` a bank's queue is in RTGS priority order, so its Normal payment is
/// dropped before an Urgent one queued later.
#[test]
fn partial_drops_the_lowest_class_first() {
    let mut cfg = cfg_with(&[0, 0, 0], Some(P));
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
        rec("A", "B", 30, "Normal"),
        rec("A", "B", 100, "Urgent"),
        rec("B", "C", 100, "Normal"),
        rec("C", "A", 100, "Normal"),
    ])
    .expect("inject");
    e.tick().expect("tick");
    // Without priority_mode this is "the extra payment queued first": nothing settles.
    let evs = all_events(&e);
    let keys: Vec<u64> = of_type(&evs, EventType::OffsetSettlement)
        .iter()
        .filter_map(|v| v.tx)
        .collect();
    assert_eq!(keys, vec![tx_key(1), tx_key(2), tx_key(3)], "Q2 order");
    assert_eq!(e.queue2(), vec!["tx_00000001".to_string()]);
}

fn executions(evs: &[EventView]) -> Vec<(String, u64)> {
    of_type(evs, EventType::AlgorithmExecution)
        .iter()
        .map(|v| {
            (
                str_detail(v, Key::Algorithm).unwrap_or_default(),
                v.detail(Key::SettledCount)
                    .and_then(|c| c.as_u64())
                    .unwrap_or(u64::MAX),
            )
        })
        .collect()
}

/// Sequencing runs the list in order and restarts from a queue pass after a success; without
/// sequencing no run reports itself.
#[test]
fn sequencing_over_a_list() {
    let ex = |a: &str, n: u64| (a.to_string(), n);
    // Issue case 2: multilateral fails (A's net −30), partial settles the cycle, the queue
    // pass finds nothing, and a second sweep settles nothing.
    let mut cfg = cfg_with(&[0, 0, 0], Some(&["multilateral", "partial", "bilateral"]));
    cfg["settlement"]["algorithm_sequencing"] = json!(true);
    let e = run_tick0(&cfg, &ISSUE_2);
    assert_eq!(
        executions(&all_events(&e)),
        vec![
            ex("queue", 0),
            ex("multilateral", 0),
            ex("partial", 3),
            ex("queue", 0),
            ex("multilateral", 0),
            ex("partial", 0),
            ex("bilateral", 0),
        ]
    );
    // Without sequencing: the same settlements, no AlgorithmExecution.
    let e = run_tick0(&cfg_with(&[0, 0, 0], Some(T2)), &ISSUE_2);
    let evs = all_events(&e);
    assert!(executions(&evs).is_empty());
    assert_eq!(of_type(&evs, EventType::OffsetSettlement).len(), 3);
    // An empty list is "LSM off": only S10's pass reports itself.
    let mut cfg = cfg_with(&[0, 0, 0], Some(&[]));
    cfg["settlement"]["algorithm_sequencing"] = json!(true);
    let e = run_tick0(&cfg, &ISSUE_2);
    assert_eq!(executions(&all_events(&e)), vec![ex("queue", 0)]);
    assert_eq!(e.queue2().len(), 4);
}

/// The list's order is the run order: with `partial` first, the cycle of case "partial with
/// spare liquidity" settles as a partial group; with `cycles` first, as a cycle.
#[test]
fn list_order_decides_which_algorithm_settles() {
    let pays = [(0, 1, 100), (1, 2, 100), (2, 0, 90), (1, 0, 5)];
    for (list, summary) in [
        (
            &["partial", "cycles"][..],
            EventType::LsmMultilateralSettlement,
        ),
        (&["cycles", "partial"][..], EventType::LsmCycleSettlement),
    ] {
        let e = run_tick0(&cfg_with(&[10, 0, 0], Some(list)), &pays);
        let evs = all_events(&e);
        assert_eq!(of_type(&evs, summary).len(), 1, "{list:?}");
        assert_eq!(of_type(&evs, EventType::OffsetSettlement).len(), 3);
        assert_eq!(balances(&e), vec![0, 0, 10]);
    }
}

#[test]
fn config_errors_name_the_value() {
    let base = cfg_with(&[0, 0], None);
    let cases: [(Value, &str, &str); 5] = [
        (
            json!(["partial", "cycles"]),
            "/lsm_config/enable_bilateral",
            "does not list",
        ),
        (
            json!(["bilateral"]),
            "/lsm_config/enable_cycles",
            "does not list",
        ),
        (
            json!(["bilateral", "cycles", "bilateral"]),
            "/lsm_config/algorithms/2",
            "duplicate",
        ),
        (
            json!(["bilateral", "triangles"]),
            "/lsm_config/algorithms/1",
            "unknown variant",
        ),
        (
            json!("partial"),
            "/lsm_config/algorithms",
            "expected a sequence",
        ),
    ];
    for (list, pointer, text) in cases {
        let mut cfg = base.clone();
        cfg["lsm_config"]["algorithms"] = list.clone();
        match Engine::new(&cfg.to_string()) {
            Ok(_) => panic!("{list} accepted"),
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.contains(pointer), "{list}: {msg}");
                assert!(msg.contains(text), "{list}: {msg}");
            }
        }
    }
    // null is the same as absent.
    let mut cfg = base.clone();
    cfg["lsm_config"]["algorithms"] = Value::Null;
    assert!(Engine::new(&cfg.to_string()).is_ok());
}

/// The default config's event stream does not depend on the new key being absent or spelled
/// out as the switches' list, apart from the config hash of `SimulationStarted`.
#[test]
fn todays_list_spelled_out_changes_nothing_but_the_hash() {
    let mut agents: Vec<Value> = (0..4).map(|i| agent(NAMES[i], 300)).collect();
    for a in agents.iter_mut() {
        a["arrival_config"] = stream(0.8, 100, 900);
    }
    let mut base = config(20, 2, 5, agents);
    base["settlement"]["deferred_crediting"] = json!(true);
    for sequencing in [false, true] {
        base["settlement"]["algorithm_sequencing"] = json!(sequencing);
        let mut spelled = base.clone();
        spelled["lsm_config"]["algorithms"] = json!(["bilateral", "cycles"]);
        let (mut a, mut b) = (engine(&base), engine(&spelled));
        a.run().expect("run");
        b.run().expect("run");
        let (la, lb) = (json_lines(&a, 1), json_lines(&b, 1));
        assert_eq!(la, lb);
        assert!(
            la.iter().any(|l| l.contains("OffsetSettlement")),
            "the LSM had work"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Brute force (docs/lsm.md §4, §7).

#[derive(Debug, Clone)]
struct Small {
    cfg: Value,
    payments: Vec<(usize, usize, i64, u8)>,
}

/// Small queues (up to 10 payments among up to 5 banks) with random balances, credit, limits
/// and RTGS classes; amounts on a coarse grid so that coverage is often just (not) reached.
fn small() -> impl Strategy<Value = Small> {
    (
        2usize..=5,
        proptest::collection::vec((0i64..=4, 0i64..=2), 5),
        proptest::collection::vec((0usize..5, 0usize..4, 1i64..=6, 0u8..3), 1..=10),
        (any::<bool>(), any::<bool>(), any::<bool>()),
    )
        .prop_map(|(n, money, pays, (limits, priority_mode, deferred))| {
            let mut agents = Vec::new();
            for (i, (bal, cap)) in money.iter().take(n).enumerate() {
                let mut a = agent(NAMES[i], bal * 10);
                a["unsecured_cap"] = json!(cap * 10);
                if limits && i % 2 == 0 {
                    a["limits"]["bilateral_limits"] = json!({NAMES[(i + 1) % n]: 60});
                    a["limits"]["multilateral_limit"] = json!(100);
                }
                agents.push(a);
            }
            let mut cfg = config(10, 1, 1, agents);
            set_algorithms(&mut cfg, &[]);
            cfg["lsm_config"]["max_iterations"] = json!(1);
            cfg["settlement"]["priority_mode"] = json!(priority_mode);
            cfg["settlement"]["deferred_crediting"] = json!(deferred);
            let payments = pays
                .into_iter()
                .map(|(s, r, x, p)| (s % n, (s % n + 1 + r % (n - 1)) % n, x * 10, p))
                .collect();
            Small { cfg, payments }
        })
}

/// Queues the payments at tick 0 with the LSM off.
fn queued(g: &Small) -> Engine {
    let mut e = engine(&g.cfg);
    let records: Vec<InjectRecord> = g
        .payments
        .iter()
        .map(|&(s, r, x, p)| InjectRecord {
            tick: 0,
            sender: NAMES[s].into(),
            receiver: NAMES[r].into(),
            amount: x,
            deadline_tick: 9,
            priority: None,
            divisible: None,
            rtgs_priority: Some(["HighlyUrgent", "Urgent", "Normal"][p as usize].into()),
        })
        .collect();
    e.inject_arrivals(&records).expect("inject");
    e.tick().expect("tick");
    e
}

/// The payments (keys) the first group of a pass settled by `mechanism`.
fn first_group(e: &Engine, from: u64, mechanism: &str) -> Vec<u64> {
    let evs: Vec<EventView> = e.events().iter_from(from).expect("retained").collect();
    let Some(g) = evs
        .iter()
        .find(|v| v.ty == EventType::LsmMultilateralSettlement)
    else {
        return Vec::new();
    };
    evs.iter()
        .filter(|v| {
            v.ty == EventType::OffsetSettlement
                && v.detail(Key::GroupSeq).and_then(|s| s.as_u64()) == Some(g.seq)
        })
        .inspect(|v| assert_eq!(str_detail(v, Key::Mechanism).as_deref(), Some(mechanism)))
        .filter_map(|v| v.tx)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, .. ProptestConfig::default() })]

    /// One `partial` run settles exactly `S(x*)`, where `x*` is the greatest feasible profile
    /// found by enumerating every profile (which also checks that a greatest one exists), and
    /// it equals the naive fixpoint. One `multilateral` run settles all of Q2 exactly when all
    /// of Q2 is feasible.
    #[test]
    fn partial_settles_the_greatest_feasible_profile(g in small()) {
        let mut e = queued(&g);
        let v = q2_view(&e);
        let feasible_profiles: Vec<Vec<usize>> = all_profiles(&v)
            .into_iter()
            .filter(|x| feasible(&e, &v, &selection(&v, x)))
            .collect();
        let greatest: Vec<usize> = (0..v.queues.len())
            .map(|i| feasible_profiles.iter().map(|x| x[i]).max().unwrap_or(0))
            .collect();
        prop_assert!(feasible_profiles.contains(&greatest), "no greatest feasible profile");
        prop_assert_eq!(&naive_fixpoint(&e, &v), &greatest);
        let sel = selection(&v, &greatest);
        let mut want: Vec<u64> = v.payments.iter().zip(&sel)
            .filter(|(_, s)| **s).map(|(p, _)| p.3).collect();
        want.sort_unstable();
        let all_feasible = feasible(&e, &v, &vec![true; v.payments.len()]);
        let bytes = e.checkpoint().expect("checkpoint");
        let text = g.cfg.to_string();

        prop_assert!(e.set_lsm_algorithms(&[LsmAlgorithm::Partial]));
        let from = e.events().next_seq();
        e.lsm_pass();
        let mut got = first_group(&e, from, "partial");
        got.sort_unstable();
        prop_assert_eq!(got, want);

        let mut m = Engine::restore(&text, &bytes).expect("restore");
        prop_assert!(m.set_lsm_algorithms(&[LsmAlgorithm::Multilateral]));
        let from = m.events().next_seq();
        m.lsm_pass();
        let got = first_group(&m, from, "multilateral");
        let expect = if all_feasible && !v.payments.is_empty() { v.payments.len() } else { 0 };
        prop_assert_eq!(got.len(), expect);
    }
}
