//! [`Cursor`] and [`Iter`]: ordered reads over the memtables and the tree of one version, as of one
//! sequence number.
//!
//! Each source (a memtable, or the tree) presents, per key, only its newest version visible at the
//! snapshot. The cursor merges them: the smallest (or, backwards, largest) key wins, a newer source
//! wins a tie, and a tombstone hides the key.
//!
//! A transaction's cursor also merges its pending writes (newest of all) and records the span of
//! keys it read, for the serializable conflict check.

mod coverage;
mod cursor;
mod iter;
mod pending;
mod source;

pub(crate) use coverage::SharedCoverage;
pub use cursor::Cursor;
pub use iter::Iter;
pub(crate) use pending::PendingWrites;
