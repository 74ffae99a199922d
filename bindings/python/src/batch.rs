//! `lightning_db.WriteBatch`: puts and deletes applied atomically.

use std::sync::Arc;

use lightning::safe::locks::Mutex;
use lightning::safe::Batch;
use pyo3::prelude::*;

use crate::convert::{bytes_like, durability};
use crate::errors;
use crate::state::DbState;

/// Puts and deletes applied atomically, by `Database.write(batch)`, or — for a batch from
/// `Database.write_batch()` used in a `with` block — when the block ends without an exception.
#[pyclass(frozen, module = "lightning_db")]
pub struct WriteBatch {
    batch: Mutex<Batch>,
    /// The database a `with` block applies the batch to, and with which durability.
    target: Option<(Arc<DbState>, Option<bool>)>,
}

impl WriteBatch {
    pub fn bound_to(state: Arc<DbState>, sync: Option<bool>) -> PyResult<WriteBatch> {
        Ok(WriteBatch {
            batch: Mutex::new(Batch::new().map_err(errors::to_py)?),
            target: Some((state, sync)),
        })
    }

    pub fn apply(&self, py: Python<'_>, state: &DbState, sync: Option<bool>) -> PyResult<()> {
        // The batch's own lock is taken with the GIL released too, like the database's.
        state.with(py, |db| {
            let batch = self.batch.lock();
            db.write(&batch, durability(sync))
        })
    }
}

#[pymethods]
impl WriteBatch {
    /// An empty batch, for `Database.write`.
    #[new]
    fn new() -> PyResult<WriteBatch> {
        Ok(WriteBatch {
            batch: Mutex::new(Batch::new().map_err(errors::to_py)?),
            target: None,
        })
    }

    /// Adds a put of `key` → `value`.
    fn put(&self, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let (key, value) = (bytes_like(key, "key")?, bytes_like(value, "value")?);
        self.batch
            .lock()
            .put(key.as_slice(), value.as_slice())
            .map_err(errors::to_py)
    }

    /// Adds a delete of `key`.
    fn delete(&self, key: &Bound<'_, PyAny>) -> PyResult<()> {
        let key = bytes_like(key, "key")?;
        self.batch
            .lock()
            .delete(key.as_slice())
            .map_err(errors::to_py)
    }

    /// Removes every operation.
    fn clear(&self) -> PyResult<()> {
        self.batch.lock().clear().map_err(errors::to_py)
    }

    /// The number of operations.
    fn __len__(&self) -> usize {
        self.batch.lock().len()
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Applies the batch if the block ended normally (and the batch came from
    /// `Database.write_batch()`); discards it if the block raised.
    #[pyo3(signature = (exc_type, _exc_value, _traceback))]
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: &Bound<'_, PyAny>,
        _exc_value: &Bound<'_, PyAny>,
        _traceback: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        if exc_type.is_none() {
            if let Some((state, sync)) = &self.target {
                self.apply(py, state, *sync)?;
            }
        }
        self.clear()?;
        Ok(false)
    }
}
