//! Export to Arrow-layout columns (`events_since`, ENGINE.md §12–13).
//!
//! The bindings hand these buffers to `pyarrow.Array.from_buffers` without
//! reinterpreting them, so each column is exactly Arrow's physical layout:
//! fixed-width = little-endian values (+ validity); `utf8` = `len + 1` `i32`
//! offsets starting at 0 + UTF-8 data (+ validity). Validity bitmaps use
//! Arrow's LSB bit order (row `i` is bit `i % 8` of byte `i / 8`, 1 = valid),
//! are exactly `⌈len / 8⌉` bytes long with unused trailing bits 0, and are
//! `None` when the column has no null (which Arrow reads as "all valid"). Null
//! slots have zero-length strings and value 0.
//!
//! Two shapes share one export loop:
//!
//! * [`EventBatch`] (`EventLog::export`): the columns users see (ENGINE.md
//!   §12), ids rendered as text through [`Names`];
//! * [`CodedEventBatch`] (`EventLog::export_coded`): the same events for a
//!   store, with the ids left as the numbers the log holds (catalogue code,
//!   payment key, agent index). Only `details` is rendered. A store keeps
//!   these numbers and renders the text columns when it is read, which makes
//!   writing much cheaper than storing millions of id strings.
//!
//! Ids and details are rendered only here, from the compact row; nothing is
//! rendered at emission.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::json::{write_details_encoded, write_details_key, write_details_template, Names, Slots};
use super::log::{EventLog, EventRow, EventsReleased};
use super::value::Interner;

/// An Arrow `utf8` column.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Utf8Column {
    /// `len + 1` offsets into `data`, starting at 0, non-decreasing.
    pub offsets: Vec<i32>,
    /// The concatenated UTF-8 values.
    pub data: Vec<u8>,
    /// LSB-first validity bitmap, 1 = valid; `None` when nothing is null.
    pub validity: Option<Vec<u8>>,
    /// Number of null rows.
    pub null_count: usize,
}

impl Utf8Column {
    /// Row `i` as a string (`None` when null or out of range).
    pub fn value(&self, i: usize) -> Option<&str> {
        if !is_valid(self.validity.as_deref(), i) {
            return None;
        }
        let start = usize::try_from(*self.offsets.get(i)?).ok()?;
        let end = usize::try_from(*self.offsets.get(i + 1)?).ok()?;
        core::str::from_utf8(self.data.get(start..end)?).ok()
    }
}

/// An Arrow fixed-width column (`int64`, `uint64`, `int32`, ...).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PrimitiveColumn<T> {
    /// One value per row (0 in null slots).
    pub values: Vec<T>,
    /// LSB-first validity bitmap, 1 = valid; `None` when nothing is null.
    pub validity: Option<Vec<u8>>,
    /// Number of null rows.
    pub null_count: usize,
}

impl<T: Copy> PrimitiveColumn<T> {
    /// Row `i` (`None` when null or out of range).
    pub fn value(&self, i: usize) -> Option<T> {
        if !is_valid(self.validity.as_deref(), i) {
            return None;
        }
        self.values.get(i).copied()
    }
}

/// An Arrow `int64` column.
pub type I64Column = PrimitiveColumn<i64>;
/// An Arrow `uint64` column.
pub type U64Column = PrimitiveColumn<u64>;
/// An Arrow `int32` column.
pub type I32Column = PrimitiveColumn<i32>;

fn is_valid(validity: Option<&[u8]>, i: usize) -> bool {
    match validity {
        None => true,
        Some(bits) => bits.get(i / 8).is_some_and(|b| b >> (i % 8) & 1 == 1),
    }
}

