//! Optimistic conflict detection: which keys were written after a transaction began.
//!
//! The commit leader validates each transaction against the [`ConflictTracker`] just before it
//! hands out the transaction's sequence numbers, and records the keys every write touches, with
//! the sequence number of the write. A transaction that began at sequence `start` conflicts if a
//! key it wrote (snapshot isolation), or a key or range it read (serializable), has a recorded
//! write newer than `start`. Since validation and sequence assignment happen in one critical
//! section, every committed transaction behaves as if it ran at its commit point.
//!
//! Recording costs memory, so it only happens while a read-write transaction is open, and entries
//! older than every open transaction are pruned. `floor` keeps that sound: every write with a
//! sequence number above it is in `writes`; a transaction may only begin at a snapshot at or above
//! the floor (it waits for unrecorded writes in flight to become visible).

use std::collections::BTreeMap;

use crate::range::KeyInterval;

/// What a committing transaction asks the leader to check, besides the keys it writes.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConflictCheck {
    /// The snapshot the transaction read: writes with a newer sequence number conflict.
    pub start: u64,
    /// Keys read by point lookups (serializable only; empty under snapshot isolation).
    pub read_keys: Vec<Vec<u8>>,
    /// Key ranges iterators covered (serializable only).
    pub read_ranges: Vec<KeyInterval>,
}

/// Bytes a recorded key costs beyond its own length: the map node's share, the `Vec` header, the
/// sequence number.
const ENTRY_OVERHEAD: usize = 64;

/// The keys from `first` to `last` (inclusive), which a bulk load committed at `seq` may have
/// written.
struct WrittenSpan {
    first: Vec<u8>,
    last: Vec<u8>,
    seq: u64,
}

#[derive(Default)]
pub(crate) struct ConflictTracker {
    /// Start sequences of open read-write transactions, with how many began at each.
    open: BTreeMap<u64, usize>,
    /// The newest sequence number that wrote each key, for writes newer than `floor`.
    writes: BTreeMap<Vec<u8>, u64>,
    /// Approximate bytes held by `writes`.
    bytes: usize,
    /// Every write with a sequence number above this is in `writes`.
    floor: u64,
    /// The last sequence number handed out.
    last_seq: u64,
    /// `writes.len()` after the last prune: pruning again once it has doubled keeps it amortized.
    len_after_prune: usize,
    /// Spans of keys written whole by bulk loads, newer than `floor`: recorded as one span
    /// rather than key by key.
    spans: Vec<WrittenSpan>,
}

impl ConflictTracker {
    pub fn new(last_seq: u64) -> ConflictTracker {
        ConflictTracker {
            floor: last_seq,
            last_seq,
            ..ConflictTracker::default()
        }
    }

    /// Registers a read-write transaction reading the snapshot `visible` (the newest sequence
    /// number readers see). Returns `false` if writes above `visible` went unrecorded: the caller
    /// must wait until they are visible and try again.
    pub fn begin(&mut self, visible: u64) -> bool {
        if visible < self.floor {
            return false;
        }
        *self.open.entry(visible).or_default() += 1;
        true
    }

    /// Unregisters a transaction `begin` registered at `start`.
    pub fn end(&mut self, start: u64) {
        if let Some(count) = self.open.get_mut(&start) {
            *count -= 1;
            if *count == 0 {
                self.open.remove(&start);
            }
        }
        if self.open.is_empty() {
            // Nobody can conflict with anything written so far.
            self.writes = BTreeMap::new();
            self.spans = Vec::new();
            self.bytes = 0;
            self.len_after_prune = 0;
            self.floor = self.last_seq;
        }
    }

    /// Whether writes must be recorded: a read-write transaction is open.
    pub fn recording(&self) -> bool {
        !self.open.is_empty()
    }

