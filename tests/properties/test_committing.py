"""Properties of commit on generated programs, orders and members."""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import loyalty_engine as le
from loyalty_engine.commit import fingerprint
from loyalty_engine.errors import ConflictError
from loyalty_engine.ledger.effects import Effects
from loyalty_engine.money import CONTEXT, down_units
from loyalty_engine.testing import NOW, cases, orders, points_currencies

Case = tuple[le.Program, le.Order, le.Member | None]
BEFORE = NOW - dt.timedelta(days=1)


def membership_of(program: le.Program, member: le.Member, lots: int = 1) -> le.Membership:
    """A ledger member holding ``member``'s balances: the active points in ``lots`` accruals
    the day before (130 cross a chunk of the account's lots), the rest active tomorrow."""
    membership = le.register(program, member.profile_id, now=BEFORE).membership
    for eid, balance in member.balances:
        account = membership.account(eid)
        currency = account.currency
        active = down_units(balance.active, currency.precision)
        for units in le.allocate(active, [1] * lots):
            if units:
                account = account.accrue(currency.of_units(units), now=BEFORE).account
        if balance.total > balance.active:
            later = NOW + dt.timedelta(days=1)
            pending = currency.of_units(down_units(balance.total, currency.precision) - active)
            account = account.accrue(pending, now=BEFORE, activation=later).account
        membership = membership.with_account(account)
    return membership


LOTS = st.sampled_from([1, 3, 130])


def preorder(
    program: le.Program, order: le.Order, membership: le.Membership | None
) -> le.Requested:
    member = membership.member(program, now=NOW) if membership else None
    return le.Requested.of(le.calculate(program, order, member, now=NOW))


def totals(membership: le.Membership) -> dict[str, Decimal]:
    return {a.currency.eid: a.balance(NOW).total for a in membership.accounts}


@given(case=cases(), lots=LOTS)
def test_an_unchanged_preorder_always_commits_and_moves_exactly_its_points(
    case: Case, lots: int
) -> None:
    program, order, member = case
    membership = membership_of(program, member, lots) if member else None
    requested = preorder(program, order, membership)
    result = le.commit(program, order, requested, membership=membership, now=NOW)
    assert result.status is le.CommitStatus.SUCCESS, result.differences
    assert result.processing_target is le.Target.IMMEDIATE
    record = result.effects.order
    assert record is not None and record.external_id == order.external_id
    profile_id = membership.profile_id if membership else None
    assert record.profile_id == profile_id
    assert record.fingerprint == fingerprint(order, requested, profile_id)
    if membership is None:
        assert result.effects.rows == () and result.points_changes == ()
        assert result.effects.accounts == () and result.effects.member is None
        return
    assert result.membership is not None
    # each account is named at the version it was read at, with exactly the rows beyond it
    assert [w.currency for w in result.effects.accounts] == [
        a.currency.eid for a in result.membership.accounts
    ]
    for write in result.effects.accounts:
        assert write.version == membership.account(write.currency).version
        journal = tuple(result.membership.account(write.currency).journal)
        assert write.rows == journal[write.version :]
    before, after = totals(membership), totals(result.membership)
    own = (le.Kind.ACCRUAL, le.Kind.REDEMPTION)
    for change in result.points_changes:
        eid = change.currency.eid
        with decimal.localcontext(CONTEXT):  # the test's own sums, not the library's
            assert after[eid] == before[eid] + change.accrued - change.redeemed == change.balance
            # the order's own rows; effects may also settle what fell due (an expiry at NOW)
            rows = result.effects.rows
            moved = sum(r.delta for r in rows if r.currency == eid and r.kind in own)
            assert moved == change.accrued - change.redeemed
    summary = {s.currency.eid: s for s in result.calculation.points} if result.calculation else {}
    for eid, amount in before.items():
        if eid not in {c.currency.eid for c in result.points_changes}:
            assert after[eid] == amount
        else:
            assert summary[eid].redeemed <= membership.account(eid).balance(NOW).active
    for eid in after:  # every point spent once: what is left is what the account says
        account, _ = result.membership.account(eid).settle(NOW)
        active = account.currency.of_units(account.lots.units - account.debt)
        assert active == account.balance(NOW).active >= 0


