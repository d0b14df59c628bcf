//! A small strict JSON reader for policy documents.
//!
//! Why not `serde_json`: the validator needs what a generic parser throws away or refuses:
//! a byte offset for every value (to sort problems into document order and to give line and
//! column), every repeated key (an error in a policy, silently "last wins" elsewhere), and
//! nesting far beyond serde_json's recursion limit of 128 (a tree of depth 100 nests ~300
//! levels). The parser is iterative (an explicit stack), so hostile input cannot exhaust the
//! call stack; it refuses nesting beyond [`MAX_JSON_DEPTH`] with an error instead.

use std::collections::HashSet;

/// Raw size limit, checked before parsing (POLICY_DSL.md §2).
pub const MAX_DOCUMENT_BYTES: usize = 1_048_576;
/// Deepest JSON nesting accepted. Valid policies need about 300 levels; the bound keeps the
/// (recursive) drop of the value tree and the validator's bounded walk far from stack limits.
pub const MAX_JSON_DEPTH: usize = 2_000;

/// A parsed value and the byte offset where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonValue {
    pub kind: JsonKind,
    pub offset: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum JsonKind {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<JsonValue>),
    /// Members in document order; a repeated key keeps its first value.
    Object(Vec<Member>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub key: String,
    pub key_offset: usize,
    pub value: JsonValue,
}

impl JsonValue {
    pub fn as_object(&self) -> Option<&[Member]> {
        match &self.kind {
            JsonKind::Object(m) => Some(m),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            JsonKind::String(s) => Some(s),
            _ => None,
        }
    }
    /// The member `key` of an object, if any.
    pub fn get(&self, key: &str) -> Option<&JsonValue> {
        self.as_object()?
            .iter()
            .find(|m| m.key == key)
            .map(|m| &m.value)
    }
    /// A short name of the JSON type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            JsonKind::Null => "null",
            JsonKind::Bool(_) => "a boolean",
            JsonKind::Number(_) => "a number",
            JsonKind::String(_) => "a string",
            JsonKind::Array(_) => "a list",
            JsonKind::Object(_) => "an object",
        }
    }
}

/// Why a document could not be read at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonErrorKind {
    TooLarge,
    Invalid,
    TooDeep,
}

#[derive(Clone, Debug, PartialEq)]
pub struct JsonError {
    pub kind: JsonErrorKind,
    pub message: String,
    pub offset: usize,
    /// Pointer to the innermost value being read when the error occurred.
    pub pointer: String,
}

/// A repeated key: reported, not fatal, so the rest of the document is still checked.
#[derive(Clone, Debug, PartialEq)]
pub struct DuplicateKey {
    pub pointer: String,
    pub key: String,
    pub offset: usize,
}

#[derive(Debug)]
pub struct Parsed {
    pub value: JsonValue,
    pub duplicates: Vec<DuplicateKey>,
    /// The document as text (UTF-8 checked, a leading byte-order mark removed).
    pub text: String,
    /// Bytes removed at the front (3 for a BOM), to turn offsets back into positions.
    pub bom: usize,
}

/// 1-based line and column (in characters) of a byte offset in `text`.
pub fn line_col(text: &[u8], offset: usize) -> (usize, usize) {
    let upto = text.get(..offset.min(text.len())).unwrap_or(&[]);
    let line = 1 + upto.iter().filter(|&&b| b == b'\n').count();
    let start = upto.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
    let col = 1 + upto
        .get(start..)
        .unwrap_or(&[])
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count();
    (line, col)
}

/// RFC 6901 escaping of one reference token.
pub fn escape_token(s: &str) -> String {
    if s.contains(['~', '/']) {
        s.replace('~', "~0").replace('/', "~1")
    } else {
        s.to_string()
    }
}

/// `base` extended by one token.
pub fn join(base: &str, token: &str) -> String {
    let mut out = String::with_capacity(base.len() + token.len() + 1);
    out.push_str(base);
    out.push('/');
    if token.contains(['~', '/']) {
        out.push_str(&escape_token(token));
    } else {
        out.push_str(token);
    }
    out
}

enum Frame {
    Array {
        items: Vec<JsonValue>,
        offset: usize,
    },
    Object {
        members: Vec<Member>,
        seen: Option<HashSet<String>>,
        /// The key whose value is being read; `None` between members.
        key: Option<String>,
        key_offset: usize,
        offset: usize,
    },
}

