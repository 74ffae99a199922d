//! The `compression` option: what it writes shrinks, everything written under one policy reads
//! back under every other, and a database at the defaults writes what older versions read.

mod common;

use common::tempdir::KeepOnFailure;
use lightning_db::{Compression, Database, Options, WriteBatch};

const POLICIES: [Compression; 5] = [
    Compression::None,
    Compression::Lz4,
    Compression::Zstd,
    Compression::Snappy,
    Compression::Auto,
];

/// The benchmark's compressible values: half random bytes, half zeros.
fn value(i: u64) -> Vec<u8> {
    let mut x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut v: Vec<u8> = (0..100)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    v.resize(200, 0);
    v
}

fn key(i: u64) -> Vec<u8> {
    format!("key{i:08}").into_bytes()
}

fn options(compression: Compression) -> Options {
    Options {
        compression,
        sync: false,
        ..Options::default()
    }
}

/// Writes keys `from..to` in batches of 10; returns the WAL bytes this open wrote.
fn write(db: &Database, from: u64, to: u64) -> u64 {
    let before = db.stats().wal_bytes;
    for start in (from..to).step_by(10) {
        let mut batch = WriteBatch::new();
        for i in start..(start + 10).min(to) {
            batch.put(&key(i), &value(i));
        }
        db.write(&batch).unwrap();
    }
    db.stats().wal_bytes - before
}

fn wal_segment_versions(dir: &std::path::Path) -> Vec<u32> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("wal-"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|n| {
            let bytes = std::fs::read(dir.join(n)).unwrap();
            u32::from_le_bytes(bytes[8..12].try_into().unwrap())
        })
        .collect()
}

#[test]
fn compressed_wal_records_take_less_space_and_replay() {
    let mut plain_bytes = 0;
    for policy in POLICIES {
        let dir = KeepOnFailure::new("compression test");
        let db = Database::open(dir.path(), options(policy)).unwrap();
        let bytes = write(&db, 0, 2000);
        if policy == Compression::None {
            plain_bytes = bytes;
        } else {
            // Each batch holds ten 200-byte values, half of each zeros.
            assert!(
                bytes * 10 < plain_bytes * 7,
                "{policy:?}: {bytes} WAL bytes against {plain_bytes} plain"
            );
        }
        // Dropped without a merge: the next open replays the WAL.
        drop(db);
        let db = Database::open(dir.path(), options(Compression::None)).unwrap();
        for i in (0..2000).step_by(37) {
            assert_eq!(
                db.get(&key(i)).unwrap(),
                Some(value(i)),
                "{policy:?} key {i}"
            );
        }
        db.verify().unwrap();
        db.close().unwrap();
    }
}

#[test]
fn the_policy_may_change_at_every_open() {
    let dir = KeepOnFailure::new("compression test");
    let mut written = 0;
    for round in 0..3 {
        for policy in POLICIES {
            let db = Database::open(dir.path(), options(policy)).unwrap();
            for i in (0..written).step_by(97) {
                assert_eq!(
                    db.get(&key(i)).unwrap(),
                    Some(value(i)),
                    "{policy:?} key {i}"
                );
            }
            write(&db, written, written + 300);
            written += 300;
            assert_eq!(db.get(&key(written - 1)).unwrap(), Some(value(written - 1)));
            if round == 1 {
                db.flush().unwrap();
            }
            drop(db);
        }
    }
    let db = Database::open(dir.path(), options(Compression::Auto)).unwrap();
    assert_eq!(
        db.iter(lightning_db::Range::all()).unwrap().count() as u64,
        written
    );
    db.verify().unwrap();
}

#[test]
fn only_a_compressing_open_writes_coded_wal_segments() {
    let dir = KeepOnFailure::new("compression test");
    for (policy, version) in [
        (Compression::None, 2),
        (Compression::Zstd, 3),
        (Compression::None, 2),
        (Compression::Auto, 3),
    ] {
        let db = Database::open(dir.path(), options(policy)).unwrap();
        write(&db, 0, 10);
        let versions = wal_segment_versions(dir.path());
        assert_eq!(versions.last(), Some(&version), "{policy:?}: {versions:?}");
        drop(db);
    }
}

/// Options that merge often: the tree, not only the WAL, holds what is written.
fn merging(compression: Compression) -> Options {
    Options {
        compression,
        memtable_size: 64 << 10,
        ..options(compression)
    }
}

/// Writes `n` keys (every 50th with a 100 KB value that goes to overflow), deletes every 7th;
/// returns what the database must hold.
fn fill(db: &Database, n: u64) -> std::collections::BTreeMap<Vec<u8>, Vec<u8>> {
    let mut model = std::collections::BTreeMap::new();
    for start in (0..n).step_by(100) {
        let mut batch = WriteBatch::new();
        for i in start..(start + 100).min(n) {
            let v = if i % 50 == 0 {
                value(i).repeat(500)
            } else {
                value(i)
            };
            batch.put(&key(i), &v);
            model.insert(key(i), v);
        }
        db.write(&batch).unwrap();
    }
    for i in (0..n).step_by(7) {
        db.delete(&key(i)).unwrap();
        model.remove(&key(i));
    }
    model
}