/// One Arrow record batch of events, columns as in ENGINE.md §12:
/// `seq int64, tick int64, day int64, event_type utf8, tx_id utf8?,
/// agent_id utf8?, counterparty_id utf8?, amount int64?, details utf8`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventBatch {
    /// Number of rows.
    pub len: usize,
    /// Sequence numbers (non-nullable).
    pub seq: I64Column,
    /// Ticks (non-nullable).
    pub tick: I64Column,
    /// `tick / ticks_per_day` (non-nullable).
    pub day: I64Column,
    /// Catalogue names (non-nullable).
    pub event_type: Utf8Column,
    /// Payment ids.
    pub tx_id: Utf8Column,
    /// Agent ids.
    pub agent_id: Utf8Column,
    /// Counterparty ids.
    pub counterparty_id: Utf8Column,
    /// Amounts in cents.
    pub amount: I64Column,
    /// Details JSON objects (non-nullable, `{}` when empty).
    pub details: Utf8Column,
}

impl EventBatch {
    /// Column names in schema order (ENGINE.md §12, INTERFACES.md).
    pub const COLUMN_NAMES: [&'static str; 9] = [
        "seq",
        "tick",
        "day",
        "event_type",
        "tx_id",
        "agent_id",
        "counterparty_id",
        "amount",
        "details",
    ];
}

/// The events of [`EventBatch`] with their ids as numbers, for a store:
/// `seq int64, tick int64, day int64, event_type uint8, tx_key uint64?,
/// agent_index int32?, counterparty_index int32?, amount int64?, details utf8`.
///
/// Row for row, `event_type` is the position of the [`EventBatch`] name in
/// [`super::EventType::ALL`]; `tx_key` is the number [`Names::tx_id`] renders as
/// the `tx_id`; `agent_index` and `counterparty_index` are the indices
/// [`Names::agent_id`] renders; every other column is identical.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CodedEventBatch {
    /// Number of rows.
    pub len: usize,
    /// Sequence numbers (non-nullable).
    pub seq: I64Column,
    /// Ticks (non-nullable).
    pub tick: I64Column,
    /// `tick / ticks_per_day` (non-nullable).
    pub day: I64Column,
    /// Catalogue codes (non-nullable): `EventType::code`.
    pub event_type: Vec<u8>,
    /// Payment keys (the engine's `root << 8 | child`).
    pub tx_key: U64Column,
    /// Agent indices (the engine's agent order).
    pub agent_index: I32Column,
    /// Counterparty indices.
    pub counterparty_index: I32Column,
    /// Amounts in cents.
    pub amount: I64Column,
    /// Details JSON objects (non-nullable, `{}` when empty), as in [`EventBatch`].
    pub details: Utf8Column,
}

impl CodedEventBatch {
    /// Column names in schema order.
    pub const COLUMN_NAMES: [&'static str; 9] = [
        "seq",
        "tick",
        "day",
        "event_type",
        "tx_key",
        "agent_index",
        "counterparty_index",
        "amount",
        "details",
    ];
}

/// The events of [`EventBatch`] in a store's compact form: ids as numbers as in
/// [`CodedEventBatch`], agents renumbered through the store's positions, and
/// `details` split into a template ([`DetailShapes`], which also fixes the
/// event type) and up to three integers:
/// `seq int64, tick int64, day int64, shape int32, tx_key uint64?,
/// agent_index int32?, counterparty_index int32?, amount int64?, n0 int64?,
/// n1 int64?, n2 int64?`.
///
/// Row for row, the [`EventBatch`] details are the shape's template with its
/// `i`-th [`Slots::MARK`] replaced by the decimal `n<i>` (the unused `n<i>` are
/// null), and its event type is the shape's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredEventBatch {
    /// Number of rows.
    pub len: usize,
    /// Sequence numbers (non-nullable).
    pub seq: I64Column,
    /// Ticks (non-nullable).
    pub tick: I64Column,
    /// `tick / ticks_per_day` (non-nullable).
    pub day: I64Column,
    /// Shape numbers in the [`DetailShapes`] the batch was exported with.
    pub shape: I32Column,
    /// Payment keys (the engine's `root << 8 | child`).
    pub tx_key: U64Column,
    /// Agents as store positions.
    pub agent_index: I32Column,
    /// Counterparties as store positions.
    pub counterparty_index: I32Column,
    /// Amounts in cents.
    pub amount: I64Column,
    /// The integers left out of the details, in order.
    pub n: [I64Column; Slots::CAPACITY],
}

