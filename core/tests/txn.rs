//! Transactions: the classic anomalies, each on its own (lost update, write skew, phantoms),
//! reading one's own writes, read-only transactions, rollback, the retry helper, the limit on open
//! transactions, and what `stats()` says about the memory transactions pin.

use std::sync::Arc;
use std::thread;

use lightning_db::{
    Database, Durability, ErrorCode, Isolation, Options, Range, Transaction, TransactionOptions,
};

fn open(dir: &std::path::Path) -> Database {
    let mut options = Options::default();
    options.set("sync", "false").unwrap();
    Database::open(dir, options).unwrap()
}

fn begin(db: &Database, isolation: Isolation) -> Transaction {
    db.begin_with(&TransactionOptions::new().isolation(isolation))
        .unwrap()
}

fn read_u64(txn: &Transaction, key: &[u8]) -> u64 {
    txn.get(key)
        .unwrap()
        .map(|v| String::from_utf8(v).unwrap().parse().unwrap())
        .unwrap_or(0)
}

fn put_u64(txn: &Transaction, key: &[u8], n: u64) {
    txn.put(key, n.to_string().as_bytes()).unwrap();
}

fn conflict(result: lightning_db::Result<()>) -> bool {
    match result {
        Ok(()) => false,
        Err(e) => {
            assert_eq!(e.code(), ErrorCode::Conflict, "{e}");
            assert!(e.code().is_retryable());
            true
        }
    }
}

fn collect(iter: lightning_db::Iter) -> Vec<(Vec<u8>, Vec<u8>)> {
    iter.collect::<Result<_, _>>().unwrap()
}

/// Two increments of one counter that both read 0: the second commit must fail, not overwrite.
fn lost_update_is_prevented(isolation: Isolation) {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.put(b"counter", b"0").unwrap();
    let t1 = begin(&db, isolation);
    let t2 = begin(&db, isolation);
    let (a, b) = (read_u64(&t1, b"counter"), read_u64(&t2, b"counter"));
    put_u64(&t1, b"counter", a + 1);
    put_u64(&t2, b"counter", b + 1);
    assert!(!conflict(t1.commit()));
    assert!(conflict(t2.commit()));
    assert_eq!(db.get(b"counter").unwrap(), Some(b"1".to_vec()));
}

#[test]
fn lost_update_is_prevented_under_snapshot_isolation() {
    lost_update_is_prevented(Isolation::Snapshot);
}

#[test]
fn lost_update_is_prevented_under_serializable() {
    lost_update_is_prevented(Isolation::Serializable);
}

/// Two doctors on call; each may go off call if the other is still on. Both check, both leave.
/// Returns whether the second commit conflicted.
fn write_skew(isolation: Isolation) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.put(b"alice", b"1").unwrap();
    db.put(b"bob", b"1").unwrap();
    let t1 = begin(&db, isolation);
    let t2 = begin(&db, isolation);
    assert_eq!(read_u64(&t1, b"alice") + read_u64(&t1, b"bob"), 2);
    put_u64(&t1, b"alice", 0);
    assert_eq!(read_u64(&t2, b"alice") + read_u64(&t2, b"bob"), 2);
    put_u64(&t2, b"bob", 0);
    assert!(!conflict(t1.commit()));
    let second_conflicted = conflict(t2.commit());
    let on_call =
        db.get(b"alice").unwrap().unwrap()[0] - b'0' + db.get(b"bob").unwrap().unwrap()[0] - b'0';
    assert_eq!(on_call, if second_conflicted { 1 } else { 0 });
    second_conflicted
}

#[test]
fn write_skew_is_allowed_under_snapshot_isolation() {
    assert!(
        !write_skew(Isolation::Snapshot),
        "disjoint writes do not conflict under snapshot"
    );
}

#[test]
fn write_skew_is_prevented_under_serializable() {
    assert!(write_skew(Isolation::Serializable));
}

/// A transaction counts the rows of a range and writes the count; another inserts a row in the
/// range meanwhile. Returns whether the counting commit conflicted.
fn phantom(isolation: Isolation, reverse: bool) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    for key in [&b"emp/1"[..], b"emp/3", b"other"] {
        db.put(key, b"x").unwrap();
    }
    let counter = begin(&db, isolation);
    let range = if reverse {
        Range::prefix(b"emp/").reverse()
    } else {
        Range::prefix(b"emp/")
    };
    let count = collect(counter.iter(range)).len() as u64;
    assert_eq!(count, 2);
    let inserter = begin(&db, isolation);
    inserter.put(b"emp/2", b"x").unwrap();
    assert!(!conflict(inserter.commit()));
    put_u64(&counter, b"count", count);
    conflict(counter.commit())
}

