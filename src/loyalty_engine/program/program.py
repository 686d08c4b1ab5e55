"""A loyalty program: settings, points currencies, catalog, groups and promotions.

``Program`` checks the references between its parts at construction (currencies, groups, line
filters) and reports every broken one at once, each with its path.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Literal

import attrs

from ..conditions import is_line_filter
from ..errors import ValidationError, ValidationErrors
from ..model import Line, PointsCurrency, PointsRef, to_texts
from ..money import Remainder, Rounding
from ..validators import of_type, one_of, tuple_of, typed
from .accounts import TierGroup, TriggerPromotion
from .benefits import AccrualBase, Message, Redeem
from .index import PromotionIndex
from .promotion import BUILTIN_CHOICES, Choice, Compounding, Group, Promotion, Scope

Indivisible = Literal["keep_uniform", "breakdown"]
PercentRounding = Literal["item", "line", "order"]
ROOT = "root"  # the id of the implicit top-level group
MAX_GROUP_DEPTH = 16  # groups under groups; arbitration recurses through them


@typed
@attrs.frozen(kw_only=True)
class Settings:
    """Program-wide choices; the top-level group's arbitration is one line of config here."""

    rounding: Rounding = attrs.field(default=Rounding.HALF_UP, validator=of_type(Rounding))
    choice: Choice = "stack"
    scope: Scope = attrs.field(default="order", validator=one_of(("order", "line")))
    compounding: Compounding = attrs.field(
        default="sequential", validator=one_of(("sequential", "on_base"))
    )
    max_discount_percent: Decimal | None = None
    delivery_discountable: bool = attrs.field(default=False, validator=of_type(bool))
    indivisible: Indivisible = attrs.field(
        default="keep_uniform", validator=one_of(("keep_uniform", "breakdown"))
    )
    accrual_base: AccrualBase = attrs.field(
        default="base", validator=one_of(("base", "discounted", "paid"))
    )
    remainder: Remainder = attrs.field(
        default="largest", validator=one_of(("largest", "first", "last"))
    )
    # where a percent discount is rounded; None: per item under keep_uniform, per line otherwise
    percent_rounding: PercentRounding | None = attrs.field(
        default=None, validator=one_of(("item", "line", "order", None))
    )
    # the platform's id of this program: API requests naming another are refused (None: any)
    loyalty_program_id: int | None = None

    root: Group = attrs.field(init=False, eq=False, repr=False)  # the root group these describe

    def __attrs_post_init__(self) -> None:
        share = self.max_discount_percent
        if share is not None and (
            not isinstance(share, Decimal) or not share.is_finite() or not 0 <= share <= 100
        ):
            raise ValidationError(("max_discount_percent",), share, "must be a decimal in 0..100")
        root = Group(id=ROOT, choice=self.choice, scope=self.scope, compounding=self.compounding)
        object.__setattr__(self, "root", root)


def _categories(
    value: Mapping[str, Iterable[str]] | Iterable[tuple[str, frozenset[str]]],
) -> tuple[tuple[str, frozenset[str]], ...]:
    pairs: object = list(value.items()) if isinstance(value, Mapping) else value
    if not isinstance(pairs, list | tuple) or not all(
        isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in pairs
    ):
        raise ValidationError(("products",), value, "must map names to lists of categories")
    out = tuple(sorted((key, to_texts(cats, key)) for key, cats in pairs))
    for key, cats in out:
        if not all(isinstance(c, str) and c for c in cats):
            raise ValidationError((key,), sorted(cats, key=str), "must be a list of strings")
    return out


@typed
@attrs.frozen(kw_only=True)
class Catalog:
    """Product and SKU → categories; a line's categories are the union of both and its own."""

    products: tuple[tuple[str, frozenset[str]], ...] = attrs.field(
        default=(), converter=_categories
    )
    skus: tuple[tuple[str, frozenset[str]], ...] = attrs.field(default=(), converter=_categories)
    _by_product: dict[str, frozenset[str]] = attrs.field(init=False, eq=False, repr=False)
    _by_sku: dict[str, frozenset[str]] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_by_product", dict(self.products))
        object.__setattr__(self, "_by_sku", dict(self.skus))

    def categories(self, line: Line) -> frozenset[str]:
        empty: frozenset[str] = frozenset()
        return (
            line.categories
            | self._by_product.get(line.product or "", empty)
            | self._by_sku.get(line.sku or "", empty)
        )


