//! `paysim._core`: the thin PyO3 layer over `paysim-core`.
//!
//! Method bodies only convert and delegate. Conversion lives here and in `errors.rs` (the one
//! mapping to `paysim.exceptions`); engine work runs with the GIL released and inside
//! `catch_unwind`, so a bug cannot take the interpreter down. Long runs go in slices of at most
//! [`SLICE`] of wall time, with the GIL taken back between slices to look at pending signals, so
//! Ctrl-C stops `run`/`run_until` between two ticks within a fraction of a second.

mod arrivals;
mod errors;
mod policy;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use paysim_core::engine::InjectRecord;
use paysim_core::events::{
    DetailShapes, EventsReleased, PrimitiveColumn, StoredEventBatch, TickCounts, Utf8Column,
};
use paysim_core::{Engine, EngineError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Parses a JSON list of arrival records (`inject_arrivals` format).
fn parse_records(py: Python<'_>, text: &str) -> PyResult<Vec<InjectRecord>> {
    serde_json::from_str(text).map_err(|e| {
        errors::to_py(
            py,
            EngineError::Config(paysim_core::error::ConfigError::new(
                String::new(),
                format!("invalid arrival records: {e}"),
            )),
        )
    })
}

/// `derive_seed(rng_seed, agent_id, name)`: the seed of an agent's named random stream, for
/// Python arrival generators (ENGINE.md §9.1).
#[pyfunction]
fn derive_seed(rng_seed: u64, agent_id: &str, name: &str) -> u64 {
    paysim_core::arrivals::rng::derive_seed(rng_seed, agent_id, name)
}

/// Every event type of the engine's catalogue, in catalogue order.
#[pyfunction]
fn event_types() -> Vec<&'static str> {
    paysim_core::events::EventType::ALL
        .iter()
        .map(|t| t.as_str())
        .collect()
}

/// Version of the Rust engine crate the extension was built from.
#[pyfunction]
fn core_version() -> &'static str {
    paysim_core::VERSION
}

/// Runs engine work without the GIL, turning errors and panics into Python exceptions.
fn detached<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> Result<T, EngineError> + Send,
) -> PyResult<T> {
    match py.detach(|| catch_unwind(AssertUnwindSafe(f))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(errors::to_py(py, e)),
        Err(panic) => Err(errors::panic_to_py(panic)),
    }
}

/// Longest stretch of engine work between two looks at pending signals (Ctrl-C).
const SLICE: Duration = Duration::from_millis(50);
/// Ticks run between two looks at the clock (an empty tick takes about a microsecond).
const TICKS_PER_CLOCK_CHECK: u32 = 64;

/// Runs `engine` until `current_tick == target` (clamped to the end), in slices of about
/// [`SLICE`] with the GIL released; between slices, pending signals are handled, so a
/// `KeyboardInterrupt` (or any error a signal handler raises) stops the run between two ticks.
fn run_interruptibly(py: Python<'_>, engine: &mut Engine, target: u32) -> PyResult<()> {
    let target = target.min(engine.total_ticks());
    while engine.current_tick() < target {
        detached(py, || {
            let start = Instant::now();
            while engine.current_tick() < target && start.elapsed() < SLICE {
                let step = target.min(engine.current_tick().saturating_add(TICKS_PER_CLOCK_CHECK));
                engine.run_until(step)?;
            }
            Ok(())
        })?;
        py.check_signals()?;
    }
    Ok(())
}

type Buffers<'py> = (
    Bound<'py, PyBytes>,
    Option<Bound<'py, PyBytes>>,
    Option<Bound<'py, PyBytes>>,
    usize,
);

/// A fixed-width value as Arrow stores it: little-endian bytes.
trait LeBytes: Copy {
    const WIDTH: usize;
    fn write_le(self, out: &mut [u8]);
}

