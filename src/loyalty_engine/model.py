"""The values a calculation takes: orders, lines, members, points currencies.

Every class validates itself at construction, so an invalid order cannot exist; collections are
converted to tuples / frozensets / ``Fields`` so nothing can change under the engine's feet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any, TypeAlias

import attrs

from .errors import ValidationError
from .money import (
    MAX_DIGITS,
    MAX_MAJOR_DIGITS,
    Money,
    exponent,
    of_units,
    parse_decimal,
    plain_number,
)
from .validators import instant, of_type, one_of, tuple_of, typed

MAX_LINES = 10_000  # far above any real cart; hostile carts fail fast instead of running long
MAX_COUNT = 1_000_000
MAX_TEXT = 256  # identifiers, codes, names
MAX_FIELDS = 1_000  # custom fields of one order or line
INT64 = range(-(2**63), 2**63)  # numeric ids and wire integers
MAX_POINTS_PRECISION = 6
MAX_POINTS = 10**MAX_MAJOR_DIGITS  # of one currency, like money: beyond is hostile

Scalar: TypeAlias = str | int | bool | Decimal | None


def not_blank(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Identifiers are non-empty strings of bounded length."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError((attribute.name,), value, "must be a non-empty string")
    if len(value) > MAX_TEXT:
        raise ValidationError((attribute.name,), value, f"longer than {MAX_TEXT} characters")


def decimal(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """A Decimal field holds a Decimal: a str or int would be stored as given, unconverted."""
    if not isinstance(value, Decimal):
        raise ValidationError((attribute.name,), value, "must be a Decimal")


def identifier(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Numeric ids (``iid``, ``pool_id``, ``line_number``) are 64-bit integers, as on the wire."""
    if value is not None and (type(value) is not int or value not in INT64):
        raise ValidationError((attribute.name,), value, "must be a 64-bit integer")


def optional_text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        not_blank(instance, attribute, value)


