//! JSON rendering of details and of whole events.
//!
//! Determinism (ENGINE.md §11) needs a byte-exact rendering: keys in emission
//! order, no whitespace, integers in plain decimal, floats as the shortest
//! decimal that round-trips (Rust's `{:?}` formatting, which switches to
//! exponent form outside `[1e-4, 1e16)` just like Python's `repr`), and one
//! fixed escaping rule for strings. It is written by hand rather than through a
//! serialisation library so the core depends on nothing and the hot export
//! loop renders straight into the Arrow data buffer.

use core::fmt::Write as _;

use super::kinds::Key;
use super::log::EventView;
use super::value::{decode_val, replay_owned, Interner, ListKind, OwnedVal, Reader, Scalar, Sink};

/// Resolves the numbers stored in the log to the ids users see. Implemented by
/// the engine, which owns the payment and agent tables.
pub trait Names {
    /// Appends the id of the payment with internal creation number
    /// `creation_no` (e.g. `tx_00000042` or `tx_00000042.3`) to `out`.
    /// Appending into a reused buffer keeps export free of per-row allocation.
    fn tx_id(&self, creation_no: u64, out: &mut String);
    /// The id of the agent with index `index`.
    fn agent_id(&self, index: u32) -> &str;
}

/// Appends the root payment id `tx_` + `number` zero-padded to 8 digits (wider
/// when needed), ENGINE.md §4.1. Split children append `.i` to their parent's
/// id; that needs the family tree, which only the engine knows.
pub fn write_root_tx_id(out: &mut String, number: u64) {
    let _ = write!(out, "tx_{number:08}");
}

/// Appends `s` as a JSON string literal (RFC 8259): `"` and `\` are
/// backslash-escaped and every control character below U+0020 becomes
/// `\u00xx` (lowercase hex); everything else, non-ASCII included, is copied as
/// UTF-8.
pub fn write_json_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            0x00..=0x1F => Some(""),
            _ => None,
        };
        let Some(esc) = escape else { continue };
        // Every byte that needs escaping is ASCII, so `start..i` and `i + 1..`
        // are on character boundaries.
        out.push_str(s.get(start..i).unwrap_or(""));
        if esc.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or(""));
    out.push('"');
}

/// Appends a float as JSON: the shortest decimal that parses back to the same
/// bits (`0.1`, `1e-7`, `1e21`, `123456789.0`, `-0.0`). Rust's `{:?}` output
/// is always valid JSON for finite values (a digit on both sides of any `.`,
/// exponents like `1e300` or `1e-7`); NaN and ±inf have no JSON form and
/// render as `null`.
pub fn write_f64_json(out: &mut String, v: f64) {
    if v.is_finite() {
        let _ = write!(out, "{v:?}");
    } else {
        out.push_str("null");
    }
}

/// Appends a `u64` in decimal without going through `core::fmt`.
pub fn write_u64(out: &mut String, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    // 20 digits hold u64::MAX, so the loop always ends on `v == 0`.
    while i > 0 {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    // ASCII digits: always valid UTF-8.
    out.push_str(core::str::from_utf8(buf.get(i..).unwrap_or(&[])).unwrap_or(""));
}

/// Appends an `i64` in decimal (`i64::MIN` included).
pub fn write_i64(out: &mut String, v: i64) {
    if v < 0 {
        out.push('-');
    }
    write_u64(out, v.unsigned_abs());
}

/// Integers taken out of a details object to make its template (the store's
/// details shapes, [`super::DetailShapes`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Slots {
    /// The integers, in rendering order; `len` of them are set.
    pub values: [i64; Slots::CAPACITY],
    /// How many are set.
    pub len: usize,
}

impl Slots {
    /// Integers a template can leave out; the rest stay in its text.
    pub const CAPACITY: usize = 3;
    /// What marks a left-out integer in a template: a byte JSON text never
    /// holds raw (control characters in strings are escaped).
    pub const MARK: char = '\u{0}';

    /// Takes `v` into the next free slot when the rule lets it: a non-zero
    /// integer that fits `i64` and is not a list item, while there is room.
    fn offer(&mut self, v: Option<i64>, in_list: bool) -> bool {
        match v {
            Some(v) if !in_list && v != 0 => self.take(v),
            _ => false,
        }
    }

