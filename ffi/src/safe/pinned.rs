//! [`Pinned`]: a value read without copying it (see `ldb_get_pinned`).

use std::ptr::{self, NonNull};

use super::error::{check, Result};
use crate::{ldb_pinned, ldb_pinned_data, ldb_pinned_free, ldb_status};

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

/// Reads a value through `get`, which fills a pinned handle (NULL if the key is absent).
pub(super) fn read_pinned(
    get: impl FnOnce(*mut *mut ldb_pinned) -> ldb_status,
) -> Result<Option<Pinned>> {
    let mut pinned: *mut ldb_pinned = ptr::null_mut();
    check(get(&mut pinned))?;
    Ok(NonNull::new(pinned).map(Pinned))
}
