"""Redeem stage: the customer pays part of the order with points.

How this works: for each requested currency, the highest-priority redeem promotion that is a
candidate wins. Allowed = min(requested, active balance, the promotion's max share, room above
min prices). Points are placed in *groups*: ``b`` point units are worth exactly ``a`` minor units
(from the currency's ``redeem_rate`` and precision, as a reduced fraction), and a line takes a
multiple of ``step / gcd(step, a)`` groups so its per-item price stays uniform. So the money taken
off always equals the points' value exactly; what cannot be placed is not redeemed (``limited``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

import attrs

from ..errors import ValidationError
from ..model import Member, Order, PointsCurrency
from ..money import Remainder, down_units, exponent, place, to_units
from ..program.benefits import Redeem
from ..program.program import Program
from ..program.promotion import Promotion
from ..result import APPLIED_REASONS, Reason, Status
from .cart import Cart, Record
from .eligibility import candidate_slots


@attrs.frozen(kw_only=True)
class Redemption:
    """The outcome for one requested currency, in point units (10^-precision)."""

    currency: PointsCurrency
    status: Status
    requested: int
    redeemed: int = 0
    reason: str | None = None


def units(amount: Decimal, currency: PointsCurrency, path: tuple[str | int, ...]) -> int:
    """Points as integer units of the currency's precision; finer amounts are an error."""
    scaled = to_units(amount, currency.precision)
    if scaled is None:
        raise ValidationError(
            path, str(amount), f"more decimals than points '{currency.eid}' allow"
        )
    return scaled


def floor_units(amount: Decimal, currency: PointsCurrency) -> int:
    """Whole point units in ``amount``, rounded down (a balance finer than the precision)."""
    return down_units(amount, currency.precision)


def requested_currencies(program: Program, order: Order) -> list[PointsCurrency | None]:
    """Resolve every redeem request up front, so a bad one fails before anything is computed."""
    resolved: list[PointsCurrency | None] = []
    seen: set[str] = set()
    for index, request in enumerate(order.redeem):
        currency = program.currency(request.currency)
        if currency is not None:
            if currency.eid in seen:
                raise ValidationError(("redeem_points", index), str(request.currency), "repeated")
            seen.add(currency.eid)
            units(request.amount, currency, ("redeem_points", index, "amount"))
        resolved.append(currency)
    return resolved


def redeem(
    program: Program,
    order: Order,
    member: Member | None,
    cart: Cart,
    promotions: Sequence[Promotion],
) -> list[Redemption]:
    """Run every redeem request against the cart; promotions nobody asked for are noted too."""
    outcomes = []
    contenders = sorted(
        (p for p in promotions if isinstance(p.benefit, Redeem)),
        key=lambda promotion: promotion.rank,
    )
    for request, currency in zip(order.redeem, requested_currencies(program, order), strict=True):
        if currency is None:
            unknown = PointsCurrency(
                eid=request.currency.eid or f"iid:{request.currency.iid}", iid=request.currency.iid
            )
            outcomes.append(Redemption(currency=unknown, status=Status.UNKNOWN_CURRENCY,
                                       requested=0, reason="no such points currency"))  # fmt: skip
            continue
        wanted = units(request.amount, currency, ())
        if member is None:
            guest = "a guest has no points"
            outcomes.append(
                Redemption(
                    currency=currency, status=Status.NOT_MEMBER, requested=wanted, reason=guest
                )
            )
            for promotion in contenders:
                if _for(promotion, currency) and promotion.key not in cart.trace:
                    cart.note(promotion, Reason.NOT_MEMBER, "a guest has no points")
            continue
        outcomes.append(_redeem_one(contenders, currency, wanted, member, cart, order.currency,
                                    program.settings.remainder))  # fmt: skip
    for promotion in contenders:
        if promotion.key not in cart.trace:
            cart.note(promotion, Reason.NOT_REQUESTED, "no redemption of its currency requested")
    return outcomes


def _for(promotion: Promotion, currency: PointsCurrency) -> bool:
    assert isinstance(promotion.benefit, Redeem)
    return promotion.benefit.currency in (None, currency.eid)


