"""Accrue stage: points for the purchase, per points currency.

How this works: the accrual base is summed over the chosen lines (``base`` price by default, as
both seed examples show; ``discounted`` after discounts; ``paid`` after points too), the points
are computed exactly as a ``Fraction``, multiplied for the member's tier, rounded *down* to the
currency's precision, capped by ``max_amount``, and only then allocated to the lines by largest
remainder (weights = each line's base), so the line figures add up to the order figure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import attrs

from ..model import Member
from ..money import allocate, exponent
from ..program.benefits import AccrueFixed, AccruePercent, AccruePerSpend
from ..program.program import Program
from ..program.promotion import Promotion
from ..result import Reason
from .cart import Cart, Record
from .discount import minor_units
from .eligibility import candidate_slots


@attrs.frozen
class AccrueStage:
    """Runs accrual promotions; ``discounted`` and ``paid`` are slot totals after those stages."""

    program: Program
    member: Member | None
    currency: str
    discounted: Sequence[int]
    paid: Sequence[int]
    types = ("accrue_points",)

    def apply(self, promotion: Promotion, cart: Cart, basis: Sequence[int]) -> None:
        benefit = promotion.benefit
        assert isinstance(benefit, AccruePercent | AccruePerSpend | AccrueFixed)
        if self.member is None:
            cart.note(promotion, Reason.NOT_MEMBER, "a guest has no points account")
            return
        chosen = candidate_slots(promotion, cart, delivery=False)
        if chosen is None:
            return
        points = next(c for c in self.program.currencies if c.eid == benefit.currency)
        kind = "base" if isinstance(benefit, AccrueFixed) else benefit.base
        weights = [self._base(kind or self.program.settings.accrual_base, cart, i) for i in chosen]
        raw = self._points(benefit, sum(weights), promotion) * self._multiplier(benefit)
        earned = math.floor(raw * 10**points.precision)
        capped = promotion.max_amount is not None and earned > (
            limit := math.floor(Fraction(promotion.max_amount) * 10**points.precision)
        )
        if capped:
            earned = limit
        if earned <= 0:
            cart.note(promotion, Reason.NO_BENEFIT, "it computes to less than one point unit")
            return
        for index, share in zip(chosen, allocate(earned, weights), strict=True):
            if share:
                cart.record(index, Record(promotion, points=share, currency=points.eid))
        amount = f"{points.of_units(earned)} {points.eid}"
        if capped:
            cart.note(promotion, Reason.CAPPED, f"accrues {amount}, cut by max_amount")
        else:
            cart.note(promotion, Reason.APPLIED, f"accrues {amount}")

    def within_limits(self, cart: Cart) -> bool:
        return True

    def _base(self, kind: str, cart: Cart, index: int) -> int:
        if kind == "discounted":
            return self.discounted[index]
        if kind == "paid":
            return self.paid[index]
        return cart.slots[index].base

    def _points(
        self,
        benefit: AccruePercent | AccruePerSpend | AccrueFixed,
        total: int,
        promotion: Promotion,
    ) -> Fraction:
        """Points (not yet rounded) for ``total`` minor units of accrual base."""
        major = Fraction(total, 10 ** exponent(self.currency))
        if isinstance(benefit, AccruePercent):
            return major * Fraction(benefit.percent) / 100
        if isinstance(benefit, AccruePerSpend):
            per = minor_units(benefit.per, self.currency, promotion)
            return total // per * Fraction(benefit.points)
        return Fraction(benefit.points)

    def _multiplier(self, benefit: AccruePercent | AccruePerSpend | AccrueFixed) -> Fraction:
        tier = self.member.tier if self.member is not None else None
        factors = dict(benefit.tier_multipliers)
        return Fraction(factors[tier]) if tier in factors else Fraction(1)
