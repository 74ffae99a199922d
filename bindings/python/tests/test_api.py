"""The API of lightning_db, call by call: Database, WriteBatch, iterators, Snapshot, Transaction
and the retry helper."""

from __future__ import annotations

import pathlib
import threading
from typing import Any, Callable

import pytest

import lightning_db
from lightning_db import Database

BYTES_LIKE = [bytes, bytearray, memoryview]
NOT_BYTES: list[object] = ["text", 1, None, 1.5, [1, 2], object()]


def fill(db: Database, keys: list[bytes]) -> None:
    with db.write_batch() as batch:
        for k in keys:
            batch.put(k, b"v" + k)


# --------------------------------------------------------------------------------------------
# Module and open


def test_module_contents() -> None:
    assert isinstance(lightning_db.__version__, str) and lightning_db.__version__
    for name in lightning_db.__all__:
        assert hasattr(lightning_db, name), name
    assert callable(lightning_db.open)


def test_open_creates_and_reopens(db_path: str) -> None:
    db = lightning_db.open(db_path)
    assert isinstance(db, Database)
    assert db.path == db_path
    assert not db.closed
    assert repr(db) == f'<lightning_db.Database "{db_path}" (open)>'
    db.put(b"k", b"v")
    db.close()
    assert db.closed
    assert "(closed)" in repr(db)
    assert (pathlib.Path(db_path) / "data.ldb").exists()
    with lightning_db.open(db_path) as again:
        assert again[b"k"] == b"v"


def test_open_takes_a_path_like(tmp_path: pathlib.Path) -> None:
    with lightning_db.open(tmp_path / "db") as db:
        db.put(b"k", b"v")
        assert db.path == str(tmp_path / "db")


def test_open_options_as_str_int_and_bool(db_path: str) -> None:
    with lightning_db.open(
        db_path,
        cache_size="8MiB",
        page_size=8192,
        sync=False,
        mmap=True,
        memtable_size=1 << 20,
        max_frozen_memtables=2,
        max_active_transactions=4,
        create_if_missing=True,
    ) as db:
        db.put(b"k", b"v")
        assert db.stats()["cache_capacity"] == 8 << 20


