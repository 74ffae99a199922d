//! The safe wrapper end to end: every call goes through the C ABI, as a binding's would.

use lightning::ldb_status;
use std::mem::MaybeUninit;

use lightning::safe::{Batch, Chunked, Db, Durability, Isolation, KeyRange, ReadInto};

fn open(dir: &tempfile::TempDir) -> Db {
    Db::open(dir.path().to_str().unwrap(), &[("sync", "false")]).unwrap()
}

fn collect(mut it: lightning::safe::Iter) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    it.first().unwrap();
    while it.valid() {
        let key = it.key().unwrap().to_vec();
        let value = it.value().unwrap().unwrap().to_vec();
        out.push((key, value));
        it.next().unwrap();
    }
    out
}

#[test]
fn reads_writes_batches_and_iterators() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir);
    db.put(b"a", b"1", Durability::Default).unwrap();
    db.put(b"b\0x", b"", Durability::Sync).unwrap();
    assert_eq!(db.get(b"a").unwrap(), Some(b"1".to_vec()));
    assert_eq!(
        db.get(b"b\0x").unwrap(),
        Some(vec![]),
        "an empty value is not absent"
    );
    assert_eq!(db.get(b"zz").unwrap(), None);
    assert_eq!(&*db.get_pinned(b"a").unwrap().unwrap(), b"1");
    assert!(db.get_pinned(b"zz").unwrap().is_none());
    let mut buf = [MaybeUninit::uninit(); 4];
    assert_eq!(db.get_into(b"a", &mut buf).unwrap(), ReadInto::Copied(b"1"));
    assert_eq!(db.get_into(b"zz", &mut buf).unwrap(), ReadInto::Absent);
    assert_eq!(db.get_into(b"a", &mut []).unwrap(), ReadInto::TooLong(1));
    assert_eq!(
        db.get_into(b"b\0x", &mut []).unwrap(),
        ReadInto::Copied(b"")
    );

    let mut batch = Batch::new().unwrap();
    batch.put(b"c", b"3").unwrap();
    batch.delete(b"a").unwrap();
    assert_eq!(batch.len(), 2);
    db.write(&batch, Durability::Buffered).unwrap();
    batch.clear().unwrap();
    assert!(batch.is_empty());

    let all = collect(db.iter(&KeyRange::default()).unwrap());
    assert_eq!(
        all,
        vec![(b"b\0x".to_vec(), vec![]), (b"c".to_vec(), b"3".to_vec())]
    );
    let reversed = KeyRange {
        reverse: true,
        ..KeyRange::default()
    };
    let keys: Vec<_> = collect(db.iter(&reversed).unwrap())
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(keys, vec![b"c".to_vec(), b"b\0x".to_vec()]);
    let prefix = KeyRange {
        prefix: Some(b"b".to_vec()),
        ..KeyRange::default()
    };
    assert_eq!(collect(db.iter(&prefix).unwrap()).len(), 1);
    let empty_end = KeyRange {
        end: Some(vec![]),
        ..KeyRange::default()
    };
    assert!(
        collect(db.iter(&empty_end).unwrap()).is_empty(),
        "end \"\" is an empty range"
    );
    let bad = KeyRange {
        prefix: Some(b"b".to_vec()),
        start: Some(b"a".to_vec()),
        ..KeyRange::default()
    };
    assert_eq!(
        db.iter(&bad).err().unwrap().status,
        ldb_status::LDB_INVALID_ARGUMENT
    );

    let mut it = db.iter(&KeyRange::default()).unwrap();
    it.seek(b"bz").unwrap();
    assert_eq!(it.key(), Some(&b"c"[..]));
    it.prev().unwrap();
    assert_eq!(it.key(), Some(&b"b\0x"[..]));
    it.prev().unwrap();
    assert!(!it.valid() && it.key().is_none());

    db.flush().unwrap();
    assert_eq!(
        db.compact().unwrap(),
        0,
        "nothing to give back in a tiny file"
    );
    assert!(db.verify().unwrap().contains("tree_keys=2"));
    assert!(db.stats().unwrap().contains("puts="));
    assert_eq!(db.stats_value("tree_keys").unwrap(), 2);
    assert_eq!(
        db.stats_value("nope").unwrap_err().name(),
        "INVALID_ARGUMENT"
    );
    assert_eq!(lightning::safe::version(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn chunks_grow_and_can_end_early() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir);
    for i in 0..600u32 {
        db.put(&i.to_be_bytes(), b"v", Durability::Default).unwrap();
    }
    let mut chunks = Chunked::new(db.iter(&KeyRange::default()).unwrap());
    let mut sizes = Vec::new();
    let mut keys = Vec::new();
    while !chunks.is_done() {
        let mut size = 0;
        chunks
            .read_chunk(|it| {
                keys.push(it.key().unwrap().to_vec());
                assert_eq!(it.value().unwrap(), Some(&b"v"[..]));
                size += 1;
                Ok(true)
            })
            .unwrap();
        sizes.push(size);
    }
    // 4, 8, ... 256, then what is left (600 - 508 = 92), reaching the end.
    assert_eq!(sizes, [4, 8, 16, 32, 64, 128, 256, 92]);
    let expected: Vec<Vec<u8>> = (0..600u32).map(|i| i.to_be_bytes().to_vec()).collect();
    assert_eq!(keys, expected);

    // A chunk ended early by its reader resumes at the next entry.
    let mut chunks = Chunked::new(db.iter(&KeyRange::default()).unwrap());
    let mut first = Vec::new();
    chunks
        .read_chunk(|it| {
            first.push(it.key().unwrap().to_vec());
            Ok(false)
        })
        .unwrap();
    chunks
        .read_chunk(|it| {
            first.push(it.key().unwrap().to_vec());
            Ok(true)
        })
        .unwrap();
    assert_eq!(first, expected[..9]);
}

