//! `lightning_db.Transaction`, and `Database.transaction(fn)`, which retries on conflict.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lightning::safe::{Durability, Isolation, Txn};
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use crate::convert::{bytes_like, key_range};
use crate::errors::ConflictError;
use crate::iter::{Items, Kind};
use crate::state::{DbState, Slot};

/// A transaction: reads see the database as of `begin()` plus the transaction's own writes;
/// `commit()` applies the writes atomically, or raises `ConflictError` if a concurrent commit got
/// in the way. In a `with` block it commits when the block ends normally and rolls back if it
/// raises. After `commit()` or `rollback()`, using it raises `ClosedError`.
#[pyclass(frozen, module = "lightning_db")]
pub struct Transaction {
    state: Arc<DbState>,
    txn: Arc<Slot<Txn>>,
    /// Committed or rolled back: a `with` block then has nothing left to do at its end.
    finished: AtomicBool,
}

impl Transaction {
    pub fn new(state: Arc<DbState>, txn: Txn) -> Transaction {
        let txn = state.adopt(txn);
        Transaction {
            state,
            txn,
            finished: AtomicBool::new(false),
        }
    }

    /// Runs `f` with the transaction, with the GIL released.
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&Txn) -> Result<T, lightning::safe::Error> + Send,
    ) -> PyResult<T> {
        self.state.with_child(py, &self.txn, "transaction", f)
    }

    fn iter(
        &self,
        py: Python<'_>,
        range: lightning::safe::KeyRange,
        kind: Kind,
    ) -> PyResult<Items> {
        let iter = self.with(py, |t| t.iter(&range))?;
        Ok(Items::new(self.state.clone(), iter, kind))
    }
}

#[pymethods]
impl Transaction {
    /// The value of `key` as this transaction sees it, or `default`.
    #[pyo3(signature = (key, default = None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let key = bytes_like(key, "key")?;
        let key = key.as_slice();
        let pinned = self.with(py, |t| t.get_pinned(key))?;
        Ok(match pinned {
            Some(v) => Some(PyBytes::new(py, &v).into_any()),
            None => default,
        })
    }

    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.get(py, key, None)?
            .ok_or_else(|| PyKeyError::new_err(key.clone().unbind()))
    }

    fn __setitem__(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        self.put(py, key, value)
    }

    fn __contains__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        let key = bytes_like(key, "key")?;
        let key = key.as_slice();
        // Pinned, not copied: only whether the value exists matters.
        Ok(self.with(py, |t| t.get_pinned(key))?.is_some())
    }

    /// Removes `key` when the transaction commits; `KeyError` if this transaction sees no such
    /// key, as for a dict (the check is a read of the transaction).
    fn __delitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<()> {
        if !self.__contains__(py, key)? {
            return Err(PyKeyError::new_err(key.clone().unbind()));
        }
        self.delete(py, key)
    }

    /// Sets `key` to `value` when the transaction commits.
    fn put(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let (key, value) = (bytes_like(key, "key")?, bytes_like(value, "value")?);
        let (key, value) = (key.as_slice(), value.as_slice());
        self.with(py, |t| t.put(key, value))
    }

    /// Removes `key` when the transaction commits.
    fn delete(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<()> {
        let key = bytes_like(key, "key")?;
        let key = key.as_slice();
        self.with(py, |t| t.delete(key))
    }

    /// `(key, value)` pairs as this transaction sees them, as `Database.items()`.
    #[pyo3(signature = (start = None, end = None, *, prefix = None, reverse = false))]
    fn items(
        &self,
        py: Python<'_>,
        start: Option<&Bound<'_, PyAny>>,
        end: Option<&Bound<'_, PyAny>>,
        prefix: Option<&Bound<'_, PyAny>>,
        reverse: bool,
    ) -> PyResult<Items> {
        self.iter(py, key_range(start, end, prefix, reverse)?, Kind::Items)
    }

    /// Keys, as `items()`.
    #[pyo3(signature = (start = None, end = None, *, prefix = None, reverse = false))]
    fn keys(
        &self,
        py: Python<'_>,
        start: Option<&Bound<'_, PyAny>>,
        end: Option<&Bound<'_, PyAny>>,
        prefix: Option<&Bound<'_, PyAny>>,
        reverse: bool,
    ) -> PyResult<Items> {
        self.iter(py, key_range(start, end, prefix, reverse)?, Kind::Keys)
    }

    /// Values, as `items()`.
    #[pyo3(signature = (start = None, end = None, *, prefix = None, reverse = false))]
    fn values(
        &self,
        py: Python<'_>,
        start: Option<&Bound<'_, PyAny>>,
        end: Option<&Bound<'_, PyAny>>,
        prefix: Option<&Bound<'_, PyAny>>,
        reverse: bool,
    ) -> PyResult<Items> {
        self.iter(py, key_range(start, end, prefix, reverse)?, Kind::Values)
    }

    /// Applies the writes atomically; `ConflictError` if a concurrent commit got in the way.
    fn commit(&self, py: Python<'_>) -> PyResult<()> {
        let result = self.with(py, Txn::commit);
        // A commit finishes the transaction whatever its outcome (a conflict rolls it back).
        self.finished.store(true, Ordering::Release);
        result
    }

    /// Discards the writes.
    fn rollback(&self, py: Python<'_>) -> PyResult<()> {
        let result = self.with(py, Txn::rollback);
        self.finished.store(true, Ordering::Release);
        result
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Commits if the block ended normally, rolls back if it raised.
    #[pyo3(signature = (exc_type, _exc_value, _traceback))]
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: &Bound<'_, PyAny>,
        _exc_value: &Bound<'_, PyAny>,
        _traceback: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        if self.finished.load(Ordering::Acquire) {
            // Committed or rolled back inside the block: nothing left to do.
        } else if exc_type.is_none() {
            self.commit(py)?;
        } else {
            // Already finished (committed or rolled back inside the block) is fine here.
            let _ = self.rollback(py);
        }
        Ok(false)
    }
}

/// `Database.transaction(fn)`: runs `fn(txn)` and commits, again on conflict.
pub fn run_with_retries<'py>(
    py: Python<'py>,
    state: &Arc<DbState>,
    f: &Bound<'py, PyAny>,
    isolation: Isolation,
    max_retries: u32,
    durability: Durability,
) -> PyResult<Bound<'py, PyAny>> {
    let mut attempt = 0u32;
    loop {
        let txn = state.with(py, |db| db.begin(isolation, false, durability))?;
        let txn = Bound::new(py, Transaction::new(state.clone(), txn))?;
        let result = f.call1(PyTuple::new(py, [&txn])?).and_then(|value| {
            // `fn` may have committed or rolled back itself: then there is nothing to commit.
            if txn.get().finished.load(Ordering::Acquire) {
                Ok(value)
            } else {
                txn.get().commit(py).map(|()| value)
            }
        });
        match result {
            Err(e) if e.is_instance_of::<ConflictError>(py) && attempt < max_retries => {
                let _ = txn.get().rollback(py);
                attempt += 1;
                // A short pause growing with the attempts lets colliding transactions drift apart.
                let pause = Duration::from_micros(50u64 << attempt.min(8));
                py.detach(|| std::thread::sleep(pause));
            }
            Err(e) => {
                let _ = txn.get().rollback(py);
                return Err(e);
            }
            Ok(value) => return Ok(value),
        }
    }
}