def _currencies(values: Iterable[PointsCurrency]) -> tuple[PointsCurrency, ...]:
    return tuple_of(values, PointsCurrency, "currencies")


def _groups(values: Iterable[Group]) -> tuple[Group, ...]:
    return tuple_of(values, Group, "groups")


def _promotions(values: Iterable[Promotion]) -> tuple[Promotion, ...]:
    return tuple_of(values, Promotion, "promotions")


def _tier_groups(values: Iterable[TierGroup]) -> tuple[TierGroup, ...]:
    return tuple_of(values, TierGroup, "tier_groups")


def _triggers(values: Iterable[TriggerPromotion]) -> tuple[TriggerPromotion, ...]:
    return tuple_of(values, TriggerPromotion, "triggers")


@typed
@attrs.frozen(kw_only=True)
class Program:
    """Everything a calculation needs besides the order, the member and the time."""

    settings: Settings = attrs.Factory(Settings)
    currencies: tuple[PointsCurrency, ...] = attrs.field(default=(), converter=_currencies)
    catalog: Catalog = attrs.Factory(Catalog)
    groups: tuple[Group, ...] = attrs.field(default=(), converter=_groups)
    promotions: tuple[Promotion, ...] = attrs.field(default=(), converter=_promotions)
    tier_groups: tuple[TierGroup, ...] = attrs.field(default=(), converter=_tier_groups)
    trigger_promotions: tuple[TriggerPromotion, ...] = attrs.field(default=(), converter=_triggers)
    # derived once, here, so that every calculation finds its candidates in O(order size)
    index: PromotionIndex = attrs.field(init=False, eq=False, repr=False)
    groups_by_id: dict[str, Group] = attrs.field(init=False, eq=False, repr=False)
    currencies_by_eid: dict[str, PointsCurrency] = attrs.field(init=False, eq=False, repr=False)
    # a point unit of each currency is worth ``point_worth[eid] / point_scale`` major money units
    # (redeem_rate / 10^precision): integers, so accruals compare without a Fraction per line
    point_worth: dict[str, int] = attrs.field(init=False, eq=False, repr=False)
    point_scale: int = attrs.field(init=False, eq=False, repr=False)
    # every arbitration choice the program names; the custom ones need a plugged-in picker
    choices: frozenset[str] = attrs.field(init=False, eq=False, repr=False)
    custom_choices: frozenset[str] = attrs.field(init=False, eq=False, repr=False)
    # what the engine derives from the program once and reuses for every order, by plan type:
    # caches of pure values (two threads at worst build the same one twice)
    plans: dict[type, object] = attrs.field(init=False, eq=False, repr=False, factory=dict)

    def __attrs_post_init__(self) -> None:
        ValidationErrors.collect(self._problems())
        object.__setattr__(self, "index", PromotionIndex.of(self.promotions))
        object.__setattr__(self, "groups_by_id", {g.id: g for g in self.groups})
        object.__setattr__(self, "currencies_by_eid", {c.eid: c for c in self.currencies})
        worth = {c.eid: Fraction(c.redeem_rate) / 10**c.precision for c in self.currencies}
        scale = math.lcm(1, *(w.denominator for w in worth.values()))
        object.__setattr__(self, "point_worth", {e: int(w * scale) for e, w in worth.items()})
        object.__setattr__(self, "point_scale", scale)
        choices = frozenset(g.choice for g in (self.settings.root, *self.groups))
        object.__setattr__(self, "choices", choices)
        object.__setattr__(self, "custom_choices", choices - frozenset(BUILTIN_CHOICES))

    def _problems(self) -> Iterable[ValidationError]:
        eids: set[str] = set()
        iids: set[int] = set()
        for i, currency in enumerate(self.currencies):
            if currency.eid in eids:
                yield ValidationError(("currencies", i, "eid"), currency.eid, "duplicate eid")
            if currency.iid is not None and currency.iid in iids:
                yield ValidationError(("currencies", i, "iid"), currency.iid, "duplicate iid")
            eids.add(currency.eid)
            if currency.iid is not None:
                iids.add(currency.iid)

        group_ids = {ROOT}
        for i, group in enumerate(self.groups):
            if group.id in group_ids:
                yield ValidationError(("groups", i, "id"), group.id, "duplicate or reserved id")
            group_ids.add(group.id)
        parents = {group.id: group.parent for group in self.groups}
        for i, group in enumerate(self.groups):
            if group.parent is not None and group.parent not in group_ids:
                yield ValidationError(("groups", i, "parent"), group.parent, "no such group")
            seen, cursor = {group.id}, group.parent
            while cursor is not None and cursor in parents:
                if cursor in seen:
                    yield ValidationError(("groups", i, "parent"), group.parent, "groups loop")
                    break
                if len(seen) == MAX_GROUP_DEPTH:
                    reason = f"groups nested deeper than {MAX_GROUP_DEPTH}"
                    yield ValidationError(("groups", i, "parent"), group.parent, reason)
                    break
                seen.add(cursor)
                cursor = parents[cursor]

        keys: set[tuple[str, str]] = set()
        for i, promotion in enumerate(self.promotions):
            path = ("promotions", i)
            if promotion.key in keys:
                yield ValidationError((*path, "external_id"), promotion.external_id, "duplicate")
            keys.add(promotion.key)
            if promotion.group is not None and promotion.group not in group_ids:
                yield ValidationError((*path, "group"), promotion.group, "no such group")
            if promotion.applies_to is not None and not is_line_filter(promotion.applies_to):
                yield ValidationError(
                    (*path, "applies_to"),
                    promotion.applies_to.kind,
                    "must use only product, sku, category, line custom_field, all, any, not",
                )
            eid = _currency_of(promotion)
            if eid is not None and eid not in eids:
                yield ValidationError((*path, "benefit", "currency"), eid, "no such currency")

        qualifying = {c.eid for c in self.currencies if c.qualifying}
        for i, tier_group in enumerate(self.tier_groups):
            if tier_group.currency not in qualifying:
                yield ValidationError(
                    ("tier_groups", i, "currency"),
                    tier_group.currency,
                    "no such qualifying currency",
                )
        if len({g.id for g in self.tier_groups}) != len(self.tier_groups):
            yield ValidationError(
                ("tier_groups",), [g.id for g in self.tier_groups], "duplicate id"
            )
        for i, trigger in enumerate(self.trigger_promotions):
            for side in ("accrual_rules", "redeem_rules"):
                for j, rule in enumerate(getattr(trigger, side)):
                    if rule.currency not in eids:
                        yield ValidationError(
                            ("trigger_promotions", i, side, j, "currency"),
                            rule.currency,
                            "no such currency",
                        )
        for name in ("id", "external_id"):
            values = [getattr(t, name) for t in self.trigger_promotions]
            if len(set(values)) != len(values):
                yield ValidationError(("trigger_promotions",), values, f"duplicate {name}")

    def currency(self, ref: PointsRef) -> PointsCurrency | None:
        """The currency ``ref`` names, or ``None``."""
        return next((c for c in self.currencies if c.matches(ref)), None)

    def group(self, group_id: str) -> Group:
        return self.settings.root if group_id == ROOT else self.groups_by_id[group_id]

    def to_dict(self) -> dict[str, object]:
        """The program as a plain document in the file format; ``program_from_dict`` reads it."""
        from .loader import program_to_dict  # the loader builds on this module

        return program_to_dict(self)


def _currency_of(promotion: Promotion) -> str | None:
    benefit = promotion.benefit
    if isinstance(benefit, Redeem | Message):
        return benefit.currency
    return getattr(benefit, "currency", None)
