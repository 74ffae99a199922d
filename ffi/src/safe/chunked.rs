//! An [`Iter`] read in chunks of entries, for the bindings' iterators.
//!
//! Why: crossing between the host language and native code costs more than reading an entry, so
//! the bindings hand entries over a chunk at a time. Chunks start small, so taking only the first
//! entry of a big range stays cheap, and double up to 256 entries for scans. Each binding packs
//! the entries its own way; this keeps the stepping and the growth in one place.

use super::{Iter, Result};

/// Entries in the first chunk.
const FIRST_CHUNK: usize = 4;
/// Entries in a chunk at most (each chunk doubles the last, up to this).
const MAX_CHUNK: usize = 256;

/// An iterator stepped forward one chunk at a time; see the module's notes.
pub struct Chunked {
    iter: Iter,
    started: bool,
    done: bool,
    chunk_size: usize,
}

impl Chunked {
    /// `iter`, before its first entry.
    pub fn new(iter: Iter) -> Chunked {
        Chunked {
            iter,
            started: false,
            done: false,
            chunk_size: FIRST_CHUNK,
        }
    }

    /// Whether the end was reached (nothing more to read).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Steps through the next chunk, calling `entry` with the iterator at each of its entries;
    /// `entry` returns whether the chunk has room for more (`false` ends it early, e.g. once it
    /// holds enough bytes). At the end, calls nothing and [`Chunked::is_done`] becomes true.
    pub fn read_chunk(&mut self, mut entry: impl FnMut(&mut Iter) -> Result<bool>) -> Result<()> {
        let mut count = 0;
        while count < self.chunk_size && !self.done {
            if self.started {
                self.iter.next()?;
            } else {
                self.iter.first()?;
                self.started = true;
            }
            if !self.iter.valid() {
                self.done = true;
                break;
            }
            count += 1;
            if !entry(&mut self.iter)? {
                break;
            }
        }
        self.chunk_size = (self.chunk_size * 2).min(MAX_CHUNK);
        Ok(())
    }
}
