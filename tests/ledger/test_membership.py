"""Members, tiers, trigger promotions and code pools: each documented policy, by example."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import loyalty_engine as le
from loyalty_engine.ledger import Kind
from loyalty_engine.ledger.effects import MemberWrite, Registration

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
PROGRAM = le.program_from_dict(
    {
        "currencies": [
            {"eid": "bonus", "initial_balance": "50", "lifetime_days": 30},
            {"eid": "qual", "qualifying": True},
        ],
        "tier_groups": [
            {"id": 10, "currency": "qual", "tiers": [
                {"id": 1, "eid": "base", "threshold": "0"},
                {"id": 2, "eid": "silver", "threshold": "100"},
                {"id": 3, "eid": "gold", "threshold": "500"},
            ]},
        ],
        "trigger_promotions": [
            {"id": 7, "external_id": "survey", "accrual_rules": [
                {"currency": "bonus", "min_amount": "10", "max_amount": "200"}]},
            {"id": 5, "external_id": "app", "accrual_rules": [
                {"currency": "bonus", "static_amount": "100"},
                {"currency": "qual", "static_amount": "120"}],
             "redeem_rules": [{"currency": "bonus", "static_amount": "30"}]},
            {"id": 9, "external_id": "old", "is_active": False},
            {"id": 11, "external_id": "summer", "start_date": "2026-06-01T00:00:00Z",
             "end_date": "2026-09-01T00:00:00Z",
             "accrual_rules": [{"currency": "bonus", "static_amount": "5"}]},
        ],
    }
)  # fmt: skip


def day(n: float) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


def joined() -> le.Membership:
    return le.register(PROGRAM, "p1", now=T0).membership


def earn(membership: le.Membership, points: int, at: dt.datetime) -> le.Membership:
    posting = membership.account("qual").accrue(Decimal(points), now=at)
    return membership.with_account(posting.account)


# --- registration and removal --------------------------------------------------------------


def test_register_opens_an_account_per_currency_and_grants_the_initial_balance() -> None:
    change = le.register(PROGRAM, "p1", now=T0, registration_date=day(-3))
    assert [a.currency.eid for a in change.membership.accounts] == ["bonus", "qual"]
    assert change.membership.registered_at == day(-3)
    (row,) = change.effects.rows
    assert (row.kind, row.amount, row.source_type) == (Kind.ACCRUAL, 50, "registration")
    assert change.membership.account("bonus").balance(T0).active == 50
    # both accounts are new (version 0); the member was not one before
    assert [(w.currency, w.version, len(w.rows)) for w in change.effects.accounts] == [
        ("bonus", 0, 1),
        ("qual", 0, 0),
    ]
    assert change.effects.member == MemberWrite(
        profile_id="p1", before=None, after=Registration(day(-3))
    )
    assert change.effects.order is None and change.effects.issued == change.effects.used == ()


def test_registering_again_changes_nothing() -> None:
    first = joined()
    again = le.register(PROGRAM, "p1", now=day(1), existing=first)
    assert again.effects.rows == () and again.membership == first


def test_a_currency_added_later_gets_its_account_at_the_next_registration() -> None:
    small = le.program_from_dict({"currencies": [{"eid": "qual", "qualifying": True}]})
    early = le.register(small, "p1", now=T0).membership
    later = le.register(PROGRAM, "p1", now=day(1), existing=early)
    assert [row.currency for row in later.effects.rows] == ["bonus"]
    assert [(w.currency, w.version) for w in later.effects.accounts] == [("qual", 0), ("bonus", 0)]
    assert {a.currency.eid for a in later.membership.accounts} == {"bonus", "qual"}


@pytest.mark.parametrize("policy", ["forfeit", "keep"])
def test_rejoining_after_removal_grants_no_second_initial_balance(policy: str) -> None:
    gone = le.remove(joined(), now=day(1), policy=policy).membership  # type: ignore[arg-type]
    back = le.register(PROGRAM, "p1", now=day(2), existing=gone)
    assert back.effects.rows == () and back.membership.removed_at is None
    expected = 0 if policy == "forfeit" else 50
    assert back.membership.account("bonus").balance(day(2)).total == expected


def test_forfeit_rolls_back_holds_and_zeroes_the_books_but_keeps_history() -> None:
    membership = joined()
    held = membership.account("bonus").redeem(Decimal(20), now=T0, temp_timeout_sec=600)
    membership = membership.with_account(held.account)
    change = le.remove(membership, now=day(1))
    assert [r.kind for r in change.effects.rows] == [Kind.ROLLBACK, Kind.FORFEIT]
    # computed on bonus at version 2 (the initial balance and the hold)
    assert [(w.currency, w.version) for w in change.effects.accounts] == [("bonus", 2), ("qual", 0)]
    assert change.effects.member == MemberWrite(
        profile_id="p1", before=Registration(T0), after=Registration(T0, removed_at=day(1))
    )
    account = change.membership.account("bonus")
    assert account.balance(day(1)).total == 0 and len(account.journal) == 4
    assert sum(r.delta for r in account.journal) == 0


def test_a_removed_member_cannot_transact_and_removing_twice_changes_nothing() -> None:
    gone = le.remove(joined(), now=day(1)).membership
    assert le.remove(gone, now=day(2)).effects.rows == ()
    with pytest.raises(le.LedgerError, match="removed"):
        gone.with_account(gone.account("bonus"))
    with pytest.raises(le.LedgerError, match="removed"):
        le.apply_trigger(PROGRAM, gone, "app", side="accrual", now=day(2))
    with pytest.raises(le.ValidationError, match="policy"):
        le.remove(joined(), now=T0, policy="burn")  # type: ignore[arg-type]


# --- tiers -----------------------------------------------------------------------------------


def test_tiers_are_reached_when_earned_points_cross_the_threshold() -> None:
    membership = earn(earn(earn(joined(), 60, day(1)), 60, day(2)), 400, day(5))
    reached = membership.tiers(PROGRAM)
    assert [(r.tier.eid, r.order, r.reached_at) for r in reached] == [
        ("base", 0, T0),
        ("silver", 1, day(2)),
        ("gold", 2, day(5)),
    ]
    assert membership.tier(PROGRAM) == "gold"
    assert membership.member(PROGRAM, now=day(5)).tier == "gold"


def test_spending_expiry_or_cancelling_never_lowers_a_tier() -> None:
    membership = earn(joined(), 150, day(1))
    account = membership.account("qual")
    account = account.redeem(Decimal(150), now=day(2)).account
    membership = membership.with_account(account)
    assert membership.tier(PROGRAM) == "silver"
    cancelled = membership.account("qual").cancel(1, now=day(3), policy="allow_negative")
    assert membership.with_account(cancelled.account).tier(PROGRAM) == "silver"


def test_tier_groups_must_use_a_qualifying_currency_with_rising_thresholds() -> None:
    with pytest.raises(le.ValidationError, match=r"tier_groups\[0\]\.currency"):
        le.program_from_dict({"currencies": [{"eid": "bonus"}],
                              "tier_groups": [{"id": 1, "currency": "bonus",
                                               "tiers": [{"id": 1, "eid": "a"}]}]})  # fmt: skip
    with pytest.raises(le.ValidationError, match="must rise"):
        le.TierGroup(id=1, currency="q", tiers=[
            le.Tier(id=1, eid="a", threshold=Decimal(5)),
            le.Tier(id=2, eid="b", threshold=Decimal(5))])  # fmt: skip


# --- trigger promotions -------------------------------------------------------------------------


def test_triggers_page_by_id() -> None:
    first = le.list_triggers(PROGRAM, limit=2)
    assert [t.id for t in first.items] == [5, 7] and first.next_from_id == 7
    assert first.total_count == 4
    rest = le.list_triggers(PROGRAM, from_id=7, limit=2)
    assert [t.id for t in rest.items] == [9, 11] and rest.next_from_id is None
    active = le.list_triggers(PROGRAM, is_active=False)
    assert [t.external_id for t in active.items] == ["old"]
    with pytest.raises(le.ValidationError, match="limit"):
        le.list_triggers(PROGRAM, limit=101)


def test_a_trigger_without_an_amount_posts_each_rules_static_amount() -> None:
    change = le.apply_trigger(PROGRAM, joined(), "app", side="accrual", now=day(1))
    rows = change.effects.rows
    assert [(r.currency, r.amount, r.promotion, r.source_type) for r in rows] == [
        ("bonus", 100, "app", "trigger"),
        ("qual", 120, "app", "trigger"),
    ]
    assert [(w.currency, w.version, len(w.rows)) for w in change.effects.accounts] == [
        ("bonus", 1, 1),  # read after the initial balance's row
        ("qual", 0, 1),
    ]
    assert change.membership.tier(PROGRAM) == "silver"


def test_a_currency_narrows_a_trigger_to_one_rule() -> None:
    change = le.apply_trigger(PROGRAM, joined(), 5, side="accrual", now=day(1),
                              currency=le.PointsRef(eid="qual"))  # fmt: skip
    assert [r.currency for r in change.effects.rows] == ["qual"]


def test_a_given_amount_must_lie_within_the_rules_bounds() -> None:
    ok = le.apply_trigger(PROGRAM, joined(), "survey", side="accrual", now=day(1),
                          amount=Decimal(10))  # fmt: skip
    assert ok.effects.rows[0].amount == 10
    for bad in (Decimal(9), Decimal(201)):
        with pytest.raises(le.ValidationError, match=r"outside \[10, 200\]"):
            le.apply_trigger(PROGRAM, joined(), "survey", side="accrual", now=day(1), amount=bad)
    with pytest.raises(le.ValidationError, match="required"):
        le.apply_trigger(PROGRAM, joined(), "survey", side="accrual", now=day(1))


def test_a_trigger_must_be_active_and_in_its_dates() -> None:
    with pytest.raises(le.LedgerError, match="not active"):
        le.apply_trigger(PROGRAM, joined(), "summer", side="accrual", now=day(1))
    inside = le.apply_trigger(PROGRAM, joined(), "summer", side="accrual",
                              now=dt.datetime(2026, 7, 1, tzinfo=dt.UTC))  # fmt: skip
    assert inside.effects.rows[-1].amount == 5  # after the expiry of the initial balance
    with pytest.raises(le.ValidationError, match="no such trigger"):
        le.apply_trigger(PROGRAM, joined(), "nope", side="accrual", now=day(1))


def test_a_redeem_trigger_spends_and_is_refused_whole_when_short() -> None:
    spent = le.apply_trigger(PROGRAM, joined(), "app", side="redeem", now=day(1))
    assert spent.membership.account("bonus").balance(day(1)).active == 20
    with pytest.raises(le.LedgerError, match=r"insufficient active balance \(20 < 30\)"):
        le.apply_trigger(PROGRAM, spent.membership, "app", side="redeem", now=day(1))


def test_a_trigger_with_an_eid_posts_once() -> None:
    first = le.apply_trigger(PROGRAM, joined(), "app", side="accrual", now=day(1), eid="t-1")
    again = le.apply_trigger(PROGRAM, first.membership, "app", side="accrual", now=day(2),
                             eid="t-1")  # fmt: skip
    assert again.effects.rows == () and again.membership == first.membership


# --- code pools ---------------------------------------------------------------------------


def test_a_single_use_pool_hands_out_live_codes_in_order_and_runs_dry() -> None:
    pool = le.CodePool(pool_id=1, name="gift", codes=[
        le.PoolCode("OLD", expires_at=T0), le.PoolCode("A"), le.PoolCode("B")])  # fmt: skip
    pool, codes = pool.issue(1, day(1))
    assert codes == ("A",) and [c.code for c in pool.codes] == ["OLD", "B"]
    pool, codes = pool.issue(3, day(1))
    assert codes == ("B",)
    assert pool.accepts("A") and not pool.use("A").accepts("A")


def test_a_multiple_use_pool_issues_one_universal_code_and_keeps_it() -> None:
    pool = le.CodePool(pool_id=2, name="all", reuse="multiple", codes=[le.PoolCode("SPRING")])
    after, codes = pool.issue(5, T0)
    assert codes == ("SPRING",) and after == pool
    assert pool.use("SPRING").accepts("SPRING")
