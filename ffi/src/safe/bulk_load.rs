//! [`BulkLoad`]: a bulk load, begun by [`Db::bulk_load`](super::Db::bulk_load).

use std::ptr::{self, NonNull};

use super::error::{check, Error, Result};
use crate::{
    ldb_bulk_load, ldb_bulk_load_abort, ldb_bulk_load_commit, ldb_bulk_load_free,
    ldb_bulk_load_put, ldb_status,
};

/// A bulk load; see `ldb_bulk_load`. Abandoned on drop unless committed.
pub struct BulkLoad(NonNull<ldb_bulk_load>);

// SAFETY: `ldb_bulk_load` is documented thread-safe; it is freed only in `drop`.
unsafe impl Send for BulkLoad {}
// SAFETY: as above.
unsafe impl Sync for BulkLoad {}

impl BulkLoad {
    /// The load `begin` makes (given where to put the handle), or its failure.
    pub(super) fn make(begin: impl FnOnce(*mut *mut ldb_bulk_load) -> ldb_status) -> Result<Self> {
        let mut raw = ptr::null_mut();
        check(begin(&mut raw))?;
        NonNull::new(raw)
            .map(BulkLoad)
            .ok_or_else(|| Error::argument("no bulk load handle"))
    }

    fn raw(&self) -> *const ldb_bulk_load {
        self.0.as_ptr()
    }

    /// Adds a pair; keys must ascend strictly.
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        // SAFETY: live handle; slices valid for their lengths.
        check(unsafe {
            ldb_bulk_load_put(
                self.raw(),
                key.as_ptr(),
                key.len(),
                value.as_ptr(),
                value.len(),
            )
        })
    }

    /// Makes every pair durable and visible at once; the load is finished either way.
    pub fn commit(&self) -> Result<()> {
        // SAFETY: live handle.
        check(unsafe { ldb_bulk_load_commit(self.raw()) })
    }

    /// Abandons the load; `CLOSED` if it was finished already.
    pub fn abort(&self) -> Result<()> {
        // SAFETY: live handle.
        check(unsafe { ldb_bulk_load_abort(self.raw()) })
    }
}

impl Drop for BulkLoad {
    fn drop(&mut self) {
        // SAFETY: live handle, freed once.
        unsafe { ldb_bulk_load_free(self.0.as_ptr()) }
    }
}
