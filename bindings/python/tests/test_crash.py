"""Crash test: a child process writes and prints an acknowledgement after each write returns;
the parent kills it with SIGKILL at a random moment, several times over, and checks after each
kill that every acknowledged write is there and that no batch or transaction is partly applied.

The child's operations, numbered n = 0, 1, 2, ... across all children (each child starts past the
last number of the one before, leaving room for the one that was in flight when it died):

- ``put n``: ``s<n>`` = single_value(n), with sync=True;
- ``buffered n``: ``s<n>`` = single_value(n), with sync=False (handed to the OS when it returns,
  so a process crash cannot lose it);
- ``del n m``: deletes ``s<m>``, an earlier put of the same child, with sync=True (the child
  prints ``will-del n m`` first, since it may die during the delete);
- ``batch n``: puts ``b<n>-0`` .. ``b<n>-<size(n)-1>`` and sets ``g0`` .. ``g9`` to n, atomically
  with sync=True;
- ``txn n``: a transaction (sync=True) that puts ``t<n>-0`` .. ``t<n>-<size(n)-1>`` and sets
  ``h0`` .. ``h4`` to n.

With a small memtable the children merge into the page file while they are killed, too.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import pytest

import lightning_db

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

ROUNDS = 8
OPTIONS = {"memtable_size": "64KiB"}

CHILD = r"""
import random, sys
import lightning_db

path, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)

def single_value(n): return b"%d;" % n * (n % 97 + 1)
def size(n): return n % 7 + 2
def ack(*words):  # one write of a whole line
    sys.stdout.write(" ".join(map(str, words)) + "\n")
    sys.stdout.flush()

db = lightning_db.open(path, memtable_size="64KiB")
ack("ready")
puts = []
while True:
    r = rng.random()
    if r < 0.3:
        db.put(b"s%08d" % n, single_value(n), sync=True)
        puts.append(n)
        ack("put", n)
    elif r < 0.4:
        db.put(b"s%08d" % n, single_value(n), sync=False)
        puts.append(n)
        ack("buffered", n)
    elif r < 0.5 and puts:
        m = puts.pop(rng.randrange(len(puts)))
        ack("will-del", n, m)
        db.delete(b"s%08d" % m, sync=True)
        ack("del", n, m)
    elif r < 0.8:
        with db.write_batch(sync=True) as batch:
            for i in range(size(n)):
                batch.put(b"b%08d-%d" % (n, i), b"%d" % n * 50)
            for g in range(10):
                batch.put(b"g%d" % g, b"%d" % n)
        ack("batch", n)
    else:
        with db.begin(sync=True) as txn:
            for i in range(size(n)):
                txn.put(b"t%08d-%d" % (n, i), b"%d" % n * 50)
            for h in range(5):
                txn.put(b"h%d" % h, b"%d" % n)
        ack("txn", n)
    n += 1
"""


def single_value(n: int) -> bytes:
    return b"%d;" % n * (n % 97 + 1)


def size(n: int) -> int:
    return n % 7 + 2


@dataclass
class History:
    """What the children acknowledged."""

    present: dict[bytes, bytes] = field(default_factory=dict)  # acknowledged, not deleted since
    deleted: set[bytes] = field(default_factory=set)  # acknowledged deletes
    maybe_deleted: set[bytes] = field(default_factory=set)  # a delete began, not acknowledged
    in_flight: set[int] = field(default_factory=set)  # numbers that may or may not have happened
    last_batch: int = -1
    last_txn: int = -1


def run_child(path: str, start: int, seed: int, kill_after: float) -> list[str]:
    """Runs a child from number `start`, kills it with SIGKILL `kill_after` seconds after it is
    ready, and returns every line it printed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, path, str(start), str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.endswith("\n"):  # a line cut short by the kill acknowledges nothing
                lines.append(line.strip())
            ready.set()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        if not ready.wait(30):
            proc.kill()
            raise AssertionError("the child did not start")
        time.sleep(kill_after)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(30)
        stderr = proc.stderr.read() if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, f"the child exited by itself: {stderr}"
    assert lines and lines[0] == "ready", (lines[:3], stderr)
    return lines[1:]


