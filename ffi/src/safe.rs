//! A safe Rust wrapper over this crate's C ABI, shared by the Python, Node and Java bindings so
//! none of them repeats the unsafe glue (DESIGN §1). Handles free themselves on drop; statuses
//! become [`Error`]s carrying the status and the message. Everything goes through the same
//! `extern "C"` functions a C program calls.

use std::ffi::{c_char, CStr, CString};
use std::mem::MaybeUninit;
use std::ptr::{self, NonNull};

use crate::*;

/// Fork-safe, poison-free locks for the bindings' own state (see the module's notes).
pub use lightning_db::sync;

mod chunked;
pub use chunked::Chunked;
mod children;
pub use children::{Children, Slot};

/// A failed call: its status (never `LDB_OK`) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub status: ldb_status,
    pub message: String,
}

impl Error {
    /// The status's stable name, e.g. `"CONFLICT"`.
    pub fn name(&self) -> &'static str {
        // SAFETY: `ldb_status_name` returns a static NUL-terminated ASCII string.
        unsafe { CStr::from_ptr(ldb_status_name(self.status as i32)) }
            .to_str()
            .unwrap_or("UNKNOWN")
    }

    /// The status's stable number.
    pub fn code(&self) -> i32 {
        self.status as i32
    }

    fn argument(message: &str) -> Error {
        Error {
            status: ldb_status::LDB_INVALID_ARGUMENT,
            message: message.to_string(),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.name(), self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

fn check(status: ldb_status) -> Result<()> {
    if status == ldb_status::LDB_OK {
        return Ok(());
    }
    // SAFETY: valid until the next call on this thread; copied at once.
    let message = unsafe { CStr::from_ptr(ldb_last_error_message()) };
    Err(Error {
        status,
        message: message.to_string_lossy().into_owned(),
    })
}

fn c_string(s: &str, what: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::argument(&format!("{what} contains a NUL byte")))
}

/// Takes ownership of a `malloc`ed NUL-terminated text from the library.
///
/// # Safety
/// `text` must be NULL or such a text, not used afterwards.
unsafe fn owned_text(text: *mut c_char) -> String {
    if text.is_null() {
        return String::new();
    }
    // SAFETY: per this function's contract.
    let s = unsafe { CStr::from_ptr(text) }
        .to_string_lossy()
        .into_owned();
    // SAFETY: caller-owned memory from the library, freed once.
    unsafe { ldb_free(text.cast()) };
    s
}

/// How durable a write is when the call returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// The database's option `sync`.
    #[default]
    Default,
    Sync,
    Buffered,
}

impl Durability {
    fn raw(self) -> ldb_durability {
        match self {
            Durability::Default => LDB_DURABILITY_DEFAULT,
            Durability::Sync => LDB_DURABILITY_SYNC,
            Durability::Buffered => LDB_DURABILITY_BUFFERED,
        }
    }
}

/// A transaction's isolation level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Isolation {
    #[default]
    Snapshot,
    Serializable,
}

/// Which keys an iterator covers, and in which direction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRange {
    /// First key (inclusive); `None`: from the smallest.
    pub start: Option<Vec<u8>>,
    /// Where the range stops (exclusive); `None`: to the largest.
    pub end: Option<Vec<u8>>,
    /// Exactly the keys with this prefix (`start` and `end` must be `None`).
    pub prefix: Option<Vec<u8>>,
    pub reverse: bool,
}

impl KeyRange {
    /// The C description of this range; it borrows from `self`.
    fn raw(&self) -> ldb_range {
        let (start, start_len) = parts(&self.start);
        let (end, end_len) = parts(&self.end);
        let (prefix, prefix_len) = parts(&self.prefix);
        ldb_range {
            start,
            start_len,
            end,
            end_len,
            prefix,
            prefix_len,
            reverse: self.reverse,
        }
    }
}

fn parts(bound: &Option<Vec<u8>>) -> (*const u8, usize) {
    match bound {
        // Never NULL, even for an empty key (NULL would mean "no bound"): an empty `Vec`'s
        // pointer is dangling but not NULL.
        Some(b) => (b.as_ptr(), b.len()),
        None => (ptr::null(), 0),
    }
}

