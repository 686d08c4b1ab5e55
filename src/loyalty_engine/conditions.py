"""Order segments: predicates over the order, its lines, the member and the time.

How this works: each condition is a small frozen value with ``holds(facts)`` (does the order
qualify?) and, for the line-level kinds, ``selects(facts, index)`` (does line ``index`` get the
benefit?). A line-level condition asked at order level means "some line matches". ``Facts`` is
computed once per calculation, so a condition never re-derives categories or totals.
``KINDS`` maps the ``kind`` word used in program files to the class.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Literal, TypeAlias

import attrs

from .errors import ValidationError
from .model import (
    MAX_COUNT,
    MAX_LINES,
    Fields,
    Member,
    Order,
    PromoCode,
    aware,
    not_blank,
    to_texts,
)
from .money import CONTEXT, MAX_MAJOR_DIGITS, exponent
from .validators import one_of, typed

Basis = Literal["base", "current"]


def _values(values: Iterable[str]) -> frozenset[str]:
    return to_texts(values, "values")


def _codes(values: Iterable[str]) -> frozenset[str]:
    return to_texts(values, "codes")


def _non_empty(instance: object, attribute: attrs.Attribute[frozenset[str]], value: object) -> None:
    if not isinstance(value, frozenset) or not value:
        raise ValidationError((attribute.name,), value, "must be a non-empty list")
    for item in sorted(value, key=str):
        if not isinstance(item, str) or not item:
            raise ValidationError((attribute.name,), item, "must be a non-empty string")


@attrs.frozen
class Facts:
    """What conditions read, derived once per calculation."""

    order: Order
    member: Member | None
    at: dt.datetime
    line_categories: tuple[frozenset[str], ...]
    base_total: int  # minor units, Σ base × count
    current_total: int = 0  # minor units, the running total when a promotion is reached

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(code.code for code in self.order.promo_codes)

    def running(self, current_total: int) -> Facts:
        """These facts with the running total at ``current_total`` (built only if it moved)."""
        if current_total == self.current_total:
            return self
        return Facts(order=self.order, member=self.member, at=self.at,
                     line_categories=self.line_categories, base_total=self.base_total,
                     current_total=current_total)  # fmt: skip


def _money_minor(amount: Decimal, facts: Facts) -> Decimal:
    return amount.scaleb(exponent(facts.order.currency), context=CONTEXT)


# --- order-level kinds -------------------------------------------------------------------------


@typed
@attrs.frozen
class Endpoint:
    """The order came through one of these touchpoints (``site``, ``bot``)."""

    values: frozenset[str] = attrs.field(converter=_values, validator=_non_empty)
    kind = "endpoint"

    def holds(self, facts: Facts) -> bool:
        return facts.order.endpoint in self.values


@typed
@attrs.frozen
class Region:
    """The order's region is one of these."""

    values: frozenset[str] = attrs.field(converter=_values, validator=_non_empty)
    kind = "region"

    def holds(self, facts: Facts) -> bool:
        return facts.order.region in self.values


@typed
@attrs.frozen
class OrderTag:
    """The order carries at least one of these tags."""

    values: frozenset[str] = attrs.field(converter=_values, validator=_non_empty)
    kind = "order_tag"

    def holds(self, facts: Facts) -> bool:
        return not self.values.isdisjoint(facts.order.tags)


@typed
@attrs.frozen
class MemberTier:
    """The member is in one of these tiers (a guest is in none)."""

    values: frozenset[str] = attrs.field(converter=_values, validator=_non_empty)
    kind = "tier"

    def holds(self, facts: Facts) -> bool:
        return facts.member is not None and facts.member.tier in self.values


@typed
@attrs.frozen
class MemberSegment:
    """The member belongs to at least one of these segments."""

    values: frozenset[str] = attrs.field(converter=_values, validator=_non_empty)
    kind = "segment"

    def holds(self, facts: Facts) -> bool:
        return facts.member is not None and not self.values.isdisjoint(facts.member.segments)


@typed
@attrs.frozen
class MemberTag:
    """The member carries at least one of these tags."""

    values: frozenset[str] = attrs.field(converter=_values, validator=_non_empty)
    kind = "member_tag"

    def holds(self, facts: Facts) -> bool:
        return facts.member is not None and not self.values.isdisjoint(facts.member.tags)


