"""Discount stage: what each discount kind takes off, then cut to min prices and caps.

How this works: ``_WANTED`` maps each discount kind to a function giving the reduction it asks
for on each chosen slot (integer minor units, computed on ``basis``: running totals when
compounding is sequential, the group's entry totals when on_base). ``DiscountStage.apply`` then
rounds each reduction down to the slot's step (so per-item prices stay uniform under
``keep_uniform``), clamps it to the room above the slot's floor, and cuts the total to the
promotion's ``max_amount`` and the program's ``max_discount_percent``. What is recorded is what
was really taken off.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from ..errors import RuleError
from ..money import Money, Rounding, div_round, exponent, place
from ..program.benefits import (
    AmountOffItem,
    AmountOffOrder,
    BuyXGetY,
    Discount,
    FixedPrice,
    PercentOff,
    TieredPercent,
)
from ..program.program import Program
from ..program.promotion import Promotion
from ..result import Reason
from .cart import Cart, Record
from .eligibility import candidate_slots

ORDER_WIDE = (PercentOff, AmountOffOrder, TieredPercent)  # kinds that may reach the delivery slot


def minor_units(amount: Decimal, currency: str, promotion: Promotion) -> int:
    """A program amount in the order's minor units; a kopek fraction is a program error."""
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise RuleError(
            f"promotion {promotion.external_id!r}: {amount} has more decimals "
            f"than {currency} allows"
        )
    return int(scaled)


