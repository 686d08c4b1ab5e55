"""``st.from_type`` for every public type: the strategies behind the ``hypothesis`` entry point.

Hypothesis calls ``register`` at the end of ``import hypothesis`` (our entry point), so
``st.from_type(le.Program)`` works with no import of ours; ``loyalty_engine.testing`` calls it
too, for runs with ``HYPOTHESIS_NO_PLUGINS``. Attrs inference alone draws invalid values: blank
ids, NaN amounts, unknown currencies.
"""

# How this works: ``register`` builds no strategy, it registers one resolver per class, so the
# hook costs nothing at ``import hypothesis`` (building strategies there is the slow code
# hypothesis warns about). A class's strategy is built on its first ``from_type``, once. The
# defaults fit together: programs, orders and members drawn independently share RUB and
# ``POINTS``, so they calculate. Results and ledger values come out of the engine and the
# ledger, never from their constructors, so they are values the library can produce.

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

import attrs
from hypothesis import strategies as st

from ..arbitration import PICKERS, Picker
from ..commit import (
    CommitResult,
    PointsChange,
    Requested,
    RequestedLine,
    RequestedPromotion,
    commit,
)
from ..engine import calculate
from ..ledger import Account, Kind, Membership, Posting, Transaction
from ..ledger import register as register_member
from ..model import (
    Balance,
    Fields,
    Line,
    Member,
    Order,
    PointsCurrency,
    PointsRef,
    PromoCode,
    RedeemRequest,
)
from ..money import CONTEXT, Money, Rounding, down_units, of_units
from ..pools import CodePool, PoolCode
from ..program import (
    BUILTIN_CHOICES,
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
    Tier,
    TieredPercent,
    TierGroup,
    TriggerPromotion,
    TriggerRule,
)
from ..program.benefits import PLACEHOLDERS
from ..result import AppliedPromotion, CalculatedLine, CalculatedOrder, PointsSummary, TraceEntry
from .strategies import (
    DAY,
    GROUPS,
    HOUR,
    POINTS,
    WINDOWS,
    Case,
    cases,
    chance,
    lines,
    members,
    money,
    orders,
    points_currencies,
    programs,
    promotions,
)
from .vocabulary import CATALOG, CATEGORIES, CODES, NOW, PRODUCTS, TIERS

T = TypeVar("T")
U = TypeVar("U")
START = NOW - 30 * DAY  # ledger histories run from here to NOW, so a drawn member commits at NOW
STATUS = "status"  # the qualifying currency drawn tier groups count
POOL_ID, POOL_NAME = 1, "pool"  # the pool drawn IssueCodes promotions take from


def register() -> None:
    """Make ``st.from_type`` draw valid values of every public type; registering again is
    harmless."""
    for cls in _BUILDERS:
        st.register_type_strategy(cls, _resolver(cls))


def _resolver(cls: type) -> Callable[[type], st.SearchStrategy[Any]]:
    def resolve(thing: type) -> st.SearchStrategy[Any]:
        # only for ``cls`` itself: from_type(Mapping) or from_type(tuple) must not draw Fields
        return _strategy(cls) if thing is cls else NotImplemented

    return resolve


@functools.cache
def _strategy(cls: type) -> st.SearchStrategy[Any]:
    return _BUILDERS[cls]()


def _elements(
    source: st.SearchStrategy[T], items: Callable[[T], Sequence[U]]
) -> st.SearchStrategy[U]:
    """One of ``items(value)``, for the drawn values that have any."""
    return source.map(items).filter(len).flatmap(lambda found: st.sampled_from(found))


# --- program parts -----------------------------------------------------------------------------


@functools.cache
def _percents() -> st.SearchStrategy[Decimal]:
    return st.integers(0, 10_000).map(lambda hundredths: of_units(hundredths, 2))


@functools.cache
def _rub(high: int, low: int = 0) -> st.SearchStrategy[Decimal]:
    """A program amount in RUB, the currency drawn orders are in."""
    return money("RUB", min_units=low, max_units=high).map(lambda m: m.amount)


@functools.cache
def _points(high: int) -> st.SearchStrategy[Decimal]:
    """Up to ``high`` points of ``POINTS``, at its precision."""
    return st.integers(0, high * 10**POINTS.precision).map(POINTS.of_units)


