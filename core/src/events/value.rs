//! Detail values and their compact byte encoding.
//!
//! The engine emits [`Val`]s that borrow from its own state (string literals,
//! slices of child ids), so emitting allocates nothing. The log copies them into
//! one byte buffer per chunk, each detail as `key byte, tag byte, payload`:
//!
//! | tag | payload |
//! |---|---|
//! | `0x80 + v`, `v ≤ 63` | none: `I64(v)` (priorities, counts and zero costs are that small) |
//! | `0xC0 + v`, `v ≤ 63` | none: `U64(v)` |
//! | `NULL`, `FALSE`, `TRUE` | none |
//! | `I64` | zigzag LEB128 varint |
//! | `U64`, `TX`, `AGENT` | LEB128 varint |
//! | `F64` | 8 bytes, IEEE-754 bits little endian (exact, platform independent) |
//! | `STR` | varint length, UTF-8 bytes |
//! | `STR_ID` | varint id in the string table (see [`Interner`]) |
//! | `*_LIST` | varint count, then the items (strings as `id << 1` or `len << 1 \| 1` + bytes; tx ids as zigzag deltas from the previous one, so runs of child ids cost a byte each) |
//!
//! Decoding goes through the [`Sink`] visitor so that the owned form
//! ([`OwnedVal`]) and the JSON rendering share one decoder and cannot drift
//! apart. The log only decodes bytes it wrote itself; a malformed buffer would
//! be a bug, so decoders return `None` instead of panicking and callers stop.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A detail value as the engine emits it (borrowed, `Copy`).
///
/// `Tx` is a payment's internal creation number and `Agent` an agent index;
/// both stay numbers in the log and become id strings only at export, through
/// [`super::Names`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Val<'a> {
    /// Signed integer (amounts, balances, ticks).
    I64(i64),
    /// Unsigned integer (seeds, counts, seqs).
    U64(u64),
    /// Float, rendered as the shortest round-trip decimal; NaN and ±inf as `null`.
    F64(f64),
    /// Boolean.
    Bool(bool),
    /// String.
    Str(&'a str),
    /// JSON `null` (an optional detail that is present but empty).
    Null,
    /// A payment, by internal creation number.
    Tx(u64),
    /// An agent, by index.
    Agent(u32),
    /// List of signed integers.
    I64List(&'a [i64]),
    /// List of floats.
    F64List(&'a [f64]),
    /// List of strings (e.g. `decision_path`).
    StrList(&'a [&'a str]),
    /// List of payments.
    TxList(&'a [u64]),
    /// List of agents.
    AgentList(&'a [u32]),
}

/// Owned mirror of [`Val`], returned by the log's decoders.
#[derive(Clone, Debug, PartialEq)]
pub enum OwnedVal {
    /// See [`Val::I64`].
    I64(i64),
    /// See [`Val::U64`].
    U64(u64),
    /// See [`Val::F64`].
    F64(f64),
    /// See [`Val::Bool`].
    Bool(bool),
    /// See [`Val::Str`].
    Str(String),
    /// See [`Val::Null`].
    Null,
    /// See [`Val::Tx`].
    Tx(u64),
    /// See [`Val::Agent`].
    Agent(u32),
    /// See [`Val::I64List`].
    I64List(Vec<i64>),
    /// See [`Val::F64List`].
    F64List(Vec<f64>),
    /// See [`Val::StrList`].
    StrList(Vec<String>),
    /// See [`Val::TxList`].
    TxList(Vec<u64>),
    /// See [`Val::AgentList`].
    AgentList(Vec<u32>),
}

impl OwnedVal {
    /// The value as `i64`: `I64`, or `U64` when it fits.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            OwnedVal::I64(v) => Some(v),
            OwnedVal::U64(v) => i64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value as `u64`: `U64`, or a non-negative `I64`.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            OwnedVal::U64(v) => Some(v),
            OwnedVal::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value of an `F64`.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            OwnedVal::F64(v) => Some(v),
            _ => None,
        }
    }

    /// The value of a `Bool`.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            OwnedVal::Bool(v) => Some(v),
            _ => None,
        }
    }

    /// The value of a `Str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            OwnedVal::Str(v) => Some(v),
            _ => None,
        }
    }
}