@given(case=cases(), lots=LOTS)
def test_a_replayed_commit_is_processed_with_no_new_effects(case: Case, lots: int) -> None:
    program, order, member = case
    membership = membership_of(program, member, lots) if member else None
    requested = preorder(program, order, membership)
    first = le.commit(program, order, requested, membership=membership, now=NOW)
    again = le.commit(program, order, requested, membership=first.membership, now=NOW,
                      committed={order.external_id: first})  # fmt: skip
    assert again.processing_target is le.Target.PROCESSED
    assert again.effects == Effects() and again.membership is first.membership
    assert again.points_changes == first.points_changes and again.issued == first.issued
    # another member (a guest for a member's order, a member for a guest's) is refused
    other = None if membership else le.register(program, "someone-else", now=BEFORE).membership
    with pytest.raises(ConflictError, match="committed with another request or member"):
        le.commit(program, order, requested, membership=other, now=NOW,
                  committed={order.external_id: first})  # fmt: skip


@given(case=cases(), data=st.data())
def test_a_changed_line_price_is_outdated_with_no_effects(case: Case, data: st.DataObject) -> None:
    program, order, member = case
    membership = membership_of(program, member) if member else None
    requested = preorder(program, order, membership)
    index = data.draw(st.integers(0, len(requested.lines) - 1))
    line = requested.lines[index]
    assert line.final_price_per_item is not None
    price = le.Money.of_minor(line.final_price_per_item.minor + 1, order.currency)
    lines = list(requested.lines)
    lines[index] = attrs.evolve(line, final_price_per_item=price)
    result = le.commit(program, order, attrs.evolve(requested, lines=lines),
                       membership=membership, now=NOW)  # fmt: skip
    assert result.status is le.CommitStatus.OUTDATED
    assert result.effects == Effects() and result.membership is membership
    assert any(d.path == f"lines[{line.external_id}].final_price_per_item"
               for d in result.differences)  # fmt: skip


@given(case=cases(), data=st.data())
def test_a_changed_requested_amount_is_outdated(case: Case, data: st.DataObject) -> None:
    program, order, member = case
    membership = membership_of(program, member) if member else None
    requested = preorder(program, order, membership)
    spots = [
        (i, j)
        for i, line in enumerate(requested.lines)
        for j, p in enumerate(line.promotions)
        if p.points is not None or p.amount is not None
    ]
    assume(spots)
    i, j = data.draw(st.sampled_from(spots))
    promotion = requested.lines[i].promotions[j]
    if promotion.points is not None:
        with decimal.localcontext(CONTEXT):  # the test's own sum (99.0 + 1 needs 4 digits)
            changed = attrs.evolve(promotion, points=promotion.points + 1)
    else:
        assert promotion.amount is not None
        changed = attrs.evolve(
            promotion, amount=le.Money.of_minor(promotion.amount.minor + 1, order.currency)
        )
    promotions = list(requested.lines[i].promotions)
    promotions[j] = changed
    lines = list(requested.lines)
    lines[i] = attrs.evolve(lines[i], promotions=promotions)
    result = le.commit(program, order, attrs.evolve(requested, lines=lines),
                       membership=membership, now=NOW)  # fmt: skip
    assert result.status is le.CommitStatus.OUTDATED and result.effects == Effects()


@st.composite
def redeeming(draw: st.DrawFn) -> Case:
    """A program with a redeem promotion, an order asking to redeem, a member with points."""
    point = draw(points_currencies())
    program = le.Program(
        currencies=[point],
        promotions=[le.Promotion(external_id="pay", benefit=le.Redeem(currency=point.eid))],
    )
    order = draw(orders("RUB", points=[point]).filter(lambda o: any(r.amount for r in o.redeem)))
    units = draw(st.integers(1, 100_000))
    balance = le.Balance(point.of_units(units), point.of_units(units))
    return program, order, le.Member(profile_id="m1", balances={point.eid: balance})


@given(case=redeeming())
def test_a_balance_spent_meanwhile_makes_the_redemption_outdated(case: Case) -> None:
    program, order, member = case
    assert member is not None
    membership = membership_of(program, member)
    calculated = le.calculate(program, order, membership.member(program, now=NOW), now=NOW)
    summary = calculated.points[0]  # the program's currency (an unknown one may follow)
    assume(summary.redeemed > 0)
    account = membership.account(summary.currency.eid)
    with decimal.localcontext(CONTEXT):
        spend = account.balance(NOW).active - summary.redeemed + summary.currency.of_units(1)
    spent = membership.with_account(account.redeem(spend, now=NOW).account)
    result = le.commit(program, order, le.Requested.of(calculated), membership=spent, now=NOW)
    assert result.status is le.CommitStatus.OUTDATED
    assert result.effects == Effects() and result.membership is spent
    assert any("redeem_points:pay" in d.path for d in result.differences)
