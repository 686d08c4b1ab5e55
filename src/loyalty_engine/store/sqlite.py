"""SQLite as the embedded store: one file, many processes, nothing lost.

Isolation: every write is one ``BEGIN IMMEDIATE`` transaction (it takes the database's write
lock first, so two writers never interleave), which checks the contract's versions and writes
all of one operation's rows, or rolls back. Uniqueness is in the schema, not trusted: a
transaction id and a ``transaction_eid`` per account, a code handed out or used once, an order's
``external_id``. WAL lets readers read while a writer writes; ``synchronous=FULL`` makes every
commit durable before it returns. Reads of one member are one read transaction: a snapshot.

The schema is versioned (``schema_version``); ``MIGRATIONS[n]`` takes a database from version
``n`` to ``n + 1``. A database newer than this library is refused, never guessed at.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import attrs

from ..errors import ConflictError, LedgerError, StoreError, ValidationError
from ..ledger.effects import Effects, OrderRecord, Registration
from ..ledger.journal import ROW_KEYS, Transaction, moment_text, transaction_uuid
from ..ledger.members import Membership
from ..pools import CodePool, PoolCode
from ..validators import parse_moment
from .recent import Recent
from .records import Match, Profile, StoredMember, TransactionKey
from .tables import check_ids, disjoint

T = TypeVar("T")
_INTEGER = {"transaction_id", "refers_to", "temp"}
_ROW_COLUMNS = ",\n  ".join(
    f"{key} {'INTEGER' if key in _INTEGER else 'TEXT'}"
    + (" NOT NULL" if key in {"transaction_id", "profile_id", "points_currency_eid"} else "")
    for key in ROW_KEYS
)
MIGRATIONS = (
    f"""
