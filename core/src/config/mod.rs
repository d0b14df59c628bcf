//! The engine config: the normalized JSON of `docs/engine-config.md`, deserialized strictly and
//! then checked semantically (P6: everything is validated when the engine is created).
//!
//! Parsing goes through `serde_path_to_error`, so a shape error names the JSON pointer of the
//! offending value; semantic checks (agent references, tick bounds, sums) do the same by hand.

mod lsm;
mod schema;
mod validate;

pub use lsm::*;
pub use schema::*;
pub use validate::validate;

use crate::error::ConfigError;

/// Parses and validates an engine config from JSON text.
pub fn parse(text: &str) -> Result<EngineConfig, ConfigError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let cfg: EngineConfig = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let pointer = path_to_pointer(&e.path().to_string());
        ConfigError::new(pointer, e.inner().to_string())
    })?;
    de.end()
        .map_err(|e| ConfigError::new(String::new(), e.to_string()))?;
    validate(&cfg)?;
    Ok(cfg)
}

/// Converts `serde_path_to_error`'s `agents[1].limits.x` form into an RFC 6901 pointer.
fn path_to_pointer(path: &str) -> String {
    if path == "." || path.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    for part in path.split('.') {
        let mut rest = part;
        // A segment may carry indexes: `agents[1]` or `throughput_guidance[0][1]`.
        let name_end = rest.find('[').unwrap_or(rest.len());
        let (name, idx) = rest.split_at(name_end);
        if !name.is_empty() {
            out.push('/');
            out.push_str(&name.replace('~', "~0").replace('/', "~1"));
        }
        rest = idx;
        while let Some(open) = rest.find('[') {
            let close = rest[open..]
                .find(']')
                .map(|c| c + open)
                .unwrap_or(rest.len());
            out.push('/');
            out.push_str(rest.get(open + 1..close).unwrap_or(""));
            rest = rest.get(close + 1..).unwrap_or("");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::path_to_pointer;

    #[test]
    fn pointers_from_paths() {
        for (path, ptr) in [
            (".", ""),
            ("agents[1].opening_balance", "/agents/1/opening_balance"),
            (
                "settlement.throughput_guidance[0][1]",
                "/settlement/throughput_guidance/0/1",
            ),
            ("simulation", "/simulation"),
        ] {
            assert_eq!(path_to_pointer(path), ptr, "{path}");
        }
    }
}