@functools.cache
def _settings() -> st.SearchStrategy[Settings]:
    return st.builds(
        Settings,
        rounding=st.sampled_from(list(Rounding)),
        choice=st.sampled_from(BUILTIN_CHOICES),
        scope=st.sampled_from(("order", "line")),
        compounding=st.sampled_from(("sequential", "on_base")),
        max_discount_percent=st.none() | _percents(),
        delivery_discountable=st.booleans(),
        indivisible=st.sampled_from(("keep_uniform", "breakdown")),
        accrual_base=st.sampled_from(("base", "discounted", "paid")),
        remainder=st.sampled_from(("largest", "first", "last")),
        percent_rounding=st.sampled_from((None, "item", "line", "order")),
    )


@functools.cache
def _catalogs() -> st.SearchStrategy[Catalog]:
    categories = st.frozensets(st.sampled_from(CATEGORIES))
    return st.just(CATALOG) | st.builds(
        Catalog,
        products=st.dictionaries(st.sampled_from(PRODUCTS), categories),
        skus=st.dictionaries(st.sampled_from([f"sku-{p}" for p in PRODUCTS]), categories),
    )


@functools.cache
def _groups() -> st.SearchStrategy[Group]:
    """The groups drawn promotions name, or one like them."""
    return st.sampled_from(GROUPS) | st.builds(
        Group,
        id=st.sampled_from([g.id for g in GROUPS]),
        choice=st.sampled_from(BUILTIN_CHOICES),
        scope=st.sampled_from(("order", "line")),
        compounding=st.sampled_from(("sequential", "on_base")),
        priority=st.integers(0, 3),
    )


@functools.cache
def _steps() -> st.SearchStrategy[Step]:
    return st.builds(Step, min_total=_rub(100_000), percent=_percents())


@functools.cache
def _multipliers() -> st.SearchStrategy[dict[str, Decimal]]:
    return st.dictionaries(
        st.sampled_from(TIERS), st.sampled_from((Decimal(2), Decimal("1.5"), Decimal(0)))
    )


@functools.cache
def _templates() -> st.SearchStrategy[str]:
    words = st.sampled_from([f"{{{name}}}" for name in PLACEHOLDERS] + ["points", "{{ }}"])
    return st.lists(words, min_size=1, max_size=4).map(" ".join)


_BASES = (None, "base", "discounted", "paid")
_EIDS = (None, POINTS.eid)  # a redemption or message for every currency, or for POINTS

# one strategy per benefit kind, amounts in RUB and points in POINTS
_BENEFITS: dict[type, Callable[[], st.SearchStrategy[Any]]] = {
    PercentOff: lambda: st.builds(PercentOff, _percents()),
    AmountOffItem: lambda: st.builds(AmountOffItem, _rub(500)),
    AmountOffOrder: lambda: st.builds(AmountOffOrder, _rub(5000)),
    FixedPrice: lambda: st.builds(FixedPrice, _rub(50_000)),
    BuyXGetY: lambda: st.builds(
        BuyXGetY,
        buy=st.integers(0, 3),
        get=st.integers(1, 2),
        percent=_percents(),
        select=st.sampled_from(("cheapest", "most_expensive")),
        repeat=st.booleans(),
    ),
    Step: _steps,
    TieredPercent: lambda: st.builds(
        TieredPercent,
        steps=st.lists(_steps(), min_size=1, max_size=3, unique_by=lambda s: s.min_total),
        basis=st.sampled_from(("base", "current")),
    ),
    AccruePercent: lambda: st.builds(
        AccruePercent,
        currency=st.just(POINTS.eid),
        percent=_percents(),
        base=st.sampled_from(_BASES),
        tier_multipliers=_multipliers(),
    ),
    AccruePerSpend: lambda: st.builds(
        AccruePerSpend,
        currency=st.just(POINTS.eid),
        points=_points(50),
        per=_rub(1000, low=1),
        base=st.sampled_from(_BASES),
        tier_multipliers=_multipliers(),
    ),
    AccrueFixed: lambda: st.builds(
        AccrueFixed,
        currency=st.just(POINTS.eid),
        points=_points(500),
        tier_multipliers=_multipliers(),
    ),
    Redeem: lambda: st.builds(
        Redeem, currency=st.sampled_from(_EIDS), max_percent=st.none() | _percents()
    ),
    IssueCodes: lambda: st.builds(
        IssueCodes, pool_id=st.just(POOL_ID), pool_name=st.just(POOL_NAME), count=st.integers(1, 3)
    ),
    Message: lambda: st.builds(Message, template=_templates(), currency=st.sampled_from(_EIDS)),
}


