"""Hypothesis strategies for every value type, with knobs for what your tests care about.

Generated programs and orders share a small vocabulary (products ``p0``–``p5``, categories
``c0``–``c2``, endpoints, tiers), so promotions really match orders; ``match`` (a percentage)
tunes how often.
Program amounts are drawn in the order currency's minor units, so a generated program never hits
the "finer than the currency" ``RuleError``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

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
from ..money import Money, Rounding, exponent
from ..program import (
    AccrueFixed,
    AccruePercent,
    AccruePerSpend,
    AmountOffItem,
    AmountOffOrder,
    BuyXGetY,
    Catalog,
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

PRODUCTS = tuple(f"p{i}" for i in range(6))
CATEGORIES = ("c0", "c1", "c2")
CATALOG = Catalog(products={p: [CATEGORIES[i % 3]] for i, p in enumerate(PRODUCTS)})
ENDPOINTS = ("site", "bot", "app")
TIERS = ("silver", "gold")
CODES = ("SPRING", "VIP")
CURRENCIES = ("RUB", "USD", "JPY", "KWD")
NOW = dt.datetime(2026, 3, 14, 10, 0, tzinfo=dt.UTC)


def money(
    currency: str, *, min_units: int = 0, max_units: int = 100_000
) -> st.SearchStrategy[Money]:
    """Money between ``min_units`` and ``max_units`` major units, any minor digits."""
    scale = 10 ** exponent(currency)
    return st.integers(min_units * scale, max_units * scale).map(
        lambda minor: Money.of_minor(minor, currency)
    )


def _amount(currency: str, low: int, high: int) -> st.SearchStrategy[Decimal]:
    """A program amount (major units) representable in ``currency``."""
    scale = 10 ** exponent(currency)
    return st.integers(low * scale, high * scale).map(
        lambda m: Decimal(m).scaleb(-exponent(currency))
    )


@st.composite
def lines(
    draw: st.DrawFn,
    currency: str = "RUB",
    *,
    ident: str = "l0",
    max_count: int = 5,
    max_price: int = 100_000,
) -> Line:
    """A line of a known product; its min price is 0, a share of the base, or the base itself."""
    base = draw(money(currency, max_units=max_price))
    floor_share = draw(st.sampled_from((0, 0, 50, 90, 100)))
    floor = Money.of_minor(base.minor * floor_share // 100, currency)
    product = draw(st.sampled_from(PRODUCTS))
    return Line(
        external_id=ident,
        product=product,
        sku=draw(st.none() | st.just(f"sku-{product}")),
        count=draw(st.integers(1, max_count) | st.just(1)),
        base_price_per_item=base,
        min_price_per_item=floor,
    )


@st.composite
def orders(
    draw: st.DrawFn,
    currency: str | None = None,
    *,
    min_lines: int = 1,
    max_lines: int = 6,
    points: Sequence[PointsCurrency] = (),
    max_price: int = 100_000,
) -> Order:
    """An order of distinct lines; it may ask to redeem ``points`` currencies and enter codes."""
    cur = currency or draw(st.sampled_from(CURRENCIES))
    count = draw(st.integers(min_lines, max_lines))
    items = [draw(lines(cur, ident=f"l{i}", max_price=max_price)) for i in range(count)]
    redeem = []
    for currency_ in points:
        if draw(st.booleans()):
            units = draw(st.integers(0, 200_000 * 10**currency_.precision))
            amount = Decimal(units).scaleb(-currency_.precision)
            redeem.append(RedeemRequest(PointsRef(eid=currency_.eid), amount))
    return Order(
        external_id="o1",
        currency=cur,
        lines=items,
        endpoint=draw(st.sampled_from(ENDPOINTS)),
        region=draw(st.none() | st.just("moscow")),
        promo_codes=[PromoCode(code, 1) for code in draw(st.sets(st.sampled_from(CODES)))],
        redeem=redeem,
        tags=draw(st.sets(st.sampled_from(("vip", "first_order")))),
        delivery_cost=draw(st.just(Money.zero(cur)) | money(cur, max_units=1000)),
        create_time=draw(st.none() | st.just(NOW)),
    )


def points_currencies(eid: str = "bonus1") -> st.SearchStrategy[PointsCurrency]:
    """A points currency: whole or fractional points, at a few redeem rates."""
    return st.builds(
        PointsCurrency,
        eid=st.just(eid),
        iid=st.none() | st.integers(1, 9),
        precision=st.sampled_from((0, 0, 1, 2)),
        redeem_rate=st.sampled_from((Decimal(1), Decimal("0.5"), Decimal(2), Decimal("0.01"))),
        lifetime_days=st.none() | st.integers(1, 730),
    )


def members(points: Sequence[PointsCurrency] = ()) -> st.SearchStrategy[Member | None]:
    """A member with balances in ``points`` (or a guest, ``None``)."""
    balances = st.fixed_dictionaries(
        {
            p.eid: st.integers(0, 100_000).map(lambda n: Balance(Decimal(n), Decimal(n)))
            for p in points
        }
    )
    member = st.builds(
        Member,
        profile_id=st.just("m1"),
        balances=balances,
        tier=st.none() | st.sampled_from(TIERS),
        segments=st.sets(st.sampled_from(("b2c", "b2b"))),
        tags=st.sets(st.sampled_from(("vip",))),
    )
    return st.none() | member


def line_filters() -> st.SearchStrategy[c.Condition]:
    """``applies_to`` conditions over the shared vocabulary."""
    leaf = st.one_of(
        st.sets(st.sampled_from(PRODUCTS), min_size=1).map(c.Product),
        st.sets(st.sampled_from(CATEGORIES), min_size=1).map(c.Category),
        st.sets(st.sampled_from([f"sku-{p}" for p in PRODUCTS]), min_size=1).map(c.Sku),
    )
    return leaf | st.lists(leaf, min_size=1, max_size=2).map(c.AnyOf) | leaf.map(c.Not)


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


def discounts(currency: str) -> st.SearchStrategy[object]:
    """Every discount kind, with amounts representable in ``currency``."""
    percent = st.integers(1, 100).map(Decimal)
    return st.one_of(
        percent.map(PercentOff),
        _amount(currency, 1, 500).filter(bool).map(AmountOffItem),
        _amount(currency, 1, 5000).filter(bool).map(AmountOffOrder),
        _amount(currency, 0, 50_000).map(FixedPrice),
        st.builds(
            BuyXGetY,
            buy=st.integers(1, 3),
            get=st.integers(1, 2),
            percent=percent,
            select=st.sampled_from(("cheapest", "most_expensive")),
        ),
        st.lists(
            st.builds(Step, min_total=_amount(currency, 0, 100_000), percent=percent),
            min_size=1,
            max_size=3,
            unique_by=lambda s: s.min_total,
        ).map(TieredPercent),
    )


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


GROUPS = (
    Group(id="best", choice="best_for_customer"),
    Group(id="first", choice="priority", compounding="on_base"),
    Group(id="least", choice="best_for_merchant", scope="line"),
    Group(id="pile", choice="stack", compounding="on_base", parent="best"),
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
    eid = points[0].eid
    benefit = draw(
        st.one_of(
            discounts(currency),
            discounts(currency),
            accruals(eid, currency),
            st.builds(
                Redeem,
                currency=st.sampled_from((None, eid)),
                max_percent=st.none() | st.integers(1, 100).map(Decimal),
            ),
            st.just(IssueCodes(pool_id=1, pool_name="pool")),
            st.just(Message(template="{accrued} / {redeemed} / {discount} / {final_total}")),
        )
    )
    unconditional = draw(st.integers(0, 99)) < match
    kind = type(benefit).__name__
    is_money = kind not in ("Redeem", "IssueCodes", "Message")
    cap = None
    if is_money and draw(st.integers(0, 4)) == 0:
        cap = draw(_amount(currency, 1, 2000).filter(bool))
    return Promotion(
        external_id=ident,
        benefit=benefit,
        conditions=[] if unconditional else draw(st.lists(order_conditions(currency), max_size=2)),
        applies_to=draw(st.none() | line_filters()),
        priority=draw(st.integers(0, 3)),
        exclusive=draw(st.booleans()) and draw(st.booleans()),
        stop_after=draw(st.integers(0, 9)) == 0,
        group=draw(st.none() | st.sampled_from([g.id for g in GROUPS])),
        max_amount=cap,
        is_active=draw(st.integers(0, 19)) > 0,
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
    return Program(
        settings=draw(
            st.builds(
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
            )
        ),
        currencies=chosen,
        catalog=CATALOG,
        groups=GROUPS,
        promotions=[
            draw(promotions(f"promo{i}", currency, chosen, match=match)) for i in range(count)
        ],
    )


@st.composite
def cases(
    draw: st.DrawFn,
    *,
    currency: str | None = None,
    max_lines: int = 6,
    max_promotions: int = 6,
    match: int = 70,
) -> tuple[Program, Order, Member | None]:
    """A (program, order, member) triple that fit together: same currency, same points."""
    cur = currency or draw(st.sampled_from(CURRENCIES))
    point = draw(points_currencies())
    program = draw(programs(cur, max_promotions=max_promotions, match=match, points=[point]))
    order = draw(orders(cur, max_lines=max_lines, points=[point]))
    member = draw(members([point]))
    return program, order, member
