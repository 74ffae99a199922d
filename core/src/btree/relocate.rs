//! Moving the tree out of the file's tail, copy-on-write: every node or overflow chain with a page
//! at or past a boundary is written anew into the lowest free pages, and so is every node on the
//! path to it; all else is shared. Once no reader needs the old copies, the tail is free and the
//! file can be cut.

use std::borrow::Cow;

use super::node::{build_page, encode_entry, overflow_ref, PagePtr, Stored, ENTRY_HEADER_SIZE};
use super::page::PageType;
use super::writer::TreeWriter;
use crate::error::Result;

impl TreeWriter<'_> {
    /// Rewrites what has pages at or past `boundary` (see the module doc); returns the new root.
    pub fn relocate(&mut self, boundary: u64) -> Result<PagePtr> {
        let root = self.tree.root;
        if root.id == 0 {
            return Ok(root);
        }
        let new_root = self.relocate_node(root, boundary, 0)?.unwrap_or(root);
        self.flush_run()?;
        Ok(new_root)
    }

    /// Where node `ptr` went, if it or anything below it moved.
    fn relocate_node(
        &mut self,
        ptr: PagePtr,
        boundary: u64,
        depth: usize,
    ) -> Result<Option<PagePtr>> {
        self.check_depth(depth)?;
        let id = ptr.id;
        let tree = self.tree;
        let page = tree.page(ptr)?;
        let view = tree.view(&page, id)?;
        let mut changed = self.alloc.is_past(id, boundary);
        let (kind, leftmost) = if view.is_leaf() {
            (PageType::Leaf, PagePtr::default())
        } else {
            let child = view.leftmost_child();
            match self.relocate_node(child, boundary, depth + 1)? {
                Some(moved) => {
                    changed = true;
                    (PageType::Branch, moved)
                }
                None => (PageType::Branch, child),
            }
        };
        let mut entries: Vec<Cow<'_, [u8]>> = Vec::with_capacity(view.len());
        for i in 0..view.len() {
            let e = view.entry(i).ok_or_else(|| self.malformed(id))?;
            let mut key = Cow::Borrowed(e.stored_key);
            let mut value = Cow::Borrowed(&e.raw[ENTRY_HEADER_SIZE + e.stored_key.len()..]);
            let mut moved = false;
            if let Stored::Overflow { first, len } = e.key {
                if let Some(first) = self.relocate_chain(first, len, boundary)? {
                    // The reference starts with the chain's page; its length and head stay.
                    let mut r = e.stored_key.to_vec();
                    let ptr = self.width.encode_ptr(first);
                    r[..ptr.len()].copy_from_slice(&ptr);
                    key = Cow::Owned(r);
                    moved = true;
                }
            }
            if view.is_leaf() {
                if let Stored::Overflow { first, len } = e.value {
                    if let Some(first) = self.relocate_chain(first, len, boundary)? {
                        value = Cow::Owned(overflow_ref(self.width, first, len));
                        moved = true;
                    }
                }
            } else {
                let child = e.child().ok_or_else(|| self.malformed(id))?;
                if let Some(new_child) = self.relocate_node(child, boundary, depth + 1)? {
                    value = Cow::Owned(self.width.encode_ptr(new_child));
                    moved = true;
                }
            }
            entries.push(if moved {
                changed = true;
                let mut out = Vec::with_capacity(e.raw.len());
                encode_entry(&mut out, e.raw[0], &key, &value);
                Cow::Owned(out)
            } else {
                Cow::Borrowed(e.raw)
            });
        }
        if !changed {
            return Ok(None);
        }
        self.freed.push(id);
        let refs: Vec<&[u8]> = entries.iter().map(|e| &e[..]).collect();
        let (page_size, width) = (self.page_size, self.width);
        let moved =
            self.place_node(|id| build_page(page_size, kind, id, width, leftmost, &refs))?;
        Ok(Some(moved))
    }

    /// The first page of a new copy of the overflow chain at `first`, if the chain has a page at
    /// or past `boundary`.
    fn relocate_chain(
        &mut self,
        first: PagePtr,
        len: u64,
        boundary: u64,
    ) -> Result<Option<PagePtr>> {
        let (data, pages) = self.read_chain(first, len)?;
        if !pages.iter().any(|&id| self.alloc.is_past(id, boundary)) {
            return Ok(None);
        }
        self.freed.extend(pages);
        self.write_chain(&data).map(Some)
    }
}
