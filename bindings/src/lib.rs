//! `paysim._core`: the thin PyO3 layer over `paysim-core`.
//!
//! Method bodies only convert and delegate; conversion helpers and the mapping from engine
//! errors to Python exceptions live in one place each.

use pyo3::prelude::*;

/// Version of the Rust engine crate the extension was built from.
#[pyfunction]
fn core_version() -> &'static str {
    paysim_core::VERSION
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(core_version, m)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Crosses the FFI boundary from the Rust side: builds the module inside an embedded
    /// interpreter and calls its function through Python's C API.
    #[test]
    fn module_reports_core_version_through_python() {
        Python::attach(|py| {
            let module = PyModule::new(py, "_core").expect("module");
            _core(&module).expect("init");
            let reported: String = module
                .getattr("core_version")
                .and_then(|f| f.call0())
                .and_then(|v| v.extract())
                .expect("call");
            assert_eq!(reported, paysim_core::VERSION);
            let attr: String = module
                .getattr("__version__")
                .and_then(|v| v.extract())
                .expect("attr");
            assert_eq!(attr, paysim_core::VERSION);
        });
    }
}