impl StoredEventBatch {
    /// Column names in schema order.
    pub const COLUMN_NAMES: [&'static str; 11] = [
        "seq",
        "tick",
        "day",
        "shape",
        "tx_key",
        "agent_index",
        "counterparty_index",
        "amount",
        "n0",
        "n1",
        "n2",
    ];
}

/// FxHash (the multiply-rotate hash rustc uses): the interner's keys are short
/// and produced by the engine itself, so a fast non-keyed hash is enough.
#[derive(Default, Clone, Copy)]
struct FxHasher {
    hash: u64,
}

impl FxHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }

    fn write_u8(&mut self, b: u8) {
        self.add(u64::from(b));
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

/// The details templates of one run's stored events: each distinct (event
/// type, template) pair gets the next number from 0. A store keeps one per
/// run, passes it to every [`EventLog::export_stored`] of the run and writes
/// the new shapes ([`DetailShapes::take_new`]) next to the rows that use them.
#[derive(Clone, Debug, Default)]
pub struct DetailShapes {
    /// Key: the event type code as one char, then the template.
    ids: HashMap<String, i32, BuildHasherDefault<FxHasher>>,
    /// Key: the event type code, then the bytes of `write_details_key`; a
    /// cache in front of `ids` that spares rendering a template per row.
    by_structure: HashMap<Vec<u8>, i32, BuildHasherDefault<FxHasher>>,
    /// Every shape in number order: (event type code, template).
    shapes: Vec<(u8, String)>,
    /// Shapes already handed out by `take_new`.
    taken: usize,
    /// Store position of each engine agent index.
    positions: Vec<i32>,
}

impl DetailShapes {
    /// Empty, with the store position of each engine agent index (an index
    /// beyond `positions` is kept as it is).
    pub fn new(positions: Vec<i32>) -> Self {
        DetailShapes {
            positions,
            ..DetailShapes::default()
        }
    }

    /// The number of `(code, template)`, given the key `code as char` +
    /// `template`; `None` when a run has more than `i32::MAX` shapes.
    fn intern_key(&mut self, key: &str) -> Option<i32> {
        if let Some(&id) = self.ids.get(key) {
            return Some(id);
        }
        let id = i32::try_from(self.shapes.len()).ok()?;
        let mut chars = key.chars();
        let code = chars.next().and_then(|c| u8::try_from(c).ok())?;
        self.shapes.push((code, chars.as_str().to_string()));
        self.ids.insert(key.to_string(), id);
        Some(id)
    }

    /// The number of the shape of event type `code` with `template` (adding
    /// it when new); `None` past `i32::MAX` shapes or for a code above 127.
    pub fn intern(&mut self, code: u8, template: &str) -> Option<i32> {
        if code > 127 {
            return None;
        }
        let mut key = String::with_capacity(template.len() + 1);
        key.push(char::from(code));
        key.push_str(template);
        self.intern_key(&key)
    }

    /// Shapes added since the last call: `(number, event type code, template)`.
    pub fn take_new(&mut self) -> Vec<(i32, u8, String)> {
        let start = self.taken;
        self.taken = self.shapes.len();
        self.shapes
            .iter()
            .enumerate()
            .skip(start)
            .map(|(i, (code, t))| (i32::try_from(i).unwrap_or(i32::MAX), *code, t.clone()))
            .collect()
    }

    /// Number of shapes.
    pub fn len(&self) -> usize {
        self.shapes.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.shapes.is_empty()
    }

    fn position(&self, agent: Option<u32>) -> Option<i32> {
        let a = agent?;
        let i = usize::try_from(a).ok()?;
        self.positions
            .get(i)
            .copied()
            .or_else(|| i32::try_from(a).ok())
    }
}

/// Validity bitmap under construction.
#[derive(Default)]
struct Bitmap {
    bytes: Vec<u8>,
    len: usize,
    nulls: usize,
}

impl Bitmap {
    fn with_capacity(rows: usize) -> Self {
        Bitmap {
            bytes: Vec::with_capacity(rows.div_ceil(8)),
            len: 0,
            nulls: 0,
        }
    }

    fn push(&mut self, valid: bool) {
        if self.len.is_multiple_of(8) {
            self.bytes.push(0);
        }
        if valid {
            if let Some(b) = self.bytes.last_mut() {
                *b |= 1 << (self.len % 8);
            }
        } else {
            self.nulls += 1;
        }
        self.len += 1;
    }

    fn truncate(&mut self, rows: usize) {
        while self.len > rows {
            self.len -= 1;
            let (byte, bit) = (self.len / 8, self.len % 8);
            if let Some(b) = self.bytes.get_mut(byte) {
                if *b >> bit & 1 == 0 {
                    self.nulls = self.nulls.saturating_sub(1);
                }
                *b &= !(1 << bit);
            }
        }
        self.bytes.truncate(rows.div_ceil(8));
    }

    fn finish(self) -> (Option<Vec<u8>>, usize) {
        if self.nulls == 0 {
            (None, 0)
        } else {
            (Some(self.bytes), self.nulls)
        }
    }
}

/// `utf8` column under construction. Values are written straight into `data`
/// (a `String`, so the JSON writers can append to it); `end_row` closes a row.
struct Utf8Builder {
    offsets: Vec<i32>,
    data: String,
    validity: Bitmap,
}

impl Utf8Builder {
    fn with_capacity(rows: usize, bytes_per_row: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        Utf8Builder {
            offsets,
            data: String::with_capacity(rows.saturating_mul(bytes_per_row)),
            validity: Bitmap::with_capacity(rows),
        }
    }

    /// Closes the current row; `false` (row not closed) when the data no
    /// longer fits Arrow's `i32` offsets.
    fn end_row(&mut self, valid: bool) -> bool {
        match i32::try_from(self.data.len()) {
            Ok(end) => {
                self.offsets.push(end);
                self.validity.push(valid);
                true
            }
            Err(_) => false,
        }
    }

    fn push_str(&mut self, s: &str) -> bool {
        self.data.push_str(s);
        self.end_row(true)
    }

    fn push_null(&mut self) -> bool {
        self.end_row(false)
    }

    /// Back to `rows` closed rows, dropping any partly written one.
    fn truncate_rows(&mut self, rows: usize) {
        self.offsets.truncate(rows + 1);
        let end = self
            .offsets
            .last()
            .and_then(|&o| usize::try_from(o).ok())
            .unwrap_or(0);
        if self.data.is_char_boundary(end) {
            self.data.truncate(end);
        }
        self.validity.truncate(rows);
    }

    fn finish(self) -> Utf8Column {
        let (validity, null_count) = self.validity.finish();
        Utf8Column {
            offsets: self.offsets,
            data: self.data.into_bytes(),
            validity,
            null_count,
        }
    }
}

/// Fixed-width column under construction.
struct PrimitiveBuilder<T> {
    values: Vec<T>,
    validity: Bitmap,
}

impl<T: Copy + Default> PrimitiveBuilder<T> {
    fn with_capacity(rows: usize) -> Self {
        PrimitiveBuilder {
            values: Vec::with_capacity(rows),
            validity: Bitmap::with_capacity(rows),
        }
    }

    fn push(&mut self, v: Option<T>) {
        self.values.push(v.unwrap_or_default());
        self.validity.push(v.is_some());
    }

    fn truncate_rows(&mut self, rows: usize) {
        self.values.truncate(rows);
        self.validity.truncate(rows);
    }

    fn finish(self) -> PrimitiveColumn<T> {
        let (validity, null_count) = self.validity.finish();
        PrimitiveColumn {
            values: self.values,
            validity,
            null_count,
        }
    }
}

/// What rendering a row needs besides the row itself.
struct RowContext<'a> {
    strings: &'a Interner,
    names: &'a dyn Names,
    ticks_per_day: u32,
    scratch: String,
}

