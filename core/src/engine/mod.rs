//! The engine: owns all simulation state and runs the tick loop of ENGINE.md §5.2.
//!
//! `Setup` is everything fixed at creation (ids, the compiled cost model, options); `State` is
//! everything that changes and is therefore exactly what a checkpoint holds. The event log is
//! kept beside the state: emitted events are not state (§11).

mod bank_steps;
mod checkpoint;
pub mod decisions;
mod entry;
mod fields;
pub mod inject;
mod lifecycle;
mod lsm;
pub mod many;
mod offset;
mod policy_eval;
mod q1;
mod queries;
mod scenario;
mod settle;
mod tick;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use lsm::LsmReport;
pub use queries::{AgentView, PaymentView, SystemMetrics, TickSummary};

use crate::arrivals::Arrivals;
use crate::config::{EngineConfig, RtgsPriority};
use crate::costs::CostModel;
use crate::error::{EngineError, EngineResult};
use crate::events::{EventLog, EventType, Key, Names, Val};
use crate::policy_rt::RuntimePolicy;
use crate::state::{Agent, PaymentSlab, Slot};

/// Immutable after creation; shared by restored copies.
#[derive(Debug)]
pub struct Setup {
    pub cfg: EngineConfig,
    pub config_json: serde_json::Value,
    pub config_hash: [u8; 32],
    pub ids: Vec<String>,
    pub index: BTreeMap<String, u32>,
    pub costs: CostModel,
    pub tpd: u32,
    pub total_ticks: u32,
    /// Policies of scenario `PolicyChange` events, by event index.
    pub scenario_policies: BTreeMap<usize, RuntimePolicy>,
}

/// Run counters behind the run summary and `system_metrics`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub arrivals: u64,
    pub arrivals_value: i64,
    pub settled: u64,
    pub settled_value: i64,
    pub dropped: u64,
    pub overdue: u64,
    pub lsm_settled: u64,
    pub entry_offsets: u64,
    pub peak_overdraft: i64,
    /// Settlement delay in ticks summed over settled original payments.
    pub settlement_delay: u64,
}

/// Q1 ordering key: `(rank, deadline, enqueue seq)`; under FIFO rank and deadline are 0.
pub type Q1Key = (u8, u32, u64);
/// Q2 ordering key: `(RTGS priority rank or 0, entry seq)`.
pub type Q2Key = (u8, u64);

/// Everything that changes during a run (and nothing else): the checkpoint payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub tick: u32,
    pub next_root: u64,
    pub next_creation: u64,
    pub next_event_seq: u64,
    pub enqueue_seq: u64,
    pub q2_seq: u64,
    pub failed: Option<String>,
    pub agents: Vec<Agent>,
    pub policies: Vec<PolicyState>,
    pub payments: PaymentSlab,
    pub q1: Vec<BTreeMap<Q1Key, Slot>>,
    pub scheduled: Vec<BTreeMap<(u32, u64), Slot>>,
    pub q2: BTreeMap<Q2Key, Slot>,
    /// Summed remaining amount and count of Q2 payments per (sender, receiver).
    pub pair_q2: BTreeMap<(u32, u32), (i64, u32)>,
    /// Q2 payments grouped by `(sender, receiver)`, each group in Q2 order. The LSM settles
    /// whole pairs and edges and entry offsetting reads the first payments of one direction;
    /// this index gives both without scanning Q2. It is derived from `q2`, so checkpoints do
    /// not carry it (their bytes stay those of the queues alone) and restore rebuilds it.
    #[serde(skip)]
    pub q2_by_pair: BTreeMap<(u32, u32, Q2Key), Slot>,
    /// Leaf payments by deadline tick, for overdue marking: `(slot, creation)`.
    pub deadlines: BTreeMap<u32, Vec<(Slot, u64)>>,
    pub injected: BTreeMap<u32, Vec<Injected>>,
    pub arrivals: Arrivals,
    pub metrics: Metrics,
    /// Value each agent received today from each counterparty: `(receiver, payer) → cents`.
    /// Updated on every settlement, so a hash map; it is never iterated, and checkpoints
    /// write it sorted, so its bytes do not depend on hashing.
    #[serde(with = "sorted_map")]
    pub received_today: HashMap<(u32, u32), i64>,
    /// Per agent: value due today (unsettled at the start of the day plus today's arrivals)
    /// and value settled today (payments and pieces), for the throughput fields.
    pub day_due: Vec<i64>,
    pub day_settled: Vec<i64>,
    /// Bit k set when the LSM settled something k+1 ticks ago (the last 16 ticks).
    pub lsm_bits: u16,
}

