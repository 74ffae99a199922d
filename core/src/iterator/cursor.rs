//! [`Cursor`]: ordered reads over the sources of one version as of one sequence number, merged:
//! the smallest (or, backwards, largest) key wins, a newer source wins a tie, and a tombstone hides
//! the key.

use std::ops::Bound;
use std::sync::Arc;

use super::coverage::{self, SharedCoverage};
use super::pending::PendingWrites;
use super::source::Source;
use crate::batch::DEFAULT_KEYSPACE;
use crate::btree::cursor::TreeCursor;
use crate::engine::Version;
use crate::error::Result;
use crate::memtable::MemCursor;
use crate::range::Range;

/// A cursor over a range of keys as of one point in time: seek, then move either way.
///
/// Positioning methods return an error for an I/O failure or corruption; the cursor is then
/// invalid. `key()` and `value()` are valid until the next move.
pub struct Cursor {
    // Keeps the memtables and the tree's pages alive for the cursor's whole life.
    version: Arc<Version>,
    sources: Vec<Source>,
    pub(super) range: Range,
    winner: Option<usize>,
    forward: bool,
    /// Scratch space for a key the sources are moving past.
    key: Vec<u8>,
    /// Where a serializable transaction's cursor records the keys it has read.
    coverage: Option<SharedCoverage>,
}

impl Cursor {
    pub(crate) fn new(version: Arc<Version>, snapshot: u64, range: Range) -> Cursor {
        Cursor::in_transaction(version, snapshot, range, None, None)
    }

    /// A cursor that also sees `pending` writes (over everything else) and records the keys it
    /// reads in `coverage`.
    pub(crate) fn in_transaction(
        version: Arc<Version>,
        snapshot: u64,
        range: Range,
        pending: Option<PendingWrites>,
        coverage: Option<SharedCoverage>,
    ) -> Cursor {
        let pending = pending.map(|writes| Source::Pending {
            writes,
            current: None,
        });
        let memtables = version
            .memtables
            .iter()
            .filter(|m| !m.is_empty())
            .map(|m| Source::Mem(MemCursor::new(m.clone(), DEFAULT_KEYSPACE, snapshot)));
        let tree = Source::Tree(TreeCursor::new(version.tree.clone()));
        // Newest first: a source earlier in the list wins a tie.
        let sources = pending.into_iter().chain(memtables).chain([tree]).collect();
        Cursor {
            version,
            sources,
            range,
            winner: None,
            forward: true,
            key: Vec::new(),
            coverage,
        }
    }

    /// Whether the cursor is at an entry.
    pub fn valid(&self) -> bool {
        self.winner.is_some()
    }

    /// The current key; empty if not `valid()`.
    pub fn key(&self) -> &[u8] {
        self.winner
            .and_then(|w| self.sources[w].key())
            .unwrap_or(&[])
    }

    /// The current value; empty if not `valid()`.
    pub fn value(&mut self) -> Result<&[u8]> {
        let Some(w) = self.winner else {
            return Ok(&[]);
        };
        match &mut self.sources[w] {
            Source::Mem(c) => Ok(c.value().unwrap_or(&[])),
            Source::Pending {
                current: Some((_, Some(v))),
                ..
            } => Ok(v),
            Source::Tree(c) => c.value(),
            _ => Ok(&[]),
        }
    }

    /// Positions at the first key of the range.
    pub fn seek_to_first(&mut self) -> Result<()> {
        self.version.check_not_inherited()?;
        let from = self.coverage.as_ref().and(self.range.start.clone());
        let r = self.seek_to_first_inner();
        self.cover(
            r,
            from.as_deref().map_or(Bound::Unbounded, Bound::Included),
            true,
        )
    }

    fn seek_to_first_inner(&mut self) -> Result<()> {
        match self.range.start.clone() {
            Some(start) => self.seek_inner(&start),
            None => {
                self.forward = true;
                self.each(|s| s.first())?;
                self.settle()
            }
        }
    }

    /// Positions at the last key of the range.
    pub fn seek_to_last(&mut self) -> Result<()> {
        self.version.check_not_inherited()?;
        let r = self.seek_to_last_inner();
        let from = self.coverage.as_ref().and(self.range.end.clone());
        self.cover(
            r,
            from.as_deref().map_or(Bound::Unbounded, Bound::Excluded),
            false,
        )
    }

    fn seek_to_last_inner(&mut self) -> Result<()> {
        self.forward = false;
        let end = self.range.end.clone();
        self.each(|s| s.seek_le(end.as_deref(), false))?;
        self.settle()
    }

    /// Positions at the first key ≥ `key` in the range.
    pub fn seek(&mut self, key: &[u8]) -> Result<()> {
        self.version.check_not_inherited()?;
        let from = match &self.range.start {
            Some(start) if start.as_slice() > key => start.clone(),
            _ => key.to_vec(),
        };
        let r = self.seek_inner(&from);
        self.cover(r, Bound::Included(&from), true)
    }

    fn seek_inner(&mut self, key: &[u8]) -> Result<()> {
        self.forward = true;
        self.each(|s| s.seek_ge(key, true))?;
        self.settle()
    }

