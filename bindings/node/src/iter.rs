//! `NativeIter`: the native side of a range iterator.
//!
//! Entries are read in chunks to cut the cost of crossing into native code per entry. A chunk is
//! one Buffer, handed to JavaScript without a copy, holding each entry as
//!
//! ```text
//! key length (u32 LE) | value length (u32 LE) | key bytes | value bytes
//! ```
//!
//! back to back; the JavaScript layer hands out views into it. Chunks start small, so taking the
//! first entry of a big range stays cheap, and grow for scans (up to 256 entries or
//! `MAX_CHUNK_BYTES` bytes, whichever comes first).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use lightning::safe::locks::Mutex;
use lightning::safe::{Chunked, Error as CallError, Iter};
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;

use crate::errors::{invalid_argument, to_js, Result};
use crate::state::{Handle, Slot};

const MAX_CHUNK_BYTES: usize = 1 << 20;

/// The next chunk of `chunks`; empty at the end.
fn fill(chunks: &mut Chunked) -> Result<Vec<u8>, CallError> {
    let mut data = Vec::new();
    chunks.read_chunk(|iter| {
        let key_start = data.len();
        data.extend_from_slice(&[0; 8]);
        let key = iter.key().unwrap_or_default();
        data.extend_from_slice(key);
        let key_len = key.len();
        let value = iter.value()?.unwrap_or_default();
        data.extend_from_slice(value);
        let value_len = value.len();
        data[key_start..key_start + 4].copy_from_slice(&(key_len as u32).to_le_bytes());
        data[key_start + 4..key_start + 8].copy_from_slice(&(value_len as u32).to_le_bytes());
        Ok(data.len() < MAX_CHUNK_BYTES)
    })?;
    Ok(data)
}

/// A range iterator of a database, snapshot or transaction, seeing one point in time.
#[napi]
pub struct NativeIter {
    handle: Arc<Handle>,
    /// Read to the end (the C iterator is released then).
    exhausted: AtomicBool,
    cursor: Arc<Slot<Mutex<Chunked>>>,
}

impl NativeIter {
    pub fn new(handle: &Arc<Handle>, iter: Iter) -> NativeIter {
        NativeIter {
            handle: Arc::clone(handle),
            cursor: handle.adopt(Mutex::new(Chunked::new(iter))),
            exhausted: AtomicBool::new(false),
        }
    }
}

#[napi]
impl NativeIter {
    /// The next chunk of entries, or `undefined` at the end (the iterator is then released).
    #[napi(catch_unwind)]
    pub fn next(&self) -> Result<Option<Buffer>> {
        if self.exhausted.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let slot = self
            .cursor
            .get()
            .ok_or_else(|| self.handle.closed_child("iterator"))?;
        let mut cursor = slot
            .try_lock()
            .ok_or_else(|| invalid_argument("the iterator is already running"))?;
        let data = if cursor.is_done() {
            Vec::new()
        } else {
            fill(&mut cursor).map_err(to_js)?
        };
        let done = cursor.is_done();
        drop(cursor);
        if done {
            // Nothing more to read: release the C iterator now rather than at garbage collection.
            self.exhausted.store(true, Ordering::Relaxed);
            self.cursor.clear();
        }
        Ok((!data.is_empty()).then(|| Buffer::from(data)))
    }

    /// Releases the iterator; closing twice is fine.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.cursor.clear();
    }
}
