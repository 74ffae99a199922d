//! [`BulkLoad`]: sorted pairs written straight into the tree, atomically, with memory bounded by
//! a chunk however many pairs come (LMDB's append mode, fjall's ingestion, RocksDB's file
//! ingestion do the same job).
//!
//! A load is the database's only writer from its start to its commit: other writes fail with
//! `BUSY` meanwhile (waiting instead would hang a thread that writes while it holds the load),
//! and readers go on seeing the tree as it was. At the start the memtables are merged, so the
//! tree is the whole database. Pairs are buffered into chunks of [`CHUNK_BYTES`]; each chunk is
//! merged copy-on-write into a tree of the load's own, rooted beside the published one and never
//! visible: a sorted run into an empty or append-only range is built bottom-up, page after page,
//! and one into existing keys replaces them. The commit publishes that tree with a meta page
//! flip (durable, atomic, like a merge's); a load dropped before it gives its pages back. Nothing
//! goes through the WAL or the memtable: the data is written once.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::commit;
use super::counters::Counters;
use super::generation::{publish, NextTree};
use super::merge;
use super::state::Engine;
use crate::btree::node::PagePtr;
use crate::btree::tree::Tree;
use crate::btree::writer::{Mutation, TreeWriter};
use crate::error::{Error, ErrorCode, Result};
use crate::limits::{check_key, check_value_len};

/// Buffered pair bytes that make a chunk: large enough that the right edge each chunk rewrites
/// (a leaf and a branch per level) is a small share of what it writes.
const CHUNK_BYTES: usize = 8 << 20;

/// A bulk load in progress, from [`Database::bulk_load`](crate::Database::bulk_load). Put pairs
/// in strictly ascending key order, then [`commit`](BulkLoad::commit); dropping it uncommitted
/// abandons everything it was given.
pub struct BulkLoad {
    engine: Arc<Engine>,
    /// Keys and values of the chunk being gathered, back to back.
    data: Vec<u8>,
    /// For each buffered pair, where its key ends and where its value ends in `data`.
    ends: Vec<(usize, usize)>,
    /// The first key put, and the last (what the next must sort after).
    first_key: Option<Vec<u8>>,
    last_key: Vec<u8>,
    /// Pairs put so far.
    len: u64,
    /// The root of the load's tree (0 = empty), and the generation of the published tree it
    /// started from.
    root: PagePtr,
    base_generation: u64,
    /// Pages of the trees before this one that the load's tree no longer references.
    freed: Vec<u64>,
    entry_delta: i64,
    /// Every page the load wrote: reusable again if it is abandoned.
    written: Vec<u64>,
    /// The error that stopped the load: later calls return it.
    error: Option<Error>,
    /// Committed (or never started): nothing to give back on drop.
    finished: bool,
}

impl BulkLoad {
    /// Starts a load: waits for the memtables to be merged into the tree. `BUSY` if another load
    /// is open.
    pub(crate) fn begin(engine: &Arc<Engine>) -> Result<BulkLoad> {
        {
            let mut writer = engine.writer.lock();
            engine.check_writable()?;
            if engine.bulk_load_open.load(Ordering::Acquire) {
                return Err(Error::new(ErrorCode::Busy, "another bulk load is open"));
            }
            // Everything committed so far goes under the load.
            if !engine.version.load().active().is_empty() {
                engine.catch_panic("a freeze", || commit::freeze(engine, &mut writer))?;
            }
            engine.bulk_load_open.store(true, Ordering::Release);
        }
        // From here on the flag goes down with `load`, whatever happens.
        let mut load = BulkLoad {
            engine: engine.clone(),
            data: Vec::new(),
            ends: Vec::new(),
            first_key: None,
            last_key: Vec::new(),
            len: 0,
            root: PagePtr::default(),
            base_generation: 0,
            freed: Vec::new(),
            entry_delta: 0,
            written: Vec::new(),
            error: None,
            finished: false,
        };
        merge::merge_all(engine)?;
        let state = engine.merge.lock();
        let version = engine.version.load_full();
        if !version.active().is_empty() || !version.frozen().is_empty() {
            return Err(Error::internal(
                "a memtable filled while a bulk load was starting",
            ));
        }
        load.root = version.tree.root;
        // The meta page's generation, which may be ahead of the tree's: an open of an encrypted
        // database, or a rekey, writes a meta page naming the same tree.
        load.base_generation = state.meta.generation;
        drop(state);
        Ok(load)
    }

