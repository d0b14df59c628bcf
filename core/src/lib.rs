//! paysim-core: the deterministic RTGS simulation engine.
//!
//! This crate is pure Rust and knows nothing about Python; the `bindings` crate wraps it for
//! `paysim._core`. Everything here is testable with `cargo test`.

/// The engine's version, shared by the Python package (maturin takes the package version from
/// the bindings crate, which inherits it from the workspace, as this crate does).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(test)]
mod tests {
    #[test]
    fn version_is_semver() {
        let parts: Vec<&str> = super::VERSION.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| p.parse::<u32>().is_ok()));
    }
}
