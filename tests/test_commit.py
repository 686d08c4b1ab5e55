"""commit() and reverse(): each documented policy, by example, on the seed 004 program."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

import loyalty_engine as le
from loyalty_engine.altcraft.preorder import parse_preorder_request
from loyalty_engine.altcraft.wire import read_json_file
from loyalty_engine.commit import fingerprint
from loyalty_engine.errors import ConflictError
from loyalty_engine.ledger.effects import Effects, OrderRecord

HERE = Path(__file__).resolve().parent.parent / "examples" / "seed_004"
NOW = dt.datetime(2026, 2, 18, 13, 1, 6, tzinfo=dt.UTC)
PROGRAM = le.load_program(HERE / "program.toml")
ORDER = parse_preorder_request(read_json_file(HERE / "request.json")).order
POOL = le.CodePool(pool_id=100, name="Welcome Promocodes", codes=[le.PoolCode("W-1")])


def member(points: int = 21525, program: le.Program = PROGRAM) -> le.Membership:
    joined = NOW - dt.timedelta(days=10)
    membership = le.register(program, "p1", now=joined).membership
    account = membership.account("bonus1").accrue(Decimal(points), now=joined)
    return membership.with_account(account.account)


def requested(membership: le.Membership | None, order: le.Order = ORDER) -> le.Requested:
    who = membership.member(PROGRAM, now=NOW) if membership else None
    return le.Requested.of(le.calculate(PROGRAM, order, who, now=NOW))


def committed(membership: le.Membership | None = None, **kw: object) -> le.CommitResult:
    membership = membership or member()
    kw.setdefault("pools", [POOL])
    return le.commit(
        PROGRAM,
        ORDER,
        requested(membership),
        membership=membership,
        now=NOW,
        **kw,  # type: ignore[arg-type]
    )


def test_success_posts_the_redemption_then_the_accrual_with_order_eids() -> None:
    result = committed()
    assert (result.status, result.processing_target) == (
        le.CommitStatus.SUCCESS,
        le.Target.IMMEDIATE,
    )
    rows = result.effects.rows
    assert [(r.kind, r.amount, r.eid, r.source_type) for r in rows] == [
        (le.Kind.REDEMPTION, 100, "order:order_12345:redeem_points:redeem_promo", "order"),
        (le.Kind.ACCRUAL, 75, "order:order_12345:accrue_points:bonus_promo", "order"),
    ]
    assert rows[1].expiration == NOW + dt.timedelta(days=365)  # lifetime from the commit
    # computed on bonus1 as read: one row (the test's accrual), so version 1; rows 2 and 3 follow
    (write,) = result.effects.accounts
    assert (write.profile_id, write.currency, write.version) == ("p1", "bonus1", 1)
    assert [r.id for r in write.rows] == [2, 3]
    assert result.effects.issued == ((100, "W-1"),) and result.effects.used == ()
    assert result.effects.order == OrderRecord(
        external_id="order_12345",
        profile_id="p1",
        fingerprint=fingerprint(ORDER, requested(member()), "p1"),
    )
    (change,) = result.points_changes
    assert (change.balance, change.accrued, change.redeemed) == (21500, 75, 100)
    assert result.issued[0].codes == ("W-1",) and result.pools[0].codes == ()
    assert [m.external_id for m in result.messages] == ["message_promo"]


def test_outdated_has_differences_and_no_effects() -> None:
    membership = member()
    asked = requested(membership)
    line = attrs.evolve(asked.lines[0], final_price_per_item=le.Money.parse("1349.99", "RUB"))
    result = le.commit(PROGRAM, ORDER, attrs.evolve(asked, lines=[line, *asked.lines[1:]]),
                       membership=membership, now=NOW, pools=[POOL])  # fmt: skip
    assert result.status is le.CommitStatus.OUTDATED and result.processing_target is None
    assert result.differences == (
        le.Difference("lines[line_1].final_price_per_item", "1349.99", "1350.00"),
    )
    assert result.effects == Effects() and result.effects.rows == ()
    assert result.membership is membership
    assert result.pools == (POOL,) and result.issued == ()


def test_a_discount_that_appeared_unasked_is_a_difference() -> None:
    asked = requested(member())
    bare = attrs.evolve(asked.lines[0], promotions=asked.lines[0].promotions[1:])
    result = le.commit(PROGRAM, ORDER, attrs.evolve(asked, lines=[bare, *asked.lines[1:]]),
                       membership=member(), now=NOW)  # fmt: skip
    assert result.differences == (
        le.Difference("lines[line_1].promotions[discount:promo_1]", None, "150.00"),
    )


def test_a_promised_gift_must_still_apply_but_an_unasked_one_is_delivered() -> None:
    asked = requested(member())
    gifts = [p for p in asked.promotions if p.type == "code_issue"]
    result = le.commit(PROGRAM, ORDER, attrs.evolve(asked, promotions=gifts),
                       membership=member(), now=NOW)  # fmt: skip
    assert result.status is le.CommitStatus.SUCCESS and result.messages  # message unasked
    ghost = le.RequestedPromotion(type="message", external_id="gone")
    result = le.commit(PROGRAM, ORDER, attrs.evolve(asked, promotions=[*gifts, ghost]),
                       membership=member(), now=NOW)  # fmt: skip
    assert result.differences == (le.Difference("order.promotions[message:gone]", "applied", None),)


def test_a_balance_too_low_for_the_redemption_is_outdated() -> None:
    asked = requested(member())
    result = le.commit(PROGRAM, ORDER, asked, membership=member(points=60), now=NOW)
    assert result.status is le.CommitStatus.OUTDATED
    paths = [d.path for d in result.differences]
    assert "lines[line_2].promotions[redeem_points:redeem_promo].points" in paths


def test_a_guest_commit_moves_no_points() -> None:
    order = attrs.evolve(ORDER, redeem=())
    result = le.commit(PROGRAM, order, requested(None, order), membership=None, now=NOW)
    assert result.status is le.CommitStatus.SUCCESS
    assert result.effects.rows == () and result.points_changes == () and result.membership is None
    assert result.effects.accounts == () and result.effects.member is None
    assert result.effects.order == OrderRecord(
        external_id="order_12345",
        profile_id=None,
        fingerprint=fingerprint(order, requested(None, order), None),
    )


def test_an_empty_pool_issues_what_it_has_and_says_how_many_are_missing() -> None:
    expired = le.CodePool(pool_id=100, name="Welcome", codes=[le.PoolCode("OLD", NOW)])
    result = committed(pools=[expired])
    assert result.issued[0].codes == () and result.issued[0].missing == 1


GATED = le.program_from_dict(  # seed 004's order code (pool 42) unlocks a 5% discount
    {
        **PROGRAM.to_dict(),
        "promotions": [
            {"external_id": "coded", "type": "discount",
             "benefit": {"kind": "percent", "percent": "5"},
             "conditions": [{"kind": "promo_code", "codes": ["HYDO-4728-DZGU"]}]},
        ],
    }
)  # fmt: skip


def test_a_used_single_use_code_is_outdated_and_a_fresh_one_is_marked_used() -> None:
    pool = le.CodePool(pool_id=42, name="Summer")
    asked = le.Requested.of(le.calculate(GATED, ORDER, None, now=NOW, pools=[pool]))
    first = le.commit(GATED, ORDER, asked, membership=None, now=NOW, pools=[pool])
    assert first.status is le.CommitStatus.SUCCESS
    assert first.pools[0].used == frozenset({"HYDO-4728-DZGU"})
    assert first.effects.used == ((42, "HYDO-4728-DZGU"),) and first.effects.issued == ()
    again = attrs.evolve(ORDER, external_id="order_2")
    second = le.commit(GATED, again, asked, membership=None, now=NOW, pools=first.pools)
    # the code no longer unlocks the discount: the promotion it gave is the difference
    assert second.status is le.CommitStatus.OUTDATED
    assert second.differences == (
        le.Difference("final_total_price", "2755.00", "2900.00"),
        le.Difference("lines[line_1].final_price_per_item", "1425.00", "1500.00"),
        le.Difference("lines[line_1].promotions[discount:coded]", "applied", None),
        le.Difference("lines[line_2].final_price_per_item", "665.00", "700.00"),
        le.Difference("lines[line_2].promotions[discount:coded]", "applied", None),
    )
    assert second.calculation is not None
    assert second.calculation.promo_codes == (
        le.CodeStatus(code="HYDO-4728-DZGU", pool_id=42, state=le.CodeState.NOT_APPLICABLE),
    )
    assert second.effects == Effects() and second.pools == first.pools


def test_calculate_finds_a_used_single_use_code_not_applicable_at_preorder() -> None:
    """With the pools, a code its single-use pool marked used unlocks nothing already."""
    fresh = le.CodePool(pool_id=42, name="Summer")
    used = fresh.use("HYDO-4728-DZGU")
    seen = le.calculate(GATED, ORDER, None, now=NOW, pools=[used])
    assert seen.promo_codes == (
        le.CodeStatus(code="HYDO-4728-DZGU", pool_id=42, state=le.CodeState.NOT_APPLICABLE),
    )
    assert [line.applied for line in seen.lines] == [(), ()]
    assert str(seen.final_total_price) == "2900.00" and seen.order == ORDER
    # the same code is applied while unused, from a reusable pool, or with no pool to judge by
    universal = attrs.evolve(used, reuse="multiple")
    for pools in ([fresh], [universal], [], [attrs.evolve(used, pool_id=43)]):
        open_ = le.calculate(GATED, ORDER, None, now=NOW, pools=pools)
        assert open_.promo_codes == (
            le.CodeStatus(code="HYDO-4728-DZGU", pool_id=42, state=le.CodeState.APPLIED,
                          promotions=("coded",)),
        ), pools  # fmt: skip
        assert str(open_.final_total_price) == "2755.00"


def test_a_replay_returns_the_stored_result_and_a_lost_result_is_refused() -> None:
    first = committed()
    assert first.effects.order is not None and first.effects.order.fingerprint
    replay = committed(first.membership, committed={"order_12345": first})
    assert replay.processing_target is le.Target.PROCESSED
    assert replay.effects == Effects() and replay.effects.rows == ()
    assert replay.issued == first.issued and replay.calculation == first.calculation
    with pytest.raises(le.LedgerError, match="committed before: pass its stored result"):
        committed(first.membership)


def test_another_member_replaying_a_committed_external_id_gets_a_conflict() -> None:
    """The same order and confirmation for p2 (or a guest) never receive p1's stored answer."""
    first = committed()
    joined = NOW - dt.timedelta(days=10)
    other = le.register(PROGRAM, "p2", now=joined).membership
    other = other.with_account(other.account("bonus1").accrue(Decimal(21525), now=joined).account)
    asked = requested(member())
    assert requested(other) == asked  # only the member differs
    stored = {"order_12345": first}
    message = r"^order 'order_12345' was committed with another request or member$"
    for who in (other, None):
        with pytest.raises(ConflictError, match=message):
            le.commit(PROGRAM, ORDER, asked, membership=who, now=NOW, pools=[POOL],
                      committed=stored)  # fmt: skip
    # p1 under the same external_id, with another body: a conflict too
    cheaper = attrs.evolve(asked, final_total_price=le.Money.parse("1.00", "RUB"))
    with pytest.raises(ConflictError, match=message):
        le.commit(PROGRAM, ORDER, cheaper, membership=first.membership, now=NOW,
                  committed=stored)  # fmt: skip
    # a stored success without its order record can never be replayed
    unsigned = {"order_12345": attrs.evolve(first, effects=Effects())}
    with pytest.raises(ConflictError, match=message):
        le.commit(PROGRAM, ORDER, asked, membership=first.membership, now=NOW,
                  committed=unsigned)  # fmt: skip


