"""Trigger promotions: points granted or taken by a scenario or an API call, not by an order.

How amounts work where the docs are silent: without an amount the rule's ``static_amount`` is used
(no static amount → the amount is required); a given amount must lie in [min_amount, max_amount].
The promotion must be active and inside its dates at ``now``. Each rule of the chosen side
(accrual or redeem) posts one transaction in its currency; ``currency`` narrows to one rule.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

import attrs

from ..errors import LedgerError, ValidationError
from ..model import PointsRef
from ..money import plain_number
from ..program.accounts import TriggerPromotion, TriggerRule
from ..program.program import Program
from ..validators import checked
from .account import MAX_PAGE
from .members import Change, Membership

Side = Literal["accrual", "redeem"]


@attrs.frozen(kw_only=True)
class TriggerPage:
    """``trigger_promotions`` API: promotions with id > ``from_id``, by id."""

    items: tuple[TriggerPromotion, ...]
    next_from_id: int | None
    total_count: int


@checked
def list_triggers(
    program: Program, *, from_id: int | None = None, limit: int = 20, is_active: bool | None = None
) -> TriggerPage:
    """The program's trigger promotions by id, a page at a time (``from_id``: after that id)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= MAX_PAGE:
        raise ValidationError(("limit",), limit, f"must be an integer in 1..{MAX_PAGE}")
    chosen = sorted(
        (t for t in program.trigger_promotions if is_active is None or t.is_active is is_active),
        key=lambda t: t.id,
    )
    after = [t for t in chosen if from_id is None or t.id > from_id]
    items = tuple(after[:limit])
    return TriggerPage(
        items=items,
        next_from_id=items[-1].id if len(after) > limit else None,
        total_count=len(chosen),
    )


@checked
def apply_trigger(
    program: Program,
    membership: Membership,
    promotion: int | str,
    *,
    side: Side,
    now: dt.datetime,
    amount: Decimal | None = None,
    currency: PointsRef | None = None,
    eid: str | None = None,
    temp_timeout_sec: int | None = None,
    description: str | None = None,
    activation: dt.datetime | None = None,
    expiration: dt.datetime | None = None,
    source_id: str | None = None,
) -> Change:
    """Fire trigger promotion ``promotion`` (its id or external_id) for the member; an
    accrual's ``activation`` and ``expiration`` as ``Account.accrue`` takes them."""
    trigger = next(
        (t for t in program.trigger_promotions if promotion in (t.id, t.external_id)), None
    )
    if trigger is None:
        raise ValidationError(("promotion_id",), promotion, "no such trigger promotion")
    if side not in ("accrual", "redeem"):
        raise ValidationError(("side",), side, "must be 'accrual' or 'redeem'")
    if membership.removed_at is not None:
        raise LedgerError(f"{membership.profile_id} was removed from the program")
    if not trigger.live(now):
        raise LedgerError(f"trigger promotion {trigger.external_id!r} is not active at {now}")
    rules = trigger.accrual_rules if side == "accrual" else trigger.redeem_rules
    if currency is not None:
        rules = tuple(r for r in rules if program.currencies_by_eid[r.currency].matches(currency))
    if not rules:
        raise ValidationError(("points_currency",), str(currency), f"no {side} rule for it")
    before = membership
    for rule in rules:
        account = membership.account(rule.currency)
        points = _amount(rule, amount)
        common: dict[str, Any] = dict(
            now=now,
            eid=eid,
            temp_timeout_sec=temp_timeout_sec,
            promotion=trigger.external_id,
            source_type="trigger",
            source_id=source_id,
            description=description or trigger.name,
        )
        if side == "accrual":
            posting = account.accrue(points, activation=activation, expiration=expiration, **common)
        else:
            posting = account.redeem(points, **common)
        membership = membership.with_account(posting.account)
    return Change.of(before, membership)


def _amount(rule: TriggerRule, amount: Decimal | None) -> Decimal:
    if amount is not None and (not isinstance(amount, Decimal) or not plain_number(amount)):
        raise ValidationError(("amount",), amount, "must be a finite Decimal")
    if amount is None:
        if rule.static_amount is None:
            raise ValidationError(("amount",), None, "required: the rule has no static_amount")
        return rule.static_amount
    if (rule.min_amount is not None and amount < rule.min_amount) or (
        rule.max_amount is not None and amount > rule.max_amount
    ):
        raise ValidationError(
            ("amount",), str(amount), f"outside [{rule.min_amount}, {rule.max_amount}]"
        )
    return amount
