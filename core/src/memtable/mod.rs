//! The memtable: an ordered, concurrent map from (keyspace, key, sequence) to a value or a tombstone.
//!
//! Entries sort by keyspace and key ascending, then by sequence number *descending*, so the first
//! entry at or after `(key, snapshot_seq)` is the newest version a snapshot may see. Readers never
//! block: the skiplist is lock-free, and only the group-commit leader inserts.

mod arena;
mod bloom;
mod cursor;
mod index;
mod keycmp;
mod skiplist;
mod table;

pub(crate) use cursor::MemCursor;
pub(crate) use table::Memtable;
