//! `run_many`: independent simulations on a pool of threads (ENGINE.md §13). Each run owns
//! its engine, events are discarded as produced, and results come back in input order, so the
//! outcome is identical to running them one after another.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::Engine;
use crate::error::EngineResult;

/// One run of `run_many`: the engine config and the externally supplied arrivals (from
/// arrival-generator plugins) to inject before it starts.
#[derive(Clone, Debug, Default)]
pub struct RunSpec {
    pub config_json: String,
    pub arrivals: Vec<super::InjectRecord>,
}

/// Runs one config to the end, discarding events as it goes; returns the engine summary with
/// `wall_seconds`, the time this run took from building the engine to its summary.
pub fn run_to_summary(spec: &RunSpec) -> EngineResult<serde_json::Value> {
    let start = std::time::Instant::now();
    let mut e = Engine::new(&spec.config_json)?;
    if !spec.arrivals.is_empty() {
        e.inject_arrivals(&spec.arrivals)?;
    }
    while !e.done() {
        e.tick()?;
        let next = e.events().next_seq();
        e.release_events_before(next);
    }
    let mut summary = e.summary();
    if let Some(map) = summary.as_object_mut() {
        map.insert(
            "wall_seconds".into(),
            serde_json::json!(start.elapsed().as_secs_f64()),
        );
    }
    Ok(summary)
}

/// Runs every config on up to `threads` threads (default: the available cores). A failing run
/// returns its error in its slot without stopping the others.
pub fn run_many(
    configs: &[RunSpec],
    threads: Option<usize>,
) -> Vec<EngineResult<serde_json::Value>> {
    let n = configs.len();
    let threads = threads
        .or_else(|| std::thread::available_parallelism().ok().map(|p| p.get()))
        .unwrap_or(1)
        .clamp(1, n.max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<EngineResult<serde_json::Value>>>> =
        Mutex::new((0..n).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(cfg) = configs.get(i) else {
                    break;
                };
                let outcome = run_to_summary(cfg);
                if let Ok(mut slots) = results.lock() {
                    slots[i] = Some(outcome);
                }
            });
        }
    });
    let slots = results.into_inner().unwrap_or_default();
    slots
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(crate::error::EngineError::Overflow {
                    tick: 0,
                    what: "run did not complete".into(),
                })
            })
        })
        .collect()
}
