"""What one order did under one program, and the sums over many orders.

An ``Outcome`` is read off a ``CalculatedOrder``: integer minor units for money, exact Decimal
points. The tallies add outcomes up and merge with each other; every sum is exact and every
merge commutative, so the report is the same whatever the chunks or the workers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from decimal import Decimal, localcontext

import attrs

from ..money import CONTEXT
from ..result import CalculatedOrder

# discount as a share of the base total: a bucket holds its upper bound (percent)
BUCKETS = (0, 5, 10, 15, 20, 30, 50, 100)
BUCKET_NAMES = ("0%", "0–5%", "5–10%", "10–15%", "15–20%", "20–30%", "30–50%", "50–100%")
Points = dict[str, Decimal]  # currency eid → points


def _add(into: Points, more: Iterable[tuple[str, Decimal]], sign: int = 1) -> None:
    with localcontext(CONTEXT):
        for eid, points in more:
            into[eid] = into.get(eid, Decimal(0)) + sign * points


@attrs.frozen(kw_only=True)
class Use:
    """One promotion on one order: the money it took off and the points it moved."""

    external_id: str
    name: str
    type: str
    cost: int  # minor units
    points: tuple[tuple[str, Decimal], ...] = ()


@attrs.frozen(kw_only=True)
class Outcome:
    """One order under one program, in the figures the report sums."""

    currency: str
    before: int  # base total with the delivery, minor units
    after: int  # final total with the delivery
    accrued: tuple[tuple[str, Decimal], ...] = ()
    redeemed: tuple[tuple[str, Decimal], ...] = ()
    uses: tuple[Use, ...] = ()  # by (type, external_id): one id may name an accrual and a
    # redemption both (seed 003's "bonus")

    @classmethod
    def of(cls, result: CalculatedOrder) -> Outcome:
        uses: dict[tuple[str, str], Use] = {}
        applied = [a for line in result.lines for a in line.applied] + list(result.applied)
        for a in applied:
            cost = a.amount.minor if a.amount is not None else 0
            moved: tuple[tuple[str, Decimal], ...] = (
                ((a.currency.eid, a.points),) if a.currency and a.points else ()
            )
            key = (a.type, a.external_id)
            seen = uses.get(key)
            if seen is not None:
                points: Points = dict(seen.points)
                _add(points, moved)
                moved, cost = tuple(sorted(points.items())), cost + seen.cost
            uses[key] = Use(external_id=a.external_id, name=a.name, type=a.type,
                                      cost=cost, points=moved)  # fmt: skip
        order = result.order
        return cls(
            currency=order.currency,
            before=result.total_price.minor + order.delivery_cost.minor,
            after=result.final_total_price.minor + result.delivery_cost.minor,
            accrued=tuple((s.currency.eid, s.accrued) for s in result.points if s.accrued),
            redeemed=tuple((s.currency.eid, s.redeemed) for s in result.points if s.redeemed),
            uses=tuple(uses[k] for k in sorted(uses)),
        )

    @property
    def discount(self) -> int:
        return self.before - self.after

    def bucket(self) -> int:
        """Which of ``BUCKETS`` the order's discount share falls in (integer arithmetic)."""
        if self.discount <= 0 or self.before <= 0:
            return 0
        share = self.discount * 100
        return next(i for i, top in enumerate(BUCKETS) if i and share <= top * self.before)


@attrs.define
class MoneyTally:
    """One order currency's sums, minor units."""

    orders: int = 0
    before: int = 0
    after: int = 0
    charged: int = 0
    charged_orders: int = 0

    def merge(self, other: MoneyTally) -> None:
        self.orders += other.orders
        self.before += other.before
        self.after += other.after
        self.charged += other.charged
        self.charged_orders += other.charged_orders