    /// Takes `v` into the next free slot (`false` when full).
    fn take(&mut self, v: i64) -> bool {
        match self.values.get_mut(self.len) {
            Some(slot) => {
                *slot = v;
                self.len += 1;
                true
            }
            None => false,
        }
    }
}

/// Renders visitor calls as JSON values.
struct JsonSink<'o, 'n> {
    out: &'o mut String,
    names: &'n dyn Names,
    scratch: &'o mut String,
    first_item: bool,
    in_list: bool,
    /// When set, non-zero integers that are not list items go here (while
    /// there is room) and leave a [`Slots::MARK`] in the text.
    slots: Option<&'o mut Slots>,
}

impl JsonSink<'_, '_> {
    /// Whether `v` went into a slot (a mark written instead of its digits).
    fn slotted(&mut self, v: Option<i64>) -> bool {
        let in_list = self.in_list;
        let Some(slots) = self.slots.as_deref_mut() else {
            return false;
        };
        if !slots.offer(v, in_list) {
            return false;
        }
        self.out.push(Slots::MARK);
        true
    }
}

impl Sink for JsonSink<'_, '_> {
    fn scalar(&mut self, v: Scalar<'_>) {
        if self.in_list {
            if !self.first_item {
                self.out.push(',');
            }
            self.first_item = false;
        }
        match v {
            Scalar::I64(x) if self.slotted(Some(x)) => {}
            Scalar::U64(x) if self.slotted(i64::try_from(x).ok()) => {}
            Scalar::I64(x) => write_i64(self.out, x),
            Scalar::U64(x) => write_u64(self.out, x),
            Scalar::F64(x) => write_f64_json(self.out, x),
            Scalar::Bool(x) => self.out.push_str(if x { "true" } else { "false" }),
            Scalar::Str(s) => write_json_string(self.out, s),
            Scalar::Null => self.out.push_str("null"),
            Scalar::Tx(n) => {
                self.scratch.clear();
                self.names.tx_id(n, self.scratch);
                write_json_string(self.out, self.scratch);
            }
            Scalar::Agent(i) => write_json_string(self.out, self.names.agent_id(i)),
        }
    }

    fn begin_list(&mut self, _kind: ListKind, _len: usize) {
        self.out.push('[');
        self.in_list = true;
        self.first_item = true;
    }

    fn end_list(&mut self) {
        self.out.push(']');
        self.in_list = false;
    }
}

fn write_key(out: &mut String, key: Key, first: bool) {
    if !first {
        out.push(',');
    }
    // Key names are plain ASCII identifiers: nothing to escape.
    out.push('"');
    out.push_str(key.as_str());
    out.push_str("\":");
}

/// Appends the details object of one encoded row. A malformed row (a bug:
/// the log decodes only bytes it wrote) renders as `{}` so the output is
/// always valid JSON.
pub(super) fn write_details_encoded(
    out: &mut String,
    bytes: &[u8],
    strings: &Interner,
    names: &dyn Names,
    scratch: &mut String,
) {
    write_details_with(out, bytes, strings, names, scratch, None);
}

/// Appends the details object of one encoded row as a template: the JSON text
/// with its first [`Slots::CAPACITY`] non-zero integers that are not list
/// items replaced by [`Slots::MARK`], those integers in `slots` (cleared
/// first). Putting each integer back at its mark gives exactly the text of
/// [`write_details_encoded`]; zeros and further integers stay in the text, so
/// the events of one kind share few templates.
pub(super) fn write_details_template(
    out: &mut String,
    bytes: &[u8],
    strings: &Interner,
    names: &dyn Names,
    scratch: &mut String,
    slots: &mut Slots,
) {
    *slots = Slots::default();
    write_details_with(out, bytes, strings, names, scratch, Some(slots));
}

/// Writes what a details template depends on as bytes — keys, list
/// structure, every value but the integers [`write_details_template`] leaves
/// out (taken into `slots` by the same rule) — without rendering any text:
/// two rows with equal bytes have equal templates. `false` for a malformed
/// row (whose template is `{}`, with no slot).
pub(super) fn write_details_key(
    out: &mut Vec<u8>,
    bytes: &[u8],
    strings: &Interner,
    slots: &mut Slots,
) -> bool {
    *slots = Slots::default();
    let mut r = Reader::new(bytes);
    loop {
        if r.at_end() {
            return true;
        }
        let Some(key) = r.byte().filter(|&k| Key::from_code(k).is_some()) else {
            *slots = Slots::default();
            return false;
        };
        out.push(key);
        let mut sink = KeySink {
            out,
            slots,
            in_list: false,
        };
        if decode_val(&mut r, strings, &mut sink).is_none() {
            *slots = Slots::default();
            return false;
        }
    }
}

