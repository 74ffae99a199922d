"""fork(): in the child, the parent's handles raise ClosedError (no hang, no crash, no write to
the parent's files); the parent keeps working."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from typing import Any

import pytest

import lightning_db
from lightning_db import Database

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork"),
    # Python 3.12+ warns about fork() in a process with threads (the database has a merge thread).
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def in_child(fn: Any, timeout: float = 30) -> dict[str, Any]:
    """Runs `fn()` in a forked child and returns what it returned (a small JSON value); the child
    leaves with os._exit, running no cleanup of the parent's. A child that hangs is killed."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 0
        try:
            os.close(read_end)
            result = fn()
        except BaseException as e:
            result = {"child failed": f"{type(e).__name__}: {e}"}
            code = 1
        try:
            with os.fdopen(write_end, "w") as out:
                json.dump(result, out)
        finally:
            os._exit(code)
    os.close(write_end)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read_end)
            raise AssertionError(f"the child hung for {timeout} s")
        time.sleep(0.005)
    with os.fdopen(read_end) as f:
        text = f.read()
    assert os.WIFEXITED(status), f"the child died: signal {os.WTERMSIG(status)}"
    parsed: dict[str, Any] = json.loads(text)
    assert os.WEXITSTATUS(status) == 0, parsed
    return parsed


def outcome(call: Any) -> str:
    try:
        call()
    except lightning_db.ClosedError as e:
        assert e.code == "CLOSED"
        assert "fork" in str(e)
        return "ClosedError"
    except BaseException as e:
        return f"{type(e).__name__}: {e}"
    return "no error"


def test_child_gets_closed_error_parent_keeps_working(db_path: str) -> None:
    db = lightning_db.open(db_path)
    db.put(b"a", b"1")
    snap = db.snapshot()
    txn = db.begin()
    txn.put(b"t", b"1")
    it = db.items()  # not started: its first step reads from the database
    batch = lightning_db.WriteBatch()
    batch.put(b"b", b"from the child")

    def child() -> dict[str, Any]:
        calls = {
            "get": lambda: db.get(b"a"),
            "put": lambda: db.put(b"x", b"from the child"),
            "delete": lambda: db.delete(b"a"),
            "getitem": lambda: db[b"a"],
            "contains": lambda: b"a" in db,
            "items": lambda: db.items(),
            "write": lambda: db.write(batch),
            "snapshot": db.snapshot,
            "begin": db.begin,
            "transaction": lambda: db.transaction(lambda t: None),
            "bulk_load": db.bulk_load,
            "sync": db.sync,
            "flush": db.flush,
            "stats": db.stats,
            "verify": db.verify,
            "close": db.close,
            "snapshot.get": lambda: snap.get(b"a"),
            "snapshot.items": lambda: snap.items(),
            "txn.get": lambda: txn.get(b"a"),
            "txn.put": lambda: txn.put(b"y", b"1"),
            "txn.commit": txn.commit,
            "next(it)": lambda: next(it),
        }
        results: dict[str, Any] = {name: outcome(call) for name, call in calls.items()}
        results["closed"] = db.closed
        # The parent's directory is still locked by the parent.
        results["reopen"] = outcome(lambda: lightning_db.open(db_path))
        return results

    results = in_child(child)
    closed = {k: v for k, v in results.items() if k not in ("closed", "reopen")}
    assert closed == {k: "ClosedError" for k in closed}, closed
    assert results["closed"] is True
    assert results["reopen"].startswith("LockedError")

    # The parent's handles all still work.
    assert not db.closed
    assert db[b"a"] == b"1"
    assert b"x" not in db
    db.put(b"p", b"parent")
    assert snap.get(b"p") is None
    assert list(it) == [(b"a", b"1")]  # the iterator's point in time was before the puts
    txn.commit()
    db.write(batch)
    assert dict(db.items()) == {b"a": b"1", b"b": b"from the child", b"p": b"parent", b"t": b"1"}
    db.verify()
    snap.close()
    db.close()
    with lightning_db.open(db_path) as again:
        assert again[b"t"] == b"1"


def test_child_gets_closed_error_from_a_started_iterator(db: Database) -> None:
    with db.write_batch() as batch:
        for i in range(10):
            batch.put(b"k%d" % i, b"v")
    it = db.keys()
    assert next(it) == b"k0"  # reads a first chunk of a few entries
    result = in_child(lambda: {"next": outcome(lambda: next(it))})
    assert result == {"next": "ClosedError"}


