//! The background merge: writes frozen memtables into the tree copy-on-write, flips the meta page,
//! publishes the new version, retires WAL segments, and recycles pages no reader can reach.

use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use crate::btree::alloc::Allocator;
use crate::btree::freelist::write_freelist;
use crate::btree::meta::Meta;
use crate::btree::tree::Tree;
use crate::btree::writer::{Mutation, TreeWriter};
use crate::db::Shared;
use crate::error::{IoContext, Result};
use crate::memtable::{MemValue, Memtable};
use crate::stats::{Counters, Stats};
use crate::version::Version;
use crate::wal::{parse_segment_file_name, segment_path};

/// What only the merge touches.
pub(crate) struct MergeState {
    pub alloc: Allocator,
    /// The meta page of the current tree.
    pub meta: Meta,
    /// The pages of the current freelist chain: freed by the next merge.
    pub freelist_pages: Vec<u64>,
    /// Every tree published, while someone may still hold it.
    pub trees: Vec<Weak<Tree>>,
    /// Memtables merged into the tree, while someone may still hold them.
    pub retired_memtables: Vec<Weak<Memtable>>,
}

#[derive(Default)]
pub(crate) struct MergeSignal {
    pub work: bool,
    pub stop: bool,
}

/// Wakes the merge thread.
pub(crate) fn wake(shared: &Shared) {
    shared.merge_signal.lock().work = true;
    shared.merge_cond.notify_all();
}

/// Asks the merge thread to exit.
pub(crate) fn stop(shared: &Shared) {
    shared.merge_signal.lock().stop = true;
    shared.merge_cond.notify_all();
}

/// The merge thread's loop.
pub(crate) fn run(shared: &Arc<Shared>) {
    loop {
        {
            let mut signal = shared.merge_signal.lock();
            while !signal.work && !signal.stop {
                signal = shared.merge_cond.wait(signal);
            }
            if signal.stop {
                return;
            }
            signal.work = false;
        }
        if shared.failed.load(Ordering::Acquire) {
            continue;
        }
        if let Err(e) = merge_all(shared) {
            shared.fail(&e);
        }
    }
}

/// Merges until no frozen memtable is left.
pub(crate) fn merge_all(shared: &Shared) -> Result<()> {
    loop {
        if let Some(e) = shared.failure.lock().clone() {
            return Err(e);
        }
        if !merge_once(shared)? {
            return Ok(());
        }
    }
}

/// Merges every frozen memtable of the current version; returns whether there were any.
fn merge_once(shared: &Shared) -> Result<bool> {
    merge_locked(shared, None)
}

