"""What a promotion gives: a discount, points accrued or redeemed, codes, a message.

These are definitions only; the pipeline stages compute them. ``BENEFITS`` maps the pair
(promotion ``type``, benefit ``kind``) used in program files to the class.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Literal, TypeAlias

import attrs

from ..errors import ValidationError
from ..model import not_blank
from ..money import MAX_MAJOR_DIGITS
from ..validators import of_type, one_of, optional, tuple_of, typed

AccrualBase = Literal["base", "discounted", "paid"]
Selection = Literal["cheapest", "most_expensive"]


def _decimal_in(low: Decimal, high: Decimal | None, *, low_open: bool = False) -> Any:
    """Validator: a finite Decimal in [low, high] (or (low, high] when ``low_open``)."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        ok = (
            isinstance(value, Decimal) and value.is_finite() and value.adjusted() < MAX_MAJOR_DIGITS
        )
        if ok:
            assert isinstance(value, Decimal)
            ok = (value > low if low_open else value >= low) and (high is None or value <= high)
        if not ok:
            top = f"{high}]" if high is not None else f"10^{MAX_MAJOR_DIGITS})"
            span = f"{'(' if low_open else '['}{low}..{top}"
            raise ValidationError((attribute.name,), value, f"must be a decimal in {span}")

    return check


def _int_in(low: int) -> Any:
    """Validator: an integer in ``low``..1000000."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 1_000_000:
            raise ValidationError((attribute.name,), value, f"must be an integer in {low}..1000000")

    return check


_positive_int = _int_in(1)
# A zero benefit loads and does nothing (trace: no_benefit), so a shop can park a promotion at 0;
# a percent above 100 is refused: no discount may take more than the price.
_PERCENT = _decimal_in(Decimal(0), Decimal(100))
_POSITIVE = _decimal_in(Decimal(0), None, low_open=True)
_NON_NEGATIVE = _decimal_in(Decimal(0), None)


# --- discounts ---------------------------------------------------------------------------------


@typed
@attrs.frozen
class PercentOff:
    """``percent`` off each selected line, rounded per line by the program's rounding mode."""

    percent: Decimal = attrs.field(validator=_PERCENT)
    kind = "percent"


@typed
@attrs.frozen
class AmountOffItem:
    """``amount`` off every item of each selected line."""

    amount: Decimal = attrs.field(validator=_NON_NEGATIVE)
    kind = "amount_per_item"


@typed
@attrs.frozen
class AmountOffOrder:
    """``amount`` off the order, allocated to selected lines by headroom (largest remainder)."""

    amount: Decimal = attrs.field(validator=_NON_NEGATIVE)
    kind = "amount_per_order"


@typed
@attrs.frozen
class FixedPrice:
    """Each selected item costs ``price`` (never raises a price already below it)."""

    price: Decimal = attrs.field(validator=_NON_NEGATIVE)
    kind = "fixed_price"


@typed
@attrs.frozen
class BuyXGetY:
    """Of every ``buy + get`` selected items, the ``get`` chosen by ``select`` get ``percent`` off.

    Cheapest-N-free is ``buy = K, get = N`` with the default ``select = "cheapest"``; with
    ``repeat = false`` it applies once per order, not per ``buy + get`` items; ``buy = 0`` makes
    the ``get`` cheapest (or dearest) units of the order free, once.
    """

    buy: int = attrs.field(validator=_int_in(0))
    get: int = attrs.field(validator=_positive_int)
    percent: Decimal = attrs.field(default=Decimal(100), validator=_PERCENT)
    select: Selection = attrs.field(
        default="cheapest", validator=one_of(("cheapest", "most_expensive"))
    )
    repeat: bool = attrs.field(default=True, validator=of_type(bool))
    kind = "buy_x_get_y"


@typed
@attrs.frozen
class Step:
    """One rung of a tiered discount: from order total ``min_total``, ``percent`` off."""

    min_total: Decimal = attrs.field(validator=_NON_NEGATIVE)
    percent: Decimal = attrs.field(validator=_PERCENT)


def _steps(values: Iterable[Step]) -> tuple[Step, ...]:
    return tuple(sorted(tuple_of(values, Step, "steps"), key=lambda step: step.min_total))


