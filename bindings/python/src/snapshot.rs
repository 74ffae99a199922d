//! `lightning_db.Snapshot`: a read-only view as of one moment.

use std::sync::Arc;

use lightning::safe::KeyRange;
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use crate::convert::{bytes_like, key_range};
use crate::iter::{Items, Kind};
use crate::state::{DbState, Slot};

/// A consistent read-only view of the database as of the moment it was taken. It never blocks
/// writers. Release it with `close()` or a `with` block; using it afterwards (or after the
/// database is closed) raises `ClosedError`.
#[pyclass(frozen, module = "lightning_db")]
pub struct Snapshot {
    state: Arc<DbState>,
    snapshot: Arc<Slot<lightning::safe::Snapshot>>,
}

impl Snapshot {
    pub fn new(state: Arc<DbState>, snapshot: lightning::safe::Snapshot) -> Snapshot {
        let snapshot = state.adopt(snapshot);
        Snapshot { state, snapshot }
    }

    fn iter(&self, py: Python<'_>, range: KeyRange, kind: Kind) -> PyResult<Items> {
        let iter = self
            .state
            .with_child(py, &self.snapshot, "snapshot", |s| s.iter(&range))?;
        Ok(Items::new(self.state.clone(), iter, kind))
    }
}

#[pymethods]
impl Snapshot {
    /// The value of `key` in the snapshot, or `default`.
    #[pyo3(signature = (key, default = None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let key = bytes_like(key, "key")?;
        let key = key.as_slice();
        let pinned = self
            .state
            .with_child(py, &self.snapshot, "snapshot", |s| s.get_pinned(key))?;
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

    fn __contains__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        let key = bytes_like(key, "key")?;
        let key = key.as_slice();
        // Pinned, not copied: only whether the value exists matters.
        let pinned = self
            .state
            .with_child(py, &self.snapshot, "snapshot", |s| s.get_pinned(key))?;
        Ok(pinned.is_some())
    }

    /// `(key, value)` pairs, as `Database.items()`.
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

    /// Keys, as `Database.keys()`.
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

    /// Values, as `Database.values()`.
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

    /// The sequence number of the last write the snapshot sees.
    #[getter]
    fn sequence(&self, py: Python<'_>) -> PyResult<u64> {
        self.state
            .with_child(py, &self.snapshot, "snapshot", |s| Ok(s.sequence()))
    }

    /// Releases the snapshot; closing twice is fine.
    fn close(&self) {
        self.snapshot.clear();
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, _exc: &Bound<'_, PyTuple>) -> bool {
        self.close();
        false
    }
}
