"""Value objects validate themselves: an invalid order cannot exist."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal

import pytest

from loyalty_engine import validators
from loyalty_engine.errors import ValidationError
from loyalty_engine.model import (
    MAX_COUNT,
    MAX_LINES,
    Balance,
    Fields,
    Line,
    Member,
    Order,
    PointsCurrency,
    PointsRef,
    PromoCode,
    RedeemRequest,
    Scalar,
)
from loyalty_engine.money import Money
from loyalty_engine.validators import trusted


def rub(text: str) -> Money:
    return Money.parse(text, "RUB")


def line(**changes: object) -> Line:
    """A valid RUB line, with ``changes`` applied."""
    fields: dict[str, object] = {
        "external_id": "a",
        "product": "p",
        "count": 1,
        "base_price_per_item": rub("10.00"),
    }
    fields.update(changes)
    return Line(**fields)  # type: ignore[arg-type]


def order(**changes: object) -> Order:
    """A valid one-line RUB order, with ``changes`` applied."""
    fields: dict[str, object] = {"external_id": "o", "currency": "RUB", "lines": [line()]}
    fields.update(changes)
    return Order(**fields)  # type: ignore[arg-type]


# --- Line ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"count": 0}, "count: must be an integer in 1..1000000 (got 0)"),
        ({"count": -1}, "count: must be an integer in 1..1000000 (got -1)"),
        ({"count": True}, "count: must be an integer in 1..1000000 (got True)"),
        ({"count": "1"}, "count: must be an integer in 1..1000000 (got '1')"),
        ({"count": 1.0}, "count: must be an integer in 1..1000000 (got 1.0)"),
        ({"count": MAX_COUNT + 1}, "count: must be an integer in 1..1000000 (got 1000001)"),
        ({"product": None}, "product: product or sku is required (missing)"),
        ({"product": ""}, "product: must be a non-empty string (got '')"),
        ({"sku": "  "}, "sku: must be a non-empty string (got '  ')"),
        (
            {"min_price_per_item": rub("10.01")},
            "min_price_per_item: exceeds base price (got '10.01')",
        ),
        (
            {"base_price_per_item": rub("-1.00")},
            "base_price_per_item: must not be negative (got '-1.00')",
        ),
        (
            {"min_price_per_item": rub("-0.01")},
            "min_price_per_item: must not be negative (got '-0.01')",
        ),
        (
            {"min_price_per_item": Money.parse("1", "USD")},
            "min_price_per_item: currency differs (got 'USD')",
        ),
        (
            {"base_price_per_item": rub("10"), "min_price_per_item": "1.00"},
            "min_price_per_item: must be Money (got '1.00')",
        ),
        ({"external_id": ""}, "external_id: must be a non-empty string (got '')"),
        ({"external_id": 7}, "external_id: must be a non-empty string (got 7)"),
        ({"external_id": "x" * 257}, "external_id: longer than 256 characters"),
        ({"categories": ["shoes", ""]}, "categories: must be a non-empty short string (got '')"),
        ({"custom_fields": {"a": [1]}}, "a: custom field values must be flat scalars (got [1])"),
    ],
)
def test_line_validation(changes: dict[str, object], message: str) -> None:
    """Each bad line field is refused with its path and value."""
    with pytest.raises(ValidationError) as caught:
        line(**changes)

    assert str(caught.value).startswith(message)


def test_line_accepts_its_bounds() -> None:
    """count 1 and MAX_COUNT, a sku without a product, min equal to base, 256-char ids are fine."""
    assert line(count=1).count == 1
    assert line(count=MAX_COUNT).count == 1_000_000
    assert line(product=None, sku="S-1").sku == "S-1"
    assert line(min_price_per_item=rub("10.00")).min_price_per_item == rub("10")
    assert line(external_id="x" * 256).external_id == "x" * 256


def test_line_defaults_min_price_to_zero_in_its_currency() -> None:
    """An absent min price is 0 in the line's currency (0 yen for a JPY line)."""
    assert line().min_price_per_item == Money.of_minor(0, "RUB")
    assert str(line(base_price_per_item=Money.parse("500", "JPY")).min_price_per_item) == "0"


