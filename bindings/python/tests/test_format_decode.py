"""docs/format.md is enough to read a coded page file: `format_decode.py`, written from it and
using only the codec packages and `cryptography` from PyPI, reads back every key and value the
engine wrote, compressed and encrypted."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import lightning_db
from format_decode import CodedFile, FormatError, crc32c, masked


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


KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"


@pytest.mark.parametrize(
    ("codec", "cipher", "secret"),
    [
        ("zstd", "aes-256-gcm", {"encryption_key": KEY}),
        ("none", "chacha20-poly1305", {"passphrase": "pw", "kdf": "argon2id"}),
        ("lz4", "aes-256-gcm", {"passphrase": "pw", "kdf": "pbkdf2-sha256"}),
    ],
)
def test_the_script_decrypts_what_the_engine_encrypted(
    tmp_path: Path, codec: str, cipher: str, secret: dict[str, str]
) -> None:
    rng = random.Random(12)
    expected: dict[bytes, bytes] = {}
    options: dict[str, str | int] = dict(secret)
    if "passphrase" in secret:
        options["kdf_memory"] = "1MiB"
        options["kdf_iterations"] = 1 if secret["kdf"] == "argon2id" else 10_000
    with lightning_db.open(
        str(tmp_path), compression=codec, encryption=cipher, memtable_size="64KiB", **options
    ) as db:
        for i in range(2000):
            key = b"key%06d" % i
            value = bytes(rng.getrandbits(8) for _ in range(40)) + bytes(40)
            if i % 500 == 0:
                value = value * 300  # an overflow block
            db.put(key, value)
            expected[key] = value
        db.rekey(**options)  # a new wrapping of the same data key: the file reads the same
    data = (tmp_path / "data.ldb").read_bytes()
    file_key = bytes.fromhex(KEY) if "encryption_key" in secret else None
    passphrase = secret.get("passphrase")
    coded = CodedFile(data, key=file_key, passphrase=passphrase)
    assert dict(coded.all()) == expected
    assert b"key000001" not in data  # keys are not in the clear either

    with pytest.raises(FormatError, match="wrong key or passphrase"):
        CodedFile(data, key=bytes(32), passphrase="not it")
    # A byte of a sealed block changed (and its CRC redone): it does not authenticate.
    bad = bytearray(data)
    at = (coded.root >> 24) * 256
    stored_len = int.from_bytes(bad[at + 8 : at + 12], "little")
    bad[at + 40] ^= 1
    covered = coded.database_id + coded.root.to_bytes(8, "little") + bad[at + 4 : at + stored_len]
    crc = masked(crc32c(bytes(covered)))
    bad[at : at + 4] = crc.to_bytes(4, "little")
    with pytest.raises(FormatError, match="does not authenticate"):
        dict(CodedFile(bytes(bad), key=file_key, passphrase=passphrase).all())