/// Reads a value into a `Vec` through `get`, which fills a `malloc`ed copy.
fn read_value(get: impl FnOnce(*mut *mut u8, *mut usize) -> ldb_status) -> Result<Option<Vec<u8>>> {
    let mut value: *mut u8 = ptr::null_mut();
    let mut len = 0usize;
    check(get(&mut value, &mut len))?;
    if value.is_null() {
        return Ok(None);
    }
    // SAFETY: the library returned `len` bytes at `value`, owned by us.
    let copy = unsafe { std::slice::from_raw_parts(value, len) }.to_vec();
    // SAFETY: caller-owned memory from the library, freed once.
    unsafe { ldb_free(value.cast()) };
    Ok(Some(copy))
}

fn read_pinned(get: impl FnOnce(*mut *mut ldb_pinned) -> ldb_status) -> Result<Option<Pinned>> {
    let mut pinned: *mut ldb_pinned = ptr::null_mut();
    check(get(&mut pinned))?;
    Ok(NonNull::new(pinned).map(Pinned))
}

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
        check(unsafe { ldb_open(path.as_ptr(), options.0.as_ptr(), &mut db) })?;
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
        check(unsafe { ldb_write(self.raw(), batch.0.as_ptr(), durability.raw()) })
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
        let mut snapshot = ptr::null_mut();
        // SAFETY: live handle; writable out-pointer.
        check(unsafe { ldb_snapshot_new(self.raw(), &mut snapshot) })?;
        NonNull::new(snapshot)
            .map(Snapshot)
            .ok_or_else(|| Error::argument("no snapshot handle"))
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
        let isolation = match isolation {
            Isolation::Snapshot => LDB_ISOLATION_SNAPSHOT,
            Isolation::Serializable => LDB_ISOLATION_SERIALIZABLE,
        };
        let mut txn = ptr::null_mut();
        // SAFETY: live handle; writable out-pointer.
        check(unsafe {
            ldb_txn_begin(self.raw(), isolation, read_only, durability.raw(), &mut txn)
        })?;
        NonNull::new(txn)
            .map(Txn)
            .ok_or_else(|| Error::argument("no transaction handle"))
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        // SAFETY: live handle, freed once; `&mut self` keeps other calls out.
        unsafe { ldb_db_free(self.0.as_ptr()) }
    }
}

/// Options as name/value pairs; only [`Db::open`] needs them.
struct Options(NonNull<ldb_options>);

impl Options {
    fn new(pairs: &[(&str, &str)]) -> Result<Options> {
        let mut raw = ptr::null_mut();
        // SAFETY: writable out-pointer.
        check(unsafe { ldb_options_new(&mut raw) })?;
        let options = Options(NonNull::new(raw).ok_or_else(|| Error::argument("no options"))?);
        for (name, value) in pairs {
            let (name, value) = (
                c_string(name, "option name")?,
                c_string(value, "option value")?,
            );
            // SAFETY: live handle; valid strings.
            check(unsafe { ldb_options_set(options.0.as_ptr(), name.as_ptr(), value.as_ptr()) })?;
        }
        Ok(options)
    }
}

impl Drop for Options {
    fn drop(&mut self) {
        // SAFETY: live handle, freed once.
        unsafe { ldb_options_free(self.0.as_ptr()) }
    }
}

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

/// A read-only view as of one moment; see `ldb_snapshot`.
pub struct Snapshot(NonNull<ldb_snapshot>);

// SAFETY: `ldb_snapshot` is documented thread-safe; it is freed only in `drop`.
unsafe impl Send for Snapshot {}
// SAFETY: as above.
unsafe impl Sync for Snapshot {}

