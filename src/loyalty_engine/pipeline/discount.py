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
from ..money import Rounding, div_round, exponent, money_text, place, to_units
from ..program.benefits import (
    AmountOffItem,
    AmountOffOrder,
    BuyXGetY,
    Discount,
    FixedPrice,
    PercentOff,
    TieredPercent,
)
from ..program.program import Program, Settings
from ..program.promotion import Promotion
from ..result import Reason
from .cart import Cart, Record
from .eligibility import candidate_slots

ORDER_WIDE = (PercentOff, AmountOffOrder, TieredPercent)  # kinds that may reach the delivery slot
_KINDS = (*ORDER_WIDE, AmountOffItem, FixedPrice, BuyXGetY)


def minor_units(amount: Decimal, currency: str, promotion: Promotion) -> int:
    """A program amount in the order's minor units; a kopek fraction is a program error."""
    minor = to_units(amount, exponent(currency))
    if minor is None:
        raise RuleError(
            f"promotion {promotion.external_id!r}: {amount} has more decimals "
            f"than {currency} allows"
        )
    return minor


@attrs.define  # not frozen: one per (promotion, order), where frozen's setattr costs double
class _Ask:
    """What a discount kind needs to compute its reductions."""

    cart: Cart
    chosen: Sequence[int]
    basis: Sequence[int]
    settings: Settings
    currency: str
    promotion: Promotion
    rooms: Sequence[int]  # per chosen slot: how far it may still fall, in whole steps
    steps: Sequence[int]
    ties: Sequence[int]  # the slots' ranks, for allocation ties

    @property
    def rounding(self) -> Rounding:
        return self.settings.rounding

    @property
    def uniform(self) -> bool:
        return self.settings.indivisible == "keep_uniform"

    def percent(self, percent: Decimal) -> Wanted:
        """``percent`` of each chosen slot's basis, rounded where the program says.

        Per item (the keep_uniform default: an item's price stays uniform), per line (the
        breakdown default), or once on the chosen slots' sum and then placed like an order amount.
        """
        num, den = percent.as_integer_ratio()
        where = self.settings.percent_rounding or ("item" if self.uniform else "line")
        if where == "order":
            whole = div_round(sum(self.basis[i] for i in self.chosen) * num, 100 * den,
                              self.rounding)  # fmt: skip
            return self.place(whole, [self.basis[i] for i in self.chosen]), whole
        wanted = []
        for index in self.chosen:
            count = self.cart.slots[index].count
            if where == "item":
                per_item = self.basis[index] // count
                wanted.append(div_round(per_item * num, 100 * den, self.rounding) * count)
            else:
                wanted.append(div_round(self.basis[index] * num, 100 * den, self.rounding))
        return wanted, None

    def place(self, whole: int, weights: Sequence[int]) -> list[int]:
        """``whole`` over the chosen slots within their room, exactly where it can be."""
        return list(place(whole, weights, self.rooms, self.steps, self.settings.remainder,
                          self.ties))  # fmt: skip

    def minor(self, amount: Decimal) -> int:
        return minor_units(amount, self.currency, self.promotion)


Wanted = tuple[list[int], int | None]  # reductions per chosen slot; the order amount, if one


def _percent(benefit: PercentOff, ask: _Ask) -> Wanted:
    return ask.percent(benefit.percent)


def _per_item(benefit: AmountOffItem, ask: _Ask) -> Wanted:
    off = ask.minor(benefit.amount)
    return [off * ask.cart.slots[i].count for i in ask.chosen], None


def _per_order(benefit: AmountOffOrder, ask: _Ask) -> Wanted:
    whole = ask.minor(benefit.amount)
    return ask.place(whole, ask.rooms), whole


def _fixed_price(benefit: FixedPrice, ask: _Ask) -> Wanted:
    price = ask.minor(benefit.price)
    return [max(0, ask.basis[i] - price * ask.cart.slots[i].count) for i in ask.chosen], None


