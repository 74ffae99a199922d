"""Closing: every object of a closed database raises ClosedError (never crashes), closing twice
is fine, and the directory can be opened again at once, even while old objects are alive."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from typing import Any

import pytest

import lightning_db
from lightning_db import Database


def live_objects(db: Database) -> dict[str, Any]:
    """One of each kind of object, made while `db` is open."""
    db.put(b"a", b"1")
    db.put(b"b", b"2")
    txn = db.begin()
    txn.put(b"t", b"1")
    snap = db.snapshot()
    load = db.bulk_load()  # last: while it is open, the database takes no other writes
    load.put(b"l", b"1")
    return {
        "snapshot": snap,
        "transaction": txn,
        "read_only_transaction": db.begin(read_only=True),
        "db_items": db.items(),
        "db_keys_started": started(db.keys()),
        "db_iter": iter(db),
        "snapshot_values": snap.values(reverse=True),
        "transaction_items": started(txn.items()),
        "bound_batch": db.write_batch(),
        "batch": filled_batch(),
        "bulk_load": load,
    }


def started(it: Any) -> Any:
    next(it)
    return it


def filled_batch() -> lightning_db.WriteBatch:
    batch = lightning_db.WriteBatch()
    batch.put(b"c", b"3")
    return batch


def database_calls(db: Database, batch: lightning_db.WriteBatch) -> dict[str, Callable[[], object]]:
    return {
        "get": lambda: db.get(b"a"),
        "get default": lambda: db.get(b"zz", b"d"),
        "put": lambda: db.put(b"a", b"x"),
        "put sync": lambda: db.put(b"a", b"x", sync=True),
        "delete": lambda: db.delete(b"a"),
        "getitem": lambda: db[b"a"],
        "getitem absent": lambda: db[b"absent"],
        "setitem": lambda: db.__setitem__(b"a", b"x"),
        "delitem": lambda: db.__delitem__(b"a"),
        "contains": lambda: b"a" in db,
        "iter": lambda: iter(db),
        "items": lambda: db.items(),
        "keys": lambda: db.keys(prefix=b"a"),
        "values": lambda: db.values(b"a", b"z", reverse=True),
        "write": lambda: db.write(batch),
        "snapshot": db.snapshot,
        "begin": db.begin,
        "transaction": lambda: db.transaction(lambda t: t.put(b"a", b"x")),
        "bulk_load": db.bulk_load,
        "sync": db.sync,
        "flush": db.flush,
        "stats": db.stats,
        "verify": db.verify,
    }


def object_calls(objs: dict[str, Any]) -> dict[str, Callable[[], object]]:
    snap, txn, ro = objs["snapshot"], objs["transaction"], objs["read_only_transaction"]
    calls: dict[str, Callable[[], object]] = {
        "snapshot.get": lambda: snap.get(b"a"),
        "snapshot[]": lambda: snap[b"a"],
        "snapshot contains": lambda: b"a" in snap,
        "snapshot.items": lambda: snap.items(),
        "snapshot.keys": lambda: snap.keys(),
        "snapshot.values": lambda: snap.values(),
        "snapshot.sequence": lambda: snap.sequence,
        "transaction.get": lambda: txn.get(b"a"),
        "transaction[]": lambda: txn[b"a"],
        "transaction[]=": lambda: txn.__setitem__(b"a", b"x"),
        "transaction contains": lambda: b"a" in txn,
        "transaction.put": lambda: txn.put(b"a", b"x"),
        "transaction.delete": lambda: txn.delete(b"a"),
        "transaction.items": lambda: txn.items(),
        "transaction.keys": lambda: txn.keys(),
        "transaction.values": lambda: txn.values(),
        "transaction.commit": txn.commit,
        "transaction.rollback": txn.rollback,
        "read-only transaction.get": lambda: ro.get(b"a"),
        "read-only transaction.commit": ro.commit,
        "bound batch, with block": lambda: bound_batch_block(objs["bound_batch"]),
        "bulk load.put": lambda: objs["bulk_load"].put(b"m", b"x"),
        "bulk load.put_many": lambda: objs["bulk_load"].put_many([(b"n", b"x")]),
        "bulk load.commit": objs["bulk_load"].commit,
        "bulk load.abort": objs["bulk_load"].abort,
        "bulk load, with block": lambda: bulk_load_block(objs["bulk_load"]),
    }
    for name in ("db_items", "db_keys_started", "db_iter", "snapshot_values", "transaction_items"):
        calls[f"next({name})"] = stepper(objs[name])
    return calls


def stepper(it: Any) -> Callable[[], object]:
    return lambda: next(it)


def bound_batch_block(batch: lightning_db.WriteBatch) -> None:
    with batch:
        batch.put(b"x", b"1")


def bulk_load_block(load: lightning_db.BulkLoad) -> None:
    with load:
        load.put(b"x", b"1")


def assert_all_closed(calls: dict[str, Callable[[], object]]) -> None:
    failures = []
    for name, call in calls.items():
        try:
            result = call()
        except lightning_db.ClosedError as e:
            assert e.code == "CLOSED"
            continue
        except BaseException as e:
            failures.append(f"{name}: raised {type(e).__name__}: {e}")
            continue
        failures.append(f"{name}: returned {result!r}")
    assert not failures, "\n".join(failures)


def test_every_database_call_after_close_raises_closed_error(db: Database) -> None:
    batch = filled_batch()
    db.close()
    assert db.closed
    assert_all_closed(database_calls(db, batch))
    # These describe the handle and keep working.
    assert db.closed
    assert db.path
    assert "closed" in repr(db)


def test_every_child_object_after_close_raises_closed_error(db: Database) -> None:
    objs = live_objects(db)
    db.close()
    assert_all_closed(object_calls(objs))
    # Releasing a snapshot that the database already released is fine.
    objs["snapshot"].close()
    objs["snapshot"].close()
    # A standalone batch does not belong to a database: it stays usable.
    batch = objs["batch"]
    batch.put(b"d", b"4")
    assert len(batch) == 2
    batch.clear()


def test_write_batch_after_close_raises_closed_error(db: Database) -> None:
    db.close()
    with pytest.raises(lightning_db.ClosedError):
        db.write_batch()


def test_close_twice_and_context_manager(db_path: str) -> None:
    db = lightning_db.open(db_path)
    db.close()
    db.close()
    with db:  # entering a closed database is allowed; leaving it closes again: fine
        pass
    with lightning_db.open(db_path) as db2:
        assert db2.__enter__() is db2
        db2.put(b"k", b"v")
    assert db2.closed
    with pytest.raises(lightning_db.ClosedError):
        db2.get(b"k")
    with pytest.raises(RuntimeError):
        with lightning_db.open(db_path) as db3:
            raise RuntimeError
    assert db3.closed  # closed on an exception too


def test_reopen_while_old_objects_are_alive(db_path: str) -> None:
    db = lightning_db.open(db_path)
    objs = live_objects(db)
    db.close()
    # The directory's lock is free at once, although the old objects hold C handles no more.
    db2 = lightning_db.open(db_path)
    assert dict(db2.items()) == {b"a": b"1", b"b": b"2"}  # the open transaction never committed
    db2.put(b"n", b"new")
    # The old objects still raise ClosedError; they do not reach the new handle.
    assert_all_closed(object_calls(objs))
    assert_all_closed(database_calls(db, objs["batch"]))
    assert db2[b"n"] == b"new"
    assert b"x" not in db2
    # Dropping the old objects now leaves the new handle alone.
    del objs, db
    gc.collect()
    assert db2[b"a"] == b"1"
    db2.close()
    with lightning_db.open(db_path) as db3:
        assert dict(db3.items()) == {b"a": b"1", b"b": b"2", b"n": b"new"}


def test_reopen_many_times(db_path: str) -> None:
    for i in range(30):
        with lightning_db.open(db_path) as db:
            assert db.get(b"count") == (str(i - 1).encode() if i else None)
            db.put(b"count", str(i).encode())
            snap = db.snapshot()
            it = db.keys()
        assert snap is not None and it is not None


def test_dropping_an_open_database_releases_its_lock(db_path: str) -> None:
    db = lightning_db.open(db_path)
    db.put(b"k", b"v")
    snap = db.snapshot()
    del db
    gc.collect()
    # The snapshot still refers to the database's state; it keeps working until it is released.
    assert snap.get(b"k") == b"v"
    del snap
    gc.collect()
    with lightning_db.open(db_path) as again:
        assert again[b"k"] == b"v"


def test_close_while_other_threads_use_the_database(db: Database) -> None:
    for i in range(100):
        db.put(b"k%03d" % i, b"v")
    start = threading.Barrier(5)
    outcomes: list[str] = []

    def worker(n: int) -> None:
        start.wait()
        try:
            while True:
                if n % 2:
                    db.put(b"k%03d" % (n * 7 % 100), b"w", sync=False)
                else:
                    for _ in db.items():
                        pass
        except lightning_db.ClosedError:
            outcomes.append("closed")
        except BaseException as e:  # pragma: no cover - reported below
            outcomes.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    start.wait()
    threading.Event().wait(0.2)
    db.close()
    for t in threads:
        t.join(30)
        assert not t.is_alive()
    assert outcomes == ["closed"] * 4
