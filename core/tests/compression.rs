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
