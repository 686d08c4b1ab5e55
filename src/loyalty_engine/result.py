"""What ``calculate`` returns: the calculated order, with every figure exact and explained.

Line figures are *line totals* (all items of the line); per-item prices are derived. Line totals
are the source of truth, so Σ line totals = order totals to the last minor unit by construction.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Protocol

import attrs

from .model import Line, Member, Order, PointsCurrency
from .money import Money
from .program.benefits import PromotionType


@attrs.frozen(kw_only=True)
class AppliedPromotion:
    """One promotion's effect on one line (or on the order, for codes and messages).

    ``amount`` is money: the discount, or the money value of redeemed points. ``points`` is the
    number of points accrued or redeemed, in ``currency``.
    """

    type: PromotionType
    external_id: str
    name: str
    amount: Money | None = None
    points: Decimal | None = None
    currency: PointsCurrency | None = None
    expiration_date: dt.datetime | None = None
    limited: bool = False  # less than the promotion's full benefit: clamped, capped or short


@attrs.frozen(kw_only=True)
class CalculatedLine:
    """An order line after promotions."""

    line: Line
    final_total: Money
    applied: tuple[AppliedPromotion, ...] = ()

    @property
    def base_total(self) -> Money:
        return Money.of_minor(self.line.base_price_per_item.minor * self.line.count, self.currency)

    @property
    def currency(self) -> str:
        return self.final_total.currency

    @property
    def discount(self) -> Money:
        """Base total − final total: every promotion's money effect on this line together."""
        return Money.of_minor(self.base_total.minor - self.final_total.minor, self.currency)

    @property
    def breakdown(self) -> tuple[tuple[int, Money], ...]:
        """(count, price per item) groups that make up the final total, highest price first.

        One group when the price is uniform; two when the ``breakdown`` policy left a remainder
        (2 × 33.34 + 1 × 33.33 = 100.01).
        """
        count = self.line.count
        price, extra = divmod(self.final_total.minor, count)
        groups = [(extra, price + 1), (count - extra, price)]
        return tuple((n, Money.of_minor(p, self.currency)) for n, p in groups if n)

    @property
    def final_price_per_item(self) -> Money:
        """The uniform final price; with a breakdown, its highest price (see ``breakdown``)."""
        return self.breakdown[0][1]


class Status(enum.Enum):
    """Outcome of a points request for one currency (``points_info[].status``)."""

    SUCCESS = "success"
    LIMITED = "limited"  # less than requested; ``reason`` says why
    INSUFFICIENT_BALANCE = "insufficient_balance"  # nothing redeemable: balance is zero
    NOT_MEMBER = "not_member"
    UNKNOWN_CURRENCY = "unknown_currency"
    NOT_AVAILABLE = "not_available"  # no redeem promotion applies to this order


@attrs.frozen(kw_only=True)
class PointsSummary:
    """Points of one currency for this order.

    ``active_balance`` is the member's spendable balance *before* this order
    (``active_amount_for_current_order``).
    """

    currency: PointsCurrency
    status: Status
    active_balance: Decimal
    accrued: Decimal
    redeemed: Decimal
    requested: Decimal
    reason: str | None = None


class CodeState(enum.Enum):
    """What happened to a promo code the customer entered."""

    APPLIED = "applied"  # a promotion conditioned on it applied
    NOT_APPLICABLE = "not_applicable"  # no applying promotion asks for it


@attrs.frozen(kw_only=True)
class CodeStatus:
    """A promo code the customer entered: applied, or not, and the promotions it unlocked."""

    code: str
    pool_id: int | None
    state: CodeState
    promotions: tuple[str, ...] = ()  # external ids of the promotions it unlocked


@attrs.frozen(kw_only=True)
class CodesToIssue:
    """A ``code_issue`` promotion's declaration: at commit, take ``count`` codes from the pool."""

    external_id: str
    name: str
    pool_id: int
    pool_name: str
    count: int


@attrs.frozen(kw_only=True)
class MessageOut:
    """A ``message`` promotion's rendered text."""

    external_id: str
    name: str
    text: str


class Reason(enum.Enum):
    """Why a promotion applied or not: a stable code for machines, with a sentence for people."""

    APPLIED = "applied"
    CLAMPED = "clamped"  # applied, but cut by min prices (or nothing above them)
    CAPPED = "capped"  # applied, but cut by max_amount or the program's max discount share
    INACTIVE = "inactive"
    OUTSIDE_DATES = "outside_dates"
    CONDITION_FAILED = "condition_failed"
    NO_LINES = "no_lines"  # its applies_to selects no line
    NOT_REQUESTED = "not_requested"  # a redemption nobody asked for
    NOT_MEMBER = "not_member"
    LOST_ARBITRATION = "lost_arbitration"
    EXCLUSIVE = "exclusive"  # every line it selects is held by an exclusive promotion
    STOPPED = "stopped"  # a stop_after promotion of higher priority applied first
    NO_BENEFIT = "no_benefit"  # it computes to zero (nothing left above min prices, etc.)


APPLIED_REASONS = frozenset({Reason.APPLIED, Reason.CLAMPED, Reason.CAPPED})  # it gave something