def test_a_removed_member_cannot_commit() -> None:
    gone = le.remove(member(), now=NOW).membership
    with pytest.raises(le.LedgerError, match="removed"):
        committed(gone)


def test_money_ratio_accrues_qualification_points_on_the_money_paid() -> None:
    data = PROGRAM.to_dict()
    data["currencies"] = [*data["currencies"],  # type: ignore[misc]
                          {"eid": "q", "qualifying": True, "money_ratio": "0.1"}]  # fmt: skip
    program = le.program_from_dict(data)
    membership = member(program=program)
    asked = le.Requested.of(
        le.calculate(program, ORDER, membership.member(program, now=NOW), now=NOW)
    )
    result = le.commit(program, ORDER, asked, membership=membership, now=NOW)
    assert result.status is le.CommitStatus.SUCCESS
    assert [(c.currency.eid, c.accrued) for c in result.points_changes] == [
        ("bonus1", 75),
        ("q", 265),  # floor(2650.00 × 0.1)
    ]


def test_reversal_in_steps_adds_up_to_the_whole() -> None:
    first = committed()
    assert first.membership is not None
    step = le.reverse(first, first.membership, now=NOW, lines={"line_2": 1})
    assert [(r.kind, r.delta) for r in step.effects.rows] == [(le.Kind.CANCELLATION, 50)]
    # computed on bonus1 after the commit's rows: version 3
    assert [(w.currency, w.version) for w in step.effects.accounts] == [("bonus1", 3)]
    assert step.effects.order is None and step.effects.used == ()
    rest = le.reverse(first, step.membership, now=NOW, refunded={"line_2": 1})
    assert sorted(r.delta for r in rest.effects.rows) == [-75, 50]
    assert [(w.currency, w.version) for w in rest.effects.accounts] == [("bonus1", 4)]
    assert rest.membership.account("bonus1").balance(NOW).total == 21525
    with pytest.raises(le.ValidationError, match="more than the 2 items"):
        le.reverse(first, rest.membership, now=NOW, lines={"line_2": 1}, refunded={"line_2": 2})


