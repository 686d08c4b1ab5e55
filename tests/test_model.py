"""Value objects validate themselves: an invalid order cannot exist."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import loyalty_engine as le


def rub(text: str) -> le.Money:
    return le.Money.parse(text, "RUB")


def line(**kw: object) -> le.Line:
    fields: dict[str, object] = {
        "external_id": "a",
        "product": "p",
        "count": 1,
        "base_price_per_item": rub("10.00"),
    }
    fields.update(kw)
    return le.Line(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"count": 0}, "count: must be an integer in 1..1000000 (got 0)"),
        ({"count": True}, "count: must be an integer in 1..1000000 (got True)"),
        ({"count": 1_000_001}, "count: must be an integer in 1..1000000"),
        ({"product": None}, "product: product or sku is required"),
        ({"min_price_per_item": rub("11.00")}, "min_price_per_item: exceeds base price"),
        ({"base_price_per_item": rub("-1.00")}, "base_price_per_item: must not be negative"),
        (
            {"min_price_per_item": le.Money.parse("1", "USD")},
            "min_price_per_item: currency differs",
        ),
        ({"external_id": ""}, "external_id: must be a non-empty string"),
        ({"external_id": "x" * 300}, "external_id: longer than 256 characters"),
    ],
)
def test_line_validation(changes: dict[str, object], message: str) -> None:
    """Each bad line field is named with its value."""
    with pytest.raises(le.ValidationError) as caught:
        line(**changes)
    assert str(caught.value).startswith(message)


def test_line_defaults_min_price_to_zero() -> None:
    """An absent min price is 0 in the line's currency."""
    assert line().min_price_per_item == rub("0")


def test_order_validation() -> None:
    """No lines, duplicate ids, foreign currency, too many lines and naive times are refused."""
    with pytest.raises(le.ValidationError, match="lines: an order needs at least one line"):
        le.Order(external_id="o", currency="RUB", lines=[])
    with pytest.raises(le.ValidationError, match=r"lines\[1\]\.external_id: duplicate line id"):
        le.Order(external_id="o", currency="RUB", lines=[line(), line()])
    with pytest.raises(le.ValidationError, match="currency differs from the order's USD"):
        le.Order(external_id="o", currency="USD", lines=[line()])
    with pytest.raises(le.ValidationError, match="currency: unknown ISO 4217"):
        le.Order(external_id="o", currency="XXX", lines=[line()])
    with pytest.raises(le.ValidationError, match="create_time: must be a timezone-aware"):
        le.Order(
            external_id="o", currency="RUB", lines=[line()], create_time=dt.datetime(2026, 1, 1)
        )
    many = [line(external_id=f"l{i}") for i in range(le.model.MAX_LINES + 1)]
    with pytest.raises(le.ValidationError, match="more than 10000 lines"):
        le.Order(external_id="o", currency="RUB", lines=many)


def test_order_total_price() -> None:
    """total_price is Σ base × count."""
    order = le.Order(
        external_id="o",
        currency="RUB",
        lines=[line(), line(external_id="b", count=3, base_price_per_item=rub("0.50"))],
    )
    assert str(order.total_price) == "11.50"


def test_fields_are_frozen_hashable_and_flat() -> None:
    """Custom fields are a read-only mapping of scalars, sorted, hashable, bounded."""
    fields = le.Fields({"b": 1, "a": "x"})
    assert (
        list(fields) == ["a", "b"]
        and fields["b"] == 1
        and hash(fields) == hash(le.Fields({"a": "x", "b": 1}))
    )
    with pytest.raises(le.ValidationError, match="flat scalars"):
        le.Fields({"a": {"nested": 1}})
    with pytest.raises(le.ValidationError, match="longer than 1024"):
        le.Fields({"a": "x" * 2000})
    with pytest.raises(TypeError):
        fields["c"] = 1  # type: ignore[index]


def test_member_balance_defaults_to_zero() -> None:
    """A currency the member never held has a zero balance."""
    member = le.Member(profile_id="m", balances={"a": le.Balance(Decimal(5), Decimal(7))})
    assert member.balance("a") == le.Balance(Decimal(5), Decimal(7))
    assert member.balance("b") == le.Balance(Decimal(0), Decimal(0))


def test_points_currency_and_refs() -> None:
    """Precision 0..6, a positive rate; refs match by iid, eid, or both."""
    bonus = le.PointsCurrency(eid="bonus1", iid=1)
    assert bonus.matches(le.PointsRef(iid=1)) and bonus.matches(le.PointsRef(eid="bonus1"))
    assert not bonus.matches(le.PointsRef(iid=1, eid="other"))
    assert bonus.of_units(6999) == Decimal(6999)
    assert le.PointsCurrency(eid="x", precision=2).of_units(10050) == Decimal("100.50")
    with pytest.raises(le.ValidationError, match="redeem_rate: must be positive"):
        le.PointsCurrency(eid="x", redeem_rate=Decimal(0))
    with pytest.raises(le.ValidationError, match="iid or eid is required"):
        le.PointsRef()
    with pytest.raises(le.ValidationError, match="amount: must not be negative"):
        le.RedeemRequest(le.PointsRef(eid="x"), Decimal(-1))