#[test]
fn snapshots_and_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir);
    db.put(b"k", b"old", Durability::Default).unwrap();
    let snapshot = db.snapshot().unwrap();
    db.put(b"k", b"new", Durability::Default).unwrap();
    assert_eq!(snapshot.get(b"k").unwrap(), Some(b"old".to_vec()));
    assert_eq!(&*snapshot.get_pinned(b"k").unwrap().unwrap(), b"old");
    assert_eq!(
        collect(snapshot.iter(&KeyRange::default()).unwrap()).len(),
        1
    );
    assert!(snapshot.sequence() > 0);

    let t1 = db
        .begin(Isolation::Serializable, false, Durability::Default)
        .unwrap();
    let t2 = db
        .begin(Isolation::Snapshot, false, Durability::Sync)
        .unwrap();
    assert_eq!(t1.get(b"k").unwrap(), Some(b"new".to_vec()));
    t1.put(b"k", b"t1").unwrap();
    t1.put(b"other", b"x").unwrap();
    t1.delete(b"gone").unwrap();
    assert_eq!(&*t1.get_pinned(b"k").unwrap().unwrap(), b"t1");
    assert_eq!(collect(t1.iter(&KeyRange::default()).unwrap()).len(), 2);
    t2.put(b"k", b"t2").unwrap();
    t1.commit().unwrap();
    let conflict = t2.commit().unwrap_err();
    assert_eq!(
        (conflict.status, conflict.name()),
        (ldb_status::LDB_CONFLICT, "CONFLICT")
    );
    assert_eq!(
        t2.put(b"k", b"again").unwrap_err().status,
        ldb_status::LDB_CLOSED
    );
    assert_eq!(t1.rollback().unwrap_err().status, ldb_status::LDB_CLOSED);

    let reader = db
        .begin(Isolation::Snapshot, true, Durability::Default)
        .unwrap();
    assert_eq!(
        reader.put(b"k", b"x").unwrap_err().status,
        ldb_status::LDB_READ_ONLY
    );
    reader.rollback().unwrap();
    assert_eq!(db.get(b"k").unwrap(), Some(b"t1".to_vec()));
}

#[test]
fn closing_leaves_handles_safe() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = open(&dir);
    db.put(b"k", b"v", Durability::Default).unwrap();
    let snapshot = db.snapshot().unwrap();
    let txn = db
        .begin(Isolation::Snapshot, false, Durability::Default)
        .unwrap();
    txn.put(b"t", b"1").unwrap();
    let mut it = db.iter(&KeyRange::default()).unwrap();
    let pinned = db.get_pinned(b"k").unwrap().unwrap();
    db.close().unwrap();
    db.close().unwrap();
    assert_eq!(db.get(b"k").unwrap_err().status, ldb_status::LDB_CLOSED);
    assert_eq!(db.snapshot().err().unwrap().status, ldb_status::LDB_CLOSED);
    assert_eq!(snapshot.get(b"k").unwrap(), Some(b"v".to_vec()));
    it.first().unwrap();
    assert_eq!(it.key(), Some(&b"k"[..]));
    assert_eq!(&*pinned, b"v");
    assert_eq!(txn.commit().unwrap_err().status, ldb_status::LDB_CLOSED);
    drop((snapshot, txn, it, pinned, db));
    // Everything released: the directory can be opened again.
    let db = open(&dir);
    assert_eq!(db.get(b"t").unwrap(), None);
}