def test_reversal_of_spent_points_goes_negative_by_default_or_is_refused() -> None:
    first = committed(member(points=100))
    assert first.membership is not None
    account = first.membership.account("bonus1")
    spent = first.membership.with_account(account.redeem(Decimal(75), now=NOW).account)
    with pytest.raises(le.LedgerError, match="was spent"):
        le.reverse(first, spent, now=NOW, lines={"line_1": 1}, policy="refuse")
    taken = le.reverse(first, spent, now=NOW, lines={"line_1": 1})
    assert taken.membership.account("bonus1").balance(NOW).total == -75


def test_reversal_is_idempotent_with_an_eid() -> None:
    first = committed()
    assert first.membership is not None
    once = le.reverse(first, first.membership, now=NOW, eid="refund-1")
    twice = le.reverse(first, once.membership, now=NOW, eid="refund-1")
    assert twice.effects.rows == () and twice.membership == once.membership


def test_points_that_reach_the_delivery_are_posted_once_and_come_back_with_the_last_item() -> None:
    program = le.program_from_dict(
        {
            "settings": {"delivery_discountable": True},
            "currencies": [{"eid": "bonus1"}],
            "promotions": [{"external_id": "pay", "type": "redeem_points",
                            "benefit": {"currency": "bonus1"}}],
        }
    )  # fmt: skip
    rub = le.Money.parse
    order = le.Order(
        external_id="o-d", currency="RUB", delivery_cost=rub("50.00", "RUB"),
        lines=[le.Line(external_id="a", sku="s", count=2, base_price_per_item=rub("10.00", "RUB"),
                       min_price_per_item=rub("5.00", "RUB")),
               le.Line(external_id="b", sku="t", count=1, base_price_per_item=rub("3.00", "RUB"),
                       min_price_per_item=rub("3.00", "RUB"))],
        redeem=[le.RedeemRequest(le.PointsRef(eid="bonus1"), Decimal(40))],
    )  # fmt: skip
    membership = member(points=100, program=program)
    seen = le.calculate(program, order, membership.member(program, now=NOW), now=NOW)
    assert seen.applied and seen.points[0].redeemed == 40  # some of it paid for the delivery
    result = le.commit(program, order, le.Requested.of(seen), membership=membership, now=NOW)
    assert [(r.kind, r.amount) for r in result.effects.rows] == [(le.Kind.REDEMPTION, 40)]
    assert result.membership is not None
    half = le.reverse(result, result.membership, now=NOW, lines={"a": 1})
    assert half.effects.rows[0].delta < 40
    rest = le.reverse(result, half.membership, now=NOW, refunded={"a": 1})
    assert sum(r.delta for r in (*half.effects.rows, *rest.effects.rows)) == 40
    assert rest.membership.account("bonus1").balance(NOW).total == 100


