"""Transactions, and the journal of one account: an append-only log with its indexes.

The journal is a value (an account holds one), but copying 100,000 rows per operation would make
every operation O(n). So versions share one append-only store and each sees only its first
``length`` rows: appending to the newest version is O(1); appending to an older version (a branch,
which the ledger never needs but a caller may do) copies that version's rows first. Lookups by id,
by ``transaction_eid`` and of the rows that refer to a row are O(1); a history page is O(limit).
"""

from __future__ import annotations

import datetime as dt
import enum
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import attrs

from ..errors import Path, ValidationError, ValidationErrors, show
from ..model import INT64, MAX_POINTS_PRECISION
from ..money import parse_decimal
from ..validators import checked, parse_moment

ROW_SCHEMA = 1  # the version of the row format below; stores record it and refuse others
_NAMESPACE = uuid.UUID("5b0c6c1e-7a51-4f0e-9d3a-6c6f79616c74")  # fixed forever: ids are stored


def transaction_uuid(profile_id: str, currency: str, id: int) -> str:
    """The API's ``transaction_id`` of row ``id`` of an account: a name-based UUID (RFC 9562
    version 5) of the account and the row, so it is stable, global and needs no counter. Stores
    index it to find the row from the id alone."""
    return str(uuid.uuid5(_NAMESPACE, f"{profile_id}\x1f{currency}\x1f{id}"))


class Kind(enum.Enum):
    """``transaction_type`` in the history API."""

    ACCRUAL = "accrual"
    REDEMPTION = "redemption"
    CANCELLATION = "cancellation"  # of an accrual or a redemption, whole or in part
    ROLLBACK = "rollback"  # of a temporary transaction, by request or by timeout
    EXPIRATION = "expiration"  # what was left of a lot when it expired
    FORFEIT = "forfeit"  # points given up when the member left the program


@attrs.frozen(kw_only=True)
class Transaction:
    """One row of an account's history. ``delta`` is its effect on the total balance.

    A temporary (held) row has ``temp`` set and ``delta`` 0: its commit is a new permanent row
    that ``refers_to`` it. A cancellation, rollback or expiration row ``refers_to`` its subject;
    expiration and timeout rows are dated when they were settled (the lot's expiry is on the
    accrual row), which is what lets ``Account.replay`` rebuild an account exactly.
    """

    id: int  # sequential within the account: (profile_id, currency, id) is unique
    profile_id: str
    currency: str  # the points currency's eid
    eid: str | None
    at: dt.datetime  # created_at
    kind: Kind
    amount: Decimal  # the magnitude, as the history API shows it
    delta: Decimal
    balance_before: Decimal
    balance_after: Decimal
    temp: bool = False
    deadline: dt.datetime | None = None  # a temporary row rolls back by itself at this time
    activation: dt.datetime | None = None
    expiration: dt.datetime | None = None
    refers_to: int | None = None
    promotion: str | None = None
    description: str | None = None
    source_type: str | None = None  # "order", "trigger", "registration", "api", ...
    source_id: str | None = None
    drawn: tuple[tuple[int, Decimal], ...] = ()  # a redemption's (lot id, points) taken
    earned_after: Decimal = Decimal(0)  # cumulative points earned, at its peak (tiers)
    request: str = attrs.field(default="", repr=False)  # the fingerprint an eid replay must match

    @property
    def uuid(self) -> str:
        """The API's ``transaction_id``: ``transaction_uuid`` of this row."""
        return transaction_uuid(self.profile_id, self.currency, self.id)

    def to_row(self) -> dict[str, object]:
        """The row as JSON scalars (schema ``ROW_SCHEMA``): the history API's names, plus what
        ``Account.replay`` needs. ``from_row`` is its inverse."""
        return {key: encode(getattr(self, name)) for key, name, encode, _ in _CODEC}

    @classmethod
    @checked
    def from_row(cls, data: object, path: Path = ()) -> Transaction:
        """A row written by ``to_row``, checked strictly: every problem at once, with its path."""
        if not isinstance(data, Mapping):
            raise ValidationError(path, data, "must be an object (a transaction row)")
        errors: list[ValidationError] = []
        for key in sorted(set(data) - _KEYS, key=show):
            errors.append(ValidationError((*path, key), data[key], "unknown key"))
        fields: dict[str, Any] = {}
        for key, name, _, decode in _CODEC:
            try:
                fields[name] = decode(data[key], (*path, key))
            except KeyError:
                errors.append(ValidationError((*path, key), None, "required"))
            except ValidationError as error:
                errors.append(error)
        if not errors and fields["refers_to"] is None and fields["kind"] in _REFERRING:
            errors.append(ValidationError((*path, "refers_to"), None, "required for this type"))
        ValidationErrors.collect(errors)
        try:
            return cls(**fields)
        except (TypeError, ValueError) as error:  # pragma: no cover - every field was checked
            raise ValidationError(path, data, str(error)) from None


class _Store:
    __slots__ = ("by_eid", "lock", "referrers", "rows")

    def __init__(self) -> None:
        self.rows: list[Transaction] = []
        self.by_eid: dict[str, int] = {}
        self.referrers: dict[int, list[int]] = {}
        self.lock = threading.Lock()

    def upto(self, length: int) -> _Store:
        """A new store with the first ``length`` rows and their index entries."""
        out = _Store()
        out.rows = self.rows[:length]
        out.by_eid = {eid: id for eid, id in self.by_eid.items() if id <= length}
        referrers = ((id, [i for i in ids if i <= length]) for id, ids in self.referrers.items())
        out.referrers = {id: ids for id, ids in referrers if ids}
        return out