macro_rules! le_bytes {
    ($($t:ty),*) => {$(
        impl LeBytes for $t {
            const WIDTH: usize = core::mem::size_of::<$t>();
            fn write_le(self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
le_bytes!(u8, i32, i64, u64);

/// Values copied once, straight into the Python bytes object.
fn le_buffer<'py, T: LeBytes>(py: Python<'py>, values: &[T]) -> Bound<'py, PyBytes> {
    let fill = |buf: &mut [u8]| {
        for (out, v) in buf.chunks_exact_mut(T::WIDTH).zip(values) {
            v.write_le(out);
        }
        Ok(())
    };
    match PyBytes::new_with(py, values.len() * T::WIDTH, fill) {
        Ok(bytes) => bytes,
        // Allocation failure of the bytes object: fall back to the two-copy path.
        Err(_) => {
            let mut data = vec![0u8; values.len() * T::WIDTH];
            let _ = fill(&mut data);
            PyBytes::new(py, &data)
        }
    }
}

fn primitive_column<'py, T: LeBytes>(py: Python<'py>, c: &PrimitiveColumn<T>) -> Buffers<'py> {
    (
        le_buffer(py, &c.values),
        c.validity.as_ref().map(|v| PyBytes::new(py, v)),
        None,
        c.null_count,
    )
}

fn utf8_column<'py>(py: Python<'py>, c: &Utf8Column) -> Buffers<'py> {
    (
        PyBytes::new(py, &c.data),
        c.validity.as_ref().map(|v| PyBytes::new(py, v)),
        Some(le_buffer(py, &c.offsets)),
        c.null_count,
    )
}

/// The Python error for a request below the retained range.
fn released(py: Python<'_>, e: EventsReleased) -> PyErr {
    errors::to_py(
        py,
        EngineError::EventsReleased {
            oldest_retained: e.oldest_retained,
        },
    )
}

/// One simulation. The config is the normalized engine JSON (docs/engine-config.md).
/// The details templates of one stored run: shape numbers for
/// `Engine.stored_events_buffers`, and the store position of each engine
/// agent index.
#[pyclass(name = "DetailShapes", module = "paysim._core")]
struct PyDetailShapes {
    inner: DetailShapes,
}

#[pymethods]
impl PyDetailShapes {
    #[new]
    fn new(positions: Vec<i32>) -> Self {
        PyDetailShapes {
            inner: DetailShapes::new(positions),
        }
    }

    /// The number of the shape of event type `event_type` (a catalogue code)
    /// with `template` (its integers marked by NUL), added when new.
    fn intern(&mut self, event_type: u8, template: &str) -> PyResult<i32> {
        self.inner.intern(event_type, template).ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err(format!(
                "cannot number a details shape of event type code {event_type}"
            ))
        })
    }

    /// Shapes added since the last call: `(number, event type code, template)`.
    fn take_new(&mut self) -> Vec<(i32, u8, String)> {
        self.inner.take_new()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }
}

fn stored_columns<'py>(py: Python<'py>, b: &StoredEventBatch) -> Vec<(&'static str, Buffers<'py>)> {
    let [n0, n1, n2] = &b.n;
    vec![
        ("seq", primitive_column(py, &b.seq)),
        ("tick", primitive_column(py, &b.tick)),
        ("day", primitive_column(py, &b.day)),
        ("shape", primitive_column(py, &b.shape)),
        ("tx_key", primitive_column(py, &b.tx_key)),
        ("agent_index", primitive_column(py, &b.agent_index)),
        (
            "counterparty_index",
            primitive_column(py, &b.counterparty_index),
        ),
        ("amount", primitive_column(py, &b.amount)),
        ("n0", primitive_column(py, n0)),
        ("n1", primitive_column(py, n1)),
        ("n2", primitive_column(py, n2)),
    ]
}

#[pyclass(name = "Engine", module = "paysim._core")]
struct PyEngine {
    inner: Engine,
}

#[pymethods]
impl PyEngine {
    #[new]
    fn new(py: Python<'_>, config_json: &str) -> PyResult<Self> {
        let text = config_json.to_string();
        let inner = detached(py, move || Engine::new(&text))?;
        Ok(PyEngine { inner })
    }

    /// Processes one tick; returns its `TickSummary` as a dict.
    fn tick(&mut self, py: Python<'_>) -> PyResult<String> {
        let engine = &mut self.inner;
        let s = detached(py, || engine.tick())?;
        Ok(serde_json::to_string(&s).unwrap_or_default())
    }

