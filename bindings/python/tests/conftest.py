"""Shared fixtures and helpers for the lightning_db test suite."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import lightning_db

PAGE = 4096


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    """A directory path for a new database (not created yet)."""
    return str(tmp_path / "db")


@pytest.fixture
def db(db_path: str) -> Iterator[lightning_db.Database]:
    """An open database, closed after the test (closing twice is fine)."""
    database = lightning_db.open(db_path)
    try:
        yield database
    finally:
        try:
            database.close()
        except lightning_db.ClosedError:  # e.g. touched after fork() in a child
            pass


def run_python(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Runs `code` in a fresh interpreter (the one running the tests)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


def fill_and_close(path: str, n: int = 300, **options: str | int | bool) -> dict[bytes, bytes]:
    """Creates a database in `path` with `n` keys, closes it (which merges everything into the
    page file `data.ldb`) and returns its contents."""
    value = b"v" * 127
    contents = {b"key%04d" % i: value for i in range(n)}
    with lightning_db.open(path, page_size=PAGE, **options) as database:
        for k, v in contents.items():
            database.put(k, v)
    return contents


def leaf_pages(path: str) -> list[int]:
    """The numbers of the leaf pages (page type 2 at byte 4) of the page file in `path`."""
    data = (Path(path) / "data.ldb").read_bytes()
    return [p for p in range(2, len(data) // PAGE) if data[p * PAGE + 4] == 2]


def flip_byte(path: str, offset: int) -> None:
    """Flips every bit of one byte of the page file in `path`."""
    with open(Path(path) / "data.ldb", "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))