    /// Adds a pair. Its key must sort after the previous one's (`INVALID_ARGUMENT` otherwise);
    /// it replaces a value the key has in the database.
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.check_usable()?;
        check_key(key)?;
        check_value_len(value.len())?;
        if self.first_key.is_none() {
            self.first_key = Some(key.to_vec());
        } else if key <= self.last_key.as_slice() {
            return Err(Error::invalid_argument(format!(
                "bulk load keys must be strictly ascending: \"{}\" does not sort after \"{}\"",
                shown(key),
                shown(&self.last_key),
            )));
        }
        self.last_key.clear();
        self.last_key.extend_from_slice(key);
        self.data.extend_from_slice(key);
        let key_end = self.data.len();
        self.data.extend_from_slice(value);
        self.ends.push((key_end, self.data.len()));
        self.len += 1;
        if self.data.len() >= CHUNK_BYTES {
            self.write_chunk()?;
        }
        Ok(())
    }

    /// Pairs put so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no pair was put yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Makes every pair put durable and visible at once (one meta page flip), and lets other
    /// writers in again.
    pub fn commit(mut self) -> Result<()> {
        self.check_usable()?;
        self.write_chunk()?;
        let engine = self.engine.clone();
        let mut writer = engine.writer.lock();
        engine.check_writable()?;
        let Some(first_key) = self.first_key.take() else {
            self.finished = true;
            engine.bulk_load_open.store(false, Ordering::Release);
            return Ok(());
        };
        let seq = writer.next_seq;
        {
            // Recorded before the tree install makes the load readable; see `assign_sequences`.
            let mut conflicts = engine.conflicts.lock();
            let recording = conflicts.recording();
            if recording {
                conflicts.record_span(&first_key, &self.last_key, seq);
            }
            conflicts.assigned(seq, recording);
        }
        let result = engine.catch_panic("a bulk load's commit", || {
            let mut state = engine.merge.lock();
            self.check_base(state.meta.generation)?;
            let version = engine.version.load_full();
            let next = NextTree {
                root: self.root,
                freed: std::mem::take(&mut self.freed),
                entry_delta: self.entry_delta,
                last_seq: seq,
                wal_start_segment: version.active().first_segment(),
            };
            publish(&engine, &mut state, next, &[])
        });
        if let Err(e) = result {
            // The allocator may disagree with the file, as after a failed merge.
            engine.fail(&e);
            return Err(e);
        }
        self.finished = true;
        writer.next_seq = seq + 1;
        engine.visible_seq.store(seq, Ordering::Release);
        engine.bulk_load_open.store(false, Ordering::Release);
        Counters::add(&engine.counters.puts, self.len);
        Counters::add(&engine.counters.batches, 1);
        Ok(())
    }

    /// `Err` once the load failed or the database closed.
    fn check_usable(&self) -> Result<()> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        self.engine.check_writable()
    }

    /// `INTERNAL` if the published tree is not the one the load started from: nothing may
    /// publish while a load is open.
    fn check_base(&self, generation: u64) -> Result<()> {
        if generation != self.base_generation {
            return Err(Error::internal(format!(
                "the tree changed under a bulk load (generation {generation}, started at {})",
                self.base_generation
            )));
        }
        Ok(())
    }

    /// Merges the buffered pairs into the load's tree.
    fn write_chunk(&mut self) -> Result<()> {
        if self.ends.is_empty() {
            return Ok(());
        }
        let mut data = std::mem::take(&mut self.data);
        let mut ends = std::mem::take(&mut self.ends);
        let result = self.merge_run(&data, &ends);
        // Keep the buffers' room for the next chunk.
        data.clear();
        ends.clear();
        self.data = data;
        self.ends = ends;
        if let Err(e) = &result {
            self.error = Some(e.clone());
        }
        result
    }

    /// Merges the pairs in `data` (ending where `ends` say) into the load's tree.
    fn merge_run(&mut self, data: &[u8], ends: &[(usize, usize)]) -> Result<()> {
        let engine = self.engine.clone();
        let mut start = 0;
        let run: Vec<Mutation<'_>> = ends
            .iter()
            .map(|&(key_end, value_end)| {
                let m = Mutation {
                    key: &data[start..key_end],
                    value: Some(&data[key_end..value_end]),
                };
                start = value_end;
                m
            })
            .collect();
        engine.catch_panic("a bulk load", || {
            let mut state = engine.merge.lock();
            self.check_base(state.meta.generation)?;
            let pager = engine.pager.clone();
            let file_units = state.alloc.file_units();
            let map = pager.mapping_for(file_units)?;
            let tree = Tree::new(pager, self.root, self.base_generation, file_units, map);
            state.alloc.start_recording();
            let mut writer = TreeWriter::new(&tree, &mut state.alloc);
            let applied = writer.apply(&run);
            let freed = std::mem::take(&mut writer.freed);
            let entry_delta = writer.entry_delta;
            self.written.extend(state.alloc.take_recording());
            self.root = applied?;
            self.freed.extend(freed);
            self.entry_delta += entry_delta;
            Ok(())
        })
    }
}

/// A key for an error message: its first bytes, escaped.
fn shown(key: &[u8]) -> String {
    const SHOWN: usize = 40;
    let mut text = key[..key.len().min(SHOWN)].escape_ascii().to_string();
    if key.len() > SHOWN {
        text.push_str("...");
    }
    text
}

impl Drop for BulkLoad {
    /// Abandons an uncommitted load: its pages become reusable (no tree ever referenced them, and
    /// no meta page on disk does), and other writers may write again.
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        self.engine
            .merge
            .lock()
            .alloc
            .reuse_now(std::mem::take(&mut self.written));
        let _writer = self.engine.writer.lock();
        self.engine.bulk_load_open.store(false, Ordering::Release);
    }
}

impl std::fmt::Debug for BulkLoad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkLoad")
            .field("len", &self.len)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}
