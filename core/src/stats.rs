//! [`Stats`]: counters and sizes that `Database::stats()` reports, and gathering them from the
//! engine.

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use crate::engine::Engine;
use crate::memtable::Memtable;
use crate::storage::OpenMode;
use crate::wal::parse_segment_file_name;

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
    /// Blocks (a coded file's pages, overflow values and free lists) and WAL records written
    /// since open, by how they were stored: as they were, LZ4, Zstandard, Snappy (plain files'
    /// pages and a WAL at `compression = none` are not counted).
    pub codec_none_blocks: u64,
    pub codec_lz4_blocks: u64,
    pub codec_zstd_blocks: u64,
    pub codec_snappy_blocks: u64,
    /// The bytes those took, by codec.
    pub codec_none_bytes: u64,
    pub codec_lz4_bytes: u64,
    pub codec_zstd_bytes: u64,
    pub codec_snappy_bytes: u64,
    /// Bytes compression saved over all of them (before less after).
    pub compression_saved_bytes: u64,
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
            ("codec_none_blocks", self.codec_none_blocks),
            ("codec_lz4_blocks", self.codec_lz4_blocks),
            ("codec_zstd_blocks", self.codec_zstd_blocks),
            ("codec_snappy_blocks", self.codec_snappy_blocks),
            ("codec_none_bytes", self.codec_none_bytes),
            ("codec_lz4_bytes", self.codec_lz4_bytes),
            ("codec_zstd_bytes", self.codec_zstd_bytes),
            ("codec_snappy_bytes", self.codec_snappy_bytes),
            ("compression_saved_bytes", self.compression_saved_bytes),
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

impl Stats {
    /// Reads the engine's counters and sizes, for `Database::stats`.
    pub(crate) fn gather(engine: &Engine) -> Stats {
        let c = &engine.counters;
        let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        let version = engine.version.load_full();
        let cache = engine.pager.cache_stats();
        let (meta, live_trees, pinned, pinned_memtables) = {
            let state = engine.merge.lock();
            let live = state.trees.iter().filter(|t| t.strong_count() > 0).count();
            let memtables: Vec<Arc<Memtable>> = state
                .retired_memtables
                .iter()
                .filter_map(Weak::upgrade)
                .collect();
            (state.meta, live, state.alloc.pending_count(), memtables)
        };
        let (conflict_keys, conflict_bytes, oldest_transaction) = {
            let conflicts = engine.conflicts.lock();
            let (keys, bytes) = conflicts.footprint();
            (keys, bytes, conflicts.oldest_start())
        };
        let wal_file_bytes = engine
            .storage
            .list(&engine.wal_dir)
            .unwrap_or_default()
            .into_iter()
            .filter(|n| parse_segment_file_name(n).is_some())
            .filter_map(|n| {
                engine
                    .storage
                    .open(&engine.wal_dir.join(n), OpenMode::Existing)
                    .and_then(|f| f.len())
                    .ok()
            })
            .sum();
        let codecs = engine.pager.counters.codecs.totals();
        Stats {
            puts: load(&c.puts),
            deletes: load(&c.deletes),
            gets: c.gets.get(),
            batches: load(&c.batches),
            commit_groups: load(&c.commit_groups),
            wal_syncs: load(&c.wal_syncs),
            wal_bytes: load(&c.wal_bytes),
            cache_hits: cache.hits,
            cache_misses: cache.misses,
            cache_bytes: cache.used_bytes,
            cache_capacity: cache.capacity_bytes,
            memtable_bytes: version.active().approximate_bytes() as u64,
            frozen_memtables: version.frozen().len() as u64,
            frozen_bytes: version
                .frozen()
                .iter()
                .map(|m| m.approximate_bytes() as u64)
                .sum(),
            merges: load(&c.merges),
            merged_entries: load(&c.merged_entries),
            write_stalls: load(&c.write_stalls),
            write_stall_micros: load(&c.write_stall_micros),
            tree_keys: meta.entries,
            // A coded file counts sectors: given here in pages' worth of bytes.
            file_pages: meta.file_units * engine.pager.unit_bytes()
                / engine.pager.page_size() as u64,
            free_pages: meta.free_units * engine.pager.unit_bytes()
                / engine.pager.page_size() as u64,
            file_bytes: meta.file_units * engine.pager.unit_bytes(),
            wal_file_bytes,
            pages_read: load(&engine.pager.counters.pages_read),
            pages_written: load(&engine.pager.counters.pages_written),
            live_tree_versions: live_trees as u64,
            pinned_pages: pinned as u64,
            pinned_memtables: pinned_memtables.len() as u64,
            pinned_memtable_bytes: pinned_memtables
                .iter()
                .map(|m| m.approximate_bytes() as u64)
                .sum(),
            open_transactions: engine.open_transactions.load(Ordering::Acquire) as u64,
            oldest_transaction_sequence: oldest_transaction.unwrap_or(0),
            conflict_keys,
            conflict_bytes,
            transactions_committed: load(&c.transactions_committed),
            transactions_rolled_back: load(&c.transactions_rolled_back),
            transaction_conflicts: load(&c.transaction_conflicts),
            last_sequence: engine.visible_seq.load(Ordering::Acquire),
            codec_none_blocks: codecs.blocks[0],
            codec_lz4_blocks: codecs.blocks[1],
            codec_zstd_blocks: codecs.blocks[2],
            codec_snappy_blocks: codecs.blocks[3],
            codec_none_bytes: codecs.stored_bytes[0],
            codec_lz4_bytes: codecs.stored_bytes[1],
            codec_zstd_bytes: codecs.stored_bytes[2],
            codec_snappy_bytes: codecs.stored_bytes[3],
            compression_saved_bytes: codecs.saved_bytes,
            background_error: engine.failure.lock().as_ref().map(|e| e.to_string()),
        }
    }
}