#[test]
fn phantom_is_prevented_under_serializable() {
    assert!(phantom(Isolation::Serializable, false));
    assert!(phantom(Isolation::Serializable, true));
}

#[test]
fn phantom_is_possible_under_snapshot_isolation() {
    assert!(!phantom(Isolation::Snapshot, false));
}

#[test]
fn serializable_point_read_of_an_absent_key_sees_its_insertion() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let checker = begin(&db, Isolation::Serializable);
    assert_eq!(checker.get(b"user/alice").unwrap(), None);
    db.put(b"user/alice", b"taken").unwrap();
    checker.put(b"user/alice-reservation", b"ok").unwrap();
    assert!(conflict(checker.commit()), "a plain write is a commit too");
}

#[test]
fn serializable_scan_conflicts_only_where_it_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    for i in 0..10u8 {
        db.put(&[b'k', b'0' + i], b"v").unwrap();
    }
    let txn = begin(&db, Isolation::Serializable);
    // Read k0..k2 and stop: keys past k2 were never looked at.
    let first: Vec<_> = txn
        .iter(Range::prefix(b"k"))
        .take(3)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(first.last().unwrap().0, b"k2");
    db.put(b"k7", b"changed").unwrap();
    db.put(b"j", b"outside").unwrap();
    txn.put(b"summary", b"3").unwrap();
    assert!(!conflict(txn.commit()));

    let txn = begin(&db, Isolation::Serializable);
    assert_eq!(txn.iter(Range::prefix(b"k")).take(3).count(), 3);
    db.put(b"k1", b"changed").unwrap();
    txn.put(b"summary", b"3").unwrap();
    assert!(conflict(txn.commit()));

    // A reverse scan that stopped at k8 read k8..k9 and nothing below.
    let txn = begin(&db, Isolation::Serializable);
    assert_eq!(txn.iter(Range::prefix(b"k").reverse()).take(2).count(), 2);
    db.put(b"k3", b"changed").unwrap();
    txn.put(b"summary", b"2").unwrap();
    assert!(!conflict(txn.commit()));
}

#[test]
fn read_only_transactions_never_conflict_and_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.put(b"a", b"1").unwrap();
    for isolation in [Isolation::Snapshot, Isolation::Serializable] {
        let reader = db
            .begin_with(
                &TransactionOptions::new()
                    .read_only(true)
                    .isolation(isolation),
            )
            .unwrap();
        assert!(reader.is_read_only());
        assert_eq!(reader.get(b"a").unwrap(), Some(b"1".to_vec()));
        assert_eq!(collect(reader.iter(Range::all())).len(), 1);
        db.put(b"a", b"2").unwrap();
        db.put(b"b", b"new").unwrap();
        // Still the snapshot it began with.
        assert_eq!(reader.get(b"a").unwrap(), Some(b"1".to_vec()));
        assert_eq!(reader.get(b"b").unwrap(), None);
        let e = reader.put(b"a", b"3").unwrap_err();
        assert_eq!(e.code(), ErrorCode::ReadOnly);
        assert_eq!(reader.delete(b"a").unwrap_err().code(), ErrorCode::ReadOnly);
        reader.commit().unwrap();
        db.delete(b"b").unwrap();
        db.put(b"a", b"1").unwrap();
    }
}

#[test]
fn a_transaction_sees_its_own_writes_in_gets_and_iterators() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    for (k, v) in [("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")] {
        db.put(k.as_bytes(), v.as_bytes()).unwrap();
    }
    db.flush().unwrap(); // some of the data in the tree, some in the memtable
    db.put(b"e", b"5").unwrap();
    for isolation in [Isolation::Snapshot, Isolation::Serializable] {
        let txn = begin(&db, isolation);
        txn.put(b"b", b"two").unwrap();
        txn.delete(b"c").unwrap();
        txn.put(b"bb", b"new").unwrap();
        txn.delete(b"zz").unwrap(); // deleting an absent key
        txn.put(b"f", b"6").unwrap();
        assert_eq!(txn.get(b"b").unwrap(), Some(b"two".to_vec()));
        assert_eq!(txn.get(b"c").unwrap(), None);
        assert!(txn.contains_key(b"bb").unwrap());
        assert!(!txn.contains_key(b"zz").unwrap());
        let keys = |iter: lightning_db::Iter| -> Vec<String> {
            collect(iter)
                .into_iter()
                .map(|(k, v)| {
                    format!(
                        "{}={}",
                        String::from_utf8(k).unwrap(),
                        String::from_utf8(v).unwrap()
                    )
                })
                .collect()
        };
        assert_eq!(
            keys(txn.iter(Range::all())),
            ["a=1", "b=two", "bb=new", "d=4", "e=5", "f=6"]
        );
        assert_eq!(
            keys(txn.iter(Range::all().reverse())),
            ["f=6", "e=5", "d=4", "bb=new", "b=two", "a=1"]
        );
        assert_eq!(keys(txn.iter(Range::prefix(b"b"))), ["b=two", "bb=new"]);
        assert_eq!(keys(txn.iter(Range::new(b"bb", b"e"))), ["bb=new", "d=4"]);
        // A cursor moving both ways over own writes.
        let mut cursor = txn.cursor(Range::all());
        cursor.seek(b"c").unwrap();
        assert_eq!(cursor.key(), b"d");
        cursor.prev().unwrap();
        assert_eq!(cursor.key(), b"bb");
        assert_eq!(cursor.value().unwrap(), b"new");
        cursor.seek_for_prev(b"c").unwrap();
        assert_eq!(cursor.key(), b"bb");
        // Invisible to everyone else until the commit.
        assert_eq!(db.get(b"b").unwrap(), Some(b"2".to_vec()));
        assert_eq!(db.get(b"f").unwrap(), None);
        txn.commit().unwrap();
        assert_eq!(db.get(b"b").unwrap(), Some(b"two".to_vec()));
        assert_eq!(db.get(b"c").unwrap(), None);
        // Put things back for the next isolation level.
        db.put(b"b", b"2").unwrap();
        db.put(b"c", b"3").unwrap();
        db.delete(b"bb").unwrap();
        db.delete(b"f").unwrap();
    }
}

