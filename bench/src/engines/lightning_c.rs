//! Lightning DB through its C ABI (`lightning-ffi`, the functions of `include/lightning.h`),
//! called directly as `extern "C"` functions, as a C program would: the same database and
//! options as the `lightning` engine, so the two columns differ only by the C ABI's cost.
//!
//! Options: `ldb_options_set(opts, "cache_size", "<CACHE_BYTES>")`, every other default.
//! Writes are `ldb_put` with `LDB_DURABILITY_SYNC` / `LDB_DURABILITY_BUFFERED`; batches are an
//! `ldb_batch` applied by `ldb_write` (buffered); `bulk_load` is an `ldb_bulk_load` (begin, put
//! each pair, commit, free). Point
//! reads are `ldb_get`, which hands out a `malloc` copy of the value that the caller reads and
//! releases with `ldb_free` (what a C user does; the Rust engine reads the value in place). Scans
//! are an `ldb_iter` over everything: first, then valid / key / value / next. Read-modify-write
//! transactions are `ldb_txn_begin(LDB_ISOLATION_SNAPSHOT, read_only = false,
//! LDB_DURABILITY_BUFFERED)`, `ldb_txn_get`, `ldb_txn_put`, `ldb_txn_commit` (`LDB_CONFLICT` is a
//! conflict, not retried), `ldb_txn_free`. A status other than `LDB_OK` becomes an error with
//! `ldb_status_name` and `ldb_last_error_message`.

use std::ffi::{c_void, CStr, CString};
use std::hint::black_box;
use std::path::Path;
use std::ptr::{self, NonNull};

use ::lightning::{
    ldb_batch, ldb_batch_free, ldb_batch_new, ldb_batch_put, ldb_bulk_load, ldb_bulk_load_begin,
    ldb_bulk_load_commit, ldb_bulk_load_free, ldb_bulk_load_put, ldb_close, ldb_db, ldb_db_free,
    ldb_durability, ldb_flush, ldb_free, ldb_get, ldb_iter, ldb_iter_first, ldb_iter_free,
    ldb_iter_key, ldb_iter_new, ldb_iter_next, ldb_iter_valid, ldb_iter_value,
    ldb_last_error_message, ldb_open, ldb_options, ldb_options_free, ldb_options_new,
    ldb_options_set, ldb_put, ldb_status, ldb_status_name, ldb_txn, ldb_txn_begin, ldb_txn_commit,
    ldb_txn_free, ldb_txn_get, ldb_txn_put, ldb_write, LDB_DURABILITY_BUFFERED,
    LDB_DURABILITY_SYNC, LDB_ISOLATION_SNAPSHOT,
};

use super::{
    bump_counter, rmw_key_not_found, touch, BoxError, Engine, Key, Reader, Result, Value,
    CACHE_BYTES,
};

/// The error of a call that returned `status` (not `LDB_OK`): `"<what>: <NAME>: <message>"`.
#[cold]
#[inline(never)]
fn status_error(status: ldb_status, what: &str) -> BoxError {
    // SAFETY: `ldb_last_error_message` returns a NUL-terminated string valid until the next call
    // into the library on this thread; it is copied before any other call.
    let message = unsafe { CStr::from_ptr(ldb_last_error_message()) }
        .to_string_lossy()
        .into_owned();
    // SAFETY: `ldb_status_name` returns a static NUL-terminated string.
    let name = unsafe { CStr::from_ptr(ldb_status_name(status as i32)) }.to_string_lossy();
    format!("{what}: {name}: {message}").into()
}

/// `Ok` for `LDB_OK`, else the error of [`status_error`].
#[inline]
fn check(status: ldb_status, what: &str) -> Result<()> {
    if status == ldb_status::LDB_OK {
        Ok(())
    } else {
        Err(status_error(status, what))
    }
}

fn durability(sync: bool) -> ldb_durability {
    if sync {
        LDB_DURABILITY_SYNC
    } else {
        LDB_DURABILITY_BUFFERED
    }
}

/// A Lightning DB database opened through the C ABI; the handle is released on drop.
pub struct LightningCEngine {
    db: NonNull<ldb_db>,
}

// SAFETY: the header (convention 5) makes an `ldb_db` usable from many threads at once; the
// engine only ever passes it to functions that allow that, except `ldb_close` and `ldb_db_free`,
// which run in `close` / `drop` with the engine owned (no other thread can use it then).
unsafe impl Send for LightningCEngine {}
// SAFETY: as for `Send`: every call made through `&LightningCEngine` is thread-safe on `ldb_db`.
unsafe impl Sync for LightningCEngine {}