# --- corners that were wrong (issue 9) ------------------------------------------------------------


def test_an_accrual_that_appeared_unasked_makes_the_commit_outdated() -> None:
    """Points the customer was not shown are a difference, as much as a new discount is."""
    asked = requested(member())
    lines = [
        attrs.evolve(line, promotions=[p for p in line.promotions if p.type != "accrue_points"])
        for line in asked.lines
    ]
    result = le.commit(PROGRAM, ORDER, attrs.evolve(asked, lines=lines), membership=member(),
                       now=NOW)  # fmt: skip
    assert result.status is le.CommitStatus.OUTDATED and result.effects == Effects()
    assert result.differences == (
        le.Difference("lines[line_1].promotions[accrue_points:bonus_promo]", None, "75"),
    )


def test_an_order_older_than_the_points_lifetime_commits() -> None:
    """Points live lifetime_days from the commit: a two-year-old order's are not born dead."""
    old = attrs.evolve(ORDER, create_time=NOW - dt.timedelta(days=730))
    membership = member()
    seen = le.calculate(PROGRAM, old, membership.member(PROGRAM, now=NOW), now=NOW)
    result = le.commit(PROGRAM, old, le.Requested.of(seen), membership=membership, now=NOW)
    assert result.status is le.CommitStatus.SUCCESS
    (accrual,) = [r for r in result.effects.rows if r.kind is le.Kind.ACCRUAL]
    assert (accrual.activation, accrual.expiration) == (NOW, NOW + dt.timedelta(days=365))


