//! Checking what C hands in (pointers, lengths, strings, enum values) and handing memory out.

use std::ffi::{c_char, CStr};
use std::mem::MaybeUninit;

use lightning_db::{check_key_len, check_value_len, Durability, Error, ErrorCode};

#[cold]
pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidArgument, message)
}

/// The bytes at `ptr .. ptr + len`. A zero length needs no pointer; NULL with a length is an error.
///
/// # Safety
/// If `ptr` is not NULL and `len` > 0, it must point to `len` readable bytes that stay unchanged
/// for `'a`.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8], Error> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(invalid(format!("{what} is NULL but its length is {len}")));
    }
    // No object is larger than `isize::MAX` bytes: such a length is a caller's bug (often a
    // negative number cast to `size_t`), reported before anything reads memory.
    if len > isize::MAX as usize {
        return Err(invalid(format!(
            "{what} has a length of {len} bytes, more than any object can have"
        )));
    }
    // SAFETY: the caller promises `len` readable bytes at `ptr`, unchanged for 'a; `len` is at
    // most `isize::MAX`, as `from_raw_parts` requires.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A key from C: its length checked against the key limit before any byte of it is read or
/// copied, so a wrong length gets `INVALID_ARGUMENT`, not a read past the caller's memory.
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn key_bytes<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], Error> {
    check_key_len(len)?;
    // SAFETY: per this function's contract.
    unsafe { bytes(ptr, len, "key") }
}

/// A value from C: its length checked against the value limit first, as [`key_bytes`] does.
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn value_bytes<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], Error> {
    check_value_len(len)?;
    // SAFETY: per this function's contract.
    unsafe { bytes(ptr, len, "value") }
}

/// The NUL-terminated UTF-8 string at `ptr`.
///
/// # Safety
/// If not NULL, `ptr` must point to a NUL-terminated string that stays unchanged for `'a`.
pub(crate) unsafe fn text<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, Error> {
    if ptr.is_null() {
        return Err(invalid(format!("{what} is NULL")));
    }
    // SAFETY: the caller promises a NUL-terminated string at `ptr`.
    let s = unsafe { CStr::from_ptr(ptr) };
    s.to_str()
        .map_err(|_| invalid(format!("{what} is not valid UTF-8")))
}

/// The NUL-terminated path at `ptr`: any bytes but NUL, as the OS allows.
///
/// # Safety
/// If not NULL, `ptr` must point to a NUL-terminated string that stays unchanged for `'a`.
pub(crate) unsafe fn path<'a>(
    ptr: *const c_char,
    what: &str,
) -> Result<&'a std::path::Path, Error> {
    use std::os::unix::ffi::OsStrExt;
    if ptr.is_null() {
        return Err(invalid(format!("{what} is NULL")));
    }
    // SAFETY: the caller promises a NUL-terminated string at `ptr`.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    Ok(std::path::Path::new(std::ffi::OsStr::from_bytes(bytes)))
}

/// `&mut *out`, or an error if `out` is NULL.
///
/// # Safety
/// If not NULL, `out` must be valid for writes.
pub(crate) unsafe fn out<'a, T>(out: *mut T, what: &str) -> Result<&'a mut T, Error> {
    // SAFETY: the caller promises `out` is NULL or valid for writes.
    unsafe { out.as_mut() }.ok_or_else(|| invalid(format!("{what} is NULL")))
}

/// The caller's writable buffer of `cap` bytes at `ptr` (empty if `cap` is 0). Its bytes may be
/// uninitialized (C callers pass fresh buffers), so it is a slice of `MaybeUninit<u8>`: a
/// `&mut [u8]` over uninitialized memory would be undefined behaviour.
///
/// # Safety
/// If `cap` is not 0, `ptr` must be valid for writes of `cap` bytes, not aliased, for `'a`.
pub(crate) unsafe fn buffer<'a>(
    ptr: *mut u8,
    cap: usize,
    what: &str,
) -> Result<&'a mut [MaybeUninit<u8>], Error> {
    if cap == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(invalid(format!("{what} is NULL but its capacity is {cap}")));
    }
    if cap > isize::MAX as usize {
        return Err(invalid(format!(
            "{what} has a capacity of {cap} bytes, more than any object can have"
        )));
    }
    // SAFETY: the caller promises `cap` writable bytes at `ptr`, used by nothing else for 'a;
    // `MaybeUninit<u8>` has the layout of `u8` and asks nothing of their contents.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr.cast::<MaybeUninit<u8>>(), cap) })
}

