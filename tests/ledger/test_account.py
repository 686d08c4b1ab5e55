"""Points accounts: each documented policy, by example."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from unittest.mock import patch

import attrs
import pytest

from loyalty_engine import Balance, LedgerError, PointsCurrency, ValidationError
from loyalty_engine.ledger import Account, Kind, export_rows
from loyalty_engine.ledger import account as account_module
from loyalty_engine.ledger.lots import Lot, Lots

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
BONUS = PointsCurrency(eid="bonus", lifetime_days=30)
CENTS = PointsCurrency(eid="cents", precision=2)


def day(n: float) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


def funded(*amounts: int) -> Account:
    """An account with one accrual per amount, a day apart (so they expire a day apart)."""
    account = Account.open("p1", BONUS)
    for i, amount in enumerate(amounts):
        account = account.accrue(Decimal(amount), now=day(i)).account
    return account


def test_accrual_defaults_to_active_now_and_the_currencys_lifetime() -> None:
    row = Account.open("p1", BONUS).accrue(Decimal(100), now=T0).transaction
    assert (row.kind, row.amount, row.delta) == (Kind.ACCRUAL, 100, 100)
    assert row.activation == T0 and row.expiration == day(30)
    assert (row.balance_before, row.balance_after) == (0, 100)


def test_points_are_exact_at_the_currencys_precision() -> None:
    account = Account.open("p1", CENTS).accrue(Decimal("100.50"), now=T0).account
    assert account.balance(T0).active == Decimal("100.50")
    with pytest.raises(ValidationError, match="more decimals"):
        account.redeem(Decimal("0.001"), now=T0)
    with pytest.raises(ValidationError, match="more decimals"):
        Account.open("p1", BONUS).accrue(Decimal("1.5"), now=T0)


def test_future_activation_counts_in_total_but_not_in_active() -> None:
    account = Account.open("p1", BONUS).accrue(Decimal(50), now=T0, activation=day(3)).account
    assert account.balance(day(1)).total == 50 and account.balance(day(1)).active == 0
    assert account.balance(day(3)).active == 50
    with pytest.raises(LedgerError, match="insufficient"):
        account.redeem(Decimal(1), now=day(2))


def test_expired_points_leave_both_balances_with_an_expiration_row() -> None:
    account = funded(100)
    assert account.balance(day(30)).total == 0
    settled, rows = account.settle(day(30))
    assert [(r.kind, r.delta, r.refers_to) for r in rows] == [(Kind.EXPIRATION, -100, 1)]
    assert settled.balance(day(30)).total == 0


def test_redemption_takes_the_soonest_expiring_lots_first() -> None:
    account = funded(100, 50)
    row = account.redeem(Decimal(120), now=day(2)).transaction
    assert row.drawn == ((1, 100), (2, 20))
    late = Account.open("p1", BONUS).accrue(Decimal(5), now=T0, expiration=day(90)).account
    late = late.accrue(Decimal(5), now=day(1)).account  # expires day 31, before the first
    assert late.redeem(Decimal(5), now=day(1)).transaction.drawn == ((2, 5),)


def test_redeeming_more_than_the_active_balance_is_refused_and_changes_nothing() -> None:
    account = funded(100)
    with pytest.raises(LedgerError, match=r"insufficient active balance \(100 < 101\)"):
        account.redeem(Decimal(101), now=day(1))
    assert account.balance(day(1)).active == 100


def test_a_held_redemption_reduces_active_at_once_and_total_only_when_committed() -> None:
    account = funded(100)
    posting = account.redeem(Decimal(30), now=day(1), temp_timeout_sec=60)
    held = posting.account
    assert posting.transaction.temp and posting.transaction.delta == 0
    assert (held.balance(day(1)).active, held.balance(day(1)).total) == (70, 100)
    assert held.held(day(1)) == (0, 30)
    committed = held.commit_hold(posting.transaction.id, now=day(1))
    assert committed.transaction.refers_to == posting.transaction.id
    assert committed.account.balance(day(1)).total == 70


def test_a_held_accrual_is_not_spendable_until_committed() -> None:
    posting = Account.open("p1", BONUS).accrue(Decimal(40), now=T0, temp_timeout_sec=600)
    account = posting.account
    assert account.balance(T0) == Balance(Decimal(0), Decimal(0))
    assert account.held(T0) == (40, 0)
    committed = account.commit_hold(posting.transaction.id, now=T0).account
    assert committed.balance(T0).active == 40


def test_a_rollback_returns_held_points_and_a_timeout_does_it_by_itself() -> None:
    account = funded(100)
    posting = account.redeem(Decimal(30), now=day(1), temp_timeout_sec=60)
    back = posting.account.rollback_hold(posting.transaction.id, now=day(1))
    assert back.transaction.kind is Kind.ROLLBACK
    assert back.account.balance(day(1)).active == 100
    later = day(1) + dt.timedelta(seconds=60)
    assert posting.account.balance(later).active == 100  # timed out, lazily
    with pytest.raises(LedgerError, match="already closed"):
        posting.account.commit_hold(posting.transaction.id, now=later)


def test_closing_a_hold_twice_is_refused() -> None:
    posting = funded(100).redeem(Decimal(30), now=day(1), temp_timeout_sec=60)
    closed = posting.account.rollback_hold(posting.transaction.id, now=day(1)).account
    with pytest.raises(LedgerError, match=r"already closed \(rollback\)"):
        closed.commit_hold(posting.transaction.id, now=day(1))
    with pytest.raises(LedgerError, match="not temporary"):
        closed.commit_hold(1, now=day(1))


def test_cancelling_an_unspent_accrual_takes_its_points_back() -> None:
    posting = funded(100, 50).cancel(1, now=day(2))
    assert (posting.transaction.kind, posting.transaction.delta) == (Kind.CANCELLATION, -100)
    assert posting.account.balance(day(2)).total == 50
    with pytest.raises(LedgerError, match="nothing left"):
        posting.account.cancel(1, now=day(2))


def test_cancelling_a_spent_accrual_is_refused_under_refuse() -> None:
    spent = funded(100, 50).redeem(Decimal(80), now=day(2)).account
    with pytest.raises(LedgerError, match=r"accrual 1 was spent: 20 of its points remain"):
        spent.cancel(1, now=day(2))


def test_allow_negative_takes_from_other_lots_then_leaves_a_debt_later_accruals_repay() -> None:
    spent = funded(100, 50).redeem(Decimal(120), now=day(2)).account  # 30 left, in lot 2
    cancelled = spent.cancel(1, now=day(2), policy="allow_negative").account
    assert cancelled.balance(day(2)) == Balance(Decimal(-70), Decimal(-70))
    repaid = cancelled.accrue(Decimal(100), now=day(3)).account
    assert repaid.balance(day(3)).active == 30
    with pytest.raises(LedgerError, match="insufficient"):
        cancelled.redeem(Decimal(1), now=day(2))


def test_expired_points_of_an_accrual_are_not_taken_twice() -> None:
    account = funded(100, 50).redeem(Decimal(60), now=day(2)).account  # lot 1 keeps 40
    assert account.outstanding(1, now=day(31)) == 60  # 40 expired at day 30
    posting = account.cancel(1, now=day(31), policy="allow_negative")
    assert posting.transaction.amount == 60


def test_partial_cancellations_add_up_to_the_whole_and_no_more() -> None:
    account = funded(100)
    account = account.cancel(1, now=day(1), amount=Decimal(30)).account
    account = account.cancel(1, now=day(1), amount=Decimal(70)).account
    assert account.balance(day(1)).total == 0
    with pytest.raises(LedgerError, match="nothing left"):
        account.cancel(1, now=day(1), amount=Decimal(1))


def test_a_cancelled_redemption_returns_points_to_their_lots_latest_expiring_first() -> None:
    account = funded(100, 50).redeem(Decimal(120), now=day(2)).account
    back = account.cancel(3, now=day(2), amount=Decimal(25))
    assert back.transaction.delta == 25
    lots = {lot.id: lot.units for lot in back.account.lots}
    assert lots == {1: 5, 2: 50}  # lot 2 (latest-expiring) got its 20 back first, lot 1 the rest


def test_returned_points_keep_their_expiration_date() -> None:
    account = funded(100).redeem(Decimal(100), now=day(1)).account
    back = account.cancel(2, now=day(40))  # lot 1 expired at day 30 while spent
    kinds = [row.kind for row in back.effects]
    assert kinds == [Kind.CANCELLATION, Kind.EXPIRATION]
    assert back.account.balance(day(40)).total == 0


def test_only_accruals_and_redemptions_can_be_cancelled() -> None:
    settled, rows = funded(100).settle(day(31))
    with pytest.raises(LedgerError, match="expiration rows cannot be cancelled"):
        settled.cancel(rows[0].id, now=day(31))


def test_an_eid_replay_changes_nothing_and_a_reused_eid_is_refused() -> None:
    first = Account.open("p1", BONUS).accrue(Decimal(10), now=T0, eid="x")
    again = first.account.accrue(Decimal(10), now=day(1), eid="x")
    assert again.replayed and again.transaction == first.transaction
    assert again.account is first.account
    with pytest.raises(LedgerError, match="used for another request"):
        first.account.accrue(Decimal(11), now=day(1), eid="x")
    with pytest.raises(LedgerError, match="used for another request"):
        first.account.redeem(Decimal(10), now=day(1), eid="x")


def test_time_only_runs_forward() -> None:
    account = funded(100)
    with pytest.raises(LedgerError, match="before the account's last operation"):
        account.redeem(Decimal(1), now=T0 - dt.timedelta(seconds=1))
    with pytest.raises(ValidationError, match="timezone-aware"):
        account.balance(dt.datetime(2026, 1, 2))


def test_bad_amounts_and_timeouts_are_validation_errors() -> None:
    account = Account.open("p1", BONUS)
    for bad in (Decimal(0), Decimal(-5), "10", Decimal("NaN")):
        with pytest.raises(ValidationError, match="amount"):
            account.accrue(bad, now=T0)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="temp_timeout_sec"):
        account.accrue(Decimal(1), now=T0, temp_timeout_sec=0)
    with pytest.raises(ValidationError, match="expiration_date"):
        account.accrue(Decimal(1), now=T0, expiration=T0)


def test_history_pages_by_id() -> None:
    account = funded(*range(1, 6))
    first = account.history(limit=2)
    assert [r.id for r in first.items] == [1, 2] and first.next_from_id == 2
    assert first.total_count == 5
    last = account.history(from_id=4, limit=2)
    assert [r.id for r in last.items] == [5] and last.next_from_id is None
    for bad in (0, 101, True):
        with pytest.raises(ValidationError, match="limit"):
            account.history(limit=bad)


def test_expiring_points_count_both_ends_of_the_window() -> None:
    account = funded(100, 50, 25)  # expire on days 30, 31, 32
    assert account.expiring(day(30), day(31), now=day(3)) == 150
    assert account.expiring(day(30) + dt.timedelta(seconds=1), day(32), now=day(3)) == 75
    assert account.expiring(day(30), day(31), now=day(30)) == 50  # lot 1 is gone by then
    with pytest.raises(ValidationError, match="date_to"):
        account.expiring(day(2), day(1), now=day(3))


def test_export_rows_are_strings_in_the_window() -> None:
    account = funded(100, 50)
    rows = export_rows(account.journal, day(1), day(1))
    assert len(rows) == 1 and rows[0]["amount"] == "50" and rows[0]["transaction_id"] == "2"
    assert rows[0]["transaction_type"] == "accrual" and rows[0]["deadline"] == ""


def test_replay_rebuilds_the_account_and_detects_edited_rows() -> None:
    account = funded(100, 50).redeem(Decimal(120), now=day(2)).account
    rows = list(account.journal)
    assert Account.replay("p1", BONUS, rows) == account
    edited = [rows[0], attrs.evolve(rows[1], amount=Decimal(60)), rows[2]]
    with pytest.raises(LedgerError, match="does not replay"):
        Account.replay("p1", BONUS, edited)
    # a row's request fingerprint is not what replay checks: rows stored without one replay
    unsigned = [attrs.evolve(row, request="") for row in rows]
    assert Account.replay("p1", BONUS, unsigned).balance(day(3)) == account.balance(day(3))


def test_a_replay_resumes_from_a_known_prefix_and_only_from_one() -> None:
    """``known`` saves running its rows again when they are the first of ``rows``; a known
    account whose rows are not (another currency, another member, rows edited since) is not
    used, so the rows are all checked again and an edit is still caught."""
    account = funded(100, 50).redeem(Decimal(120), now=day(2)).account
    rows = list(account.journal)
    known = Account.replay("p1", BONUS, rows[:2])
    with patch.object(account_module, "_redo", wraps=account_module._redo) as redo:
        assert Account.replay("p1", BONUS, rows, known=known) == account
    assert [c.args[2] for c in redo.call_args_list] == [2]  # the redemption alone ran again
    assert Account.replay("p1", BONUS, rows[:2], known=known) is known  # nothing new
    later = Account.replay("p1", BONUS, rows, known=Account.replay("p1", BONUS, rows))
    other = attrs.evolve(BONUS, redeem_rate=Decimal(2))
    with patch.object(account_module, "_redo", wraps=account_module._redo) as redo:
        assert Account.replay("p1", BONUS, rows[:2], known=later) == known  # not a prefix
        assert Account.replay("p1", other, rows, known=known).currency == other
    assert [c.args[2] for c in redo.call_args_list] == [0, 1, 0, 1, 2]  # all again, twice
    edited = [rows[0], attrs.evolve(rows[1], amount=Decimal(60)), rows[2]]
    with pytest.raises(LedgerError, match="does not replay"):
        Account.replay("p1", BONUS, edited, known=known)
    moved = [attrs.evolve(row, profile_id="p2") for row in rows]
    assert Account.replay("p2", BONUS, moved, known=known).profile_id == "p2"
    assert Account.replay("p2", BONUS, moved, known=Account.open("p1", BONUS)).profile_id == "p2"


def test_old_versions_stay_valid_after_branching() -> None:
    base = funded(100)
    left = base.accrue(Decimal(1), now=day(1), eid="l").account
    right = base.accrue(Decimal(2), now=day(1), eid="r").account
    assert [r.amount for r in left.journal] == [100, 1]
    assert [r.amount for r in right.journal] == [100, 2]
    assert base.journal.length == 1 and base.journal.by_eid("l") is None
    assert right.journal.by_eid("l") is None


def test_lots_keep_order_sums_and_old_versions_across_chunks() -> None:
    lots = Lots()
    for i in range(1, 400):
        lots = lots.insert(Lot(id=i, units=i, activation=T0, expiration=day(i % 50 + 1)))
    assert len(lots.chunks) > 2
    keys = [lot.key for lot in lots]
    assert keys == sorted(keys) and lots.units == sum(range(1, 400))
    after, taken = lots.take(1000)
    assert sum(units for _, units in taken) == 1000 and after.units == lots.units - 1000
    assert [lot for lot, _ in taken] == list(lots)[: len(taken)]
    assert lots.units == sum(range(1, 400))  # the old version is untouched
    assert lots.units_expiring(day(10), day(12)) == sum(
        i for i in range(1, 400) if 10 <= i % 50 + 1 <= 12
    )
