"""Database.bulk_load() and lightning_db.BulkLoad: sorted pairs written straight into the tree
and made visible at once; the only writer while open; finished by commit or abort."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import lightning_db
from lightning_db import BulkLoad, Database

BYTES_LIKE = [bytes, bytearray, memoryview]


def big_pairs(n: int = 100_000, size: int = 100) -> Iterator[tuple[bytes, bytes]]:
    """`n` pairs in key order with values of `size` bytes: 100k of them make more than one of
    the engine's 8 MiB chunks."""
    for i in range(n):
        yield b"key%08d" % i, (b"%08d" % i) * (size // 8) + b"v" * (size % 8)


def expect_closed(call: Callable[[], object]) -> None:
    with pytest.raises(lightning_db.ClosedError) as raised:
        call()
    assert raised.value.code == "CLOSED"


# --------------------------------------------------------------------------------------------
# Loading


@pytest.mark.parametrize("method", ["put", "put_many"])
def test_a_load_larger_than_a_chunk_reads_back_whole(db_path: str, method: str) -> None:
    n = 100_000
    with lightning_db.open(db_path) as db:
        load = db.bulk_load()
        assert isinstance(load, BulkLoad)
        if method == "put":
            for k, v in big_pairs(n):
                load.put(k, v)
        else:
            load.put_many(big_pairs(n))
        assert db.get(b"key00000000") is None  # not visible before the commit
        load.commit()

        expected = dict(big_pairs(n))
        assert sum(len(k) + len(v) for k, v in expected.items()) > 8 << 20
        for k in (b"key00000000", b"key00050000", b"key00099999"):
            assert db[k] == expected[k]
        for i in range(0, n, 997):
            k = b"key%08d" % i
            assert db.get(k) == expected[k]
        assert db.get(b"key00100000") is None
        items = db.items()
        count = 0
        for (k, v), (ek, ev) in zip(items, big_pairs(n)):
            assert (k, v) == (ek, ev)
            count += 1
        assert count == n
        assert list(db.keys(b"key00099998")) == [b"key00099998", b"key00099999"]
        assert list(db.values(prefix=b"key0000000", reverse=True))[0] == expected[b"key00000009"]
        db.verify()
    with lightning_db.open(db_path) as again:  # durable
        assert sum(1 for _ in again.keys()) == n
        assert again[b"key00077777"] == expected[b"key00077777"]


@pytest.mark.parametrize("key_type", BYTES_LIKE)
@pytest.mark.parametrize("value_type", BYTES_LIKE)
def test_bytes_like_keys_and_values(db: Database, key_type: type, value_type: type) -> None:
    with db.bulk_load() as load:
        load.put(key_type(b"a"), value_type(b"1"))
        load.put_many([(key_type(b"b"), value_type(b"2")), (key_type(b"c"), value_type(b""))])
    assert dict(db.items()) == {b"a": b"1", b"b": b"2", b"c": b""}


def test_put_many_takes_any_iterable_of_pairs(db: Database) -> None:
    with db.bulk_load() as load:
        load.put_many([(b"a", b"1")])
        load.put_many(((b"b%d" % i, b"2") for i in range(3)))
        load.put_many({b"c": b"3", b"d": b"4"}.items())
        load.put_many([])
        load.put_many(iter([(b"e", b"5")]))
    assert list(db.keys()) == [b"a", b"b0", b"b1", b"b2", b"c", b"d", b"e"]


def test_a_load_replaces_existing_values_and_keeps_other_keys(db: Database) -> None:
    for k in (b"a", b"c", b"e"):
        db.put(k, b"old")
    with db.bulk_load() as load:
        load.put_many([(b"b", b"new"), (b"c", b"new"), (b"d", b"new")])
    assert dict(db.items()) == {
        b"a": b"old",
        b"b": b"new",
        b"c": b"new",
        b"d": b"new",
        b"e": b"old",
    }


# --------------------------------------------------------------------------------------------
# Errors


def test_a_key_out_of_order_is_an_invalid_argument_and_the_load_goes_on(db: Database) -> None:
    load = db.bulk_load()
    load.put(b"b", b"1")
    for bad in (b"a", b"b", b""):  # before, equal to, and far before the previous key
        with pytest.raises(lightning_db.InvalidArgumentError) as raised:
            load.put(bad, b"x")
        assert raised.value.code == "INVALID_ARGUMENT"
    load.put(b"c", b"2")
    load.commit()
    assert dict(db.items()) == {b"b": b"1", b"c": b"2"}


def test_put_many_stops_at_the_first_bad_pair_and_names_it(db: Database) -> None:
    load = db.bulk_load()
    pairs = [(b"k%05d" % i, b"v") for i in range(3000)]
    pairs.insert(2500, (b"k00000", b"out of order"))  # in the third group put
    with pytest.raises(lightning_db.InvalidArgumentError, match="^pair 2500: ") as raised:
        load.put_many(pairs)
    assert raised.value.code == "INVALID_ARGUMENT"
    # The load goes on, after the last pair it took.
    with pytest.raises(lightning_db.InvalidArgumentError, match="^pair 0: "):
        load.put_many([(b"k02499", b"again")])  # not after k02499
    load.put(b"z", b"last")
    load.commit()
    assert list(db.keys()) == [b"k%05d" % i for i in range(2500)] + [b"z"]


def test_put_many_type_errors_keep_the_pairs_before(db: Database) -> None:
    load = db.bulk_load()
    bad_pairs: list[Any] = [
        [(b"a", b"1"), [b"b", b"2"]],
        [(b"b", b"1"), (b"c",)],
        [(b"c", b"1"), b"dd"],
        [(b"d", b"1"), ("e", b"1")],
        [(b"e", b"1"), (b"f", 1)],
    ]
    messages = [
        "^pairs must be \\(key, value\\) tuples, not list$",
        "^pairs must be \\(key, value\\) tuples, not tuple$",
        "^pairs must be \\(key, value\\) tuples, not bytes$",
        "^key must be bytes, bytearray or memoryview, not str$",
        "^value must be bytes, bytearray or memoryview, not int$",
    ]
    for pairs, message in zip(bad_pairs, messages):
        with pytest.raises(TypeError, match=message):
            load.put_many(pairs)
    with pytest.raises(TypeError):
        load.put_many(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="^key must be bytes"):
        load.put("k", b"v")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="^value must be bytes"):
        load.put(b"k", None)  # type: ignore[arg-type]
    load.commit()
    assert list(db.keys()) == [b"a", b"b", b"c", b"d", b"e"]


