//! `paysim policy-schema`: the registry rendered as JSON or markdown (§12), optionally for one
//! tree and one section. Deterministic: registry order, sorted JSON keys, no timestamps.

use serde_json::{json, Map, Value};

use super::actions::{actions_in, ArgType, ACTIONS, COMPUTE_OPS, CONDITION_OPS};
use super::json::MAX_DOCUMENT_BYTES;
use super::parse::{MAX_NESTING, MAX_NODES, MAX_TREE_DEPTH};
use super::registry::{Tree, FIELDS};
use super::validate::MAX_REGISTERS;

/// Sections `section` may name; `None` renders all, plus limits and trees.
pub const SECTIONS: &[&str] = &[
    "fields",
    "actions",
    "expressions",
    "computations",
    "values",
    "nodes",
    "limits",
    "trees",
];

const VALUES: &[(&str, &str)] = &[
    ("{\"field\": NAME}", "a context field, or a state register bank_state_*"),
    ("{\"param\": NAME}", "a declared parameter"),
    (
        "{\"value\": X}",
        "a finite number or true/false (1/0); strings and lists only as action parameters of that type",
    ),
    ("{\"compute\": COMPUTATION}", "the result of a computation"),
];
const NODES: &[(&str, &str, &str)] = &[
    (
        "condition",
        "type, node_id, condition, on_true, on_false (description optional)",
        "follows on_true or on_false",
    ),
    (
        "action",
        "type, node_id, action (description, parameters optional)",
        "ends the evaluation with this action",
    ),
];
const TREE_INFO: &[(Tree, &str, &str)] = &[
    (
        Tree::Payment,
        "per payment in Q1 every tick, and in Q2 for Q2 actions",
        "Release",
    ),
    (
        Tree::Bank,
        "once per bank per tick, before payment decisions",
        "NoAction",
    ),
    (
        Tree::StrategicCollateral,
        "once per bank per tick, before the bank tree",
        "HoldCollateral",
    ),
    (
        Tree::EndOfTickCollateral,
        "once per bank per tick, after settlement and the LSM",
        "HoldCollateral",
    ),
];

fn range(ty: ArgType) -> Option<String> {
    match ty {
        ArgType::Enum(e) => Some(e.values.join(" / ")),
        ArgType::Reason => Some("1..128 characters".into()),
        ArgType::RegisterKey => Some("bank_state_[A-Za-z0-9_]{1,64}".into()),
        ArgType::Cents => Some(">= 0".into()),
        other => other.range().map(|(lo, hi)| format!("{lo}..{hi}")),
    }
}

fn sections(tree: Option<Tree>) -> Vec<(&'static str, Value)> {
    let in_tree = |t: super::registry::TreeSet| tree.is_none_or(|x| t.contains(x));
    let fields: Vec<Value> = FIELDS
        .iter()
        .filter(|f| in_tree(f.trees))
        .map(|f| {
            json!({"name": f.name, "type": f.ty.as_str(), "unit": f.unit.as_str(), "group": f.group,
                   "trees": f.trees.trees().map(Tree::json_name).collect::<Vec<_>>(), "aliases": f.aliases,
                   "constant": f.flags.constant, "may_be_infinite": f.flags.infinite, "description": f.description})
        })
        .chain(std::iter::once(json!({
            "name": "bank_state_<name>", "type": "number", "unit": "—", "group": "State registers",
            "trees": Tree::ALL.iter().map(|t| t.json_name()).collect::<Vec<_>>(), "aliases": [],
            "constant": false, "may_be_infinite": false,
            "description": "A state register (name bank_state_[A-Za-z0-9_]{1,64}): written by the bank tree with SetState/AddState, read by every tree; 0 if not written since the day began; at most 10 per policy."
        })))
        .collect();
    let actions: Vec<Value> = ACTIONS
        .iter()
        .filter(|a| in_tree(a.trees))
        .map(|a| {
            let params: Vec<Value> = a.params.iter().map(|p| json!({"name": p.name, "type": p.ty.name(), "range": range(p.ty),
                "literal_only": !p.ty.is_numeric(), "required": p.required, "default": p.default, "description": p.description})).collect();
            json!({"name": a.name, "trees": a.trees.trees().map(Tree::json_name).collect::<Vec<_>>(), "description": a.description, "parameters": params})
        })
        .collect();
    let trees: Vec<Value> = TREE_INFO
        .iter()
        .filter(|(t, _, _)| tree.is_none_or(|x| x == *t))
        .map(|(t, when, default)| {
            json!({"name": t.json_name(), "evaluated": when, "when_absent": default,
            "actions": actions_in(*t).map(|a| a.name).collect::<Vec<_>>()})
        })
        .collect();
    vec![
        (
            "limits",
            json!({"tree_depth": MAX_TREE_DEPTH, "nodes": MAX_NODES, "nesting": MAX_NESTING,
            "document_bytes": MAX_DOCUMENT_BYTES, "registers": MAX_REGISTERS}),
        ),
        ("trees", json!(trees)),
        (
            "nodes",
            json!(NODES
                .iter()
                .map(|(k, keys, m)| json!({"type": k, "keys": keys, "meaning": m}))
                .collect::<Vec<_>>()),
        ),
        (
            "expressions",
            json!(CONDITION_OPS
                .iter()
                .map(|(o, m)| json!({"op": o, "meaning": m}))
                .collect::<Vec<_>>()),
        ),
        (
            "computations",
            json!(COMPUTE_OPS
                .iter()
                .map(|(o, k, m)| json!({"op": o, "operands": k, "meaning": m}))
                .collect::<Vec<_>>()),
        ),
        (
            "values",
            json!(VALUES
                .iter()
                .map(|(s, m)| json!({"shape": s, "meaning": m}))
                .collect::<Vec<_>>()),
        ),
        ("actions", json!(actions)),
        ("fields", json!(fields)),
    ]
}