fn contents(db: &Database) -> std::collections::BTreeMap<Vec<u8>, Vec<u8>> {
    db.iter(lightning_db::Range::all())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_database_created_compressed_keeps_its_pages_in_compressed_blocks() {
    let mut plain_bytes = 0;
    for policy in POLICIES {
        let dir = KeepOnFailure::new("compression test");
        let db = Database::open(dir.path(), merging(policy)).unwrap();
        let model = fill(&db, 20_000);
        db.flush().unwrap();
        db.verify().unwrap();
        assert_eq!(contents(&db), model, "{policy:?}");
        let bytes = db.stats().file_bytes;
        db.close().unwrap();
        let header = std::fs::read(dir.path().join("data.ldb")).unwrap();
        let version = u32::from_le_bytes(header[24..28].try_into().unwrap());
        if policy == Compression::None {
            assert_eq!(version, 1, "a plain file");
            plain_bytes = bytes;
        } else {
            assert_eq!(version, 2, "{policy:?}: a coded file");
            assert!(
                bytes * 10 < plain_bytes * 8,
                "{policy:?}: {bytes} bytes against {plain_bytes} plain"
            );
        }
        // Reopened under another policy (and read through a cold cache), it holds the same.
        for reopen in [Compression::None, Compression::Zstd] {
            let db = Database::open(dir.path(), merging(reopen)).unwrap();
            assert_eq!(contents(&db), model, "{policy:?} reopened with {reopen:?}");
            assert_eq!(db.get(&key(50)).unwrap(), model.get(&key(50)).cloned());
            db.verify().unwrap();
            db.close().unwrap();
        }
    }
}

#[test]
fn a_coded_file_reuses_freed_space_and_compacts() {
    let dir = KeepOnFailure::new("compression test");
    let db = Database::open(dir.path(), merging(Compression::Lz4)).unwrap();
    let mut model = fill(&db, 10_000);
    db.flush().unwrap();
    let after_fill = db.stats().file_bytes;
    // Rewrite everything five times: freed blocks are reused, the file does not grow fivefold.
    for round in 0..5u64 {
        for start in (0..10_000u64).step_by(100) {
            let mut batch = WriteBatch::new();
            for i in start..start + 100 {
                let mut v = value(i + round);
                v.truncate(150);
                batch.put(&key(i), &v);
                model.insert(key(i), v);
            }
            db.write(&batch).unwrap();
        }
        db.flush().unwrap();
    }
    let after_rewrites = db.stats().file_bytes;
    assert!(
        after_rewrites < after_fill * 2,
        "{after_rewrites} bytes after rewrites, {after_fill} after the fill"
    );
    // Delete most keys and compact: the file shrinks.
    for i in 1000..10_000u64 {
        db.delete(&key(i)).unwrap();
        model.remove(&key(i));
    }
    db.flush().unwrap();
    db.compact().unwrap();
    let compacted = db.stats().file_bytes;
    assert!(
        compacted * 2 < after_rewrites,
        "{compacted} bytes after compaction, {after_rewrites} before"
    );
    db.verify().unwrap();
    assert_eq!(contents(&db), model);
    drop(db);
    let db = Database::open(dir.path(), merging(Compression::Zstd)).unwrap();
    assert_eq!(contents(&db), model);
    db.verify().unwrap();
}

/// The newest meta page's generation, root address and root check, and the database id.
fn newest_root(file: &[u8]) -> (u64, u64, [u8; 16]) {
    let page_size = u32::from_le_bytes(file[28..32].try_into().unwrap()) as usize;
    let field = |slot: usize, at: usize| {
        u64::from_le_bytes(file[slot * page_size + at..][..8].try_into().unwrap())
    };
    let slot = if field(1, 32) > field(0, 32) { 1 } else { 0 };
    let id = file[slot * page_size + 112..][..16].try_into().unwrap();
    (field(slot, 40), field(slot, 96), id)
}

/// Rewrites the checksum of the block at `address` after its bytes changed, as a writer of
/// another (older, or forged) block for that place would.
fn reseal(file: &mut [u8], address: u64, database_id: &[u8; 16]) {
    let start = (address >> 24) as usize * 256;
    let len = u32::from_le_bytes(file[start + 8..start + 12].try_into().unwrap()) as usize;
    let mut covered = database_id.to_vec();
    covered.extend_from_slice(&address.to_le_bytes());
    covered.extend_from_slice(&file[start + 4..start + len]);
    let crc = common::format::masked_crc(&covered);
    file[start..start + 4].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn a_damaged_block_or_another_block_in_its_place_is_corruption() {
    let dir = KeepOnFailure::new("compression test");
    let db = Database::open(dir.path(), merging(Compression::Lz4)).unwrap();
    let model = fill(&db, 3000);
    db.close().unwrap();
    let path = dir.path().join("data.ldb");
    let good = std::fs::read(&path).unwrap();
    let (root, check, database_id) = newest_root(&good);
    assert_ne!(check, 0);
    let start = (root >> 24) as usize * 256;
    let stored_len = u32::from_le_bytes(good[start + 8..start + 12].try_into().unwrap()) as usize;
    let open_and_read = || -> lightning_db::Result<()> {
        let db = Database::open(dir.path(), merging(Compression::Lz4))?;
        db.verify()?;
        db.iter(lightning_db::Range::all())?
            .try_for_each(|e| e.map(|_| ()))
    };
    // Any flipped byte of the root block: its checksum fails.
    for at in (0..stored_len).step_by(13) {
        let mut bad = good.clone();
        bad[start + at] ^= 0x20;
        std::fs::write(&path, &bad).unwrap();
        let e = open_and_read().unwrap_err();
        assert_eq!(
            e.code(),
            lightning_db::ErrorCode::Corruption,
            "byte {at}: {e}"
        );
    }
    // A block valid in itself (its checksum matches its place and database) but not the one
    // the meta page names: found by the check the parent keeps.
    let mut other = good.clone();
    other[start + 12] ^= 0x01; // its claimed length: still a well-formed block by its checksum
    reseal(&mut other, root, &database_id);
    std::fs::write(&path, &other).unwrap();
    let e = open_and_read().unwrap_err();
    assert_eq!(e.code(), lightning_db::ErrorCode::Corruption);
    assert!(e.message().contains("not the one its parent names"), "{e}");
    // The same block under another database id (a block copied from another database).
    let mut copied = good.clone();
    reseal(&mut copied, root, &[9; 16]);
    std::fs::write(&path, &copied).unwrap();
    let e = open_and_read().unwrap_err();
    assert_eq!(e.code(), lightning_db::ErrorCode::Corruption);
    // Undamaged, it opens to what was written.
    std::fs::write(&path, &good).unwrap();
    let db = Database::open(dir.path(), merging(Compression::Lz4)).unwrap();
    assert_eq!(contents(&db), model);
}

#[test]
fn a_bulk_load_into_a_coded_file_commits_or_gives_its_blocks_back() {
    let dir = KeepOnFailure::new("compression test");
    let db = Database::open(dir.path(), merging(Compression::Auto)).unwrap();
    let mut load = db.bulk_load().unwrap();
    for i in 0..30_000u64 {
        load.put(&key(i), &value(i)).unwrap();
    }
    load.commit().unwrap();
    let loaded = db.stats().file_bytes;
    // An abandoned load leaves the file as it was (its blocks given back, then cut off).
    let mut load = db.bulk_load().unwrap();
    for i in 30_000..60_000u64 {
        load.put(&key(i), &value(i)).unwrap();
    }
    drop(load);
    db.compact().unwrap();
    assert!(
        db.stats().file_bytes <= loaded,
        "{} > {loaded}",
        db.stats().file_bytes
    );
    db.verify().unwrap();
    drop(db);
    let db = Database::open(dir.path(), merging(Compression::None)).unwrap();
    let all = contents(&db);
    assert_eq!(all.len(), 30_000);
    assert_eq!(all.get(&key(29_999)), Some(&value(29_999)));
    db.verify().unwrap();
}

#[test]
fn stats_count_blocks_and_bytes_by_codec() {
    let dir = KeepOnFailure::new("compression test");
    let db = Database::open(dir.path(), merging(Compression::Lz4)).unwrap();
    fill(&db, 5000);
    db.flush().unwrap();
    let s = db.stats();
    assert!(s.codec_lz4_blocks > 0, "{s:?}");
    assert!(s.codec_lz4_bytes > 0);
    assert!(s.compression_saved_bytes > s.codec_lz4_bytes / 4, "{s:?}");
    assert_eq!(s.codec_zstd_blocks + s.codec_snappy_blocks, 0);
    let listed: Vec<&str> = s.to_pairs().iter().map(|(name, _)| *name).collect();
    assert!(listed.contains(&"compression_saved_bytes"));
    drop(db);
    // A plain database at the defaults compresses nothing and counts nothing.
    let plain = KeepOnFailure::new("compression test");
    let db = Database::open(plain.path(), merging(Compression::None)).unwrap();
    fill(&db, 1000);
    db.flush().unwrap();
    let s = db.stats();
    assert_eq!(
        s.codec_none_blocks + s.codec_lz4_blocks + s.compression_saved_bytes,
        0,
        "{s:?}"
    );
}
