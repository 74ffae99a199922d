//! The lazy iterators of `items()`, `keys()` and `values()`.
//!
//! Entries are read in chunks with the GIL released (reading may touch the disk), copied into
//! one buffer per chunk, and handed out one by one as `bytes`. Chunks start small, so taking the
//! first entry of a big range stays cheap, and grow for scans.

use std::collections::VecDeque;
use std::sync::Arc;

use lightning::safe::locks::Mutex;
use lightning::safe::{Chunked, Iter};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use crate::state::{DbState, Slot};

/// What each step yields.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Items,
    Keys,
    Values,
}

/// The C iterator and the chunk read from it.
pub struct Cursor {
    chunks: Chunked,
    /// The current chunk: keys and values back to back, and each entry's key and value lengths,
    /// in order.
    data: Vec<u8>,
    entries: VecDeque<(usize, usize)>,
    offset: usize,
}

impl Cursor {
    /// Reads the next chunk (the caller has released the GIL).
    fn fill(&mut self, kind: Kind) -> Result<(), lightning::safe::Error> {
        self.data.clear();
        self.entries.clear();
        self.offset = 0;
        let (data, entries) = (&mut self.data, &mut self.entries);
        self.chunks.read_chunk(|iter| {
            let key_len = match kind {
                Kind::Values => 0,
                _ => {
                    let key = iter.key().unwrap_or_default();
                    data.extend_from_slice(key);
                    key.len()
                }
            };
            let value_len = match kind {
                Kind::Keys => 0,
                _ => {
                    let value = iter.value()?.unwrap_or_default();
                    data.extend_from_slice(value);
                    value.len()
                }
            };
            entries.push_back((key_len, value_len));
            Ok(true)
        })
    }
}

/// An iterator over a range of a database, snapshot or transaction, seeing one point in time.
#[pyclass(frozen, module = "lightning_db")]
pub struct Items {
    state: Arc<DbState>,
    kind: Kind,
    cursor: Arc<Slot<Mutex<Cursor>>>,
}

impl Items {
    pub fn new(state: Arc<DbState>, iter: Iter, kind: Kind) -> Items {
        let cursor = state.adopt(Mutex::new(Cursor {
            chunks: Chunked::new(iter),
            data: Vec::new(),
            entries: VecDeque::new(),
            offset: 0,
        }));
        Items {
            state,
            kind,
            cursor,
        }
    }
}

#[pymethods]
impl Items {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let kind = self.kind;
        // A chunk read before a fork() belongs to the parent's iterator too.
        self.state.check()?;
        let slot = self
            .cursor
            .get()
            .ok_or_else(|| crate::errors::closed("the database is closed"))?;
        // As with a generator, two threads may not advance one iterator at once.
        let mut cursor = slot.try_lock().ok_or_else(|| {
            PyValueError::new_err("the iterator is already running in another thread")
        })?;
        if cursor.entries.is_empty() {
            if cursor.chunks.is_done() {
                return Ok(None);
            }
            let cursor = &mut *cursor;
            self.state.with(py, |_| cursor.fill(kind))?;
        }
        let Some((key_len, value_len)) = cursor.entries.pop_front() else {
            return Ok(None);
        };
        let start = cursor.offset;
        cursor.offset += key_len + value_len;
        let key = &cursor.data[start..start + key_len];
        let value = &cursor.data[start + key_len..start + key_len + value_len];
        Ok(Some(match kind {
            Kind::Keys => PyBytes::new(py, key).into_any(),
            Kind::Values => PyBytes::new(py, value).into_any(),
            Kind::Items => {
                PyTuple::new(py, [PyBytes::new(py, key), PyBytes::new(py, value)])?.into_any()
            }
        }))
    }
}
