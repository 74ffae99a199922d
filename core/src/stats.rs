//! [`Stats`]: counters and sizes that `Database::stats()` reports.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// A counter that many threads bump without sharing a cache line: each thread adds to its own
/// stripe, and reading sums them. Used on the read path, where one shared atomic would make
/// every reader thread wait for the same cache line.
#[derive(Default)]
pub(crate) struct StripedCounter {
    stripes: [Stripe; STRIPES],
}

const STRIPES: usize = 16;

#[derive(Default)]
#[repr(align(128))]
struct Stripe(AtomicU64);

impl StripedCounter {
    pub fn add(&self, n: u64) {
        thread_local! {
            static STRIPE: usize = {
                static NEXT: AtomicU64 = AtomicU64::new(0);
                NEXT.fetch_add(1, Ordering::Relaxed) as usize % STRIPES
            };
        }
        let stripe = STRIPE.with(|s| *s);
        self.stripes[stripe].0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.stripes
            .iter()
            .map(|s| s.0.load(Ordering::Relaxed))
            .sum()
    }
}

/// Operation counters, bumped with relaxed atomics.
#[derive(Default)]
pub(crate) struct Counters {
    pub puts: AtomicU64,
    pub deletes: AtomicU64,
    pub gets: StripedCounter,
    pub batches: AtomicU64,
    pub commit_groups: AtomicU64,
    pub wal_syncs: AtomicU64,
    pub wal_bytes: AtomicU64,
    pub merges: AtomicU64,
    pub merged_entries: AtomicU64,
    pub write_stalls: AtomicU64,
    pub write_stall_micros: AtomicU64,
    pub transactions_committed: AtomicU64,
    pub transactions_rolled_back: AtomicU64,
    pub transaction_conflicts: AtomicU64,
}

impl Counters {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// A snapshot of the database's counters and sizes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Puts applied (each op of a batch counts).
    pub puts: u64,
    /// Deletes applied.
    pub deletes: u64,
    /// Point reads.
    pub gets: u64,
    /// Write batches committed (a single put or delete is a batch of one).
    pub batches: u64,
    /// Group commits: WAL writes that carried one or more batches.
    pub commit_groups: u64,
    /// fsyncs of the WAL.
    pub wal_syncs: u64,
    /// Bytes appended to the WAL.
    pub wal_bytes: u64,
    /// Page cache hits and misses (reads through the memory map do not use the cache).
    pub cache_hits: u64,
    pub cache_misses: u64,
    /// Bytes held by the page cache, and its capacity.
    pub cache_bytes: u64,
    pub cache_capacity: u64,
    /// Approximate bytes in the active memtable.
    pub memtable_bytes: u64,
    /// Frozen memtables waiting for the merge, and their bytes: the merge's backlog.
    pub frozen_memtables: u64,
    pub frozen_bytes: u64,
    /// Merges completed, and entries they wrote into the tree.
    pub merges: u64,
    pub merged_entries: u64,
    /// Times writers were slowed because the merge fell behind, and the total delay.
    pub write_stalls: u64,
    pub write_stall_micros: u64,
    /// Keys in the tree (not counting the memtables).
    pub tree_keys: u64,
    /// Pages in the page file, of which free.
    pub file_pages: u64,
    pub free_pages: u64,
    /// Size of the page file and of the WAL segments, in bytes.
    pub file_bytes: u64,
    pub wal_file_bytes: u64,
    /// Pages read from and written to the page file.
    pub pages_read: u64,
    pub pages_written: u64,
    /// Tree versions still held by snapshots or iterators (1 = only the current one); the pages
    /// they pin cannot be reused yet.
    pub live_tree_versions: u64,
    /// Pages freed by merges but still readable by an older snapshot or iterator.
    pub pinned_pages: u64,
    /// Memtables already merged into the tree but still held by a snapshot, iterator or
    /// transaction, and their bytes.
    pub pinned_memtables: u64,
    pub pinned_memtable_bytes: u64,
    /// Transactions open now (read-only ones included).
    pub open_transactions: u64,
    /// Snapshot sequence of the oldest open read-write transaction (0 if none): every write
    /// since it is remembered for conflict checks.
    pub oldest_transaction_sequence: u64,
    /// Keys remembered for conflict checks, and their approximate bytes.
    pub conflict_keys: u64,
    pub conflict_bytes: u64,
    /// Transactions committed, rolled back (or dropped, or failed), and turned away at commit
    /// with `CONFLICT`.
    pub transactions_committed: u64,
    pub transactions_rolled_back: u64,
    pub transaction_conflicts: u64,
    /// The last committed sequence number.
    pub last_sequence: u64,
    /// Why the database stopped accepting writes, if a background error made it do so.
    pub background_error: Option<String>,
}

impl Stats {
    /// Every numeric field as (name, value), in a stable order, for text listings and the C ABI.
    pub fn to_pairs(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("puts", self.puts),
            ("deletes", self.deletes),
            ("gets", self.gets),
            ("batches", self.batches),
            ("commit_groups", self.commit_groups),
            ("wal_syncs", self.wal_syncs),
            ("wal_bytes", self.wal_bytes),
            ("cache_hits", self.cache_hits),
            ("cache_misses", self.cache_misses),
            ("cache_bytes", self.cache_bytes),
            ("cache_capacity", self.cache_capacity),
            ("memtable_bytes", self.memtable_bytes),
            ("frozen_memtables", self.frozen_memtables),
            ("frozen_bytes", self.frozen_bytes),
            ("merges", self.merges),
            ("merged_entries", self.merged_entries),
            ("write_stalls", self.write_stalls),
            ("write_stall_micros", self.write_stall_micros),
            ("tree_keys", self.tree_keys),
            ("file_pages", self.file_pages),
            ("free_pages", self.free_pages),
            ("file_bytes", self.file_bytes),
            ("wal_file_bytes", self.wal_file_bytes),
            ("pages_read", self.pages_read),
            ("pages_written", self.pages_written),
            ("live_tree_versions", self.live_tree_versions),
            ("pinned_pages", self.pinned_pages),
            ("pinned_memtables", self.pinned_memtables),
            ("pinned_memtable_bytes", self.pinned_memtable_bytes),
            ("open_transactions", self.open_transactions),
            (
                "oldest_transaction_sequence",
                self.oldest_transaction_sequence,
            ),
            ("conflict_keys", self.conflict_keys),
            ("conflict_bytes", self.conflict_bytes),
            ("transactions_committed", self.transactions_committed),
            ("transactions_rolled_back", self.transactions_rolled_back),
            ("transaction_conflicts", self.transaction_conflicts),
            ("last_sequence", self.last_sequence),
        ]
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in self.to_pairs() {
            writeln!(f, "{name}={value}")?;
        }
        if let Some(e) = &self.background_error {
            writeln!(f, "background_error={e}")?;
        }
        Ok(())
    }
}
