//! [`Arena`]: the memory of one memtable's nodes, handed out in 8-byte-aligned pieces from large
//! blocks and given back all at once when the memtable drops.
//!
//! A node per heap allocation costs a `malloc` on insert and a `free` when the memtable goes, and
//! scatters the nodes across the heap; an arena does neither. Blocks are anonymous memory maps
//! of their own, not heap memory: when a merged memtable drops, its memory goes back to the
//! system at once instead of staying in the allocator's free lists (and in the process's size).

use std::alloc::{handle_alloc_error, Layout};
use std::ptr::NonNull;

use memmap2::MmapMut;

/// Pieces at least this share of a block get a block of their own, so a large value does not
/// waste the rest of the current block.
const OWN_BLOCK_FRACTION: usize = 4;

pub(super) const ALIGN: usize = 8;

pub(super) struct Arena {
    block_size: usize,
    blocks: Vec<MmapMut>,
    /// The free part of the current block.
    next: *mut u8,
    left: usize,
}

impl Arena {
    pub fn new(block_size: usize) -> Arena {
        Arena {
            block_size: block_size.next_multiple_of(ALIGN),
            blocks: Vec::new(),
            next: std::ptr::null_mut(),
            left: 0,
        }
    }

    /// `size` bytes, aligned to 8, uninitialised, valid until the arena drops.
    pub fn allocate(&mut self, size: usize) -> NonNull<u8> {
        let size = size.next_multiple_of(ALIGN);
        if size > self.left {
            if size >= self.block_size / OWN_BLOCK_FRACTION {
                return self.new_block(size);
            }
            let block = self.new_block(self.block_size);
            self.next = block.as_ptr();
            self.left = self.block_size;
        }
        let piece = self.next;
        // SAFETY: `size <= self.left`, so `piece + size` stays inside (or one past the end of)
        // the current block.
        self.next = unsafe { piece.add(size) };
        self.left -= size;
        // SAFETY: `piece` points into a live block, so it is not null.
        unsafe { NonNull::new_unchecked(piece) }
    }

    fn new_block(&mut self, size: usize) -> NonNull<u8> {
        let size = size.max(ALIGN);
        // Out of memory for a map is out of memory, as for any allocation.
        let mut block = MmapMut::map_anon(size).unwrap_or_else(|_| {
            handle_alloc_error(Layout::from_size_align(size, ALIGN).expect("block layout"))
        });
        // A map starts on a page boundary, so it is 8-aligned; moving the map into the list
        // does not move its memory.
        let start = NonNull::new(block.as_mut_ptr()).expect("a map is not at address zero");
        self.blocks.push(block);
        start
    }
}

// SAFETY: the arena owns its blocks outright; the raw pointers are only addresses into them.
unsafe impl Send for Arena {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_aligned_disjoint_and_large_ones_get_their_own_block() {
        let mut arena = Arena::new(1024);
        let mut pieces = Vec::new();
        for size in [1usize, 7, 8, 9, 100, 255, 256, 300, 5000, 3] {
            let p = arena.allocate(size);
            assert_eq!(p.as_ptr() as usize % ALIGN, 0);
            // SAFETY: the piece is `size` bytes we own.
            unsafe { std::ptr::write_bytes(p.as_ptr(), size as u8, size) };
            pieces.push((p, size));
        }
        for (p, size) in &pieces {
            // SAFETY: as above; nothing else wrote to this piece if the pieces are disjoint.
            let bytes = unsafe { std::slice::from_raw_parts(p.as_ptr(), *size) };
            assert!(bytes.iter().all(|&b| b == *size as u8), "piece of {size}");
        }
        // The small pieces share blocks; 5000 bytes, over a quarter of a block, got its own.
        assert!(arena
            .blocks
            .iter()
            .any(|b| b.len() == 5000usize.next_multiple_of(8)));
    }
}