/// The sink of [`write_details_key`]: a tag byte per value, then its bits.
struct KeySink<'o> {
    out: &'o mut Vec<u8>,
    slots: &'o mut Slots,
    in_list: bool,
}

impl KeySink<'_> {
    fn tagged(&mut self, tag: u8, bits: &[u8]) {
        self.out.push(tag);
        self.out.extend_from_slice(bits);
    }
}

impl Sink for KeySink<'_> {
    fn scalar(&mut self, v: Scalar<'_>) {
        match v {
            Scalar::I64(x) if self.slots.offer(Some(x), self.in_list) => self.out.push(b'S'),
            Scalar::U64(x) if self.slots.offer(i64::try_from(x).ok(), self.in_list) => {
                self.out.push(b'S');
            }
            Scalar::I64(x) => self.tagged(b'i', &x.to_le_bytes()),
            Scalar::U64(x) => self.tagged(b'u', &x.to_le_bytes()),
            Scalar::F64(x) => self.tagged(b'f', &x.to_bits().to_le_bytes()),
            Scalar::Bool(x) => self.out.push(if x { b'T' } else { b'F' }),
            Scalar::Null => self.out.push(b'n'),
            Scalar::Str(s) => {
                let len = u64::try_from(s.len()).unwrap_or(u64::MAX);
                self.tagged(b's', &len.to_le_bytes());
                self.out.extend_from_slice(s.as_bytes());
            }
            Scalar::Tx(n) => self.tagged(b'x', &n.to_le_bytes()),
            Scalar::Agent(i) => self.tagged(b'a', &i.to_le_bytes()),
        }
    }

    fn begin_list(&mut self, _kind: ListKind, len: usize) {
        let len = u64::try_from(len).unwrap_or(u64::MAX);
        self.tagged(b'[', &len.to_le_bytes());
        self.in_list = true;
    }

    fn end_list(&mut self) {
        self.out.push(b']');
        self.in_list = false;
    }
}

fn write_details_with(
    out: &mut String,
    bytes: &[u8],
    strings: &Interner,
    names: &dyn Names,
    scratch: &mut String,
    mut slots: Option<&mut Slots>,
) {
    let start = out.len();
    out.push('{');
    let mut r = Reader::new(bytes);
    let mut first = true;
    let ok = loop {
        if r.at_end() {
            break true;
        }
        let Some(key) = r.byte().and_then(Key::from_code) else {
            break false;
        };
        write_key(out, key, first);
        first = false;
        let mut sink = JsonSink {
            out,
            names,
            scratch,
            first_item: true,
            in_list: false,
            slots: slots.as_deref_mut(),
        };
        if decode_val(&mut r, strings, &mut sink).is_none() {
            break false;
        }
    };
    if ok {
        out.push('}');
    } else {
        out.truncate(start);
        out.push_str("{}");
        if let Some(slots) = slots {
            *slots = Slots::default();
        }
    }
}

/// Appends the details object of decoded details; identical output to
/// rendering the encoded form.
pub fn write_details_owned(out: &mut String, details: &[(Key, OwnedVal)], names: &dyn Names) {
    let mut scratch = String::new();
    out.push('{');
    for (i, (key, v)) in details.iter().enumerate() {
        write_key(out, *key, i == 0);
        let mut sink = JsonSink {
            out,
            names,
            scratch: &mut scratch,
            first_item: true,
            in_list: false,
            slots: None,
        };
        replay_owned(v, &mut sink);
    }
    out.push('}');
}

fn write_opt_agent(out: &mut String, agent: Option<u32>, names: &dyn Names) {
    match agent {
        Some(i) => write_json_string(out, names.agent_id(i)),
        None => out.push_str("null"),
    }
}

