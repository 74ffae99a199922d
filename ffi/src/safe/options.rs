//! [`Options`]: the name/value settings [`Db::open`](super::Db::open) hands to `ldb_open`.

use std::ptr::{self, NonNull};

use super::args::c_string;
use super::error::{check, Error, Result};
use crate::{ldb_options, ldb_options_free, ldb_options_new, ldb_options_set};

/// Options as name/value pairs; only [`Db::open`](super::Db::open) needs them.
pub(super) struct Options(NonNull<ldb_options>);

impl Options {
    pub(super) fn new(pairs: &[(&str, &str)]) -> Result<Options> {
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
            let status =
                unsafe { ldb_options_set(options.0.as_ptr(), name.as_ptr(), value.as_ptr()) };
            // The value may be a key or a passphrase: wiped, not left behind in freed memory.
            zeroize::Zeroize::zeroize(&mut value.into_bytes());
            check(status)?;
        }
        Ok(options)
    }

    pub(super) fn raw(&self) -> *const ldb_options {
        self.0.as_ptr()
    }
}

impl Drop for Options {
    fn drop(&mut self) {
        // SAFETY: live handle, freed once.
        unsafe { ldb_options_free(self.0.as_ptr()) }
    }
}