def aware(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Times are timezone-aware: a naive time means a different instant on every server."""
    if value is not None:
        instant(value, (attribute.name,))


def to_texts(values: Iterable[str], name: str) -> frozenset[str]:
    """Converter body: a frozenset of strings; a bare string (a forgotten list) is refused."""
    if not isinstance(values, list | tuple | set | frozenset) or not all(
        isinstance(v, str | int | bool | None) for v in values
    ):  # hashable scalars; the field's validator names a non-string one
        raise ValidationError((name,), values, "must be a list of strings")
    return frozenset(values)


def _categories(values: Iterable[str]) -> frozenset[str]:
    return to_texts(values, "categories")


def _tags(values: Iterable[str]) -> frozenset[str]:
    return to_texts(values, "tags")


def _segments(values: Iterable[str]) -> frozenset[str]:
    return to_texts(values, "segments")


def _each_text(instance: object, attribute: attrs.Attribute[Any], value: frozenset[str]) -> None:
    for item in sorted(value, key=str):
        if not isinstance(item, str) or not item or len(item) > MAX_TEXT:
            raise ValidationError((attribute.name,), item, "must be a non-empty short string")


class Fields(Mapping[str, Scalar]):
    """Custom fields: a read-only, hashable mapping of flat scalars, kept in key order."""

    __slots__ = ("_by_name", "_items")

    def __init__(self, items: Mapping[str, Scalar] | Iterable[tuple[str, Scalar]] = ()) -> None:
        if not isinstance(items, Mapping | list | tuple):
            raise ValidationError((), items, "must map field names to scalars")
        pairs = items.items() if isinstance(items, Mapping) else items
        checked: dict[str, Scalar] = {}
        for pair in pairs:
            if not isinstance(pair, tuple) or len(pair) != 2:
                raise ValidationError((), pair, "must be a (name, value) pair")
            key, value = pair
            if len(checked) == MAX_FIELDS:
                raise ValidationError((), len(checked), f"more than {MAX_FIELDS} custom fields")
            if not isinstance(key, str) or not key or len(key) > MAX_TEXT:
                raise ValidationError((), key, "custom field names must be short strings")
            if not isinstance(value, str | int | bool | Decimal | None):
                raise ValidationError((key,), value, "custom field values must be flat scalars")
            if isinstance(value, str) and len(value) > 4 * MAX_TEXT:
                raise ValidationError((key,), value, f"longer than {4 * MAX_TEXT} characters")
            if isinstance(value, int | Decimal) and not plain_number(value):
                reason = f"must be a finite number of at most {MAX_DIGITS} digits"
                raise ValidationError((key,), value, reason)
            checked[key] = value
        self._items = tuple(sorted(checked.items()))
        self._by_name = dict(self._items)

    def __getitem__(self, key: str) -> Scalar:
        return self._by_name[key]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(self._items)

    def __eq__(self, other: object) -> bool:
        return self._by_name == dict(other) if isinstance(other, Mapping) else NotImplemented

    def __repr__(self) -> str:
        return f"Fields({self._by_name!r})"


def _fields(value: Mapping[str, Scalar] | Fields) -> Fields:
    return value if isinstance(value, Fields) else Fields(value)


@typed
@attrs.frozen(kw_only=True)
class PointsCurrency:
    """A kind of points ("bonus1"). ``redeem_rate`` is the money value of one point."""

    eid: str = attrs.field(validator=not_blank)
    iid: int | None = attrs.field(default=None)
    name: str = attrs.field(
        default=attrs.Factory(lambda self: self.eid, takes_self=True), validator=not_blank
    )
    precision: int = attrs.field(
        default=0,
        validator=[of_type(int), one_of(range(7))],
    )
    redeem_rate: Decimal = attrs.field(default=Decimal(1), validator=decimal)
    lifetime_days: int | None = attrs.field(default=None)
    initial_balance: Decimal = attrs.field(default=Decimal(0), validator=decimal)
    qualifying: bool = False  # counts toward tiers rather than being spent
    money_ratio: Decimal | None = attrs.field(default=None)  # points per money unit paid, at commit

    @iid.validator
    def _iid(self, attribute: attrs.Attribute[int | None], value: int | None) -> None:
        identifier(self, attribute, value)

    @redeem_rate.validator
    def _rate(self, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
        rate = parse_decimal(value, ("redeem_rate",), places=6)
        if rate <= 0:
            raise ValidationError(("redeem_rate",), value, "must be positive")

    @lifetime_days.validator
    def _lifetime(self, attribute: attrs.Attribute[int | None], value: int | None) -> None:
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 36_500
        ):
            raise ValidationError(("lifetime_days",), value, "must be in 1..36500 days")

    @money_ratio.validator
    def _ratio(self, attribute: attrs.Attribute[Decimal | None], value: Decimal | None) -> None:
        if value is None:
            return
        decimal(self, attribute, value)
        if parse_decimal(value, ("money_ratio",), places=6) <= 0:
            raise ValidationError(("money_ratio",), value, "must be positive")

    @initial_balance.validator
    def _initial(self, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
        if self.points(value, ("initial_balance",)) < 0:
            raise ValidationError(("initial_balance",), value, "must not be negative")

    def points(self, value: object, path: tuple[str | int, ...]) -> Decimal:
        """Parse a points amount at this currency's precision (whole points by default)."""
        return parse_decimal(value, path, places=self.precision, unit=f"points '{self.eid}'")

    def of_units(self, units: int) -> Decimal:
        """Points from integer units of ``precision`` (``of_units(6999)`` → 6999 whole points)."""
        return of_units(units, self.precision)

    def matches(self, ref: PointsRef) -> bool:
        """Whether ``ref`` names this currency by iid or eid (both must agree when both given)."""
        if ref.iid is not None and ref.iid != self.iid:
            return False
        return ref.eid is None or ref.eid == self.eid


@typed
@attrs.frozen
class PointsRef:
    """A reference to a points currency by internal id, external id, or both."""

    iid: int | None = attrs.field(default=None, validator=identifier)
    eid: str | None = attrs.field(default=None, validator=optional_text)

    def __attrs_post_init__(self) -> None:
        if self.iid is None and self.eid is None:
            raise ValidationError(("points_currency_eid",), None, "iid or eid is required")
        if self.iid is not None and (isinstance(self.iid, bool) or not isinstance(self.iid, int)):
            raise ValidationError(("points_currency_iid",), self.iid, "must be an integer")

    def __str__(self) -> str:
        return self.eid if self.eid is not None else f"iid {self.iid}"


@typed
@attrs.frozen
class PromoCode:
    """A promo code the customer entered, from pool ``pool_id``."""

    code: str = attrs.field(validator=not_blank)
    pool_id: int | None = attrs.field(default=None, validator=identifier)


@typed
@attrs.frozen
class RedeemRequest:
    """The customer asks to pay ``amount`` points of ``currency``."""

    currency: PointsRef = attrs.field(validator=of_type(PointsRef))
    amount: Decimal = attrs.field(validator=decimal)

    @amount.validator
    def _amount(self, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
        if parse_decimal(value, ("amount",), places=MAX_POINTS_PRECISION) < 0:
            raise ValidationError(("amount",), value, "must not be negative")


def _money(value: object) -> Money:
    if not isinstance(value, Money):
        raise ValidationError(("base_price_per_item",), value, "must be Money")
    return value


@typed
@attrs.frozen(kw_only=True)
class Line:
    """One order line; prices are per item, and ``min_price_per_item`` is the floor."""

    external_id: str = attrs.field(validator=not_blank)
    count: int = attrs.field()
    base_price_per_item: Money
    min_price_per_item: Money = attrs.field(
        default=attrs.Factory(
            lambda self: Money.zero(_money(self.base_price_per_item).currency), takes_self=True
        )
    )
    product: str | None = attrs.field(default=None, validator=optional_text)
    sku: str | None = attrs.field(default=None, validator=optional_text)
    categories: frozenset[str] = attrs.field(
        default=frozenset(), converter=_categories, validator=_each_text
    )
    custom_fields: Fields = attrs.field(default=Fields(), converter=_fields)
    line_number: int | None = attrs.field(default=None, validator=identifier)
    status: str | None = attrs.field(default=None, validator=optional_text)

    @count.validator
    def _count(self, attribute: attrs.Attribute[int], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_COUNT:
            raise ValidationError(("count",), value, f"must be an integer in 1..{MAX_COUNT}")

    def __attrs_post_init__(self) -> None:
        if self.product is None and self.sku is None:
            raise ValidationError(("product",), None, "product or sku is required")
        for name in ("base_price_per_item", "min_price_per_item"):
            price = getattr(self, name)
            if not isinstance(price, Money):
                raise ValidationError((name,), price, "must be Money")
            if price.minor < 0:
                raise ValidationError((name,), str(price), "must not be negative")
        if self.min_price_per_item.currency != self.base_price_per_item.currency:
            raise ValidationError(
                ("min_price_per_item",), self.min_price_per_item.currency, "currency differs"
            )
        if self.min_price_per_item > self.base_price_per_item:
            raise ValidationError(
                ("min_price_per_item",), str(self.min_price_per_item), "exceeds base price"
            )


# One typed converter per element type: mypy's attrs plugin cannot bind a generic one at call sites.
def _lines(values: Iterable[Line]) -> tuple[Line, ...]:
    return tuple_of(values, Line, "lines")


def _codes(values: Iterable[PromoCode]) -> tuple[PromoCode, ...]:
    return tuple_of(values, PromoCode, "promo_codes")


def _requests(values: Iterable[RedeemRequest]) -> tuple[RedeemRequest, ...]:
    return tuple_of(values, RedeemRequest, "redeem")


@typed
@attrs.frozen(kw_only=True)
class Order:
    """An order (a cart, at preorder) in one currency."""

    external_id: str = attrs.field(validator=not_blank)
    currency: str
    lines: tuple[Line, ...] = attrs.field(converter=_lines)
    endpoint: str | None = attrs.field(default=None, validator=optional_text)
    status: str | None = attrs.field(default=None, validator=optional_text)
    region: str | None = attrs.field(default=None, validator=optional_text)
    create_time: dt.datetime | None = attrs.field(default=None, validator=aware)
    promo_codes: tuple[PromoCode, ...] = attrs.field(default=(), converter=_codes)
    redeem: tuple[RedeemRequest, ...] = attrs.field(default=(), converter=_requests)
    tags: frozenset[str] = attrs.field(default=frozenset(), converter=_tags, validator=_each_text)
    custom_fields: Fields = attrs.field(default=Fields(), converter=_fields)
    delivery_cost: Money = attrs.field(
        default=attrs.Factory(lambda self: Money.zero(self.currency), takes_self=True),
        validator=of_type(Money),
    )

    def __attrs_post_init__(self) -> None:
        Money.zero(self.currency)  # unknown currency → ValidationError naming "currency"
        if not self.lines:
            raise ValidationError(("lines",), [], "an order needs at least one line")
        if len(self.lines) > MAX_LINES:
            raise ValidationError(("lines",), len(self.lines), f"more than {MAX_LINES} lines")
        seen: set[str] = set()
        for index, line in enumerate(self.lines):
            if not isinstance(line, Line):
                raise ValidationError(("lines", index), line, "must be a Line")
            if line.base_price_per_item.currency != self.currency:
                raise ValidationError(
                    ("lines", index, "base_price_per_item"),
                    line.base_price_per_item.currency,
                    f"currency differs from the order's {self.currency}",
                )
            if line.external_id in seen:
                raise ValidationError(
                    ("lines", index, "external_id"), line.external_id, "duplicate line id"
                )
            seen.add(line.external_id)
        minor = sum(line.base_price_per_item.minor * line.count for line in self.lines)
        if minor >= 10 ** (MAX_MAJOR_DIGITS + exponent(self.currency)):
            raise ValidationError(("lines",), len(self.lines), "order total reaches 10^15")
        if self.delivery_cost.currency != self.currency or self.delivery_cost.minor < 0:
            raise ValidationError(("delivery_cost",), str(self.delivery_cost), "invalid")

    @property
    def total_price(self) -> Money:
        """Σ base price × count: what the order costs before any promotion."""
        minor = sum(line.base_price_per_item.minor * line.count for line in self.lines)
        return Money.of_minor(minor, self.currency)


@typed
@attrs.frozen
class Balance:
    """A member's points in one currency: ``active`` is spendable now, ``total`` includes held."""

    active: Decimal = attrs.field(validator=decimal)
    total: Decimal = attrs.field(validator=decimal)

    def __attrs_post_init__(self) -> None:
        parse_decimal(self.active, ("active",), places=MAX_POINTS_PRECISION)
        parse_decimal(self.total, ("total",), places=MAX_POINTS_PRECISION)
        if self.total < self.active:
            raise ValidationError(("total",), self.total, f"is below active ({self.active})")


def _balances(
    value: Mapping[str, Balance] | Iterable[tuple[str, Balance]],
) -> tuple[tuple[str, Balance], ...]:
    pairs = dict(value.items() if isinstance(value, Mapping) else _pairs(value))
    for eid, balance in pairs.items():
        if not isinstance(eid, str) or not eid or len(eid) > MAX_TEXT:
            raise ValidationError(("balances",), eid, "currency eids must be short strings")
        if not isinstance(balance, Balance):
            raise ValidationError(("balances", eid), balance, "must be a Balance")
    return tuple(sorted(pairs.items()))


def _pairs(value: object) -> list[tuple[str, Balance]]:
    if not isinstance(value, list | tuple) or not all(
        isinstance(p, tuple) and len(p) == 2 for p in value
    ):
        raise ValidationError(("balances",), value, "must map currency eid → Balance")
    return list(value)


@typed
@attrs.frozen(kw_only=True)
class Member:
    """A loyalty-program member as the calculation sees them; balances keyed by currency eid."""

    profile_id: str = attrs.field(validator=not_blank)
    balances: tuple[tuple[str, Balance], ...] = attrs.field(default=(), converter=_balances)
    tier: str | None = attrs.field(default=None, validator=optional_text)
    segments: frozenset[str] = attrs.field(
        default=frozenset(), converter=_segments, validator=_each_text
    )
    tags: frozenset[str] = attrs.field(default=frozenset(), converter=_tags, validator=_each_text)

    def balance(self, eid: str) -> Balance:
        """The member's balance in ``eid``; zero when they have never held any."""
        for name, balance in self.balances:
            if name == eid:
                return balance
        return Balance(Decimal(0), Decimal(0))