@typed
@attrs.frozen
class PromoCodeEntered:
    """The customer entered one of ``codes`` (any code when empty), optionally from ``pool_id``."""

    codes: frozenset[str] = attrs.field(default=frozenset(), converter=_codes)
    pool_id: int | None = None
    kind = "promo_code"

    def accepts(self, code: PromoCode) -> bool:
        """Whether the entered ``code`` is one this condition asks for."""
        return (not self.codes or code.code in self.codes) and (
            self.pool_id is None or code.pool_id == self.pool_id
        )

    def holds(self, facts: Facts) -> bool:
        return any(self.accepts(code) for code in facts.order.promo_codes)


def _bounds(
    instance: LineCount | ItemCount, attribute: attrs.Attribute[int | None], value: int | None
) -> None:
    if value is not None and (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 0 <= value <= MAX_COUNT * MAX_LINES
    ):
        raise ValidationError((attribute.name,), value, "must be a non-negative integer")


def _ordered(low: object, high: object, names: tuple[str, str] = ("min", "max")) -> None:
    if low is not None and high is not None and low > high:  # type: ignore[operator]
        raise ValidationError((names[1],), high, f"is below {names[0]} {low}")


@typed
@attrs.frozen
class LineCount:
    """The order has ``min..max`` lines (either bound optional, both inclusive)."""

    min: int | None = attrs.field(default=None, validator=_bounds)
    max: int | None = attrs.field(default=None, validator=_bounds)
    kind = "line_count"

    def __attrs_post_init__(self) -> None:
        _ordered(self.min, self.max)

    def holds(self, facts: Facts) -> bool:
        n = len(facts.order.lines)
        return (self.min is None or n >= self.min) and (self.max is None or n <= self.max)


@typed
@attrs.frozen
class ItemCount:
    """The order has ``min..max`` items (Σ count), both inclusive."""

    min: int | None = attrs.field(default=None, validator=_bounds)
    max: int | None = attrs.field(default=None, validator=_bounds)
    kind = "item_count"

    def __attrs_post_init__(self) -> None:
        _ordered(self.min, self.max)

    def holds(self, facts: Facts) -> bool:
        n = sum(line.count for line in facts.order.lines)
        return (self.min is None or n >= self.min) and (self.max is None or n <= self.max)


def _amount(instance: object, attribute: attrs.Attribute[Decimal | None], value: object) -> None:
    if value is not None and (not isinstance(value, Decimal) or not value.is_finite() or value < 0):
        raise ValidationError((attribute.name,), value, "must be a non-negative decimal")
    if value is not None and value.adjusted() >= MAX_MAJOR_DIGITS:
        raise ValidationError((attribute.name,), value, f"must be below 10^{MAX_MAJOR_DIGITS}")


@typed
@attrs.frozen
class OrderTotal:
    """The order total (``base`` before promotions, or ``current`` when reached) is in range."""

    min: Decimal | None = attrs.field(default=None, validator=_amount)
    max: Decimal | None = attrs.field(default=None, validator=_amount)
    basis: Basis = attrs.field(default="base", validator=one_of(("base", "current")))
    kind = "order_total"

    def __attrs_post_init__(self) -> None:
        _ordered(self.min, self.max)

    def total(self, facts: Facts) -> int:
        return facts.base_total if self.basis == "base" else facts.current_total

    def holds(self, facts: Facts) -> bool:
        total = self.total(facts)
        return (self.min is None or total >= _money_minor(self.min, facts)) and (
            self.max is None or total <= _money_minor(self.max, facts)
        )

    def shortfall(self, facts: Facts) -> Decimal | None:
        """Minor units the customer must add to reach ``min`` (a near-miss hint), if any."""
        if self.min is None or self.holds(facts):
            return None
        missing = CONTEXT.subtract(_money_minor(self.min, facts), self.total(facts))
        return missing if missing > 0 else None


@typed
@attrs.frozen
class Dates:
    """``start <= t < end``; t is the order's ``create_time``, else ``now``."""

    start: dt.datetime | None = attrs.field(default=None, validator=aware)
    end: dt.datetime | None = attrs.field(default=None, validator=aware)
    kind = "dates"

    def __attrs_post_init__(self) -> None:
        _ordered(self.start, self.end, ("start", "end"))

    def holds(self, facts: Facts) -> bool:
        return (self.start is None or facts.at >= self.start) and (
            self.end is None or facts.at < self.end
        )


