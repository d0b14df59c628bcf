//! The policy language for Python: validation reports, the JSON Schema and the registry docs,
//! all straight from the engine (no policy logic lives in Python).

use std::collections::BTreeMap;

use paysim_core::policy::{self, ScenarioInfo, Tree};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde_json::Value;

fn scenario_info(json: Option<&str>) -> PyResult<Option<ScenarioInfo>> {
    let Some(text) = json else {
        return Ok(None);
    };
    let v: Value = serde_json::from_str(text)
        .map_err(|e| PyValueError::new_err(format!("invalid scenario info: {e}")))?;
    let flag = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
    let agent_ids = v
        .get("agent_ids")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let parameter_overrides: BTreeMap<String, f64> = v
        .get("parameter_overrides")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, x)| x.as_f64().map(|f| (k.clone(), f)))
                .collect()
        })
        .unwrap_or_default();
    Ok(Some(ScenarioInfo {
        agent_ids,
        any_divisible: flag("any_divisible"),
        lsm_enabled: flag("lsm_enabled"),
        has_limits: flag("has_limits"),
        has_pools: flag("has_pools"),
        rate_penalties: flag("rate_penalties"),
        parameter_overrides,
    }))
}

fn tree(name: Option<&str>) -> PyResult<Option<Tree>> {
    match name {
        None => Ok(None),
        Some(n) => Tree::from_json_name(n)
            .map(Some)
            .ok_or_else(|| PyValueError::new_err(format!("unknown tree `{n}`"))),
    }
}

/// Validates a policy document (raw bytes); returns the report as JSON
/// (`{file, valid, policy_id, errors, warnings}`) and as the text of `validate-policy`.
#[pyfunction]
#[pyo3(signature = (document, file="", scenario_json=None))]
pub fn validate_policy(
    py: Python<'_>,
    document: &[u8],
    file: &str,
    scenario_json: Option<&str>,
) -> PyResult<(String, String)> {
    let info = scenario_info(scenario_json)?;
    let doc = document.to_vec();
    let report = py.detach(move || policy::validate(&doc, info.as_ref()));
    Ok((report.to_json(file), policy::render_text(file, &report)))
}

/// The JSON Schema of policy documents, generated from the registry (canonical text).
#[pyfunction]
pub fn policy_json_schema() -> String {
    policy::policy_json_schema()
}

/// The registry as `markdown` or `json`, optionally for one tree and one section.
#[pyfunction]
#[pyo3(signature = (format="markdown", tree_name=None, section=None))]
pub fn policy_registry(
    format: &str,
    tree_name: Option<&str>,
    section: Option<&str>,
) -> PyResult<String> {
    let t = tree(tree_name)?;
    if let Some(s) = section {
        if !policy::docs::SECTIONS.contains(&s) {
            return Err(PyValueError::new_err(format!(
                "unknown section `{s}`; expected one of {}",
                policy::docs::SECTIONS.join(", ")
            )));
        }
    }
    match format {
        "markdown" => Ok(policy::registry_markdown(t, section)),
        "json" => Ok(policy::registry_json(t, section)),
        other => Err(PyValueError::new_err(format!(
            "unknown format `{other}`; expected markdown or json"
        ))),
    }
}
