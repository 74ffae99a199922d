//! Status codes, the last error's message, and the panic boundary every `extern "C"` body runs in.

use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use lightning_db::{Error, ErrorCode};

/// The result of every fallible call: `LDB_OK` (0) or the code of what went wrong. The codes are
/// the engine's error codes and never change meaning; new ones may be added.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum ldb_status {
    /// Success.
    LDB_OK = 0,
    /// A bad argument: NULL where a pointer is required, a key or value over the size limits, an
    /// iterator that is not at an entry, an unknown enum value.
    LDB_INVALID_ARGUMENT = 1,
    /// An unknown option name, or a value it does not accept.
    LDB_INVALID_OPTION = 2,
    /// A checksum or structure check failed: the message names the file and the fault.
    LDB_CORRUPTION = 3,
    /// The operating system reported an I/O error.
    LDB_IO_ERROR = 4,
    /// The disk is full.
    LDB_NO_SPACE = 5,
    /// Another process (or handle) has the database open.
    LDB_LOCKED = 6,
    /// The directory holds something that is not a Lightning DB database.
    LDB_NOT_A_DATABASE = 7,
    /// The database was written by a newer, incompatible version.
    LDB_UNSUPPORTED_VERSION = 8,
    /// The database, or the transaction, was closed (committed or rolled back) already.
    LDB_CLOSED = 9,
    /// A transaction's commit conflicted with a concurrent commit; run it again.
    LDB_CONFLICT = 10,
    /// A limit was reached (e.g. `max_active_transactions`); try again later.
    LDB_BUSY = 11,
    /// A write in a read-only transaction.
    LDB_READ_ONLY = 12,
    /// A bug in Lightning DB (a panic was caught at the boundary); please report it.
    LDB_INTERNAL = 13,
    /// The key or passphrase does not open this encrypted database, or none was given for it.
    LDB_WRONG_KEY = 14,
}

impl ldb_status {
    pub(crate) fn from_code(code: ErrorCode) -> ldb_status {
        use ldb_status::*;
        match code {
            ErrorCode::InvalidArgument => LDB_INVALID_ARGUMENT,
            ErrorCode::InvalidOption => LDB_INVALID_OPTION,
            ErrorCode::Corruption => LDB_CORRUPTION,
            ErrorCode::Io => LDB_IO_ERROR,
            ErrorCode::NoSpace => LDB_NO_SPACE,
            ErrorCode::Locked => LDB_LOCKED,
            ErrorCode::NotADatabase => LDB_NOT_A_DATABASE,
            ErrorCode::UnsupportedVersion => LDB_UNSUPPORTED_VERSION,
            ErrorCode::Closed => LDB_CLOSED,
            ErrorCode::Conflict => LDB_CONFLICT,
            ErrorCode::Busy => LDB_BUSY,
            ErrorCode::ReadOnly => LDB_READ_ONLY,
            ErrorCode::Internal => LDB_INTERNAL,
            ErrorCode::WrongKey => LDB_WRONG_KEY,
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    // A message never holds NUL, but if it did, cut it there rather than lose it all.
    let text = message.split('\0').next().unwrap_or_default();
    let text = CString::new(text).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = text);
}

/// Runs `body`, turning its error, or a panic, into a status and the thread's last message.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), Error>) -> ldb_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => ldb_status::LDB_OK,
        Ok(Err(e)) => {
            set_last_error(e.message());
            ldb_status::from_code(e.code())
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            set_last_error(&format!("internal error (a bug; please report it): {what}"));
            ldb_status::LDB_INTERNAL
        }
    }
}

/// Runs `body`, which cannot fail, returning `fallback` if it panics.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// The message of the last call on this thread that did not return `LDB_OK`; `""` if none did.
///
/// Ownership: borrowed; valid until the next call into the library on this thread.
#[no_mangle]
pub extern "C" fn ldb_last_error_message() -> *const c_char {
    guard_value(c"".as_ptr(), || LAST_ERROR.with(|e| e.borrow().as_ptr()))
}

/// The name of a status code, as in `"LDB_CONFLICT"` without the prefix: `"OK"`, `"CONFLICT"`,
/// …; `"UNKNOWN"` for a number that is not a status.
///
/// Ownership: a static string; never free it.
#[no_mangle]
pub extern "C" fn ldb_status_name(status: i32) -> *const c_char {
    let name: &'static std::ffi::CStr = match status {
        0 => c"OK",
        1 => c"INVALID_ARGUMENT",
        2 => c"INVALID_OPTION",
        3 => c"CORRUPTION",
        4 => c"IO_ERROR",
        5 => c"NO_SPACE",
        6 => c"LOCKED",
        7 => c"NOT_A_DATABASE",
        8 => c"UNSUPPORTED_VERSION",
        9 => c"CLOSED",
        10 => c"CONFLICT",
        11 => c"BUSY",
        12 => c"READ_ONLY",
        13 => c"INTERNAL",
        14 => c"WRONG_KEY",
        _ => c"UNKNOWN",
    };
    name.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_engine_code_has_the_same_number_and_name() {
        for code in ErrorCode::ALL {
            let status = ldb_status::from_code(code);
            assert_eq!(status as i32 as u32, code.as_u32(), "{code}");
            // SAFETY: `ldb_status_name` returns a static NUL-terminated string.
            let name = unsafe { std::ffi::CStr::from_ptr(ldb_status_name(status as i32)) };
            assert_eq!(name.to_str().unwrap(), code.name());
        }
    }

    #[test]
    fn a_panic_becomes_internal_with_a_message() {
        let status = guard(|| panic!("boom"));
        assert_eq!(status, ldb_status::LDB_INTERNAL);
        // SAFETY: the pointer is valid until the next call on this thread.
        let message = unsafe { std::ffi::CStr::from_ptr(ldb_last_error_message()) };
        assert!(message.to_str().unwrap().contains("boom"));
    }
}