    fn run(&mut self, py: Python<'_>) -> PyResult<()> {
        let end = self.inner.total_ticks();
        run_interruptibly(py, &mut self.inner, end)
    }

    fn run_until(&mut self, py: Python<'_>, tick: u32) -> PyResult<()> {
        run_interruptibly(py, &mut self.inner, tick)
    }

    #[getter]
    fn current_tick(&self) -> u32 {
        self.inner.current_tick()
    }

    #[getter]
    fn total_ticks(&self) -> u32 {
        self.inner.total_ticks()
    }

    #[getter]
    fn ticks_per_day(&self) -> u32 {
        self.inner.setup().tpd
    }

    #[getter]
    fn done(&self) -> bool {
        self.inner.done()
    }

    #[getter]
    fn next_seq(&self) -> u64 {
        self.inner.events().next_seq()
    }

    /// The seq of the oldest event still held (events below it were released).
    #[getter]
    fn oldest_retained_seq(&self) -> u64 {
        self.inner.events().oldest_retained()
    }

    fn agent_ids(&self) -> Vec<String> {
        self.inner.agent_ids().to_vec()
    }

    /// The engine part of the run summary, as JSON text.
    fn summary_json(&self) -> String {
        self.inner.summary().to_string()
    }

    fn agent_json(&self, py: Python<'_>, agent_id: &str) -> PyResult<String> {
        let v = self
            .inner
            .agent_state(agent_id)
            .map_err(|e| errors::to_py(py, e))?;
        Ok(serde_json::to_string(&v).unwrap_or_default())
    }

    fn payment_json(&self, py: Python<'_>, tx_id: &str) -> PyResult<String> {
        let v = self
            .inner
            .payment(tx_id)
            .map_err(|e| errors::to_py(py, e))?;
        Ok(serde_json::to_string(&v).unwrap_or_default())
    }

    fn queue1(&self, py: Python<'_>, agent_id: &str) -> PyResult<Vec<String>> {
        self.inner
            .queue1(agent_id)
            .map_err(|e| errors::to_py(py, e))
    }

    fn queue2(&self) -> Vec<String> {
        self.inner.queue2()
    }

