"""Lightning DB: an embedded, transactional key-value database.

Keys and values are bytes-like (``bytes``, ``bytearray``, ``memoryview``); values come back as
``bytes``. Every object raises :class:`ClosedError` once its database is closed.
"""

import os
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Generic, Literal, TypeVar, final, overload

from typing_extensions import Self, TypeAlias

__all__ = [
    "__version__",
    "open",
    "Database",
    "WriteBatch",
    "Snapshot",
    "Transaction",
    "BulkLoad",
    "Items",
    "Error",
    "InvalidArgumentError",
    "InvalidOptionError",
    "CorruptionError",
    "IoError",
    "NoSpaceError",
    "LockedError",
    "NotADatabaseError",
    "UnsupportedVersionError",
    "ClosedError",
    "ConflictError",
    "BusyError",
    "ReadOnlyError",
    "InternalError",
    "WrongKeyError",
]

_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)

#: What a key or value may be.
_Bytes: TypeAlias = bytes | bytearray | memoryview
#: What an option's value may be: ``open(path, cache_size="256MiB", sync=False)``.
_OptionValue: TypeAlias = str | int | bool
_Isolation: TypeAlias = Literal["snapshot", "serializable"]

__version__: str

def open(path: str | os.PathLike[str], **options: _OptionValue) -> Database:
    """Opens (or creates) the database in directory ``path``. Options by name, e.g.
    ``cache_size="256MiB"``, ``compression="zstd"``, ``encryption="aes-256-gcm"`` with
    ``passphrase=...`` or ``encryption_key=...`` (a wrong or missing one: :class:`WrongKeyError`).
    """

@final
class Database:
    """An open database; safe to share between threads.

    After ``os.fork()``, every object the child inherited raises :class:`ClosedError`; the child
    opens the database again itself (:class:`LockedError` while the parent has it open).
    """

    @property
    def closed(self) -> bool: ...
    @property
    def path(self) -> str: ...
    @overload
    def get(self, key: _Bytes) -> bytes | None: ...
    @overload
    def get(self, key: _Bytes, default: _T) -> bytes | _T: ...
    def put(self, key: _Bytes, value: _Bytes, *, sync: bool | None = None) -> None: ...
    def delete(self, key: _Bytes, *, sync: bool | None = None) -> None: ...
    def __getitem__(self, key: _Bytes, /) -> bytes: ...
    def __setitem__(self, key: _Bytes, value: _Bytes, /) -> None: ...
    def __delitem__(self, key: _Bytes, /) -> None: ...
    def __contains__(self, key: _Bytes, /) -> bool: ...
    def __iter__(self) -> Items[bytes]: ...
    def write_batch(self, *, sync: bool | None = None) -> WriteBatch: ...
    def write(self, batch: WriteBatch, *, sync: bool | None = None) -> None: ...
    def items(
        self,
        start: _Bytes | None = None,
        end: _Bytes | None = None,
        *,
        prefix: _Bytes | None = None,
        reverse: bool = False,
    ) -> Items[tuple[bytes, bytes]]: ...
    def keys(
        self,
        start: _Bytes | None = None,
        end: _Bytes | None = None,
        *,
        prefix: _Bytes | None = None,
        reverse: bool = False,
    ) -> Items[bytes]: ...
    def values(
        self,
        start: _Bytes | None = None,
        end: _Bytes | None = None,
        *,
        prefix: _Bytes | None = None,
        reverse: bool = False,
    ) -> Items[bytes]: ...
    def snapshot(self) -> Snapshot: ...
    def begin(
        self,
        *,
        isolation: _Isolation = "snapshot",
        read_only: bool = False,
        sync: bool | None = None,
    ) -> Transaction: ...
    def transaction(
        self,
        fn: Callable[[Transaction], _T],
        *,
        isolation: _Isolation = "snapshot",
        max_retries: int = 10,
        sync: bool | None = None,
    ) -> _T: ...
    def bulk_load(self) -> BulkLoad: ...
    def sync(self) -> None: ...
    def flush(self) -> None: ...
    def compact(self) -> int: ...
    def stats(self) -> dict[str, int | str]: ...
    def verify(self) -> dict[str, int]: ...
    def rekey(self, **options: _OptionValue) -> None:
        """Changes an encrypted database's key to the ``encryption_key`` or ``passphrase`` given
        (with ``kdf`` and its costs for a passphrase), as for :func:`open`."""
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *_exc: object) -> Literal[False]: ...

