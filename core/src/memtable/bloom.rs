//! A concurrent blocked Bloom filter: one writer adds keys while readers test them, with no lock.
//!
//! Each key sets four bits inside one 64-bit word, so a test costs one cache miss — in a filter
//! half the size of the skiplist's index (10 bits per key, not 64), so more often a miss that the
//! CPU cache answers. The memtable uses it to answer "certainly not here" for point reads of keys
//! that live in the tree before it looks at the index.

use std::sync::atomic::{AtomicU64, Ordering};

pub(crate) struct Bloom {
    words: Box<[AtomicU64]>,
}

/// Bits per expected key: about 2% false positives for a blocked filter.
const BITS_PER_KEY: usize = 10;

impl Bloom {
    /// A filter sized for about `expected_keys` keys (more still work, with more false positives).
    pub fn new(expected_keys: usize) -> Bloom {
        let words = (expected_keys * BITS_PER_KEY / 64)
            .next_power_of_two()
            .max(8);
        Bloom {
            words: super::zeroed_words(words),
        }
    }

    pub fn bytes(&self) -> usize {
        std::mem::size_of_val(&*self.words)
    }

    fn locate(&self, hash: u64) -> (usize, u64) {
        let word = (hash as usize) & (self.words.len() - 1);
        let mut mask = 0u64;
        for i in 0..4 {
            mask |= 1 << ((hash >> (32 + 6 * i)) & 63);
        }
        (word, mask)
    }

    /// Adds a key's hash. Call before the key becomes visible to readers.
    pub fn insert(&self, hash: u64) {
        let (word, mask) = self.locate(hash);
        self.words[word].fetch_or(mask, Ordering::Release);
    }

    /// False only if the hash was certainly never inserted.
    pub fn may_contain(&self, hash: u64) -> bool {
        let (word, mask) = self.locate(hash);
        self.words[word].load(Ordering::Acquire) & mask == mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key_order::key_hash;

    #[test]
    fn inserted_keys_are_always_found_and_most_others_are_not() {
        let bloom = Bloom::new(10_000);
        for i in 0..10_000u32 {
            bloom.insert(key_hash(0, &i.to_be_bytes()));
        }
        for i in 0..10_000u32 {
            assert!(bloom.may_contain(key_hash(0, &i.to_be_bytes())));
        }
        let false_positives = (10_000..110_000u32)
            .filter(|i| bloom.may_contain(key_hash(0, &i.to_be_bytes())))
            .count();
        assert!(
            false_positives < 5_000,
            "{false_positives} false positives in 100000"
        );
        assert_ne!(key_hash(0, b"a"), key_hash(1, b"a"));
        assert_ne!(key_hash(0, b"a"), key_hash(0, b"a\0"));
    }
}
