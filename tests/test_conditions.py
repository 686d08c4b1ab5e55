"""Each condition kind holds exactly when its documented rule says."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from loyalty_engine import conditions as c
from loyalty_engine.errors import ValidationError
from loyalty_engine.model import Line, Member, Order, PromoCode
from loyalty_engine.money import Money

SATURDAY_10 = datetime(2026, 3, 14, 10, tzinfo=UTC)  # ISO weekday 6

GOLD = Member(profile_id="m", tier="gold", segments=["b2c"], tags=["new"])


def rub(text: str) -> Money:
    return Money.parse(text, "RUB")


# Two lines: 2 × shoe at 100.00 (sku S-1, size 42, category shoes), 1 × hat at 50.00 (hats).
ORDER = Order(
    external_id="o",
    currency="RUB",
    endpoint="site",
    region="msk",
    tags=["vip"],
    custom_fields={"channel": "b2b", "n": 3, "flag": True, "rate": Decimal("1.50"), "gone": None},
    promo_codes=[PromoCode("SPRING", 7)],
    lines=[
        Line(
            external_id="a",
            product="shoe",
            sku="S-1",
            count=2,
            base_price_per_item=rub("100.00"),
            custom_fields={"size": 42},
        ),
        Line(external_id="b", product="hat", count=1, base_price_per_item=rub("50.00")),
    ],
)

BARE = Order(
    external_id="o",
    currency="RUB",
    lines=[Line(external_id="a", product="x", count=1, base_price_per_item=rub("1"))],
)


def facts(
    member: Member | None = None,
    at: datetime = SATURDAY_10,
    current: int = 20_000,
    order: Order = ORDER,
) -> c.Facts:
    """Facts for ORDER: base total 250.00 RUB, current total 200.00 RUB unless told."""
    return c.Facts(
        order=order,
        member=member,
        at=at,
        line_categories=(frozenset({"shoes"}), frozenset({"hats"}))[: len(order.lines)],
        base_total=25_000,
        current_total=current,
    )


# --- order-level kinds ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        (c.Endpoint(["site"]), True),
        (c.Endpoint(["bot", "site"]), True),
        (c.Endpoint(["bot"]), False),
        (c.Region(["msk"]), True),
        (c.Region(["spb"]), False),
        (c.OrderTag(["x", "vip"]), True),
        (c.OrderTag(["x"]), False),
        (c.LineCount(min=2, max=2), True),
        (c.LineCount(min=2), True),
        (c.LineCount(max=2), True),
        (c.LineCount(min=3), False),
        (c.LineCount(max=1), False),
        (c.LineCount(), True),
        (c.ItemCount(min=3), True),  # Σ count = 2 + 1
        (c.ItemCount(max=3), True),
        (c.ItemCount(min=4), False),
        (c.ItemCount(max=2), False),
    ],
)
def test_order_level_kinds(condition: c.Condition, holds: bool) -> None:
    """Endpoint, region, order tag, line and item counts read the order; bounds are inclusive."""
    assert condition.holds(facts()) is holds


@pytest.mark.parametrize(
    "condition",
    [c.Endpoint(["site"]), c.Region(["msk"]), c.OrderTag(["vip"])],
)
def test_absent_order_attributes_match_nothing(condition: c.Condition) -> None:
    """An order without endpoint, region or tags matches no list of them."""
    assert condition.holds(facts(order=BARE)) is False


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        (c.MemberTier(["gold"]), True),
        (c.MemberTier(["silver", "gold"]), True),
        (c.MemberTier(["silver"]), False),
        (c.MemberSegment(["b2c"]), True),
        (c.MemberSegment(["b2b"]), False),
        (c.MemberTag(["new", "old"]), True),
        (c.MemberTag(["old"]), False),
    ],
)
def test_member_kinds(condition: c.Condition, holds: bool) -> None:
    """Tier, segment and member tag read the member."""
    assert condition.holds(facts(GOLD)) is holds


@pytest.mark.parametrize(
    "condition", [c.MemberTier(["gold"]), c.MemberSegment(["b2c"]), c.MemberTag(["new"])]
)
def test_member_kinds_never_hold_for_a_guest(condition: c.Condition) -> None:
    """A guest (member None) is in no tier, segment or tag; a member without a tier neither."""
    assert condition.holds(facts(None)) is False
    assert condition.holds(facts(Member(profile_id="plain"))) is False


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        (c.PromoCodeEntered(["SPRING"]), True),
        (c.PromoCodeEntered(["AUTUMN", "SPRING"]), True),
        (c.PromoCodeEntered(["AUTUMN"]), False),
        (c.PromoCodeEntered(["spring"]), False),  # codes compare exactly
        (c.PromoCodeEntered(pool_id=7), True),
        (c.PromoCodeEntered(pool_id=8), False),
        (c.PromoCodeEntered(["SPRING"], pool_id=7), True),
        (c.PromoCodeEntered(["SPRING"], pool_id=8), False),
        (c.PromoCodeEntered(), True),  # any code at all
    ],
)
def test_promo_code(condition: c.PromoCodeEntered, holds: bool) -> None:
    """A code from the list (any when empty), from pool_id when one is named."""
    assert condition.holds(facts()) is holds


def test_promo_code_needs_an_entered_code() -> None:
    """With no code entered, even 'any code' does not hold."""
    assert c.PromoCodeEntered().holds(facts(order=BARE)) is False
    assert facts().codes == frozenset({"SPRING"})


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        (c.OrderTotal(min=Decimal(250)), True),  # base total 250.00, min inclusive
        (c.OrderTotal(min=Decimal("250.01")), False),
        (c.OrderTotal(max=Decimal("250.00")), True),  # max inclusive
        (c.OrderTotal(max=Decimal("249.99")), False),
        (c.OrderTotal(min=Decimal(100), max=Decimal(300)), True),
        (c.OrderTotal(min=Decimal(250), basis="current"), False),  # current total 200.00
        (c.OrderTotal(min=Decimal(200), basis="current"), True),
        (c.OrderTotal(max=Decimal(200), basis="current"), True),
        (c.OrderTotal(max=Decimal("199.99"), basis="current"), False),
        (c.OrderTotal(), True),
    ],
)
def test_order_total_base_and_current(condition: c.OrderTotal, holds: bool) -> None:
    """basis=base reads the total before promotions, basis=current the running total."""
    assert condition.holds(facts(current=20_000)) is holds


def test_order_total_shortfall() -> None:
    """A near miss on min says how many minor units are missing; a hit or no min says nothing."""
    rule = c.OrderTotal(min=Decimal(250), basis="current")

    assert rule.shortfall(facts(current=15_000)) == Decimal(10_000)
    assert rule.shortfall(facts(current=24_999)) == Decimal(1)
    assert rule.shortfall(facts(current=25_000)) is None
    assert c.OrderTotal(max=Decimal(100)).shortfall(facts()) is None
    # failing on max is no near miss: adding more would not help
    assert c.OrderTotal(min=Decimal(100), max=Decimal(200)).shortfall(facts()) is None


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        (c.Dates(start=SATURDAY_10), True),  # start inclusive
        (c.Dates(start=SATURDAY_10 + timedelta(microseconds=1)), False),
        (c.Dates(end=SATURDAY_10), False),  # end exclusive
        (c.Dates(end=SATURDAY_10 + timedelta(microseconds=1)), True),
        (c.Dates(start=SATURDAY_10 - timedelta(days=1), end=SATURDAY_10 + timedelta(days=1)), True),
        (c.Dates(start=SATURDAY_10, end=SATURDAY_10), False),
        (c.Dates(), True),
        # the same instant written in another offset
        (c.Dates(start=datetime(2026, 3, 14, 13, tzinfo=timezone(timedelta(hours=3)))), True),
    ],
)
def test_dates_start_inclusive_end_exclusive(condition: c.Dates, holds: bool) -> None:
    """start <= t < end, comparing instants."""
    assert condition.holds(facts()) is holds


@pytest.mark.parametrize(
    ("days", "holds"),
    [([6], True), ([6, 7], True), ([1, 2], False), ([7], False)],
)
def test_weekday(days: list[int], holds: bool) -> None:
    """ISO weekdays, 1 = Monday: 2026-03-14 is a Saturday (6)."""
    assert c.Weekday(days).holds(facts()) is holds


def test_weekday_reads_the_offset_of_the_time() -> None:
    """Saturday 10:00 UTC is still Friday 22:00 at UTC-12."""
    friday_evening = SATURDAY_10.astimezone(timezone(timedelta(hours=-12)))

    assert c.Weekday([5]).holds(facts(at=friday_evening)) is True
    assert c.Weekday([6]).holds(facts(at=friday_evening)) is False


@pytest.mark.parametrize(
    ("start", "end", "hour", "holds"),
    [
        (8, 11, 10, True),
        (10, 11, 10, True),  # start inclusive
        (8, 10, 10, False),  # end exclusive
        (0, 24, 23, True),  # the whole day
        (0, 24, 0, True),
        (22, 6, 22, True),  # wraps past midnight
        (22, 6, 23, True),
        (22, 6, 0, True),
        (22, 6, 5, True),
        (22, 6, 6, False),
        (22, 6, 10, False),
        (22, 6, 21, False),
        (23, 1, 0, True),
    ],
)
def test_hour(start: int, end: int, hour: int, holds: bool) -> None:
    """start <= hour < end; start > end wraps past midnight (22..6 is the night)."""
    assert c.Hour(start=start, end=end).holds(facts(at=SATURDAY_10.replace(hour=hour))) is holds


# --- line-level kinds ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "holds", "selected"),
    [
        (c.Product(["hat"]), True, [False, True]),
        (c.Product(["shoe", "hat"]), True, [True, True]),
        (c.Product(["toy"]), False, [False, False]),
        (c.Sku(["S-1"]), True, [True, False]),
        (c.Sku(["S-2"]), False, [False, False]),
        (c.Category(["shoes"]), True, [True, False]),
        (c.Category(["hats", "toys"]), True, [False, True]),
        (c.Category(["toys"]), False, [False, False]),
        (c.CustomField(field="size", values=["42"], scope="line"), True, [True, False]),
        (c.CustomField(field="size", values=["43"], scope="line"), False, [False, False]),
    ],
)
def test_line_kinds(condition: c.Condition, holds: bool, selected: list[bool]) -> None:
    """A line kind selects the lines it names; at order level it holds when some line is."""
    f = facts()

    assert condition.holds(f) is holds
    assert [c.selects(condition, f, i) for i in range(2)] == selected


@pytest.mark.parametrize(
    ("field", "values", "holds"),
    [
        ("channel", ["b2b"], True),
        ("channel", ["b2c"], False),
        ("n", ["3"], True),  # int compared as text
        ("n", ["3.0"], False),
        ("flag", ["true"], True),  # bool compared as lower-case text
        ("flag", ["True"], False),
        ("flag", ["1"], False),
        ("rate", ["1.50"], True),  # Decimal keeps its spelling
        ("rate", ["1.5"], False),
        ("gone", ["None"], False),  # a None value matches nothing
        ("missing", ["x"], False),
        ("size", ["42"], False),  # a line field, not an order one
    ],
)
def test_custom_field_order_scope(field: str, values: list[str], holds: bool) -> None:
    """An order-scope custom field compares the order's value as text."""
    condition = c.CustomField(field=field, values=values)

    assert condition.holds(facts()) is holds