THREE_CODES = attrs.evolve(  # seed 004's program, its code_issue asking for three codes
    PROGRAM,
    promotions=[
        attrs.evolve(p, benefit=attrs.evolve(p.benefit, count=3)) if p.type == "code_issue" else p
        for p in PROGRAM.promotions
    ],
)


def test_a_universal_pool_code_is_issued_once_and_nothing_is_missing() -> None:
    """Three codes from a `multiple` pool: its one code is the whole of them."""
    universal = le.CodePool(
        pool_id=100, name="Welcome", reuse="multiple", codes=[le.PoolCode("ALL")]
    )
    (issued,) = commit_unchanged(THREE_CODES, pools=(universal,)).issued
    assert (issued.codes, issued.missing) == (("ALL",), 0)


def test_a_redemption_for_any_currency_commits_unchanged() -> None:
    """Two currencies through one redeem promotion: the commit matches each by its currency."""
    program = le.program_from_dict(
        {
            "currencies": [{"eid": "a", "iid": 1}, {"eid": "b", "iid": 2}],
            "promotions": [{"external_id": "pay", "type": "redeem_points", "benefit": {}}],
        }
    )
    membership = le.register(program, "p1", now=NOW).membership
    for eid in ("a", "b"):
        account = membership.account(eid).accrue(Decimal(500), now=NOW)
        membership = membership.with_account(account.account)
    order = attrs.evolve(
        ORDER,
        redeem=[le.RedeemRequest(le.PointsRef(eid=e), Decimal(100)) for e in ("a", "b")],
    )
    seen = le.calculate(program, order, membership.member(program, now=NOW), now=NOW)
    assert [s.redeemed for s in seen.points] == [100, 100]
    result = le.commit(program, order, le.Requested.of(seen), membership=membership, now=NOW)
    assert result.status is le.CommitStatus.SUCCESS, result.differences
    assert sorted((r.currency, r.delta) for r in result.effects.rows) == [("a", -100), ("b", -100)]
    assert [(w.currency, w.version, len(w.rows)) for w in result.effects.accounts] == [
        ("a", 1, 1),
        ("b", 1, 1),
    ]


