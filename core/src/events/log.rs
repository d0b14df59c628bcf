//! The event log: columnar, chunked, append-only with front release.
//!
//! **Why columns.** An event row is a handful of small fixed-width fields plus
//! a few details. Stored as a struct of `Vec`s (tick `u32`, type `u8`, tx `u64`,
//! agent and counterparty `u32`, amount `i64` + presence bit, details end
//! offset `u32`) the fixed part costs 33 bytes and 1 bit, with no padding, no
//! `Option` discriminants and no per-event heap object; details are bytes in
//! one buffer (see `value.rs`). This is what meets the ≤ 64 bytes per event
//! target of ENGINE.md §14, and it is also the shape of the Arrow export.
//!
//! **Why chunks.** Rows live in chunks of [`CHUNK_ROWS`] rows. A chunk that is
//! full is shrunk to its exact size, so only the newest chunk carries the
//! slack of amortised `Vec` growth; a single growing buffer would hold up to
//! twice the data right after doubling. Releasing old events
//! (`release_before`) drops whole chunks from the front of a `VecDeque`:
//! amortised O(1) per released event, nothing is copied or rebased, and a long
//! run that drains its events holds a bounded amount of memory (ENGINE.md P4).
//! One released chunk is kept and reused for new rows, and chunks after the
//! first are allocated at their final size, so a run that drains its events
//! every tick allocates nothing in the steady state (ENGINE.md §14). The price
//! is that memory is freed at chunk granularity: rows below the oldest
//! retained seq may stay in memory until their chunk is entirely released;
//! they are never visible.
//!
//! **Sequence numbers** are implicit: a chunk knows the seq of its first row,
//! and a row's seq is that plus its index. Seqs are gap-free by construction
//! (ENGINE.md I9) and survive release.

use std::collections::VecDeque;
use std::fmt;

use super::json::{write_details_encoded, Names};
use super::kinds::{EventType, Key};
use super::value::{decode_val, encode_detail, Interner, OwnedBuilder, OwnedVal, Reader, Val};

/// Rows per chunk. 4096 rows hold about 140 KB of fixed columns: small enough
/// that the partly-filled newest chunk and a partly-released oldest chunk are
/// negligible next to a run's events, large enough that per-chunk overhead
/// (one `Chunk` struct, a binary-search step) is nothing per event.
pub const CHUNK_ROWS: usize = 4096;

/// Stored in `tx` for "no payment". Creation numbers start at 1 and can never
/// reach it; passing `Some(u64::MAX)` reads back as `None`.
const NO_TX: u64 = u64::MAX;
/// Stored in `agent` / `cp` for "no agent"; `Some(u32::MAX)` reads back as
/// `None`. Agent indices are far below it.
const NO_AGENT: u32 = u32::MAX;

/// A request for events that have been released (`release_before`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsReleased {
    /// The oldest seq still retained; requests from here on succeed.
    pub oldest_retained: u64,
}

impl fmt::Display for EventsReleased {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "events before seq {} have been released",
            self.oldest_retained
        )
    }
}

impl std::error::Error for EventsReleased {}

/// The fixed columns of one event, without its details (cheap to produce:
/// no allocation). Enough for balance reconstruction (ENGINE.md §12.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventRow {
    /// Sequence number.
    pub seq: u64,
    /// Tick of emission.
    pub tick: u32,
    /// Event type.
    pub ty: EventType,
    /// Payment (internal creation number).
    pub tx: Option<u64>,
    /// Agent index (`agent_id`).
    pub agent: Option<u32>,
    /// Counterparty index (`counterparty_id`).
    pub cp: Option<u32>,
    /// Amount in cents.
    pub amount: Option<i64>,
}

/// One decoded event, for Rust-side consumers (tests, reconstruction, the
/// engine's own summaries). The bindings use the Arrow export instead.
#[derive(Clone, Debug, PartialEq)]
pub struct EventView {
    /// Sequence number.
    pub seq: u64,
    /// Tick of emission.
    pub tick: u32,
    /// Event type.
    pub ty: EventType,
    /// Payment (internal creation number).
    pub tx: Option<u64>,
    /// Agent index (`agent_id`).
    pub agent: Option<u32>,
    /// Counterparty index (`counterparty_id`).
    pub cp: Option<u32>,
    /// Amount in cents.
    pub amount: Option<i64>,
    /// Details in emission order.
    pub details: Vec<(Key, OwnedVal)>,
}