def test_open_option_of_another_type_is_a_type_error(db_path: str) -> None:
    with pytest.raises(TypeError, match="option cache_size must be a str, int or bool, not float"):
        lightning_db.open(db_path, cache_size=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not NoneType"):
        lightning_db.open(db_path, sync=None)  # type: ignore[arg-type]


def test_constructors_that_do_not_exist() -> None:
    with pytest.raises(TypeError):
        Database()
    with pytest.raises(TypeError):
        lightning_db.Items()
    with pytest.raises(TypeError):
        lightning_db.Snapshot()
    with pytest.raises(TypeError):
        lightning_db.Transaction()
    with pytest.raises(TypeError):
        lightning_db.BulkLoad()


# --------------------------------------------------------------------------------------------
# Point reads and writes


def test_put_get_delete(db: Database) -> None:
    assert db.get(b"missing") is None
    assert db.get(b"missing", b"dflt") == b"dflt"
    sentinel = object()
    assert db.get(b"missing", sentinel) is sentinel
    db.put(b"k", b"v")
    assert db.get(b"k") == b"v"
    assert db.get(b"k", b"dflt") == b"v"
    db.put(b"k", b"v2", sync=True)
    assert db.get(b"k") == b"v2"
    db.put(b"k", b"v3", sync=False)
    assert db.get(b"k") == b"v3"
    db.delete(b"k")
    assert db.get(b"k") is None
    db.delete(b"k")  # absent: fine
    db.delete(b"k", sync=True)
    db.delete(b"k", sync=False)


def test_mapping_protocol(db: Database) -> None:
    db[b"a"] = b"1"
    assert db[b"a"] == b"1"
    assert b"a" in db
    assert b"b" not in db
    with pytest.raises(KeyError) as raised:
        db[b"b"]
    assert raised.value.args == (b"b",)
    del db[b"a"]
    assert b"a" not in db
    with pytest.raises(KeyError) as raised:
        del db[b"a"]
    assert raised.value.args == (b"a",)
    fill(db, [b"x", b"y"])
    assert list(db) == [b"x", b"y"]


@pytest.mark.parametrize("key_type", BYTES_LIKE)
@pytest.mark.parametrize("value_type", BYTES_LIKE)
def test_bytes_like_keys_and_values(db: Database, key_type: type, value_type: type) -> None:
    key, value = key_type(b"key"), value_type(b"value")
    db.put(key, value)
    got = db.get(key_type(b"key"))
    assert type(got) is bytes and got == b"value"
    assert type(db[key]) is bytes
    assert key in db
    db[key] = value_type(b"other")
    assert db[b"key"] == b"other"
    assert list(db.items()) == [(b"key", b"other")]
    assert all(type(x) is bytes for pair in db.items() for x in pair)
    del db[key]
    db.put(key, value)
    db.delete(key)
    assert db.get(b"key") is None


def test_memoryview_slices_and_mutation_after_put(db: Database) -> None:
    buf = bytearray(b"0123456789")
    db.put(memoryview(buf)[2:5], memoryview(buf)[5:])
    assert db[b"234"] == b"56789"
    buf[:] = b"xxxxxxxxxx"  # the database kept a copy
    assert db[b"234"] == b"56789"


def test_empty_and_binary_keys_and_values(db: Database) -> None:
    db.put(b"", b"")
    assert db.get(b"") == b""
    assert b"" in db
    binary = bytes(range(256))
    db.put(binary, binary * 3)
    assert db[binary] == binary * 3
    db.put(b"\x00", b"zero")
    assert list(db.keys()) == [b"", b"\x00", binary]


def test_size_limits(db: Database) -> None:
    db.put(b"k" * 4096, b"v")
    assert db[b"k" * 4096] == b"v"
    big = bytes(range(256)) * 4096 * 2  # 2 MiB: overflow pages
    db.put(b"big", big)
    assert db[b"big"] == big
    db.flush()
    assert db[b"big"] == big
    with pytest.raises(lightning_db.InvalidArgumentError):
        db.put(b"k" * 4097, b"v")


def test_compact_gives_back_what_deletes_freed(db: Database) -> None:
    keys = [b"key%05d" % i for i in range(4000)]
    with db.write_batch() as batch:
        for k in keys:
            batch.put(k, b"v" * 400)
    db.flush()
    with db.write_batch() as batch:
        for i, k in enumerate(keys):
            if i % 10:
                batch.delete(k)
    db.flush()
    before = db.stats()["file_bytes"]
    given_back = db.compact()
    after = db.stats()["file_bytes"]
    assert isinstance(before, int) and isinstance(after, int)
    assert isinstance(given_back, int) and given_back > 0
    assert after + given_back == before
    assert after * 4 < before
    assert db.compact() == 0
    assert list(db.keys()) == keys[::10]
    assert db[b"key00010"] == b"v" * 400
    db.close()
    with pytest.raises(lightning_db.ClosedError):
        db.compact()


def test_values_of_every_size_around_the_read_buffer_come_back_whole(db: Database) -> None:
    # Short values are copied through a fixed buffer, longer ones read another way: both sides
    # of the boundary (2 KiB), and values that change size between two reads.
    sizes = [0, 1, 100, 2047, 2048, 2049, 4096, 70_000]
    for n in sizes:
        db.put(b"v%d" % n, bytes([n % 251]) * n)
    for _ in range(2):
        for n in sizes:
            assert db.get(b"v%d" % n) == bytes([n % 251]) * n
            assert db[b"v%d" % n] == bytes([n % 251]) * n
            assert b"v%d" % n in db
        db.flush()
    db.put(b"grows", b"x" * 10)
    db.put(b"grows", b"y" * 5000)
    assert db[b"grows"] == b"y" * 5000
    db.put(b"grows", b"z")
    assert db[b"grows"] == b"z"


@pytest.mark.parametrize("bad", NOT_BYTES)
def test_type_errors_name_the_argument_and_the_type(db: Database, bad: Any) -> None:
    type_name = type(bad).__name__
    message = f"must be bytes, bytearray or memoryview, not {type_name}"
    calls: dict[str, list[Callable[[], object]]] = {
        "key": [
            lambda: db.get(bad),
            lambda: db.put(bad, b"v"),
            lambda: db.delete(bad),
            lambda: db[bad],
            lambda: db.__setitem__(bad, b"v"),
            lambda: db.__delitem__(bad),
            lambda: bad in db,
        ],
        "value": [
            lambda: db.put(b"k", bad),
            lambda: db.__setitem__(b"k", bad),
        ],
    }
    for what, fns in calls.items():
        for fn in fns:
            with pytest.raises(TypeError, match=f"^{what} {message}$"):
                fn()
    if bad is not None:  # None means "no bound"
        for what in ("start", "end", "prefix"):
            with pytest.raises(TypeError, match=f"^{what} {message}$"):
                db.items(**{what: bad})
    assert list(db.items()) == []  # nothing was written


def test_type_errors_in_batches_snapshots_and_transactions(db: Database) -> None:
    batch = lightning_db.WriteBatch()
    with pytest.raises(TypeError, match="^key must be bytes"):
        batch.put("k", b"v")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="^value must be bytes"):
        batch.put(b"k", "v")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="^key must be bytes"):
        batch.delete(1)  # type: ignore[arg-type]
    assert len(batch) == 0
    with db.snapshot() as snap:
        with pytest.raises(TypeError, match="^key must be bytes.*not str$"):
            snap.get("k")  # type: ignore[call-overload]
        with pytest.raises(TypeError, match="^key must be bytes"):
            snap["k"]  # type: ignore[index]
        with pytest.raises(TypeError, match="^prefix must be bytes"):
            snap.keys(prefix="p")  # type: ignore[arg-type]
    with db.begin() as txn:
        with pytest.raises(TypeError, match="^key must be bytes.*not str$"):
            txn.get("k")  # type: ignore[call-overload]
        with pytest.raises(TypeError, match="^key must be bytes"):
            txn.put("k", b"v")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="^value must be bytes"):
            txn.put(b"k", 1)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="^key must be bytes"):
            txn.delete(None)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="^start must be bytes"):
            txn.values("a")  # type: ignore[arg-type]
    assert list(db.items()) == []


