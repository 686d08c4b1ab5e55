"""The storage contract: what a store must do for the service loop to be safe.

Reads may see a slightly old state; that is fine, because every write is checked: ``apply``
writes one operation's ``Effects`` in one transaction, only if every account it names is still
at the version it was read at, the member's registration is as it was read, no code it hands
out was handed out, no code it uses was used, and no order has its ``external_id``. Otherwise
``ConflictError`` and nothing is written. Nothing here is SQLite's: a PostgreSQL store does the
same with ``SELECT … FOR UPDATE`` on the accounts (or a version column) and unique constraints.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

from ..ledger.effects import Effects, OrderRecord
from ..ledger.members import Membership
from ..pools import CodePool
from .recent import Recent
from .records import Match, Profile, StoredMember, TransactionKey


@runtime_checkable
class Store(Protocol):
    """The storage contract: reads of one consistent snapshot, and ``apply``: all of an
    operation's effects in one transaction, or ``ConflictError`` and nothing."""

    def find(self, match: Match) -> str | None:
        """The profile_id of the member ``match`` names, or ``None``."""

    def member(self, profile_id: str) -> StoredMember | None:
        """The member with their rows, read in one consistent snapshot."""

    def pools(self) -> tuple[CodePool, ...]:
        """Every code pool: the codes still to hand out, and the used ones."""

    def issued(self, pool_id: int) -> frozenset[str]:
        """The codes of a single-use pool handed out so far."""

    def order(self, external_id: str) -> OrderRecord | None:
        """The committed order with this external_id, or ``None``."""

    def find_transactions(
        self, *, uuid: str | None = None, eid: str | None = None
    ) -> tuple[TransactionKey, ...]:
        """The transactions with this API ``transaction_id`` (``Transaction.uuid``; at most
        one) or, when no uuid is given, this ``transaction_eid`` (one per account at most)."""

    def apply(self, effects: Effects, *, profile: Profile | None = None) -> None:
        """Write ``effects`` (and the member's ``profile``, when given) atomically, or raise
        ``ConflictError`` and write nothing."""

    def apply_all(self, batch: Sequence[tuple[Effects, Profile | None]]) -> None:
        """``apply`` for independent operations (an import) in one transaction: all or none.
        Two operations of one batch touching the same thing is a ``ConflictError``."""

    def add_pool(self, pool: CodePool) -> None:
        """Create a pool, or add its codes that are new to an existing one (same name, reuse)."""

    def profiles(self) -> Iterator[str]:
        """Every member's profile_id, sorted."""

    def orders(self) -> Iterator[OrderRecord]:
        """Every committed order, by external_id."""

    def close(self) -> None: ...


@runtime_checkable
class Remembers(Protocol):
    """A store that keeps the members it replayed last (all of ours do): ``load`` then replays
    only a member's rows added since, after checking the earlier ones are the rows it saw."""

    replays: Recent[str, Membership]
