//! The JSON Schema (draft 2020-12) of policy documents, generated from the registry (§12).
//!
//! Output is canonical: `serde_json`'s default map is ordered, so keys come out sorted;
//! two-space indentation and a final newline, no timestamp. Value, condition, computation
//! and node definitions are repeated per tree because the field names (and actions) a tree
//! admits differ, which is what lets an editor complete only the names that validate.

use serde_json::{json, Map, Value};

use super::actions::{actions_in, ArgType, ParamSpec, COMPUTE_OPS};
use super::parse::{MAX_ID_CHARS, MAX_NESTING};
use super::registry::{Tree, FIELDS};
use super::simcash;

const REGISTER_PATTERN: &str = "^bank_state_[A-Za-z0-9_]{1,64}$";

fn short(tree: Tree) -> &'static str {
    match tree {
        Tree::Payment => "payment",
        Tree::Bank => "bank",
        Tree::StrategicCollateral => "strategic_collateral",
        Tree::EndOfTickCollateral => "end_of_tick_collateral",
    }
}

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/$defs/{name}") })
}

fn id_schema() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": MAX_ID_CHARS, "pattern": "^[^\\u0000-\\u001F\\u007F-\\u009F]+$"})
}

/// An object with exactly these properties, the `required` ones mandatory.
fn object(props: Vec<(&str, Value)>, required: &[&str]) -> Value {
    let mut p = Map::new();
    for (k, v) in props {
        p.insert(k.to_string(), v);
    }
    json!({"type": "object", "additionalProperties": false, "properties": p, "required": required})
}

/// The JSON Schema of a policy document, canonical text.
pub fn policy_json_schema() -> String {
    let mut defs = Map::new();
    defs.insert("id".into(), id_schema());
    defs.insert(
        "parameter".into(),
        json!({"oneOf": [{"type": "number"}, r("parameter_object")]}),
    );
    defs.insert(
        "parameter_object".into(),
        json!({
            "type": "object", "additionalProperties": false, "required": ["value"],
            "properties": {
                "value": {"type": "number"}, "min": {"type": "number"}, "max": {"type": "number"},
                "step": {"type": "number", "exclusiveMinimum": 0}, "log": {"type": "boolean"},
                "kind": {"enum": ["float", "int"]}, "description": {"type": "string"}
            },
            "dependentRequired": {"min": ["max"], "max": ["min"], "step": ["min", "max"], "log": ["min", "max"]}
        }),
    );
    defs.insert(
        "literal".into(),
        object(
            vec![("value", json!({"type": ["number", "boolean"]}))],
            &["value"],
        ),
    );
    defs.insert(
        "param_ref".into(),
        object(vec![("param", json!({"type": "string"}))], &["param"]),
    );
    for tree in Tree::ALL {
        tree_defs(tree, &mut defs);
    }
    let mut props = Map::new();
    props.insert(
        "version".into(),
        json!({"type": "string", "pattern": "^1\\.[0-9]+$", "description": "Language version, \"1.0\"."}),
    );
    props.insert("policy_id".into(), r("id"));
    props.insert("description".into(), json!({"type": "string"}));
    props.insert("metadata".into(), json!({"type": "object"}));
    props.insert(
        "parameters".into(),
        json!({"type": "object", "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}$"}, "additionalProperties": r("parameter")}),
    );
    for tree in Tree::ALL {
        props.insert(
            tree.json_name().into(),
            json!({"oneOf": [{"type": "null"}, r(&format!("{}_node", short(tree)))]}),
        );
    }
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "paysim policy document",
        "description": "Generated from the paysim policy registry; do not edit.",
        "type": "object", "additionalProperties": false, "required": ["version", "policy_id"],
        "properties": props, "$defs": defs,
    });
    let mut out = serde_json::to_string_pretty(&schema).unwrap_or_default();
    out.push('\n');
    out
}