def _weekdays(values: Iterable[int]) -> frozenset[int]:
    if not isinstance(values, list | tuple | set | frozenset) or not all(
        type(d) is int for d in values
    ):
        raise ValidationError(("days",), values, "must be ISO weekdays 1..7")
    days = frozenset(values)
    if not days or any(isinstance(d, bool) or d not in range(1, 8) for d in days):
        raise ValidationError(("days",), values, "must be ISO weekdays 1..7")
    return days


@typed
@attrs.frozen
class Weekday:
    """The order falls on one of ``days`` (ISO: 1 = Monday), read in the offset of the time."""

    days: frozenset[int] = attrs.field(converter=_weekdays)
    kind = "weekday"

    def holds(self, facts: Facts) -> bool:
        return facts.at.isoweekday() in self.days


@typed
@attrs.frozen
class Hour:
    """``start <= hour < end`` on a 24-hour clock; ``start > end`` wraps past midnight (22..6)."""

    start: int = attrs.field(validator=one_of(range(24)))
    end: int = attrs.field(validator=one_of(range(1, 25)))
    kind = "hour"

    def __attrs_post_init__(self) -> None:
        if self.start == self.end:
            raise ValidationError(
                ("end",), self.end, "equals start: say 0 and 24 for the whole day"
            )

    def holds(self, facts: Facts) -> bool:
        hour = facts.at.hour
        if self.start < self.end:
            return self.start <= hour < self.end
        return hour >= self.start or hour < self.end


# --- line-level kinds (also usable at order level: "some line matches") ---------------------


def _some_line(condition: Product | Sku | Category | CustomField, facts: Facts) -> bool:
    """Order-level reading of a line condition: at least one line is selected."""
    return any(condition.selects(facts, i) for i in range(len(facts.order.lines)))


@typed
@attrs.frozen
class Product:
    """The line's ``product`` is one of these."""

    values: frozenset[str] = attrs.field(converter=_values, validator=_non_empty)
    kind = "product"

    def selects(self, facts: Facts, index: int) -> bool:
        return facts.order.lines[index].product in self.values

    def holds(self, facts: Facts) -> bool:
        return _some_line(self, facts)


@typed
@attrs.frozen
class Sku:
    """The line's ``sku`` is one of these."""

    values: frozenset[str] = attrs.field(converter=_values, validator=_non_empty)
    kind = "sku"

    def selects(self, facts: Facts, index: int) -> bool:
        return facts.order.lines[index].sku in self.values

    def holds(self, facts: Facts) -> bool:
        return _some_line(self, facts)


@typed
@attrs.frozen
class Category:
    """The line is in one of these categories (program catalog, or the line's own categories)."""

    values: frozenset[str] = attrs.field(converter=_values, validator=_non_empty)
    kind = "category"

    def selects(self, facts: Facts, index: int) -> bool:
        return not self.values.isdisjoint(facts.line_categories[index])

    def holds(self, facts: Facts) -> bool:
        return _some_line(self, facts)


@typed
@attrs.frozen
class CustomField:
    """A custom field equals one of ``values`` (compared as text); ``scope`` = order or line."""

    field: str = attrs.field(validator=not_blank)
    values: frozenset[str] = attrs.field(converter=_values, validator=_non_empty)
    scope: Literal["order", "line"] = attrs.field(
        default="order", validator=one_of(("order", "line"))
    )
    kind = "custom_field"

    def _matches(self, fields: Fields) -> bool:
        value = fields.get(self.field)
        return value is not None and _as_text(value) in self.values

    def selects(self, facts: Facts, index: int) -> bool:
        if self.scope == "order":
            return self._matches(facts.order.custom_fields)
        return self._matches(facts.order.lines[index].custom_fields)

    def holds(self, facts: Facts) -> bool:
        if self.scope == "order":
            return self._matches(facts.order.custom_fields)
        return _some_line(self, facts)


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- combinators -------------------------------------------------------------------------------


MAX_DEPTH = 32  # nesting of all / any / not; far beyond any real segment


