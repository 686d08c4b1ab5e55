"""``calculate``: order + member + program + time → calculated order. Pure: no I/O, no clock.

How this works: the program's index names the promotions that could apply to this order (the
candidates). The order becomes slots in integer minor units (one per line, plus the delivery
when the program lets discounts reach it). The stages run in a fixed order on one working cart:
discount (through the arbitration tree) → redeem → accrue (through the tree) → code_issue →
message. The cart is then turned back into values: line totals, applied promotions, points per
currency, codes and messages. The trace of every promotion is derived when first read, by the
same run over all promotions (``_explain``).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from functools import partial

import attrs

from .arbitration import PICKERS, Arbiter, Picker, Tree, check_pickers
from .conditions import Facts
from .errors import RuleError
from .model import MAX_POINTS, Member, Order, PromoCode
from .money import MAX_MAJOR_DIGITS, Money
from .pipeline import codes, messages
from .pipeline.accrue import AccrueStage
from .pipeline.cart import Cart, Record, Slot
from .pipeline.discount import DiscountStage
from .pipeline.redeem import Redemption, redeem
from .pipeline.trace import Stoppers, derive
from .pools import CodePool
from .program.index import order_keys
from .program.program import Program
from .program.promotion import Promotion
from .result import (
    AppliedPromotion,
    CalculatedLine,
    CalculatedOrder,
    CodeState,
    CodeStatus,
    CodesToIssue,
    MessageOut,
    PointsSummary,
    Status,
    TraceEntry,
)
from .validators import checked, instant, tuple_of

_WIRE_ORDER = {"discount": 0, "accrue_points": 1, "redeem_points": 2}  # as the seeds list them


@checked
def calculate(
    program: Program,
    order: Order,
    member: Member | None = None,
    *,
    now: dt.datetime,
    pickers: Mapping[str, Picker] | None = None,
    pools: Sequence[CodePool] = (),
) -> CalculatedOrder:
    """Apply ``program`` to ``order`` for ``member`` (``None`` = a guest) at ``now``.

    Promotions are judged at the order's ``create_time`` when it has one, else at ``now``.
    ``pickers`` plugs in arbitration choices by name. With the code ``pools``, an entered code
    its pool no longer accepts (a single-use code used already) unlocks nothing and is
    ``not_applicable``, as commit will find. Nothing is stored; the same input always gives the
    same output.
    """
    instant(now, ("now",))
    chosen = {**PICKERS, **pickers} if pickers else PICKERS
    check_pickers(program, chosen)
    by_pool = (
        {pool.pool_id: pool for pool in tuple_of(list(pools), CodePool, "pools")} if pools else {}
    )
    spent = [
        code
        for code in order.promo_codes
        if code.pool_id in by_pool and not by_pool[code.pool_id].accepts(code.code)
    ]
    usable = (
        attrs.evolve(order, promo_codes=[c for c in order.promo_codes if c not in spent])
        if spent
        else order  # rebuilding an order re-checks every line: only when a code is refused
    )
    categories = tuple(program.catalog.categories(line) for line in order.lines)
    positions = program.index.candidates(order_keys(usable, member, categories))
    candidates = [program.promotions[i] for i in positions]
    explain = partial(_explain, program, usable, member, now, chosen, categories)
    outcome = _run(program, usable, member, now, chosen, categories, candidates, explain)[1]
    outcome.judged = positions
    if spent:
        outcome.entered, outcome.spent = order, spent
    return CalculatedOrder(order=order, member=member, now=now, outcome=outcome)


def _explain(
    program: Program,
    order: Order,
    member: Member | None,
    now: dt.datetime,
    pickers: Mapping[str, Picker],
    categories: tuple[frozenset[str], ...],
) -> tuple[TraceEntry, ...]:
    """The trace of every promotion: a run without the index, so each one is judged in full."""
    return _run(program, order, member, now, pickers, categories, program.promotions, tuple)[
        1
    ].trace


def _run(
    program: Program,
    order: Order,
    member: Member | None,
    now: dt.datetime,
    pickers: Mapping[str, Picker],
    categories: tuple[frozenset[str], ...],
    promotions: Sequence[Promotion],
    explain: Callable[[], tuple[TraceEntry, ...]],
) -> tuple[Cart, _Outcome]:
    """The stages on one cart; a stage none of ``promotions`` takes part in is not run."""
    settings = program.settings
    currency = order.currency
    uniform = settings.indivisible == "keep_uniform"
    by_id = sorted(range(len(order.lines)), key=lambda i: order.lines[i].external_id)
    rank = {index: position for position, index in enumerate(by_id)}
    slots = tuple(
        Slot(
            base=line.base_price_per_item.minor * line.count,
            floor=line.min_price_per_item.minor * line.count,
            count=line.count,
            step=line.count if uniform else 1,
            line=index,
            rank=rank[index],
        )
        for index, line in enumerate(order.lines)
    )
    if settings.delivery_discountable and order.delivery_cost.minor > 0:
        shipping = Slot(base=order.delivery_cost.minor, floor=0, count=1, step=1, line=None,
                        rank=len(slots))  # fmt: skip
        slots += (shipping,)
    base_total = sum(slot.base for slot in slots if slot.line is not None)
    facts = Facts(
        order=order,
        member=member,
        at=order.create_time or now,
        line_categories=categories,
        base_total=base_total,
        current_total=base_total,
    )
    kinds = {promotion.type for promotion in promotions}
    tree = Tree.of(program, promotions)
    cart = Cart.start(slots, facts)
    stoppers = {}

    if "discount" in kinds:
        share = settings.max_discount_percent
        budget = None
        if share is not None:
            num, den = share.as_integer_ratio()
            budget = base_total * num // (100 * den)
        arbiter = Arbiter(tree, DiscountStage(program, currency, budget), pickers)
        cart = arbiter.run(cart)
        stoppers["discount"] = arbiter.stoppers
    discounted = list(cart.totals)
    cart.next_stage()
    redemptions = (
        redeem(program, order, member, cart, promotions)
        if order.redeem or "redeem_points" in kinds
        else []
    )
    paid = list(cart.totals)
    cart.next_stage()
    if "accrue_points" in kinds:
        arbiter = Arbiter(tree, AccrueStage(program, member, currency, discounted, paid), pickers)
        cart = arbiter.run(cart)
        stoppers["accrue_points"] = arbiter.stoppers
    cart.next_stage()
    to_issue = codes.issue(promotions, cart) if "code_issue" in kinds else ()
    outcome = _Outcome(program, order, member, now, cart, redemptions, to_issue, promotions,
                       pickers, stoppers, explain)  # fmt: skip
    if "message" in kinds:
        outcome.messages = messages.render(program, promotions, cart, outcome.figures())
    return cart, outcome


@attrs.define(slots=False)  # ``cached_property`` keeps its values in the instance's __dict__
class _Outcome:
    """A calculation's integer results; each value of the result is built on first read."""

    program: Program
    order: Order  # as calculated: without the codes a pool refused
    member: Member | None
    now: dt.datetime
    cart: Cart
    redemptions: list[Redemption]
    codes_to_issue: tuple[CodesToIssue, ...]
    promotions: Sequence[Promotion]  # those the calculation judged
    pickers: Mapping[str, Picker]
    stoppers: Stoppers
    explain: Callable[[], tuple[TraceEntry, ...]]  # the trace by judging every promotion
    judged: Sequence[int] | None = None  # positions of ``promotions`` (None: all of them)
    messages: tuple[MessageOut, ...] = ()
    entered: Order | None = None  # the order as entered, when a pool refused some of its codes
    spent: list[PromoCode] = attrs.Factory(list)  # the codes refused
    final_minor: int = attrs.field(init=False)
    delivery_minor: int = attrs.field(init=False)
    accrued: dict[str, int] = attrs.field(init=False)  # point units per currency

    def __attrs_post_init__(self) -> None:
        slots, totals = self.cart.slots, self.cart.totals
        self.final_minor = sum(t for t, s in zip(totals, slots, strict=True) if s.line is not None)
        delivery = self.order.delivery_cost.minor
        self.delivery_minor = totals[-1] if slots[-1].line is None else delivery
        self.accrued = _accrued(self.program, self.cart)

    @functools.cached_property
    def lines(self) -> tuple[CalculatedLine, ...]:
        currency, cart = self.order.currency, self.cart
        return tuple(
            CalculatedLine(
                line=self.order.lines[slot.line],
                final_total=Money.of_minor(cart.totals[index], currency),
                applied=_applied(self.program, cart.records[index], currency, self.now),
            )
            for index, slot in enumerate(cart.slots)
            if slot.line is not None
        )

    @functools.cached_property
    def applied(self) -> tuple[AppliedPromotion, ...]:
        if self.cart.slots[-1].line is not None:
            return ()
        return _applied(self.program, self.cart.records[-1], self.order.currency, self.now)

    @functools.cached_property
    def points(self) -> tuple[PointsSummary, ...]:
        return _points(self.program, self.member, self.accrued, self.redemptions)

    @functools.cached_property
    def promo_codes(self) -> tuple[CodeStatus, ...]:
        statuses = codes.statuses(self.promotions, self.order, self.cart)
        if self.entered is None:
            return statuses
        kept = iter(statuses)
        return tuple(
            CodeStatus(code=c.code, pool_id=c.pool_id, state=CodeState.NOT_APPLICABLE)
            if c in self.spent
            else next(kept)
            for c in self.entered.promo_codes
        )

    @functools.cached_property
    def trace(self) -> tuple[TraceEntry, ...]:
        if self.judged is None:
            return tuple(self.cart.trace[p.key] for p in self.program.promotions)
        derived = derive(self.program, self.cart, self.member, self.judged, self.stoppers,
                         self.pickers)  # fmt: skip
        return self.explain() if derived is None else derived

    def figures(self) -> dict[str, dict[str, str]]:
        """Placeholder values for messages, per currency eid ("" = no currency)."""
        currency = self.order.currency
        discount = (
            self.order.total_price.minor
            - self.final_minor
            + self.order.delivery_cost.minor
            - self.delivery_minor
        )
        common = {
            "discount": str(Money.of_minor(discount, currency)),
            "final_total": str(Money.of_minor(self.final_minor, currency)),
            "total": str(self.order.total_price),
            "tier": (self.member.tier if self.member else None) or "",
        }
        figures = {"": {**common, "accrued": "0", "redeemed": "0"}}
        for summary in self.points:
            figures[summary.currency.eid] = {
                **common,
                "accrued": str(summary.accrued),
                "redeemed": str(summary.redeemed),
            }
        return figures


