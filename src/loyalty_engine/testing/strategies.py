"""Hypothesis strategies for every value type, with knobs for what your tests care about.

Generated programs and orders share a small vocabulary (products ``p0``–``p5``, categories
``c0``–``c2``, endpoints, tiers), so promotions really match orders; ``match`` (a percentage)
tunes how often.
Program amounts are drawn in the order currency's minor units, so a generated program never hits
the "finer than the currency" ``RuleError``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

import attrs
from hypothesis import strategies as st

from .. import conditions as c
from ..model import (
    Balance,
    Line,
    Member,
    Order,
    PointsCurrency,
    PointsRef,
    PromoCode,
    RedeemRequest,
)
from ..money import Money, Rounding, exponent, of_units
from ..program import (
    AccrueFixed,
    AccruePercent,
    AccruePerSpend,
    AmountOffItem,
    AmountOffOrder,
    BuyXGetY,
    FixedPrice,
    Group,
    IssueCodes,
    Message,
    PercentOff,
    Program,
    Promotion,
    Redeem,
    Settings,
    Step,
    TieredPercent,
)
from ..program.benefits import Benefit
from .vocabulary import (
    CATALOG,
    CATEGORIES,
    CODES,
    DEFAULT,
    ENDPOINTS,
    NOW,
    PRODUCTS,
    TIERS,
    Vocabulary,
)

CURRENCIES = ("RUB", "USD", "JPY", "KWD")
# the points currency that independently drawn programs, orders and members share (from_type)
POINTS = PointsCurrency(eid="bonus1", iid=1, precision=2)


class Case(NamedTuple):
    """A (program, order, member) that fit together; unpacks as the three."""

    program: Program
    order: Order
    member: Member | None


@functools.cache  # built once per argument: strategies are values, cheap to share
def chance(percent: int) -> st.SearchStrategy[bool]:
    """True ``percent`` percent of the time.

    Hypothesis starts from, and mutates towards, the simplest draw (index 0); that draw gives
    the common outcome, so the rare one stays rare and the common one stays common.
    """
    if percent >= 50:
        return st.sampled_from(range(100)).map(lambda n: n < percent)
    return st.sampled_from(range(100)).map(lambda n: n >= 100 - percent)


@functools.cache
def money(
    currency: str, *, min_units: int = 0, max_units: int = 100_000
) -> st.SearchStrategy[Money]:
    """Money between ``min_units`` and ``max_units`` major units, any minor digits."""
    scale = 10 ** exponent(currency)
    return st.integers(min_units * scale, max_units * scale).map(
        lambda minor: Money.of_minor(minor, currency)
    )


@functools.cache
def _amount(currency: str, low: int, high: int) -> st.SearchStrategy[Decimal]:
    """A program amount (major units) representable in ``currency``."""
    scale = 10 ** exponent(currency)
    return st.integers(low * scale, high * scale).map(lambda m: of_units(m, exponent(currency)))


@st.composite
def lines(
    draw: st.DrawFn,
    currency: str = "RUB",
    *,
    ident: str = "l0",
    max_count: int = 5,
    max_price: int = 100_000,
    words: Vocabulary = DEFAULT,
) -> Line:
    """A line of a known product; its min price is 0, a share of the base, or the base itself."""
    base = draw(money(currency, max_units=max_price))
    floor_share = draw(st.sampled_from((0, 0, 50, 90, 100)))
    floor = Money.of_minor(base.minor * floor_share // 100, currency)
    return Line(
        external_id=ident,
        product=draw(st.sampled_from(words.products)),
        sku=draw(_one(words.skus)),
        categories=draw(_some(words.categories)),
        custom_fields=draw(_fields(words.line_fields)),
        count=draw(st.integers(1, max_count) | st.just(1)),
        base_price_per_item=base,
        min_price_per_item=floor,
    )


@functools.cache
def _one(words: tuple[str, ...]) -> st.SearchStrategy[str | None]:
    return st.none() | st.sampled_from(words) if words else st.none()


@functools.cache
def _some(words: tuple[str, ...]) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(words), max_size=3) if words else st.just(frozenset())


@functools.cache
def _fields(
    fields: tuple[tuple[str, tuple[str, ...]], ...],
) -> st.SearchStrategy[dict[str, str]]:
    """Each field absent or set to one of the values its conditions test."""
    return st.fixed_dictionaries(
        {}, optional={field: st.sampled_from(values) for field, values in fields}
    )


@functools.cache
def vocabulary(program: Program) -> Vocabulary:
    """``Vocabulary.of(program)``, gathered once per program."""
    return Vocabulary.of(program)


@st.composite
def orders(
    draw: st.DrawFn,
    currency: str | None = None,
    *,
    min_lines: int = 1,
    max_lines: int = 6,
    points: Sequence[PointsCurrency] | None = None,
    max_price: int = 100_000,
    program: Program | None = None,
) -> Order:
    """An order of distinct lines; it may ask to redeem ``points`` currencies and enter codes.

    With ``program``, the order is made of that program's words (``Vocabulary.of``) and asks for
    its points currencies unless ``points`` says otherwise.
    """
    words = DEFAULT if program is None else vocabulary(program)
    chosen = points if points is not None else program.currencies if program else ()
    cur = currency or draw(st.sampled_from(CURRENCIES))
    count = draw(st.integers(min_lines, max_lines))
    items = [
        draw(lines(cur, ident=f"l{i}", max_price=max_price, words=words)) for i in range(count)
    ]
    redeem = []
    for currency_ in chosen:
        if draw(chance(70)):  # most orders ask to redeem: the stage must be reached
            whole = draw(st.integers(0, 50) | st.integers(0, 200_000))
            units = whole * 10**currency_.precision + draw(
                st.integers(0, 10**currency_.precision - 1)
            )
            amount = currency_.of_units(units)
            redeem.append(RedeemRequest(PointsRef(eid=currency_.eid), amount))
    unknown = draw(chance(5))
    if chosen and unknown:  # a currency the program does not have
        redeem.append(RedeemRequest(PointsRef(eid="unknown"), Decimal(10)))
    return Order(
        external_id="o1",
        currency=cur,
        lines=items,
        endpoint=draw(_one(words.endpoints)),
        region=draw(_one(words.regions)),
        promo_codes=[PromoCode(code, 1) for code in sorted(draw(_some(words.codes)))],
        redeem=redeem,
        tags=draw(_some(words.order_tags)),
        custom_fields=draw(_fields(words.order_fields)),
        delivery_cost=draw(st.just(Money.zero(cur)) | money(cur, max_units=1000)),
        create_time=draw(st.none() | st.sampled_from(words.moments)),
    )


@functools.cache
def points_currencies(
    eid: str = "bonus1", iid: int | None = None
) -> st.SearchStrategy[PointsCurrency]:
    """A points currency: whole or fractional points, at a few redeem rates."""
    return st.builds(
        PointsCurrency,
        eid=st.just(eid),
        iid=st.none() | st.integers(1, 9) if iid is None else st.just(iid),
        precision=st.sampled_from((0, 0, 1, 2)),
        redeem_rate=st.sampled_from((Decimal(1), Decimal("0.5"), Decimal(2), Decimal("0.01"))),
        lifetime_days=st.none() | st.integers(1, 730),
    )


@functools.cache
def _balance(currency: PointsCurrency) -> st.SearchStrategy[Balance]:
    """Active ≤ total (the rest held or not active yet), small and large, in the precision."""
    units = st.integers(0, 100) | st.integers(0, 100_000 * 10**currency.precision)
    return st.tuples(units, units).map(
        lambda pair: Balance(
            currency.of_units(min(pair)),
            currency.of_units(max(pair)),
        )
    )


def members(
    points: Sequence[PointsCurrency] | None = None,
    *,
    guests: int = 20,
    program: Program | None = None,
) -> st.SearchStrategy[Member | None]:
    """A member with balances in ``points``; a guest (``None``) ``guests`` percent of the time.

    With ``program``: its tiers, segments and tags, and balances in its points currencies unless
    ``points`` says otherwise.
    """
    words = DEFAULT if program is None else vocabulary(program)
    chosen = points if points is not None else program.currencies if program else ()
    return _members(tuple(chosen), guests, words)


@functools.cache
def _members(
    points: tuple[PointsCurrency, ...], guests: int, words: Vocabulary
) -> st.SearchStrategy[Member | None]:
    balances = st.fixed_dictionaries({p.eid: _balance(p) for p in points})
    member = st.builds(
        Member,
        profile_id=st.just("m1"),
        balances=balances,
        tier=_one(words.tiers),
        segments=_some(words.segments),
        tags=_some(words.member_tags),
    )
    return chance(guests).flatmap(lambda guest: st.none() if guest else member)


@functools.cache
def line_filters() -> st.SearchStrategy[c.Condition]:
    """``applies_to`` conditions over the shared vocabulary."""
    leaf = st.one_of(
        st.sets(st.sampled_from(PRODUCTS), min_size=1).map(c.Product),
        st.sets(st.sampled_from(CATEGORIES), min_size=1).map(c.Category),
        st.sets(st.sampled_from([f"sku-{p}" for p in PRODUCTS]), min_size=1).map(c.Sku),
    )
    return leaf | st.lists(leaf, min_size=1, max_size=2).map(c.AnyOf) | leaf.map(c.Not)


@functools.cache
def order_conditions(currency: str) -> st.SearchStrategy[c.Condition]:
    """Order segments of every kind, mostly easy to meet."""
    leaf = st.one_of(
        st.sets(st.sampled_from(ENDPOINTS), min_size=1).map(c.Endpoint),
        st.just(c.Region(["moscow"])),
        st.sets(st.sampled_from(TIERS), min_size=1).map(c.MemberTier),
        st.just(c.MemberSegment(["b2c"])),
        st.just(c.MemberTag(["vip"])),
        st.just(c.OrderTag(["vip"])),
        st.sampled_from(CODES).map(lambda code: c.PromoCodeEntered([code])),
        st.integers(1, 4).map(lambda n: c.LineCount(min=n)),
        st.integers(1, 6).map(lambda n: c.ItemCount(min=n)),
        st.builds(
            c.OrderTotal,
            min=_amount(currency, 0, 50_000),
            basis=st.sampled_from(("base", "current")),
        ),
        st.just(c.Dates(start=NOW - dt.timedelta(days=1), end=NOW + dt.timedelta(days=1))),
        st.just(c.Weekday([6, 7])),
        st.just(c.Hour(start=8, end=20)),
        st.sets(st.sampled_from(CATEGORIES), min_size=1).map(c.Category),
        st.just(c.CustomField(field="channel", values=["b2b"])),
    )
    return leaf | st.lists(leaf, min_size=1, max_size=2).map(c.All) | leaf.map(c.Not)


@functools.cache
def discounts(currency: str) -> st.SearchStrategy[object]:
    """Every discount kind, with amounts representable in ``currency``."""
    percent = st.integers(1, 100).map(Decimal) | st.just(Decimal(0))
    return st.one_of(
        percent.map(PercentOff),
        _amount(currency, 0, 500).map(AmountOffItem),
        _amount(currency, 0, 5000).map(AmountOffOrder),
        _amount(currency, 0, 50_000).map(FixedPrice),
        st.builds(
            BuyXGetY,
            buy=st.integers(0, 3),
            get=st.integers(1, 2),
            percent=percent,
            select=st.sampled_from(("cheapest", "most_expensive")),
            repeat=st.booleans(),
        ),
        st.lists(
            st.builds(Step, min_total=_amount(currency, 0, 100_000), percent=percent),
            min_size=1,
            max_size=3,
            unique_by=lambda s: s.min_total,
        ).map(TieredPercent),
    )


@functools.cache
def accruals(eid: str, currency: str) -> st.SearchStrategy[object]:
    """Every accrual kind in points of ``eid``."""
    multipliers = st.dictionaries(
        st.sampled_from(TIERS), st.sampled_from((Decimal(2), Decimal("1.5")))
    )
    base = st.none() | st.sampled_from(("base", "discounted", "paid"))
    return st.one_of(
        st.builds(
            AccruePercent,
            currency=st.just(eid),
            percent=st.integers(1, 20).map(Decimal),
            base=base,
            tier_multipliers=multipliers,
        ),
        st.builds(
            AccruePerSpend,
            currency=st.just(eid),
            points=st.integers(1, 50).map(Decimal),
            per=_amount(currency, 1, 1000).filter(bool),
            base=base,
            tier_multipliers=multipliers,
        ),
        st.builds(
            AccrueFixed,
            currency=st.just(eid),
            points=st.integers(1, 500).map(Decimal),
            tier_multipliers=multipliers,
        ),
    )


HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)
# (start, end) of a promotion with dates: running at NOW, not yet started, or over at NOW
WINDOWS = ((NOW - DAY, NOW + DAY), (NOW + HOUR, None), (None, NOW))

GROUPS = (
    Group(id="best", choice="best_for_customer"),
    Group(id="first", choice="priority", compounding="on_base"),
    Group(id="least", choice="best_for_merchant", scope="line"),
    Group(id="pile", choice="stack", compounding="on_base", parent="best"),
)


@functools.cache
def _benefits(eid: str, currency: str) -> st.SearchStrategy[Benefit]:
    """Any benefit: discounts, accruals and redemptions twice as often as codes and messages."""
    redeem = st.builds(
        Redeem,
        currency=st.sampled_from((None, eid)),
        max_percent=st.none() | st.integers(1, 100).map(Decimal),
    )
    return st.one_of(
        discounts(currency),
        accruals(eid, currency),
        redeem,
        discounts(currency),
        accruals(eid, currency),
        redeem,
        st.just(IssueCodes(pool_id=1, pool_name="pool")),
        st.just(Message(template="{accrued} / {redeemed} / {discount} / {final_total}")),
    )


class _Parts(NamedTuple):
    cap: st.SearchStrategy[Decimal]
    conditions: st.SearchStrategy[list[c.Condition]]
    applies_to: st.SearchStrategy[c.Condition | None]
    group: st.SearchStrategy[str | None]


@functools.cache
def _promotion_parts(currency: str) -> _Parts:
    """What ``promotions`` draws besides the benefit, built once per currency: a strategy is
    validated on its first draw, and rebuilding them per draw cost most of a case's time."""
    return _Parts(
        cap=_amount(currency, 1, 2000).filter(bool),
        conditions=st.lists(order_conditions(currency), max_size=2),
        applies_to=st.none() | line_filters(),
        group=st.none() | st.none() | st.sampled_from([g.id for g in GROUPS]),
    )


