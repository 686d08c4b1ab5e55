"""``commit`` (preorder_commit): recalculate, compare with what the customer saw, post effects.

What makes a commit ``outdated`` (the docs say only "price has changed"): the order is calculated
again for the member as they stand now, and compared with the request — the final total, every
line's final price, and every discount, accrual and redemption (type, promotion, money amount,
points, currency), both ways: one that disappeared, changed or newly appeared is a difference.
``code_issue`` and ``message`` promotions the customer was promised must still apply; ones that
apply unasked are delivered anyway (they cost nothing; seed 004 shows an unrequested message). A
single-use promo code that was used meanwhile is a difference too. Any difference → ``outdated``
with the list of differences and no effects at all.

Otherwise the effects (``Effects``: what to store, with the account versions it was computed on),
in this order: the redemption and the accrual transactions (one per
currency and promotion, ``transaction_eid`` = ``order:<external_id>:<type>:<promotion>``, so a
repeated commit can never post twice), qualification points for currencies with a
``money_ratio`` (on the final total paid in money), codes taken from the pools (consecutive live
codes from a place the request's fingerprint picks, so that concurrent orders seldom want the
same code), entered single-use
codes marked used, and the messages. ``points_changes`` reports each touched currency's total
balance after the order. The committed order is recorded with a fingerprint of its request
(order, confirmation and profile): the same ``external_id`` replays only for the same request;
another body or another member is a ``ConflictError``, never someone else's stored answer.

Time: promotions are judged at the order's ``create_time`` (``calculate`` does), the ledger is
dated ``now``, the moment of the commit, so orders may be committed in any order.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import typing
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from .arbitration import Picker
from .engine import calculate
from .errors import LedgerError, ReusedIdError, RuleError, ValidationError
from .ledger.effects import Effects, OrderRecord
from .ledger.members import Membership
from .model import MAX_POINTS, Order, PointsCurrency, PointsRef, not_blank
from .money import MAX_MAJOR_DIGITS, Money, exponent, to_units
from .pools import CodePool
from .program.benefits import PromotionType
from .program.program import Program
from .result import AppliedPromotion, CalculatedOrder, CodeState, MessageOut
from .validators import checked, one_of, tuple_of, typed

_MONEY_TYPES = ("discount", "accrue_points", "redeem_points")


@typed
@attrs.frozen(kw_only=True)
class RequestedPromotion:
    """A promotion as the customer saw it; a field left ``None`` is not compared."""

    type: PromotionType = attrs.field(validator=one_of(typing.get_args(PromotionType)))
    external_id: str = attrs.field(validator=not_blank)
    amount: Money | None = None
    points: Decimal | None = None
    currency: PointsRef | None = None

    @classmethod
    @checked
    def of(cls, applied: AppliedPromotion) -> RequestedPromotion:
        currency = applied.currency
        return cls(
            type=applied.type,
            external_id=applied.external_id,
            amount=applied.amount,
            points=applied.points,
            currency=PointsRef(currency.iid, currency.eid) if currency else None,
        )


def _promotions(values: Iterable[RequestedPromotion]) -> tuple[RequestedPromotion, ...]:
    return tuple_of(values, RequestedPromotion, "promotions")


@typed
@attrs.frozen(kw_only=True)
class RequestedLine:
    """A line as the customer confirmed it: its final price and the promotions it showed."""

    external_id: str
    final_price_per_item: Money | None = None
    promotions: tuple[RequestedPromotion, ...] = attrs.field(default=(), converter=_promotions)


def _lines(values: Iterable[RequestedLine]) -> tuple[RequestedLine, ...]:
    return tuple_of(values, RequestedLine, "lines")


@typed
@attrs.frozen(kw_only=True)
class Requested:
    """What the customer confirmed: the preorder's answer, sent back (``requested_promotions``)."""

    lines: tuple[RequestedLine, ...] = attrs.field(default=(), converter=_lines)
    promotions: tuple[RequestedPromotion, ...] = attrs.field(default=(), converter=_promotions)
    final_total_price: Money | None = None

    @classmethod
    @checked
    def of(cls, result: CalculatedOrder) -> Requested:
        """Exactly what ``result`` showed: committing it unchanged succeeds."""
        order_level = [RequestedPromotion.of(a) for a in result.applied]
        order_level += [
            RequestedPromotion(type="code_issue", external_id=c.external_id)
            for c in result.codes_to_issue
        ]
        order_level += [
            RequestedPromotion(type="message", external_id=m.external_id) for m in result.messages
        ]
        return cls(
            lines=[
                RequestedLine(
                    external_id=line.line.external_id,
                    final_price_per_item=line.final_price_per_item,
                    promotions=[RequestedPromotion.of(a) for a in line.applied],
                )
                for line in result.lines
            ],
            promotions=order_level,
            final_total_price=result.final_total_price,
        )


