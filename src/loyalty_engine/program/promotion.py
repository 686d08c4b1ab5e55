"""A promotion (when it applies, to what, what it gives) and the groups that arbitrate it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Literal

import attrs

from ..conditions import Condition
from ..errors import ValidationError
from ..model import aware, not_blank, optional_text
from ..money import MAX_MAJOR_DIGITS
from ..validators import of_type, one_of, tuple_of, typed
from .benefits import TYPE_OF, Benefit, PromotionType

Choice = str  # "stack" | "priority" | "best_for_customer" | "best_for_merchant" | a plugged-in name
BUILTIN_CHOICES = ("stack", "priority", "best_for_customer", "best_for_merchant")
Compounding = Literal["sequential", "on_base"]
Scope = Literal["order", "line"]


def _conditions(values: Iterable[Condition]) -> tuple[Condition, ...]:
    return tuple_of(values, Condition, "conditions")


def _choice(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value.isidentifier():
        raise ValidationError(("choice",), value, f"must be one of {BUILTIN_CHOICES} or a name")


@typed
@attrs.frozen(kw_only=True)
class Group:
    """Promotions that compete: ``choice`` says who wins, ``scope`` whether per line or order.

    Groups nest through ``parent``; promotions with no group sit in the program's root group.
    """

    id: str = attrs.field(validator=not_blank)
    choice: Choice = attrs.field(default="stack", validator=_choice)
    scope: Scope = attrs.field(default="order", validator=one_of(("order", "line")))
    compounding: Compounding = attrs.field(
        default="sequential", validator=one_of(("sequential", "on_base"))
    )
    priority: int = attrs.field(default=0, validator=of_type(int))
    parent: str | None = attrs.field(default=None, validator=optional_text)

    @property
    def rank(self) -> tuple[int, str]:
        """Evaluation order among siblings: higher priority first, ties by id."""
        return (-self.priority, self.id)


@typed
@attrs.frozen(kw_only=True)
class Promotion:
    """One promotion of a program; ``type`` follows from the benefit's class."""

    external_id: str = attrs.field(validator=not_blank)
    name: str = attrs.field(default=attrs.Factory(lambda self: self.external_id, takes_self=True))
    benefit: Benefit
    conditions: tuple[Condition, ...] = attrs.field(default=(), converter=_conditions)
    applies_to: Condition | None = None  # which lines get the benefit; None = every line
    priority: int = attrs.field(default=0, validator=of_type(int))
    exclusive: bool = attrs.field(default=False, validator=of_type(bool))
    stop_after: bool = attrs.field(default=False, validator=of_type(bool))
    group: str | None = attrs.field(default=None, validator=optional_text)
    max_amount: Decimal | None = None  # money for a discount, points for an accrual
    start: dt.datetime | None = attrs.field(default=None, validator=aware)
    end: dt.datetime | None = attrs.field(default=None, validator=aware)
    is_active: bool = attrs.field(default=True, validator=of_type(bool))
    # derived from the fields above at construction; the engine reads them per order
    type: PromotionType = attrs.field(init=False, eq=False, repr=False)
    """The wire ``type``: discount, accrue_points, redeem_points, code_issue or message."""
    key: tuple[str, str] = attrs.field(init=False, eq=False, repr=False)
    """Identity within a program: the seeds reuse one external_id for accrue and redeem."""
    rank: tuple[int, str] = attrs.field(init=False, eq=False, repr=False)
    """Evaluation order among siblings: higher priority first, ties by external_id."""

    def __attrs_post_init__(self) -> None:
        if type(self.benefit) not in TYPE_OF:
            raise ValidationError(("benefit",), self.benefit, "is not a benefit")
        kind = TYPE_OF[type(self.benefit)]
        object.__setattr__(self, "type", kind)
        object.__setattr__(self, "key", (kind, self.external_id))
        object.__setattr__(self, "rank", (-self.priority, self.external_id))
        if self.max_amount is not None and (
            not isinstance(self.max_amount, Decimal)
            or not self.max_amount.is_finite()
            or self.max_amount <= 0
            or self.max_amount.adjusted() >= MAX_MAJOR_DIGITS
        ):
            raise ValidationError(("max_amount",), self.max_amount, "must be a positive decimal")
        if self.max_amount is not None and self.type not in ("discount", "accrue_points"):
            raise ValidationError(("max_amount",), str(self.max_amount), f"not for {self.type}")
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValidationError(("end",), self.end.isoformat(), "must be after start")

    def live(self, at: dt.datetime) -> bool:
        """Switched on and inside its dates (start inclusive, end exclusive)."""
        return (
            self.is_active
            and (self.start is None or at >= self.start)
            and (self.end is None or at < self.end)
        )
