//! The policy seam of the tick loop.
//!
//! Until the policy language is compiled natively (the DSL issue), the engine accepts exactly
//! the policies whose behaviour is "release every payment" (no trees, or a payment tree that is
//! a single parameterless `Release`), and reads the reserved parameter
//! `initial_liquidity_fraction`. Anything else is rejected at creation with a clear error, so a
//! policy is never silently run as something it is not.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::config::PolicyCfg;

/// A policy as the tick loop sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct RuntimePolicy {
    pub policy_id: String,
    pub document: String,
    pub sha256: String,
    pub parameters: BTreeMap<String, f64>,
    pub initial_liquidity_fraction: Option<f64>,
}

const TREES: [&str; 4] = [
    "payment_tree",
    "bank_tree",
    "strategic_collateral_tree",
    "end_of_tick_collateral_tree",
];

fn is_plain_release(node: &Value) -> bool {
    let Some(obj) = node.as_object() else {
        return false;
    };
    let params_empty = match obj.get("parameters") {
        None | Some(Value::Null) => true,
        Some(Value::Object(m)) => m.is_empty(),
        _ => false,
    };
    obj.get("type").and_then(Value::as_str) == Some("action")
        && obj.get("action").and_then(Value::as_str) == Some("Release")
        && params_empty
}

fn param_value(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Object(m) => m.get("value").and_then(Value::as_f64),
        _ => None,
    }
}

impl RuntimePolicy {
    /// Builds the runtime form of a resolved policy, or says why it cannot run yet.
    pub fn from_cfg(cfg: &PolicyCfg) -> Result<Self, String> {
        let doc = cfg
            .document
            .as_object()
            .ok_or_else(|| "a policy document must be a JSON object".to_string())?;
        let policy_id = doc
            .get("policy_id")
            .and_then(Value::as_str)
            .ok_or_else(|| "the policy document has no string `policy_id`".to_string())?
            .to_string();
        for tree in TREES {
            match doc.get(tree) {
                None | Some(Value::Null) => {}
                Some(node) if tree == "payment_tree" && is_plain_release(node) => {}
                Some(_) => {
                    return Err(format!(
                        "policy `{policy_id}` has a `{tree}`; this engine build runs only \
                         release-everything policies (decision trees arrive with the policy \
                         language)"
                    ))
                }
            }
        }
        let mut parameters = BTreeMap::new();
        if let Some(Value::Object(ps)) = doc.get("parameters") {
            for (name, v) in ps {
                let value = param_value(v)
                    .ok_or_else(|| format!("parameter `{name}` of `{policy_id}` has no value"))?;
                parameters.insert(name.clone(), value);
            }
        }
        for (name, v) in &cfg.parameters {
            if !parameters.contains_key(name) {
                return Err(format!(
                    "override `{name}` names no parameter of policy `{policy_id}`"
                ));
            }
            parameters.insert(name.clone(), *v);
        }
        let ilf = parameters.get("initial_liquidity_fraction").copied();
        if let Some(f) = ilf {
            if !(0.0..=1.0).contains(&f) {
                return Err(format!(
                    "initial_liquidity_fraction of `{policy_id}` must lie in [0, 1], found {f}"
                ));
            }
        }
        let document = crate::checkpoint_frame::canonical_json(&cfg.document);
        let sha256 = crate::checkpoint_frame::hex(&sha256_bytes(document.as_bytes()));
        Ok(RuntimePolicy {
            policy_id,
            document,
            sha256,
            parameters,
            initial_liquidity_fraction: ilf,
        })
    }
}

fn sha256_bytes(b: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(b).into()
}
