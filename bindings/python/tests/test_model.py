"""Model-based test: random operations on a database and on a dict that models it, compared
after every step (hypothesis stateful testing).

Operations: puts, deletes and reads with bytes, bytearray and memoryview; batches applied,
written or discarded; iteration of items/keys/values with ranges, prefixes and reverse, at
once and lazily (partly consumed while other writes happen); snapshots; transactions (snapshot
and serializable isolation, with conflicts predicted by the model), the retry helper; flushes
and reopening. A small memtable makes merges into the page file happen along the way.

LIGHTNING_MODEL_EXAMPLES sets the number of runs (default 100, about 6 s).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any, Callable, Optional

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    precondition,
    rule,
)

import lightning_db

Model = dict[bytes, bytes]

# Few distinct bytes, so keys collide and prefixes and ranges matter; b"" is a key too.
KEY_BYTES = [b"\x00", b"a", b"b", b"\xff"]
keys = st.lists(st.sampled_from(KEY_BYTES), max_size=3).map(b"".join)
values = st.one_of(
    st.binary(max_size=12),
    # Large values go to overflow pages.
    st.builds(lambda n, b: bytes([b]) * n, st.integers(3000, 9000), st.integers(0, 255)),
)
wrappers: st.SearchStrategy[Callable[[bytes], Any]] = st.sampled_from(
    [bytes, bytearray, memoryview]
)
syncs = st.sampled_from([None, True, False])
kinds = st.sampled_from(["items", "keys", "values"])


@st.composite
def ranges(draw: Any) -> dict[str, Any]:
    """Arguments of items/keys/values: a start/end range (either may be absent) or a prefix."""
    reverse = draw(st.booleans())
    if draw(st.integers(0, 3)) == 0:
        return {"prefix": draw(keys), "reverse": reverse}
    start = draw(st.none() | keys)
    end = draw(st.none() | keys)
    return {"start": start, "end": end, "reverse": reverse}


batch_ops = st.lists(st.tuples(keys, st.none() | values), max_size=8)


def expected(model: Model, rng: dict[str, Any], kind: str) -> list[Any]:
    """What items/keys/values(**rng) yields for `model`."""
    chosen = sorted(k for k in model if in_range(k, rng))
    if rng.get("reverse"):
        chosen.reverse()
    if kind == "keys":
        return chosen
    if kind == "values":
        return [model[k] for k in chosen]
    return [(k, model[k]) for k in chosen]


def in_range(key: bytes, rng: dict[str, Any]) -> bool:
    if "prefix" in rng:
        return key.startswith(rng["prefix"])
    start, end = rng.get("start"), rng.get("end")
    return (start is None or key >= start) and (end is None or key < end)


def call_range(obj: Any, kind: str, rng: dict[str, Any], wrap: Callable[[bytes], Any]) -> Any:
    """obj.items/keys/values(...) with bounds wrapped by `wrap`."""
    args = {k: (wrap(v) if isinstance(v, bytes) else v) for k, v in rng.items()}
    start, end = args.pop("start", None), args.pop("end", None)
    return getattr(obj, kind)(start, end, **args)


class OpenTxn:
    """A transaction under test and what the model knows of it."""

    def __init__(self, txn: lightning_db.Transaction, view: Model, isolation: str) -> None:
        self.txn = txn
        self.view = dict(view)  # the database as of begin, plus the transaction's own writes
        self.isolation = isolation
        self.written: set[bytes] = set()
        self.read_keys: set[bytes] = set()
        self.read_ranges: list[dict[str, Any]] = []

    def conflicts_with(self, changed: set[bytes]) -> bool:
        if not self.written:
            return False  # nothing to apply: reading as of begin is serializable already
        if self.written & changed:
            return True
        if self.isolation == "serializable":
            if self.read_keys & changed:
                return True
            return any(in_range(k, r) for r in self.read_ranges for k in changed)
        return False


class DatabaseMachine(RuleBasedStateMachine):
    snapshots = Bundle("snapshots")
    iterators = Bundle("iterators")

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="lightning-model-")
        self.path = os.path.join(self.dir, "db")
        self.db = lightning_db.open(self.path, memtable_size="64KiB", sync=False)
        self.model: Model = {}
        self.txn: Optional[OpenTxn] = None
        # Keys written to the database since the open transaction began.
        self.changed_since_begin: set[bytes] = set()
        self.generation = 0  # bumped by reopen: older snapshots and iterators are closed

    def teardown(self) -> None:
        try:
            self.db.close()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def wrote(self, key: bytes, value: Optional[bytes]) -> None:
        """Applies a write to the model."""
        if value is None:
            self.model.pop(key, None)
        else:
            self.model[key] = value
        self.changed_since_begin.add(key)

    # ----------------------------------------------------------------------------------------
    # Writes

    @rule(key=keys, value=values, wrap_key=wrappers, wrap_value=wrappers, sync=syncs)
    def put(self, key: bytes, value: bytes, wrap_key: Any, wrap_value: Any, sync: Any) -> None:
        if sync is None and wrap_key is bytes:
            self.db[wrap_key(key)] = wrap_value(value)
        else:
            self.db.put(wrap_key(key), wrap_value(value), sync=sync)
        self.wrote(key, value)

    @rule(key=keys, wrap=wrappers, sync=syncs)
    def delete(self, key: bytes, wrap: Any, sync: Any) -> None:
        self.db.delete(wrap(key), sync=sync)
        self.wrote(key, None)

    @rule(key=keys)
    def delitem(self, key: bytes) -> None:
        if key in self.model:
            del self.db[key]
            self.wrote(key, None)
        else:
            with pytest.raises(KeyError):
                del self.db[key]

    @rule(ops=batch_ops, mode=st.sampled_from(["with", "write", "abort"]), sync=syncs)
    def batch(self, ops: list[tuple[bytes, Optional[bytes]]], mode: str, sync: Any) -> None:
        def add(batch: lightning_db.WriteBatch) -> None:
            for key, value in ops:
                if value is None:
                    batch.delete(key)
                else:
                    batch.put(bytearray(key), memoryview(value))
            assert len(batch) == len(ops)

        if mode == "write":
            batch = lightning_db.WriteBatch()
            add(batch)
            self.db.write(batch, sync=sync)
        elif mode == "with":
            with self.db.write_batch(sync=sync) as batch:
                add(batch)
        else:
            with pytest.raises(RuntimeError):
                with self.db.write_batch(sync=sync) as batch:
                    add(batch)
                    raise RuntimeError("discard")
            return
        for key, value in ops:
            self.wrote(key, value)

    # ----------------------------------------------------------------------------------------
    # Reads

    @rule(key=keys, wrap=wrappers)
    def get(self, key: bytes, wrap: Any) -> None:
        want = self.model.get(key)
        assert self.db.get(wrap(key)) == want
        assert self.db.get(wrap(key), b"-default-") == (b"-default-" if want is None else want)
        assert (wrap(key) in self.db) == (want is not None)
        if want is None:
            with pytest.raises(KeyError):
                self.db[wrap(key)]
        else:
            got = self.db[wrap(key)]
            assert type(got) is bytes and got == want

    @rule(rng=ranges(), kind=kinds, wrap=wrappers)
    def scan(self, rng: dict[str, Any], kind: str, wrap: Any) -> None:
        assert list(call_range(self.db, kind, rng, wrap)) == expected(self.model, rng, kind)

    @rule(target=iterators, rng=ranges(), kind=kinds, take=st.integers(0, 5))
    def start_iterator(self, rng: dict[str, Any], kind: str, take: int) -> Any:
        it = call_range(self.db, kind, rng, bytes)
        want = expected(self.model, rng, kind)
        got = [x for _, x in zip(range(take), it)]
        assert got == want[: len(got)]
        return (it, want[len(got) :], self.generation)

    @rule(entry=consumes(iterators), take=st.integers(1, 10))
    def advance_iterator(self, entry: Any, take: int) -> None:
        it, rest, generation = entry
        if generation != self.generation:
            with pytest.raises(lightning_db.ClosedError):
                next(it)
            return
        got = [x for _, x in zip(range(take), it)]
        assert got == rest[: len(got)]  # as of when the iterator was made
        if len(got) < take:
            assert len(got) == len(rest)

    # ----------------------------------------------------------------------------------------
    # Snapshots

    @rule(target=snapshots)
    def take_snapshot(self) -> Any:
        return (self.db.snapshot(), dict(self.model), self.generation)

    @rule(entry=snapshots, key=keys, rng=ranges(), kind=kinds)
    def read_snapshot(self, entry: Any, key: bytes, rng: dict[str, Any], kind: str) -> None:
        snap, model, generation = entry
        if generation != self.generation:
            with pytest.raises(lightning_db.ClosedError):
                snap.get(key)
            return
        assert snap.get(key) == model.get(key)
        assert (key in snap) == (key in model)
        assert list(call_range(snap, kind, rng, bytearray)) == expected(model, rng, kind)

    @rule(entry=consumes(snapshots))
    def close_snapshot(self, entry: Any) -> None:
        snap, _, _ = entry
        snap.close()
        with pytest.raises(lightning_db.ClosedError):
            snap.get(b"a")

    # ----------------------------------------------------------------------------------------
    # Transactions

    @precondition(lambda self: self.txn is None)
    @rule(isolation=st.sampled_from(["snapshot", "serializable"]))
    def begin(self, isolation: str) -> None:
        txn = self.db.begin(isolation=isolation)  # type: ignore[arg-type]
        self.txn = OpenTxn(txn, self.model, isolation)
        self.changed_since_begin = set()

    @precondition(lambda self: self.txn is not None)
    @rule(key=keys, value=st.none() | values)
    def txn_write(self, key: bytes, value: Optional[bytes]) -> None:
        assert self.txn is not None
        if value is None:
            self.txn.txn.delete(key)
            self.txn.view.pop(key, None)
        else:
            self.txn.txn[key] = value
            self.txn.view[key] = value
        self.txn.written.add(key)

    @precondition(lambda self: self.txn is not None)
    @rule(key=keys, rng=ranges(), kind=kinds)
    def txn_read(self, key: bytes, rng: dict[str, Any], kind: str) -> None:
        assert self.txn is not None
        assert self.txn.txn.get(key) == self.txn.view.get(key)
        self.txn.read_keys.add(key)
        assert list(call_range(self.txn.txn, kind, rng, bytes)) == expected(
            self.txn.view, rng, kind
        )
        self.txn.read_ranges.append(rng)

    @precondition(lambda self: self.txn is not None and bool(self.txn.written | self.txn.read_keys))
    @rule(data=st.data(), value=st.none() | values)
    def write_what_the_transaction_touched(self, data: Any, value: Optional[bytes]) -> None:
        """A write outside the open transaction to a key it wrote or read: a conflict for a
        key it wrote, and for one it read under serializable isolation."""
        assert self.txn is not None
        key = data.draw(st.sampled_from(sorted(self.txn.written | self.txn.read_keys)))
        if value is None:
            self.db.delete(key)
        else:
            self.db.put(key, value)
        self.wrote(key, value)

    @precondition(lambda self: self.txn is not None)
    @rule(how=st.sampled_from(["commit", "rollback", "with-ok", "with-error"]))
    def finish(self, how: str) -> None:
        assert self.txn is not None
        open_txn, self.txn = self.txn, None
        txn = open_txn.txn
        if how == "rollback":
            txn.rollback()
            return
        if how == "with-error":
            with pytest.raises(RuntimeError):
                with txn:
                    raise RuntimeError("roll back")
            return
        conflict = open_txn.conflicts_with(self.changed_since_begin)
        try:
            if how == "commit":
                txn.commit()
            else:
                with txn:
                    pass
        except lightning_db.ConflictError:
            assert conflict, "unexpected ConflictError"
            event(f"{open_txn.isolation} transaction: conflict")
            return
        event(f"{open_txn.isolation} transaction: committed")
        assert not conflict, "a conflicting commit succeeded"
        for key in open_txn.written:
            self.wrote(key, open_txn.view.get(key))

    @precondition(lambda self: self.txn is None)
    @rule(ops=batch_ops, read=keys)
    def retry_helper(self, ops: list[tuple[bytes, Optional[bytes]]], read: bytes) -> None:
        def body(txn: lightning_db.Transaction) -> Optional[bytes]:
            seen = txn.get(read)
            for key, value in ops:
                if value is None:
                    txn.delete(key)
                else:
                    txn.put(key, value)
            return seen

        assert self.db.transaction(body) == self.model.get(read)
        for key, value in ops:
            self.wrote(key, value)

    # ----------------------------------------------------------------------------------------
    # Whole database

    @rule()
    def flush(self) -> None:
        self.db.flush()

    @rule()
    def reopen(self) -> None:
        if self.txn is not None:
            txn, self.txn = self.txn.txn, None
        else:
            txn = None
        self.db.close()
        if txn is not None:
            with pytest.raises(lightning_db.ClosedError):
                txn.commit()
        self.db = lightning_db.open(self.path, memtable_size="64KiB", sync=False)
        self.generation += 1

    @invariant()
    def contents_match(self) -> None:
        assert dict(self.db.items()) == self.model


TestDatabaseModel = DatabaseMachine.TestCase
TestDatabaseModel.settings = settings(
    max_examples=int(os.environ.get("LIGHTNING_MODEL_EXAMPLES", "100")),
    stateful_step_count=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