/// Reads a whole document: size, UTF-8, syntax, nesting and duplicate keys.
pub fn parse(bytes: &[u8]) -> Result<Parsed, JsonError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(JsonError {
            kind: JsonErrorKind::TooLarge,
            message: format!(
                "document is {} bytes; the limit is {MAX_DOCUMENT_BYTES} bytes (1 MiB)",
                bytes.len()
            ),
            offset: 0,
            pointer: String::new(),
        });
    }
    let bom = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    let body = bytes.get(bom..).unwrap_or(&[]);
    let text = match std::str::from_utf8(body) {
        Ok(t) => t.to_string(),
        Err(e) => {
            let at = e.valid_up_to();
            let (l, c) = line_col(body, at);
            return Err(JsonError {
                kind: JsonErrorKind::Invalid,
                message: format!("document is not valid UTF-8 at line {l}, column {c}"),
                offset: at,
                pointer: String::new(),
            });
        }
    };
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        stack: Vec::new(),
        duplicates: Vec::new(),
    };
    let value = p.run()?;
    let duplicates = p.duplicates;
    Ok(Parsed {
        value,
        duplicates,
        text,
        bom,
    })
}

pub(super) struct Parser<'a> {
    pub(super) s: &'a [u8],
    pub(super) i: usize,
    stack: Vec<Frame>,
    duplicates: Vec<DuplicateKey>,
}

