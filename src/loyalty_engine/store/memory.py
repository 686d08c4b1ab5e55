"""The in-memory store: for tests, what-if runs and services that keep state elsewhere.

Safe under threads: reads and ``apply`` take one lock, so two threads committing for one member
see the same conflicts two processes would.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from ..ledger.effects import Effects, OrderRecord
from ..ledger.members import Membership
from ..pools import CodePool
from .recent import Recent
from .records import Match, Profile, StoredMember, TransactionKey
from .tables import Tables


class MemoryStore:
    """A store in dictionaries behind one lock: tests, what-if, state kept elsewhere."""

    def __init__(self) -> None:
        self._tables = Tables()
        self._lock = threading.Lock()
        self.replays: Recent[str, Membership] = Recent()  # see load

    @classmethod
    def over(cls, tables: Tables) -> MemoryStore:
        """A store on these tables (the JSON store reads and changes its file's tables so)."""
        store = cls()
        store._tables = tables
        return store

    def find(self, match: Match) -> str | None:
        with self._lock:
            return self._tables.find(match)

    def member(self, profile_id: str) -> StoredMember | None:
        with self._lock:
            return self._tables.member(profile_id)

    def pools(self) -> tuple[CodePool, ...]:
        with self._lock:
            return self._tables.code_pools()

    def issued(self, pool_id: int) -> frozenset[str]:
        with self._lock:
            pool = self._tables.pools.get(pool_id)
            return frozenset(pool.issued) if pool is not None else frozenset()

    def order(self, external_id: str) -> OrderRecord | None:
        with self._lock:
            return self._tables.orders.get(external_id)

    def find_transactions(
        self, *, uuid: str | None = None, eid: str | None = None
    ) -> tuple[TransactionKey, ...]:
        with self._lock:
            return self._tables.find_transactions(uuid=uuid, eid=eid)

    def apply(self, effects: Effects, *, profile: Profile | None = None) -> None:
        self.apply_all([(effects, profile)])

    def apply_all(self, batch: Sequence[tuple[Effects, Profile | None]]) -> None:
        with self._lock:
            self._tables.apply(batch)

    def add_pool(self, pool: CodePool) -> None:
        with self._lock:
            self._tables.add_pool(pool)

    def profiles(self) -> Iterator[str]:
        with self._lock:
            return iter(list(self._tables.profile_ids()))

    def orders(self) -> Iterator[OrderRecord]:
        with self._lock:
            return iter([self._tables.orders[k] for k in sorted(self._tables.orders)])

    def close(self) -> None:
        """Nothing to release."""
