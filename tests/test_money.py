"""Money is exact: ISO 4217 exponents, strict parsing, named rounding, allocation to the kopek."""

from __future__ import annotations

import decimal
from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty_engine.errors import ValidationError
from loyalty_engine.money import (
    CURRENCY_EXPONENTS,
    Money,
    Remainder,
    Rounding,
    allocate,
    div_round,
    exponent,
    money_text,
    of_units,
    parse_decimal,
    place,
)

# --- currencies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "exp"), [("RUB", 2), ("USD", 2), ("EUR", 2), ("JPY", 0), ("KWD", 3), ("CLF", 4)]
)
def test_iso_exponents(code: str, exp: int) -> None:
    """Minor-unit exponents come from ISO 4217."""
    assert exponent(code) == exp
    assert CURRENCY_EXPONENTS[code] == exp


@pytest.mark.parametrize("code", ["XXX", "rub", "", None])
def test_unknown_currency_is_a_validation_error(code: object) -> None:
    """An unknown or malformed code names the path and the value, never KeyError."""
    with pytest.raises(ValidationError) as caught:
        exponent(code, ("lines", 0, "currency"))  # type: ignore[arg-type]

    got = "missing" if code is None else f"got {code!r}"
    assert str(caught.value) == f"lines[0].currency: unknown ISO 4217 currency code ({got})"


@pytest.mark.parametrize(
    "build",
    [
        lambda: Money(Decimal(1), "XXX"),
        lambda: Money.parse("1", "XXX"),
        lambda: Money.of_minor(1, "XXX"),
    ],
)
def test_unknown_currency_in_money(build: Callable[[], Money]) -> None:
    """Money in 'XXX' cannot exist, whichever way it is built."""
    with pytest.raises(ValidationError, match=r"^currency: unknown ISO 4217 currency code"):
        build()


def test_parse_unknown_currency_names_the_sibling_path() -> None:
    """Money.parse blames the currency next to the amount's path."""
    with pytest.raises(ValidationError) as caught:
        Money.parse("1", "XXX", ("lines", 2, "base_price_per_item"))

    assert str(caught.value) == "lines[2].currency: unknown ISO 4217 currency code (got 'XXX')"


# --- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "currency", "wire", "minor"),
    [
        ("139999.00", "RUB", "139999.00", 13_999_900),
        ("10", "RUB", "10.00", 1000),
        ("10.5", "RUB", "10.50", 1050),
        ("10.000", "RUB", "10.00", 1000),
        (10, "RUB", "10.00", 1000),
        (-3, "RUB", "-3.00", -300),
        ("-10.50", "RUB", "-10.50", -1050),
        (Decimal("0.01"), "USD", "0.01", 1),
        ("1500", "JPY", "1500", 1500),
        (7, "JPY", "7", 7),
        ("1.234", "KWD", "1.234", 1234),
        ("0.0001", "CLF", "0.0001", 1),
        ("999999999999999.99", "RUB", "999999999999999.99", 99_999_999_999_999_999),
    ],
)
def test_parse_normalises_and_counts_minor_units(
    value: object, currency: str, wire: str, minor: int
) -> None:
    """Parsed money is quantized to the currency's exponent; minor units are an exact int."""
    money = Money.parse(value, currency)

    assert str(money) == wire
    assert money.minor == minor
    assert type(money.minor) is int
    assert money.currency == currency