fn selected(tree: Option<Tree>, section: Option<&str>) -> Vec<(&'static str, Value)> {
    sections(tree)
        .into_iter()
        .filter(|(name, _)| section.is_none_or(|s| s == *name))
        .collect()
}

/// The registry as canonical JSON (sorted keys, two-space indent, final newline).
pub fn registry_json(tree: Option<Tree>, section: Option<&str>) -> String {
    let m: Map<String, Value> = selected(tree, section)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let mut out = serde_json::to_string_pretty(&Value::Object(m)).unwrap_or_default();
    out.push('\n');
    out
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::String(s) => s.replace('|', "\\|"),
        Value::Array(a) => a.iter().map(cell).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn table(out: &mut String, rows: &[Value], cols: &[&str]) {
    out.push_str(&format!(
        "| {} |\n|{}\n",
        cols.join(" | "),
        "---|".repeat(cols.len())
    ));
    for r in rows {
        let cells: Vec<String> = cols.iter().map(|c| cell(&r[*c])).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out.push('\n');
}

/// The registry as markdown.
pub fn registry_markdown(tree: Option<Tree>, section: Option<&str>) -> String {
    let mut out =
        String::from("# Policy language reference\n\nGenerated from the engine's registry.\n");
    if let Some(t) = tree {
        out.push_str(&format!("Only what `{}` admits.\n", t.json_name()));
    }
    for (name, v) in selected(tree, section) {
        out.push_str(&format!(
            "\n## {}\n\n",
            name[..1].to_uppercase() + &name[1..]
        ));
        let rows = v.as_array().cloned().unwrap_or_default();
        match name {
            "limits" => {
                if let Value::Object(m) = &v {
                    for (k, x) in m {
                        out.push_str(&format!("- `{k}`: {x}\n"));
                    }
                }
            }
            "trees" => table(
                &mut out,
                &rows,
                &["name", "evaluated", "when_absent", "actions"],
            ),
            "nodes" => table(&mut out, &rows, &["type", "keys", "meaning"]),
            "expressions" => table(&mut out, &rows, &["op", "meaning"]),
            "computations" => table(&mut out, &rows, &["op", "operands", "meaning"]),
            "values" => table(&mut out, &rows, &["shape", "meaning"]),
            "actions" => {
                for a in &rows {
                    out.push_str(&format!(
                        "### `{}`\n\n{} Trees: {}.\n\n",
                        cell(&a["name"]),
                        cell(&a["description"]),
                        cell(&a["trees"])
                    ));
                    let params = a["parameters"].as_array().cloned().unwrap_or_default();
                    if !params.is_empty() {
                        table(
                            &mut out,
                            &params,
                            &[
                                "name",
                                "type",
                                "range",
                                "required",
                                "default",
                                "description",
                            ],
                        );
                    }
                }
            }
            _ => table(
                &mut out,
                &rows,
                &[
                    "name",
                    "type",
                    "unit",
                    "group",
                    "trees",
                    "aliases",
                    "description",
                ],
            ),
        }
    }
    out
}
