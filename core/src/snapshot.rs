//! [`Snapshot`]: a read-only view of the database at one point in time.

use std::sync::Arc;

use crate::engine::Version;
use crate::error::Result;
use crate::iterator::{Cursor, Iter};
use crate::limits::check_key;
use crate::pinned::PinnedValue;
use crate::range::Range;

/// A consistent, read-only view as of the moment it was taken. Later writes are invisible to it.
/// It never blocks writers; while it lives, the pages and memtables it can reach are kept.
pub struct Snapshot {
    version: Arc<Version>,
    seq: u64,
}

impl Snapshot {
    pub(crate) fn new(version: Arc<Version>, seq: u64) -> Snapshot {
        Snapshot { version, seq }
    }

    /// The sequence number of the last write this snapshot sees.
    pub fn sequence(&self) -> u64 {
        self.seq
    }

    /// The value of `key` in this snapshot, or `None`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.get_with(key, <[u8]>::to_vec)
    }

    /// Calls `f` with the value of `key` without copying it, if present.
    pub fn get_with<R>(&self, key: &[u8], f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>> {
        self.version.check_not_inherited()?;
        check_key(key)?;
        self.version.get_with(key, self.seq, f)
    }

    /// The value of `key` in this snapshot without copying it where it lies in one piece.
    pub fn get_pinned(&self, key: &[u8]) -> Result<Option<PinnedValue>> {
        self.version.check_not_inherited()?;
        check_key(key)?;
        self.version.get_pinned(key, self.seq)
    }

    /// A cursor over `range` in this snapshot.
    pub fn cursor(&self, range: Range) -> Cursor {
        Cursor::new(self.version.clone(), self.seq, range)
    }

    /// An iterator over `range` (in its direction) in this snapshot.
    pub fn iter(&self, range: Range) -> Iter {
        Iter::new(self.cursor(range))
    }
}
