"""The `compression` and `compression_level` options: values written under one policy read back
under any other (each WAL record says how it was written), and bad values raise
InvalidOptionError naming the option."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

import lightning_db

from conftest import run_python

CODECS = ["none", "lz4", "zstd", "snappy", "auto"]


def compressible_values(n: int = 300, seed: int = 7) -> dict[bytes, bytes]:
    """`n` values of 200 bytes each: 100 random bytes, then 100 zeros."""
    rng = random.Random(seed)
    return {
        b"key%05d" % i: bytes(rng.getrandbits(8) for _ in range(100)) + bytes(100)
        for i in range(n)
    }


def read_all(
    path: str, contents: dict[bytes, bytes], **options: str | int | bool
) -> dict[str, int]:
    """Opens `path` with `options`, checks that it holds exactly `contents` and returns what
    `verify()` (which decodes every WAL record too) found."""
    with lightning_db.open(path, **options) as db:
        for k, v in contents.items():
            assert db[k] == v, k
        assert dict(db.items()) == contents
        return db.verify()


def test_values_written_with_zstd_read_back_with_any_policy(db_path: str) -> None:
    contents = compressible_values()
    with lightning_db.open(db_path, compression="zstd", compression_level=5) as db:
        for k, v in contents.items():
            db.put(k, v)
        for k, v in contents.items():
            assert db[k] == v
    read_all(db_path, contents, compression="lz4")
    read_all(db_path, contents, compression="none")
    read_all(db_path, contents)  # the default


def test_wal_records_written_under_each_codec_replay_under_another(tmp_path: Path) -> None:
    """A process writes under one codec and exits without closing, so its writes are only in the
    WAL; reopening under another codec replays them."""
    contents = compressible_values(n=200)
    for i, codec in enumerate(CODECS):
        path = str(tmp_path / codec)
        result = run_python(
            """
            import os, random, sys
            import lightning_db

            path, codec = sys.argv[1], sys.argv[2]
            rng = random.Random(7)
            db = lightning_db.open(path, compression=codec, compression_level=5)
            for i in range(200):
                value = bytes(rng.getrandbits(8) for _ in range(100)) + bytes(100)
                db.put(b"key%05d" % i, value, sync=True)
            print(db.stats()["tree_keys"])
            sys.stdout.flush()
            os._exit(0)  # no close: nothing is merged into the page file
            """,
            path,
            codec,
        )
        assert result.returncode == 0, result.stderr
        # Nothing reached the page file: what the next open reads comes from the WAL.
        assert result.stdout.strip() == "0", result.stdout
        other = CODECS[(i + 1) % len(CODECS)]
        read_all(path, contents, compression=other)
        read_all(path, contents, compression="none")


def test_compressed_wal_is_smaller(tmp_path: Path) -> None:
    contents = compressible_values(n=200)
    wal_bytes: dict[str, int] = {}
    for codec in ("none", "zstd", "lz4"):
        with lightning_db.open(str(tmp_path / codec), compression=codec) as db:
            for k, v in contents.items():
                db.put(k, v)
            stats = db.stats()
            assert isinstance(stats["wal_bytes"], int)
            wal_bytes[codec] = stats["wal_bytes"]
            saved = stats["compression_saved_bytes"]
            assert isinstance(saved, int)
            assert (saved > 0) == (codec != "none"), stats
            if codec != "none":
                blocks = stats[f"codec_{codec}_blocks"]
                assert isinstance(blocks, int) and blocks > 0, stats
    assert wal_bytes["zstd"] < wal_bytes["none"] * 0.8, wal_bytes
    assert wal_bytes["lz4"] < wal_bytes["none"], wal_bytes


@pytest.mark.parametrize("codec", CODECS + ["ZSTD", "Lz4", " auto "])
def test_every_codec_and_any_letter_case(db_path: str, codec: str) -> None:
    contents = compressible_values(n=50)
    with lightning_db.open(db_path, compression=codec) as db:
        for k, v in contents.items():
            db.put(k, v)
        assert dict(db.items()) == contents
    read_all(db_path, contents)


@pytest.mark.parametrize("level", [1, 19, "12"])
def test_compression_level_bounds(db_path: str, level: int | str) -> None:
    with lightning_db.open(db_path, compression="zstd", compression_level=level) as db:
        db.put(b"k", bytes(200))
    read_all(db_path, {b"k": bytes(200)})


def test_option_names_in_camel_and_kebab_case(db_path: str) -> None:
    with lightning_db.open(db_path, compression="auto", compressionLevel=9) as db:
        db.put(b"k", b"v" * 200)
    read_all(db_path, {b"k": b"v" * 200}, **{"compression-level": 2})


def test_unknown_codec_is_an_invalid_option(db_path: str) -> None:
    with pytest.raises(lightning_db.InvalidOptionError) as raised:
        lightning_db.open(db_path, compression="gzip")
    e = raised.value
    assert type(e) is lightning_db.InvalidOptionError
    assert e.code == "INVALID_OPTION"
    assert str(e) == (
        'invalid value "gzip" for option compression: '
        "expected one of none, lz4, zstd, snappy, auto"
    )
    assert not os.path.exists(db_path)


@pytest.mark.parametrize("level", [20, 0, 22, "fast", -1])
def test_compression_level_out_of_range_is_an_invalid_option(
    db_path: str, level: int | str
) -> None:
    with pytest.raises(lightning_db.InvalidOptionError) as raised:
        lightning_db.open(db_path, compression="zstd", compression_level=level)
    e = raised.value
    assert type(e) is lightning_db.InvalidOptionError
    assert e.code == "INVALID_OPTION"
    assert "option compression_level" in str(e)
    assert f'"{level}"' in str(e)
    assert not os.path.exists(db_path)


def test_bad_compression_leaves_an_existing_database_alone(db_path: str) -> None:
    with lightning_db.open(db_path, compression="zstd") as db:
        db.put(b"k", b"v" * 200)
    with pytest.raises(lightning_db.InvalidOptionError, match="option compression"):
        lightning_db.open(db_path, compression="gzip")
    with pytest.raises(lightning_db.InvalidOptionError, match="option compression_level"):
        lightning_db.open(db_path, compression_level=20)
    read_all(db_path, {b"k": b"v" * 200}, compression="snappy")
