//! [`version`]: the library's version string (`ldb_version`).

use std::ffi::CStr;

use crate::ldb_version;

/// The library's version string.
pub fn version() -> &'static str {
    // SAFETY: a static NUL-terminated string.
    unsafe { CStr::from_ptr(ldb_version()) }
        .to_str()
        .unwrap_or("")
}
