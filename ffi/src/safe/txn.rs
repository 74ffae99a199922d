//! [`Txn`]: a transaction, begun by [`Db::begin`](super::Db::begin), and its [`Isolation`].

use std::ptr::{self, NonNull};

use super::args::read_value;
use super::error::{check, Error, Result};
use super::iter::{Iter, KeyRange};
use super::pinned::{read_pinned, Pinned};
use crate::{
    ldb_isolation, ldb_status, ldb_txn, ldb_txn_commit, ldb_txn_delete, ldb_txn_free, ldb_txn_get,
    ldb_txn_get_pinned, ldb_txn_iter_new, ldb_txn_put, ldb_txn_rollback,
    LDB_ISOLATION_SERIALIZABLE, LDB_ISOLATION_SNAPSHOT,
};

/// A transaction's isolation level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Isolation {
    #[default]
    Snapshot,
    Serializable,
}

impl Isolation {
    pub(super) fn raw(self) -> ldb_isolation {
        match self {
            Isolation::Snapshot => LDB_ISOLATION_SNAPSHOT,
            Isolation::Serializable => LDB_ISOLATION_SERIALIZABLE,
        }
    }
}

/// A transaction; see `ldb_txn`. Rolled back on drop unless committed.
pub struct Txn(NonNull<ldb_txn>);

// SAFETY: `ldb_txn` is documented thread-safe; it is freed only in `drop`.
unsafe impl Send for Txn {}
// SAFETY: as above.
unsafe impl Sync for Txn {}

impl Txn {
    /// The transaction `begin` makes (given where to put the handle), or its failure.
    pub(super) fn make(begin: impl FnOnce(*mut *mut ldb_txn) -> ldb_status) -> Result<Txn> {
        let mut raw = ptr::null_mut();
        check(begin(&mut raw))?;
        NonNull::new(raw)
            .map(Txn)
            .ok_or_else(|| Error::argument("no transaction handle"))
    }

    fn raw(&self) -> *const ldb_txn {
        self.0.as_ptr()
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        // SAFETY: live handle; slice valid for its length; out-pointers writable.
        read_value(|v, l| unsafe { ldb_txn_get(self.raw(), key.as_ptr(), key.len(), v, l) })
    }

    pub fn get_pinned(&self, key: &[u8]) -> Result<Option<Pinned>> {
        // SAFETY: live handle; slice valid for its length; out-pointer writable.
        read_pinned(|p| unsafe { ldb_txn_get_pinned(self.raw(), key.as_ptr(), key.len(), p) })
    }

    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        // SAFETY: live handle; slices valid for their lengths.
        check(unsafe {
            ldb_txn_put(
                self.raw(),
                key.as_ptr(),
                key.len(),
                value.as_ptr(),
                value.len(),
            )
        })
    }

    pub fn delete(&self, key: &[u8]) -> Result<()> {
        // SAFETY: live handle; slice valid for its length.
        check(unsafe { ldb_txn_delete(self.raw(), key.as_ptr(), key.len()) })
    }

    pub fn iter(&self, range: &KeyRange) -> Result<Iter> {
        let raw = range.raw();
        // SAFETY: live handle; `raw` borrows `range`, alive during the call.
        Iter::make(|it| unsafe { ldb_txn_iter_new(self.raw(), &raw, it) })
    }

    /// Commits; `CONFLICT` means run it again. The transaction is finished either way.
    pub fn commit(&self) -> Result<()> {
        // SAFETY: live handle.
        check(unsafe { ldb_txn_commit(self.raw()) })
    }

    pub fn rollback(&self) -> Result<()> {
        // SAFETY: live handle.
        check(unsafe { ldb_txn_rollback(self.raw()) })
    }
}

impl Drop for Txn {
    fn drop(&mut self) {
        // SAFETY: live handle, freed once.
        unsafe { ldb_txn_free(self.0.as_ptr()) }
    }
}
