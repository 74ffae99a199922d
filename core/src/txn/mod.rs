//! [`Transaction`]: reads from one snapshot, buffered writes, and an optimistic conflict check at
//! commit (see `conflicts`).

pub(crate) mod conflicts;
pub(crate) mod coverage;
mod retry;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::locks::Mutex;

use crate::batch::WriteBatch;
use crate::db::{Durability, Shared};
use crate::error::{Error, ErrorCode, Result};
use crate::iterator::{Cursor, Iter};
use crate::limits::{check_key, check_value_len};
use crate::pinned::PinnedValue;
use crate::range::Range;
use crate::stats::Counters;
use crate::version::Version;
use conflicts::ConflictCheck;
use coverage::SharedCoverage;

pub(crate) use retry::run_with_retries;

/// A transaction's uncommitted writes: key → value, or `None` for a delete. Cursors read it live.
pub(crate) type PendingWrites = Arc<Mutex<BTreeMap<Vec<u8>, Option<Vec<u8>>>>>;

/// How strictly a transaction is kept apart from concurrent ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Isolation {
    /// Reads see the snapshot taken when the transaction began; the commit fails if another
    /// commit since then wrote a key this one writes (no lost updates). Write skew is possible.
    #[default]
    Snapshot,
    /// As `Snapshot`, and the commit also fails if another commit since the transaction began
    /// wrote a key it read, or a key inside a range its iterators covered (phantoms included).
    /// Committed transactions are then equivalent to running one at a time, in commit order.
    Serializable,
}

/// How to begin a transaction: a builder with the defaults of [`TransactionOptions::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionOptions {
    read_only: bool,
    isolation: Isolation,
    durability: Option<Durability>,
    max_retries: u32,
}

impl Default for TransactionOptions {
    fn default() -> TransactionOptions {
        TransactionOptions::new()
    }
}

impl TransactionOptions {
    /// Read-write, snapshot isolation, the database's default durability (option `sync`), and
    /// 16 retries in [`Database::transaction_with`](crate::Database::transaction_with).
    pub fn new() -> TransactionOptions {
        TransactionOptions {
            read_only: false,
            isolation: Isolation::Snapshot,
            durability: None,
            max_retries: 16,
        }
    }

    /// A read-only transaction never conflicts; writing in it fails with `READ_ONLY`.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// The isolation level (default [`Isolation::Snapshot`]).
    pub fn isolation(mut self, isolation: Isolation) -> Self {
        self.isolation = isolation;
        self
    }

    /// How durable the commit is when it returns (default: the database's option `sync`).
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = Some(durability);
        self
    }

    /// How many times the retry helper runs the closure again after a conflict (default 16).
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    pub(crate) fn retries(&self) -> u32 {
        self.max_retries
    }
}

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
    shared: Arc<Shared>,
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
    pub(crate) fn begin(shared: &Arc<Shared>, options: &TransactionOptions) -> Result<Transaction> {
        if shared.closed.load(Ordering::Acquire) {
            return Err(Error::closed());
        }
        let limit = shared.options.max_active_transactions as usize;
        if shared.open_transactions.fetch_add(1, Ordering::AcqRel) >= limit {
            shared.open_transactions.fetch_sub(1, Ordering::AcqRel);
            return Err(Error::new(
                ErrorCode::Busy,
                format!(
                    "{limit} transactions are open, the limit set by option \
                     max_active_transactions; commit or roll back one first"
                ),
            ));
        }
        let view = if options.read_only {
            Ok(shared.read_view())
        } else {
            registered_view(shared)
        };
        let (version, start) = match view {
            Ok(view) => view,
            Err(e) => {
                shared.open_transactions.fetch_sub(1, Ordering::AcqRel);
                return Err(e);
            }
        };
        // From here on, dropping the transaction undoes the count and the registration.
        Ok(Transaction {
            shared: shared.clone(),
            version,
            start,
            isolation: options.isolation,
            durability: options
                .durability
                .unwrap_or_else(|| shared.default_durability()),
            read_only: options.read_only,
            writes: PendingWrites::default(),
            reads: Mutex::new(ReadSet::default()),
            registered: !options.read_only,
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
            return self.shared.check_writable();
        }
        let mut batch = WriteBatch::new();
        for (key, value) in &writes {
            match value {
                Some(value) => batch.put(key, value),
                None => batch.delete(key),
            };
        }
        let check = self.conflict_check();
        crate::commit::write_checked(&self.shared, &batch, self.durability, Some(check))
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

/// The view a read-write transaction reads, registered with the conflict tracker at a snapshot
/// no unrecorded write is newer than.
fn registered_view(shared: &Shared) -> Result<(Arc<Version>, u64)> {
    let mut waited = 0u32;
    loop {
        shared.check_writable()?;
        {
            let mut conflicts = shared.conflicts.lock();
            let (version, start) = shared.read_view();
            if conflicts.begin(start) {
                return Ok((version, start));
            }
        }
        // A write made while no transaction was open is still on its way into the memtable (at
        // most one group commit): wait for it to become visible.
        waited += 1;
        if waited < 64 {
            std::thread::yield_now();
        } else {
            std::thread::sleep(std::time::Duration::from_micros(50));
        }
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if self.registered {
            self.shared.conflicts.lock().end(self.start);
        }
        self.shared.open_transactions.fetch_sub(1, Ordering::AcqRel);
        let counter = if self.committed {
            &self.shared.counters.transactions_committed
        } else {
            &self.shared.counters.transactions_rolled_back
        };
        Counters::add(counter, 1);
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
