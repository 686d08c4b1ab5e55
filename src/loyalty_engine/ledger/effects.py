"""What an operation asks a store to write, as data, with the versions it was computed on.

The contract between the pure core and any store: an operation reads a member (their accounts
and registration), computes, and returns ``Effects``. Each ``AccountWrite`` names the account's
``version`` (its last transaction id) when it was read; a store applies all writes of one
``Effects`` in one transaction, and only if every named account is still at its version and the
member's registration is still as it was read — otherwise it raises ``ConflictError`` and writes
nothing. Codes handed out and codes used are unique in the store; an order's ``external_id``
too. An account read but not written is named with no rows: the operation depended on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from ..errors import ValidationError
from ..model import INT64
from ..parse import MAX_NESTING
from .journal import Transaction

if TYPE_CHECKING:
    from .members import Membership


@attrs.frozen
class Registration:
    """A member's place in the program: since when, and whether they left."""

    registered_at: dt.datetime
    removed_at: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class AccountWrite:
    """Rows to append to one account, which must still be at ``version`` (0 = no rows yet)."""

    profile_id: str
    currency: str  # the points currency's eid
    version: int
    rows: tuple[Transaction, ...] = ()


@attrs.frozen(kw_only=True)
class MemberWrite:
    """The registration after the operation, and as it was read (``None``: not a member)."""

    profile_id: str
    before: Registration | None
    after: Registration


def _json(instance: object, attribute: attrs.Attribute[object], value: object) -> None:
    """A response is stored as JSON: objects with text keys, lists, text, 64-bit integers,
    booleans and null, at most ``MAX_NESTING`` deep."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_NESTING:
            raise ValidationError(("response",), "…", f"nested deeper than {MAX_NESTING}")
        if isinstance(item, Mapping):
            if not all(isinstance(key, str) for key in item):
                raise ValidationError(("response",), item, "object keys must be text")
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
        elif not (
            item is None or isinstance(item, str | bool) or (type(item) is int and item in INT64)
        ):
            raise ValidationError(("response",), item, "must be JSON text, integers or null")


@attrs.frozen(kw_only=True)
class OrderRecord:
    """A committed order: who, a fingerprint of the request, and the response a replay returns.

    The core leaves ``response`` empty; the edge that renders the answer fills it
    (``Effects.with_response``) before the store keeps it.
    """

    external_id: str
    profile_id: str | None
    fingerprint: str
    response: Mapping[str, object] = attrs.field(factory=dict, validator=_json)


@attrs.frozen(kw_only=True)
class Effects:
    """One operation's writes: all of them, or none."""

    accounts: tuple[AccountWrite, ...] = ()
    member: MemberWrite | None = None
    issued: tuple[tuple[int, str], ...] = ()  # (pool_id, code) handed out from single-use pools
    used: tuple[tuple[int, str], ...] = ()  # (pool_id, code) single-use codes redeemed
    order: OrderRecord | None = None

    @property
    def rows(self) -> tuple[Transaction, ...]:
        """Every transaction row to store, account by account."""
        return tuple(row for write in self.accounts for row in write.rows)

    @classmethod
    def between(cls, before: Membership | None, after: Membership) -> Effects:
        """The writes that turn ``before`` (as read from the store) into ``after``."""
        seen = {a.currency.eid: a.version for a in before.accounts} if before else {}
        accounts = []
        for account in after.accounts:
            version = seen.get(account.currency.eid, 0)
            new = account.journal.page(version, account.version - version)  # not the history
            accounts.append(AccountWrite(profile_id=after.profile_id,
                                         currency=account.currency.eid, version=version,
                                         rows=new))  # fmt: skip
        member = MemberWrite(
            profile_id=after.profile_id,
            before=before.registration if before else None,
            after=after.registration,
        )
        return cls(accounts=tuple(accounts), member=member)

    def with_response(self, response: Mapping[str, object]) -> Effects:
        """The same writes, the committed order keeping ``response`` for its replays."""
        if self.order is None:
            return self
        return attrs.evolve(self, order=attrs.evolve(self.order, response=response))
