//! Scalars of the JSON reader: literals, numbers (the exact JSON grammar) and strings (all
//! escapes, surrogate pairs checked).

use super::json::{JsonError, JsonKind, JsonValue, Parser};

impl Parser<'_> {
    pub(super) fn literal(&mut self, word: &str, kind: JsonKind) -> Result<JsonValue, JsonError> {
        let offset = self.i;
        if self.s.get(self.i..self.i + word.len()) == Some(word.as_bytes()) {
            self.i += word.len();
            Ok(JsonValue { kind, offset })
        } else {
            Err(self.err("expected a value"))
        }
    }

    pub(super) fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }

    pub(super) fn number(&mut self) -> Result<JsonValue, JsonError> {
        let offset = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.err("expected a digit")),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(self.err("expected a digit after `.`"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("expected a digit in the exponent"));
            }
        }
        let text = self
            .s
            .get(offset..self.i)
            .and_then(|t| std::str::from_utf8(t).ok())
            .unwrap_or("");
        // The grammar above is exactly what Rust's float parser accepts, so this cannot fail;
        // a huge literal becomes ±inf and is judged by the validator (INVALID_LITERAL).
        let v: f64 = text.parse().map_err(|_| self.err("invalid number"))?;
        Ok(JsonValue {
            kind: JsonKind::Number(v),
            offset,
        })
    }

    pub(super) fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(b @ b'0'..=b'9') => b - b'0',
                Some(b @ b'a'..=b'f') => b - b'a' + 10,
                Some(b @ b'A'..=b'F') => b - b'A' + 10,
                _ => return Err(self.err("expected four hex digits after `\\u`")),
            };
            v = v * 16 + u32::from(d);
            self.i += 1;
        }
        Ok(v)
    }

    pub(super) fn string(&mut self) -> Result<String, JsonError> {
        self.i += 1; // opening quote
        let mut out = String::new();
        loop {
            let start = self.i;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.i += 1;
            }
            // Input is valid UTF-8 and we stop only at ASCII bytes, so this slice is text.
            if let Some(t) = self
                .s
                .get(start..self.i)
                .and_then(|t| std::str::from_utf8(t).ok())
            {
                out.push_str(t);
            }
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.i += 1;
                            let c = self.unicode_escape()?;
                            out.push(c);
                            continue;
                        }
                        _ => return Err(self.err("invalid escape in a string")),
                    };
                    self.i += 1;
                    out.push(c);
                }
                None => return Err(self.err("unterminated string")),
                Some(_) => return Err(self.err("control character in a string")),
            }
        }
    }

    pub(super) fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let hi = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&hi) {
            if self.s.get(self.i..self.i + 2) != Some(b"\\u") {
                return Err(self.err("unpaired surrogate in a `\\u` escape"));
            }
            self.i += 2;
            let lo = self.hex4()?;
            if !(0xDC00..0xE000).contains(&lo) {
                return Err(self.err("unpaired surrogate in a `\\u` escape"));
            }
            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
        } else {
            hi
        };
        char::from_u32(code).ok_or_else(|| self.err("unpaired surrogate in a `\\u` escape"))
    }
}