def test_order_scope_custom_field_selects_every_line_alike() -> None:
    """An order-scope field reads the order whichever line is asked about."""
    f = facts()
    hit, miss = c.CustomField(field="n", values=["3"]), c.CustomField(field="n", values=["4"])

    assert [c.selects(hit, f, i) for i in range(2)] == [True, True]
    assert [c.selects(miss, f, i) for i in range(2)] == [False, False]


def test_order_kinds_inside_selects_read_the_whole_order() -> None:
    """selects() on an order-level kind is that kind's truth for the order, for every line."""
    f = facts()

    assert [c.selects(c.Endpoint(["site"]), f, i) for i in range(2)] == [True, True]
    assert [c.selects(c.Endpoint(["bot"]), f, i) for i in range(2)] == [False, False]


# --- combinators ---------------------------------------------------------------------------------

YES, NO = c.Endpoint(["site"]), c.Region(["spb"])


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        (c.All([YES]), True),
        (c.All([YES, YES]), True),
        (c.All([YES, NO]), False),
        (c.AnyOf([NO, YES]), True),
        (c.AnyOf([NO, NO]), False),
        (c.Not(YES), False),
        (c.Not(NO), True),
        (c.Not(c.All([YES, NO])), True),
        (c.All([YES, c.AnyOf([NO, c.Not(NO)])]), True),
    ],
)
def test_combinators_hold(condition: c.Condition, holds: bool) -> None:
    """all, any and not combine their parts' truth."""
    assert condition.holds(facts()) is holds