/// Writes a large batch straight into the tree, together with (and newer than) every frozen
/// memtable; the meta page flip commits it. The caller has frozen the active memtable and holds
/// the commit leader's lock. `run` is sorted, one mutation per key; its last sequence is `last_seq`.
pub(crate) fn merge_batch(shared: &Shared, run: &[Mutation<'_>], last_seq: u64) -> Result<()> {
    merge_locked(shared, Some((run, last_seq))).map(|_| ())
}

/// Takes the merge lock and merges the frozen memtables (and `newest`, if given); returns whether
/// there was anything to merge.
fn merge_locked(shared: &Shared, newest: Option<(&[Mutation<'_>], u64)>) -> Result<bool> {
    let mut state = shared.merge.lock();
    // Check again under the lock: a merge on another thread (the merge thread, or `flush`/`close`)
    // may have failed while this one waited, leaving the allocator out of step with the file.
    // Merging on from that state would double-free or leak pages.
    if let Some(e) = shared.failure.lock().clone() {
        return Err(e);
    }
    let version = shared.version.load_full();
    let frozen: Vec<Arc<Memtable>> = version.frozen().to_vec();
    if frozen.is_empty() && newest.is_none() {
        return Ok(false);
    }
    let result = merge_frozen(shared, &mut state, &version, &frozen, newest);
    if let Err(e) = &result {
        // The allocator may now disagree with the file: stop writing until reopened.
        shared.fail(e);
    }
    result.map(|_| true)
}

fn merge_frozen(
    shared: &Shared,
    state: &mut MergeState,
    version: &Version,
    frozen: &[Arc<Memtable>],
    newest: Option<(&[Mutation<'_>], u64)>,
) -> Result<()> {
    let pager = &shared.pager;
    // Pages freed by older merges may be reusable now that their readers are gone.
    state.trees.retain(|t| t.strong_count() > 0);
    let oldest_live = state
        .trees
        .iter()
        .filter_map(Weak::upgrade)
        .map(|t| t.generation)
        .min()
        .unwrap_or(state.meta.generation);
    state.alloc.release(oldest_live);

    // Borrow every key and value straight from the memtables: no copies.
    let holders: Vec<_> = frozen.iter().map(|m| m.newest_entries()).collect();
    let mut runs: Vec<Cow<'_, [Mutation<'_>]>> = Vec::with_capacity(holders.len() + 1);
    if let Some((run, _)) = newest {
        runs.push(Cow::Borrowed(run));
    }
    for entries in &holders {
        runs.push(Cow::Owned(
            entries
                .iter()
                .map(|e| Mutation {
                    key: &e.key().key,
                    value: match e.value() {
                        MemValue::Put(v) => Some(&v[..]),
                        MemValue::Delete => None,
                    },
                })
                .collect(),
        ));
    }
    let muts = merge_runs(runs);
    let last_seq = frozen
        .iter()
        .map(|m| m.max_seq())
        .chain(newest.map(|(_, seq)| seq))
        .fold(state.meta.last_seq, u64::max);

    let generation = state.meta.generation + 1;
    let mut writer = TreeWriter::new(&version.tree, &mut state.alloc);
    let root = writer.apply(&muts)?;
    let mut freed = std::mem::take(&mut writer.freed);
    let entry_delta = writer.entry_delta;
    freed.append(&mut state.freelist_pages);
    state.alloc.free_later(generation, freed);
    state.alloc.shrink_tail();
    let (freelist_head, free_pages, chain) = write_freelist(pager, &mut state.alloc)?;
    pager.sync()?;

    let meta = Meta {
        generation,
        root,
        entries: state.meta.entries.saturating_add_signed(entry_delta),
        page_count: state.alloc.page_count(),
        freelist_head,
        free_pages,
        last_seq,
        // Everything older than the oldest memtable not merged is in the tree now.
        wal_start_segment: version.active().first_segment(),
    };
    pager.write_meta(&meta)?;
    let file_pages = pager.file_len()? / pager.page_size() as u64;
    if file_pages > meta.page_count {
        pager.truncate(meta.page_count)?;
    }
    state.meta = meta;
    state.freelist_pages = chain;

    let tree = Arc::new(Tree {
        pager: pager.clone(),
        root,
        generation,
        page_count: meta.page_count,
        map: pager.mapping_for(meta.page_count)?,
    });
    state.trees.push(Arc::downgrade(&tree));
    state.retired_memtables.retain(|m| m.strong_count() > 0);
    state
        .retired_memtables
        .extend(frozen.iter().map(Arc::downgrade));
    {
        let _install = shared.version_install.lock();
        let current = shared.version.load_full();
        let memtables = current
            .memtables
            .iter()
            .filter(|m| !frozen.iter().any(|f| Arc::ptr_eq(f, m)))
            .cloned()
            .collect();
        shared.version.store(Arc::new(Version { memtables, tree }));
    }
    Counters::add(&shared.counters.merges, 1);
    Counters::add(&shared.counters.merged_entries, muts.len() as u64);
    remove_old_segments(shared, meta.wal_start_segment)
}

/// Merges sorted runs (newest first) into one, keeping the newest mutation of each key.
fn merge_runs<'a>(mut runs: Vec<Cow<'a, [Mutation<'a>]>>) -> Cow<'a, [Mutation<'a>]> {
    if runs.len() <= 1 {
        return runs.pop().unwrap_or_default();
    }
    let mut out = Vec::with_capacity(runs.iter().map(|r| r.len()).max().unwrap_or(0));
    let mut pos = vec![0usize; runs.len()];
    loop {
        let mut best: Option<usize> = None;
        for (i, run) in runs.iter().enumerate() {
            if let Some(m) = run.get(pos[i]) {
                if best.is_none_or(|b| m.key < runs[b][pos[b]].key) {
                    best = Some(i);
                }
            }
        }
        let Some(b) = best else { break };
        let winner = runs[b][pos[b]];
        for (i, run) in runs.iter().enumerate() {
            if run.get(pos[i]).is_some_and(|m| m.key == winner.key) {
                pos[i] += 1;
            }
        }
        out.push(winner);
    }
    Cow::Owned(out)
}

/// Deletes WAL segments before `first_kept`: their records are all in the tree.
fn remove_old_segments(shared: &Shared, first_kept: u64) -> Result<()> {
    let names = shared
        .storage
        .list(&shared.wal_dir)
        .ctx("list", &shared.wal_dir)?;
    for name in names {
        if let Some(n) = parse_segment_file_name(&name) {
            if n < first_kept {
                let path = segment_path(&shared.wal_dir, n);
                shared.storage.remove(&path).ctx("remove", &path)?;
            }
        }
    }
    Ok(())
}

/// Gathers the counters and sizes for `Database::stats`.
pub(crate) fn stats(shared: &Shared) -> Stats {
    let c = &shared.counters;
    let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let version = shared.version.load_full();
    let cache = shared.pager.cache_stats();
    let (meta, live_trees, pinned, pinned_memtables) = {
        let state = shared.merge.lock();
        let live = state.trees.iter().filter(|t| t.strong_count() > 0).count();
        let memtables: Vec<Arc<Memtable>> = state
            .retired_memtables
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        (state.meta, live, state.alloc.pending_count(), memtables)
    };
    let (conflict_keys, conflict_bytes, oldest_transaction) = {
        let conflicts = shared.conflicts.lock();
        let (keys, bytes) = conflicts.footprint();
        (keys, bytes, conflicts.oldest_start())
    };
    let wal_file_bytes = shared
        .storage
        .list(&shared.wal_dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|n| parse_segment_file_name(n).is_some())
        .filter_map(|n| {
            shared
                .storage
                .open(&shared.wal_dir.join(n), crate::storage::OpenMode::Existing)
                .and_then(|f| f.len())
                .ok()
        })
        .sum();
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
        file_pages: meta.page_count,
        free_pages: meta.free_pages,
        file_bytes: meta.page_count * shared.pager.page_size() as u64,
        wal_file_bytes,
        pages_read: load(&shared.pager.counters.pages_read),
        pages_written: load(&shared.pager.counters.pages_written),
        live_tree_versions: live_trees as u64,
        pinned_pages: pinned as u64,
        pinned_memtables: pinned_memtables.len() as u64,
        pinned_memtable_bytes: pinned_memtables
            .iter()
            .map(|m| m.approximate_bytes() as u64)
            .sum(),
        open_transactions: shared.open_transactions.load(Ordering::Acquire) as u64,
        oldest_transaction_sequence: oldest_transaction.unwrap_or(0),
        conflict_keys,
        conflict_bytes,
        transactions_committed: load(&c.transactions_committed),
        transactions_rolled_back: load(&c.transactions_rolled_back),
        transaction_conflicts: load(&c.transaction_conflicts),
        last_sequence: shared.visible_seq.load(Ordering::Acquire),
        background_error: shared.failure.lock().as_ref().map(|e| e.to_string()),
    }
}
