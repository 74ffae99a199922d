//! `lightning_db.Database`: the handle Python code holds.

use std::mem::MaybeUninit;
use std::sync::Arc;

use lightning::safe::{Db, KeyRange, ReadInto};
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::batch::WriteBatch;
use crate::bulk_load::BulkLoad;
use crate::convert::{bytes_like, durability, key_range};
use crate::errors;
use crate::iter::{Items, Kind};
use crate::snapshot::Snapshot;
use crate::state::DbState;
use crate::txn::{run_with_retries, Transaction};

/// Opens (or creates) the database in directory `path`. Options are keyword arguments by name,
/// as strings, ints or bools: `open("my.db", cache_size="256MiB", sync=False)`.
#[pyfunction]
#[pyo3(signature = (path, **options))]
pub fn open(
    py: Python<'_>,
    path: std::path::PathBuf,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<Database> {
    let pairs = crate::convert::options(options)?;
    let path_text = path
        .to_str()
        .ok_or_else(|| pyo3::exceptions::PyValueError::new_err("the path must be valid UTF-8"))?
        .to_string();
    let db = py
        .detach(|| {
            let pairs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            Db::open(&path_text, &pairs)
        })
        .map_err(errors::to_py)?;
    Ok(Database {
        state: Arc::new(DbState::new(db)),
        path: path_text,
    })
}

/// An open database. Safe to share between threads. Keys and values are bytes-like (`bytes`,
/// `bytearray`, `memoryview`); values come back as `bytes`. Closed by `close()`, by leaving a
/// `with` block, or when garbage-collected; using it afterwards raises `ClosedError`.
///
/// After `os.fork()` (or a `multiprocessing` fork worker), every object the child inherited
/// raises `ClosedError`: the child must open the database again itself. The inherited handles
/// are left to the parent, never closed by the child; while the parent keeps the database open,
/// the child's own `open` of the same path raises `LockedError`.
#[pyclass(frozen, module = "lightning_db")]
pub struct Database {
    pub(crate) state: Arc<DbState>,
    path: String,
}

impl Database {
    fn iter(&self, py: Python<'_>, range: KeyRange, kind: Kind) -> PyResult<Items> {
        let iter = self.state.with(py, |db| db.iter(&range))?;
        Ok(Items::new(self.state.clone(), iter, kind))
    }
}

/// Values up to this size are read by copying into a buffer on the stack, with no allocation
/// on the engine's side; longer ones through a pinned handle.
const READ_BUFFER: usize = 2048;

/// The value of `key` as `bytes`, or `None`.
pub(crate) fn get_value<'py>(
    py: Python<'py>,
    state: &DbState,
    key: &Bound<'py, PyAny>,
) -> PyResult<Option<Bound<'py, PyBytes>>> {
    let key = bytes_like(key, "key")?;
    let key = key.as_slice();
    let mut buf = [MaybeUninit::<u8>::uninit(); READ_BUFFER];
    // A value that fits the buffer (most do) is read keeping the GIL; a longer one is copied
    // with it released.
    match state.read_holding_gil(py, |db| db.get_into(key, &mut buf))? {
        ReadInto::Absent => Ok(None),
        ReadInto::Copied(value) => Ok(Some(PyBytes::new(py, value))),
        ReadInto::TooLong(_) => {
            let pinned = state.with(py, |db| db.get_pinned(key))?;
            Ok(pinned.map(|v| PyBytes::new(py, &v)))
        }
    }
}

