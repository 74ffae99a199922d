//! Basic behaviour through the public API: put/get/delete, batches, reopen, iteration.

mod common;

use common::options::small_options;
use lightning_db::{Database, Durability, ErrorCode, Options, Range, WriteBatch};

#[test]
fn put_get_delete_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Database::open(dir.path(), small_options()).unwrap();
        db.put(b"a", b"1").unwrap();
        db.put_with(b"b", b"2", Durability::Buffered).unwrap();
        db.delete(b"a").unwrap();
        assert_eq!(db.get(b"a").unwrap(), None);
        assert_eq!(db.get(b"b").unwrap(), Some(b"2".to_vec()));
        db.close().unwrap();
    }
    let db = Database::open(dir.path(), small_options()).unwrap();
    assert_eq!(db.get(b"a").unwrap(), None);
    assert_eq!(db.get(b"b").unwrap(), Some(b"2".to_vec()));
}

#[test]
fn many_keys_through_merges_and_iteration() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), small_options()).unwrap();
    let n = 20_000u32;
    for i in 0..n {
        let k = format!("key{:08}", (i * 7919) % n);
        db.put_with(k.as_bytes(), &i.to_le_bytes(), Durability::Buffered)
            .unwrap();
    }
    for i in (0..n).step_by(3) {
        db.delete_with(format!("key{i:08}").as_bytes(), Durability::Buffered)
            .unwrap();
    }
    let check = |db: &Database| {
        let keys: Vec<Vec<u8>> = db
            .iter(Range::all())
            .unwrap()
            .map(|r| r.unwrap().0)
            .collect();
        let expected: Vec<Vec<u8>> = (0..n)
            .filter(|i| i % 3 != 0)
            .map(|i| format!("key{i:08}").into_bytes())
            .collect();
        assert_eq!(keys.len(), expected.len());
        assert_eq!(keys, expected);
        let rev: Vec<Vec<u8>> = db
            .iter(Range::all().reverse())
            .unwrap()
            .map(|r| r.unwrap().0)
            .collect();
        assert_eq!(rev, expected.iter().rev().cloned().collect::<Vec<_>>());
    };
    check(&db);
    db.flush().unwrap();
    check(&db);
    let report = db.verify().unwrap();
    assert_eq!(
        report.tree_keys,
        (0..n).filter(|i| i % 3 != 0).count() as u64
    );
    drop(db);
    let db = Database::open(dir.path(), small_options()).unwrap();
    check(&db);
    db.verify().unwrap();
}

#[test]
fn large_keys_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), small_options()).unwrap();
    let big_key = vec![7u8; 4096];
    let big_value = vec![9u8; 1 << 20];
    db.put(&big_key, &big_value).unwrap();
    db.put(b"small", &big_value[..5000]).unwrap();
    let mut long_keys = Vec::new();
    for i in 0..300u32 {
        let mut k = vec![b'x'; 2000];
        k.extend_from_slice(&i.to_be_bytes());
        db.put(&k, &i.to_le_bytes()).unwrap();
        long_keys.push(k);
    }
    db.flush().unwrap();
    db.verify().unwrap();
    assert_eq!(db.get(&big_key).unwrap(), Some(big_value.clone()));
    assert_eq!(
        db.get(b"small").unwrap().unwrap(),
        big_value[..5000].to_vec()
    );
    for (i, k) in long_keys.iter().enumerate() {
        assert_eq!(db.get(k).unwrap(), Some((i as u32).to_le_bytes().to_vec()));
    }
    assert_eq!(
        db.put(&vec![0u8; 4097], b"").unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
    for k in &long_keys[..150] {
        db.delete(k).unwrap();
    }
    db.flush().unwrap();
    db.verify().unwrap();
    assert_eq!(db.iter(Range::prefix(b"xx")).unwrap().count(), 150);
}

