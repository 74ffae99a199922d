//! [`MemCursor`]: one memtable as seen at one snapshot — per key only its newest visible
//! version — positioned anywhere and moved either way, holding the memtable alive.

use std::sync::Arc;

use super::skiplist::{Entry, Position, Probe};
use super::table::Memtable;

/// Versions of one key stepped over one by one before a walk jumps past them with a search.
const LONG_VERSION_RUN: usize = 8;

pub(crate) struct MemCursor {
    table: Arc<Memtable>,
    keyspace: u32,
    snapshot: u64,
    /// The entry the cursor is at: the newest version of its key visible at `snapshot`.
    at: Option<Position>,
}

// SAFETY: `at` is only an address inside `table`'s arena, which the cursor's `Arc` keeps alive;
// entries never change once linked, so reading them from any thread is as safe as reading the
// memtable itself, which is `Send` and `Sync`.
unsafe impl Send for MemCursor {}
// SAFETY: see `Send`; `&MemCursor` only reads.
unsafe impl Sync for MemCursor {}

impl MemCursor {
    /// An unpositioned cursor over `keyspace` of `table` as of `snapshot`.
    pub fn new(table: Arc<Memtable>, keyspace: u32, snapshot: u64) -> MemCursor {
        MemCursor {
            table,
            keyspace,
            snapshot,
            at: None,
        }
    }

    /// A cursor at the newest version of `key` visible at `snapshot`, if `table` has one.
    pub fn at_key(
        table: Arc<Memtable>,
        keyspace: u32,
        key: &[u8],
        snapshot: u64,
    ) -> Option<MemCursor> {
        let at = table
            .newest_visible(keyspace, key, snapshot)
            .map(|e| e.position());
        at.map(|at| MemCursor {
            at: Some(at),
            ..MemCursor::new(table, keyspace, snapshot)
        })
    }

