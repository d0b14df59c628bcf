//! LSM stress benchmark (ENGINE.md §14: one LSM pass < 10 ms on a Q2 of 10,000 payments among
//! 100 banks with many cycles; the work cap bounds a dense adversarial graph), and one run of
//! the multilateral algorithms (docs/lsm.md §9: one partial-multilateral run over 10,000
//! queued payments and 100 banks < 20 ms).
//!
//! Run with `make bench` or `cargo run --release -p paysim-benches --bin lsm_bench`
//! (`-- --multilateral-only` for the multilateral part alone). Prints figures; asserts nothing
//! about time (targets live in benchmarks, never in tests). The multilateral part prints the
//! thread's CPU time beside wall time, since a shared machine inflates wall time.
//!
//! Each scenario queues its payments at tick 0 with the LSM switched off (every payment is
//! larger than its sender's liquidity, so all 10,000 fail RTGS entry), checkpoints, and then
//! times `Engine::lsm_pass` (S11 alone) on fresh restores of that checkpoint with the LSM on.

use std::time::{Duration, Instant};

use paysim_core::config::LsmAlgorithm;
use paysim_core::engine::{InjectRecord, LsmReport};
use paysim_core::Engine;
use serde_json::{json, Value};

const BANKS: usize = 100;
const PAYMENTS: usize = 10_000;
const REPS: usize = 15;

/// A small deterministic generator (xorshift64*), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn bank(i: usize) -> String {
    format!("B{i:03}")
}

