"""Members: one account per points currency, registration, removal and tiers.

Policies where the platform's docs are silent:
- ``register`` is idempotent: registering a member again changes nothing. A currency added to the
  program later gets its account (and its initial balance) at the next registration call.
- The initial balance is granted once per account, ever: leaving and re-joining grants nothing.
- ``remove`` with ``forfeit`` (the default) rolls back open holds and forfeits every point, so a
  removed member's books read zero; ``keep`` leaves the points for a later re-registration. Either
  way the history stays (an auditor needs it) and a removed member cannot transact.
- Tiers (``cumulative``): a tier is reached when the points ever earned in the group's qualifying
  currency (accruals minus cancelled accruals, at their peak) reach its threshold; ``reached_at``
  is when that first happened. Tiers are never lost.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Iterable
from decimal import Decimal
from typing import Literal

import attrs

from ..errors import LedgerError, ValidationError
from ..model import Member, PointsRef, to_texts
from ..program.accounts import Tier, TierGroup
from ..program.program import Program
from ..validators import checked, tuple_of
from .account import Account
from .effects import Effects, Registration
from .journal import Transaction

RemovalPolicy = Literal["forfeit", "keep"]


@attrs.frozen(kw_only=True)
class ReachedTier:
    """``tiers`` API row: a tier of a group the member has reached, and when."""

    group: TierGroup
    tier: Tier
    order: int  # tier_order, from 0
    reached_at: dt.datetime


def _accounts(values: Iterable[Account]) -> tuple[Account, ...]:
    return tuple_of(values, Account, "accounts")


@attrs.frozen(kw_only=True)
class Membership:
    """A member of one program: their accounts, one per currency."""

    profile_id: str
    registered_at: dt.datetime
    accounts: tuple[Account, ...] = attrs.field(converter=_accounts)
    removed_at: dt.datetime | None = None

    @classmethod
    @checked
    def from_rows(
        cls,
        program: Program,
        profile_id: str,
        rows: Iterable[Transaction],
        *,
        registered_at: dt.datetime,
        removed_at: dt.datetime | None = None,
        known: Membership | None = None,
    ) -> Membership:
        """The member that stored ``rows`` describe: one account per program currency, each
        rebuilt by ``Account.replay`` (which refuses rows that were altered or lost), from
        ``known``'s account when an earlier replay rebuilt its first rows."""
        earlier = {a.currency.eid: a for a in known.accounts} if known is not None else {}
        by_currency: dict[str, list[Transaction]] = {c.eid: [] for c in program.currencies}
        for row in tuple_of(list(rows), Transaction, "rows"):
            if row.profile_id != profile_id:
                raise LedgerError(f"{profile_id}: row {row.id} belongs to {row.profile_id!r}")
            if row.currency not in by_currency:
                raise LedgerError(
                    f"{profile_id}: row {row.id} is in points currency {row.currency!r}, "
                    "which the program does not have"
                )
            by_currency[row.currency].append(row)
        return cls(
            profile_id=profile_id,
            registered_at=registered_at,
            removed_at=removed_at,
            accounts=[
                Account.replay(
                    profile_id, currency, by_currency[currency.eid], known=earlier.get(currency.eid)
                )
                for currency in program.currencies
            ],
        )

    @property
    def registration(self) -> Registration:
        return Registration(self.registered_at, self.removed_at)

    @checked
    def account(self, currency: str | PointsRef) -> Account:
        ref = currency if isinstance(currency, PointsRef) else PointsRef(eid=currency)
        for account in self.accounts:
            if account.currency.matches(ref):
                return account
        raise LedgerError(f"{self.profile_id}: no account in points currency {ref}")

    @checked
    def with_account(self, account: Account) -> Membership:
        if self.removed_at is not None:
            raise LedgerError(f"{self.profile_id} was removed from the program")
        eid = account.currency.eid
        return attrs.evolve(
            self, accounts=[account if a.currency.eid == eid else a for a in self.accounts]
        )

    @checked
    def tiers(self, program: Program) -> tuple[ReachedTier, ...]:
        """Every tier reached, group by group, lowest first."""
        out = []
        for group in program.tier_groups:
            account = self.account(group.currency)
            for order, tier in enumerate(group.tiers):
                at = _reached_at(account, tier.threshold, self.registered_at)
                if at is None:
                    break
                out.append(ReachedTier(group=group, tier=tier, order=order, reached_at=at))
        return tuple(out)

    def tier(self, program: Program) -> str | None:
        """The tier promotions see: the highest reached in the program's first tier group."""
        if not program.tier_groups:
            return None
        first = program.tier_groups[0].id
        reached = [r for r in self.tiers(program) if r.group.id == first]
        return reached[-1].tier.eid if reached else None

    @checked
    def member(
        self,
        program: Program,
        *,
        now: dt.datetime,
        segments: Iterable[str] = (),
        tags: Iterable[str] = (),
    ) -> Member:
        """The member as ``calculate`` sees them at ``now``: balances and tier."""
        return Member(
            profile_id=self.profile_id,
            balances={a.currency.eid: a.balance(now) for a in self.accounts},
            tier=self.tier(program),
            segments=to_texts(list(segments), "segments"),
            tags=to_texts(list(tags), "tags"),
        )


