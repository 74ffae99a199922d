//! Recovery: replaying the WAL segments that the meta page names into a memtable, cutting a torn
//! tail, and telling damage in the middle (corruption) from an unfinished last write.

use std::path::Path;

use crate::batch::decode_payload;
use crate::btree::meta::Meta;
use crate::codec::KeyRing;
use crate::error::{Error, IoContext, Result};
use crate::memtable::Memtable;
use crate::storage::{OpenMode, Storage, StorageFile};
use crate::wal::{parse_segment_file_name, read_segment, segment_path, SEGMENT_HEADER_SIZE};

/// Replays the WAL segments the meta page names into `memtable`. Returns the last segment
/// number found and the next sequence number.
pub(super) fn replay_wal(
    dir: &Path,
    storage: &dyn Storage,
    meta: &Meta,
    memtable: &Memtable,
    keys: Option<&KeyRing>,
) -> Result<(Option<u64>, u64)> {
    let mut segments: Vec<u64> = storage
        .list(dir)
        .ctx("list", dir)?
        .iter()
        .filter_map(|n| parse_segment_file_name(n))
        .collect();
    segments.sort_unstable();
    // Segments the tree already holds are removed only once the rest replayed without error, so
    // that a failed open leaves them (and the evidence) as they were.
    let obsolete: Vec<u64> = segments
        .iter()
        .copied()
        .filter(|&s| s < meta.wal_start_segment)
        .collect();
    segments.retain(|&s| s >= meta.wal_start_segment);
    let replayed = replay_segments(dir, storage, meta, memtable, &segments, keys)?;
    for &old in &obsolete {
        let p = segment_path(dir, old);
        storage.remove(&p).ctx("remove", &p)?;
    }
    if !obsolete.is_empty() {
        storage.sync_dir(dir).ctx("sync directory", dir)?;
    }
    Ok(replayed)
}

/// Replays `segments` (the meta page's first WAL segment and those after it, in order).
fn replay_segments(
    dir: &Path,
    storage: &dyn Storage,
    meta: &Meta,
    memtable: &Memtable,
    segments: &[u64],
    keys: Option<&KeyRing>,
) -> Result<(Option<u64>, u64)> {
    for (i, &s) in segments.iter().enumerate() {
        if s != meta.wal_start_segment + i as u64 {
            return Err(Error::corruption(
                &segment_path(dir, meta.wal_start_segment + i as u64),
                "WAL segment is missing",
            ));
        }
    }

    let mut next_seq = meta.last_seq + 1;
    for (i, &segment) in segments.iter().enumerate() {
        let path = segment_path(dir, segment);
        let is_last = i + 1 == segments.len();
        let end = read_segment(
            storage,
            &path,
            segment,
            is_last,
            keys,
            |first_seq, payload| {
                let ops = decode_payload(payload)?;
                let count = u64::from(ops.remaining());
                if first_seq + count <= next_seq {
                    return Ok(()); // already in the tree
                }
                if first_seq != next_seq {
                    return Err(Error::corruption(
                    &path,
                    format!("WAL record starts at sequence {first_seq}, expected {next_seq}: records are missing"),
                ));
                }
                let mut seq = first_seq;
                for op in ops {
                    let op = op?;
                    memtable.insert(op.keyspace, op.key, seq, op.value);
                    seq += 1;
                }
                next_seq = seq;
                Ok(())
            },
        )?;
        if is_last && !end.torn {
            // Recovery makes this segment a sealed one (a new segment follows it), and sealed
            // segments must be durable: after a process crash its tail may still be in the page
            // cache only, and after a failed fsync not even a sync would write it.
            let file = storage.open(&path, OpenMode::Existing).ctx("open", &path)?;
            rewrite_and_sync(&*file, &path, end.valid_len)?;
        }
        if end.torn {
            // Cut the torn tail so new records never follow garbage.
            let file = storage.open(&path, OpenMode::Existing).ctx("open", &path)?;
            file.set_len(end.valid_len).ctx("truncate", &path)?;
            if end.valid_len < SEGMENT_HEADER_SIZE {
                drop(file);
                storage.remove(&path).ctx("remove", &path)?;
                storage.sync_dir(dir).ctx("sync directory", dir)?;
                // The segment's header never reached the disk; its number is free again.
                return Ok((i.checked_sub(1).map(|p| segments[p]), next_seq));
            }
            rewrite_and_sync(&*file, &path, end.valid_len)?;
        }
    }
    Ok((segments.last().copied(), next_seq))
}

/// Writes the first `len` bytes of a segment again, then syncs it. A sync alone is not enough:
/// after an fsync failed, Linux may have marked the unwritten pages clean, so a later fsync
/// succeeds without writing them while reads, recovery's included, still see them in the page
/// cache. Replayed records become visible and later records follow them, so they must truly be
/// on disk; written again, the pages are dirty, and the sync writes them or fails.
fn rewrite_and_sync(file: &dyn StorageFile, path: &Path, len: u64) -> Result<()> {
    const CHUNK: u64 = 1 << 20;
    let mut buf = Vec::new();
    let mut offset = 0;
    while offset < len {
        let n = CHUNK.min(len - offset);
        buf.resize(n as usize, 0);
        file.read_at(&mut buf, offset).ctx("read", path)?;
        file.write_at(&buf, offset).ctx("write", path)?;
        offset += n;
    }
    file.sync().ctx("sync", path)
}
