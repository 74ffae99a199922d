//! `ldb_db`: open, close, point reads and writes, sync, flush, compact, stats, verify.

use std::ffi::c_char;

use lightning_db::{Database, Error, Options};

use crate::args::{
    buffer, copy_into, copy_out, handle, key_bytes, malloc_text, out, store_value, text,
    value_bytes,
};
use crate::batch::ldb_batch;
use crate::ldb_durability;
use crate::options::ldb_options;
use crate::pinned::ldb_pinned;
use crate::status::{guard, guard_value, ldb_status};

/// An open database. Thread-safe: any number of threads may use one handle at once, except
/// `ldb_close` and `ldb_db_free`, which must not run while another call on it does.
#[allow(non_camel_case_types)]
pub struct ldb_db {
    /// Stays allocated after `ldb_close` (the engine then answers every call with `CLOSED`), so a
    /// closed handle is never freed memory.
    inner: Database,
}

impl ldb_db {
    /// Runs `f` with the open database, or fails with `LDB_CLOSED`.
    pub(crate) fn with<R>(
        &self,
        f: impl FnOnce(&Database) -> Result<R, Error>,
    ) -> Result<R, Error> {
        if self.inner.is_closed() {
            return Err(Error::new(
                lightning_db::ErrorCode::Closed,
                "the database handle was closed",
            ));
        }
        f(&self.inner)
    }
}

/// Opens (or creates, per option `create_if_missing`) the database in directory `path`.
/// `options` may be NULL for the defaults; they are copied, so the caller may free them at once.
/// On success `*db_out` is a handle to release with `ldb_db_free` (which closes it if needed).
///
/// `path` may hold any bytes the OS accepts (it need not be UTF-8).
///
/// # Safety
/// `path` must be a NUL-terminated string; `options` NULL or a live handle; `db_out` writable.
#[no_mangle]
pub unsafe extern "C" fn ldb_open(
    path: *const c_char,
    options: *const ldb_options,
    db_out: *mut *mut ldb_db,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (path, db_out) = unsafe { (crate::args::path(path, "path")?, out(db_out, "db_out")?) };
        // SAFETY: per this function's contract.
        let options = match unsafe { options.as_ref() } {
            Some(o) => o.inner.clone(),
            None => Options::default(),
        };
        let db = Database::open(path, options)?;
        *db_out = Box::into_raw(Box::new(ldb_db { inner: db }));
        Ok(())
    })
}

/// Closes the database: merges what is in memory into the page file, stops the background
/// thread and releases the directory's lock once no snapshot, iterator or transaction is left
/// (they hold a reference). The handle stays valid: later calls return `LDB_CLOSED`, and a
/// second `ldb_close` returns `LDB_OK`. Release the handle with `ldb_db_free`.
///
/// # Safety
/// `db` must be a live handle, not in use by another thread during this call.
#[no_mangle]
pub unsafe extern "C" fn ldb_close(db: *mut ldb_db) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        unsafe { handle(db, "db") }?.inner.close_in_place()
    })
}

/// Closes the database if still open (ignoring errors; call `ldb_close` first to see them) and
/// releases the handle. NULL is fine; never twice.
///
/// # Safety
/// `db` must be NULL or a live handle from `ldb_open`, not in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn ldb_db_free(db: *mut ldb_db) {
    if db.is_null() {
        return;
    }
    guard_value((), || {
        // SAFETY: a handle from `Box::into_raw` in `ldb_open`, freed once.
        drop(unsafe { Box::from_raw(db) });
    });
}

/// Sets `key` to `value`.
///
/// # Safety
/// `db` must be a live handle; `key`/`value` point to `key_len`/`value_len` bytes (or are NULL
/// with length 0).
#[no_mangle]
pub unsafe extern "C" fn ldb_put(
    db: *const ldb_db,
    key: *const u8,
    key_len: usize,
    value: *const u8,
    value_len: usize,
    durability: ldb_durability,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (db, key, value) = unsafe {
            (
                handle(db, "db")?,
                key_bytes(key, key_len)?,
                value_bytes(value, value_len)?,
            )
        };
        let durability = crate::args::durability(durability)?;
        db.with(|db| match durability {
            None => db.put(key, value),
            Some(d) => db.put_with(key, value, d),
        })
    })
}

/// Removes `key` (an absent key is fine).
///
/// # Safety
/// As `ldb_put`.
#[no_mangle]
pub unsafe extern "C" fn ldb_delete(
    db: *const ldb_db,
    key: *const u8,
    key_len: usize,
    durability: ldb_durability,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (db, key) = unsafe { (handle(db, "db")?, key_bytes(key, key_len)?) };
        let durability = crate::args::durability(durability)?;
        db.with(|db| match durability {
            None => db.delete(key),
            Some(d) => db.delete_with(key, d),
        })
    })
}

