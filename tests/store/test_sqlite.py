"""The SQLite store: its schema, its versions, and what it refuses to open."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import loyalty_engine as le
from loyalty_engine.errors import StoreError
from loyalty_engine.ledger.effects import Effects, OrderRecord
from loyalty_engine.store import SCHEMA_VERSION, SqliteStore


def test_a_new_database_gets_the_schema_and_its_version(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "s.sqlite").close()
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        (version,) = db.execute("SELECT version FROM schema_version").fetchone()
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert version == SCHEMA_VERSION == 2 and mode == "wal"
    assert {"members", "identities", "accounts", "transactions", "pools", "pool_codes",
            "used_codes", "orders"} <= tables  # fmt: skip


def test_uniqueness_is_in_the_schema(tmp_path: Path) -> None:
    """The store enforces it even against a writer that skips our checks."""
    SqliteStore(tmp_path / "s.sqlite").close()
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        columns = "profile_id, points_currency_eid, transaction_id, transaction_eid"
        db.execute(f"INSERT INTO transactions ({columns}) VALUES ('p', 'b', 1, 'e')")
        for values in ("('p', 'b', 1, 'other')", "('p', 'b', 2, 'e')"):
            with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
                db.execute(f"INSERT INTO transactions ({columns}) VALUES {values}")
        db.execute("INSERT INTO orders VALUES ('o1', NULL, 'f', '{}')")
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            db.execute("INSERT INTO orders VALUES ('o1', 'p', 'g', '{}')")


def test_a_newer_schema_is_refused_not_guessed_at(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "s.sqlite").close()
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        db.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(StoreError, match="schema version 99; this library reads up to 2"):
        SqliteStore(tmp_path / "s.sqlite")


def test_another_database_is_refused(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "other.sqlite") as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(StoreError, match="not a loyalty_engine database"):
        SqliteStore(tmp_path / "other.sqlite")
    (tmp_path / "junk.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match=r"junk\.sqlite"):
        SqliteStore(tmp_path / "junk.sqlite")


def test_a_missing_directory_or_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such directory"):
        SqliteStore(tmp_path / "nowhere" / "s.sqlite")
    with pytest.raises(StoreError, match="no such database"):
        SqliteStore(tmp_path / "s.sqlite", create=False)


def test_pools_are_read_again_when_another_connection_changed_them(tmp_path: Path) -> None:
    """The pools are cached by ``pools_version``; a write through any connection bumps it."""
    reader, writer = SqliteStore(tmp_path / "s.sqlite"), SqliteStore(tmp_path / "s.sqlite")
    writer.add_pool(
        le.CodePool(pool_id=1, name="Gifts", codes=[le.PoolCode("A"), le.PoolCode("B")])
    )
    assert [c.code for c in reader.pools()[0].codes] == ["A", "B"]
    assert reader.pools() is reader.pools()  # nothing changed: the same value
    writer.apply(Effects(issued=((1, "A"),), used=((1, "B"),)))
    (pool,) = reader.pools()
    assert [c.code for c in pool.codes] == ["B"] and pool.used == {"B"}
    writer.apply(Effects(order=OrderRecord(external_id="o", profile_id=None, fingerprint="f")))
    assert reader.pools() == (pool,)


def test_a_write_of_its_own_updates_the_cached_pools_as_a_fresh_read_would(
    tmp_path: Path,
) -> None:
    store = SqliteStore(tmp_path / "s.sqlite")
    codes = [le.PoolCode(c) for c in "ABCD"]
    store.add_pool(le.CodePool(pool_id=1, name="Gifts", codes=codes))
    store.pools()
    store.apply(Effects(issued=((1, "B"),), used=((1, "D"),)))
    store.apply_all([(Effects(issued=((1, "A"),)), None), (Effects(used=((1, "C"),)), None)])
    cached = store.pools()
    assert [c.code for c in cached[0].codes] == ["C", "D"] and cached[0].used == {"C", "D"}
    assert cached == SqliteStore(tmp_path / "s.sqlite").pools()


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ("DELETE FROM schema_version", "schema_version is damaged"),
        ("UPDATE schema_version SET version = 'x'", "schema_version is damaged"),
        ("DELETE FROM pools_version", "pools_version is damaged"),
        ("INSERT INTO orders VALUES ('o', NULL, 'f', '{')", r"orders\['o'\]\.response"),
        ("INSERT INTO orders VALUES ('o', NULL, 'f', '[1]')", "not a stored response"),
    ],
)
def test_a_tampered_database_is_a_store_error(tmp_path: Path, tamper: str, message: str) -> None:
    SqliteStore(tmp_path / "s.sqlite").close()
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        db.execute(tamper)
    with pytest.raises(StoreError, match=message):
        store = SqliteStore(tmp_path / "s.sqlite")
        store.pools()
        list(store.orders())


def test_version_1_databases_get_transaction_uuids(tmp_path: Path) -> None:
    """Migration 1 → 2 gives every stored row its API transaction_id, findable at once."""
    from loyalty_engine.ledger.journal import ROW_KEYS, transaction_uuid
    from loyalty_engine.store.sqlite import MIGRATIONS

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(MIGRATIONS[0])
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        db.execute("INSERT INTO schema_version VALUES (1)")
        keys = ", ".join(ROW_KEYS[:4])
        db.execute(f"INSERT INTO transactions ({keys}) VALUES (3, 'e-3', 'p', 'bonus')")
    store = SqliteStore(path)
    try:
        (found,) = store.find_transactions(uuid=transaction_uuid("p", "bonus", 3))
        assert (found.profile_id, found.currency, found.id) == ("p", "bonus", 3)
        assert store.find_transactions(eid="e-3") == (found,)
        assert store.find_transactions(eid="nothing") == ()
    finally:
        store.close()
