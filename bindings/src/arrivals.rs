//! Columnar arrival batches: the bulk path from arrival-generator plugins into the engine.
//!
//! `paysim.arrivals` normalizes whatever a generator yields (a `pyarrow.RecordBatch`, a dict of
//! columns, a list of records) into fixed Arrow columns and hands their buffers over once per
//! batch: integers as little-endian `i64`, the string columns dictionary-encoded (little-endian
//! `i32` codes into a short list of names, `-1` for null), nullable columns with a validity byte
//! per row. Nothing crosses the boundary per payment; the conversion to engine records happens
//! here, in Rust, and `inject_arrivals` then validates the batch as a whole (ENGINE.md §9.3).

use std::panic::{catch_unwind, AssertUnwindSafe};

use paysim_core::engine::InjectRecord;
use paysim_core::EngineError;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::{errors, PyEngine};

/// One batch of arrivals in columnar form, decoded once and injectable into any engine.
#[pyclass(name = "ArrivalBatch", module = "paysim._core", frozen)]
pub struct ArrivalBatch {
    names: Vec<String>,
    tick: Vec<i64>,
    sender: Vec<i32>,
    receiver: Vec<i32>,
    amount: Vec<i64>,
    deadline_tick: Vec<i64>,
    priority: Vec<i64>,
    priority_valid: Option<Vec<u8>>,
    divisible: Vec<u8>,
    divisible_valid: Option<Vec<u8>>,
    rtgs_names: Vec<String>,
    rtgs_priority: Vec<i32>,
}

fn words<const N: usize>(name: &str, bytes: &[u8], rows: usize) -> PyResult<Vec<[u8; N]>> {
    if bytes.len() != rows * N {
        return Err(PyValueError::new_err(format!(
            "column `{name}`: expected {} bytes for {rows} rows, found {}",
            rows * N,
            bytes.len()
        )));
    }
    Ok(bytes
        .chunks_exact(N)
        .map(|c| {
            let mut w = [0u8; N];
            w.copy_from_slice(c);
            w
        })
        .collect())
}

fn i64s(name: &str, bytes: &[u8], rows: usize) -> PyResult<Vec<i64>> {
    Ok(words::<8>(name, bytes, rows)?
        .into_iter()
        .map(i64::from_le_bytes)
        .collect())
}

fn codes(name: &str, bytes: &[u8], rows: usize, names: usize) -> PyResult<Vec<i32>> {
    let out: Vec<i32> = words::<4>(name, bytes, rows)?
        .into_iter()
        .map(i32::from_le_bytes)
        .collect();
    if let Some(bad) = out.iter().find(|&&c| c < -1 || c >= names as i32) {
        return Err(PyValueError::new_err(format!(
            "column `{name}`: code {bad} outside the {names} names given"
        )));
    }
    Ok(out)
}

fn bytes_of(name: &str, bytes: Option<&[u8]>, rows: usize) -> PyResult<Option<Vec<u8>>> {
    match bytes {
        None => Ok(None),
        Some(b) if b.len() == rows => Ok(Some(b.to_vec())),
        Some(b) => Err(PyValueError::new_err(format!(
            "column `{name}`: expected {rows} bytes, found {}",
            b.len()
        ))),
    }
}

impl ArrivalBatch {
    fn name(&self, list: &[String], code: i32) -> Option<String> {
        usize::try_from(code).ok().and_then(|i| list.get(i)).cloned()
    }

    /// The engine records of rows `start..end`.
    fn records(&self, start: usize, end: usize) -> Vec<InjectRecord> {
        let valid = |v: &Option<Vec<u8>>, i: usize| v.as_ref().is_none_or(|m| m[i] != 0);
        (start..end)
            .map(|i| InjectRecord {
                tick: self.tick[i],
                sender: self.name(&self.names, self.sender[i]).unwrap_or_default(),
                receiver: self.name(&self.names, self.receiver[i]).unwrap_or_default(),
                amount: self.amount[i],
                deadline_tick: self.deadline_tick[i],
                priority: valid(&self.priority_valid, i).then(|| self.priority[i]),
                divisible: valid(&self.divisible_valid, i).then(|| self.divisible[i] != 0),
                rtgs_priority: self.name(&self.rtgs_names, self.rtgs_priority[i]),
            })
            .collect()
    }

    /// Every record of the batch.
    pub fn all_records(&self) -> Vec<InjectRecord> {
        self.records(0, self.tick.len())
    }
}

#[pymethods]
impl ArrivalBatch {
    #[new]
    #[pyo3(signature = (
        rows, names, tick, sender, receiver, amount, deadline_tick, priority, priority_valid,
        divisible, divisible_valid, rtgs_names, rtgs_priority
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        rows: usize,
        names: Vec<String>,
        tick: &[u8],
        sender: &[u8],
        receiver: &[u8],
        amount: &[u8],
        deadline_tick: &[u8],
        priority: &[u8],
        priority_valid: Option<&[u8]>,
        divisible: &[u8],
        divisible_valid: Option<&[u8]>,
        rtgs_names: Vec<String>,
        rtgs_priority: &[u8],
    ) -> PyResult<Self> {
        let n = names.len();
        Ok(ArrivalBatch {
            tick: i64s("tick", tick, rows)?,
            sender: codes("sender", sender, rows, n)?,
            receiver: codes("receiver", receiver, rows, n)?,
            amount: i64s("amount", amount, rows)?,
            deadline_tick: i64s("deadline_tick", deadline_tick, rows)?,
            priority: i64s("priority", priority, rows)?,
            priority_valid: bytes_of("priority", priority_valid, rows)?,
            divisible: bytes_of("divisible", Some(divisible), rows)?.unwrap_or_default(),
            divisible_valid: bytes_of("divisible", divisible_valid, rows)?,
            rtgs_priority: codes("rtgs_priority", rtgs_priority, rows, rtgs_names.len())?,
            names,
            rtgs_names,
        })
    }

    fn __len__(&self) -> usize {
        self.tick.len()
    }
}

/// Queues one batch of arrivals in the engine; atomic (one bad record rejects the batch). An
/// invalid record raises `ScenarioError` with `record_index` and `record_field` set.
#[pyfunction]
pub(crate) fn inject_arrival_batch(
    py: Python<'_>,
    mut engine: PyRefMut<'_, PyEngine>,
    batch: PyRef<'_, ArrivalBatch>,
) -> PyResult<()> {
    let records = batch.all_records();
    let inner = &mut engine.inner;
    let outcome = py.detach(|| catch_unwind(AssertUnwindSafe(|| inner.inject_arrivals(&records))));
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(EngineError::Inject(e))) => {
            let (index, field) = (e.index, e.field);
            let err = errors::to_py(py, EngineError::Inject(e));
            let value = err.value(py);
            value.setattr("record_index", index)?;
            value.setattr("record_field", field)?;
            Err(err)
        }
        Ok(Err(e)) => Err(errors::to_py(py, e)),
        Err(panic) => Err(errors::panic_to_py(panic)),
    }
}

/// Adds the columnar arrival path to the extension module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ArrivalBatch>()?;
    m.add_function(wrap_pyfunction!(inject_arrival_batch, m)?)?;
    Ok(())
}