/// Applies `batch` atomically. The batch is unchanged and may be reused.
///
/// # Safety
/// `db` and `batch` must be live handles.
#[no_mangle]
pub unsafe extern "C" fn ldb_write(
    db: *const ldb_db,
    batch: *const ldb_batch,
    durability: ldb_durability,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (db, batch) = unsafe { (handle(db, "db")?, handle(batch, "batch")?) };
        let durability = crate::args::durability(durability)?;
        db.with(|db| match durability {
            None => db.write(&batch.inner),
            Some(d) => db.write_with(&batch.inner, d),
        })
    })
}

/// Reads `key`. Found: `*value_out` is a copy the caller releases with `ldb_free` (never NULL,
/// even for an empty value) and `*value_len_out` its length. Absent: `*value_out` is NULL and
/// `LDB_OK` is returned — absence is not an error.
///
/// # Safety
/// `db` must be a live handle; `key` as in `ldb_put`; `value_out`, `value_len_out` writable.
#[no_mangle]
pub unsafe extern "C" fn ldb_get(
    db: *const ldb_db,
    key: *const u8,
    key_len: usize,
    value_out: *mut *mut u8,
    value_len_out: *mut usize,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (db, key, value_out, len_out) = unsafe {
            (
                handle(db, "db")?,
                key_bytes(key, key_len)?,
                out(value_out, "value_out")?,
                out(value_len_out, "value_len_out")?,
            )
        };
        let found = db.with(|db| db.get_with(key, copy_out))?;
        store_value(found, value_out, len_out)
    })
}

/// Reads `key` without copying it where it lies in one piece: `*pinned_out` is a handle (NULL if
/// absent) whose bytes `ldb_pinned_data` gives, valid until `ldb_pinned_free`. Holding it keeps
/// the memory it lies in alive, like a snapshot; release it soon.
///
/// # Safety
/// `db` must be a live handle; `key` as in `ldb_put`; `pinned_out` writable.
#[no_mangle]
pub unsafe extern "C" fn ldb_get_pinned(
    db: *const ldb_db,
    key: *const u8,
    key_len: usize,
    pinned_out: *mut *mut ldb_pinned,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (db, key, pinned_out) = unsafe {
            (
                handle(db, "db")?,
                key_bytes(key, key_len)?,
                out(pinned_out, "pinned_out")?,
            )
        };
        *pinned_out = ldb_pinned::into_raw(db.with(|db| db.get_pinned(key))?);
        Ok(())
    })
}

/// Reads `key` into the caller's buffer, allocating nothing. Found: `*found_out` is true,
/// `*value_len_out` is the value's length, and the value is copied to `buf` if that length is
/// at most `buf_cap`; if it is longer, nothing is copied (call again with a buffer that large,
/// or use `ldb_get`). Absent: `*found_out` is false and `*value_len_out` 0. `buf` may be NULL
/// when `buf_cap` is 0, to test whether a key exists or learn its value's length.
///
/// # Safety
/// `db` must be a live handle; `key` as in `ldb_put`; `buf` NULL or writable for `buf_cap`
/// bytes; `value_len_out`, `found_out` writable.
#[no_mangle]
pub unsafe extern "C" fn ldb_get_into(
    db: *const ldb_db,
    key: *const u8,
    key_len: usize,
    buf: *mut u8,
    buf_cap: usize,
    value_len_out: *mut usize,
    found_out: *mut bool,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (db, key, buf, len_out, found_out) = unsafe {
            (
                handle(db, "db")?,
                key_bytes(key, key_len)?,
                buffer(buf, buf_cap, "buf")?,
                out(value_len_out, "value_len_out")?,
                out(found_out, "found_out")?,
            )
        };
        let found = db.with(|db| db.get_with(key, |value| copy_into(value, buf)))?;
        *found_out = found.is_some();
        *len_out = found.unwrap_or(0);
        Ok(())
    })
}

/// Makes every write so far durable, including buffered ones.
///
/// # Safety
/// `db` must be a live handle.
#[no_mangle]
pub unsafe extern "C" fn ldb_sync(db: *const ldb_db) -> ldb_status {
    // SAFETY: per this function's contract.
    guard(|| unsafe { handle(db, "db") }?.with(Database::sync))
}

/// Merges everything in memory into the page file and waits until it is there.
///
/// # Safety
/// `db` must be a live handle.
#[no_mangle]
pub unsafe extern "C" fn ldb_flush(db: *const ldb_db) -> ldb_status {
    // SAFETY: per this function's contract.
    guard(|| unsafe { handle(db, "db") }?.with(Database::flush))
}

/// Gives the page file's free space back to the file system: merges everything in memory into
/// the page file (as `ldb_flush`), moves the tree's pages out of the file's tail and cuts the
/// file. Online: other threads go on reading and writing, and a crash at any point loses nothing.
/// Pages an open snapshot, iterator or transaction still reads stay until it is freed. The bytes
/// the page file shrank by go to `*bytes_out` (NULL: not wanted). Also runs by itself after a
/// merge and at close when free pages pass a third of a page file of 64 MiB or more.
///
/// # Safety
/// `db` must be a live handle; `bytes_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ldb_compact(db: *const ldb_db, bytes_out: *mut u64) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let given_back = unsafe { handle(db, "db") }?.with(Database::compact)?;
        // SAFETY: per this function's contract (NULL is allowed).
        if let Some(out) = unsafe { bytes_out.as_mut() } {
            *out = given_back;
        }
        Ok(())
    })
}

