//! Config hash and checkpoint framing (ENGINE.md §11).
//!
//! Why a frame around the payload: `restore` must refuse bytes that are not a checkpoint, come
//! from an incompatible format, were damaged, or belong to a different config — and it must say
//! which, without ever panicking on hostile or truncated input (P3). The payload itself (the
//! complete engine state) is opaque here.
//!
//! Layout, all integers little-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `"PAYSIMCK"` |
//! | 2 | format version (`u16`) |
//! | 2 + n | engine version: `u16` byte length, then UTF-8 |
//! | 32 | config hash (SHA-256 of the canonical config JSON) |
//! | 4 | `current_tick` (`u32`) |
//! | 8 | payload length (`u64`) |
//! | 32 | payload checksum (SHA-256 of the payload) |
//! | len | payload |
//!
//! Only the payload is covered by the checksum, as §11 lays the frame out. The magic, version,
//! lengths and config hash are each validated on their own; `current_tick` is not protected,
//! which is why the engine keeps the clock inside the payload too and should check that the two
//! agree after decoding the payload.

use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// First eight bytes of every checkpoint.
pub const MAGIC: &[u8; 8] = b"PAYSIMCK";

/// Canonical JSON: object keys sorted by their UTF-8 bytes, no whitespace, strings escaped and
/// numbers written exactly as `serde_json` writes them.
///
/// Why not `serde_json::to_string`: its key order depends on whether some crate in the build
/// enables serde_json's `preserve_order` feature (features are unified across the dependency
/// graph), and the config hash must not change because an unrelated dependency was added.
pub fn canonical_json(v: &serde_json::Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        // `Number`'s Display is serde_json's own number writer (itoa / ryu shortest round trip).
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
    }
}

/// A JSON string with serde_json's escaping: `"` and `\`, the short escapes `\b \f \n \r \t`,
/// other control characters as `\u00xx` (lowercase hex), everything else verbatim UTF-8.
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// SHA-256 of [`canonical_json`]: the config hash of `SimulationStarted` and of checkpoints.
pub fn config_hash(v: &serde_json::Value) -> [u8; 32] {
    Sha256::digest(canonical_json(v).as_bytes()).into()
}

/// Lowercase hexadecimal, for showing hashes in events and errors.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The fields of a checkpoint frame other than the payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointHeader {
    /// Version of the payload format; `decode` accepts exactly one.
    pub format_version: u16,
    /// Version of the engine that wrote the checkpoint (informational).
    pub engine_version: String,
    /// Config hash of the run that wrote it.
    pub config_hash: [u8; 32],
    /// The next tick to process when the checkpoint was taken.
    pub current_tick: u32,
}

/// Why `restore` refused a checkpoint.
#[derive(thiserror::Error, Debug, Clone, PartialEq)]
pub enum CheckpointError {
    /// The bytes do not start with `"PAYSIMCK"`.
    #[error("not a paysim checkpoint (bad magic)")]
    BadMagic,
    /// Written with a payload format this engine cannot read.
    #[error("unsupported checkpoint format version {found} (supported: {supported})")]
    UnsupportedVersion {
        /// Version in the checkpoint.
        found: u16,
        /// Version this engine reads.
        supported: u16,
    },
    /// Written by a run with a different config.
    #[error("checkpoint config hash {found} does not match the config ({expected})")]
    ConfigMismatch {
        /// Hex hash of the config given to restore.
        expected: String,
        /// Hex hash stored in the checkpoint.
        found: String,
    },
    /// Truncated, padded or damaged.
    #[error("corrupt checkpoint: {0}")]
    Corrupt(String),
}

/// Frames `payload` behind `header` (layout in the module docs).
///
/// An engine version longer than `u16::MAX` bytes cannot be framed; it is cut at the last
/// character boundary that fits, so encoding stays infallible and the frame stays decodable.
pub fn encode(header: &CheckpointHeader, payload: &[u8]) -> Vec<u8> {
    let version = truncate_utf8(&header.engine_version, usize::from(u16::MAX));
    let mut out = Vec::with_capacity(8 + 2 + 2 + version.len() + 32 + 4 + 8 + 32 + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&header.format_version.to_le_bytes());
    // `version.len() ≤ u16::MAX` by construction.
    out.extend_from_slice(&(version.len() as u16).to_le_bytes());
    out.extend_from_slice(version.as_bytes());
    out.extend_from_slice(&header.config_hash);
    out.extend_from_slice(&header.current_tick.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&Sha256::digest(payload));
    out.extend_from_slice(payload);
    out
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

/// A cursor over the frame that turns every short read into `Corrupt` instead of a panic.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], CheckpointError> {
        let end = self.pos.checked_add(n);
        match end.and_then(|end| self.bytes.get(self.pos..end)) {
            Some(slice) => {
                self.pos += n;
                Ok(slice)
            }
            None => Err(CheckpointError::Corrupt(format!(
                "truncated: {what} needs {n} bytes at offset {}, {} left",
                self.pos,
                self.bytes.len().saturating_sub(self.pos)
            ))),
        }
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], CheckpointError> {
        let slice = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(slice);
        Ok(a)
    }

    fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.pos..).unwrap_or(&[])
    }
}

