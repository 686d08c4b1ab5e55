"""Invariants of calculate() on generated programs, orders and members."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import loyalty_engine as le
from loyalty_engine.result import Fixed
from loyalty_engine.testing import (
    NOW,
    InvariantViolation,
    cases,
    check_invariants,
    observe,
    orders,
)
from loyalty_engine.validators import MAX_YEAR, MIN_YEAR

Case = tuple[le.Program, le.Order, le.Member | None]


def label(program: le.Program, member: le.Member | None, result: le.CalculatedOrder) -> None:
    """Tell hypothesis what this case reached beyond observe()'s stages (see
    docs/recipes/property-testing.md)."""
    if member is not None and any(b.active < b.total for _, b in member.balances):
        event("member: active < total")
    event(f"points currencies: {len(program.currencies)}")
    for summary in result.points:
        event(f"redeem status: {summary.status.value}")
    for promotion in program.promotions:
        if promotion.type == "discount":
            event(f"discount kind: {promotion.benefit.kind}")  # type: ignore[union-attr]
        if promotion.exclusive or promotion.stop_after:
            event("exclusive or stop_after in the program")
    if any(a.limited for line in result.lines for a in line.applied):
        event("a benefit cut (limited)")
    event(f"settings: {program.settings.indivisible}, remainder {program.settings.remainder}")


@given(case=cases())
def test_every_invariant_holds(case: Case) -> None:
    """Prices in [min, base], sums exact, reported = real, points bounded, deterministic."""
    program, order, member = case
    result = observe(program, order, member, now=NOW)
    label(program, member, result)
    check_invariants(program, order, member, result)


@given(case=cases(currency="JPY", max_lines=3))
def test_invariants_hold_in_a_zero_exponent_currency(case: Case) -> None:
    """JPY has no minor unit: everything still adds up to the yen."""
    program, order, member = case
    check_invariants(program, order, member, le.calculate(program, order, member, now=NOW))


@given(case=cases(currency="KWD", max_lines=3))
def test_invariants_hold_in_a_three_decimal_currency(case: Case) -> None:
    """KWD has three decimals: everything adds up to the fils."""
    program, order, member = case
    check_invariants(program, order, member, le.calculate(program, order, member, now=NOW))


SIMPLE = st.lists(
    st.sampled_from(
        [le.PercentOff(Decimal(10)), le.AmountOffItem(Decimal(1)), le.FixedPrice(Decimal(50))]
    ),
    min_size=1,
    max_size=3,
)


@given(benefits=SIMPLE, order=orders("RUB", min_lines=2, max_lines=5))
def test_line_order_does_not_change_line_results(
    benefits: list[le.PercentOff], order: le.Order
) -> None:
    """Without order-level allocation, reversing the lines changes no line's result."""
    program = le.Program(
        promotions=[le.Promotion(external_id=f"p{i}", benefit=b) for i, b in enumerate(benefits)]
    )
    forward = le.calculate(program, order, now=NOW)
    backward = le.calculate(program, attrs.evolve(order, lines=order.lines[::-1]), now=NOW)
    assert {o.line.external_id: o.final_total for o in forward.lines} == {
        o.line.external_id: o.final_total for o in backward.lines
    }


@given(case=cases(currency="RUB"))
def test_line_order_keeps_order_totals(case: Case) -> None:
    """Reversing the lines changes no figure: ties go by line id, not by position.

    (Unless the program puts remainders on the first or the last line: then position is the rule.)
    """
    program, order, member = case
    forward = le.calculate(program, order, member, now=NOW)
    backward = le.calculate(program, attrs.evolve(order, lines=order.lines[::-1]), member, now=NOW)
    check_invariants(program, attrs.evolve(order, lines=order.lines[::-1]), member, backward)
    if program.settings.remainder != "largest":
        return
    assert {line.line.external_id: line for line in forward.lines} == {
        line.line.external_id: line for line in backward.lines
    }
    assert forward.final_total_price == backward.final_total_price
    assert forward.delivery_cost == backward.delivery_cost
    assert [(p.accrued, p.redeemed, p.status) for p in forward.points] == [
        (p.accrued, p.redeemed, p.status) for p in backward.points
    ]


def test_checker_catches_a_broken_result() -> None:
    """check_invariants is not a rubber stamp: a tampered result is a violation."""
    program = le.Program(
        promotions=[le.Promotion(external_id="p", benefit=le.PercentOff(Decimal(10)))]
    )
    order = le.Order(
        external_id="o",
        currency="RUB",
        lines=[
            le.Line(
                external_id="a",
                product="p",
                count=1,
                base_price_per_item=le.Money.parse("10.00", "RUB"),
            )
        ],
    )
    result = le.calculate(program, order, now=NOW)
    (line,) = result.lines
    tampered = (attrs.evolve(line, final_total=le.Money.parse("8.00", "RUB")),)
    broken = attrs.evolve(result, outcome=attrs.evolve(Fixed.of(result), lines=tampered))
    with pytest.raises(InvariantViolation, match="reported = real difference broken at line 'a'"):
        check_invariants(program, order, None, broken)


def test_ten_thousand_lines_run_and_one_more_is_refused() -> None:
    """The largest allowed order calculates; one line more fails fast."""
    item = le.Line(
        external_id="x", product="p0", count=1, base_price_per_item=le.Money.parse("10.00", "RUB")
    )
    many = [attrs.evolve(item, external_id=f"l{i}") for i in range(10_000)]
    program = le.Program(
        promotions=[
            le.Promotion(external_id=f"p{i}", benefit=le.PercentOff(Decimal(1))) for i in range(20)
        ]
    )
    result = le.calculate(program, le.Order(external_id="o", currency="RUB", lines=many), now=NOW)
    assert str(result.final_total_price) == "81700.00"  # 20 × 1% per item: 10.00 → 8.17
    with pytest.raises(le.ValidationError, match="more than 10000 lines"):
        le.Order(
            external_id="o", currency="RUB", lines=[*many, attrs.evolve(item, external_id="z")]
        )


@given(
    now=st.datetimes(
        min_value=dt.datetime(MIN_YEAR, 1, 1),
        max_value=dt.datetime(MAX_YEAR, 12, 31),
        timezones=st.just(dt.UTC),
    )
)
def test_results_do_not_depend_on_now_when_the_order_has_a_time(now: dt.datetime) -> None:
    """An order with create_time is judged at that time, whatever ``now`` is."""
    program = le.Program(
        promotions=[
            le.Promotion(
                external_id="p",
                benefit=le.PercentOff(Decimal(10)),
                start=NOW - dt.timedelta(hours=1),
                end=NOW + dt.timedelta(hours=1),
            )
        ]
    )
    order = le.Order(
        external_id="o",
        currency="RUB",
        create_time=NOW,
        lines=[
            le.Line(
                external_id="a",
                product="p",
                count=1,
                base_price_per_item=le.Money.parse("10.00", "RUB"),
            )
        ],
    )
    assert str(le.calculate(program, order, now=now).final_total_price) == "9.00"