/// The numeric columns every shape shares: `seq`, `tick`, `day`, `amount`.
struct RowNumbers {
    seq: PrimitiveBuilder<i64>,
    tick: PrimitiveBuilder<i64>,
    day: PrimitiveBuilder<i64>,
    amount: PrimitiveBuilder<i64>,
}

impl RowNumbers {
    fn with_capacity(rows: usize) -> Self {
        RowNumbers {
            seq: PrimitiveBuilder::with_capacity(rows),
            tick: PrimitiveBuilder::with_capacity(rows),
            day: PrimitiveBuilder::with_capacity(rows),
            amount: PrimitiveBuilder::with_capacity(rows),
        }
    }

    fn push(&mut self, r: &EventRow, ticks_per_day: u32) {
        self.seq
            .push(Some(i64::try_from(r.seq).unwrap_or(i64::MAX)));
        self.tick.push(Some(i64::from(r.tick)));
        self.day.push(Some(i64::from(
            r.tick.checked_div(ticks_per_day).unwrap_or(0),
        )));
        self.amount.push(r.amount);
    }

    fn truncate_rows(&mut self, rows: usize) {
        for b in [
            &mut self.seq,
            &mut self.tick,
            &mut self.day,
            &mut self.amount,
        ] {
            b.truncate_rows(rows);
        }
    }
}