@pytest.mark.parametrize(
    ("value", "currency", "reason"),
    [
        (1.5, "RUB", "must be a decimal string or an integer (got 1.5)"),
        (10.0, "RUB", "must be a decimal string or an integer (got 10.0)"),
        (True, "RUB", "must be a decimal string or an integer (got True)"),
        (None, "RUB", "must be a decimal string or an integer (missing)"),
        ("1e5", "RUB", "must be a plain decimal number like '139999.00' (got '1e5')"),
        ("NaN", "RUB", "must be a plain decimal number like '139999.00' (got 'NaN')"),
        ("Infinity", "RUB", "must be a plain decimal number like '139999.00' (got 'Infinity')"),
        ("-Infinity", "RUB", "must be a plain decimal number like '139999.00'"),
        (" 1", "RUB", "must be a plain decimal number like '139999.00' (got ' 1')"),
        ("1 ", "RUB", "must be a plain decimal number like '139999.00'"),
        ("+1", "RUB", "must be a plain decimal number like '139999.00'"),
        ("1.", "RUB", "must be a plain decimal number like '139999.00'"),
        (".5", "RUB", "must be a plain decimal number like '139999.00'"),
        ("1,5", "RUB", "must be a plain decimal number like '139999.00'"),
        ("1_000", "RUB", "must be a plain decimal number like '139999.00'"),
        ("", "RUB", "must be a plain decimal number like '139999.00'"),
        (Decimal("NaN"), "RUB", "must be finite (got NaN)"),
        (Decimal("Infinity"), "RUB", "must be finite (got Infinity)"),
        ("10.005", "RUB", "more decimals than RUB allows (got '10.005')"),
        ("0.001", "USD", "more decimals than USD allows (got '0.001')"),
        ("1.5", "JPY", "more decimals than JPY allows (got '1.5')"),
        ("1.0001", "KWD", "more decimals than KWD allows (got '1.0001')"),
        ("1" * 16, "RUB", "must be below 10^15 (got '1111111111111111')"),
        (10**15, "RUB", "must be below 10^15 (got 1000000000000000)"),
        (-(10**15), "RUB", "must be below 10^15"),
        ("1" * 41, "RUB", "must be a plain decimal number like '139999.00'"),
    ],
)
def test_parse_rejects(value: object, currency: str, reason: str) -> None:
    """Floats, bools, exotic spellings, over-precise and absurd amounts are errors at the path."""
    with pytest.raises(ValidationError) as caught:
        Money.parse(value, currency, ("lines", 0, "base_price_per_item"))

    assert str(caught.value).startswith(f"lines[0].base_price_per_item: {reason}")


@pytest.mark.parametrize("value", ["١٠", "１０", "10.٥٠"])
def test_parse_rejects_non_ascii_digits(value: str) -> None:
    """Only ASCII digits are a plain decimal number; Arabic-Indic or fullwidth ones are exotic."""
    with pytest.raises(ValidationError, match="must be a plain decimal number"):
        Money.parse(value, "RUB")


def test_parse_without_path_names_the_root() -> None:
    """With no path given, the message starts at <root>."""
    with pytest.raises(ValidationError) as caught:
        Money.parse("10.005", "RUB")

    assert str(caught.value) == "<root>: more decimals than RUB allows (got '10.005')"


@pytest.mark.parametrize("value", ["-0", "-0.00", Decimal("-0.000")])
def test_negative_zero_is_normalised(value: object) -> None:
    """-0 becomes plain 0: no '-0.00' on the wire."""
    money = Money.parse(value, "RUB")

    assert str(money) == "0.00"
    assert not money.amount.is_signed()
    assert money.minor == 0


def test_constructor_quantizes_and_rejects_bad_amounts() -> None:
    """Money(Decimal, code) quantizes; non-Decimal, infinite, over-precise amounts are refused."""
    assert str(Money(Decimal("1E+2"), "RUB")) == "100.00"
    assert str(Money(Decimal(5), "KWD")) == "5.000"
    assert str(Money(Decimal("-0"), "JPY")) == "0"
    with pytest.raises(ValidationError, match=r"^amount: must be a finite Decimal \(got '10'\)"):
        Money("10", "RUB")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"^amount: must be a finite Decimal"):
        Money(Decimal("Infinity"), "RUB")
    with pytest.raises(ValidationError, match=r"^amount: more decimals than RUB allows"):
        Money(Decimal("0.001"), "RUB")
    with pytest.raises(ValidationError, match=r"^amount: must be below 10\^15"):
        Money(Decimal(10**15), "RUB")


