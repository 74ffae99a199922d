//! [`Memtable`]: the skiplist of versioned entries, its point reads, and what the merge reads.

use std::sync::atomic::{AtomicU64, Ordering};

use super::bloom::{key_hash, Bloom};
use super::skiplist::{Entry, IndexIncomplete, Probe, SkipList};

/// The fewest bytes an entry takes (node, links, a short key and value), for sizing the filter.
const SMALLEST_ENTRY: u64 = 64;

/// One memtable. Frozen memtables are never written again.
pub(crate) struct Memtable {
    list: SkipList,
    /// The first WAL segment holding this memtable's records.
    first_segment: u64,
    /// The highest sequence number inserted.
    max_seq: AtomicU64,
    /// Every key the skiplist's index turned away, so a point read of a key that is not here
    /// skips the skiplist even then.
    bloom: Bloom,
}

impl Memtable {
    /// An empty memtable whose records start in WAL segment `first_segment`, sized for about
    /// `capacity_bytes` of entries.
    pub fn new(first_segment: u64, capacity_bytes: u64) -> Memtable {
        let expected_keys = (capacity_bytes / SMALLEST_ENTRY).min(1 << 26) as usize;
        // Blocks of a sixteenth of the table, between 16 KiB and 1 MiB: few allocations, and
        // little left unused in the last block.
        let block_size = (capacity_bytes / 16).clamp(16 << 10, 1 << 20) as usize;
        // One index slot per 128 bytes of capacity: an eighth more memory, and room for every
        // key of entries of 96 bytes or more at three quarters full.
        let index_slots = (capacity_bytes / 128).min(1 << 26) as usize;
        Memtable {
            list: SkipList::new(block_size, index_slots),
            first_segment,
            max_seq: AtomicU64::new(0),
            bloom: Bloom::new(expected_keys),
        }
    }

    pub fn first_segment(&self) -> u64 {
        self.first_segment
    }

    pub fn max_seq(&self) -> u64 {
        self.max_seq.load(Ordering::Acquire)
    }

    /// Bytes the table takes in memory: its entries, and its index and filter.
    pub fn approximate_bytes(&self) -> usize {
        self.list.bytes() + self.bloom.bytes()
    }

    pub fn is_empty(&self) -> bool {
        self.list.len() == 0
    }

    pub(super) fn list(&self) -> &SkipList {
        &self.list
    }

    /// Inserts a version. Only the group-commit leader (or recovery) calls this.
    pub fn insert(&self, keyspace: u32, key: &[u8], seq: u64, value: Option<&[u8]>) {
        let hash = key_hash(keyspace, key);
        self.list
            .insert(keyspace, key, seq, value, hash, || self.bloom.insert(hash));
        self.max_seq.fetch_max(seq, Ordering::Release);
    }

    /// Calls `f` with the value of the newest version of `key` with sequence ≤ `snapshot`
    /// (`None` for a tombstone); `None` if this table has no such version.
    pub fn get_with<R>(
        &self,
        keyspace: u32,
        key: &[u8],
        snapshot: u64,
        f: impl FnOnce(Option<&[u8]>) -> R,
    ) -> Option<R> {
        let entry = self.newest_visible(keyspace, key, snapshot)?;
        Some(f(entry.value()))
    }

    /// The newest version of `key` with sequence ≤ `snapshot`, if this table has one.
    pub fn newest_visible(&self, keyspace: u32, key: &[u8], snapshot: u64) -> Option<Entry<'_>> {
        let hash = key_hash(keyspace, key);
        match self.list.newest_visible(keyspace, key, hash, snapshot) {
            Ok(found) => return found,
            Err(IndexIncomplete) if !self.bloom.may_contain(hash) => return None,
            Err(IndexIncomplete) => {}
        }
        let entry = self
            .list
            .seek(&Probe::new(keyspace, key, snapshot), false)?;
        (entry.keyspace() == keyspace && entry.key() == key).then_some(entry)
    }

    /// The newest version of every key, in key order (the merge reads frozen memtables, whose
    /// entries are all visible).
    pub fn newest_entries(&self) -> Vec<Entry<'_>> {
        let mut out: Vec<Entry<'_>> = Vec::with_capacity(self.list.len());
        let mut at = self.list.first();
        while let Some(entry) = at {
            if !out.last().is_some_and(|last| last.same_key(&entry)) {
                out.push(entry);
            }
            at = entry.next();
        }
        out
    }
}