@attrs.frozen(kw_only=True)
class Change:
    """A member-level operation's outcome: the new membership and what to store."""

    membership: Membership
    effects: Effects

    @classmethod
    def of(cls, before: Membership | None, after: Membership) -> Change:
        return cls(membership=after, effects=Effects.between(before, after))


@checked
def register(
    program: Program,
    profile_id: str,
    *,
    now: dt.datetime,
    registration_date: dt.datetime | None = None,
    existing: Membership | None = None,
) -> Change:
    """Open an account per program currency, granting its initial balance (once, ever)."""
    if not isinstance(profile_id, str) or not profile_id.strip():
        raise ValidationError(("profile_id",), profile_id, "must be a non-empty string")
    if existing is not None and existing.profile_id != profile_id:
        raise ValidationError(("profile_id",), profile_id, f"existing is {existing.profile_id}")
    since = registration_date or now
    membership = existing or Membership(profile_id=profile_id, registered_at=since, accounts=())
    if membership.removed_at is not None:
        membership = attrs.evolve(membership, removed_at=None)
    have = {a.currency.eid for a in membership.accounts}
    accounts = list(membership.accounts)
    for currency in program.currencies:
        if currency.eid in have:
            continue
        account = Account.open(profile_id, currency)
        if currency.initial_balance > 0:
            account = account.accrue(
                currency.initial_balance,
                now=now,
                eid=f"registration:{currency.eid}",
                description="initial balance",
                source_type="registration",
            ).account
        accounts.append(account)
    return Change.of(existing, attrs.evolve(membership, accounts=accounts))


@checked
def remove(
    membership: Membership, *, now: dt.datetime, policy: RemovalPolicy = "forfeit"
) -> Change:
    """Take the member out of the program (see the module's policies)."""
    if policy not in ("forfeit", "keep"):
        raise ValidationError(("policy",), policy, "must be 'forfeit' or 'keep'")
    if membership.removed_at is not None:
        return Change.of(membership, membership)  # removing twice changes nothing
    accounts = list[Account]()
    for account in membership.accounts:
        empty = account.balance(now).total == 0 and not any(account.held(now))
        if policy == "forfeit" and not empty:
            account = account.forfeit(now=now, description="member removed").account
        accounts.append(account)
    return Change.of(membership, attrs.evolve(membership, accounts=accounts, removed_at=now))


def _reached_at(account: Account, threshold: Decimal, since: dt.datetime) -> dt.datetime | None:
    """When the account's earned points first reached ``threshold`` (bisection: they only rise)."""
    if threshold <= 0:
        return since
    if account.currency.of_units(account.peak) < threshold:
        return None
    journal = account.journal

    def earned(id: int) -> Decimal:
        row = journal.get(id)
        assert row is not None
        return row.earned_after

    row = journal.get(bisect_left(range(1, journal.length + 1), threshold, key=earned) + 1)
    assert row is not None
    return row.at
