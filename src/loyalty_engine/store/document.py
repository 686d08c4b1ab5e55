"""The state-file document: a whole store as JSON (the JSON store's file, ``db export``).

``{"schema": 1, "row_schema": 1, "members": {profile_id: {"registered_at", "removed_at",
"email", "phone", "fields": {name: value}, "segments": [], "tags": [], "accounts": {currency:
version}, "transactions": [row, …]}}, "pools": [{"pool_id", "name", "reuse", "codes": [{"code",
"expires_at"}], "issued": [], "used": []}], "orders": {external_id: {"profile_id",
"fingerprint", "response"}}}``. ``accounts`` records each account's version, so a lost trailing
row is found. A document without ``schema`` is the state file of 0.1, read as it was written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from ..errors import Path, ValidationError, ValidationErrors, show
from ..ledger.effects import OrderRecord, Registration
from ..ledger.journal import ROW_SCHEMA, Transaction, moment_text
from ..pools import PoolCode
from ..validators import parse_moment
from .protocol import Store
from .records import Profile
from .tables import PoolState, Row, Tables

SCHEMA = 1
_MEMBER_KEYS = {"registered_at", "removed_at", "email", "phone", "fields", "segments", "tags",
                "accounts", "transactions"}  # fmt: skip
_LEGACY_MEMBER_KEYS = {"registered_at", "removed_at", "transactions"}


def to_document(store: Store) -> dict[str, object]:
    """Everything ``store`` holds, in the state-file format."""
    tables = Tables()
    for profile_id in store.profiles():
        stored = store.member(profile_id)
        assert stored is not None
        tables.registrations[profile_id] = stored.registration
        tables.profiles[profile_id] = stored.profile
        tables.versions[profile_id] = dict(stored.versions)
        accounts = tables.rows[profile_id] = {}
        for row in stored.rows:
            accounts.setdefault(row.currency, []).append(row)
    for pool in store.pools():
        issued = store.issued(pool.pool_id)
        tables.pools[pool.pool_id] = PoolState(
            pool.name, pool.reuse, [*pool.codes, *map(PoolCode, sorted(issued))],
            issued=set(issued), used=set(pool.used),
        )  # fmt: skip
    tables.orders = {order.external_id: order for order in store.orders()}
    return tables_document(tables)


def tables_document(tables: Tables) -> dict[str, object]:
    """The document of ``tables``; rows never decoded are written back as they were read."""
    members: dict[str, object] = {}
    for profile_id in tables.profile_ids():
        registration = tables.registrations[profile_id]
        profile = tables.profiles.get(profile_id) or Profile(profile_id=profile_id)
        accounts = tables.rows.get(profile_id, {})
        members[profile_id] = {
            "registered_at": moment_text(registration.registered_at),
            "removed_at": moment_text(registration.removed_at),
            "email": profile.email,
            "phone": profile.phone,
            "fields": dict(profile.fields),
            "segments": sorted(profile.segments),
            "tags": sorted(profile.tags),
            "accounts": {
                c: tables.version(profile_id, c)
                for c in sorted(accounts.keys() | tables.versions.get(profile_id, {}).keys())
            },
            "transactions": [
                row.to_row() if isinstance(row, Transaction) else row
                for currency in sorted(accounts)
                for row in accounts[currency]
            ],
        }
    return {
        "schema": SCHEMA,
        "row_schema": ROW_SCHEMA,
        "members": members,
        "pools": [
            {
                "pool_id": pool_id,
                "name": pool.name,
                "reuse": pool.reuse,
                "codes": [
                    {"code": c.code, "expires_at": moment_text(c.expires_at)}
                    for c in pool.codes
                    if c.code not in pool.issued
                ],
                "issued": sorted(pool.issued),
                "used": sorted(pool.used),
            }
            for pool_id, pool in sorted(tables.pools.items())
        ],
        "orders": {
            external_id: {
                "profile_id": order.profile_id,
                "fingerprint": order.fingerprint,
                "response": dict(order.response),
            }
            for external_id, order in sorted(tables.orders.items())
        },
    }


def read_document(data: object) -> Tables:
    """The tables a state document describes; every problem at once, with its path."""
    errors: list[ValidationError] = []
    get = Getter(errors)
    top = get.mapping(data, ())
    tables = Tables()
    if top is None:
        ValidationErrors.collect(errors)
    assert top is not None
    legacy = "schema" not in top
    if not legacy and (type(top.get("schema")) is not int or top.get("schema") != SCHEMA):
        raise ValidationError(("schema",), top.get("schema"), f"this version reads schema {SCHEMA}")
    if not legacy and (type(top.get("row_schema")) is not int or top["row_schema"] != ROW_SCHEMA):
        raise ValidationError(("row_schema",), top.get("row_schema"), f"must be {ROW_SCHEMA}")
    allowed = {"members", "pools", "orders"} | (set() if legacy else {"schema", "row_schema"})
    get.keys(top, (), allowed)
    members = get.mapping(top.get("members", {}), ("members",)) or {}
    for profile_id, value in members.items():
        _member(tables, get, profile_id, value, legacy)
    for i, value in enumerate(get.items(top.get("pools", []), ("pools",))):
        _pool(tables, get, value, ("pools", i), legacy)
    orders = get.mapping(top.get("orders", {}), ("orders",)) or {}
    for external_id, value in orders.items():
        _order(tables, get, external_id, value, legacy)
    ValidationErrors.collect(errors)
    return tables


def _member(tables: Tables, get: Getter, profile_id: str, value: object, legacy: bool) -> None:
    path: Path = ("members", profile_id)
    member = get.mapping(value, path)
    if member is None:
        return
    get.keys(member, path, _LEGACY_MEMBER_KEYS if legacy else _MEMBER_KEYS)
    registered = get.moment(member.get("registered_at"), (*path, "registered_at"), required=True)
    removed = get.moment(member.get("removed_at"), (*path, "removed_at"))
    rows = get.items(member.get("transactions", []), (*path, "transactions"))
    by_currency: dict[str, list[Row]] = {}
    for i, row in enumerate(rows):
        if isinstance(row, Mapping) and isinstance(row.get("points_currency_eid"), str):
            by_currency.setdefault(row["points_currency_eid"], []).append(row)
        else:
            get.fail((*path, "transactions", i), row, "must be a transaction row")
    profile = get.profile(member, path, profile_id)
    versions = get.mapping(member.get("accounts", {}), (*path, "accounts")) or {}
    for currency, version in versions.items():
        if type(version) is not int or not 0 <= version < 2**63:
            get.fail((*path, "accounts", currency), version, "must be a version (an integer ≥ 0)")
    if not legacy:
        for currency in by_currency.keys() - versions.keys():
            get.fail((*path, "accounts", currency), None, "required: the account has rows")
    if registered is None or profile is None:
        return
    tables.registrations[profile_id] = Registration(registered, removed)
    tables.rows[profile_id] = by_currency
    tables.versions[profile_id] = {
        c: v for c, v in versions.items() if type(v) is int and 0 <= v < 2**63
    }
    tables.profiles[profile_id] = profile
    for key in profile.identities():
        owner = tables.identities.setdefault(key, profile_id)
        if owner != profile_id:
            get.fail((*path, key[0]), key[1], f"belongs to member {owner!r} too")


def _pool(tables: Tables, get: Getter, value: object, path: Path, legacy: bool) -> None:
    pool = get.mapping(value, path)
    if pool is None:
        return
    allowed = {"pool_id", "name", "reuse", "codes", "used"} | (set() if legacy else {"issued"})
    get.keys(pool, path, allowed)
    codes = pool_codes(get, pool.get("codes", []), (*path, "codes"))
    issued = get.texts(pool.get("issued", []), (*path, "issued"))
    used = get.texts(pool.get("used", []), (*path, "used"))
    known = {c.code for c in codes}
    # codes handed out stay beside the live ones, so none is ever handed out twice
    state = PoolState(
        name=pool.get("name"),  # type: ignore[arg-type]  # CodePool checks it below
        reuse=pool.get("reuse", "single"),
        codes=codes + [PoolCode(code) for code in sorted(issued - known)],
        issued=set(issued),
        used=set(used),
    )
    pool_id = pool.get("pool_id")
    if not get.required(pool, path, ("pool_id", "name")):
        return
    if get.build(path, lambda: state.value(pool_id)) is None:  # type: ignore[arg-type]
        return
    if pool_id in tables.pools:
        get.fail((*path, "pool_id"), pool_id, "duplicate pool_id")
        return
    tables.pools[pool_id] = state  # type: ignore[index]


def pool_codes(get: Getter, value: object, path: Path) -> list[PoolCode]:
    """A pool's ``codes``: ``"CODE"`` or ``{"code", "expires_at"}`` each."""
    codes = []
    for i, item in enumerate(get.items(value, path)):
        entry = get.mapping({"code": item} if isinstance(item, str) else item, (*path, i))
        if entry is None:
            continue
        get.keys(entry, (*path, i), {"code", "expires_at"})
        expires = get.moment(entry.get("expires_at"), (*path, i, "expires_at"))
        if not get.required(entry, (*path, i), ("code",)):
            continue
        made = get.build((*path, i), partial(PoolCode, entry["code"], expires))
        if made is not None:
            codes.append(made)
    return codes


