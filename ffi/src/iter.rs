//! `ldb_iter`: ordered reads over a range, from the database, a snapshot or a transaction.

use lightning_db::{Cursor, Error, Range};

use crate::args::{bytes, handle, handle_mut, invalid, out};
use crate::db::ldb_db;
use crate::snapshot::ldb_snapshot;
use crate::status::{guard, guard_value, ldb_status};
use crate::txn::ldb_txn;

/// Which keys an iterator covers and in which direction. All-zero (or a NULL pointer) means
/// every key, forward.
///
/// - `start`: the first key (inclusive); NULL means from the smallest key.
/// - `end`: the key where the range stops (exclusive); NULL means to the largest key.
/// - `prefix`: if not NULL, exactly the keys starting with it; `start` and `end` must be NULL.
/// - `reverse`: iterate from the last key to the first.
///
/// Lengths go with their pointers; a pointer with length 0 is an empty key (so a non-NULL `end`
/// of length 0 makes the range empty).
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct ldb_range {
    pub start: *const u8,
    pub start_len: usize,
    pub end: *const u8,
    pub end_len: usize,
    pub prefix: *const u8,
    pub prefix_len: usize,
    pub reverse: bool,
}

/// The `Range` that `range` describes.
///
/// # Safety
/// `range` must be NULL or point to an `ldb_range` whose pointers are valid for their lengths.
pub(crate) unsafe fn to_range(range: *const ldb_range) -> Result<Range, Error> {
    // SAFETY: per this function's contract.
    let Some(r) = (unsafe { range.as_ref() }) else {
        return Ok(Range::all());
    };
    // SAFETY: per this function's contract; a NULL pointer means "no bound" and is not read.
    let bound = |ptr: *const u8, len: usize, what: &str| -> Result<Option<&[u8]>, Error> {
        if ptr.is_null() {
            if len != 0 {
                return Err(invalid(format!(
                    "range {what} is NULL but its length is {len}"
                )));
            }
            return Ok(None);
        }
        // SAFETY: as above.
        unsafe { bytes(ptr, len, what) }.map(Some)
    };
    let start = bound(r.start, r.start_len, "start")?;
    let end = bound(r.end, r.end_len, "end")?;
    let range = match (bound(r.prefix, r.prefix_len, "prefix")?, start, end) {
        (Some(prefix), None, None) => Range::prefix(prefix),
        (Some(_), _, _) => {
            return Err(invalid(
                "a range with a prefix must have NULL start and end",
            ));
        }
        (None, Some(s), Some(e)) => Range::new(s, e),
        (None, Some(s), None) => Range::from(s),
        (None, None, Some(e)) => Range::to(e),
        (None, None, None) => Range::all(),
    };
    Ok(if r.reverse { range.reverse() } else { range })
}

/// An iterator over a range. Not thread-safe: use one from one thread at a time. It sees one
/// point in time however long it lives (a transaction's iterator also sees the transaction's
/// writes, including those made while it moves), and stays valid after its database handle is
/// closed or its snapshot or transaction freed.
///
/// It starts before the first entry: call `ldb_iter_first`, `ldb_iter_seek`, or `ldb_iter_next`
/// (which, the first time, goes to the first entry).
#[allow(non_camel_case_types)]
pub struct ldb_iter {
    cursor: Cursor,
    reverse: bool,
    started: bool,
}

impl ldb_iter {
    pub(crate) fn into_raw(cursor: Cursor, reverse: bool) -> *mut ldb_iter {
        Box::into_raw(Box::new(ldb_iter {
            cursor,
            reverse,
            started: false,
        }))
    }

    fn first(&mut self) -> Result<(), Error> {
        self.started = true;
        if self.reverse {
            self.cursor.seek_to_last()
        } else {
            self.cursor.seek_to_first()
        }
    }

    fn last(&mut self) -> Result<(), Error> {
        self.started = true;
        if self.reverse {
            self.cursor.seek_to_first()
        } else {
            self.cursor.seek_to_last()
        }
    }

    /// One step in the iteration order (`onward`) or against it.
    fn step(&mut self, onward: bool) -> Result<(), Error> {
        if !self.started {
            return if onward { self.first() } else { self.last() };
        }
        if onward != self.reverse {
            self.cursor.next()
        } else {
            self.cursor.prev()
        }
    }
}

/// Makes an iterator over `range` (NULL: every key, forward) of the database as of now; release
/// it with `ldb_iter_free`.
///
/// # Safety
/// `db` must be a live handle; `range` NULL or valid (see `ldb_range`); `iter_out` writable.
#[no_mangle]
pub unsafe extern "C" fn ldb_iter_new(
    db: *const ldb_db,
    range: *const ldb_range,
    iter_out: *mut *mut ldb_iter,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (db, range, iter_out) = unsafe {
            (
                handle(db, "db")?,
                to_range(range)?,
                out(iter_out, "iter_out")?,
            )
        };
        let reverse = range.is_reverse();
        *iter_out = ldb_iter::into_raw(db.with(|db| db.cursor(range))?, reverse);
        Ok(())
    })
}

/// Makes an iterator over `range` of a snapshot; as `ldb_iter_new`.
///
/// # Safety
/// `snapshot` must be a live handle; the rest as in `ldb_iter_new`.
#[no_mangle]
pub unsafe extern "C" fn ldb_snapshot_iter_new(
    snapshot: *const ldb_snapshot,
    range: *const ldb_range,
    iter_out: *mut *mut ldb_iter,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (snapshot, range, iter_out) = unsafe {
            (
                handle(snapshot, "snapshot")?,
                to_range(range)?,
                out(iter_out, "iter_out")?,
            )
        };
        let reverse = range.is_reverse();
        *iter_out = ldb_iter::into_raw(snapshot.inner.cursor(range), reverse);
        Ok(())
    })
}

