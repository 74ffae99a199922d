//! Space in a coded page file: blocks of any length, placed on 256-byte sectors and named by an
//! address that holds their place and length; and the allocator that hands out and takes back
//! runs of sectors ("extents") the way `alloc.rs` does pages.

use std::collections::{BTreeMap, BTreeSet};

/// Bytes of a sector: the unit blocks are placed and sized in.
pub(crate) const SECTOR_SIZE: u64 = 256;
/// Bits of an address that hold the block's length in sectors (up to 16M sectors, 4 GiB).
const LEN_BITS: u32 = 24;
/// The longest block, in sectors.
pub(crate) const MAX_BLOCK_SECTORS: u64 = (1 << LEN_BITS) - 1;
/// The highest first sector an address can name (2^40 sectors: a 256 TiB file).
pub(crate) const MAX_SECTOR: u64 = (1 << (64 - LEN_BITS)) - 1;

/// Where a block is: its first sector and its length in sectors. As a `u64` (an address, the
/// page id of a coded file): `first_sector << 24 | sectors`, never 0 for a real block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Extent {
    pub first: u64,
    pub sectors: u64,
}

impl Extent {
    pub fn address(self) -> u64 {
        debug_assert!(self.first <= MAX_SECTOR && (1..=MAX_BLOCK_SECTORS).contains(&self.sectors));
        self.first << LEN_BITS | self.sectors
    }

    /// The extent an address names; `None` for 0 or an address of no sectors.
    pub fn from_address(address: u64) -> Option<Extent> {
        let sectors = address & MAX_BLOCK_SECTORS;
        (sectors > 0).then_some(Extent {
            first: address >> LEN_BITS,
            sectors,
        })
    }

    /// The sector after the last one.
    pub fn end(self) -> u64 {
        self.first + self.sectors
    }

    pub fn byte_offset(self) -> u64 {
        self.first * SECTOR_SIZE
    }

    pub fn byte_len(self) -> u64 {
        self.sectors * SECTOR_SIZE
    }
}

/// The size class of an extent of `len` sectors: lengths from 2^c to 2^(c+1) - 1 are class c.
fn size_class(len: u64) -> usize {
    (63 - len.max(1).leading_zeros()) as usize
}

/// Sectors a block of `bytes` bytes takes.
pub(crate) fn sectors_for(bytes: usize) -> u64 {
    (bytes as u64).div_ceil(SECTOR_SIZE).max(1)
}

/// Free-space bookkeeping of a coded page file, owned by the merge: the same life cycle as
/// `Allocator`'s pages (reusable now, pending until no reader can reach them), in extents.
#[derive(Debug, Default)]
pub(crate) struct ExtentAllocator {
    /// Free extents no live tree references, coalesced: first sector → length.
    by_first: BTreeMap<u64, u64>,
    /// The same extents' first sectors by size class (`size_class` of their length), for finding
    /// the lowest one that fits without a scan of them all.
    by_class: Vec<BTreeSet<u64>>,
    /// Extents freed by the merge of a generation, which older trees may still read.
    pending: Vec<(u64, Vec<Extent>)>,
    /// The sector after the file's last block (its length in sectors).
    end: u64,
    /// Sectors handed out so far.
    allocated: u64,
    /// Extents handed out while a bulk load writes, for it to give back if it is abandoned.
    recording: Option<Vec<Extent>>,
}

impl ExtentAllocator {
    /// An allocator for a file whose blocks may start at sector `start`, whose last block ends
    /// at sector `end`, with `free` extents free.
    pub fn new(start: u64, end: u64, free: impl IntoIterator<Item = Extent>) -> ExtentAllocator {
        let mut a = ExtentAllocator {
            end: end.max(start),
            ..ExtentAllocator::default()
        };
        for e in free {
            a.insert_free(e);
        }
        a
    }

    /// The file's length in sectors.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// An extent of `sectors` sectors: the lowest free one that fits (first fit, which keeps the
    /// file's blocks low, as the page allocator does), split if it is longer; else new sectors
    /// at the end of the file.
    pub fn alloc(&mut self, sectors: u64) -> Extent {
        debug_assert!((1..=MAX_BLOCK_SECTORS).contains(&sectors));
        self.allocated += sectors;
        let extent = match self.lowest_fit(sectors) {
            Some((first, len)) => {
                self.remove_free(first, len);
                if len > sectors {
                    self.insert_free(Extent {
                        first: first + sectors,
                        sectors: len - sectors,
                    });
                }
                Extent { first, sectors }
            }
            None => {
                let first = self.end;
                self.end += sectors;
                Extent { first, sectors }
            }
        };
        if let Some(recorded) = &mut self.recording {
            recorded.push(extent);
        }
        extent
    }