/// Options made by `ldb_options_new`, released on drop.
struct OptionsHandle(*mut ldb_options);

impl Drop for OptionsHandle {
    fn drop(&mut self) {
        // SAFETY: NULL or a live handle from `ldb_options_new`, released only here.
        unsafe { ldb_options_free(self.0) }
    }
}

impl LightningCEngine {
    /// Creates a database in the (empty) directory `dir`.
    pub fn open(dir: &Path) -> Result<LightningCEngine> {
        let path = CString::new(
            dir.to_str()
                .ok_or_else(|| format!("{} is not valid UTF-8", dir.display()))?,
        )?;
        let cache = CString::new(CACHE_BYTES.to_string())?;
        let mut options = OptionsHandle(ptr::null_mut());
        // SAFETY: `options.0` is a writable pointer.
        let status = unsafe { ldb_options_new(&mut options.0) };
        check(status, "ldb_options_new")?;
        // SAFETY: `options.0` is a live handle used by this thread only; both strings are
        // NUL-terminated and outlive the call.
        let status = unsafe { ldb_options_set(options.0, c"cache_size".as_ptr(), cache.as_ptr()) };
        check(status, "ldb_options_set(cache_size)")?;
        let compression = CString::new(crate::compression::policy())?;
        // SAFETY: as above.
        let status =
            unsafe { ldb_options_set(options.0, c"compression".as_ptr(), compression.as_ptr()) };
        check(status, "ldb_options_set(compression)")?;
        if crate::compression::cipher() != "none" {
            let cipher = CString::new(crate::compression::cipher())?;
            let key = CString::new(crate::compression::BENCH_KEY)?;
            // SAFETY: as above.
            let status =
                unsafe { ldb_options_set(options.0, c"encryption".as_ptr(), cipher.as_ptr()) };
            check(status, "ldb_options_set(encryption)")?;
            // SAFETY: as above.
            let status =
                unsafe { ldb_options_set(options.0, c"encryption_key".as_ptr(), key.as_ptr()) };
            check(status, "ldb_options_set(encryption_key)")?;
        }
        let mut db: *mut ldb_db = ptr::null_mut();
        // SAFETY: `path` is NUL-terminated, `options.0` a live handle (copied by the call, so it
        // may be freed afterwards), `db` writable.
        let status = unsafe { ldb_open(path.as_ptr(), options.0, &mut db) };
        check(status, "ldb_open")?;
        let db = NonNull::new(db).ok_or("ldb_open returned LDB_OK and a NULL handle")?;
        Ok(LightningCEngine { db })
    }

    fn db(&self) -> *const ldb_db {
        self.db.as_ptr()
    }

    /// An `ldb_batch` holding a put of every pair.
    fn batch_of(pairs: &[(Key, Value)]) -> Result<BatchHandle> {
        let mut batch = BatchHandle(ptr::null_mut());
        // SAFETY: `batch.0` is a writable pointer.
        check(unsafe { ldb_batch_new(&mut batch.0) }, "ldb_batch_new")?;
        for (key, value) in pairs {
            // SAFETY: `batch.0` is a live handle used by this thread only; key and value point
            // to their lengths in bytes, copied by the call.
            let status = unsafe {
                ldb_batch_put(
                    batch.0,
                    key.as_ptr(),
                    key.len(),
                    value.as_ptr(),
                    value.len(),
                )
            };
            check(status, "ldb_batch_put")?;
        }
        Ok(batch)
    }

    /// Applies `pairs` as one batch, buffered.
    fn write_pairs(&self, pairs: &[(Key, Value)]) -> Result<()> {
        let batch = Self::batch_of(pairs)?;
        // SAFETY: `self.db()` and `batch.0` are live handles.
        let status = unsafe { ldb_write(self.db(), batch.0, LDB_DURABILITY_BUFFERED) };
        check(status, "ldb_write")
    }
}

impl Drop for LightningCEngine {
    fn drop(&mut self) {
        // SAFETY: a live handle from `ldb_open`, released only here; the engine is owned, so no
        // other call uses it. `ldb_db_free` closes it first if `close` did not.
        unsafe { ldb_db_free(self.db.as_ptr()) }
    }
}

/// A batch made by `ldb_batch_new`, released on drop.
struct BatchHandle(*mut ldb_batch);