/// The columns the text and coded shapes share: the numbers and `details`.
struct CommonBuilder {
    numbers: RowNumbers,
    details: Utf8Builder,
}

impl CommonBuilder {
    fn with_capacity(rows: usize) -> Self {
        CommonBuilder {
            numbers: RowNumbers::with_capacity(rows),
            details: Utf8Builder::with_capacity(rows, 64),
        }
    }

    fn push(&mut self, r: &EventRow, details: &[u8], cx: &mut RowContext<'_>) -> bool {
        self.numbers.push(r, cx.ticks_per_day);
        write_details_encoded(
            &mut self.details.data,
            details,
            cx.strings,
            cx.names,
            &mut cx.scratch,
        );
        self.details.end_row(true)
    }

    fn truncate_rows(&mut self, rows: usize) {
        self.numbers.truncate_rows(rows);
        self.details.truncate_rows(rows);
    }
}

/// A batch shape under construction: rows are pushed by the shared export loop.
trait BatchBuilder: Sized {
    type Batch;
    /// Appends one row; `false` (row possibly half written) when a `utf8`
    /// column would pass Arrow's `i32` offset range.
    fn push(&mut self, r: &EventRow, details: &[u8], cx: &mut RowContext<'_>) -> bool;
    /// Back to `rows` complete rows.
    fn truncate_rows(&mut self, rows: usize);
    fn finish(self, len: usize) -> Self::Batch;
}

struct TextBuilder {
    common: CommonBuilder,
    event_type: Utf8Builder,
    tx_id: Utf8Builder,
    agent_id: Utf8Builder,
    counterparty_id: Utf8Builder,
}

impl TextBuilder {
    fn with_capacity(rows: usize) -> Self {
        TextBuilder {
            common: CommonBuilder::with_capacity(rows),
            event_type: Utf8Builder::with_capacity(rows, 16),
            tx_id: Utf8Builder::with_capacity(rows, 12),
            agent_id: Utf8Builder::with_capacity(rows, 8),
            counterparty_id: Utf8Builder::with_capacity(rows, 8),
        }
    }
}

impl BatchBuilder for TextBuilder {
    type Batch = EventBatch;

    fn push(&mut self, r: &EventRow, details: &[u8], cx: &mut RowContext<'_>) -> bool {
        let mut ok = self.event_type.push_str(r.ty.as_str());
        ok &= match r.tx {
            Some(t) => {
                cx.scratch.clear();
                cx.names.tx_id(t, &mut cx.scratch);
                self.tx_id.push_str(&cx.scratch)
            }
            None => self.tx_id.push_null(),
        };
        ok &= match r.agent {
            Some(a) => self.agent_id.push_str(cx.names.agent_id(a)),
            None => self.agent_id.push_null(),
        };
        ok &= match r.cp {
            Some(a) => self.counterparty_id.push_str(cx.names.agent_id(a)),
            None => self.counterparty_id.push_null(),
        };
        ok & self.common.push(r, details, cx)
    }

