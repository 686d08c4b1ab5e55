"""The ledger against a simple reference model, over random sequences of operations.

The model keeps every lot in a dict and recomputes everything by brute force; the account keeps
indexes and running totals. After every step they must agree on the balances, the held amounts
and the points expiring, Σ of the stored rows must equal the total, and replaying the stored rows
must rebuild the same account. The account's lots are kept in chunks of 1–2 (not 64–128), so a
few dozen steps cross chunk boundaries again and again, as 129 real lots would.
"""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal

import attrs
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from loyalty_engine import LedgerError, PointsCurrency
from loyalty_engine.ledger import Account, Kind, Transaction
from loyalty_engine.ledger.lots import Lots
from loyalty_engine.money import CONTEXT

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
FAR = dt.datetime.max.replace(tzinfo=dt.UTC)
CURRENCY = PointsCurrency(eid="bonus", lifetime_days=20)


@attrs.define
class ModelLot:
    units: int
    activation: dt.datetime
    expiration: dt.datetime


@attrs.define
class ModelHold:
    kind: Kind
    units: int
    deadline: dt.datetime
    drawn: list[tuple[int, int]]
    activation: dt.datetime | None = None
    expiration: dt.datetime | None = None


class Model:
    """The ledger's rules, the slow and obvious way."""

    def __init__(self) -> None:
        self.lots: dict[int, ModelLot] = {}
        self.holds: dict[int, ModelHold] = {}
        self.pending: set[int] = set()
        self.total = 0
        self.debt = 0
        self.expired: dict[int, int] = {}
        self.cancelled: dict[int, int] = {}
        self.now = T0

    def active_lots(self) -> list[int]:
        ids = [i for i, lot in self.lots.items() if lot.units and i not in self.pending]
        return sorted(ids, key=lambda i: (self.lots[i].expiration, i))

    def active(self) -> int:
        return sum(self.lots[i].units for i in self.active_lots()) - self.debt

    def credit(self, lot_id: int, units: int) -> None:
        pay = min(self.debt, units)
        self.debt -= pay
        self.lots[lot_id].units += units - pay

    def take(self, units: int) -> list[tuple[int, int]]:
        drawn = []
        for i in self.active_lots():
            part = min(units, self.lots[i].units)
            if part:
                self.lots[i].units -= part
                drawn.append((i, part))
                units -= part
        assert units == 0
        return drawn

    def restore(self, drawn: list[tuple[int, int]]) -> None:
        for lot_id, units in drawn:
            self.credit(lot_id, units)
        self.expire(self.now)

    def expire(self, moment: dt.datetime) -> None:
        for i, lot in self.lots.items():
            if i not in self.pending and lot.units and lot.expiration <= moment:
                self.total -= lot.units
                self.expired[i] = self.expired.get(i, 0) + lot.units
                lot.units = 0

    def advance(self, now: dt.datetime) -> None:
        """Everything that fell due up to ``now``, in time order."""
        while True:
            events = [(h.deadline, 0, i) for i, h in self.holds.items()]
            events += [(self.lots[i].activation, 1, i) for i in self.pending]
            events += [(lot.expiration, 2, i) for i, lot in self.lots.items()
                       if lot.units and i not in self.pending]  # fmt: skip
            due = [e for e in events if e[0] <= now]
            if not due:
                break
            moment, kind, i = min(due)
            self.now = moment
            if kind == 0:
                hold = self.holds.pop(i)
                if hold.kind is Kind.REDEMPTION:
                    self.restore(hold.drawn)
            elif kind == 1:
                self.pending.discard(i)
                units, self.lots[i].units = self.lots[i].units, 0
                self.credit(i, units)
            else:
                self.expire(moment)
        self.now = now

    def add_lot(
        self, lot_id: int, units: int, activation: dt.datetime, expiration: dt.datetime
    ) -> None:
        self.lots[lot_id] = ModelLot(0, activation, expiration)
        self.total += units
        if activation <= self.now:
            self.credit(lot_id, units)
            self.expire(self.now)
        else:
            self.lots[lot_id].units = units
            self.pending.add(lot_id)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.account = attrs.evolve(Account.open("p1", CURRENCY), lots=Lots(chunk=1))
        self.model = Model()
        self.rows: list[Transaction] = []
        self.now = T0
        self.accruals: list[int] = []
        self.redemptions: list[int] = []
        self.eids: dict[str, tuple[int, dt.datetime | None, int | None]] = {}
        self.negative_allowed = False
        self.replayed: Account | None = None  # the last replay: the next one resumes from it

    def _store(self, effects: tuple[Transaction, ...]) -> Transaction:
        self.rows.extend(effects)
        for row in effects:
            if row.kind is Kind.REDEMPTION and not row.temp and row.refers_to is None:
                for lot_id, _ in row.drawn:  # expired or inactive points are never spent
                    lot = self.model.lots[lot_id]
                    assert lot.activation <= row.at < lot.expiration
        return effects[-1]

    @rule(hours=st.integers(0, 24 * 30))
    def advance(self, hours: int) -> None:
        self.now += dt.timedelta(hours=hours)
        self.model.advance(self.now)

    @rule(
        units=st.integers(1, 500),
        delay=st.sampled_from([None, 0, 24, 24 * 5]),
        held=st.booleans(),
        eid=st.sampled_from([None, "a", "b"]),
    )
    def accrue(self, units: int, delay: int | None, held: bool, eid: str | None) -> None:
        activation = None if delay is None else self.now + dt.timedelta(hours=delay)
        timeout = 3600 * 24 if held else None
        asked = (units, activation, timeout)
        if eid is not None and eid in self.eids:
            if self.eids[eid] == asked:
                posting = self.account.accrue(
                    Decimal(units), now=self.now, eid=eid, activation=activation,
                    temp_timeout_sec=timeout,
                )  # fmt: skip
                assert posting.replayed and posting.account is self.account
            else:
                with pytest.raises(LedgerError, match="another request"):
                    self.account.accrue(
                        Decimal(units), now=self.now, eid=eid, activation=activation,
                        temp_timeout_sec=timeout,
                    )  # fmt: skip
            return
        posting = self.account.accrue(
            Decimal(units), now=self.now, activation=activation, temp_timeout_sec=timeout, eid=eid
        )
        self.account = posting.account
        row = self._store(posting.effects)
        if eid is not None:
            self.eids[eid] = asked
        start = activation or self.now
        end = start + dt.timedelta(days=20)
        if held:
            self.model.holds[row.id] = ModelHold(Kind.ACCRUAL, units, row.deadline, [], start, end)  # type: ignore[arg-type]
        else:
            self.model.add_lot(row.id, units, start, end)
            self.accruals.append(row.id)

    @rule(units=st.integers(1, 500), held=st.booleans())
    def redeem(self, units: int, held: bool) -> None:
        timeout = 3600 * 12 if held else None
        if units > self.model.active():
            with pytest.raises(LedgerError, match="insufficient"):
                self.account.redeem(Decimal(units), now=self.now, temp_timeout_sec=timeout)
            return
        posting = self.account.redeem(Decimal(units), now=self.now, temp_timeout_sec=timeout)
        self.account = posting.account
        row = self._store(posting.effects)
        drawn = self.model.take(units)
        assert [(i, Decimal(u)) for i, u in drawn] == list(row.drawn)
        if held:
            self.model.holds[row.id] = ModelHold(Kind.REDEMPTION, units, row.deadline, drawn)  # type: ignore[arg-type]
        else:
            self.model.total -= units
            self.redemptions.append(row.id)

    @precondition(lambda self: self.model.holds)
    @rule(data=st.data(), commit=st.booleans())
    def close_hold(self, data: st.DataObject, commit: bool) -> None:
        hold_id = data.draw(st.sampled_from(sorted(self.model.holds)))
        hold = self.model.holds.pop(hold_id)
        if commit:
            posting = self.account.commit_hold(hold_id, now=self.now)
            self.account = posting.account
            row = self._store(posting.effects)
            if hold.kind is Kind.ACCRUAL:
                assert hold.activation is not None and hold.expiration is not None
                self.model.add_lot(row.id, hold.units, hold.activation, hold.expiration)
                self.accruals.append(row.id)
            else:
                self.model.total -= hold.units
                self.redemptions.append(row.id)
        else:
            posting = self.account.rollback_hold(hold_id, now=self.now)
            self.account = posting.account
            self._store(posting.effects)
            if hold.kind is Kind.REDEMPTION:
                self.model.restore(hold.drawn)

    @precondition(lambda self: self.accruals)
    @rule(data=st.data(), negative=st.booleans())
    def cancel_accrual(self, data: st.DataObject, negative: bool) -> None:
        lot_id = data.draw(st.sampled_from(self.accruals))
        model = self.model
        row = self.account.transaction(lot_id)
        left = int(row.amount) - model.cancelled.get(lot_id, 0) - model.expired.get(lot_id, 0)
        policy = "allow_negative" if negative else "refuse"
        if left <= 0:
            with pytest.raises(LedgerError, match="nothing left"):
                self.account.cancel(lot_id, now=self.now, policy=policy)
            return
        own = model.lots[lot_id].units
        if own < left and not negative:
            with pytest.raises(LedgerError, match="was spent"):
                self.account.cancel(lot_id, now=self.now, policy=policy)
            return
        posting = self.account.cancel(lot_id, now=self.now, policy=policy)
        self.account = posting.account
        self._store(posting.effects)
        model.lots[lot_id].units -= min(own, left)
        rest = left - min(own, left)
        spare = min(rest, sum(model.lots[i].units for i in model.active_lots()))
        if spare:
            model.take(spare)
        model.debt += rest - spare
        model.total -= left
        model.cancelled[lot_id] = model.cancelled.get(lot_id, 0) + left
        self.negative_allowed |= rest > spare

    @precondition(lambda self: self.redemptions)
    @rule(data=st.data())
    def cancel_redemption(self, data: st.DataObject) -> None:
        red_id = data.draw(st.sampled_from(self.redemptions))
        if red_id in self.model.cancelled:
            with pytest.raises(LedgerError, match="nothing left"):
                self.account.cancel(red_id, now=self.now)
            return
        row = self.account.transaction(red_id)
        posting = self.account.cancel(red_id, now=self.now)
        self.account = posting.account
        self._store(posting.effects)
        self.model.cancelled[red_id] = int(row.amount)
        self.model.total += int(row.amount)
        self.model.restore([(lot, int(units)) for lot, units in reversed(row.drawn)])

    @invariant()
    def books_balance(self) -> None:
        balance = self.account.balance(self.now)
        assert balance.total == self.model.total
        assert balance.active == self.model.active()
        # Σ of the stored rows, plus what settling now would store, is the total
        _, pending_rows = self.account.settle(self.now)
        with decimal.localcontext(CONTEXT):  # the test's own sum, not the library's
            assert sum(r.delta for r in (*self.rows, *pending_rows)) == balance.total
        if not self.negative_allowed:
            assert balance.active >= 0

    @invariant()
    def holds_and_expiry_agree(self) -> None:
        held_in, held_out = self.account.held(self.now)
        model_holds = self.model.holds.values()
        assert held_in == sum(h.units for h in model_holds if h.kind is Kind.ACCRUAL)
        assert held_out == sum(h.units for h in model_holds if h.kind is Kind.REDEMPTION)
        end = self.now + dt.timedelta(days=10)
        expected = sum(
            lot.units for lot in self.model.lots.values() if self.now <= lot.expiration <= end
        )
        assert self.account.expiring(self.now, end, now=self.now) == expected

    @invariant()
    def stored_rows_rebuild_the_account(self) -> None:
        rebuilt = Account.replay("p1", CURRENCY, self.rows)
        assert rebuilt.balance(self.now) == self.account.balance(self.now)
        assert rebuilt.journal == self.account.journal
        assert [r.id for r in self.rows] == list(range(1, len(self.rows) + 1))
        # differential: resuming from the replay of fewer rows rebuilds the same account
        resumed = Account.replay("p1", CURRENCY, self.rows, known=self.replayed)
        assert resumed == rebuilt
        assert resumed.held(self.now) == rebuilt.held(self.now)
        self.replayed = resumed


TestLedger = LedgerMachine.TestCase
TestLedger.settings = settings(TestLedger.settings, stateful_step_count=100)
