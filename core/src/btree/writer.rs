//! Applies a sorted run of puts and deletes to a [`Tree`] copy-on-write: every page on a path to a
//! change is written anew, untouched subtrees are shared, and the old pages are reported as freed.
//!
//! A leaf that receives changes is rebuilt by combining its entries with the changes and packing
//! the result into as many pages as needed; a branch whose children changed is rebuilt from the new
//! list of children. So an empty tree plus a large sorted run is built bottom-up, page after page.
//! A branch left with one child is replaced by that child, and an empty node disappears.

use std::cmp::Ordering;

use super::alloc::Allocator;
use super::extents::SECTOR_SIZE;
use super::node::{
    build_page, capacity, encode_entry, max_inline_entry, max_inline_key, overflow_key_ref,
    overflow_ref, pack, pack_greedy, NodeView, PagePtr, RefWidth, Stored, ENTRY_HEADER_SIZE,
    KEY_OVERFLOW, SLOT_SIZE, VALUE_OVERFLOW,
};
use super::page::PageType;
use super::pager::{overflow_capacity, PageSource, SealedBlock};
use super::tree::Tree;
use crate::error::Result;

/// One change: a put (`Some(value)`) or a delete (`None`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mutation<'a> {
    pub key: &'a [u8],
    pub value: Option<&'a [u8]>,
}

/// A separator key on its way into a branch page.
enum Sep {
    /// Already encoded: as it sits in an existing branch entry (inline bytes or overflow ref).
    Stored { overflow: bool, bytes: Vec<u8> },
    /// A copy of a leaf's first key, to be encoded where it lands.
    Fresh(Vec<u8>),
}

/// A node of the new tree and the separator that leads to it (`None` for the first child: it
/// keeps its parent's separator).
struct Child {
    sep: Option<Sep>,
    page: PagePtr,
}

enum Rewrite {
    Unchanged,
    Replaced(Vec<Child>),
    /// A rewritten leaf whose last entries, not yet written, go in front of its right sibling's:
    /// all of them when deletes left it under a quarter full (the file should not fill up with
    /// nearly empty leaves); when it splits, those past its last full page if the sibling is
    /// rewritten too or has room for them (one page fewer than a split that leaves a page part
    /// empty). `written` are the full pages before them.
    Staged {
        written: Vec<Child>,
        tail: StagedEntries<'static>,
    },
}

/// A node's right sibling in its parent, for a leaf deciding whether to hand it entries.
#[derive(Clone, Copy)]
struct Sibling {
    ptr: PagePtr,
    /// Whether the same rewrite changes it too (joining it then costs no extra page).
    rewritten: bool,
}

/// Where the full key of a new leaf entry can be found, for making a separator from it.
#[derive(Clone)]
enum KeySource<'a> {
    Bytes(&'a [u8]),
    Owned(Vec<u8>),
    Chain(PagePtr, u64),
}

impl KeySource<'_> {
    fn into_owned(self) -> KeySource<'static> {
        match self {
            KeySource::Bytes(b) => KeySource::Owned(b.to_vec()),
            KeySource::Owned(v) => KeySource::Owned(v),
            KeySource::Chain(p, len) => KeySource::Chain(p, len),
        }
    }
}

/// Leaf entries encoded but not yet written to pages, in key order.
struct StagedEntries<'a> {
    out: Vec<u8>,
    /// End offset in `out` of each entry.
    ends: Vec<usize>,
    /// Where each entry's full key is, for separators.
    keys: Vec<KeySource<'a>>,
}

