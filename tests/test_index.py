"""The promotion index narrows candidates without changing any result."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given

import loyalty_engine as le
from loyalty_engine import conditions as c
from loyalty_engine.arbitration import PICKERS
from loyalty_engine.engine import _run
from loyalty_engine.program.index import PromotionIndex, order_keys, requirement
from loyalty_engine.testing import NOW, cases


def test_requirements_per_kind() -> None:
    """Keyed kinds give their keys; all takes one child, any needs every child, not gives none."""
    assert requirement(c.Category(["toys"])) == {("category", "toys")}
    assert requirement(c.Endpoint(["site", "bot"])) == {("endpoint", "site"), ("endpoint", "bot")}
    assert requirement(c.PromoCodeEntered(["A"])) == {("code", "A")}
    assert requirement(c.PromoCodeEntered()) is None
    assert requirement(c.All([c.ItemCount(min=2), c.MemberTier(["gold"])])) == {("tier", "gold")}
    assert requirement(c.AnyOf([c.Sku(["s"]), c.Region(["r"])])) == {("sku", "s"), ("region", "r")}
    assert requirement(c.AnyOf([c.Sku(["s"]), c.ItemCount(min=1)])) is None
    assert requirement(c.Not(c.Sku(["s"]))) is None


def promo(ident: str, **kw: object) -> le.Promotion:
    return le.Promotion(external_id=ident, benefit=le.PercentOff(Decimal(1)), **kw)  # type: ignore[arg-type]


def test_candidates_are_found_by_the_order_keys() -> None:
    """Only promotions whose requirement the order meets, plus unkeyed ones, are candidates."""
    index = PromotionIndex.of(
        [
            promo("any"),
            promo("toys", applies_to=c.Category(["toys"])),
            promo("bot", conditions=[c.Endpoint(["bot"])]),
            promo("off", is_active=False),
            promo("gold", conditions=[c.ItemCount(min=1), c.MemberTier(["gold"])]),
        ]
    )
    order = le.Order(
        external_id="o",
        currency="RUB",
        endpoint="site",
        lines=[
            le.Line(
                external_id="a",
                product="p",
                count=1,
                base_price_per_item=le.Money.parse("1", "RUB"),
            )
        ],
    )
    keys = list(order_keys(order, le.Member(profile_id="m", tier="gold"), [frozenset({"toys"})]))
    assert index.candidates(keys) == [0, 1, 4]
    assert index.candidates(order_keys(order, None, [frozenset()])) == [0]


@given(case=cases(max_promotions=8, match=30))
def test_the_index_changes_no_result(case: tuple[le.Program, le.Order, le.Member | None]) -> None:
    """Judging only the index's candidates gives the same result as judging every promotion."""
    program, order, member = case
    indexed = le.calculate(program, order, member, now=NOW)
    categories = tuple(program.catalog.categories(line) for line in order.lines)
    _, every = _run(program, order, member, NOW, PICKERS, categories, program.promotions, tuple)
    assert indexed == le.CalculatedOrder(order=order, member=member, now=NOW, outcome=every)
    assert len(indexed.trace) == len(program.promotions)
