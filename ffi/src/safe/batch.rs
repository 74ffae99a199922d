//! [`Batch`]: puts and deletes applied atomically by [`Db::write`](super::Db::write).

use std::ptr::{self, NonNull};

use super::error::{check, Error, Result};
use crate::{
    ldb_batch, ldb_batch_clear, ldb_batch_count, ldb_batch_delete, ldb_batch_free, ldb_batch_new,
    ldb_batch_put,
};

/// A write batch; see `ldb_batch`.
pub struct Batch(NonNull<ldb_batch>);

// SAFETY: a batch is used by one thread at a time, which `&mut self` on every change ensures.
unsafe impl Send for Batch {}

impl Batch {
    pub fn new() -> Result<Batch> {
        let mut raw = ptr::null_mut();
        // SAFETY: writable out-pointer.
        check(unsafe { ldb_batch_new(&mut raw) })?;
        NonNull::new(raw)
            .map(Batch)
            .ok_or_else(|| Error::argument("no batch handle"))
    }

    pub(super) fn raw(&self) -> *const ldb_batch {
        self.0.as_ptr()
    }

    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        // SAFETY: live handle used by this thread only; slices valid for their lengths.
        check(unsafe {
            ldb_batch_put(
                self.0.as_ptr(),
                key.as_ptr(),
                key.len(),
                value.as_ptr(),
                value.len(),
            )
        })
    }

    pub fn delete(&mut self, key: &[u8]) -> Result<()> {
        // SAFETY: live handle used by this thread only; slice valid for its length.
        check(unsafe { ldb_batch_delete(self.0.as_ptr(), key.as_ptr(), key.len()) })
    }

    pub fn clear(&mut self) -> Result<()> {
        // SAFETY: live handle used by this thread only.
        check(unsafe { ldb_batch_clear(self.0.as_ptr()) })
    }

    pub fn len(&self) -> usize {
        // SAFETY: live handle.
        unsafe { ldb_batch_count(self.0.as_ptr()) }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        // SAFETY: live handle, freed once.
        unsafe { ldb_batch_free(self.0.as_ptr()) }
    }
}