/// The JSON Lines object of one event (INTERFACES.md `--format events`):
/// `{"seq","tick","day","event_type","tx_id","agent_id","counterparty_id","amount","details"}`
/// in that order, `null` for absent values, no trailing newline. It renders
/// exactly the values of the corresponding Arrow export row.
pub fn event_json_line(view: &EventView, ticks_per_day: u32, names: &dyn Names) -> String {
    let mut out = String::with_capacity(160);
    out.push_str("{\"seq\":");
    write_u64(&mut out, view.seq);
    out.push_str(",\"tick\":");
    write_u64(&mut out, u64::from(view.tick));
    out.push_str(",\"day\":");
    write_u64(&mut out, u64::from(view.day(ticks_per_day)));
    out.push_str(",\"event_type\":");
    write_json_string(&mut out, view.ty.as_str());
    out.push_str(",\"tx_id\":");
    match view.tx {
        Some(n) => {
            let mut id = String::new();
            names.tx_id(n, &mut id);
            write_json_string(&mut out, &id);
        }
        None => out.push_str("null"),
    }
    out.push_str(",\"agent_id\":");
    write_opt_agent(&mut out, view.agent, names);
    out.push_str(",\"counterparty_id\":");
    write_opt_agent(&mut out, view.cp, names);
    out.push_str(",\"amount\":");
    match view.amount {
        Some(a) => write_i64(&mut out, a),
        None => out.push_str("null"),
    }
    out.push_str(",\"details\":");
    write_details_owned(&mut out, &view.details, names);
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: f64) -> String {
        let mut s = String::new();
        write_f64_json(&mut s, v);
        s
    }

    #[test]
    fn float_rendering() {
        let cases: &[(f64, &str)] = &[
            (0.1, "0.1"),
            (1e-7, "1e-7"),
            (1e21, "1e21"),
            (123456789.0, "123456789.0"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (1.0, "1.0"),
            (-2.5, "-2.5"),
            (1e300, "1e300"),
            (1e16, "1e16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-5"),
            (1.5e-10, "1.5e-10"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e308"),
            (0.30000000000000004, "0.30000000000000004"),
            (f64::NAN, "null"),
            (f64::INFINITY, "null"),
            (f64::NEG_INFINITY, "null"),
        ];
        for (v, want) in cases {
            assert_eq!(f(*v), *want, "{v:e}");
        }
    }

    /// Every finite float renders as valid JSON that parses back to the same
    /// bits (a deterministic sweep over random bit patterns and decimals).
    #[test]
    fn float_round_trip_sweep() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..200_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = if i % 2 == 0 {
                f64::from_bits(x)
            } else {
                (x % 1_000_000_007) as f64 / 1000.0
            };
            if !v.is_finite() {
                continue;
            }
            let s = f(v);
            let back: f64 = serde_json::from_str(&s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(back.to_bits(), v.to_bits(), "{s}");
            let std_back: f64 = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(std_back.to_bits(), v.to_bits(), "{s}");
        }
    }

    #[test]
    fn string_escaping() {
        let cases: &[(&str, &str)] = &[
            ("", r#""""#),
            ("plain", r#""plain""#),
            ("q\"b\\", r#""q\"b\\""#),
            ("\n\r\t\u{8}\u{c}", r#""\u000a\u000d\u0009\u0008\u000c""#),
            ("\u{0}\u{1f}\u{7f}", "\"\\u0000\\u001f\u{7f}\""),
            ("ünï ✓ 🚀", "\"ünï ✓ 🚀\""),
            ("/", "\"/\""),
        ];
        for (s, want) in cases {
            let mut out = String::new();
            write_json_string(&mut out, s);
            assert_eq!(out, *want);
            let back: String = serde_json::from_str(&out).expect("valid JSON");
            assert_eq!(back, *s);
        }
    }

    #[test]
    fn integers() {
        for v in [0i64, 7, -7, 10, 1_000_000_000_000_000, i64::MIN, i64::MAX] {
            let mut s = String::new();
            write_i64(&mut s, v);
            assert_eq!(s, v.to_string());
        }
        let mut s = String::new();
        write_u64(&mut s, u64::MAX);
        assert_eq!(s, u64::MAX.to_string());
    }

    #[test]
    fn root_tx_ids() {
        let mut s = String::new();
        write_root_tx_id(&mut s, 42);
        s.push(' ');
        write_root_tx_id(&mut s, 123_456_789);
        assert_eq!(s, "tx_00000042 tx_123456789");
    }
}
