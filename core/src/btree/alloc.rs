//! Page allocation: which pages are free now, which are freed but may still be read, and the
//! file's length. A coded file allocates sectors instead (`extents.rs`); [`Allocator`] is either.

use std::collections::BTreeSet;

use super::extents::{Extent, ExtentAllocator};

/// The space of a page file, owned by the merge: pages of a plain file or sectors of a coded one.
/// Pages and blocks are named by `u64` ids (a block's address), and the file's length and free
/// space are counted in units (pages or sectors).
#[derive(Debug)]
pub(crate) enum Allocator {
    Pages(PageAllocator),
    Sectors(ExtentAllocator),
}

fn extent(address: u64) -> Extent {
    Extent::from_address(address).expect("freed ids are block addresses")
}

impl Allocator {
    /// A plain file of `page_count` pages with `free` pages free.
    pub fn new(page_count: u64, free: impl IntoIterator<Item = u64>) -> Allocator {
        Allocator::Pages(PageAllocator::new(page_count, free))
    }

    /// A coded file whose blocks start at sector `start` and end at `end`, with the blocks at
    /// the addresses `free` free.
    pub fn sectors(start: u64, end: u64, free: impl IntoIterator<Item = u64>) -> Allocator {
        Allocator::Sectors(ExtentAllocator::new(
            start,
            end,
            free.into_iter().map(extent),
        ))
    }

    /// The file's length in units.
    pub fn file_units(&self) -> u64 {
        match self {
            Allocator::Pages(a) => a.page_count(),
            Allocator::Sectors(a) => a.end(),
        }
    }

    /// A page of a plain file.
    pub fn alloc(&mut self) -> u64 {
        match self {
            Allocator::Pages(a) => a.alloc(),
            Allocator::Sectors(_) => unreachable!("a coded file allocates sectors"),
        }
    }

    /// Sectors of a coded file.
    pub fn alloc_sectors(&mut self, sectors: u64) -> Extent {
        match self {
            Allocator::Sectors(a) => a.alloc(sectors),
            Allocator::Pages(_) => unreachable!("a plain file allocates pages"),
        }
    }

    pub fn start_recording(&mut self) {
        match self {
            Allocator::Pages(a) => a.start_recording(),
            Allocator::Sectors(a) => a.start_recording(),
        }
    }

    /// The ids handed out since [`Allocator::start_recording`].
    pub fn take_recording(&mut self) -> Vec<u64> {
        match self {
            Allocator::Pages(a) => a.take_recording(),
            Allocator::Sectors(a) => a.take_recording().iter().map(|e| e.address()).collect(),
        }
    }

    pub fn reuse_now(&mut self, ids: impl IntoIterator<Item = u64>) {
        match self {
            Allocator::Pages(a) => a.reuse_now(ids),
            Allocator::Sectors(a) => a.reuse_now(ids.into_iter().map(extent)),
        }
    }

    pub fn free_later(&mut self, generation: u64, ids: Vec<u64>) {
        match self {
            Allocator::Pages(a) => a.free_later(generation, ids),
            Allocator::Sectors(a) => {
                a.free_later(generation, ids.into_iter().map(extent).collect())
            }
        }
    }

    pub fn release(&mut self, oldest_live: u64) {
        match self {
            Allocator::Pages(a) => a.release(oldest_live),
            Allocator::Sectors(a) => a.release(oldest_live),
        }
    }

    /// Units handed out so far.
    pub fn allocated(&self) -> u64 {
        match self {
            Allocator::Pages(a) => a.allocated(),
            Allocator::Sectors(a) => a.allocated(),
        }
    }

    /// Free units that can be written now.
    pub fn reusable_count(&self) -> u64 {
        match self {
            Allocator::Pages(a) => a.reusable_count(),
            Allocator::Sectors(a) => a.reusable_sectors(),
        }
    }

    /// The unit from which on the tree would fit into the free space before it.
    pub fn compaction_boundary(&self) -> u64 {
        self.file_units() - self.reusable_count()
    }

    pub fn tail_is_reusable(&self) -> bool {
        match self {
            Allocator::Pages(a) => a.tail_is_reusable(),
            Allocator::Sectors(a) => a.tail_is_reusable(),
        }
    }

    pub fn shrink_tail(&mut self) -> bool {
        match self {
            Allocator::Pages(a) => a.shrink_tail(),
            Allocator::Sectors(a) => a.shrink_tail(),
        }
    }

    /// Every free page or extent (as a block address), reusable or pending, in order.
    pub fn all_free(&self) -> Vec<u64> {
        match self {
            Allocator::Pages(a) => a.all_free(),
            Allocator::Sectors(a) => a.all_free().iter().map(|e| e.address()).collect(),
        }
    }

    pub fn pending_count(&self) -> usize {
        match self {
            Allocator::Pages(a) => a.pending_count(),
            Allocator::Sectors(a) => a.pending_count(),
        }
    }

    /// Whether id `id` lies at or past unit `boundary` (compaction moves what does).
    pub fn is_past(&self, id: u64, boundary: u64) -> bool {
        match self {
            Allocator::Pages(_) => id >= boundary,
            Allocator::Sectors(_) => extent(id).end() > boundary,
        }
    }
}

