//! [`Error`]: a failed call's status and message, and [`check`], which turns a status into a
//! [`Result`].

use std::ffi::CStr;

use crate::{ldb_last_error_message, ldb_status, ldb_status_name};

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

    pub(super) fn argument(message: &str) -> Error {
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

pub(super) fn check(status: ldb_status) -> Result<()> {
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
