"""docs/format.md is enough to read a coded page file: `format_decode.py`, written from it and
using only the codec packages from PyPI, reads back every key and value the engine wrote."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import lightning_db
from format_decode import CodedFile, FormatError


@pytest.mark.parametrize("codec", ["lz4", "zstd", "snappy", "auto"])
def test_a_script_written_from_the_format_doc_reads_every_page(tmp_path: Path, codec: str) -> None:
    rng = random.Random(11)
    expected: dict[bytes, bytes] = {}
    with lightning_db.open(str(tmp_path), compression=codec, memtable_size="64KiB") as db:
        for i in range(3000):
            key = b"key%06d" % i
            value = bytes(rng.getrandbits(8) for _ in range(60)) + bytes(60)
            if i % 500 == 0:
                value = value * 300  # 36 KB: an overflow block
            if i % 700 == 0:
                key = key + b"k" * 700  # longer than an eighth of a page: an overflow key
            db.put(key, value)
            expected[key] = value
    coded = CodedFile((tmp_path / "data.ldb").read_bytes())
    assert dict(coded.all()) == expected
    assert coded.codecs_seen - {0}, coded.codecs_seen  # something was compressed

    # One flipped byte of the root block is caught by the script, as by the engine.
    data = bytearray((tmp_path / "data.ldb").read_bytes())
    data[(coded.root >> 24) * 256 + 40] ^= 1
    with pytest.raises(FormatError):
        dict(CodedFile(bytes(data)).all())
