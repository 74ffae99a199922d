"""quickstart.py — a tour of Lightning DB from Python.

    pip install ./bindings/python
    python examples/python/quickstart.py [DIRECTORY]

With no argument the database goes into a new temporary directory (removed at the end).
"""

from __future__ import annotations

import sys
import tempfile

import lightning_db


def add_to_counter(db: lightning_db.Database, key: bytes, amount: int) -> int:
    """Adds `amount` to the number stored at `key` in a transaction; returns the new number.

    db.transaction() calls the function in a new transaction and commits it; if a concurrent
    commit got in the way (ConflictError), it runs the function again, up to max_retries times.
    """

    def add(txn: lightning_db.Transaction) -> int:
        total = int(txn.get(key, b"0")) + amount
        txn.put(key, str(total).encode())
        return total

    return db.transaction(add, max_retries=10)


def tour(path: str) -> None:
    # Options are keyword arguments: str, int or bool, e.g. cache_size="256MiB", sync=False.
    with lightning_db.open(path, cache_size="64MiB") as db:
        # Keys and values are bytes-like (bytes, bytearray, memoryview); values come back as bytes.
        db.put(b"hello", b"world")
        db[b"language"] = b"python"
        print("hello =", db.get(b"hello"))
        print("missing =", db.get(b"missing", b"(default)"))

        # A batch is applied atomically when the with block ends (and discarded on an exception).
        with db.write_batch(sync=True) as batch:
            for name, color in [(b"apple", b"red"), (b"banana", b"yellow"), (b"cherry", b"red")]:
                batch.put(b"fruit:" + name, color)
            batch.delete(b"language")

        # Iterate over a prefix, lazily, in key order (reverse=True for the other way).
        for key, value in db.items(prefix=b"fruit:"):
            print(f"  {key.decode()} = {value.decode()}")
        print("last fruit:", next(db.keys(prefix=b"fruit:", reverse=True)))

        # A snapshot keeps seeing the database as of the moment it was taken.
        with db.snapshot() as snap:
            db.put(b"fruit:apple", b"green")
            print("apple now:", db[b"fruit:apple"], "in the snapshot:", snap[b"fruit:apple"])

        # Transactions, with the retry helper.
        add_to_counter(db, b"visits", 1)
        print("visits =", add_to_counter(db, b"visits", 41))

        # Or by hand: a with block commits on a clean exit and rolls back on an exception.
        with db.begin() as txn:
            txn.put(b"note", b"written in a transaction")

        # A bulk load: pairs in ascending key order go straight into the tree; leaving the with
        # block commits them all at once (an exception abandons them).
        with db.bulk_load() as load:
            load.put_many((b"item:%04d" % i, b"loaded") for i in range(1000))
        print("item:0999 =", db[b"item:0999"])

        # Errors are lightning_db.Error subclasses; .code is the code's name.
        try:
            db.put(b"k" * 5000, b"a key longer than the 4 KiB limit")
        except lightning_db.InvalidArgumentError as e:
            print(f"refused as expected: {e.code}: {e}")

        print("keys:", [k for k in db.keys() if not k.startswith(b"item:")])
        print("writes so far:", db.stats()["last_sequence"])
    # Leaving the with block closed the database; using it now raises ClosedError.
    try:
        db.get(b"hello")
    except lightning_db.ClosedError as e:
        print("after close:", e.code)


def encrypted() -> None:
    """Encryption at rest, in a database of its own in a temporary directory."""
    with tempfile.TemporaryDirectory() as tmp:
        path = tmp + "/vault"
        # Pages and WAL records are compressed, then encrypted (aes-256-gcm or chacha20-poly1305)
        # under a key derived from the passphrase (Argon2id); or give encryption_key="<64 hex
        # digits>" instead of a passphrase.
        with lightning_db.open(
            path, encryption="aes-256-gcm", compression="zstd", passphrase="correct horse"
        ) as vault:
            vault.put(b"card", b"4111 1111 1111 1111")
        # Reopening needs the passphrase (the database keeps its own cipher); rekey changes it.
        with lightning_db.open(path, passphrase="correct horse") as vault:
            print("card =", vault[b"card"])
            vault.rekey(passphrase="battery staple")
        try:
            lightning_db.open(path, passphrase="correct horse")
        except lightning_db.WrongKeyError as e:
            print("the old passphrase is refused:", e.code)
        with lightning_db.open(path, passphrase="battery staple") as vault:
            print("the new one opens it:", vault[b"card"])


def main() -> int:
    if len(sys.argv) > 1:
        tour(sys.argv[1])
    else:
        with tempfile.TemporaryDirectory() as tmp:
            tour(tmp + "/db")
    encrypted()
    return 0


if __name__ == "__main__":
    sys.exit(main())