def _applied(
    program: Program, records: tuple[Record, ...], currency: str, now: dt.datetime
) -> tuple[AppliedPromotion, ...]:
    ordered = sorted(records, key=lambda r: _WIRE_ORDER[r.promotion.type])
    return tuple(_one(program, record, currency, now) for record in ordered)


def _one(program: Program, record: Record, currency: str, now: dt.datetime) -> AppliedPromotion:
    """Accrued points live ``lifetime_days`` from ``now``: the commit posts them then, however
    old the order's ``create_time`` (by which promotions are judged) may be."""
    promotion = record.promotion
    points = program.currencies_by_eid[record.currency] if record.currency else None
    expires = None
    if promotion.type == "accrue_points" and points and points.lifetime_days:
        expires = now + dt.timedelta(days=points.lifetime_days)
    return AppliedPromotion(
        type=promotion.type,
        external_id=promotion.external_id,
        name=promotion.name,
        amount=Money.of_minor(record.money, currency) if record.money else None,
        points=points.of_units(record.points) if points else None,
        currency=points,
        expiration_date=expires,
        limited=record.limited,
    )


def _accrued(program: Program, cart: Cart) -> dict[str, int]:
    """Point units accrued per currency; a program whose rates overflow fails here."""
    accrued: dict[str, int] = {}
    for slot_records in cart.records:
        for record in slot_records:
            if record.promotion.type == "accrue_points" and record.currency:
                accrued[record.currency] = accrued.get(record.currency, 0) + record.points
    for currency in program.currencies:
        if accrued.get(currency.eid, 0) >= MAX_POINTS * 10**currency.precision:
            raise RuleError(
                f"points currency {currency.eid!r}: the order would accrue "
                f"10^{MAX_MAJOR_DIGITS} points or more; the program's rates are too high"
            )
    return accrued