def test_child_gets_closed_error_from_the_parents_bulk_load(db: Database) -> None:
    db.put(b"a", b"old")
    load = db.bulk_load()
    load.put(b"b", b"parent")

    def child() -> dict[str, Any]:
        return {
            "put": outcome(lambda: load.put(b"c", b"child")),
            "put_many": outcome(lambda: load.put_many([(b"c", b"child")])),
            "commit": outcome(load.commit),
            "abort": outcome(load.abort),
        }

    assert in_child(child) == {k: "ClosedError" for k in ("put", "put_many", "commit", "abort")}
    load.put(b"d", b"parent")
    load.commit()
    assert dict(db.items()) == {b"a": b"old", b"b": b"parent", b"d": b"parent"}
    db.verify()


def test_child_dropping_the_parents_objects_leaves_the_parent_alone(db: Database) -> None:
    db.put(b"a", b"1")
    holder: dict[str, Any] = {"db": db, "snap": db.snapshot(), "txn": db.begin(), "it": db.keys()}

    def child() -> dict[str, Any]:
        import gc

        holder.clear()  # drops the child's references: must neither close nor write anything
        gc.collect()
        return {"ok": True}

    assert in_child(child) == {"ok": True}
    assert db[b"a"] == b"1"
    db.put(b"b", b"2")
    assert list(db.keys()) == [b"a", b"b"]
    db.verify()


def test_fork_while_other_threads_use_the_database(db: Database) -> None:
    stop = threading.Event()

    def busy() -> None:
        i = 0
        while not stop.is_set():
            db.put(b"k%d" % (i % 100), b"v", sync=False)
            list(db.keys(prefix=b"k1"))
            i += 1

    threads = [threading.Thread(target=busy) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for _ in range(5):
            result = in_child(lambda: {"get": outcome(lambda: db.get(b"k1"))})
            assert result == {"get": "ClosedError"}
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    db.put(b"done", b"1")
    assert db[b"done"] == b"1"


def test_child_can_use_a_database_of_its_own_while_the_parent_has_one_open(
    tmp_path: Any,
) -> None:
    # Regression test: with parking_lot's process-wide table of parked threads, this crashed or
    # spun about once in 50-300 forks (the child inherited the parent's parked merge thread).
    for n in range(150):
        for k in range(2):  # threads that start and stop, as in a test suite
            with lightning_db.open(str(tmp_path / f"other-{n}-{k}")) as other:
                other.put(b"k", b"v")
        with lightning_db.open(str(tmp_path / f"parent-{n}")) as parent:
            parent.put(b"k", b"v")

            def child(n: int = n) -> dict[str, Any]:
                import faulthandler

                faulthandler.disable()  # the crash is reported by the parent; no dump in the log
                with lightning_db.open(str(tmp_path / f"child-{n}")) as own:
                    own.put(b"k", b"v")
                    return {"own": own[b"k"].decode()}

            assert in_child(child, timeout=10) == {"own": "v"}, f"fork {n}"


def test_multiprocessing_fork_child_can_open_its_own(tmp_path: Any) -> None:
    if sys.platform != "linux":
        pytest.skip("the fork start method is tested on Linux")
    import multiprocessing

    path = str(tmp_path / "db")
    ctx = multiprocessing.get_context("fork")
    with lightning_db.open(path) as db:
        db.put(b"k", b"v")
    with ctx.Pool(2) as pool:
        # With a timeout: a pool waits forever for the result of a worker that died.
        assert pool.map_async(read_one, [(path, b"k")] * 2).get(60) == [b"v", b"v"]


def read_one(args: tuple[str, bytes]) -> bytes | None:
    path, key = args
    # Each worker opens the database itself, one at a time (a directory is opened once).
    import fcntl

    with open(path + ".mutex", "w") as m:
        fcntl.flock(m, fcntl.LOCK_EX)
        with lightning_db.open(path) as db:
            return db.get(key)


def test_parent_reopens_while_a_forked_child_lives(db_path: str) -> None:
    """The child lets go of the database's lock as fork() returns in it: the parent can close and
    reopen while a child that never opened the database is still running (it held the lock until
    it exited, before)."""
    db = lightning_db.open(db_path)
    db.put(b"k", b"parent")
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            os.close(ready_r)
            os.close(go_w)
            os.write(ready_w, b"r")
            os.read(go_r, 1)  # lives until the parent has reopened
        finally:
            os._exit(0)
    os.close(ready_w)
    os.close(go_r)
    try:
        assert os.read(ready_r, 1) == b"r"
        db.close()
        again = lightning_db.open(db_path)  # LockedError while the child lived, before
        assert again.get(b"k") == b"parent"
        again.close()
    finally:
        os.write(go_w, b"g")
        os.close(go_w)
        os.close(ready_r)
        _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
