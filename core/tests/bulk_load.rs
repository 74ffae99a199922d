//! `Database::bulk_load`: sorted pairs straight into the tree. The content after a load is the
//! model's (into an empty database, over existing keys and under unmerged writes, across chunks,
//! with overflow values), survives a reopen and `verify()`; the load is atomic (nothing visible
//! before the commit, nothing left after a drop, its pages reused); it is the only writer while
//! open; transactions that overlap it conflict. (Power loss and I/O errors during a load are in
//! `faults.rs`'s sweeps.)

mod common;

use std::collections::BTreeMap;

use common::tempdir::KeepOnFailure;
use lightning_db::{Database, ErrorCode, Options, Range, TransactionOptions};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

fn key(i: u64) -> Vec<u8> {
    format!("key{i:09}").into_bytes()
}

fn value(i: u64, round: u64, len: usize) -> Vec<u8> {
    let mut v = format!("{i}:{round}:").into_bytes();
    v.resize(len, (i as u8).wrapping_mul(7).wrapping_add(round as u8));
    v
}

fn content(db: &Database) -> Model {
    db.iter(Range::all())
        .unwrap()
        .collect::<lightning_db::Result<Model>>()
        .unwrap()
}

fn assert_matches(db: &Database, model: &Model) {
    let got = content(db);
    assert_eq!(got.len(), model.len(), "number of keys");
    for ((gk, gv), (mk, mv)) in got.iter().zip(model) {
        assert_eq!(gk, mk);
        assert_eq!(gv, mv, "value of {}", String::from_utf8_lossy(mk));
    }
    for k in model.keys().step_by(97) {
        assert_eq!(db.get(k).unwrap().as_ref(), model.get(k));
    }
}

/// Loads keys `i` for `i` in `keys` (ascending) with values of `len` bytes of round `round`.
fn load(db: &Database, model: &mut Model, keys: impl Iterator<Item = u64>, round: u64, len: usize) {
    let mut load = db.bulk_load().unwrap();
    for i in keys {
        let (k, v) = (key(i), value(i, round, len));
        load.put(&k, &v).unwrap();
        model.insert(k, v);
    }
    load.commit().unwrap();
}

#[test]
fn loads_into_an_empty_database_across_chunks_and_reopens() {
    let dir = KeepOnFailure::new("bulk load");
    let mut model = Model::new();
    {
        let db = Database::open(dir.path(), Options::default()).unwrap();
        // About 20 MiB: three chunks.
        load(&db, &mut model, 0..100_000, 0, 200);
        assert_matches(&db, &model);
        assert_eq!(db.stats().puts, 100_000);
        db.close().unwrap();
    }
    let db = Database::open(dir.path(), Options::default()).unwrap();
    assert_matches(&db, &model);
    let report = db.verify().unwrap();
    assert_eq!(report.tree_keys, 100_000);
}

#[test]
fn loads_over_existing_keys_and_under_nothing_newer() {
    let dir = KeepOnFailure::new("bulk load");
    let options = Options {
        memtable_size: 64 << 10,
        ..Options::default()
    };
    let db = Database::open(dir.path(), options).unwrap();
    let mut model = Model::new();
    load(&db, &mut model, (0..30_000).map(|i| i * 3), 0, 100);
    // Writes still in the memtable when the next load starts: the load goes over them.
    for i in (0..90_000).step_by(1001) {
        let (k, v) = (key(i), value(i, 1, 30));
        db.put(&k, &v).unwrap();
        model.insert(k, v);
    }
    db.delete(&key(3)).unwrap();
    model.remove(&key(3));
    // Every other key of the first load replaced, new keys between them, and a few values long
    // enough for overflow pages.
    let mut second = db.bulk_load().unwrap();
    for i in (0..90_000).step_by(2) {
        let len = if i % 10_000 == 0 { 70_000 } else { 50 };
        let (k, v) = (key(i), value(i, 2, len));
        second.put(&k, &v).unwrap();
        model.insert(k, v);
    }
    assert_eq!(second.len(), 45_000);
    second.commit().unwrap();
    assert_matches(&db, &model);
    // Writes after the load go over it.
    db.put(&key(4), b"after").unwrap();
    model.insert(key(4), b"after".to_vec());
    db.flush().unwrap();
    assert_matches(&db, &model);
    assert_eq!(db.verify().unwrap().tree_keys, model.len() as u64);
}

#[test]
fn keys_must_ascend_and_a_refused_pair_changes_nothing() {
    let dir = KeepOnFailure::new("bulk load");
    let db = Database::open(dir.path(), Options::default()).unwrap();
    let mut load = db.bulk_load().unwrap();
    load.put(b"b", b"1").unwrap();
    for bad in [&b"b"[..], b"a"] {
        let err = load.put(bad, b"2").unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidArgument);
        assert!(err.message().contains("ascending"), "{}", err.message());
    }
    assert_eq!(
        load.put(b"", b"x").unwrap_err().code(),
        ErrorCode::InvalidArgument,
        "an empty key"
    );
    load.put(b"c", b"3").unwrap();
    load.commit().unwrap();
    let model: Model = [
        (b"b".to_vec(), b"1".to_vec()),
        (b"c".to_vec(), b"3".to_vec()),
    ]
    .into();
    assert_matches(&db, &model);
}

