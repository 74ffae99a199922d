"""The exception tree, and every exception that can be provoked from Python.

Not provoked: NoSpaceError (needs a full disk) and InternalError (needs a bug), as in the C
suite; their classes and codes are still checked.
"""

from __future__ import annotations

import os
import pickle
import struct
from pathlib import Path

import pytest

import lightning_db
from lightning_db import Database

from conftest import PAGE, fill_and_close, flip_byte, leaf_pages

CODES = {
    "InvalidArgumentError": "INVALID_ARGUMENT",
    "InvalidOptionError": "INVALID_OPTION",
    "CorruptionError": "CORRUPTION",
    "IoError": "IO_ERROR",
    "NoSpaceError": "NO_SPACE",
    "LockedError": "LOCKED",
    "NotADatabaseError": "NOT_A_DATABASE",
    "UnsupportedVersionError": "UNSUPPORTED_VERSION",
    "ClosedError": "CLOSED",
    "ConflictError": "CONFLICT",
    "BusyError": "BUSY",
    "ReadOnlyError": "READ_ONLY",
    "InternalError": "INTERNAL",
    "WrongKeyError": "WRONG_KEY",
}


def test_exception_tree() -> None:
    assert issubclass(lightning_db.Error, Exception)
    for name in CODES:
        cls = getattr(lightning_db, name)
        assert issubclass(cls, lightning_db.Error), name
        assert cls is not lightning_db.Error
        assert cls.__module__ == "lightning_db"
        assert cls.__name__ == name
    assert len({getattr(lightning_db, n) for n in CODES}) == len(CODES)


def test_base_class_is_named_error() -> None:
    assert lightning_db.Error.__name__ == "Error"
    assert getattr(lightning_db, lightning_db.Error.__qualname__) is lightning_db.Error


def test_subclass_exceptions_pickle_with_their_code(db: Database) -> None:
    with pytest.raises(lightning_db.InvalidArgumentError) as raised:
        db.put(b"k" * 5000, b"v")
    again = pickle.loads(pickle.dumps(raised.value))
    assert type(again) is lightning_db.InvalidArgumentError
    assert again.code == "INVALID_ARGUMENT"
    assert str(again) == str(raised.value)


def test_base_exception_pickles() -> None:
    again = pickle.loads(pickle.dumps(lightning_db.Error("message")))
    assert type(again) is lightning_db.Error


def expect(cls: type[lightning_db.Error], raised: pytest.ExceptionInfo[BaseException]) -> None:
    """Checks the exception's class, that it is a lightning_db.Error, and its `.code`."""
    e = raised.value
    assert type(e) is cls
    assert isinstance(e, lightning_db.Error)
    assert e.code == CODES[cls.__name__]
    assert str(e)  # a message


# --------------------------------------------------------------------------------------------
# One test per code


def test_invalid_argument(db: Database, tmp_path: Path) -> None:
    with pytest.raises(lightning_db.InvalidArgumentError) as raised:
        db.put(b"k" * 4097, b"v")
    expect(lightning_db.InvalidArgumentError, raised)
    assert "4097" in str(raised.value)
    with pytest.raises(lightning_db.InvalidArgumentError) as raised:
        db.get(b"k" * 4097)
    expect(lightning_db.InvalidArgumentError, raised)
    with pytest.raises(lightning_db.InvalidArgumentError) as raised:
        db.keys(b"a", prefix=b"a")
    expect(lightning_db.InvalidArgumentError, raised)
    with pytest.raises(lightning_db.InvalidArgumentError) as raised:
        lightning_db.open(str(tmp_path / "missing"), create_if_missing=False)
    expect(lightning_db.InvalidArgumentError, raised)
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize(
    "options",
    [
        {"no_such_option": 1},
        {"sync": "maybe"},
        {"cache_size": "lots"},
        {"page_size": 5000},
        {"max_active_transactions": 0},
        {"mmap": 2},
    ],
)
def test_invalid_option(db_path: str, options: dict[str, str | int | bool]) -> None:
    with pytest.raises(lightning_db.InvalidOptionError) as raised:
        lightning_db.open(db_path, **options)
    expect(lightning_db.InvalidOptionError, raised)
    assert next(iter(options)) in str(raised.value)
    assert not os.path.exists(db_path)


def test_corruption_in_the_page_file(tmp_path: Path) -> None:
    """A flipped byte in a leaf page of `data.ldb`: open, reads, scans or verify report
    CorruptionError naming the file, and never wrong data (as in the C suite)."""
    for mmap in (False, True):
        path = str(tmp_path / f"corrupt-{mmap}")
        contents = fill_and_close(path, mmap=mmap)
        leaves = leaf_pages(path)
        assert leaves, "no leaf page found"
        flip_byte(path, leaves[0] * PAGE + 300)
        try:
            db = lightning_db.open(path, mmap=mmap)
        except lightning_db.CorruptionError as e:
            assert e.code == "CORRUPTION" and "data.ldb" in str(e)
            continue
        with db:
            with pytest.raises(lightning_db.CorruptionError) as raised:
                db.verify()
            expect(lightning_db.CorruptionError, raised)
            assert "data.ldb" in str(raised.value)
            corrupt = 0
            for k, v in contents.items():
                try:
                    assert db.get(k) == v  # never wrong data
                except lightning_db.CorruptionError:
                    corrupt += 1
            assert corrupt > 0
            with pytest.raises(lightning_db.CorruptionError):
                for k, v in db.items():
                    assert contents[k] == v
            with pytest.raises(lightning_db.CorruptionError):
                with db.snapshot() as snap:
                    list(snap.values(reverse=True))


