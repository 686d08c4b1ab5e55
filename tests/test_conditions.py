"""Each condition kind holds exactly when its documented rule says."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import loyalty_engine as le
from loyalty_engine import conditions as c

SATURDAY_10 = dt.datetime(2026, 3, 14, 10, tzinfo=dt.UTC)


def facts(
    member: le.Member | None = None, at: dt.datetime = SATURDAY_10, current: int = 0
) -> c.Facts:
    order = le.Order(
        external_id="o",
        currency="RUB",
        endpoint="site",
        region="msk",
        tags=["vip"],
        custom_fields={"channel": "b2b", "n": 3, "flag": True},
        promo_codes=[le.PromoCode("SPRING", 7)],
        lines=[
            le.Line(
                external_id="a",
                product="shoe",
                sku="S-1",
                count=2,
                base_price_per_item=le.Money.parse("100.00", "RUB"),
                custom_fields={"size": 42},
            ),
            le.Line(
                external_id="b",
                product="hat",
                count=1,
                base_price_per_item=le.Money.parse("50.00", "RUB"),
            ),
        ],
    )
    return c.Facts(
        order=order,
        member=member,
        at=at,
        line_categories=(frozenset({"shoes"}), frozenset({"hats"})),
        base_total=25_000,
        current_total=current or 25_000,
    )


GOLD = le.Member(profile_id="m", tier="gold", segments=["b2c"], tags=["new"])


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        (c.Endpoint(["site"]), True),
        (c.Endpoint(["bot"]), False),
        (c.Region(["msk"]), True),
        (c.OrderTag(["vip"]), True),
        (c.OrderTag(["x"]), False),
        (c.PromoCodeEntered(["SPRING"]), True),
        (c.PromoCodeEntered([], pool_id=8), False),
        (c.PromoCodeEntered(), True),
        (c.LineCount(min=2, max=2), True),
        (c.LineCount(min=3), False),
        (c.ItemCount(min=3), True),
        (c.ItemCount(max=2), False),
        (c.OrderTotal(min=Decimal(250)), True),
        (c.OrderTotal(min=Decimal("250.01")), False),
        (c.Dates(start=SATURDAY_10), True),
        (c.Dates(end=SATURDAY_10), False),
        (c.Weekday([6]), True),
        (c.Weekday([1, 2]), False),
        (c.Hour(start=8, end=11), True),
        (c.Hour(start=22, end=6), False),
        (c.Product(["hat"]), True),
        (c.Sku(["S-1"]), True),
        (c.Category(["toys"]), False),
        (c.CustomField(field="channel", values=["b2b"]), True),
        (c.CustomField(field="n", values=["3"]), True),
        (c.CustomField(field="flag", values=["true"]), True),
        (c.CustomField(field="size", values=["42"], scope="line"), True),
        (c.All([c.Endpoint(["site"]), c.Region(["x"])]), False),
        (c.AnyOf([c.Endpoint(["bot"]), c.Region(["msk"])]), True),
        (c.Not(c.Region(["msk"])), False),
    ],
)
def test_order_level_kinds(condition: c.Condition, holds: bool) -> None:
    """Order-level truth of every kind; line kinds mean "some line matches"."""
    assert condition.holds(facts()) is holds


def test_member_kinds_and_guests() -> None:
    """Tier, segment and member tag read the member; a guest matches none."""
    for condition in (c.MemberTier(["gold"]), c.MemberSegment(["b2c"]), c.MemberTag(["new"])):
        assert condition.holds(facts(GOLD)) and not condition.holds(facts(None))


def test_current_basis_and_shortfall() -> None:
    """basis=current reads the running total; a near miss says how much is missing."""
    rule = c.OrderTotal(min=Decimal(200), basis="current")
    assert not rule.holds(facts(current=15_000))
    assert rule.shortfall(facts(current=15_000)) == Decimal(5000)
    assert rule.shortfall(facts()) is None


def test_hour_wraps_midnight() -> None:
    """22..6 holds at 23:00 and 05:00, not at 10:00."""
    night = c.Hour(start=22, end=6)
    assert night.holds(facts(at=SATURDAY_10.replace(hour=23)))
    assert night.holds(facts(at=SATURDAY_10.replace(hour=5)))


def test_line_selection() -> None:
    """Line kinds select lines; order kinds inside a line filter read the whole order."""
    f = facts()
    assert [c.selects(c.Category(["shoes"]), f, i) for i in (0, 1)] == [True, False]
    assert [c.selects(c.Not(c.Product(["hat"])), f, i) for i in (0, 1)] == [True, False]
    assert c.selects(c.Endpoint(["site"]), f, 1)
    assert c.is_line_filter(c.AnyOf([c.Sku(["S-1"]), c.Not(c.Category(["x"]))]))
    assert not c.is_line_filter(c.All([c.Product(["a"]), c.Endpoint(["site"])]))
    assert not c.is_line_filter(c.CustomField(field="f", values=["v"]))
    assert c.first_failure([c.Region(["msk"]), c.Endpoint(["bot"])], f) == c.Endpoint(["bot"])
    assert len(c.KINDS) == 20


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: c.Endpoint([]), "values: must be a non-empty list"),
        (lambda: c.Endpoint("site"), "values: must be a list of strings"),
        (lambda: c.LineCount(min=3, max=1), "max: is below min 3"),
        (lambda: c.Weekday([8]), "days: must be ISO weekdays 1..7"),
        (lambda: c.Hour(start=24, end=3), "start: must be one of 0..23"),
        (lambda: c.All([]), "of: must list at least one condition"),
    ],
)
def test_condition_validation(build: object, message: str) -> None:
    """Bad conditions fail at construction with the field named."""
    with pytest.raises(le.ValidationError) as caught:
        build()  # type: ignore[operator]
    assert str(caught.value).startswith(message)
