//! [`LeafHints`]: where a tree keeps keys it was asked for lately, so that a point read of a hot
//! key goes straight to its leaf entry instead of down from the root.
//!
//! A hint is one word: the leaf's page id, the entry's index in it, and a few bits of the key's
//! hash. Each published [`Tree`](super::tree::Tree) has hints of its own, filled by its lookups,
//! so a hint never outlives the pages it names: the tree is immutable, and a page it reaches is
//! never rewritten while the tree is alive. A read still checks the key at the hinted entry, so a
//! hint that another key overwrote (or a hash that collides) only costs the normal descent; it can
//! never make a read return another key's value. Slots are written and read with single atomic
//! word operations, so readers on many threads need no lock and never see half a hint.
//!
//! A hint costs a look at its slot, a cache miss when reads are spread over more keys than the
//! hints can hold. So each thread watches how often its looks find a hint ([`should_look`],
//! [`looked`]): past a window where fewer than one in eight did, it looks only at one read in
//! [`SAMPLE`] for a while, which keeps the hints for a hot set that forms meanwhile.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Slots per tree: 128 KiB, allocated on a tree's first read. Enough for a hot set of thousands
/// of keys; a larger working set just falls back to descents more often.
const SLOTS: usize = 1 << 14;

/// Hints are kept only with a `cache_size` of at least this: they are part of that budget (a
/// tree or two are alive at a time, more while snapshots hold older ones).
const MIN_CACHE_SIZE: u64 = 4 << 20;

const INDEX_BITS: u32 = 14;
const PAGE_BITS: u32 = 40;
const TAG_BITS: u32 = 64 - INDEX_BITS - PAGE_BITS;

/// The hints of one tree; see the module's notes.
pub(crate) struct LeafHints {
    enabled: bool,
    slots: OnceLock<Box<[AtomicU64]>>,
}

/// A hinted leaf entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hint {
    pub page: u64,
    pub index: usize,
}

impl LeafHints {
    /// Hints for a tree read with a page cache of `cache_size` bytes (none below
    /// [`MIN_CACHE_SIZE`]).
    pub fn new(cache_size: u64) -> LeafHints {
        LeafHints {
            enabled: cache_size >= MIN_CACHE_SIZE,
            slots: OnceLock::new(),
        }
    }

    /// Whether this tree keeps hints.
    #[inline]
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The hint for the key whose [`key_hash`](crate::key_order::key_hash) is `hash`, if any.
    #[inline]
    pub fn get(&self, hash: u64) -> Option<Hint> {
        let slots = self.slots.get()?;
        let word = slots[slot_of(hash)].load(Ordering::Relaxed);
        if word == 0 || word >> (PAGE_BITS + INDEX_BITS) != tag_of(hash) {
            return None;
        }
        Some(Hint {
            page: word & ((1 << PAGE_BITS) - 1),
            index: ((word >> PAGE_BITS) & ((1 << INDEX_BITS) - 1)) as usize,
        })
    }

    /// Remembers that the key hashed to `hash` is entry `hint.index` of leaf `hint.page`.
    #[inline]
    pub fn put(&self, hash: u64, hint: Hint) {
        if !self.enabled || hint.page >= 1 << PAGE_BITS || hint.index >= 1 << INDEX_BITS {
            return;
        }
        let slots = self
            .slots
            .get_or_init(|| (0..SLOTS).map(|_| AtomicU64::new(0)).collect());
        let word =
            tag_of(hash) << (PAGE_BITS + INDEX_BITS) | (hint.index as u64) << PAGE_BITS | hint.page;
        slots[slot_of(hash)].store(word, Ordering::Relaxed);
    }
}

/// Looks per window of the hit count.
const WINDOW: u32 = 1024;
/// While hints do not pay, one read in this many still looks (and leaves a hint).
const SAMPLE: u32 = 64;
/// Reads for which a thread looks only at samples once a window found too few hints.
const BACK_OFF: u32 = 1 << 16;

