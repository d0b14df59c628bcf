//! The limits of §2: tree depth, node count, nesting, document size, JSON depth.

use super::helpers::*;
use crate::policy::{EvalContext, PaymentDecision, FIELD_COUNT};

/// A payment tree of depth `depth`: a chain of conditions, each with a leaf on `on_true`.
pub fn chain(depth: usize) -> String {
    let mut node = act("end", "Release", "");
    for i in (1..depth).rev() {
        let c =
            format!(r#"{{"op": "<", "left": {{"field": "balance"}}, "right": {{"value": {i}}}}}"#);
        node = cond(
            &format!("c{i}"),
            &c,
            &act(&format!("t{i}"), "Hold", ""),
            &node,
        );
    }
    node
}

/// Pointer of the first node beyond depth 100 in a [`chain`]: the `on_true` leaf of the
/// condition at depth 100.
pub fn first_too_deep() -> String {
    format!("/payment_tree{}/on_true", "/on_false".repeat(99))
}

/// Pointer of the node at `depth` on the `on_false` spine of the payment tree.
pub fn deep_pointer(depth: usize) -> String {
    format!("/payment_tree{}", "/on_false".repeat(depth - 1))
}

fn balanced(leaves: usize, next: &mut usize) -> String {
    *next += 1;
    let id = format!("n{next}");
    if leaves == 1 {
        return format!(r#"{{"type":"action","node_id":"{id}","action":"Hold"}}"#);
    }
    let l = balanced(leaves / 2, next);
    let r = balanced(leaves - leaves / 2, next);
    format!(
        r#"{{"type":"condition","node_id":"{id}","condition":{{"op":"and","conditions":[]}},"on_true":{l},"on_false":{r}}}"#
    )
}

/// A document whose payment tree has exactly `n` (odd) nodes, and the pointer of its last
/// node in document order.
pub fn many_nodes(n: usize) -> (String, String) {
    let leaves = n.div_ceil(2);
    let mut next = 0;
    let tree = balanced(leaves, &mut next);
    let (mut depth, mut l) = (1, leaves);
    while l > 1 {
        l -= l / 2;
        depth += 1;
    }
    (
        doc(&format!(r#""payment_tree": {tree}"#)),
        deep_pointer(depth),
    )
}

/// `k` nested `abs` computations around a literal.
pub fn nested_abs(k: usize) -> String {
    let mut v = r#"{"value": 1}"#.to_string();
    for _ in 0..k {
        v = format!(r#"{{"compute": {{"op": "abs", "value": {v}}}}}"#);
    }
    v
}

/// Pointer of the `k`-th nested computation below the value at `base`.
pub fn nest_pointer(base: &str, k: usize) -> String {
    format!("{base}{}/compute", "/compute/value".repeat(k - 1))
}

#[test]
fn depth_100_is_accepted_compiled_and_evaluated() {
    let d = payment(&chain(100));
    let r = report(&d);
    assert!(r.valid, "{:?}", errors(&r));
    let c = compiled(&d);
    let f = vec![1000.0; FIELD_COUNT];
    let out = c
        .eval_payment(&EvalContext {
            fields: &f,
            registers: &[],
            current_tick: 0,
        })
        .unwrap();
    assert_eq!(out.path.len(), 100);
    assert_eq!(c.node_id(out.node.unwrap()), Some("end"));
    assert_eq!(out.decision, PaymentDecision::RELEASE);
}

#[test]
fn depth_101_is_rejected_once_per_tree() {
    let r = report(&payment(&chain(101)));
    assert_eq!(errors(&r), [("TREE_TOO_DEEP", first_too_deep())]);
    let r = report(&payment(&chain(400)));
    assert_eq!(errors(&r), [("TREE_TOO_DEEP", first_too_deep())]);
}

#[test]
fn node_limit_is_10000_over_all_trees() {
    let (d, _) = many_nodes(9_999);
    let d = d.replacen(
        '{',
        r#"{"bank_tree": {"type": "action", "node_id": "b", "action": "NoAction"}, "#,
        1,
    );
    let r = report(&d);
    assert!(r.valid, "{:?}", errors(&r));
    let (d, ptr) = many_nodes(10_001);
    assert!(d.len() < 1_048_576);
    assert_eq!(errors(&report(&d)), [("TOO_MANY_NODES", ptr)]);
}

#[test]
fn nesting_limit_is_64() {
    let p = |k| {
        payment(&act(
            "A",
            "Reprioritize",
            &format!(r#"{{"new_priority": {}}}"#, nested_abs(k)),
        ))
    };
    assert!(report(&p(64)).valid);
    let base = "/payment_tree/parameters/new_priority";
    assert_eq!(
        errors(&report(&p(65))),
        [("NESTING_TOO_DEEP", nest_pointer(base, 65))]
    );
    // In a condition the comparison itself is the first level.
    let c = |k| {
        payment(&cond(
            "N",
            &format!(
                r#"{{"op": ">", "left": {}, "right": {{"field": "balance"}}}}"#,
                nested_abs(k)
            ),
            &act("A", "Release", ""),
            &act("B", "Hold", ""),
        ))
    };
    assert!(report(&c(63)).valid);
    assert_eq!(
        errors(&report(&c(64))),
        [(
            "NESTING_TOO_DEEP",
            nest_pointer("/payment_tree/condition/left", 64)
        )]
    );
    // Nested conditions count too.
    let mut inner =
        r#"{"op": ">", "left": {"field": "balance"}, "right": {"value": 0}}"#.to_string();
    for _ in 0..64 {
        inner = format!(r#"{{"op": "not", "condition": {inner}}}"#);
    }
    let r = report(&payment(&cond(
        "N",
        &inner,
        &act("A", "Release", ""),
        &act("B", "Hold", ""),
    )));
    assert_eq!(errors(&r)[0].0, "NESTING_TOO_DEEP");
}

#[test]
fn size_limit_is_one_mebibyte() {
    let base = doc(r#""payment_tree": {"type": "action", "node_id": "A", "action": "Release"}"#);
    let pad = 1_048_576 - base.len();
    let exact = format!("{base}{}", " ".repeat(pad));
    assert_eq!(exact.len(), 1_048_576);
    assert!(report(&exact).valid);
    let over = format!("{exact} ");
    assert_eq!(
        errors(&report(&over)),
        [("DOCUMENT_TOO_LARGE", String::new())]
    );
}

#[test]
fn hostile_nesting_never_overflows_the_stack() {
    for open in ["[", "{\"a\":", "{\"payment_tree\":"] {
        let d = open.repeat(200_000);
        let r = report(&d);
        assert_eq!(r.errors.len(), 1, "{:?}", errors(&r));
        assert!(matches!(
            r.errors[0].code.as_str(),
            "NESTING_TOO_DEEP" | "DOCUMENT_TOO_LARGE"
        ));
    }
    // Deep but within the JSON limit, inside a tree: reported by the tree/nesting checks.
    let deep = format!(
        r#"{{"version": "1.0", "policy_id": "t", "metadata": {{"a": {}1{}}}}}"#,
        "[".repeat(1_998),
        "]".repeat(1_998)
    );
    assert!(report(&deep).valid);
    let too = format!(
        r#"{{"version": "1.0", "policy_id": "t", "metadata": {{"a": {}1{}}}}}"#,
        "[".repeat(1_999),
        "]".repeat(1_999)
    );
    assert_eq!(errors(&report(&too))[0].0, "NESTING_TOO_DEEP");
    let r = report(&payment(&chain(1_500)));
    assert_eq!(errors(&r), [("TREE_TOO_DEEP", first_too_deep())]);
}

#[test]
fn duplicate_keys_and_ids() {
    let d = r#"{"version": "1.0", "policy_id": "t", "payment_tree": {"type": "action", "node_id": "A", "node_id": "B", "action": "Release"}}"#;
    assert_eq!(
        errors(&report(d)),
        [("DUPLICATE_KEY", "/payment_tree/node_id".to_string())]
    );
    let d = doc(&format!(
        r#""payment_tree": {}, "bank_tree": {}"#,
        act("A", "Release", ""),
        act("A", "NoAction", "")
    ));
    let r = report(&d);
    assert_eq!(
        errors(&r),
        [("DUPLICATE_NODE_ID", "/bank_tree/node_id".to_string())]
    );
    assert!(r.errors[0].message.contains("/payment_tree/node_id"));
    let many: Vec<String> = (0..20).map(|i| format!(r#""k{i}": {i}"#)).collect();
    let d = format!(
        r#"{{"version": "1.0", "policy_id": "t", "metadata": {{{}, "k7": 0, "a~b/c": 1, "a~b/c": 2}}}}"#,
        many.join(",")
    );
    let e = errors(&report(&d));
    assert_eq!(
        e,
        [
            ("DUPLICATE_KEY", "/metadata/k7".to_string()),
            ("DUPLICATE_KEY", "/metadata/a~0b~1c".to_string())
        ]
    );
}

#[test]
fn too_many_registers_is_counted_over_reads_and_writes() {
    let reads: Vec<String> = (0..10)
        .map(|i| {
            format!(
                r#"{{"op": ">", "left": {{"field": "bank_state_r{i}"}}, "right": {{"value": 0}}}}"#
            )
        })
        .collect();
    let c = format!(r#"{{"op": "and", "conditions": [{}]}}"#, reads.join(","));
    let set = |k: &str| {
        act(
            "S",
            "SetState",
            &format!(r#"{{"key": {{"value": "{k}"}}, "value": {{"value": 1}}}}"#),
        )
    };
    let ok = tree_doc(
        "bank_tree",
        &cond("N", &c, &set("bank_state_r0"), &act("X", "NoAction", "")),
        "{}",
    );
    assert!(errors(&report(&ok)).is_empty());
    let bad = tree_doc(
        "bank_tree",
        &cond("N", &c, &set("bank_state_new"), &act("X", "NoAction", "")),
        "{}",
    );
    assert_eq!(
        errors(&report(&bad)),
        [(
            "TOO_MANY_REGISTERS",
            "/bank_tree/on_true/parameters/key/value".to_string()
        )]
    );
}
