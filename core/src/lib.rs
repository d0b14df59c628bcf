//! paysim-core: the deterministic RTGS simulation engine.
//!
//! This crate is pure Rust and knows nothing about Python; the `bindings` crate wraps it for
//! `paysim._core`. Everything here is testable with `cargo test`. Module map (ARCHITECTURE.md):
//! `config` (the engine config and its validation), `state` (agents, payments, slab),
//! `arrivals` (random streams and distributions), `costs` and `liquidity` (integer money
//! formulas), `events` (the compact event log), `engine` (the tick loop, settlement, scenario
//! events, queries, checkpoints), `checkpoint_frame` (checkpoint framing and the config hash),
//! `policy_rt` (the policy seam of the tick loop).

pub mod arrivals;
pub mod checkpoint_frame;
pub mod config;
pub mod costs;
pub mod engine;
pub mod error;
pub mod events;
pub mod liquidity;
pub mod policy;
pub mod policy_rt;
pub mod state;

pub use engine::{Engine, TickSummary};
pub use error::{EngineError, EngineResult};

/// The engine's version, shared by the Python package (maturin takes the package version from
/// the bindings crate, which inherits it from the workspace, as this crate does).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(test)]
mod tests {
    #[test]
    fn version_is_semver() {
        let parts: Vec<&str> = super::VERSION.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| p.parse::<u32>().is_ok()));
    }
}
