//! `ldb_bulk_load`: sorted pairs written straight into the tree, atomically.

use lightning_db::locks::Mutex;
use lightning_db::{BulkLoad, Error, ErrorCode};

use crate::args::{handle, key_bytes, out, value_bytes};
use crate::db::ldb_db;
use crate::status::{guard, guard_value, ldb_status};

/// A bulk load. Thread-safe, though one thread at a time is the usual use. After
/// `ldb_bulk_load_commit` or `ldb_bulk_load_abort` it is finished: further calls return
/// `LDB_CLOSED`, and it must still be released with `ldb_bulk_load_free`.
#[allow(non_camel_case_types)]
pub struct ldb_bulk_load {
    inner: Mutex<Option<BulkLoad>>,
}

impl ldb_bulk_load {
    fn take(&self) -> Result<BulkLoad, Error> {
        self.inner.lock().take().ok_or_else(finished)
    }
}

fn finished() -> Error {
    Error::new(
        ErrorCode::Closed,
        "the bulk load was committed or aborted already",
    )
}

/// Starts a bulk load: pairs given in strictly ascending key order go straight into the tree
/// (not through the WAL and the memtable), with memory bounded by a chunk of a few MiB however
/// many come. `ldb_bulk_load_commit` makes them all durable and visible at once. Until the load
/// is finished it is the database's only writer: other writes, `ldb_flush`, `ldb_compact` and a
/// second `ldb_bulk_load_begin` return `LDB_BUSY`; reads go on and see the database as before.
/// Release it with `ldb_bulk_load_free`.
///
/// # Safety
/// `db` must be a live handle; `load_out` writable.
#[no_mangle]
pub unsafe extern "C" fn ldb_bulk_load_begin(
    db: *const ldb_db,
    load_out: *mut *mut ldb_bulk_load,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (db, load_out) = unsafe { (handle(db, "db")?, out(load_out, "load_out")?) };
        let load = db.with(|db| db.bulk_load())?;
        *load_out = Box::into_raw(Box::new(ldb_bulk_load {
            inner: Mutex::new(Some(load)),
        }));
        Ok(())
    })
}

/// Adds a pair; it replaces a value the key has in the database. `LDB_INVALID_ARGUMENT` if the
/// key does not sort after the previous one's (the load goes on without this pair).
///
/// # Safety
/// `load` must be a live handle; `key`/`value` as in `ldb_put`.
#[no_mangle]
pub unsafe extern "C" fn ldb_bulk_load_put(
    load: *const ldb_bulk_load,
    key: *const u8,
    key_len: usize,
    value: *const u8,
    value_len: usize,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (load, key, value) = unsafe {
            (
                handle(load, "load")?,
                key_bytes(key, key_len)?,
                value_bytes(value, value_len)?,
            )
        };
        match &mut *load.inner.lock() {
            Some(l) => l.put(key, value),
            None => Err(finished()),
        }
    })
}

/// Commits: every pair becomes durable and visible at once, and other writers may write again.
/// Either way the load is finished (a failed one is abandoned).
///
/// # Safety
/// `load` must be a live handle.
#[no_mangle]
pub unsafe extern "C" fn ldb_bulk_load_commit(load: *const ldb_bulk_load) -> ldb_status {
    // SAFETY: per this function's contract.
    guard(|| unsafe { handle(load, "load") }?.take()?.commit())
}

/// Abandons the load: nothing it was given is written, and other writers may write again.
/// `LDB_CLOSED` if it was finished already.
///
/// # Safety
/// `load` must be a live handle.
#[no_mangle]
pub unsafe extern "C" fn ldb_bulk_load_abort(load: *const ldb_bulk_load) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        drop(unsafe { handle(load, "load") }?.take()?);
        Ok(())
    })
}

/// Releases a bulk load, abandoning it if it is not finished. NULL is fine; never twice.
///
/// # Safety
/// `load` must be NULL or a live handle from `ldb_bulk_load_begin`, not in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn ldb_bulk_load_free(load: *mut ldb_bulk_load) {
    if !load.is_null() {
        guard_value((), || {
            // SAFETY: a handle from `Box::into_raw` in `ldb_bulk_load_begin`, freed once.
            drop(unsafe { Box::from_raw(load) })
        });
    }
}
