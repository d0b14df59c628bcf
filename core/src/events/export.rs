//! Export to Arrow-layout columns (`events_since`, ENGINE.md §12–13).
//!
//! The bindings hand these buffers to `pyarrow.Array.from_buffers` without
//! copying or reinterpreting them, so each column is exactly Arrow's physical
//! layout: `int64` = values (+ validity); `utf8` = `len + 1` `i32` offsets
//! starting at 0 + UTF-8 data (+ validity). Validity bitmaps use Arrow's LSB
//! bit order (row `i` is bit `i % 8` of byte `i / 8`, 1 = valid), are exactly
//! `⌈len / 8⌉` bytes long with unused trailing bits 0, and are `None` when the
//! column has no null (which Arrow reads as "all valid"). Null slots have
//! zero-length strings and amount 0.
//!
//! Ids and details are rendered only here, from the compact row, through
//! [`Names`]; nothing is rendered at emission.

use super::json::{write_details_encoded, Names};
use super::log::{EventLog, EventsReleased};

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

/// An Arrow `int64` column.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct I64Column {
    /// One value per row (0 in null slots).
    pub values: Vec<i64>,
    /// LSB-first validity bitmap, 1 = valid; `None` when nothing is null.
    pub validity: Option<Vec<u8>>,
    /// Number of null rows.
    pub null_count: usize,
}

impl I64Column {
    /// Row `i` (`None` when null or out of range).
    pub fn value(&self, i: usize) -> Option<i64> {
        if !is_valid(self.validity.as_deref(), i) {
            return None;
        }
        self.values.get(i).copied()
    }
}

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

/// `int64` column under construction.
struct I64Builder {
    values: Vec<i64>,
    validity: Bitmap,
}

impl I64Builder {
    fn with_capacity(rows: usize) -> Self {
        I64Builder {
            values: Vec::with_capacity(rows),
            validity: Bitmap::with_capacity(rows),
        }
    }

    fn push(&mut self, v: Option<i64>) {
        self.values.push(v.unwrap_or(0));
        self.validity.push(v.is_some());
    }

    fn truncate_rows(&mut self, rows: usize) {
        self.values.truncate(rows);
        self.validity.truncate(rows);
    }

    fn finish(self) -> I64Column {
        let (validity, null_count) = self.validity.finish();
        I64Column {
            values: self.values,
            validity,
            null_count,
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
        let start = self.locate(from_seq)?;
        let available =
            usize::try_from(self.next_seq().saturating_sub(from_seq)).unwrap_or(usize::MAX);
        let n = max_rows.map_or(available, |m| m.min(available));
        let cap = if start.is_some() { n } else { 0 };

        let mut seq = I64Builder::with_capacity(cap);
        let mut tick = I64Builder::with_capacity(cap);
        let mut day = I64Builder::with_capacity(cap);
        let mut amount = I64Builder::with_capacity(cap);
        let mut event_type = Utf8Builder::with_capacity(cap, 16);
        let mut tx_id = Utf8Builder::with_capacity(cap, 12);
        let mut agent_id = Utf8Builder::with_capacity(cap, 8);
        let mut counterparty_id = Utf8Builder::with_capacity(cap, 8);
        let mut details = Utf8Builder::with_capacity(cap, 64);
        let mut scratch = String::new();

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
                    seq.push(Some(i64::try_from(r.seq).unwrap_or(i64::MAX)));
                    tick.push(Some(i64::from(r.tick)));
                    day.push(Some(i64::from(
                        r.tick.checked_div(ticks_per_day).unwrap_or(0),
                    )));
                    amount.push(r.amount);
                    let mut ok = event_type.push_str(r.ty.as_str());
                    ok &= match r.tx {
                        Some(t) => {
                            scratch.clear();
                            names.tx_id(t, &mut scratch);
                            tx_id.push_str(&scratch)
                        }
                        None => tx_id.push_null(),
                    };
                    ok &= match r.agent {
                        Some(a) => agent_id.push_str(names.agent_id(a)),
                        None => agent_id.push_null(),
                    };
                    ok &= match r.cp {
                        Some(a) => counterparty_id.push_str(names.agent_id(a)),
                        None => counterparty_id.push_null(),
                    };
                    write_details_encoded(
                        &mut details.data,
                        chunk.details_bytes(ri),
                        &self.strings,
                        names,
                        &mut scratch,
                    );
                    ok &= details.end_row(true);
                    if !ok {
                        for b in [&mut seq, &mut tick, &mut day, &mut amount] {
                            b.truncate_rows(rows);
                        }
                        for b in [
                            &mut event_type,
                            &mut tx_id,
                            &mut agent_id,
                            &mut counterparty_id,
                            &mut details,
                        ] {
                            b.truncate_rows(rows);
                        }
                        break 'chunks;
                    }
                    rows += 1;
                    ri += 1;
                }
                ci += 1;
                ri = 0;
            }
        }

        Ok(EventBatch {
            len: rows,
            seq: seq.finish(),
            tick: tick.finish(),
            day: day.finish(),
            event_type: event_type.finish(),
            tx_id: tx_id.finish(),
            agent_id: agent_id.finish(),
            counterparty_id: counterparty_id.finish(),
            amount: amount.finish(),
            details: details.finish(),
        })
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
}