    /// Whether a transaction with `check` that writes `write_keys` conflicts with a write
    /// recorded after it began.
    pub fn conflicts<'k>(
        &self,
        check: &ConflictCheck,
        mut write_keys: impl Iterator<Item = &'k [u8]>,
    ) -> bool {
        // The spans bulk loads wrote after the transaction began.
        let spans = || self.spans.iter().filter(|span| span.seq > check.start);
        let newer = |key: &[u8]| {
            self.writes.get(key).is_some_and(|&seq| seq > check.start)
                || spans().any(|span| span.first.as_slice() <= key && key <= span.last.as_slice())
        };
        write_keys.any(newer)
            || check.read_keys.iter().any(|k| newer(k))
            || check.read_ranges.iter().any(|range| {
                !range.is_empty()
                    && (self
                        .writes
                        .range::<[u8], _>(range.bounds())
                        .any(|(_, &seq)| seq > check.start)
                        || spans().any(|span| overlaps(range, &span.first, &span.last)))
            })
    }

    /// Records that every key from `first` to `last` (inclusive) may have been written at `seq`
    /// (call only while `recording()`).
    pub fn record_span(&mut self, first: &[u8], last: &[u8], seq: u64) {
        self.spans.push(WrittenSpan {
            first: first.to_vec(),
            last: last.to_vec(),
            seq,
        });
        self.bytes += first.len() + last.len() + ENTRY_OVERHEAD;
    }

    /// Records that `key` was written at `seq` (call only while `recording()`).
    pub fn record(&mut self, key: &[u8], seq: u64) {
        if let Some(old) = self.writes.get_mut(key) {
            *old = seq;
        } else {
            self.writes.insert(key.to_vec(), seq);
            self.bytes += key.len() + ENTRY_OVERHEAD;
        }
    }

    /// Notes that sequence numbers up to `last_seq` were handed out; `recorded` says whether
    /// their keys went through `record`.
    pub fn assigned(&mut self, last_seq: u64, recorded: bool) {
        self.last_seq = last_seq;
        if !recorded {
            self.floor = last_seq;
        }
        if self.writes.len() > 2 * self.len_after_prune + 1024 {
            self.prune();
        }
    }

    /// Drops entries no open transaction can conflict with: those not newer than the oldest
    /// open transaction's snapshot.
    fn prune(&mut self) {
        let Some(&oldest) = self.open.keys().next() else {
            return;
        };
        let mut bytes = 0;
        self.writes.retain(|key, seq| {
            let keep = *seq > oldest;
            if keep {
                bytes += key.len() + ENTRY_OVERHEAD;
            }
            keep
        });
        self.spans.retain(|span| {
            let keep = span.seq > oldest;
            if keep {
                bytes += span.first.len() + span.last.len() + ENTRY_OVERHEAD;
            }
            keep
        });
        self.bytes = bytes;
        self.floor = self.floor.max(oldest);
        self.len_after_prune = self.writes.len();
    }

    /// Keys recorded and the approximate bytes they hold.
    pub fn footprint(&self) -> (u64, u64) {
        (self.writes.len() as u64, self.bytes as u64)
    }

    /// Snapshot sequence of the oldest open read-write transaction.
    pub fn oldest_start(&self) -> Option<u64> {
        self.open.keys().next().copied()
    }
}

