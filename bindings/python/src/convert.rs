//! From Python arguments to what the C ABI takes: bytes-like keys and values, options,
//! durability, ranges.

use lightning::safe::{Durability, Isolation, KeyRange};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDict, PyInt, PyMemoryView, PyString};

/// A key or value from Python. `bytes` is immutable, so it is read in place, even with the GIL
/// released; a `bytearray` or `memoryview` may change under a call that releases the GIL, so it
/// is copied first.
pub enum Buf<'py> {
    Shared(Bound<'py, PyBytes>),
    Copied(Vec<u8>),
}

impl Buf<'_> {
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Buf::Shared(b) => b.as_bytes(),
            Buf::Copied(v) => v,
        }
    }
}

/// `obj` as bytes, or a `TypeError` naming `what` and the type it got.
pub fn bytes_like<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Buf<'py>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Buf::Shared(b.clone()));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(Buf::Copied(b.to_vec()));
    }
    if obj.is_instance_of::<PyMemoryView>() {
        let copy = obj.call_method0("tobytes")?;
        return Ok(Buf::Shared(copy.cast_into::<PyBytes>()?));
    }
    let type_name = obj.get_type().name()?;
    Err(PyTypeError::new_err(format!(
        "{what} must be bytes, bytearray or memoryview, not {type_name}"
    )))
}

/// An optional bytes-like argument.
pub fn optional_bytes(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<Vec<u8>>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => Ok(Some(bytes_like(o, what)?.as_slice().to_vec())),
    }
}

/// Options given as keyword arguments: strings, ints and bools, by their names (DESIGN §4).
pub fn options(kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<(String, String)>> {
    let Some(kwargs) = kwargs else {
        return Ok(Vec::new());
    };
    let mut pairs = Vec::with_capacity(kwargs.len());
    for (name, value) in kwargs.iter() {
        let name: String = name.extract()?;
        let value = if let Ok(b) = value.cast::<PyBool>() {
            if b.is_true() { "true" } else { "false" }.to_string()
        } else if value.is_instance_of::<PyInt>() {
            value.str()?.to_string()
        } else if let Ok(s) = value.cast::<PyString>() {
            s.to_string()
        } else {
            let type_name = value.get_type().name()?;
            return Err(PyTypeError::new_err(format!(
                "option {name} must be a str, int or bool, not {type_name}"
            )));
        };
        pairs.push((name, value));
    }
    Ok(pairs)
}

/// `sync=None` (the database's default), `True` (fsync) or `False` (buffered).
pub fn durability(sync: Option<bool>) -> Durability {
    match sync {
        None => Durability::Default,
        Some(true) => Durability::Sync,
        Some(false) => Durability::Buffered,
    }
}

pub fn isolation(name: &str) -> PyResult<Isolation> {
    match name {
        "snapshot" => Ok(Isolation::Snapshot),
        "serializable" => Ok(Isolation::Serializable),
        other => Err(PyValueError::new_err(format!(
            "isolation must be 'snapshot' or 'serializable', not {other:?}"
        ))),
    }
}

/// The range of `items(start, end, prefix=, reverse=)`.
pub fn key_range(
    start: Option<&Bound<'_, PyAny>>,
    end: Option<&Bound<'_, PyAny>>,
    prefix: Option<&Bound<'_, PyAny>>,
    reverse: bool,
) -> PyResult<KeyRange> {
    Ok(KeyRange {
        start: optional_bytes(start, "start")?,
        end: optional_bytes(end, "end")?,
        prefix: optional_bytes(prefix, "prefix")?,
        reverse,
    })
}
