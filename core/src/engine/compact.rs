//! Giving the page file's free space back while the database stays open: on request
//! ([`Database::compact`](crate::Database::compact)), and by itself after a merge or at close when
//! free pages pass a third of a page file of 64 MiB or more.
//!
//! A pass moves the tree's pages out of the file's tail into free pages nearer its start
//! (`btree/relocate.rs`) and publishes that tree; once no reader holds the tree before it, an
//! empty generation frees the old copies and cuts the file. Both are ordinary generations under
//! the merge lock, so readers and writers go on, and a crash at any point leaves the last durable
//! meta page's tree whole.

use std::sync::atomic::Ordering;

use super::generation::{publish, release_unreachable, NextTree};
use super::merge::MergeState;
use super::state::Engine;
use crate::btree::writer::TreeWriter;
use crate::error::Result;

/// Page files smaller than this are not compacted unless asked.
pub(crate) const AUTO_MIN_FILE_BYTES: u64 = 64 << 20;

/// Passes per compaction: a pass may place a few pages (new branch pages, the freelist) past its
/// boundary when the free pages before it run out; the next one moves them.
const MAX_PASSES: usize = 3;

/// Gives back what it can of the page file's free space; returns the bytes the file shrank by.
/// The caller has merged the memtables, if it wanted them in the tree first.
pub(crate) fn compact(engine: &Engine) -> Result<u64> {
    let mut state = engine.merge.lock();
    if let Some(e) = engine.failure.lock().clone() {
        return Err(e);
    }
    // An open bulk load builds on the current tree's pages: they must stay where they are.
    engine.check_no_bulk_load()?;
    let before = engine.pager.file_len()?;
    compact_guarded(engine, &mut state)?;
    Ok(before.saturating_sub(engine.pager.file_len()?))
}

/// Compacts if free space passed the threshold; called by a merge, under the merge lock, with the
/// pages it freed beyond those it wrote. Pages a merge frees are the next merge's to reuse, so
/// only that surplus counts besides what was already free: a merge that rewrites as much as it
/// frees (updates) does not compact, one that mostly frees (deletes) may.
pub(crate) fn after_merge(engine: &Engine, state: &mut MergeState, surplus: u64) -> Result<()> {
    if worth_compacting(engine, state, surplus) {
        compact_locked(engine, state)?;
    }
    Ok(())
}

/// Compacts if free space passed the threshold; called once the database's last merge is done.
pub(crate) fn at_close(engine: &Engine) -> Result<()> {
    let mut state = engine.merge.lock();
    if engine.failure.lock().is_some() {
        return Ok(());
    }
    release_unreachable(&mut state);
    if worth_compacting(engine, &state, 0) {
        compact_guarded(engine, &mut state)?;
    }
    Ok(())
}

/// [`compact_locked`] outside a merge: a panic becomes an error, and any error stops writes until
/// reopened (the allocator may now disagree with the file).
fn compact_guarded(engine: &Engine, state: &mut MergeState) -> Result<()> {
    let result = engine.catch_panic("a compaction", || compact_locked(engine, state));
    if let Err(e) = &result {
        engine.fail(e);
    }
    result
}

/// Whether free pages (those reusable now, and `surplus` about to be) are over a third of a page
/// file of at least [`AUTO_MIN_FILE_BYTES`], and no bulk load builds on the tree's pages.
fn worth_compacting(engine: &Engine, state: &MergeState, surplus: u64) -> bool {
    if engine.bulk_load_open.load(Ordering::Acquire) {
        return false;
    }
    let pages = state.alloc.file_units();
    let free = state.alloc.reusable_count().saturating_add(surplus);
    pages.saturating_mul(engine.pager.unit_bytes()) >= AUTO_MIN_FILE_BYTES
        && free.saturating_mul(3) > pages
}

fn compact_locked(engine: &Engine, state: &mut MergeState) -> Result<()> {
    for _ in 0..MAX_PASSES {
        let before = state.alloc.file_units();
        release_unreachable(state);
        let boundary = state.alloc.compaction_boundary();
        if boundary < before {
            move_tree_below(engine, state, boundary)?;
        }
        give_back_tail(engine, state)?;
        if state.alloc.file_units() >= before {
            break;
        }
    }
    Ok(())
}

/// Publishes a copy of the tree with no page at or past `boundary`, if it has any there.
fn move_tree_below(engine: &Engine, state: &mut MergeState, boundary: u64) -> Result<()> {
    let version = engine.version.load_full();
    let mut writer = TreeWriter::new(&version.tree, &mut state.alloc);
    let root = writer.relocate(boundary)?;
    let freed = std::mem::take(&mut writer.freed);
    if freed.is_empty() {
        return Ok(());
    }
    let next = NextTree {
        root,
        freed,
        entry_delta: 0,
        last_seq: state.meta.last_seq,
        wal_start_segment: state.meta.wal_start_segment,
    };
    publish(engine, state, next, &[])
}

/// Publishes the same tree again to cut the file, if its last page is free for good.
fn give_back_tail(engine: &Engine, state: &mut MergeState) -> Result<()> {
    release_unreachable(state);
    if !state.alloc.tail_is_reusable() {
        return Ok(());
    }
    let next = NextTree {
        root: state.meta.root,
        freed: Vec::new(),
        entry_delta: 0,
        last_seq: state.meta.last_seq,
        wal_start_segment: state.meta.wal_start_segment,
    };
    publish(engine, state, next, &[])
}