def test_sync_flush_stats_verify(db: Database) -> None:
    for i in range(100):
        db.put(b"k%03d" % i, b"v" * 100, sync=False)
    db.sync()
    db.flush()
    stats = db.stats()
    assert isinstance(stats, dict)
    assert stats["puts"] == 100
    assert all(isinstance(k, str) and isinstance(v, (int, str)) for k, v in stats.items())
    assert stats["tree_keys"] == 100
    report = db.verify()
    assert isinstance(report, dict)
    assert report["tree_keys"] == 100
    assert all(isinstance(v, int) for v in report.values())


# --------------------------------------------------------------------------------------------
# Batches


def test_write_batch_context_manager_applies_on_clean_exit(db: Database) -> None:
    db.put(b"gone", b"x")
    with db.write_batch() as batch:
        assert isinstance(batch, lightning_db.WriteBatch)
        batch.put(b"a", b"1")
        batch.put(bytearray(b"b"), memoryview(b"2"))
        batch.delete(b"gone")
        assert len(batch) == 3
        assert db.get(b"a") is None  # nothing applied before the block ends
    assert dict(db.items()) == {b"a": b"1", b"b": b"2"}
    assert len(batch) == 0  # cleared once applied


def test_write_batch_is_discarded_on_exception(db: Database) -> None:
    db.put(b"keep", b"x")
    with pytest.raises(RuntimeError, match="boom"):
        with db.write_batch(sync=True) as batch:
            batch.put(b"a", b"1")
            batch.delete(b"keep")
            raise RuntimeError("boom")
    assert dict(db.items()) == {b"keep": b"x"}
    assert len(batch) == 0