#[test]
fn bad_options_and_arguments_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let e = Db::open(path, &[("cache_size", "lots")]).err().unwrap();
    assert_eq!(e.status, ldb_status::LDB_INVALID_OPTION);
    assert!(e.message.contains("cache_size"), "{e}");
    let db = Db::open(path, &[]).unwrap();
    assert_eq!(
        Db::open(path, &[]).err().unwrap().status,
        ldb_status::LDB_LOCKED
    );
    let long_key = vec![0u8; 5000];
    assert_eq!(
        db.put(&long_key, b"", Durability::Default)
            .unwrap_err()
            .status,
        ldb_status::LDB_INVALID_ARGUMENT
    );
    assert_eq!(
        Db::open("a\0b", &[]).err().unwrap().status,
        ldb_status::LDB_INVALID_ARGUMENT
    );
}

#[test]
fn raw_calls_reject_null_pointers() {
    use lightning::*;
    use std::ptr::null_mut;
    // SAFETY: every pointer passed is NULL or valid; NULL is what is being tested.
    unsafe {
        assert_eq!(
            ldb_open(std::ptr::null(), std::ptr::null(), null_mut()),
            ldb_status::LDB_INVALID_ARGUMENT
        );
        assert_eq!(
            ldb_put(
                std::ptr::null(),
                std::ptr::null(),
                0,
                std::ptr::null(),
                0,
                0
            ),
            ldb_status::LDB_INVALID_ARGUMENT
        );
        let dir = tempfile::tempdir().unwrap();
        let path = std::ffi::CString::new(dir.path().to_str().unwrap()).unwrap();
        let mut db = null_mut();
        assert_eq!(
            ldb_open(path.as_ptr(), std::ptr::null(), &mut db),
            ldb_status::LDB_OK
        );
        assert_eq!(
            ldb_put(db, std::ptr::null(), 3, std::ptr::null(), 0, 0),
            ldb_status::LDB_INVALID_ARGUMENT
        );
        assert_eq!(
            ldb_put(db, std::ptr::null(), 0, std::ptr::null(), 0, 7),
            ldb_status::LDB_INVALID_ARGUMENT
        );
        assert_eq!(
            ldb_put(db, std::ptr::null(), 0, std::ptr::null(), 0, 0),
            ldb_status::LDB_OK,
            "empty key and value"
        );
        let mut txn = null_mut();
        assert_eq!(
            ldb_txn_begin(db, 9, false, 0, &mut txn),
            ldb_status::LDB_INVALID_ARGUMENT
        );
        ldb_db_free(db);
        ldb_db_free(null_mut());
        ldb_iter_free(null_mut());
        ldb_txn_free(null_mut());
        ldb_free(null_mut());
    }
}

#[test]
fn bulk_load_is_atomic_and_the_only_writer() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir);
    db.put(b"a", b"before", Durability::Default).unwrap();
    let load = db.bulk_load().unwrap();
    for i in 0..1000u32 {
        load.put(format!("k{i:04}").as_bytes(), &i.to_le_bytes())
            .unwrap();
    }
    let refused = load.put(b"b", b"x").unwrap_err();
    assert_eq!(refused.status, ldb_status::LDB_INVALID_ARGUMENT);
    assert_eq!(
        db.put(b"x", b"1", Durability::Default).unwrap_err().status,
        ldb_status::LDB_BUSY
    );
    assert_eq!(db.bulk_load().err().unwrap().status, ldb_status::LDB_BUSY);
    assert_eq!(db.get(b"k0001").unwrap(), None);
    load.commit().unwrap();
    assert_eq!(load.commit().unwrap_err().status, ldb_status::LDB_CLOSED);
    assert_eq!(db.get(b"k0001").unwrap(), Some(1u32.to_le_bytes().to_vec()));
    assert_eq!(db.get(b"a").unwrap(), Some(b"before".to_vec()));

    let abandoned = db.bulk_load().unwrap();
    abandoned.put(b"gone", b"1").unwrap();
    drop(abandoned);
    assert_eq!(db.get(b"gone").unwrap(), None);
    db.put(b"x", b"1", Durability::Default).unwrap();
}
