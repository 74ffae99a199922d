"""Threads: one Database shared by many threads; concurrent transactions with the retry helper
keep a counter exact; blocking calls release the GIL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

import lightning_db
from lightning_db import Database

THREADS = 8


def run_threads(n: int, target: Callable[[int], None], timeout: float = 60) -> None:
    """Runs `target(i)` in `n` threads started together; re-raises the first failure."""
    start = threading.Barrier(n)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            start.wait()
            target(i)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a thread did not finish"
    if errors:
        raise errors[0]


def test_many_threads_share_one_database(db: Database) -> None:
    per_thread = 300

    def work(i: int) -> None:
        for j in range(per_thread):
            key = b"t%02d-%04d" % (i, j)
            kind = j % 5
            if kind == 0:
                db.put(key, key, sync=False)
            elif kind == 1:
                db[key] = key
            elif kind == 2:
                with db.write_batch(sync=False) as batch:
                    batch.put(key, key)
                    batch.put(key + b"-x", b"x")
                    batch.delete(key + b"-x")
            elif kind == 3:
                with db.begin() as txn:
                    txn.put(key, key)
            else:
                db.transaction(lambda t: t.put(key, key))
            assert db[key] == key
            if j % 50 == 0:
                mine = list(db.keys(prefix=b"t%02d-" % i))
                assert mine == [b"t%02d-%04d" % (i, n) for n in range(j + 1)]
                with db.snapshot() as snap:
                    assert snap[key] == key
                db.stats()

    run_threads(THREADS, work)
    assert len(list(db.keys())) == THREADS * per_thread
    for k, v in db.items():
        assert k == v
    db.verify()


@pytest.mark.parametrize("isolation", ["snapshot", "serializable"])
def test_concurrent_transactions_keep_a_counter_exact(db: Database, isolation: str) -> None:
    db.put(b"counter", b"0")
    per_thread = 60
    attempts = [0] * THREADS

    def increment(i: int) -> None:
        def body(txn: lightning_db.Transaction) -> None:
            attempts[i] += 1
            n = int(txn[b"counter"])
            txn.put(b"counter", str(n + 1).encode())
            txn.put(b"last", b"%d" % i)

        for _ in range(per_thread):
            db.transaction(body, isolation=isolation, max_retries=1000)  # type: ignore[arg-type]

    before = int(db.stats()["transaction_conflicts"])
    run_threads(THREADS, increment)
    assert db[b"counter"] == str(THREADS * per_thread).encode()
    conflicts = int(db.stats()["transaction_conflicts"]) - before
    assert sum(attempts) == THREADS * per_thread + conflicts
    assert db.stats()["open_transactions"] == 0


def test_concurrent_transfers_keep_a_sum(db: Database) -> None:
    accounts = 10
    for a in range(accounts):
        db.put(b"acct%d" % a, b"100")

    def transfer(i: int) -> None:
        for j in range(80):
            src, dst = (i + j) % accounts, (i * 3 + j + 1) % accounts
            if src == dst:
                continue

            def body(txn: lightning_db.Transaction) -> None:
                a, b = int(txn[b"acct%d" % src]), int(txn[b"acct%d" % dst])
                txn.put(b"acct%d" % src, str(a - 1).encode())
                txn.put(b"acct%d" % dst, str(b + 1).encode())

            db.transaction(body, max_retries=1000)

    def audit(_: int) -> None:
        for _ in range(100):
            with db.snapshot() as snap:
                assert sum(int(v) for v in snap.values()) == 100 * accounts

    run_threads(4, lambda i: transfer(i) if i < 3 else audit(i))
    assert sum(int(v) for v in db.values()) == 100 * accounts


def test_blocking_calls_release_the_gil(db_path: str) -> None:
    """While one thread is inside a long call (a 32 MiB write with fsync, a flush, a verify),
    another Python thread keeps running."""
    with lightning_db.open(db_path) as db:
        ticks: list[float] = []
        stop = threading.Event()

        def ticker() -> None:
            while not stop.is_set():
                ticks.append(time.perf_counter())
                time.sleep(0.0005)

        big = bytes(32 << 20)
        calls: list[tuple[str, Callable[[], object]]] = [
            ("put", lambda: db.put(b"big", big, sync=True)),
            ("get", lambda: db.get(b"big")),
            ("flush", db.flush),
            ("verify", db.verify),
        ]
        thread = threading.Thread(target=ticker)
        thread.start()
        try:
            time.sleep(0.01)
            inside = {}
            for name, call in calls:
                t0 = time.perf_counter()
                call()
                t1 = time.perf_counter()
                inside[name] = (t1 - t0, sum(1 for t in ticks if t0 < t < t1))
        finally:
            stop.set()
            thread.join()
        # Each long call lasted some milliseconds; with the GIL held throughout, the ticker
        # could not have run at all during it.
        long_calls = {n: (d, k) for n, (d, k) in inside.items() if d > 0.02}
        assert long_calls, f"no call took long enough to tell: {inside}"
        for name, (duration, ticked) in long_calls.items():
            assert ticked >= 2, f"{name} held the GIL for {duration * 1000:.0f} ms: {inside}"


def test_threads_reading_snapshots_while_writers_write(db: Database) -> None:
    """Each snapshot sees a consistent state: every batch writes the same value to 10 keys."""
    with db.write_batch() as batch:
        for k in range(10):
            batch.put(b"g%d" % k, b"0")
    stop = threading.Event()

    def writer(i: int) -> None:
        for n in range(200):
            with db.write_batch(sync=False) as batch:
                for k in range(10):
                    batch.put(b"g%d" % k, b"%d-%d" % (i, n))
        stop.set()

    def reader(i: int) -> None:
        seen = 0
        while not stop.is_set() or seen < 5:
            with db.snapshot() as snap:
                assert len(set(snap.values())) == 1
            assert len(set(db.values())) == 1
            seen += 1

    run_threads(4, lambda i: writer(i) if i < 2 else reader(i))