def test_write_batch_sync_option(db: Database) -> None:
    before = db.stats()["wal_syncs"]
    with db.write_batch(sync=True) as batch:
        batch.put(b"a", b"1")
    assert int(db.stats()["wal_syncs"]) > int(before)
    with db.write_batch(sync=False) as batch:
        batch.put(b"b", b"1")
    assert db[b"b"] == b"1"


def test_standalone_batch_with_write(db: Database) -> None:
    batch = lightning_db.WriteBatch()
    batch.put(b"a", b"1")
    batch.put(b"b", b"2")
    batch.delete(b"a")
    assert len(batch) == 3
    db.write(batch)
    assert dict(db.items()) == {b"b": b"2"}
    assert len(batch) == 3  # write() leaves the batch alone; it can be applied again
    db.put(b"a", b"x")
    db.write(batch, sync=True)
    assert dict(db.items()) == {b"b": b"2"}
    batch.clear()
    assert len(batch) == 0
    db.write(batch, sync=False)  # empty: fine
    # Without a database, a with block only clears it.
    with lightning_db.WriteBatch() as unbound:
        unbound.put(b"c", b"3")
    assert len(unbound) == 0
    assert b"c" not in db


def test_batch_later_operations_win(db: Database) -> None:
    with db.write_batch() as batch:
        batch.put(b"k", b"1")
        batch.delete(b"k")
        batch.put(b"k", b"2")
        batch.put(b"j", b"1")
        batch.delete(b"j")
    assert dict(db.items()) == {b"k": b"2"}


def test_batch_with_an_oversized_key_applies_nothing(db: Database) -> None:
    batch = lightning_db.WriteBatch()
    batch.put(b"ok", b"1")
    try:
        batch.put(b"k" * 4097, b"v")
    except lightning_db.InvalidArgumentError:
        return  # refused when added: fine too
    with pytest.raises(lightning_db.InvalidArgumentError):
        db.write(batch)
    assert list(db.items()) == []


def test_a_batch_refuses_the_put_that_would_pass_four_gib(db: Database) -> None:
    big = b"\x03" * (64 << 20)
    batch = lightning_db.WriteBatch()
    for i in range(63):  # each op is 64 MiB + 8 bytes: 63 fit in 4 GiB
        batch.put(bytes([i]), big)
    with pytest.raises(lightning_db.InvalidArgumentError, match="4 GiB"):
        batch.put(b"\x3f", big)
    assert len(batch) == 63
    batch.delete(b"\x3f")  # a small operation still fits
    assert len(batch) == 64


# --------------------------------------------------------------------------------------------
# Iteration

KEYS = [b"", b"a", b"ab", b"abc", b"b", b"ba", b"c", b"\xff", b"\xff\xff"]


def test_items_keys_values_in_order(db: Database) -> None:
    fill(db, list(reversed(KEYS)))
    assert list(db.keys()) == KEYS
    assert list(db.values()) == [b"v" + k for k in KEYS]
    assert list(db.items()) == [(k, b"v" + k) for k in KEYS]
    assert list(db) == KEYS
    assert list(db.keys(reverse=True)) == KEYS[::-1]
    assert list(db.items(reverse=True)) == [(k, b"v" + k) for k in reversed(KEYS)]


