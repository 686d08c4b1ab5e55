"""A points account: one member's points in one currency, as a value.

Every operation returns a ``Posting``: the new account, the operation's own transaction, and every
new row to store (``effects``). Nothing is mutated. Time is the caller's ``now`` and only runs
forward: an account refuses a ``now`` before its last operation. What happened in between — holds
that timed out, lots that became active or expired — is settled lazily, first thing in the next
operation, and its rows come first in ``effects``.

The books always balance: ``total`` = Σ ``delta`` of all rows = Σ lots + Σ pending lots + held
redemptions − debt, and ``active`` = Σ active lots − debt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Literal

import attrs

from ..errors import (
    InsufficientBalanceError,
    LedgerError,
    ReusedIdError,
    UnknownTransactionError,
    ValidationError,
    show,
)
from ..model import Balance, PointsCurrency
from ..money import to_units
from ..validators import checked, instant, of_type, tuple_of
from .journal import Journal, Kind, Transaction
from .lots import FAR, Lot, Lots

CancelPolicy = Literal["refuse", "allow_negative"]
MAX_TIMEOUT_SEC = 366 * 24 * 3600
MAX_PAGE = 100


@attrs.frozen(kw_only=True)
class Hold:
    """An open temporary transaction: row ``id``, rolled back by itself at ``deadline``."""

    id: int
    kind: Kind  # ACCRUAL or REDEMPTION
    units: int
    deadline: dt.datetime
    drawn: tuple[tuple[int, int], ...] = ()  # a held redemption's (lot id, units), taken already


@attrs.frozen(kw_only=True)
class Page:
    """A page of history: rows with id > ``from_id``; ``next_from_id`` is None on the last page."""

    items: tuple[Transaction, ...]
    next_from_id: int | None
    total_count: int


@attrs.frozen(kw_only=True)
class Posting:
    """What an operation returns. On an ``eid`` replay, ``effects`` is empty and the account is
    unchanged: ``transaction`` is the row stored the first time."""

    account: Account
    transaction: Transaction
    effects: tuple[Transaction, ...]

    @property
    def replayed(self) -> bool:
        return not self.effects


@attrs.frozen(kw_only=True)
class Account:
    """One member's points in one currency: lots, holds and the journal; every operation
    returns a new account (a ``Posting``), never changing this one."""

    profile_id: str
    currency: PointsCurrency = attrs.field(validator=of_type(PointsCurrency))
    as_of: dt.datetime | None = None
    lots: Lots = attrs.Factory(Lots)  # active lots
    pending: tuple[Lot, ...] = ()  # lots not active yet, by activation
    holds: tuple[Hold, ...] = ()
    total: int = 0  # units of the currency's precision, as every count below
    debt: int = 0  # a negative balance left by a cancellation under ``allow_negative``
    earned: int = 0  # Σ accrued − Σ accruals cancelled
    peak: int = 0  # the highest ``earned`` ever: what tiers count
    journal: Journal = attrs.Factory(Journal)

    @classmethod
    @checked
    def open(cls, profile_id: str, currency: PointsCurrency) -> Account:
        return cls(profile_id=profile_id, currency=currency)

    @classmethod
    @checked
    def replay(
        cls,
        profile_id: str,
        currency: PointsCurrency,
        rows: Iterable[Transaction],
        *,
        known: Account | None = None,
    ) -> Account:
        """The account that stored ``rows`` describe, rebuilt by running them again in order.

        The transactions are the state: a caller stores only them. A row the rebuild does not
        reproduce exactly (edited, lost or reordered rows) raises ``LedgerError``. ``known`` is
        what an earlier ``replay`` of this account returned (not an account an operation changed
        since: a ``settle`` that wrote no row changed it too): when its rows are the first of
        ``rows``, only the rows after them run again, so a store's read does not run a long
        history again; otherwise it is not used.
        """
        stored = tuple_of(list(rows), Transaction, "rows")
        account, journal = cls.open(profile_id, currency), Journal()
        if known is not None and _extends(known, currency, stored):
            account, journal = known, known.journal
        start = i = len(journal)
        while i < len(stored):
            account, produced = _redo(account, stored, i)
            expected = stored[i : i + len(produced)]
            if not produced or not _reproduces(produced, expected):
                raise LedgerError(
                    f"{profile_id}/{currency.eid}: stored transaction {stored[i].id} does not "
                    "replay; the rows were altered or lost"
                )
            i += len(produced)
        if account is known:
            return known  # nothing new: every operation returns a new account
        return attrs.evolve(account, journal=journal.append(stored[start:]))

    # --- queries ---------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """The last transaction id (0 for none): what a store compares before it appends."""
        return self.journal.length

    @checked
    def balance(self, now: dt.datetime) -> Balance:
        """Total and active points at ``now`` (holds that timed out are rolled back first)."""
        draft = _Draft(self, now)
        return Balance(
            active=self.currency.of_units(draft.lots.units - draft.debt),
            total=self.currency.of_units(draft.total),
        )

    @checked
    def held(self, now: dt.datetime) -> tuple[Decimal, Decimal]:
        """(held accruals, held redemptions) still open at ``now``."""
        holds = _Draft(self, now).holds
        units = [sum(h.units for h in holds if h.kind is kind) for kind in _HELD]
        return self.currency.of_units(units[0]), self.currency.of_units(units[1])

    @checked
    def expiring(self, start: dt.datetime, end: dt.datetime, *, now: dt.datetime) -> Decimal:
        """Points that expire in [start, end], both ends included, as the account stands at now."""
        instant(start, ("date_from",))
        instant(end, ("date_to",))
        if end < start:
            raise ValidationError(("date_to",), end.isoformat(), "is before date_from")
        draft = _Draft(self, now)
        units = draft.lots.units_expiring(start, end)
        units += sum(
            lot.units
            for lot in draft.pending
            if lot.expiration is not None and start <= lot.expiration <= end
        )
        return self.currency.of_units(units)

    @checked
    def history(self, *, from_id: int | None = None, limit: int = 20) -> Page:
        """Rows with id > ``from_id``, oldest first, at most ``limit`` (1–100)."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= MAX_PAGE:
            raise ValidationError(("limit",), limit, f"must be an integer in 1..{MAX_PAGE}")
        if from_id is not None and (isinstance(from_id, bool) or not isinstance(from_id, int)):
            raise ValidationError(("from_id",), from_id, "must be an integer")
        items = self.journal.page(from_id, limit)
        more = bool(items) and items[-1].id < self.journal.length
        return Page(
            items=items,
            next_from_id=items[-1].id if more else None,
            total_count=self.journal.length,
        )

    @checked
    def transaction(self, ref: int | str) -> Transaction:
        """The row with this id (an int) or ``transaction_eid`` (a str)."""
        row = self.journal.get(ref) if isinstance(ref, int) else self.journal.by_eid(ref)
        if row is None:
            raise UnknownTransactionError(
                f"{self.profile_id}/{self.currency.eid}: no transaction {show(ref)}"
            )
        return row

    @checked
    def outstanding(self, ref: int | str, *, now: dt.datetime) -> Decimal:
        """How much of an accrual or redemption a ``cancel`` can still take back at ``now``."""
        target = self.transaction(ref)
        draft = _Draft(self, now)
        return self.currency.of_units(draft._to_units(target.amount) - draft.settled(target))

    # --- operations ------------------------------------------------------------------------

    @checked
    def settle(self, now: dt.datetime) -> tuple[Account, tuple[Transaction, ...]]:
        """The account at ``now``: timed-out holds rolled back, lots activated and expired."""
        draft = _Draft(self, now)
        return draft.done(), tuple(draft.rows)

    @checked
    def accrue(
        self,
        amount: Decimal,
        *,
        now: dt.datetime,
        activation: dt.datetime | None = None,
        expiration: dt.datetime | None = None,
        temp_timeout_sec: int | None = None,
        eid: str | None = None,
        promotion: str | None = None,
        description: str | None = None,
        source_type: str = "api",
        source_id: str | None = None,
    ) -> Posting:
        """Add points. They are active from ``activation`` (default: now) until ``expiration``
        (default: activation + the currency's ``lifetime_days``; none = never expire). With
        ``temp_timeout_sec`` the accrual is held: nothing is spendable until it is committed."""
        units = self._units(amount)
        instant(now, ("now",))
        if temp_timeout_sec is not None:
            _timeout(temp_timeout_sec)  # checked before it is written into the fingerprint
        for name, moment in (("activation_date", activation), ("expiration_date", expiration)):
            if moment is not None:
                instant(moment, (name,))
        asked = _ask(
            "accrue",
            self.currency.of_units(units),  # the value, not the text: 100.0 is 100
            activation,
            expiration,
            temp_timeout_sec,
            promotion,
            description,
            source_type,
            source_id,
        )
        replay = self._replay(eid, asked)
        if replay is not None:
            return replay
        start = activation or now
        end = expiration
        if end is None and self.currency.lifetime_days is not None:
            end = start + dt.timedelta(days=self.currency.lifetime_days)
        if end is not None and end <= start:
            raise ValidationError(("expiration_date",), end.isoformat(), "is not after activation")
        draft = _Draft(self, now)
        common: dict[str, Any] = dict(
            eid=eid,
            asked=asked,
            promotion=promotion,
            description=description,
            source_type=source_type,
            source_id=source_id,
        )
        if temp_timeout_sec is not None:
            deadline = now + _timeout(temp_timeout_sec)
            row = draft.row(
                Kind.ACCRUAL,
                units,
                0,
                temp=True,
                deadline=deadline,
                activation=start,
                expiration=end,
                **common,
            )
            draft.holds.append(Hold(id=row.id, kind=Kind.ACCRUAL, units=units, deadline=deadline))
        else:
            row = draft.accrue(units, start, end, **common)
        return draft.posting(row)

    @checked
    def redeem(
        self,
        amount: Decimal,
        *,
        now: dt.datetime,
        temp_timeout_sec: int | None = None,
        eid: str | None = None,
        promotion: str | None = None,
        description: str | None = None,
        source_type: str = "api",
        source_id: str | None = None,
    ) -> Posting:
        """Spend active points, soonest-expiring first. A held redemption (``temp_timeout_sec``)
        takes the points at once; its commit makes it final, its rollback gives them back."""
        units = self._units(amount)
        if temp_timeout_sec is not None:
            _timeout(temp_timeout_sec)  # checked before it is written into the fingerprint
        asked = _ask(
            "redeem",
            self.currency.of_units(units),
            temp_timeout_sec,
            promotion,
            description,
            source_type,
            source_id,
        )
        replay = self._replay(eid, asked)
        if replay is not None:
            return replay
        draft = _Draft(self, now)
        active = draft.lots.units - draft.debt
        if units > active:
            raise InsufficientBalanceError(
                f"{self._name()}: insufficient active balance "
                f"({self.currency.of_units(max(active, 0))} < {amount})"
            )
        drawn = draft.take(units)
        common: dict[str, Any] = dict(
            eid=eid,
            asked=asked,
            promotion=promotion,
            description=description,
            source_type=source_type,
            source_id=source_id,
            drawn=draft.points(drawn),
        )
        if temp_timeout_sec is not None:
            deadline = now + _timeout(temp_timeout_sec)
            row = draft.row(Kind.REDEMPTION, units, 0, temp=True, deadline=deadline, **common)
            draft.holds.append(
                Hold(id=row.id, kind=Kind.REDEMPTION, units=units, deadline=deadline, drawn=drawn)
            )
        else:
            row = draft.row(Kind.REDEMPTION, units, -units, **common)
        return draft.posting(row)

    @checked
    def commit_hold(self, ref: int | str, *, now: dt.datetime, eid: str | None = None) -> Posting:
        """Make a held transaction final: a new permanent row that refers to it."""
        target = self.transaction(ref)
        asked = _ask("commit", target.id)
        replay = self._replay(eid, asked)
        if replay is not None:
            return replay
        draft = _Draft(self, now)
        hold = draft.open_hold(target)
        draft.holds.remove(hold)
        common: dict[str, Any] = dict(
            eid=eid,
            asked=asked,
            refers_to=hold.id,
            promotion=target.promotion,
            description=target.description,
            source_type=target.source_type,
            source_id=target.source_id,
        )
        if hold.kind is Kind.ACCRUAL:
            assert target.activation is not None
            row = draft.accrue(hold.units, target.activation, target.expiration, **common)
        else:
            drawn = draft.points(hold.drawn)
            row = draft.row(Kind.REDEMPTION, hold.units, -hold.units, drawn=drawn, **common)
        return draft.posting(row)

    @checked
    def rollback_hold(self, ref: int | str, *, now: dt.datetime, eid: str | None = None) -> Posting:
        """Undo a held transaction: a held redemption's points go back to their lots."""
        target = self.transaction(ref)
        asked = _ask("rollback", target.id)
        replay = self._replay(eid, asked)
        if replay is not None:
            return replay
        draft = _Draft(self, now)
        hold = draft.open_hold(target)
        return draft.posting(draft.rollback(hold, eid=eid, asked=asked))

    @checked
    def cancel(
        self,
        ref: int | str,
        *,
        now: dt.datetime,
        amount: Decimal | None = None,
        policy: CancelPolicy = "refuse",
        eid: str | None = None,
        description: str | None = None,
    ) -> Posting:
        """Cancel an accrual or a redemption, whole (default) or ``amount`` of it.

        A held transaction is rolled back; a committed one cancels its permanent row. Cancelling
        an accrual takes its points back from its own lot; if they were spent, ``refuse`` raises
        ``LedgerError`` and ``allow_negative`` takes the rest from other active lots, then leaves
        a negative balance that later accruals repay. Points that already expired are not taken
        twice. A redemption's points return to the lots they came from, latest-expiring first.
        """
        if policy not in ("refuse", "allow_negative"):
            raise ValidationError(("policy",), policy, "must be 'refuse' or 'allow_negative'")
        target = self.transaction(ref)
        units = None if amount is None else self._units(amount)
        points = None if units is None else self.currency.of_units(units)
        asked = _ask("cancel", target.id, points, policy, description)
        replay = self._replay(eid, asked)
        if replay is not None:
            return replay
        draft = _Draft(self, now)
        if target.temp:
            committed = [
                r for r in draft.referrers(target.id) if not r.temp and r.kind is target.kind
            ]
            if not committed:
                hold = draft.open_hold(target)
                return draft.posting(draft.rollback(hold, eid=eid, asked=asked))
            target = committed[0]
        if target.kind not in (Kind.ACCRUAL, Kind.REDEMPTION):
            raise LedgerError(f"{self._name()}: {target.kind.value} rows cannot be cancelled")
        return draft.posting(draft.cancel(target, units, policy, eid, asked, description))

    @checked
    def forfeit(self, *, now: dt.datetime, description: str | None = None) -> Posting:
        """Give up every point (member removal): holds roll back, the balance goes to zero."""
        draft = _Draft(self, now)
        for hold in list(draft.holds):
            draft.rollback(hold, asked="forfeit")
        draft.lots, draft.pending, draft.debt = Lots(chunk=draft.lots.chunk), [], 0
        row = draft.row(
            Kind.FORFEIT,
            abs(draft.total),
            -draft.total,
            asked="forfeit",
            description=description,
            source_type="removal",
        )
        return draft.posting(row)

    # --- helpers ---------------------------------------------------------------------------

    def _name(self) -> str:
        return f"{self.profile_id}/{self.currency.eid}"

    def _units(self, amount: object) -> int:
        if not isinstance(amount, Decimal):
            raise ValidationError(("amount",), amount, "must be a Decimal")
        units = to_units(self.currency.points(amount, ("amount",)), self.currency.precision)
        if units is None or units <= 0:
            raise ValidationError(("amount",), amount, "must be positive")
        return units

    def _replay(self, eid: str | None, asked: str) -> Posting | None:
        if eid is None:
            return None
        if not isinstance(eid, str) or not eid.strip():
            raise ValidationError(("transaction_eid",), eid, "must be a non-empty string")
        row = self.journal.by_eid(eid)
        if row is None:
            return None
        if row.request != asked:
            raise ReusedIdError(
                f"{self._name()}: transaction_eid {eid!r} was used for another request"
            )
        return Posting(account=self, transaction=row, effects=())


