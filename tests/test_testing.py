"""The shipped toolkit: registered strategies and knobs produce what they promise."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path
from unittest.mock import patch

import attrs
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import loyalty_engine as le
from loyalty_engine import conditions as c
from loyalty_engine import testing
from loyalty_engine.testing import labels


@settings(max_examples=20)
@given(
    money=st.from_type(le.Money),
    line=st.from_type(le.Line),
    order=st.from_type(le.Order),
    member=st.from_type(le.Member),
    points=st.from_type(le.PointsCurrency),
    program=st.from_type(le.Program),
)
def test_from_type_works_for_our_types(
    money: le.Money,
    line: le.Line,
    order: le.Order,
    member: le.Member,
    points: le.PointsCurrency,
    program: le.Program,
) -> None:
    """st.from_type gives valid values of each registered type."""
    assert isinstance(money, le.Money) and isinstance(line, le.Line)
    assert isinstance(order, le.Order) and isinstance(member, le.Member)
    assert isinstance(points, le.PointsCurrency) and isinstance(program, le.Program)


@settings(max_examples=30)
@given(order=testing.orders("KWD", min_lines=3, max_lines=3, max_price=10))
def test_order_knobs(order: le.Order) -> None:
    """Currency, line count and price range knobs are honoured."""
    assert order.currency == "KWD" and len(order.lines) == 3
    assert all(line.base_price_per_item.amount <= 10 for line in order.lines)


@settings(max_examples=30)
@given(program=testing.programs("JPY", min_promotions=4, max_promotions=4, match=100))
def test_program_knobs(program: le.Program) -> None:
    """match=100 gives promotions without conditions; the count knob is honoured."""
    assert len(program.promotions) == 4
    assert all(not p.conditions for p in program.promotions)


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
STAGES = ("discount", "redeem_points", "accrue_points", "code_issue", "message")
REACHED = (  # what the default cases must reach, with an event() each (see observe)
    *(f"stage reached: {stage}" for stage in STAGES),
    "points redeemed",
    "clamped at min prices",
    "allocation: an amount split over 2+ lines",
    "allocation: points split with a remainder",
    "arbitration: a tie, best_for_customer",
    "arbitration: a tie, priority",
)


def reach(strategy: st.SearchStrategy[testing.Case], examples: int) -> tuple[Counter[str], int]:
    """Labels ``observe`` gave over ``examples`` fixed draws, and how many calculated."""
    seen: Counter[str] = Counter()
    calculated = 0

    @settings(max_examples=examples, database=None, derandomize=True, phases=[Phase.generate])
    @given(strategy)
    def run(case: testing.Case) -> None:
        nonlocal calculated
        try:
            testing.observe(*case, now=testing.NOW)
        except le.LoyaltyError:
            return
        calculated += 1

    with patch.object(labels, "event", lambda label: seen.update((label,))):
        run()
    return seen, calculated


def test_default_cases_calculate_and_reach_every_stage() -> None:
    """≥ 95 % of drawn cases calculate, and every stage and corner is reached."""
    seen, calculated = reach(testing.cases(), 300)
    assert calculated >= 285
    assert [label for label in REACHED if not seen[label]] == []


def test_cases_over_a_user_program_reach_its_promotions() -> None:
    """cases(program=…) draws orders its promotions apply to: each kind it has is reached."""
    program = le.load_program(EXAMPLES / "showcase" / "program.toml")
    seen, calculated = reach(testing.cases(program=program), 100)
    assert calculated == 100
    kinds = {promotion.type for promotion in program.promotions}
    assert [kind for kind in sorted(kinds) if not seen[f"stage reached: {kind}"]] == []


@given(case=testing.cases())
def test_observe_is_calculate(case: testing.Case) -> None:
    """Watching the pickers changes nothing: observe returns what calculate does."""
    observed = testing.observe(*case, now=testing.NOW)
    assert observed == le.calculate(*case, now=testing.NOW)
    assert repr(observed.trace) == repr(le.calculate(*case, now=testing.NOW).trace)


def test_cases_unpack_as_a_triple() -> None:
    case = testing.Case(le.Program(), ORDER, None)
    program, order, member = case
    assert (program, order, member) == (case.program, case.order, case.member)


def twins(choice: str, percents: tuple[int, int]) -> le.Program:
    return le.Program(
        settings=le.Settings(choice=choice),
        promotions=[
            le.Promotion(external_id=f"p{i}", benefit=le.PercentOff(Decimal(percent)))
            for i, percent in enumerate(percents)
        ],
    )


ORDER = le.Order(
    external_id="o",
    currency="RUB",
    lines=[
        le.Line(
            external_id=f"l{i}",
            product="p0",
            count=1,
            base_price_per_item=le.Money(Decimal(100), "RUB"),
        )
        for i in range(2)
    ],
)


def labels_of(program: le.Program, order: le.Order = ORDER) -> set[str]:
    seen: list[str] = []
    with patch.object(labels, "event", seen.append):
        testing.observe(program, order, le.Member(profile_id="m"), now=testing.NOW)
    return set(seen)


def test_a_tie_is_told_only_for_a_tie() -> None:
    assert "arbitration: a tie, best_for_customer" in labels_of(
        twins("best_for_customer", (10, 10))
    )
    assert "arbitration: a tie, best_for_customer" not in labels_of(
        twins("best_for_customer", (10, 20))
    )
    assert "arbitration: a tie, priority" in labels_of(twins("priority", (10, 20)))  # both 0
    assert "arbitration: best_for_customer chose among 2" in labels_of(
        twins("best_for_customer", (10, 20))
    )


def accrual(points: int) -> le.Program:
    bonus = le.PointsCurrency(eid="bonus")
    benefit = le.AccrueFixed(currency="bonus", points=Decimal(points))
    return le.Program(
        currencies=[bonus], promotions=[le.Promotion(external_id="a", benefit=benefit)]
    )


def test_a_remainder_is_told_only_for_a_remainder() -> None:
    """3 points over two equal lines leave one to place; 4 split evenly."""
    assert "allocation: points split with a remainder" in labels_of(accrual(3))
    assert "allocation: points split with a remainder" not in labels_of(accrual(4))
    assert "allocation: an amount split over 2+ lines" in labels_of(accrual(4))


def test_points_on_free_lines_are_observed_not_judged() -> None:
    """Fixed points over lines that cost nothing have no proportional split to judge: observe
    used to divide by their zero total (found by the README's test from the wheel)."""
    free = le.Money(Decimal(0), "RUB")
    order = attrs.evolve(
        ORDER, lines=[attrs.evolve(line, base_price_per_item=free) for line in ORDER.lines]
    )
    seen = labels_of(accrual(3), order)
    assert "stage reached: accrue_points" in seen
    assert "allocation: points split with a remainder" not in seen


def test_points_on_another_base_are_not_judged_by_base_totals() -> None:
    """Half off one line: 10 % of what is paid, 5 + 10 points, splits evenly on that base."""
    bonus = le.PointsCurrency(eid="bonus")
    half = le.PercentOff(Decimal(50))
    program = le.Program(
        currencies=[bonus],
        promotions=[
            le.Promotion(external_id="half", benefit=half, applies_to=c.Sku(["s0"])),
            le.Promotion(
                external_id="a",
                benefit=le.AccruePercent(currency="bonus", percent=Decimal(10), base="discounted"),
            ),
        ],
    )
    order = attrs.evolve(ORDER, lines=[attrs.evolve(ORDER.lines[0], sku="s0"), ORDER.lines[1]])
    seen = labels_of(program, order)
    assert "allocation: an amount split over 2+ lines" in seen
    assert "allocation: points split with a remainder" not in seen


def test_vocabulary_gathers_every_word_a_program_tests() -> None:
    """Nested conditions, line filters, custom fields, dates, tiers and the catalog."""
    start = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(2027, 2, 1, tzinfo=dt.UTC)
    gold = le.AccruePercent(
        currency="bonus", percent=Decimal(1), tier_multipliers={"gold": Decimal(2)}
    )
    program = le.Program(
        currencies=[le.PointsCurrency(eid="bonus", qualifying=True)],
        catalog=le.Catalog(products={"shoe": ["feet"]}, skus={"S-1": ["socks"]}),
        promotions=[
            le.Promotion(
                external_id="a",
                benefit=gold,
                conditions=[
                    c.All([c.PromoCodeEntered(["SALE"]), c.Not(c.Endpoint(["app"]))]),
                    c.AnyOf([c.Region(["north"]), c.OrderTag(["first"])]),
                    c.CustomField(field="channel", values=["b2b"]),
                    c.Dates(start=start),
                    c.MemberSegment(["vip"]),
                    c.MemberTag(["staff"]),
                ],
                applies_to=c.AnyOf([c.Product(["hat"]), c.Category(["kids"]), c.Sku(["H-2"])]),
                end=end,
            ),
            le.Promotion(
                external_id="b",
                benefit=le.PercentOff(Decimal(5)),
                conditions=[
                    c.MemberTier(["silver"]),
                    c.CustomField(field="size", values=["m", "l"], scope="line"),
                ],
            ),
        ],
        tier_groups=[le.TierGroup(id=1, currency="bonus", tiers=[le.Tier(id=1, eid="bronze")])],
    )
    second = dt.timedelta(seconds=1)
    assert testing.Vocabulary.of(program) == testing.Vocabulary(
        products=("hat", "shoe"),
        skus=("H-2", "S-1"),
        categories=("kids",),
        codes=("SALE",),
        endpoints=("app",),
        regions=("north",),
        order_tags=("first",),
        tiers=("bronze", "gold", "silver"),
        segments=("vip",),
        member_tags=("staff",),
        order_fields=(("channel", ("b2b",)),),
        line_fields=(("size", ("l", "m")),),
        moments=(testing.NOW, start - second, start, end - second, end),
    )


def test_a_program_without_products_is_ordered_from_ours() -> None:
    assert (
        testing.Vocabulary.of(le.Program()).products
        == testing.Vocabulary.of(le.Program(catalog=testing.CATALOG)).products
    )


@settings(max_examples=30)
@given(data=st.data())
def test_orders_and_members_speak_the_program(data: st.DataObject) -> None:
    program = le.load_program(EXAMPLES / "showcase" / "program.toml")
    words = testing.vocabulary(program)
    order = data.draw(testing.orders("RUB", program=program))
    member = data.draw(testing.members(program=program, guests=0))
    assert {line.product for line in order.lines} <= set(words.products)
    assert {code.code for code in order.promo_codes} <= set(words.codes)
    assert order.create_time in (None, *words.moments)
    assert {r.currency.eid for r in order.redeem} <= {"unknown", *program.currencies_by_eid}
    assert member is not None and {eid for eid, _ in member.balances} == set(
        program.currencies_by_eid
    )
    assert member.tier in (None, *words.tiers)