@pytest.mark.parametrize("reverse", [False, True])
def test_ranges(db: Database, reverse: bool) -> None:
    fill(db, KEYS)

    def expect(keys: list[bytes]) -> list[bytes]:
        return keys[::-1] if reverse else keys

    assert list(db.keys(b"ab", b"c", reverse=reverse)) == expect([b"ab", b"abc", b"b", b"ba"])
    assert list(db.keys(b"b", reverse=reverse)) == expect([b"b", b"ba", b"c", b"\xff", b"\xff\xff"])
    assert list(db.keys(end=b"ab", reverse=reverse)) == expect([b"", b"a"])
    assert list(db.keys(start=b"", reverse=reverse)) == expect(KEYS)
    assert list(db.keys(end=b"", reverse=reverse)) == []
    assert list(db.keys(b"c", b"a", reverse=reverse)) == []
    assert list(db.keys(b"a", b"a", reverse=reverse)) == []
    assert list(db.keys(b"aa", b"ab\x00", reverse=reverse)) == [b"ab"]
    assert list(db.keys(bytearray(b"a"), memoryview(b"b"), reverse=reverse)) == expect(
        [b"a", b"ab", b"abc"]
    )
    assert list(db.values(b"c", b"d", reverse=reverse)) == [b"vc"]
    assert list(db.items(b"c", b"d", reverse=reverse)) == [(b"c", b"vc")]


@pytest.mark.parametrize("reverse", [False, True])
def test_prefix(db: Database, reverse: bool) -> None:
    fill(db, KEYS)

    def expect(keys: list[bytes]) -> list[bytes]:
        return keys[::-1] if reverse else keys

    assert list(db.keys(prefix=b"a", reverse=reverse)) == expect([b"a", b"ab", b"abc"])
    assert list(db.keys(prefix=b"ab", reverse=reverse)) == expect([b"ab", b"abc"])
    assert list(db.keys(prefix=b"\xff", reverse=reverse)) == expect([b"\xff", b"\xff\xff"])
    assert list(db.keys(prefix=b"", reverse=reverse)) == expect(KEYS)
    assert list(db.keys(prefix=b"zz", reverse=reverse)) == []
    assert list(db.values(prefix=bytearray(b"b"), reverse=reverse)) == expect([b"vb", b"vba"])
    assert list(db.items(prefix=memoryview(b"c"), reverse=reverse)) == [(b"c", b"vc")]


def test_prefix_with_start_or_end_is_invalid(db: Database) -> None:
    with pytest.raises(lightning_db.InvalidArgumentError):
        db.keys(b"a", prefix=b"a")
    with pytest.raises(lightning_db.InvalidArgumentError):
        db.items(end=b"a", prefix=b"a")


def test_iterators_are_lazy_and_see_one_point_in_time(db: Database) -> None:
    keys = [b"k%04d" % i for i in range(1000)]
    fill(db, keys)
    it = db.items()
    assert iter(it) is it
    first = next(it)
    assert first == (b"k0000", b"vk0000")
    # Writes after the iterator was made are not seen by it.
    db.put(b"k0001", b"changed")
    db.delete(b"k0500")
    db.put(b"k9999", b"new")
    rest = list(it)
    assert [k for k, _ in rest] == keys[1:]
    assert rest[0] == (b"k0001", b"vk0001")
    with pytest.raises(StopIteration):
        next(it)
    with pytest.raises(StopIteration):
        next(it)
    assert db[b"k0001"] == b"changed"
    # A fresh iterator does see them.
    assert len(list(db.keys())) == 1000
    assert db.values(b"k0001", b"k0002") is not None


def test_iterator_made_before_a_write_to_an_empty_range(db: Database) -> None:
    it = db.keys(prefix=b"q")
    db.put(b"q1", b"1")
    assert list(it) == []
    assert list(db.keys(prefix=b"q")) == [b"q1"]


def test_many_live_iterators(db: Database) -> None:
    fill(db, KEYS)
    iterators = [db.keys() for _ in range(200)]
    for it in iterators[::2]:
        assert next(it) == b""
    del iterators[1::2]
    for it in iterators:
        assert list(it) == KEYS[1:]


