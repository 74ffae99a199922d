//! Committing a new tree generation: the pages it freed, the freelist, the meta page flip, cutting
//! the file's free tail, and installing the new tree in the current version. The merge and the
//! compaction both end here.

use std::sync::{Arc, Weak};

use super::merge::MergeState;
use super::state::Engine;
use super::version::Version;
use crate::btree::freelist::write_freelist;
use crate::btree::meta::Meta;
use crate::btree::node::PagePtr;
use crate::btree::tree::Tree;
use crate::error::Result;
use crate::memtable::Memtable;

/// A tree whose pages are written, not yet durable or visible.
pub(crate) struct NextTree {
    pub root: PagePtr,
    /// Pages of the current tree the new one no longer references.
    pub freed: Vec<u64>,
    /// Change in the number of live keys.
    pub entry_delta: i64,
    /// The last sequence number the new tree holds.
    pub last_seq: u64,
    /// The first WAL segment recovery must replay on top of the new tree.
    pub wal_start_segment: u64,
}

/// Makes reusable the pages that no published tree anyone still holds can reach.
pub(crate) fn release_unreachable(state: &mut MergeState) {
    state.trees.retain(|t| t.strong_count() > 0);
    let oldest_live = state
        .trees
        .iter()
        .filter_map(Weak::upgrade)
        .map(|t| t.generation)
        .min()
        .unwrap_or(state.meta.generation);
    state.alloc.release(oldest_live);
}

/// Writes the freelist, syncs, flips the meta page to `next` and installs it as the current
/// tree, dropping `merged` (the memtables now inside it) from the version.
pub(crate) fn publish(
    engine: &Engine,
    state: &mut MergeState,
    next: NextTree,
    merged: &[Arc<Memtable>],
) -> Result<()> {
    let pager = &engine.pager;
    let generation = state.meta.generation + 1;
    let mut freed = next.freed;
    freed.append(&mut state.freelist_pages);
    state.alloc.free_later(generation, freed);
    state.alloc.shrink_tail();
    let (freelist, free_units, chain) = write_freelist(pager, &mut state.alloc)?;
    pager.sync()?;

    let meta = Meta {
        format: state.meta.format,
        database_id: state.meta.database_id,
        freelist_check: freelist.check,
        generation,
        root: next.root,
        entries: state.meta.entries.saturating_add_signed(next.entry_delta),
        file_units: state.alloc.file_units(),
        freelist_head: freelist.id,
        free_units,
        last_seq: next.last_seq,
        wal_start_segment: next.wal_start_segment,
    };
    pager.write_meta(&meta, false)?;
    let units_in_file = pager.file_len()? / pager.unit_bytes();
    if units_in_file > meta.file_units {
        pager.truncate(meta.file_units)?;
    }
    state.meta = meta;
    state.freelist_pages = chain;

    let tree = Arc::new(Tree::new(
        pager.clone(),
        next.root,
        generation,
        meta.file_units,
        pager.mapping_for(meta.file_units)?,
    ));
    state.trees.push(Arc::downgrade(&tree));
    state.retired_memtables.retain(|m| m.strong_count() > 0);
    state
        .retired_memtables
        .extend(merged.iter().map(Arc::downgrade));
    let _install = engine.version_install.lock();
    let current = engine.version.load_full();
    let memtables = current
        .memtables
        .iter()
        .filter(|m| !merged.iter().any(|f| Arc::ptr_eq(f, m)))
        .cloned()
        .collect();
    engine.version.store(Arc::new(Version {
        memtables,
        tree,
        fork_generation: engine.fork_generation,
    }));
    Ok(())
}

/// Changes an encrypted database's key or passphrase to the one in `options`: the data key is
/// wrapped anew and a meta page naming the new wrapping is written (at the next generation, the
/// tree unchanged). Until that page is durable the old key opens the database, after it the new.
pub(crate) fn rekey(engine: &Engine, options: &crate::options::Options) -> Result<()> {
    engine.check_writable()?;
    options.validate()?;
    let mut state = engine.merge.lock();
    engine.check_no_bulk_load()?;
    let meta = Meta {
        generation: state.meta.generation + 1,
        ..state.meta
    };
    let old = engine.pager.rewrap(options)?;
    engine.pager.write_meta(&meta, false).inspect_err(|e| {
        engine.pager.restore_key_header(old);
        // After a failed write or fsync of the page file nothing written since the last good
        // one can be trusted (as after a merge's).
        engine.fail(e);
    })?;
    state.meta = meta;
    Ok(())
}
