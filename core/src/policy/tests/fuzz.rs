//! Random, truncated and mutated documents through validate, compile and eval: nothing may
//! panic, and a document `validate` accepts must compile. 100,000 cases in all.

use std::collections::BTreeMap;

use proptest::prelude::*;

use crate::policy::{
    compile, validate, EvalContext, PolicyCompileError, ScenarioInfo, Tree, FIELDS, FIELD_COUNT,
};

const BASES: [&str; 3] = [
    include_str!("fixtures/fifo.json"),
    include_str!("fixtures/deadline.json"),
    include_str!("fixtures/liquidity_buffer.json"),
];

/// A small deterministic generator (xorshift64*), so one proptest seed gives one case.
struct Rng(u64, bool);

impl Rng {
    /// A choice among `valid`, or among `valid` and `sloppy` for a sloppy document.
    fn choose<'a>(&mut self, valid: &[&'a str], sloppy: &[&'a str]) -> &'a str {
        let n = valid.len() + if self.1 { sloppy.len() } else { 0 };
        let k = self.below(n);
        valid
            .get(k)
            .or_else(|| sloppy.get(k - valid.len()))
            .copied()
            .unwrap_or("")
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
    fn number(&mut self) -> f64 {
        let specials = [
            0.0,
            1.0,
            -1.0,
            1e-10,
            5e9,
            -7.5,
            1e300,
            -1e300,
            2.5,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            9.3e18,
        ];
        if self.below(3) == 0 {
            (self.next() % 2001) as f64 - 1000.0
        } else {
            specials[self.below(specials.len())]
        }
    }
}

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "null",
    "true",
    "1e999",
    "-0",
    "\"op\"",
    "\"field\"",
    "\"compute\"",
    "\"value\"",
    "\"on_true\"",
    "\"on_false\"",
    "\"type\"",
    "\"action\"",
    "\"condition\"",
    "\"bank_state_x\"",
    "\\u",
    "\u{e9}",
    "{\"compute\": {\"op\": \"/\", \"left\": {\"value\": 1}, \"right\": {\"field\": \"balance\"}}}",
];

/// One mutation of a valid document.
fn mutate(base: &str, rng: &mut Rng) -> Vec<u8> {
    let mut d = base.as_bytes().to_vec();
    for _ in 0..1 + rng.below(3) {
        let n = d.len().max(1);
        let (i, j) = {
            let a = rng.below(n);
            let b = rng.below(n);
            (a.min(b), a.max(b).min(d.len()))
        };
        match rng.below(9) {
            0 => d.truncate(i),
            1 => {
                d.drain(i..j.min(i + 8));
            }
            2 => {
                let t = rng.pick(TOKENS).as_bytes().to_vec();
                d.splice(i..i, t);
            }
            3 => {
                // Swap two keys or names throughout.
                let pairs = [
                    ("on_true", "on_false"),
                    ("field", "param"),
                    ("condition", "action"),
                    ("left", "right"),
                    ("value", "values"),
                    ("Release", "NoAction"),
                ];
                let (a, b) = pairs[rng.below(pairs.len())];
                let s = String::from_utf8_lossy(&d)
                    .replace(a, "\u{0}")
                    .replace(b, a)
                    .replace('\u{0}', b);
                d = s.into_bytes();
            }
            4 => {
                let pos: Vec<usize> = d
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| matches!(c, b'{' | b'}' | b'[' | b']'))
                    .map(|(k, _)| k)
                    .collect();
                if !pos.is_empty() {
                    d.remove(pos[rng.below(pos.len())]);
                }
            }
            5 => {
                let pos: Vec<usize> = d
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.is_ascii_digit())
                    .map(|(k, _)| k)
                    .collect();
                if !pos.is_empty() {
                    let k = pos[rng.below(pos.len())];
                    d.splice(k..k, b"99999999999999999999e300".iter().copied());
                }
            }
            6 => {
                // Deep nesting: wrap a value in many levels.
                let depth = 1 + if rng.below(8) == 0 {
                    rng.below(3_000)
                } else {
                    rng.below(100)
                };
                let s = String::from_utf8_lossy(&d).into_owned();
                let wrapped = s.replacen(
                    "{\"value\": ",
                    &format!(
                        "{}{{\"value\": ",
                        "{\"compute\": {\"op\": \"abs\", \"value\": ".repeat(depth)
                    ),
                    1,
                );
                let closes = "}}".repeat(depth);
                d = match wrapped
                    .find("{\"value\": ")
                    .and_then(|k| wrapped[k..].find('}').map(|e| k + e + 1))
                {
                    Some(end) => {
                        format!("{}{closes}{}", &wrapped[..end], &wrapped[end..]).into_bytes()
                    }
                    None => wrapped.into_bytes(),
                };
            }
            7 => {
                let seg: Vec<u8> = d[i..j].to_vec();
                d.splice(j..j, seg);
            }
            _ => {
                if !d.is_empty() {
                    let k = rng.below(d.len());
                    d[k] = rng.next() as u8;
                }
            }
        }
    }
    d
}

