//! `ldb_options`: settings by name and string value, as in every language.

use std::ffi::c_char;

use lightning_db::Options;

use crate::args::{handle, handle_mut, malloc_text, out, text};
use crate::status::{guard, ldb_status};

/// Options for `ldb_open`. Not thread-safe: use one from one thread at a time.
#[allow(non_camel_case_types)]
pub struct ldb_options {
    pub(crate) inner: Options,
}

/// Creates options with every default; release them with `ldb_options_free`.
///
/// # Safety
/// `options_out` must be valid for writes.
#[no_mangle]
pub unsafe extern "C" fn ldb_options_new(options_out: *mut *mut ldb_options) -> ldb_status {
    guard(|| {
        // SAFETY: the caller passes a writable pointer (NULL is rejected).
        let out = unsafe { out(options_out, "options_out") }?;
        *out = Box::into_raw(Box::new(ldb_options {
            inner: Options::default(),
        }));
        Ok(())
    })
}

/// Sets option `name` (snake_case, camelCase or kebab-case) from its string form, e.g.
/// `"cache_size"`, `"256MiB"`. On `LDB_INVALID_OPTION` the options are unchanged and the message
/// says what is allowed.
///
/// # Safety
/// `options` must be a live handle; `name` and `value` NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn ldb_options_set(
    options: *mut ldb_options,
    name: *const c_char,
    value: *const c_char,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (options, name, value) = unsafe {
            (
                handle_mut(options, "options")?,
                text(name, "name")?,
                text(value, "value")?,
            )
        };
        options.inner.set(name, value)
    })
}

/// The canonical string form of option `name` in `*value_out`, a NUL-terminated string the caller
/// releases with `ldb_free`.
///
/// # Safety
/// `options` must be a live handle; `name` a NUL-terminated string; `value_out` writable.
#[no_mangle]
pub unsafe extern "C" fn ldb_options_get(
    options: *const ldb_options,
    name: *const c_char,
    value_out: *mut *mut c_char,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (options, name, value_out) = unsafe {
            (
                handle(options, "options")?,
                text(name, "name")?,
                out(value_out, "value_out")?,
            )
        };
        *value_out = malloc_text(&options.inner.get(name)?)?;
        Ok(())
    })
}

/// Applies the environment variables `LIGHTNING_DB_<NAME>` (e.g. `LIGHTNING_DB_CACHE_SIZE`).
///
/// # Safety
/// `options` must be a live handle.
#[no_mangle]
pub unsafe extern "C" fn ldb_options_apply_env(options: *mut ldb_options) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        unsafe { handle_mut(options, "options") }?.inner.apply_env()
    })
}

/// Releases options. NULL is fine; never twice. A database opened with them does not need them.
///
/// # Safety
/// `options` must be NULL or a live handle from `ldb_options_new`.
#[no_mangle]
pub unsafe extern "C" fn ldb_options_free(options: *mut ldb_options) {
    if !options.is_null() {
        // SAFETY: a handle from `Box::into_raw` in `ldb_options_new`, freed once.
        drop(unsafe { Box::from_raw(options) });
    }
}