_HELD = (Kind.ACCRUAL, Kind.REDEMPTION)
_SETTLING = ("expire", "timeout")


def _extends(known: Account, currency: PointsCurrency, rows: tuple[Transaction, ...]) -> bool:
    """Are ``known``'s rows, one or more, the first of ``rows``, in the same currency? (The rows
    name their member. Compared whole: a store that hands back the same row objects makes this a
    pass of identity checks.)"""
    length = len(known.journal)
    return known.currency == currency and length > 0 and rows[:length] == tuple(known.journal)


def _reproduces(produced: tuple[Transaction, ...], stored: tuple[Transaction, ...]) -> bool:
    """Are the rows an operation wrote again the stored ones, but for ``request`` (the
    fingerprint an eid's reuse must match, not part of what a row says)? Equal rows, the usual
    case, are compared without a copy."""
    return len(produced) == len(stored) and all(
        a == b or attrs.evolve(a, request=b.request) == b
        for a, b in zip(produced, stored, strict=False)
    )


def _redo(
    account: Account, stored: tuple[Transaction, ...], i: int
) -> tuple[Account, tuple[Transaction, ...]]:
    """Run again the operation that wrote ``stored[i]`` (and the rows after it that it wrote)."""
    row = stored[i]
    now, eid = row.at, row.eid
    if row.request in _SETTLING:
        return account.settle(now)
    if row.request == "forfeit" or row.kind is Kind.FORFEIT:
        last = next((r for r in stored[i:] if r.kind is Kind.FORFEIT), row)
        posting = account.forfeit(now=now, description=last.description)
    elif row.kind is Kind.CANCELLATION:
        assert row.refers_to is not None
        posting = account.cancel(
            row.refers_to,
            now=now,
            amount=row.amount,
            policy="allow_negative",
            eid=eid,
            description=row.description,
        )
    elif row.kind is Kind.ROLLBACK:
        assert row.refers_to is not None
        posting = account.rollback_hold(row.refers_to, now=now, eid=eid)
    elif row.refers_to is not None:  # the permanent row of a committed hold
        posting = account.commit_hold(row.refers_to, now=now, eid=eid)
    else:
        timeout = int((row.deadline - now).total_seconds()) if row.deadline else None
        common: dict[str, Any] = dict(
            now=now,
            temp_timeout_sec=timeout,
            eid=eid,
            promotion=row.promotion,
            description=row.description,
            source_type=row.source_type or "api",
            source_id=row.source_id,
        )
        if row.kind is Kind.ACCRUAL:
            posting = account.accrue(
                row.amount, activation=row.activation, expiration=row.expiration, **common
            )
        elif row.kind is Kind.REDEMPTION:
            posting = account.redeem(row.amount, **common)
        else:
            return account, ()
    return posting.account, posting.effects