@final
class WriteBatch:
    """Puts and deletes applied atomically."""

    def __init__(self) -> None: ...
    def put(self, key: _Bytes, value: _Bytes) -> None: ...
    def delete(self, key: _Bytes) -> None: ...
    def clear(self) -> None: ...
    def __len__(self) -> int: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
        /,
    ) -> Literal[False]: ...

@final
class Snapshot:
    """A consistent read-only view of the database as of the moment it was taken."""

    @property
    def sequence(self) -> int: ...
    @overload
    def get(self, key: _Bytes) -> bytes | None: ...
    @overload
    def get(self, key: _Bytes, default: _T) -> bytes | _T: ...
    def __getitem__(self, key: _Bytes, /) -> bytes: ...
    def __contains__(self, key: _Bytes, /) -> bool: ...
    def items(
        self,
        start: _Bytes | None = None,
        end: _Bytes | None = None,
        *,
        prefix: _Bytes | None = None,
        reverse: bool = False,
    ) -> Items[tuple[bytes, bytes]]: ...
    def keys(
        self,
        start: _Bytes | None = None,
        end: _Bytes | None = None,
        *,
        prefix: _Bytes | None = None,
        reverse: bool = False,
    ) -> Items[bytes]: ...
    def values(
        self,
        start: _Bytes | None = None,
        end: _Bytes | None = None,
        *,
        prefix: _Bytes | None = None,
        reverse: bool = False,
    ) -> Items[bytes]: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *_exc: object) -> Literal[False]: ...

@final
class Transaction:
    """Reads as of ``begin()`` plus its own writes; ``commit()`` applies the writes atomically."""

    @overload
    def get(self, key: _Bytes) -> bytes | None: ...
    @overload
    def get(self, key: _Bytes, default: _T) -> bytes | _T: ...
    def put(self, key: _Bytes, value: _Bytes) -> None: ...
    def delete(self, key: _Bytes) -> None: ...
    def __getitem__(self, key: _Bytes, /) -> bytes: ...
    def __setitem__(self, key: _Bytes, value: _Bytes, /) -> None: ...
    def __delitem__(self, key: _Bytes, /) -> None: ...
    def __contains__(self, key: _Bytes, /) -> bool: ...
    def items(
        self,
        start: _Bytes | None = None,
        end: _Bytes | None = None,
        *,
        prefix: _Bytes | None = None,
        reverse: bool = False,
    ) -> Items[tuple[bytes, bytes]]: ...
    def keys(
        self,
        start: _Bytes | None = None,
        end: _Bytes | None = None,
        *,
        prefix: _Bytes | None = None,
        reverse: bool = False,
    ) -> Items[bytes]: ...
    def values(
        self,
        start: _Bytes | None = None,
        end: _Bytes | None = None,
        *,
        prefix: _Bytes | None = None,
        reverse: bool = False,
    ) -> Items[bytes]: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
        /,
    ) -> Literal[False]: ...

@final
class BulkLoad:
    """Pairs in strictly ascending key order, written straight into the tree; ``commit()`` makes
    them all durable and visible at once.

    Until it is finished it is the database's only writer: other writes, ``flush()``,
    ``compact()`` and a second ``bulk_load()`` raise :class:`BusyError`; reads see the database
    as before the load. A key that does not sort after the previous one raises
    :class:`InvalidArgumentError` and the load goes on without that pair. In a ``with`` block it
    commits when the block ends normally and aborts if it raises. After ``commit()`` or
    ``abort()`` it raises :class:`ClosedError`.
    """

    def put(self, key: _Bytes, value: _Bytes) -> None: ...
    def put_many(self, pairs: Iterable[tuple[_Bytes, _Bytes]]) -> None:
        """Adds every pair, in order; stops at the first that fails and raises its error."""
    def commit(self) -> None: ...
    def abort(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
        /,
    ) -> Literal[False]: ...

@final
class Items(Generic[_T_co]):
    """A lazy iterator over a range, seeing one point in time."""

    def __iter__(self) -> Self: ...
    def __next__(self) -> _T_co: ...

class Error(Exception):
    """Base class of every Lightning DB error."""

    #: The code's name, e.g. ``"CONFLICT"``.
    code: str

class InvalidArgumentError(Error): ...
class InvalidOptionError(Error): ...
class CorruptionError(Error): ...
class IoError(Error): ...
class NoSpaceError(Error): ...
class LockedError(Error): ...
class NotADatabaseError(Error): ...
class UnsupportedVersionError(Error): ...
class ClosedError(Error): ...
class ConflictError(Error): ...
class BusyError(Error): ...
class ReadOnlyError(Error): ...
class InternalError(Error): ...
class WrongKeyError(Error): ...
