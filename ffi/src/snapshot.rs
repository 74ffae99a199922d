//! `ldb_snapshot`: a consistent read-only view.

use lightning_db::Snapshot;

use crate::args::{copy_out, handle, key_bytes, out, store_value};
use crate::db::ldb_db;
use crate::pinned::ldb_pinned;
use crate::status::{guard, guard_value, ldb_status};

/// A read-only view of the database as of one moment. Thread-safe. It holds a reference to the
/// database's state: it stays readable after `ldb_close`, and the directory's lock is released
/// only once it is freed.
#[allow(non_camel_case_types)]
pub struct ldb_snapshot {
    pub(crate) inner: Snapshot,
}

/// Takes a snapshot of the database as of now; release it with `ldb_snapshot_free`.
///
/// # Safety
/// `db` must be a live handle; `snapshot_out` writable.
#[no_mangle]
pub unsafe extern "C" fn ldb_snapshot_new(
    db: *const ldb_db,
    snapshot_out: *mut *mut ldb_snapshot,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (db, snapshot_out) = unsafe { (handle(db, "db")?, out(snapshot_out, "snapshot_out")?) };
        let inner = db.with(|db| db.snapshot())?;
        *snapshot_out = Box::into_raw(Box::new(ldb_snapshot { inner }));
        Ok(())
    })
}

/// Reads `key` in the snapshot; as `ldb_get`.
///
/// # Safety
/// `snapshot` must be a live handle; the rest as in `ldb_get`.
#[no_mangle]
pub unsafe extern "C" fn ldb_snapshot_get(
    snapshot: *const ldb_snapshot,
    key: *const u8,
    key_len: usize,
    value_out: *mut *mut u8,
    value_len_out: *mut usize,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (snapshot, key, value_out, len_out) = unsafe {
            (
                handle(snapshot, "snapshot")?,
                key_bytes(key, key_len)?,
                out(value_out, "value_out")?,
                out(value_len_out, "value_len_out")?,
            )
        };
        store_value(snapshot.inner.get_with(key, copy_out)?, value_out, len_out)
    })
}

/// Reads `key` in the snapshot without copying; as `ldb_get_pinned`.
///
/// # Safety
/// `snapshot` must be a live handle; the rest as in `ldb_get_pinned`.
#[no_mangle]
pub unsafe extern "C" fn ldb_snapshot_get_pinned(
    snapshot: *const ldb_snapshot,
    key: *const u8,
    key_len: usize,
    pinned_out: *mut *mut ldb_pinned,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (snapshot, key, pinned_out) = unsafe {
            (
                handle(snapshot, "snapshot")?,
                key_bytes(key, key_len)?,
                out(pinned_out, "pinned_out")?,
            )
        };
        *pinned_out = ldb_pinned::into_raw(snapshot.inner.get_pinned(key)?);
        Ok(())
    })
}

/// The sequence number of the last write the snapshot sees; 0 for NULL.
///
/// # Safety
/// `snapshot` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn ldb_snapshot_sequence(snapshot: *const ldb_snapshot) -> u64 {
    guard_value(0, || {
        // SAFETY: per this function's contract.
        unsafe { snapshot.as_ref() }.map_or(0, |s| s.inner.sequence())
    })
}

/// Releases a snapshot. NULL is fine; never twice. Iterators made from it stay valid.
///
/// # Safety
/// `snapshot` must be NULL or a live handle from `ldb_snapshot_new`.
#[no_mangle]
pub unsafe extern "C" fn ldb_snapshot_free(snapshot: *mut ldb_snapshot) {
    if !snapshot.is_null() {
        guard_value((), || {
            // SAFETY: a handle from `Box::into_raw` in `ldb_snapshot_new`, freed once.
            drop(unsafe { Box::from_raw(snapshot) })
        });
    }
}