# --- minor units and the wire form ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("minor", "currency", "wire"),
    [
        (13_999_900, "RUB", "139999.00"),
        (0, "RUB", "0.00"),
        (-1, "RUB", "-0.01"),
        (1500, "JPY", "1500"),
        (5, "KWD", "0.005"),
        (-5, "KWD", "-0.005"),
        (1, "CLF", "0.0001"),
        (10**17 - 1, "RUB", "999999999999999.99"),
    ],
)
def test_of_minor_wire_form(minor: int, currency: str, wire: str) -> None:
    """of_minor places the decimal point by the exponent; str() never uses exponent notation."""
    money = Money.of_minor(minor, currency)

    assert str(money) == wire
    assert money.minor == minor
    assert money == Money.parse(wire, currency)


def test_of_minor_refuses_absurd_magnitudes() -> None:
    """10^15 major units is past the bound, built from minor units or not."""
    with pytest.raises(ValidationError, match=r"^amount: must be below 10\^15"):
        Money.of_minor(10**17, "RUB")
    with pytest.raises(ValidationError, match=r"^amount: must be below 10\^15"):
        Money.of_minor(-(10**15), "JPY")


def test_zero_in_each_exponent() -> None:
    """zero() is the currency's zero with its own number of decimals."""
    assert [str(Money.zero(code)) for code in ("JPY", "RUB", "KWD", "CLF")] == [
        "0",
        "0.00",
        "0.000",
        "0.0000",
    ]


def test_equal_amounts_are_equal_and_hash_alike() -> None:
    """'10', 10 and 1000 kopeks are the same money; the same number in USD is not."""
    a, b, c = Money.parse("10", "RUB"), Money.parse(10, "RUB"), Money.of_minor(1000, "RUB")

    assert a == b == c
    assert len({a, b, c}) == 1
    assert Money.parse("10", "USD") != a


@given(
    minor=st.integers(-(10**15) + 1, 10**15 - 1),
    currency=st.sampled_from(["RUB", "JPY", "KWD", "CLF"]),
)
def test_wire_form_round_trips(minor: int, currency: str) -> None:
    """Parsing the wire form of any money gives back the same money and the same minor units."""
    money = Money.of_minor(minor, currency)

    again = Money.parse(str(money), currency)

    assert again == money
    assert again.minor == minor


@given(
    minor=st.integers(-(10**40), 10**40),
    currency=st.sampled_from(["RUB", "JPY", "KWD", "CLF"]),
)
def test_money_text_is_the_wire_form_from_integers(minor: int, currency: str) -> None:
    """``money_text`` writes what ``str(Money)`` writes (and past Money's cap, a sum's form)."""
    assert money_text(minor, currency) == format(of_units(minor, exponent(currency)), "f")
    if abs(minor) < 10**15:
        assert money_text(minor, currency) == str(Money.of_minor(minor, currency))


@given(
    text=st.one_of(
        st.from_regex(r"-?[0-9]{1,20}(\.[0-9]{0,8})?", fullmatch=True),
        st.from_regex(r"-?0*[0-9]{14,17}(\.0*)?", fullmatch=True),  # around the 10^15 cap
        st.text(alphabet="-+.0123456789eE ٣", max_size=12),
    ),
    currency=st.sampled_from(["RUB", "JPY", "KWD", "CLF"]),
)
def test_parse_reads_plain_text_as_the_decimal_route_does(text: str, currency: str) -> None:
    """``Money.parse`` reads the wire's plain numbers straight to minor units; it must agree
    with reading the Decimal first — the same money, or the same error."""

    def slow() -> Money:
        places = exponent(currency)
        return Money(parse_decimal(text, ("x",), places=places, unit=currency), currency)

    try:
        expected: Money | str = slow()
    except ValidationError as error:
        expected = str(error)
    try:
        got: Money | str = Money.parse(text, currency, ("x",))
    except ValidationError as error:
        got = str(error)
    assert got == expected
    if isinstance(got, Money):
        assert isinstance(expected, Money)
        assert (got.minor, str(got), got.amount.as_tuple()) == (
            expected.minor,
            str(expected),
            expected.amount.as_tuple(),
        )


