"""Promotion index: which promotions could apply to an order, found without looking at the rest.

How this works: every promotion gets a *requirement*, a set of keys such as ``("category",
"toys")`` or ``("endpoint", "site")``, at least one of which any order it can apply to must have.
It comes from a condition that must hold (all ``conditions`` must) or from ``applies_to`` (it must
select a line). Per order, the candidates are the promotions with no requirement plus those
listed under the order's own keys: the cost is in the order's keys and the matches, not in the
program's size. A switched-off promotion is never a candidate. The index only narrows; every
candidate is still judged in full.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import attrs

from .. import conditions as c
from ..model import Member, Order
from .promotion import Promotion

Key = tuple[str, str]

_ORDER_KINDS: dict[type[c.Condition], str] = {
    c.Endpoint: "endpoint",
    c.Region: "region",
    c.OrderTag: "order_tag",
    c.MemberTier: "tier",
    c.MemberSegment: "segment",
    c.MemberTag: "member_tag",
    c.Product: "product",
    c.Sku: "sku",
    c.Category: "category",
}


def requirement(condition: c.Condition) -> frozenset[Key] | None:
    """Keys of which an order must have one for ``condition`` to hold; ``None`` if unknowable."""
    prefix = _ORDER_KINDS.get(type(condition))
    if prefix is not None:
        values: frozenset[str] = condition.values  # type: ignore[union-attr]
        return frozenset((prefix, value) for value in values)
    if isinstance(condition, c.PromoCodeEntered) and condition.codes:
        return frozenset(("code", code) for code in condition.codes)
    if isinstance(condition, c.All):
        return next((r for r in map(requirement, condition.of) if r is not None), None)
    if isinstance(condition, c.AnyOf):
        parts = [requirement(inner) for inner in condition.of]
        if any(part is None for part in parts):
            return None
        return frozenset().union(*parts)  # type: ignore[arg-type]
    return None


APPLIES_TO = -1  # a ``source``: the requirement came from ``applies_to``


def _promotion_requirement(promotion: Promotion) -> tuple[frozenset[Key], int] | None:
    """The requirement, and its source: the position of the condition it came from, or
    ``APPLIES_TO``."""
    for position, condition in enumerate(promotion.conditions):
        found = requirement(condition)
        if found is not None:
            return found, position
    if promotion.applies_to is not None:
        found = requirement(promotion.applies_to)
        if found is not None:
            return found, APPLIES_TO
    return None


def order_keys(
    order: Order, member: Member | None, categories: Iterable[frozenset[str]]
) -> Iterator[Key]:
    """Every key this order (and member) has."""
    if order.endpoint is not None:
        yield ("endpoint", order.endpoint)
    if order.region is not None:
        yield ("region", order.region)
    for tag in order.tags:
        yield ("order_tag", tag)
    for code in order.promo_codes:
        yield ("code", code.code)
    if member is not None:
        if member.tier is not None:
            yield ("tier", member.tier)
        for segment in member.segments:
            yield ("segment", segment)
        for tag in member.tags:
            yield ("member_tag", tag)
    for line, cats in zip(order.lines, categories, strict=True):
        if line.product is not None:
            yield ("product", line.product)
        if line.sku is not None:
            yield ("sku", line.sku)
        for category in cats:
            yield ("category", category)


@attrs.frozen
class PromotionIndex:
    """Promotion positions by requirement key, plus those that must always be judged.

    ``sources``, per promotion, says where its requirement came from (``None``: it has none, or
    it is switched off): when the index rules it out, that condition (or ``applies_to``) is
    known to fail.
    """

    always: tuple[int, ...]
    by_key: dict[Key, tuple[int, ...]]
    sources: tuple[int | None, ...]

    @classmethod
    def of(cls, promotions: Iterable[Promotion]) -> PromotionIndex:
        always: list[int] = []
        by_key: dict[Key, list[int]] = {}
        sources: list[int | None] = []
        for position, promotion in enumerate(promotions):
            found = _promotion_requirement(promotion) if promotion.is_active else None
            sources.append(found[1] if found else None)
            if not promotion.is_active:
                continue
            if found is None:
                always.append(position)
            for key in found[0] if found else ():
                by_key.setdefault(key, []).append(position)
        return cls(tuple(always), {k: tuple(v) for k, v in by_key.items()}, tuple(sources))

    def candidates(self, keys: Iterable[Key]) -> list[int]:
        """Positions (in program order) of the promotions these order keys can reach."""
        found = set(self.always)
        for key in keys:
            found.update(self.by_key.get(key, ()))
        return sorted(found)