def test_put_many_with_an_iterable_that_raises_keeps_the_pairs_before(db: Database) -> None:
    def pairs() -> Iterator[tuple[bytes, bytes]]:
        yield b"a", b"1"
        yield b"b", b"2"
        raise KeyError("from the iterable")

    with pytest.raises(KeyError, match="from the iterable"):
        with db.bulk_load() as load:
            load.put_many(pairs())
    assert list(db.keys()) == []  # the with block aborted
    load = db.bulk_load()
    with pytest.raises(KeyError):
        load.put_many(pairs())
    load.commit()
    assert dict(db.items()) == {b"a": b"1", b"b": b"2"}


def test_oversized_key_is_an_invalid_argument(db: Database) -> None:
    with db.bulk_load() as load:
        with pytest.raises(lightning_db.InvalidArgumentError):
            load.put(b"k" * 5000, b"v")
        load.put(b"k", b"v")
    assert dict(db.items()) == {b"k": b"v"}


# --------------------------------------------------------------------------------------------
# The only writer; reads as before


def test_other_writers_are_busy_while_a_load_is_open(db: Database) -> None:
    db.put(b"a", b"old")
    txn = db.begin()
    txn.put(b"t", b"1")
    load = db.bulk_load()
    batch = lightning_db.WriteBatch()
    batch.put(b"b", b"1")

    def batch_block() -> None:
        with db.write_batch() as bound:
            bound.put(b"b", b"1")

    busy: dict[str, Callable[[], object]] = {
        "put": lambda: db.put(b"a", b"x"),
        "put sync": lambda: db.put(b"a", b"x", sync=True),
        "delete": lambda: db.delete(b"a"),
        "setitem": lambda: db.__setitem__(b"a", b"x"),
        "delitem": lambda: db.__delitem__(b"a"),
        "write": lambda: db.write(batch),
        "bound batch": batch_block,
        "transaction commit": txn.commit,
        "transaction helper": lambda: db.transaction(lambda t: t.put(b"a", b"x")),
        "flush": db.flush,
        "compact": db.compact,
        "bulk_load": db.bulk_load,
    }
    for name, call in busy.items():
        with pytest.raises(lightning_db.BusyError) as raised:
            call()
        assert raised.value.code == "BUSY", name
    load.put(b"z", b"loaded")
    load.commit()
    # Writers may write again.
    db.put(b"a", b"new")
    db.write(batch)
    db.flush()
    with db.bulk_load() as again:
        again.put(b"zz", b"loaded too")
    assert dict(db.items()) == {b"a": b"new", b"b": b"1", b"z": b"loaded", b"zz": b"loaded too"}