# --- comparisons ---------------------------------------------------------------------------------


def test_comparisons_within_a_currency() -> None:
    """Ordering compares amounts exactly, whatever spelling they came from."""
    small, big = Money.parse("9.99", "RUB"), Money.parse("10", "RUB")

    assert small < big and small <= big and big > small and big >= small
    assert big <= Money.of_minor(1000, "RUB") and big >= Money.of_minor(1000, "RUB")
    assert not big < Money.of_minor(1000, "RUB")


@pytest.mark.parametrize(
    "compare",
    [
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
)
def test_ordering_across_currencies_raises(compare: object) -> None:
    """Ordering RUB against USD is a ValidationError naming the expected currency."""
    with pytest.raises(ValidationError) as caught:
        compare(Money.parse("1", "RUB"), Money.parse("1", "USD"))  # type: ignore[operator]

    assert str(caught.value) == "currency: expected RUB (got 'USD')"


# --- div_round -----------------------------------------------------------------------------------

H_UP, H_EVEN, H_DOWN, DOWN, UP = (
    Rounding.HALF_UP,
    Rounding.HALF_EVEN,
    Rounding.HALF_DOWN,
    Rounding.DOWN,
    Rounding.UP,
)

# numerator / 10 → expected result per mode: HALF_UP, HALF_EVEN, HALF_DOWN, DOWN, UP
_DIV_TABLE = {
    25: (3, 2, 2, 2, 3),  # 2.5, an exact half below an even number
    35: (4, 4, 3, 3, 4),  # 3.5, an exact half below an odd number
    5: (1, 0, 0, 0, 1),  # 0.5
    21: (2, 2, 2, 2, 3),
    29: (3, 3, 3, 2, 3),
    20: (2, 2, 2, 2, 2),  # exact: no mode moves it
    0: (0, 0, 0, 0, 0),
    -25: (-3, -2, -2, -2, -3),
    -35: (-4, -4, -3, -3, -4),
    -5: (-1, 0, 0, 0, -1),
    -21: (-2, -2, -2, -2, -3),
    -29: (-3, -3, -3, -2, -3),
    -20: (-2, -2, -2, -2, -2),
}


@pytest.mark.parametrize(
    ("numerator", "mode", "expected"),
    [
        (numerator, mode, expected)
        for numerator, row in _DIV_TABLE.items()
        for mode, expected in zip((H_UP, H_EVEN, H_DOWN, DOWN, UP), row, strict=True)
    ],
)
def test_div_round_modes(numerator: int, mode: Rounding, expected: int) -> None:
    """Each mode rounds the magnitude as named: DOWN toward zero, UP away, halves per HALF_*."""
    assert div_round(numerator, 10, mode) == expected


def test_div_round_is_exact_for_huge_numbers() -> None:
    """No float anywhere: 10^40 + 5 over 10 rounds like 0.5 would."""
    assert div_round(10**40 + 5, 10, H_UP) == 10**39 + 1
    assert div_round(10**40 + 5, 10, H_EVEN) == 10**39
    assert div_round(-(10**40) - 5, 10, H_DOWN) == -(10**39)


@pytest.mark.parametrize("denominator", [0, -1])
def test_div_round_needs_a_positive_denominator(denominator: int) -> None:
    """A zero or negative denominator is a programming error, refused outright."""
    with pytest.raises(ValueError, match="denominator must be positive"):
        div_round(1, denominator, H_UP)


_DECIMAL_MODE = {
    Rounding.HALF_UP: decimal.ROUND_HALF_UP,
    Rounding.HALF_EVEN: decimal.ROUND_HALF_EVEN,
    Rounding.HALF_DOWN: decimal.ROUND_HALF_DOWN,
    Rounding.DOWN: decimal.ROUND_DOWN,
    Rounding.UP: decimal.ROUND_UP,
}


@given(
    n=st.integers(-(10**12), 10**12),
    d=st.integers(1, 10**6),
    mode=st.sampled_from(Rounding),
)
def test_div_round_agrees_with_decimal(n: int, d: int, mode: Rounding) -> None:
    """div_round matches Decimal's rounding of the same name (a reference computed apart)."""
    ctx = decimal.Context(prec=60)
    expected = ctx.divide(Decimal(n), Decimal(d)).quantize(
        Decimal(1), rounding=_DECIMAL_MODE[mode], context=ctx
    )

    assert div_round(n, d, mode) == int(expected)


@given(n=st.integers(0, 10**30), d=st.integers(1, 10**12))
def test_div_round_down_is_floor_division_for_non_negative(n: int, d: int) -> None:
    """DOWN on a non-negative numerator is Python's floor division."""
    assert div_round(n, d, Rounding.DOWN) == n // d


@given(n=st.integers(-(10**30), 10**30), d=st.integers(1, 10**12))
def test_half_up_is_within_half_a_unit(n: int, d: int) -> None:
    """HALF_UP differs from the exact quotient n/d by at most one half."""
    assert abs(div_round(n, d, Rounding.HALF_UP) * 2 * d - 2 * n) <= d


# --- allocate ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "weights", "shares"),
    [
        (100, [1, 1, 1], (34, 33, 33)),  # ties go to the earlier index
        (2, [1, 1, 1], (1, 1, 0)),
        (1, [5, 5], (1, 0)),
        (100, [1, 2, 3], (17, 33, 50)),  # remainders 4, 2, 0 of 6: the first gets the kopek
        (100, [3, 2, 1], (50, 33, 17)),  # the largest remainder wins, not the earliest index
        (10_000, [10_000, 20_000], (3333, 6667)),
        (10, [1, 2, 7], (1, 2, 7)),  # exact: nothing to round
        (10, [0, 1], (0, 10)),  # a zero weight gets nothing
        (10, [0, 0], (5, 5)),  # all-zero weights split evenly
        (10, [0, 0, 0], (4, 3, 3)),
        (0, [1, 2], (0, 0)),
        (7, [4], (7,)),
        (5, [], ()),
    ],
)
def test_allocate(total: int, weights: list[int], shares: tuple[int, ...]) -> None:
    """Largest remainder: parts sum to the whole, ties go to the earlier index."""
    assert allocate(total, weights) == shares


