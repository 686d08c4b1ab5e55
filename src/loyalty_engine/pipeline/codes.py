"""Code stage: codes to issue at commit, and what became of the codes the customer entered."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..conditions import All, AnyOf, Condition, PromoCodeEntered
from ..model import Order, PromoCode
from ..program.benefits import IssueCodes
from ..program.promotion import Promotion
from ..result import CodeState, CodeStatus, CodesToIssue, Reason
from .cart import Cart
from .eligibility import candidate_slots


def issue(promotions: Iterable[Promotion], cart: Cart) -> tuple[CodesToIssue, ...]:
    """Every live code_issue promotion whose conditions hold declares its codes (no arbitration)."""
    out = []
    for promotion in ranked(promotions, IssueCodes):
        if candidate_slots(promotion, cart, delivery=True) is None:
            continue
        benefit = promotion.benefit
        assert isinstance(benefit, IssueCodes)
        out.append(
            CodesToIssue(
                external_id=promotion.external_id,
                name=promotion.name,
                pool_id=benefit.pool_id,
                pool_name=benefit.pool_name,
                count=benefit.count,
            )
        )
        cart.note(
            promotion, Reason.APPLIED, f"issues {benefit.count} code(s) from pool {benefit.pool_id}"
        )
    return tuple(out)


def statuses(promotions: Iterable[Promotion], order: Order, cart: Cart) -> tuple[CodeStatus, ...]:
    """A code is ``applied`` when a promotion that applied asked for it in its conditions."""
    applied = [p for p in promotions if (e := cart.trace.get(p.key)) and e.applied]
    out = []
    for code in order.promo_codes:
        unlocked = tuple(p.external_id for p in applied if _asks_for(p, code))
        state = CodeState.APPLIED if unlocked else CodeState.NOT_APPLICABLE
        out.append(
            CodeStatus(code=code.code, pool_id=code.pool_id, state=state, promotions=unlocked)
        )
    return tuple(out)


def _asks_for(promotion: Promotion, code: PromoCode) -> bool:
    return any(
        wanted.accepts(code)
        for condition in promotion.conditions
        for wanted in _code_conditions(condition)
    )


def _code_conditions(condition: Condition) -> Iterator[PromoCodeEntered]:
    """Code conditions that must hold (not those under a ``not``)."""
    if isinstance(condition, PromoCodeEntered):
        yield condition
    elif isinstance(condition, All | AnyOf):
        for inner in condition.of:
            yield from _code_conditions(inner)


def ranked(promotions: Iterable[Promotion], kind: type) -> list[Promotion]:
    """The program's promotions with a ``kind`` benefit, in evaluation order."""
    return sorted((p for p in promotions if isinstance(p.benefit, kind)), key=lambda p: p.rank)