def _conditions(values: Iterable[Condition]) -> tuple[Condition, ...]:
    if not isinstance(values, list | tuple):
        raise ValidationError(("of",), values, "must list at least one condition")
    return tuple(values)


def _some(
    instance: object, attribute: attrs.Attribute[tuple[Condition, ...]], value: object
) -> None:
    if not isinstance(value, tuple) or not value:
        raise ValidationError(("of",), value, "must list at least one condition")
    for index, item in enumerate(value):
        if not isinstance(item, Condition):
            raise ValidationError(("of", index), item, "must be a condition")
    _shallow(instance)


def _one(instance: object, attribute: attrs.Attribute[Condition], value: object) -> None:
    if not isinstance(value, Condition):
        raise ValidationError(("of",), value, "must be a condition")
    _shallow(instance)


def _shallow(combinator: object) -> None:
    """Evaluation recurses through combinators: bound the depth where the tree is built."""
    if _depth(combinator) > MAX_DEPTH:
        raise ValidationError(("of",), "…", f"conditions nested deeper than {MAX_DEPTH}")


def _depth(condition: object) -> int:
    if isinstance(condition, All | AnyOf):
        return 1 + max(_depth(c) for c in condition.of)
    if isinstance(condition, Not):
        return 1 + _depth(condition.of)
    return 1


@typed
@attrs.frozen
class All:
    """Every condition in ``of`` holds (for a line: selects it)."""

    of: tuple[Condition, ...] = attrs.field(converter=_conditions, validator=_some)
    kind = "all"

    def holds(self, facts: Facts) -> bool:
        return all(c.holds(facts) for c in self.of)

    def selects(self, facts: Facts, index: int) -> bool:
        return all(selects(c, facts, index) for c in self.of)


@typed
@attrs.frozen
class AnyOf:
    """At least one condition in ``of`` holds."""

    of: tuple[Condition, ...] = attrs.field(converter=_conditions, validator=_some)
    kind = "any"

    def holds(self, facts: Facts) -> bool:
        return any(c.holds(facts) for c in self.of)

    def selects(self, facts: Facts, index: int) -> bool:
        return any(selects(c, facts, index) for c in self.of)


@typed
@attrs.frozen
class Not:
    """The condition ``of`` does not hold."""

    of: Condition = attrs.field(validator=_one)
    kind = "not"

    def holds(self, facts: Facts) -> bool:
        return not self.of.holds(facts)

    def selects(self, facts: Facts, index: int) -> bool:
        return not selects(self.of, facts, index)


Condition: TypeAlias = (
    Endpoint
    | Region
    | OrderTag
    | MemberTier
    | MemberSegment
    | MemberTag
    | PromoCodeEntered
    | LineCount
    | ItemCount
    | OrderTotal
    | Dates
    | Weekday
    | Hour
    | Product
    | Sku
    | Category
    | CustomField
    | All
    | AnyOf
    | Not
)

KINDS: dict[str, type[Condition]] = {
    cls.kind: cls
    for cls in (
        Endpoint, Region, OrderTag, MemberTier, MemberSegment, MemberTag, PromoCodeEntered,
        LineCount, ItemCount, OrderTotal, Dates, Weekday, Hour, Product, Sku, Category,
        CustomField, All, AnyOf, Not,
    )
}  # fmt: skip
LINE_KINDS = (Product, Sku, Category, CustomField, All, AnyOf, Not)


def selects(condition: Condition, facts: Facts, index: int) -> bool:
    """Whether ``condition`` selects line ``index``; order-level kinds read the whole order."""
    if isinstance(condition, LINE_KINDS):
        return condition.selects(facts, index)
    return condition.holds(facts)


def is_line_filter(condition: Condition) -> bool:
    """A valid ``applies_to``: built only from line-level kinds and combinators."""
    if isinstance(condition, All | AnyOf):
        return all(is_line_filter(c) for c in condition.of)
    if isinstance(condition, Not):
        return is_line_filter(condition.of)
    return isinstance(condition, Product | Sku | Category) or (
        isinstance(condition, CustomField) and condition.scope == "line"
    )


def first_failure(conditions: Iterable[Condition], facts: Facts) -> Condition | None:
    """The first condition that does not hold, for the trace; ``None`` when all hold."""
    for condition in conditions:
        if not condition.holds(facts):
            return condition
    return None
