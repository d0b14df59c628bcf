//! The compact event log (ENGINE.md §11–§14).
//!
//! Every state change of the engine is an event (P5), and a day of a
//! TARGET2-sized run emits millions of them, so the log is built around three
//! constraints:
//!
//! * **Memory**: ≤ 64 bytes held per event before export (§14). Events are
//!   stored as columns of fixed-width integers plus one details byte buffer
//!   with a compact tagged encoding; agent and payment ids are stored as dense
//!   indices and creation numbers, never as strings; repeated short strings go
//!   through a small string table. See `log.rs` and `value.rs`.
//! * **Speed**: emission is on the hot path of every tick, so [`EventLog::emit`]
//!   takes borrowed [`Val`]s and only appends bytes (no allocation per event
//!   beyond amortised buffer growth). Rendering to strings and JSON happens
//!   only at export, when the caller drains events.
//! * **Determinism** (§11): the export is byte-identical for identical emission
//!   sequences: details keep emission order, floats render as their shortest
//!   round-trip decimal, strings have one escaping rule, and nothing depends on
//!   hash-map iteration order or on the machine.
//!
//! Consumers: the bindings call [`EventLog::export`] (Arrow-layout columns for
//! `events_since`), [`EventLog::export_coded`] (the same rows with ids as
//! numbers) or [`EventLog::export_stored`] (ids as numbers and details as a
//! [`DetailShapes`] shape plus integers, what the store writes) and
//! [`EventLog::release_before`] (`release_events_before`);
//! Rust code reads decoded [`EventView`]s via [`EventLog::get`] and
//! [`EventLog::iter_from`], or the cheaper [`EventRow`]s.
//!
//! Typical use:
//!
//! ```
//! use paysim_core::events::{EventLog, EventType, Key, Names, Val};
//! struct Ids;
//! impl Names for Ids {
//!     fn tx_id(&self, key: u64, out: &mut String) { paysim_core::state::tx_id_of(key, out) }
//!     fn agent_id(&self, index: u32) -> &str { ["A", "B"][index as usize] }
//! }
//! let mut log = EventLog::new();
//! let seq = log.emit(0, EventType::Arrival, Some(1 << 8), Some(0), Some(1), Some(500), &[
//!     (Key::DeadlineTick, Val::U64(9)),
//!     (Key::Source, Val::Str("generated")),
//! ]);
//! let batch = log.export(seq, None, 10, &Ids).expect("retained");
//! assert_eq!(batch.len, 1);
//! log.release_before(seq + batch.len as u64);
//! assert_eq!(log.oldest_retained(), 1);
//! ```
//!
//! The module depends only on `std`; it is self-contained so it can live at
//! `core/src/events/`.

mod export;
mod flows;
mod json;
mod kinds;
mod log;
mod value;

#[cfg(test)]
mod tests;

pub use export::{
    CodedEventBatch, DetailShapes, EventBatch, I32Column, I64Column, PrimitiveColumn,
    StoredEventBatch, U64Column, Utf8Column,
};
pub use flows::{BalanceMoves, TickCounts};
pub use json::{
    event_json_line, write_details_owned, write_f64_json, write_i64, write_json_string,
    write_root_tx_id, write_u64, Names, Slots,
};
pub use kinds::{EventType, Key, UnknownName};
pub use log::{EventIter, EventLog, EventRow, EventView, EventsReleased, RowIter, CHUNK_ROWS};
pub use value::{OwnedVal, Val};
