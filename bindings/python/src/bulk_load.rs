//! `lightning_db.BulkLoad`: sorted pairs written straight into the tree, made visible at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use lightning::safe::BulkLoad as Load;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::convert::{bytes_like, Buf};
use crate::errors;
use crate::state::{DbState, Slot};

/// `put_many` hands pairs to the engine in groups of at most this many pairs or bytes, so the
/// GIL is released once per group rather than once per pair, and memory stays bounded.
const GROUP_PAIRS: usize = 1024;
const GROUP_BYTES: usize = 1 << 20;

/// A bulk load, from `Database.bulk_load()`: pairs given in strictly ascending key order
/// (bytewise) go straight into the tree, with bounded memory however many come; `commit()` makes
/// them all durable and visible at once, `abort()` drops them. A key that does not sort after
/// the previous one raises `InvalidArgumentError` and the load goes on without that pair.
///
/// Until the load is finished it is the database's only writer: other writes, `flush()`,
/// `compact()` and a second `bulk_load()` raise `BusyError`; reads go on and see the database as
/// before the load. In a `with` block it commits when the block ends normally and aborts if it
/// raises. After `commit()` or `abort()`, or once the database is closed, using it raises
/// `ClosedError`; dropped unfinished, it is aborted.
#[pyclass(frozen, module = "lightning_db")]
pub struct BulkLoad {
    state: Arc<DbState>,
    load: Arc<Slot<Load>>,
    /// Committed or aborted: a `with` block then has nothing left to do at its end.
    finished: AtomicBool,
}

impl BulkLoad {
    pub fn new(state: Arc<DbState>, load: Load) -> BulkLoad {
        let load = state.adopt(load);
        BulkLoad {
            state,
            load,
            finished: AtomicBool::new(false),
        }
    }

    /// Runs `f` with the load, with the GIL released.
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&Load) -> Result<T, lightning::safe::Error> + Send,
    ) -> PyResult<T> {
        self.state.with_child(py, &self.load, "bulk load", f)
    }

    /// Puts a group of pairs with the GIL released once; on a failure, the pairs before it are
    /// in the load and the error names the failing pair by its index (`first` is the group's).
    fn put_group(
        &self,
        py: Python<'_>,
        group: &[(Buf<'_>, Buf<'_>)],
        first: usize,
    ) -> PyResult<()> {
        if group.is_empty() {
            return Ok(());
        }
        let pairs: Vec<(&[u8], &[u8])> = group
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
            .collect();
        let failed = self.with(py, |load| {
            for (i, (key, value)) in pairs.iter().enumerate() {
                if let Err(e) = load.put(key, value) {
                    return Ok(Some((first + i, e)));
                }
            }
            Ok(None)
        })?;
        match failed {
            None => Ok(()),
            Some((index, e)) => Err(errors::make(
                py,
                e.status,
                e.name(),
                &format!("pair {index}: {}", e.message),
            )),
        }
    }
}

/// `item` as a `(key, value)` pair, or a `TypeError`.
fn pair<'py>(item: &Bound<'py, PyAny>) -> PyResult<(Buf<'py>, Buf<'py>)> {
    match item.cast::<PyTuple>() {
        Ok(t) if t.len() == 2 => Ok((
            bytes_like(&t.get_item(0)?, "key")?,
            bytes_like(&t.get_item(1)?, "value")?,
        )),
        _ => {
            let type_name = item.get_type().name()?;
            Err(PyTypeError::new_err(format!(
                "pairs must be (key, value) tuples, not {type_name}"
            )))
        }
    }
}

#[pymethods]
impl BulkLoad {
    /// Adds `key` → `value` (replacing a value the key has in the database); `key` must sort
    /// after the previous pair's key, or `InvalidArgumentError` (the load goes on without it).
    fn put(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let (key, value) = (bytes_like(key, "key")?, bytes_like(value, "value")?);
        let (key, value) = (key.as_slice(), value.as_slice());
        self.with(py, |l| l.put(key, value))
    }

    /// Adds every `(key, value)` pair of an iterable, in its order, as `put` would one by one
    /// (but with far fewer calls into the engine). Stops at the first pair that fails and
    /// raises its error (the message says which pair, counting from 0); the pairs before it
    /// are in the load, the ones after it are not.
    fn put_many(&self, py: Python<'_>, pairs: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut group: Vec<(Buf<'_>, Buf<'_>)> = Vec::with_capacity(GROUP_PAIRS);
        let mut group_bytes = 0;
        let mut first = 0;
        for item in pairs.try_iter()? {
            // A bad pair, or an iterable that raises: what came before it goes in first.
            let (key, value) = match item.and_then(|item| pair(&item)) {
                Ok(p) => p,
                Err(e) => {
                    self.put_group(py, &group, first)?;
                    return Err(e);
                }
            };
            group_bytes += key.as_slice().len() + value.as_slice().len();
            group.push((key, value));
            if group.len() >= GROUP_PAIRS || group_bytes >= GROUP_BYTES {
                self.put_group(py, &group, first)?;
                first += group.len();
                group.clear();
                group_bytes = 0;
            }
        }
        self.put_group(py, &group, first)
    }

    /// Makes every pair durable and visible at once. The load is finished either way (a failed
    /// commit abandons it).
    fn commit(&self, py: Python<'_>) -> PyResult<()> {
        let result = self.with(py, Load::commit);
        self.finished.store(true, Ordering::Release);
        result
    }

    /// Abandons the load: nothing it was given is written.
    fn abort(&self, py: Python<'_>) -> PyResult<()> {
        let result = self.with(py, Load::abort);
        self.finished.store(true, Ordering::Release);
        result
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Commits if the block ended normally, aborts if it raised.
    #[pyo3(signature = (exc_type, _exc_value, _traceback))]
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: &Bound<'_, PyAny>,
        _exc_value: &Bound<'_, PyAny>,
        _traceback: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        if self.finished.load(Ordering::Acquire) {
            // Committed or aborted inside the block: nothing left to do.
        } else if exc_type.is_none() {
            self.commit(py)?;
        } else {
            // The block's exception is the one to see; the load is abandoned either way.
            let _ = self.abort(py);
        }
        Ok(false)
    }
}
