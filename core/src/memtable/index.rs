//! [`KeyIndex`]: a hash table from each key to its newest version in the skiplist, so a point read
//! of a key written to the memtable costs a probe or two instead of a search down the list.
//!
//! Open addressing with linear probing, one 64-bit word per slot: the node's address in the low
//! 48 bits and 16 bits of the key's hash above them, so a probe passes other keys without
//! reading their nodes. The list's one writer fills and updates slots with release stores, after
//! the node is linked; readers load them with acquire. The table never grows: past three
//! quarters full it takes no new keys and is marked incomplete, and a reader that does not find a
//! key must then ask the list. Where a node's address does not fit in 48 bits (tagged pointers,
//! 57-bit address spaces) the writer turns the index off before linking that node, and every
//! read searches the list.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use super::skiplist::Position;

const ADDRESS_BITS: u32 = 48;
const ADDRESS_MASK: u64 = (1 << ADDRESS_BITS) - 1;

/// What the index knows of a key.
pub(super) enum Lookup {
    /// The newest version of the key.
    Found(Position),
    /// Certainly not in the list.
    Absent,
    /// Not in the index, which is incomplete, or the index is off: the key may be in the list.
    Unknown,
}

pub(super) struct KeyIndex {
    slots: Box<[AtomicU64]>,
    /// Slots in use; written only by the list's writer.
    used: AtomicUsize,
    complete: AtomicBool,
    off: AtomicBool,
}

impl KeyIndex {
    /// An index of `slots` slots (rounded up to a power of two, at least 16).
    pub fn new(slots: usize) -> KeyIndex {
        let slots = slots.next_power_of_two().max(16);
        KeyIndex {
            slots: super::zeroed_words(slots),
            used: AtomicUsize::new(0),
            complete: AtomicBool::new(true),
            off: AtomicBool::new(false),
        }
    }

    pub fn bytes(&self) -> usize {
        std::mem::size_of_val(&*self.slots)
    }

    fn tag(hash: u64) -> u64 {
        (hash >> ADDRESS_BITS) << ADDRESS_BITS
    }

    /// Whether the index can hold `node`'s address. If not, the writer must call `turn_off`
    /// before `node` becomes visible.
    pub fn can_hold(node: Position) -> bool {
        node.to_bits().is_some_and(|bits| bits & !ADDRESS_MASK == 0)
    }

    /// Stops answering for good: from now on every lookup says `Unknown`.
    pub fn turn_off(&self) {
        self.off.store(true, Ordering::Release);
    }

    /// Whether every key of the list is in the index (it never filled up and is not off).
    #[cfg(test)]
    pub fn answers_every_key(&self) -> bool {
        self.complete.load(Ordering::Acquire) && !self.off.load(Ordering::Acquire)
    }

    /// Whether a key not yet indexed would be taken.
    fn has_room(&self) -> bool {
        self.used.load(Ordering::Relaxed) < self.slots.len() / 4 * 3
    }

    /// Where `hash`'s key is, or the empty slot where it would go, probing from its home slot;
    /// `None` if the table is full of other keys.
    fn probe(&self, hash: u64, is_key: impl Fn(Position) -> bool) -> Option<(usize, u64)> {
        let mask = self.slots.len() - 1;
        let tag = Self::tag(hash);
        let mut slot = hash as usize & mask;
        for _ in 0..self.slots.len() {
            let word = self.slots[slot].load(Ordering::Acquire);
            if word == 0
                || (word & !ADDRESS_MASK == tag && is_key(Position::from_bits(word & ADDRESS_MASK)))
            {
                return Some((slot, word));
            }
            slot = (slot + 1) & mask;
        }
        None
    }

    /// Records `node` as the newest version of its key unless the index has a newer one
    /// (`is_newer(older)`: whether `node` is newer than the version at `older`). Only the list's
    /// writer calls this, with the node already linked.
    pub fn insert(
        &self,
        hash: u64,
        node: Position,
        is_key: impl Fn(Position) -> bool,
        is_newer: impl Fn(Position) -> bool,
    ) {
        let Some(bits) = node.to_bits().filter(|bits| bits & !ADDRESS_MASK == 0) else {
            self.turn_off();
            return;
        };
        if self.off.load(Ordering::Relaxed) {
            return;
        }
        match self.probe(hash, is_key) {
            Some((slot, 0)) if self.has_room() => {
                self.used.fetch_add(1, Ordering::Relaxed);
                self.slots[slot].store(Self::tag(hash) | bits, Ordering::Release);
            }
            Some((slot, word)) if word != 0 => {
                if is_newer(Position::from_bits(word & ADDRESS_MASK)) {
                    self.slots[slot].store(Self::tag(hash) | bits, Ordering::Release);
                }
            }
            _ => self.complete.store(false, Ordering::Release),
        }
    }

    /// What the index knows of `hash`'s key.
    pub fn find(&self, hash: u64, is_key: impl Fn(Position) -> bool) -> Lookup {
        // A key the index turned away marked it incomplete before the key's sequence number was
        // published, so a reader whose snapshot includes the key sees the mark here.
        let complete = self.complete.load(Ordering::Acquire);
        // Likewise turning the index off happens before the node that caused it is visible.
        if self.off.load(Ordering::Acquire) {
            return Lookup::Unknown;
        }
        match self.probe(hash, is_key) {
            Some((_, word)) if word != 0 => Lookup::Found(Position::from_bits(word & ADDRESS_MASK)),
            _ if complete => Lookup::Absent,
            _ => Lookup::Unknown,
        }
    }
}