def test_one_iterator_shared_by_threads_never_crashes(db: Database) -> None:
    fill(db, [b"k%05d" % i for i in range(20000)])
    it = db.keys()
    seen: list[bytes] = []
    errors: list[BaseException] = []

    def drain() -> None:
        while True:
            try:
                seen.append(next(it))
            except StopIteration:
                return
            except ValueError as e:  # "already running in another thread": allowed
                assert "another thread" in str(e)
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)
                return

    threads = [threading.Thread(target=drain) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sorted(seen) == [b"k%05d" % i for i in range(20000)]


# --------------------------------------------------------------------------------------------
# Snapshots


def test_snapshot_sees_the_moment_it_was_taken(db: Database) -> None:
    fill(db, [b"a", b"b", b"c"])
    snap = db.snapshot()
    assert isinstance(snap, lightning_db.Snapshot)
    seq = snap.sequence
    assert isinstance(seq, int) and seq > 0
    db.put(b"a", b"changed")
    db.delete(b"b")
    db.put(b"d", b"new")
    assert snap.get(b"a") == b"va"
    assert snap[b"b"] == b"vb"
    assert snap.get(b"d") is None
    assert snap.get(b"d", b"dflt") == b"dflt"
    assert b"b" in snap and b"d" not in snap
    with pytest.raises(KeyError):
        snap[b"d"]
    assert list(snap.keys()) == [b"a", b"b", b"c"]
    assert list(snap.values(reverse=True)) == [b"vc", b"vb", b"va"]
    assert list(snap.items(b"b")) == [(b"b", b"vb"), (b"c", b"vc")]
    assert list(snap.keys(end=b"b")) == [b"a"]
    assert list(snap.keys(prefix=b"c")) == [b"c"]
    assert snap.sequence == seq
    assert db.snapshot().sequence > seq
    snap.close()
    snap.close()  # twice: fine
    with pytest.raises(lightning_db.ClosedError, match="snapshot is closed"):
        snap.get(b"a")


def test_snapshot_context_manager(db: Database) -> None:
    db.put(b"a", b"1")
    with db.snapshot() as snap:
        db.put(b"a", b"2")
        assert snap[b"a"] == b"1"
    with pytest.raises(lightning_db.ClosedError):
        snap.get(b"a")
    with pytest.raises(ZeroDivisionError):
        with db.snapshot() as snap2:
            1 / 0
    with pytest.raises(lightning_db.ClosedError):
        snap2.keys()


def test_snapshot_survives_flush(db: Database) -> None:
    fill(db, [b"k%03d" % i for i in range(200)])
    with db.snapshot() as snap:
        for i in range(200):
            db.delete(b"k%03d" % i)
        db.flush()
        assert len(list(snap.items())) == 200
        assert snap[b"k100"] == b"vk100"
    assert list(db.items()) == []


# --------------------------------------------------------------------------------------------
# Transactions


def test_transaction_reads_its_own_writes_and_commits(db: Database) -> None:
    fill(db, [b"a", b"b"])
    txn = db.begin()
    assert isinstance(txn, lightning_db.Transaction)
    txn.put(b"c", b"3")
    txn[b"d"] = bytearray(b"4")
    txn.delete(b"a")
    assert txn.get(b"c") == b"3"
    assert txn[b"d"] == b"4"
    assert txn.get(b"a") is None
    assert txn.get(b"a", b"dflt") == b"dflt"
    assert b"a" not in txn and b"b" in txn
    with pytest.raises(KeyError):
        txn[b"a"]
    with pytest.raises(KeyError):
        del txn[b"a"]  # deleted by this transaction: absent as it sees it
    txn[b"e"] = b"5"
    del txn[b"e"]
    assert b"e" not in txn
    assert list(txn.keys()) == [b"b", b"c", b"d"]
    assert list(txn.items(reverse=True)) == [(b"d", b"4"), (b"c", b"3"), (b"b", b"vb")]
    assert list(txn.values(b"c")) == [b"3", b"4"]
    assert list(txn.keys(prefix=b"d")) == [b"d"]
    # Nothing is visible outside before commit.
    assert db.get(b"c") is None and db.get(b"a") == b"va"
    txn.commit()
    assert dict(db.items()) == {b"b": b"vb", b"c": b"3", b"d": b"4"}


def test_transaction_rollback(db: Database) -> None:
    db.put(b"a", b"1")
    txn = db.begin()
    txn.put(b"a", b"2")
    txn.put(b"b", b"2")
    txn.rollback()
    assert dict(db.items()) == {b"a": b"1"}


def test_transaction_reads_as_of_begin(db: Database) -> None:
    db.put(b"a", b"1")
    txn = db.begin()
    db.put(b"a", b"2")
    db.put(b"b", b"2")
    assert txn.get(b"a") == b"1"
    assert list(txn.keys()) == [b"a"]
    txn.rollback()


def test_finished_transaction_raises_closed_error(db: Database) -> None:
    for finish in ("commit", "rollback"):
        txn = db.begin()
        txn.put(b"k", b"v")
        getattr(txn, finish)()
        for call in (
            lambda: txn.get(b"k"),
            lambda: txn.put(b"k", b"v"),
            lambda: txn.delete(b"k"),
            lambda: txn[b"k"],
            lambda: b"k" in txn,
            lambda: txn.items(),
            lambda: txn.keys(),
            lambda: txn.values(),
            txn.commit,
            txn.rollback,
        ):
            with pytest.raises(lightning_db.ClosedError) as raised:
                call()
            assert raised.value.code == "CLOSED"


def test_transaction_context_manager(db: Database) -> None:
    with db.begin() as txn:
        txn.put(b"a", b"1")
    assert db[b"a"] == b"1"
    with pytest.raises(lightning_db.ClosedError):
        txn.get(b"a")  # committed
    with pytest.raises(KeyError):
        with db.begin() as txn:
            txn.put(b"a", b"2")
            txn.put(b"b", b"2")
            txn[b"missing"]
    assert dict(db.items()) == {b"a": b"1"}
    with pytest.raises(lightning_db.ClosedError):
        txn.get(b"a")  # rolled back
    # Finished inside a block that then raises: the exception is the one that propagates.
    with pytest.raises(ValueError):
        with db.begin() as txn:
            txn.put(b"c", b"3")
            txn.commit()
            raise ValueError
    assert db[b"c"] == b"3"
    # A conflict at the end of a with block raises ConflictError.
    with pytest.raises(lightning_db.ConflictError):
        with db.begin() as txn:
            txn.put(b"a", b"mine")
            db.put(b"a", b"theirs")
    assert db[b"a"] == b"theirs"


@pytest.mark.parametrize("finish", ["commit", "rollback"])
def test_transaction_finished_inside_a_with_block_exits_cleanly(db: Database, finish: str) -> None:
    with db.begin() as txn:
        txn.put(b"c", b"3")
        getattr(txn, finish)()
    assert (b"c" in db) == (finish == "commit")


@pytest.mark.parametrize("isolation", ["snapshot", "serializable"])
def test_isolation_levels(db: Database, isolation: str) -> None:
    db.put(b"x", b"0")
    db.put(b"y", b"0")
    # Write skew: each reads the other's key and writes its own.
    t1 = db.begin(isolation=isolation)  # type: ignore[arg-type]
    t2 = db.begin(isolation=isolation)  # type: ignore[arg-type]
    assert t1.get(b"y") == b"0"
    assert t2.get(b"x") == b"0"
    t1.put(b"x", b"1")
    t2.put(b"y", b"1")
    t1.commit()
    if isolation == "serializable":
        with pytest.raises(lightning_db.ConflictError):
            t2.commit()
        assert db[b"y"] == b"0"
    else:
        t2.commit()
        assert db[b"y"] == b"1"


def test_serializable_detects_phantoms(db: Database) -> None:
    db.put(b"r1", b"1")
    txn = db.begin(isolation="serializable")
    assert list(txn.keys(prefix=b"r")) == [b"r1"]
    txn.put(b"count", b"1")
    db.put(b"r2", b"1")
    with pytest.raises(lightning_db.ConflictError):
        txn.commit()


def test_begin_bad_isolation(db: Database) -> None:
    with pytest.raises(ValueError, match="isolation must be 'snapshot' or 'serializable'"):
        db.begin(isolation="bogus")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="isolation must be"):
        db.transaction(lambda t: None, isolation="none")  # type: ignore[arg-type]


