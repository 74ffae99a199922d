//! [`Source`]: one of the sorted inputs a cursor merges — a transaction's pending writes, a
//! memtable, or the tree — each presenting per key only its newest version visible at the
//! snapshot.

use std::collections::VecDeque;
use std::sync::Arc;

use super::pending::{seek_pending, PendingWrites};
use crate::batch::DEFAULT_KEYSPACE;
use crate::btree::cursor::TreeCursor;
use crate::error::Result;
use crate::memtable::{MemValue, Memtable};

/// Keys a memtable source reads ahead per walk when moving forward.
const READ_AHEAD: usize = 16;

pub(super) enum Source {
    /// A transaction's uncommitted writes, newest of all; read live, so the cursor sees writes
    /// the transaction makes while it moves.
    Pending {
        writes: PendingWrites,
        current: Option<(Vec<u8>, Option<Vec<u8>>)>,
    },
    Mem {
        table: Arc<Memtable>,
        current: Option<(Box<[u8]>, MemValue)>,
        /// The next keys forward, read ahead in one walk (`Memtable::next_visible`); emptied
        /// by any seek and by a step backward.
        ahead: VecDeque<(Box<[u8]>, MemValue)>,
    },
    Tree(TreeCursor),
}

impl Source {
    #[inline]
    pub(super) fn key(&self) -> Option<&[u8]> {
        match self {
            Source::Pending { current, .. } => current.as_ref().map(|(k, _)| &**k),
            Source::Mem { current, .. } => current.as_ref().map(|(k, _)| &**k),
            Source::Tree(c) => c.valid().then(|| c.key()),
        }
    }

    #[inline]
    pub(super) fn is_tombstone(&self) -> bool {
        matches!(
            self,
            Source::Mem {
                current: Some((_, MemValue::Delete)),
                ..
            } | Source::Pending {
                current: Some((_, None)),
                ..
            }
        )
    }

    pub(super) fn seek_ge(&mut self, key: &[u8], inclusive: bool, snapshot: u64) -> Result<()> {
        match self {
            Source::Pending { writes, current } => {
                *current = seek_pending(writes, Some(key), inclusive, true);
            }
            Source::Mem {
                table,
                current,
                ahead,
            } => {
                ahead.clear();
                *current = table.seek_forward(DEFAULT_KEYSPACE, key, inclusive, snapshot);
            }
            Source::Tree(c) => {
                c.seek_ge(key)?;
                if !inclusive && c.valid() && c.key() == key {
                    c.next()?;
                }
            }
        }
        Ok(())
    }

    pub(super) fn seek_le(
        &mut self,
        key: Option<&[u8]>,
        inclusive: bool,
        snapshot: u64,
    ) -> Result<()> {
        match self {
            Source::Pending { writes, current } => {
                *current = seek_pending(writes, key, inclusive, false);
            }
            Source::Mem {
                table,
                current,
                ahead,
            } => {
                ahead.clear();
                *current = table.seek_backward(DEFAULT_KEYSPACE, key, inclusive, snapshot);
            }
            Source::Tree(c) => match key {
                None => c.seek_last()?,
                Some(key) => {
                    c.seek_le(key)?;
                    if !inclusive && c.valid() && c.key() == key {
                        c.prev()?;
                    }
                }
            },
        }
        Ok(())
    }

    pub(super) fn first(&mut self, snapshot: u64) -> Result<()> {
        match self {
            Source::Tree(c) => c.seek_first(),
            _ => self.seek_ge(&[], true, snapshot),
        }
    }

    #[inline]
    pub(super) fn advance(&mut self, forward: bool, snapshot: u64) -> Result<()> {
        match self {
            Source::Tree(c) => {
                if forward {
                    c.next()
                } else {
                    c.prev()
                }
            }
            Source::Mem {
                table,
                current,
                ahead,
            } => {
                if let Some((key, _)) = current.take() {
                    *current = if forward {
                        if ahead.is_empty() {
                            table.next_visible(DEFAULT_KEYSPACE, &key, snapshot, READ_AHEAD, ahead);
                        }
                        ahead.pop_front()
                    } else {
                        ahead.clear();
                        table.seek_backward(DEFAULT_KEYSPACE, Some(&key), false, snapshot)
                    };
                }
                Ok(())
            }
            Source::Pending { writes, current } => {
                if let Some((key, _)) = current.take() {
                    *current = seek_pending(writes, Some(&key), false, forward);
                }
                Ok(())
            }
        }
    }
}