@attrs.frozen(kw_only=True)
class TraceEntry:
    """For one promotion: applied or not, and why."""

    type: PromotionType
    external_id: str
    name: str
    reason: Reason
    detail: str

    @property
    def applied(self) -> bool:
        return self.reason in APPLIED_REASONS


class Outcome(Protocol):
    """What a calculation leaves behind: integer totals, and each value built when first asked.

    ``calculate`` makes one; each property returns the same object on every read.
    """

    @property
    def final_minor(self) -> int:
        """Σ final line totals, in minor units."""
        ...

    @property
    def delivery_minor(self) -> int:
        """The delivery cost after promotions, in minor units."""
        ...

    @property
    def lines(self) -> tuple[CalculatedLine, ...]: ...

    @property
    def points(self) -> tuple[PointsSummary, ...]: ...

    @property
    def promo_codes(self) -> tuple[CodeStatus, ...]: ...

    @property
    def codes_to_issue(self) -> tuple[CodesToIssue, ...]: ...

    @property
    def messages(self) -> tuple[MessageOut, ...]: ...

    @property
    def applied(self) -> tuple[AppliedPromotion, ...]: ...

    @property
    def trace(self) -> tuple[TraceEntry, ...]: ...


@attrs.frozen(kw_only=True)
class Fixed:
    """An outcome given as values, for tests and tools that build or alter a result by hand:
    ``attrs.evolve(result, outcome=attrs.evolve(Fixed.of(result), lines=...))``."""

    lines: tuple[CalculatedLine, ...]
    delivery_cost: Money
    points: tuple[PointsSummary, ...] = ()
    promo_codes: tuple[CodeStatus, ...] = ()
    codes_to_issue: tuple[CodesToIssue, ...] = ()
    messages: tuple[MessageOut, ...] = ()
    applied: tuple[AppliedPromotion, ...] = ()
    trace: tuple[TraceEntry, ...] = ()

    @classmethod
    def of(cls, result: CalculatedOrder) -> Fixed:
        """Every value of ``result``, as it reads."""
        return cls(lines=result.lines, delivery_cost=result.delivery_cost, points=result.points,
                   promo_codes=result.promo_codes, codes_to_issue=result.codes_to_issue,
                   messages=result.messages, applied=result.applied,
                   trace=result.trace)  # fmt: skip

    @property
    def final_minor(self) -> int:
        return sum(line.final_total.minor for line in self.lines)

    @property
    def delivery_minor(self) -> int:
        return self.delivery_cost.minor


# what a calculated order is compared, hashed and shown by: its values as the caller reads them
_COMPARED = ("order", "member", "now", "lines", "delivery_cost", "points", "promo_codes",
             "codes_to_issue", "messages", "applied")  # fmt: skip


@attrs.frozen(kw_only=True, eq=False, repr=False)
class CalculatedOrder:
    """The calculated order: line results, points per currency, codes, messages and the trace.

    The figures are kept as integers; the values below are built on first access and cached, so
    a caller who reads only ``final_total_price`` pays for nothing else.
    """

    order: Order
    member: Member | None
    now: dt.datetime  # the ``now`` it was calculated with; promotions were judged at ``at``
    _outcome: Outcome = attrs.field(alias="outcome")

    @property
    def lines(self) -> tuple[CalculatedLine, ...]:
        return self._outcome.lines

    @property
    def delivery_cost(self) -> Money:
        return Money.of_minor(self._outcome.delivery_minor, self.order.currency)

    @property
    def points(self) -> tuple[PointsSummary, ...]:
        return self._outcome.points

    @property
    def promo_codes(self) -> tuple[CodeStatus, ...]:
        return self._outcome.promo_codes

    @property
    def codes_to_issue(self) -> tuple[CodesToIssue, ...]:
        return self._outcome.codes_to_issue

    @property
    def messages(self) -> tuple[MessageOut, ...]:
        return self._outcome.messages

    @property
    def applied(self) -> tuple[AppliedPromotion, ...]:
        """Order-level: delivery discounts and points."""
        return self._outcome.applied

    @property
    def trace(self) -> tuple[TraceEntry, ...]:
        """Every promotion, in program order: applied or not, and why."""
        return self._outcome.trace

    @property
    def at(self) -> dt.datetime:
        """When promotions were judged: the order's create_time, else ``now``."""
        return self.order.create_time or self.now

    @property
    def total_price(self) -> Money:
        """Σ base price × count over the lines (delivery is reported beside it)."""
        return self.order.total_price

    @property
    def final_total_price(self) -> Money:
        """Σ final line totals (delivery is reported beside it)."""
        return Money.of_minor(self._outcome.final_minor, self.order.currency)

    @property
    def discount_total(self) -> Money:
        """What promotions and points took off the lines and the delivery together."""
        minor = self.order.total_price.minor - self._outcome.final_minor
        minor += self.order.delivery_cost.minor - self._outcome.delivery_minor
        return Money.of_minor(minor, self.order.currency)

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in _COMPARED)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CalculatedOrder):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={v!r}" for n, v in zip(_COMPARED, self._values(), strict=True))
        return f"CalculatedOrder({shown})"