@functools.cache
def _tiers() -> st.SearchStrategy[Tier]:
    return st.builds(
        Tier,
        id=st.integers(0, 9),
        eid=st.sampled_from(TIERS),
        threshold=st.integers(0, 10_000).map(Decimal),
    )


@st.composite
def _tier_groups(draw: st.DrawFn) -> TierGroup:
    """Tiers named as members' tiers are, at rising thresholds of a qualifying currency."""
    thresholds = sorted(draw(st.sets(st.integers(0, 10_000), min_size=1, max_size=len(TIERS))))
    return TierGroup(
        id=draw(st.integers(0, 9)),
        currency=STATUS,
        tiers=[
            Tier(id=i, eid=TIERS[i], threshold=Decimal(threshold))
            for i, threshold in enumerate(thresholds)
        ],
    )


@st.composite
def _trigger_rules(draw: st.DrawFn) -> TriggerRule:
    """Each bound optional, always in order: min ≤ static ≤ max."""
    bounds = sorted(draw(st.lists(st.integers(1, 100_000), min_size=3, max_size=3)))
    low, static, high = (POINTS.of_units(b) if draw(st.booleans()) else None for b in bounds)
    return TriggerRule(currency=POINTS.eid, static_amount=static, min_amount=low, max_amount=high)


@st.composite
def _trigger_promotions(draw: st.DrawFn) -> TriggerPromotion:
    start, end = draw(st.sampled_from(((None, None), *WINDOWS)))
    rules = st.lists(_trigger_rules(), max_size=2)
    return TriggerPromotion(
        id=draw(st.integers(0, 99)),
        external_id=draw(st.sampled_from(("welcome", "birthday", "survey"))),
        start_date=start,
        end_date=end,
        is_active=draw(chance(90)),
        accrual_rules=draw(rules),
        redeem_rules=draw(rules),
    )


# --- codes and order parts ---------------------------------------------------------------------


@functools.cache
def _pool_codes() -> st.SearchStrategy[PoolCode]:
    return st.builds(
        PoolCode,
        code=st.text("ABCDEF0123456789", min_size=4, max_size=8),
        expires_at=st.sampled_from((None, NOW + DAY, NOW - DAY)),  # live, or expired at NOW
    )


@functools.cache
def _code_pools() -> st.SearchStrategy[CodePool]:
    """The pool drawn ``IssueCodes`` take from and drawn promo codes were entered from."""
    return st.builds(
        CodePool,
        pool_id=st.just(POOL_ID),
        name=st.just(POOL_NAME),
        reuse=st.sampled_from(("single", "multiple")),
        codes=st.lists(_pool_codes(), max_size=4, unique_by=lambda c: c.code),
        used=st.frozensets(st.sampled_from(CODES)),
    )


@functools.cache
def _refs() -> st.SearchStrategy[PointsRef]:
    """``POINTS`` by eid, by iid, or by both."""
    return st.sampled_from(
        (PointsRef(eid=POINTS.eid), PointsRef(iid=POINTS.iid), PointsRef(POINTS.iid, POINTS.eid))
    )


@functools.cache
def _fields() -> st.SearchStrategy[Fields]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**6), 10**6),
        st.integers(-(10**6), 10**6).map(lambda units: of_units(units, 2)),
        st.text(max_size=20),
    )
    names = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
    return st.builds(Fields, st.dictionaries(names, scalars, max_size=4))


def _present(member: Member | None) -> Member:
    assert member is not None, "drawn with guests=0"
    return member


@functools.cache
def _members() -> st.SearchStrategy[Member]:
    return members([POINTS], guests=0).map(_present)


_REDEEM = Promotion(external_id="pay_with_points", benefit=Redeem(currency=POINTS.eid))


def _with_redemption(program: Program, redeemable: bool) -> Program:
    """Half the programs drawn alone let POINTS be spent, as most real ones do: a program drawn
    by ``programs()`` rarely has a redeem promotion, and then no triple redeems."""
    if not redeemable or any(isinstance(p.benefit, Redeem) for p in program.promotions):
        return program
    return attrs.evolve(program, promotions=[*program.promotions, _REDEEM])


