//! The exception tree: `lightning_db.Error` with `.code` (the code's name), and one subclass per
//! code of the C ABI.

use lightning::ldb_status;
use lightning::safe::Error as CallError;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyo3::{create_exception, PyTypeInfo};

create_exception!(
    lightning_db,
    Error,
    PyException,
    "Base class of every Lightning DB error; `.code` is the code's name, e.g. 'CONFLICT'."
);
create_exception!(
    lightning_db,
    InvalidArgumentError,
    Error,
    "A bad argument: a key over the size limit, a misused iterator."
);
create_exception!(
    lightning_db,
    InvalidOptionError,
    Error,
    "An unknown option, or a value it does not accept."
);
create_exception!(
    lightning_db,
    CorruptionError,
    Error,
    "A checksum or structure check failed; the message names the file."
);
create_exception!(
    lightning_db,
    IoError,
    Error,
    "The operating system reported an I/O error."
);
create_exception!(lightning_db, NoSpaceError, Error, "The disk is full.");
create_exception!(
    lightning_db,
    LockedError,
    Error,
    "Another process (or handle) has the database open."
);
create_exception!(
    lightning_db,
    NotADatabaseError,
    Error,
    "The directory holds something that is not a Lightning DB database."
);
create_exception!(
    lightning_db,
    UnsupportedVersionError,
    Error,
    "The database was written by a newer, incompatible version."
);
create_exception!(
    lightning_db,
    ClosedError,
    Error,
    "The database, snapshot or transaction was closed (or committed) already."
);
create_exception!(
    lightning_db,
    ConflictError,
    Error,
    "A transaction conflicted with a concurrent commit; run it again."
);
create_exception!(
    lightning_db,
    BusyError,
    Error,
    "A limit was reached (e.g. max_active_transactions); try again later."
);
create_exception!(
    lightning_db,
    ReadOnlyError,
    Error,
    "A write in a read-only transaction."
);
create_exception!(
    lightning_db,
    InternalError,
    Error,
    "A bug in Lightning DB; please report it."
);
create_exception!(
    lightning_db,
    WrongKeyError,
    Error,
    "A wrong encryption key or passphrase, or none, for an encrypted database."
);

/// The exception class for a status; the base class for codes this binding does not know.
fn class_for(py: Python<'_>, status: ldb_status) -> Bound<'_, pyo3::types::PyType> {
    use ldb_status::*;
    match status {
        LDB_INVALID_ARGUMENT => InvalidArgumentError::type_object(py),
        LDB_INVALID_OPTION => InvalidOptionError::type_object(py),
        LDB_CORRUPTION => CorruptionError::type_object(py),
        LDB_IO_ERROR => IoError::type_object(py),
        LDB_NO_SPACE => NoSpaceError::type_object(py),
        LDB_LOCKED => LockedError::type_object(py),
        LDB_NOT_A_DATABASE => NotADatabaseError::type_object(py),
        LDB_UNSUPPORTED_VERSION => UnsupportedVersionError::type_object(py),
        LDB_CLOSED => ClosedError::type_object(py),
        LDB_CONFLICT => ConflictError::type_object(py),
        LDB_BUSY => BusyError::type_object(py),
        LDB_READ_ONLY => ReadOnlyError::type_object(py),
        LDB_INTERNAL => InternalError::type_object(py),
        LDB_WRONG_KEY => WrongKeyError::type_object(py),
        LDB_OK => Error::type_object(py),
    }
}

/// The Python exception for a failed call, with `.code` set to the code's name.
pub fn to_py(error: CallError) -> PyErr {
    Python::attach(|py| make(py, error.status, error.name(), &error.message))
}

/// An exception of the class for `status`, with `message` and `.code`.
pub fn make(py: Python<'_>, status: ldb_status, code: &str, message: &str) -> PyErr {
    let class = class_for(py, status);
    match class.call1(PyTuple::new(py, [message]).expect("a tuple of one str")) {
        Ok(exception) => {
            let _ = exception.setattr("code", code);
            PyErr::from_value(exception)
        }
        Err(e) => e,
    }
}

/// `ClosedError` with `message`.
pub fn closed(message: &str) -> PyErr {
    Python::attach(|py| make(py, ldb_status::LDB_CLOSED, "CLOSED", message))
}

pub fn add_to_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Error", py.get_type::<Error>())?;
    m.add(
        "InvalidArgumentError",
        py.get_type::<InvalidArgumentError>(),
    )?;
    m.add("InvalidOptionError", py.get_type::<InvalidOptionError>())?;
    m.add("CorruptionError", py.get_type::<CorruptionError>())?;
    m.add("IoError", py.get_type::<IoError>())?;
    m.add("NoSpaceError", py.get_type::<NoSpaceError>())?;
    m.add("LockedError", py.get_type::<LockedError>())?;
    m.add("NotADatabaseError", py.get_type::<NotADatabaseError>())?;
    m.add(
        "UnsupportedVersionError",
        py.get_type::<UnsupportedVersionError>(),
    )?;
    m.add("ClosedError", py.get_type::<ClosedError>())?;
    m.add("ConflictError", py.get_type::<ConflictError>())?;
    m.add("BusyError", py.get_type::<BusyError>())?;
    m.add("ReadOnlyError", py.get_type::<ReadOnlyError>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    m.add("WrongKeyError", py.get_type::<WrongKeyError>())?;
    Ok(())
}
