//! The one error type of Lightning DB, with stable numeric codes and names (DESIGN §4).
//!
//! Codes are part of the C ABI and of every binding: never renumber, only append.

use std::fmt;
use std::io;
use std::path::Path;

/// Stable numeric error codes. `0` is success in the C ABI and is not an error here.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A caller passed a bad argument: an oversized key or value, an empty range, a wrong handle.
    InvalidArgument = 1,
    /// An option name is unknown or its value is out of range or malformed.
    InvalidOption = 2,
    /// A checksum or structure check failed: the file does not hold what Lightning DB wrote.
    Corruption = 3,
    /// The operating system reported an I/O error (EIO and the like).
    Io = 4,
    /// The disk (or quota) is full.
    NoSpace = 5,
    /// Another process (or handle in this process) holds the database's LOCK file.
    Locked = 6,
    /// The path exists but is not a Lightning DB database.
    NotADatabase = 7,
    /// The database was written by a newer, incompatible format version.
    UnsupportedVersion = 8,
    /// The database handle was closed, or a background failure made it read-only until reopened.
    Closed = 9,
    /// A transaction could not commit because of a concurrent commit; retry it.
    Conflict = 10,
    /// A resource limit was reached (e.g. `max_active_transactions`); retry later.
    Busy = 11,
    /// The operation is not allowed in this state (e.g. a write in a read-only transaction).
    ReadOnly = 12,
    /// A bug: an invariant inside Lightning DB did not hold. Please report it.
    Internal = 13,
    /// The key or passphrase does not open this encrypted database, or none was given for it.
    WrongKey = 14,
}

impl ErrorCode {
    /// Every code, in numeric order.
    pub const ALL: [ErrorCode; 14] = [
        ErrorCode::InvalidArgument,
        ErrorCode::InvalidOption,
        ErrorCode::Corruption,
        ErrorCode::Io,
        ErrorCode::NoSpace,
        ErrorCode::Locked,
        ErrorCode::NotADatabase,
        ErrorCode::UnsupportedVersion,
        ErrorCode::Closed,
        ErrorCode::Conflict,
        ErrorCode::Busy,
        ErrorCode::ReadOnly,
        ErrorCode::Internal,
        ErrorCode::WrongKey,
    ];

    /// The stable number of this code.
    pub fn as_u32(self) -> u32 {
        self as u32
    }

    /// The stable SCREAMING_SNAKE_CASE name of this code, as the bindings expose it.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::InvalidOption => "INVALID_OPTION",
            ErrorCode::Corruption => "CORRUPTION",
            ErrorCode::Io => "IO_ERROR",
            ErrorCode::NoSpace => "NO_SPACE",
            ErrorCode::Locked => "LOCKED",
            ErrorCode::NotADatabase => "NOT_A_DATABASE",
            ErrorCode::UnsupportedVersion => "UNSUPPORTED_VERSION",
            ErrorCode::Closed => "CLOSED",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::Busy => "BUSY",
            ErrorCode::ReadOnly => "READ_ONLY",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::WrongKey => "WRONG_KEY",
        }
    }

    /// The code with this number, if there is one.
    pub fn from_u32(n: u32) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_u32() == n)
    }

    /// Whether retrying the same operation later may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorCode::Conflict | ErrorCode::Busy)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An error from Lightning DB: a stable code plus a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    message: String,
}

/// Lightning DB's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with the given code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
        }
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The human-readable message (without the code name).
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::InvalidArgument, message)
    }

    pub(crate) fn corruption(file: &Path, message: impl fmt::Display) -> Error {
        Error::new(
            ErrorCode::Corruption,
            format!("{}: {}", file.display(), message),
        )
    }

    pub(crate) fn internal(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::Internal, message)
    }

    pub(crate) fn conflict() -> Error {
        Error::new(
            ErrorCode::Conflict,
            "transaction conflict: a key it wrote (or, if serializable, read) was changed by \
             another commit after it began; retry the transaction",
        )
    }

    pub(crate) fn closed() -> Error {
        Error::new(ErrorCode::Closed, "the database is closed")
    }

    /// An I/O error while doing `what` on `file`, with ENOSPC mapped to `NoSpace`.
    pub(crate) fn io(what: &str, file: &Path, err: io::Error) -> Error {
        Error::new(io_code(&err), format!("{what} {}: {err}", file.display()))
    }
}

pub(crate) fn io_code(err: &io::Error) -> ErrorCode {
    match err.raw_os_error() {
        Some(libc::ENOSPC) | Some(libc::EDQUOT) => ErrorCode::NoSpace,
        _ => ErrorCode::Io,
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.name(), self.message)
    }
}

impl std::error::Error for Error {}

/// Adds the file to an `io::Result`'s error: `file.read_at(..).ctx("read", &path)?`.
pub(crate) trait IoContext<T> {
    fn ctx(self, what: &str, file: &Path) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn ctx(self, what: &str, file: &Path) -> Result<T> {
        self.map_err(|e| Error::io(what, file, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_round_trip() {
        for (i, code) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(code.as_u32(), i as u32 + 1);
            assert_eq!(ErrorCode::from_u32(code.as_u32()), Some(*code));
        }
        assert_eq!(ErrorCode::from_u32(0), None);
        assert_eq!(ErrorCode::Conflict.name(), "CONFLICT");
    }

    #[test]
    fn enospc_maps_to_no_space() {
        let e = Error::io(
            "write",
            Path::new("/x"),
            io::Error::from_raw_os_error(libc::ENOSPC),
        );
        assert_eq!(e.code(), ErrorCode::NoSpace);
        let e = Error::io(
            "write",
            Path::new("/x"),
            io::Error::from_raw_os_error(libc::EIO),
        );
        assert_eq!(e.code(), ErrorCode::Io);
        assert!(e.to_string().starts_with("IO_ERROR: write /x"));
    }
}