/// The shared reference behind a handle, or an error if it is NULL.
///
/// # Safety
/// If not NULL, `handle` must come from this library and not have been freed.
pub(crate) unsafe fn handle<'a, T>(handle: *const T, what: &str) -> Result<&'a T, Error> {
    // SAFETY: the caller promises a live handle or NULL.
    unsafe { handle.as_ref() }.ok_or_else(|| invalid(format!("{what} is NULL")))
}

/// The exclusive reference behind a handle, or an error if it is NULL.
///
/// # Safety
/// As [`handle`], and no other thread may use the handle meanwhile.
pub(crate) unsafe fn handle_mut<'a, T>(handle: *mut T, what: &str) -> Result<&'a mut T, Error> {
    // SAFETY: the caller promises a live handle or NULL, used by one thread at a time.
    unsafe { handle.as_mut() }.ok_or_else(|| invalid(format!("{what} is NULL")))
}

/// `ldb_durability` values.
pub(crate) fn durability(value: i32) -> Result<Option<Durability>, Error> {
    match value {
        crate::LDB_DURABILITY_DEFAULT => Ok(None),
        crate::LDB_DURABILITY_SYNC => Ok(Some(Durability::Sync)),
        crate::LDB_DURABILITY_BUFFERED => Ok(Some(Durability::Buffered)),
        other => Err(invalid(format!(
            "durability {other} is not LDB_DURABILITY_DEFAULT (0), LDB_DURABILITY_SYNC (1) or \
             LDB_DURABILITY_BUFFERED (2)"
        ))),
    }
}

/// A copy of `data` in memory from `malloc`, for the caller to release with `ldb_free`. Never
/// NULL on success, even for empty data, so NULL can mean "absent".
pub(crate) fn malloc_copy(data: &[u8]) -> Result<*mut u8, Error> {
    // SAFETY: malloc with a non-zero size; the result is checked for NULL below.
    let ptr = unsafe { libc::malloc(data.len().max(1)) } as *mut u8;
    if ptr.is_null() {
        return Err(Error::new(
            ErrorCode::NoSpace,
            format!("out of memory allocating {} bytes", data.len()),
        ));
    }
    // SAFETY: `ptr` has room for `data.len()` bytes and does not overlap `data`.
    unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), ptr, data.len()) };
    Ok(ptr)
}

/// A NUL-terminated copy of `text` from `malloc`, for `ldb_free`.
pub(crate) fn malloc_text(text: &str) -> Result<*mut c_char, Error> {
    let mut bytes = Vec::with_capacity(text.len() + 1);
    bytes.extend_from_slice(text.as_bytes());
    bytes.push(0);
    Ok(malloc_copy(&bytes)? as *mut c_char)
}

/// For `get_with`: a `malloc` copy of the value and its length.
pub(crate) fn copy_out(value: &[u8]) -> Result<(*mut u8, usize), Error> {
    Ok((malloc_copy(value)?, value.len()))
}

/// Copies `value` to the start of `buf` if it fits; its length either way.
pub(crate) fn copy_into(value: &[u8], buf: &mut [MaybeUninit<u8>]) -> usize {
    if let Some(dest) = buf.get_mut(..value.len()) {
        // SAFETY: `dest` is `value.len()` writable bytes that do not overlap `value` (one is the
        // caller's buffer, the other the engine's memory).
        unsafe {
            std::ptr::copy_nonoverlapping(
                value.as_ptr(),
                dest.as_mut_ptr().cast::<u8>(),
                value.len(),
            )
        };
    }
    value.len()
}

/// Stores what a `get_with(key, copy_out)` found in `*value_out` / `*len_out`: the copy, or NULL
/// and 0 if the key is absent.
pub(crate) fn store_value(
    found: Option<Result<(*mut u8, usize), Error>>,
    value_out: &mut *mut u8,
    len_out: &mut usize,
) -> Result<(), Error> {
    let (ptr, len) = found.transpose()?.unwrap_or((std::ptr::null_mut(), 0));
    *value_out = ptr;
    *len_out = len;
    Ok(())
}