@attrs.frozen(eq=False)
class Journal:
    """The first ``length`` rows of a shared store; row ``id`` is at index ``id - 1``."""

    _store: _Store = attrs.field(factory=_Store, repr=False)
    length: int = 0

    def append(self, rows: tuple[Transaction, ...]) -> Journal:
        store = self._store
        with store.lock:
            if len(store.rows) != self.length:  # a branch: copy this version's part
                store = self._store.upto(self.length)
            for row in rows:
                _index(store, row)
            return Journal(store, len(store.rows))

    def get(self, id: int) -> Transaction | None:
        return self._store.rows[id - 1] if 0 < id <= self.length else None

    def by_eid(self, eid: str) -> Transaction | None:
        id = self._store.by_eid.get(eid)
        return self.get(id) if id is not None else None

    def referrers(self, id: int) -> tuple[Transaction, ...]:
        """The rows that refer to row ``id`` (its commit, rollback, cancellations, expiry)."""
        ids = self._store.referrers.get(id, ())
        return tuple(self._store.rows[i - 1] for i in ids if i <= self.length)

    def page(self, from_id: int | None, limit: int) -> tuple[Transaction, ...]:
        start = max(from_id or 0, 0)
        return tuple(self._store.rows[start : min(start + limit, self.length)])

    def __iter__(self) -> Iterator[Transaction]:
        return iter(self._store.rows[: self.length])

    def __len__(self) -> int:
        return self.length

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Journal):
            return NotImplemented
        return self.length == other.length and list(self) == list(other)

    def __hash__(self) -> int:
        return hash(self.length)


def _index(store: _Store, row: Transaction) -> None:
    store.rows.append(row)
    if row.eid is not None:
        store.by_eid.setdefault(row.eid, row.id)
    if row.refers_to is not None:
        store.referrers.setdefault(row.refers_to, []).append(row.id)


# --- the row codec: (row key, attribute, encode, decode), in the row's key order -----------------

_REFERRING = (Kind.CANCELLATION, Kind.ROLLBACK, Kind.EXPIRATION)


def moment_text(moment: dt.datetime | None) -> str | None:
    """RFC 3339, UTC written ``Z`` as the platform's examples do."""
    if moment is None:
        return None
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _text(value: object, path: Path) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValidationError(path, value, "must be a string or null")
    return value


def _required_text(value: object, path: Path) -> str:
    text = _text(value, path)
    if not text:
        raise ValidationError(path, value, "must be a non-empty string")
    return text


def _integer(value: object, path: Path) -> int | None:
    if value is not None and (type(value) is not int or value not in INT64):
        raise ValidationError(path, value, "must be a 64-bit integer or null")
    return value


def _id(value: object, path: Path) -> int:
    number = _integer(value, path)
    if number is None or number < 1:
        raise ValidationError(path, value, "must be a positive integer")
    return number


def _required_moment(value: object, path: Path) -> dt.datetime:
    moment = parse_moment(value, path)
    if moment is None:
        raise ValidationError(path, value, "required")
    return moment


def _points(value: object, path: Path) -> Decimal:
    if not isinstance(value, str):
        raise ValidationError(path, value, "must be a decimal string")
    return parse_decimal(value, path, places=MAX_POINTS_PRECISION)


def _kind(value: object, path: Path) -> Kind:
    try:
        return Kind(value)
    except ValueError:
        raise ValidationError(path, value, f"must be one of {[k.value for k in Kind]}") from None


def _flag(value: object, path: Path) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(path, value, "must be true or false")
    return value


def _drawn(value: object, path: Path) -> tuple[tuple[int, Decimal], ...]:
    if not isinstance(value, list):
        raise ValidationError(path, value, "must be a list of [lot id, points]")
    out = []
    for i, pair in enumerate(value):
        if not (isinstance(pair, list) and len(pair) == 2):
            raise ValidationError((*path, i), pair, "must be [lot id, points string]")
        out.append((_id(pair[0], (*path, i, 0)), _points(pair[1], (*path, i, 1))))
    return tuple(out)


def _request(value: object, path: Path) -> str:
    if not isinstance(value, str):
        raise ValidationError(path, value, "must be a string")
    return value


def _same(value: object) -> object:
    return value


def _number_text(value: object) -> str:
    assert isinstance(value, Decimal)
    return format(value, "f")


_Decode = Callable[[object, Path], Any]
_CODEC: tuple[tuple[str, str, Callable[[Any], object], _Decode], ...] = (
    ("transaction_id", "id", _same, _id),
    ("transaction_eid", "eid", _same, _text),
    ("profile_id", "profile_id", _same, _required_text),
    ("points_currency_eid", "currency", _same, _required_text),
    ("created_at", "at", moment_text, _required_moment),
    ("transaction_type", "kind", lambda kind: kind.value, _kind),
    ("amount", "amount", _number_text, _points),
    ("delta", "delta", _number_text, _points),
    ("balance_before", "balance_before", _number_text, _points),
    ("balance_after", "balance_after", _number_text, _points),
    ("temp", "temp", _same, _flag),
    ("deadline", "deadline", moment_text, parse_moment),
    ("activation_date", "activation", moment_text, parse_moment),
    ("expiration_date", "expiration", moment_text, parse_moment),
    ("refers_to", "refers_to", _same, _integer),
    ("promo_eid", "promotion", _same, _text),
    ("description", "description", _same, _text),
    ("source_type", "source_type", _same, _text),
    ("source_id", "source_id", _same, _text),
    ("drawn", "drawn", lambda drawn: [[lot, format(p, "f")] for lot, p in drawn], _drawn),
    ("earned_after", "earned_after", _number_text, _points),
    ("request", "request", _same, _request),
)
_KEYS = frozenset(key for key, *_ in _CODEC)
ROW_KEYS = tuple(key for key, *_ in _CODEC)