def _ask(*parts: object) -> str:
    """The request's fingerprint: a replay with the same eid must match it exactly.

    Times are compared as instants (in UTC), amounts at the currency's precision.
    """
    return "|".join(
        "" if p is None else p.astimezone(dt.UTC).isoformat() if isinstance(p, dt.datetime)
        else str(p)
        for p in parts
    )  # fmt: skip


def _timeout(seconds: object) -> dt.timedelta:
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int)
        or not 0 < seconds <= MAX_TIMEOUT_SEC
    ):
        raise ValidationError(("temp_timeout_sec",), seconds, f"must be in 1..{MAX_TIMEOUT_SEC}")
    return dt.timedelta(seconds=seconds)


class _Draft:
    """An operation in progress: a working copy, turned into a new Account by ``done``.

    Every check runs before ``done``, so an operation that raises leaves nothing half-applied.
    """

    def __init__(self, account: Account, now: dt.datetime) -> None:
        instant(now, ("now",))
        if account.as_of is not None and now < account.as_of:
            raise LedgerError(
                f"{account.profile_id}/{account.currency.eid}: now {now.isoformat()} is before "
                f"the account's last operation {account.as_of.isoformat()}"
            )
        self.account = account
        self.currency = account.currency
        self.now = now
        self.clock = now  # while settling: the moment being settled
        self.lots = account.lots
        self.pending = list(account.pending)
        self.holds = list(account.holds)
        self.total, self.debt = account.total, account.debt
        self.earned, self.peak = account.earned, account.peak
        self.rows: list[Transaction] = []
        self._settle(now)

    # rows -------------------------------------------------------------------------------

    def get(self, id: int) -> Transaction:
        row = self.account.journal.get(id)
        if row is None:
            row = self.rows[id - self.account.journal.length - 1]
        return row

    def referrers(self, id: int) -> list[Transaction]:
        return [*self.account.journal.referrers(id), *(r for r in self.rows if r.refers_to == id)]

    def row(
        self,
        kind: Kind,
        units: int,
        delta: int,
        *,
        asked: str,
        eid: str | None = None,
        **fields: Any,  # the Transaction's own fields, passed through
    ) -> Transaction:
        of = self.currency.of_units
        before = self.total
        self.total += delta
        row = Transaction(
            id=self.account.journal.length + len(self.rows) + 1,
            profile_id=self.account.profile_id,
            currency=self.currency.eid,
            eid=eid,
            at=self.now,
            kind=kind,
            amount=of(units),
            delta=of(delta),
            balance_before=of(before),
            balance_after=of(self.total),
            request=asked,
            earned_after=of(self.peak),
            **fields,
        )
        self.rows.append(row)
        return row

    def posting(self, row: Transaction) -> Posting:
        return Posting(account=self.done(), transaction=row, effects=tuple(self.rows))

    def done(self) -> Account:
        return attrs.evolve(
            self.account,
            as_of=max(self.now, self.account.as_of or self.now),
            lots=self.lots,
            pending=tuple(self.pending),
            holds=tuple(self.holds),
            total=self.total,
            debt=self.debt,
            earned=self.earned,
            peak=self.peak,
            journal=self.account.journal.append(tuple(self.rows))
            if self.rows
            else self.account.journal,
        )

    # points -----------------------------------------------------------------------------

    @checked
    def accrue(
        self,
        units: int,
        activation: dt.datetime,
        expiration: dt.datetime | None,
        **fields: Any,
    ) -> Transaction:
        self.earned += units
        self.peak = max(self.peak, self.earned)
        row = self.row(
            Kind.ACCRUAL, units, units, activation=activation, expiration=expiration, **fields
        )
        lot = Lot(id=row.id, units=units, activation=activation, expiration=expiration)
        if activation <= self.now:
            self.credit(lot)
            self._expire()
        else:
            self.pending.append(lot)
            self.pending.sort(key=lambda p: (p.activation, p.id))
        return row

    def credit(self, lot: Lot) -> None:
        """An active lot enters; it repays any debt first."""
        pay = min(self.debt, lot.units)
        self.debt -= pay
        if lot.units > pay:
            self.lots = self.lots.insert(attrs.evolve(lot, units=lot.units - pay))

    def take(self, units: int) -> tuple[tuple[int, int], ...]:
        self.lots, taken = self.lots.take(units)
        return tuple((lot.id, part) for lot, part in taken)

    def points(self, drawn: tuple[tuple[int, int], ...]) -> tuple[tuple[int, Decimal], ...]:
        return tuple((lot, self.currency.of_units(units)) for lot, units in drawn)

    def restore(self, drawn: tuple[tuple[int, int], ...]) -> None:
        """Points go back to the lots they were taken from (re-opened if emptied meanwhile)."""
        for lot_id, units in drawn:
            source = self.get(lot_id)
            key = (source.expiration or FAR, lot_id)
            current = self.lots.find(key)
            if current is not None:
                self.lots = self.lots.adjust(key, current.units + units)
            else:
                assert source.activation is not None
                self.credit(
                    Lot(
                        id=lot_id,
                        units=units,
                        activation=source.activation,
                        expiration=source.expiration,
                    )
                )
        self._expire()

    def open_hold(self, target: Transaction) -> Hold:
        hold = next((h for h in self.holds if h.id == target.id), None)
        if hold is None:
            if not target.temp:
                raise LedgerError(f"transaction {target.id} is not temporary")
            outcome = self.referrers(target.id)
            state = outcome[0].kind.value if outcome else "closed"
            raise LedgerError(f"temporary transaction {target.id} is already closed ({state})")
        return hold

    def rollback(self, hold: Hold, **fields: Any) -> Transaction:
        self.holds.remove(hold)
        row = self.row(Kind.ROLLBACK, hold.units, 0, refers_to=hold.id, **fields)
        if hold.kind is Kind.REDEMPTION:
            self.restore(hold.drawn)
        return row

    @checked
    def cancel(
        self,
        target: Transaction,
        units: int | None,
        policy: CancelPolicy,
        eid: str | None,
        asked: str,
        description: str | None,
    ) -> Transaction:
        to_units = self._to_units
        done = self.settled(target)
        left = to_units(target.amount) - done
        units = left if units is None else units
        if left <= 0:
            raise LedgerError(f"transaction {target.id} has nothing left to cancel")
        if units > left:
            raise LedgerError(
                f"transaction {target.id}: cannot cancel {self.currency.of_units(units)}, "
                f"only {self.currency.of_units(left)} left"
            )
        fields: dict[str, Any] = dict(
            eid=eid,
            asked=asked,
            refers_to=target.id,
            description=description,
            promotion=target.promotion,
            source_type=target.source_type,
            source_id=target.source_id,
        )
        if target.kind is Kind.REDEMPTION:
            returned = done
            back: list[tuple[int, int]] = []
            for lot_id, points in reversed(target.drawn):
                part = to_units(points)
                skip = min(returned, part)
                returned -= skip
                give = min(part - skip, units - sum(u for _, u in back))
                if give:
                    back.append((lot_id, give))
            row = self.row(Kind.CANCELLATION, units, units, **fields)
            self.restore(tuple(back))
            return row
        own = self._own_lot(target)
        have = own.units if own is not None else 0
        if units > have and policy == "refuse":
            raise LedgerError(
                f"accrual {target.id} was spent: {self.currency.of_units(have)} of its points "
                f"remain, {self.currency.of_units(units)} to cancel (policy 'refuse')"
            )
        if own is not None:
            self._set_own(own, own.units - min(have, units))
        rest = units - min(have, units)
        spare = min(rest, self.lots.units)
        if spare:
            self.take(spare)
        self.debt += rest - spare
        self.earned -= units
        return self.row(Kind.CANCELLATION, units, -units, **fields)

    def settled(self, target: Transaction) -> int:
        """Units of ``target`` no longer cancellable: cancelled, or (of an accrual) expired."""
        kinds = (
            (Kind.CANCELLATION, Kind.EXPIRATION)
            if target.kind is Kind.ACCRUAL
            else (Kind.CANCELLATION,)
        )
        return sum(self._to_units(r.amount) for r in self.referrers(target.id) if r.kind in kinds)

    def _own_lot(self, target: Transaction) -> Lot | None:
        for lot in self.pending:
            if lot.id == target.id:
                return lot
        return self.lots.find((target.expiration or FAR, target.id))

    def _set_own(self, lot: Lot, units: int) -> None:
        if lot in self.pending:
            index = self.pending.index(lot)
            if units:
                self.pending[index] = attrs.evolve(lot, units=units)
            else:
                del self.pending[index]
        else:
            self.lots = self.lots.adjust(lot.key, units)

    def _to_units(self, points: Decimal) -> int:
        units = to_units(points, self.currency.precision)
        assert units is not None, "journal amounts are at the currency's precision"
        return units

    # time ---------------------------------------------------------------------------------

    def _settle(self, now: dt.datetime) -> None:
        """Replay what fell due since the last operation, in time order, so that the outcome
        does not depend on when the account is next touched. At one instant: timeouts, then
        activations, then expirations (a lot is active on [activation, expiration))."""
        while True:
            hold = min(self.holds, key=lambda h: (h.deadline, h.id), default=None)
            due = [hold.deadline] if hold is not None else []
            if self.pending:
                due.append(self.pending[0].activation)
            if self.lots.firsts:
                due.append(self.lots.firsts[0][0])
            if not due or min(due) > now:
                break
            moment = min(due)
            self.clock = moment
            if hold is not None and hold.deadline == moment:
                self.rollback(hold, asked="timeout", description="timed out")
            elif self.pending and self.pending[0].activation == moment:
                self.credit(self.pending.pop(0))
            else:
                self._expire()
        self.clock = now

    def _expire(self) -> None:
        self.lots, gone = self.lots.expire(self.clock)
        for lot in gone:
            assert lot.expiration is not None
            self.row(Kind.EXPIRATION, lot.units, -lot.units, refers_to=lot.id, asked="expire")