@pytest.mark.parametrize(
    ("condition", "selected"),
    [
        (c.All([YES, c.Product(["hat"])]), [False, True]),
        (c.All([c.Category(["shoes"]), c.Sku(["S-1"])]), [True, False]),
        (c.AnyOf([c.Sku(["S-1"]), c.Category(["hats"])]), [True, True]),
        (c.AnyOf([NO, c.Product(["hat"])]), [False, True]),
        (c.Not(c.Product(["hat"])), [True, False]),
        (c.Not(YES), [False, False]),
    ],
)
def test_combinators_select_per_line(condition: c.Condition, selected: list[bool]) -> None:
    """Combinators select line by line: line parts per line, order parts for the whole order."""
    f = facts()

    assert [c.selects(condition, f, i) for i in range(2)] == selected


def test_not_of_a_line_kind_holds_at_order_level_by_negating_some_line() -> None:
    """Not(Product) at order level is 'no line is that product', not 'some line is not'."""
    assert c.Not(c.Product(["hat"])).holds(facts()) is False


@pytest.mark.parametrize(
    ("condition", "is_filter"),
    [
        (c.Product(["a"]), True),
        (c.Sku(["a"]), True),
        (c.Category(["a"]), True),
        (c.CustomField(field="f", values=["v"], scope="line"), True),
        (c.CustomField(field="f", values=["v"]), False),
        (c.Endpoint(["site"]), False),
        (c.OrderTotal(min=Decimal(1)), False),
        (c.Not(c.Category(["x"])), True),
        (c.Not(c.Endpoint(["site"])), False),
        (c.AnyOf([c.Sku(["S-1"]), c.Not(c.Category(["x"]))]), True),
        (c.All([c.Product(["a"]), c.Endpoint(["site"])]), False),
        (c.All([c.Product(["a"]), c.AnyOf([c.Sku(["b"]), c.Hour(start=1, end=2)])]), False),
    ],
)
def test_is_line_filter(condition: c.Condition, is_filter: bool) -> None:
    """Only line kinds (custom fields in line scope) and combinators of them filter lines."""
    assert c.is_line_filter(condition) is is_filter


