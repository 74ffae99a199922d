//! `ldb_pinned`: a value read without copying it (see `ldb_get_pinned`).

use lightning_db::PinnedValue;

use crate::status::guard_value;

/// A value kept where it lies. Its bytes do not change while it lives. Thread-safe to read.
#[allow(non_camel_case_types)]
pub struct ldb_pinned {
    value: PinnedValue,
}

impl ldb_pinned {
    /// A handle for a found value, NULL for an absent one.
    pub(crate) fn into_raw(value: Option<PinnedValue>) -> *mut ldb_pinned {
        value.map_or(std::ptr::null_mut(), |value| {
            Box::into_raw(Box::new(ldb_pinned { value }))
        })
    }
}

/// The value's bytes, valid until `ldb_pinned_free`, and its length in `*len_out` (which may be
/// NULL). NULL (and length 0) for a NULL handle. An empty value gives a non-NULL pointer.
///
/// # Safety
/// `pinned` must be NULL or a live handle; `len_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ldb_pinned_data(
    pinned: *const ldb_pinned,
    len_out: *mut usize,
) -> *const u8 {
    guard_value(std::ptr::null(), || {
        // SAFETY: per this function's contract.
        let (data, len) = match unsafe { pinned.as_ref() } {
            Some(p) => (p.value.as_ptr(), p.value.len()),
            None => (std::ptr::null(), 0),
        };
        // SAFETY: per this function's contract (NULL is allowed).
        if let Some(len_out) = unsafe { len_out.as_mut() } {
            *len_out = len;
        }
        data
    })
}

/// Releases a pinned value. NULL is fine; never twice.
///
/// # Safety
/// `pinned` must be NULL or a live handle from an `ldb_*get_pinned` call.
#[no_mangle]
pub unsafe extern "C" fn ldb_pinned_free(pinned: *mut ldb_pinned) {
    if !pinned.is_null() {
        guard_value((), || {
            // SAFETY: a handle from `Box::into_raw` in `ldb_pinned::into_raw`, freed once.
            drop(unsafe { Box::from_raw(pinned) })
        });
    }
}
