//! The C ABI of Lightning DB: `liblightning` and `include/lightning.h` (generated from this crate
//! by cbindgen). Every `extern "C"` function is `ldb_*`, runs inside a panic boundary, checks its
//! pointers, and returns an [`ldb_status`] where it can fail. The conventions are listed at the
//! top of the header (see `cbindgen.toml`).
//!
//! [`safe`] wraps these same functions in RAII types for the language bindings, so none of them
//! repeats the unsafe glue.

mod args;
mod batch;
mod bulk_load;
mod db;
mod iter;
mod options;
mod pinned;
pub mod safe;
mod snapshot;
mod status;
mod txn;

pub use batch::*;
pub use bulk_load::*;
pub use db::*;
pub use iter::*;
pub use options::*;
pub use pinned::*;
pub use snapshot::*;
pub use status::*;
pub use txn::*;

use std::ffi::c_char;

/// Major version of the library; checked against `Cargo.toml` by a test.
pub const LDB_VERSION_MAJOR: u32 = 0;
/// Minor version of the library.
pub const LDB_VERSION_MINOR: u32 = 1;
/// Patch version of the library.
pub const LDB_VERSION_PATCH: u32 = 0;
/// Version of the ABI: raised whenever a change breaks programs built against an older header.
pub const LDB_ABI_VERSION: u32 = 1;

/// How durable a write is when the call returns (`ldb_durability`).
#[allow(non_camel_case_types)]
pub type ldb_durability = i32;
/// The database's default: option `sync`.
pub const LDB_DURABILITY_DEFAULT: ldb_durability = 0;
/// After fsync (shared by concurrent writers): survives power loss.
pub const LDB_DURABILITY_SYNC: ldb_durability = 1;
/// Handed to the OS: survives a crash of the process; on power loss a suffix may be lost.
pub const LDB_DURABILITY_BUFFERED: ldb_durability = 2;

/// The library's version, e.g. `"0.1.0"`.
///
/// Ownership: a static string; never free it.
#[no_mangle]
pub extern "C" fn ldb_version() -> *const c_char {
    static VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    VERSION.as_ptr() as *const c_char
}

/// `LDB_ABI_VERSION` of the library actually loaded, to compare with the header's.
#[no_mangle]
pub extern "C" fn ldb_abi_version() -> u32 {
    LDB_ABI_VERSION
}

/// Releases memory the library returned for the caller to own (values from `ldb_get`, texts
/// from `ldb_stats`, …). NULL is fine; never twice.
///
/// # Safety
/// `ptr` must be NULL or a pointer this library returned as caller-owned, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn ldb_free(ptr: *mut std::ffi::c_void) {
    // SAFETY: such pointers come from `libc::malloc` (see `args::malloc_copy`); free(NULL) is a
    // no-op.
    unsafe { libc::free(ptr) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_constants_match_the_crate_version() {
        let version = format!(
            "{}.{}.{}",
            super::LDB_VERSION_MAJOR,
            super::LDB_VERSION_MINOR,
            super::LDB_VERSION_PATCH
        );
        assert_eq!(version, env!("CARGO_PKG_VERSION"));
        // SAFETY: a static NUL-terminated string.
        let reported = unsafe { std::ffi::CStr::from_ptr(super::ldb_version()) };
        assert_eq!(reported.to_str().unwrap(), version);
    }
}
