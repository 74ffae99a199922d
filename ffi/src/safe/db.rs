//! [`Db`]: an open database — open, close, point reads and writes, sync, flush, compact, stats,
//! verify —
//! and [`ReadInto`], what [`Db::get_into`] found.

use std::mem::MaybeUninit;
use std::ptr::{self, NonNull};

use super::args::{c_string, owned_text, read_value};
use super::batch::Batch;
use super::bulk_load::BulkLoad;
use super::durability::Durability;
use super::error::{check, Error, Result};
use super::iter::{Iter, KeyRange};
use super::options::Options;
use super::pinned::{read_pinned, Pinned};
use super::snapshot::Snapshot;
use super::txn::{Isolation, Txn};
use crate::{
    ldb_bulk_load_begin, ldb_check_key, ldb_close, ldb_compact, ldb_db, ldb_db_free, ldb_delete,
    ldb_flush, ldb_get, ldb_get_into, ldb_get_pinned, ldb_iter_new, ldb_open, ldb_put, ldb_rekey,
    ldb_snapshot_new, ldb_stats, ldb_stats_value, ldb_sync, ldb_txn_begin, ldb_verify, ldb_write,
};

/// What [`Db::get_into`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadInto<'b> {
    /// The key is absent.
    Absent,
    /// The value, copied into the start of the caller's buffer.
    Copied(&'b [u8]),
    /// The value is this long, more than the buffer holds; nothing was copied.
    TooLong(usize),
}

/// An open database; see `ldb_db`. Closed (if still open) and released on drop.
pub struct Db(NonNull<ldb_db>);

// SAFETY: `ldb_db` is documented thread-safe for every call but `ldb_close`/`ldb_db_free`;
// `close` takes `&mut self` and free happens in `drop`, so no other call can overlap them.
unsafe impl Send for Db {}
// SAFETY: as above.
unsafe impl Sync for Db {}

impl Db {
    /// Opens the database in `path` with `options` given as (name, value) pairs.
    pub fn open(path: &str, options: &[(&str, &str)]) -> Result<Db> {
        let path = c_string(path, "path")?;
        let options = Options::new(options)?;
        let mut db = ptr::null_mut();
        // SAFETY: valid path string, live options handle, writable out-pointer.
        check(unsafe { ldb_open(path.as_ptr(), options.raw(), &mut db) })?;
        NonNull::new(db)
            .map(Db)
            .ok_or_else(|| Error::argument("ldb_open returned no handle"))
    }

    fn raw(&self) -> *const ldb_db {
        self.0.as_ptr()
    }

    /// Closes the database; later calls fail with `CLOSED`. Closing twice is fine.
    pub fn close(&mut self) -> Result<()> {
        // SAFETY: live handle; `&mut self` keeps other calls out.
        check(unsafe { ldb_close(self.0.as_ptr()) })
    }

    pub fn put(&self, key: &[u8], value: &[u8], durability: Durability) -> Result<()> {
        // SAFETY: live handle; slices valid for their lengths during the call.
        check(unsafe {
            ldb_put(
                self.raw(),
                key.as_ptr(),
                key.len(),
                value.as_ptr(),
                value.len(),
                durability.raw(),
            )
        })
    }

    pub fn delete(&self, key: &[u8], durability: Durability) -> Result<()> {
        // SAFETY: live handle; slice valid for its length during the call.
        check(unsafe { ldb_delete(self.raw(), key.as_ptr(), key.len(), durability.raw()) })
    }

    pub fn write(&self, batch: &Batch, durability: Durability) -> Result<()> {
        // SAFETY: live handles.
        check(unsafe { ldb_write(self.raw(), batch.raw(), durability.raw()) })
    }

