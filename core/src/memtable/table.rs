//! [`Memtable`]: the skiplist of versioned entries, its key order, and its reads.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::VecDeque;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering as AtomicOrdering};
use std::sync::Arc;

use crossbeam_skiplist::map::Entry;

use super::bloom::{key_hash, Bloom};
use super::keycmp::compare_keys;
use crossbeam_skiplist::SkipMap;

/// Versions of one key stepped over one by one before a walk jumps past them with a search.
const LONG_VERSION_RUN: usize = 8;

/// A key in the memtable.
#[derive(Debug)]
pub(crate) struct MemKey {
    keyspace: u32,
    pub key: Box<[u8]>,
    seq: u64,
}

/// A value in the memtable: the bytes of a put, or a tombstone for a delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MemValue {
    Put(Arc<[u8]>),
    Delete,
}

/// What `(keyspace, key, seq)` looks like, so lookups need not allocate a `MemKey`.
pub(crate) trait KeyParts {
    fn parts(&self) -> (u32, &[u8], u64);
}

impl KeyParts for MemKey {
    fn parts(&self) -> (u32, &[u8], u64) {
        (self.keyspace, &self.key, self.seq)
    }
}

/// A borrowed lookup key.
pub(crate) struct Probe<'a> {
    pub keyspace: u32,
    pub key: &'a [u8],
    pub seq: u64,
}

impl KeyParts for Probe<'_> {
    fn parts(&self) -> (u32, &[u8], u64) {
        (self.keyspace, self.key, self.seq)
    }
}

fn compare(a: (u32, &[u8], u64), b: (u32, &[u8], u64)) -> Ordering {
    a.0.cmp(&b.0)
        .then_with(|| compare_keys(a.1, b.1))
        .then_with(|| b.2.cmp(&a.2))
}

impl<'a> PartialEq for dyn KeyParts + 'a {
    fn eq(&self, other: &Self) -> bool {
        compare(self.parts(), other.parts()) == Ordering::Equal
    }
}
impl<'a> Eq for dyn KeyParts + 'a {}
impl<'a> PartialOrd for dyn KeyParts + 'a {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<'a> Ord for dyn KeyParts + 'a {
    fn cmp(&self, other: &Self) -> Ordering {
        compare(self.parts(), other.parts())
    }
}
impl PartialEq for MemKey {
    fn eq(&self, other: &Self) -> bool {
        compare(self.parts(), other.parts()) == Ordering::Equal
    }
}
impl Eq for MemKey {}
impl PartialOrd for MemKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for MemKey {
    fn cmp(&self, other: &Self) -> Ordering {
        compare(self.parts(), other.parts())
    }
}
impl<'a> Borrow<dyn KeyParts + 'a> for MemKey {
    fn borrow(&self) -> &(dyn KeyParts + 'a) {
        self
    }
}

/// Bytes charged per entry on top of key and value, for size accounting.
const ENTRY_OVERHEAD: usize = 64;

/// One memtable. Frozen memtables are never written again.
pub(crate) struct Memtable {
    map: SkipMap<MemKey, MemValue>,
    approximate_bytes: AtomicUsize,
    /// The first WAL segment holding this memtable's records.
    first_segment: u64,
    /// The highest sequence number inserted.
    max_seq: AtomicU64,
    /// Every key inserted, so a point read of a key that is not here skips the skiplist.
    bloom: Bloom,
}

impl Memtable {
    /// An empty memtable whose records start in WAL segment `first_segment`, sized for about
    /// `capacity_bytes` of entries.
    pub fn new(first_segment: u64, capacity_bytes: u64) -> Memtable {
        let expected_keys = (capacity_bytes / ENTRY_OVERHEAD as u64).min(1 << 26) as usize;
        Memtable {
            map: SkipMap::new(),
            approximate_bytes: AtomicUsize::new(0),
            first_segment,
            max_seq: AtomicU64::new(0),
            bloom: Bloom::new(expected_keys),
        }
    }

    pub fn first_segment(&self) -> u64 {
        self.first_segment
    }

    pub fn max_seq(&self) -> u64 {
        self.max_seq.load(AtomicOrdering::Acquire)
    }