@attrs.define
class PromotionTally:
    name: str
    type: str
    orders: int = 0
    cost: dict[str, int] = attrs.Factory(dict)  # order currency → minor units
    points: Points = attrs.Factory(dict)

    def merge(self, other: PromotionTally) -> None:
        self.orders += other.orders
        for currency, cost in other.cost.items():
            self.cost[currency] = self.cost.get(currency, 0) + cost
        _add(self.points, other.points.items())


@attrs.define
class ProgramTally:
    """One program over many orders."""

    orders: int = 0
    refused: Counter[str] = attrs.Factory(Counter)
    money: dict[str, MoneyTally] = attrs.Factory(dict)
    accrued: Points = attrs.Factory(dict)
    redeemed: Points = attrs.Factory(dict)
    promotions: dict[tuple[str, str], PromotionTally] = attrs.Factory(dict)  # (type, id)
    buckets: list[int] = attrs.Factory(lambda: [0] * len(BUCKETS))

    def add(self, outcome: Outcome, charged: int | None) -> None:
        """Count one order, in place (this runs for every order under every program)."""
        self.orders += 1
        money = self.money.get(outcome.currency)
        if money is None:
            money = self.money[outcome.currency] = MoneyTally()
        money.orders += 1
        money.before += outcome.before
        money.after += outcome.after
        if charged is not None:
            money.charged += charged
            money.charged_orders += 1
        _add(self.accrued, outcome.accrued)
        _add(self.redeemed, outcome.redeemed)
        for use in outcome.uses:
            key = (use.type, use.external_id)
            tally = self.promotions.get(key)
            if tally is None:
                tally = self.promotions[key] = PromotionTally(use.name, use.type)
            tally.orders += 1
            tally.cost[outcome.currency] = tally.cost.get(outcome.currency, 0) + use.cost
            _add(tally.points, use.points)
        self.buckets[outcome.bucket()] += 1

    def merge(self, other: ProgramTally) -> None:
        self.orders += other.orders
        self.refused.update(other.refused)
        for currency, money in other.money.items():
            self.money.setdefault(currency, MoneyTally()).merge(money)
        _add(self.accrued, other.accrued.items())
        _add(self.redeemed, other.redeemed.items())
        for key, tally in other.promotions.items():
            self.promotions.setdefault(key, PromotionTally(tally.name, tally.type)).merge(tally)
        self.buckets = [a + b for a, b in zip(self.buckets, other.buckets, strict=True)]


@attrs.define
class ComparisonTally:
    """A program against the baseline, over the orders both calculated."""

    compared: int = 0
    changed: int = 0
    cheaper: int = 0
    dearer: int = 0
    after: dict[str, int] = attrs.Factory(dict)  # order currency → Σ (program − baseline)
    accrued: Points = attrs.Factory(dict)
    redeemed: Points = attrs.Factory(dict)

    def add(self, outcome: Outcome, baseline: Outcome) -> bool:
        """Count the order; True when the two programs disagree on it."""
        self.compared += 1
        delta = outcome.after - baseline.after
        changed = delta != 0 or (dict(outcome.accrued), dict(outcome.redeemed)) != (
            dict(baseline.accrued), dict(baseline.redeemed))  # fmt: skip
        self.changed += changed
        self.cheaper += delta < 0
        self.dearer += delta > 0
        self.after[outcome.currency] = self.after.get(outcome.currency, 0) + delta
        _add(self.accrued, outcome.accrued)
        _add(self.accrued, baseline.accrued, -1)
        _add(self.redeemed, outcome.redeemed)
        _add(self.redeemed, baseline.redeemed, -1)
        return changed

    def merge(self, other: ComparisonTally) -> None:
        self.compared += other.compared
        self.changed += other.changed
        self.cheaper += other.cheaper
        self.dearer += other.dearer
        for currency, delta in other.after.items():
            self.after[currency] = self.after.get(currency, 0) + delta
        _add(self.accrued, other.accrued.items())
        _add(self.redeemed, other.redeemed.items())