def _redeem_one(
    contenders: Sequence[Promotion],
    currency: PointsCurrency,
    wanted: int,
    member: Member,
    cart: Cart,
    money: str,
    remainder: Remainder,
) -> Redemption:
    """One currency's redemption. A promotion for every currency serves each one in turn, so
    its trace collects one sentence per currency and is never overwritten by a later "no"."""
    winner: Promotion | None = None
    chosen: list[int] = []
    for promotion in contenders:
        if not _for(promotion, currency):
            continue
        earlier = cart.trace.get(promotion.key)
        if winner is not None:
            if earlier is None:
                cart.note(promotion, Reason.LOST_ARBITRATION, f"lost to {winner.external_id}")
            continue
        if earlier is not None and not earlier.applied:
            continue  # judged for another currency already: lost, or not a candidate
        slots = candidate_slots(promotion, cart, delivery=True)
        if slots is not None:
            winner, chosen = promotion, slots
        elif earlier is not None:
            cart.trace[promotion.key] = earlier
    if winner is None:
        return Redemption(currency=currency, status=Status.NOT_AVAILABLE, requested=wanted,
                          reason="no redeem promotion applies to this order")  # fmt: skip
    active = floor_units(member.balance(currency.eid).active, currency)
    if wanted == 0:
        _note(cart, winner, Reason.NO_BENEFIT, f"zero {currency.eid} points requested")
        return Redemption(currency=currency, status=Status.SUCCESS, requested=0)
    if active <= 0:
        _note(cart, winner, Reason.NO_BENEFIT, f"the member's active {currency.eid} balance is 0")
        return Redemption(currency=currency, status=Status.INSUFFICIENT_BALANCE, requested=wanted,
                          reason="active balance is zero")  # fmt: skip

    value = Fraction(currency.redeem_rate) * 10 ** exponent(money) / 10**currency.precision
    worth, per = value.numerator, value.denominator  # ``per`` point units are worth ``worth`` minor
    rooms = []
    for index in chosen:
        room = cart.totals[index] - cart.slots[index].floor
        rooms.append(room - room % cart.slots[index].step)
    caps = [room // worth for room in rooms]
    steps = [cart.slots[i].step // math.gcd(cart.slots[i].step, worth) for i in chosen]
    limits = {"the active balance": active // per, "the requested amount": wanted // per}
    assert isinstance(winner.benefit, Redeem)
    if winner.benefit.max_percent is not None:
        num, den = winner.benefit.max_percent.as_integer_ratio()
        lines = sum(cart.totals[i] for i in chosen if cart.slots[i].line is not None)
        limits["the promotion's max share"] = lines * num // (100 * den) // worth
    groups = min(limits.values())
    ties = [cart.slots[i].rank for i in chosen]
    placed = place(groups, rooms, caps, steps, remainder, ties)
    for index, group_count in zip(chosen, placed, strict=True):
        if group_count:
            cart.totals[index] -= group_count * worth
            cart.record(index, Record(winner, money=group_count * worth, points=group_count * per,
                                      currency=currency.eid))  # fmt: skip
    redeemed = sum(placed) * per
    if redeemed == wanted:
        _note(cart, winner, Reason.APPLIED, f"redeemed {_points(redeemed, currency)}")
        return Redemption(currency=currency, status=Status.SUCCESS, requested=wanted,
                          redeemed=redeemed)  # fmt: skip
    binding = min(limits, key=lambda k: limits[k])
    if sum(placed) < groups:
        if sum(caps) >= groups:
            why = "the points cannot be split into uniform item prices"
        elif any(cart.slots[i].floor for i in chosen):
            why = "limited by min prices"
        else:
            why = "limited by the order total"
        reason = Reason.CLAMPED
    elif binding == "the requested amount":  # the request is not a whole number of groups
        why, reason = f"{per} point units are the smallest redeemable step", Reason.CLAMPED
    else:
        why, reason = f"limited by {binding}", Reason.CAPPED
    if redeemed == 0:
        _note(cart, winner, Reason.NO_BENEFIT, f"nothing redeemable: {why}")
    else:
        _note(cart, winner, reason, f"redeemed {_points(redeemed, currency)}, {why}")
    return Redemption(currency=currency, status=Status.LIMITED, requested=wanted,
                      redeemed=redeemed, reason=why)  # fmt: skip


def _note(cart: Cart, promotion: Promotion, reason: Reason, detail: str) -> None:
    """Note a redemption's outcome; a promotion serving several currencies keeps them all."""
    earlier = cart.trace.get(promotion.key)
    if earlier is None or not earlier.applied:
        cart.note(promotion, reason, detail)
        return
    if reason not in APPLIED_REASONS:
        reason = earlier.reason  # what it did for another currency stands
    elif earlier.reason is not Reason.APPLIED:
        reason = earlier.reason  # a cut for one currency is a cut of the promotion
    cart.note(promotion, reason, f"{earlier.detail}; {detail}")


def _points(amount: int, currency: PointsCurrency) -> str:
    return f"{currency.of_units(amount)} {currency.eid}"