    /// Retained events with `seq ≥ since` as Arrow buffers: `(length, {column: (data,
    /// validity, offsets, null_count)})`; `paysim` wraps them into a `pyarrow.Table`. The
    /// export runs with the GIL released.
    #[pyo3(signature = (since=0, max_rows=None))]
    #[allow(clippy::type_complexity)]
    fn events_buffers<'py>(
        &self,
        py: Python<'py>,
        since: u64,
        max_rows: Option<usize>,
    ) -> PyResult<(usize, Vec<(&'static str, Buffers<'py>)>)> {
        let (log, names, tpd) = (
            self.inner.events(),
            self.inner.names(),
            self.inner.setup().tpd,
        );
        let batch = py
            .detach(|| log.export(since, max_rows, tpd, &names))
            .map_err(|e| released(py, e))?;
        let cols = vec![
            ("seq", primitive_column(py, &batch.seq)),
            ("tick", primitive_column(py, &batch.tick)),
            ("day", primitive_column(py, &batch.day)),
            ("event_type", utf8_column(py, &batch.event_type)),
            ("tx_id", utf8_column(py, &batch.tx_id)),
            ("agent_id", utf8_column(py, &batch.agent_id)),
            ("counterparty_id", utf8_column(py, &batch.counterparty_id)),
            ("amount", primitive_column(py, &batch.amount)),
            ("details", utf8_column(py, &batch.details)),
        ];
        Ok((batch.len, cols))
    }

    /// The rows of `events_buffers` with their ids as numbers (for the store): `event_type` is
    /// the catalogue code (a position in `event_types()`, `uint8`), `tx_key` the payment's key
    /// (`uint64`), `agent_index` and `counterparty_index` positions in `agent_ids()`
    /// (`int32`); the other columns are those of `events_buffers`.
    #[pyo3(signature = (since=0, max_rows=None))]
    #[allow(clippy::type_complexity)]
    fn coded_events_buffers<'py>(
        &self,
        py: Python<'py>,
        since: u64,
        max_rows: Option<usize>,
    ) -> PyResult<(usize, Vec<(&'static str, Buffers<'py>)>)> {
        let (log, names, tpd) = (
            self.inner.events(),
            self.inner.names(),
            self.inner.setup().tpd,
        );
        let batch = py
            .detach(|| log.export_coded(since, max_rows, tpd, &names))
            .map_err(|e| released(py, e))?;
        let codes = (le_buffer(py, &batch.event_type), None, None, 0);
        let cols = vec![
            ("seq", primitive_column(py, &batch.seq)),
            ("tick", primitive_column(py, &batch.tick)),
            ("day", primitive_column(py, &batch.day)),
            ("event_type", codes),
            ("tx_key", primitive_column(py, &batch.tx_key)),
            ("agent_index", primitive_column(py, &batch.agent_index)),
            (
                "counterparty_index",
                primitive_column(py, &batch.counterparty_index),
            ),
            ("amount", primitive_column(py, &batch.amount)),
            ("details", utf8_column(py, &batch.details)),
        ];
        Ok((batch.len, cols))
    }

    /// The rows of `events_buffers` in the store's compact form: `shape` (a
    /// number in `shapes`: event type and details template), `tx_key`, agents
    /// as store positions, and the details' integers in `n0`..`n2` (see
    /// `paysim_core::events::StoredEventBatch`); exported with the GIL
    /// released.
    #[pyo3(signature = (shapes, since=0, max_rows=None))]
    #[allow(clippy::type_complexity)]
    fn stored_events_buffers<'py>(
        &self,
        py: Python<'py>,
        mut shapes: PyRefMut<'_, PyDetailShapes>,
        since: u64,
        max_rows: Option<usize>,
    ) -> PyResult<(usize, Vec<(&'static str, Buffers<'py>)>)> {
        let (log, names, tpd) = (
            self.inner.events(),
            self.inner.names(),
            self.inner.setup().tpd,
        );
        let inner = &mut shapes.inner;
        let batch = py
            .detach(|| log.export_stored(since, max_rows, tpd, &names, inner))
            .map_err(|e| released(py, e))?;
        Ok((batch.len, stored_columns(py, &batch)))
    }

    /// Per-tick counts and per-tick, per-agent balance movements of the events with seqs in
    /// `[since, until)` (ENGINE.md §12.2), as two lists of `(column, buffers)` of `int64`
    /// columns (`agent_index` is `int32`), and the agents' balances at the end of the range
    /// (`balances`: at its start, by agent index); computed with the GIL released.
    #[allow(clippy::type_complexity)]
    fn tick_aggregates<'py>(
        &self,
        py: Python<'py>,
        since: u64,
        until: u64,
        mut balances: Vec<i64>,
    ) -> PyResult<(
        usize,
        Vec<(&'static str, Buffers<'py>)>,
        usize,
        Vec<(&'static str, Buffers<'py>)>,
        Vec<i64>,
    )> {
        let log = self.inner.events();
        let (c, m) = py
            .detach(|| log.tick_aggregates(since, until, &mut balances))
            .map_err(|e| released(py, e))?;
        let plain = |v: &Vec<i64>| (le_buffer(py, v), None, None, 0);
        let counts = TickCounts::COLUMN_NAMES
            .iter()
            .zip([
                &c.tick,
                &c.arrivals,
                &c.settlements,
                &c.settled_value,
                &c.lsm_settled,
                &c.overdue,
                &c.dropped,
                &c.cost,
                &c.events,
            ])
            .map(|(name, v)| (*name, plain(v)))
            .collect();
        let moves = vec![
            ("tick", plain(&m.tick)),
            (
                "agent_index",
                (le_buffer(py, &m.agent_index), None, None, 0),
            ),
            ("outflow", plain(&m.outflow)),
            ("inflow", plain(&m.inflow)),
            ("balance", plain(&m.balance)),
            ("cost", plain(&m.cost)),
        ];
        Ok((c.tick.len(), counts, m.tick.len(), moves, balances))
    }

    fn release_events_before(&mut self, seq: u64) {
        self.inner.release_events_before(seq);
    }

    fn checkpoint<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let engine = &self.inner;
        let bytes = detached(py, || engine.checkpoint())?;
        Ok(PyBytes::new(py, &bytes))
    }

    #[staticmethod]
    fn restore(py: Python<'_>, config_json: &str, data: &[u8]) -> PyResult<Self> {
        let (text, bytes) = (config_json.to_string(), data.to_vec());
        let inner = detached(py, move || Engine::restore(&text, &bytes))?;
        Ok(PyEngine { inner })
    }

    /// Queues externally supplied arrivals (a JSON list of records); atomic.
    fn inject_arrivals(&mut self, py: Python<'_>, records_json: &str) -> PyResult<()> {
        let records = parse_records(py, records_json)?;
        let engine = &mut self.inner;
        detached(py, || engine.inject_arrivals(&records))
    }

    /// Replaces an agent's policy between ticks (`{document, parameters, source}` JSON).
    fn set_policy(&mut self, py: Python<'_>, agent_id: &str, policy_json: &str) -> PyResult<()> {
        // Read as the engine config is read: a valid policy may nest deeper than serde_json's
        // default recursion limit.
        let policy: paysim_core::config::PolicyCfg = paysim_core::config::parse_value(policy_json)
            .map_err(|e| e.message)
            .and_then(|v| serde_json::from_value(v).map_err(|e| e.to_string()))
            .map_err(|e| {
                errors::to_py(
                    py,
                    EngineError::Policy {
                        agent: agent_id.to_string(),
                        message: format!("invalid policy JSON: {e}"),
                        problems: Vec::new(),
                    },
                )
            })?;
        let engine = &mut self.inner;
        let agent = agent_id.to_string();
        detached(py, move || engine.set_policy(&agent, &policy))
    }
}