impl Parser<'_> {
    pub(super) fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn pointer(&self) -> String {
        self.pointer_upto(self.stack.len())
    }

    /// Pointer rendered from the first `n` frames: each names the child being read in it.
    fn pointer_upto(&self, n: usize) -> String {
        let mut out = String::new();
        for f in self.stack.iter().take(n) {
            match f {
                Frame::Array { items, .. } => out.push_str(&format!("/{}", items.len())),
                Frame::Object { key: Some(key), .. } => out = join(&out, key),
                Frame::Object { key: None, .. } => {}
            }
        }
        out
    }

    pub(super) fn err(&self, what: &str) -> JsonError {
        let (l, c) = line_col(self.s, self.i);
        let found = match self.peek() {
            None => "end of document".to_string(),
            Some(_) => {
                let ch = self.s.get(self.i..).and_then(|r| {
                    std::str::from_utf8(r.get(..4.min(r.len()))?)
                        .ok()
                        .or_else(|| std::str::from_utf8(r.get(..1)?).ok())
                        .and_then(|t| t.chars().next())
                });
                match ch {
                    Some(ch) => format!("`{}`", ch.escape_debug()),
                    None => "a multi-byte character".to_string(),
                }
            }
        };
        JsonError {
            kind: JsonErrorKind::Invalid,
            message: format!("invalid JSON at line {l}, column {c}: {what}, found {found}"),
            offset: self.i,
            pointer: self.pointer(),
        }
    }

    fn expect(&mut self, b: u8, what: &str) -> Result<(), JsonError> {
        self.skip_ws();
        if self.peek() == Some(b) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err(what))
        }
    }

    /// The main loop: read a value start; scalars complete at once, containers push a frame.
    /// A completed value is attached to the frame on top, which may complete it in turn.
    fn run(&mut self) -> Result<JsonValue, JsonError> {
        self.skip_ws();
        if self.peek().is_none() {
            let mut e = self.err("expected a value");
            e.message = "invalid JSON at line 1, column 1: the document is empty".into();
            return Err(e);
        }
        loop {
            self.skip_ws();
            let offset = self.i;
            let mut done = match self.peek() {
                Some(b'{') | Some(b'[') => {
                    if self.stack.len() >= MAX_JSON_DEPTH {
                        let (l, c) = line_col(self.s, self.i);
                        return Err(JsonError {
                            kind: JsonErrorKind::TooDeep,
                            message: format!(
                                "JSON nesting deeper than {MAX_JSON_DEPTH} levels at line {l}, column {c}"
                            ),
                            offset: self.i,
                            pointer: self.pointer(),
                        });
                    }
                    let open = self.peek() == Some(b'{');
                    self.i += 1;
                    self.skip_ws();
                    if open {
                        if self.peek() == Some(b'}') {
                            self.i += 1;
                            Some(JsonValue {
                                kind: JsonKind::Object(Vec::new()),
                                offset,
                            })
                        } else {
                            let (key, key_offset) = self.key()?;
                            self.stack.push(Frame::Object {
                                members: Vec::new(),
                                seen: None,
                                key: Some(key),
                                key_offset,
                                offset,
                            });
                            None
                        }
                    } else if self.peek() == Some(b']') {
                        self.i += 1;
                        Some(JsonValue {
                            kind: JsonKind::Array(Vec::new()),
                            offset,
                        })
                    } else {
                        self.stack.push(Frame::Array {
                            items: Vec::new(),
                            offset,
                        });
                        None
                    }
                }
                Some(b'"') => Some(JsonValue {
                    kind: JsonKind::String(self.string()?),
                    offset,
                }),
                Some(b't') => Some(self.literal("true", JsonKind::Bool(true))?),
                Some(b'f') => Some(self.literal("false", JsonKind::Bool(false))?),
                Some(b'n') => Some(self.literal("null", JsonKind::Null)?),
                Some(b'-' | b'0'..=b'9') => Some(self.number()?),
                _ => return Err(self.err("expected a value")),
            };
            while let Some(v) = done.take() {
                match self.attach(v)? {
                    Attach::Root(v) => {
                        self.skip_ws();
                        if self.peek().is_some() {
                            return Err(self.err("expected the end of the document"));
                        }
                        return Ok(v);
                    }
                    Attach::Completed(v) => done = Some(v),
                    Attach::NeedValue => {}
                }
            }
        }
    }

    fn attach(&mut self, v: JsonValue) -> Result<Attach, JsonError> {
        let Some(top) = self.stack.last_mut() else {
            return Ok(Attach::Root(v));
        };
        match top {
            Frame::Array { items, .. } => {
                items.push(v);
                self.skip_ws();
                match self.peek() {
                    Some(b',') => {
                        self.i += 1;
                        Ok(Attach::NeedValue)
                    }
                    Some(b']') => {
                        self.i += 1;
                        self.pop()
                    }
                    _ => Err(self.err("expected `,` or `]` in a list")),
                }
            }
            Frame::Object {
                members,
                seen,
                key,
                key_offset,
                ..
            } => {
                let key = key.take().unwrap_or_default();
                let is_dup = match seen {
                    Some(set) => !set.insert(key.clone()),
                    None => {
                        let d = members.iter().any(|m| m.key == key);
                        if members.len() >= 8 {
                            *seen = Some(members.iter().map(|m| m.key.clone()).collect());
                            if let Some(set) = seen {
                                set.insert(key.clone());
                            }
                        }
                        d
                    }
                };
                let key_offset = *key_offset;
                if is_dup {
                    // Pointer to the repeated member: the object's pointer plus the key.
                    let object = self.pointer_upto(self.stack.len().saturating_sub(1));
                    let ptr = join(&object, &key);
                    self.duplicates.push(DuplicateKey {
                        pointer: ptr,
                        key,
                        offset: key_offset,
                    });
                } else if let Some(Frame::Object { members, .. }) = self.stack.last_mut() {
                    members.push(Member {
                        key,
                        key_offset,
                        value: v,
                    });
                }
                self.skip_ws();
                match self.peek() {
                    Some(b',') => {
                        self.i += 1;
                        self.skip_ws();
                        let (k, ko) = self.key()?;
                        if let Some(Frame::Object {
                            key, key_offset, ..
                        }) = self.stack.last_mut()
                        {
                            *key = Some(k);
                            *key_offset = ko;
                        }
                        Ok(Attach::NeedValue)
                    }
                    Some(b'}') => {
                        self.i += 1;
                        self.pop()
                    }
                    _ => Err(self.err("expected `,` or `}` in an object")),
                }
            }
        }
    }

    fn pop(&mut self) -> Result<Attach, JsonError> {
        Ok(match self.stack.pop() {
            Some(Frame::Array { items, offset }) => Attach::Completed(JsonValue {
                kind: JsonKind::Array(items),
                offset,
            }),
            Some(Frame::Object {
                members, offset, ..
            }) => Attach::Completed(JsonValue {
                kind: JsonKind::Object(members),
                offset,
            }),
            None => return Err(self.err("unbalanced brackets")),
        })
    }

    /// A member key and the `:` after it; the frame's pointer is fixed before the value.
    fn key(&mut self) -> Result<(String, usize), JsonError> {
        if self.peek() != Some(b'"') {
            return Err(self.err("expected a quoted key"));
        }
        let at = self.i;
        let k = self.string()?;
        self.expect(b':', "expected `:` after a key")?;
        Ok((k, at))
    }
}

enum Attach {
    Root(JsonValue),
    Completed(JsonValue),
    NeedValue,
}