/// Whether `range` (not empty) holds a key from `first` to `last`.
fn overlaps(range: &KeyInterval, first: &[u8], last: &[u8]) -> bool {
    use std::ops::Bound;
    let starts_by_last = match &range.low {
        Bound::Included(low) => low.as_slice() <= last,
        Bound::Excluded(low) => low.as_slice() < last,
        Bound::Unbounded => true,
    };
    let ends_from_first = match &range.high {
        Bound::Included(high) => high.as_slice() >= first,
        Bound::Excluded(high) => high.as_slice() > first,
        Bound::Unbounded => true,
    };
    starts_by_last && ends_from_first
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ops::Bound;

    fn check(start: u64) -> ConflictCheck {
        ConflictCheck {
            start,
            ..ConflictCheck::default()
        }
    }

    fn keys<'a>(k: &'a [&'a [u8]]) -> impl Iterator<Item = &'a [u8]> {
        k.iter().copied()
    }

    #[test]
    fn write_after_start_conflicts_and_older_does_not() {
        let mut t = ConflictTracker::new(10);
        assert!(t.begin(10));
        t.record(b"a", 11);
        t.assigned(11, true);
        assert!(t.conflicts(&check(10), keys(&[b"a"])));
        assert!(!t.conflicts(&check(11), keys(&[b"a"])));
        assert!(!t.conflicts(&check(10), keys(&[b"b"])));
    }

    #[test]
    fn reads_and_ranges_conflict() {
        let mut t = ConflictTracker::new(0);
        assert!(t.begin(0));
        t.record(b"m", 1);
        t.assigned(1, true);
        let mut c = check(0);
        c.read_keys = vec![b"m".to_vec()];
        assert!(t.conflicts(&c, keys(&[])));
        let range = |low, high| ConflictCheck {
            start: 0,
            read_keys: vec![],
            read_ranges: vec![KeyInterval { low, high }],
        };
        let inc = |k: &[u8]| Bound::Included(k.to_vec());
        let exc = |k: &[u8]| Bound::Excluded(k.to_vec());
        assert!(t.conflicts(&range(inc(b"a"), exc(b"z")), keys(&[])));
        assert!(t.conflicts(&range(inc(b"m"), inc(b"m")), keys(&[])));
        assert!(!t.conflicts(&range(inc(b"a"), exc(b"m")), keys(&[])));
        assert!(!t.conflicts(&range(exc(b"m"), Bound::Unbounded), keys(&[])));
        // An empty interval (as `BTreeMap::range` would panic on) never conflicts.
        assert!(!t.conflicts(&range(inc(b"z"), exc(b"a")), keys(&[])));
        assert!(!t.conflicts(&range(exc(b"m"), exc(b"m")), keys(&[])));
    }

    #[test]
    fn a_bulk_loads_span_conflicts_inside_it_only() {
        let mut t = ConflictTracker::new(0);
        assert!(t.begin(0));
        t.record_span(b"c", b"f", 1);
        t.assigned(1, true);
        assert!(t.conflicts(&check(0), keys(&[b"c"])));
        assert!(t.conflicts(&check(0), keys(&[b"d"])));
        assert!(t.conflicts(&check(0), keys(&[b"f"])));
        assert!(!t.conflicts(&check(0), keys(&[b"b", b"g"])));
        assert!(
            !t.conflicts(&check(1), keys(&[b"d"])),
            "began after the load"
        );
        let mut reader = check(0);
        reader.read_keys = vec![b"e".to_vec()];
        assert!(t.conflicts(&reader, keys(&[])));
        let range = |low, high| ConflictCheck {
            start: 0,
            read_keys: vec![],
            read_ranges: vec![KeyInterval { low, high }],
        };
        let inc = |k: &[u8]| Bound::Included(k.to_vec());
        let exc = |k: &[u8]| Bound::Excluded(k.to_vec());
        assert!(t.conflicts(&range(inc(b"a"), inc(b"c")), keys(&[])));
        assert!(!t.conflicts(&range(inc(b"a"), exc(b"c")), keys(&[])));
        assert!(t.conflicts(&range(inc(b"f"), Bound::Unbounded), keys(&[])));
        assert!(!t.conflicts(&range(exc(b"f"), Bound::Unbounded), keys(&[])));
        assert!(t.conflicts(&range(inc(b"d"), inc(b"e")), keys(&[])));
        t.end(0);
        assert_eq!(t.footprint(), (0, 0), "dropped once nobody is open");
    }

    #[test]
    fn unrecorded_writes_hold_back_new_transactions() {
        let mut t = ConflictTracker::new(5);
        t.assigned(8, false);
        assert!(
            !t.begin(7),
            "a write at 8 is unrecorded and not yet visible"
        );
        assert!(t.begin(8));
        t.record(b"k", 9);
        t.assigned(9, true);
        t.end(8);
        assert_eq!(
            t.footprint(),
            (0, 0),
            "nothing recorded once nobody is open"
        );
        assert!(!t.begin(8));
        assert!(t.begin(9));
    }

    #[test]
    fn prune_keeps_what_the_oldest_can_conflict_with() {
        let mut t = ConflictTracker::new(0);
        assert!(t.begin(0));
        for i in 0..3000u64 {
            t.record(&i.to_be_bytes(), i + 1);
        }
        t.assigned(3000, true);
        assert_eq!(
            t.footprint().0,
            3000,
            "the transaction at 0 can conflict with every one"
        );
        assert!(t.begin(3000));
        t.end(0);
        for i in 0..10_000u64 {
            t.record(&(i + 5000).to_be_bytes(), 3001 + i);
        }
        t.assigned(13_000, true);
        assert_eq!(
            t.footprint().0,
            10_000,
            "pruned once the map doubled: the first 3000 are older than every open one"
        );
        assert!(t.conflicts(&check(3000), keys(&[&5000u64.to_be_bytes()])));
        assert_eq!(t.oldest_start(), Some(3000));
    }
}