#[test]
fn nothing_is_visible_before_the_commit_and_nothing_stays_after_a_drop() {
    let dir = KeepOnFailure::new("bulk load");
    let db = Database::open(dir.path(), Options::default()).unwrap();
    let mut model = Model::new();
    load(&db, &mut model, 0..20_000, 0, 100);
    db.flush().unwrap();
    let pages_before = db.stats().file_bytes;

    for round in 1..4 {
        let mut abandoned = db.bulk_load().unwrap();
        for i in 10_000..100_000 {
            abandoned.put(&key(i), &value(i, round, 100)).unwrap();
        }
        // Past a chunk: pages are written, yet readers see the database as it was.
        assert_matches(&db, &model);
        drop(abandoned);
        assert_matches(&db, &model);
    }
    // Each abandoned load's pages were given back for the next to use.
    let grown = db.stats().file_bytes.saturating_sub(pages_before);
    let one_load = 90_000 * 120;
    assert!(
        grown < 2 * one_load,
        "three abandoned loads of about {one_load} bytes grew the file by {grown}"
    );
    db.put(b"after", b"writes work again").unwrap();
    model.insert(b"after".to_vec(), b"writes work again".to_vec());
    db.close().unwrap();
    let db = Database::open(dir.path(), Options::default()).unwrap();
    assert_matches(&db, &model);
    db.verify().unwrap();
}

#[test]
fn the_load_is_the_only_writer_while_open() {
    let dir = KeepOnFailure::new("bulk load");
    let db = Database::open(dir.path(), Options::default()).unwrap();
    db.put(b"k", b"before").unwrap();
    let snapshot = db.snapshot().unwrap();
    let mut load = db.bulk_load().unwrap();
    load.put(b"k", b"loaded").unwrap();

    let busy = |r: lightning_db::Result<()>, what: &str| {
        assert_eq!(r.unwrap_err().code(), ErrorCode::Busy, "{what}");
    };
    busy(db.put(b"x", b"1"), "put");
    busy(db.delete(b"k"), "delete");
    busy(db.flush(), "flush");
    busy(db.compact().map(|_| ()), "compact");
    busy(db.bulk_load().map(|_| ()), "a second load");
    let txn = db.begin().unwrap();
    txn.put(b"y", b"1").unwrap();
    busy(txn.commit(), "a transaction's commit");
    // Readers go on, and see the database as before the load.
    assert_eq!(db.get(b"k").unwrap(), Some(b"before".to_vec()));
    db.sync().unwrap();

    load.commit().unwrap();
    assert_eq!(db.get(b"k").unwrap(), Some(b"loaded".to_vec()));
    assert_eq!(snapshot.get(b"k").unwrap(), Some(b"before".to_vec()));
    db.put(b"x", b"1").unwrap();
    assert_eq!(db.get(b"x").unwrap(), Some(b"1".to_vec()));
}

#[test]
fn transactions_that_touch_the_loaded_span_conflict() {
    let dir = KeepOnFailure::new("bulk load");
    let db = Database::open(dir.path(), Options::default()).unwrap();
    let inside = db.begin().unwrap();
    inside.put(b"m", b"txn").unwrap();
    let reader = db
        .begin_with(&TransactionOptions::new().isolation(lightning_db::Isolation::Serializable))
        .unwrap();
    assert_eq!(reader.get(b"f").unwrap(), None);
    reader.put(b"z", b"1").unwrap();
    let outside = db.begin().unwrap();
    outside.put(b"q", b"txn").unwrap();

    let mut load = db.bulk_load().unwrap();
    for k in ["c", "m", "p"] {
        load.put(k.as_bytes(), b"loaded").unwrap();
    }
    load.commit().unwrap();

    assert_eq!(inside.commit().unwrap_err().code(), ErrorCode::Conflict);
    assert_eq!(reader.commit().unwrap_err().code(), ErrorCode::Conflict);
    outside.commit().unwrap();
    assert_eq!(db.get(b"m").unwrap(), Some(b"loaded".to_vec()));
    assert_eq!(db.get(b"q").unwrap(), Some(b"txn".to_vec()));
}

#[test]
fn a_close_ends_an_open_load() {
    let dir = KeepOnFailure::new("bulk load");
    let db = Database::open(dir.path(), Options::default()).unwrap();
    db.put(b"k", b"before").unwrap();
    let mut load = db.bulk_load().unwrap();
    load.put(b"k", b"loaded").unwrap();
    db.close_in_place().unwrap();
    assert_eq!(load.put(b"l", b"1").unwrap_err().code(), ErrorCode::Closed);
    drop(load);
    drop(db);
    let db = Database::open(dir.path(), Options::default()).unwrap();
    assert_eq!(db.get(b"k").unwrap(), Some(b"before".to_vec()));
    db.verify().unwrap();
}

#[test]
fn an_empty_load_commits_nothing() {
    let dir = KeepOnFailure::new("bulk load");
    let db = Database::open(dir.path(), Options::default()).unwrap();
    let load = db.bulk_load().unwrap();
    assert!(load.is_empty());
    load.commit().unwrap();
    assert!(content(&db).is_empty());
    db.put(b"a", b"1").unwrap();
}