impl EventView {
    /// The value of detail `key`, if present (first occurrence).
    pub fn detail(&self, key: Key) -> Option<&OwnedVal> {
        self.details.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// `day = tick / ticks_per_day` (0 when `ticks_per_day` is 0).
    pub fn day(&self, ticks_per_day: u32) -> u32 {
        self.tick.checked_div(ticks_per_day).unwrap_or(0)
    }

    /// The fixed columns.
    pub fn row(&self) -> EventRow {
        EventRow {
            seq: self.seq,
            tick: self.tick,
            ty: self.ty,
            tx: self.tx,
            agent: self.agent,
            cp: self.cp,
            amount: self.amount,
        }
    }
}

/// Up to [`CHUNK_ROWS`] consecutive events, column by column.
pub(super) struct Chunk {
    /// Seq of row 0.
    base_seq: u64,
    tick: Vec<u32>,
    ty: Vec<u8>,
    tx: Vec<u64>,
    agent: Vec<u32>,
    cp: Vec<u32>,
    amount: Vec<i64>,
    /// Bit `i % 64` of word `i / 64`: row `i` has an amount.
    amount_present: Vec<u64>,
    /// End offset of row `i`'s details in `details`; row `i` starts where row
    /// `i − 1` ends (0 for row 0). Offsets are chunk-relative, so `u32` suffices
    /// and nothing needs rebasing when earlier chunks are dropped.
    details_end: Vec<u32>,
    details: Vec<u8>,
}

impl Chunk {
    /// A chunk with room for `rows` rows and `detail_bytes` of details.
    fn with_capacity(base_seq: u64, rows: usize, detail_bytes: usize) -> Self {
        Chunk {
            base_seq,
            tick: Vec::with_capacity(rows),
            ty: Vec::with_capacity(rows),
            tx: Vec::with_capacity(rows),
            agent: Vec::with_capacity(rows),
            cp: Vec::with_capacity(rows),
            amount: Vec::with_capacity(rows),
            amount_present: Vec::with_capacity(rows.div_ceil(64)),
            details_end: Vec::with_capacity(rows),
            details: Vec::with_capacity(detail_bytes),
        }
    }

    /// Empties the chunk for reuse at `base_seq`, keeping its buffers.
    fn reset(&mut self, base_seq: u64) {
        self.base_seq = base_seq;
        self.tick.clear();
        self.ty.clear();
        self.tx.clear();
        self.agent.clear();
        self.cp.clear();
        self.amount.clear();
        self.amount_present.clear();
        self.details_end.clear();
        self.details.clear();
    }

    pub(super) fn len(&self) -> usize {
        self.tick.len()
    }

    fn shrink_to_fit(&mut self) {
        self.tick.shrink_to_fit();
        self.ty.shrink_to_fit();
        self.tx.shrink_to_fit();
        self.agent.shrink_to_fit();
        self.cp.shrink_to_fit();
        self.amount.shrink_to_fit();
        self.amount_present.shrink_to_fit();
        self.details_end.shrink_to_fit();
        self.details.shrink_to_fit();
    }

    fn bytes_held(&self) -> usize {
        use core::mem::size_of;
        self.tick.capacity() * size_of::<u32>()
            + self.ty.capacity()
            + self.tx.capacity() * size_of::<u64>()
            + self.agent.capacity() * size_of::<u32>()
            + self.cp.capacity() * size_of::<u32>()
            + self.amount.capacity() * size_of::<i64>()
            + self.amount_present.capacity() * size_of::<u64>()
            + self.details_end.capacity() * size_of::<u32>()
            + self.details.capacity()
    }

    pub(super) fn row(&self, i: usize) -> Option<EventRow> {
        let ty = EventType::from_code(*self.ty.get(i)?)?;
        let tx = *self.tx.get(i)?;
        let agent = *self.agent.get(i)?;
        let cp = *self.cp.get(i)?;
        let present = self.amount_present.get(i / 64)? >> (i % 64) & 1 == 1;
        Some(EventRow {
            seq: self.base_seq + i as u64,
            tick: *self.tick.get(i)?,
            ty,
            tx: (tx != NO_TX).then_some(tx),
            agent: (agent != NO_AGENT).then_some(agent),
            cp: (cp != NO_AGENT).then_some(cp),
            amount: if present {
                self.amount.get(i).copied()
            } else {
                None
            },
        })
    }