pub use crate::policy_rt::PolicyState;

/// An externally supplied arrival waiting for its tick (§9.3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Injected {
    pub sender: u32,
    pub receiver: u32,
    pub amount: i64,
    pub deadline: u32,
    pub priority: u8,
    pub divisible: bool,
    pub rtgs_priority: RtgsPriority,
}

/// One record of `inject_arrivals`, as the caller gives it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InjectRecord {
    pub tick: i64,
    pub sender: String,
    pub receiver: String,
    pub amount: i64,
    pub deadline_tick: i64,
    pub priority: Option<i64>,
    pub divisible: Option<bool>,
    pub rtgs_priority: Option<String>,
}

/// Reusable buffers of the tick loop, so the steady state does not allocate.
#[derive(Debug, Default)]
struct Scratch {
    release: Vec<Slot>,
    slots: Vec<Slot>,
    draws: Vec<crate::arrivals::Draw>,
    q2_keys: Vec<(Q2Key, Slot)>,
    fields: Vec<f64>,
    registers: Vec<f64>,
    /// The payments of one offset group (or the candidates of an entry offset).
    group: Vec<Slot>,
    /// Their keys, for the `tx_ids` of a group's summary event.
    group_keys: Vec<u64>,
    /// Net positions of an offset group's members.
    nets: Vec<(u32, i128)>,
    lsm: lsm::LsmScratch,
}

pub struct Engine {
    setup: Arc<Setup>,
    st: State,
    events: EventLog,
    scratch: Scratch,
    /// Per-agent decision sources; `None` runs the release-everything baseline. Not part of
    /// the state: they are rebuilt from the policies (or set again by tests) after a restore.
    deciders: Vec<Option<Box<dyn decisions::Decider>>>,
    /// Every agent's compiled policy (by agent index), rebuilt from `State::policies` on restore.
    compiled: Vec<Arc<crate::policy::CompiledPolicy>>,
    /// Node ids of the decision being applied, for `decision_path` in policy events.
    decision_path: Vec<String>,
    /// Per tree: does any policy read a field that needs a pass over the queues?
    needs_pass_cache: [bool; 4],
    /// Q2 decisions taken in S7's decision phase, applied at S8.
    pending_q2: Vec<(Slot, decisions::PaymentAction, Vec<String>)>,
    /// The error that failed a tick; the engine then refuses ticks and checkpoints.
    failed_error: Option<EngineError>,
    /// Counters of the tick being processed (for `TickSummary`).
    tick_settled: u64,
    tick_lsm: u64,
    tick_arrivals: u64,
}

/// Resolves interned ids for event export.
pub struct EngineNames<'a> {
    ids: &'a [String],
}

impl Names for EngineNames<'_> {
    fn tx_id(&self, key: u64, out: &mut String) {
        crate::state::tx_id_of(key, out);
    }
    fn agent_id(&self, index: u32) -> &str {
        self.ids
            .get(index as usize)
            .map(String::as_str)
            .unwrap_or("?")
    }
}

impl Engine {
    /// `create(config)`: validates, compiles and emits `SimulationStarted` and `AgentOpened`.
    pub fn new(config_json: &str) -> EngineResult<Self> {
        let value = crate::config::parse_value(config_json)?;
        let cfg = crate::config::parse(config_json)?;
        let setup = Arc::new(Setup::build(cfg, value)?);
        let (st, compiled) = State::initial(&setup)?;
        let mut engine = Engine {
            events: EventLog::new(),
            setup,
            st,
            scratch: Scratch::default(),
            deciders: Vec::new(),
            compiled,
            decision_path: Vec::new(),
            pending_q2: Vec::new(),
            needs_pass_cache: [false; 4],
            failed_error: None,
            tick_settled: 0,
            tick_lsm: 0,
            tick_arrivals: 0,
        };
        engine.refresh_needs_pass();
        engine.emit_opening();
        Ok(engine)
    }