def test_corruption_of_both_meta_pages(db_path: str) -> None:
    fill_and_close(db_path, n=10)
    flip_byte(db_path, 64)  # inside meta page 0
    flip_byte(db_path, PAGE + 64)  # inside meta page 1
    with pytest.raises((lightning_db.CorruptionError, lightning_db.NotADatabaseError)) as raised:
        lightning_db.open(db_path)
    assert "data.ldb" in str(raised.value)


def test_io_error(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_bytes(b"hello")
    with pytest.raises(lightning_db.IoError) as raised:
        lightning_db.open(str(a_file / "db"))
    expect(lightning_db.IoError, raised)


def test_locked(db_path: str) -> None:
    first = lightning_db.open(db_path)
    with pytest.raises(lightning_db.LockedError) as raised:
        lightning_db.open(db_path)
    expect(lightning_db.LockedError, raised)
    first.close()
    with lightning_db.open(db_path) as second:
        second.put(b"k", b"v")


def test_locked_by_another_process(db_path: str) -> None:
    from conftest import run_python

    with lightning_db.open(db_path):
        result = run_python(
            """
            import sys, lightning_db
            try:
                lightning_db.open(sys.argv[1])
            except lightning_db.LockedError as e:
                print(e.code)
            """,
            db_path,
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "LOCKED"


def test_not_a_database(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_bytes(b"hello")
    with pytest.raises(lightning_db.NotADatabaseError) as raised:
        lightning_db.open(str(a_file))
    expect(lightning_db.NotADatabaseError, raised)

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_bytes(b"my notes")
    with pytest.raises(lightning_db.NotADatabaseError) as raised:
        lightning_db.open(str(foreign))
    expect(lightning_db.NotADatabaseError, raised)
    assert "notes.txt" in str(raised.value)
    assert (foreign / "notes.txt").read_bytes() == b"my notes"  # untouched
    assert not (foreign / "data.ldb").exists()

    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "data.ldb").write_bytes(b"x" * 8192)
    with pytest.raises(lightning_db.NotADatabaseError) as raised:
        lightning_db.open(str(garbage))
    expect(lightning_db.NotADatabaseError, raised)


def test_unsupported_version(db_path: str) -> None:
    with lightning_db.open(db_path) as db:
        db.put(b"k", b"v")
    data_file = Path(db_path) / "data.ldb"
    data = bytearray(data_file.read_bytes())
    assert len(data) >= 2 * PAGE
    for meta in (0, PAGE):  # both meta pages name format version 99
        data[meta + 24 : meta + 28] = struct.pack("<I", 99)
    data_file.write_bytes(bytes(data))
    with pytest.raises(lightning_db.UnsupportedVersionError) as raised:
        lightning_db.open(db_path)
    expect(lightning_db.UnsupportedVersionError, raised)


def test_closed(db: Database) -> None:
    db.close()
    with pytest.raises(lightning_db.ClosedError) as raised:
        db.get(b"k")
    expect(lightning_db.ClosedError, raised)


def test_conflict(db: Database) -> None:
    t1, t2 = db.begin(), db.begin()
    t1.put(b"k", b"1")
    t2.put(b"k", b"2")
    t1.commit()
    with pytest.raises(lightning_db.ConflictError) as raised:
        t2.commit()
    expect(lightning_db.ConflictError, raised)
    assert db[b"k"] == b"1"
    with pytest.raises(lightning_db.ClosedError):
        t2.get(b"k")  # finished by the failed commit


def test_busy(db_path: str) -> None:
    with lightning_db.open(db_path, max_active_transactions=1) as db:
        txn = db.begin()
        with pytest.raises(lightning_db.BusyError) as raised:
            db.begin()
        expect(lightning_db.BusyError, raised)
        assert "max_active_transactions" in str(raised.value)
        with pytest.raises(lightning_db.BusyError):
            db.begin(read_only=True)  # read-only ones count too
        with pytest.raises(lightning_db.BusyError):
            db.transaction(lambda t: None)  # BUSY is not retried
        txn.commit()  # a finished transaction no longer counts
        with db.begin(isolation="serializable"):
            pass


def test_read_only(db: Database) -> None:
    txn = db.begin(read_only=True)
    with pytest.raises(lightning_db.ReadOnlyError) as raised:
        txn.put(b"k", b"v")
    expect(lightning_db.ReadOnlyError, raised)
    with pytest.raises(lightning_db.ReadOnlyError):
        txn.delete(b"k")
    txn.commit()


def test_wrong_key(db_path: str) -> None:
    """More in test_encryption.py."""
    key = "ab" * 32
    options: dict[str, str | int] = {"encryption": "aes-256-gcm", "encryption_key": key}
    with lightning_db.open(db_path, **options) as db:
        db.put(b"k", b"v")
    with pytest.raises(lightning_db.WrongKeyError) as raised:
        lightning_db.open(db_path, encryption_key="cd" * 32)
    expect(lightning_db.WrongKeyError, raised)
    with pytest.raises(lightning_db.WrongKeyError) as raised:
        lightning_db.open(db_path)
    expect(lightning_db.WrongKeyError, raised)
    assert key not in str(raised.value)


def test_errors_are_catchable_by_the_base_class(db: Database) -> None:
    with pytest.raises(lightning_db.Error) as raised:
        db.put(b"k" * 5000, b"v")
    assert raised.value.code == "INVALID_ARGUMENT"
    assert not isinstance(raised.value, TypeError)
