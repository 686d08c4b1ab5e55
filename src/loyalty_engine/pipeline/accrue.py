"""Accrue stage: points for the purchase, per points currency.

How this works: the accrual base is summed over the chosen lines (``base`` price by default, as
both seed examples show; ``discounted`` after discounts; ``paid`` after points too), the points
are computed exactly as a ``Fraction``, multiplied for the member's tier, rounded *down* to the
currency's precision, capped by ``max_amount``, and only then allocated to the lines by largest
remainder (weights = each line's base), so the line figures add up to the order figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import attrs

from ..model import Member
from ..money import exponent, split
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

    @property
    def scale(self) -> int:
        """Gains are in 1/scale minor units: points valued at their redeem rate, as integers."""
        return self.program.point_scale

    def apply(self, promotion: Promotion, cart: Cart, basis: Sequence[int]) -> None:
        benefit = promotion.benefit
        assert isinstance(benefit, AccruePercent | AccruePerSpend | AccrueFixed)
        if self.member is None:
            cart.note(promotion, Reason.NOT_MEMBER, "a guest has no points account")
            return
        chosen = candidate_slots(promotion, cart, delivery=False)
        if chosen is None:
            return
        points = self.program.currencies_by_eid[benefit.currency]
        kind = "base" if isinstance(benefit, AccrueFixed) else benefit.base
        weights = [self._base(kind or self.program.settings.accrual_base, cart, i) for i in chosen]
        num, den = self._points(benefit, sum(weights), promotion)
        factor_num, factor_den = self._multiplier(benefit)
        earned = num * factor_num * 10**points.precision // (den * factor_den)  # rounds down
        capped = promotion.max_amount is not None and earned > (
            limit := _floor_units(promotion.max_amount, points.precision)
        )
        if capped:
            earned = limit
        if earned <= 0:
            cart.note(promotion, Reason.NO_BENEFIT, "it computes to less than one point unit")
            return
        worth = self.program.point_worth[points.eid] * 10 ** exponent(self.currency)
        ties = [cart.slots[i].rank for i in chosen]
        shares = split(earned, weights, self.program.settings.remainder, ties)
        for index, share in zip(chosen, shares, strict=True):
            if share:
                record = Record(promotion, points=share, currency=points.eid)
                cart.record(index, record, worth=share * worth)
        amount = f"{points.of_units(earned)} {points.eid}"
        if capped:
            cart.note(promotion, Reason.CAPPED, f"accrues {amount}, cut by max_amount")
        else:
            cart.note(promotion, Reason.APPLIED, f"accrues {amount}")

    def within_limits(self, cart: Cart) -> bool:
        return True

    def summary(self, promotion: Promotion, cart: Cart) -> str:
        units: dict[str, int] = {}
        for records in cart.records:
            for r in records:
                if r.promotion is promotion and r.currency is not None:
                    units[r.currency] = units.get(r.currency, 0) + r.points
        of = self.program.currencies_by_eid
        return "accrues " + ", ".join(f"{of[eid].of_units(n)} {eid}" for eid, n in units.items())

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
    ) -> tuple[int, int]:
        """Points for ``total`` minor units of accrual base, as an exact fraction (num, den)."""
        if isinstance(benefit, AccruePercent):
            num, den = benefit.percent.as_integer_ratio()
            return total * num, den * 100 * 10 ** exponent(self.currency)
        if isinstance(benefit, AccruePerSpend):
            num, den = benefit.points.as_integer_ratio()
            return total // minor_units(benefit.per, self.currency, promotion) * num, den
        return benefit.points.as_integer_ratio()

    def _multiplier(self, benefit: AccruePercent | AccruePerSpend | AccrueFixed) -> tuple[int, int]:
        tier = self.member.tier if self.member is not None else None
        for name, factor in benefit.tier_multipliers:
            if name == tier:
                return factor.as_integer_ratio()
        return 1, 1


def _floor_units(amount: Decimal, precision: int) -> int:
    num, den = amount.as_integer_ratio()
    return int(num * 10**precision // den)