impl Snapshot {
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

/// A transaction; see `ldb_txn`. Rolled back on drop unless committed.
pub struct Txn(NonNull<ldb_txn>);

// SAFETY: `ldb_txn` is documented thread-safe; it is freed only in `drop`.
unsafe impl Send for Txn {}
// SAFETY: as above.
unsafe impl Sync for Txn {}

impl Txn {
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

/// An iterator; see `ldb_iter`. Positioned before the first entry until moved.
pub struct Iter(NonNull<ldb_iter>);

// SAFETY: an iterator is used by one thread at a time, which `&mut self` on every move ensures.
unsafe impl Send for Iter {}

impl Iter {
    fn make(new: impl FnOnce(*mut *mut ldb_iter) -> ldb_status) -> Result<Iter> {
        let mut raw = ptr::null_mut();
        check(new(&mut raw))?;
        NonNull::new(raw)
            .map(Iter)
            .ok_or_else(|| Error::argument("no iterator handle"))
    }

    fn step(&mut self, f: unsafe extern "C" fn(*mut ldb_iter) -> ldb_status) -> Result<()> {
        // SAFETY: live handle used by this thread only.
        check(unsafe { f(self.0.as_ptr()) })
    }

    pub fn first(&mut self) -> Result<()> {
        self.step(ldb_iter_first)
    }

    pub fn last(&mut self) -> Result<()> {
        self.step(ldb_iter_last)
    }

    // A cursor move, as named in the C ABI; bindings build their language's iterator on it.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<()> {
        self.step(ldb_iter_next)
    }

    pub fn prev(&mut self) -> Result<()> {
        self.step(ldb_iter_prev)
    }

    pub fn seek(&mut self, key: &[u8]) -> Result<()> {
        // SAFETY: live handle used by this thread only; slice valid for its length.
        check(unsafe { ldb_iter_seek(self.0.as_ptr(), key.as_ptr(), key.len()) })
    }

    pub fn valid(&self) -> bool {
        // SAFETY: live handle.
        unsafe { ldb_iter_valid(self.0.as_ptr()) }
    }

    /// The current key, until the next move; `None` if not at an entry.
    pub fn key(&self) -> Option<&[u8]> {
        let (mut key, mut len) = (ptr::null(), 0);
        // SAFETY: live handle; writable out-pointers.
        let status = unsafe { ldb_iter_key(self.0.as_ptr(), &mut key, &mut len) };
        // SAFETY: borrowed bytes, valid until the iterator moves, which needs `&mut self`.
        (status == ldb_status::LDB_OK).then(|| unsafe { std::slice::from_raw_parts(key, len) })
    }

    /// The current value, until the next move; `None` if not at an entry.
    pub fn value(&mut self) -> Result<Option<&[u8]>> {
        if !self.valid() {
            return Ok(None);
        }
        let (mut value, mut len) = (ptr::null(), 0);
        // SAFETY: live handle used by this thread only; writable out-pointers.
        check(unsafe { ldb_iter_value(self.0.as_ptr(), &mut value, &mut len) })?;
        // SAFETY: borrowed bytes, valid until the iterator moves, which needs `&mut self`.
        Ok(Some(unsafe { std::slice::from_raw_parts(value, len) }))
    }
}

impl Drop for Iter {
    fn drop(&mut self) {
        // SAFETY: live handle, freed once.
        unsafe { ldb_iter_free(self.0.as_ptr()) }
    }
}

/// A value read without copying; see `ldb_pinned`. Dereferences to its bytes.
pub struct Pinned(NonNull<ldb_pinned>);

// SAFETY: `ldb_pinned` is documented thread-safe to read; it is freed only in `drop`.
unsafe impl Send for Pinned {}
// SAFETY: as above.
unsafe impl Sync for Pinned {}

impl std::ops::Deref for Pinned {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        let mut len = 0;
        // SAFETY: live handle; writable out-pointer.
        let data = unsafe { ldb_pinned_data(self.0.as_ptr(), &mut len) };
        // SAFETY: `len` bytes at `data`, unchanged until the handle is freed in `drop`.
        unsafe { std::slice::from_raw_parts(data, len) }
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        // SAFETY: live handle, freed once.
        unsafe { ldb_pinned_free(self.0.as_ptr()) }
    }
}

/// The library's version string.
pub fn version() -> &'static str {
    // SAFETY: a static NUL-terminated string.
    unsafe { CStr::from_ptr(ldb_version()) }
        .to_str()
        .unwrap_or("")
}
