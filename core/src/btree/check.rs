//! The structural check behind `verify()`: reads every page of a tree and its freelist from the
//! file (not the cache), and checks checksums, key order, separator bounds, overflow chains, and
//! that every page is used exactly once.

use std::cmp::Ordering;

use super::extents::Extent;
use super::freelist::read_freelist;
use super::meta::{first_sector, Meta};
use super::node::{NodeView, PagePtr, Stored};
use super::pager::PageSource;
use super::tree::Tree;
use crate::error::Result;

/// What the check of the page file found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct TreeReport {
    pub pages: u64,
    pub leaf_pages: u64,
    pub branch_pages: u64,
    pub overflow_pages: u64,
    pub free_pages: u64,
    pub entries: u64,
    pub depth: u64,
}

struct Checker<'a> {
    tree: &'a Tree,
    used: Vec<bool>,
    report: TreeReport,
}

impl Checker<'_> {
    /// Marks page `id` (a coded file's block at address `id`: its sectors) as used by `what`.
    fn claim(&mut self, id: u64, what: &str) -> Result<()> {
        let units = match self.tree.pager.coding() {
            None => (id >= 2 && id < self.tree.file_units).then_some(id..id + 1),
            Some(_) => {
                let first = first_sector(self.tree.pager.page_size());
                Extent::from_address(id)
                    .filter(|e| e.first >= first && e.end() <= self.tree.file_units)
                    .map(|e| e.first..e.end())
            }
        };
        let Some(units) = units else {
            return Err(self
                .tree
                .pager
                .corrupt(format!("{what} page {id:#x} is outside the file")));
        };
        for unit in units {
            if std::mem::replace(&mut self.used[unit as usize], true) {
                return Err(self.tree.pager.corrupt(format!(
                    "page {id:#x} is used twice (found again as {what})"
                )));
            }
        }
        Ok(())
    }

    fn load(&mut self, stored: Stored<'_>, what: &str) -> Result<Vec<u8>> {
        match stored {
            Stored::Inline(b) => Ok(b.to_vec()),
            Stored::Overflow { first, len } => {
                let mut chain = Vec::new();
                let data = self.tree.pager.read_overflow(
                    PageSource::File,
                    first,
                    len,
                    self.tree.file_units,
                    |id| chain.push(id),
                )?;
                for id in chain {
                    self.claim(id, what)?;
                    self.report.overflow_pages += 1;
                }
                Ok(data)
            }
        }
    }

    /// Checks the subtree at `ptr`, whose keys must lie in [lo, hi).
    fn node(
        &mut self,
        ptr: PagePtr,
        lo: Option<&[u8]>,
        hi: Option<&[u8]>,
        depth: u64,
    ) -> Result<()> {
        let id = ptr.id;
        if depth > 64 {
            return Err(self.tree.pager.corrupt("tree deeper than 64 levels"));
        }
        self.claim(id, "tree")?;
        self.report.depth = self.report.depth.max(depth);
        let page = self.tree.pager.read_page_uncached(ptr)?;
        let view = NodeView::new(&page).ok_or_else(|| {
            self.tree.pager.corrupt(format!(
                "page {id} is reachable from the root but is not a node"
            ))
        })?;
        let bad = |what: String| self.tree.pager.corrupt(format!("page {id}: {what}"));
        let mut keys: Vec<Vec<u8>> = Vec::with_capacity(view.len());
        for i in 0..view.len() {
            let entry = view
                .entry(i)
                .ok_or_else(|| bad(format!("entry {i} is malformed")))?;
            let key = self.load(entry.key, "key overflow")?;
            if view.head(i) != crate::key_order::head_of(&key) {
                return Err(bad(format!("entry {i}'s head does not match its key")));
            }
            if let Some(prev) = keys.last() {
                if key.as_slice().cmp(prev.as_slice()) != Ordering::Greater {
                    return Err(bad(format!("entry {i} is out of order")));
                }
            }
            if lo.is_some_and(|lo| key.as_slice() < lo) || hi.is_some_and(|hi| key.as_slice() >= hi)
            {
                return Err(bad(format!(
                    "entry {i} lies outside the range its parent gives"
                )));
            }
            if view.is_leaf() {
                self.load(entry.value, "value overflow")?;
                self.report.entries += 1;
            } else if entry.child().is_none() {
                return Err(bad(format!("entry {i} has no child id")));
            }
            keys.push(key);
        }
        if view.is_leaf() {
            self.report.leaf_pages += 1;
            if view.len() == 0 && depth > 0 {
                return Err(bad("empty leaf".into()));
            }
            return Ok(());
        }
        self.report.branch_pages += 1;
        if view.len() == 0 {
            return Err(bad("branch with a single child".into()));
        }
        for pos in 0..=view.len() {
            let child = view
                .child_at(pos)
                .ok_or_else(|| bad(format!("child {pos} is malformed")))?;
            let child_lo = if pos == 0 {
                lo
            } else {
                Some(keys[pos - 1].as_slice())
            };
            let child_hi = if pos == view.len() {
                hi
            } else {
                Some(keys[pos].as_slice())
            };
            self.node(child, child_lo, child_hi, depth + 1)?;
        }
        Ok(())
    }
}

/// Checks `tree` and the freelist `meta` names.
pub(crate) fn check_tree(tree: &Tree, meta: &Meta) -> Result<TreeReport> {
    let mut checker = Checker {
        tree,
        used: vec![false; tree.file_units as usize],
        report: TreeReport::default(),
    };
    let reserved = match tree.pager.coding() {
        None => 2,
        Some(_) => first_sector(tree.pager.page_size()),
    };
    for unit in 0..reserved.min(tree.file_units) {
        checker.used[unit as usize] = true;
    }
    if tree.root.id != 0 {
        checker.node(tree.root, None, None, 0)?;
    }
    let head = PagePtr {
        id: meta.freelist_head,
        check: meta.freelist_check,
    };
    let (free, chain) = read_freelist(&tree.pager, head, tree.file_units)?;
    for id in chain {
        checker.claim(id, "freelist")?;
    }
    for &id in &free {
        checker.claim(id, "free")?;
    }
    checker.report.free_pages = free.len() as u64;
    if let Some(leaked) = checker.used.iter().position(|used| !used) {
        return Err(tree.pager.corrupt(format!(
            "page {leaked} is neither in the tree nor free (leaked)"
        )));
    }
    if checker.report.entries != meta.entries {
        return Err(tree.pager.corrupt(format!(
            "the tree holds {} keys but the meta page says {}",
            checker.report.entries, meta.entries
        )));
    }
    checker.report.pages = tree.file_units;
    Ok(checker.report)
}