def test_reads_during_a_load_see_the_database_as_before(db: Database) -> None:
    db.put(b"k", b"old")
    db.put(b"m", b"kept")
    before = db.snapshot()
    load = db.bulk_load()
    load.put_many([(b"a", b"new"), (b"k", b"new")])
    load.put(b"n", b"new")
    assert db[b"k"] == b"old"
    assert b"a" not in db and db.get(b"n") is None
    assert dict(db.items()) == {b"k": b"old", b"m": b"kept"}
    during = db.snapshot()
    with db.begin() as txn:  # reading in a transaction is fine too
        assert txn[b"k"] == b"old"
    load.commit()
    assert dict(db.items()) == {b"a": b"new", b"k": b"new", b"m": b"kept", b"n": b"new"}
    # Snapshots taken before the commit keep their point in time.
    assert dict(before.items()) == {b"k": b"old", b"m": b"kept"}
    assert dict(during.items()) == {b"k": b"old", b"m": b"kept"}


def test_reads_from_other_threads_go_on_during_a_load(db: Database) -> None:
    db.put(b"a", b"old")
    stop = threading.Event()
    seen: list[bytes | None] = []
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            while not stop.is_set():
                seen.append(db.get(b"a"))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        with db.bulk_load() as load:
            load.put(b"a", b"new")
            load.put_many(big_pairs(20_000))
    finally:
        stop.set()
        thread.join(30)
    assert not errors, errors
    assert seen and set(seen) <= {b"old", b"new"}
    assert db[b"a"] == b"new"
    assert b"key00019999" in db


# --------------------------------------------------------------------------------------------
# Finishing: commit, abort, with blocks, close


def test_context_manager_commits_on_a_clean_exit(db: Database) -> None:
    with db.bulk_load() as load:
        assert isinstance(load, BulkLoad)
        load.put(b"a", b"1")
        load.put(b"b", b"2")
    assert dict(db.items()) == {b"a": b"1", b"b": b"2"}
    expect_closed(lambda: load.put(b"c", b"3"))
    db.put(b"c", b"3")  # no longer busy


def test_context_manager_aborts_and_reraises_on_exception(db: Database) -> None:
    db.put(b"a", b"old")
    with pytest.raises(RuntimeError, match="in the block"):
        with db.bulk_load() as load:
            load.put(b"a", b"new")
            load.put(b"b", b"new")
            raise RuntimeError("in the block")
    assert dict(db.items()) == {b"a": b"old"}
    expect_closed(load.commit)
    db.put(b"c", b"1")  # no longer busy


@pytest.mark.parametrize("finish", ["commit", "abort"])
def test_finished_inside_a_with_block_exits_cleanly(db: Database, finish: str) -> None:
    with db.bulk_load() as load:
        load.put(b"a", b"1")
        getattr(load, finish)()
    assert dict(db.items()) == ({b"a": b"1"} if finish == "commit" else {})