    fn truncate_rows(&mut self, rows: usize) {
        self.common.truncate_rows(rows);
        for b in [
            &mut self.event_type,
            &mut self.tx_id,
            &mut self.agent_id,
            &mut self.counterparty_id,
        ] {
            b.truncate_rows(rows);
        }
    }

    fn finish(self, len: usize) -> EventBatch {
        let c = self.common;
        EventBatch {
            len,
            seq: c.numbers.seq.finish(),
            tick: c.numbers.tick.finish(),
            day: c.numbers.day.finish(),
            event_type: self.event_type.finish(),
            tx_id: self.tx_id.finish(),
            agent_id: self.agent_id.finish(),
            counterparty_id: self.counterparty_id.finish(),
            amount: c.numbers.amount.finish(),
            details: c.details.finish(),
        }
    }
}

struct CodedBuilder {
    common: CommonBuilder,
    event_type: Vec<u8>,
    tx_key: PrimitiveBuilder<u64>,
    agent_index: PrimitiveBuilder<i32>,
    counterparty_index: PrimitiveBuilder<i32>,
}

impl CodedBuilder {
    fn with_capacity(rows: usize) -> Self {
        CodedBuilder {
            common: CommonBuilder::with_capacity(rows),
            event_type: Vec::with_capacity(rows),
            tx_key: PrimitiveBuilder::with_capacity(rows),
            agent_index: PrimitiveBuilder::with_capacity(rows),
            counterparty_index: PrimitiveBuilder::with_capacity(rows),
        }
    }
}

impl BatchBuilder for CodedBuilder {
    type Batch = CodedEventBatch;

    fn push(&mut self, r: &EventRow, details: &[u8], cx: &mut RowContext<'_>) -> bool {
        self.event_type.push(r.ty.code());
        self.tx_key.push(r.tx);
        // Agent indices are positions in the engine's agent list, far below
        // `i32::MAX`.
        self.agent_index
            .push(r.agent.and_then(|a| i32::try_from(a).ok()));
        self.counterparty_index
            .push(r.cp.and_then(|a| i32::try_from(a).ok()));
        self.common.push(r, details, cx)
    }

    fn truncate_rows(&mut self, rows: usize) {
        self.common.truncate_rows(rows);
        self.event_type.truncate(rows);
        self.tx_key.truncate_rows(rows);
        self.agent_index.truncate_rows(rows);
        self.counterparty_index.truncate_rows(rows);
    }

    fn finish(self, len: usize) -> CodedEventBatch {
        let c = self.common;
        CodedEventBatch {
            len,
            seq: c.numbers.seq.finish(),
            tick: c.numbers.tick.finish(),
            day: c.numbers.day.finish(),
            event_type: self.event_type,
            tx_key: self.tx_key.finish(),
            agent_index: self.agent_index.finish(),
            counterparty_index: self.counterparty_index.finish(),
            amount: c.numbers.amount.finish(),
            details: c.details.finish(),
        }
    }
}

struct StoredBuilder<'s> {
    shapes: &'s mut DetailShapes,
    numbers: RowNumbers,
    shape: PrimitiveBuilder<i32>,
    tx_key: PrimitiveBuilder<u64>,
    agent_index: PrimitiveBuilder<i32>,
    counterparty_index: PrimitiveBuilder<i32>,
    n: [PrimitiveBuilder<i64>; Slots::CAPACITY],
    key: String,
    structure: Vec<u8>,
    slots: Slots,
}

impl<'s> StoredBuilder<'s> {
    fn new(shapes: &'s mut DetailShapes, rows: usize) -> Self {
        StoredBuilder {
            shapes,
            numbers: RowNumbers::with_capacity(rows),
            shape: PrimitiveBuilder::with_capacity(rows),
            tx_key: PrimitiveBuilder::with_capacity(rows),
            agent_index: PrimitiveBuilder::with_capacity(rows),
            counterparty_index: PrimitiveBuilder::with_capacity(rows),
            n: core::array::from_fn(|_| PrimitiveBuilder::with_capacity(rows)),
            key: String::with_capacity(128),
            structure: Vec::with_capacity(128),
            slots: Slots::default(),
        }
    }
}