    /// The value of `key`, copied; `None` if absent.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        // SAFETY: live handle; slice valid for its length; out-pointers writable.
        read_value(|v, l| unsafe { ldb_get(self.raw(), key.as_ptr(), key.len(), v, l) })
    }

    /// The value of `key` without copying where it lies in one piece; `None` if absent.
    pub fn get_pinned(&self, key: &[u8]) -> Result<Option<Pinned>> {
        // SAFETY: live handle; slice valid for its length; out-pointer writable.
        read_pinned(|p| unsafe { ldb_get_pinned(self.raw(), key.as_ptr(), key.len(), p) })
    }

    /// Copies the value of `key` into `buf` without allocating; see [`ReadInto`].
    pub fn get_into<'b>(&self, key: &[u8], buf: &'b mut [MaybeUninit<u8>]) -> Result<ReadInto<'b>> {
        let (mut len, mut found) = (0usize, false);
        // SAFETY: live handle; `key` valid for its length; `buf` writable for its length (the
        // library only writes to it); out-pointers writable.
        check(unsafe {
            ldb_get_into(
                self.raw(),
                key.as_ptr(),
                key.len(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut len,
                &mut found,
            )
        })?;
        Ok(match buf.get(..len) {
            _ if !found => ReadInto::Absent,
            // SAFETY: the library wrote the value's `len` bytes to the start of `buf`.
            Some(value) => {
                ReadInto::Copied(unsafe { &*(value as *const [MaybeUninit<u8>] as *const [u8]) })
            }
            None => ReadInto::TooLong(len),
        })
    }

    pub fn sync(&self) -> Result<()> {
        // SAFETY: live handle.
        check(unsafe { ldb_sync(self.raw()) })
    }

    pub fn flush(&self) -> Result<()> {
        // SAFETY: live handle.
        check(unsafe { ldb_flush(self.raw()) })
    }

    /// Changes an encrypted database's key or passphrase to the `encryption_key` or `passphrase`
    /// in `options`, given as (name, value) pairs; see `ldb_rekey`.
    pub fn rekey(&self, options: &[(&str, &str)]) -> Result<()> {
        let options = Options::new(options)?;
        // SAFETY: live handles.
        check(unsafe { ldb_rekey(self.raw(), options.raw()) })
    }

    /// Whether the key or passphrase in `options` (or neither) opens this database; see
    /// `ldb_check_key`.
    pub fn check_key(&self, options: &[(&str, &str)]) -> Result<()> {
        let options = Options::new(options)?;
        // SAFETY: live handles.
        check(unsafe { ldb_check_key(self.raw(), options.raw()) })
    }

    /// Gives the page file's free space back; returns the bytes it shrank by.
    pub fn compact(&self) -> Result<u64> {
        let mut bytes = 0;
        // SAFETY: live handle; `bytes` is writable.
        check(unsafe { ldb_compact(self.raw(), &mut bytes) })?;
        Ok(bytes)
    }

    /// Counters and sizes, one `name=value` line each.
    pub fn stats(&self) -> Result<String> {
        let mut text = ptr::null_mut();
        // SAFETY: live handle; writable out-pointer; the length pointer may be NULL.
        check(unsafe { ldb_stats(self.raw(), &mut text, ptr::null_mut()) })?;
        // SAFETY: a caller-owned text from the library.
        Ok(unsafe { owned_text(text) })
    }

    /// One counter of [`Db::stats`] by name.
    pub fn stats_value(&self, name: &str) -> Result<u64> {
        let name = c_string(name, "name")?;
        let mut value = 0;
        // SAFETY: live handle; valid string; writable out-pointer.
        check(unsafe { ldb_stats_value(self.raw(), name.as_ptr(), &mut value) })?;
        Ok(value)
    }

    /// Checks every page and WAL record; returns what was checked, one `name=value` line each.
    pub fn verify(&self) -> Result<String> {
        let mut report = ptr::null_mut();
        // SAFETY: live handle; writable out-pointer.
        check(unsafe { ldb_verify(self.raw(), &mut report) })?;
        // SAFETY: a caller-owned text from the library.
        Ok(unsafe { owned_text(report) })
    }

    pub fn snapshot(&self) -> Result<Snapshot> {
        // SAFETY: live handle; writable out-pointer.
        Snapshot::make(|snapshot| unsafe { ldb_snapshot_new(self.raw(), snapshot) })
    }

    pub fn iter(&self, range: &KeyRange) -> Result<Iter> {
        let raw = range.raw();
        // SAFETY: live handle; `raw` borrows `range`, alive during the call.
        Iter::make(|it| unsafe { ldb_iter_new(self.raw(), &raw, it) })
    }

    pub fn begin(
        &self,
        isolation: Isolation,
        read_only: bool,
        durability: Durability,
    ) -> Result<Txn> {
        // SAFETY: live handle; writable out-pointer.
        Txn::make(|txn| unsafe {
            ldb_txn_begin(
                self.raw(),
                isolation.raw(),
                read_only,
                durability.raw(),
                txn,
            )
        })
    }

    /// Starts a bulk load; see `ldb_bulk_load_begin`.
    pub fn bulk_load(&self) -> Result<BulkLoad> {
        // SAFETY: live handle; writable out-pointer.
        BulkLoad::make(|load| unsafe { ldb_bulk_load_begin(self.raw(), load) })
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        // SAFETY: live handle, freed once; `&mut self` keeps other calls out.
        unsafe { ldb_db_free(self.0.as_ptr()) }
    }
}