def test_line_collections_are_frozen() -> None:
    """Categories become a frozenset and custom fields a Fields, so nothing changes later."""
    made = line(categories=["b", "a", "a"], custom_fields={"size": 42})

    assert made.categories == frozenset({"a", "b"})
    assert isinstance(made.custom_fields, Fields)
    assert made.custom_fields == {"size": 42}


def test_line_non_money_base_price_is_a_validation_error() -> None:
    """A base price given as text is a ValidationError naming the field, not an AttributeError."""
    with pytest.raises(ValidationError, match=r"^base_price_per_item: must be Money"):
        line(base_price_per_item="10.00")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: line(categories="shoes"), "categories: must be a list of strings (got 'shoes')"),
        (lambda: order(tags="vip"), "tags: must be a list of strings (got 'vip')"),
        (
            lambda: Member(profile_id="m", segments="b2c"),
            "segments: must be a list of strings (got 'b2c')",
        ),
        (lambda: Member(profile_id="m", tags="new"), "tags: must be a list of strings (got 'new')"),
    ],
)
def test_bare_string_is_not_a_list_of_texts(build: Callable[[], object], message: str) -> None:
    """categories='shoes' is a forgotten list, refused at its field, not read as letters."""
    with pytest.raises(ValidationError) as caught:
        build()

    assert str(caught.value) == message


# --- Order ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lines": []}, "lines: an order needs at least one line (got [])"),
        (
            {"lines": [line(), line(external_id="b"), line()]},
            "lines[2].external_id: duplicate line id (got 'a')",
        ),
        ({"lines": [line(), line()]}, "lines[1].external_id: duplicate line id (got 'a')"),
        (
            {"currency": "USD"},
            "lines[0].base_price_per_item: currency differs from the order's USD (got 'RUB')",
        ),
        ({"currency": "XXX"}, "currency: unknown ISO 4217 currency code (got 'XXX')"),
        ({"lines": [line(), "b"]}, "lines[1]: must be a Line (got 'b')"),
        (
            {"create_time": dt.datetime(2026, 1, 1)},
            "create_time: must be a timezone-aware datetime (got 2026-01-01T00:00:00)",
        ),
        ({"create_time": "2026-01-01T00:00Z"}, "create_time: must be a timezone-aware datetime"),
        ({"external_id": " "}, "external_id: must be a non-empty string (got ' ')"),
        ({"tags": ["vip", ""]}, "tags: must be a non-empty short string (got '')"),
        ({"delivery_cost": rub("-1")}, "delivery_cost: invalid (got '-1.00')"),
        ({"delivery_cost": Money.parse("1", "USD")}, "delivery_cost: invalid (got '1.00')"),
    ],
)
def test_order_validation(changes: dict[str, object], message: str) -> None:
    """No lines, duplicate ids, foreign currency, unknown currency, naive times are refused."""
    with pytest.raises(ValidationError) as caught:
        order(**changes)

    assert str(caught.value).startswith(message)


def test_order_accepts_an_aware_create_time_in_any_offset() -> None:
    """Any timezone-aware time is accepted as is."""
    moscow = dt.datetime(2026, 1, 1, 3, tzinfo=dt.timezone(dt.timedelta(hours=3)))

    assert order(create_time=moscow).create_time == moscow


def test_order_with_too_many_lines_fails_fast() -> None:
    """MAX_LINES + 1 lines are refused before any line is checked, well under a second."""
    many = [line(external_id=f"l{i}") for i in range(MAX_LINES + 1)]

    started = time.perf_counter()
    with pytest.raises(ValidationError) as caught:
        order(lines=many)
    elapsed = time.perf_counter() - started

    assert str(caught.value) == "lines: more than 10000 lines (got 10001)"
    assert elapsed < 1.0


def test_order_with_max_lines_is_accepted() -> None:
    """Exactly MAX_LINES lines is a valid order."""
    made = order(lines=[line(external_id=f"l{i}") for i in range(MAX_LINES)])

    assert len(made.lines) == 10_000


def test_order_collections_become_immutable() -> None:
    """Lines and promo codes become tuples, tags a frozenset; delivery defaults to zero."""
    made = order(tags=["vip"], promo_codes=[PromoCode("SPRING", 7)])

    assert isinstance(made.lines, tuple)
    assert made.promo_codes == (PromoCode("SPRING", 7),)
    assert made.tags == frozenset({"vip"})
    assert made.delivery_cost == Money.zero("RUB")