impl StagedEntries<'_> {
    /// The bytes the entries take in leaves: their encodings and their slots.
    fn bytes(&self) -> usize {
        self.out.len() + SLOT_SIZE * self.ends.len()
    }

    /// The bytes entries `first..` take in leaves.
    fn bytes_from(&self, first: usize) -> usize {
        let start = if first == 0 { 0 } else { self.ends[first - 1] };
        self.out.len() - start + SLOT_SIZE * (self.ends.len() - first)
    }

    /// Each entry's encoded size.
    fn sizes(&self) -> Vec<usize> {
        let mut start = 0;
        self.ends
            .iter()
            .map(|&end| {
                let size = end - start;
                start = end;
                size
            })
            .collect()
    }

    fn into_owned(self) -> StagedEntries<'static> {
        StagedEntries {
            out: self.out,
            ends: self.ends,
            keys: self.keys.into_iter().map(KeySource::into_owned).collect(),
        }
    }
}

/// Staged leaf bytes that trigger writing out full pages.
const STAGE_BYTES: usize = 256 << 10;

/// Builds the next tree from the current one.
pub(crate) struct TreeWriter<'a> {
    pub(super) tree: &'a Tree,
    pub(super) alloc: &'a mut Allocator,
    /// Pages of the old tree the new one no longer references.
    pub freed: Vec<u64>,
    /// Change in the number of live keys.
    pub entry_delta: i64,
    pub(super) page_size: usize,
    /// How wide the references in the nodes it writes are.
    pub(super) width: RefWidth,
    /// Pages written but not yet handed to the file: a run of consecutive ids from `run_first`
    /// (in a coded file, sealed blocks back to back from sector `run_first`).
    run: Vec<u8>,
    run_first: u64,
    /// Blocks in a coded file's run.
    run_blocks: u64,
}

/// Largest run of consecutive pages gathered into one write.
const MAX_RUN_BYTES: usize = 1 << 20;

const MAX_DEPTH: usize = 64;