fn config(cap: i64, max_cycle_length: u32) -> Value {
    let policy = json!({"document": {"version": "1.0", "policy_id": "fifo",
        "payment_tree": {"type": "action", "node_id": "r", "action": "Release"}},
        "parameters": {}, "source": "library:fifo"});
    let agents: Vec<Value> = (0..BANKS)
        .map(|i| {
            json!({"id": bank(i), "opening_balance": 0, "unsecured_cap": cap,
                "posted_collateral": 0, "collateral_haircut": 0.02,
                "max_collateral_capacity": null, "liquidity_pool": 0,
                "liquidity_allocation_fraction": 1.0, "liquidity_buffer": 0,
                "limits": {"bilateral_limits": {}, "multilateral_limit": null},
                "policy": policy, "arrival_config": null, "arrival_bands": null})
        })
        .collect();
    json!({
        "simulation": {"ticks_per_day": 10, "num_days": 1, "rng_seed": 1},
        "agents": agents,
        "cost_rates": {"overdraft_bps_per_tick": 0.001, "delay_cost_per_tick_per_cent": 0.0001,
            "collateral_cost_per_tick_bps": 0.0002, "liquidity_cost_per_tick_bps": 0.0,
            "deadline_penalty": {"mode": "fixed", "amount": 50000},
            "eod_penalty": {"mode": "fixed", "amount": 10000}, "drop_penalty": null,
            "split_friction_cost": 1000, "overdue_delay_multiplier": 5.0,
            "priority_delay_multipliers": {"urgent_multiplier": 1.0, "normal_multiplier": 1.0,
                                           "low_multiplier": 1.0}},
        "lsm_config": {"enable_bilateral": false, "enable_cycles": false,
                       "max_cycle_length": max_cycle_length, "max_cycles_per_tick": 10,
                       "max_iterations": 3},
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

fn record(s: usize, r: usize, amount: i64) -> InjectRecord {
    InjectRecord {
        tick: 0,
        sender: bank(s),
        receiver: bank(r),
        amount,
        deadline_tick: 9,
        priority: None,
        divisible: None,
        rtgs_priority: None,
    }
}

/// One scenario: its config (LSM off), its payments, and the LSM switches to time.
struct Scenario {
    name: &'static str,
    cfg: Value,
    payments: Vec<InjectRecord>,
}

/// Random pairs, amounts on a coarse grid above every bank's liquidity: many pairs and cycles
/// net to amounts a bank can cover, so the pass settles a large part of Q2.
fn many_cycles() -> Scenario {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let payments = (0..PAYMENTS)
        .map(|_| {
            let s = rng.below(BANKS as u64) as usize;
            let r = (s + 1 + rng.below(BANKS as u64 - 1) as usize) % BANKS;
            record(s, r, 100_000 + 10_000 * rng.below(21) as i64)
        })
        .collect();
    Scenario {
        name: "many cycles (random pairs, L = 50,000)",
        cfg: config(50_000, 4),
        payments,
    }
}

/// The complete digraph on 100 banks (every edge, then random extra payments up to 10,000),
/// no liquidity at all and amounts chosen so that no pair and no cycle nets to zero: nothing
/// is feasible and the search runs until a work cap stops it.
fn adversarial(max_cycle_length: u32) -> Scenario {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut payments = Vec::with_capacity(PAYMENTS);
    for s in 0..BANKS {
        for r in 0..BANKS {
            if s != r {
                // Distinct odd-ish amounts: a zero net would need an exact coincidence.
                payments.push(record(
                    s,
                    r,
                    1_000_000 + rng.below(1_000_000) as i64 * 2 + 1,
                ));
            }
        }
    }
    while payments.len() < PAYMENTS {
        let s = rng.below(BANKS as u64) as usize;
        let r = (s + 1 + rng.below(BANKS as u64 - 1) as usize) % BANKS;
        payments.push(record(
            s,
            r,
            1_000_000 + rng.below(1_000_000) as i64 * 2 + 1,
        ));
    }
    Scenario {
        name: if max_cycle_length == 4 {
            "adversarial complete digraph, max_cycle_length 4"
        } else {
            "adversarial complete digraph, max_cycle_length 10"
        },
        cfg: config(0, max_cycle_length),
        payments,
    }
}

fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("lsm_bench: {what}: {e}");
    std::process::exit(1)
}

/// Queues the payments at tick 0 with the LSM off and returns the checkpoint.
fn queued(sc: &Scenario) -> (String, Vec<u8>, usize) {
    let text = sc.cfg.to_string();
    let mut e = Engine::new(&text).unwrap_or_else(|e| fail("config", e));
    e.inject_arrivals(&sc.payments)
        .unwrap_or_else(|e| fail("inject", e));
    e.tick().unwrap_or_else(|e| fail("tick", e));
    let q2 = e.state().q2.len();
    let bytes = e.checkpoint().unwrap_or_else(|e| fail("checkpoint", e));
    (text, bytes, q2)
}

fn restored(text: &str, bytes: &[u8]) -> Engine {
    let mut e = Engine::restore(text, bytes).unwrap_or_else(|e| fail("restore", e));
    if !e.set_lsm_switches(true, true) {
        fail("switches", "shared setup");
    }
    e
}

/// A queue for the multilateral algorithms: `walks` closed walks through 4 distinct banks
/// (each walk one amount, so it nets to zero for everyone), then random payments up to 10,000,
/// all in a shuffled queue order. Every amount (1,000,000..3,000,000) exceeds every bank's
/// liquidity `L` = 900,000, so all 10,000 fail RTGS entry. The random payments leave about half
/// the banks with a net debit they cannot cover, so a partial run removes payments (and the
/// removals cascade through the walks) before it settles; with no random payments every bank
/// nets zero and all of Q2 settles.
fn multilateral_queue(walks: usize, name: &'static str) -> Scenario {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let amount = |rng: &mut Rng| 1_000_000 + 100_000 * rng.below(21) as i64;
    let mut payments = Vec::with_capacity(PAYMENTS);
    for _ in 0..walks.min(PAYMENTS / 4) {
        let mut banks = [0usize; 4];
        for k in 0..4 {
            banks[k] = loop {
                let b = rng.below(BANKS as u64) as usize;
                if !banks[..k].contains(&b) {
                    break b;
                }
            };
        }
        let x = amount(&mut rng);
        for k in 0..4 {
            payments.push(record(banks[k], banks[(k + 1) % 4], x));
        }
    }
    while payments.len() < PAYMENTS {
        let s = rng.below(BANKS as u64) as usize;
        let r = (s + 1 + rng.below(BANKS as u64 - 1) as usize) % BANKS;
        let x = amount(&mut rng);
        payments.push(record(s, r, x));
    }
    for i in (1..payments.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        payments.swap(i, j);
    }
    Scenario {
        name,
        cfg: config(900_000, 4),
        payments,
    }
}

/// Times one run of `alg` alone (max_iterations 1, so one run and its queue pass) on fresh
/// restores of the queued checkpoint.
fn run_multilateral(sc: &Scenario, alg: LsmAlgorithm) {
    let mut cfg = sc.cfg.clone();
    cfg["lsm_config"]["max_iterations"] = json!(1);
    let sc = Scenario {
        name: sc.name,
        cfg,
        payments: sc.payments.clone(),
    };
    let (text, bytes, q2) = queued(&sc);
    let (mut times, mut cpu) = (Vec::with_capacity(REPS), Vec::with_capacity(REPS));
    let mut report = LsmReport::default();
    let mut events = 0;
    for _ in 0..REPS {
        let mut e = Engine::restore(&text, &bytes).unwrap_or_else(|e| fail("restore", e));
        if !e.set_lsm_algorithms(&[alg]) {
            fail("algorithms", "shared setup");
        }
        let first = e.events().next_seq();
        let (t0, c0) = (Instant::now(), thread_cpu());
        report = e.lsm_pass();
        cpu.push(thread_cpu().saturating_sub(c0));
        times.push(t0.elapsed());
        events = e.events().next_seq() - first;
    }
    times.sort();
    cpu.sort();
    println!("{} — one `{}` run", sc.name, alg.as_str());
    println!(
        "  Q2 {q2}: settled {} by the group, {} left queued by partial, {} by the queue pass after; {events} events",
        report.offset_settled,
        report.partial_removed,
        report.settled - report.offset_settled,
    );
    println!(
        "  one run (with its queue pass): wall min {:.3} ms, median {:.3} ms; thread CPU min {:.3} ms, median {:.3} ms; over {REPS} runs{}",
        ms(times[0]),
        ms(times[REPS / 2]),
        ms(cpu[0]),
        ms(cpu[REPS / 2]),
        if alg == LsmAlgorithm::Partial {
            " (target < 20 ms)"
        } else {
            ""
        }
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// CPU time of the calling thread: what a run costs, whatever else the machine is doing.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant libc defines.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn run(sc: &Scenario) {
    let (text, bytes, q2) = queued(sc);
    let mut times = Vec::with_capacity(REPS);
    let mut report = LsmReport::default();
    let mut q2_after = 0;
    let mut events = 0;
    for _ in 0..REPS {
        let mut e = restored(&text, &bytes);
        let first = e.events().next_seq();
        let t0 = Instant::now();
        report = e.lsm_pass();
        times.push(t0.elapsed());
        q2_after = e.state().q2.len();
        events = e.events().next_seq() - first;
    }
    times.sort();
    println!("{}", sc.name);
    println!(
        "  Q2 {q2} -> {q2_after} payments; settled {} ({} by offsets); {events} events",
        report.settled, report.offset_settled
    );
    println!(
        "  search: {} edge expansions, {} candidate cycles, truncated by a work cap: {}",
        report.search_steps, report.cycles_found, report.search_truncated
    );
    println!(
        "  one LSM pass: min {:.3} ms, median {:.3} ms over {REPS} runs",
        ms(times[0]),
        ms(times[REPS / 2])
    );
    // Passes until one settles nothing (the gridlock that is left), timing that last full
    // pass; the next one finds Q2 and the senders' liquidity unchanged and is skipped (§14).
    let mut e = restored(&text, &bytes);
    let mut passes = 0;
    let idle_time = loop {
        let t0 = Instant::now();
        let r = e.lsm_pass();
        let took = t0.elapsed();
        passes += 1;
        if r.settled == 0 || passes == 1_000 {
            break took;
        }
    };
    let t0 = Instant::now();
    let again = e.lsm_pass();
    println!(
        "  residual gridlock after {passes} passes ({} payments): a pass settling nothing {:.3} ms, \
         then unchanged {:.3} ms (skipped: {})",
        e.state().q2.len(),
        ms(idle_time),
        ms(t0.elapsed()),
        again.skipped
    );
}

/// docs/lsm.md §9: one `partial` run over 10,000 queued payments and 100 banks, most banks
/// uncovered, < 20 ms; `multilateral` on the same queue, and both on a queue that settles whole.
fn multilateral_section() {
    let tight = multilateral_queue(
        2_000,
        "multilateral queue: 2,000 closed walks + 2,000 random payments (about half the banks uncovered)",
    );
    run_multilateral(&tight, LsmAlgorithm::Partial);
    run_multilateral(&tight, LsmAlgorithm::Multilateral);
    let balanced = multilateral_queue(
        2_500,
        "multilateral queue: 2,500 closed walks (every bank nets zero)",
    );
    run_multilateral(&balanced, LsmAlgorithm::Multilateral);
    run_multilateral(&balanced, LsmAlgorithm::Partial);
}

fn main() {
    println!("LSM stress: {BANKS} banks, {PAYMENTS} queued payments, release build expected");
    if std::env::args().any(|a| a == "--multilateral-only") {
        multilateral_section();
        return;
    }
    for sc in [many_cycles(), adversarial(4), adversarial(10)] {
        run(&sc);
    }
    multilateral_section();
}