#[pymethods]
impl Database {
    /// The value of `key` as bytes, or `default` if absent.
    #[pyo3(signature = (key, default = None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        Ok(match get_value(py, &self.state, key)? {
            Some(v) => Some(v.into_any()),
            None => default,
        })
    }

    /// Sets `key` to `value`. `sync=True` returns after fsync, `False` after handing the write to
    /// the OS; `None` uses the database's option `sync`.
    #[pyo3(signature = (key, value, *, sync = None))]
    fn put(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
        sync: Option<bool>,
    ) -> PyResult<()> {
        let (key, value) = (bytes_like(key, "key")?, bytes_like(value, "value")?);
        let (key, value) = (key.as_slice(), value.as_slice());
        self.state
            .with(py, |db| db.put(key, value, durability(sync)))
    }

    /// Removes `key`; an absent key is fine.
    #[pyo3(signature = (key, *, sync = None))]
    fn delete(&self, py: Python<'_>, key: &Bound<'_, PyAny>, sync: Option<bool>) -> PyResult<()> {
        let key = bytes_like(key, "key")?;
        let key = key.as_slice();
        self.state.with(py, |db| db.delete(key, durability(sync)))
    }

    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        get_value(py, &self.state, key)?.ok_or_else(|| PyKeyError::new_err(key.clone().unbind()))
    }

    fn __setitem__(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        self.put(py, key, value, None)
    }

    /// Removes `key`; `KeyError` if it is absent, as for a dict.
    fn __delitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<()> {
        if !self.__contains__(py, key)? {
            return Err(PyKeyError::new_err(key.clone().unbind()));
        }
        self.delete(py, key, None)
    }

    fn __contains__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        let key = bytes_like(key, "key")?;
        let key = key.as_slice();
        let found = self
            .state
            .read_holding_gil(py, |db| db.get_into(key, &mut []))?;
        Ok(found != ReadInto::Absent)
    }

    /// A batch bound to this database: in a `with` block it is applied atomically when the block
    /// ends normally, and discarded if it raises.
    #[pyo3(signature = (*, sync = None))]
    fn write_batch(&self, py: Python<'_>, sync: Option<bool>) -> PyResult<WriteBatch> {
        self.state.check_open(py)?;
        WriteBatch::bound_to(self.state.clone(), sync)
    }

    /// Applies `batch` atomically.
    #[pyo3(signature = (batch, *, sync = None))]
    fn write(&self, py: Python<'_>, batch: &WriteBatch, sync: Option<bool>) -> PyResult<()> {
        batch.apply(py, &self.state, sync)
    }

    /// `(key, value)` pairs in key order (or reversed) from `start` (inclusive) to `end`
    /// (exclusive), or with `prefix`; lazy, and seeing one point in time.
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

    /// Iterates over the keys, as a dict does.
    fn __iter__(&self, py: Python<'_>) -> PyResult<Items> {
        self.iter(py, KeyRange::default(), Kind::Keys)
    }

    /// A consistent read-only view as of now.
    fn snapshot(&self, py: Python<'_>) -> PyResult<Snapshot> {
        let snapshot = self.state.with(py, |db| db.snapshot())?;
        Ok(Snapshot::new(self.state.clone(), snapshot))
    }

    /// Begins a transaction: `isolation` is "snapshot" (default) or "serializable".
    #[pyo3(signature = (*, isolation = "snapshot", read_only = false, sync = None))]
    fn begin(
        &self,
        py: Python<'_>,
        isolation: &str,
        read_only: bool,
        sync: Option<bool>,
    ) -> PyResult<Transaction> {
        let isolation = crate::convert::isolation(isolation)?;
        let txn = self
            .state
            .with(py, |db| db.begin(isolation, read_only, durability(sync)))?;
        Ok(Transaction::new(self.state.clone(), txn))
    }

    /// Calls `fn(txn)` in a new transaction and commits it; on `ConflictError` runs it again, up
    /// to `max_retries` more times. Returns what `fn` returned. `fn` may run more than once.
    #[pyo3(signature = (r#fn, *, isolation = "snapshot", max_retries = 10, sync = None))]
    fn transaction<'py>(
        &self,
        py: Python<'py>,
        r#fn: &Bound<'py, PyAny>,
        isolation: &str,
        max_retries: u32,
        sync: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let isolation = crate::convert::isolation(isolation)?;
        run_with_retries(
            py,
            &self.state,
            r#fn,
            isolation,
            max_retries,
            durability(sync),
        )
    }

    /// Begins a bulk load: pairs in strictly ascending key order, written straight into the
    /// tree and made visible at once by `commit()`. Until it is finished it is the database's
    /// only writer (other writes, `flush()`, `compact()`: `BusyError`); reads see the database
    /// as before it. In a `with` block it commits when the block ends normally.
    fn bulk_load(&self, py: Python<'_>) -> PyResult<BulkLoad> {
        let load = self.state.with(py, |db| db.bulk_load())?;
        Ok(BulkLoad::new(self.state.clone(), load))
    }

    /// Makes every write so far durable, including buffered ones.
    fn sync(&self, py: Python<'_>) -> PyResult<()> {
        self.state.with(py, |db| db.sync())
    }

    /// Merges everything in memory into the page file.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        self.state.with(py, |db| db.flush())
    }

    /// Gives the page file's free space back to the file system while the database stays open
    /// (merging what is in memory first); returns the bytes the file shrank by. Pages an open
    /// snapshot, iterator or transaction still reads stay until it is closed.
    fn compact(&self, py: Python<'_>) -> PyResult<u64> {
        self.state.with(py, |db| db.compact())
    }

    /// Changes an encrypted database's key: to the `encryption_key` or the `passphrase` given
    /// (with `kdf` and its costs for a passphrase), as keyword arguments like `open`'s; other
    /// options are ignored. Only the wrapped data key is rewritten, atomically: if it fails, the
    /// old key still opens the database. `InvalidArgumentError` for a database that is not
    /// encrypted, `InvalidOptionError` without a new key or passphrase (or with both).
    #[pyo3(signature = (**options))]
    fn rekey(&self, py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
        let pairs = crate::convert::options(options)?;
        self.state.with(py, |db| {
            let pairs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            db.rekey(&pairs)
        })
    }

    /// Counters and sizes, as a dict of ints (and `background_error`, a str, if set).
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let text = self.state.with(py, |db| db.stats())?;
        name_value_dict(py, &text)
    }

    /// Reads and checks every page and WAL record; returns what it checked, or raises
    /// `CorruptionError` naming the fault.
    fn verify<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let text = self.state.with(py, |db| db.verify())?;
        name_value_dict(py, &text)
    }

    /// Closes the database; closing twice is fine.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.state.close(py)
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self, py: Python<'_>) -> bool {
        !self.state.is_open(py)
    }

    /// The directory the database lives in.
    #[getter]
    fn path(&self) -> &str {
        &self.path
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let state = if self.state.is_open(py) {
            "open"
        } else {
            "closed"
        };
        format!("<lightning_db.Database {:?} ({state})>", self.path)
    }
}

/// `name=value` lines as a dict: ints where the value is a number, str otherwise.
fn name_value_dict<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for line in text.lines() {
        if let Some((name, value)) = line.split_once('=') {
            match value.parse::<u64>() {
                Ok(n) => dict.set_item(name, n)?,
                Err(_) => dict.set_item(name, value)?,
            }
        }
    }
    Ok(dict)
}
