//! [`Iter`]: a standard Rust iterator over a cursor, in its range's direction.

use super::cursor::Cursor;
use crate::error::Result;

/// A standard iterator over a [`Range`](crate::Range), yielding owned `(key, value)` pairs in the range's
/// direction. It sees one point in time however long it lives, and never blocks writers.
pub struct Iter {
    cursor: Cursor,
    started: bool,
    /// A `seek` positioned the cursor; the next call to `next` returns that entry.
    at_seek: bool,
    done: bool,
}

impl Iter {
    pub(crate) fn new(cursor: Cursor) -> Iter {
        Iter {
            cursor,
            started: false,
            at_seek: false,
            done: false,
        }
    }

    /// Repositions: forward, at the first key ≥ `key`; reverse, at the last key ≤ `key`.
    pub fn seek(&mut self, key: &[u8]) -> Result<()> {
        self.started = true;
        self.at_seek = true;
        self.done = false;
        if self.cursor.range.reverse {
            self.cursor.seek_for_prev(key)
        } else {
            self.cursor.seek(key)
        }
    }

    /// The underlying cursor, for moving both ways.
    pub fn into_cursor(self) -> Cursor {
        self.cursor
    }
}

impl Iterator for Iter {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let reverse = self.cursor.range.reverse;
        let moved = if self.at_seek {
            self.at_seek = false;
            Ok(())
        } else if !self.started {
            self.started = true;
            if reverse {
                self.cursor.seek_to_last()
            } else {
                self.cursor.seek_to_first()
            }
        } else if reverse {
            self.cursor.prev()
        } else {
            self.cursor.next()
        };
        if let Err(e) = moved {
            self.done = true;
            return Some(Err(e));
        }
        if !self.cursor.valid() {
            self.done = true;
            return None;
        }
        let key = self.cursor.key().to_vec();
        match self.cursor.value() {
            Ok(v) => Some(Ok((key, v.to_vec()))),
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
