//! [`Transaction`]: reads from one snapshot, buffered writes, and an optimistic conflict check at
//! commit (see `engine/conflicts.rs`).

use std::sync::Arc;

use super::options::{Isolation, TransactionOptions};
use crate::batch::WriteBatch;
use crate::durability::Durability;
use crate::engine::{commit, ConflictCheck, Engine, Version};
use crate::error::{Error, ErrorCode, Result};
use crate::iterator::{Cursor, Iter, PendingWrites, SharedCoverage};
use crate::limits::{check_key, check_value_len};
use crate::locks::Mutex;
use crate::pinned::PinnedValue;
use crate::range::Range;

/// What a serializable transaction has read.
#[derive(Default)]
struct ReadSet {
    keys: Vec<Vec<u8>>,
    cursors: Vec<SharedCoverage>,
}

/// A unit of reads and writes that commits atomically, or not at all.
///
/// Reads see the database as of [`begin`](crate::Database::begin), plus the transaction's own
/// writes, which stay private until [`commit`](Transaction::commit). Every method takes `&self`,
/// so iterators can be used while writing; an iterator sees writes made while it moves. Dropping
/// a transaction without committing rolls it back.
///
/// Concurrency is optimistic: nothing is locked, and the commit fails with `CONFLICT` (retryable)
/// if a concurrent commit got in the way; see [`Isolation`].
pub struct Transaction {
    engine: Arc<Engine>,
    version: Arc<Version>,
    start: u64,
    isolation: Isolation,
    durability: Durability,
    read_only: bool,
    writes: PendingWrites,
    /// Recorded only under `Serializable`.
    reads: Mutex<ReadSet>,
    /// Whether the conflict tracker counts this transaction as open (read-write ones only).
    registered: bool,
    committed: bool,
}

impl Transaction {
    /// Begins a transaction; see [`Database::begin_with`](crate::Database::begin_with).
    pub(crate) fn begin(engine: &Arc<Engine>, options: &TransactionOptions) -> Result<Transaction> {
        let registered = !options.read_only;
        let (version, start) = engine.begin_transaction(registered)?;
        // From here on, dropping the transaction undoes the count and the registration.
        Ok(Transaction {
            engine: engine.clone(),
            version,
            start,
            isolation: options.isolation,
            durability: options
                .durability
                .unwrap_or_else(|| engine.default_durability()),
            read_only: options.read_only,
            writes: PendingWrites::default(),
            reads: Mutex::new(ReadSet::default()),
            registered,
            committed: false,
        })
    }

    /// The sequence number of the snapshot this transaction reads.
    pub fn sequence(&self) -> u64 {
        self.start
    }

    /// The isolation level it began with.
    pub fn isolation(&self) -> Isolation {
        self.isolation
    }

    /// Whether it was begun read-only.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The value of `key` as this transaction sees it, or `None`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.get_with(key, <[u8]>::to_vec)
    }

    /// Calls `f` with the value of `key` as this transaction sees it, if present.
    pub fn get_with<R>(&self, key: &[u8], f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>> {
        self.version.check_not_inherited()?;
        check_key(key)?;
        if let Some(pending) = self.writes.lock().get(key) {
            // Its own write: no other commit can change what this read returns.
            return Ok(pending.as_deref().map(f));
        }
        self.note_read(key);
        self.version.get_with(key, self.start, f)
    }

    /// The value of `key` as this transaction sees it, without copying it where it lies in one
    /// piece (its own writes are copied).
    pub fn get_pinned(&self, key: &[u8]) -> Result<Option<PinnedValue>> {
        self.version.check_not_inherited()?;
        check_key(key)?;
        if let Some(pending) = self.writes.lock().get(key) {
            return Ok(pending.clone().map(PinnedValue::owned));
        }
        self.note_read(key);
        self.version.get_pinned(key, self.start)
    }

    /// Remembers a read of `key` from the snapshot, for the serializable check.
    fn note_read(&self, key: &[u8]) {
        if self.isolation == Isolation::Serializable && !self.read_only {
            self.reads.lock().keys.push(key.to_vec());
        }
    }

    /// Whether `key` is present, as this transaction sees it.
    pub fn contains_key(&self, key: &[u8]) -> Result<bool> {
        Ok(self.get_with(key, |_| ())?.is_some())
    }

    /// Sets `key` to `value` when the transaction commits.
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        self.version.check_not_inherited()?;
        self.check_writes()?;
        check_key(key)?;
        check_value_len(value.len())?;
        self.writes
            .lock()
            .insert(key.to_vec(), Some(value.to_vec()));
        Ok(())
    }

    /// Removes `key` when the transaction commits (absent keys are fine).
    pub fn delete(&self, key: &[u8]) -> Result<()> {
        self.version.check_not_inherited()?;
        self.check_writes()?;
        check_key(key)?;
        self.writes.lock().insert(key.to_vec(), None);
        Ok(())
    }

    fn check_writes(&self) -> Result<()> {
        if self.read_only {
            return Err(Error::new(
                ErrorCode::ReadOnly,
                "this transaction is read-only; begin a read-write one to write",
            ));
        }
        Ok(())
    }

    /// A cursor over `range`: the snapshot with this transaction's writes over it.
    pub fn cursor(&self, range: Range) -> Cursor {
        let pending = (!self.read_only).then(|| self.writes.clone());
        let coverage = (self.isolation == Isolation::Serializable && !self.read_only).then(|| {
            let coverage = SharedCoverage::default();
            self.reads.lock().cursors.push(coverage.clone());
            coverage
        });
        Cursor::in_transaction(self.version.clone(), self.start, range, pending, coverage)
    }

    /// An iterator over `range` (in its direction): the snapshot with this transaction's writes
    /// over it.
    pub fn iter(&self, range: Range) -> Iter {
        Iter::new(self.cursor(range))
    }

    /// Makes the writes visible to everyone, atomically and with the transaction's durability.
    /// Fails with `CONFLICT` if a concurrent commit got in the way (see [`Isolation`]); the
    /// transaction is then rolled back and may be run again.
    pub fn commit(mut self) -> Result<()> {
        let result = self.commit_inner();
        if result.is_ok() {
            self.committed = true;
        }
        result
    }

    fn commit_inner(&self) -> Result<()> {
        let writes = std::mem::take(&mut *self.writes.lock());
        if writes.is_empty() {
            // Only reads, all from one snapshot: consistent, whatever committed since.
            return self.engine.check_writable();
        }
        let mut batch = WriteBatch::new();
        for (key, value) in &writes {
            match value {
                Some(value) => batch.put(key, value),
                None => batch.delete(key),
            };
        }
        let check = self.conflict_check();
        commit::write_checked(&self.engine, &batch, self.durability, Some(check))
    }

    fn conflict_check(&self) -> ConflictCheck {
        let mut check = ConflictCheck {
            start: self.start,
            ..ConflictCheck::default()
        };
        if self.isolation == Isolation::Serializable {
            let reads = std::mem::take(&mut *self.reads.lock());
            check.read_keys = reads.keys;
            check.read_ranges = reads
                .cursors
                .iter()
                .filter_map(|c| c.lock().clone())
                .collect();
        }
        check
    }

    /// Discards the writes. Dropping the transaction does the same.
    pub fn rollback(self) {}
}

impl Drop for Transaction {
    fn drop(&mut self) {
        self.engine
            .end_transaction(self.start, self.registered, self.committed);
    }
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("sequence", &self.start)
            .field("isolation", &self.isolation)
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}
