//! The one mapping from engine errors to the Python hierarchy of `paysim.exceptions`.

use paysim_core::EngineError;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

fn raise(py: Python<'_>, class: &str, message: String, kwargs: &[(&str, Option<String>)]) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let module = py.import("paysim.exceptions")?;
        let cls = module.getattr(class)?;
        let kw = PyDict::new(py);
        for (k, v) in kwargs {
            kw.set_item(*k, v.clone())?;
        }
        let exc = cls.call((message.clone(),), Some(&kw))?;
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|e| e)
}

/// `PolicyError` with its problem list (`{code, message, pointer, suggestion}` dicts).
pub fn raise_policy(
    py: Python<'_>,
    message: String,
    agent: Option<&str>,
    problems: &[paysim_core::policy_rt::PolicyProblem],
) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let module = py.import("paysim.exceptions")?;
        let cls = module.getattr("PolicyError")?;
        let list = pyo3::types::PyList::empty(py);
        for p in problems {
            let d = PyDict::new(py);
            d.set_item("code", &p.code)?;
            d.set_item("message", &p.message)?;
            d.set_item("pointer", &p.pointer)?;
            d.set_item("suggestion", p.suggestion.clone())?;
            list.append(d)?;
        }
        let kw = PyDict::new(py);
        kw.set_item("problems", list)?;
        kw.set_item("agent_id", agent)?;
        Ok(PyErr::from_value(cls.call((message,), Some(&kw))?))
    };
    build().unwrap_or_else(|e| e)
}

/// Converts an engine error into the matching `paysim` exception.
pub fn to_py(py: Python<'_>, e: EngineError) -> PyErr {
    match e {
        EngineError::Config(c) => raise(
            py,
            "ScenarioError",
            c.message.clone(),
            &[("pointer", Some(c.pointer.clone()))],
        ),
        EngineError::Inject(i) => raise(
            py,
            "ScenarioError",
            i.message.clone(),
            &[("pointer", Some(format!("/{}/{}", i.index, i.field)))],
        ),
        EngineError::Policy {
            agent,
            message,
            problems,
        } => raise_policy(
            py,
            format!("agent `{agent}`: {message}"),
            Some(&agent),
            &problems,
        ),
        EngineError::PolicyEvaluation(f) => with_tick(
            py,
            f.tick,
            raise(
                py,
                "PolicyEvaluationError",
                f.to_string(),
                &[
                    ("policy_id", Some(f.policy_id.clone())),
                    ("agent_id", Some(f.agent_id.clone())),
                    ("tree", Some(f.tree.clone())),
                    ("node_id", Some(f.node_id.clone())),
                    ("pointer", Some(f.pointer.clone())),
                    ("tx_id", f.tx_id.clone()),
                ],
            ),
        ),
        other => raise(py, "SimulationError", other.to_string(), &[]),
    }
}

/// Sets the `tick` attribute (an int) on a raised policy evaluation error.
fn with_tick(py: Python<'_>, tick: u32, err: PyErr) -> PyErr {
    let _ = err.value(py).setattr("tick", tick);
    err
}

/// A panic inside the engine is a bug; it still reaches Python as an exception, never an abort.
pub fn panic_to_py(payload: Box<dyn std::any::Any + Send>) -> PyErr {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    PyRuntimeError::new_err(format!("internal engine error (a bug): {msg}"))
}