#[test]
fn an_iterator_sees_writes_made_while_it_moves() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    for k in [b"a", b"c", b"e"] {
        db.put(k, b"old").unwrap();
    }
    let txn = db.begin().unwrap();
    let mut iter = txn.iter(Range::all());
    assert_eq!(iter.next().unwrap().unwrap().0, b"a");
    txn.put(b"b", b"new").unwrap();
    txn.delete(b"c").unwrap();
    txn.put(b"e", b"new").unwrap();
    let rest: Vec<_> = iter.collect::<Result<_, _>>().unwrap();
    assert_eq!(
        rest,
        vec![
            (b"b".to_vec(), b"new".to_vec()),
            (b"e".to_vec(), b"new".to_vec())
        ]
    );
    txn.commit().unwrap();
}

#[test]
fn rollback_and_drop_discard_the_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let txn = db.begin().unwrap();
    txn.put(b"a", b"1").unwrap();
    txn.rollback();
    {
        let txn = db.begin().unwrap();
        txn.put(b"b", b"1").unwrap();
    }
    assert_eq!(db.get(b"a").unwrap(), None);
    assert_eq!(db.get(b"b").unwrap(), None);
    let stats = db.stats();
    assert_eq!(stats.transactions_rolled_back, 2);
    assert_eq!(stats.transactions_committed, 0);
    assert_eq!(stats.open_transactions, 0);
}

#[test]
fn a_plain_write_after_begin_conflicts_with_a_transaction_writing_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let txn = db.begin().unwrap();
    db.put(b"k", b"plain").unwrap();
    txn.put(b"k", b"txn").unwrap();
    assert!(conflict(txn.commit()));
    assert_eq!(db.get(b"k").unwrap(), Some(b"plain".to_vec()));
    // Begun after the plain write: no conflict.
    let txn = db.begin().unwrap();
    txn.put(b"k", b"txn").unwrap();
    txn.commit().unwrap();
    assert_eq!(db.get(b"k").unwrap(), Some(b"txn".to_vec()));
    assert_eq!(db.stats().transaction_conflicts, 1);
}

