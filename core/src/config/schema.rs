//! Serde shapes of the engine config. Every key is required (the Python layer fills defaults),
//! unknown keys are rejected, so a drift between the two layers fails loudly.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::lsm::LsmCfg;
use crate::costs::CostRatesConfig;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    pub simulation: SimulationCfg,
    pub agents: Vec<AgentCfg>,
    pub cost_rates: CostRatesConfig,
    pub lsm_config: LsmCfg,
    pub settlement: SettlementCfg,
    pub scenario_events: Vec<ScenarioEventCfg>,
    pub on_policy_error: OnPolicyError,
}

impl EngineConfig {
    /// `T`: the number of ticks of the episode.
    pub fn total_ticks(&self) -> u64 {
        u64::from(self.simulation.ticks_per_day) * u64::from(self.simulation.num_days)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationCfg {
    pub ticks_per_day: u32,
    pub num_days: u32,
    pub rng_seed: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentCfg {
    pub id: String,
    pub opening_balance: i64,
    pub unsecured_cap: i64,
    pub posted_collateral: i64,
    pub collateral_haircut: f64,
    pub max_collateral_capacity: Option<i64>,
    pub liquidity_pool: i64,
    pub liquidity_allocation_fraction: f64,
    pub liquidity_buffer: i64,
    pub limits: LimitsCfg,
    pub policy: PolicyCfg,
    pub arrival_config: Option<StreamCfg>,
    pub arrival_bands: Option<BandsCfg>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsCfg {
    pub bilateral_limits: BTreeMap<String, i64>,
    pub multilateral_limit: Option<i64>,
}

/// A policy already resolved to its document by the Python policy sources.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyCfg {
    pub document: serde_json::Value,
    pub parameters: BTreeMap<String, f64>,
    pub source: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandsCfg {
    pub urgent: Option<StreamCfg>,
    pub normal: Option<StreamCfg>,
    pub low: Option<StreamCfg>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamCfg {
    pub rate_per_tick: f64,
    pub amount_distribution: AmountCfg,
    pub counterparty_weights: BTreeMap<String, f64>,
    pub deadline_range: [u32; 2],
    pub priority_distribution: Option<PriorityCfg>,
    pub divisible: bool,
    pub time_windows: Vec<TimeWindowCfg>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum AmountCfg {
    Uniform {
        min: i64,
        max: i64,
    },
    Normal {
        mean: f64,
        std_dev: f64,
    },
    /// Either `{mu, sigma}` (log space) or `{mean, std_dev}` (arithmetic moments in cents).
    LogNormal {
        #[serde(default)]
        mu: Option<f64>,
        #[serde(default)]
        sigma: Option<f64>,
        #[serde(default)]
        mean: Option<f64>,
        #[serde(default)]
        std_dev: Option<f64>,
    },
    Exponential {
        #[serde(default)]
        mean: Option<f64>,
        #[serde(default)]
        lambda: Option<f64>,
    },
    Fixed {
        amount: i64,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum PriorityCfg {
    Fixed { value: i64 },
    Uniform { min: i64, max: i64 },
    Categorical { values: Vec<i64>, weights: Vec<f64> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeWindowCfg {
    pub start_tick: u32,
    pub end_tick: u32,
    pub rate_multiplier: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Queue1Ordering {
    Fifo,
    PriorityDeadline,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationCfg {
    pub enabled: bool,
    pub curve: String,
    pub start_escalating_at_ticks: u32,
    pub max_boost: u8,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettlementCfg {
    pub deferred_crediting: bool,
    pub deadline_cap_at_eod: bool,
    pub queue1_ordering: Queue1Ordering,
    pub priority_mode: bool,
    pub priority_escalation: EscalationCfg,
    pub entry_disposition_offsetting: bool,
    pub algorithm_sequencing: bool,
    pub eod_rush_threshold: f64,
    pub daily_liquidity_reallocation: bool,
    pub record_decision_paths: bool,
    pub throughput_guidance: Vec<[f64; 2]>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnPolicyError {
    Fail,
    Hold,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RtgsPriority {
    HighlyUrgent,
    Urgent,
    Normal,
}

impl RtgsPriority {
    pub fn as_str(self) -> &'static str {
        match self {
            RtgsPriority::HighlyUrgent => "HighlyUrgent",
            RtgsPriority::Urgent => "Urgent",
            RtgsPriority::Normal => "Normal",
        }
    }
    /// Rank used by Q2 ordering under `priority_mode` and by the `rtgs_priority` field.
    pub fn rank(self) -> u8 {
        self as u8
    }
    pub fn from_rank(rank: u8) -> Self {
        match rank {
            0 => RtgsPriority::HighlyUrgent,
            1 => RtgsPriority::Urgent,
            _ => RtgsPriority::Normal,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum ScheduleCfg {
    OneTime { tick: u32 },
    Repeating { start_tick: u32, interval: u32 },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum ScenarioEventCfg {
    DirectTransfer {
        schedule: Option<ScheduleCfg>,
        from_agent: String,
        to_agent: String,
        amount: i64,
    },
    CustomTransactionArrival {
        schedule: Option<ScheduleCfg>,
        from_agent: String,
        to_agent: String,
        amount: i64,
        priority: i64,
        deadline: Option<u32>,
        is_divisible: bool,
        rtgs_priority: RtgsPriority,
    },
    ScheduledSettlement {
        schedule: Option<ScheduleCfg>,
        from_agent: String,
        to_agent: String,
        amount: i64,
    },
    CollateralAdjustment {
        schedule: Option<ScheduleCfg>,
        agent: String,
        delta: i64,
    },
    UnsecuredCapChange {
        schedule: Option<ScheduleCfg>,
        agent: String,
        delta: i64,
    },
    GlobalArrivalRateChange {
        schedule: Option<ScheduleCfg>,
        multiplier: f64,
    },
    AgentArrivalRateChange {
        schedule: Option<ScheduleCfg>,
        agent: String,
        multiplier: f64,
    },
    CounterpartyWeightChange {
        schedule: Option<ScheduleCfg>,
        agent: String,
        counterparty: String,
        new_weight: f64,
    },
    DeadlineWindowChange {
        schedule: Option<ScheduleCfg>,
        min_ticks_multiplier: Option<f64>,
        max_ticks_multiplier: Option<f64>,
    },
    AgentOutage {
        schedule: Option<ScheduleCfg>,
        agent: String,
        start_tick: u32,
        end_tick: u32,
    },
    PolicyChange {
        schedule: Option<ScheduleCfg>,
        agent: String,
        policy: PolicyCfg,
    },
}

impl ScenarioEventCfg {
    pub fn type_name(&self) -> &'static str {
        match self {
            ScenarioEventCfg::DirectTransfer { .. } => "DirectTransfer",
            ScenarioEventCfg::CustomTransactionArrival { .. } => "CustomTransactionArrival",
            ScenarioEventCfg::ScheduledSettlement { .. } => "ScheduledSettlement",
            ScenarioEventCfg::CollateralAdjustment { .. } => "CollateralAdjustment",
            ScenarioEventCfg::UnsecuredCapChange { .. } => "UnsecuredCapChange",
            ScenarioEventCfg::GlobalArrivalRateChange { .. } => "GlobalArrivalRateChange",
            ScenarioEventCfg::AgentArrivalRateChange { .. } => "AgentArrivalRateChange",
            ScenarioEventCfg::CounterpartyWeightChange { .. } => "CounterpartyWeightChange",
            ScenarioEventCfg::DeadlineWindowChange { .. } => "DeadlineWindowChange",
            ScenarioEventCfg::AgentOutage { .. } => "AgentOutage",
            ScenarioEventCfg::PolicyChange { .. } => "PolicyChange",
        }
    }

    pub fn schedule(&self) -> Option<ScheduleCfg> {
        match self {
            ScenarioEventCfg::DirectTransfer { schedule, .. }
            | ScenarioEventCfg::CustomTransactionArrival { schedule, .. }
            | ScenarioEventCfg::ScheduledSettlement { schedule, .. }
            | ScenarioEventCfg::CollateralAdjustment { schedule, .. }
            | ScenarioEventCfg::UnsecuredCapChange { schedule, .. }
            | ScenarioEventCfg::GlobalArrivalRateChange { schedule, .. }
            | ScenarioEventCfg::AgentArrivalRateChange { schedule, .. }
            | ScenarioEventCfg::CounterpartyWeightChange { schedule, .. }
            | ScenarioEventCfg::DeadlineWindowChange { schedule, .. }
            | ScenarioEventCfg::AgentOutage { schedule, .. }
            | ScenarioEventCfg::PolicyChange { schedule, .. } => *schedule,
        }
    }

    /// Whether the event fires at tick `t` (outages fire at their start and at their end).
    pub fn fires_at(&self, t: u32) -> bool {
        if let ScenarioEventCfg::AgentOutage {
            start_tick,
            end_tick,
            ..
        } = self
        {
            return t == *start_tick || t == *end_tick;
        }
        match self.schedule() {
            Some(ScheduleCfg::OneTime { tick }) => tick == t,
            Some(ScheduleCfg::Repeating {
                start_tick,
                interval,
            }) => interval > 0 && t >= start_tick && (t - start_tick).is_multiple_of(interval),
            None => false,
        }
    }
}