@st.composite
def promotions(
    draw: st.DrawFn,
    ident: str,
    currency: str,
    points: Sequence[PointsCurrency],
    *,
    match: int = 70,
) -> Promotion:
    """One promotion of any type; ``match`` percent of them have no conditions at all."""
    eid = draw(st.sampled_from([p.eid for p in points]))
    benefit = draw(_benefits(eid, currency))
    parts = _promotion_parts(currency)
    unconditional = draw(chance(match))
    kind = type(benefit).__name__
    is_money = kind not in ("Redeem", "IssueCodes", "Message")
    cap = draw(parts.cap) if is_money and draw(chance(20)) else None
    start, end = draw(st.sampled_from(WINDOWS)) if draw(chance(20)) else (None, None)
    return Promotion(
        external_id=ident,
        benefit=benefit,
        conditions=[] if unconditional else draw(parts.conditions),
        applies_to=draw(parts.applies_to),
        priority=draw(st.integers(0, 3)),
        exclusive=draw(chance(30)),
        stop_after=draw(chance(15)),
        group=draw(parts.group),
        max_amount=cap,
        is_active=draw(chance(95)),
        start=start,
        end=end,
    )


@functools.cache
def _settings() -> st.SearchStrategy[Settings]:
    """Every program-wide setting; the root group stacks two times in five."""
    return st.builds(
        Settings,
        rounding=st.sampled_from(list(Rounding)),
        choice=st.sampled_from(
            ("stack", "stack", "priority", "best_for_customer", "best_for_merchant")
        ),
        scope=st.sampled_from(("order", "line")),
        compounding=st.sampled_from(("sequential", "on_base")),
        max_discount_percent=st.none() | st.integers(0, 100).map(Decimal),
        delivery_discountable=st.booleans(),
        indivisible=st.sampled_from(("keep_uniform", "breakdown")),
        accrual_base=st.sampled_from(("base", "discounted", "paid")),
        remainder=st.sampled_from(("largest", "first", "last")),
        percent_rounding=st.sampled_from((None, None, "item", "line", "order")),
    )