CREATE TABLE members (
  profile_id TEXT PRIMARY KEY,
  registered_at TEXT NOT NULL,
  removed_at TEXT,
  email TEXT,
  phone TEXT,
  fields TEXT NOT NULL DEFAULT '{{}}',
  segments TEXT NOT NULL DEFAULT '[]',
  tags TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE identities (
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  profile_id TEXT NOT NULL REFERENCES members,
  PRIMARY KEY (kind, value)
);
CREATE INDEX identities_by_member ON identities (profile_id);
CREATE TABLE accounts (
  profile_id TEXT NOT NULL REFERENCES members,
  currency TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (profile_id, currency)
);
CREATE TABLE transactions (
  {_ROW_COLUMNS},
  PRIMARY KEY (profile_id, points_currency_eid, transaction_id),
  UNIQUE (profile_id, points_currency_eid, transaction_eid)
);
CREATE TABLE pools (pool_id INTEGER PRIMARY KEY, name TEXT NOT NULL, reuse TEXT NOT NULL);
CREATE TABLE pool_codes (
  pool_id INTEGER NOT NULL REFERENCES pools,
  code TEXT NOT NULL,
  position INTEGER NOT NULL,
  expires_at TEXT,
  issued INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (pool_id, code)
);
CREATE TABLE used_codes (
  pool_id INTEGER NOT NULL REFERENCES pools,
  code TEXT NOT NULL,
  PRIMARY KEY (pool_id, code)
);
CREATE TABLE orders (
  external_id TEXT PRIMARY KEY,
  profile_id TEXT,
  fingerprint TEXT NOT NULL,
  response TEXT NOT NULL
);
CREATE TABLE pools_version (version INTEGER NOT NULL);
INSERT INTO pools_version VALUES (0);
""",
    # 1 → 2: the API's transaction ids (``transaction_uuid``), and lookups by them and by eid
    """
ALTER TABLE transactions ADD COLUMN uuid TEXT;
UPDATE transactions SET uuid = transaction_uuid(profile_id, points_currency_eid, transaction_id);
CREATE UNIQUE INDEX transactions_by_uuid ON transactions (uuid);
CREATE INDEX transactions_by_eid ON transactions (transaction_eid);
""",
)
SCHEMA_VERSION = len(MIGRATIONS)  # row schema ROW_SCHEMA; a new row schema is a migration
_INSERT_ROW = (
    f"INSERT INTO transactions ({', '.join(ROW_KEYS)}, uuid) "
    f"VALUES ({', '.join('?' for _ in ROW_KEYS)}, ?)"
)


class SqliteStore:
    """The embedded default: one SQLite file (WAL), one ``BEGIN IMMEDIATE`` transaction per
    write, safe for many processes."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        """Open (and with ``create``, make or migrate) the database at ``path``."""
        if not isinstance(path, str | os.PathLike):
            raise ValidationError(("path",), path, "must be a file path")
        self.path = Path(path)
        try:
            directory = self.path.parent.is_dir()
        except (OSError, ValueError) as error:
            raise StoreError(f"{os.fspath(path)!r}: not a usable path ({error})") from None
        if not directory:
            raise StoreError(f"{self.path.parent}: no such directory")
        if not create and not self.path.exists():
            raise StoreError(f"{self.path}: no such database (loyalty-engine db init)")
        self._lock = threading.Lock()
        self._pools: tuple[int, tuple[CodePool, ...]] | None = None  # (pools_version, pools)
        self.replays: Recent[str, Membership] = Recent()  # see load
        self._decoded: Recent[str, dict[tuple[Any, ...], Transaction]] = Recent()
        try:
            self._db = sqlite3.connect(
                self.path, isolation_level=None, timeout=60, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.create_function("transaction_uuid", 3, transaction_uuid, deterministic=True)
            self._migrate()
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{self.path}: {error}") from None

    def _migrate(self) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "schema_version" not in tables:
                if tables:
                    raise StoreError(f"{self.path}: not a loyalty_engine database")
                db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
                db.execute("INSERT INTO schema_version VALUES (0)")
            found = db.execute("SELECT version FROM schema_version").fetchall()
            version = found[0][0] if len(found) == 1 else None
            if type(version) is not int or version < 0:
                raise StoreError(f"{self.path}: schema_version is damaged ({found!r:.80})")
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: schema version {version}; this library reads up to "
                    f"{SCHEMA_VERSION}"
                )
            for step in MIGRATIONS[version:]:
                for statement in step.split(";"):
                    if statement.strip():
                        db.execute(statement)
            db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    # --- reads -----------------------------------------------------------------------------

    def _query(self, sql: str, *args: object) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.DatabaseError as error:
                raise StoreError(f"{self.path}: {error}") from None

    def find(self, match: Match) -> str | None:
        if match.method == "profile_id":
            found = self._query("SELECT profile_id FROM members WHERE profile_id = ?", match.value)
        else:
            found = self._query(
                "SELECT profile_id FROM identities WHERE kind = ? AND value = ?", *match.key
            )
        return found[0][0] if found else None

    def _snapshot(self, read: Callable[[sqlite3.Connection], T]) -> T:
        """``read`` in one read transaction: all it sees is one moment of the database."""
        with self._lock:
            try:
                self._db.execute("BEGIN")
                try:
                    return read(self._db)
                finally:
                    self._db.execute("COMMIT")
            except sqlite3.DatabaseError as error:
                raise StoreError(f"{self.path}: {error}") from None

    def member(self, profile_id: str) -> StoredMember | None:
        def read(db: sqlite3.Connection) -> tuple[Any, list[Any], list[Any]]:
            member = db.execute(
                "SELECT registered_at, removed_at, email, phone, fields, segments, tags "
                "FROM members WHERE profile_id = ?",
                (profile_id,),
            ).fetchone()
            raw = db.execute(
                f"SELECT {', '.join(ROW_KEYS)} FROM transactions WHERE profile_id = ? "
                "ORDER BY points_currency_eid, transaction_id",
                (profile_id,),
            ).fetchall()
            versions = db.execute(
                "SELECT currency, version FROM accounts WHERE profile_id = ?", (profile_id,)
            ).fetchall()
            return member, raw, versions

        member, raw, versions = self._snapshot(read)
        if member is None:
            return None
        path = ("members", profile_id)
        try:
            registered_at, removed_at, email, phone, fields, segments, tags = member
            profile = Profile(
                profile_id=profile_id,
                email=email,
                phone=phone,
                fields=json.loads(fields),
                segments=json.loads(segments),
                tags=json.loads(tags),
            )
            registration = _registration(registered_at, removed_at)
            # a row decoded before, with the same stored values, is that row (a third of a read)
            seen = self._decoded.get(profile_id) or {}
            rows = tuple(
                row if (row := seen.get(values)) is not None else _row(values, profile_id)
                for values in raw
            )
        except (ValueError, TypeError) as error:
            raise StoreError(f"{self.path}: {'.'.join(path)}: {error}") from None
        self._decoded.put(profile_id, dict(zip(raw, rows, strict=True)), weight=len(rows) + 1)
        return StoredMember(
            profile=profile, registration=registration, rows=rows, versions=dict(versions)
        )

    def pools(self) -> tuple[CodePool, ...]:
        """Read in one snapshot, and again only when a write changed a pool since: every write
        to a pool bumps ``pools_version``."""

        def read(db: sqlite3.Connection) -> tuple[int, tuple[list[Any], ...] | None]:
            version = _pools_version(db)
            if self._pools is not None and self._pools[0] == version:
                return version, None
            pools = db.execute("SELECT pool_id, name, reuse FROM pools ORDER BY pool_id").fetchall()
            codes = db.execute(
                "SELECT pool_id, code, expires_at FROM pool_codes WHERE issued = 0 "
                "ORDER BY pool_id, position"
            ).fetchall()
            used = db.execute("SELECT pool_id, code FROM used_codes").fetchall()
            return version, (pools, codes, used)

        version, tables = self._snapshot(read)
        if tables is None:
            assert self._pools is not None
            return self._pools[1]
        rows, codes, used = tables
        live: dict[int, list[PoolCode]] = {}
        spent: dict[int, list[str]] = {}
        out = []
        try:
            for pool_id, code, at in codes:
                live.setdefault(pool_id, []).append(
                    PoolCode(code, parse_moment(at, ("expires_at",)))
                )
            for pool_id, code in used:
                spent.setdefault(pool_id, []).append(code)
            for pool_id, name, reuse in rows:
                codes_of, used_of = live.get(pool_id, []), spent.get(pool_id, [])
                out.append(CodePool(pool_id=pool_id, name=name, reuse=reuse, codes=codes_of,
                                    used=used_of))  # fmt: skip
        except (ValidationError, ValueError, TypeError) as error:
            raise StoreError(f"{self.path}: pools: {error}") from None
        self._pools = (version, tuple(out))
        return self._pools[1]

    def issued(self, pool_id: int) -> frozenset[str]:
        found = self._query("SELECT code FROM pool_codes WHERE pool_id = ? AND issued = 1", pool_id)
        return frozenset(code for (code,) in found)

    def order(self, external_id: str) -> OrderRecord | None:
        found = self._query(
            "SELECT external_id, profile_id, fingerprint, response FROM orders "
            "WHERE external_id = ?",
            external_id,
        )
        return _order(found[0]) if found else None

    def find_transactions(
        self, *, uuid: str | None = None, eid: str | None = None
    ) -> tuple[TransactionKey, ...]:
        column, value = ("uuid", uuid) if uuid is not None else ("transaction_eid", eid)
        found = self._query(
            "SELECT profile_id, points_currency_eid, transaction_id FROM transactions "
            f"WHERE {column} = ? ORDER BY 1, 2, 3",
            value,
        )
        return tuple(TransactionKey(*row) for row in found)

    def profiles(self) -> Iterator[str]:
        return iter(r[0] for r in self._query("SELECT profile_id FROM members ORDER BY 1"))

    def orders(self) -> Iterator[OrderRecord]:
        found = self._query(
            "SELECT external_id, profile_id, fingerprint, response FROM orders ORDER BY 1"
        )
        return iter(_order(r) for r in found)

    # --- writes: one transaction each ------------------------------------------------------

    def apply(self, effects: Effects, *, profile: Profile | None = None) -> None:
        self.apply_all([(effects, profile)])

    def apply_all(self, batch: Sequence[tuple[Effects, Profile | None]]) -> None:
        cached = self._pools
        versions: list[int] = []

        def work(db: sqlite3.Connection) -> None:
            disjoint(batch)
            versions.append(_pools_version(db))
            for effects, profile in batch:
                _apply(db, effects, profile)
            versions.append(_pools_version(db))

        self._transaction(work)
        before, after = versions
        ours = sum(1 for effects, _ in batch if effects.issued or effects.used)
        if ours and cached is not None and cached[0] == before and after == before + ours:
            # only this write changed the pools since they were read: change the copy too
            self._pools = (after, _taken(cached[1], [e for e, _ in batch]))

    def add_pool(self, pool: CodePool) -> None:
        self._transaction(lambda db: _add_pool(db, pool))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _transaction(self, work: Callable[[sqlite3.Connection], None]) -> None:
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.DatabaseError as error:
                raise StoreError(f"{self.path}: {error}") from None
            try:
                work(db)
                db.execute("COMMIT")
            except sqlite3.IntegrityError as error:
                db.execute("ROLLBACK")
                raise ConflictError(f"{self.path}: {error}") from None
            except sqlite3.DatabaseError as error:
                db.execute("ROLLBACK")
                raise StoreError(f"{self.path}: {error}") from None
            except BaseException:
                db.execute("ROLLBACK")
                raise


def _apply(db: sqlite3.Connection, effects: Effects, profile: Profile | None) -> None:
    write = effects.member
    if write is not None:
        found = db.execute(
            "SELECT registered_at, removed_at FROM members WHERE profile_id = ?",
            (write.profile_id,),
        ).fetchone()
        current = _registration(*found) if found else None
        if current != write.before:
            raise ConflictError(f"member {write.profile_id!r} changed since it was read")
        registered, removed = (
            moment_text(write.after.registered_at),
            moment_text(write.after.removed_at),
        )
        if found is None:
            db.execute(
                "INSERT INTO members (profile_id, registered_at, removed_at) VALUES (?, ?, ?)",
                (write.profile_id, registered, removed),
            )
        elif current != write.after:
            db.execute(
                "UPDATE members SET registered_at = ?, removed_at = ? WHERE profile_id = ?",
                (registered, removed, write.profile_id),
            )
    for account in effects.accounts:
        found = db.execute(
            "SELECT version FROM accounts WHERE profile_id = ? AND currency = ?",
            (account.profile_id, account.currency),
        ).fetchone()
        version = found[0] if found else 0
        if version != account.version:
            raise ConflictError(
                f"account {account.profile_id}/{account.currency} is at version {version}, "
                f"the operation read version {account.version}"
            )
        check_ids(version, account.rows)
        db.executemany(_INSERT_ROW, [_columns(row) for row in account.rows])
        if found is None:
            db.execute(
                "INSERT INTO accounts (profile_id, currency, version) VALUES (?, ?, ?)",
                (account.profile_id, account.currency, version + len(account.rows)),
            )
        elif account.rows:
            db.execute(
                "UPDATE accounts SET version = ? WHERE profile_id = ? AND currency = ?",
                (version + len(account.rows), account.profile_id, account.currency),
            )
    if effects.issued or effects.used:
        db.execute("UPDATE pools_version SET version = version + 1")
    for pool_id, code in effects.issued:
        taken = db.execute(
            "UPDATE pool_codes SET issued = 1 WHERE pool_id = ? AND code = ? AND issued = 0",
            (pool_id, code),
        )
        if taken.rowcount != 1:
            raise ConflictError(f"code {code!r} of pool {pool_id} was handed out already")
    for pool_id, code in effects.used:
        if db.execute(
            "SELECT 1 FROM used_codes WHERE pool_id = ? AND code = ?", (pool_id, code)
        ).fetchone():
            raise ConflictError(f"code {code!r} of pool {pool_id} was used already")
        db.execute(
            "INSERT INTO used_codes (pool_id, code) "
            "SELECT ?, ? WHERE EXISTS (SELECT 1 FROM pools WHERE pool_id = ?)",
            (pool_id, code, pool_id),
        )
    if effects.order is not None:
        order = effects.order
        if db.execute(
            "SELECT 1 FROM orders WHERE external_id = ?", (order.external_id,)
        ).fetchone():
            raise ConflictError(f"order {order.external_id!r} is committed already")
        db.execute(
            "INSERT INTO orders (external_id, profile_id, fingerprint, response) "
            "VALUES (?, ?, ?, ?)",
            (order.external_id, order.profile_id, order.fingerprint,
             json.dumps(dict(order.response), ensure_ascii=False)),
        )  # fmt: skip
    if profile is not None:
        updated = db.execute(
            "UPDATE members SET email = ?, phone = ?, fields = ?, segments = ?, tags = ? "
            "WHERE profile_id = ?",
            (profile.email, profile.phone, json.dumps(dict(profile.fields)),
             json.dumps(sorted(profile.segments)), json.dumps(sorted(profile.tags)),
             profile.profile_id),
        )  # fmt: skip
        if updated.rowcount != 1:
            raise LedgerError(f"{profile.profile_id!r} is not a member: register them first")
        db.execute("DELETE FROM identities WHERE profile_id = ?", (profile.profile_id,))
        for kind, value in profile.identities():
            owner = db.execute(
                "SELECT profile_id FROM identities WHERE kind = ? AND value = ?", (kind, value)
            ).fetchone()
            if owner is not None:
                raise ConflictError(f"{kind} {value!r} belongs to member {owner[0]!r}")
            db.execute(
                "INSERT INTO identities (kind, value, profile_id) VALUES (?, ?, ?)",
                (kind, value, profile.profile_id),
            )


def _taken(pools: tuple[CodePool, ...], batch: Sequence[Effects]) -> tuple[CodePool, ...]:
    """``pools`` after the codes ``batch`` handed out and used."""
    issued = {(p, c) for effects in batch for p, c in effects.issued}
    used = {(p, c) for effects in batch for p, c in effects.used}
    return tuple(
        attrs.evolve(
            pool,
            codes=[c for c in pool.codes if (pool.pool_id, c.code) not in issued],
            used=pool.used | {c for p, c in used if p == pool.pool_id},
        )
        for pool in pools
    )


def _add_pool(db: sqlite3.Connection, pool: CodePool) -> None:
    db.execute("UPDATE pools_version SET version = version + 1")
    found = db.execute("SELECT name, reuse FROM pools WHERE pool_id = ?", (pool.pool_id,))
    existing = found.fetchone()
    if existing is None:
        db.execute("INSERT INTO pools VALUES (?, ?, ?)", (pool.pool_id, pool.name, pool.reuse))
    elif tuple(existing) != (pool.name, pool.reuse):
        raise ConflictError(
            f"pool {pool.pool_id} is {existing[0]!r} ({existing[1]}), not {pool.name!r} "
            f"({pool.reuse})"
        )
    (last,) = db.execute(
        "SELECT COALESCE(MAX(position), 0) FROM pool_codes WHERE pool_id = ?", (pool.pool_id,)
    ).fetchone()
    db.executemany(
        "INSERT OR IGNORE INTO pool_codes (pool_id, code, position, expires_at) "
        "VALUES (?, ?, ?, ?)",
        [(pool.pool_id, c.code, last + i, moment_text(c.expires_at))
         for i, c in enumerate(pool.codes, start=1)],
    )  # fmt: skip
    db.executemany(
        "INSERT OR IGNORE INTO used_codes (pool_id, code) VALUES (?, ?)",
        [(pool.pool_id, code) for code in sorted(pool.used)],
    )


def _columns(row: Transaction) -> tuple[object, ...]:
    data = row.to_row()
    data["drawn"] = json.dumps(data["drawn"])
    data["temp"] = int(row.temp)
    return (*(data[key] for key in ROW_KEYS), row.uuid)


def _row(values: tuple[Any, ...], profile_id: str) -> Transaction:
    data: dict[str, object] = dict(zip(ROW_KEYS, values, strict=True))
    data["drawn"] = json.loads(data["drawn"]) if isinstance(data["drawn"], str) else data["drawn"]
    data["temp"] = bool(data["temp"]) if data["temp"] in (0, 1) else data["temp"]
    path = (
        "transactions",
        profile_id,
        str(data["points_currency_eid"]),
        str(data["transaction_id"]),
    )
    return Transaction.from_row(data, path)


def _registration(registered_at: str, removed_at: str | None) -> Registration:
    since = parse_moment(registered_at, ("registered_at",))
    assert since is not None, "members.registered_at is NOT NULL"
    return Registration(since, parse_moment(removed_at, ("removed_at",)))


def _pools_version(db: sqlite3.Connection) -> int:
    found = db.execute("SELECT version FROM pools_version").fetchall()
    if len(found) != 1 or type(found[0][0]) is not int:
        raise StoreError(f"pools_version is damaged ({found!r:.80})")
    version: int = found[0][0]
    return version


def _order(values: tuple[Any, ...]) -> OrderRecord:
    external_id, profile_id, signed, response = values
    try:
        document: Mapping[str, object] = json.loads(response)
        if not isinstance(document, dict):
            raise ValueError("not a stored response")
        return OrderRecord(
            external_id=external_id, profile_id=profile_id, fingerprint=signed, response=document
        )
    except (ValueError, TypeError) as error:
        raise StoreError(f"orders[{external_id!r}].response: {error}") from None
