//! S11, the liquidity-saving mechanism (ENGINE.md §7, docs/lsm.md): bilateral offsetting
//! (`bilateral.rs`), multilateral cycles (`cycles.rs`, searching with `search.rs`),
//! all-or-nothing and partial multilateral settlement (`multilateral.rs`), and here the
//! iteration over the configured algorithm list (docs/lsm.md §5) in its two forms, default and
//! TARGET2-style sequencing. With the default list (`bilateral`, `cycles` as the switches say)
//! both forms are exactly ENGINE.md §7.3.
//!
//! Bilateral offsets and cycles work on Q2's pair sums (`State::pair_q2`), never on the
//! payments, until a group is known to be feasible; only then are its payments read, from
//! `State::q2_by_pair`. Their groups settle through `offset.rs`; the multilateral algorithms
//! apply the same money rules to groups that may hold all of Q2.
//!
//! Readings of §7.3 that the spec leaves open: in the default iteration the queue pass follows
//! every iteration that settled something, the last one included. Under sequencing, an
//! algorithm that settles restarts the sequence at once (a bilateral run that settles is not
//! followed by cycles before the queue pass); `max_iterations` counts restarts, the first run
//! after S10 not being one; every queue pass reports itself (`settle.rs`), so S10's does even
//! with the LSM off, while an algorithm not in the list does not run and reports nothing.
//!
//! A step whose outcome cannot change is skipped (§14): when Q2 and every Q2 sender's balance,
//! overdraft limit and outflow counter are what they were after the last step that settled
//! nothing, the same search would again find nothing. The memo of that state lives in the
//! scratch, not in `State`: a restored engine simply recomputes once and reaches the same
//! outcome, so events stay identical with or without the memo.

mod bilateral;
mod cycles;
mod multilateral;
mod search;

use super::offset::Leg;
use super::Engine;
use crate::config::LsmAlgorithm;
use crate::events::{EventType, Key, Val};
use crate::state::Slot;

/// What one LSM step did. Returned to tests and benchmarks by [`Engine::lsm_pass`]; the tick
/// loop ignores it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LsmReport {
    /// Payments settled in the step: by offsets and by the queue passes between rounds.
    pub settled: u64,
    /// Of those, payments settled by bilateral offsets and cycles.
    pub offset_settled: u64,
    /// The step stopped because an iteration settled nothing (so, unless a cap bound, no
    /// feasible pair or cycle is left), not at `max_iterations` or with the LSM off.
    pub quiescent: bool,
    /// A cycle round stopped at `max_cycles_per_tick` with candidates left.
    pub cycle_cap_reached: bool,
    /// A cycle search stopped at a work cap (`CYCLE_SEARCH_STEP_LIMIT`, `CYCLE_CANDIDATE_LIMIT`).
    pub search_truncated: bool,
    /// Q2 payments that partial runs left queued when they settled a group, summed over the
    /// step's runs.
    pub partial_removed: u64,
    /// Edge expansions spent, summed over the step's cycle searches.
    pub search_steps: u64,
    /// Candidate cycles found, summed over the step's cycle searches.
    pub cycles_found: u64,
    /// The step was skipped because its outcome could not change.
    pub skipped: bool,
}

/// The state an LSM step's outcome depends on, besides the config: Q2 (payments never change
/// while queued, every insertion takes a new `q2_seq` and every removal shrinks Q2, so seq and
/// length identify its content since a given moment) and, per Q2 sender, balance, `L` and
/// gross outflow today (`out_to` only grows when `out_total` does and both reset together).
#[derive(Debug, Default, PartialEq, Eq)]
struct Fingerprint {
    q2_seq: u64,
    q2_len: usize,
    senders: Vec<(u32, i64, i64, i64)>,
}

