#!/usr/bin/env python3
"""lightning_db against py-lmdb and rocksdict: the same workloads, on one machine, in one run.

See README.md beside this file. Prints the machine, then, on stdout, one JSON line per
(engine, workload) as it finishes, in the style of the Rust bench (bench/src/main.rs):

    {"engine": "lmdb", "workload": "read_random", "ops_per_sec": 123456.7}

and at the end a table of operations per second (a row per workload, a column per engine, and
the ratios lightning/lmdb and lightning/rocksdict), then whether the project's targets are met.
Progress goes to stderr. Exit status 1 if a workload failed (a missed target is no failure).

Every engine runs with the same durability class: buffered writes (no fsync per write, each
engine's log or data file handed to the OS), and the bulk load made durable at its end.
The write workloads alternate chunks of 10,000 puts between the engines (a fresh database
each, all open at once); the bulk loads run one engine after the other; the read workloads
alternate whole passes between the engines (all loaded databases open at once). Interleaving
makes a slow phase of a shared machine fall on every engine alike.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from typing import Dict, List, Optional, Sequence, Tuple

KEY_LEN = 16
VALUE_LEN = 100
CACHE_BYTES = 512 << 20

ENGINES = ("lightning", "lmdb", "rocksdict")
WORKLOADS = ("bulk_load", "write_buffered", "write_batch_1000", "read_random", "scan")
READ_WORKLOADS = ("read_random", "scan")
WRITE_WORKLOADS = ("write_buffered", "write_batch_1000")
# (workload, peer): lightning's rate must be at least the peer's.
TARGETS = (("read_random", "lmdb"), ("scan", "lmdb"), ("write_buffered", "rocksdict"))

# Budgets: each loop stops at its count (the whole key set) or its time, whichever comes first.
WRITE_TIME = 10.0  # write_buffered, write_batch_1000: at most n puts or this long
WRITE_CHUNK = 10_000  # ... written in turns of this many puts per engine
MIN_READ_TIME = 1.0  # read_random, scan: passes until each engine has at least this long ...
MIN_READ_ROUNDS = 3  # ... and at least this many passes
READ_TIME = 10.0  # a read_random pass stops past this (for a big --n)
BATCH_SIZE = 1_000
CHUNK = 1_000  # timed loops look at the clock once per this many operations
WARMUP_READS = 10_000

# ------------------------------------------------------------------------------------------
# Data: the keys of the Rust bench (bench/src/workloads.rs, splitmix64), so both benches load
# the same keys; values are 100 seeded pseudo-random (incompressible) bytes.

MASK = (1 << 64) - 1
SEED = 0x4C69_6768_746E_696E
GOLDEN_GAMMA = 0x9E37_79B9_7F4A_7C15

LOADED_STREAM = 0
WRITE_BUFFERED_STREAM = 1
WRITE_BATCH_STREAM = 8


def mix64(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D0_49BB_1331_11EB) & MASK
    return z ^ (z >> 31)


def make_key(stream: int, i: int) -> bytes:
    counter = (stream << 40) + 2 * i
    hi = mix64((SEED + (counter + 1) * GOLDEN_GAMMA) & MASK)
    lo = mix64((SEED + (counter + 2) * GOLDEN_GAMMA) & MASK)
    return hi.to_bytes(8, "big") + lo.to_bytes(8, "big")


def make_pairs(stream: int, count: int) -> List[Tuple[bytes, bytes]]:
    """Pairs 0..count of `stream`, in generation (random) order."""
    blob = random.Random(SEED ^ stream).randbytes(VALUE_LEN * count)
    return [
        (make_key(stream, i), blob[i * VALUE_LEN : (i + 1) * VALUE_LEN]) for i in range(count)
    ]


def random_loaded_keys(seed: int, loaded: int, count: int) -> List[bytes]:
    """`count` keys drawn at random (splitmix64 seeded by `seed`) among the loaded ones."""
    state = seed
    out = []
    for _ in range(count):
        state = (state + GOLDEN_GAMMA) & MASK
        out.append(make_key(LOADED_STREAM, (mix64(state) * loaded) >> 64))
    return out


def chunks(seq: Sequence, size: int):
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


class BenchError(Exception):
    pass


# ------------------------------------------------------------------------------------------
# Engines. Each timed loop is written out per engine in the same shape (methods bound to
# locals, one Python call per database operation), so that only the engines differ.


class Lightning:
    name = "lightning"

    def __init__(self, path: str):
        import lightning_db

        self.mod = lightning_db
        self.db = lightning_db.open(path, cache_size="512MiB")

    def bulk_load(self, pairs):
        # The loading API, as py-lmdb's append mode: sorted pairs straight into the tree; the
        # commit fsyncs it.
        with self.db.bulk_load() as load:
            load.put_many(pairs)

    def put_until(self, pairs, deadline) -> int:
        put = self.db.put
        done = 0
        for chunk in chunks(pairs, CHUNK):
            for k, v in chunk:
                put(k, v, sync=False)
            done += len(chunk)
            if time.perf_counter() >= deadline:
                break
        return done

    def batches_until(self, pairs, deadline) -> int:
        db = self.db
        done = 0
        for chunk in chunks(pairs, BATCH_SIZE):
            with db.write_batch(sync=False) as batch:
                put = batch.put
                for k, v in chunk:
                    put(k, v)
            done += len(chunk)
            if time.perf_counter() >= deadline:
                break
        return done

    def get_until(self, keys, deadline) -> Tuple[int, int]:
        get = self.db.get
        done = missing = 0
        for chunk in chunks(keys, CHUNK):
            for k in chunk:
                if get(k) is None:
                    missing += 1
            done += len(chunk)
            if time.perf_counter() >= deadline:
                break
        return done, missing

    def scan(self) -> int:
        count = 0
        for k, v in self.db.items():
            count += 1
        return count

    def close(self):
        self.db.close()


class Lmdb:
    name = "lmdb"

    def __init__(self, path: str, map_size: int):
        import lmdb

        # sync=False: a commit writes to the OS but does not fsync (MDB_NOSYNC).
        self.env = lmdb.open(path, map_size=map_size, sync=False)

    def bulk_load(self, pairs):
        txn = self.env.begin(write=True)
        put = txn.put
        for k, v in pairs:
            put(k, v, append=True)
        txn.commit()
        self.env.sync(True)

    def put_until(self, pairs, deadline) -> int:
        begin = self.env.begin
        done = 0
        for chunk in chunks(pairs, CHUNK):
            for k, v in chunk:
                txn = begin(write=True)
                txn.put(k, v)
                txn.commit()
            done += len(chunk)
            if time.perf_counter() >= deadline:
                break
        return done

    def batches_until(self, pairs, deadline) -> int:
        begin = self.env.begin
        done = 0
        for chunk in chunks(pairs, BATCH_SIZE):
            txn = begin(write=True)
            put = txn.put
            for k, v in chunk:
                put(k, v)
            txn.commit()
            done += len(chunk)
            if time.perf_counter() >= deadline:
                break
        return done

    def get_until(self, keys, deadline) -> Tuple[int, int]:
        # One read transaction for the whole loop: how py-lmdb users read.
        done = missing = 0
        with self.env.begin() as txn:
            get = txn.get
            for chunk in chunks(keys, CHUNK):
                for k in chunk:
                    if get(k) is None:
                        missing += 1
                done += len(chunk)
                if time.perf_counter() >= deadline:
                    break
        return done, missing

    def scan(self) -> int:
        count = 0
        with self.env.begin() as txn:
            for k, v in txn.cursor():
                count += 1
        return count

    def close(self):
        self.env.close()


class RocksDict:
    name = "rocksdict"

    def __init__(self, path: str):
        import rocksdict

        self.mod = rocksdict
        options = rocksdict.Options(raw_mode=True)  # bytes in, bytes out (no pickling)
        options.create_if_missing(True)
        table = rocksdict.BlockBasedOptions()
        table.set_block_cache(rocksdict.Cache(CACHE_BYTES))
        options.set_block_based_table_factory(table)
        self.db = rocksdict.Rdict(path, options)
        write_options = rocksdict.WriteOptions()
        write_options.sync = False  # the default: WAL written, not fsynced
        write_options.disable_wal = False
        self.db.set_write_options(write_options)

    def bulk_load(self, pairs):
        batch = self.mod.WriteBatch(raw_mode=True)
        put = batch.put
        for k, v in pairs:
            put(k, v)
        self.db.write(batch)
        self.db.flush(wait=True)

    def put_until(self, pairs, deadline) -> int:
        put = self.db.put
        done = 0
        for chunk in chunks(pairs, CHUNK):
            for k, v in chunk:
                put(k, v)
            done += len(chunk)
            if time.perf_counter() >= deadline:
                break
        return done

    def batches_until(self, pairs, deadline) -> int:
        db, WriteBatch = self.db, self.mod.WriteBatch
        done = 0
        for chunk in chunks(pairs, BATCH_SIZE):
            batch = WriteBatch(raw_mode=True)
            put = batch.put
            for k, v in chunk:
                put(k, v)
            db.write(batch)
            done += len(chunk)
            if time.perf_counter() >= deadline:
                break
        return done

    def get_until(self, keys, deadline) -> Tuple[int, int]:
        get = self.db.get
        done = missing = 0
        for chunk in chunks(keys, CHUNK):
            for k in chunk:
                if get(k) is None:
                    missing += 1
            done += len(chunk)
            if time.perf_counter() >= deadline:
                break
        return done, missing

    def scan(self) -> int:
        count = 0
        for k, v in self.db.items():
            count += 1
        return count

    def close(self):
        self.db.close()


def open_engine(name: str, path: str, n: int):
    os.makedirs(path, exist_ok=True)
    if name == "lightning":
        return Lightning(path)
    if name == "lmdb":
        # Room for the loaded database and the write workloads' (3 x n pairs) with slack; the
        # file is sparse, so a big map costs nothing.
        return Lmdb(path, map_size=max(4 << 30, n * 4096))
    return RocksDict(path)


# ------------------------------------------------------------------------------------------
# Workloads.


def settle():
    """Writes back dirty pages of earlier workloads, and collects garbage, before a timed loop."""
    os.sync()
    gc.collect()


def interleaved_writes(names: List[str], workload: str, pairs, n: int, dir: str):
    """Runs write `workload` on a fresh database per engine, all open at once: chunks of
    WRITE_CHUNK pairs of `pairs` go to each engine in turn (the order rotating), so that a slow
    phase of a shared machine falls on every engine alike. Stops after the chunk in which some
    engine's total passed WRITE_TIME, so every engine writes the same keys. Yields (engine
    name, (ops, seconds) or the exception)."""
    engines: Dict[str, object] = {}
    failed: Dict[str, Exception] = {}
    totals = {name: [0, 0.0] for name in names}
    for name in names:
        try:
            engines[name] = open_engine(name, os.path.join(dir, name, workload), n)
        except Exception as e:  # noqa: BLE001 - reported, and the others go on
            failed[name] = e
    try:
        settle()
        for round_no, chunk in enumerate(chunks(pairs, WRITE_CHUNK)):
            live = [name for name in names if name not in failed]
            if not live:
                break
            shift = round_no % len(live)
            for name in live[shift:] + live[:shift]:
                engine = engines[name]
                start = time.perf_counter()
                try:
                    if workload == "write_buffered":
                        done = engine.put_until(chunk, float("inf"))
                    else:
                        done = engine.batches_until(chunk, float("inf"))
                except Exception as e:  # noqa: BLE001
                    failed[name] = e
                    continue
                totals[name][0] += done
                totals[name][1] += time.perf_counter() - start
            if any(totals[name][1] >= WRITE_TIME for name in live):
                break
    finally:
        for name, engine in engines.items():
            try:
                engine.close()
            except Exception as e:  # noqa: BLE001
                failed.setdefault(name, e)
            shutil.rmtree(os.path.join(dir, name, workload), ignore_errors=True)
    for name in names:
        yield name, failed.get(name) or (totals[name][0], totals[name][1])


def bulk_load(engine, sorted_pairs) -> Tuple[int, float]:
    settle()
    start = time.perf_counter()
    engine.bulk_load(sorted_pairs)
    return len(sorted_pairs), time.perf_counter() - start


def warm_up(engine, n: int):
    """One full scan (checking the count) and some random reads, untimed."""
    count = engine.scan()
    if count != n:
        raise BenchError(f"after the bulk load a scan found {count} keys, expected {n}")
    keys = random_loaded_keys(0x5EED_FFFF, n, min(WARMUP_READS, n))
    _, missing = engine.get_until(keys, float("inf"))
    if missing:
        raise BenchError(f"{missing} loaded keys not found while warming up")
    _, missing = engine.get_until([make_key(WRITE_BUFFERED_STREAM, 0)], time.perf_counter() + 1)
    if missing != 1:
        raise BenchError("a key that was never written was found")


def read_pass(engine, workload: str, n: int, keys) -> Tuple[int, float]:
    """One timed pass of a read workload: every key of `keys` looked up, or one full scan."""
    start = time.perf_counter()
    if workload == "read_random":
        done, missing = engine.get_until(keys, start + READ_TIME)
        if missing:
            raise BenchError(f"{missing} of {done} loaded keys not found")
    else:
        done = engine.scan()
        if done != n:
            raise BenchError(f"scan found {done} keys, expected {n}")
    return done, time.perf_counter() - start


def interleaved_reads(engines: Dict[str, object], workload: str, n: int, keys):
    """Runs `workload` on every engine in rounds, one pass per engine per round, the order
    rotating, until each engine has run at least MIN_READ_ROUNDS passes and MIN_READ_TIME in
    all; yields (engine name, (ops, seconds) or the exception) once each is done. Interleaving
    makes a slow phase of a shared machine fall on every engine alike."""
    totals = {name: [0, 0.0] for name in engines}
    failed: Dict[str, Exception] = {}
    settle()
    rounds = 0
    while True:
        live = [name for name in engines if name not in failed]
        if not live:
            break
        shift = rounds % len(live)
        for name in live[shift:] + live[:shift]:
            try:
                ops, elapsed = read_pass(engines[name], workload, n, keys)
            except Exception as e:  # noqa: BLE001 - reported, and the others go on
                failed[name] = e
                continue
            totals[name][0] += ops
            totals[name][1] += elapsed
        rounds += 1
        if rounds >= MIN_READ_ROUNDS and all(
            totals[name][1] >= MIN_READ_TIME for name in engines if name not in failed
        ):
            break
        if max(t for _, t in totals.values()) > READ_TIME * 3:
            break  # a very big --n: enough
    for name in engines:
        yield name, failed.get(name) or (totals[name][0], totals[name][1])


# ------------------------------------------------------------------------------------------
# Running and reporting.


def format_rate(rate: float) -> str:
    """`1234567.8` as `1.23M`, `12345.6` as `12.3K`, `123.4` as `123` (as the Rust bench)."""
    if rate >= 1e6:
        scaled, suffix = rate / 1e6, "M"
    elif rate >= 1e3:
        scaled, suffix = rate / 1e3, "K"
    else:
        scaled, suffix = rate, ""
    if not suffix or scaled >= 100:
        return f"{scaled:.0f}{suffix}"
    if scaled >= 10:
        return f"{scaled:.1f}{suffix}"
    return f"{scaled:.2f}{suffix}"


def log(message: str):
    print(message, file=sys.stderr, flush=True)


Results = Dict[Tuple[str, str], Optional[float]]


class Reporter:
    """Prints a JSON line per (engine, workload) as it finishes and keeps the rates."""

    def __init__(self):
        self.results: Results = {}

    def __call__(self, name: str, workload: str, outcome):
        if isinstance(outcome, Exception):
            log(f"[{name}] {workload}: FAILED: {outcome}")
            line = {"engine": name, "workload": workload, "ops_per_sec": None,
                    "error": str(outcome)}
            self.results[(name, workload)] = None
        else:
            ops, elapsed = outcome
            rate = ops / max(elapsed, 1e-9)
            log(f"[{name}] {workload}: {ops} ops in {elapsed:.2f} s = {format_rate(rate)} ops/s")
            line = {"engine": name, "workload": workload, "ops_per_sec": round(rate, 1)}
            self.results[(name, workload)] = rate
        print(json.dumps(line), flush=True)


def run_load(name: str, workloads: List[str], n: int, data: dict, dir: str, report: Reporter):
    """The bulk load; returns the loaded, checked and warmed engine (still open) if a read
    workload wants it, else None."""
    readers = [w for w in READ_WORKLOADS if w in workloads]
    if "bulk_load" not in workloads and not readers:
        return None
    path = os.path.join(dir, name, "loaded")
    engine = None
    try:
        engine = open_engine(name, path, n)
        loaded = bulk_load(engine, data["loaded"])
        warm_up(engine, n)
    except Exception as e:  # noqa: BLE001
        if "bulk_load" in workloads:
            report(name, "bulk_load", e)
        for w in readers:
            report(name, w, BenchError(f"bulk load failed: {e}"))
        if engine is not None:
            engine.close()
        shutil.rmtree(path, ignore_errors=True)
        return None
    if "bulk_load" in workloads:
        report(name, "bulk_load", loaded)
    if not readers:
        engine.close()
        shutil.rmtree(path, ignore_errors=True)
        return None
    return engine


def print_grid(rows: List[List[str]]):
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    for i, row in enumerate(rows):
        cells = [cell.ljust(w) if c == 0 else cell.rjust(w)
                 for c, (cell, w) in enumerate(zip(row, widths))]
        print("  ".join(cells))
        if i == 0:
            print("-" * (sum(widths) + 2 * (len(widths) - 1)))


def ratio(results: Results, workload: str, peer: str) -> Optional[float]:
    ours, theirs = results.get(("lightning", workload)), results.get((peer, workload))
    if ours is None or not theirs:
        return None
    return ours / theirs


def print_table(engines: List[str], workloads: List[str], results: Results):
    peers = [e for e in engines if e != "lightning"] if "lightning" in engines else []
    header = ["ops/sec"] + engines + [f"lightning/{p}" for p in peers]
    rows = [header]
    for w in workloads:
        row = [w]
        for e in engines:
            rate = results.get((e, w))
            row.append("failed" if rate is None else format_rate(rate))
        for p in peers:
            r = ratio(results, w, p)
            row.append("-" if r is None else f"{r:.2f}x")
        rows.append(row)
    print_grid(rows)


def print_targets(engines: List[str], workloads: List[str], results: Results):
    lines = []
    for workload, peer in TARGETS:
        if "lightning" not in engines or peer not in engines or workload not in workloads:
            continue
        r = ratio(results, workload, peer)
        verdict = "- (a run failed)" if r is None else (
            f"{'met' if r >= 1.0 else 'MISSED'} ({r:.3f}x)")
        lines.append(f"target {workload} >= 1.00x {peer}: {verdict}")
    if lines:
        print()
        print("\n".join(lines))


def proc_field(path: str, field: str) -> Optional[str]:
    try:
        with open(path) as f:
            for line in f:
                name, _, value = line.partition(":")
                if name.strip() == field:
                    return value.strip()
    except OSError:
        pass
    return None


def file_system_of(path: str) -> str:
    path = os.path.realpath(path)
    best = (-1, "unknown file system")
    try:
        with open("/proc/mounts") as f:
            for line in f:
                fields = line.split()
                if len(fields) < 3:
                    continue
                device, mount_point, fs_type = fields[:3]
                inside = path == mount_point or path.startswith(mount_point.rstrip("/") + "/")
                if inside and len(mount_point) > best[0]:
                    best = (len(mount_point), f"{fs_type} on {device}")
    except OSError:
        pass
    return best[1]


def versions(engines: List[str]) -> str:
    from importlib import metadata

    parts = [f"python {platform.python_version()}"]
    for e in engines:
        if e == "lightning":
            import lightning_db

            parts.append(f"lightning_db {lightning_db.__version__}")
        else:
            parts.append(f"{e} {metadata.version(e)}")
    return ", ".join(parts)


def parse_list(value: str, allowed: Sequence[str], flag: str) -> List[str]:
    wanted = [v.strip() for v in value.split(",") if v.strip()]
    for v in wanted:
        if v not in allowed:
            raise argparse.ArgumentTypeError(f"{flag}: unknown name {v!r}; choose from "
                                             + ",".join(allowed))
    if not wanted:
        raise argparse.ArgumentTypeError(f"{flag}: empty list")
    return [a for a in allowed if a in wanted]  # canonical order


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description="lightning_db against py-lmdb and rocksdict, same workloads, one run.")
    parser.add_argument("--n", default="200000",
                        help="keys in the bulk-loaded database, and the count budget of the "
                             "write and read loops (default 200000; underscores allowed)")
    parser.add_argument("--engines", default=",".join(ENGINES),
                        help="comma-separated, from: " + ",".join(ENGINES) + " (default: all)")
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help="comma-separated, from: " + ",".join(WORKLOADS) + " (default: all)")
    parser.add_argument("--dir", default=None,
                        help="where to create the run's scratch directory, removed at the end "
                             "(default: the system temp directory)")
    args = parser.parse_args(argv)
    try:
        n = int(args.n.replace("_", ""))
        if n <= 0:
            raise ValueError
    except ValueError:
        parser.error(f"--n: expected a positive whole number, got {args.n!r}")
    try:
        engines = parse_list(args.engines, ENGINES, "--engines")
        workloads = parse_list(args.workloads, WORKLOADS, "--workloads")
    except argparse.ArgumentTypeError as e:
        parser.error(str(e))

    parent = args.dir or tempfile.gettempdir()
    os.makedirs(parent, exist_ok=True)
    run_dir = tempfile.mkdtemp(prefix=f"lightning-pybench-{os.getpid()}-", dir=parent)

    cpu = proc_field("/proc/cpuinfo", "model name") or platform.processor() or "unknown"
    mem = proc_field("/proc/meminfo", "MemTotal")
    ram = f"{int(mem.split()[0]) / (1 << 20):.1f} GiB" if mem else "unknown"
    print(f"machine: {cpu}, {os.cpu_count()} cores, {ram} RAM")
    print(f"data:    {run_dir} ({file_system_of(run_dir)})")
    print(f"versions: {versions(engines)}")
    print(f"n = {n} keys of {KEY_LEN} bytes, values of {VALUE_LEN} bytes; "
          f"engines: {', '.join(engines)}")
    print(flush=True)

    started = time.perf_counter()
    log("generating data")
    data: dict = {}
    if "bulk_load" in workloads or "read_random" in workloads or "scan" in workloads:
        data["loaded"] = sorted(make_pairs(LOADED_STREAM, n))
    if "read_random" in workloads:
        data["read_keys"] = random_loaded_keys(0x5EED_0000, n, n)
    if "write_buffered" in workloads:
        data["write_buffered"] = make_pairs(WRITE_BUFFERED_STREAM, n)
    if "write_batch_1000" in workloads:
        data["write_batch_1000"] = make_pairs(WRITE_BATCH_STREAM, n)
    log(f"data generated in {time.perf_counter() - started:.1f} s")

    report = Reporter()
    loaded: Dict[str, object] = {}
    try:
        # Writes: each engine on a fresh database, in turns of WRITE_CHUNK puts.
        for workload in [w for w in WRITE_WORKLOADS if w in workloads]:
            log(f"{workload}: interleaved chunks on {', '.join(engines)}")
            for name, outcome in interleaved_writes(engines, workload, data[workload], n, run_dir):
                report(name, workload, outcome)
        # Bulk loads: one engine after the other (the flush that ends one must not fall on
        # another's clock).
        for name in engines:
            engine = run_load(name, workloads, n, data, run_dir, report)
            if engine is not None:
                loaded[name] = engine
        # Reads: every loaded engine stays open, and the passes alternate between engines.
        # Warm each again first (untimed): other engines ran since its load.
        for name in list(loaded):
            try:
                warm_up(loaded[name], n)
            except Exception as e:  # noqa: BLE001
                for w in [w for w in READ_WORKLOADS if w in workloads]:
                    report(name, w, e)
                loaded.pop(name).close()
        for workload in [w for w in READ_WORKLOADS if w in workloads]:
            if loaded:
                log(f"{workload}: interleaved passes on {', '.join(loaded)}")
            for name, outcome in interleaved_reads(loaded, workload, n, data.get("read_keys")):
                report(name, workload, outcome)
    finally:
        for engine in loaded.values():
            try:
                engine.close()
            except Exception as e:  # noqa: BLE001
                log(f"closing failed: {e}")
        shutil.rmtree(run_dir, ignore_errors=True)
    results = report.results

    print()
    print_table(engines, workloads, results)
    print_targets(engines, workloads, results)
    print()
    print(f"total time {time.perf_counter() - started:.1f} s")
    return 1 if any(v is None for v in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
