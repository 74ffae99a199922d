//! [`PinnedValue`]: a value read without copying it, kept alive by what holds its bytes.

use std::sync::Arc;

use crate::btree::pager::OwnedPage;
use crate::btree::tree::{FoundValue, Tree};
use crate::memtable::MemCursor;

/// A value returned by `get_pinned`. Where the value lies in memory as one piece — in a memtable,
/// or inline in a tree page — it is not copied: the handle keeps that memory (the memtable, or
/// the tree version whose page it is) alive until it drops. A value stored across overflow pages is
/// assembled once into a buffer the handle owns. Dereferences to `&[u8]`.
pub struct PinnedValue(Pinned);

enum Pinned {
    /// Inline in a page of `_tree`, which keeps the page from being reused.
    Page {
        _tree: Arc<Tree>,
        page: OwnedPage,
        start: usize,
        len: usize,
    },
    /// In a memtable, at the entry the cursor is on (a put).
    Memtable(MemCursor),
    Owned(Vec<u8>),
}

impl PinnedValue {
    /// A value `tree` found: kept in its page (and the page kept from reuse by `tree`), or owned.
    pub(crate) fn from_tree(tree: Arc<Tree>, found: FoundValue) -> Self {
        match found {
            FoundValue::InPage { page, start, len } => {
                debug_assert!(start + len <= page.len());
                PinnedValue(Pinned::Page {
                    _tree: tree,
                    page,
                    start,
                    len,
                })
            }
            FoundValue::Assembled(bytes) => PinnedValue::owned(bytes),
        }
    }

    /// The value of the put `found` is at.
    pub(crate) fn in_memtable(found: MemCursor) -> Self {
        debug_assert!(found.value().is_some());
        PinnedValue(Pinned::Memtable(found))
    }

    pub(crate) fn owned(bytes: Vec<u8>) -> Self {
        PinnedValue(Pinned::Owned(bytes))
    }
}

impl std::ops::Deref for PinnedValue {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.0 {
            Pinned::Page {
                page, start, len, ..
            } => &page[*start..*start + *len],
            Pinned::Memtable(found) => found.value().unwrap_or(&[]),
            Pinned::Owned(bytes) => bytes,
        }
    }
}

impl AsRef<[u8]> for PinnedValue {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl std::fmt::Debug for PinnedValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinnedValue")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}