/// Free-page bookkeeping of a plain file.
#[derive(Debug, Default)]
pub(crate) struct PageAllocator {
    /// Free pages no tree that anyone can still read references: safe to overwrite.
    reusable: BTreeSet<u64>,
    /// Pages freed by the merge of a generation: older trees (and the previous meta page, until
    /// the new one is durable) still reach them.
    pending: Vec<(u64, Vec<u64>)>,
    /// The file's length in pages.
    page_count: u64,
    /// Pages handed out so far.
    allocated: u64,
    /// Pages handed out while a bulk load writes, for it to give back if it is abandoned.
    recording: Option<Vec<u64>>,
}

impl PageAllocator {
    pub fn new(page_count: u64, free: impl IntoIterator<Item = u64>) -> PageAllocator {
        PageAllocator {
            reusable: free.into_iter().collect(),
            pending: Vec::new(),
            page_count,
            allocated: 0,
            recording: None,
        }
    }

    pub fn page_count(&self) -> u64 {
        self.page_count
    }

    /// A page to write: the lowest reusable one (keeping the file compact), else a new one at the end.
    pub fn alloc(&mut self) -> u64 {
        self.allocated += 1;
        let id = self.reusable.pop_first().unwrap_or_else(|| {
            self.page_count += 1;
            self.page_count - 1
        });
        if let Some(recorded) = &mut self.recording {
            recorded.push(id);
        }
        id
    }

    /// Starts noting the ids [`Allocator::alloc`] hands out.
    pub fn start_recording(&mut self) {
        self.recording = Some(Vec::new());
    }

    /// Stops noting ids; returns those handed out since [`Allocator::start_recording`].
    pub fn take_recording(&mut self) -> Vec<u64> {
        self.recording.take().unwrap_or_default()
    }

    /// Makes `pages` reusable now: pages written that no tree ever referenced (an abandoned bulk
    /// load's).
    pub fn reuse_now(&mut self, pages: impl IntoIterator<Item = u64>) {
        self.reusable.extend(pages);
    }

    /// Records pages that the tree of `generation` no longer references.
    pub fn free_later(&mut self, generation: u64, pages: Vec<u64>) {
        if !pages.is_empty() {
            self.pending.push((generation, pages));
        }
    }

    /// Makes reusable the pages freed at generations ≤ `oldest_live`: only trees older than the
    /// generation that freed a page can reach it.
    pub fn release(&mut self, oldest_live: u64) {
        let mut i = 0;
        while i < self.pending.len() {
            if self.pending[i].0 <= oldest_live {
                let (_, pages) = self.pending.swap_remove(i);
                self.reusable.extend(pages);
            } else {
                i += 1;
            }
        }
    }

    /// Pages handed out by [`Allocator::alloc`] so far.
    pub fn allocated(&self) -> u64 {
        self.allocated
    }

    /// Free pages that can be written now.
    pub fn reusable_count(&self) -> u64 {
        self.reusable.len() as u64
    }

    /// Whether the last page of the file is reusable (cutting the file would give space back).
    pub fn tail_is_reusable(&self) -> bool {
        self.reusable.contains(&(self.page_count - 1))
    }

    /// Drops reusable pages at the end of the file; returns whether the file got shorter.
    pub fn shrink_tail(&mut self) -> bool {
        let before = self.page_count;
        while self.page_count > 2 && self.reusable.remove(&(self.page_count - 1)) {
            self.page_count -= 1;
        }
        self.page_count < before
    }

    /// Every free page, reusable or pending: what the freelist persists (after a restart no old
    /// tree is readable any more).
    pub fn all_free(&self) -> Vec<u64> {
        let mut all: Vec<u64> = self.reusable.iter().copied().collect();
        for (_, pages) in &self.pending {
            all.extend_from_slice(pages);
        }
        all.sort_unstable();
        all
    }

    pub fn pending_count(&self) -> usize {
        self.pending.iter().map(|(_, p)| p.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_lowest_then_grows() {
        let mut a = Allocator::new(10, [5, 3]);
        assert_eq!(a.alloc(), 3);
        assert_eq!(a.alloc(), 5);
        assert_eq!(a.alloc(), 10);
        assert_eq!(a.file_units(), 11);
    }

    #[test]
    fn pending_pages_wait_for_old_readers() {
        let mut a = Allocator::new(10, []);
        a.free_later(4, vec![7, 8]);
        a.release(3);
        assert_eq!(a.alloc(), 10);
        a.release(4);
        assert_eq!(a.alloc(), 7);
        assert_eq!(a.all_free(), vec![8]);
    }

    #[test]
    fn records_what_it_hands_out_and_takes_it_back() {
        let mut a = Allocator::new(10, [4]);
        a.start_recording();
        let ids = [a.alloc(), a.alloc()];
        assert_eq!(ids, [4, 10]);
        assert_eq!(a.take_recording(), vec![4, 10]);
        a.alloc();
        assert_eq!(
            a.take_recording(),
            Vec::<u64>::new(),
            "not recording any more"
        );
        a.reuse_now([4, 10]);
        assert_eq!(a.all_free(), vec![4, 10]);
    }

    #[test]
    fn shrinks_only_a_free_tail() {
        let mut a = Allocator::new(10, [9, 8, 5]);
        assert!(a.shrink_tail());
        assert_eq!(a.file_units(), 8);
        assert_eq!(a.all_free(), vec![5]);
        assert!(!a.shrink_tail());
    }
}