@functools.cache
def _programs() -> st.SearchStrategy[Program]:
    return st.builds(_with_redemption, programs("RUB", points=[POINTS]), chance(50))


# --- ledger ------------------------------------------------------------------------------------
# A history is a few operations on one account of member "m1" in POINTS, forward in time from
# START to at most NOW; each one is feasible where it is drawn (a redemption within the active
# balance, a cancellation of what is still outstanding), so every row is one the ledger wrote.


_CANCELLABLE = (Kind.ACCRUAL, Kind.REDEMPTION)


def _accrue(draw: st.DrawFn, account: Account, now: dt.datetime, eid: str | None) -> Posting:
    activation = now + DAY if draw(chance(15)) else None  # a lot that becomes active later
    lifetime = draw(st.integers(1, 30)) * DAY if draw(st.booleans()) else None
    return account.accrue(
        POINTS.of_units(draw(st.integers(1, 100_000))),
        now=now,
        activation=activation,
        expiration=(activation or now) + lifetime if lifetime else None,
        temp_timeout_sec=draw(st.sampled_from((3600, 86_400))) if draw(chance(20)) else None,
        eid=eid,
    )


def _redeem(draw: st.DrawFn, account: Account, now: dt.datetime, eid: str | None) -> Posting | None:
    units = down_units(account.balance(now).active, POINTS.precision)
    if units <= 0:
        return None
    return account.redeem(
        POINTS.of_units(draw(st.integers(1, units))),
        now=now,
        temp_timeout_sec=3600 if draw(chance(20)) else None,
        eid=eid,
    )


def _cancel(draw: st.DrawFn, account: Account, now: dt.datetime, eid: str | None) -> Posting | None:
    open_ = [
        row.id
        for row in account.journal
        if row.kind in _CANCELLABLE and not row.temp and account.outstanding(row.id, now=now) > 0
    ]
    if not open_:
        return None
    ref = draw(st.sampled_from(open_))
    left = down_units(account.outstanding(ref, now=now), POINTS.precision)
    part = POINTS.of_units(draw(st.integers(1, left))) if draw(st.booleans()) else None  # or all
    return account.cancel(ref, now=now, amount=part, policy="allow_negative", eid=eid)


def _close(draw: st.DrawFn, account: Account, now: dt.datetime, eid: str | None) -> Posting | None:
    holds = [hold.id for hold in account.holds if hold.deadline > now]
    if not holds:
        return None
    ref = draw(st.sampled_from(holds))
    if draw(st.booleans()):
        return account.commit_hold(ref, now=now, eid=eid)
    return account.rollback_hold(ref, now=now, eid=eid)


_OPERATIONS = (_accrue, _redeem, _cancel, _close)
_GAPS = (dt.timedelta(0), HOUR, DAY, 3 * DAY)  # six gaps at most: still before NOW


@st.composite
def _postings(draw: st.DrawFn, min_size: int = 0) -> tuple[Posting, ...]:
    """The postings of a history, in order; an infeasible operation is an accrual instead."""
    account = Account.open("m1", POINTS)
    out: list[Posting] = []
    now = START
    for i in range(draw(st.integers(min_size, 6))):
        now += draw(st.sampled_from(_GAPS))
        eid = f"op{i}" if draw(st.booleans()) else None
        operation = draw(st.sampled_from(_OPERATIONS))
        posting = operation(draw, account, now, eid) or _accrue(draw, account, now, eid)
        out.append(posting)
        account = posting.account
    return tuple(out)


@functools.cache
def _accounts() -> st.SearchStrategy[Account]:
    return _postings().map(lambda done: done[-1].account if done else Account.open("m1", POINTS))


@functools.cache
def _memberships() -> st.SearchStrategy[Membership]:
    return _accounts().map(
        lambda account: Membership(profile_id="m1", registered_at=START, accounts=[account])
    )


# --- results -----------------------------------------------------------------------------------


def _calculated(case: Case) -> CalculatedOrder:
    return calculate(*case, now=NOW)


@functools.cache
def _results() -> st.SearchStrategy[CalculatedOrder]:
    return cases().map(_calculated)


@functools.cache
def _requested() -> st.SearchStrategy[Requested]:
    return _results().map(Requested.of)