def test_order_total_price() -> None:
    """total_price is Σ base × count, exact to the kopek."""
    made = order(
        lines=[
            line(),
            line(external_id="b", count=3, base_price_per_item=rub("0.50")),
            line(external_id="c", count=7, base_price_per_item=rub("0.01")),
        ]
    )

    assert str(made.total_price) == "11.57"
    assert made.total_price.minor == 1157


def test_order_total_price_in_yen() -> None:
    """A JPY order totals in whole yen."""
    made = Order(
        external_id="o",
        currency="JPY",
        lines=[line(count=3, base_price_per_item=Money.parse("333", "JPY"))],
    )

    assert str(made.total_price) == "999"


# --- Fields --------------------------------------------------------------------------------------


def test_fields_are_ordered_by_key() -> None:
    """Keys come out sorted whatever the input order, from a mapping or from pairs."""
    items: dict[str, Scalar] = {"b": 1, "a": "x", "c": None}

    assert list(Fields(items)) == ["a", "b", "c"]
    assert list(Fields([("z", 1), ("y", 2)]).items()) == [("y", 2), ("z", 1)]


def test_fields_are_a_read_only_mapping() -> None:
    """Lookups work like a dict; writes and deletes are refused."""
    items: dict[str, Scalar] = {"b": 1, "a": "x"}
    fields = Fields(items)

    assert fields["b"] == 1
    assert fields.get("missing") is None
    assert len(fields) == 2
    assert "a" in fields
    with pytest.raises(KeyError):
        fields["missing"]
    with pytest.raises(TypeError):
        fields["c"] = 1  # type: ignore[index]
    with pytest.raises(TypeError):
        del fields["a"]  # type: ignore[attr-defined]
    assert not hasattr(fields, "update")


def test_fields_are_hashable_and_compare_by_content() -> None:
    """Equal contents are equal and hash alike, so Fields can key a dict; a dict compares too."""
    items: dict[str, Scalar] = {"b": 1, "a": "x"}
    one = Fields(items)
    two = Fields([("a", "x"), ("b", 1)])

    assert one == two
    assert hash(one) == hash(two)
    assert {one: "seen"}[two] == "seen"
    assert one == {"a": "x", "b": 1}
    assert one != Fields({**items, "b": 2})


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ({"a": {"nested": 1}}, "a: custom field values must be flat scalars (got {'nested': 1})"),
        ({"a": [1, 2]}, "a: custom field values must be flat scalars (got [1, 2])"),
        ({"a": (1,)}, "a: custom field values must be flat scalars (got (1,))"),
        ({"a": 1.5}, "a: custom field values must be flat scalars (got 1.5)"),
        ({"a": "x" * 1025}, "a: longer than 1024 characters"),
        ({"": 1}, "<root>: custom field names must be short strings (got '')"),
        ({1: 1}, "<root>: custom field names must be short strings (got 1)"),
        ({"k" * 257: 1}, "<root>: custom field names must be short strings"),
    ],
)
def test_fields_refuse_nested_or_huge_values(items: dict[object, object], message: str) -> None:
    """Only flat scalars of bounded size under short string names are custom fields."""
    with pytest.raises(ValidationError) as caught:
        Fields(items)  # type: ignore[arg-type]

    assert str(caught.value).startswith(message)


def test_fields_accept_every_scalar_up_to_the_bound() -> None:
    """str (up to 1024 characters), int, bool, Decimal and None are kept as given."""
    fields = Fields(
        {"s": "x" * 1024, "i": 3, "b": True, "d": Decimal("1.50"), "n": None},
    )

    assert dict(fields) == {"s": "x" * 1024, "i": 3, "b": True, "d": Decimal("1.50"), "n": None}
    assert repr(Fields({"a": 1})) == "Fields({'a': 1})"


# --- Member, Balance -----------------------------------------------------------------------------


def test_member_balance_defaults_to_zero() -> None:
    """A currency the member never held has a zero balance; held ones come back as given."""
    member = Member(profile_id="m", balances={"a": Balance(Decimal(5), Decimal(7))})

    assert member.balance("a") == Balance(Decimal(5), Decimal(7))
    assert member.balance("b") == Balance(Decimal(0), Decimal(0))
    assert Member(profile_id="guest").balance("a") == Balance(Decimal(0), Decimal(0))


