"""The words generated orders and members are made of: ours by default, or a program's own.

A promotion only matches an order that speaks its language: the products, SKUs and categories
its ``applies_to`` names, the codes, endpoints, regions, tags and tiers its conditions test, the
moments its dates bound. ``Vocabulary.of(program)`` gathers them from a program (its catalog,
conditions, tier groups and multipliers), so orders drawn for a user's own rules reach them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

import attrs

from .. import conditions as c
from ..program import AccrueFixed, AccruePercent, AccruePerSpend, Catalog, Program

NOW = dt.datetime(2026, 3, 14, 10, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
# our own words: what the generated programs and the default orders share
PRODUCTS = tuple(f"p{i}" for i in range(6))
CATEGORIES = ("c0", "c1", "c2")
CATALOG = Catalog(products={p: [CATEGORIES[i % 3]] for i, p in enumerate(PRODUCTS)})
ENDPOINTS = ("site", "bot", "app")
TIERS = ("silver", "gold")
CODES = ("SPRING", "VIP")


@attrs.frozen(kw_only=True)
class Vocabulary:
    """Each field a tuple of the values a drawn order or member picks from (empty: none)."""

    products: tuple[str, ...]
    skus: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()  # put on lines as their own categories
    codes: tuple[str, ...] = ()
    endpoints: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    order_tags: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    member_tags: tuple[str, ...] = ()
    order_fields: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (field, values it may take)
    line_fields: tuple[tuple[str, tuple[str, ...]], ...] = ()
    moments: tuple[dt.datetime, ...] = (NOW,)  # order create_time: in, at and past date bounds

    @classmethod
    def of(cls, program: Program) -> Vocabulary:
        """Every word ``program`` tests, plus its catalog; our products when it names none."""
        found: dict[str, set[str]] = {name: set() for name in _WORDS.values()}
        fields: dict[tuple[str, str], set[str]] = {}
        bounds: set[dt.datetime] = set()
        for promotion in program.promotions:
            bounds.update(b for b in (promotion.start, promotion.end) if b is not None)
            tested = (*promotion.conditions, *_some(promotion.applies_to))
            for condition in _leaves(tested):
                if isinstance(condition, c.CustomField):
                    key = (condition.scope, condition.field)
                    fields.setdefault(key, set()).update(condition.values)
                elif isinstance(condition, c.Dates):
                    bounds.update(b for b in (condition.start, condition.end) if b is not None)
                elif isinstance(condition, c.PromoCodeEntered):
                    found["codes"].update(condition.codes)
                elif isinstance(
                    condition,
                    c.Product | c.Sku | c.Category | c.Endpoint | c.Region | c.OrderTag
                    | c.MemberTier | c.MemberSegment | c.MemberTag,
                ):  # fmt: skip
                    found[_WORDS[type(condition)]].update(condition.values)
            benefit = promotion.benefit
            if isinstance(benefit, AccruePercent | AccruePerSpend | AccrueFixed):
                found["tiers"].update(tier for tier, _ in benefit.tier_multipliers)
        found["products"].update(product for product, _ in program.catalog.products)
        found["skus"].update(sku for sku, _ in program.catalog.skus)
        found["tiers"].update(t.eid for g in program.tier_groups for t in g.tiers)
        found["products"] = found["products"] or set(PRODUCTS)
        moments = {NOW, *bounds, *(b - SECOND for b in bounds)}  # a window's end is exclusive
        return cls(
            **{name: tuple(sorted(words)) for name, words in found.items()},
            order_fields=_fields(fields, "order"),
            line_fields=_fields(fields, "line"),
            moments=tuple(sorted(moments)),
        )


DEFAULT = Vocabulary(
    products=PRODUCTS,
    skus=tuple(f"sku-{p}" for p in PRODUCTS),
    codes=CODES,
    endpoints=ENDPOINTS,
    regions=("moscow",),
    order_tags=("vip", "first_order"),
    tiers=TIERS,
    segments=("b2c", "b2b"),
    member_tags=("vip",),
    order_fields=(("channel", ("b2b", "b2c")),),
)


# which field of a Vocabulary each kind of condition fills
_WORDS: dict[type, str] = {
    c.Product: "products",
    c.Sku: "skus",
    c.Category: "categories",
    c.PromoCodeEntered: "codes",
    c.Endpoint: "endpoints",
    c.Region: "regions",
    c.OrderTag: "order_tags",
    c.MemberTier: "tiers",
    c.MemberSegment: "segments",
    c.MemberTag: "member_tags",
}


def _some(condition: c.Condition | None) -> tuple[c.Condition, ...]:
    return () if condition is None else (condition,)


def _leaves(conditions: Iterable[c.Condition]) -> Iterator[c.Condition]:
    for condition in conditions:
        if isinstance(condition, c.All | c.AnyOf):
            yield from _leaves(condition.of)
        elif isinstance(condition, c.Not):
            yield from _leaves((condition.of,))
        else:
            yield condition


def _fields(
    found: dict[tuple[str, str], set[str]], scope: str
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(sorted((f, tuple(sorted(v))) for (s, f), v in found.items() if s == scope))