/// This thread's recent use of hints.
#[derive(Clone, Copy)]
struct Usage {
    reads: u32,
    looks: u32,
    hits: u32,
    /// Reads left before looking at every one again.
    sampling_for: u32,
}

thread_local! {
    static USAGE: Cell<Usage> = const {
        Cell::new(Usage { reads: 0, looks: 0, hits: 0, sampling_for: 0 })
    };
}

/// Whether this read should look for a hint (and leave one); see the module's notes.
#[inline]
pub(crate) fn should_look() -> bool {
    USAGE.with(|cell| {
        let mut usage = cell.get();
        usage.reads = usage.reads.wrapping_add(1);
        let look = usage.sampling_for == 0 || usage.reads.is_multiple_of(SAMPLE);
        usage.sampling_for = usage.sampling_for.saturating_sub(1);
        cell.set(usage);
        look
    })
}

/// Counts a look, and whether it found a good hint.
#[inline]
pub(crate) fn looked(hit: bool) {
    USAGE.with(|cell| {
        let mut usage = cell.get();
        usage.looks += 1;
        usage.hits += u32::from(hit);
        if usage.looks == WINDOW {
            if usage.hits * 8 < usage.looks {
                usage.sampling_for = BACK_OFF;
            }
            usage.looks = 0;
            usage.hits = 0;
        }
        cell.set(usage);
    })
}

#[inline]
fn slot_of(hash: u64) -> usize {
    hash as usize & (SLOTS - 1)
}

/// The hash's top bits. (A hint's word is never 0, an empty slot's: page ids start at 2.)
#[inline]
fn tag_of(hash: u64) -> u64 {
    hash >> (64 - TAG_BITS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_comes_back_for_its_hash_only() {
        let hints = LeafHints::new(MIN_CACHE_SIZE);
        assert_eq!(hints.get(42), None, "nothing before the first put");
        let hint = Hint {
            page: 123_456,
            index: 77,
        };
        hints.put(0xABCD_0000_0000_0042, hint);
        assert_eq!(hints.get(0xABCD_0000_0000_0042), Some(hint));
        // Same slot, another tag: not this key's hint.
        assert_eq!(hints.get(0x1234_0000_0000_0042), None);
        // Another key in the same slot replaces it.
        let other = Hint { page: 9, index: 0 };
        hints.put(0x1234_0000_0000_0042, other);
        assert_eq!(hints.get(0xABCD_0000_0000_0042), None);
        assert_eq!(hints.get(0x1234_0000_0000_0042), Some(other));
    }

    #[test]
    fn what_does_not_fit_a_word_is_not_hinted() {
        let hints = LeafHints::new(MIN_CACHE_SIZE);
        hints.put(
            1,
            Hint {
                page: 1 << PAGE_BITS,
                index: 0,
            },
        );
        hints.put(
            2,
            Hint {
                page: 5,
                index: 1 << INDEX_BITS,
            },
        );
        assert_eq!(hints.get(1), None);
        assert_eq!(hints.get(2), None);
    }

    #[test]
    fn a_thread_whose_looks_miss_looks_at_samples_only_then_again_at_all() {
        // A fresh thread: its own usage.
        std::thread::spawn(|| {
            for _ in 0..WINDOW {
                assert!(should_look());
                looked(false);
            }
            let looks = (0..SAMPLE * 4).filter(|_| should_look()).count();
            assert_eq!(looks, 4, "one read in {SAMPLE} while hints do not pay");
            for _ in 0..BACK_OFF {
                should_look();
            }
            assert!((0..8).all(|_| should_look()), "every read looks again");
            for _ in 0..WINDOW {
                looked(true);
            }
            assert!((0..8).all(|_| should_look()), "hints pay: keep looking");
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_small_cache_keeps_no_hints() {
        let hints = LeafHints::new(MIN_CACHE_SIZE - 1);
        hints.put(7, Hint { page: 5, index: 3 });
        assert_eq!(hints.get(7), None);
        assert!(hints.slots.get().is_none(), "no memory taken");
    }
}