def test_allocate_refuses_negative_weights() -> None:
    """A negative weight has no proportional meaning."""
    with pytest.raises(ValueError, match="weights: must be a list of non-negative integers"):
        allocate(10, [1, -1])


@given(
    total=st.integers(0, 10**12),
    weights=st.lists(st.integers(0, 10**6), min_size=1, max_size=30),
)
def test_allocate_sums_exactly_and_stays_proportional(total: int, weights: list[int]) -> None:
    """Parts sum to the whole, each strictly within one unit of its exact proportional share."""
    parts = allocate(total, weights)

    assert len(parts) == len(weights)
    assert sum(parts) == total
    effective = weights if any(weights) else [1] * len(weights)
    whole = sum(effective)
    for part, weight in zip(parts, effective, strict=True):
        # |part - total × weight / whole| < 1, kept in integers
        assert abs(part * whole - total * weight) < whole


# --- place ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "weights", "caps", "steps", "shares"),
    [
        (10, [1, 1], [10, 10], [3, 1], (3, 7)),  # 5 → 3 on step 3; the leftover 2 goes on
        (100, [1, 1], [10, 20], [1, 1], (10, 20)),  # caps bind: the sum falls short
        (10, [1, 1], [3, 3], [1, 1], (3, 3)),
        (100, [1], [10], [3], (9,)),  # a cap off the step rounds down to it
        (5, [1], [10], [2], (4,)),  # one unit cannot be placed on step 2
        (9, [1, 1, 1], [2, 10, 10], [1, 1, 1], (2, 4, 3)),  # a cap's excess to the earlier line
        (10, [1, 0], [4, 10], [1, 1], (4, 6)),  # room elsewhere takes what a cap refused
        (6, [0, 0], [10, 10], [1, 1], (3, 3)),  # zero weights split evenly first
        (0, [1, 1], [5, 5], [1, 1], (0, 0)),
    ],
)
def test_place(
    total: int, weights: list[int], caps: list[int], steps: list[int], shares: tuple[int, ...]
) -> None:
    """Shares are multiples of their step within caps, as near the proportional split as fits."""
    assert place(total, weights, caps, steps) == shares