    /// The encoded details of row `i`.
    pub(super) fn details_bytes(&self, i: usize) -> &[u8] {
        let start = match i.checked_sub(1) {
            Some(p) => self.details_end.get(p).copied().unwrap_or(0),
            None => 0,
        };
        let end = self.details_end.get(i).copied().unwrap_or(start);
        self.details
            .get(start as usize..end as usize)
            .unwrap_or(&[])
    }
}

/// Decodes encoded details into owned pairs; stops at the first malformed
/// byte (cannot happen for bytes the log wrote).
fn decode_details(bytes: &[u8], strings: &Interner) -> Vec<(Key, OwnedVal)> {
    let mut out = Vec::new();
    let mut r = Reader::new(bytes);
    let mut b = OwnedBuilder::default();
    while !r.at_end() {
        let Some(key) = r.byte().and_then(Key::from_code) else {
            break;
        };
        if decode_val(&mut r, strings, &mut b).is_none() {
            break;
        }
        match b.take() {
            Some(v) => out.push((key, v)),
            None => break,
        }
    }
    out
}

/// The engine's event log. See the module documentation for the layout.
pub struct EventLog {
    /// Full chunks, oldest first, each shrunk to its exact size.
    sealed: VecDeque<Chunk>,
    /// The chunk being appended to. Kept outside the ring so that the hot
    /// path reaches it without ring-buffer index arithmetic.
    active: Chunk,
    /// One released chunk kept for reuse, so that a run which drains and
    /// releases its events regularly allocates nothing in the steady state.
    spare: Option<Chunk>,
    /// Seq of the next event to be emitted.
    next_seq: u64,
    /// Seqs below this have been released.
    oldest: u64,
    pub(super) strings: Interner,
}

impl fmt::Debug for EventLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventLog")
            .field("oldest_retained", &self.oldest)
            .field("next_seq", &self.next_seq)
            .field("chunks", &(self.sealed.len() + 1))
            .field("interned_strings", &self.strings.len())
            .field("bytes_held", &self.bytes_held())
            .finish()
    }
}

impl Default for EventLog {
    fn default() -> Self {
        Self::new()
    }
}

impl EventLog {
    /// An empty log whose first event gets seq 0.
    pub fn new() -> Self {
        Self::with_start_seq(0)
    }

    /// An empty log whose first event gets seq `seq`: a restored engine
    /// continues the seqs of the run it was checkpointed from (ENGINE.md §11);
    /// the earlier seqs count as released. Allocates nothing until the first
    /// event.
    pub fn with_start_seq(seq: u64) -> Self {
        EventLog {
            sealed: VecDeque::new(),
            active: Chunk::with_capacity(seq, 0, 0),
            spare: None,
            next_seq: seq,
            oldest: seq,
            strings: Interner::default(),
        }
    }

    /// Seq the next emitted event will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Oldest seq that can still be read (`== next_seq()` when none is).
    pub fn oldest_retained(&self) -> u64 {
        self.oldest
    }

    /// Number of retained events.
    pub fn len(&self) -> usize {
        usize::try_from(self.next_seq - self.oldest).unwrap_or(usize::MAX)
    }

    /// No retained events.
    pub fn is_empty(&self) -> bool {
        self.next_seq == self.oldest
    }

