"""The promotion index narrows candidates without changing any result."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import event, given

import loyalty_engine as le
from loyalty_engine import arbitration
from loyalty_engine import conditions as c
from loyalty_engine.arbitration import PICKERS
from loyalty_engine.engine import _Outcome, _run
from loyalty_engine.pipeline.trace import derive
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


@given(case=cases(max_promotions=10, match=20))
def test_the_trace_without_a_second_run_is_the_full_judgement(
    case: tuple[le.Program, le.Order, le.Member | None],
) -> None:
    """The trace derived from the indexed run says, for every promotion, what judging every
    promotion in full says; where it cannot, it judges in full."""
    program, order, member = case
    result = le.calculate(program, order, member, now=NOW)
    categories = tuple(program.catalog.categories(line) for line in order.lines)
    positions = program.index.candidates(order_keys(order, member, categories))
    _, every = _run(program, order, member, NOW, PICKERS, categories, program.promotions, tuple)
    ruled_out = len(program.promotions) - len(positions)
    event(f"ruled out by the index: {min(ruled_out, 3)}{'+' if ruled_out >= 3 else ''}")
    outcome = result._outcome
    assert isinstance(outcome, _Outcome)
    derived = derive(program, outcome.cart, member, positions, outcome.stoppers, PICKERS)
    event("derived" if derived is not None else "judged in full")
    if any(e.reason is le.Reason.STOPPED for e in every.trace):
        event("a promotion stopped")
    assert result.trace == every.trace


# --- the derived trace, case by case -------------------------------------------------------------

BONUS = le.PointsCurrency(eid="bonus1", iid=1)
TOYS = c.Category(["toys"])  # no line of ``cart()`` is a toy: the index rules these out


def cart() -> le.Order:
    line = le.Line(
        external_id="a", product="a", count=1, base_price_per_item=le.Money.parse("100", "RUB")
    )
    return le.Order(external_id="o", currency="RUB", lines=[line])


def traces(
    program: le.Program, member: le.Member | None = None, **pickers: le.Picker
) -> tuple[dict[str, le.Reason], bool]:
    """Each promotion's reason from the indexed run, checked against judging every promotion;
    and whether the trace was derived (not judged in full)."""
    order, chosen = cart(), {**PICKERS, **pickers}
    result = le.calculate(program, order, member, now=NOW, pickers=pickers)
    categories = tuple(program.catalog.categories(line) for line in order.lines)
    _, every = _run(program, order, member, NOW, chosen, categories, program.promotions, tuple)
    assert result.trace == every.trace
    outcome = result._outcome
    assert isinstance(outcome, _Outcome)
    positions = program.index.candidates(order_keys(order, member, categories))
    derived = derive(program, outcome.cart, member, positions, outcome.stoppers, chosen)
    return {e.external_id: e.reason for e in result.trace}, derived is not None


def test_a_ruled_out_promotion_after_a_stopper_is_stopped() -> None:
    """Full judgement says ``stopped`` before it looks at conditions; so does the derived trace."""
    program = le.Program(
        promotions=[
            promo("stop", priority=5, stop_after=True),
            promo("toys", applies_to=TOYS),
            promo("early-toys", priority=9, applies_to=TOYS),
        ]
    )
    reasons, derived = traces(program)
    assert derived
    assert reasons == {
        "stop": le.Reason.APPLIED,
        "toys": le.Reason.STOPPED,
        "early-toys": le.Reason.NO_LINES,
    }


def test_a_stopper_stops_the_groups_after_it_and_not_its_parents_siblings() -> None:
    """A stopper in the root stops a later subgroup's members; one inside a subgroup stops only
    that subgroup."""
    program = le.Program(
        groups=[le.Group(id="late", priority=-1), le.Group(id="inner", priority=6)],
        promotions=[
            promo("stop", priority=5, stop_after=True),
            promo("late-toys", group="late", priority=100, applies_to=TOYS),
            promo("inner-stop", group="inner", priority=2, stop_after=True),
            promo("inner-toys", group="inner", priority=1, applies_to=TOYS),
            promo("inner-early", group="inner", priority=4, applies_to=TOYS),
        ],
    )
    reasons, derived = traces(program)
    assert derived
    assert reasons["late-toys"] is le.Reason.STOPPED
    assert reasons["inner-toys"] is le.Reason.STOPPED
    assert reasons["inner-early"] is le.Reason.NO_LINES


def test_a_ruled_out_accrual_for_a_guest_is_not_member() -> None:
    """A guest's accrual is ``not_member`` whatever its conditions; a member's names the check."""
    program = le.Program(
        currencies=[BONUS],
        promotions=[
            le.Promotion(
                external_id="acc",
                benefit=le.AccruePercent(currency="bonus1", percent=Decimal(5)),
                conditions=[c.Endpoint(["bot"])],
            )
        ],
    )
    assert traces(program) == ({"acc": le.Reason.NOT_MEMBER}, True)
    member = le.Member(profile_id="m")
    assert traces(program, member) == ({"acc": le.Reason.CONDITION_FAILED}, True)


def test_the_trace_is_judged_in_full_where_it_cannot_be_derived() -> None:
    """A ruled-out redemption, a running-total condition and a plugged-in picker each make the
    trace a full judgement, with the same answer."""
    redeem = le.Promotion(external_id="r", benefit=le.Redeem(), applies_to=TOYS)
    assert traces(le.Program(currencies=[BONUS], promotions=[redeem]))[1] is False
    running = promo(
        "run", conditions=[c.Endpoint(["bot"]), c.OrderTotal(min=Decimal(1), basis="current")]
    )
    assert traces(le.Program(promotions=[running])) == ({"run": le.Reason.CONDITION_FAILED}, False)

    class First:
        def pick(self, options: object) -> int | None:
            return 0

    program = le.Program(
        settings=le.Settings(choice="first"), promotions=[promo("toys", applies_to=TOYS)]
    )
    assert traces(program, first=First()) == ({"toys": le.Reason.NO_LINES}, False)


def test_a_program_keeps_a_bounded_number_of_candidate_trees(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Orders with the same candidates share one tree; past ``TREES`` sets nothing more is kept,
    and the answers do not change."""
    monkeypatch.setattr(arbitration, "TREES", 2)
    program = le.Program(promotions=[promo(f"p{i}", applies_to=c.Sku([f"s{i}"])) for i in range(4)])

    def order(*skus: str) -> le.Order:
        lines = [
            le.Line(external_id=s, sku=s, count=1, base_price_per_item=le.Money.parse("100", "RUB"))
            for s in skus
        ]
        return le.Order(external_id="o", currency="RUB", lines=lines)

    finals = [
        str(le.calculate(program, order(*skus), now=NOW).final_total_price)
        for skus in [("s0",), ("s0",), ("s1", "s2"), ("s3",), ("s3", "s0")]
    ]
    assert finals == ["99.00", "99.00", "198.00", "99.00", "198.00"]
    assert len(program.plans[arbitration.Tree]) == 2  # type: ignore[arg-type]
