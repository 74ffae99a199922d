//! [`TreeCursor`]: walks one [`Tree`]'s leaves in key order, both ways, without copying inline
//! keys or values.

use std::sync::Arc;

use super::node::{NodeView, PagePtr, Stored};
use super::pager::OwnedPage;
use super::tree::Tree;
use crate::error::Result;

const MAX_DEPTH: usize = 64;

/// One node on a cursor's path from the root.
struct Level {
    page: OwnedPage,
    ptr: PagePtr,
    /// In a branch, the child position (0 = leftmost); in the leaf, the entry.
    index: usize,
    /// The node's entry count, kept so a step within a leaf reads no page header.
    len: usize,
}

/// A position in a tree: the pages from the root down to a leaf, and the index in each.
pub(crate) struct TreeCursor {
    tree: Arc<Tree>,
    stack: Vec<Level>,
    valid: bool,
    /// Where the current entry's key and value sit in the leaf page, found when positioned.
    key_range: std::ops::Range<usize>,
    value_range: std::ops::Range<usize>,
    value_overflow: bool,
    /// The current key when it lives in an overflow chain.
    key_buf: Option<Vec<u8>>,
    /// The current value when it lives in an overflow chain (loaded on demand).
    value_buf: Option<Vec<u8>>,
}

impl TreeCursor {
    pub fn new(tree: Arc<Tree>) -> TreeCursor {
        TreeCursor {
            tree,
            stack: Vec::new(),
            valid: false,
            key_range: 0..0,
            value_range: 0..0,
            value_overflow: false,
            key_buf: None,
            value_buf: None,
        }
    }

    #[inline]
    pub fn valid(&self) -> bool {
        self.valid
    }

    #[inline]
    fn leaf_page(&self) -> &[u8] {
        &self.stack.last().expect("valid cursor has a leaf").page
    }

    /// The current key. Only call when `valid()`.
    #[inline]
    pub fn key(&self) -> &[u8] {
        match &self.key_buf {
            Some(k) => k,
            None => &self.leaf_page()[self.key_range.clone()],
        }
    }

    /// The current value. Only call when `valid()`.
    #[inline]
    pub fn value(&mut self) -> Result<&[u8]> {
        if !self.value_overflow {
            return Ok(&self.leaf_page()[self.value_range.clone()]);
        }
        if self.value_buf.is_none() {
            // Found where `settle` parsed the entry (so the reference is well-formed).
            let index = self.stack.last().expect("valid cursor has a leaf").index;
            let Some(Stored::Overflow { first, len }) =
                self.top_view().entry(index).map(|e| e.value)
            else {
                return Err(self.tree.pager.corrupt("overflow value reference vanished"));
            };
            self.value_buf = Some(self.tree.read_overflow(first, len)?);
        }
        Ok(self.value_buf.as_deref().unwrap_or(&[]))
    }

