//! Table tests of conditions (§3) and computations (§4), evaluated at run time on fields so
//! nothing is folded away.

use super::helpers::*;
use crate::policy::{BankDecision, EvalContext, EvalErrorKind};

const INF: f64 = f64::INFINITY;

/// Evaluates `condition` in a payment tree with fields `a` = balance, `b` = credit_used,
/// `inf` = ticks_to_nearest_queue1_deadline (+∞ unless given).
fn decide(condition: &str, a: f64, b: f64) -> Result<bool, EvalErrorKind> {
    let d = payment(&cond(
        "N",
        condition,
        &act("T", "Release", ""),
        &act("F", "Hold", ""),
    ));
    let c = compiled(&d);
    let f = fields(&[
        ("balance", a),
        ("credit_used", b),
        ("ticks_to_nearest_queue1_deadline", INF),
        ("headroom", -INF),
    ]);
    let out = c
        .eval_payment(&EvalContext {
            fields: &f,
            registers: &[],
            current_tick: 0,
        })
        .map_err(|e| e.kind)?;
    Ok(c.node_id(out.node.unwrap()) == Some("T"))
}

fn cmp(op: &str, l: &str, r: &str) -> String {
    format!(r#"{{"op": "{op}", "left": {l}, "right": {r}}}"#)
}

const A: &str = r#"{"field": "balance"}"#;
const B: &str = r#"{"field": "credit_used"}"#;
const PINF: &str = r#"{"field": "ticks_to_nearest_queue1_deadline"}"#;
const NINF: &str = r#"{"field": "headroom"}"#;

#[test]
fn comparisons_with_tolerance_and_infinity() {
    let rows: &[(&str, &str, &str, f64, f64, bool)] = &[
        ("==", A, B, 1.0, 1.0 + 5e-10, true),
        ("==", A, B, 1.0, 1.0 + 2e-9, false),
        ("!=", A, B, 1.0, 1.0 + 5e-10, false),
        ("!=", A, B, 1.0, 1.1, true),
        ("<=", A, B, 1.0 + 5e-10, 1.0, true),
        ("<=", A, B, 2.0, 1.0, false),
        (">=", A, B, 1.0, 1.0 + 5e-10, true),
        (">=", A, B, 1.0, 2.0, false),
        ("<", A, B, 1.0, 1.0 + 5e-10, false),
        ("<", A, B, 1.0, 1.1, true),
        (">", A, B, 1.0 + 5e-10, 1.0, false),
        (">", A, B, 1.1, 1.0, true),
        ("==", PINF, PINF, 0.0, 0.0, true),
        ("==", PINF, A, 1e308, 0.0, false),
        (">", PINF, A, f64::MAX, 0.0, true),
        (">", PINF, PINF, 0.0, 0.0, false),
        (">=", PINF, PINF, 0.0, 0.0, true),
        ("<", A, PINF, f64::MAX, 0.0, true),
        ("<", PINF, PINF, 0.0, 0.0, false),
        ("==", NINF, NINF, 0.0, 0.0, true),
        ("<", NINF, A, -f64::MAX, 0.0, true),
    ];
    for (op, l, r, a, b, want) in rows {
        assert_eq!(
            decide(&cmp(op, l, r), *a, *b),
            Ok(*want),
            "{l} {op} {r} with a={a}, b={b}"
        );
    }
    // Exactly one of <, ==, > holds, and `not` of a comparison is the opposite one.
    for (a, b) in [(1.0, 1.0 + 5e-10), (1.0, 2.0), (3.0, -1.0), (0.0, 1e-9)] {
        let n = ["<", "==", ">"]
            .iter()
            .filter(|op| decide(&cmp(op, A, B), a, b) == Ok(true))
            .count();
        assert_eq!(n, 1, "a={a} b={b}");
        let not_ge = format!(r#"{{"op": "not", "condition": {}}}"#, cmp(">=", A, B));
        assert_eq!(decide(&not_ge, a, b), decide(&cmp("<", A, B), a, b));
    }
}

#[test]
fn boolean_operators_short_circuit() {
    let t = cmp(">=", A, A);
    let f = cmp("<", A, A);
    let boom = cmp(
        ">",
        r#"{"compute": {"op": "/", "left": {"value": 1}, "right": {"field": "credit_used"}}}"#,
        A,
    );
    let list = |op: &str, items: &[&str]| {
        format!(r#"{{"op": "{op}", "conditions": [{}]}}"#, items.join(","))
    };
    let rows: Vec<(String, Result<bool, EvalErrorKind>)> = vec![
        (list("and", &[]), Ok(true)),
        (list("or", &[]), Ok(false)),
        (list("and", &[&t, &t]), Ok(true)),
        (list("and", &[&t, &f]), Ok(false)),
        (list("and", &[&f, &boom]), Ok(false)),
        (
            list("and", &[&t, &boom]),
            Err(EvalErrorKind::DivisionByZero),
        ),
        (list("or", &[&t, &boom]), Ok(true)),
        (list("or", &[&f, &boom]), Err(EvalErrorKind::DivisionByZero)),
        (list("or", &[&f, &f, &t]), Ok(true)),
        (format!(r#"{{"op": "not", "condition": {f}}}"#), Ok(true)),
        (
            format!(r#"{{"op": "not", "condition": {}}}"#, list("or", &[&f, &t])),
            Ok(false),
        ),
    ];
    for (c, want) in rows {
        assert_eq!(decide(&c, 1.0, 0.0), want, "{c}");
    }
}

/// Evaluates `expr` as the value of a `SetState` in a bank tree.
fn value(expr: &str, a: f64, b: f64) -> Result<f64, EvalErrorKind> {
    let set = act(
        "S",
        "SetState",
        &format!(r#"{{"key": {{"value": "bank_state_x"}}, "value": {expr}}}"#),
    );
    let c = compiled(&tree_doc("bank_tree", &set, "{}"));
    let f = fields(&[
        ("balance", a),
        ("credit_used", b),
        ("ticks_to_nearest_queue1_deadline", INF),
    ]);
    match c
        .eval_bank(&EvalContext {
            fields: &f,
            registers: &[0.0],
            current_tick: 0,
        })
        .map_err(|e| e.kind)?
        .decision
    {
        BankDecision::SetState { value, .. } => Ok(value),
        other => panic!("{other:?}"),
    }
}

fn bin(op: &str, l: &str, r: &str) -> String {
    format!(r#"{{"compute": {{"op": "{op}", "left": {l}, "right": {r}}}}}"#)
}

fn un(op: &str, v: &str) -> String {
    format!(r#"{{"compute": {{"op": "{op}", "value": {v}}}}}"#)
}

#[test]
fn computations() {
    let lit = |x: f64| format!(r#"{{"value": {x}}}"#);
    let list = |op: &str, items: &[&str]| {
        format!(
            r#"{{"compute": {{"op": "{op}", "values": [{}]}}}}"#,
            items.join(",")
        )
    };
    let clamp = |v: &str, lo: &str, hi: &str| {
        format!(r#"{{"compute": {{"op": "clamp", "value": {v}, "min": {lo}, "max": {hi}}}}}"#)
    };
    let div0 = |n: &str, d: &str, def: &str| {
        format!(
            r#"{{"compute": {{"op": "div0", "numerator": {n}, "denominator": {d}, "default": {def}}}}}"#
        )
    };
    let dz = Err(EvalErrorKind::DivisionByZero);
    let nan = Err(EvalErrorKind::NotANumber);
    let rows: Vec<(String, f64, f64, Result<f64, EvalErrorKind>)> = vec![
        (bin("+", A, B), 2.0, 3.0, Ok(5.0)),
        (bin("-", A, B), 2.0, 3.0, Ok(-1.0)),
        (bin("*", A, B), 2.0, 3.0, Ok(6.0)),
        (bin("/", A, B), 7.0, 2.0, Ok(3.5)),
        (bin("/", A, B), 7.0, 0.0, dz),
        (bin("/", A, B), 7.0, 5e-10, dz),
        (bin("/", A, B), 7.0, -5e-10, dz),
        (bin("/", A, B), 1.0, 2e-9, Ok(1.0 / 2e-9)),
        (div0(A, B, &lit(42.0)), 7.0, 0.0, Ok(42.0)),
        (div0(A, B, &lit(42.0)), 7.0, 5e-10, Ok(42.0)),
        (div0(A, B, &lit(42.0)), 7.0, 2.0, Ok(3.5)),
        (
            div0(&lit(1.0), A, &bin("/", &lit(1.0), B)),
            2.0,
            0.0,
            Ok(0.5),
        ),
        (div0(&lit(1.0), A, &bin("/", &lit(1.0), B)), 0.0, 0.0, dz),
        (list("min", &[A, B, &lit(-4.0)]), 2.0, 3.0, Ok(-4.0)),
        (list("max", &[A, B, &lit(-4.0)]), 2.0, 3.0, Ok(3.0)),
        (list("max", &[A]), 2.0, 3.0, Ok(2.0)),
        (un("round", A), 2.5, 0.0, Ok(3.0)),
        (un("round", A), -2.5, 0.0, Ok(-3.0)),
        (un("round", A), 0.5, 0.0, Ok(1.0)),
        (un("round", A), -0.5, 0.0, Ok(-1.0)),
        (un("round", A), 2.4999, 0.0, Ok(2.0)),
        (un("ceil", A), -0.5, 0.0, Ok(0.0)),
        (un("ceil", A), 1.2, 0.0, Ok(2.0)),
        (un("floor", A), -1.2, 0.0, Ok(-2.0)),
        (un("abs", A), -3.0, 0.0, Ok(3.0)),
        (clamp(A, &lit(0.0), &lit(10.0)), 15.0, 0.0, Ok(10.0)),
        (clamp(A, &lit(0.0), &lit(10.0)), -5.0, 0.0, Ok(0.0)),
        (clamp(A, &lit(0.0), &lit(10.0)), 5.0, 0.0, Ok(5.0)),
        (clamp(A, &lit(10.0), &lit(2.0)), 5.0, 0.0, Ok(2.0)),
        (clamp(A, B, &lit(2.0)), -100.0, 10.0, Ok(2.0)),
        (bin("-", PINF, PINF), 0.0, 0.0, nan),
        (bin("*", PINF, B), 0.0, 0.0, nan),
        (bin("/", PINF, PINF), 0.0, 0.0, nan),
        (list("min", &[PINF, A]), 4.0, 0.0, Ok(4.0)),
        (
            bin("+", PINF, A),
            4.0,
            0.0,
            Err(EvalErrorKind::NonFiniteActionValue),
        ),
        (bin("+", A, B), f64::NAN, 0.0, nan),
    ];
    for (e, a, b, want) in rows {
        assert_eq!(value(&e, a, b), want, "{e} with a={a}, b={b}");
    }
}

#[test]
fn literal_subexpressions_fold_to_the_same_values() {
    // The same computations on literals are folded at compile time; results must agree.
    for (e, want) in [
        (un("round", r#"{"value": -2.5}"#), -3.0),
        (bin("/", r#"{"value": 7}"#, r#"{"value": 2}"#), 3.5),
        (
            r#"{"compute": {"op": "clamp", "value": {"value": 5}, "min": {"value": 9}, "max": {"value": 1}}}"#.to_string(),
            1.0,
        ),
        (
            r#"{"compute": {"op": "div0", "numerator": {"value": 1}, "denominator": {"value": 0}, "default": {"value": 7}}}"#.to_string(),
            7.0,
        ),
    ] {
        assert_eq!(value(&e, 0.0, 0.0), Ok(want), "{e}");
    }
}

#[test]
fn error_carries_tree_node_and_pointer() {
    let d = payment(&cond(
        "N1",
        &cmp(">", &bin("/", A, B), A),
        &act("T", "Release", ""),
        &act("F", "Hold", ""),
    ));
    let c = compiled(&d);
    let f = fields(&[("balance", 1.0)]);
    let e = c
        .eval_payment(&EvalContext {
            fields: &f,
            registers: &[],
            current_tick: 0,
        })
        .unwrap_err();
    assert_eq!(e.kind, EvalErrorKind::DivisionByZero);
    assert_eq!(e.node_id, "N1");
    assert_eq!(e.pointer, "/payment_tree/condition/left/compute");
    assert_eq!(e.tree, crate::policy::Tree::Payment);
}
