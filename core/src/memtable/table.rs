//! [`Memtable`]: the skiplist of versioned entries, its point reads, and what the merge reads.

use std::sync::atomic::{AtomicU64, Ordering};

use super::bloom::Bloom;
use super::skiplist::{Entry, SkipList};
use crate::key_order::key_hash;

/// The fewest bytes an entry takes (node, links, a short key and value), for sizing the filter.
const SMALLEST_ENTRY: u64 = 64;

/// One memtable. Frozen memtables are never written again.
pub(crate) struct Memtable {
    list: SkipList,
    /// The first WAL segment holding this memtable's records.
    first_segment: u64,
    /// The highest sequence number inserted.
    max_seq: AtomicU64,
    /// Every key inserted: a point read of a key that is not here (most reads, whose keys live
    /// in the tree) is answered by this small filter before the larger index is touched.
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
        // One index slot per 128 bytes of capacity (a sixteenth of it, counted in its size):
        // room at three quarters full for every key of entries of 160 bytes or more; past that,
        // reads of the keys it turned away search the list. Twice the slots cost write speed
        // (a larger table to miss in) and memory for little gain in reads.
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
        self.bloom.insert(hash);
        self.list.insert(keyspace, key, seq, value, hash);
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
        if !self.bloom.may_contain(hash) {
            return None;
        }
        self.list.newest_visible(keyspace, key, hash, snapshot)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key is found, and only those, whichever way the index answers: complete, full or off
    /// (a search behind it).
    #[test]
    fn point_reads_find_every_key_whether_the_index_is_complete_full_or_off() {
        for (capacity, turn_off) in [(1 << 20, false), (4 << 10, false), (1 << 20, true)] {
            let table = Memtable::new(1, capacity);
            for i in 0..2000u32 {
                if turn_off && i == 1000 {
                    table.list.turn_index_off();
                }
                let seq = u64::from(i) + 1;
                table.insert(0, &(i % 700).to_be_bytes(), seq, Some(&i.to_le_bytes()));
            }
            for i in 0..700u32 {
                let newest = (0..2000u32).rev().find(|j| j % 700 == i).unwrap();
                let got = table.get_with(0, &i.to_be_bytes(), u64::MAX, |v| v.map(<[u8]>::to_vec));
                assert_eq!(got, Some(Some(newest.to_le_bytes().to_vec())), "key {i}");
                let older =
                    table.get_with(0, &i.to_be_bytes(), u64::from(i), |v| v.map(<[u8]>::to_vec));
                assert_eq!(older, None, "key {i} before its first write");
            }
            for i in 700..1400u32 {
                assert!(table
                    .newest_visible(0, &i.to_be_bytes(), u64::MAX)
                    .is_none());
            }
        }
    }
}