    fn push(&mut self, ptr: PagePtr) -> Result<()> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(self
                .tree
                .pager
                .corrupt("tree deeper than 64 levels (a cycle?)"));
        }
        let page = self.tree.owned_page(ptr)?;
        let len = self.tree.view(&page, ptr.id)?.len();
        self.stack.push(Level {
            page,
            ptr,
            index: 0,
            len,
        });
        Ok(())
    }

    fn top_view(&self) -> NodeView<'_> {
        NodeView::new(&self.stack.last().unwrap().page).unwrap()
    }

    /// Descends from the node on top of the stack to a leaf, taking the first (`forward`) or
    /// last child at each level, and positions on the first or last entry.
    fn descend_edge(&mut self, forward: bool) -> Result<()> {
        loop {
            let view = self.top_view();
            let n = view.len();
            let id = self.stack.last().unwrap().ptr.id;
            if view.is_leaf() {
                self.stack.last_mut().unwrap().index = if forward { 0 } else { n.wrapping_sub(1) };
                return if n == 0 {
                    self.step(forward)
                } else {
                    self.settle()
                };
            }
            let pos = if forward { 0 } else { n };
            let child = view.child_at(pos).ok_or_else(|| {
                self.tree
                    .pager
                    .corrupt(format!("page {id}: malformed child"))
            })?;
            self.stack.last_mut().unwrap().index = pos;
            self.push(child)?;
        }
    }

    pub fn seek_first(&mut self) -> Result<()> {
        self.start()?;
        if self.stack.is_empty() {
            return Ok(());
        }
        self.descend_edge(true)
    }

    pub fn seek_last(&mut self) -> Result<()> {
        self.start()?;
        if self.stack.is_empty() {
            return Ok(());
        }
        self.descend_edge(false)
    }

    fn start(&mut self) -> Result<()> {
        self.stack.clear();
        self.valid = false;
        self.key_buf = None;
        self.value_buf = None;
        if self.tree.root.id != 0 {
            self.push(self.tree.root)?;
        }
        Ok(())
    }

    /// Descends towards `key`; leaves the leaf on top with its index at the first entry ≥ `key`.
    /// Returns whether that entry's key equals `key`.
    fn descend_to(&mut self, key: &[u8]) -> Result<bool> {
        loop {
            let tree = self.tree.clone();
            let id = self.stack.last().unwrap().ptr.id;
            let view = self.top_view();
            if view.is_leaf() {
                let (idx, exact) = view.lower_bound(
                    key,
                    |first, len| tree.cmp_overflow_key(key, first, len),
                    || tree.pager.corrupt(format!("page {id}: malformed entry")),
                )?;
                self.stack.last_mut().unwrap().index = idx;
                return Ok(exact);
            }
            let (child, pos) = tree.child_for(&view, id, key)?;
            self.stack.last_mut().unwrap().index = pos;
            self.push(child)?;
        }
    }

    /// Positions at the first key ≥ `key`.
    pub fn seek_ge(&mut self, key: &[u8]) -> Result<()> {
        self.start()?;
        if self.stack.is_empty() {
            return Ok(());
        }
        self.descend_to(key)?;
        let Level {
            index: idx, len, ..
        } = *self.stack.last().unwrap();
        if idx >= len {
            self.stack.last_mut().unwrap().index = idx.wrapping_sub(1);
            return self.step(true);
        }
        self.settle()
    }

    /// Positions at the last key ≤ `key`.
    pub fn seek_le(&mut self, key: &[u8]) -> Result<()> {
        self.start()?;
        if self.stack.is_empty() {
            return Ok(());
        }
        let exact = self.descend_to(key)?;
        if exact {
            return self.settle();
        }
        // The entry before the first one ≥ key.
        self.step(false)
    }

    pub fn next(&mut self) -> Result<()> {
        self.step(true)
    }

    pub fn prev(&mut self) -> Result<()> {
        self.step(false)
    }

    /// Moves one entry forward or back from the current leaf index (which may be one past either
    /// end), climbing and descending as needed.
    fn step(&mut self, forward: bool) -> Result<()> {
        self.key_buf = None;
        self.value_buf = None;
        self.valid = false;
        if self.stack.is_empty() {
            return Ok(());
        }
        // Within the leaf.
        {
            let Level {
                index: idx, len: n, ..
            } = *self.stack.last().unwrap();
            let next = if forward {
                idx.wrapping_add(1)
            } else {
                idx.wrapping_sub(1)
            };
            if next < n {
                self.stack.last_mut().unwrap().index = next;
                return self.settle();
            }
        }
        // Climb to the first ancestor with a sibling in that direction.
        loop {
            self.stack.pop();
            let Some(pos) = self.stack.last().map(|t| t.index) else {
                return Ok(());
            };
            let children = self.stack.last().unwrap().len + 1;
            let next = if forward {
                pos + 1
            } else {
                pos.wrapping_sub(1)
            };
            if next < children {
                let id = self.stack.last().unwrap().ptr.id;
                let child = self.top_view().child_at(next).ok_or_else(|| {
                    self.tree
                        .pager
                        .corrupt(format!("page {id}: malformed child"))
                })?;
                self.stack.last_mut().unwrap().index = next;
                self.push(child)?;
                return self.descend_edge(forward);
            }
        }
    }

    /// Marks the cursor valid at the current leaf index, loading an overflow key.
    fn settle(&mut self) -> Result<()> {
        let (id, idx) = self.stack.last().map(|t| (t.ptr.id, t.index)).unwrap();
        let malformed = || {
            self.tree
                .pager
                .corrupt(format!("page {id}: malformed entry"))
        };
        let view = self.top_view();
        let (key_range, value_range, flags) = view.layout(idx).ok_or_else(malformed)?;
        let mut key_chain = None;
        if flags & (super::node::KEY_OVERFLOW | super::node::VALUE_OVERFLOW) != 0 {
            // Parsing the whole entry checks the overflow references' sizes.
            let entry = view.entry(idx).ok_or_else(malformed)?;
            if let Stored::Overflow { first, len } = entry.key {
                key_chain = Some((first, len));
            }
        }
        self.key_buf = match key_chain {
            Some((first, len)) => Some(self.tree.read_overflow(first, len)?),
            None => None,
        };
        self.key_range = key_range;
        self.value_range = value_range;
        self.value_overflow = flags & super::node::VALUE_OVERFLOW != 0;
        self.value_buf = None;
        self.valid = true;
        Ok(())
    }
}
