"""The JSON state file as a store: one file, whole, for small deployments and the examples.

Every write is a read-modify-write under an exclusive lock on a sidecar ``STATE.json.lock``
(``flock``: the state file itself is replaced by each write, so it cannot carry the lock). The
new state goes to one fixed temporary file beside it, is flushed to disk, and replaces the old
file with one rename; the directory is flushed too. A ``kill -9`` therefore leaves the old state
or the new one, and at most that one temporary file, which the next write reuses. Reads take no
lock (a rename is atomic) and re-parse the file only when it changed. A symlink is followed and
its target replaced; the file's mode is kept; a read-only file or directory is an error, never
worked around. Past ``MAX_STATE_BYTES`` the store refuses to grow: use SQLite.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from ..errors import StoreError, ValidationError
from ..ledger.effects import Effects, OrderRecord
from ..ledger.members import Membership
from ..parse import json_document
from ..pools import CodePool
from .document import read_document, tables_document
from .memory import MemoryStore
from .recent import Recent
from .records import Match, Profile, StoredMember, TransactionKey
from .tables import Tables

MAX_STATE_BYTES = 256 * 1024 * 1024
T = TypeVar("T")


class JsonFileStore:
    """A store in one JSON state file, rewritten whole per write under an exclusive lock."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        if not isinstance(path, str | os.PathLike):
            raise ValidationError(("path",), path, "must be a file path")
        try:
            self.path = Path(os.path.realpath(path))
        except (OSError, ValueError) as error:
            raise StoreError(f"{os.fspath(path)!r}: not a usable path ({error})") from None
        if not self.path.parent.is_dir():
            raise StoreError(f"{self.path.parent}: no such directory")
        self._cache: tuple[tuple[int, int, int], Tables] | None = None
        self.replays: Recent[str, Membership] = Recent()  # see load

    # --- reads: the file as it is now --------------------------------------------------------

    def _tables(self) -> Tables:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return Tables()
        except OSError as error:
            raise StoreError(f"{self.path}: cannot read ({error.strerror})") from None
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        if stat.st_size > MAX_STATE_BYTES:
            raise StoreError(f"{self.path}: larger than {MAX_STATE_BYTES} bytes")
        try:
            data = self.path.read_bytes()
            tables = read_document(json_document(data, self.path.name))
        except OSError as error:
            raise StoreError(f"{self.path}: cannot read ({error.strerror})") from None
        except ValidationError as error:
            raise StoreError(f"{self.path}: {error}") from None
        self._cache = (key, tables)
        return tables

    def _read(self, read: Callable[[MemoryStore], T], tables: Tables | None = None) -> T:
        view = MemoryStore.over(tables if tables is not None else self._tables())
        try:
            return read(view)
        except ValidationError as error:  # a row edited by hand, found when first decoded
            raise StoreError(f"{self.path}: {error}") from None

    def find(self, match: Match) -> str | None:
        return self._read(lambda s: s.find(match))

    def member(self, profile_id: str) -> StoredMember | None:
        return self._read(lambda s: s.member(profile_id))

    def pools(self) -> tuple[CodePool, ...]:
        return self._read(lambda s: s.pools())

    def issued(self, pool_id: int) -> frozenset[str]:
        return self._read(lambda s: s.issued(pool_id))

    def order(self, external_id: str) -> OrderRecord | None:
        return self._read(lambda s: s.order(external_id))

    def find_transactions(
        self, *, uuid: str | None = None, eid: str | None = None
    ) -> tuple[TransactionKey, ...]:
        return self._read(lambda s: s.find_transactions(uuid=uuid, eid=eid))

    def profiles(self) -> Iterator[str]:
        return self._read(lambda s: s.profiles())

    def orders(self) -> Iterator[OrderRecord]:
        return self._read(lambda s: s.orders())

    # --- writes: read, change, replace, under the lock ---------------------------------------

    def apply(self, effects: Effects, *, profile: Profile | None = None) -> None:
        self.apply_all([(effects, profile)])

    def apply_all(self, batch: Sequence[tuple[Effects, Profile | None]]) -> None:
        self._write(lambda s: s.apply_all(batch))

    def add_pool(self, pool: CodePool) -> None:
        self._write(lambda s: s.add_pool(pool))

    def close(self) -> None:
        self._cache = None

    def _write(self, change: Callable[[MemoryStore], None]) -> None:
        for place, what in ((self.path, "state file"), (self.path.parent, "directory")):
            if place.exists() and not _writable(place):
                raise StoreError(f"{place}: the {what} is read-only")
        lock = self.path.with_name(self.path.name + ".lock")
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as error:
            raise StoreError(f"{lock}: cannot open the lock file ({error.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._cache = None  # another process may have written since: read it again
            tables = self._tables()
            self._read(change, tables)  # a conflict raises here, before anything is written
            self._save(tables)
        finally:
            self._cache = None  # the tables held a change that may not have reached the disk
            os.close(fd)  # releases the lock

    def _save(self, tables: Tables) -> None:
        # compact: the C encoder writes it; indentation would cost more than the rest of a commit
        text = json.dumps(tables_document(tables), ensure_ascii=False, separators=(",", ":"))
        data = (text + "\n").encode()
        if len(data) > MAX_STATE_BYTES:
            raise StoreError(
                f"{self.path}: the state would exceed {MAX_STATE_BYTES} bytes; move it to SQLite "
                "(loyalty-engine db import)"
            )
        temp = self.path.with_name(f".{self.path.name}.tmp")
        try:
            mode = self.path.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = None
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
            try:
                if mode is not None:
                    os.fchmod(fd, mode)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, self.path)
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as error:
            raise StoreError(f"{self.path}: cannot write ({error.strerror})") from None


def _writable(path: Path) -> bool:
    """Writable by us, and meant to be: a file without write bits is read-only even for root."""
    return os.access(path, os.W_OK) and bool(path.stat().st_mode & 0o222)