@attrs.frozen
class _Ask:
    """What a discount kind needs to compute its reductions."""

    cart: Cart
    chosen: Sequence[int]
    basis: Sequence[int]
    rounding: Rounding
    currency: str
    uniform: bool
    promotion: Promotion

    def percent_of(self, index: int, percent: Decimal, amount: int | None = None) -> int:
        """``percent`` of slot ``index``'s basis, rounded per item (uniform) or per line."""
        slot = self.cart.slots[index]
        base = self.basis[index] if amount is None else amount
        num, den = percent.as_integer_ratio()
        if self.uniform:
            return div_round(base // slot.count * num, 100 * den, self.rounding) * slot.count
        return div_round(base * num, 100 * den, self.rounding)

    def minor(self, amount: Decimal) -> int:
        return minor_units(amount, self.currency, self.promotion)


def _percent(benefit: PercentOff, ask: _Ask) -> list[int]:
    return [ask.percent_of(i, benefit.percent) for i in ask.chosen]


def _per_item(benefit: AmountOffItem, ask: _Ask) -> list[int]:
    off = ask.minor(benefit.amount)
    return [off * ask.cart.slots[i].count for i in ask.chosen]


def _per_order(benefit: AmountOffOrder, ask: _Ask) -> list[int]:
    cart = ask.cart
    rooms = [_room(cart, i) for i in ask.chosen]
    steps = [cart.slots[i].step for i in ask.chosen]
    return list(place(ask.minor(benefit.amount), rooms, rooms, steps))


def _fixed_price(benefit: FixedPrice, ask: _Ask) -> list[int]:
    price = ask.minor(benefit.price)
    return [max(0, ask.basis[i] - price * ask.cart.slots[i].count) for i in ask.chosen]


def _buy_x_get_y(benefit: BuyXGetY, ask: _Ask) -> list[int]:
    slots = ask.cart.slots
    lines = [i for i in ask.chosen if slots[i].line is not None]
    free = sum(slots[i].count for i in lines) // (benefit.buy + benefit.get) * benefit.get
    sign = 1 if benefit.select == "cheapest" else -1
    order = sorted(lines, key=lambda i: (sign * (ask.basis[i] // slots[i].count), i))
    wanted = dict.fromkeys(ask.chosen, 0)
    for index in order:
        taken = min(free, slots[index].count)
        if not taken:
            break
        unit = ask.basis[index] // slots[index].count
        num, den = benefit.percent.as_integer_ratio()
        wanted[index] = div_round(unit * taken * num, 100 * den, ask.rounding)
        free -= taken
    return [wanted[i] for i in ask.chosen]


def _tiered(benefit: TieredPercent, ask: _Ask) -> list[int]:
    facts = ask.cart.facts
    total = facts.base_total if benefit.basis == "base" else ask.cart.current_total
    reached = [s for s in benefit.steps if ask.minor(s.min_total) <= total]
    if not reached:
        return [0] * len(ask.chosen)
    return [ask.percent_of(i, reached[-1].percent) for i in ask.chosen]


_WANTED: dict[type[Discount], Callable[[Any, _Ask], list[int]]] = {
    PercentOff: _percent,
    AmountOffItem: _per_item,
    AmountOffOrder: _per_order,
    FixedPrice: _fixed_price,
    BuyXGetY: _buy_x_get_y,
    TieredPercent: _tiered,
}


def _room(cart: Cart, index: int) -> int:
    """How far slot ``index`` may still fall: down to its floor, in whole steps."""
    slot = cart.slots[index]
    room = cart.totals[index] - slot.floor
    return room - room % slot.step


@attrs.frozen
class DiscountStage:
    """Runs discount promotions on a cart (``arbitration.run`` decides which, in what order)."""

    program: Program
    currency: str
    budget: int | None  # the most all discounts together may take (max_discount_percent)
    types = ("discount",)

    def apply(self, promotion: Promotion, cart: Cart, basis: Sequence[int]) -> None:
        benefit = promotion.benefit
        assert isinstance(benefit, PercentOff | AmountOffItem | AmountOffOrder | FixedPrice |
                          BuyXGetY | TieredPercent)  # fmt: skip
        chosen = candidate_slots(promotion, cart, delivery=isinstance(benefit, ORDER_WIDE))
        if chosen is None:
            return
        ask = _Ask(
            cart=cart,
            chosen=chosen,
            basis=basis,
            rounding=self.program.settings.rounding,
            currency=self.currency,
            uniform=self.program.settings.indivisible == "keep_uniform",
            promotion=promotion,
        )
        wanted = [max(0, w - w % cart.slots[i].step) for i, w in
                  zip(chosen, _WANTED[type(benefit)](benefit, ask), strict=True)]  # fmt: skip
        taken = [min(w, _room(cart, i)) for i, w in zip(chosen, wanted, strict=True)]
        clamped = taken != wanted or (
            isinstance(benefit, AmountOffOrder) and sum(taken) < ask.minor(benefit.amount)
        )
        limit = self._limit(promotion, cart)
        capped = limit is not None and sum(taken) > limit
        if capped:
            assert limit is not None
            steps = [cart.slots[i].step for i in chosen]
            taken = list(place(limit, taken, taken, steps))
        total = sum(taken)
        if total == 0:
            why = "nothing left above min prices" if clamped or capped else "it computes to zero"
            cart.note(promotion, Reason.NO_BENEFIT, why)
            return
        for index, want, take in zip(chosen, wanted, taken, strict=True):
            if take:
                cart.totals[index] -= take
                cart.record(index, Record(promotion, money=take, limited=take < want))
        cart.spent += total
        money = Money.of_minor(total, self.currency)
        if capped:
            cart.note(promotion, Reason.CAPPED, f"took {money} off, cut by a cap")
        elif clamped:
            cart.note(promotion, Reason.CLAMPED, f"took {money} off, cut by min prices")
        else:
            cart.note(promotion, Reason.APPLIED, f"took {money} off")

    def _limit(self, promotion: Promotion, cart: Cart) -> int | None:
        limits = []
        if promotion.max_amount is not None:
            limits.append(minor_units(promotion.max_amount, self.currency, promotion))
        if self.budget is not None:
            limits.append(max(0, self.budget - cart.spent))
        return min(limits) if limits else None

    def within_limits(self, cart: Cart) -> bool:
        return self.budget is None or cart.spent <= self.budget
