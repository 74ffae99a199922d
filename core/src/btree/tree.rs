//! [`Tree`]: one immutable, published version of the B+tree, and point lookups in it.

use std::cmp::Ordering;
use std::sync::Arc;

use super::node::{NodeView, Stored};
use super::pager::{MappedFile, OwnedPage, PageRef, PageSource, Pager};
use crate::error::Result;

/// A tree as of one merge generation. Its pages are never overwritten while a `Tree` that reaches
/// them is alive, so readers need no locks.
pub(crate) struct Tree {
    pub pager: Arc<Pager>,
    /// Root page id; 0 means the tree is empty.
    pub root: u64,
    pub generation: u64,
    /// Pages in the file when this tree was published: every page it reaches is below.
    pub page_count: u64,
    pub map: Option<Arc<MappedFile>>,
}

/// Deepest tree a lookup will descend; deeper means a cycle in corrupt pages.
const MAX_DEPTH: usize = 64;

impl Tree {
    pub fn page(&self, id: u64) -> Result<PageRef<'_>> {
        self.check_id(id)?;
        self.pager.page(self.map.as_deref(), id)
    }

    pub fn owned_page(&self, id: u64) -> Result<OwnedPage> {
        self.check_id(id)?;
        self.pager.owned_page(self.map.as_ref(), id)
    }

    fn check_id(&self, id: u64) -> Result<()> {
        if id < 2 || id >= self.page_count {
            return Err(self.pager.corrupt(format!(
                "reference to page {id}, outside the tree's {} pages",
                self.page_count
            )));
        }
        Ok(())
    }

    /// The bytes of a key or value stored in an overflow chain.
    pub fn read_overflow(&self, first: u64, len: u64) -> Result<Vec<u8>> {
        self.pager.read_overflow(
            PageSource::MapOrCache(self.map.as_deref()),
            first,
            len,
            self.page_count,
            |_| {},
        )
    }

    /// `key` compared with the key stored in an overflow chain.
    pub fn cmp_overflow_key(&self, key: &[u8], first: u64, len: u64) -> Result<Ordering> {
        Ok(key.cmp(&self.read_overflow(first, len)?))
    }

    pub fn view<'p>(&self, page: &'p [u8], id: u64) -> Result<NodeView<'p>> {
        NodeView::new(page).ok_or_else(|| {
            self.pager
                .corrupt(format!("page {id} is not a well-formed node"))
        })
    }

    /// The child of branch `view` whose range holds `key`, and its position.
    pub fn child_for(&self, view: &NodeView<'_>, id: u64, key: &[u8]) -> Result<(u64, usize)> {
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
        f: impl FnOnce(u64, &NodeView<'_>) -> Result<R>,
    ) -> Result<Option<R>> {
        if self.root == 0 {
            return Ok(None);
        }
        let mut id = self.root;
        for _ in 0..MAX_DEPTH {
            let page = self.page(id)?;
            let view = self.view(&page, id)?;
            if view.is_leaf() {
                return f(id, &view).map(Some);
            }
            id = self.child_for(&view, id, key)?.0;
        }
        Err(self.pager.corrupt("tree deeper than 64 levels (a cycle?)"))
    }

    /// The stored form of `key`'s value in leaf `view` (page `id`), if the leaf holds `key`.
    fn find_in_leaf<'p>(
        &self,
        view: &NodeView<'p>,
        id: u64,
        key: &[u8],
    ) -> Result<Option<Stored<'p>>> {
        let (idx, exact) = view.lower_bound(
            key,
            |first, len| self.cmp_overflow_key(key, first, len),
            || self.pager.corrupt(format!("page {id}: malformed entry")),
        )?;
        if !exact {
            return Ok(None);
        }
        let entry = view
            .entry(idx)
            .ok_or_else(|| self.pager.corrupt(format!("page {id}: malformed entry")))?;
        Ok(Some(entry.value))
    }

    /// Calls `f` with the value stored for `key`, if any.
    pub fn get_with<R>(&self, key: &[u8], f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>> {
        let found = self.with_leaf(key, |id, view| {
            Ok(match self.find_in_leaf(view, id, key)? {
                None => None,
                Some(Stored::Inline(v)) => Some(f(v)),
                Some(Stored::Overflow { first_page, len }) => {
                    Some(f(&self.read_overflow(first_page, len)?))
                }
            })
        })?;
        Ok(found.flatten())
    }

    /// The value stored for `key`, if any, left in its page when it is stored inline.
    pub fn get_in_page(&self, key: &[u8]) -> Result<Option<FoundValue>> {
        let Some(id) = self.with_leaf(key, |id, _| Ok(id))? else {
            return Ok(None);
        };
        // Fetched again as a page the value can keep.
        let page = self.owned_page(id)?;
        let view = self.view(&page, id)?;
        Ok(match self.find_in_leaf(&view, id, key)? {
            None => None,
            Some(Stored::Inline(v)) => {
                let start = v.as_ptr() as usize - page.as_ptr() as usize;
                let len = v.len();
                Some(FoundValue::InPage {
                    page: page.clone(),
                    start,
                    len,
                })
            }
            Some(Stored::Overflow { first_page, len }) => {
                Some(FoundValue::Assembled(self.read_overflow(first_page, len)?))
            }
        })
    }
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