fn tree_defs(tree: Tree, defs: &mut Map<String, Value>) {
    let t = short(tree);
    let mut names: Vec<Value> = Vec::new();
    for f in FIELDS.iter().filter(|f| f.trees.contains(tree)) {
        names.push(json!({"const": f.name, "description": format!("{} ({}, {})", f.description, f.unit.as_str(), f.ty.as_str())}));
        for a in f.aliases {
            names.push(json!({"const": a, "description": format!("Alias of `{}`.", f.name)}));
        }
    }
    names.push(
        json!({"type": "string", "pattern": REGISTER_PATTERN, "description": "A state register."}),
    );
    defs.insert(format!("{t}_field"), json!({"anyOf": names}));
    defs.insert(
        format!("{t}_value"),
        json!({"oneOf": [
            object(vec![("field", r(&format!("{t}_field")))], &["field"]),
            r("param_ref"),
            r("literal"),
            object(vec![("compute", r(&format!("{t}_computation")))], &["compute"]),
        ]}),
    );
    let value = r(&format!("{t}_value"));
    let comps: Vec<Value> = COMPUTE_OPS
        .iter()
        .map(|(op, keys, desc)| {
            let mut props = vec![("op", json!({"const": op}))];
            for k in *keys {
                let v = if *k == "values" {
                    json!({"type": "array", "minItems": 1, "items": value})
                } else {
                    value.clone()
                };
                props.push((k, v));
            }
            let mut req = vec!["op"];
            req.extend_from_slice(keys);
            let mut o = object(props, &req);
            o["description"] = json!(desc);
            o
        })
        .collect();
    defs.insert(format!("{t}_computation"), json!({"oneOf": comps}));
    let cond = r(&format!("{t}_condition"));
    defs.insert(
        format!("{t}_condition"),
        json!({"oneOf": [
            object(vec![("op", json!({"enum": ["==", "!=", "<", "<=", ">", ">="]})), ("left", value.clone()), ("right", value.clone())], &["op", "left", "right"]),
            object(vec![("op", json!({"enum": ["and", "or"]})), ("conditions", json!({"type": "array", "items": cond}))], &["op", "conditions"]),
            object(vec![("op", json!({"const": "not"})), ("condition", cond.clone())], &["op", "condition"]),
        ], "description": format!("At most {MAX_NESTING} levels of nesting (checked by the validator).")}),
    );
    let node = r(&format!("{t}_node"));
    let base = |extra: Vec<(&'static str, Value)>| {
        let mut p = vec![
            ("node_id", r("id")),
            ("description", json!({"type": "string"})),
        ];
        // SimCash's note keys, read and ignored like `description` (docs/simcash.md).
        p.extend(
            simcash::NOTE_KEYS
                .iter()
                .map(|k| (*k, json!({"type": "string"}))),
        );
        p.extend(extra);
        p
    };
    let cnode = object(
        base(vec![
            ("type", json!({"const": "condition"})),
            ("condition", cond),
            ("on_true", node.clone()),
            ("on_false", node),
        ]),
        &["type", "node_id", "condition", "on_true", "on_false"],
    );
    let mut alts = vec![cnode];
    for a in actions_in(tree) {
        let mut params: Vec<(&str, Value)> = a
            .params
            .iter()
            .map(|p| (p.name, param_schema(p, &value)))
            .collect();
        // SimCash's names of the same parameters (docs/simcash.md).
        for p in a.params {
            if let Some(alias) = simcash::parameter_alias(a.name, p.name) {
                let mut s = param_schema(p, &value);
                s["description"] = json!(format!("SimCash name of `{}`.", p.name));
                params.push((alias, s));
            }
        }
        let required: Vec<&str> = a
            .params
            .iter()
            .filter(|p| p.required)
            .map(|p| p.name)
            .collect();
        let mut props = base(vec![
            ("type", json!({"const": "action"})),
            (
                "action",
                json!({"const": a.name, "description": a.description}),
            ),
        ]);
        props.push(("parameters", object(params, &required)));
        let mut req = vec!["type", "node_id", "action"];
        if !required.is_empty() {
            req.push("parameters");
        }
        alts.push(object(props, &req));
    }
    defs.insert(format!("{t}_node"), json!({"oneOf": alts}));
}

/// Regex matching `s` in any letter case (JSON Schema patterns have no flags).
fn any_case(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase())
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn param_schema(p: &ParamSpec, value: &Value) -> Value {
    let lit = |v: Value| object(vec![("value", v)], &["value"]);
    let mut s = match p.ty {
        ArgType::Enum(e) if e.any_case => {
            let alts: Vec<String> = e.values.iter().map(|v| any_case(v)).collect();
            lit(json!({"type": "string", "pattern": format!("^({})$", alts.join("|"))}))
        }
        ArgType::Enum(e) => lit(json!({"enum": e.values})),
        ArgType::Reason => {
            lit(json!({"type": "string", "minLength": 1, "maxLength": MAX_ID_CHARS}))
        }
        ArgType::RegisterKey => lit(json!({"type": "string", "pattern": REGISTER_PATTERN})),
        ArgType::AgentList => lit(json!({"type": "array", "items": {"type": "string"}})),
        _ => value.clone(),
    };
    // A literal's range, under truncation toward zero: trunc(x) in lo..=hi.
    let range = match p.ty {
        ArgType::Cents => Some((0, None)),
        ty => ty.range().map(|(lo, hi)| (lo, Some(hi))),
    };
    if let Some((lo, hi)) = range {
        let mut num = Map::new();
        num.insert("type".into(), json!("number"));
        if lo > 0 {
            num.insert("minimum".into(), json!(lo));
        } else {
            num.insert("exclusiveMinimum".into(), json!(lo - 1));
        }
        if let Some(hi) = hi {
            num.insert("exclusiveMaximum".into(), json!(hi + 1));
        }
        s = json!({"anyOf": [{"not": r("literal")}, lit(Value::Object(num)), lit(json!({"type": "boolean"}))], "allOf": [s]});
    }
    if let Value::Object(m) = &mut s {
        m.insert(
            "description".into(),
            json!(format!("{} ({})", p.description, p.ty.name())),
        );
    }
    s
}