    pub fn start_recording(&mut self) {
        self.recording = Some(Vec::new());
    }

    pub fn take_recording(&mut self) -> Vec<Extent> {
        self.recording.take().unwrap_or_default()
    }

    /// Makes `extents` free now: written, but never referenced by any tree.
    pub fn reuse_now(&mut self, extents: impl IntoIterator<Item = Extent>) {
        for e in extents {
            self.insert_free(e);
        }
    }

    /// Records extents that the tree of `generation` no longer references.
    pub fn free_later(&mut self, generation: u64, extents: Vec<Extent>) {
        if !extents.is_empty() {
            self.pending.push((generation, extents));
        }
    }

    /// Frees the extents freed at generations ≤ `oldest_live`.
    pub fn release(&mut self, oldest_live: u64) {
        let mut i = 0;
        while i < self.pending.len() {
            if self.pending[i].0 <= oldest_live {
                let (_, extents) = self.pending.swap_remove(i);
                for e in extents {
                    self.insert_free(e);
                }
            } else {
                i += 1;
            }
        }
    }

    pub fn allocated(&self) -> u64 {
        self.allocated
    }

    /// Free sectors that can be written now.
    pub fn reusable_sectors(&self) -> u64 {
        self.by_first.values().sum()
    }

    /// Whether the file ends in free sectors.
    pub fn tail_is_reusable(&self) -> bool {
        self.by_first
            .last_key_value()
            .is_some_and(|(first, len)| first + len == self.end)
    }

    /// Drops free sectors at the end of the file; returns whether the file got shorter.
    pub fn shrink_tail(&mut self) -> bool {
        let Some((&first, &len)) = self.by_first.last_key_value() else {
            return false;
        };
        if first + len != self.end {
            return false;
        }
        self.remove_free(first, len);
        self.end = first;
        true
    }

    /// Every free extent, reusable or pending, coalesced and in order: what the file's free
    /// list persists (after a restart no old tree is readable any more).
    pub fn all_free(&self) -> Vec<Extent> {
        let mut all: Vec<Extent> = self
            .by_first
            .iter()
            .map(|(&first, &sectors)| Extent { first, sectors })
            .chain(self.pending.iter().flat_map(|(_, e)| e.iter().copied()))
            .collect();
        all.sort_unstable();
        let mut merged: Vec<Extent> = Vec::with_capacity(all.len());
        for e in all {
            match merged.last_mut() {
                Some(last)
                    if last.end() == e.first && last.sectors + e.sectors <= MAX_BLOCK_SECTORS =>
                {
                    last.sectors += e.sectors;
                }
                _ => merged.push(e),
            }
        }
        merged
    }

    pub fn pending_count(&self) -> usize {
        self.pending.iter().map(|(_, e)| e.len()).sum()
    }

    /// The lowest free extent of at least `sectors` sectors: in the size class of `sectors`, the
    /// first one long enough; in every larger class, the first one (all fit).
    fn lowest_fit(&self, sectors: u64) -> Option<(u64, u64)> {
        let class = size_class(sectors);
        let mut best: Option<(u64, u64)> = self.by_class.get(class).and_then(|set| {
            set.iter()
                .map(|&first| (first, self.by_first[&first]))
                .find(|&(_, len)| len >= sectors)
        });
        for set in self.by_class.iter().skip(class + 1) {
            if let Some(&first) = set.first() {
                if best.is_none_or(|(b, _)| first < b) {
                    best = Some((first, self.by_first[&first]));
                }
            }
        }
        best
    }

    /// Adds a free extent, merged with free neighbours (so long as the result stays nameable).
    fn insert_free(&mut self, e: Extent) {
        let (mut first, mut len) = (e.first, e.sectors);
        if let Some((&before, &before_len)) = self.by_first.range(..first).next_back() {
            debug_assert!(before + before_len <= first, "extent freed twice");
            if before + before_len == first && before_len + len <= MAX_BLOCK_SECTORS {
                self.remove_free(before, before_len);
                first = before;
                len += before_len;
            }
        }
        if let Some(&after_len) = self.by_first.get(&(first + len)) {
            if len + after_len <= MAX_BLOCK_SECTORS {
                self.remove_free(first + len, after_len);
                len += after_len;
            }
        }
        self.by_first.insert(first, len);
        let class = size_class(len);
        if self.by_class.len() <= class {
            self.by_class.resize_with(class + 1, BTreeSet::new);
        }
        self.by_class[class].insert(first);
    }