    #[inline]
    fn entry(&self) -> Option<Entry<'_>> {
        // SAFETY: `at` only ever holds positions of entries of `self.table`'s list.
        self.at.map(|at| unsafe { self.table.list().entry(at) })
    }

    /// The current key; `None` if not positioned.
    #[inline]
    pub fn key(&self) -> Option<&[u8]> {
        self.entry().map(|e| e.key())
    }

    /// The current value; `None` if not positioned or at a tombstone.
    #[inline]
    pub fn value(&self) -> Option<&[u8]> {
        self.entry().and_then(|e| e.value())
    }

    #[inline]
    pub fn is_tombstone(&self) -> bool {
        self.entry().is_some_and(|e| e.value().is_none())
    }

    /// Moves to the first key ≥ `key` (> `key` if `!inclusive`) with a visible version.
    pub fn seek_ge(&mut self, key: &[u8], inclusive: bool) {
        let list = self.table.list();
        // The newest visible version of `key` itself is at (key, snapshot); (key, 0) is past
        // every version of it.
        let seq = if inclusive { self.snapshot } else { 0 };
        let start = list.seek(&Probe::new(self.keyspace, key, seq), !inclusive);
        self.at = self.visible_from(start, None).map(|e| e.position());
    }

    /// Moves to the next key with a visible version.
    #[inline]
    pub fn next(&mut self) {
        if let Some(current) = self.entry() {
            self.at = self
                .visible_from(current.next(), Some(current))
                .map(|e| e.position());
        }
    }

    /// The first entry from `entry` on that is the newest visible version of a key other than
    /// `after`'s. Runs of versions to pass over (older ones of `after`'s key, or newer than the
    /// snapshot) are stepped through, or jumped past with a search when long.
    fn visible_from<'a>(
        &'a self,
        mut entry: Option<Entry<'a>>,
        mut after: Option<Entry<'a>>,
    ) -> Option<Entry<'a>> {
        let list = self.table.list();
        let mut skipped = 0;
        while let Some(e) = entry {
            if e.keyspace() != self.keyspace {
                return None;
            }
            let seen = after.is_some_and(|a| a.same_key(&e));
            if !seen && e.seq() <= self.snapshot {
                return Some(e);
            }
            skipped += 1;
            if skipped < LONG_VERSION_RUN {
                entry = e.next();
                continue;
            }
            // Jump past the versions of a key already given, or to the newest visible version.
            skipped = 0;
            entry = if seen {
                list.seek(&Probe::new(self.keyspace, e.key(), 0), true)
            } else {
                after = None;
                list.seek(&Probe::new(self.keyspace, e.key(), self.snapshot), false)
            };
        }
        None
    }

    /// Moves to the last key ≤ `key` (< `key` if `!inclusive`; `None`: from the very end) with a
    /// visible version.
    pub fn seek_le(&mut self, key: Option<&[u8]>, inclusive: bool) {
        let list = self.table.list();
        let start = match key {
            // Versions sort by descending sequence, so (key, 0) is the last possible version of
            // `key` and (key, MAX) the first.
            Some(key) => {
                let seq = if inclusive { 0 } else { u64::MAX };
                list.seek_back(&Probe::new(self.keyspace, key, seq), inclusive)
            }
            None => match self.keyspace.checked_add(1) {
                // Before the smallest possible entry of the next keyspace.
                Some(next) => list.seek_back(&Probe::new(next, &[], u64::MAX), false),
                None => list.last(),
            },
        };
        self.at = self.visible_back_from(start).map(|e| e.position());
    }

    /// Moves to the previous key with a visible version.
    pub fn prev(&mut self) {
        if let Some(current) = self.entry() {
            let key = current.key();
            let start = self
                .table
                .list()
                .seek_back(&Probe::new(self.keyspace, key, u64::MAX), false);
            self.at = self.visible_back_from(start).map(|e| e.position());
        }
    }

    /// The newest visible version of the last key at or before `entry` that has one.
    fn visible_back_from<'a>(&'a self, mut entry: Option<Entry<'a>>) -> Option<Entry<'a>> {
        let list = self.table.list();
        while let Some(e) = entry {
            if e.keyspace() != self.keyspace {
                return None;
            }
            // `e` is the oldest version of its key not yet ruled out; the newest visible one, if
            // any, is at (key, snapshot).
            let key = e.key();
            if let Some(visible) = list.seek(&Probe::new(self.keyspace, key, self.snapshot), false)
            {
                if visible.same_key(&e) {
                    return Some(visible);
                }
            }
            // No visible version of this key: step before all of them.
            entry = list.seek_back(&Probe::new(self.keyspace, key, u64::MAX), false);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Seen = Vec<(Vec<u8>, Option<Vec<u8>>)>;

    fn current(c: &MemCursor) -> (Vec<u8>, Option<Vec<u8>>) {
        (c.key().unwrap().to_vec(), c.value().map(<[u8]>::to_vec))
    }

    /// Every entry `c` shows, walked from the first forward, and from the last backward (put
    /// back in key order).
    fn walk_both_ways(c: &mut MemCursor) -> (Seen, Seen) {
        let mut forward: Seen = Vec::new();
        c.seek_ge(&[], true);
        while c.key().is_some() {
            forward.push(current(c));
            c.next();
        }
        let mut backward: Seen = Vec::new();
        c.seek_le(None, true);
        while c.key().is_some() {
            backward.push(current(c));
            c.prev();
        }
        backward.reverse();
        (forward, backward)
    }

    /// Stepping forward and backward gives what a search per key gives, at every snapshot, over
    /// keys with short and long runs of versions (past `LONG_VERSION_RUN`), puts and deletes,
    /// and another keyspace on either side.
    #[test]
    fn steps_agree_with_a_search_per_key() {
        let table = Arc::new(Memtable::new(1, 1 << 20));
        let mut x: u64 = 7;
        let mut seq: u64 = 0;
        table.insert(0, b"before", 1, Some(b"x"));
        for _ in 0..3000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // Key 0 gets a long run of versions; the rest a few each.
            let k = if x.is_multiple_of(3) {
                0
            } else {
                (x >> 33) % 40
            };
            seq += 1;
            let value = (!x.is_multiple_of(5)).then(|| seq.to_le_bytes());
            table.insert(1, &k.to_be_bytes(), seq, value.as_ref().map(|v| &v[..]));
        }
        table.insert(2, b"after", seq + 1, Some(b"x"));
        for snapshot in [0, 1, 5, 100, 1000, 2999, 3000, u64::MAX] {
            // The model: each key's newest visible version, found by a search of its own.
            let mut want: Seen = Vec::new();
            for k in 0..40u64 {
                let key = k.to_be_bytes();
                if let Some(c) = MemCursor::at_key(table.clone(), 1, &key, snapshot) {
                    want.push(current(&c));
                }
            }
            let mut c = MemCursor::new(table.clone(), 1, snapshot);
            let (forward, backward) = walk_both_ways(&mut c);
            assert_eq!(forward, want, "forward at snapshot {snapshot}");
            assert_eq!(backward, want, "backward at snapshot {snapshot}");

            for (i, (key, _)) in want.iter().enumerate() {
                c.seek_ge(key, false);
                assert_eq!(
                    c.key().map(<[u8]>::to_vec),
                    want.get(i + 1).map(|w| w.0.clone())
                );
                c.seek_le(Some(key), false);
                let before = i.checked_sub(1).map(|j| want[j].0.clone());
                assert_eq!(c.key().map(<[u8]>::to_vec), before);
                c.seek_le(Some(key), true);
                assert_eq!(c.key().map(<[u8]>::to_vec), Some(key.clone()));
            }
        }
    }

    /// While a writer inserts newer versions (sorted runs, as the commit leader inserts a
    /// group), a walk backward at a snapshot sees what a walk forward at it sees. (A search used
    /// to return a version linked after it passed by, newer than the snapshot: backward walks
    /// and point reads that fell back to a search could see a write from after their snapshot.)
    #[test]
    fn backward_walks_agree_with_forward_ones_while_a_writer_inserts() {
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        let table = Arc::new(Memtable::new(1, 64 << 20));
        let visible = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (table, visible, stop) = (table.clone(), visible.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut seq = 0u64;
                let mut x: u64 = 11;
                while !stop.load(Ordering::Relaxed) && seq < 400_000 {
                    let mut keys: Vec<u64> = (0..4)
                        .map(|_| {
                            x = x
                                .wrapping_mul(6364136223846793005)
                                .wrapping_add(1442695040888963407);
                            (x >> 33) % 200
                        })
                        .collect();
                    keys.sort_unstable();
                    keys.dedup();
                    for k in &keys {
                        seq += 1;
                        table.insert(0, &k.to_be_bytes(), seq, Some(&seq.to_le_bytes()));
                    }
                    visible.store(seq, Ordering::Release);
                }
            })
        };
        let started = std::time::Instant::now();
        let mut walks = 0;
        while started.elapsed() < std::time::Duration::from_millis(1500) {
            let snapshot = visible.load(Ordering::Acquire);
            let mut c = MemCursor::new(table.clone(), 0, snapshot);
            let (forward, backward) = walk_both_ways(&mut c);
            assert_eq!(backward, forward, "snapshot {snapshot}, walk {walks}");
            walks += 1;
        }
        stop.store(true, Ordering::Relaxed);
        writer.join().unwrap();
        assert!(walks > 10);
    }
}
