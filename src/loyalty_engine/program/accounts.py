"""Program parts that act on points accounts rather than on orders: tier groups and triggers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Literal

import attrs

from ..errors import ValidationError
from ..model import aware, decimal, not_blank
from ..money import parse_decimal
from ..validators import of_type, one_of, tuple_of, typed


def _id(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError((attribute.name,), value, "must be a non-negative integer")


def _amount(instance: object, attribute: attrs.Attribute[Decimal | None], value: object) -> None:
    if value is not None:
        decimal(instance, attribute, value)
    if value is not None and parse_decimal(value, (attribute.name,), places=6) <= 0:
        raise ValidationError((attribute.name,), value, "must be positive")


@typed
@attrs.frozen(kw_only=True)
class Tier:
    """A tier is reached when the member's qualification points reach ``threshold``."""

    id: int = attrs.field(validator=_id)
    eid: str = attrs.field(validator=not_blank)
    name: str = attrs.field(default=attrs.Factory(lambda self: self.eid, takes_self=True))
    threshold: Decimal = attrs.field(default=Decimal(0), validator=decimal)

    @threshold.validator
    def _threshold(self, attribute: attrs.Attribute[Decimal], value: object) -> None:
        if parse_decimal(value, ("threshold",), places=6) < 0:
            raise ValidationError(("threshold",), value, "must not be negative")


def _tiers(values: Iterable[Tier]) -> tuple[Tier, ...]:
    return tuple_of(values, Tier, "tiers")


@typed
@attrs.frozen(kw_only=True)
class TierGroup:
    """Tiers over one qualifying currency. ``cumulative``: points earned since joining count
    (redeeming or expiring does not lower them), and a tier once reached is kept."""

    id: int = attrs.field(validator=_id)
    name: str = attrs.field(default="tiers", validator=not_blank)
    type: Literal["cumulative"] = attrs.field(
        default="cumulative", validator=one_of(("cumulative",))
    )
    currency: str = attrs.field(validator=not_blank)  # eid of a currency with qualifying = true
    tiers: tuple[Tier, ...] = attrs.field(converter=_tiers)

    def __attrs_post_init__(self) -> None:
        if not self.tiers:
            raise ValidationError(("tiers",), [], "a tier group needs at least one tier")
        for i, (low, high) in enumerate(zip(self.tiers, self.tiers[1:], strict=False)):
            if high.threshold <= low.threshold:
                raise ValidationError(
                    ("tiers", i + 1, "threshold"), str(high.threshold), "must rise tier by tier"
                )
        for name in ("id", "eid"):
            values = [getattr(t, name) for t in self.tiers]
            if len(set(values)) != len(values):
                raise ValidationError(("tiers",), values, f"duplicate tier {name}")


@typed
@attrs.frozen(kw_only=True)
class TriggerRule:
    """One currency a trigger promotion accrues or redeems.

    The caller's amount must lie in [min_amount, max_amount] (each optional); without an amount,
    ``static_amount`` is used.
    """

    currency: str = attrs.field(validator=not_blank)
    static_amount: Decimal | None = attrs.field(default=None, validator=_amount)
    min_amount: Decimal | None = attrs.field(default=None, validator=_amount)
    max_amount: Decimal | None = attrs.field(default=None, validator=_amount)

    def __attrs_post_init__(self) -> None:
        low, high = self.min_amount, self.max_amount
        if low is not None and high is not None and low > high:
            raise ValidationError(("max_amount",), str(high), "is below min_amount")
        static = self.static_amount
        if static is not None and not (
            (low is None or static >= low) and (high is None or static <= high)
        ):
            raise ValidationError(("static_amount",), str(static), "outside min/max_amount")


def _rules(values: Iterable[TriggerRule]) -> tuple[TriggerRule, ...]:
    return tuple_of(values, TriggerRule, "rules")


@typed
@attrs.frozen(kw_only=True)
class TriggerPromotion:
    """A promotion fired by a scenario or an API call rather than by an order."""

    id: int = attrs.field(validator=_id)
    external_id: str = attrs.field(validator=not_blank)
    name: str = attrs.field(default=attrs.Factory(lambda self: self.external_id, takes_self=True))
    description: str = ""
    start_date: dt.datetime | None = attrs.field(default=None, validator=aware)
    end_date: dt.datetime | None = attrs.field(default=None, validator=aware)
    is_active: bool = attrs.field(default=True, validator=of_type(bool))
    accrual_rules: tuple[TriggerRule, ...] = attrs.field(default=(), converter=_rules)
    redeem_rules: tuple[TriggerRule, ...] = attrs.field(default=(), converter=_rules)

    def __attrs_post_init__(self) -> None:
        if self.start_date and self.end_date and self.start_date >= self.end_date:
            raise ValidationError(("end_date",), self.end_date.isoformat(), "must be after start")

    def live(self, at: dt.datetime) -> bool:
        """Switched on and inside its dates (start inclusive, end exclusive)."""
        return (
            self.is_active
            and (self.start_date is None or at >= self.start_date)
            and (self.end_date is None or at < self.end_date)
        )
