//! Policies as the tick loop holds them: the compiled form (shared, immutable) beside the
//! serializable description a checkpoint keeps (document text and parameter overrides), from
//! which the compiled form is rebuilt on restore.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::PolicyCfg;
use crate::policy::{compile, CompiledPolicy, PolicyCompileError, Problem};

/// One problem of an invalid policy, in the shape every tool shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyProblem {
    pub code: String,
    pub message: String,
    pub pointer: String,
    pub suggestion: Option<String>,
}

impl From<&Problem> for PolicyProblem {
    fn from(p: &Problem) -> Self {
        PolicyProblem {
            code: p.code.as_str().to_string(),
            message: p.message.clone(),
            pointer: p.pointer.clone(),
            suggestion: p.suggestion.clone(),
        }
    }
}

/// Why a policy could not be attached.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyRejected {
    pub message: String,
    pub problems: Vec<PolicyProblem>,
}

/// The serializable part: enough to rebuild the compiled policy exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyState {
    pub policy_id: String,
    pub document: String,
    pub sha256: String,
    pub overrides: BTreeMap<String, f64>,
    pub initial_liquidity_fraction: Option<f64>,
}

/// A policy ready to run.
#[derive(Clone, Debug)]
pub struct RuntimePolicy {
    pub state: PolicyState,
    pub compiled: Arc<CompiledPolicy>,
}

impl RuntimePolicy {
    /// Validates and compiles a resolved policy (document + parameter overrides).
    pub fn from_cfg(cfg: &PolicyCfg) -> Result<Self, PolicyRejected> {
        let document = crate::checkpoint_frame::canonical_json(&cfg.document);
        Self::from_parts(document, cfg.parameters.clone())
    }

    /// Compiles a document text with overrides (also the restore path).
    pub fn from_parts(
        document: String,
        overrides: BTreeMap<String, f64>,
    ) -> Result<Self, PolicyRejected> {
        let compiled = compile(document.as_bytes(), &overrides).map_err(|e| match e {
            PolicyCompileError::Invalid(report) => PolicyRejected {
                message: match report.errors.first() {
                    Some(p) => format!(
                        "{} at {}: {}",
                        p.code.as_str(),
                        if p.pointer.is_empty() {
                            "/"
                        } else {
                            p.pointer.as_str()
                        },
                        p.message
                    ),
                    None => "invalid policy".into(),
                },
                problems: report.errors.iter().map(PolicyProblem::from).collect(),
            },
            PolicyCompileError::Internal(m) => PolicyRejected {
                message: m,
                problems: Vec::new(),
            },
        })?;
        let sha256 = crate::checkpoint_frame::hex(&sha256_bytes(document.as_bytes()));
        Ok(RuntimePolicy {
            state: PolicyState {
                policy_id: compiled.policy_id().to_string(),
                document,
                sha256,
                overrides,
                initial_liquidity_fraction: compiled.initial_liquidity_fraction(),
            },
            compiled: Arc::new(compiled),
        })
    }
}

fn sha256_bytes(b: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(b).into()
}