class CommitStatus(enum.Enum):
    """``status`` of a commit: the order stands as the customer saw it, or it changed."""

    SUCCESS = "success"
    OUTDATED = "outdated"


class Target(enum.Enum):
    """``processing_target``: effects produced now, or a replay of an earlier commit."""

    IMMEDIATE = "immediate"
    PROCESSED = "processed"


@attrs.frozen
class Difference:
    """One thing that changed since the preorder: where, what was asked, what is true now."""

    path: str
    requested: str | None
    actual: str | None


@attrs.frozen(kw_only=True)
class PointsChange:
    """``points_changes`` row: the total balance after the order, and what it moved."""

    currency: PointsCurrency
    balance: Decimal
    accrued: Decimal
    redeemed: Decimal


@attrs.frozen(kw_only=True)
class IssuedCodes:
    """``issued_promocodes`` row; ``missing`` counts codes the pool could not supply."""

    external_id: str
    name: str
    pool_id: int
    pool_name: str
    codes: tuple[str, ...]
    missing: int = 0


@attrs.frozen(kw_only=True)
class CommitResult:
    """What ``commit`` decided: the status, the differences when outdated, and the effects
    (rows, codes, messages) for the caller to store."""

    external_id: str
    status: CommitStatus
    processing_target: Target | None  # None when outdated
    calculation: CalculatedOrder | None = None
    differences: tuple[Difference, ...] = ()
    points_changes: tuple[PointsChange, ...] = ()
    issued: tuple[IssuedCodes, ...] = ()
    messages: tuple[MessageOut, ...] = ()
    effects: Effects = attrs.Factory(Effects)  # what to store; nothing when outdated or replayed
    membership: Membership | None = None  # the member after the order (unchanged if no effects)
    pools: tuple[CodePool, ...] = ()  # every pool passed in, after the order


@checked
def commit(
    program: Program,
    order: Order,
    requested: Requested,
    *,
    membership: Membership | None,
    now: dt.datetime,
    pools: Sequence[CodePool] = (),
    committed: Mapping[str, CommitResult] | None = None,
    segments: Iterable[str] = (),
    tags: Iterable[str] = (),
    pickers: Mapping[str, Picker] | None = None,
) -> CommitResult:
    """Confirm ``order`` as ``requested`` for ``membership`` (``None`` = a guest) at ``now``.

    ``committed`` holds the results stored for earlier commits, by order external_id: a replay
    of the same request returns the stored result as ``processed`` with no new effects; another
    request under a committed external_id raises ``ConflictError``.
    """
    profile = membership.profile_id if membership is not None else None
    signed = fingerprint(order, requested, profile)
    stored = (committed or {}).get(order.external_id)
    if stored is not None and stored.status is CommitStatus.SUCCESS:
        record = stored.effects.order
        if record is None or record.fingerprint != signed:
            raise ReusedIdError(
                f"order {order.external_id!r} was committed with another request or member"
            )
        return attrs.evolve(
            stored,
            processing_target=Target.PROCESSED,
            effects=Effects(),
            membership=membership,
            pools=tuple(pools),
        )
    if membership is not None and membership.removed_at is not None:
        raise LedgerError(f"{membership.profile_id} was removed from the program")
    if membership is not None and _posted(program, membership, order.external_id):
        raise LedgerError(
            f"order {order.external_id!r} was committed before: pass its stored result"
        )
    pools = tuple_of(list(pools), CodePool, "pools")
    by_pool = {p.pool_id: p for p in pools}
    if len(by_pool) != len(pools):
        raise ValidationError(("pools",), [p.pool_id for p in pools], "duplicate pool_id")
    member = (
        membership.member(program, now=now, segments=segments, tags=tags)
        if membership is not None
        else None
    )
    result = calculate(program, order, member, now=now, pickers=pickers, pools=pools)
    differences = compare(requested, result)
    if differences:
        return CommitResult(
            external_id=order.external_id,
            status=CommitStatus.OUTDATED,
            processing_target=None,
            calculation=result,
            differences=differences,
            membership=membership,
            pools=tuple(pools),
        )
    before = membership
    changes: list[PointsChange] = []
    if membership is not None:
        membership, changes = _post(program, result, membership, now)
    issued, taken, used = [], [], []
    for wanted in result.codes_to_issue:
        pool = by_pool.get(wanted.pool_id)
        codes: tuple[str, ...] = ()
        if pool is not None:
            pool, codes = pool.issue(wanted.count, now, spread=int(signed[:12], 16))
            by_pool[wanted.pool_id] = pool
            if pool.reuse == "single":
                taken += [(pool.pool_id, code) for code in codes]
        issued.append(
            IssuedCodes(
                external_id=wanted.external_id,
                name=wanted.name,
                pool_id=wanted.pool_id,
                pool_name=pool.name if pool is not None else wanted.pool_name,
                codes=codes,
                missing=_missing(wanted.count, codes, pool),
            )
        )
    for status in result.promo_codes:
        pool = by_pool.get(status.pool_id) if status.pool_id is not None else None
        if status.state is CodeState.APPLIED and pool is not None:
            by_pool[pool.pool_id] = pool.use(status.code)
            if pool.reuse == "single" and (pool.pool_id, status.code) not in used:
                used.append((pool.pool_id, status.code))  # a code entered twice is used once
    written = Effects.between(before, membership) if membership is not None else Effects()
    effects = attrs.evolve(
        written,
        issued=tuple(taken),
        used=tuple(used),
        order=OrderRecord(external_id=order.external_id, profile_id=profile, fingerprint=signed),
    )
    return CommitResult(
        external_id=order.external_id,
        status=CommitStatus.SUCCESS,
        processing_target=Target.IMMEDIATE,
        calculation=result,
        points_changes=tuple(changes),
        issued=tuple(issued),
        messages=result.messages,
        effects=effects,
        membership=membership,
        pools=tuple(by_pool[p.pool_id] for p in pools),
    )