/// Reusable buffers and the skip memo of the LSM.
#[derive(Debug, Default)]
pub(super) struct LsmScratch {
    pairs: Vec<bilateral::ReadyPair>,
    search: search::CycleSearch,
    emptied: Vec<bool>,
    legs: Vec<Leg>,
    amounts: Vec<i64>,
    positions: Vec<i64>,
    agents: Vec<u32>,
    multi: multilateral::MultiScratch,
    /// Cycles settled in the current tick (`max_cycles_per_tick`).
    cycles_settled: u32,
    probe: Fingerprint,
    memo: Fingerprint,
    /// `memo` holds the state of a step that settled nothing; with that step's cap flags.
    memo_valid: bool,
    memo_flags: (bool, bool),
}

impl Engine {
    /// S11: runs the LSM on Q2 after the queue pass (docs/lsm.md §5).
    pub(super) fn lsm_step(&mut self) -> LsmReport {
        let lsm = &self.setup.cfg.lsm_config;
        let (list, max_iterations) = (lsm.effective_algorithms(), lsm.max_iterations);
        let mut rep = LsmReport::default();
        if list.is_empty() {
            return rep;
        }
        self.scratch.lsm.cycles_settled = 0;
        let mut skip = self.lsm_outcome_known();
        if skip {
            rep.skipped = true;
            (rep.search_truncated, rep.cycle_cap_reached) = self.scratch.lsm.memo_flags;
        }
        if self.setup.cfg.settlement.algorithm_sequencing {
            // After S10's pass: the algorithms in list order; the first that settles restarts
            // the sequence from a queue pass. Stop when all settle nothing in a row.
            let mut restarts = 0;
            loop {
                let mut settled = false;
                for &alg in list.as_slice() {
                    if self.run_algorithm(alg, skip, &mut rep) > 0 {
                        settled = true;
                        break;
                    }
                }
                skip = false;
                if !settled {
                    rep.quiescent = true;
                    break;
                }
                if restarts == max_iterations {
                    break;
                }
                restarts += 1;
                rep.settled += self.queue_pass(true).0;
            }
        } else {
            for _ in 0..max_iterations {
                let mut n = 0;
                for &alg in list.as_slice() {
                    n += self.run_algorithm(alg, skip, &mut rep);
                }
                skip = false;
                if n == 0 {
                    rep.quiescent = true;
                    break;
                }
                rep.settled += self.queue_pass(true).0;
            }
        }
        self.remember_lsm_outcome(&rep);
        rep
    }

    /// Runs one algorithm (a skipped run settles nothing, as it would have), reporting it
    /// under sequencing. Returns the number of payments it settled.
    fn run_algorithm(&mut self, alg: LsmAlgorithm, skip: bool, rep: &mut LsmReport) -> u64 {
        let (count, value) = match (skip, alg) {
            (true, _) => (0, 0),
            (false, LsmAlgorithm::Bilateral) => self.bilateral_round(),
            (false, LsmAlgorithm::Cycles) => self.cycle_round(rep),
            (false, LsmAlgorithm::Multilateral) => {
                self.multilateral_round(false, &mut rep.partial_removed)
            }
            (false, LsmAlgorithm::Partial) => {
                self.multilateral_round(true, &mut rep.partial_removed)
            }
        };
        rep.settled += count;
        rep.offset_settled += count;
        if self.setup.cfg.settlement.algorithm_sequencing {
            self.emit_algorithm_execution(alg.as_str(), count, value);
        }
        count
    }

    /// `AlgorithmExecution` (§7.3, only under `algorithm_sequencing`).
    pub(super) fn emit_algorithm_execution(&mut self, algorithm: &str, count: u64, value: i64) {
        self.emit(
            EventType::AlgorithmExecution,
            None,
            None,
            None,
            None,
            &[
                (Key::Algorithm, Val::Str(algorithm)),
                (Key::SettledCount, Val::U64(count)),
                (Key::SettledValue, Val::I64(value)),
            ],
        );
    }