impl Val<'_> {
    /// Copies the value into its owned form (what decoding it returns).
    pub fn to_owned_val(&self) -> OwnedVal {
        match *self {
            Val::I64(v) => OwnedVal::I64(v),
            Val::U64(v) => OwnedVal::U64(v),
            Val::F64(v) => OwnedVal::F64(v),
            Val::Bool(v) => OwnedVal::Bool(v),
            Val::Str(v) => OwnedVal::Str(v.to_owned()),
            Val::Null => OwnedVal::Null,
            Val::Tx(v) => OwnedVal::Tx(v),
            Val::Agent(v) => OwnedVal::Agent(v),
            Val::I64List(v) => OwnedVal::I64List(v.to_vec()),
            Val::F64List(v) => OwnedVal::F64List(v.to_vec()),
            Val::StrList(v) => OwnedVal::StrList(v.iter().map(|s| (*s).to_owned()).collect()),
            Val::TxList(v) => OwnedVal::TxList(v.to_vec()),
            Val::AgentList(v) => OwnedVal::AgentList(v.to_vec()),
        }
    }
}

// ---------------------------------------------------------------------------
// Tags and primitive encodings

const TAG_NULL: u8 = 0;
const TAG_FALSE: u8 = 1;
const TAG_TRUE: u8 = 2;
const TAG_I64: u8 = 3;
const TAG_U64: u8 = 4;
const TAG_F64: u8 = 5;
const TAG_STR: u8 = 6;
const TAG_STR_ID: u8 = 7;
const TAG_TX: u8 = 8;
const TAG_AGENT: u8 = 9;
const TAG_I64_LIST: u8 = 10;
const TAG_F64_LIST: u8 = 11;
const TAG_STR_LIST: u8 = 12;
const TAG_TX_LIST: u8 = 13;
const TAG_AGENT_LIST: u8 = 14;
/// `0x80..=0xBF`: `I64` in `0..=63` carried in the tag itself.
const TAG_SMALL_I64: u8 = 0x80;
/// `0xC0..=0xFF`: `U64` in `0..=63` carried in the tag itself.
const TAG_SMALL_U64: u8 = 0xC0;
/// Largest value carried in a small tag.
const SMALL_MAX: u64 = 0x3F;

/// Appends `v` as unsigned LEB128 (7 bits per byte, low groups first).
pub(super) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Zigzag maps small magnitudes of either sign to small unsigned numbers.
pub(super) const fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Inverse of [`zigzag`].
pub(super) const fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// Cursor over an encoded buffer; every read is bounds-checked.
pub(super) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub(super) fn byte(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    pub(super) fn varint(&mut self) -> Option<u64> {
        let mut v: u64 = 0;
        let mut shift = 0u32;
        loop {
            let b = self.byte()?;
            if shift > 63 {
                return None;
            }
            v |= u64::from(b & 0x7F).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(v);
            }
            shift += 7;
        }
    }

    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    fn f64(&mut self) -> Option<f64> {
        let b: [u8; 8] = self.bytes(8)?.try_into().ok()?;
        Some(f64::from_bits(u64::from_le_bytes(b)))
    }

    fn len(&mut self) -> Option<usize> {
        usize::try_from(self.varint()?).ok()
    }

    fn str(&mut self, len: usize) -> Option<&'a str> {
        core::str::from_utf8(self.bytes(len)?).ok()
    }

    /// A list count, bounded by the bytes left (every item takes at least one
    /// byte), so a corrupt count cannot trigger a huge allocation.
    fn count(&mut self) -> Option<usize> {
        let n = self.len()?;
        (n <= self.buf.len() - self.pos).then_some(n)
    }
}

// ---------------------------------------------------------------------------
// String table

/// Longest string the table takes; longer ones (messages, hashes) are stored
/// inline, since they are rarely repeated.
pub(super) const MAX_INTERN_LEN: usize = 48;
/// Most strings the table holds. Interned strings are never freed (events of
/// any age may refer to them), so the bound keeps a run that emits many
/// distinct short strings from growing the table without limit; beyond it,
/// strings are simply stored inline.
pub(super) const MAX_INTERNED: usize = 16_384;

/// Hasher for keys that already are well-mixed 64-bit hashes.
#[derive(Default)]
pub(super) struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = hash_bytes(bytes);
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// FNV-1a over the bytes followed by a SplitMix64 finaliser so that both the
/// low bits (bucket) and the high bits (control byte) of the map are mixed.
fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^ (h >> 31)
}

