"""The shipped toolkit: registered strategies and knobs produce what they promise."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import loyalty_engine as le
from loyalty_engine import testing


@settings(max_examples=20)
@given(
    money=st.from_type(le.Money),
    line=st.from_type(le.Line),
    order=st.from_type(le.Order),
    member=st.from_type(le.Member),
    points=st.from_type(le.PointsCurrency),
    program=st.from_type(le.Program),
)
def test_from_type_works_for_our_types(
    money: le.Money,
    line: le.Line,
    order: le.Order,
    member: le.Member,
    points: le.PointsCurrency,
    program: le.Program,
) -> None:
    """st.from_type gives valid values of each registered type."""
    assert isinstance(money, le.Money) and isinstance(line, le.Line)
    assert isinstance(order, le.Order) and isinstance(member, le.Member)
    assert isinstance(points, le.PointsCurrency) and isinstance(program, le.Program)


@settings(max_examples=30)
@given(order=testing.orders("KWD", min_lines=3, max_lines=3, max_price=10))
def test_order_knobs(order: le.Order) -> None:
    """Currency, line count and price range knobs are honoured."""
    assert order.currency == "KWD" and len(order.lines) == 3
    assert all(line.base_price_per_item.amount <= 10 for line in order.lines)


@settings(max_examples=30)
@given(program=testing.programs("JPY", min_promotions=4, max_promotions=4, match=100))
def test_program_knobs(program: le.Program) -> None:
    """match=100 gives promotions without conditions; the count knob is honoured."""
    assert len(program.promotions) == 4
    assert all(not p.conditions for p in program.promotions)