def test_retrying_a_reversal_returns_the_first_result_after_other_cancellations() -> None:
    """The retry replays what its eid did, though a later cancel left less outstanding."""
    first = committed()
    assert first.membership is not None
    once = le.reverse(first, first.membership, now=NOW, lines={"line_2": 1}, eid="refund-1")
    (row,) = once.effects.rows
    account = once.membership.account("bonus1")
    redemption = account.transaction("order:order_12345:redeem_points:redeem_promo")
    other = account.cancel(redemption.id, now=NOW, amount=Decimal(30))  # by support, say
    later = once.membership.with_account(other.account)
    again = le.reverse(first, later, now=NOW, lines={"line_2": 1}, eid="refund-1")
    assert again.effects.rows == () and again.membership == later
    assert row.amount == 50


# --- what the mutation baseline showed untested -----------------------------------------------


def with_currencies(*extra: dict[str, object]) -> le.Program:
    data = PROGRAM.to_dict()
    data["currencies"] = [*data["currencies"], *extra]  # type: ignore[misc]
    return le.program_from_dict(data)


def commit_unchanged(
    program: le.Program,
    *,
    segments: tuple[str, ...] = (),
    tags: tuple[str, ...] = (),
    pickers: dict[str, le.Picker] | None = None,
    pools: tuple[le.CodePool, ...] = (),
) -> le.CommitResult:
    """Preorder for a fresh member, then commit exactly what it showed."""
    membership = member(program=program)
    who = membership.member(program, now=NOW, segments=segments, tags=tags)
    asked = le.Requested.of(le.calculate(program, ORDER, who, now=NOW, pickers=pickers))
    return le.commit(program, ORDER, asked, membership=membership, now=NOW, pools=pools,
                     segments=segments, tags=tags, pickers=pickers)  # fmt: skip