#[test]
fn batches_snapshots_and_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), small_options()).unwrap();
    let mut b = WriteBatch::new();
    b.put(b"user:1", b"ann")
        .put(b"user:2", b"bob")
        .put(b"zzz", b"z");
    db.write(&b).unwrap();
    let snap = db.snapshot().unwrap();
    db.put(b"user:3", b"cy").unwrap();
    db.delete(b"user:1").unwrap();
    let now: Vec<_> = db
        .iter(Range::prefix(b"user:"))
        .unwrap()
        .map(|r| r.unwrap().0)
        .collect();
    assert_eq!(now, vec![b"user:2".to_vec(), b"user:3".to_vec()]);
    let then: Vec<_> = snap
        .iter(Range::prefix(b"user:"))
        .map(|r| r.unwrap().0)
        .collect();
    assert_eq!(then, vec![b"user:1".to_vec(), b"user:2".to_vec()]);
    db.flush().unwrap();
    assert_eq!(snap.get(b"user:1").unwrap(), Some(b"ann".to_vec()));
    assert_eq!(snap.get(b"user:3").unwrap(), None);
}

#[test]
fn large_batch_goes_straight_to_the_tree() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), small_options()).unwrap();
    db.put(b"k00001", b"old").unwrap();
    db.put(b"zz-before", b"kept").unwrap();
    let snap = db.snapshot().unwrap();
    let mut b = WriteBatch::new();
    for i in 0..5000u32 {
        b.put(format!("k{i:05}").as_bytes(), &[1u8; 40]);
    }
    b.put(b"k00002", b"second write wins");
    b.delete(b"zz-before");
    b.delete(b"k00003");
    assert!(b.encoded_len() as u64 >= small_options().memtable_size / 2);
    db.write(&b).unwrap();
    db.put(b"after", b"1").unwrap();
    let check = |db: &Database| {
        assert_eq!(db.get(b"k00001").unwrap(), Some(vec![1u8; 40]));
        assert_eq!(
            db.get(b"k00002").unwrap(),
            Some(b"second write wins".to_vec())
        );
        assert_eq!(db.get(b"k00003").unwrap(), None);
        assert_eq!(db.get(b"zz-before").unwrap(), None);
        assert_eq!(db.get(b"after").unwrap(), Some(b"1".to_vec()));
        assert_eq!(db.iter(Range::prefix(b"k")).unwrap().count(), 4999);
    };
    check(&db);
    // The snapshot taken before the batch does not see it.
    assert_eq!(snap.get(b"k00001").unwrap(), Some(b"old".to_vec()));
    assert_eq!(snap.get(b"zz-before").unwrap(), Some(b"kept".to_vec()));
    assert_eq!(snap.iter(Range::all()).count(), 2);
    drop(snap);
    db.verify().unwrap();
    drop(db);
    let db = Database::open(dir.path(), small_options()).unwrap();
    check(&db);
    let stats = db.stats();
    assert_eq!(stats.tree_keys, 5000 - 1 + 1);
    db.verify().unwrap();
}

#[test]
fn pinned_values_stay_valid_while_the_database_changes_under_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = Options::default();
    options.set("memtable_size", "64KiB").unwrap();
    options.set("sync", "false").unwrap();
    let db = Database::open(dir.path(), options).unwrap();
    let small = b"small value".to_vec();
    let large = vec![0xabu8; 100_000]; // overflow pages
    db.put(b"small", &small).unwrap();
    db.put(b"large", &large).unwrap();
    let from_memtable = db.get_pinned(b"small").unwrap().unwrap();
    db.flush().unwrap();
    let from_tree = db.get_pinned(b"small").unwrap().unwrap();
    let from_overflow = db.get_pinned(b"large").unwrap().unwrap();
    assert_eq!(db.get_pinned(b"absent").unwrap().map(|v| v.to_vec()), None);
    // Overwrite and delete everything, and merge again and again so pages get reused.
    for round in 0..20u32 {
        for i in 0..200u32 {
            db.put(format!("k{i}").as_bytes(), &round.to_le_bytes().repeat(50))
                .unwrap();
        }
        db.put(b"small", b"overwritten").unwrap();
        db.delete(b"large").unwrap();
        db.flush().unwrap();
    }
    assert_eq!(&*from_memtable, &small[..]);
    assert_eq!(&*from_tree, &small[..]);
    assert_eq!(&*from_overflow, &large[..]);
    assert!(
        db.stats().live_tree_versions >= 2,
        "the pinned value holds its tree"
    );
    drop((from_memtable, from_tree, from_overflow));
    assert_eq!(db.get_pinned(b"large").unwrap().map(|v| v.to_vec()), None);
}