impl Drop for BatchHandle {
    fn drop(&mut self) {
        // SAFETY: NULL or a live handle from `ldb_batch_new`, released only here.
        unsafe { ldb_batch_free(self.0) }
    }
}

/// A bulk load made by `ldb_bulk_load_begin`, released on drop (abandoned unless committed).
struct BulkLoadHandle(*mut ldb_bulk_load);

impl Drop for BulkLoadHandle {
    fn drop(&mut self) {
        // SAFETY: a live handle from `ldb_bulk_load_begin`, released only here.
        unsafe { ldb_bulk_load_free(self.0) }
    }
}

/// An iterator made by `ldb_iter_new`, released on drop.
struct IterHandle(*mut ldb_iter);

impl Drop for IterHandle {
    fn drop(&mut self) {
        // SAFETY: NULL or a live handle from `ldb_iter_new`, released only here.
        unsafe { ldb_iter_free(self.0) }
    }
}

/// A transaction made by `ldb_txn_begin`, released (rolled back if unfinished) on drop.
struct TxnHandle(*mut ldb_txn);

impl Drop for TxnHandle {
    fn drop(&mut self) {
        // SAFETY: NULL or a live handle from `ldb_txn_begin`, released only here, by the one
        // thread that uses it.
        unsafe { ldb_txn_free(self.0) }
    }
}

/// Runs `f` on the bytes of a value from `ldb_get` / `ldb_txn_get` (`ptr` not NULL, `len` bytes,
/// owned by the caller), then releases them with `ldb_free`.
///
/// # Safety
/// `ptr` must be a caller-owned value of `len` bytes returned by the library, not yet freed; it
/// is freed here.
unsafe fn read_and_free<R>(ptr: *mut u8, len: usize, f: impl FnOnce(&[u8]) -> R) -> R {
    // SAFETY: per this function's contract, `ptr` holds `len` readable bytes, unchanged until
    // `ldb_free` below.
    let result = f(unsafe { std::slice::from_raw_parts(ptr, len) });
    // SAFETY: per this function's contract: a caller-owned pointer, freed once, here.
    unsafe { ldb_free(ptr.cast::<c_void>()) };
    result
}

impl Engine for LightningCEngine {
    fn bulk_load(&self, pairs: &[(Key, Value)]) -> Result<()> {
        let mut raw = ptr::null_mut();
        // SAFETY: `self.db()` is a live handle; `raw` is writable.
        check(
            unsafe { ldb_bulk_load_begin(self.db(), &mut raw) },
            "ldb_bulk_load_begin",
        )?;
        let load = BulkLoadHandle(raw);
        for (key, value) in pairs {
            // SAFETY: `load.0` is a live handle; key and value point to their lengths in bytes.
            let status = unsafe {
                ldb_bulk_load_put(load.0, key.as_ptr(), key.len(), value.as_ptr(), value.len())
            };
            check(status, "ldb_bulk_load_put")?;
        }
        // SAFETY: `load.0` is a live handle.
        check(
            unsafe { ldb_bulk_load_commit(load.0) },
            "ldb_bulk_load_commit",
        )
    }

    fn finish_deferred_work(&self) -> Result<()> {
        // SAFETY: `self.db()` is a live handle.
        check(unsafe { ldb_flush(self.db()) }, "ldb_flush")
    }

    fn put(&self, key: &[u8], value: &[u8], sync: bool) -> Result<()> {
        // SAFETY: `self.db()` is a live handle; key and value point to their lengths in bytes.
        let status = unsafe {
            ldb_put(
                self.db(),
                key.as_ptr(),
                key.len(),
                value.as_ptr(),
                value.len(),
                durability(sync),
            )
        };
        check(status, "ldb_put")
    }

    fn write_batch(&self, pairs: &[(Key, Value)]) -> Result<()> {
        self.write_pairs(pairs)
    }

