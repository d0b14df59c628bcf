//! Checkpoints (ENGINE.md §11): the complete `State`, serialized with postcard inside the
//! versioned, checksummed frame of `checkpoint_frame`. Restore rebuilds `Setup` from the config
//! and refuses a checkpoint whose config hash differs.

use std::sync::Arc;

use super::{Engine, Scratch, Setup, State};
use crate::checkpoint_frame::{self, CheckpointError, CheckpointHeader};
use crate::error::{EngineError, EngineResult};
use crate::events::EventLog;

/// Bumped whenever `State`'s serialized shape changes.
pub const CHECKPOINT_FORMAT: u16 = 2;

impl Engine {
    /// The complete state between ticks, as bytes.
    pub fn checkpoint(&self) -> EngineResult<Vec<u8>> {
        if let Some(e) = &self.failed_error {
            return Err(EngineError::EngineFailed(Box::new(e.clone())));
        }
        let payload = postcard::to_allocvec(&self.st)
            .map_err(|e| EngineError::Checkpoint(CheckpointError::Corrupt(e.to_string())))?;
        let header = CheckpointHeader {
            format_version: CHECKPOINT_FORMAT,
            engine_version: crate::VERSION.to_string(),
            config_hash: self.setup.config_hash,
            current_tick: self.st.tick,
        };
        Ok(checkpoint_frame::encode(&header, &payload))
    }

    /// Rebuilds an engine from its config and a checkpoint; it continues exactly as the
    /// original would have. No events are emitted; the next event has the saved seq.
    pub fn restore(config_json: &str, bytes: &[u8]) -> EngineResult<Engine> {
        let value = crate::config::parse_value(config_json)?;
        let cfg = crate::config::parse(config_json)?;
        let setup = Setup::build(cfg, value)?;
        let (header, payload) =
            checkpoint_frame::decode(bytes, &setup.config_hash, CHECKPOINT_FORMAT)?;
        let mut st: State = postcard::from_bytes(payload)
            .map_err(|e| EngineError::Checkpoint(CheckpointError::Corrupt(e.to_string())))?;
        st.rebuild_derived();
        if st.tick != header.current_tick || st.agents.len() != setup.ids.len() {
            return Err(EngineError::Checkpoint(CheckpointError::Corrupt(
                "header and payload disagree".into(),
            )));
        }
        let mut compiled = Vec::with_capacity(st.policies.len());
        for (i, p) in st.policies.iter().enumerate() {
            let rp = crate::policy_rt::RuntimePolicy::from_parts(
                p.document.clone(),
                p.overrides.clone(),
            )
            .map_err(|r| EngineError::Policy {
                agent: setup.ids.get(i).cloned().unwrap_or_default(),
                message: r.message,
                problems: r.problems,
            })?;
            compiled.push(rp.compiled);
        }
        let failed_error = st.failed.clone().map(|m| EngineError::Overflow {
            tick: st.tick,
            what: m,
        });
        let mut engine = Engine {
            events: EventLog::with_start_seq(st.next_event_seq),
            setup: Arc::new(setup),
            st,
            scratch: Scratch::default(),
            deciders: Vec::new(),
            compiled,
            decision_path: Vec::new(),
            pending_q2: Vec::new(),
            needs_pass_cache: [false; 4],
            failed_error,
            tick_settled: 0,
            tick_lsm: 0,
            tick_arrivals: 0,
        };
        engine.refresh_needs_pass();
        Ok(engine)
    }
}