    fn emit_opening(&mut self) {
        let s = Arc::clone(&self.setup);
        let hash = crate::checkpoint_frame::hex(&s.config_hash);
        self.emit(
            EventType::SimulationStarted,
            None,
            None,
            None,
            None,
            &[
                (Key::ConfigHash, Val::Str(&hash)),
                (Key::EngineVersion, Val::Str(crate::VERSION)),
                (Key::Seed, Val::U64(s.cfg.simulation.rng_seed)),
                (Key::TicksPerDay, Val::U64(u64::from(s.tpd))),
                (Key::NumDays, Val::U64(u64::from(s.cfg.simulation.num_days))),
                (Key::NumAgents, Val::U64(s.ids.len() as u64)),
            ],
        );
        for i in 0..s.ids.len() {
            let a = &self.st.agents[i];
            let (cap, posted, haircut, limit, pool) = (
                a.unsecured_cap,
                a.posted_collateral,
                a.haircut,
                a.limit(),
                a.pool,
            );
            let opening = a.opening_balance;
            self.emit(
                EventType::AgentOpened,
                None,
                Some(i as u32),
                None,
                Some(opening),
                &[
                    (Key::UnsecuredCap, Val::I64(cap)),
                    (Key::PostedCollateral, Val::I64(posted)),
                    (Key::CollateralHaircut, Val::F64(haircut)),
                    (Key::AllowedOverdraftLimit, Val::I64(limit)),
                    (Key::LiquidityPool, Val::I64(pool)),
                ],
            );
        }
    }

    /// Appends one event at the current tick.
    #[inline]
    fn emit(
        &mut self,
        ty: EventType,
        tx: Option<u64>,
        agent: Option<u32>,
        cp: Option<u32>,
        amount: Option<i64>,
        details: &[(Key, Val<'_>)],
    ) -> u64 {
        self.st.next_event_seq += 1;
        self.events
            .emit(self.st.tick, ty, tx, agent, cp, amount, details)
    }

    pub fn setup(&self) -> &Setup {
        &self.setup
    }
    pub fn current_tick(&self) -> u32 {
        self.st.tick
    }
    pub fn total_ticks(&self) -> u32 {
        self.setup.total_ticks
    }
    pub fn done(&self) -> bool {
        self.st.tick >= self.setup.total_ticks
    }
    pub fn events(&self) -> &EventLog {
        &self.events
    }
    pub fn names(&self) -> EngineNames<'_> {
        EngineNames {
            ids: &self.setup.ids,
        }
    }
    pub fn agent_index(&self, id: &str) -> EngineResult<u32> {
        self.setup
            .index
            .get(id)
            .copied()
            .ok_or_else(|| EngineError::UnknownAgent(id.to_string()))
    }
    pub fn state(&self) -> &State {
        &self.st
    }

    /// Runs until `current_tick = t` (`t ≤ T`).
    pub fn run_until(&mut self, t: u32) -> EngineResult<()> {
        let t = t.min(self.setup.total_ticks);
        while self.st.tick < t {
            self.tick()?;
        }
        Ok(())
    }

    /// Runs to the end of the episode.
    pub fn run(&mut self) -> EngineResult<()> {
        self.run_until(self.setup.total_ticks)
    }

    /// Installs a decision source for one agent (tests and embedders drive policies this way).
    #[doc(hidden)]
    pub fn set_decider(
        &mut self,
        agent: &str,
        decider: Box<dyn decisions::Decider>,
    ) -> EngineResult<()> {
        let i = self.agent_index(agent)? as usize;
        if self.deciders.len() < self.st.agents.len() {
            self.deciders.resize_with(self.st.agents.len(), || None);
        }
        self.deciders[i] = Some(decider);
        Ok(())
    }

    /// Frees retained events below `seq`.
    pub fn release_events_before(&mut self, seq: u64) {
        self.events.release_before(seq);
    }
}

/// Serializes a hash map as a sorted list of entries (deterministic checkpoint bytes).
mod sorted_map {
    use std::collections::HashMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    type Map = HashMap<(u32, u32), i64>;

    pub fn serialize<S: Serializer>(map: &Map, s: S) -> Result<S::Ok, S::Error> {
        let mut entries: Vec<(&(u32, u32), &i64)> = map.iter().collect();
        entries.sort_unstable();
        entries.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Map, D::Error> {
        let entries: Vec<((u32, u32), i64)> = Vec::deserialize(d)?;
        Ok(entries.into_iter().collect())
    }
}