/// The log's table of short strings.
///
/// Most string details come from small vocabularies (`"Normal"`,
/// `"generated"`, `"insufficient_liquidity"`, decision-path node ids), so
/// storing a 1–2 byte id instead of the text keeps the average event small.
/// Ids are assigned in first-use order, which emission order makes
/// deterministic; they never leave the log (export renders the text).
///
/// The engine passes mostly string literals, so a small direct-mapped cache
/// keyed by the string's address and length answers most lookups without
/// hashing the text. A cache hit is confirmed by comparing the text, so a
/// different string at a reused address is never mistaken; the cache only
/// affects speed, never which id a string gets.
pub(super) struct Interner {
    arena: String,
    spans: Vec<(u32, u32)>,
    index: HashMap<u64, u32, BuildHasherDefault<PassThrough>>,
    cache: [CacheSlot; CACHE_SLOTS],
}

/// Entries of the address cache (a power of two).
const CACHE_SLOTS: usize = 64;

/// `(address, length, id)` of a recently interned string; address 0 = empty.
#[derive(Clone, Copy, Default)]
struct CacheSlot {
    addr: usize,
    len: usize,
    id: u32,
}

impl Default for Interner {
    fn default() -> Self {
        Interner {
            arena: String::new(),
            spans: Vec::new(),
            index: HashMap::default(),
            cache: [CacheSlot::default(); CACHE_SLOTS],
        }
    }
}

impl Interner {
    /// The id of `s`, adding it if there is room; `None` means "store inline".
    /// A hash collision with a different string also stores inline, so the
    /// table never needs probing by content.
    pub(super) fn intern(&mut self, s: &str) -> Option<u32> {
        if s.len() > MAX_INTERN_LEN {
            return None;
        }
        let addr = s.as_ptr() as usize;
        let slot = ((addr >> 3) ^ (addr >> 11) ^ s.len()) & (CACHE_SLOTS - 1);
        let hit = self.cache[slot];
        if hit.addr == addr && hit.len == s.len() && self.get(hit.id) == Some(s) {
            return Some(hit.id);
        }
        let id = self.lookup_or_insert(s)?;
        self.cache[slot] = CacheSlot {
            addr,
            len: s.len(),
            id,
        };
        Some(id)
    }

    fn lookup_or_insert(&mut self, s: &str) -> Option<u32> {
        let h = hash_bytes(s.as_bytes());
        if let Some(&id) = self.index.get(&h) {
            return (self.get(id) == Some(s)).then_some(id);
        }
        if self.spans.len() >= MAX_INTERNED {
            return None;
        }
        let start = u32::try_from(self.arena.len()).ok()?;
        let len = u32::try_from(s.len()).ok()?;
        let id = u32::try_from(self.spans.len()).ok()?;
        self.arena.push_str(s);
        self.spans.push((start, len));
        self.index.insert(h, id);
        Some(id)
    }

    pub(super) fn get(&self, id: u32) -> Option<&str> {
        let &(start, len) = self.spans.get(usize::try_from(id).ok()?)?;
        let start = usize::try_from(start).ok()?;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        self.arena.get(start..end)
    }

    pub(super) fn len(&self) -> usize {
        self.spans.len()
    }

    /// Heap bytes held. The hash map's layout is not public; this counts its
    /// slots (`capacity × 8/7` buckets of key, value and one control byte).
    pub(super) fn bytes_held(&self) -> usize {
        let slot = core::mem::size_of::<(u64, u32)>() + 1;
        self.arena.capacity()
            + self.spans.capacity() * core::mem::size_of::<(u32, u32)>()
            + self.index.capacity() * slot * 8 / 7
    }

    pub(super) fn shrink_to_fit(&mut self) {
        self.arena.shrink_to_fit();
        self.spans.shrink_to_fit();
        self.index.shrink_to_fit();
    }
}

// ---------------------------------------------------------------------------
// Encoding

