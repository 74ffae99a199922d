//! [`Snapshot`]: a consistent read-only view, made by [`Db::snapshot`](super::Db::snapshot).

use std::ptr::{self, NonNull};

use super::args::read_value;
use super::error::{check, Error, Result};
use super::iter::{Iter, KeyRange};
use super::pinned::{read_pinned, Pinned};
use crate::{
    ldb_snapshot, ldb_snapshot_free, ldb_snapshot_get, ldb_snapshot_get_pinned,
    ldb_snapshot_iter_new, ldb_snapshot_sequence, ldb_status,
};

/// A read-only view as of one moment; see `ldb_snapshot`.
pub struct Snapshot(NonNull<ldb_snapshot>);

// SAFETY: `ldb_snapshot` is documented thread-safe; it is freed only in `drop`.
unsafe impl Send for Snapshot {}
// SAFETY: as above.
unsafe impl Sync for Snapshot {}

impl Snapshot {
    /// The snapshot `new` makes (given where to put the handle), or its failure.
    pub(super) fn make(new: impl FnOnce(*mut *mut ldb_snapshot) -> ldb_status) -> Result<Snapshot> {
        let mut raw = ptr::null_mut();
        check(new(&mut raw))?;
        NonNull::new(raw)
            .map(Snapshot)
            .ok_or_else(|| Error::argument("no snapshot handle"))
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        // SAFETY: live handle; slice valid for its length; out-pointers writable.
        read_value(|v, l| unsafe {
            ldb_snapshot_get(self.0.as_ptr(), key.as_ptr(), key.len(), v, l)
        })
    }

    pub fn get_pinned(&self, key: &[u8]) -> Result<Option<Pinned>> {
        // SAFETY: live handle; slice valid for its length; out-pointer writable.
        read_pinned(|p| unsafe {
            ldb_snapshot_get_pinned(self.0.as_ptr(), key.as_ptr(), key.len(), p)
        })
    }

    pub fn sequence(&self) -> u64 {
        // SAFETY: live handle.
        unsafe { ldb_snapshot_sequence(self.0.as_ptr()) }
    }

    pub fn iter(&self, range: &KeyRange) -> Result<Iter> {
        let raw = range.raw();
        // SAFETY: live handle; `raw` borrows `range`, alive during the call.
        Iter::make(|it| unsafe { ldb_snapshot_iter_new(self.0.as_ptr(), &raw, it) })
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        // SAFETY: live handle, freed once.
        unsafe { ldb_snapshot_free(self.0.as_ptr()) }
    }
}
