//! `ldb_batch`: puts and deletes applied atomically by `ldb_write`.

use lightning_db::WriteBatch;

use crate::args::{handle, handle_mut, key_bytes, out, value_bytes};
use crate::status::{guard, guard_value, ldb_status};

/// A write batch. Not thread-safe: use one from one thread at a time.
#[allow(non_camel_case_types)]
pub struct ldb_batch {
    pub(crate) inner: WriteBatch,
}

/// Creates an empty batch; release it with `ldb_batch_free`.
///
/// # Safety
/// `batch_out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn ldb_batch_new(batch_out: *mut *mut ldb_batch) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let out = unsafe { out(batch_out, "batch_out") }?;
        *out = Box::into_raw(Box::new(ldb_batch {
            inner: WriteBatch::new(),
        }));
        Ok(())
    })
}

/// Adds a put of `key` → `value` (copied). A key or value over its size limit fails here with
/// `LDB_INVALID_ARGUMENT`, before any of its bytes is read; so does an operation that would take
/// the batch past 4,294,967,295 operations or 4 GiB of encoded operations (the batch is left as
/// it was).
///
/// # Safety
/// `batch` must be a live handle; `key`/`value` point to `key_len`/`value_len` bytes (or are NULL
/// with length 0).
#[no_mangle]
pub unsafe extern "C" fn ldb_batch_put(
    batch: *mut ldb_batch,
    key: *const u8,
    key_len: usize,
    value: *const u8,
    value_len: usize,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (batch, key, value) = unsafe {
            (
                handle_mut(batch, "batch")?,
                key_bytes(key, key_len)?,
                value_bytes(value, value_len)?,
            )
        };
        batch.inner.try_put(key, value)?;
        Ok(())
    })
}

/// Adds a delete of `key` (copied), refused as `ldb_batch_put`'s operations are.
///
/// # Safety
/// As `ldb_batch_put`.
#[no_mangle]
pub unsafe extern "C" fn ldb_batch_delete(
    batch: *mut ldb_batch,
    key: *const u8,
    key_len: usize,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (batch, key) = unsafe { (handle_mut(batch, "batch")?, key_bytes(key, key_len)?) };
        batch.inner.try_delete(key)?;
        Ok(())
    })
}

/// Empties the batch, for reuse.
///
/// # Safety
/// `batch` must be a live handle.
#[no_mangle]
pub unsafe extern "C" fn ldb_batch_clear(batch: *mut ldb_batch) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        unsafe { handle_mut(batch, "batch") }?.inner.clear();
        Ok(())
    })
}

/// The number of operations in the batch; 0 for NULL.
///
/// # Safety
/// `batch` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn ldb_batch_count(batch: *const ldb_batch) -> usize {
    guard_value(0, || {
        // SAFETY: per this function's contract.
        unsafe { handle(batch, "batch") }.map_or(0, |b| b.inner.len())
    })
}

/// Releases a batch. NULL is fine; never twice.
///
/// # Safety
/// `batch` must be NULL or a live handle from `ldb_batch_new`.
#[no_mangle]
pub unsafe extern "C" fn ldb_batch_free(batch: *mut ldb_batch) {
    if !batch.is_null() {
        // SAFETY: a handle from `Box::into_raw` in `ldb_batch_new`, freed once.
        drop(unsafe { Box::from_raw(batch) });
    }
}