impl BatchBuilder for StoredBuilder<'_> {
    type Batch = StoredEventBatch;

    fn push(&mut self, r: &EventRow, details: &[u8], cx: &mut RowContext<'_>) -> bool {
        self.structure.clear();
        self.structure.push(r.ty.code());
        write_details_key(&mut self.structure, details, cx.strings, &mut self.slots);
        let shape = match self.shapes.by_structure.get(self.structure.as_slice()) {
            Some(&shape) => shape,
            None => {
                // A structure not seen yet: render its template (same slots, same rule).
                self.key.clear();
                self.key.push(char::from(r.ty.code()));
                let mut slots = Slots::default();
                write_details_template(
                    &mut self.key,
                    details,
                    cx.strings,
                    cx.names,
                    &mut cx.scratch,
                    &mut slots,
                );
                debug_assert_eq!(slots, self.slots);
                let Some(shape) = self.shapes.intern_key(&self.key) else {
                    return false;
                };
                self.shapes
                    .by_structure
                    .insert(self.structure.clone(), shape);
                shape
            }
        };
        self.shape.push(Some(shape));
        self.numbers.push(r, cx.ticks_per_day);
        self.tx_key.push(r.tx);
        self.agent_index.push(self.shapes.position(r.agent));
        self.counterparty_index.push(self.shapes.position(r.cp));
        for (i, b) in self.n.iter_mut().enumerate() {
            b.push((i < self.slots.len).then(|| self.slots.values.get(i).copied().unwrap_or(0)));
        }
        true
    }

    fn truncate_rows(&mut self, rows: usize) {
        self.numbers.truncate_rows(rows);
        for b in [
            &mut self.shape,
            &mut self.agent_index,
            &mut self.counterparty_index,
        ] {
            b.truncate_rows(rows);
        }
        self.tx_key.truncate_rows(rows);
        for b in &mut self.n {
            b.truncate_rows(rows);
        }
    }

    fn finish(self, len: usize) -> StoredEventBatch {
        let [n0, n1, n2] = self.n;
        let numbers = self.numbers;
        StoredEventBatch {
            len,
            seq: numbers.seq.finish(),
            tick: numbers.tick.finish(),
            day: numbers.day.finish(),
            shape: self.shape.finish(),
            tx_key: self.tx_key.finish(),
            agent_index: self.agent_index.finish(),
            counterparty_index: self.counterparty_index.finish(),
            amount: numbers.amount.finish(),
            n: [n0.finish(), n1.finish(), n2.finish()],
        }
    }
}

impl EventLog {
    /// The retained events with seq ≥ `from_seq`, at most `max_rows` of them,
    /// as one Arrow-layout batch (`events_since`).
    ///
    /// `Err` when `from_seq` is below the retained range; an empty batch when
    /// it is at or beyond `next_seq()`. `day = tick / ticks_per_day` (0 if
    /// `ticks_per_day` is 0, which a valid config never has). Should a `utf8`
    /// column exceed Arrow's 2 GiB `i32` offset range, the batch ends at the
    /// last row that fits (`len` says how many); the caller asks again from
    /// `from_seq + len`.
    pub fn export(
        &self,
        from_seq: u64,
        max_rows: Option<usize>,
        ticks_per_day: u32,
        names: &dyn Names,
    ) -> Result<EventBatch, EventsReleased> {
        self.export_with(
            from_seq,
            max_rows,
            ticks_per_day,
            names,
            TextBuilder::with_capacity,
        )
    }

    /// The rows of [`EventLog::export`] with their ids as numbers
    /// ([`CodedEventBatch`]); the same range, paging and limits.
    pub fn export_coded(
        &self,
        from_seq: u64,
        max_rows: Option<usize>,
        ticks_per_day: u32,
        names: &dyn Names,
    ) -> Result<CodedEventBatch, EventsReleased> {
        self.export_with(
            from_seq,
            max_rows,
            ticks_per_day,
            names,
            CodedBuilder::with_capacity,
        )
    }

