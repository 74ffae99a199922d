//! [`Engine`]: the state below the public handle (LevelDB's `DBImpl`), and the checks every path
//! makes on it (closed? failed?).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::commit::{CommitQueue, WriterState};
use super::conflicts::ConflictTracker;
use super::counters::Counters;
use super::merge::{MergeSignal, MergeState};
use super::version::Version;
use crate::btree::pager::Pager;
use crate::durability::Durability;
use crate::error::{Error, Result};
use crate::locks::{Condvar, Mutex};
use crate::options::Options;
use crate::storage::Storage;

/// The engine: everything the public handle, its snapshots and transactions, the commit leader
/// and the merge thread share. [`Database`](crate::Database) holds it in an `Arc`.
pub(crate) struct Engine {
    pub path: PathBuf,
    pub wal_dir: PathBuf,
    /// How this open writes WAL payloads (from the `compression` option).
    pub wal_coding: crate::wal::PayloadCoding,
    pub options: Options,
    pub storage: Arc<dyn Storage>,
    pub pager: Arc<Pager>,
    /// The current version; readers load it without locking.
    pub version: ArcSwap<Version>,
    /// Serializes version swaps (the commit leader's freeze, the merge's install).
    pub version_install: Mutex<()>,
    /// Every sequence number ≤ this is fully in the memtables: what a new read sees.
    pub visible_seq: AtomicU64,
    /// Writers waiting for the group commit, and whether a leader is at work (`commit.rs`).
    pub queue: Mutex<CommitQueue>,
    pub queue_cond: Condvar,
    /// Wakes a sync group's leader gathering the writers of the last group (`commit.rs`).
    pub gather_cond: Condvar,
    /// The WAL and the next sequence number: held by the commit leader only.
    pub writer: Mutex<WriterState>,
    /// The allocator, the current meta page and the published trees: held by a merge.
    pub merge: Mutex<MergeState>,
    /// Wakes the merge thread (`merge.rs`).
    pub merge_signal: Mutex<MergeSignal>,
    pub merge_cond: Condvar,
    /// Set when an I/O error left the in-memory state unsure: writes then fail until reopened.
    pub failure: Mutex<Option<Error>>,
    pub failed: AtomicBool,
    pub closed: AtomicBool,
    pub counters: Counters,
    /// What transactions wrote and read, for optimistic conflict checks at commit.
    pub conflicts: Mutex<ConflictTracker>,
    /// Transactions open now (read-only ones included), bounded by `max_active_transactions`.
    pub open_transactions: AtomicUsize,
    /// Whether a bulk load is open (`bulk_load.rs`): it is then the only writer. Changed under
    /// the writer lock, which is where writes check it.
    pub bulk_load_open: AtomicBool,
    /// The fork generation it was opened at (`fork.rs`): in a forked child it differs, and the
    /// engine is the parent's.
    pub fork_generation: u64,
}

impl Engine {
    /// Records the first background or WAL failure; later writes return it.
    pub fn fail(&self, error: &Error) {
        let mut failure = self.failure.lock();
        if failure.is_none() {
            *failure = Some(Error::new(
                error.code(),
                format!(
                    "{} (the database accepts no more writes; close and reopen it)",
                    error.message()
                ),
            ));
        }
        self.failed.store(true, Ordering::Release);
    }

    /// Runs `f`, the work of `what` (the commit leader, a merge, ...), so that a panic inside it
    /// (a bug) becomes a recorded failure with code `INTERNAL` instead of unwinding through the
    /// engine: later writes fail with it, reads keep working, `stats()` shows it, and the caller
    /// goes on to release what it holds (the commit queue's leader flag, its waiters).
    pub fn catch_panic<T>(&self, what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
            let error = Error::internal(format!("a panic in {what}: {}", panic_message(&*payload)));
            self.fail(&error);
            Err(error)
        })
    }

    /// `Err(CLOSED)` once the database was closed, or in a child forked after it was opened.
    #[inline]
    pub fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::closed());
        }
        crate::fork::check_not_inherited(self.fork_generation)?;
        Ok(())
    }

    /// Whether this process is a child forked after the engine was opened: the engine is then
    /// the parent's, its threads do not exist here, and its files must not be touched.
    #[inline]
    pub fn inherited_by_fork(&self) -> bool {
        self.fork_generation != crate::fork::generation()
    }

    /// `Err` if writes are no longer accepted.
    pub fn check_writable(&self) -> Result<()> {
        self.check_open()?;
        if self.failed.load(Ordering::Acquire) {
            if let Some(e) = self.failure.lock().clone() {
                return Err(e);
            }
        }
        Ok(())
    }

    /// `Err(BUSY)` while a bulk load is open: it is the database's only writer until it commits
    /// or is dropped. (Waiting instead would hang a thread that writes while it holds the load.)
    pub fn check_no_bulk_load(&self) -> Result<()> {
        if self.bulk_load_open.load(Ordering::Acquire) {
            return Err(Error::new(
                crate::error::ErrorCode::Busy,
                "a bulk load is open: it is the only writer until it commits or is dropped",
            ));
        }
        Ok(())
    }

    /// The durability of writes that do not choose one: option `sync`.
    pub fn default_durability(&self) -> Durability {
        if self.options.sync {
            Durability::Sync
        } else {
            Durability::Buffered
        }
    }

    /// The current version and the sequence number it is complete up to.
    pub fn read_view(&self) -> (Arc<Version>, u64) {
        // Load the sequence first: every entry ≤ it is in this version or a newer one.
        let seq = self.visible_seq.load(Ordering::Acquire);
        (self.version.load_full(), seq)
    }
}

/// The message a panic was raised with, for the `INTERNAL` error that reports it.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_string())
}