def _missing(count: int, codes: tuple[str, ...], pool: CodePool | None) -> int:
    """Codes a pool could not supply; a universal code, once handed out, supplies any count."""
    if pool is not None and pool.reuse == "multiple" and codes:
        return 0
    return count - len(codes)


def compare(requested: Requested, result: CalculatedOrder) -> tuple[Difference, ...]:
    """Every difference between what the customer saw and ``result``, in request order."""
    out: list[Difference] = []
    if (
        requested.final_total_price is not None
        and requested.final_total_price != result.final_total_price
    ):
        out.append(
            Difference(
                "final_total_price", str(requested.final_total_price), str(result.final_total_price)
            )
        )
    lines = {line.line.external_id: line for line in result.lines}
    asked_lines = {line.external_id: line for line in requested.lines}
    for line_id, line in lines.items():
        asked = asked_lines.get(line_id)
        path = f"lines[{line_id}]"
        price = asked.final_price_per_item if asked is not None else None
        if price is not None and price != line.final_price_per_item:
            out.append(
                Difference(
                    f"{path}.final_price_per_item", str(price), str(line.final_price_per_item)
                )
            )
        out += _promotions_differ(path, asked.promotions if asked else (), line.applied, ())
    for line_id in asked_lines.keys() - lines.keys():
        out.append(Difference(f"lines[{line_id}]", line_id, None))
    extras = [("code_issue", c.external_id) for c in result.codes_to_issue]
    extras += [("message", m.external_id) for m in result.messages]
    out += _promotions_differ("order", requested.promotions, result.applied, extras)
    return tuple(out)


def _promotions_differ(
    path: str,
    asked: Sequence[RequestedPromotion],
    applied: Sequence[AppliedPromotion],
    gifts: Sequence[tuple[str, str]],
) -> list[Difference]:
    """Asked against applied, matched by type, promotion and points currency: a redeem promotion
    for every currency shows once per currency redeemed."""
    out = []
    actual = list(applied)
    for want in asked:
        where = f"{path}.promotions[{want.type}:{want.external_id}]"
        have = _take(actual, want)
        if have is None:
            if (want.type, want.external_id) not in gifts:
                out.append(Difference(where, "applied", None))
            continue
        if want.amount is not None and want.amount != have.amount:
            out.append(Difference(f"{where}.amount", str(want.amount), _text(have.amount)))
        if want.points is not None and want.points != have.points:
            out.append(Difference(f"{where}.points", str(want.points), _text(have.points)))
        if want.currency is not None and (
            have.currency is None or not have.currency.matches(want.currency)
        ):
            have_eid = have.currency.eid if have.currency else None
            out.append(Difference(f"{where}.currency", str(want.currency), have_eid))
    for have in actual:
        if have.type in _MONEY_TYPES:
            shown = _text(have.amount if have.amount is not None else have.points)
            out.append(
                Difference(f"{path}.promotions[{have.type}:{have.external_id}]", None, shown)
            )
    return out


def _take(actual: list[AppliedPromotion], want: RequestedPromotion) -> AppliedPromotion | None:
    """Remove and return the applied entry ``want`` names: same currency first, else any."""
    same = [a for a in actual if (a.type, a.external_id) == (want.type, want.external_id)]
    if want.currency is not None:
        wanted = want.currency
        same.sort(key=lambda a: not (a.currency is not None and a.currency.matches(wanted)))
    if not same:
        return None
    actual.remove(same[0])
    return same[0]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _posted(program: Program, membership: Membership, external_id: str) -> bool:
    """Whether the ledger already holds this order's transactions."""
    tags = [f"order:{external_id}:qualify"] + [
        f"order:{external_id}:{p.type}:{p.external_id}"
        for p in program.promotions
        if p.type in ("accrue_points", "redeem_points")
    ]
    return any(a.journal.by_eid(tag) is not None for a in membership.accounts for tag in tags)