    fn read_modify_write(&self, key: &[u8]) -> Result<Option<u64>> {
        let mut txn = TxnHandle(ptr::null_mut());
        // SAFETY: `self.db()` is a live handle; `txn.0` is writable.
        let status = unsafe {
            ldb_txn_begin(
                self.db(),
                LDB_ISOLATION_SNAPSHOT,
                false,
                LDB_DURABILITY_BUFFERED,
                &mut txn.0,
            )
        };
        check(status, "ldb_txn_begin")?;
        let (mut value, mut len): (*mut u8, usize) = (ptr::null_mut(), 0);
        // SAFETY: `txn.0` is a live handle; the key points to its length in bytes; the out
        // pointers are writable.
        let status = unsafe { ldb_txn_get(txn.0, key.as_ptr(), key.len(), &mut value, &mut len) };
        check(status, "ldb_txn_get")?;
        if value.is_null() {
            return Err(rmw_key_not_found(key));
        }
        // SAFETY: `ldb_txn_get` returned LDB_OK with a non-NULL caller-owned value of `len`
        // bytes, freed only by `read_and_free`.
        let (new, old) = unsafe { read_and_free(value, len, bump_counter) }?;
        // SAFETY: `txn.0` is a live handle; key and value point to their lengths in bytes.
        let status =
            unsafe { ldb_txn_put(txn.0, key.as_ptr(), key.len(), new.as_ptr(), new.len()) };
        check(status, "ldb_txn_put")?;
        // SAFETY: `txn.0` is a live handle (freed by `TxnHandle` afterwards).
        match unsafe { ldb_txn_commit(txn.0) } {
            ldb_status::LDB_OK => Ok(Some(old)),
            ldb_status::LDB_CONFLICT => Ok(None),
            status => Err(status_error(status, "ldb_txn_commit")),
        }
    }

    fn reader(&self) -> Result<Box<dyn Reader + '_>> {
        Ok(Box::new(LightningCReader { engine: self }))
    }

    fn scan(&self) -> Result<u64> {
        let mut iter = IterHandle(ptr::null_mut());
        // SAFETY: `self.db()` is a live handle; a NULL range is every key, forward; `iter.0` is
        // writable.
        let status = unsafe { ldb_iter_new(self.db(), ptr::null(), &mut iter.0) };
        check(status, "ldb_iter_new")?;
        // SAFETY: `iter.0` is a live handle used by this thread only.
        check(unsafe { ldb_iter_first(iter.0) }, "ldb_iter_first")?;
        let mut count = 0u64;
        // SAFETY: `iter.0` is a live handle.
        while unsafe { ldb_iter_valid(iter.0) } {
            let (mut key, mut key_len): (*const u8, usize) = (ptr::null(), 0);
            let (mut value, mut value_len): (*const u8, usize) = (ptr::null(), 0);
            // SAFETY: `iter.0` is a live handle used by this thread only; the out pointers are
            // writable.
            let status = unsafe { ldb_iter_key(iter.0, &mut key, &mut key_len) };
            check(status, "ldb_iter_key")?;
            // SAFETY: as above.
            let status = unsafe { ldb_iter_value(iter.0, &mut value, &mut value_len) };
            check(status, "ldb_iter_value")?;
            // SAFETY: on LDB_OK, a borrowed byte range of that length, valid until the iterator
            // moves (below, after its last use).
            let key = unsafe { std::slice::from_raw_parts(key, key_len) };
            // SAFETY: as for the key.
            let value = unsafe { std::slice::from_raw_parts(value, value_len) };
            black_box(touch(key).wrapping_add(touch(value)));
            count += 1;
            // SAFETY: `iter.0` is a live handle used by this thread only.
            check(unsafe { ldb_iter_next(iter.0) }, "ldb_iter_next")?;
        }
        Ok(count)
    }

    fn close(self: Box<Self>) -> Result<()> {
        // SAFETY: a live handle, owned here, so no other thread uses it; `drop` then frees it.
        check(unsafe { ldb_close(self.db.as_ptr()) }, "ldb_close")
    }
}

/// Point reads: every `ldb_get` reads the latest committed state; there is nothing to hold.
struct LightningCReader<'a> {
    engine: &'a LightningCEngine,
}

impl Reader for LightningCReader<'_> {
    fn get(&mut self, key: &[u8]) -> Result<bool> {
        let (mut value, mut len): (*mut u8, usize) = (ptr::null_mut(), 0);
        // SAFETY: `self.engine.db()` is a live handle; the key points to its length in bytes;
        // the out pointers are writable.
        let status = unsafe {
            ldb_get(
                self.engine.db(),
                key.as_ptr(),
                key.len(),
                &mut value,
                &mut len,
            )
        };
        check(status, "ldb_get")?;
        if value.is_null() {
            return Ok(false);
        }
        // SAFETY: `ldb_get` returned LDB_OK with a non-NULL caller-owned value of `len` bytes,
        // freed only by `read_and_free`.
        black_box(unsafe { read_and_free(value, len, touch) });
        Ok(true)
    }
}