def _buy_x_get_y(benefit: BuyXGetY, ask: _Ask) -> Wanted:
    """The free units are real units: a line of 3 priced 39.97 in all is 13.32, 13.32, 13.33."""
    slots = ask.cart.slots
    lines = [i for i in ask.chosen if slots[i].line is not None]
    items = sum(slots[i].count for i in lines)
    if benefit.buy == 0:  # "the N cheapest units free": no buy count, so once
        free = min(benefit.get, items)
    elif benefit.repeat:
        free = items // (benefit.buy + benefit.get) * benefit.get
    else:
        free = benefit.get if items >= benefit.buy + benefit.get else 0
    units = []  # (price of a unit, line, how many units at that price)
    for index in lines:
        price, dearer = divmod(ask.basis[index], slots[index].count)
        units += [(price + 1, index, dearer), (price, index, slots[index].count - dearer)]
    sign = 1 if benefit.select == "cheapest" else -1
    value = dict.fromkeys(ask.chosen, 0)
    for price, index, count in sorted(units, key=lambda u: (sign * u[0], slots[u[1]].rank)):
        taken = min(free, count)
        value[index] += price * taken
        free -= taken
    num, den = benefit.percent.as_integer_ratio()
    return [div_round(value[i] * num, 100 * den, ask.rounding) for i in ask.chosen], None


def _tiered(benefit: TieredPercent, ask: _Ask) -> Wanted:
    facts = ask.cart.facts
    total = facts.base_total if benefit.basis == "base" else ask.cart.current_total
    reached = [s for s in benefit.steps if ask.minor(s.min_total) <= total]
    if not reached:
        return [0] * len(ask.chosen), None
    return ask.percent(reached[-1].percent)


_WANTED: dict[type[Discount], Callable[[Any, _Ask], Wanted]] = {
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


_CUT = {"min prices": "cut by min prices", "uniform": "cut to keep item prices uniform"}
_NOTHING = {
    None: "it computes to zero",
    "cap": "a cap leaves nothing to take",
    "min prices": "nothing left above min prices",
    "uniform": "too small to keep item prices uniform",
}


@attrs.frozen
class DiscountStage:
    """Runs discount promotions on a cart (``arbitration.run`` decides which, in what order)."""

    program: Program
    currency: str
    budget: int | None  # the most all discounts together may take (max_discount_percent)
    types = ("discount",)
    scale = 1  # gains are minor units of money

    def apply(self, promotion: Promotion, cart: Cart, basis: Sequence[int]) -> None:
        benefit = promotion.benefit
        assert isinstance(benefit, _KINDS)
        chosen = candidate_slots(promotion, cart, delivery=isinstance(benefit, ORDER_WIDE))
        if chosen is None:
            return
        steps = [cart.slots[i].step for i in chosen]
        rooms = [_room(cart, i) for i in chosen]
        ties = [cart.slots[i].rank for i in chosen]
        ask = _Ask(cart=cart, chosen=chosen, basis=basis, settings=self.program.settings,
                   currency=self.currency, promotion=promotion, rooms=rooms, steps=steps,
                   ties=ties)  # fmt: skip
        asked, whole = _WANTED[type(benefit)](benefit, ask)
        wanted = [max(0, w - w % step) for w, step in zip(asked, steps, strict=True)]
        taken = [min(w, room) for w, room in zip(wanted, rooms, strict=True)]
        # Why less than asked, most binding cause first: min prices, then uniform item prices.
        if whole is not None:  # an order amount, placed already within rooms and steps
            cut = "min prices" if sum(rooms) < whole else "uniform" if sum(taken) < whole else None
        else:
            cut = "min prices" if taken != wanted else "uniform" if wanted != asked else None
        limit = self._limit(promotion, cart)
        capped = limit is not None and sum(taken) > limit
        if capped:
            assert limit is not None
            taken = list(place(limit, taken, taken, steps, self.program.settings.remainder, ties))
        total = sum(taken)
        if total == 0:
            cart.note(promotion, Reason.NO_BENEFIT, _NOTHING["cap" if capped else cut])
            return
        short = capped or cut is not None
        for index, want, take in zip(chosen, asked, taken, strict=True):
            if take:
                cart.totals[index] -= take
                limited = short if whole is not None else capped or take < want
                cart.record(index, Record(promotion, money=take, limited=limited))
        cart.spent += total
        money = money_text(total, self.currency)
        if capped:
            cart.note(promotion, Reason.CAPPED, f"took {money} off, cut by a cap")
        elif cut is not None:
            cart.note(promotion, Reason.CLAMPED, f"took {money} off, {_CUT[cut]}")
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

    def summary(self, promotion: Promotion, cart: Cart) -> str:
        taken = sum(
            r.money for records in cart.records for r in records if r.promotion is promotion
        )
        return f"took {money_text(taken, self.currency)} off"
