//! The memtable: an ordered, concurrent map from (keyspace, key, sequence) to a value or a tombstone.
//!
//! Entries sort by keyspace and key ascending, then by sequence number *descending*, so the first
//! entry at or after `(key, snapshot_seq)` is the newest version a snapshot may see. Readers never
//! block: the skiplist is lock-free, and only the group-commit leader inserts.

mod arena;
mod bloom;
mod cursor;
mod index;
mod skiplist;
mod table;

pub(crate) use cursor::MemCursor;
pub(crate) use table::Memtable;

use std::sync::atomic::AtomicU64;

/// `n` atomic words at zero, in memory the allocator hands out already zeroed: the kernel's zero
/// page backs it until a word is written, so the index and the filter of a memtable take memory
/// as they fill, not when the memtable is made.
fn zeroed_words(n: usize) -> Box<[AtomicU64]> {
    let words: Box<[u64]> = vec![0u64; n].into_boxed_slice();
    // SAFETY: `AtomicU64` has the same size, alignment and bit validity as `u64`, and the box's
    // allocation is handed over whole.
    unsafe { Box::from_raw(Box::into_raw(words) as *mut [AtomicU64]) }
}