def _distinct_steps(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    assert isinstance(value, tuple)
    if not value:
        raise ValidationError(("steps",), value, "must list at least one step")
    totals = [step.min_total for step in value]
    if len(set(totals)) != len(totals):
        raise ValidationError(("steps",), [str(t) for t in totals], "min_total repeats")


@typed
@attrs.frozen
class TieredPercent:
    """The highest step whose ``min_total`` the order total reaches sets the percent."""

    steps: tuple[Step, ...] = attrs.field(converter=_steps, validator=_distinct_steps)
    basis: Literal["base", "current"] = attrs.field(
        default="base", validator=one_of(("base", "current"))
    )
    kind = "tiered_percent"


Discount: TypeAlias = (
    PercentOff | AmountOffItem | AmountOffOrder | FixedPrice | BuyXGetY | TieredPercent
)


# --- points ------------------------------------------------------------------------------------


# ``tier_multipliers`` = {tier: factor}, applied to the points of that tier's members. Each class
# spells its field out (no field factory) so that mypy's attrs plugin sees this converter and types
# ``__init__`` by what it accepts: a mapping.
def _multipliers(
    value: Mapping[str, Decimal] | Iterable[tuple[str, Decimal]],
) -> tuple[tuple[str, Decimal], ...]:
    pairs: object = list(value.items()) if isinstance(value, Mapping) else value
    if not isinstance(pairs, list | tuple) or not all(
        isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in pairs
    ):
        raise ValidationError(("tier_multipliers",), value, "must map tier names to decimals")
    return tuple(sorted(pairs))


def _check_multipliers(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    assert isinstance(value, tuple)
    for tier, factor in value:
        if not isinstance(factor, Decimal) or not factor.is_finite() or not 0 <= factor <= 100:
            raise ValidationError(("tier_multipliers", tier), factor, "must be a decimal in 0..100")


_ACCRUAL_BASES = one_of(("base", "discounted", "paid", None))


@typed
@attrs.frozen(kw_only=True)
class AccruePercent:
    """``percent`` of the accrual base, in points of ``currency``, rounded down."""

    currency: str = attrs.field(validator=not_blank)
    percent: Decimal = attrs.field(validator=_decimal_in(Decimal(0), Decimal(1000)))
    base: AccrualBase | None = attrs.field(default=None, validator=_ACCRUAL_BASES)
    tier_multipliers: tuple[tuple[str, Decimal], ...] = attrs.field(
        default=(), converter=_multipliers, validator=_check_multipliers
    )
    kind = "percent"


@typed
@attrs.frozen(kw_only=True)
class AccruePerSpend:
    """``points`` for every full ``per`` of money in the accrual base."""

    currency: str = attrs.field(validator=not_blank)
    points: Decimal = attrs.field(validator=_NON_NEGATIVE)
    per: Decimal = attrs.field(validator=_POSITIVE)
    base: AccrualBase | None = attrs.field(default=None, validator=_ACCRUAL_BASES)
    tier_multipliers: tuple[tuple[str, Decimal], ...] = attrs.field(
        default=(), converter=_multipliers, validator=_check_multipliers
    )
    kind = "per_spend"


@typed
@attrs.frozen(kw_only=True)
class AccrueFixed:
    """``points`` per qualifying order, spread over the selected lines by base price."""

    currency: str = attrs.field(validator=not_blank)
    points: Decimal = attrs.field(validator=_NON_NEGATIVE)
    tier_multipliers: tuple[tuple[str, Decimal], ...] = attrs.field(
        default=(), converter=_multipliers, validator=_check_multipliers
    )
    kind = "fixed"


Accrual: TypeAlias = AccruePercent | AccruePerSpend | AccrueFixed


@typed
@attrs.frozen(kw_only=True)
class Redeem:
    """Lets the customer pay with points of ``currency`` (every currency when omitted).

    ``max_percent`` bounds the share of the order (after discounts) payable by points.
    """

    currency: str | None = attrs.field(default=None)
    max_percent: Decimal | None = attrs.field(default=None, validator=optional(_PERCENT))
    kind = "redeem"


@typed
@attrs.frozen(kw_only=True)
class IssueCodes:
    """At commit, take ``count`` codes from pool ``pool_id``."""

    pool_id: int = attrs.field(validator=_positive_int)
    pool_name: str = attrs.field(validator=not_blank)
    count: int = attrs.field(default=1, validator=_positive_int)
    kind = "issue"


PLACEHOLDERS = ("accrued", "redeemed", "discount", "final_total", "total", "tier")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _template(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > 2000:
        raise ValidationError(("template",), value, "must be a non-empty text of ≤ 2000 chars")
    for name in _PLACEHOLDER.findall(value.replace("{{", "").replace("}}", "")):
        if name not in PLACEHOLDERS:
            raise ValidationError(
                ("template",), f"{{{name}}}", f"unknown placeholder; use one of {PLACEHOLDERS}"
            )


@typed
@attrs.frozen(kw_only=True)
class Message:
    """A text shown to the customer; ``{accrued}`` etc. are filled in, nothing else is."""

    template: str = attrs.field(validator=_template)
    currency: str | None = None  # whose points {accrued}/{redeemed} count; default: the first
    kind = "text"

    def render(self, values: Mapping[str, str]) -> str:
        """Fill the fixed placeholders; ``{{`` and ``}}`` are literal braces.

        Not ``str.format``: a template can name a value but never reach an attribute of it.
        """
        parts = re.split(r"(\{\{|\}\}|\{[^{}]*\})", self.template)
        out = []
        for part in parts:
            if part in ("{{", "}}"):
                out.append(part[0])
            elif part.startswith("{") and part.endswith("}") and len(part) > 1:
                out.append(values[part[1:-1]])
            else:
                out.append(part)
        return "".join(out)


Benefit: TypeAlias = Discount | Accrual | Redeem | IssueCodes | Message

PromotionType = Literal["discount", "accrue_points", "redeem_points", "code_issue", "message"]
BENEFITS: dict[tuple[str, str], type[Benefit]] = {
    ("discount", "percent"): PercentOff,
    ("discount", "amount_per_item"): AmountOffItem,
    ("discount", "amount_per_order"): AmountOffOrder,
    ("discount", "fixed_price"): FixedPrice,
    ("discount", "buy_x_get_y"): BuyXGetY,
    ("discount", "tiered_percent"): TieredPercent,
    ("accrue_points", "percent"): AccruePercent,
    ("accrue_points", "per_spend"): AccruePerSpend,
    ("accrue_points", "fixed"): AccrueFixed,
    ("redeem_points", "redeem"): Redeem,
    ("code_issue", "issue"): IssueCodes,
    ("message", "text"): Message,
}
TYPE_OF: dict[type[Benefit], PromotionType] = {
    cls: kind  # type: ignore[misc]
    for (kind, _), cls in BENEFITS.items()
}