def test_qualification_points_are_floored_in_their_precision_once_per_currency() -> None:
    """2650.00 × 0.15 = 397.5 → 397 whole points; × 0.0333 = 88.245 → 88.2 at precision 1."""
    program = with_currencies(
        {"eid": "q", "iid": 7, "qualifying": True, "money_ratio": "0.15"},
        {"eid": "none", "iid": 8, "money_ratio": "0.0001"},  # 0.265 → 0: no row at all
        {"eid": "one", "iid": 6, "money_ratio": "0.0004"},  # 1.06 → exactly 1
        {"eid": "r", "iid": 9, "precision": 1, "money_ratio": "0.0333"},
    )
    result = commit_unchanged(program)
    assert [(c.currency.eid, c.accrued, c.redeemed, c.balance) for c in result.points_changes] == [
        ("bonus1", 75, 100, 21500),
        ("one", 1, 0, 1),
        ("q", 397, 0, 397),
        ("r", Decimal("88.2"), 0, Decimal("88.2")),
    ]
    rows = [(r.currency, r.kind, r.amount, r.eid) for r in result.effects.rows]
    assert rows == [
        ("bonus1", le.Kind.REDEMPTION, 100, "order:order_12345:redeem_points:redeem_promo"),
        ("bonus1", le.Kind.ACCRUAL, 75, "order:order_12345:accrue_points:bonus_promo"),
        ("q", le.Kind.ACCRUAL, 397, "order:order_12345:qualify"),
        ("one", le.Kind.ACCRUAL, 1, "order:order_12345:qualify"),
        ("r", le.Kind.ACCRUAL, Decimal("88.2"), "order:order_12345:qualify"),
    ]
    assert {r.description for r in result.effects.rows[2:]} == {"qualification"}
    assert result.membership is not None
    with pytest.raises(le.LedgerError, match="committed before"):  # the qualify eid is the guard
        le.commit(program, ORDER, le.Requested(), membership=result.membership.with_account(
            attrs.evolve(result.membership.account("bonus1"), journal=le.Account.open(
                "p1", result.membership.account("bonus1").currency).journal)), now=NOW)  # fmt: skip


def test_posted_rows_name_the_order_and_the_promotion() -> None:
    """Every order row carries source order and promotion, for history and reversal."""
    result = committed()
    assert [(r.source_type, r.source_id, r.promotion) for r in result.effects.rows] == [
        ("order", "order_12345", "redeem_promo"),
        ("order", "order_12345", "bonus_promo"),
    ]


def test_a_changed_total_alone_is_outdated_and_no_total_is_not_compared() -> None:
    asked = requested(member())
    more = attrs.evolve(asked, final_total_price=le.Money.parse("1.00", "RUB"))
    result = le.commit(PROGRAM, ORDER, more, membership=member(), now=NOW)
    assert result.differences == (le.Difference("final_total_price", "1.00", "2650.00"),)
    assert result.external_id == "order_12345" and result.calculation is not None
    bare = attrs.evolve(asked, final_total_price=None)
    assert le.commit(PROGRAM, ORDER, bare, membership=member(), now=NOW).status is (
        le.CommitStatus.SUCCESS
    )


def test_points_shown_in_another_currency_are_a_difference() -> None:
    program = with_currencies({"eid": "other", "iid": 2})
    membership = member(program=program)
    asked = le.Requested.of(
        le.calculate(program, ORDER, membership.member(program, now=NOW), now=NOW)
    )
    line = next(x for x in asked.lines if any(p.type == "accrue_points" for p in x.promotions))
    swapped = [attrs.evolve(p, currency=le.PointsRef(eid="other")) if p.type == "accrue_points"
               else p for p in line.promotions]  # fmt: skip
    lines = [attrs.evolve(x, promotions=swapped) if x is line else x for x in asked.lines]
    result = le.commit(program, ORDER, attrs.evolve(asked, lines=lines), membership=membership,
                       now=NOW)  # fmt: skip
    assert result.differences == (
        le.Difference(f"lines[{line.external_id}].promotions[accrue_points:bonus_promo].currency",
                      "other", "bonus1"),
    )  # fmt: skip


def test_commit_judges_segments_tags_and_plugged_in_pickers_as_the_preorder_did() -> None:
    """What the preorder was given about the member and the choices, the commit is given too."""
    data = PROGRAM.to_dict()
    data["groups"] = [{"id": "mine", "choice": "coin"}]
    data["promotions"] = [  # type: ignore[index]
        {"external_id": "b2b", "type": "discount", "group": "mine",
         "benefit": {"kind": "percent", "percent": "7"},
         "conditions": [{"kind": "segment", "values": ["b2b"]},
                        {"kind": "member_tag", "values": ["vip"]}]},
    ]  # fmt: skip
    program = le.program_from_dict(data, choices=["coin"])

    class First:
        def pick(self, options: object) -> int:
            return 0

    result = commit_unchanged(program, segments=("b2b",), tags=("vip",), pickers={"coin": First()})
    assert result.status is le.CommitStatus.SUCCESS, result.differences
    assert any(a.external_id == "b2b" for line in result.calculation.lines  # type: ignore[union-attr]
               for a in line.applied)  # fmt: skip


