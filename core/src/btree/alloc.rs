//! Page allocation: which pages are free now, which are freed but may still be read, and the
//! file's length.

use std::collections::BTreeSet;

/// Free-page bookkeeping, owned by the merge.
#[derive(Debug, Default)]
pub(crate) struct Allocator {
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

impl Allocator {
    pub fn new(page_count: u64, free: impl IntoIterator<Item = u64>) -> Allocator {
        Allocator {
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

    /// The page id from which on the tree's pages would fit into the reusable pages before it:
    /// moving every tree page at or past it down lets the file end there.
    pub fn compaction_boundary(&self) -> u64 {
        self.page_count - self.reusable_count()
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
        assert_eq!(a.page_count(), 11);
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
        assert_eq!(a.page_count(), 8);
        assert_eq!(a.all_free(), vec![5]);
        assert!(!a.shrink_tail());
    }
}
