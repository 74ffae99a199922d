//! [`Source`]: one of the sorted inputs a cursor merges — a transaction's pending writes, a
//! memtable, or the tree — each presenting per key only its newest version visible at the
//! snapshot.

use super::pending::{seek_pending, PendingWrites};
use crate::btree::cursor::TreeCursor;
use crate::error::Result;
use crate::memtable::MemCursor;

pub(super) enum Source {
    /// A transaction's uncommitted writes, newest of all; read live, so the cursor sees writes
    /// the transaction makes while it moves.
    Pending {
        writes: PendingWrites,
        current: Option<(Vec<u8>, Option<Vec<u8>>)>,
    },
    Mem(MemCursor),
    Tree(TreeCursor),
}

impl Source {
    #[inline]
    pub(super) fn key(&self) -> Option<&[u8]> {
        match self {
            Source::Pending { current, .. } => current.as_ref().map(|(k, _)| &**k),
            Source::Mem(c) => c.key(),
            Source::Tree(c) => c.valid().then(|| c.key()),
        }
    }

    #[inline]
    pub(super) fn is_tombstone(&self) -> bool {
        match self {
            Source::Mem(c) => c.is_tombstone(),
            Source::Pending { current, .. } => matches!(current, Some((_, None))),
            Source::Tree(_) => false,
        }
    }

    pub(super) fn seek_ge(&mut self, key: &[u8], inclusive: bool) -> Result<()> {
        match self {
            Source::Pending { writes, current } => {
                *current = seek_pending(writes, Some(key), inclusive, true);
            }
            Source::Mem(c) => c.seek_ge(key, inclusive),
            Source::Tree(c) => {
                c.seek_ge(key)?;
                if !inclusive && c.valid() && c.key() == key {
                    c.next()?;
                }
            }
        }
        Ok(())
    }

    pub(super) fn seek_le(&mut self, key: Option<&[u8]>, inclusive: bool) -> Result<()> {
        match self {
            Source::Pending { writes, current } => {
                *current = seek_pending(writes, key, inclusive, false);
            }
            Source::Mem(c) => c.seek_le(key, inclusive),
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

    pub(super) fn first(&mut self) -> Result<()> {
        match self {
            Source::Tree(c) => c.seek_first(),
            _ => self.seek_ge(&[], true),
        }
    }

    #[inline]
    pub(super) fn advance(&mut self, forward: bool) -> Result<()> {
        match self {
            Source::Tree(c) => {
                if forward {
                    c.next()
                } else {
                    c.prev()
                }
            }
            Source::Mem(c) => {
                if forward {
                    c.next();
                } else {
                    c.prev();
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