def _order(tables: Tables, get: Getter, external_id: str, value: object, legacy: bool) -> None:
    path: Path = ("orders", external_id)
    entry = get.mapping(value, path)
    if entry is None:
        return
    if legacy:  # 0.1 stored the bare response: no fingerprint, so it can never be replayed
        record = get.build(path, partial(OrderRecord, external_id=external_id, profile_id=None,
                                         fingerprint="", response=entry))  # fmt: skip
        if record is not None:
            tables.orders[external_id] = record
        return
    get.keys(entry, path, {"profile_id", "fingerprint", "response"})
    profile_id, signed = entry.get("profile_id"), entry.get("fingerprint")
    if profile_id is not None and not isinstance(profile_id, str):
        get.fail((*path, "profile_id"), profile_id, "must be a string or null")
    if not isinstance(signed, str):
        get.fail((*path, "fingerprint"), signed, "must be a string")
    response = get.mapping(entry.get("response"), (*path, "response"))
    if response is None or not isinstance(signed, str):
        return
    record = get.build(
        path,
        partial(OrderRecord, external_id=external_id,
                profile_id=profile_id if isinstance(profile_id, str) else None,
                fingerprint=signed, response=response),
    )  # fmt: skip
    if record is not None:
        tables.orders[external_id] = record


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError((), value, "must be a string")
    return value