def test_read_only_transaction(db: Database) -> None:
    db.put(b"k", b"v")
    with db.begin(read_only=True) as txn:
        assert txn[b"k"] == b"v"
        with pytest.raises(lightning_db.ReadOnlyError):
            txn.put(b"k", b"x")
        with pytest.raises(lightning_db.ReadOnlyError):
            txn.delete(b"k")
        db.put(b"k", b"changed")  # read-only transactions never conflict
        assert txn[b"k"] == b"v"
    assert db[b"k"] == b"changed"


def test_begin_sync_option(db: Database) -> None:
    with db.begin(sync=True) as txn:
        txn.put(b"a", b"1")
    with db.begin(sync=False) as txn:
        txn.put(b"b", b"1")
    assert dict(db.items()) == {b"a": b"1", b"b": b"1"}


# --------------------------------------------------------------------------------------------
# The retry helper


def test_transaction_helper_commits_and_returns(db: Database) -> None:
    def body(txn: lightning_db.Transaction) -> str:
        txn.put(b"a", b"1")
        return "result"

    assert db.transaction(body) == "result"
    assert db[b"a"] == b"1"
    assert db.transaction(lambda t: None, isolation="serializable", sync=True) is None


def test_transaction_helper_retries_on_conflict(db: Database) -> None:
    db.put(b"counter", b"0")
    calls = 0

    def body(txn: lightning_db.Transaction) -> int:
        nonlocal calls
        calls += 1
        n = int(txn[b"counter"])
        txn.put(b"counter", str(n + 1).encode())
        if calls <= 3:
            db.put(b"counter", str(n + 100).encode())  # a concurrent write: conflict
        return calls

    assert db.transaction(body) == 4
    assert db[b"counter"] == b"301"
    assert int(db.stats()["transaction_conflicts"]) >= 3


