//! The background merge: writes frozen memtables into the tree copy-on-write, flips the meta page,
//! publishes the new version, retires WAL segments, and recycles pages no reader can reach.

use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;

use super::compact;
use super::counters::Counters;
use super::generation::{publish, release_unreachable, NextTree};
use super::state::Engine;
use super::version::Version;
use crate::btree::alloc::Allocator;
use crate::btree::meta::Meta;
use crate::btree::tree::Tree;
use crate::btree::writer::{Mutation, TreeWriter};
use crate::error::{Error, ErrorCode, IoContext, Result};
use crate::memtable::Memtable;
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
pub(crate) fn wake(engine: &Engine) {
    engine.merge_signal.lock().work = true;
    engine.merge_cond.notify_all();
}

/// Asks the merge thread to exit.
pub(crate) fn stop(engine: &Engine) {
    engine.merge_signal.lock().stop = true;
    engine.merge_cond.notify_all();
}

/// Starts the merge thread.
pub(crate) fn spawn(engine: Arc<Engine>) -> Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("lightning-merge".into())
        .spawn(move || run(&engine))
        .map_err(|e| Error::new(ErrorCode::Io, format!("cannot start the merge thread: {e}")))
}

/// The merge thread's loop.
fn run(engine: &Arc<Engine>) {
    loop {
        {
            let mut signal = engine.merge_signal.lock();
            while !signal.work && !signal.stop {
                signal = engine.merge_cond.wait(signal);
            }
            if signal.stop {
                return;
            }
            signal.work = false;
        }
        if engine.failed.load(Ordering::Acquire) {
            continue;
        }
        if let Err(e) = merge_all(engine) {
            engine.fail(&e);
        }
    }
}

/// Merges until no frozen memtable is left.
pub(crate) fn merge_all(engine: &Engine) -> Result<()> {
    loop {
        if let Some(e) = engine.failure.lock().clone() {
            return Err(e);
        }
        if !merge_once(engine)? {
            return Ok(());
        }
    }
}

/// Merges every frozen memtable of the current version; returns whether there were any.
fn merge_once(engine: &Engine) -> Result<bool> {
    merge_locked(engine, None)
}

/// Writes a large batch straight into the tree, together with (and newer than) every frozen
/// memtable; the meta page flip commits it. The caller has frozen the active memtable and holds
/// the commit leader's lock. `run` is sorted, one mutation per key; its last sequence is `last_seq`.
pub(crate) fn merge_batch(engine: &Engine, run: &[Mutation<'_>], last_seq: u64) -> Result<()> {
    merge_locked(engine, Some((run, last_seq))).map(|_| ())
}

/// Takes the merge lock and merges the frozen memtables (and `newest`, if given); returns whether
/// there was anything to merge.
fn merge_locked(engine: &Engine, newest: Option<(&[Mutation<'_>], u64)>) -> Result<bool> {
    let mut state = engine.merge.lock();
    // Check again under the lock: a merge on another thread (the merge thread, or `flush`/`close`)
    // may have failed while this one waited, leaving the allocator out of step with the file.
    // Merging on from that state would double-free or leak pages.
    if let Some(e) = engine.failure.lock().clone() {
        return Err(e);
    }
    let version = engine.version.load_full();
    let frozen: Vec<Arc<Memtable>> = version.frozen().to_vec();
    if frozen.is_empty() && newest.is_none() {
        return Ok(false);
    }
    let result = engine.catch_panic("a merge", || {
        // The merge lets go of the version it merged into, so that compaction can reuse its pages.
        let surplus = merge_frozen(engine, &mut state, version, &frozen, newest)?;
        compact::after_merge(engine, &mut state, surplus)
    });
    if let Err(e) = &result {
        // The allocator may now disagree with the file: stop writing until reopened.
        engine.fail(e);
    }
    result.map(|_| true)
}

/// Merges and publishes; returns how many more pages the merge freed than it wrote.
fn merge_frozen(
    engine: &Engine,
    state: &mut MergeState,
    version: Arc<Version>,
    frozen: &[Arc<Memtable>],
    newest: Option<(&[Mutation<'_>], u64)>,
) -> Result<u64> {
    // Pages freed by older merges may be reusable now that their readers are gone.
    release_unreachable(state);

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
                    key: e.key(),
                    value: e.value(),
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

    let allocated_before = state.alloc.allocated();
    let mut writer = TreeWriter::new(&version.tree, &mut state.alloc);
    let root = writer.apply(&muts)?;
    let freed = writer.freed.len() as u64;
    let next = NextTree {
        root,
        freed: std::mem::take(&mut writer.freed),
        entry_delta: writer.entry_delta,
        last_seq,
        // Everything older than the oldest memtable not merged is in the tree now.
        wal_start_segment: version.active().first_segment(),
    };
    publish(engine, state, next, frozen)?;
    let allocated = state.alloc.allocated() - allocated_before;
    Counters::add(&engine.counters.merges, 1);
    Counters::add(&engine.counters.merged_entries, muts.len() as u64);
    remove_old_segments(engine, state.meta.wal_start_segment)?;
    Ok(freed.saturating_sub(allocated))
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
fn remove_old_segments(engine: &Engine, first_kept: u64) -> Result<()> {
    let names = engine
        .storage
        .list(&engine.wal_dir)
        .ctx("list", &engine.wal_dir)?;
    let mut removed = false;
    for name in names {
        if let Some(n) = parse_segment_file_name(&name) {
            if n < first_kept {
                let path = segment_path(&engine.wal_dir, n);
                engine.storage.remove(&path).ctx("remove", &path)?;
                removed = true;
            }
        }
    }
    if removed {
        // Not needed for correctness (recovery removes segments the meta page no longer names),
        // but a removal that a power loss undoes brings back files the next open must clean.
        let dir = &engine.wal_dir;
        engine.storage.sync_dir(dir).ctx("sync directory", dir)?;
    }
    Ok(())
}