def test_member_collections_are_frozen_and_sorted() -> None:
    """Balances become sorted pairs; segments and tags frozensets."""
    zero = Balance(Decimal(0), Decimal(0))
    member = Member(
        profile_id="m", balances={"b": zero, "a": zero}, segments=["s"], tags=["t", "t"]
    )

    assert member.balances == (("a", zero), ("b", zero))
    assert (member.segments, member.tags) == (frozenset({"s"}), frozenset({"t"}))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Member(profile_id=""), "profile_id: must be a non-empty string"),
        (lambda: Member(profile_id="m", tier=""), "tier: must be a non-empty string"),
        (lambda: Balance(1.5, Decimal(1)), "active: must be a Decimal (got 1.5)"),  # type: ignore[arg-type]
        (
            lambda: Balance(Decimal(1), Decimal("0.0000001")),
            "total: more decimals than the field allows",
        ),
    ],
)
def test_member_and_balance_validation(build: object, message: str) -> None:
    """Blank ids, float or over-precise balances are refused with the field named."""
    with pytest.raises(ValidationError) as caught:
        build()  # type: ignore[operator]

    assert str(caught.value).startswith(message)


# --- points --------------------------------------------------------------------------------------


@pytest.mark.parametrize("precision", [0, 6])
def test_points_precision_bounds_are_accepted(precision: int) -> None:
    """Precision 0 and 6 are the ends of the allowed range."""
    assert PointsCurrency(eid="x", precision=precision).precision == precision


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"precision": -1}, "precision: must be one of 0..6 (got -1)"),
        ({"precision": 7}, "precision: must be one of 0..6 (got 7)"),
        ({"precision": True}, "precision: must be int (got True)"),
        ({"redeem_rate": Decimal(0)}, "redeem_rate: must be positive (got 0)"),
        ({"redeem_rate": Decimal("-0.5")}, "redeem_rate: must be positive (got -0.5)"),
        ({"redeem_rate": 0.5}, "redeem_rate: must be a Decimal (got 0.5)"),
        ({"redeem_rate": "0.5"}, "redeem_rate: must be a Decimal (got '0.5')"),
        ({"redeem_rate": Decimal("0.0000001")}, "redeem_rate: more decimals than the field allows"),
        ({"iid": True}, "iid: must be a 64-bit integer (got True)"),
        ({"iid": "1"}, "iid: must be a 64-bit integer (got '1')"),
        ({"lifetime_days": 0}, "lifetime_days: must be in 1..36500 days (got 0)"),
        ({"lifetime_days": 36_501}, "lifetime_days: must be in 1..36500 days (got 36501)"),
        ({"initial_balance": Decimal(-1)}, "initial_balance: must not be negative"),
        (
            {"initial_balance": Decimal("0.5")},
            "initial_balance: more decimals than points 'x' allows",
        ),
        ({"eid": ""}, "eid: must be a non-empty string (got '')"),
    ],
)
def test_points_currency_validation(changes: dict[str, object], message: str) -> None:
    """Precision 0..6, a positive rate of at most 6 decimals, an integer iid, sane lifetimes."""
    with pytest.raises(ValidationError) as caught:
        PointsCurrency(**{"eid": "x", **changes})  # type: ignore[arg-type]

    assert str(caught.value).startswith(message)


def test_points_currency_defaults() -> None:
    """The name defaults to the eid; whole points, rate 1, no lifetime, not qualifying."""
    bonus = PointsCurrency(eid="bonus1")

    assert (bonus.name, bonus.precision, bonus.redeem_rate) == ("bonus1", 0, Decimal(1))
    assert bonus.lifetime_days is None
    assert bonus.initial_balance == 0
    assert bonus.qualifying is False


def test_points_of_units_scales_by_precision() -> None:
    """of_units reads integer units at the currency's precision."""
    assert PointsCurrency(eid="x").of_units(6999) == Decimal(6999)
    assert str(PointsCurrency(eid="x", precision=2).of_units(10050)) == "100.50"


