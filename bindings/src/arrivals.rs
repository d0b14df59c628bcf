//! Columnar arrival batches: the bulk path from arrival-generator plugins into the engine.
//!
//! `paysim.arrivals` normalizes whatever a generator yields (a `pyarrow.RecordBatch`, a dict of
//! columns, a list of records) into fixed Arrow columns and hands their buffers over once per
//! batch: integers as little-endian `i64`, the string columns dictionary-encoded (little-endian
//! `i32` codes into a short list of names, `-1` for null), nullable columns with a validity byte
//! per row. Nothing crosses the boundary per payment: the engine reads the decoded columns
//! directly (`Engine::inject_columns`, the validator of every injected arrival, ENGINE.md §9.3).

use std::panic::{catch_unwind, AssertUnwindSafe};

use paysim_core::engine::inject::InjectColumns;
use paysim_core::engine::InjectRecord;
use paysim_core::EngineError;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::{errors, PyEngine};

/// One batch of arrivals in columnar form, decoded once and injectable into any engine.
#[pyclass(name = "ArrivalBatch", module = "paysim._core", frozen)]
pub struct ArrivalBatch {
    tick: Vec<i64>,
    amount: Vec<i64>,
    deadline_tick: Vec<i64>,
    sender_names: Vec<String>,
    sender: Vec<i32>,
    receiver_names: Vec<String>,
    receiver: Vec<i32>,
    priority: Option<Vec<i64>>,
    priority_valid: Option<Vec<u8>>,
    divisible: Option<Vec<u8>>,
    divisible_valid: Option<Vec<u8>>,
    rtgs_names: Vec<String>,
    rtgs_priority: Option<Vec<i32>>,
}

fn checked_len(name: &str, bytes: &[u8], rows: usize, width: usize) -> PyResult<()> {
    if bytes.len() == rows * width {
        return Ok(());
    }
    Err(PyValueError::new_err(format!(
        "column `{name}`: expected {} bytes for {rows} rows, found {}",
        rows * width,
        bytes.len()
    )))
}

fn i64s(name: &str, bytes: &[u8], rows: usize) -> PyResult<Vec<i64>> {
    checked_len(name, bytes, rows, 8)?;
    Ok(bytes
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect())
}

fn codes(name: &str, bytes: &[u8], rows: usize, names: usize) -> PyResult<Vec<i32>> {
    checked_len(name, bytes, rows, 4)?;
    let out: Vec<i32> = bytes
        .chunks_exact(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
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
    fn name(list: &[String], code: i32) -> Option<String> {
        usize::try_from(code)
            .ok()
            .and_then(|i| list.get(i))
            .cloned()
    }

    /// The batch as the engine's columnar input (no copy).
    fn columns(&self) -> InjectColumns<'_> {
        InjectColumns {
            tick: &self.tick,
            sender_names: &self.sender_names,
            sender: &self.sender,
            receiver_names: &self.receiver_names,
            receiver: &self.receiver,
            amount: &self.amount,
            deadline_tick: &self.deadline_tick,
            priority: self.priority.as_deref(),
            priority_valid: self.priority_valid.as_deref(),
            divisible: self.divisible.as_deref(),
            divisible_valid: self.divisible_valid.as_deref(),
            rtgs_names: &self.rtgs_names,
            rtgs_priority: self.rtgs_priority.as_deref(),
        }
    }

    /// Every record of the batch as rows (for `run_many`, whose runs own their arrivals).
    pub fn all_records(&self) -> Vec<InjectRecord> {
        let flag = |v: &Option<Vec<u8>>, i: usize| v.as_ref().is_none_or(|m| m[i] != 0);
        (0..self.tick.len())
            .map(|i| InjectRecord {
                tick: self.tick[i],
                sender: Self::name(&self.sender_names, self.sender[i]).unwrap_or_default(),
                receiver: Self::name(&self.receiver_names, self.receiver[i]).unwrap_or_default(),
                amount: self.amount[i],
                deadline_tick: self.deadline_tick[i],
                priority: self
                    .priority
                    .as_ref()
                    .filter(|_| flag(&self.priority_valid, i))
                    .map(|p| p[i]),
                divisible: self
                    .divisible
                    .as_ref()
                    .filter(|_| flag(&self.divisible_valid, i))
                    .map(|d| d[i] != 0),
                rtgs_priority: self
                    .rtgs_priority
                    .as_ref()
                    .and_then(|r| Self::name(&self.rtgs_names, r[i])),
            })
            .collect()
    }
}

#[pymethods]
impl ArrivalBatch {
    #[new]
    #[pyo3(signature = (
        rows, tick, amount, deadline_tick, sender_names, sender, receiver_names, receiver,
        priority=None, priority_valid=None, divisible=None, divisible_valid=None,
        rtgs_names=Vec::new(), rtgs_priority=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        rows: usize,
        tick: &[u8],
        amount: &[u8],
        deadline_tick: &[u8],
        sender_names: Vec<String>,
        sender: &[u8],
        receiver_names: Vec<String>,
        receiver: &[u8],
        priority: Option<&[u8]>,
        priority_valid: Option<&[u8]>,
        divisible: Option<&[u8]>,
        divisible_valid: Option<&[u8]>,
        rtgs_names: Vec<String>,
        rtgs_priority: Option<&[u8]>,
    ) -> PyResult<Self> {
        Ok(ArrivalBatch {
            tick: i64s("tick", tick, rows)?,
            amount: i64s("amount", amount, rows)?,
            deadline_tick: i64s("deadline_tick", deadline_tick, rows)?,
            sender: codes("sender", sender, rows, sender_names.len())?,
            sender_names,
            receiver: codes("receiver", receiver, rows, receiver_names.len())?,
            receiver_names,
            priority: priority.map(|p| i64s("priority", p, rows)).transpose()?,
            priority_valid: bytes_of("priority", priority_valid, rows)?,
            divisible: bytes_of("divisible", divisible, rows)?,
            divisible_valid: bytes_of("divisible", divisible_valid, rows)?,
            rtgs_priority: rtgs_priority
                .map(|r| codes("rtgs_priority", r, rows, rtgs_names.len()))
                .transpose()?,
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
    let columns = batch.columns();
    let inner = &mut engine.inner;
    let outcome = py.detach(|| catch_unwind(AssertUnwindSafe(|| inner.inject_columns(&columns))));
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