def test_transaction_helper_gives_up_after_max_retries(db: Database) -> None:
    calls = 0

    def always_conflicts(txn: lightning_db.Transaction) -> None:
        nonlocal calls
        calls += 1
        txn.put(b"k", b"mine")
        db.put(b"k", b"theirs")

    with pytest.raises(lightning_db.ConflictError) as raised:
        db.transaction(always_conflicts, max_retries=2)
    assert raised.value.code == "CONFLICT"
    assert calls == 3
    calls = 0
    with pytest.raises(lightning_db.ConflictError):
        db.transaction(always_conflicts, max_retries=0)
    assert calls == 1
    assert db[b"k"] == b"theirs"


def test_transaction_helper_rolls_back_on_exception(db: Database) -> None:
    calls = 0

    def fails(txn: lightning_db.Transaction) -> None:
        nonlocal calls
        calls += 1
        txn.put(b"k", b"v")
        raise KeyError("mine")

    with pytest.raises(KeyError, match="mine"):
        db.transaction(fails)
    assert calls == 1  # only conflicts are retried
    assert b"k" not in db
    assert db.stats()["open_transactions"] == 0


def test_transaction_helper_conflict_raised_inside_fn_is_retried(db: Database) -> None:
    calls = 0

    def body(txn: lightning_db.Transaction) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            e = lightning_db.ConflictError("simulated")
            e.code = "CONFLICT"
            raise e
        txn.put(b"k", b"v")

    db.transaction(body)
    assert calls == 2
    assert db[b"k"] == b"v"


def test_transaction_helper_needs_a_callable(db: Database) -> None:
    with pytest.raises(TypeError):
        db.transaction(3)  # type: ignore[arg-type]
    assert db.stats()["open_transactions"] == 0


def test_transaction_helper_when_fn_commits_itself(db: Database) -> None:
    def body(txn: lightning_db.Transaction) -> str:
        txn.put(b"k", b"v")
        txn.commit()
        return "done"

    assert db.transaction(body) == "done"
    assert db[b"k"] == b"v"