@pytest.mark.parametrize(
    ("ref", "matches"),
    [
        (PointsRef(iid=1), True),
        (PointsRef(eid="bonus1"), True),
        (PointsRef(iid=1, eid="bonus1"), True),
        (PointsRef(iid=2), False),
        (PointsRef(eid="other"), False),
        (PointsRef(iid=1, eid="other"), False),
        (PointsRef(iid=2, eid="bonus1"), False),
    ],
)
def test_points_currency_matches_by_iid_or_eid(ref: PointsRef, matches: bool) -> None:
    """A ref matches by iid, by eid, or by both when both are given and agree."""
    assert PointsCurrency(eid="bonus1", iid=1).matches(ref) is matches


def test_points_currency_without_iid_never_matches_an_iid_ref() -> None:
    """A currency known only by eid is not named by any iid."""
    bonus = PointsCurrency(eid="bonus1")

    assert not bonus.matches(PointsRef(iid=1))
    assert bonus.matches(PointsRef(eid="bonus1"))


def test_points_ref_needs_an_id() -> None:
    """A ref with neither iid nor eid, a bool iid or a blank eid is refused."""
    with pytest.raises(ValidationError, match=r"^points_currency_eid: iid or eid is required"):
        PointsRef()
    with pytest.raises(ValidationError, match=r"^iid: must be a 64-bit integer"):
        PointsRef(iid=True)
    with pytest.raises(ValidationError, match=r"^eid: must be a non-empty string"):
        PointsRef(eid="")


def test_points_ref_text() -> None:
    """A ref prints as its eid, or 'iid N' without one."""
    assert (str(PointsRef(eid="bonus1")), str(PointsRef(iid=3))) == ("bonus1", "iid 3")


def test_redeem_request_amount() -> None:
    """A redeem amount is non-negative with at most 6 decimals; zero is allowed."""
    ref = PointsRef(eid="x")

    assert RedeemRequest(ref, Decimal(0)).amount == 0
    with pytest.raises(ValidationError, match=r"^amount: must not be negative \(got -1\)"):
        RedeemRequest(ref, Decimal(-1))
    with pytest.raises(ValidationError, match=r"^amount: more decimals than the field allows"):
        RedeemRequest(ref, Decimal("0.0000001"))
    with pytest.raises(ValidationError, match=r"^amount: must be a Decimal \(got 1\.5\)"):
        RedeemRequest(ref, 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"^amount: must be a Decimal \(got '5'\)"):
        RedeemRequest(ref, "5")  # type: ignore[arg-type]


def test_promo_code_needs_a_code() -> None:
    """A promo code is a non-empty string; the pool is optional."""
    assert PromoCode("SPRING").pool_id is None
    with pytest.raises(ValidationError, match=r"^code: must be a non-empty string"):
        PromoCode("")


def test_values_are_frozen() -> None:
    """Lines and orders cannot be changed after construction."""
    made = order()

    with pytest.raises(AttributeError):
        made.currency = "USD"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        made.lines[0].count = 2  # type: ignore[misc]


def test_an_order_total_beyond_the_money_bound_is_refused() -> None:
    """Lines valid one by one cannot add up past 10^15: the order is refused when built."""
    price = Money.parse("999999999999999.99", "RUB")
    big = Line(external_id="a", product="p", count=1_000_000, base_price_per_item=price)
    with pytest.raises(ValidationError, match=r"^lines: order total reaches 10\^15"):
        Order(external_id="o", currency="RUB", lines=[big])


def test_trusted_skips_only_the_type_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """``trusted(cls)`` builds what ``cls`` builds and runs the class's own validators, without
    ``typed``'s check of the argument types (its readers give the annotated types)."""

    def check(*args: object) -> None:
        raise AssertionError("typed's check ran")

    monkeypatch.setattr(validators, "_check", check)
    make = trusted(PromoCode)
    assert (make("A", 1).code, make("A", 1).pool_id) == ("A", 1)
    with pytest.raises(AssertionError, match="typed's check ran"):
        PromoCode("A", 1)
    with pytest.raises(ValidationError, match="pool_id"):
        make("A", "1")  # type: ignore[arg-type]  # the class's own validator
    assert trusted(Money) is Money  # not typed: the class itself
