//! [`Version`]: the memtables and tree a read sees, swapped atomically as a whole.

use std::sync::Arc;

use crate::btree::tree::Tree;
use crate::error::Result;
use crate::memtable::{MemCursor, Memtable};
use crate::pinned::PinnedValue;

/// An immutable view of the database's state. A reader holds one plus a sequence number; that is
/// all MVCC needs: newer memtable entries are filtered by sequence, and the tree it points at is
/// never overwritten while the version is alive.
pub(crate) struct Version {
    /// Newest first; `memtables[0]` is the active one, the rest are frozen and wait for the merge.
    pub memtables: Vec<Arc<Memtable>>,
    pub tree: Arc<Tree>,
    /// The fork generation of the process that made it (`fork.rs`): a reader in a forked child
    /// holds the parent's view and answers `CLOSED`.
    pub fork_generation: u64,
}

impl Version {
    /// `Err(CLOSED)` in a child forked after this version was made.
    #[inline]
    pub fn check_not_inherited(&self) -> Result<()> {
        crate::fork::check_not_inherited(self.fork_generation)
    }

    pub fn active(&self) -> &Arc<Memtable> {
        &self.memtables[0]
    }

    pub fn frozen(&self) -> &[Arc<Memtable>] {
        &self.memtables[1..]
    }

    /// Calls `f` with the newest value of `key` visible at `snapshot`; `Ok(None)` if absent.
    pub fn get_with<R>(
        &self,
        key: &[u8],
        snapshot: u64,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<Option<R>> {
        let mut f = Some(f);
        for table in &self.memtables {
            if table.is_empty() {
                continue;
            }
            let found = table.get_with(crate::batch::DEFAULT_KEYSPACE, key, snapshot, |v| {
                v.map(|v| (f.take().unwrap())(v))
            });
            if let Some(result) = found {
                return Ok(result);
            }
        }
        self.tree.get_with(key, f.take().unwrap())
    }

    /// The newest value of `key` visible at `snapshot`, without copying it where it lies in one
    /// piece.
    pub fn get_pinned(&self, key: &[u8], snapshot: u64) -> Result<Option<PinnedValue>> {
        for table in &self.memtables {
            if table.is_empty() {
                continue;
            }
            let keyspace = crate::batch::DEFAULT_KEYSPACE;
            if let Some(found) = MemCursor::at_key(table.clone(), keyspace, key, snapshot) {
                return Ok((!found.is_tombstone()).then(|| PinnedValue::in_memtable(found)));
            }
        }
        let found = self.tree.get_in_page(key)?;
        Ok(found.map(|found| PinnedValue::from_tree(self.tree.clone(), found)))
    }
}
