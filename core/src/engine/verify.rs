//! `verify()`: a full check of the page file and the WAL.

use super::state::Engine;
use crate::btree::check::check_tree;
use crate::error::{IoContext, Result};
use crate::wal::{parse_segment_file_name, read_segment, segment_path};

/// What `verify()` checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Pages in the page file (all were read and checked).
    pub pages: u64,
    pub leaf_pages: u64,
    pub branch_pages: u64,
    pub overflow_pages: u64,
    pub free_pages: u64,
    /// Keys in the tree.
    pub tree_keys: u64,
    /// Levels of the tree (0 = empty, 1 = a single leaf).
    pub tree_depth: u64,
    /// WAL segments and records read.
    pub wal_segments: u64,
    pub wal_records: u64,
}

pub(crate) fn verify(engine: &Engine) -> Result<VerifyReport> {
    // Hold the merge lock: the tree and the freelist must not change under the check.
    let state = engine.merge.lock();
    let version = engine.version.load_full();
    let tree = check_tree(&version.tree, &state.meta)?;
    engine.pager.check_meta_pages(state.meta.slot())?;
    let mut report = VerifyReport {
        pages: tree.pages,
        leaf_pages: tree.leaf_pages,
        branch_pages: tree.branch_pages,
        overflow_pages: tree.overflow_pages,
        free_pages: tree.free_pages,
        tree_keys: tree.entries,
        tree_depth: if version.tree.root.id == 0 {
            0
        } else {
            tree.depth + 1
        },
        ..VerifyReport::default()
    };
    // The WAL: every segment still needed, in order; the one being written is the last.
    let dir = &engine.wal_dir;
    let mut segments: Vec<u64> = engine
        .storage
        .list(dir)
        .ctx("list", dir)?
        .iter()
        .filter_map(|n| parse_segment_file_name(n))
        .filter(|&s| s >= state.meta.wal_start_segment)
        .collect();
    segments.sort_unstable();
    // Keep holding the merge lock: a merge finishing now would remove the segments it made
    // obsolete between listing and reading them.
    for (i, &segment) in segments.iter().enumerate() {
        let end = read_segment(
            &*engine.storage,
            &segment_path(dir, segment),
            segment,
            i + 1 == segments.len(),
            engine.pager.keys().map(|k| &**k),
            |_, payload| crate::batch::decode_payload(payload)?.try_for_each(|op| op.map(|_| ())),
        )?;
        report.wal_segments += 1;
        report.wal_records += end.records;
    }
    drop(state);
    Ok(report)
}