def _points(
    program: Program,
    member: Member | None,
    accrued: Mapping[str, int],
    redemptions: list[Redemption],
) -> tuple[PointsSummary, ...]:
    """One summary per program currency, then any unknown currency the order asked for."""
    # a request naming no program currency is reported on its own, never over a real one
    asked = {r.currency.eid: r for r in redemptions if r.status is not Status.UNKNOWN_CURRENCY}
    unknown = [r for r in redemptions if r.status is Status.UNKNOWN_CURRENCY]
    out = []
    for currency in program.currencies:
        outcome = asked.pop(currency.eid, None)
        active = member.balance(currency.eid).active if member else Decimal(0)
        status = outcome.status if outcome else Status.SUCCESS if member else Status.NOT_MEMBER
        out.append(
            PointsSummary(
                currency=currency,
                status=status,
                active_balance=active,
                accrued=currency.of_units(accrued.get(currency.eid, 0)),
                redeemed=currency.of_units(outcome.redeemed if outcome else 0),
                requested=currency.of_units(outcome.requested if outcome else 0),
                reason=outcome.reason if outcome else None,
            )
        )
    for outcome in unknown:
        out.append(
            PointsSummary(
                currency=outcome.currency,
                status=outcome.status,
                active_balance=Decimal(0),
                accrued=Decimal(0),
                redeemed=Decimal(0),
                requested=Decimal(0),
                reason=outcome.reason,
            )
        )
    return tuple(out)