def _membership_of(program: Program, member: Member) -> Membership:
    """A ledger member with ``member``'s balances: the active points accrued at START, the
    rest active only after NOW."""
    membership = register_member(program, member.profile_id, now=START).membership
    for eid, balance in member.balances:
        account = membership.account(eid)
        held = CONTEXT.subtract(balance.total, balance.active)
        if balance.active > 0:
            account = account.accrue(balance.active, now=START).account
        if held > 0:
            account = account.accrue(held, now=START, activation=NOW + DAY).account
        membership = membership.with_account(account)
    return membership


@st.composite
def _commits(draw: st.DrawFn, *, earning: bool = False) -> CommitResult:
    """A preorder committed at NOW: mostly as shown (success), sometimes after its price moved
    (outdated), sometimes committed twice (a replay, processed). ``earning``: by a member, with
    points every order earns, so that points mostly move."""
    program, order, member = draw(cases())
    if earning:
        member = member or Member(profile_id="m1")
        earn = AccrueFixed(currency=program.currencies[0].eid, points=Decimal(10))
        program = attrs.evolve(
            program, promotions=(*program.promotions, Promotion(external_id="earn", benefit=earn))
        )
    membership = _membership_of(program, member) if member is not None else None
    seen = membership.member(program, now=NOW) if membership is not None else None
    pools = draw(st.lists(_code_pools(), max_size=1))
    shown = calculate(program, order, seen, now=NOW, pools=pools)
    requested = Requested.of(shown)
    if draw(chance(20)):
        moved = Money.of_minor(shown.final_total_price.minor + 1, order.currency)
        requested = attrs.evolve(requested, final_total_price=moved)
    result = commit(program, order, requested, membership=membership, now=NOW, pools=pools)
    if draw(chance(10)):
        stored = {order.external_id: result}
        result = commit(program, order, requested, membership=result.membership, now=NOW,
                        pools=result.pools, committed=stored)  # fmt: skip
    return result


def _applied(result: CalculatedOrder) -> tuple[AppliedPromotion, ...]:
    return (*(a for line in result.lines for a in line.applied), *result.applied)


def _asked(requested: Requested) -> tuple[RequestedPromotion, ...]:
    return (*(p for line in requested.lines for p in line.promotions), *requested.promotions)


_BUILDERS: dict[type, Callable[[], st.SearchStrategy[Any]]] = {
    # what users draw together: RUB, and the shared points currency POINTS
    Money: lambda: money("RUB"),
    Line: lambda: lines("RUB"),
    Order: lambda: orders("RUB", points=[POINTS]),
    Member: _members,
    Program: _programs,
    Case: cases,
    PointsCurrency: points_currencies,
    Balance: lambda: _members().map(lambda member: member.balance(POINTS.eid)),
    PointsRef: _refs,
    RedeemRequest: lambda: st.builds(RedeemRequest, _refs(), _points(100_000)),
    PromoCode: lambda: st.builds(
        PromoCode, st.sampled_from(CODES), st.sampled_from((None, POOL_ID))
    ),
    Fields: _fields,
    # program parts
    Settings: _settings,
    Catalog: _catalogs,
    Group: _groups,
    Promotion: lambda: promotions("promo0", "RUB", [POINTS]),
    **_BENEFITS,
    Tier: _tiers,
    TierGroup: _tier_groups,
    TriggerRule: _trigger_rules,
    TriggerPromotion: _trigger_promotions,
    PoolCode: _pool_codes,
    CodePool: _code_pools,
    Picker: lambda: st.sampled_from(tuple(PICKERS.values())),
    # the ledger's own values
    Posting: lambda: _postings(min_size=1).map(lambda done: done[-1]),
    Account: _accounts,
    Transaction: lambda: _elements(
        _postings(min_size=1), lambda done: tuple(done[-1].account.journal)
    ),
    Membership: _memberships,
    # what the engine and commit return
    CalculatedOrder: _results,
    CalculatedLine: lambda: _elements(_results(), lambda result: result.lines),
    AppliedPromotion: lambda: _elements(_results(), _applied),
    TraceEntry: lambda: _elements(_results(), lambda result: result.trace),
    PointsSummary: lambda: _elements(_results(), lambda result: result.points),
    Requested: _requested,
    RequestedLine: lambda: _elements(_requested(), lambda requested: requested.lines),
    RequestedPromotion: lambda: _elements(_requested(), _asked),
    CommitResult: _commits,
    PointsChange: lambda: _elements(_commits(earning=True), lambda done: done.points_changes),
}