    pub fn approximate_bytes(&self) -> usize {
        self.approximate_bytes.load(AtomicOrdering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Inserts a version. Only the group-commit leader calls this.
    pub fn insert(&self, keyspace: u32, key: &[u8], seq: u64, value: Option<&[u8]>) {
        let charge = key.len() + value.map_or(0, <[u8]>::len) + ENTRY_OVERHEAD;
        self.bloom.insert(key_hash(keyspace, key));
        let value = match value {
            Some(v) => MemValue::Put(v.into()),
            None => MemValue::Delete,
        };
        self.map.insert(
            MemKey {
                keyspace,
                key: key.into(),
                seq,
            },
            value,
        );
        self.approximate_bytes
            .fetch_add(charge, AtomicOrdering::Relaxed);
        self.max_seq.fetch_max(seq, AtomicOrdering::Release);
    }

    /// Calls `f` with the value of the newest version of `key` with sequence ≤ `snapshot`.
    pub fn get_with<R>(
        &self,
        keyspace: u32,
        key: &[u8],
        snapshot: u64,
        f: impl FnOnce(Option<&[u8]>) -> R,
    ) -> Option<R> {
        let entry = self.newest_visible(keyspace, key, snapshot)?;
        Some(match entry.value() {
            MemValue::Put(v) => f(Some(v)),
            MemValue::Delete => f(None),
        })
    }

    /// The newest version of `key` with sequence ≤ `snapshot`, if this table has one: a put
    /// shares the table's copy of the value.
    pub fn get_version(&self, keyspace: u32, key: &[u8], snapshot: u64) -> Option<MemValue> {
        self.newest_visible(keyspace, key, snapshot)
            .map(|entry| entry.value().clone())
    }

    fn newest_visible(
        &self,
        keyspace: u32,
        key: &[u8],
        snapshot: u64,
    ) -> Option<Entry<'_, MemKey, MemValue>> {
        if !self.bloom.may_contain(key_hash(keyspace, key)) {
            return None;
        }
        let probe = Probe {
            keyspace,
            key,
            seq: snapshot,
        };
        let entry = self
            .map
            .lower_bound(Bound::Included(&probe as &dyn KeyParts))?;
        if entry.key().keyspace != keyspace || &*entry.key().key != key {
            return None;
        }
        Some(entry)
    }

    /// The first user key ≥ `key` (or > `key` if `!inclusive`) that has a version visible at
    /// `snapshot`, with that newest visible version.
    pub fn seek_forward(
        &self,
        keyspace: u32,
        key: &[u8],
        inclusive: bool,
        snapshot: u64,
    ) -> Option<(Box<[u8]>, MemValue)> {
        // Start at the newest visible version of `key` itself, or past all versions of it.
        let probe = Probe {
            keyspace,
            key,
            seq: if inclusive { snapshot } else { 0 },
        };
        let bound = if inclusive {
            Bound::Included(&probe as &dyn KeyParts)
        } else {
            Bound::Excluded(&probe as &dyn KeyParts)
        };
        let mut entry = self.map.lower_bound(bound)?;
        loop {
            let k = entry.key();
            if k.keyspace != keyspace {
                return None;
            }
            if k.seq <= snapshot {
                return Some((k.key.clone(), entry.value().clone()));
            }
            // Every version here is newer than the snapshot: jump to this key's newest visible one.
            let probe = Probe {
                keyspace,
                key: &k.key,
                seq: snapshot,
            };
            entry = self
                .map
                .lower_bound(Bound::Included(&probe as &dyn KeyParts))?;
        }
    }

    /// Appends to `out`, in key order, up to `limit` user keys after `key` that have a version
    /// visible at `snapshot`, each with its newest visible version: what `limit` calls of
    /// [`Memtable::seek_forward`] would give, in one walk along the list instead of a search from
    /// its top per key. A long run of versions of one key is skipped with a search.
    pub fn next_visible(
        &self,
        keyspace: u32,
        key: &[u8],
        snapshot: u64,
        limit: usize,
        out: &mut VecDeque<(Box<[u8]>, MemValue)>,
    ) {
        let probe = Probe {
            keyspace,
            key,
            seq: 0,
        };
        let mut entry = self
            .map
            .lower_bound(Bound::Excluded(&probe as &dyn KeyParts));
        let mut taken = 0;
        let mut skipped = 0;
        while let Some(e) = entry {
            let k = e.key();
            if k.keyspace != keyspace {
                return;
            }
            let seen = out.back().is_some_and(|(last, _)| **last == *k.key);
            if !seen && k.seq <= snapshot {
                out.push_back((k.key.clone(), e.value().clone()));
                taken += 1;
                if taken == limit {
                    return;
                }
                skipped = 0;
            } else {
                skipped += 1;
            }
            if skipped >= LONG_VERSION_RUN {
                // Versions of one key, older than the one taken or newer than the snapshot:
                // jump past them, or to the newest visible one.
                let probe = Probe {
                    keyspace,
                    key: &k.key,
                    seq: if seen { 0 } else { snapshot },
                };
                let bound = if seen {
                    Bound::Excluded(&probe as &dyn KeyParts)
                } else {
                    Bound::Included(&probe as &dyn KeyParts)
                };
                entry = self.map.lower_bound(bound);
                skipped = 0;
            } else {
                entry = e.next();
            }
        }
    }

    /// The last user key ≤ `key` (or < `key` if `!inclusive`; `None` = from the very end) that has a
    /// version visible at `snapshot`, with that newest visible version.
    pub fn seek_backward(
        &self,
        keyspace: u32,
        key: Option<&[u8]>,
        inclusive: bool,
        snapshot: u64,
    ) -> Option<(Box<[u8]>, MemValue)> {
        let mut entry = match key {
            Some(key) => {
                // Versions of `key` sort by descending seq, so (key, 0) is its last possible version.
                let probe = Probe {
                    keyspace,
                    key,
                    seq: if inclusive { 0 } else { u64::MAX },
                };
                let bound = if inclusive {
                    Bound::Included(&probe as &dyn KeyParts)
                } else {
                    Bound::Excluded(&probe as &dyn KeyParts)
                };
                self.map.upper_bound(bound)?
            }
            None => match keyspace.checked_add(1) {
                Some(next) => {
                    // The smallest possible key of the next keyspace.
                    let probe = Probe {
                        keyspace: next,
                        key: &[],
                        seq: u64::MAX,
                    };
                    self.map
                        .upper_bound(Bound::Excluded(&probe as &dyn KeyParts))?
                }
                None => self.map.back()?,
            },
        };
        loop {
            let k = entry.key();
            if k.keyspace != keyspace {
                return None;
            }
            // `entry` is the oldest version of its key we have not ruled out; the newest visible
            // version of that key, if any, is at (key, snapshot).
            let probe = Probe {
                keyspace,
                key: &k.key,
                seq: snapshot,
            };
            if let Some(visible) = self
                .map
                .lower_bound(Bound::Included(&probe as &dyn KeyParts))
            {
                if visible.key().keyspace == keyspace && visible.key().key == k.key {
                    return Some((visible.key().key.clone(), visible.value().clone()));
                }
            }
            // No visible version of this key: step before all its versions.
            let before = Probe {
                keyspace,
                key: &k.key,
                seq: u64::MAX,
            };
            entry = self
                .map
                .upper_bound(Bound::Excluded(&before as &dyn KeyParts))?;
        }
    }

    /// The newest version of every key, in key order (the merge reads frozen memtables, whose
    /// entries are all visible). The entries keep their nodes alive while borrowed from.
    pub fn newest_entries(&self) -> Vec<Entry<'_, MemKey, MemValue>> {
        let mut out: Vec<Entry<'_, MemKey, MemValue>> = Vec::with_capacity(self.map.len());
        for entry in self.map.iter() {
            if let Some(last) = out.last() {
                let (a, b) = (last.key(), entry.key());
                if a.keyspace == b.keyspace && a.key == b.key {
                    continue;
                }
            }
            out.push(entry);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `next_visible` gives what repeated `seek_forward` calls give, at every snapshot, over keys
    /// with short and long runs of versions (past `LONG_VERSION_RUN`), puts and deletes.
    #[test]
    fn next_visible_walks_as_seek_forward_steps() {
        let table = Memtable::new(1, 1 << 20);
        let mut x: u64 = 7;
        let mut seq: u64 = 0;
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
            table.insert(0, &k.to_be_bytes(), seq, value.as_ref().map(|v| &v[..]));
        }
        // Another keyspace after it must not leak in.
        table.insert(1, b"other", seq + 1, Some(b"x"));
        let show = |list: &[(Box<[u8]>, MemValue)]| {
            list.iter()
                .map(|(k, v)| {
                    let value = match v {
                        MemValue::Put(v) => Some(v.to_vec()),
                        MemValue::Delete => None,
                    };
                    (k.to_vec(), value)
                })
                .collect::<Vec<_>>()
        };
        for snapshot in [0, 1, 5, 100, 1000, 2999, 3000, u64::MAX] {
            let mut want = Vec::new();
            let mut at = table.seek_forward(0, &[], true, snapshot);
            while let Some((k, v)) = at {
                at = table.seek_forward(0, &k, false, snapshot);
                want.push((k, v));
            }
            for limit in [1, 3, 16, 1000] {
                let mut got = Vec::new();
                let mut at = table.seek_forward(0, &[], true, snapshot);
                while let Some((k, v)) = at {
                    let mut ahead = VecDeque::new();
                    table.next_visible(0, &k, snapshot, limit, &mut ahead);
                    assert!(ahead.len() <= limit);
                    got.push((k, v));
                    got.extend(ahead.iter().cloned());
                    at = match ahead.pop_back() {
                        Some((last, _)) => table.seek_forward(0, &last, false, snapshot),
                        None => None,
                    };
                }
                assert_eq!(
                    show(&got),
                    show(&want),
                    "snapshot {snapshot}, limit {limit}"
                );
            }
        }
    }
}