@st.composite
def programs(
    draw: st.DrawFn,
    currency: str = "RUB",
    *,
    min_promotions: int = 0,
    max_promotions: int = 6,
    match: int = 70,
    points: Sequence[PointsCurrency] | None = None,
) -> Program:
    """A valid program for orders in ``currency``: every kind, group and setting can appear."""
    chosen = list(points) if points is not None else [draw(points_currencies())]
    count = draw(st.integers(min_promotions, max_promotions))
    drawn: list[Promotion] = []
    for i in range(count):
        promotion = draw(promotions(f"promo{i}", currency, chosen, match=match))
        twin = draw(chance(15))
        if twin and drawn:  # a twin of the one before: arbitration meets a tie
            promotion = attrs.evolve(drawn[-1], external_id=promotion.external_id)
        drawn.append(promotion)
    return Program(
        settings=draw(_settings()),
        currencies=chosen,
        catalog=CATALOG,
        groups=GROUPS,
        promotions=drawn,
    )


@st.composite
def cases(
    draw: st.DrawFn,
    *,
    program: Program | None = None,
    currency: str | None = None,
    max_lines: int = 6,
    max_promotions: int = 6,
    match: int = 70,
) -> Case:
    """A (program, order, member) triple that fit together: same currency, same points.

    Without ``program``: one or two points currencies (of any precision and rate), a program
    with at least one promotion, and mostly members: every stage of the pipeline is reached
    often. With ``program``: that program, and orders and members made of its words and points
    currencies, in ``currency`` (default RUB: pass the one its amounts are written in).
    """
    if program is not None:
        cur = currency or "RUB"
        order = draw(orders(cur, max_lines=max_lines, program=program))
        return Case(program, order, draw(members(program=program)))
    cur = currency or draw(st.sampled_from(CURRENCIES))
    points = [draw(points_currencies("bonus1", 1))]
    if draw(st.booleans()):
        points.append(draw(points_currencies("bonus2", 2)))
    drawn = draw(
        programs(cur, min_promotions=1, max_promotions=max_promotions, match=match, points=points)
    )
    if draw(chance(60)):  # most programs let the customer pay with points
        pay = Promotion(external_id="pay", benefit=draw(st.sampled_from(
            [Redeem(), Redeem(currency="bonus1"), Redeem(max_percent=Decimal(50))])))  # fmt: skip
        drawn = attrs.evolve(drawn, promotions=(*drawn.promotions, pay))
    order = draw(orders(cur, max_lines=max_lines, points=points))
    return Case(drawn, order, draw(members(points)))
