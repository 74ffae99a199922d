"""Encryption at rest: the `encryption`, `encryption_key`, `passphrase` and `kdf*` options,
`Database.rekey()` and `WrongKeyError`.

What an encrypted database writes holds no value in the clear; it opens only with its key or
passphrase (a wrong or missing one raises WrongKeyError); a key for a plain database, or a
malformed one, raises InvalidOptionError, and no message ever shows a secret. Passphrases use
the cheapest KDF costs the options allow (kdf_memory="1MiB", kdf_iterations=1), as tests may.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

import pytest

import lightning_db

from conftest import run_python

KEY_A = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
KEY_B = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
PASSPHRASE = "correct horse battery staple"
#: Bytes that would show in the files if values were stored in the clear.
MARKER = b"PLAINTEXT-MARKER-"

Options = dict[str, "str | int | bool"]

#: Argon2id at its floors: 1 MiB, one pass.
CHEAP_KDF: Options = {"kdf_memory": "1MiB", "kdf_iterations": 1}


def with_passphrase(passphrase: str = PASSPHRASE, **more: str | int | bool) -> Options:
    return {"passphrase": passphrase, **CHEAP_KDF, **more}


def with_key(key: str = KEY_A, **more: str | int | bool) -> Options:
    return {"encryption_key": key, **more}


def value(i: int) -> bytes:
    return (MARKER + b"%06d" % i).ljust(150, b"x")


def key(i: int) -> bytes:
    return b"key%06d" % i


def fill(db: lightning_db.Database, start: int, end: int) -> None:
    for i in range(start, end):
        db.put(key(i), value(i))


def check(db: lightning_db.Database, n: int) -> None:
    for i in range(n):
        assert db.get(key(i)) == value(i), i
    assert sum(1 for _ in db.keys()) == n


def files_contain(path: str, needle: bytes) -> list[str]:
    """The names of the files in directory `path` that contain `needle`."""
    return sorted(p.name for p in Path(path).iterdir() if p.is_file() and needle in p.read_bytes())


def make(path: str, n: int = 100, /, **options: str | int | bool) -> None:
    """Creates an encrypted database in `path` (AES-256-GCM unless `options` say otherwise)
    with `n` values, and closes it."""
    with lightning_db.open(path, **{"encryption": "aes-256-gcm", "sync": False, **options}) as db:
        fill(db, 0, n)


def assert_no_secret(error: BaseException, *secrets: str) -> None:
    text = f"{error} {error!r} {error.args}"
    for secret in (KEY_A, KEY_B, PASSPHRASE, *secrets):
        assert secret not in text, text


# --------------------------------------------------------------------------------------------
# Round trips


CIPHERS = [("aes-256-gcm", "zstd"), ("chacha20-poly1305", "none")]
CREDENTIALS = {"passphrase": with_passphrase(), "key": with_key()}


@pytest.mark.parametrize("encryption, compression", CIPHERS)
@pytest.mark.parametrize("credential", sorted(CREDENTIALS))
def test_encrypted_database_round_trip(
    db_path: str, encryption: str, compression: str, credential: str
) -> None:
    opens: Options = {**CREDENTIALS[credential], "sync": False}
    with lightning_db.open(
        db_path, encryption=encryption, compression=compression, **opens
    ) as db:
        fill(db, 0, 1000)
        db.flush()  # these in the page file...
        fill(db, 1000, 1300)  # ...and these in the WAL only
        db.sync()
        check(db, 1300)
        # Nothing in the clear, in the page file or in the WAL, while it is open...
        assert files_contain(db_path, MARKER) == []
        assert PASSPHRASE not in repr(db) and KEY_A not in repr(db)
    # ...or once closed.
    assert files_contain(db_path, MARKER) == []

    # Reopened with the same secret, under another compression (and without naming the
    # cipher: an existing database keeps its own).
    with lightning_db.open(db_path, compression="lz4", **opens) as db:
        check(db, 1300)
        report = db.verify()
        assert isinstance(report["pages"], int) and report["pages"] > 0, report
        fill(db, 1300, 1400)
    with lightning_db.open(db_path, **opens) as db:
        check(db, 1400)
    assert files_contain(db_path, MARKER) == []


def test_plain_database_holds_the_marker_in_the_clear(db_path: str) -> None:
    """The control for the checks above: without encryption the marker is found."""
    with lightning_db.open(db_path) as db:
        fill(db, 0, 10)
    assert files_contain(db_path, MARKER) != []


@pytest.mark.parametrize("encryption", ["aes-256-gcm", "chacha20-poly1305"])
def test_wal_records_written_encrypted_replay(tmp_path: Path, encryption: str) -> None:
    """A process writes and exits without closing, so its writes are only in the (encrypted)
    WAL; reopening with the key replays them."""
    path = str(tmp_path / "db")
    result = run_python(
        """
        import os, sys
        import lightning_db

        path, encryption, key = sys.argv[1:]
        db = lightning_db.open(path, encryption=encryption, encryption_key=key,
                               compression="zstd")
        for i in range(200):
            db.put(b"key%06d" % i, (b"PLAINTEXT-MARKER-" + b"%06d" % i).ljust(150, b"x"),
                   sync=True)
        print(db.stats()["tree_keys"])
        sys.stdout.flush()
        os._exit(0)  # no close: nothing is merged into the page file
        """,
        path,
        encryption,
        KEY_A,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0", result.stdout
    assert files_contain(path, MARKER) == []
    with pytest.raises(lightning_db.WrongKeyError):
        lightning_db.open(path)
    with lightning_db.open(path, encryption_key=KEY_A) as db:
        check(db, 200)


@pytest.mark.parametrize("kdf", ["argon2id", "pbkdf2-sha256"])
def test_passphrase_through_either_kdf(db_path: str, kdf: str) -> None:
    iterations = 1 if kdf == "argon2id" else 10_000
    make(db_path, kdf=kdf, **with_passphrase(kdf_iterations=iterations))
    # The KDF and its costs come from the file, whatever the options say now.
    with lightning_db.open(db_path, passphrase=PASSPHRASE, kdf="pbkdf2-sha256") as db:
        check(db, 100)
    with pytest.raises(lightning_db.WrongKeyError) as raised:
        lightning_db.open(db_path, passphrase=PASSPHRASE + " ")  # spaces count
    assert_no_secret(raised.value, PASSPHRASE + " ")


def test_option_names_in_camel_and_kebab_case(db_path: str) -> None:
    make(db_path, 10, encryptionKey=KEY_A)
    with lightning_db.open(db_path, **{"encryption-key": KEY_A}) as db:
        check(db, 10)
    # A key's hex digits may be upper case.
    with lightning_db.open(db_path, encryption_key=KEY_A.upper()) as db:
        check(db, 10)


# --------------------------------------------------------------------------------------------
# Wrong, missing and misplaced secrets


ErrorT = TypeVar("ErrorT", bound=lightning_db.Error)


def expect_open_error(
    kind: type[ErrorT], code: str, path: str, **options: str | int | bool
) -> ErrorT:
    """Opening `path` with `options` raises exactly `kind` (code `code`), naming no secret: not
    the known test secrets, nor the key or passphrase just given."""
    with pytest.raises(kind) as raised:
        lightning_db.open(path, **options)
    e = raised.value
    assert type(e) is kind
    assert isinstance(e, lightning_db.Error)
    assert e.code == code
    assert str(e)
    for secret in ("encryption_key", "passphrase"):
        value = options.get(secret)
        if isinstance(value, str) and value:
            assert value not in str(e), e
    assert_no_secret(e)
    return e


def expect_wrong_key(path: str, **options: str | int | bool) -> lightning_db.WrongKeyError:
    return expect_open_error(lightning_db.WrongKeyError, "WRONG_KEY", path, **options)


def test_wrong_key(db_path: str) -> None:
    make(db_path, **with_key(KEY_A))
    expect_wrong_key(db_path, **with_key(KEY_B))
    expect_wrong_key(db_path, encryption="aes-256-gcm", **with_key(KEY_B))
    # A passphrase for a database made with a key is wrong too.
    expect_wrong_key(db_path, **with_passphrase())
    with lightning_db.open(db_path, **with_key(KEY_A)) as db:  # still opens
        check(db, 100)


def test_wrong_passphrase(db_path: str) -> None:
    make(db_path, encryption="chacha20-poly1305", **with_passphrase())
    expect_wrong_key(db_path, **with_passphrase("correct horse battery stapler"))
    expect_wrong_key(db_path, **with_passphrase("x"))
    expect_wrong_key(db_path, **with_key(KEY_A))
    with lightning_db.open(db_path, **with_passphrase()) as db:
        check(db, 100)


def test_missing_key(db_path: str) -> None:
    make(db_path, **with_key())
    e = expect_wrong_key(db_path)
    assert "encryption_key or passphrase" in str(e), e
    expect_wrong_key(db_path, compression="zstd")
    expect_wrong_key(db_path, encryption="aes-256-gcm")
    with lightning_db.open(db_path, **with_key()) as db:
        check(db, 100)


def expect_invalid_option(path: str, **options: str | int | bool) -> lightning_db.InvalidOptionError:
    return expect_open_error(lightning_db.InvalidOptionError, "INVALID_OPTION", path, **options)


@pytest.mark.parametrize("compression", ["none", "lz4"])
def test_a_secret_for_a_plain_database_is_an_invalid_option(
    db_path: str, compression: str
) -> None:
    with lightning_db.open(db_path, compression=compression) as db:
        fill(db, 0, 10)
    expect_invalid_option(db_path, **with_key())
    expect_invalid_option(db_path, **with_passphrase())
    with lightning_db.open(db_path) as db:  # untouched
        check(db, 10)


@pytest.mark.parametrize(
    "malformed",
    [
        KEY_A[:-1],  # 63 digits
        KEY_A + "0",  # 65
        "zz" + KEY_A[2:],  # not hex
        "secret-key-that-is-not-hex",
        " " + KEY_A[1:],
    ],
)
def test_a_malformed_key_is_an_invalid_option(db_path: str, malformed: str) -> None:
    e = expect_invalid_option(db_path, encryption="aes-256-gcm", encryption_key=malformed)
    assert "option encryption_key" in str(e)
    assert malformed.strip() not in str(e)
    assert "redacted" in str(e)
    assert not os.path.exists(db_path)


def test_a_malformed_key_for_an_existing_database(db_path: str) -> None:
    make(db_path, **with_key())
    e = expect_invalid_option(db_path, encryption_key=KEY_B[:40])
    assert KEY_B[:40] not in str(e)
    with lightning_db.open(db_path, **with_key()) as db:
        check(db, 100)


def test_new_encrypted_database_needs_one_secret(tmp_path: Path) -> None:
    # A cipher needs a key or a passphrase...
    expect_invalid_option(str(tmp_path / "a"), encryption="aes-256-gcm")
    # ...a key needs a cipher...
    expect_invalid_option(str(tmp_path / "b"), **with_key())
    # ...and one of them at a time.
    expect_invalid_option(
        str(tmp_path / "c"), encryption="aes-256-gcm", **with_key(), **with_passphrase()
    )
    for name in "abc":  # refused before a directory was made
        assert not (tmp_path / name).exists()


@pytest.mark.parametrize(
    "options, named",
    [
        ({"encryption": "aes-128-cbc"}, "encryption"),
        ({"kdf": "scrypt"}, "kdf"),
        ({"kdf_memory": "512KiB"}, "kdf_memory"),
        ({"kdf_parallelism": 0}, "kdf_parallelism"),
        ({"kdf_parallelism": 17}, "kdf_parallelism"),
        ({"kdf": "pbkdf2-sha256", "kdf_iterations": 9_999}, "KDF"),
    ],
)
def test_bad_cipher_and_kdf_options(db_path: str, options: Options, named: str) -> None:
    full: Options = {"encryption": "aes-256-gcm", **with_passphrase(), **options}
    e = expect_invalid_option(db_path, **full)
    assert named in str(e)
    assert not os.path.exists(db_path)


# --------------------------------------------------------------------------------------------
# rekey


def test_rekey_from_a_key_to_a_passphrase_and_on(db_path: str) -> None:
    with lightning_db.open(
        db_path, encryption="chacha20-poly1305", compression="zstd", **with_key(KEY_A)
    ) as db:
        fill(db, 0, 300)
        db.flush()
        db.rekey(**with_passphrase("new passphrase", kdf="pbkdf2-sha256", kdf_iterations=10_000))
        fill(db, 300, 400)  # written after the rekey
    expect_wrong_key(db_path, **with_key(KEY_A))
    expect_wrong_key(db_path, **with_passphrase())
    with lightning_db.open(db_path, **with_passphrase("new passphrase")) as db:
        check(db, 400)
        db.rekey(encryption_key=KEY_B)
        db.rekey(encryption_key=KEY_A)
        db.rekey(encryption_key=KEY_B)  # the last one wins
    expect_wrong_key(db_path, **with_passphrase("new passphrase"))
    expect_wrong_key(db_path, **with_key(KEY_A))
    with lightning_db.open(db_path, **with_key(KEY_B)) as db:
        check(db, 400)
        db.verify()
    assert files_contain(db_path, MARKER) == []


def test_rekey_from_a_passphrase_to_a_key(db_path: str) -> None:
    make(db_path, **with_passphrase())
    with lightning_db.open(db_path, **with_passphrase()) as db:
        db.rekey(encryptionKey=KEY_A)  # any spelling of the name, as for open()
    expect_wrong_key(db_path, **with_passphrase())
    with lightning_db.open(db_path, **with_key(KEY_A)) as db:
        check(db, 100)


def test_rekey_errors(tmp_path: Path) -> None:
    path = str(tmp_path / "encrypted")
    make(path, **with_key())
    with lightning_db.open(path, **with_key()) as db:
        # No new secret, or both.
        cases: list[Options] = [{}, {"kdf": "argon2id"}, {**with_key(KEY_B), **with_passphrase()}]
        for options in cases:
            with pytest.raises(lightning_db.InvalidOptionError) as raised:
                db.rekey(**options)
            assert raised.value.code == "INVALID_OPTION"
            assert_no_secret(raised.value)
        # A malformed key, never shown.
        with pytest.raises(lightning_db.InvalidOptionError) as raised:
            db.rekey(encryption_key="0123" * 15)
        assert "0123" * 15 not in str(raised.value)
        # Below the KDF's floors.
        with pytest.raises(lightning_db.InvalidOptionError):
            db.rekey(passphrase="pw", kdf="pbkdf2-sha256", kdf_iterations=5)
        with pytest.raises(TypeError):
            db.rekey(encryption_key=b"bytes")  # type: ignore[arg-type]
        check(db, 100)  # none of them changed anything
    with lightning_db.open(path, **with_key()) as db:
        check(db, 100)
        db.close()
        with pytest.raises(lightning_db.ClosedError):
            db.rekey(encryption_key=KEY_B)

    plain = str(tmp_path / "plain")
    with lightning_db.open(plain) as db:
        with pytest.raises(lightning_db.InvalidArgumentError) as raised_arg:
            db.rekey(encryption_key=KEY_B)
        assert raised_arg.value.code == "INVALID_ARGUMENT"
        assert_no_secret(raised_arg.value)


def test_stats_values_are_ints(db_path: str) -> None:
    make(db_path, 50, compression="zstd", **with_key())
    with lightning_db.open(db_path, **with_key()) as db:
        stats = db.stats()
        keys = stats["tree_keys"]
        assert isinstance(keys, int) and keys == 50, stats
        for name, stat in stats.items():
            assert isinstance(stat, (int, str)), name
            if isinstance(stat, str):
                assert KEY_A not in stat
