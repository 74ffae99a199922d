//! [`Tree`]: one immutable, published version of the B+tree, and point lookups in it.

use std::cmp::Ordering;
use std::sync::Arc;

use super::extents::Extent;
use super::hints::{self, Hint, LeafHints};
use super::node::{NodeView, PagePtr, Stored};
use super::pager::{MappedFile, OwnedPage, PageRef, PageSource, Pager};
use crate::error::Result;
use crate::key_order::key_hash;

/// A tree as of one merge generation. Its pages are never overwritten while a `Tree` that reaches
/// them is alive, so readers need no locks.
pub(crate) struct Tree {
    pub pager: Arc<Pager>,
    /// The root page; id 0 means the tree is empty.
    pub root: PagePtr,
    pub generation: u64,
    /// The file's length in units (pages, or a coded file's sectors) when this tree was
    /// published: every page it reaches lies below.
    pub file_units: u64,
    pub map: Option<Arc<MappedFile>>,
    /// Where point reads found hot keys lately (`hints.rs`).
    pub hints: LeafHints,
    /// A coded file's first sector for blocks; 0 for a plain file.
    first_block_sector: u64,
}

/// Deepest tree a lookup will descend; deeper means a cycle in corrupt pages.
const MAX_DEPTH: usize = 64;

impl Tree {
    /// The tree rooted at `root` as of `generation`, whose pages all lie in the file's first
    /// `file_units` units (pages, or a coded file's sectors).
    pub fn new(
        pager: Arc<Pager>,
        root: PagePtr,
        generation: u64,
        file_units: u64,
        map: Option<Arc<MappedFile>>,
    ) -> Tree {
        let hints = LeafHints::new(pager.cache_size());
        let first_block_sector = match pager.coding() {
            None => 0,
            Some(_) => super::meta::first_sector(pager.page_size()),
        };
        Tree {
            pager,
            root,
            generation,
            file_units,
            map,
            hints,
            first_block_sector,
        }
    }