def test_only_applied_codes_are_marked_used_and_a_short_pool_says_how_many_are_missing() -> None:
    entered = le.CodePool(pool_id=42, name="Summer")  # the order's code unlocks nothing here
    renamed = attrs.evolve(POOL, name="Welcome Promocodes (2026)")  # the pool's name is reported
    result = commit_unchanged(THREE_CODES, pools=(renamed, entered))
    (issued,) = result.issued
    assert (issued.codes, issued.missing) == (("W-1",), 2)
    assert (issued.external_id, issued.name, issued.pool_id, issued.pool_name) == (
        "welcome_promo", "Welcome Gift", 100, "Welcome Promocodes (2026)")  # fmt: skip
    assert result.pools[1].used == frozenset()


def test_a_replay_returns_the_membership_and_pools_passed_in() -> None:
    first = committed()
    later = member(points=5)  # p1 again, though their balance moved: the same request replays
    replay = le.commit(PROGRAM, ORDER, requested(member()), membership=later, now=NOW,
                       pools=[], committed={"order_12345": first})  # fmt: skip
    assert replay.processing_target is le.Target.PROCESSED and replay.effects == Effects()
    assert replay.membership is later and replay.pools == ()
    assert replay.issued == first.issued and replay.points_changes == first.points_changes


def test_requested_of_a_result_keeps_the_total_and_the_points_currency() -> None:
    result = le.calculate(PROGRAM, ORDER, member().member(PROGRAM, now=NOW), now=NOW)
    asked = le.Requested.of(result)
    assert asked.final_total_price == result.final_total_price
    assert [(p.amount, p.points) for line in asked.lines for p in line.promotions] == [
        (a.amount, a.points) for line in result.lines for a in line.applied
    ]
    currencies = {p.currency for line in asked.lines for p in line.promotions if p.currency}
    assert currencies == {le.PointsRef(iid=1, eid="bonus1")}


def test_qualification_adds_to_the_promotion_points_of_the_same_currency() -> None:
    """bonus1 accrues 75 by promotion and floor(2650.00 × 0.01) = 26 by money_ratio: 101."""
    data = PROGRAM.to_dict()
    data["currencies"] = [{**data["currencies"][0], "money_ratio": "0.01"}]  # type: ignore[index]
    result = commit_unchanged(le.program_from_dict(data))
    assert [(c.accrued, c.redeemed, c.balance) for c in result.points_changes] == [
        (101, 100, 21526)
    ]


def test_difference_details_name_the_path_what_was_asked_and_what_is_true() -> None:
    asked = requested(member())
    line = asked.lines[0]
    promotions = [attrs.evolve(p, points=p.points + 1) if p.points is not None else p
                  for p in line.promotions]  # fmt: skip
    ghost = le.RequestedLine(external_id="ghost")
    changed = attrs.evolve(asked, lines=[attrs.evolve(line, promotions=promotions), ghost,
                                         *asked.lines[1:]])  # fmt: skip
    result = le.commit(PROGRAM, ORDER, changed, membership=member(), now=NOW)
    assert result.differences == (
        le.Difference("lines[line_1].promotions[accrue_points:bonus_promo].points", "76", "75"),
        le.Difference("lines[ghost]", "ghost", None),
    )


def test_duplicate_pools_are_refused_with_their_path() -> None:
    with pytest.raises(le.ValidationError, match=r"^pools: duplicate pool_id \(got \[100, 100\]\)"):
        committed(pools=[POOL, POOL])