const OPS: &[&str] = &["==", "!=", "<", "<=", ">", ">=", "and", "or", "not"];
const COMP: &[&str] = &[
    "+", "-", "*", "/", "min", "max", "ceil", "floor", "round", "abs", "clamp", "div0",
];

fn gen_value(rng: &mut Rng, tree: Tree, nest: usize) -> String {
    match rng.below(if nest > 2 { 3 } else { 5 }) {
        0 => {
            let usable: Vec<&str> = FIELDS
                .iter()
                .filter(|f| f.trees.contains(tree))
                .map(|f| f.name)
                .collect();
            let odd = rng.choose(
                &["", "", "", "", "", "", "bank_state_x"],
                &["balanse", "amount"],
            );
            let f = if odd.is_empty() {
                usable[rng.below(usable.len())]
            } else {
                odd
            };
            format!(r#"{{"field": "{f}"}}"#)
        }
        1 => format!(r#"{{"param": "{}"}}"#, rng.choose(&["p", "q"], &["nope"])),
        2 => format!(
            r#"{{"value": {}}}"#,
            rng.choose(
                &["0", "1", "-3.5", "1e-10", "true", "1e308", "7", "250", "-2", "0.5", "3"],
                &["\"s\"", "null"]
            )
        ),
        _ => {
            let op = rng.choose(COMP, &["pow"]);
            let args = match op {
                "min" | "max" => {
                    let n = rng.below(3) + usize::from(!rng.1);
                    format!(
                        r#""values": [{}]"#,
                        (0..n)
                            .map(|_| gen_value(rng, tree, nest + 1))
                            .collect::<Vec<_>>()
                            .join(",")
                    )
                }
                "ceil" | "floor" | "round" | "abs" => {
                    format!(r#""value": {}"#, gen_value(rng, tree, nest + 1))
                }
                "clamp" => format!(
                    r#""value": {}, "min": {}, "max": {}"#,
                    gen_value(rng, tree, nest + 1),
                    gen_value(rng, tree, nest + 1),
                    gen_value(rng, tree, nest + 1)
                ),
                "div0" => format!(
                    r#""numerator": {}, "denominator": {}, "default": {}"#,
                    gen_value(rng, tree, nest + 1),
                    gen_value(rng, tree, nest + 1),
                    gen_value(rng, tree, nest + 1)
                ),
                _ => format!(
                    r#""left": {}, "right": {}"#,
                    gen_value(rng, tree, nest + 1),
                    gen_value(rng, tree, nest + 1)
                ),
            };
            format!(r#"{{"compute": {{"op": "{op}", {args}}}}}"#)
        }
    }
}

fn gen_cond(rng: &mut Rng, tree: Tree, nest: usize) -> String {
    let op = rng.choose(OPS, &["=", "xor"]);
    match op {
        "and" | "or" if nest < 3 => {
            let n = rng.below(3);
            format!(
                r#"{{"op": "{op}", "conditions": [{}]}}"#,
                (0..n)
                    .map(|_| gen_cond(rng, tree, nest + 1))
                    .collect::<Vec<_>>()
                    .join(",")
            )
        }
        "not" if nest < 3 => format!(
            r#"{{"op": "not", "condition": {}}}"#,
            gen_cond(rng, tree, nest + 1)
        ),
        _ => format!(
            r#"{{"op": "{}", "left": {}, "right": {}}}"#,
            if matches!(op, "and" | "or" | "not") {
                ">="
            } else {
                op
            },
            gen_value(rng, tree, nest),
            gen_value(rng, tree, nest)
        ),
    }
}

fn gen_action(rng: &mut Rng, tree: Tree, id: &str) -> String {
    let (name, params) = match tree {
        Tree::Payment => [
            ("Release", String::from(r#"{"priority_flag": {"value": "high"}, "rtgs_priority": {"value": "Urgent"}}"#)),
            ("Release", format!(r#"{{"timed_for_tick": {}}}"#, gen_value(rng, tree, 0))),
            ("Split", format!(r#"{{"num_splits": {}}}"#, gen_value(rng, tree, 0))),
            ("StaggerSplit", format!(r#"{{"num_splits": {}, "stagger_first_now": {}, "stagger_gap_ticks": {}, "priority_boost_children": {}}}"#, gen_value(rng, tree, 0), gen_value(rng, tree, 0), gen_value(rng, tree, 0), gen_value(rng, tree, 0))),
            ("Reprioritize", format!(r#"{{"new_priority": {}}}"#, gen_value(rng, tree, 0))),
            ("Hold", String::from("{}")),
            ("ResubmitToRtgs", String::from(r#"{"rtgs_priority": {"value": "Normal"}}"#)),
            ("Release", String::new()),
            ("Drop", String::new()),
            ("SetState", String::from("{}")),
        ]
        .get(rng.below(if rng.1 { 10 } else { 9 }))
        .cloned()
        .unwrap_or(("Drop", String::new())),
        Tree::Bank => [
            ("SetReleaseBudget", format!(r#"{{"max_value_to_release": {}, "max_per_counterparty": {}}}"#, gen_value(rng, tree, 0), gen_value(rng, tree, 0))),
            ("AddState", format!(r#"{{"key": {{"value": "bank_state_x"}}, "value": {}}}"#, gen_value(rng, tree, 0))),
            ("SetState", format!(r#"{{"key": {{"value": "bank_state_y"}}, "value": {}}}"#, gen_value(rng, tree, 0))),
        ]
        .get(rng.below(4))
        .cloned()
        .unwrap_or(("NoAction", String::new())),
        _ => [
            ("PostCollateral", format!(r#"{{"amount": {}, "auto_withdraw_after_ticks": {}}}"#, gen_value(rng, tree, 0), gen_value(rng, tree, 0))),
            ("WithdrawCollateral", format!(r#"{{"amount": {}}}"#, gen_value(rng, tree, 0))),
        ]
        .get(rng.below(3))
        .cloned()
        .unwrap_or(("HoldCollateral", String::new())),
    };
    if params.is_empty() {
        format!(r#"{{"type": "action", "node_id": "{id}", "action": "{name}"}}"#)
    } else {
        format!(
            r#"{{"type": "action", "node_id": "{id}", "action": "{name}", "parameters": {params}}}"#
        )
    }
}

fn gen_node(rng: &mut Rng, tree: Tree, depth: usize, next: &mut usize) -> String {
    *next += 1;
    let id = format!("n{next}");
    if depth > 4 || rng.below(3) == 0 {
        return gen_action(rng, tree, &id);
    }
    let c = gen_cond(rng, tree, 1);
    let t = gen_node(rng, tree, depth + 1, next);
    let f = gen_node(rng, tree, depth + 1, next);
    format!(
        r#"{{"type": "condition", "node_id": "{id}", "condition": {c}, "on_true": {t}, "on_false": {f}}}"#
    )
}

fn generate(rng: &mut Rng) -> Vec<u8> {
    let mut next = 0;
    let mut parts = vec![
        r#""version": "1.0""#.to_string(),
        r#""policy_id": "gen""#.to_string(),
        r#""parameters": {"p": 2, "q": {"value": 0, "min": 0, "max": 4}}"#.to_string(),
    ];
    for tree in Tree::ALL {
        if rng.below(3) > 0 {
            parts.push(format!(
                r#""{}": {}"#,
                tree.json_name(),
                gen_node(rng, tree, 1, &mut next)
            ));
        }
    }
    format!("{{{}}}", parts.join(", ")).into_bytes()
}

/// The whole pipeline on one document.
fn run(doc: &[u8], rng: &mut Rng) {
    let scenario = ScenarioInfo {
        agent_ids: vec!["BANK_A".into()],
        parameter_overrides: BTreeMap::from([("q".to_string(), 9.0)]),
        ..ScenarioInfo::default()
    };
    let report = validate(doc, None);
    let _ = validate(doc, Some(&scenario));
    assert!(report.errors.len() + report.warnings.len() <= 200);
    let _ = crate::policy::render_text("f", &report);
    match compile(doc, &BTreeMap::new()) {
        Ok(c) => {
            assert!(report.valid);
            let mut fs = vec![0.0; FIELD_COUNT];
            let mut regs = vec![0.0; c.registers().len()];
            for _ in 0..3 {
                fs.iter_mut().for_each(|f| *f = rng.number());
                regs.iter_mut().for_each(|r| *r = rng.number());
                let ctx = EvalContext {
                    fields: &fs,
                    registers: &regs,
                    current_tick: rng.below(100) as i64,
                };
                let _ = c.eval_payment(&ctx);
                let _ = c.eval_bank(&ctx);
                let _ = c.eval_collateral(Tree::StrategicCollateral, &ctx);
                let _ = c.eval_collateral(Tree::EndOfTickCollateral, &ctx);
            }
            let short = EvalContext {
                fields: &fs[..rng.below(FIELD_COUNT)],
                registers: &[],
                current_tick: 0,
            };
            let _ = c.eval_payment(&short);
            let _ = c.eval_bank(&short);
        }
        Err(PolicyCompileError::Invalid(r)) => assert!(!report.valid && !r.valid),
        Err(PolicyCompileError::Internal(m)) => {
            panic!("internal error on a document validate accepted: {m}")
        }
    }
}

/// Cases per fuzz property: a tenth of `full` in `make test` (fresh seeds every run, so coverage
/// accumulates over runs), all of them with `PAYSIM_FUZZ_FULL=1` (`make fuzz`).
fn fuzz_cases(full: u32) -> u32 {
    if std::env::var_os("PAYSIM_FUZZ_FULL").is_some() {
        full
    } else {
        full / 10
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: fuzz_cases(45_000), failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn mutated_documents(seed in any::<u64>(), which in 0usize..3) {
        let mut rng = Rng(seed | 1, seed % 4 == 0);
        let base = if which == 0 { String::from_utf8_lossy(&generate(&mut rng)).into_owned() } else { BASES[which].to_string() };
        run(&mutate(&base, &mut rng), &mut rng);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: fuzz_cases(30_000), failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn generated_documents(seed in any::<u64>()) {
        let mut rng = Rng(seed | 1, seed % 4 == 0);
        let doc = generate(&mut rng);
        run(&doc, &mut rng);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: fuzz_cases(25_000), failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200), seed in any::<u64>()) {
        let mut rng = Rng(seed | 1, seed % 4 == 0);
        run(&bytes, &mut rng);
        let mut framed = b"{\"version\": \"1.0\", \"policy_id\": \"x\", \"payment_tree\": ".to_vec();
        framed.extend_from_slice(&bytes);
        run(&framed, &mut rng);
    }
}

#[test]
fn generated_documents_are_often_valid() {
    // Guard against a generator that only ever produces invalid documents.
    let mut rng = Rng(7, false);
    let valid = (0..500)
        .filter(|_| validate(&generate(&mut rng), None).valid)
        .count();
    assert!(valid > 100, "{valid}");
}