def test_a_with_block_that_raises_after_a_commit_keeps_the_commit(db: Database) -> None:
    with pytest.raises(ValueError):
        with db.bulk_load() as load:
            load.put(b"a", b"1")
            load.commit()
            raise ValueError
    assert dict(db.items()) == {b"a": b"1"}


def test_a_finished_load_raises_closed_error(db: Database) -> None:
    load = db.bulk_load()
    load.put(b"a", b"1")
    load.commit()
    for call in (
        lambda: load.put(b"b", b"2"),
        lambda: load.put_many([(b"b", b"2")]),
        load.commit,
        load.abort,
    ):
        expect_closed(call)
    aborted = db.bulk_load()
    aborted.abort()
    for call in (lambda: aborted.put(b"b", b"2"), aborted.commit, aborted.abort):
        expect_closed(call)
    assert dict(db.items()) == {b"a": b"1"}


def test_abort_leaves_nothing(db: Database) -> None:
    db.put(b"k", b"old")
    load = db.bulk_load()
    load.put_many(big_pairs(20_000))
    load.put(b"z", b"new")
    load.abort()
    assert dict(db.items()) == {b"k": b"old"}
    db.put(b"after", b"1")  # no longer busy
    db.flush()
    db.verify()
    with db.bulk_load() as again:
        again.put(b"a", b"1")
    assert dict(db.items()) == {b"a": b"1", b"after": b"1", b"k": b"old"}


def test_an_empty_load_commits(db: Database) -> None:
    db.put(b"k", b"v")
    with db.bulk_load():
        pass
    assert dict(db.items()) == {b"k": b"v"}


def test_dropping_an_unfinished_load_abandons_it(db: Database) -> None:
    load = db.bulk_load()
    load.put(b"a", b"1")
    del load
    gc.collect()
    assert list(db.items()) == []
    db.put(b"b", b"2")  # no longer busy
    with db.bulk_load() as again:
        again.put(b"c", b"3")
    assert dict(db.items()) == {b"b": b"2", b"c": b"3"}


def test_closing_the_database_during_a_load(db_path: str) -> None:
    db = lightning_db.open(db_path)
    db.put(b"k", b"old")
    load = db.bulk_load()
    load.put_many(big_pairs(20_000))
    db.close()
    with pytest.raises(lightning_db.ClosedError):
        with load:  # commits at its end
            pass
    expect_closed(load.commit)
    expect_closed(lambda: load.put(b"z", b"1"))
    expect_closed(load.abort)
    expect_closed(db.bulk_load)
    # The directory is free at once, and the load left nothing.
    with lightning_db.open(db_path) as again:
        assert dict(again.items()) == {b"k": b"old"}
        again.put(b"n", b"1")
    del load
    gc.collect()


def test_closing_the_database_in_a_with_block(db_path: str) -> None:
    db = lightning_db.open(db_path)
    with pytest.raises(lightning_db.ClosedError):
        with db.bulk_load() as load:
            load.put(b"a", b"1")
            db.close()
    with pytest.raises(ZeroDivisionError):  # the block's own exception wins
        with lightning_db.open(db_path) as db2:
            with db2.bulk_load() as load:
                load.put(b"a", b"1")
                db2.close()
                _ = 1 / 0
    with lightning_db.open(db_path) as again:
        assert list(again.items()) == []


def test_closing_the_database_during_a_put_many_in_another_thread(db: Database) -> None:
    load = db.bulk_load()
    started = threading.Event()
    outcome: list[str] = []

    def pairs() -> Iterator[tuple[bytes, bytes]]:
        for i, pair in enumerate(big_pairs(200_000)):
            if i == 5000:
                started.set()
            yield pair

    def loader() -> None:
        try:
            load.put_many(pairs())
            outcome.append("done")
        except lightning_db.ClosedError:
            outcome.append("ClosedError")
        except BaseException as e:  # pragma: no cover - reported below
            outcome.append(f"{type(e).__name__}: {e}")

    thread = threading.Thread(target=loader)
    thread.start()
    assert started.wait(30)
    db.close()
    thread.join(60)
    assert not thread.is_alive()
    assert outcome in (["ClosedError"], ["done"]), outcome
    expect_closed(load.commit)
