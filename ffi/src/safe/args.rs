//! What crosses the boundary: strings handed in, and the copied values and texts the library
//! hands out for the caller to own (freed here with `ldb_free`).

use std::ffi::{c_char, CStr, CString};
use std::ptr;

use super::error::{check, Error, Result};
use crate::{ldb_free, ldb_status};

pub(super) fn c_string(s: &str, what: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::argument(&format!("{what} contains a NUL byte")))
}

/// Takes ownership of a `malloc`ed NUL-terminated text from the library.
///
/// # Safety
/// `text` must be NULL or such a text, not used afterwards.
pub(super) unsafe fn owned_text(text: *mut c_char) -> String {
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

/// Reads a value into a `Vec` through `get`, which fills a `malloc`ed copy.
pub(super) fn read_value(
    get: impl FnOnce(*mut *mut u8, *mut usize) -> ldb_status,
) -> Result<Option<Vec<u8>>> {
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