impl<'a> TreeWriter<'a> {
    pub fn new(tree: &'a Tree, alloc: &'a mut Allocator) -> TreeWriter<'a> {
        TreeWriter {
            tree,
            alloc,
            freed: Vec::new(),
            entry_delta: 0,
            page_size: tree.pager.page_size(),
            width: tree.pager.ref_width(),
            run: Vec::new(),
            run_first: 0,
            run_blocks: 0,
        }
    }

    /// Applies `muts` (sorted by key, at most one per key) and returns the new root (id 0 =
    /// empty).
    pub fn apply(&mut self, muts: &[Mutation<'_>]) -> Result<PagePtr> {
        let root = self.tree.root;
        if muts.is_empty() {
            return Ok(root);
        }
        let rewrite = if root.id == 0 {
            self.rewrite_leaf(None, muts, None, None)?
        } else {
            self.rewrite(root, muts, 0, None)?
        };
        let replaced = match rewrite {
            Rewrite::Unchanged => None,
            Rewrite::Staged { mut written, tail } => {
                written.extend(self.write_staged(tail)?);
                Some(written)
            }
            Rewrite::Replaced(list) => Some(list),
        };
        let new_root = match replaced {
            None => root,
            Some(mut list) => loop {
                match list.len() {
                    0 => break PagePtr::default(),
                    1 => break list[0].page,
                    _ => list = self.build_branches(list)?,
                }
            },
        };
        self.flush_run()?;
        Ok(new_root)
    }

    /// Writes a new node, built by `build` from the id its header names, and returns its
    /// reference: a plain file's page (queued with the pages next to it), or a coded file's
    /// block, compressed.
    pub(super) fn place_node(&mut self, build: impl FnOnce(u64) -> Vec<u8>) -> Result<PagePtr> {
        if self.tree.pager.coding().is_some() {
            // A block is named by its address, which its length decides: the header names none.
            let sealed = self.tree.pager.seal_node(build(0), self.alloc)?;
            return self.emit_block(sealed);
        }
        let id = self.alloc.alloc();
        self.emit(id, build(id))?;
        Ok(PagePtr::plain(id))
    }

    /// Queues a new page for writing; consecutive pages go to the file in one write.
    pub(super) fn emit(&mut self, id: u64, page: Vec<u8>) -> Result<()> {
        let queued = (self.run.len() / self.page_size) as u64;
        if !self.run.is_empty()
            && (id != self.run_first + queued || self.run.len() >= MAX_RUN_BYTES)
        {
            self.flush_run()?;
        }
        if self.run.is_empty() {
            self.run_first = id;
        }
        self.run.extend_from_slice(&page);
        Ok(())
    }

    /// Queues a coded file's sealed block; blocks back to back go to the file in one write.
    fn emit_block(&mut self, block: SealedBlock) -> Result<PagePtr> {
        let queued_end = self.run_first + self.run.len() as u64 / SECTOR_SIZE;
        if !self.run.is_empty()
            && (block.extent.first != queued_end || self.run.len() >= MAX_RUN_BYTES)
        {
            self.flush_run()?;
        }
        if self.run.is_empty() {
            self.run_first = block.extent.first;
        }
        self.run.extend_from_slice(&block.bytes);
        self.run_blocks += 1;
        Ok(block.ptr)
    }

    pub(super) fn flush_run(&mut self) -> Result<()> {
        if !self.run.is_empty() {
            if self.tree.pager.coding().is_some() {
                self.tree
                    .pager
                    .write_blocks(self.run_first, &self.run, self.run_blocks)?;
            } else {
                self.tree.pager.write_run(self.run_first, &mut self.run)?;
            }
            self.run.clear();
            self.run_blocks = 0;
        }
        Ok(())
    }

    /// Rewrites node `ptr` with `muts`; `sibling` is its right sibling, if it has one.
    fn rewrite(
        &mut self,
        ptr: PagePtr,
        muts: &[Mutation<'_>],
        depth: usize,
        sibling: Option<Sibling>,
    ) -> Result<Rewrite> {
        self.check_depth(depth)?;
        let tree = self.tree;
        let page = tree.page(ptr)?;
        let view = tree.view(&page, ptr.id)?;
        if view.is_leaf() {
            self.rewrite_leaf(Some((ptr, view)), muts, None, sibling)
        } else {
            self.rewrite_branch(ptr, view, muts, depth)
        }
    }

    /// `CORRUPTION` past [`MAX_DEPTH`] levels: a cycle in damaged pages.
    pub(super) fn check_depth(&self, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(self
                .tree
                .pager
                .corrupt("tree deeper than 64 levels (a cycle?)"));
        }
        Ok(())
    }

    pub(super) fn malformed(&self, id: u64) -> crate::error::Error {
        self.tree
            .pager
            .corrupt(format!("page {id}: malformed entry"))
    }

    /// Orders a stored key against `key`.
    fn cmp_stored(&self, stored: Stored<'_>, key: &[u8]) -> Result<Ordering> {
        Ok(match stored {
            Stored::Inline(k) => k.cmp(key),
            Stored::Overflow { first, len } => {
                self.tree.cmp_overflow_key(key, first, len)?.reverse()
            }
        })
    }

    /// Rewrites leaf `ptr` with `muts`, after the entries `carried` from its left sibling; if
    /// `ptr` is a branch, hands `carried` back untouched.
    fn join_leaf(
        &mut self,
        ptr: PagePtr,
        muts: &[Mutation<'_>],
        carried: StagedEntries<'static>,
        sibling: Option<Sibling>,
    ) -> Result<std::result::Result<Rewrite, StagedEntries<'static>>> {
        let tree = self.tree;
        let page = tree.page(ptr)?;
        let view = tree.view(&page, ptr.id)?;
        if !view.is_leaf() {
            return Ok(Err(carried));
        }
        self.rewrite_leaf(Some((ptr, view)), muts, Some(carried), sibling)
            .map(Ok)
    }

    /// Bytes leaf `ptr` can take while keeping a sixth of its page free (0 if it is a branch).
    fn room_in_leaf(&self, ptr: PagePtr) -> Result<usize> {
        let id = ptr.id;
        let page = self.tree.page(ptr)?;
        let view = self.tree.view(&page, id)?;
        if !view.is_leaf() {
            return Ok(0);
        }
        let mut used = 0;
        for i in 0..view.len() {
            used += view.entry(i).ok_or_else(|| self.malformed(id))?.raw.len() + SLOT_SIZE;
        }
        Ok((capacity(self.page_size, PageType::Leaf, self.width) * 5 / 6).saturating_sub(used))
    }

    fn rewrite_leaf(
        &mut self,
        old: Option<(PagePtr, NodeView<'_>)>,
        muts: &[Mutation<'_>],
        carried: Option<StagedEntries<'static>>,
        sibling: Option<Sibling>,
    ) -> Result<Rewrite> {
        let old_len = old.map_or(0, |(_, v)| v.len());
        let joined = carried.is_some();
        let mut changed = joined;
        let mut staged = carried.unwrap_or_else(|| StagedEntries {
            out: Vec::with_capacity(STAGE_BYTES + self.page_size),
            ends: Vec::new(),
            keys: Vec::new(),
        });
        let mut children = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < old_len || j < muts.len() {
            let old_entry = match old {
                Some((ptr, view)) if i < old_len => {
                    Some(view.entry(i).ok_or_else(|| self.malformed(ptr.id))?)
                }
                _ => None,
            };
            let ord = match (old_entry, muts.get(j)) {
                (Some(e), Some(m)) => self.cmp_stored(e.key, m.key)?,
                (Some(_), None) => Ordering::Less,
                _ => Ordering::Greater,
            };
            match ord {
                Ordering::Less => {
                    let e = old_entry.unwrap();
                    staged.out.extend_from_slice(e.raw);
                    staged.keys.push(key_source(e.key));
                    i += 1;
                }
                Ordering::Equal => {
                    let e = old_entry.unwrap();
                    changed = true;
                    self.free_stored(e.value)?;
                    match muts[j].value {
                        Some(value) => {
                            // Keep the old key (and its overflow chain, if any) with the new value.
                            let key_flag = match e.key {
                                Stored::Inline(_) => 0,
                                Stored::Overflow { .. } => KEY_OVERFLOW,
                            };
                            self.encode_leaf_entry(&mut staged.out, key_flag, e.stored_key, value)?;
                            staged.keys.push(key_source(e.key));
                        }
                        None => {
                            self.free_stored(e.key)?;
                            self.entry_delta -= 1;
                        }
                    }
                    i += 1;
                    j += 1;
                }
                Ordering::Greater => {
                    let m = muts[j];
                    if let Some(value) = m.value {
                        let (key_flag, key_bytes) = self.store_key(m.key)?;
                        self.encode_leaf_entry(&mut staged.out, key_flag, &key_bytes, value)?;
                        staged.keys.push(KeySource::Bytes(m.key));
                        self.entry_delta += 1;
                        changed = true;
                    }
                    j += 1;
                }
            }
            if staged.ends.len() < staged.keys.len() {
                staged.ends.push(staged.out.len());
            }
            // Write out full pages as we go once the leaf is known to change, so a large run
            // never needs its whole encoding in memory.
            if changed && staged.out.len() >= STAGE_BYTES {
                self.emit_leaves(&mut staged, &mut children, false)?;
            }
        }
        if !changed {
            return Ok(Rewrite::Unchanged);
        }
        if let Some((ptr, _)) = old {
            self.freed.push(ptr.id);
        }
        // A leaf under a quarter full joins its right sibling; once joining, the result goes on
        // to the next sibling until it is half full, so deletes leave leaves at least half full.
        let cap = capacity(self.page_size, PageType::Leaf, self.width);
        let bytes = staged.bytes();
        if children.is_empty()
            && !staged.ends.is_empty()
            && bytes < cap / if joined { 2 } else { 4 }
        {
            return Ok(Rewrite::Staged {
                written: children,
                tail: staged.into_owned(),
            });
        }
        // A leaf that splits writes full pages; what is left over joins the right sibling if the
        // merge rewrites that one anyway, or if it keeps a sixth of a page free with it. (So a
        // merge that rewrites a run of leaves packs them full, as a bulk load does.)
        if let (true, Some(sibling)) = (bytes > cap, sibling) {
            let groups = pack_greedy(&staged.sizes(), cap);
            let tail_start = groups[groups.len() - 2];
            let tail_bytes = staged.bytes_from(tail_start);
            let room = if sibling.rewritten {
                cap
            } else {
                self.room_in_leaf(sibling.ptr)?
            };
            if tail_bytes <= room {
                self.emit_groups(&mut staged, &mut children, &groups[..groups.len() - 1])?;
                return Ok(Rewrite::Staged {
                    written: children,
                    tail: staged.into_owned(),
                });
            }
        }
        self.emit_leaves(&mut staged, &mut children, true)?;
        Ok(Rewrite::Replaced(children))
    }

    /// Writes staged entries into leaves of their own.
    fn write_staged(&mut self, mut staged: StagedEntries<'_>) -> Result<Vec<Child>> {
        let mut children = Vec::new();
        self.emit_leaves(&mut staged, &mut children, true)?;
        Ok(children)
    }

    /// Writes staged leaf entries into pages: all of them if `all`, else every page but the last
    /// two (kept so the final pages can still be evened out). Drains what it wrote.
    fn emit_leaves(
        &mut self,
        staged: &mut StagedEntries<'_>,
        children: &mut Vec<Child>,
        all: bool,
    ) -> Result<()> {
        let mut groups = pack(
            &staged.sizes(),
            capacity(self.page_size, PageType::Leaf, self.width),
        );
        if !all {
            if groups.len() <= 2 {
                return Ok(());
            }
            groups.truncate(groups.len() - 2);
        }
        self.emit_groups(staged, children, &groups)
    }

    /// Writes one leaf per group of staged entries (`groups` holds each group's end index) and
    /// drains what it wrote.
    fn emit_groups(
        &mut self,
        staged: &mut StagedEntries<'_>,
        children: &mut Vec<Child>,
        groups: &[usize],
    ) -> Result<()> {
        let ends = &staged.ends;
        let mut first = 0;
        for &group_end in groups {
            if group_end == first {
                continue;
            }
            let entries: Vec<&[u8]> = (first..group_end)
                .map(|k| {
                    let s = if k == 0 { 0 } else { ends[k - 1] };
                    &staged.out[s..ends[k]]
                })
                .collect();
            let (page_size, width) = (self.page_size, self.width);
            let page = self.place_node(|id| {
                build_page(
                    page_size,
                    PageType::Leaf,
                    id,
                    width,
                    PagePtr::default(),
                    &entries,
                )
            })?;
            let sep = if children.is_empty() {
                None
            } else {
                Some(Sep::Fresh(self.key_of(&staged.keys[first])?))
            };
            children.push(Child { sep, page });
            first = group_end;
        }
        // Drop what was written.
        let cut = if first == 0 {
            0
        } else {
            staged.ends[first - 1]
        };
        staged.out.drain(..cut);
        staged.ends.drain(..first);
        for end in &mut staged.ends {
            *end -= cut;
        }
        staged.keys.drain(..first);
        Ok(())
    }

    /// The full key a staged entry's key source names.
    fn key_of(&self, source: &KeySource<'_>) -> Result<Vec<u8>> {
        Ok(match source {
            KeySource::Bytes(b) => b.to_vec(),
            KeySource::Owned(v) => v.clone(),
            KeySource::Chain(p, len) => self.tree.read_overflow(*p, *len)?,
        })
    }

    fn rewrite_branch(
        &mut self,
        ptr: PagePtr,
        view: NodeView<'_>,
        muts: &[Mutation<'_>],
        depth: usize,
    ) -> Result<Rewrite> {
        let id = ptr.id;
        let children = view.len() + 1;
        let mut list: Vec<Child> = Vec::with_capacity(children);
        let mut changed = false;
        let mut m = 0;
        // Entries of a rewritten leaf on their way into its right sibling (see `Rewrite::Staged`),
        // with the separator that leads to them.
        let mut carry: Option<(StagedEntries<'static>, Option<Sep>)> = None;
        for c in 0..children {
            let child = view.child_at(c).ok_or_else(|| self.malformed(id))?;
            let mut sep = match c {
                0 => None,
                _ => {
                    let e = view.entry(c - 1).ok_or_else(|| self.malformed(id))?;
                    Some(Sep::Stored {
                        overflow: matches!(e.key, Stored::Overflow { .. }),
                        bytes: e.stored_key.to_vec(),
                    })
                }
            };
            // This child takes the changes below the next separator.
            let end = if c + 1 < children {
                let next = view.entry(c).ok_or_else(|| self.malformed(id))?.key;
                let (mut lo, mut hi) = (m, muts.len());
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    if self.cmp_stored(next, muts[mid].key)? == Ordering::Greater {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                lo
            } else {
                muts.len()
            };
            let part = &muts[m..end];
            m = end;
            let sibling = if c + 1 < children {
                // The next child takes changes if the first one left is below its successor.
                let rewritten = end < muts.len()
                    && (c + 2 == children || {
                        let after = view.entry(c + 1).ok_or_else(|| self.malformed(id))?.key;
                        self.cmp_stored(after, muts[end].key)? == Ordering::Greater
                    });
                Some(Sibling {
                    ptr: view.child_at(c + 1).ok_or_else(|| self.malformed(id))?,
                    rewritten,
                })
            } else {
                None
            };
            let rewrite = match carry.take() {
                Some((carried, carried_sep)) => {
                    match self.join_leaf(child, part, carried, sibling)? {
                        Ok(rewrite) => {
                            // The carried entries went in front of this leaf's: the carried
                            // leaf's separator leads to the result, and this leaf's goes away.
                            if let Some(s) = std::mem::replace(&mut sep, carried_sep) {
                                self.free_sep(s)?;
                            }
                            rewrite
                        }
                        Err(carried) => {
                            // Not a leaf beside it (a branch left with one child was replaced by
                            // it): the carried entries stay a leaf of their own.
                            let written = self.write_staged(carried)?;
                            push_children(&mut list, carried_sep, written);
                            if part.is_empty() {
                                Rewrite::Unchanged
                            } else {
                                self.rewrite(child, part, depth + 1, sibling)?
                            }
                        }
                    }
                }
                None if part.is_empty() => Rewrite::Unchanged,
                None => self.rewrite(child, part, depth + 1, sibling)?,
            };
            match rewrite {
                Rewrite::Unchanged => list.push(Child { sep, page: child }),
                Rewrite::Staged { written, tail } => {
                    changed = true;
                    // The tail's separator: the child's own if nothing was written before it,
                    // else its first key.
                    let tail_sep = if written.is_empty() {
                        sep
                    } else {
                        let first = Some(Sep::Fresh(self.key_of(&tail.keys[0])?));
                        push_children(&mut list, sep, written);
                        first
                    };
                    carry = Some((tail, tail_sep));
                }
                Rewrite::Replaced(new_children) => {
                    changed = true;
                    if new_children.is_empty() {
                        if let Some(s) = sep.take() {
                            self.free_sep(s)?;
                        }
                    }
                    push_children(&mut list, sep, new_children);
                }
            }
        }
        if let Some((carried, carried_sep)) = carry {
            // The last child: no right sibling to join.
            let written = self.write_staged(carried)?;
            push_children(&mut list, carried_sep, written);
        }
        if !changed {
            return Ok(Rewrite::Unchanged);
        }
        self.freed.push(id);
        // If the leftmost child went away, the new first child's separator is not needed: this
        // node's lower bound comes from its parent.
        if let Some(first) = list.first_mut() {
            if let Some(s) = first.sep.take() {
                self.free_sep(s)?;
            }
        }
        match list.len() {
            0 | 1 => Ok(Rewrite::Replaced(list)),
            // Too few children to fill a quarter of a branch page: the parent takes them in among
            // its own, as it takes the only child of a node, so no branch is left nearly empty
            // (their subtrees then sit a level higher; the root keeps any number).
            _ if depth > 0
                && self.branch_bytes(&list)
                    < capacity(self.page_size, PageType::Branch, self.width) / 4 =>
            {
                Ok(Rewrite::Replaced(list))
            }
            _ => Ok(Rewrite::Replaced(self.build_branches(list)?)),
        }
    }

    /// About the bytes `list` would take in a branch page: an entry and a slot per separator.
    fn branch_bytes(&self, list: &[Child]) -> usize {
        list.iter()
            .filter_map(|child| child.sep.as_ref())
            .map(|sep| {
                let key = match sep {
                    Sep::Stored { bytes, .. } => bytes.len(),
                    Sep::Fresh(key) if key.len() <= max_inline_key(self.page_size) => key.len(),
                    Sep::Fresh(_) => self.width.key_ref_size(),
                };
                // The header, the key, the child's reference, the slot.
                ENTRY_HEADER_SIZE + key + self.width.ptr_size() + SLOT_SIZE
            })
            .sum()
    }

    /// Packs children into branch pages; returns one child per page, each with the separator
    /// lifted from its first child.
    fn build_branches(&mut self, mut list: Vec<Child>) -> Result<Vec<Child>> {
        // Encode every separator now, so sizes are exact.
        let mut encoded: Vec<Vec<u8>> = Vec::with_capacity(list.len());
        for child in &mut list {
            let mut entry = Vec::new();
            if let Some(sep) = child.sep.take() {
                let (overflow, bytes) = match sep {
                    Sep::Stored { overflow, bytes } => (overflow, bytes),
                    Sep::Fresh(key) => {
                        let (flag, bytes) = self.store_key(&key)?;
                        (flag == KEY_OVERFLOW, bytes)
                    }
                };
                encode_entry(
                    &mut entry,
                    if overflow { KEY_OVERFLOW } else { 0 },
                    &bytes,
                    &self.width.encode_ptr(child.page),
                );
                child.sep = Some(Sep::Stored { overflow, bytes });
            }
            encoded.push(entry);
        }
        let sizes: Vec<usize> = encoded.iter().map(Vec::len).collect();
        let groups = pack(
            &sizes,
            capacity(self.page_size, PageType::Branch, self.width),
        );
        let mut out = Vec::with_capacity(groups.len());
        let mut first = 0;
        for &group_end in &groups {
            if group_end == first {
                continue;
            }
            let entries: Vec<&[u8]> = encoded[first + 1..group_end]
                .iter()
                .map(Vec::as_slice)
                .collect();
            let (page_size, width, leftmost) = (self.page_size, self.width, list[first].page);
            let page = self.place_node(|id| {
                build_page(page_size, PageType::Branch, id, width, leftmost, &entries)
            })?;
            out.push(Child {
                sep: list[first].sep.take(),
                page,
            });
            first = group_end;
        }
        Ok(out)
    }

    /// How a new key is stored: inline, or in a new overflow chain.
    fn store_key(&mut self, key: &[u8]) -> Result<(u8, Vec<u8>)> {
        if key.len() <= max_inline_key(self.page_size) {
            Ok((0, key.to_vec()))
        } else {
            let first = self.write_chain(key)?;
            Ok((KEY_OVERFLOW, overflow_key_ref(self.width, first, key)))
        }
    }

    fn encode_leaf_entry(
        &mut self,
        out: &mut Vec<u8>,
        key_flag: u8,
        key: &[u8],
        value: &[u8],
    ) -> Result<()> {
        if ENTRY_HEADER_SIZE + key.len() + value.len() <= max_inline_entry(self.page_size) {
            encode_entry(out, key_flag, key, value);
        } else {
            let first = self.write_chain(value)?;
            let r = overflow_ref(self.width, first, value.len() as u64);
            encode_entry(out, key_flag | VALUE_OVERFLOW, key, &r);
        }
        Ok(())
    }

    /// Writes `data` into a new chain of overflow pages; returns the first page.
    pub(super) fn write_chain(&mut self, data: &[u8]) -> Result<PagePtr> {
        if self.tree.pager.coding().is_some() {
            // A coded file keeps the whole value in one block.
            let sealed = self.tree.pager.seal_value(data, self.alloc)?;
            return self.emit_block(sealed);
        }
        let cap = overflow_capacity(self.page_size);
        let n = data.len().div_ceil(cap).max(1);
        let ids: Vec<u64> = (0..n).map(|_| self.alloc.alloc()).collect();
        for (k, chunk_start) in (0..n).map(|k| (k, k * cap)) {
            let chunk = &data[chunk_start..(chunk_start + cap).min(data.len())];
            let next = ids.get(k + 1).copied().unwrap_or(0);
            let page = self.tree.pager.overflow_page(ids[k], next, chunk);
            self.emit(ids[k], page)?;
        }
        Ok(PagePtr::plain(ids[0]))
    }

    /// Frees the overflow chain of a stored key or value, if it has one.
    fn free_stored(&mut self, stored: Stored<'_>) -> Result<()> {
        if let Stored::Overflow { first, len } = stored {
            let (_, pages) = self.read_chain(first, len)?;
            self.freed.extend(pages);
        }
        Ok(())
    }

    /// The bytes of the overflow chain at `first` and the ids of its pages.
    pub(super) fn read_chain(&self, first: PagePtr, len: u64) -> Result<(Vec<u8>, Vec<u64>)> {
        let tree = self.tree;
        let mut pages = Vec::new();
        let data = tree.pager.read_overflow(
            PageSource::MapOrCache(tree.map.as_deref()),
            first,
            len,
            tree.file_units,
            |id| pages.push(id),
        )?;
        Ok((data, pages))
    }

    fn free_sep(&mut self, sep: Sep) -> Result<()> {
        if let Sep::Stored {
            overflow: true,
            bytes,
        } = sep
        {
            // Parsed as a one-entry view would: a key reference of this writer's width.
            let ptr_size = self.width.ptr_size();
            let first = PagePtr {
                id: u64::from_le_bytes(bytes[0..8].try_into().unwrap()),
                check: match self.width {
                    RefWidth::Narrow => 0,
                    RefWidth::Wide => u64::from_le_bytes(bytes[8..16].try_into().unwrap()),
                },
            };
            let len = u64::from_le_bytes(bytes[ptr_size..ptr_size + 8].try_into().unwrap());
            self.free_stored(Stored::Overflow { first, len })?;
        }
        Ok(())
    }
}

/// Appends `new_children` to `list`, the first taking `sep` (the separator that led to the node
/// they replace).
fn push_children(list: &mut Vec<Child>, mut sep: Option<Sep>, new_children: Vec<Child>) {
    for (k, mut ch) in new_children.into_iter().enumerate() {
        if k == 0 {
            ch.sep = sep.take();
        }
        list.push(ch);
    }
}

fn key_source(stored: Stored<'_>) -> KeySource<'_> {
    match stored {
        Stored::Inline(b) => KeySource::Bytes(b),
        Stored::Overflow { first, len } => KeySource::Chain(first, len),
    }
}