def record(history: History, lines: list[str]) -> int:
    """Adds the acknowledgements to `history`; returns the last number acknowledged."""
    last = -1
    for line in lines:
        kind, *args = line.split()
        n = int(args[0])
        last = n
        history.in_flight.discard(n)
        if kind in ("put", "buffered"):
            key = b"s%08d" % n
            history.present[key] = single_value(n)
        elif kind == "will-del":
            history.maybe_deleted.add(b"s%08d" % int(args[1]))
            history.in_flight.add(n)
            continue
        elif kind == "del":
            key = b"s%08d" % int(args[1])
            history.maybe_deleted.discard(key)
            history.present.pop(key, None)
            history.deleted.add(key)
        elif kind == "batch":
            history.last_batch = n
            for i in range(size(n)):
                history.present[b"b%08d-%d" % (n, i)] = b"%d" % n * 50
        elif kind == "txn":
            history.last_txn = n
            for i in range(size(n)):
                history.present[b"t%08d-%d" % (n, i)] = b"%d" % n * 50
        else:  # pragma: no cover
            raise AssertionError(f"unexpected line {line!r}")
    return last


def expected_value(key: bytes) -> bytes:
    """The value a child writes to `key` (of an s, b or t key)."""
    n = int(key[1:].split(b"-")[0])
    return single_value(n) if key[:1] == b"s" else b"%d" % n * 50


def check(path: str, history: History) -> None:
    """Checks the database against `history`, then settles what was in flight as found."""
    with lightning_db.open(path, **OPTIONS) as db:
        contents = dict(db.items())
        db.verify()
    problems = []
    # Every acknowledged write is there; every acknowledged delete too.
    for key, value in history.present.items():
        if key in history.maybe_deleted and key not in contents:
            continue
        if contents.get(key) != value:
            problems.append(f"acknowledged {key!r} is {contents.get(key)!r}, not {value[:20]!r}")
    for key in history.deleted:
        if key in contents:
            problems.append(f"deleted {key!r} is back")
    # Nothing partial: each batch or transaction is there whole or not at all; nothing is there
    # that no child wrote; every value is the one written.
    groups: dict[bytes, int] = {}
    for key, value in contents.items():
        if key[:1] in (b"g", b"h"):
            continue
        if value != expected_value(key):
            problems.append(f"{key!r} has a wrong value {value[:20]!r}")
        n = int(key[1:].split(b"-")[0])
        if key not in history.present and n not in history.in_flight:
            problems.append(f"unacknowledged {key!r} is there")
        if key[:1] in (b"b", b"t"):
            group = key.split(b"-")[0]
            groups[group] = groups.get(group, 0) + 1
    for group, count in groups.items():
        if count != size(int(group[1:])):
            problems.append(f"{group!r} is partial: {count} of {size(int(group[1:]))} keys")
    # The keys each batch (or transaction) sets together are equal, and at least as new as the
    # last acknowledged one.
    for prefix, count, last in ((b"g", 10, history.last_batch), (b"h", 5, history.last_txn)):
        values = {contents.get(b"%s%d" % (prefix, i)) for i in range(count)}
        if len(values) != 1:
            problems.append(f"{prefix!r} keys differ: {values}")
            continue
        found = values.pop()
        if last >= 0 and (found is None or int(found) < last):
            problems.append(f"{prefix!r} keys are {found!r}, older than {last}")
    assert not problems, "\n".join(problems[:20])
    # What was in flight is settled now: it must stay as found.
    for key in contents:
        if key[:1] in (b"s", b"b", b"t") and key not in history.present:
            history.present[key] = contents[key]
    for key in history.maybe_deleted:
        if key not in contents:
            history.present.pop(key, None)
            history.deleted.add(key)
    history.maybe_deleted.clear()
    history.in_flight.clear()
    if contents.get(b"g0") is not None:
        history.last_batch = int(contents[b"g0"])
    if contents.get(b"h0") is not None:
        history.last_txn = int(contents[b"h0"])


def test_sigkill_loses_no_acknowledged_write(db_path: str) -> None:
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng = random.Random(seed)
    history = History()
    start = 0
    acknowledged = 0
    for round_ in range(ROUNDS):
        lines = run_child(db_path, start, rng.randrange(1 << 30), rng.uniform(0.05, 0.5))
        last = record(history, lines)
        acknowledged += len(lines)
        in_flight = (last if last >= 0 else start - 1) + 1
        history.in_flight.add(in_flight)
        try:
            check(db_path, history)
        except AssertionError as e:
            raise AssertionError(f"seed {seed}, round {round_}: {e}") from None
        start = in_flight + 1
    assert acknowledged > ROUNDS * 5, "the children wrote too little to tell anything"
    assert os.path.exists(os.path.join(db_path, "data.ldb"))