@given(
    total=st.integers(0, 10**6),
    rows=st.lists(
        st.tuples(st.integers(0, 10**4), st.integers(0, 10**5), st.integers(1, 7)),
        min_size=1,
        max_size=12,
    ),
)
def test_place_never_exceeds_total_caps_or_steps(
    total: int, rows: list[tuple[int, int, int]]
) -> None:
    """place() never places more than asked, nor past a cap, nor off a step."""
    weights, caps, steps = (list(column) for column in zip(*rows, strict=True))

    parts = place(total, weights, caps, steps)

    assert len(parts) == len(rows)
    assert sum(parts) <= total
    for part, cap, step in zip(parts, caps, steps, strict=True):
        assert 0 <= part <= cap
        assert part % step == 0


@given(
    total=st.integers(0, 10**6),
    rows=st.lists(
        st.tuples(st.integers(0, 10**4), st.integers(0, 10**5), st.integers(1, 7)),
        min_size=1,
        max_size=12,
    ),
)
def test_place_leaves_nothing_that_would_fit(total: int, rows: list[tuple[int, int, int]]) -> None:
    """What stays unplaced is less than a step on every line that still has a step of room."""
    weights, caps, steps = (list(column) for column in zip(*rows, strict=True))

    parts = place(total, weights, caps, steps)

    left = total - sum(parts)
    for part, cap, step in zip(parts, caps, steps, strict=True):
        assert cap - cap % step - part < step or left < step