    /// Positions at the last key ≤ `key` in the range.
    pub fn seek_for_prev(&mut self, key: &[u8]) -> Result<()> {
        self.version.check_not_inherited()?;
        if self.range.end.as_deref().is_some_and(|end| key >= end) {
            return self.seek_to_last();
        }
        self.forward = false;
        let r = self
            .each(|s| s.seek_le(Some(key), true))
            .and_then(|_| self.settle());
        self.cover(r, Bound::Included(key), false)
    }

    /// Moves to the next key. Does nothing if not `valid()`.
    // A cursor move, named as in every ordered-store cursor API; `Iter` is the std iterator.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<()> {
        self.version.check_not_inherited()?;
        self.step_covered(true)
    }

    /// Moves to the previous key. Does nothing if not `valid()`.
    pub fn prev(&mut self) -> Result<()> {
        self.version.check_not_inherited()?;
        self.step_covered(false)
    }

    fn step_covered(&mut self, forward: bool) -> Result<()> {
        if self.coverage.is_none() {
            return self.step(forward);
        }
        let from = self.valid().then(|| self.key().to_vec());
        let r = self.step(forward);
        match from {
            Some(from) => self.cover(r, Bound::Included(&from), forward),
            None => r,
        }
    }

    /// After a move that started at `from` in direction `forward`, records in the coverage (if
    /// any) every key from `from` to where the cursor stopped: its key, or the end of the range.
    fn cover(&mut self, moved: Result<()>, from: Bound<&[u8]>, forward: bool) -> Result<()> {
        let Some(shared) = &self.coverage else {
            return moved;
        };
        moved?;
        let to = match self.winner.and_then(|w| self.sources[w].key()) {
            Some(key) => Bound::Included(key),
            None if forward => self
                .range
                .end
                .as_deref()
                .map_or(Bound::Unbounded, Bound::Excluded),
            None => self
                .range
                .start
                .as_deref()
                .map_or(Bound::Unbounded, Bound::Included),
        };
        coverage::extend(&mut shared.lock(), from, to, forward);
        Ok(())
    }

    fn step(&mut self, forward: bool) -> Result<()> {
        let Some(w) = self.winner else {
            return Ok(());
        };
        if self.sources.len() == 1 && forward == self.forward {
            // Only the tree (the memtables were empty): nothing to merge, and the tree holds no
            // tombstones.
            let r = self.sources[0].advance(forward);
            r.map_err(|e| self.fail(e))?;
            let in_range = match self.sources[0].key() {
                None => false,
                Some(key) if forward => self.range.end.as_deref().is_none_or(|e| key < e),
                Some(key) => self.range.start.as_deref().is_none_or(|s| key >= s),
            };
            self.winner = in_range.then_some(0);
            return Ok(());
        }
        let mut key = std::mem::take(&mut self.key);
        key.clear();
        key.extend_from_slice(self.sources[w].key().unwrap_or(&[]));
        if forward != self.forward {
            // Re-aim every source just past the current key in the new direction.
            self.forward = forward;
            let r = if forward {
                self.each(|s| s.seek_ge(&key, false))
            } else {
                self.each(|s| s.seek_le(Some(&key), false))
            };
            self.key = key;
            r?;
        } else {
            self.advance_past(key, forward)?;
        }
        self.settle()
    }

    fn fail(&mut self, e: crate::error::Error) -> crate::error::Error {
        self.winner = None;
        e
    }

    /// Moves every source positioned at `key` one step on; `key` is the scratch buffer, returned
    /// to `self.key` afterwards. Pending writes may have changed since the last move, so their
    /// source looks again for the first entry past `key`.
    fn advance_past(&mut self, key: Vec<u8>, forward: bool) -> Result<()> {
        let r = self.each(|s| match s {
            Source::Pending { .. } if forward => s.seek_ge(&key, false),
            Source::Pending { .. } => s.seek_le(Some(&key), false),
            _ if s.key() == Some(&key) => s.advance(forward),
            _ => Ok(()),
        });
        self.key = key;
        r
    }

    /// Applies `f` to every source; on an error the cursor becomes invalid.
    fn each(&mut self, mut f: impl FnMut(&mut Source) -> Result<()>) -> Result<()> {
        for s in &mut self.sources {
            if let Err(e) = f(s) {
                self.winner = None;
                return Err(e);
            }
        }
        Ok(())
    }

    /// Picks the winning source at the sources' positions, skipping tombstones, within the range.
    fn settle(&mut self) -> Result<()> {
        loop {
            let mut best: Option<(usize, &[u8])> = None;
            for (i, s) in self.sources.iter().enumerate() {
                let Some(k) = s.key() else { continue };
                let better = match best {
                    None => true,
                    Some((_, b)) => {
                        if self.forward {
                            k < b
                        } else {
                            k > b
                        }
                    }
                };
                if better {
                    best = Some((i, k));
                }
            }
            let Some((w, key)) = best else {
                self.winner = None;
                return Ok(());
            };
            let in_range = if self.forward {
                self.range.end.as_deref().is_none_or(|e| key < e)
            } else {
                self.range.start.as_deref().is_none_or(|s| key >= s)
            };
            if !in_range {
                self.winner = None;
                return Ok(());
            }
            if !self.sources[w].is_tombstone() {
                self.winner = Some(w);
                return Ok(());
            }
            // A tombstone hides the key: move every source past it.
            let mut key = std::mem::take(&mut self.key);
            key.clear();
            key.extend_from_slice(self.sources[w].key().unwrap_or(&[]));
            self.advance_past(key, self.forward)?;
        }
    }
}