/// Makes an iterator over `range` of a transaction: its snapshot with its own writes over it. As
/// `ldb_iter_new`; `LDB_CLOSED` if the transaction was committed or rolled back.
///
/// # Safety
/// `txn` must be a live handle; the rest as in `ldb_iter_new`.
#[no_mangle]
pub unsafe extern "C" fn ldb_txn_iter_new(
    txn: *const ldb_txn,
    range: *const ldb_range,
    iter_out: *mut *mut ldb_iter,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (txn, range, iter_out) = unsafe {
            (
                handle(txn, "txn")?,
                to_range(range)?,
                out(iter_out, "iter_out")?,
            )
        };
        let reverse = range.is_reverse();
        *iter_out = ldb_iter::into_raw(txn.with(|t| Ok(t.cursor(range)))?, reverse);
        Ok(())
    })
}

/// Goes to the first entry in the iteration order (the last key if reversed).
///
/// # Safety
/// `iter` must be a live handle used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn ldb_iter_first(iter: *mut ldb_iter) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let it = unsafe { handle_mut(iter, "iter") }?;
        it.first()
    })
}

/// Goes to the last entry in the iteration order (the first key if reversed).
///
/// # Safety
/// `iter` must be a live handle used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn ldb_iter_last(iter: *mut ldb_iter) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let it = unsafe { handle_mut(iter, "iter") }?;
        it.last()
    })
}

/// Moves one entry on in the iteration order; the first call goes to the first entry. Does
/// nothing once the iterator has run off the end.
///
/// # Safety
/// `iter` must be a live handle used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn ldb_iter_next(iter: *mut ldb_iter) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let it = unsafe { handle_mut(iter, "iter") }?;
        it.step(true)
    })
}

/// Moves one entry back in the iteration order; the first call goes to the last entry.
///
/// # Safety
/// `iter` must be a live handle used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn ldb_iter_prev(iter: *mut ldb_iter) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let it = unsafe { handle_mut(iter, "iter") }?;
        it.step(false)
    })
}

/// Goes to the first entry at or after `key` in the iteration order: the first key ≥ `key`, or,
/// reversed, the last key ≤ `key`.
///
/// # Safety
/// `iter` must be a live handle used by no other thread; `key` as in `ldb_put`.
#[no_mangle]
pub unsafe extern "C" fn ldb_iter_seek(
    iter: *mut ldb_iter,
    key: *const u8,
    key_len: usize,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (it, key) = unsafe { (handle_mut(iter, "iter")?, bytes(key, key_len, "key")?) };
        it.started = true;
        if it.reverse {
            it.cursor.seek_for_prev(key)
        } else {
            it.cursor.seek(key)
        }
    })
}

/// Whether the iterator is at an entry; false for NULL, before the first move, past the end, and
/// after an error.
///
/// # Safety
/// `iter` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn ldb_iter_valid(iter: *const ldb_iter) -> bool {
    guard_value(false, || {
        // SAFETY: per this function's contract.
        unsafe { iter.as_ref() }.is_some_and(|it| it.cursor.valid())
    })
}

/// The current key in `*key_out` / `*key_len_out`, borrowed: valid until the iterator moves or
/// is freed. `LDB_INVALID_ARGUMENT` if the iterator is not at an entry.
///
/// # Safety
/// `iter` must be a live handle; `key_out`, `key_len_out` writable.
#[no_mangle]
pub unsafe extern "C" fn ldb_iter_key(
    iter: *const ldb_iter,
    key_out: *mut *const u8,
    key_len_out: *mut usize,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (it, key_out, len_out) = unsafe {
            (
                handle(iter, "iter")?,
                out(key_out, "key_out")?,
                out(key_len_out, "key_len_out")?,
            )
        };
        if !it.cursor.valid() {
            return Err(invalid("the iterator is not at an entry"));
        }
        let key = it.cursor.key();
        (*key_out, *len_out) = (key.as_ptr(), key.len());
        Ok(())
    })
}

/// The current value in `*value_out` / `*value_len_out`, borrowed: valid until the iterator moves
/// or is freed. `LDB_INVALID_ARGUMENT` if the iterator is not at an entry; an I/O or corruption
/// status if the value could not be read.
///
/// # Safety
/// `iter` must be a live handle used by no other thread; `value_out`, `value_len_out` writable.
#[no_mangle]
pub unsafe extern "C" fn ldb_iter_value(
    iter: *mut ldb_iter,
    value_out: *mut *const u8,
    value_len_out: *mut usize,
) -> ldb_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (it, value_out, len_out) = unsafe {
            (
                handle_mut(iter, "iter")?,
                out(value_out, "value_out")?,
                out(value_len_out, "value_len_out")?,
            )
        };
        if !it.cursor.valid() {
            return Err(invalid("the iterator is not at an entry"));
        }
        let value = it.cursor.value()?;
        (*value_out, *len_out) = (value.as_ptr(), value.len());
        Ok(())
    })
}

/// Releases an iterator. NULL is fine; never twice.
///
/// # Safety
/// `iter` must be NULL or a live handle from an `ldb_*iter_new` call.
#[no_mangle]
pub unsafe extern "C" fn ldb_iter_free(iter: *mut ldb_iter) {
    if !iter.is_null() {
        guard_value((), || {
            // SAFETY: a handle from `Box::into_raw` in `ldb_iter::into_raw`, freed once.
            drop(unsafe { Box::from_raw(iter) })
        });
    }
}