def _post(
    program: Program, result: CalculatedOrder, membership: Membership, now: dt.datetime
) -> tuple[Membership, list[PointsChange]]:
    """The order's points transactions: redemptions first, then accruals, per currency.

    Points are summed as integer units of each currency's precision: no Decimal arithmetic.
    """
    external_id = result.order.external_id
    currencies = {c.eid: c for c in program.currencies}
    moves: dict[tuple[str, str, str], tuple[int, dt.datetime | None]] = {}
    every = [*(a for line in result.lines for a in line.applied), *result.applied]
    for applied in every:  # order-level entries: points that reached the delivery
        if applied.currency is None or applied.points is None:
            continue
        key = (applied.currency.eid, applied.type, applied.external_id)
        units, _ = moves.get(key, (0, None))
        moves[key] = (units + _units(applied.points, applied.currency), applied.expiration_date)
    touched: dict[str, tuple[int, int]] = {}
    common: dict[str, Any] = dict(now=now, source_type="order", source_id=external_id)
    for (eid, kind, promotion), (units, expires) in sorted(
        moves.items(), key=lambda item: (item[0][0], item[0][1] != "redeem_points", item[0][2])
    ):
        account = membership.account(eid)
        tag = f"order:{external_id}:{kind}:{promotion}"
        points = currencies[eid].of_units(units)
        if kind == "redeem_points":
            posting = account.redeem(points, eid=tag, promotion=promotion, **common)
        else:
            posting = account.accrue(
                points, eid=tag, promotion=promotion, expiration=expires, **common
            )
        membership = membership.with_account(posting.account)
        accrued, redeemed = touched.get(eid, (0, 0))
        touched[eid] = (
            (accrued, redeemed + units) if kind == "redeem_points" else (accrued + units, redeemed)
        )
    paid = result.final_total_price
    for currency in program.currencies:
        if currency.money_ratio is None:
            continue
        units = _qualifying(paid, currency)
        if units <= 0:
            continue
        posting = membership.account(currency.eid).accrue(
            currency.of_units(units),
            eid=f"order:{external_id}:qualify",
            description="qualification",
            **common,
        )
        membership = membership.with_account(posting.account)
        accrued, redeemed = touched.get(currency.eid, (0, 0))
        touched[currency.eid] = (accrued + units, redeemed)
    account_of = {a.currency.eid: a for a in membership.accounts}
    changes = [
        PointsChange(
            currency=account_of[eid].currency,
            balance=account_of[eid].balance(now).total,
            accrued=account_of[eid].currency.of_units(accrued),
            redeemed=account_of[eid].currency.of_units(redeemed),
        )
        for eid, (accrued, redeemed) in sorted(touched.items())
    ]
    return membership, changes


def _units(points: Decimal, currency: PointsCurrency) -> int:
    units = to_units(points, currency.precision)
    assert units is not None, "the engine computes points at the currency's precision"
    return units


def _qualifying(paid: Money, currency: PointsCurrency) -> int:
    """Qualifying points for ``paid`` at ``money_ratio``, in units, rounded down."""
    assert currency.money_ratio is not None
    num, den = currency.money_ratio.as_integer_ratio()
    scale = 10**currency.precision
    units: int = paid.minor * num * scale // (den * 10 ** exponent(paid.currency))
    if units >= MAX_POINTS * scale:
        raise RuleError(
            f"points currency {currency.eid!r}: money_ratio {currency.money_ratio} makes "
            f"{paid} worth 10^{MAX_MAJOR_DIGITS} points or more"
        )
    return units


@checked
def fingerprint(order: Order, requested: Requested, profile_id: str | None) -> str:
    """A digest of the request: the same order, confirmation and member give the same text.

    Sets are sorted and times compared in UTC, so it is stable across processes and machines.
    """
    text = json.dumps(_canonical((order, requested, profile_id)), separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical(value: object) -> object:
    """``value`` as JSON data, the same for equal values."""
    if attrs.has(type(value)):
        names = [f.name for f in attrs.fields(type(value))]  # type: ignore[arg-type]
        return [type(value).__name__, *(_canonical(getattr(value, name)) for name in names)]
    if isinstance(value, frozenset | set):
        return sorted((_canonical(v) for v in value), key=json.dumps)
    if isinstance(value, Mapping):
        return sorted([str(k), _canonical(v)] for k, v in value.items())
    if isinstance(value, tuple | list):
        return [_canonical(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    assert value is None or isinstance(value, str | int | bool), type(value)
    return value
