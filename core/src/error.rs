//! Engine errors: one enum for the engine layer, each variant carrying where it happened.
//! The bindings map them to the Python hierarchy of INTERFACES.md §2.

use thiserror::Error;

pub use crate::checkpoint_frame::CheckpointError;

/// A config value is wrong; `pointer` is the RFC 6901 JSON pointer of the value.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{}: {message}", if pointer.is_empty() { "config" } else { pointer.as_str() })]
pub struct ConfigError {
    pub pointer: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(pointer: String, message: String) -> Self {
        ConfigError { pointer, message }
    }
}

/// A batch of injected arrivals was rejected as a whole because of one record.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("injected record {index}, field `{field}`: {message}")]
pub struct InjectError {
    pub index: usize,
    pub field: &'static str,
    pub message: String,
}

/// A policy failed to evaluate at run time (under `on_policy_error: fail`).
#[derive(Debug, Clone, PartialEq, Error)]
#[error("policy `{policy_id}` of agent `{agent_id}` failed in {tree} at node `{node_id}` (tick {tick}{}): {message}", tx_id.as_ref().map(|t| format!(", payment {t}")).unwrap_or_default())]
pub struct PolicyFailure {
    pub kind: String,
    pub policy_id: String,
    pub agent_id: String,
    pub tree: String,
    pub node_id: String,
    pub pointer: String,
    pub tx_id: Option<String>,
    pub tick: u32,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum EngineError {
    #[error("invalid config at {0}")]
    Config(#[from] ConfigError),
    #[error("invalid injected arrivals: {0}")]
    Inject(#[from] InjectError),
    #[error("invalid policy for agent `{agent}`: {message}")]
    Policy {
        agent: String,
        message: String,
        problems: Vec<crate::policy_rt::PolicyProblem>,
    },
    #[error("{0}")]
    PolicyEvaluation(Box<PolicyFailure>),
    #[error("unknown agent `{0}`")]
    UnknownAgent(String),
    #[error("unknown payment `{0}`")]
    UnknownPayment(String),
    #[error("the episode is complete ({total_ticks} ticks)")]
    EpisodeComplete { total_ticks: u32 },
    #[error("events below seq {oldest_retained} were released")]
    EventsReleased { oldest_retained: u64 },
    #[error("checkpoint rejected: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("arithmetic overflow at tick {tick}: {what}")]
    Overflow { tick: u32, what: String },
    #[error("the engine failed earlier and refuses further work: {0}")]
    EngineFailed(Box<EngineError>),
}

pub type EngineResult<T> = Result<T, EngineError>;