#[test]
fn the_retry_helper_makes_concurrent_increments_exact() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(open(dir.path()));
    let threads = 4;
    let increments = 200;
    for isolation in [Isolation::Snapshot, Isolation::Serializable] {
        db.put(b"counter", b"0").unwrap();
        let options = TransactionOptions::new()
            .isolation(isolation)
            .max_retries(10_000);
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let db = db.clone();
                let options = options.clone();
                thread::spawn(move || {
                    for _ in 0..increments {
                        db.transaction_with(&options, |txn| {
                            let n = read_u64(txn, b"counter");
                            put_u64(txn, b"counter", n + 1);
                            Ok(())
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(
            db.get(b"counter").unwrap(),
            Some((threads * increments).to_string().into_bytes())
        );
    }
}

#[test]
fn the_retry_helper_gives_up_after_max_retries_and_passes_other_errors_through() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    // Every attempt is spoiled by a plain write between its read and its commit.
    let mut attempts = 0;
    let result = db.transaction_with(&TransactionOptions::new().max_retries(3), |txn| {
        attempts += 1;
        let n = read_u64(txn, b"k");
        db.put(b"k", b"100").unwrap();
        put_u64(txn, b"k", n + 1);
        Ok(())
    });
    assert_eq!(result.unwrap_err().code(), ErrorCode::Conflict);
    assert_eq!(attempts, 4, "the first run and 3 retries");

    let mut attempts = 0;
    let result: lightning_db::Result<()> = db.transaction(|txn| {
        attempts += 1;
        txn.put(b"x", b"1")?;
        txn.put(&[0u8; 5000], b"key too long")
    });
    assert_eq!(result.unwrap_err().code(), ErrorCode::InvalidArgument);
    assert_eq!(attempts, 1);
    assert_eq!(db.get(b"x").unwrap(), None, "rolled back");
    assert_eq!(
        db.transaction(|txn| {
            txn.put(b"y", b"1")?;
            Ok(42)
        })
        .unwrap(),
        42
    );
}

#[test]
fn beginning_more_than_max_active_transactions_is_busy() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = Options::default();
    options.set("max_active_transactions", "3").unwrap();
    let db = Database::open(dir.path(), options).unwrap();
    let read_only = TransactionOptions::new().read_only(true);
    let held = [
        db.begin().unwrap(),
        db.begin_with(&read_only).unwrap(),
        db.begin().unwrap(),
    ];
    let e = db.begin().unwrap_err();
    assert_eq!(e.code(), ErrorCode::Busy);
    assert!(e.message().contains("max_active_transactions"), "{e}");
    assert_eq!(
        db.begin_with(&read_only).unwrap_err().code(),
        ErrorCode::Busy
    );
    assert_eq!(db.stats().open_transactions, 3);
    drop(held);
    assert_eq!(db.stats().open_transactions, 0);
    db.begin().unwrap().commit().unwrap();
}

#[test]
fn a_long_transaction_does_not_stop_the_merge_and_its_pinned_memory_shows_in_stats() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = Options::default();
    options.set("sync", "false").unwrap();
    options.set("memtable_size", "64KiB").unwrap();
    let db = Database::open(dir.path(), options).unwrap();
    db.put(b"seen", b"before").unwrap();
    let long = db
        .begin_with(&TransactionOptions::new().isolation(Isolation::Serializable))
        .unwrap();
    assert_eq!(long.get(b"seen").unwrap(), Some(b"before".to_vec()));
    let start = long.sequence();
    for i in 0..5000u32 {
        db.put(format!("key{i:05}").as_bytes(), &[7u8; 100])
            .unwrap();
    }
    db.flush().unwrap();
    let stats = db.stats();
    assert_eq!(stats.frozen_memtables, 0, "the merge kept up");
    assert!(stats.tree_keys >= 5000);
    assert!(stats.pinned_memtables >= 1, "{stats}");
    assert!(stats.pinned_memtable_bytes > 0);
    assert_eq!(stats.open_transactions, 1);
    assert_eq!(stats.oldest_transaction_sequence, start);
    assert!(stats.conflict_keys >= 5000, "{stats}");
    assert!(stats.conflict_bytes > stats.conflict_keys * 8);
    // The long transaction still reads its snapshot.
    assert_eq!(long.get(b"key00000").unwrap(), None);
    assert_eq!(collect(long.iter(Range::prefix(b"key"))).len(), 0);
    long.put(b"unrelated", b"1").unwrap();
    assert!(
        conflict(long.commit()),
        "it read a range that was written to"
    );
    let stats = db.stats();
    assert_eq!(
        (stats.pinned_memtables, stats.conflict_keys),
        (0, 0),
        "{stats}"
    );
    assert_eq!(stats.oldest_transaction_sequence, 0);
}

#[test]
fn committed_transactions_survive_reopen_and_open_ones_vanish() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), Options::default()).unwrap();
    let txn = db
        .begin_with(&TransactionOptions::new().durability(Durability::Sync))
        .unwrap();
    for i in 0..100u32 {
        txn.put(format!("k{i:03}").as_bytes(), b"v").unwrap();
    }
    txn.commit().unwrap();
    let open_one = db.begin().unwrap();
    open_one.put(b"never", b"committed").unwrap();
    db.close().unwrap();
    // Its database is closed: the commit is refused, and it still reads its snapshot.
    assert_eq!(open_one.commit().unwrap_err().code(), ErrorCode::Closed);

    let db = Database::open(dir.path(), Options::default()).unwrap();
    assert_eq!(collect(db.iter(Range::prefix(b"k")).unwrap()).len(), 100);
    assert_eq!(db.get(b"never").unwrap(), None);
}

#[test]
fn transactions_and_their_iterators_can_move_between_threads() {
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<Transaction>();
    fn send<T: Send>() {}
    send::<lightning_db::Iter>();
    send::<lightning_db::Cursor>();
}