    pub fn page(&self, ptr: PagePtr) -> Result<PageRef<'_>> {
        self.check_id(ptr.id)?;
        self.pager.page(self.map.as_deref(), ptr)
    }

    pub fn owned_page(&self, ptr: PagePtr) -> Result<OwnedPage> {
        self.check_id(ptr.id)?;
        self.pager.owned_page(self.map.as_ref(), ptr)
    }

    /// Page `id` in the fewer bits a hint has room for: a coded file's address as its first
    /// sector and (9 bits of) length; `u64::MAX` (which no hint takes) for a longer block.
    fn hint_of(&self, id: u64) -> u64 {
        if self.first_block_sector == 0 {
            return id;
        }
        match Extent::from_address(id) {
            Some(e) if e.sectors < 1 << 9 => e.first << 9 | e.sectors,
            _ => u64::MAX,
        }
    }

    /// The page id a hint names (see [`Tree::hint_of`]).
    fn id_of_hint(&self, hint: u64) -> u64 {
        if self.first_block_sector == 0 {
            return hint;
        }
        Extent {
            first: hint >> 9,
            sectors: hint & ((1 << 9) - 1),
        }
        .address()
    }

    #[inline]
    fn check_id(&self, id: u64) -> Result<()> {
        let inside = if self.first_block_sector == 0 {
            (2..self.file_units).contains(&id)
        } else {
            Extent::from_address(id)
                .is_some_and(|e| e.first >= self.first_block_sector && e.end() <= self.file_units)
        };
        if !inside {
            return Err(self.pager.corrupt(match self.pager.coding() {
                None => format!(
                    "reference to page {id}, outside the tree's {} pages",
                    self.file_units
                ),
                Some(_) => format!(
                    "reference to block {id:#x}, outside the file's {} sectors",
                    self.file_units
                ),
            }));
        }
        Ok(())
    }

    /// The bytes of a key or value stored in an overflow chain.
    pub fn read_overflow(&self, first: PagePtr, len: u64) -> Result<Vec<u8>> {
        self.pager.read_overflow(
            PageSource::MapOrCache(self.map.as_deref()),
            first,
            len,
            self.file_units,
            |_| {},
        )
    }

    /// `key` compared with the key stored in an overflow chain.
    pub fn cmp_overflow_key(&self, key: &[u8], first: PagePtr, len: u64) -> Result<Ordering> {
        Ok(key.cmp(&self.read_overflow(first, len)?))
    }

    pub fn view<'p>(&self, page: &'p [u8], id: u64) -> Result<NodeView<'p>> {
        NodeView::new(page).ok_or_else(|| {
            self.pager
                .corrupt(format!("page {id} is not a well-formed node"))
        })
    }

    /// The child of branch `view` whose range holds `key`, and its position.
    pub fn child_for(&self, view: &NodeView<'_>, id: u64, key: &[u8]) -> Result<(PagePtr, usize)> {
        let (idx, exact) = view.lower_bound(
            key,
            |first, len| self.cmp_overflow_key(key, first, len),
            || self.pager.corrupt(format!("page {id}: malformed entry")),
        )?;
        let pos = idx + usize::from(exact);
        let child = view
            .child_at(pos)
            .ok_or_else(|| self.pager.corrupt(format!("page {id}: malformed child")))?;
        Ok((child, pos))
    }

    /// Calls `f` with the leaf whose range holds `key` (its id and view); `None` if the tree is
    /// empty.
    fn with_leaf<R>(
        &self,
        key: &[u8],
        f: impl FnOnce(PagePtr, &NodeView<'_>) -> Result<R>,
    ) -> Result<Option<R>> {
        if self.root.id == 0 {
            return Ok(None);
        }
        let mut ptr = self.root;
        for _ in 0..MAX_DEPTH {
            let page = self.page(ptr)?;
            let view = self.view(&page, ptr.id)?;
            if view.is_leaf() {
                return f(ptr, &view).map(Some);
            }
            ptr = self.child_for(&view, ptr.id, key)?.0;
        }
        Err(self.pager.corrupt("tree deeper than 64 levels (a cycle?)"))
    }

    /// Calls `f` with the leaf (its id and view) holding `key` and the index of `key`'s entry in
    /// it, if the tree holds `key`: straight through the key's hint when it has a good one, else
    /// down from the root, leaving a hint for next time.
    fn with_entry<R>(
        &self,
        key: &[u8],
        f: impl FnOnce(PagePtr, &NodeView<'_>, usize) -> Result<R>,
    ) -> Result<Option<R>> {
        // The key's hash, if this read looks for a hint (and leaves one).
        let hash = (self.hints.enabled() && hints::should_look())
            .then(|| key_hash(crate::batch::DEFAULT_KEYSPACE, key));
        if let Some(hash) = hash {
            if let Some(hint) = self.hints.get(hash) {
                // A hint names its page by id alone, without the check a coded file's reads
                // need: a coded file's hinted page is taken only from the cache, which holds
                // what was written or checked there (and this tree's pages are not rewritten
                // while it lives).
                let ptr = PagePtr::plain(self.id_of_hint(hint.page));
                let page = if self.first_block_sector == 0 {
                    Some(self.page(ptr)?)
                } else {
                    self.pager.cached(ptr.id).map(PageRef::Cached)
                };
                if let Some(view) = page
                    .as_deref()
                    .and_then(NodeView::new)
                    .filter(|v| holds(v, hint.index, key))
                {
                    hints::looked(true);
                    return f(ptr, &view, hint.index).map(Some);
                }
            }
            hints::looked(false);
        }
        let found = self.with_leaf(key, |ptr, view| {
            let (index, exact) = view.lower_bound(
                key,
                |first, len| self.cmp_overflow_key(key, first, len),
                || {
                    self.pager
                        .corrupt(format!("page {}: malformed entry", ptr.id))
                },
            )?;
            if !exact {
                return Ok(None);
            }
            if let Some(hash) = hash {
                self.hints.put(
                    hash,
                    Hint {
                        page: self.hint_of(ptr.id),
                        index,
                    },
                );
            }
            f(ptr, view, index).map(Some)
        })?;
        Ok(found.flatten())
    }

    /// Calls `f` with the value stored for `key`, if any.
    pub fn get_with<R>(&self, key: &[u8], f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>> {
        self.with_entry(key, |ptr, view, index| {
            let value = view.value_at(index).ok_or_else(|| {
                self.pager
                    .corrupt(format!("page {}: malformed entry", ptr.id))
            })?;
            Ok(match value {
                Stored::Inline(v) => f(v),
                Stored::Overflow { first, len } => f(&self.read_overflow(first, len)?),
            })
        })
    }

    /// The value stored for `key`, if any, left in its page when it is stored inline.
    pub fn get_in_page(&self, key: &[u8]) -> Result<Option<FoundValue>> {
        let Some((ptr, index)) = self.with_entry(key, |ptr, _, index| Ok((ptr, index)))? else {
            return Ok(None);
        };
        // Fetched again as a page the value can keep.
        let page = self.owned_page(ptr)?;
        let view = self.view(&page, ptr.id)?;
        let value = view.value_at(index).ok_or_else(|| {
            self.pager
                .corrupt(format!("page {}: malformed entry", ptr.id))
        })?;
        Ok(Some(match value {
            Stored::Inline(v) => {
                let start = v.as_ptr() as usize - page.as_ptr() as usize;
                let len = v.len();
                FoundValue::InPage {
                    page: page.clone(),
                    start,
                    len,
                }
            }
            Stored::Overflow { first, len } => {
                FoundValue::Assembled(self.read_overflow(first, len)?)
            }
        }))
    }
}

/// Whether entry `index` of node `view` is a leaf entry of `key` (stored inline): what a hint must
/// name to be followed.
fn holds(view: &NodeView<'_>, index: usize, key: &[u8]) -> bool {
    view.is_leaf() && view.key_at(index) == Some(Stored::Inline(key))
}

/// Where [`Tree::get_in_page`] found a value.
pub(crate) enum FoundValue {
    /// Inline in `page`, at `start..start + len`.
    InPage {
        page: OwnedPage,
        start: usize,
        len: usize,
    },
    /// Stored across overflow pages, and assembled into one buffer.
    Assembled(Vec<u8>),
}
