//! `ldb_txn`: transactions.

use lightning_db::locks::Mutex;
use lightning_db::{Error, ErrorCode, Isolation, Transaction, TransactionOptions};

use crate::args::{copy_out, handle, invalid, key_bytes, out, store_value, value_bytes};
use crate::db::ldb_db;
use crate::ldb_durability;
use crate::pinned::ldb_pinned;
use crate::status::{guard, guard_value, ldb_status};

/// Isolation level of a transaction (`ldb_isolation`).
#[allow(non_camel_case_types)]
pub type ldb_isolation = i32;
/// Snapshot isolation: a commit fails if a key it writes was written since it began.
pub const LDB_ISOLATION_SNAPSHOT: ldb_isolation = 0;
/// Serializable: also fails if a key it read, or a range it iterated, was written since.
pub const LDB_ISOLATION_SERIALIZABLE: ldb_isolation = 1;

/// A transaction. Thread-safe, though one thread at a time is the usual use. After
/// `ldb_txn_commit` or `ldb_txn_rollback` it is finished: further calls return `LDB_CLOSED`,
/// and it must still be released with `ldb_txn_free`.
#[allow(non_camel_case_types)]
pub struct ldb_txn {
    inner: Mutex<Option<Transaction>>,
}

impl ldb_txn {
    /// Runs `f` with the transaction, or fails with `LDB_CLOSED` if it is finished.
    pub(crate) fn with<R>(
        &self,
        f: impl FnOnce(&Transaction) -> Result<R, Error>,
    ) -> Result<R, Error> {
        match &*self.inner.lock() {
            Some(txn) => f(txn),
            None => Err(finished()),
        }
    }

    fn take(&self) -> Result<Transaction, Error> {
        self.inner.lock().take().ok_or_else(finished)
    }
}

fn finished() -> Error {
    Error::new(
        ErrorCode::Closed,
        "the transaction was committed or rolled back already",
    )
}

/// Begins a transaction: `isolation` is an `LDB_ISOLATION_*`, `read_only` forbids writes (and a
/// read-only transaction never conflicts), `durability` applies to the commit. Release it with
/// `ldb_txn_free`. `LDB_BUSY` if `max_active_transactions` are open.
///
/// # Safety
/// `db` must be a live handle; `txn_out` writable.
#[no_mangle]
pub unsafe extern "C" fn ldb_txn_begin(
    db: *const ldb_db,
    isolation: ldb_isolation,
    read_only: bool,
    durability: ldb_durability,
    txn_out: *mut *mut ldb_txn,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (db, txn_out) = unsafe { (handle(db, "db")?, out(txn_out, "txn_out")?) };
        let isolation = match isolation {
            LDB_ISOLATION_SNAPSHOT => Isolation::Snapshot,
            LDB_ISOLATION_SERIALIZABLE => Isolation::Serializable,
            other => {
                return Err(invalid(format!(
                    "isolation {other} is not LDB_ISOLATION_SNAPSHOT (0) or \
                     LDB_ISOLATION_SERIALIZABLE (1)"
                )))
            }
        };
        let mut options = TransactionOptions::new()
            .isolation(isolation)
            .read_only(read_only);
        if let Some(d) = crate::args::durability(durability)? {
            options = options.durability(d);
        }
        let txn = db.with(|db| db.begin_with(&options))?;
        *txn_out = Box::into_raw(Box::new(ldb_txn {
            inner: Mutex::new(Some(txn)),
        }));
        Ok(())
    })
}

/// Reads `key` as the transaction sees it; as `ldb_get`.
///
/// # Safety
/// `txn` must be a live handle; the rest as in `ldb_get`.
#[no_mangle]
pub unsafe extern "C" fn ldb_txn_get(
    txn: *const ldb_txn,
    key: *const u8,
    key_len: usize,
    value_out: *mut *mut u8,
    value_len_out: *mut usize,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (txn, key, value_out, len_out) = unsafe {
            (
                handle(txn, "txn")?,
                key_bytes(key, key_len)?,
                out(value_out, "value_out")?,
                out(value_len_out, "value_len_out")?,
            )
        };
        let found = txn.with(|t| t.get_with(key, copy_out))?;
        store_value(found, value_out, len_out)
    })
}

/// Reads `key` as the transaction sees it without copying; as `ldb_get_pinned`.
///
/// # Safety
/// `txn` must be a live handle; the rest as in `ldb_get_pinned`.
#[no_mangle]
pub unsafe extern "C" fn ldb_txn_get_pinned(
    txn: *const ldb_txn,
    key: *const u8,
    key_len: usize,
    pinned_out: *mut *mut ldb_pinned,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (txn, key, pinned_out) = unsafe {
            (
                handle(txn, "txn")?,
                key_bytes(key, key_len)?,
                out(pinned_out, "pinned_out")?,
            )
        };
        *pinned_out = ldb_pinned::into_raw(txn.with(|t| t.get_pinned(key))?);
        Ok(())
    })
}

/// Sets `key` to `value` when the transaction commits. `LDB_READ_ONLY` in a read-only one.
///
/// # Safety
/// `txn` must be a live handle; `key`/`value` as in `ldb_put`.
#[no_mangle]
pub unsafe extern "C" fn ldb_txn_put(
    txn: *const ldb_txn,
    key: *const u8,
    key_len: usize,
    value: *const u8,
    value_len: usize,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (txn, key, value) = unsafe {
            (
                handle(txn, "txn")?,
                key_bytes(key, key_len)?,
                value_bytes(value, value_len)?,
            )
        };
        txn.with(|t| t.put(key, value))
    })
}

/// Removes `key` when the transaction commits. `LDB_READ_ONLY` in a read-only one.
///
/// # Safety
/// `txn` must be a live handle; `key` as in `ldb_put`.
#[no_mangle]
pub unsafe extern "C" fn ldb_txn_delete(
    txn: *const ldb_txn,
    key: *const u8,
    key_len: usize,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (txn, key) = unsafe { (handle(txn, "txn")?, key_bytes(key, key_len)?) };
        txn.with(|t| t.delete(key))
    })
}

/// Commits: the writes become visible to all, atomically, with the transaction's durability.
/// `LDB_CONFLICT` if a concurrent commit got in the way (the transaction is then rolled back;
/// run it again in a new one). Either way the transaction is finished.
///
/// # Safety
/// `txn` must be a live handle.
#[no_mangle]
pub unsafe extern "C" fn ldb_txn_commit(txn: *const ldb_txn) -> ldb_status {
    // SAFETY: per this function's contract.
    guard(|| unsafe { handle(txn, "txn") }?.take()?.commit())
}

/// Discards the writes; the transaction is finished. `LDB_CLOSED` if it was already.
///
/// # Safety
/// `txn` must be a live handle.
#[no_mangle]
pub unsafe extern "C" fn ldb_txn_rollback(txn: *const ldb_txn) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        unsafe { handle(txn, "txn") }?.take()?.rollback();
        Ok(())
    })
}

/// Releases a transaction, rolling it back if it is not finished. NULL is fine; never twice.
///
/// # Safety
/// `txn` must be NULL or a live handle from `ldb_txn_begin`, not in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn ldb_txn_free(txn: *mut ldb_txn) {
    if !txn.is_null() {
        guard_value((), || {
            // SAFETY: a handle from `Box::into_raw` in `ldb_txn_begin`, freed once.
            drop(unsafe { Box::from_raw(txn) })
        });
    }
}