def test_first_failure() -> None:
    """The first condition that does not hold, in order; None when all hold or none are given."""
    f = facts()
    other_no = c.Endpoint(["bot"])

    assert c.first_failure([YES, NO, other_no], f) == NO
    assert c.first_failure([other_no, NO], f) == other_no
    assert c.first_failure([YES, c.Region(["msk"])], f) is None
    assert c.first_failure([], f) is None


def test_kinds_cover_all_twenty() -> None:
    """KINDS maps each of the 20 program-file words to the class that carries it."""
    assert sorted(c.KINDS) == sorted(
        [
            "endpoint", "region", "order_tag", "tier", "segment", "member_tag", "promo_code",
            "line_count", "item_count", "order_total", "dates", "weekday", "hour", "product",
            "sku", "category", "custom_field", "all", "any", "not",
        ]
    )  # fmt: skip
    assert len(c.KINDS) == 20
    assert all(cls.kind == word for word, cls in c.KINDS.items())


# --- construction --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: c.Endpoint([]), "values: must be a non-empty list (got frozenset())"),
        (lambda: c.Region("msk"), "values: must be a list of strings (got 'msk')"),
        (lambda: c.Endpoint("site"), "values: must be a list of strings (got 'site')"),
        (lambda: c.Product([""]), "values: must be a non-empty string (got '')"),
        (
            lambda: c.Sku([1]),  # type: ignore[list-item]
            "values: must be a non-empty string (got 1)",
        ),
        (lambda: c.LineCount(min=3, max=1), "max: is below min 3 (got 1)"),
        (lambda: c.ItemCount(min=5, max=4), "max: is below min 5 (got 4)"),
        (lambda: c.LineCount(min=-1), "min: must be a non-negative integer (got -1)"),
        (lambda: c.ItemCount(min=True), "min: must be a non-negative integer (got True)"),
        (
            lambda: c.OrderTotal(min=Decimal(2), max=Decimal(1)),
            "max: is below min 2 (got 1)",
        ),
        (
            lambda: c.OrderTotal(min=Decimal(-1)),
            "min: must be a non-negative decimal (got -1)",
        ),
        (
            lambda: c.OrderTotal(max=1.5),  # type: ignore[arg-type]
            "max: must be a non-negative decimal (got 1.5)",
        ),
        (
            lambda: c.OrderTotal(min=Decimal("NaN")),
            "min: must be a non-negative decimal (got NaN)",
        ),
        (
            lambda: c.OrderTotal(basis="now"),  # type: ignore[arg-type]
            "basis: must be one of ('base', 'current') (got 'now')",
        ),
        (
            lambda: c.Dates(start=datetime(2026, 1, 1)),
            "start: must be a timezone-aware datetime",
        ),
        (lambda: c.Weekday([8]), "days: must be ISO weekdays 1..7 (got [8])"),
        (lambda: c.Weekday([0, 1]), "days: must be ISO weekdays 1..7 (got [0, 1])"),
        (lambda: c.Weekday([]), "days: must be ISO weekdays 1..7 (got [])"),
        (lambda: c.Weekday([True]), "days: must be ISO weekdays 1..7 (got [True])"),
        (lambda: c.Hour(start=24, end=3), "start: must be one of 0..23 (got 24)"),
        (lambda: c.Hour(start=-1, end=3), "start: must be one of 0..23 (got -1)"),
        (lambda: c.Hour(start=1, end=0), "end: must be one of 1..24 (got 0)"),
        (lambda: c.Hour(start=1, end=25), "end: must be one of 1..24 (got 25)"),
        (lambda: c.Hour(start=True, end=3), "start: must be one of 0..23 (got True)"),
        (lambda: c.CustomField(field="", values=["v"]), "field: must be a non-empty string"),
        (
            lambda: c.CustomField(field="f", values=["v"], scope="both"),  # type: ignore[arg-type]
            "scope: must be one of ('order', 'line') (got 'both')",
        ),
        (lambda: c.All([]), "of: must list at least one condition (got ())"),
        (lambda: c.AnyOf([]), "of: must list at least one condition (got ())"),
    ],
)
def test_condition_validation(build: Callable[[], object], message: str) -> None:
    """Bad conditions fail at construction with the field named and the value shown."""
    with pytest.raises(ValidationError) as caught:
        build()

    assert str(caught.value).startswith(message)


