//! [`Iter`]: ordered reads over a [`KeyRange`], from the database, a snapshot or a transaction.

use std::ptr::{self, NonNull};

use super::error::{check, Error, Result};
use crate::{
    ldb_iter, ldb_iter_first, ldb_iter_free, ldb_iter_key, ldb_iter_last, ldb_iter_next,
    ldb_iter_prev, ldb_iter_seek, ldb_iter_valid, ldb_iter_value, ldb_range, ldb_status,
};

/// Which keys an iterator covers, and in which direction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRange {
    /// First key (inclusive); `None`: from the smallest.
    pub start: Option<Vec<u8>>,
    /// Where the range stops (exclusive); `None`: to the largest.
    pub end: Option<Vec<u8>>,
    /// Exactly the keys with this prefix (`start` and `end` must be `None`).
    pub prefix: Option<Vec<u8>>,
    pub reverse: bool,
}

impl KeyRange {
    /// The C description of this range; it borrows from `self`.
    pub(super) fn raw(&self) -> ldb_range {
        let (start, start_len) = parts(&self.start);
        let (end, end_len) = parts(&self.end);
        let (prefix, prefix_len) = parts(&self.prefix);
        ldb_range {
            start,
            start_len,
            end,
            end_len,
            prefix,
            prefix_len,
            reverse: self.reverse,
        }
    }
}

fn parts(bound: &Option<Vec<u8>>) -> (*const u8, usize) {
    match bound {
        // Never NULL, even for an empty key (NULL would mean "no bound"): an empty `Vec`'s
        // pointer is dangling but not NULL.
        Some(b) => (b.as_ptr(), b.len()),
        None => (ptr::null(), 0),
    }
}

/// An iterator; see `ldb_iter`. Positioned before the first entry until moved.
pub struct Iter(NonNull<ldb_iter>);

// SAFETY: an iterator is used by one thread at a time, which `&mut self` on every move ensures.
unsafe impl Send for Iter {}

impl Iter {
    /// The iterator `new` makes (given where to put the handle), or its failure.
    pub(super) fn make(new: impl FnOnce(*mut *mut ldb_iter) -> ldb_status) -> Result<Iter> {
        let mut raw = ptr::null_mut();
        check(new(&mut raw))?;
        NonNull::new(raw)
            .map(Iter)
            .ok_or_else(|| Error::argument("no iterator handle"))
    }

    fn step(&mut self, f: unsafe extern "C" fn(*mut ldb_iter) -> ldb_status) -> Result<()> {
        // SAFETY: live handle used by this thread only.
        check(unsafe { f(self.0.as_ptr()) })
    }

    pub fn first(&mut self) -> Result<()> {
        self.step(ldb_iter_first)
    }

    pub fn last(&mut self) -> Result<()> {
        self.step(ldb_iter_last)
    }

    // A cursor move, as named in the C ABI; bindings build their language's iterator on it.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<()> {
        self.step(ldb_iter_next)
    }

    pub fn prev(&mut self) -> Result<()> {
        self.step(ldb_iter_prev)
    }

    pub fn seek(&mut self, key: &[u8]) -> Result<()> {
        // SAFETY: live handle used by this thread only; slice valid for its length.
        check(unsafe { ldb_iter_seek(self.0.as_ptr(), key.as_ptr(), key.len()) })
    }

    pub fn valid(&self) -> bool {
        // SAFETY: live handle.
        unsafe { ldb_iter_valid(self.0.as_ptr()) }
    }

    /// The current key, until the next move; `None` if not at an entry.
    pub fn key(&self) -> Option<&[u8]> {
        let (mut key, mut len) = (ptr::null(), 0);
        // SAFETY: live handle; writable out-pointers.
        let status = unsafe { ldb_iter_key(self.0.as_ptr(), &mut key, &mut len) };
        // SAFETY: borrowed bytes, valid until the iterator moves, which needs `&mut self`.
        (status == ldb_status::LDB_OK).then(|| unsafe { std::slice::from_raw_parts(key, len) })
    }

    /// The current value, until the next move; `None` if not at an entry.
    pub fn value(&mut self) -> Result<Option<&[u8]>> {
        if !self.valid() {
            return Ok(None);
        }
        let (mut value, mut len) = (ptr::null(), 0);
        // SAFETY: live handle used by this thread only; writable out-pointers.
        check(unsafe { ldb_iter_value(self.0.as_ptr(), &mut value, &mut len) })?;
        // SAFETY: borrowed bytes, valid until the iterator moves, which needs `&mut self`.
        Ok(Some(unsafe { std::slice::from_raw_parts(value, len) }))
    }
}

impl Drop for Iter {
    fn drop(&mut self) {
        // SAFETY: live handle, freed once.
        unsafe { ldb_iter_free(self.0.as_ptr()) }
    }
}