    /// The rows of [`EventLog::export`] in a store's compact form
    /// ([`StoredEventBatch`]), their details templates interned in `shapes`
    /// (which also renumbers the agents); the same range, paging and limits
    /// (a batch also ends early should `shapes` pass `i32::MAX` entries).
    pub fn export_stored(
        &self,
        from_seq: u64,
        max_rows: Option<usize>,
        ticks_per_day: u32,
        names: &dyn Names,
        shapes: &mut DetailShapes,
    ) -> Result<StoredEventBatch, EventsReleased> {
        self.export_with(from_seq, max_rows, ticks_per_day, names, |rows| {
            StoredBuilder::new(shapes, rows)
        })
    }

    fn export_with<B: BatchBuilder>(
        &self,
        from_seq: u64,
        max_rows: Option<usize>,
        ticks_per_day: u32,
        names: &dyn Names,
        make: impl FnOnce(usize) -> B,
    ) -> Result<B::Batch, EventsReleased> {
        let start = self.locate(from_seq)?;
        let available =
            usize::try_from(self.next_seq().saturating_sub(from_seq)).unwrap_or(usize::MAX);
        let n = max_rows.map_or(available, |m| m.min(available));
        let cap = if start.is_some() { n } else { 0 };
        let mut builder = make(cap);
        let mut cx = RowContext {
            strings: &self.strings,
            names,
            ticks_per_day,
            scratch: String::new(),
        };
        let mut rows = 0usize;
        if let Some((mut ci, mut ri)) = start {
            'chunks: while let Some(chunk) = self.chunk(ci) {
                while ri < chunk.len() {
                    if rows >= n {
                        break 'chunks;
                    }
                    let Some(r) = chunk.row(ri) else {
                        break 'chunks;
                    };
                    if !builder.push(&r, chunk.details_bytes(ri), &mut cx) {
                        builder.truncate_rows(rows);
                        break 'chunks;
                    }
                    rows += 1;
                    ri += 1;
                }
                ci += 1;
                ri = 0;
            }
        }
        Ok(builder.finish(rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitmap_push_truncate() {
        let mut b = Bitmap::default();
        for i in 0..20 {
            b.push(i % 3 != 0);
        }
        assert_eq!(b.nulls, 7);
        assert_eq!(b.bytes.len(), 3);
        b.truncate(9);
        assert_eq!(b.len, 9);
        assert_eq!(b.nulls, 3);
        assert_eq!(b.bytes, vec![0b1011_0110, 0b0000_0001]);
        let (v, n) = b.finish();
        assert_eq!(v, Some(vec![0b1011_0110, 0b0000_0001]));
        assert_eq!(n, 3);
        let mut all = Bitmap::default();
        all.push(true);
        assert_eq!(all.finish(), (None, 0));
    }

    #[test]
    fn utf8_builder_truncate() {
        let mut b = Utf8Builder::with_capacity(4, 4);
        assert!(b.push_str("ab"));
        assert!(b.push_null());
        assert!(b.push_str("ü"));
        b.data.push_str("partial");
        b.truncate_rows(2);
        let col = b.finish();
        assert_eq!(col.offsets, vec![0, 2, 2]);
        assert_eq!(col.data, b"ab");
        assert_eq!(col.validity, Some(vec![0b01]));
        assert_eq!(col.null_count, 1);
        assert_eq!(col.value(0), Some("ab"));
        assert_eq!(col.value(1), None);
    }

    #[test]
    fn primitive_builder_truncate() {
        let mut b = PrimitiveBuilder::<u64>::with_capacity(4);
        b.push(Some(7));
        b.push(None);
        b.push(Some(9));
        b.truncate_rows(2);
        let col = b.finish();
        assert_eq!(col.values, vec![7, 0]);
        assert_eq!(col.validity, Some(vec![0b01]));
        assert_eq!(
            (col.value(0), col.value(1), col.value(2)),
            (Some(7), None, None)
        );
    }
}