class Getter:
    """Typed reads of a JSON document that record problems instead of raising."""

    def __init__(self, errors: list[ValidationError]) -> None:
        self.errors = errors

    def fail(self, path: Path, value: object, reason: str) -> None:
        self.errors.append(ValidationError(path, value, reason))

    def mapping(self, value: object, path: Path) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.fail(path, value, "must be an object")
            return None
        return value

    def items(self, value: object, path: Path) -> list[object]:
        if not isinstance(value, list):
            self.fail(path, value, "must be a list")
            return []
        return value

    def texts(self, value: object, path: Path) -> frozenset[str]:
        items = self.items(value, path)
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item:
                self.fail((*path, i), item, "must be a non-empty string")
        return frozenset(i for i in items if isinstance(i, str) and i)

    def required(self, data: Mapping[str, object], path: Path, keys: tuple[str, ...]) -> bool:
        """Whether ``data`` has every key (each missing one is recorded)."""
        missing = [key for key in keys if data.get(key) is None]
        for key in missing:
            self.fail((*path, key), None, "required")
        return not missing

    def keys(self, data: Mapping[str, object], path: Path, allowed: set[str]) -> None:
        for key in sorted(set(data) - allowed, key=show):
            self.fail((*path, key), data[key], "unknown key")

    def moment(self, value: object, path: Path, *, required: bool = False) -> dt.datetime | None:
        if value is None and required:
            self.fail(path, None, "required")
        try:
            return parse_moment(value, path)
        except ValidationError as error:
            self.errors.append(error)
            return None

    def profile(self, member: Mapping[str, Any], path: Path, profile_id: str) -> Profile | None:
        """The member entry's identities, segments and tags (as both the state document and
        the import file write them)."""
        made: Profile | None = self.build(
            path,
            partial(Profile, profile_id=profile_id, email=member.get("email"),
                    phone=member.get("phone"), fields=member.get("fields", {}),
                    segments=member.get("segments", []), tags=member.get("tags", [])),
        )  # fmt: skip
        return made

    def build(self, path: Path, make: Callable[[], Any]) -> Any:
        try:
            return make()
        except ValidationError as error:
            self.errors.append(error.at(*path))
            return None
