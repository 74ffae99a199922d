//! `compact()` and the compaction that runs by itself: the file shrinks to about its live pages,
//! the content stays the model's, snapshots keep their view, and readers and writers go on while
//! it runs. (Power loss and I/O errors during `compact()` are in `faults.rs`'s sweeps; random
//! sequences with compactions among snapshots and iterators in `model.rs`.)

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

use common::rng::Rng;
use common::tempdir::KeepOnFailure;
use lightning_db::{Database, Options, Range, Stats, WriteBatch};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

fn key(i: u64) -> Vec<u8> {
    format!("key{:08}", lightning_key_order(i)).into_bytes()
}

/// Spreads consecutive numbers over the key space, so deletes hit every leaf.
fn lightning_key_order(i: u64) -> u64 {
    i.wrapping_mul(0x9E37_79B9) % 100_000_000
}

fn value(i: u64, round: u64, len: usize) -> Vec<u8> {
    let mut v = format!("{i}:{round}:").into_bytes();
    v.resize(len, (i as u8).wrapping_add(round as u8));
    v
}

fn fill(db: &Database, model: &mut Model, keys: std::ops::Range<u64>, len: usize) {
    let mut batch = WriteBatch::new();
    for i in keys {
        let (k, v) = (key(i), value(i, 0, len));
        batch.put(&k, &v);
        model.insert(k, v);
    }
    db.write(&batch).unwrap();
}

fn delete_most(db: &Database, model: &mut Model, keep_one_in: u64) {
    let mut batch = WriteBatch::new();
    let doomed: Vec<Vec<u8>> = model
        .keys()
        .enumerate()
        .filter(|(n, _)| !(*n as u64).is_multiple_of(keep_one_in))
        .map(|(_, k)| k.clone())
        .collect();
    for k in doomed {
        batch.delete(&k);
        model.remove(&k);
    }
    db.write(&batch).unwrap();
}

fn assert_content(db: &Database, model: &Model, what: &str) {
    let got: Vec<(Vec<u8>, Vec<u8>)> = db.iter(Range::all()).unwrap().map(|e| e.unwrap()).collect();
    let want: Vec<(Vec<u8>, Vec<u8>)> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    assert_eq!(got.len(), want.len(), "{what}: key count");
    assert!(got == want, "{what}: content differs from the model");
    let report = db.verify().unwrap();
    assert_eq!(report.tree_keys, model.len() as u64, "{what}: verify");
}

/// Pages the tree or an older tree someone may read uses: the file less its reusable pages.
fn used_pages(s: &Stats) -> u64 {
    s.file_pages - s.free_pages + s.pinned_pages
}

fn options() -> Options {
    Options {
        memtable_size: 1 << 20,
        ..Options::default()
    }
}

#[test]
fn compact_gives_back_what_deletes_freed() {
    let dir = KeepOnFailure::new("compact_gives_back_what_deletes_freed");
    let db = Database::open(dir.path(), options()).unwrap();
    let mut model = Model::new();
    fill(&db, &mut model, 0..20_000, 400);
    db.flush().unwrap();
    let full = db.stats().file_bytes;
    delete_most(&db, &mut model, 10);
    db.flush().unwrap();
    assert!(
        db.stats().file_bytes > full / 2,
        "deletes alone do not shrink the file"
    );

    let given_back = db.compact().unwrap();
    let s = db.stats();
    assert!(given_back > 0, "compact gave nothing back");
    assert_eq!(
        s.file_bytes,
        s.file_pages * u64::from(db.options().page_size)
    );
    assert!(
        s.file_bytes <= full / 4,
        "a tenth of the keys left, and the file is {} of {full} bytes",
        s.file_bytes
    );
    assert_eq!(s.pinned_pages, 0);
    assert!(
        s.file_pages * 2 <= used_pages(&s) * 3,
        "file of {} pages, {} used",
        s.file_pages,
        used_pages(&s)
    );
    assert_content(&db, &model, "after compact");
    assert_eq!(
        db.compact().unwrap(),
        0,
        "a second compact finds nothing to give back"
    );
    db.close().unwrap();
    let db = Database::open(dir.path(), options()).unwrap();
    assert_content(&db, &model, "reopened");
}

#[test]
fn compact_moves_overflow_chains_and_long_keys() {
    let dir = KeepOnFailure::new("compact_moves_overflow_chains_and_long_keys");
    let db = Database::open(dir.path(), options()).unwrap();
    let mut model = Model::new();
    let mut batch = WriteBatch::new();
    for i in 0..600u64 {
        // Keys past 512 bytes and values past a page go to overflow chains.
        let mut k = key(i);
        if i % 3 == 0 {
            k.resize(700 + (i as usize % 50), b'k');
        }
        let v = value(i, 1, if i % 2 == 0 { 9_000 } else { 60 });
        batch.put(&k, &v);
        model.insert(k, v);
    }
    db.write(&batch).unwrap();
    db.flush().unwrap();
    delete_most(&db, &mut model, 4);
    let given_back = db.compact().unwrap();
    assert!(given_back > 0);
    assert_content(&db, &model, "after compact");
    let s = db.stats();
    assert!(s.file_pages * 2 <= used_pages(&s) * 3);
    db.close().unwrap();
    let db = Database::open(dir.path(), options()).unwrap();
    assert_content(&db, &model, "reopened");
}

