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
pub use validate::{validate, MAX_DAYS, MAX_EPISODE_TICKS, MAX_TICKS_PER_DAY};

use crate::error::ConfigError;

/// Deepest JSON nesting an engine config may have. A valid policy document nests at most about
/// 250 levels (tree depth 100, condition nesting 64, POLICY_DSL.md §2) and sits 5 levels down in
/// the config, so serde_json's generic limit of 128 would reject valid policies; this bound keeps
/// every valid config while keeping the recursive deserializer far from the stack limit of an
/// engine thread.
pub const MAX_CONFIG_DEPTH: usize = 512;

/// Checks the nesting of JSON text (brackets outside strings) against [`MAX_CONFIG_DEPTH`].
fn check_depth(text: &str) -> Result<(), ConfigError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (at, b) in text.bytes().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_CONFIG_DEPTH {
                    return Err(ConfigError::new(
                        String::new(),
                        format!(
                            "invalid JSON: nesting deeper than {MAX_CONFIG_DEPTH} levels at byte {at}"
                        ),
                    ));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// A JSON deserializer over `text` without serde_json's recursion limit of 128, once the text is
/// known to nest at most [`MAX_CONFIG_DEPTH`] levels.
fn deserializer(
    text: &str,
) -> Result<serde_json::Deserializer<serde_json::de::StrRead<'_>>, ConfigError> {
    check_depth(text)?;
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    Ok(de)
}

/// The engine config as a generic JSON value (for its hash and canonical form).
pub fn parse_value(text: &str) -> Result<serde_json::Value, ConfigError> {
    use serde::Deserialize;
    let mut de = deserializer(text)?;
    let value = serde_json::Value::deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| ConfigError::new(String::new(), format!("invalid JSON: {e}")))?;
    Ok(value)
}

/// Parses and validates an engine config from JSON text.
pub fn parse(text: &str) -> Result<EngineConfig, ConfigError> {
    let mut de = deserializer(text)?;
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
    use super::{parse_value, path_to_pointer, MAX_CONFIG_DEPTH};

    #[test]
    fn nesting_beyond_serde_default_but_within_the_bound_parses() {
        // 300 levels: deeper than serde_json's default limit of 128, as a valid policy may be.
        let deep = format!("{}1{}", "[".repeat(300), "]".repeat(300));
        assert!(parse_value(&deep).is_ok());
        // Brackets inside strings do not count.
        let quoted = format!("[\"{}\\\"\"]", "[".repeat(10 * MAX_CONFIG_DEPTH));
        assert!(parse_value(&quoted).is_ok());
        let too_deep = "[".repeat(MAX_CONFIG_DEPTH + 1);
        let err = parse_value(&too_deep).expect_err("too deep");
        assert!(
            err.message.contains("nesting deeper than 512"),
            "{}",
            err.message
        );
        let hostile = "{\"a\":".repeat(200_000);
        assert!(parse_value(&hostile).is_err());
    }

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
