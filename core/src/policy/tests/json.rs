//! The JSON reader: grammar, positions, escapes, errors with line and column.

use crate::policy::json::{line_col, parse, JsonErrorKind, JsonKind};

fn err(s: &[u8]) -> (JsonErrorKind, String) {
    let e = parse(s).unwrap_err();
    (e.kind, e.message)
}

#[test]
fn reads_values_with_offsets() {
    let p = parse(br#" {"a": [1, -2.5e3, true, null, "x\"\u00e9\ud83d\ude00"], "b": {}}"#).unwrap();
    let JsonKind::Object(m) = &p.value.kind else {
        panic!()
    };
    assert_eq!(p.value.offset, 1);
    assert_eq!(m[0].key, "a");
    let JsonKind::Array(items) = &m[0].value.kind else {
        panic!()
    };
    assert_eq!(items[0].kind, JsonKind::Number(1.0));
    assert_eq!(items[1].kind, JsonKind::Number(-2500.0));
    assert_eq!(items[2].kind, JsonKind::Bool(true));
    assert_eq!(items[3].kind, JsonKind::Null);
    assert_eq!(items[4].kind, JsonKind::String("x\"é😀".into()));
    assert_eq!(items[1].offset, 11);
    assert!(p.duplicates.is_empty());
}

#[test]
fn rejects_invalid_json_with_line_and_column() {
    let rows: &[(&[u8], &str)] = &[
        (b"", "line 1, column 1"),
        (b"   ", "line 1, column 1"),
        (b"{\"a\": 1,}", "line 1, column 9"),
        (b"{\n  \"a\": 01\n}", "line 2, column 9"),
        (b"[1 2]", "line 1, column 4"),
        (b"{\"a\" 1}", "line 1, column 6"),
        (b"\"abc", "unterminated"),
        (b"\"a\\x\"", "invalid escape"),
        (b"\"\\ud800\"", "surrogate"),
        (b"\"a\tb\"", "control character"),
        (b"[1.]", "digit"),
        (b"[-]", "digit"),
        (b"[1e]", "exponent"),
        (b"tru", "expected a value"),
        (b"{} x", "end of the document"),
        (
            b"{\"\xc3\xa9\": \xff}",
            "not valid UTF-8 at line 1, column 7",
        ),
        (b"[NaN]", "expected a value"),
    ];
    for (doc, want) in rows {
        let (kind, msg) = err(doc);
        assert_eq!(kind, JsonErrorKind::Invalid, "{msg}");
        assert!(
            msg.contains(want),
            "{:?}: {msg}",
            String::from_utf8_lossy(doc)
        );
    }
}

#[test]
fn accepts_a_byte_order_mark_and_huge_numbers() {
    let p = parse(b"\xef\xbb\xbf{\"a\": 1e400}").unwrap();
    assert_eq!(p.bom, 3);
    assert_eq!(
        p.value.get("a").map(|v| v.kind.clone()),
        Some(JsonKind::Number(f64::INFINITY))
    );
}

#[test]
fn positions_count_characters() {
    let s = "ab\ncé\u{1F600}x".as_bytes();
    assert_eq!(line_col(s, 0), (1, 1));
    assert_eq!(line_col(s, 3), (2, 1));
    assert_eq!(line_col(s, s.len() - 1), (2, 4));
    assert_eq!(line_col(s, 10_000), (2, 5));
}

#[test]
fn nesting_limit_and_size_limit() {
    assert!(parse(format!("{}{}", "[".repeat(2_000), "]".repeat(2_000)).as_bytes()).is_ok());
    assert_eq!(
        err(format!("{}{}", "[".repeat(2_001), "]".repeat(2_001)).as_bytes()).0,
        JsonErrorKind::TooDeep
    );
    let e = parse(format!("{{\"a\": {}", "[".repeat(5_000)).as_bytes()).unwrap_err();
    assert_eq!(e.kind, JsonErrorKind::TooDeep);
    assert!(e.pointer.starts_with("/a/0/0/0"));
    assert_eq!(err(&vec![b' '; 1_048_577]).0, JsonErrorKind::TooLarge);
}
