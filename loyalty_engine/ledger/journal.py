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
from collections.abc import Iterator
from decimal import Decimal

import attrs


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