    /// Appends one event and returns its seq. Details are rendered in the
    /// order given; keys should be distinct (JSON objects with repeated keys
    /// are legal but ambiguous to readers).
    ///
    /// Hot path: no allocation beyond amortised growth of the active chunk's
    /// buffers (and, once per distinct short string, the string table).
    /// `tx = Some(u64::MAX)` and `agent`/`cp = Some(u32::MAX)` are reserved as
    /// "absent". A single event's encoded details are limited to 4 GiB; beyond
    /// that (impossible in practice: the engine would run out of memory
    /// first) they are replaced by `{"message": "details too large"}` instead
    /// of failing.
    #[allow(clippy::too_many_arguments)]
    pub fn emit(
        &mut self,
        tick: u32,
        ty: EventType,
        tx: Option<u64>,
        agent: Option<u32>,
        cp: Option<u32>,
        amount: Option<i64>,
        details: &[(Key, Val<'_>)],
    ) -> u64 {
        let seq = self.next_seq;
        if self.active.len() >= CHUNK_ROWS {
            self.rotate();
        }
        let end = match self.append_details(details) {
            Some(end) => end,
            None => {
                // The chunk's details buffer would pass 4 GiB: move to a fresh
                // chunk, and if the event alone is that large, replace it.
                if self.active.len() > 0 {
                    self.rotate();
                }
                self.append_details(details)
                    .or_else(|| {
                        self.append_details(&[(Key::Message, Val::Str("details too large"))])
                    })
                    .unwrap_or(0)
            }
        };
        let c = &mut self.active;
        let i = c.len();
        c.tick.push(tick);
        c.ty.push(ty.code());
        c.tx.push(tx.unwrap_or(NO_TX));
        c.agent.push(agent.unwrap_or(NO_AGENT));
        c.cp.push(cp.unwrap_or(NO_AGENT));
        c.amount.push(amount.unwrap_or(0));
        let bit = u64::from(amount.is_some()) << (i % 64);
        if i.is_multiple_of(64) {
            c.amount_present.push(bit);
        } else if let Some(w) = c.amount_present.last_mut() {
            *w |= bit;
        }
        c.details_end.push(end);
        self.next_seq += 1;
        seq
    }

    /// Seals the active chunk (shrunk to its exact size, appended to the
    /// ring) and starts a new one at `next_seq`. The new chunk reuses the
    /// spare if there is one; else it is sized for `CHUNK_ROWS` rows and the
    /// sealed chunk's details volume plus 1/8, so it usually never regrows
    /// (regrowing copies and transiently doubles the buffer). Only the first
    /// chunk of a log starts empty and grows, so that small logs stay small.
    fn rotate(&mut self) {
        let fresh = match self.spare.take() {
            Some(mut c) => {
                c.reset(self.next_seq);
                c
            }
            None => {
                let bytes = self.active.details.len();
                Chunk::with_capacity(self.next_seq, CHUNK_ROWS, bytes + bytes / 8)
            }
        };
        let mut full = core::mem::replace(&mut self.active, fresh);
        full.shrink_to_fit();
        self.sealed.push_back(full);
    }

    /// Encodes `details` at the end of the active chunk's buffer and returns
    /// the new end offset, or `None` (buffer unchanged) if it would not fit
    /// in a `u32` offset.
    fn append_details(&mut self, details: &[(Key, Val<'_>)]) -> Option<u32> {
        let buf = &mut self.active.details;
        let start = buf.len();
        for (key, v) in details {
            encode_detail(buf, key.code(), v, &mut self.strings);
        }
        match u32::try_from(buf.len()) {
            Ok(end) => Some(end),
            Err(_) => {
                buf.truncate(start);
                None
            }
        }
    }

    /// Chunk `i` in seq order: the sealed chunks, then the active one.
    pub(super) fn chunk(&self, i: usize) -> Option<&Chunk> {
        match self.sealed.get(i) {
            Some(c) => Some(c),
            None => (i == self.sealed.len()).then_some(&self.active),
        }
    }

    /// Chunk index and row of `seq`: `Err` below the retained range, `None`
    /// at or beyond `next_seq`.
    pub(super) fn locate(&self, seq: u64) -> Result<Option<(usize, usize)>, EventsReleased> {
        if seq < self.oldest {
            return Err(EventsReleased {
                oldest_retained: self.oldest,
            });
        }
        if seq >= self.next_seq {
            return Ok(None);
        }
        let ci = if seq >= self.active.base_seq {
            self.sealed.len()
        } else {
            match self
                .sealed
                .partition_point(|c| c.base_seq <= seq)
                .checked_sub(1)
            {
                Some(ci) => ci,
                None => return Ok(None),
            }
        };
        let Some(c) = self.chunk(ci) else {
            return Ok(None);
        };
        let row = usize::try_from(seq - c.base_seq).unwrap_or(usize::MAX);
        Ok((row < c.len()).then_some((ci, row)))
    }

    fn view_at(&self, ci: usize, row: usize) -> Option<EventView> {
        let c = self.chunk(ci)?;
        let r = c.row(row)?;
        Some(EventView {
            seq: r.seq,
            tick: r.tick,
            ty: r.ty,
            tx: r.tx,
            agent: r.agent,
            cp: r.cp,
            amount: r.amount,
            details: decode_details(c.details_bytes(row), &self.strings),
        })
    }

    /// The event with seq `seq`, or `None` if it was released or not emitted
    /// yet (use [`Self::try_get`] to tell the two apart).
    pub fn get(&self, seq: u64) -> Option<EventView> {
        self.try_get(seq).ok().flatten()
    }

    /// The event with seq `seq`: `Err` if released, `Ok(None)` if not emitted.
    pub fn try_get(&self, seq: u64) -> Result<Option<EventView>, EventsReleased> {
        Ok(self
            .locate(seq)?
            .and_then(|(ci, row)| self.view_at(ci, row)))
    }

    /// The fixed columns of event `seq`, without decoding details.
    pub fn row(&self, seq: u64) -> Result<Option<EventRow>, EventsReleased> {
        Ok(self
            .locate(seq)?
            .and_then(|(ci, row)| self.chunk(ci)?.row(row)))
    }

    /// All retained events with seq ≥ `seq`, in order. A start below the
    /// retained range is an error rather than silently skipping the released
    /// events, so a consumer such as balance reconstruction cannot miss some.
    pub fn iter_from(&self, seq: u64) -> Result<EventIter<'_>, EventsReleased> {
        let pos = self.cursor(seq)?;
        Ok(EventIter { log: self, pos })
    }

    /// Like [`Self::iter_from`] but yields [`EventRow`]s (no details, no
    /// allocation per event).
    pub fn rows_from(&self, seq: u64) -> Result<RowIter<'_>, EventsReleased> {
        let pos = self.cursor(seq)?;
        Ok(RowIter { log: self, pos })
    }

    fn cursor(&self, seq: u64) -> Result<(usize, usize), EventsReleased> {
        Ok(self.locate(seq)?.unwrap_or((self.sealed.len() + 1, 0)))
    }

    /// The details of event `seq` as a JSON object (the export's `details`
    /// column): `Err` if released, `Ok(None)` if not emitted.
    pub fn details_json(
        &self,
        seq: u64,
        names: &dyn Names,
    ) -> Result<Option<String>, EventsReleased> {
        let Some((ci, row)) = self.locate(seq)? else {
            return Ok(None);
        };
        let Some(c) = self.chunk(ci) else {
            return Ok(None);
        };
        let mut out = String::new();
        let mut scratch = String::new();
        write_details_encoded(
            &mut out,
            c.details_bytes(row),
            &self.strings,
            names,
            &mut scratch,
        );
        Ok(Some(out))
    }

    /// Releases every event with seq < `seq` (clamped to `next_seq()`); later
    /// requests below it fail with [`EventsReleased`]. Memory is returned in
    /// whole sealed chunks (one is kept as the spare for reuse); a partly
    /// released chunk, and the active chunk, stay in memory with their
    /// released rows invisible. Releasing below `oldest_retained()` does
    /// nothing. Cost: O(1) per freed chunk.
    pub fn release_before(&mut self, seq: u64) {
        let seq = seq.min(self.next_seq);
        if seq <= self.oldest {
            return;
        }
        self.oldest = seq;
        while self
            .sealed
            .front()
            .is_some_and(|c| c.base_seq + c.len() as u64 <= seq)
        {
            if let Some(c) = self.sealed.pop_front() {
                if self.spare.is_none() {
                    self.spare = Some(c);
                }
            }
        }
    }

    /// Heap bytes held for events: the capacity of every column buffer of
    /// every chunk (the spare one included), the chunk ring itself and the
    /// string table. This is the numerator of the ≤ 64 bytes per event target
    /// (ENGINE.md §14).
    pub fn bytes_held(&self) -> usize {
        self.sealed.iter().map(Chunk::bytes_held).sum::<usize>()
            + self.active.bytes_held()
            + self.spare.as_ref().map_or(0, Chunk::bytes_held)
            + self.sealed.capacity() * core::mem::size_of::<Chunk>()
            + self.strings.bytes_held()
    }

    /// Releases the spare capacity of the active chunk, the chunk ring and
    /// the string table (sealed chunks are already exact), and drops the
    /// spare chunk.
    pub fn shrink_to_fit(&mut self) {
        self.spare = None;
        self.active.shrink_to_fit();
        self.sealed.shrink_to_fit();
        self.strings.shrink_to_fit();
    }

    /// Number of distinct strings in the string table (diagnostics).
    pub fn interned_strings(&self) -> usize {
        self.strings.len()
    }
}

fn advance(log: &EventLog, pos: &mut (usize, usize)) -> Option<(usize, usize)> {
    loop {
        let c = log.chunk(pos.0)?;
        if pos.1 < c.len() {
            let at = *pos;
            pos.1 += 1;
            return Some(at);
        }
        *pos = (pos.0 + 1, 0);
    }
}

/// Iterator over decoded events; see [`EventLog::iter_from`].
pub struct EventIter<'a> {
    log: &'a EventLog,
    pos: (usize, usize),
}

impl Iterator for EventIter<'_> {
    type Item = EventView;

    fn next(&mut self) -> Option<EventView> {
        let (ci, row) = advance(self.log, &mut self.pos)?;
        self.log.view_at(ci, row)
    }
}

/// Iterator over fixed columns; see [`EventLog::rows_from`].
pub struct RowIter<'a> {
    log: &'a EventLog,
    pos: (usize, usize),
}

impl Iterator for RowIter<'_> {
    type Item = EventRow;

    fn next(&mut self) -> Option<EventRow> {
        let (ci, row) = advance(self.log, &mut self.pos)?;
        self.log.chunk(ci)?.row(row)
    }
}