@pytest.mark.parametrize("kind", [c.LineCount, c.ItemCount])
def test_bad_max_count_names_max(kind: type[c.LineCount] | type[c.ItemCount]) -> None:
    """A negative max is reported at 'max', not at 'min'."""
    with pytest.raises(ValidationError, match=r"^max: must be a non-negative integer \(got -1\)"):
        kind(max=-1)


def test_dates_end_before_start_names_end() -> None:
    """An end before the start is reported at 'end', the field that exists."""
    with pytest.raises(ValidationError, match=r"^end: is below"):
        c.Dates(start=SATURDAY_10, end=SATURDAY_10 - timedelta(days=1))


def test_promo_code_bare_string_names_codes() -> None:
    """A bare string given for codes is reported at 'codes'."""
    with pytest.raises(ValidationError, match=r"^codes: must be a list of strings"):
        c.PromoCodeEntered("SPRING")


def test_values_are_stored_as_frozensets() -> None:
    """Lists of values and days become frozensets: order and repeats do not matter."""
    assert c.Endpoint(["b", "a", "a"]) == c.Endpoint(["a", "b"])
    assert c.Weekday([7, 6, 6]).days == frozenset({6, 7})
    assert c.PromoCodeEntered().codes == frozenset()


def test_hour_window_with_equal_ends_is_refused() -> None:
    """6..6 is ambiguous (empty or all day); 0..24 says the whole day."""
    with pytest.raises(ValidationError, match=r"^end: equals start"):
        c.Hour(start=6, end=6)
    assert c.Hour(start=0, end=24).start == 0