/// Unframes a checkpoint, returning its header and a borrowed payload.
///
/// Checks run in the order magic, format version, lengths and checksum, config hash, so the
/// error names the most fundamental problem: a damaged checkpoint is reported as `Corrupt`
/// even if the damage happens to hit the stored config hash. Input shorter than the magic
/// is `BadMagic` when its bytes already differ from the magic, `Corrupt` (truncated) otherwise.
pub fn decode<'a>(
    bytes: &'a [u8],
    expected_hash: &[u8; 32],
    supported_version: u16,
) -> Result<(CheckpointHeader, &'a [u8]), CheckpointError> {
    let head = bytes.get(..MAGIC.len()).unwrap_or(bytes);
    if MAGIC.get(..head.len()) != Some(head) {
        return Err(CheckpointError::BadMagic);
    }
    let mut r = Reader { bytes, pos: 0 };
    r.take(MAGIC.len(), "magic")?;

    let format_version = u16::from_le_bytes(r.array("format version")?);
    if format_version != supported_version {
        return Err(CheckpointError::UnsupportedVersion {
            found: format_version,
            supported: supported_version,
        });
    }

    let version_len = u16::from_le_bytes(r.array("engine version length")?);
    let version_bytes = r.take(usize::from(version_len), "engine version")?;
    let engine_version = std::str::from_utf8(version_bytes)
        .map_err(|e| CheckpointError::Corrupt(format!("engine version is not UTF-8: {e}")))?
        .to_string();
    let config_hash: [u8; 32] = r.array("config hash")?;
    let current_tick = u32::from_le_bytes(r.array("current tick")?);
    let payload_len = u64::from_le_bytes(r.array("payload length")?);
    let checksum: [u8; 32] = r.array("payload checksum")?;

    let payload = r.rest();
    if payload.len() as u64 != payload_len {
        return Err(CheckpointError::Corrupt(format!(
            "payload length {} does not match the declared {payload_len}",
            payload.len()
        )));
    }
    let actual: [u8; 32] = Sha256::digest(payload).into();
    if actual != checksum {
        return Err(CheckpointError::Corrupt(format!(
            "payload checksum mismatch: stored {}, computed {}",
            hex(&checksum),
            hex(&actual)
        )));
    }

    if &config_hash != expected_hash {
        return Err(CheckpointError::ConfigMismatch {
            expected: hex(expected_hash),
            found: hex(&config_hash),
        });
    }

    Ok((
        CheckpointHeader {
            format_version,
            engine_version,
            config_hash,
            current_tick,
        },
        payload,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const VERSION: u16 = 3;

    fn header(hash: [u8; 32]) -> CheckpointHeader {
        CheckpointHeader {
            format_version: VERSION,
            engine_version: "0.1.0-é".to_string(),
            config_hash: hash,
            current_tick: 4_242,
        }
    }

    fn sample() -> ([u8; 32], Vec<u8>, Vec<u8>) {
        let hash = config_hash(&json!({"simulation": {"ticks_per_day": 100}}));
        let payload: Vec<u8> = (0..200u32).map(|i| (i * 7 % 251) as u8).collect();
        let frame = encode(&header(hash), &payload);
        (hash, payload, frame)
    }

    /// Offset of the payload in the sample frame.
    fn payload_offset(frame_len: usize, payload_len: usize) -> usize {
        frame_len - payload_len
    }

    #[test]
    fn canonical_json_sorts_and_strips() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{ "b": 1, "a": {"z": [3, 2.5, null, true], "y": "x"}, "B": -0.0001, "é": 1e300 }"#,
        )
        .expect("json");
        assert_eq!(
            canonical_json(&v),
            r#"{"B":-0.0001,"a":{"y":"x","z":[3,2.5,null,true]},"b":1,"é":1e+300}"#
        );
        assert_eq!(canonical_json(&json!([])), "[]");
        assert_eq!(canonical_json(&json!({})), "{}");
        assert_eq!(canonical_json(&json!(1.0)), "1.0");
        assert_eq!(canonical_json(&json!(u64::MAX)), "18446744073709551615");
        assert_eq!(canonical_json(&json!(i64::MIN)), "-9223372036854775808");
        assert_eq!(canonical_json(&json!(false)), "false");
    }

    #[test]
    fn canonical_json_matches_serde_json_writer() {
        // With serde_json's default (sorted) map, the canonical form is exactly `to_string`.
        let strings = [
            "plain",
            "quote \" backslash \\ slash /",
            "\u{0}\u{1}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{1f}\u{7f}",
            "unicode é ✓ 𝄞",
        ];
        for s in strings {
            let v = json!({ s: s, "n": [0.1, 1e-7, 123456789.125, -3] });
            assert_eq!(
                canonical_json(&v),
                serde_json::to_string(&v).expect("ser"),
                "{s:?}"
            );
        }
    }

    #[test]
    fn config_hash_ignores_key_order_and_whitespace() {
        let a: serde_json::Value = serde_json::from_str(r#"{"x": 1, "y": [1, 2]}"#).expect("a");
        let b: serde_json::Value = serde_json::from_str("{\"y\":[1,2],\n \"x\":1}").expect("b");
        let c: serde_json::Value = serde_json::from_str(r#"{"x": 1, "y": [2, 1]}"#).expect("c");
        assert_eq!(config_hash(&a), config_hash(&b));
        assert_ne!(config_hash(&a), config_hash(&c));
        // SHA-256 of the canonical text, checked against a known digest.
        assert_eq!(
            hex(&config_hash(&json!({}))),
            // SHA-256("{}")
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }

    #[test]
    fn hex_is_lowercase_and_padded() {
        assert_eq!(hex(&[]), "");
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
    }

    #[test]
    fn round_trip() {
        let (hash, payload, frame) = sample();
        let (h, p) = decode(&frame, &hash, VERSION).expect("decodes");
        assert_eq!(h, header(hash));
        assert_eq!(p, &payload[..]);
        // Layout spot checks.
        assert_eq!(&frame[..8], b"PAYSIMCK");
        assert_eq!(&frame[8..10], &VERSION.to_le_bytes());
        let ev_len = "0.1.0-é".len();
        assert_eq!(&frame[10..12], &(ev_len as u16).to_le_bytes());
        let after_ev = 12 + ev_len;
        assert_eq!(&frame[after_ev..after_ev + 32], &hash);
        assert_eq!(
            &frame[after_ev + 32..after_ev + 36],
            &4_242u32.to_le_bytes()
        );
        assert_eq!(
            &frame[after_ev + 36..after_ev + 44],
            &(payload.len() as u64).to_le_bytes()
        );
        let sum: [u8; 32] = Sha256::digest(&payload).into();
        assert_eq!(&frame[after_ev + 44..after_ev + 76], &sum);
        assert_eq!(frame.len(), after_ev + 76 + payload.len());

        // Empty payload and empty engine version.
        let h = CheckpointHeader {
            format_version: 0,
            engine_version: String::new(),
            config_hash: [7; 32],
            current_tick: u32::MAX,
        };
        let f = encode(&h, &[]);
        assert_eq!(decode(&f, &[7; 32], 0), Ok((h, &[][..])));
    }

    #[test]
    fn long_engine_version_is_cut_on_a_char_boundary() {
        let long = "é".repeat(40_000); // 80,000 bytes
        let mut h = header([1; 32]);
        h.engine_version = long;
        let f = encode(&h, b"x");
        let (back, p) = decode(&f, &[1; 32], VERSION).expect("decodes");
        assert_eq!(back.engine_version.len(), 65_534);
        assert!(h.engine_version.starts_with(&back.engine_version));
        assert_eq!(p, b"x");
    }

    #[test]
    fn bad_magic() {
        let (hash, _, frame) = sample();
        let mut f = frame.clone();
        f[0] = b'X';
        assert_eq!(decode(&f, &hash, VERSION), Err(CheckpointError::BadMagic));
        assert_eq!(
            decode(b"PAYSIMCX", &hash, VERSION),
            Err(CheckpointError::BadMagic)
        );
        assert_eq!(
            decode(b"{\"json\":1}", &hash, VERSION),
            Err(CheckpointError::BadMagic)
        );
        assert_eq!(decode(b"Q", &hash, VERSION), Err(CheckpointError::BadMagic));
        assert!(matches!(
            decode(b"", &hash, VERSION),
            Err(CheckpointError::Corrupt(_))
        ));
    }

    #[test]
    fn unsupported_version() {
        let (hash, _, frame) = sample();
        assert_eq!(
            decode(&frame, &hash, VERSION + 1),
            Err(CheckpointError::UnsupportedVersion {
                found: VERSION,
                supported: VERSION + 1
            })
        );
        // Version is checked before the rest: a truncated frame of another version says so.
        assert_eq!(
            decode(&frame[..10], &hash, 9),
            Err(CheckpointError::UnsupportedVersion {
                found: VERSION,
                supported: 9
            })
        );
    }

    #[test]
    fn config_mismatch() {
        let (hash, _, frame) = sample();
        let other = config_hash(&json!({"simulation": {"ticks_per_day": 101}}));
        assert_eq!(
            decode(&frame, &other, VERSION),
            Err(CheckpointError::ConfigMismatch {
                expected: hex(&other),
                found: hex(&hash)
            })
        );
    }

    #[test]
    fn corruption_beats_config_mismatch() {
        let (_hash, payload, mut frame) = sample();
        let off = payload_offset(frame.len(), payload.len());
        frame[off] ^= 1;
        assert!(matches!(
            decode(&frame, &[0; 32], VERSION),
            Err(CheckpointError::Corrupt(_))
        ));
    }

    #[test]
    fn corrupt_cases() {
        let (hash, payload, frame) = sample();
        // Trailing garbage: length mismatch.
        let mut f = frame.clone();
        f.push(0);
        assert!(matches!(
            decode(&f, &hash, VERSION),
            Err(CheckpointError::Corrupt(m)) if m.contains("length")
        ));
        // Declared length larger than the data (and absurdly large).
        let len_at = payload_offset(frame.len(), payload.len()) - 40;
        let mut f = frame.clone();
        f[len_at..len_at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(
            decode(&f, &hash, VERSION),
            Err(CheckpointError::Corrupt(_))
        ));
        // Checksum damaged.
        let mut f = frame.clone();
        f[len_at + 8] ^= 0x80;
        assert!(matches!(
            decode(&f, &hash, VERSION),
            Err(CheckpointError::Corrupt(m)) if m.contains("checksum")
        ));
        // Engine version not UTF-8.
        let mut f = frame.clone();
        f[12] = 0xFF;
        assert!(matches!(
            decode(&f, &hash, VERSION),
            Err(CheckpointError::Corrupt(m)) if m.contains("UTF-8")
        ));
        // Engine version length pointing past the end.
        let mut f = frame.clone();
        f[10..12].copy_from_slice(&u16::MAX.to_le_bytes());
        assert!(matches!(
            decode(&f, &hash, VERSION),
            Err(CheckpointError::Corrupt(_))
        ));
    }

    #[test]
    fn every_truncation_is_an_error() {
        let (hash, _, frame) = sample();
        for n in 0..frame.len() {
            let r = decode(&frame[..n], &hash, VERSION);
            assert!(
                matches!(r, Err(CheckpointError::Corrupt(_))),
                "prefix of {n} bytes gave {r:?}"
            );
        }
        // Dropping any single byte (not only the tail) is an error as well, never a panic.
        for i in 0..frame.len() {
            let mut f = frame.clone();
            f.remove(i);
            assert!(decode(&f, &hash, VERSION).is_err(), "byte {i} removed");
        }
    }

    #[test]
    fn every_payload_flip_is_corrupt() {
        let (hash, payload, frame) = sample();
        let off = payload_offset(frame.len(), payload.len());
        for i in off..frame.len() {
            for bit in [0x01u8, 0x80] {
                let mut f = frame.clone();
                f[i] ^= bit;
                assert!(
                    matches!(decode(&f, &hash, VERSION), Err(CheckpointError::Corrupt(_))),
                    "payload byte {} bit {bit:#x}",
                    i - off
                );
            }
        }
    }

    #[test]
    fn header_flips_never_panic() {
        let (hash, payload, frame) = sample();
        let off = payload_offset(frame.len(), payload.len());
        for i in 0..off {
            let mut f = frame.clone();
            f[i] ^= 0xFF;
            // Only current_tick is not integrity-checked (see the module docs); everything
            // else must be rejected.
            let r = decode(&f, &hash, VERSION);
            let tick_at = off - 44..off - 40;
            if tick_at.contains(&i) {
                assert!(r.is_ok());
            } else {
                assert!(r.is_err(), "header byte {i} flipped but accepted");
            }
        }
    }
}
