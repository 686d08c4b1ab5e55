"""Money is exact: ISO 4217 exponents, strict parsing, named rounding, allocation to the kopek."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty_engine.errors import ValidationError
from loyalty_engine.money import Money, Rounding, allocate, div_round, exponent, place


@pytest.mark.parametrize(
    ("code", "exp"), [("RUB", 2), ("USD", 2), ("JPY", 0), ("KWD", 3), ("CLF", 4)]
)
def test_iso_exponents(code: str, exp: int) -> None:
    """Minor-unit exponents come from ISO 4217."""
    assert exponent(code) == exp


def test_parse_normalises_and_counts_minor_units() -> None:
    """'10' is 10.00 RUB; 139999.00 RUB is 13999900 kopeks; JPY and KWD keep their exponents."""
    assert str(Money.parse("10", "RUB")) == "10.00"
    assert Money.parse("139999.00", "RUB").minor == 13_999_900
    assert str(Money.parse(7, "JPY")) == "7"
    assert str(Money.of_minor(5, "KWD")) == "0.005"
    assert str(Money.parse("-0.00", "RUB")) == "0.00"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (1.5, "must be a decimal string or an integer"),
        (True, "must be a decimal string or an integer"),
        ("1e5", "must be a plain decimal number"),
        ("NaN", "must be a plain decimal number"),
        (" 1", "must be a plain decimal number"),
        ("10.005", "more decimals than RUB allows"),
        ("1" * 16, "must be below 10^15"),
    ],
)
def test_parse_rejects(value: object, reason: str) -> None:
    """Floats, exotic spellings, over-precise and absurd amounts are errors naming the path."""
    with pytest.raises(ValidationError) as caught:
        Money.parse(value, "RUB", ("lines", 0, "base_price_per_item"))
    assert str(caught.value).startswith(f"lines[0].base_price_per_item: {reason}")


def test_unknown_currency_and_cross_currency_comparison() -> None:
    """An unknown code is a ValidationError; comparing RUB with USD is one too."""
    with pytest.raises(ValidationError, match="unknown ISO 4217"):
        Money(Decimal(1), "XXX")
    with pytest.raises(ValidationError, match="expected RUB"):
        assert Money.parse("1", "RUB") < Money.parse("1", "USD")


@pytest.mark.parametrize(
    ("n", "d", "mode", "expected"),
    [
        (25, 10, Rounding.HALF_UP, 3),
        (25, 10, Rounding.HALF_EVEN, 2),
        (35, 10, Rounding.HALF_EVEN, 4),
        (25, 10, Rounding.HALF_DOWN, 2),
        (21, 10, Rounding.UP, 3),
        (29, 10, Rounding.DOWN, 2),
        (-25, 10, Rounding.HALF_UP, -3),
        (-21, 10, Rounding.DOWN, -2),
        (30, 10, Rounding.UP, 3),
    ],
)
def test_div_round_modes(n: int, d: int, mode: Rounding, expected: int) -> None:
    """Each rounding mode rounds exact halves and remainders as named (sign-symmetric)."""
    assert div_round(n, d, mode) == expected


def test_allocate_largest_remainder_ties_to_earlier() -> None:
    """100 over 1:1:1 is 34, 33, 33; zero weights split evenly; nothing from nothing."""
    assert allocate(100, [1, 1, 1]) == (34, 33, 33)
    assert allocate(10, [0, 0]) == (5, 5)
    assert allocate(10_000, [10_000, 20_000]) == (3333, 6667)
    assert allocate(5, []) == ()


def test_place_respects_steps_and_caps() -> None:
    """Shares are multiples of their step, within caps; the rest is placed in line order."""
    assert place(10, [1, 1], [10, 10], [3, 1]) == (3, 7)
    assert place(100, [1, 1], [10, 20], [1, 1]) == (10, 20)


@given(
    total=st.integers(0, 10**9), weights=st.lists(st.integers(0, 10**6), min_size=1, max_size=20)
)
def test_allocate_sums_exactly_and_stays_proportional(total: int, weights: list[int]) -> None:
    """Parts sum to the whole, each within one unit of its exact proportional share."""
    parts = allocate(total, weights)
    assert sum(parts) == total
    whole = sum(weights) or len(weights)
    for part, weight in zip(parts, weights if sum(weights) else [1] * len(weights), strict=True):
        assert abs(part * whole - total * weight) < whole


@given(
    total=st.integers(0, 10**6),
    rows=st.lists(
        st.tuples(st.integers(0, 10**4), st.integers(0, 10**5), st.integers(1, 7)),
        min_size=1,
        max_size=10,
    ),
)
def test_place_never_exceeds_total_or_caps(total: int, rows: list[tuple[int, int, int]]) -> None:
    """place() never places more than asked, nor past a cap, nor off a step."""
    weights, caps, steps = zip(*rows, strict=True)
    parts = place(total, weights, caps, steps)
    assert sum(parts) <= total
    for part, cap, step in zip(parts, caps, steps, strict=True):
        assert 0 <= part <= cap and part % step == 0


@given(n=st.integers(-(10**12), 10**12), d=st.integers(1, 10**6))
def test_half_up_is_within_half_a_unit(n: int, d: int) -> None:
    """HALF_UP differs from the exact quotient by at most one half."""
    assert abs(div_round(n, d, Rounding.HALF_UP) * 2 * d - 2 * n) <= d