/// Changes an encrypted database's key or passphrase to the `encryption_key` or `passphrase` set
/// in `options` (with `kdf` and its costs for a passphrase); the other options are ignored. Only
/// the wrapped data key in the meta page is rewritten, atomically: if the call fails or the
/// process dies during it, the old key or the new one opens the database, never neither.
/// `LDB_INVALID_ARGUMENT` for a database that is not encrypted, `LDB_INVALID_OPTION` when
/// `options` hold no key or passphrase, or both.
///
/// # Safety
/// `db` must be a live handle; `options` a live handle.
#[no_mangle]
pub unsafe extern "C" fn ldb_rekey(db: *const ldb_db, options: *const ldb_options) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let db = unsafe { handle(db, "db") }?;
        // SAFETY: per this function's contract.
        let options = unsafe { handle(options, "options") }?;
        db.with(|d| d.rekey(&options.inner))
    })
}

/// Whether the `encryption_key` or `passphrase` in `options` (or neither, for a database that is
/// not encrypted) opens this open database: `LDB_OK`, or the status `ldb_open` with `options`
/// would give (`LDB_WRONG_KEY`, `LDB_INVALID_OPTION`). For a library that hands an open database
/// to a second opener, so that it is held to the same key. `options` NULL: the defaults.
///
/// # Safety
/// `db` must be a live handle; `options` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn ldb_check_key(
    db: *const ldb_db,
    options: *const ldb_options,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let db = unsafe { handle(db, "db") }?;
        // SAFETY: per this function's contract (NULL is allowed).
        let options = match unsafe { options.as_ref() } {
            Some(o) => o.inner.clone(),
            None => Options::default(),
        };
        db.with(|d| d.check_key(&options))
    })
}

/// Counters and sizes as text, one `name=value` line each (names as in the Rust `Stats`), in
/// `*text_out`: NUL-terminated, released by the caller with `ldb_free`. `text_len_out` may be
/// NULL; otherwise it gets the length without the NUL.
///
/// # Safety
/// `db` must be a live handle; `text_out` writable; `text_len_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ldb_stats(
    db: *const ldb_db,
    text_out: *mut *mut c_char,
    text_len_out: *mut usize,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (db, text_out) = unsafe { (handle(db, "db")?, out(text_out, "text_out")?) };
        let text = db.with(|db| Ok(db.stats().to_string()))?;
        *text_out = malloc_text(&text)?;
        // SAFETY: per this function's contract (NULL is allowed).
        if let Some(len) = unsafe { text_len_out.as_mut() } {
            *len = text.len();
        }
        Ok(())
    })
}

/// One counter of `ldb_stats` by name (e.g. `"tree_keys"`) in `*value_out`;
/// `LDB_INVALID_ARGUMENT` for an unknown name.
///
/// # Safety
/// `db` must be a live handle; `name` a NUL-terminated string; `value_out` writable.
#[no_mangle]
pub unsafe extern "C" fn ldb_stats_value(
    db: *const ldb_db,
    name: *const c_char,
    value_out: *mut u64,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (db, name, value_out) = unsafe {
            (
                handle(db, "db")?,
                text(name, "name")?,
                out(value_out, "value_out")?,
            )
        };
        let stats = db.with(|db| Ok(db.stats()))?;
        let (_, value) = stats
            .to_pairs()
            .into_iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| crate::args::invalid(format!("no statistic is named {name:?}")))?;
        *value_out = value;
        Ok(())
    })
}

/// Reads and checks every page and WAL record. `LDB_OK` if all is well, else `LDB_CORRUPTION`
/// (or an I/O error) with the fault in the message. If `report_out` is not NULL it gets a text of
/// what was checked (`name=value` lines) to release with `ldb_free`.
///
/// # Safety
/// `db` must be a live handle; `report_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ldb_verify(db: *const ldb_db, report_out: *mut *mut c_char) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let db = unsafe { handle(db, "db") }?;
        let report = db.with(Database::verify)?;
        // SAFETY: per this function's contract (NULL is allowed).
        if let Some(report_out) = unsafe { report_out.as_mut() } {
            let r = &report;
            let text = format!(
                "pages={}\nleaf_pages={}\nbranch_pages={}\noverflow_pages={}\nfree_pages={}\n\
                 tree_keys={}\ntree_depth={}\nwal_segments={}\nwal_records={}\n",
                r.pages,
                r.leaf_pages,
                r.branch_pages,
                r.overflow_pages,
                r.free_pages,
                r.tree_keys,
                r.tree_depth,
                r.wal_segments,
                r.wal_records
            );
            *report_out = malloc_text(&text)?;
        }
        Ok(())
    })
}