def _best_sum(total: int, caps: list[int], steps: list[int]) -> int:
    """The largest sum ≤ total of multiples of steps within caps, by brute force."""
    reachable = {0}
    for cap, step in zip(caps, steps, strict=True):
        reachable = {r + k * step for r in reachable for k in range(cap // step + 1)}
    return max(r for r in reachable if r <= total)


SMALL_ROWS = st.lists(
    st.tuples(st.integers(0, 50), st.integers(0, 40), st.integers(1, 9)), min_size=1, max_size=5
)


@given(total=st.integers(0, 120), rows=SMALL_ROWS)
def test_place_places_the_largest_placeable_sum(
    total: int, rows: list[tuple[int, int, int]]
) -> None:
    """No split within steps and caps places more than place() does (brute-force reference)."""
    weights, caps, steps = (list(column) for column in zip(*rows, strict=True))

    parts = place(total, weights, caps, steps)

    assert sum(parts) == _best_sum(total, caps, steps)


@given(total=st.integers(0, 10**5), rows=SMALL_ROWS, data=st.data())
def test_place_sum_does_not_depend_on_line_order(
    total: int, rows: list[tuple[int, int, int]], data: st.DataObject
) -> None:
    """Reordering the lines reorders the shares' owners, never what is placed in all."""
    shuffled = data.draw(st.permutations(rows))
    columns = [list(c) for c in zip(*rows, strict=True)]
    moved = [list(c) for c in zip(*shuffled, strict=True)]

    assert sum(place(total, *columns)) == sum(place(total, *moved))


@pytest.mark.parametrize(
    ("total", "weights", "caps", "steps", "shares"),
    [
        (1000, [1500, 7000], [1500, 7000], [3, 7], (174, 826)),  # 3 × 0.58 + 7 × 1.18 = 10.00
        (1000, [7000, 1500], [7000, 1500], [7, 3], (826, 174)),  # the same, lines reversed
        (10, [6000, 7000], [60, 70], [3, 7], (3, 7)),  # 10 groups exist as 3 + 7
        (16, [1, 1], [100, 100], [3, 7], (9, 7)),  # 8 + 8 will not do; 9 + 7 does
        (8, [1, 1], [100, 100], [3, 7], (0, 7)),  # 8 is no sum of threes and sevens: 7 is best
    ],
)
def test_place_finds_an_exact_split_when_one_exists(
    total: int, weights: list[int], caps: list[int], steps: list[int], shares: tuple[int, ...]
) -> None:
    """The greedy pass used to leave units unplaced where an exact uniform split exists."""
    assert place(total, weights, caps, steps) == shares


@pytest.mark.parametrize(
    ("remainder", "shares"),
    [("largest", (34, 33, 33)), ("first", (34, 33, 33)), ("last", (33, 33, 34))],
)
def test_allocate_remainder_policies(remainder: Remainder, shares: tuple[int, ...]) -> None:
    """The units a proportional split leaves go to the largest remainders, or to one line."""
    assert allocate(100, [1, 1, 1], remainder) == shares


def test_allocate_remainder_to_one_line_skips_zero_weights() -> None:
    """ "The first / last line" means the first / last that takes part at all."""
    assert allocate(101, [0, 50, 50, 0], "first") == (0, 51, 50, 0)
    assert allocate(101, [0, 50, 50, 0], "last") == (0, 50, 51, 0)
    assert allocate(10, [3, 3, 3], "first") == (4, 3, 3)
    assert allocate(11, [3, 3, 3], "largest") == (4, 4, 3)
    assert allocate(11, [3, 3, 3], "last") == (3, 3, 5)


HOSTILE = decimal.Context(
    prec=3, rounding=decimal.ROUND_DOWN, traps=[decimal.Inexact, decimal.Rounded, decimal.Overflow]
)


@given(
    currency=st.sampled_from(["RUB", "JPY", "KWD", "CLF"]),
    minor=st.integers(-(10**15) + 1, 10**15 - 1),
)
def test_money_never_reads_the_callers_decimal_context(currency: str, minor: int) -> None:
    """Under prec=3, ROUND_DOWN and trapping Inexact, every Money path gives the exact answer."""
    expected = Money.of_minor(minor, currency)
    with decimal.localcontext(HOSTILE):
        made = Money.of_minor(minor, currency)
        parsed = Money.parse(str(expected), currency)
        built = Money(expected.amount, currency)
        assert made.minor == parsed.minor == built.minor == minor
        assert str(made) == str(parsed) == str(expected)
        assert made == parsed and not made < parsed and made >= parsed
    assert made.amount.scaleb(exponent(currency), context=decimal.Context()) == minor


@pytest.mark.parametrize(
    ("steps", "parts"),
    [
        ((3, 70), (16_777_251, 16_777_180)),  # floors leave 37: none fits 70, 36 go on threes
        ((50, 49, 48), (11_184_850, 11_184_789, 11_184_768)),  # 75 left: 50 first, then none
    ],
)
def test_place_past_the_search_budget_fills_greedily_largest_step_first(
    steps: tuple[int, ...], parts: tuple[int, ...]
) -> None:
    """Too large to search exactly: proportional floors, then lines by step, largest first."""
    import loyalty_engine.money as money

    total = money.EXACT_PLACE_BITS  # two or more step classes × (total + 1) bits: over budget
    assert place(total, [1] * len(steps), [total] * len(steps), list(steps)) == parts


def test_money_matches_as_it_is_built() -> None:
    """``case Money(amount, currency)`` binds the Decimal amount, as ``Money(amount, currency)``
    takes it, whatever Money keeps inside."""
    match Money.parse("1.50", "RUB"):
        case Money(amount, currency):
            assert (amount, currency) == (Decimal("1.50"), "RUB")