#[test]
fn close_in_place_releases_the_lock_once_no_reader_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), Options::default()).unwrap();
    db.put(b"k", b"v").unwrap();
    db.close_in_place().unwrap();
    assert!(db.is_closed());
    assert_eq!(db.get(b"k").unwrap_err().code(), ErrorCode::Closed);
    db.close_in_place().unwrap(); // again: a no-op
                                  // Nothing reads the file any more: the directory can be opened while `db` still exists.
    let reopened = Database::open(dir.path(), Options::default()).unwrap();
    let snapshot = reopened.snapshot().unwrap();
    reopened.close_in_place().unwrap();
    assert_eq!(
        Database::open(dir.path(), Options::default())
            .unwrap_err()
            .code(),
        ErrorCode::Locked,
        "a live snapshot keeps the lock"
    );
    assert_eq!(snapshot.get(b"k").unwrap(), Some(b"v".to_vec()));
    drop(snapshot);
    drop(reopened);
    drop(db);
    Database::open(dir.path(), Options::default()).unwrap();
}

/// Point reads repeated on one tree go through its leaf hints (one slot per 16K hashes, so
/// thousands of keys share slots): every read must still return its own key's value, from the
/// tree it reads (a snapshot's older tree, the current one after a merge), inline or overflow.
#[test]
fn repeated_reads_return_each_keys_own_value() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), Options::default()).unwrap();
    let key = |i: u32| format!("hot{:07}", i.wrapping_mul(2_654_435_761) % 10_000_000);
    let value = |i: u32, round: u32| {
        let len = if i % 1000 == 7 { 5000 } else { 20 };
        let mut v = format!("{i}/{round}").into_bytes();
        v.resize(len, b'.');
        v
    };
    let mut keys: Vec<(String, u32)> = (0..50_000).map(|i| (key(i), i)).collect();
    keys.sort();
    let mut load = db.bulk_load().unwrap();
    for (k, i) in &keys {
        load.put(k.as_bytes(), &value(*i, 0)).unwrap();
    }
    load.commit().unwrap();
    let read_all = |db: &Database, round_of: &dyn Fn(u32) -> u32| {
        for pass in 0..3u32 {
            for i in (0..50_000u32).map(|i| (i * 7919 + pass * 31) % 50_000) {
                let got = db.get(key(i).as_bytes()).unwrap();
                assert_eq!(got, Some(value(i, round_of(i))), "key {i}, pass {pass}");
            }
        }
        assert_eq!(db.get(b"hot-absent").unwrap(), None);
    };
    read_all(&db, &|_| 0);
    let snapshot = db.snapshot().unwrap();
    for i in (0..50_000).step_by(3) {
        db.put(key(i).as_bytes(), &value(i, 1)).unwrap();
    }
    db.flush().unwrap();
    read_all(&db, &|i| u32::from(i % 3 == 0));
    for i in (0..50_000u32).step_by(13) {
        assert_eq!(snapshot.get(key(i).as_bytes()).unwrap(), Some(value(i, 0)));
        let pinned = db.get_pinned(key(i).as_bytes()).unwrap().unwrap();
        assert_eq!(&*pinned, &value(i, u32::from(i % 3 == 0))[..]);
    }
}

/// Values up to about half a page stay in their leaf (three 1 KiB values share a 4 KiB leaf, as
/// in LMDB); only larger ones take overflow pages, each a whole page.
#[test]
fn mid_sized_values_stay_in_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), Options::default()).unwrap();
    let mut load = db.bulk_load().unwrap();
    for i in 0..3000u32 {
        load.put(format!("key{i:06}").as_bytes(), &vec![i as u8; 1024])
            .unwrap();
    }
    load.commit().unwrap();
    let report = db.verify().unwrap();
    assert_eq!(report.overflow_pages, 0, "{report:?}");
    assert!(report.leaf_pages <= 1010, "3 per leaf: {report:?}");
    assert_eq!(
        db.get(b"key001234").unwrap(),
        Some(vec![1234u32 as u8; 1024])
    );

    db.put(b"big", &vec![7u8; 2100]).unwrap();
    db.flush().unwrap();
    let report = db.verify().unwrap();
    assert_eq!(report.overflow_pages, 1, "{report:?}");
    assert_eq!(db.get(b"big").unwrap(), Some(vec![7u8; 2100]));
}