    /// Takes the current fingerprint into the probe and says whether it equals the memo of a
    /// step that settled nothing.
    fn lsm_outcome_known(&mut self) -> bool {
        let probe = &mut self.scratch.lsm.probe;
        probe.q2_seq = self.st.q2_seq;
        probe.q2_len = self.st.q2.len();
        probe.senders.clear();
        for (i, a) in self.st.agents.iter().enumerate() {
            if a.q2_count > 0 {
                probe
                    .senders
                    .push((i as u32, a.balance, a.limit(), a.out_total));
            }
        }
        self.scratch.lsm.memo_valid && self.scratch.lsm.probe == self.scratch.lsm.memo
    }

    /// Keeps the probe as the memo when the step settled nothing (the state is then still the
    /// probed one); forgets the memo otherwise.
    fn remember_lsm_outcome(&mut self, rep: &LsmReport) {
        let s = &mut self.scratch.lsm;
        s.memo_valid = rep.quiescent && rep.settled == 0;
        if s.memo_valid && !rep.skipped {
            std::mem::swap(&mut s.memo, &mut s.probe);
            s.memo_flags = (rep.search_truncated, rep.cycle_cap_reached);
        }
    }

    /// Collects the Q2 payments of `legs`, leg by leg and each leg in Q2 order, into the group
    /// buffers (which the caller takes and gives back).
    fn gather_group(&self, legs: &[Leg], slots: &mut Vec<Slot>, keys: &mut Vec<u64>) {
        slots.clear();
        keys.clear();
        for leg in legs {
            let (f, t) = (leg.from, leg.to);
            for (_, &slot) in self
                .st
                .q2_by_pair
                .range((f, t, (0, 0))..=(f, t, (u8::MAX, u64::MAX)))
            {
                if let Some(p) = self.st.payments.get(slot) {
                    slots.push(slot);
                    keys.push(p.key);
                }
            }
        }
    }

    /// Runs S11 on the current state between ticks, as the tick loop would after S10.
    /// Benchmarks time one LSM pass with it, and property tests check the state it leaves.
    /// Not part of the engine API (ENGINE.md §13): its events carry `current_tick`, and
    /// credits it defers stay pending until the next tick's S13.
    #[doc(hidden)]
    pub fn lsm_pass(&mut self) -> LsmReport {
        self.lsm_step()
    }

    /// Replaces the LSM switches of this engine's config, so that tests and benchmarks can run
    /// the same state with the LSM on and off. The config then no longer matches the config
    /// hash, so this is for tests and benchmarks only. Returns false (changing nothing) when
    /// the engine's setup is shared.
    #[doc(hidden)]
    pub fn set_lsm_switches(&mut self, bilateral: bool, cycles: bool) -> bool {
        let Some(setup) = std::sync::Arc::get_mut(&mut self.setup) else {
            return false;
        };
        setup.cfg.lsm_config.enable_bilateral = bilateral;
        setup.cfg.lsm_config.enable_cycles = cycles;
        setup.cfg.lsm_config.algorithms = None;
        self.scratch.lsm.memo_valid = false;
        true
    }

    /// Replaces the LSM's algorithm list (and the switches, as its projections), like
    /// [`Engine::set_lsm_switches`]: for tests and benchmarks only. Returns false (changing
    /// nothing) when the engine's setup is shared.
    #[doc(hidden)]
    pub fn set_lsm_algorithms(&mut self, algorithms: &[LsmAlgorithm]) -> bool {
        let Some(setup) = std::sync::Arc::get_mut(&mut self.setup) else {
            return false;
        };
        let lsm = &mut setup.cfg.lsm_config;
        lsm.enable_bilateral = algorithms.contains(&LsmAlgorithm::Bilateral);
        lsm.enable_cycles = algorithms.contains(&LsmAlgorithm::Cycles);
        lsm.algorithms = Some(algorithms.to_vec());
        self.scratch.lsm.memo_valid = false;
        true
    }
}