fn put_str(out: &mut Vec<u8>, s: &str, strings: &mut Interner) {
    match strings.intern(s) {
        Some(id) => {
            out.push(TAG_STR_ID);
            put_varint(out, u64::from(id));
        }
        None => {
            out.push(TAG_STR);
            put_varint(out, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
    }
}

/// Appends one detail: key byte, tag and payload. The common one- and
/// two-byte cases (small integers, booleans) are inlined into the caller;
/// everything else goes through [`encode_val`].
#[inline]
pub(super) fn encode_detail(out: &mut Vec<u8>, key: u8, v: &Val<'_>, strings: &mut Interner) {
    match *v {
        Val::I64(x) if (0..=SMALL_MAX as i64).contains(&x) => {
            out.extend_from_slice(&[key, TAG_SMALL_I64 | x as u8]);
        }
        Val::U64(x) if x <= SMALL_MAX => out.extend_from_slice(&[key, TAG_SMALL_U64 | x as u8]),
        Val::Bool(b) => out.extend_from_slice(&[key, if b { TAG_TRUE } else { TAG_FALSE }]),
        _ => {
            out.push(key);
            encode_val(out, v, strings);
        }
    }
}

/// Appends the tag and payload of `v`.
pub(super) fn encode_val(out: &mut Vec<u8>, v: &Val<'_>, strings: &mut Interner) {
    match *v {
        Val::I64(x) => {
            if (0..=SMALL_MAX as i64).contains(&x) {
                out.push(TAG_SMALL_I64 | x as u8);
            } else {
                out.push(TAG_I64);
                put_varint(out, zigzag(x));
            }
        }
        Val::U64(x) => {
            if x <= SMALL_MAX {
                out.push(TAG_SMALL_U64 | x as u8);
            } else {
                out.push(TAG_U64);
                put_varint(out, x);
            }
        }
        Val::F64(x) => {
            out.push(TAG_F64);
            out.extend_from_slice(&x.to_bits().to_le_bytes());
        }
        Val::Bool(b) => out.push(if b { TAG_TRUE } else { TAG_FALSE }),
        Val::Str(s) => put_str(out, s, strings),
        Val::Null => out.push(TAG_NULL),
        Val::Tx(x) => {
            out.push(TAG_TX);
            put_varint(out, x);
        }
        Val::Agent(x) => {
            out.push(TAG_AGENT);
            put_varint(out, u64::from(x));
        }
        Val::I64List(xs) => {
            out.push(TAG_I64_LIST);
            put_varint(out, xs.len() as u64);
            for &x in xs {
                put_varint(out, zigzag(x));
            }
        }
        Val::F64List(xs) => {
            out.push(TAG_F64_LIST);
            put_varint(out, xs.len() as u64);
            for &x in xs {
                out.extend_from_slice(&x.to_bits().to_le_bytes());
            }
        }
        Val::StrList(xs) => {
            out.push(TAG_STR_LIST);
            put_varint(out, xs.len() as u64);
            for s in xs {
                match strings.intern(s) {
                    Some(id) => put_varint(out, u64::from(id) << 1),
                    None => {
                        put_varint(out, ((s.len() as u64) << 1) | 1);
                        out.extend_from_slice(s.as_bytes());
                    }
                }
            }
        }
        Val::TxList(xs) => {
            out.push(TAG_TX_LIST);
            put_varint(out, xs.len() as u64);
            let mut prev = 0u64;
            for &x in xs {
                put_varint(out, zigzag(x.wrapping_sub(prev) as i64));
                prev = x;
            }
        }
        Val::AgentList(xs) => {
            out.push(TAG_AGENT_LIST);
            put_varint(out, xs.len() as u64);
            for &x in xs {
                put_varint(out, u64::from(x));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Decoding through a visitor

/// One decoded scalar; strings borrow from the log.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Scalar<'a> {
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
    Str(&'a str),
    Null,
    Tx(u64),
    Agent(u32),
}

/// Element kind of a list value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ListKind {
    I64,
    F64,
    Str,
    Tx,
    Agent,
}

/// Receives one value: a scalar, or `begin_list`, the items as scalars, and
/// `end_list`.
pub(super) trait Sink {
    fn scalar(&mut self, v: Scalar<'_>);
    fn begin_list(&mut self, kind: ListKind, len: usize);
    fn end_list(&mut self);
}

/// Decodes one value (tag and payload) into `sink`.
pub(super) fn decode_val<S: Sink>(
    r: &mut Reader<'_>,
    strings: &Interner,
    sink: &mut S,
) -> Option<()> {
    let tag = r.byte()?;
    if tag >= TAG_SMALL_U64 {
        sink.scalar(Scalar::U64(u64::from(tag - TAG_SMALL_U64)));
        return Some(());
    }
    if tag >= TAG_SMALL_I64 {
        sink.scalar(Scalar::I64(i64::from(tag - TAG_SMALL_I64)));
        return Some(());
    }
    match tag {
        TAG_NULL => sink.scalar(Scalar::Null),
        TAG_FALSE => sink.scalar(Scalar::Bool(false)),
        TAG_TRUE => sink.scalar(Scalar::Bool(true)),
        TAG_I64 => sink.scalar(Scalar::I64(unzigzag(r.varint()?))),
        TAG_U64 => sink.scalar(Scalar::U64(r.varint()?)),
        TAG_F64 => sink.scalar(Scalar::F64(r.f64()?)),
        TAG_STR => {
            let n = r.len()?;
            sink.scalar(Scalar::Str(r.str(n)?));
        }
        TAG_STR_ID => {
            let id = u32::try_from(r.varint()?).ok()?;
            sink.scalar(Scalar::Str(strings.get(id)?));
        }
        TAG_TX => sink.scalar(Scalar::Tx(r.varint()?)),
        TAG_AGENT => sink.scalar(Scalar::Agent(u32::try_from(r.varint()?).ok()?)),
        TAG_I64_LIST => {
            let n = r.count()?;
            sink.begin_list(ListKind::I64, n);
            for _ in 0..n {
                sink.scalar(Scalar::I64(unzigzag(r.varint()?)));
            }
            sink.end_list();
        }
        TAG_F64_LIST => {
            let n = r.count()?;
            sink.begin_list(ListKind::F64, n);
            for _ in 0..n {
                sink.scalar(Scalar::F64(r.f64()?));
            }
            sink.end_list();
        }
        TAG_STR_LIST => {
            let n = r.count()?;
            sink.begin_list(ListKind::Str, n);
            for _ in 0..n {
                let head = r.varint()?;
                let s = if head & 1 == 0 {
                    strings.get(u32::try_from(head >> 1).ok()?)?
                } else {
                    r.str(usize::try_from(head >> 1).ok()?)?
                };
                sink.scalar(Scalar::Str(s));
            }
            sink.end_list();
        }
        TAG_TX_LIST => {
            let n = r.count()?;
            sink.begin_list(ListKind::Tx, n);
            let mut prev = 0u64;
            for _ in 0..n {
                prev = prev.wrapping_add(unzigzag(r.varint()?) as u64);
                sink.scalar(Scalar::Tx(prev));
            }
            sink.end_list();
        }
        TAG_AGENT_LIST => {
            let n = r.count()?;
            sink.begin_list(ListKind::Agent, n);
            for _ in 0..n {
                sink.scalar(Scalar::Agent(u32::try_from(r.varint()?).ok()?));
            }
            sink.end_list();
        }
        _ => return None,
    }
    Some(())
}

/// Feeds an owned value to `sink` exactly as decoding its encoding would.
pub(super) fn replay_owned<S: Sink>(v: &OwnedVal, sink: &mut S) {
    fn list<S: Sink, T: Copy>(
        sink: &mut S,
        kind: ListKind,
        xs: &[T],
        f: impl Fn(T) -> Scalar<'static>,
    ) {
        sink.begin_list(kind, xs.len());
        for &x in xs {
            sink.scalar(f(x));
        }
        sink.end_list();
    }
    match v {
        OwnedVal::I64(x) => sink.scalar(Scalar::I64(*x)),
        OwnedVal::U64(x) => sink.scalar(Scalar::U64(*x)),
        OwnedVal::F64(x) => sink.scalar(Scalar::F64(*x)),
        OwnedVal::Bool(x) => sink.scalar(Scalar::Bool(*x)),
        OwnedVal::Str(s) => sink.scalar(Scalar::Str(s)),
        OwnedVal::Null => sink.scalar(Scalar::Null),
        OwnedVal::Tx(x) => sink.scalar(Scalar::Tx(*x)),
        OwnedVal::Agent(x) => sink.scalar(Scalar::Agent(*x)),
        OwnedVal::I64List(xs) => list(sink, ListKind::I64, xs, Scalar::I64),
        OwnedVal::F64List(xs) => list(sink, ListKind::F64, xs, Scalar::F64),
        OwnedVal::TxList(xs) => list(sink, ListKind::Tx, xs, Scalar::Tx),
        OwnedVal::AgentList(xs) => list(sink, ListKind::Agent, xs, Scalar::Agent),
        OwnedVal::StrList(xs) => {
            sink.begin_list(ListKind::Str, xs.len());
            for s in xs {
                sink.scalar(Scalar::Str(s));
            }
            sink.end_list();
        }
    }
}

/// Builds an [`OwnedVal`] from visitor calls.
#[derive(Default)]
pub(super) struct OwnedBuilder {
    value: Option<OwnedVal>,
    in_list: bool,
}

impl OwnedBuilder {
    pub(super) fn take(&mut self) -> Option<OwnedVal> {
        self.in_list = false;
        self.value.take()
    }
}

impl Sink for OwnedBuilder {
    fn scalar(&mut self, v: Scalar<'_>) {
        if !self.in_list {
            self.value = Some(match v {
                Scalar::I64(x) => OwnedVal::I64(x),
                Scalar::U64(x) => OwnedVal::U64(x),
                Scalar::F64(x) => OwnedVal::F64(x),
                Scalar::Bool(x) => OwnedVal::Bool(x),
                Scalar::Str(s) => OwnedVal::Str(s.to_owned()),
                Scalar::Null => OwnedVal::Null,
                Scalar::Tx(x) => OwnedVal::Tx(x),
                Scalar::Agent(x) => OwnedVal::Agent(x),
            });
            return;
        }
        match (&mut self.value, v) {
            (Some(OwnedVal::I64List(xs)), Scalar::I64(x)) => xs.push(x),
            (Some(OwnedVal::F64List(xs)), Scalar::F64(x)) => xs.push(x),
            (Some(OwnedVal::StrList(xs)), Scalar::Str(s)) => xs.push(s.to_owned()),
            (Some(OwnedVal::TxList(xs)), Scalar::Tx(x)) => xs.push(x),
            (Some(OwnedVal::AgentList(xs)), Scalar::Agent(x)) => xs.push(x),
            _ => {}
        }
    }

    fn begin_list(&mut self, kind: ListKind, len: usize) {
        self.in_list = true;
        self.value = Some(match kind {
            ListKind::I64 => OwnedVal::I64List(Vec::with_capacity(len)),
            ListKind::F64 => OwnedVal::F64List(Vec::with_capacity(len)),
            ListKind::Str => OwnedVal::StrList(Vec::with_capacity(len)),
            ListKind::Tx => OwnedVal::TxList(Vec::with_capacity(len)),
            ListKind::Agent => OwnedVal::AgentList(Vec::with_capacity(len)),
        });
    }

    fn end_list(&mut self) {
        self.in_list = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(v: Val<'_>, strings: &mut Interner) -> (OwnedVal, usize) {
        let mut buf = Vec::new();
        encode_val(&mut buf, &v, strings);
        let mut r = Reader::new(&buf);
        let mut b = OwnedBuilder::default();
        decode_val(&mut r, strings, &mut b).expect("decodes");
        assert!(r.at_end(), "trailing bytes for {v:?}");
        (b.take().expect("value"), buf.len())
    }

    #[test]
    fn every_kind_round_trips() {
        let long = "x".repeat(MAX_INTERN_LEN + 1);
        let strs = ["", "a", "ünïcødé ✓ 🚀", "ctl\u{0}\u{1f}\"\\", long.as_str()];
        let cases: Vec<Val<'_>> = vec![
            Val::I64(0),
            Val::I64(63),
            Val::I64(64),
            Val::I64(-1),
            Val::I64(i64::MIN),
            Val::I64(i64::MAX),
            Val::U64(0),
            Val::U64(63),
            Val::U64(64),
            Val::U64(u64::MAX),
            Val::F64(0.1),
            Val::F64(-0.0),
            Val::F64(f64::MAX),
            Val::F64(f64::MIN_POSITIVE),
            Val::F64(5e-324),
            Val::F64(f64::INFINITY),
            Val::Bool(true),
            Val::Bool(false),
            Val::Str(""),
            Val::Str("Normal"),
            Val::Str("ünïcødé ✓ 🚀"),
            Val::Str("ctl\u{0}\u{1f}\"\\\n"),
            Val::Str(&long),
            Val::Null,
            Val::Tx(0),
            Val::Tx(u64::MAX),
            Val::Agent(0),
            Val::Agent(u32::MAX),
            Val::I64List(&[]),
            Val::I64List(&[i64::MIN, -1, 0, 1, i64::MAX]),
            Val::F64List(&[]),
            Val::F64List(&[1.5, -0.0, 1e300]),
            Val::StrList(&[]),
            Val::StrList(&strs),
            Val::TxList(&[]),
            Val::TxList(&[5, 6, 7, 3, u64::MAX, 0, 1]),
            Val::AgentList(&[]),
            Val::AgentList(&[0, 7, u32::MAX]),
        ];
        let mut strings = Interner::default();
        for v in cases {
            let (owned, _) = round_trip(v, &mut strings);
            assert_eq!(owned, v.to_owned_val(), "{v:?}");
        }
        let (nan, _) = round_trip(Val::F64(f64::NAN), &mut strings);
        assert!(matches!(nan, OwnedVal::F64(x) if x.is_nan()));
    }

    #[test]
    fn encoded_sizes() {
        let mut strings = Interner::default();
        let cases: &[(Val<'_>, usize)] = &[
            (Val::I64(5), 1),
            (Val::U64(63), 1),
            (Val::I64(-1), 2),
            (Val::I64(64), 3),
            (Val::Bool(true), 1),
            (Val::Null, 1),
            (Val::F64(1.0), 9),
            (Val::Str("generated"), 2),
            (Val::Str("generated"), 2),
            (Val::TxList(&[100, 101, 102, 103]), 1 + 1 + 2 + 3),
            (Val::I64(i64::MIN), 11),
        ];
        for (v, size) in cases {
            assert_eq!(round_trip(*v, &mut strings).1, *size, "{v:?}");
        }
    }

    #[test]
    fn varint_and_zigzag() {
        for v in [0i64, 1, -1, 63, -64, 64, i64::MIN, i64::MAX, 1 << 40] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
        for v in [0u64, 127, 128, 300, u64::MAX] {
            let mut buf = Vec::new();
            put_varint(&mut buf, v);
            assert_eq!(Reader::new(&buf).varint(), Some(v));
        }
        // An over-long varint is rejected instead of overflowing.
        assert_eq!(Reader::new(&[0xFF; 11]).varint(), None);
        assert_eq!(Reader::new(&[0x80]).varint(), None);
    }

    #[test]
    fn interner_bounds() {
        let mut strings = Interner::default();
        assert_eq!(strings.intern("a"), Some(0));
        assert_eq!(strings.intern("b"), Some(1));
        assert_eq!(strings.intern("a"), Some(0));
        assert_eq!(strings.intern(&"y".repeat(MAX_INTERN_LEN + 1)), None);
        for i in 0..MAX_INTERNED + 10 {
            let _ = strings.intern(&format!("s{i}"));
        }
        assert_eq!(strings.len(), MAX_INTERNED);
        assert_eq!(strings.intern("never-seen-before"), None);
        assert_eq!(strings.get(1), Some("b"));
        assert!(strings.bytes_held() > 0);
    }

    /// The address cache never returns the id of a string that used to live
    /// at the same address with other contents.
    #[test]
    fn interner_cache_checks_contents() {
        let mut strings = Interner::default();
        let mut buf = String::from("abcd");
        let a = strings.intern(&buf).expect("id");
        buf.make_ascii_uppercase();
        let b = strings.intern(&buf).expect("id");
        assert_ne!(a, b);
        assert_eq!(strings.get(a), Some("abcd"));
        assert_eq!(strings.get(b), Some("ABCD"));
        buf.make_ascii_lowercase();
        assert_eq!(strings.intern(&buf), Some(a));
        // Same contents at another address: same id.
        let other = String::from("abcd");
        assert_eq!(strings.intern(&other), Some(a));
    }

    #[test]
    fn malformed_input_is_rejected() {
        let strings = Interner::default();
        for buf in [
            &[][..],
            &[TAG_I64][..],
            &[TAG_STR, 5, b'a'][..],
            &[TAG_STR_ID, 0][..],
            &[100u8][..],
            &[TAG_I64_LIST, 100][..],
        ] {
            let mut b = OwnedBuilder::default();
            assert_eq!(
                decode_val(&mut Reader::new(buf), &strings, &mut b),
                None,
                "{buf:?}"
            );
        }
    }
}