#[test]
fn a_snapshot_keeps_its_view_through_compact() {
    let dir = KeepOnFailure::new("a_snapshot_keeps_its_view_through_compact");
    let db = Database::open(dir.path(), options()).unwrap();
    let mut model = Model::new();
    fill(&db, &mut model, 0..10_000, 300);
    db.flush().unwrap();
    let before = model.clone();
    let snapshot = db.snapshot().unwrap();
    delete_most(&db, &mut model, 8);
    db.compact().unwrap();
    let pinned = db.stats().pinned_pages;
    assert!(pinned > 0, "the snapshot's pages are pinned");
    let seen: Model = snapshot.iter(Range::all()).map(|e| e.unwrap()).collect();
    assert!(seen == before, "the snapshot lost its view");
    assert_content(&db, &model, "with a snapshot open");
    let with_snapshot = db.stats().file_bytes;
    drop(snapshot);
    db.compact().unwrap();
    let s = db.stats();
    assert!(
        s.file_bytes < with_snapshot,
        "dropping the snapshot lets compact give back its pages"
    );
    assert_eq!(s.pinned_pages, 0);
    assert!(s.file_pages * 2 <= used_pages(&s) * 3);
    assert_content(&db, &model, "after the snapshot");
}

/// Writers keep pairs of keys equal; readers check every pair in their snapshot while compact()
/// runs over and over.
#[test]
fn readers_and_writers_go_on_during_compact() {
    let dir = KeepOnFailure::new("readers_and_writers_go_on_during_compact");
    let db = Arc::new(Database::open(dir.path(), options()).unwrap());
    const PAIRS: u64 = 2_000;
    let pair = |p: u64, side: u64| format!("pair{p:05}/{side}").into_bytes();
    let mut batch = WriteBatch::new();
    for p in 0..PAIRS {
        batch.put(&pair(p, 0), &value(p, 0, 200));
        batch.put(&pair(p, 1), &value(p, 0, 200));
    }
    db.write(&batch).unwrap();
    db.flush().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (rounds, scans) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let writer = {
        let (db, stop, rounds) = (db.clone(), stop.clone(), rounds.clone());
        thread::spawn(move || {
            let mut rng = Rng(7);
            let mut round = 1;
            while !stop.load(Ordering::Relaxed) {
                let mut batch = WriteBatch::new();
                for _ in 0..50 {
                    let p = rng.below(PAIRS);
                    if rng.below(4) == 0 {
                        batch.delete(&pair(p, 0));
                        batch.delete(&pair(p, 1));
                    } else {
                        let v = value(p, round, 100 + rng.below(300) as usize);
                        batch.put(&pair(p, 0), &v);
                        batch.put(&pair(p, 1), &v);
                    }
                }
                db.write(&batch).unwrap();
                round += 1;
                rounds.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let reader = {
        let (db, stop, scans) = (db.clone(), stop.clone(), scans.clone());
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let entries: Vec<(Vec<u8>, Vec<u8>)> =
                    db.iter(Range::all()).unwrap().map(|e| e.unwrap()).collect();
                assert!(entries.len().is_multiple_of(2), "a pair is half there");
                for two in entries.chunks(2) {
                    assert_eq!(two[0].0[..9], two[1].0[..9], "keys of a pair");
                    assert_eq!(two[0].1, two[1].1, "values of a pair differ");
                }
                scans.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    // Compact until both threads did a fair amount of work meanwhile.
    let (mut compactions, mut given_back) = (0, 0);
    while compactions < 30
        || rounds.load(Ordering::Relaxed) < 300
        || scans.load(Ordering::Relaxed) < 10
    {
        given_back += db.compact().unwrap();
        compactions += 1;
    }
    eprintln!("{compactions} compactions gave back {given_back} bytes");
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    reader.join().unwrap();
    db.verify().unwrap();
    let db = Arc::into_inner(db).unwrap();
    db.close().unwrap();
    let db = Database::open(dir.path(), options()).unwrap();
    db.verify().unwrap();
}

/// Past 64 MiB, a merge that leaves more than a third of the file free compacts by itself, and so
/// does close.
#[test]
fn a_large_file_stays_within_one_and_a_half_times_its_used_pages() {
    let dir = KeepOnFailure::new("a_large_file_stays_within_one_and_a_half_times_its_used_pages");
    let db = Database::open(dir.path(), options()).unwrap();
    let mut model = Model::new();
    for part in 0..8u64 {
        fill(&db, &mut model, part * 25_000..(part + 1) * 25_000, 400);
    }
    db.flush().unwrap();
    let full = db.stats();
    assert!(full.file_bytes >= 64 << 20, "{} bytes", full.file_bytes);
    // Four fifths gone: every leaf falls under a quarter full and joins its neighbours.
    delete_most(&db, &mut model, 5);
    db.flush().unwrap();
    let s = db.stats();
    assert!(
        s.file_pages * 2 <= used_pages(&s) * 3,
        "after the merge: file of {} pages, {} used ({} pinned)",
        s.file_pages,
        used_pages(&s),
        s.pinned_pages
    );
    assert!(s.file_bytes < full.file_bytes, "the file shrank");
    assert_content(&db, &model, "after the merge");
    db.close().unwrap();
    let bytes = std::fs::metadata(dir.path().join("data.ldb"))
        .unwrap()
        .len();
    let db = Database::open(dir.path(), options()).unwrap();
    let s = db.stats();
    assert_eq!(s.file_bytes, bytes);
    assert!(
        s.free_pages * 3 <= s.file_pages,
        "after close: {} of {} pages free",
        s.free_pages,
        s.file_pages
    );
    assert_content(&db, &model, "reopened");
}

/// Random deletes leave no leaf under a quarter full, except one per branch (its last child,
/// which has no right sibling to join).
#[test]
fn deletes_join_underfull_leaves_with_their_siblings() {
    let dir = KeepOnFailure::new("deletes_join_underfull_leaves_with_their_siblings");
    let db = Database::open(dir.path(), options()).unwrap();
    let mut model = Model::new();
    fill(&db, &mut model, 0..20_000, 100);
    db.flush().unwrap();
    let before = db.verify().unwrap();
    let mut rng = Rng(11);
    for _ in 0..4 {
        let mut batch = WriteBatch::new();
        let doomed: Vec<Vec<u8>> = model
            .keys()
            .filter(|_| rng.below(2) == 0)
            .cloned()
            .collect();
        for k in doomed {
            batch.delete(&k);
            model.remove(&k);
        }
        db.write(&batch).unwrap();
        db.flush().unwrap();
    }
    assert_content(&db, &model, "after the deletes");
    let report = db.verify().unwrap();
    // An entry here takes 7 + 11 + 100 bytes and a 10-byte slot; a quarter of a 4 KiB leaf is
    // 1020 bytes.
    let bytes = model.len() as u64 * 128;
    let most = bytes.div_ceil(1020) + report.branch_pages + 1;
    assert!(
        report.leaf_pages <= most,
        "{} keys left in {} leaves (at most {most}; {} leaves before)",
        model.len(),
        report.leaf_pages,
        before.leaf_pages
    );
}

/// Deleting all but a few keys of a tree with several levels leaves no branch page nearly empty:
/// a branch left with under a quarter of a page of children hands them to its parent.
#[test]
fn deletes_leave_no_branch_nearly_empty() {
    let dir = KeepOnFailure::new("deletes_leave_no_branch_nearly_empty");
    let db = Database::open(dir.path(), options()).unwrap();
    let mut model = Model::new();
    fill(&db, &mut model, 0..40_000, 100);
    db.flush().unwrap();
    let before = db.verify().unwrap();
    assert!(before.branch_pages >= 5, "{before:?}");
    // Keep one key in 64: runs of deleted leaves join, and branches are left with few children.
    delete_most(&db, &mut model, 64);
    db.flush().unwrap();
    assert_content(&db, &model, "after the deletes");
    let report = db.verify().unwrap();
    // A separator here takes 7 + 11 + 8 bytes and a 10-byte slot: a quarter of a 4 KiB branch
    // page holds 28 of them. Every branch but the root holds at least that many children.
    let most = report.leaf_pages.div_ceil(28) + 1;
    assert!(
        report.branch_pages <= most,
        "{} leaves under {} branches (at most {most}; {} branches over {} leaves before)",
        report.leaf_pages,
        report.branch_pages,
        before.branch_pages,
        before.leaf_pages
    );
}

/// Keys written in random order, merge after merge: a leaf that splits hands what does not fill
/// a page to its right neighbour, so leaves end up over 70% full, not the 64% of plain splits.
#[test]
fn random_writes_leave_leaves_mostly_full() {
    let dir = KeepOnFailure::new("random_writes_leave_leaves_mostly_full");
    let db = Database::open(dir.path(), options()).unwrap();
    let mut model = Model::new();
    for part in 0..40u64 {
        fill(&db, &mut model, part * 500..(part + 1) * 500, 100);
        db.flush().unwrap();
    }
    assert_content(&db, &model, "after the writes");
    let report = db.verify().unwrap();
    // An entry takes 7 + 11 + 100 bytes and a 10-byte slot; a leaf holds 4080 bytes.
    let fill = (model.len() * 128) as f64 / (report.leaf_pages * 4080) as f64;
    eprintln!("{} leaves, {:.0}% full", report.leaf_pages, fill * 100.0);
    assert!(fill > 0.7, "leaves are {:.0}% full", fill * 100.0);
}