/// Runs independent simulations (one normalized config each) on a pool of threads inside the
/// engine, with the GIL released. Returns, per run in input order, `(True, summary_json)` or
/// `(False, error)` with the error already converted to its `paysim` exception.
#[pyfunction]
#[pyo3(signature = (configs, threads=None, arrivals=None))]
fn run_many(
    py: Python<'_>,
    configs: Vec<String>,
    threads: Option<usize>,
    arrivals: Option<Vec<Vec<PyRef<'_, arrivals::ArrivalBatch>>>>,
) -> PyResult<Vec<(bool, Py<PyAny>)>> {
    let mut specs = Vec::with_capacity(configs.len());
    for (i, config_json) in configs.into_iter().enumerate() {
        let batches = arrivals.as_ref().and_then(|a| a.get(i));
        let records = batches.map_or_else(Vec::new, |b| {
            b.iter().flat_map(|batch| batch.all_records()).collect()
        });
        specs.push(paysim_core::engine::many::RunSpec {
            config_json,
            arrivals: records,
        });
    }
    let outcomes = py.detach(|| {
        catch_unwind(AssertUnwindSafe(|| {
            paysim_core::engine::many::run_many(&specs, threads)
        }))
    });
    let outcomes = outcomes.map_err(errors::panic_to_py)?;
    let mut out = Vec::with_capacity(outcomes.len());
    for o in outcomes {
        match o {
            Ok(summary) => out.push((
                true,
                summary.to_string().into_pyobject(py)?.into_any().unbind(),
            )),
            Err(e) => out.push((false, errors::to_py(py, e).into_value(py).into_any())),
        }
    }
    Ok(out)
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(core_version, m)?)?;
    m.add_function(wrap_pyfunction!(event_types, m)?)?;
    m.add_function(wrap_pyfunction!(derive_seed, m)?)?;
    m.add_class::<PyEngine>()?;
    m.add_class::<PyDetailShapes>()?;
    m.add_function(wrap_pyfunction!(run_many, m)?)?;
    arrivals::register(m)?;
    m.add_function(wrap_pyfunction!(policy::validate_policy, m)?)?;
    m.add_function(wrap_pyfunction!(policy::policy_json_schema, m)?)?;
    m.add_function(wrap_pyfunction!(policy::policy_registry, m)?)?;
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