    fn remove_free(&mut self, first: u64, len: u64) {
        self.by_first.remove(&first);
        self.by_class[size_class(len)].remove(&first);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(first: u64, sectors: u64) -> Extent {
        Extent { first, sectors }
    }

    #[test]
    fn addresses_round_trip_and_zero_is_none() {
        for e in [
            ext(32, 1),
            ext(MAX_SECTOR, MAX_BLOCK_SECTORS),
            ext(1 << 30, 17),
        ] {
            assert_eq!(Extent::from_address(e.address()), Some(e));
            assert_ne!(e.address(), 0);
        }
        assert_eq!(Extent::from_address(0), None);
        assert_eq!(Extent::from_address(5 << LEN_BITS), None);
        assert_eq!(sectors_for(0), 1);
        assert_eq!(sectors_for(256), 1);
        assert_eq!(sectors_for(257), 2);
        assert_eq!(ext(3, 2).byte_offset(), 768);
        assert_eq!(ext(3, 2).byte_len(), 512);
    }

    #[test]
    fn allocation_appends_then_reuses_the_lowest_fit_and_splits_it() {
        let mut a = ExtentAllocator::new(32, 32, []);
        let x = a.alloc(4);
        let y = a.alloc(2);
        let z = a.alloc(8);
        assert_eq!((x, y, z), (ext(32, 4), ext(36, 2), ext(38, 8)));
        assert_eq!(a.end(), 46);
        a.reuse_now([x, z]);
        // Three sectors: the lowest hole that fits; the rest of it stays free.
        assert_eq!(a.alloc(3), ext(32, 3));
        assert_eq!(a.alloc(1), ext(35, 1));
        assert_eq!(a.alloc(5), ext(38, 5));
        // Lowest first, even where a later hole fits more closely.
        a.reuse_now([ext(32, 3)]);
        assert_eq!(a.alloc(2), ext(32, 2));
        assert_eq!(a.alloc(4), ext(46, 4), "nothing free fits: appended");
        assert_eq!(a.reusable_sectors(), 4);
        assert_eq!(a.allocated(), 4 + 2 + 8 + 3 + 1 + 5 + 2 + 4);
    }

    #[test]
    fn freed_neighbours_coalesce() {
        let mut a = ExtentAllocator::new(0, 0, []);
        let blocks: Vec<Extent> = (0..5).map(|_| a.alloc(2)).collect();
        a.reuse_now([blocks[1], blocks[3]]);
        a.reuse_now([blocks[2]]);
        assert_eq!(a.all_free(), vec![ext(2, 6)]);
        assert_eq!(a.alloc(6), ext(2, 6));
    }

    #[test]
    fn pending_extents_wait_for_their_generation() {
        let mut a = ExtentAllocator::new(0, 0, []);
        let e = a.alloc(3);
        a.alloc(1);
        a.free_later(7, vec![e]);
        assert_eq!(a.pending_count(), 1);
        assert_eq!(a.all_free(), vec![e], "persisted while pending");
        a.release(6);
        assert_eq!(
            a.alloc(3),
            ext(4, 3),
            "not reusable before generation 7 is the oldest"
        );
        a.release(7);
        assert_eq!(a.alloc(3), e);
    }

    #[test]
    fn the_tail_shrinks_when_it_is_free() {
        let mut a = ExtentAllocator::new(8, 8, []);
        let x = a.alloc(2);
        let y = a.alloc(2);
        assert!(!a.tail_is_reusable());
        a.reuse_now([y]);
        assert!(a.tail_is_reusable());
        assert!(a.shrink_tail());
        assert_eq!(a.end(), 10);
        assert!(!a.shrink_tail());
        a.reuse_now([x]);
        assert!(a.shrink_tail());
        assert_eq!(a.end(), 8);
    }

    #[test]
    fn recording_notes_what_a_bulk_load_took() {
        let mut a = ExtentAllocator::new(0, 0, []);
        a.alloc(1);
        a.start_recording();
        let x = a.alloc(2);
        let y = a.alloc(5);
        assert_eq!(a.take_recording(), vec![x, y]);
        a.reuse_now([x, y]);
        assert!(a.shrink_tail());
        assert_eq!(a.end(), 1);
    }
}
