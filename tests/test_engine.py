"""Example tests for every documented behaviour of ``calculate``; exact figures throughout."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal as D

import pytest

import loyalty_engine as le
from loyalty_engine.conditions import Dates, Endpoint, OrderTotal, Product, PromoCodeEntered, Sku

NOON = dt.datetime(2026, 2, 18, 12, 0, tzinfo=dt.UTC)
BONUS = le.PointsCurrency(eid="bonus1", iid=1, name="Main Point", lifetime_days=365)


def rub(text: str) -> le.Money:
    return le.Money.parse(text, "RUB")


def line(
    ident: str,
    price: str,
    count: int = 1,
    minimum: str = "0",
    product: str | None = None,
    sku: str | None = None,
) -> le.Line:
    return le.Line(
        external_id=ident,
        product=None if sku else product or ident,
        sku=sku,
        count=count,
        base_price_per_item=rub(price),
        min_price_per_item=rub(minimum),
    )


def order(*lines: le.Line, redeem: str | None = None, **kw: object) -> le.Order:
    requests = [le.RedeemRequest(le.PointsRef(eid="bonus1"), D(redeem))] if redeem else []
    return le.Order(external_id="o1", currency="RUB", lines=lines, redeem=requests, **kw)  # type: ignore[arg-type]


def member(active: str = "0", tier: str | None = None) -> le.Member:
    return le.Member(
        profile_id="p1", balances={"bonus1": le.Balance(D(active), D(active))}, tier=tier
    )


def promo(ident: str, benefit: object, **kw: object) -> le.Promotion:
    return le.Promotion(external_id=ident, benefit=benefit, **kw)  # type: ignore[arg-type]


def program(*promotions: le.Promotion, **settings: object) -> le.Program:
    groups: Sequence[le.Group] = settings.pop("groups", ())  # type: ignore[assignment]
    return le.Program(
        settings=le.Settings(**settings),  # type: ignore[arg-type]
        currencies=[BONUS],
        groups=groups,
        promotions=promotions,
    )


def finals(result: le.CalculatedOrder) -> list[str]:
    return [str(out.final_total) for out in result.lines]


def reasons(result: le.CalculatedOrder) -> dict[str, le.Reason]:
    return {entry.external_id: entry.reason for entry in result.trace}


# --- the seeds ----------------------------------------------------------------------------------


def test_seed_003_numbers() -> None:
    """5% accrual on the base price floors to 6999; 499 points at rate 1 take 499.00 off."""
    prog = program(
        promo("bonus", le.AccruePercent(currency="bonus1", percent=D(5)), name="Point Accrual"),
        promo("bonus", le.Redeem(currency="bonus1"), name="Point Redemption"),
    )
    result = le.calculate(
        prog, order(line("l1", "139999.00"), redeem="499"), member("20999"), now=NOON
    )
    assert str(result.final_total_price) == "139500.00"
    (summary,) = result.points
    assert (summary.status, summary.active_balance) == (le.Status.SUCCESS, D(20999))
    assert (summary.accrued, summary.redeemed) == (D(6999), D(499))
    assert [(a.type, a.points) for a in result.lines[0].applied] == [
        ("accrue_points", D(6999)),
        ("redeem_points", D(499)),
    ]


def test_seed_004_line_numbers() -> None:
    """10% off 1500.00 is 150.00; accrual is on the base (75); 100 points reach the min price."""
    prog = program(
        promo("promo_1", le.PercentOff(D(10)), applies_to=Product(["popit"])),
        promo(
            "bonus_promo",
            le.AccruePercent(currency="bonus1", percent=D(5)),
            applies_to=Product(["popit"]),
        ),
        promo("redeem_promo", le.Redeem(), applies_to=Sku(["skuf"])),
    )
    cart = order(
        line("line_1", "1500.00", product="popit"),
        line("line_2", "700.00", count=2, minimum="650.00", sku="skuf"),
        redeem="100",
    )
    result = le.calculate(prog, cart, member("21575"), now=NOON)
    one, two = result.lines
    assert str(one.final_price_per_item) == "1350.00"
    assert [(a.external_id, a.amount, a.points) for a in one.applied] == [
        ("promo_1", rub("150.00"), None),
        ("bonus_promo", None, D(75)),
    ]
    assert str(two.final_price_per_item) == "650.00"
    assert [(a.external_id, a.amount, a.points) for a in two.applied] == [
        ("redeem_promo", rub("100.00"), D(100))
    ]


# --- discount kinds -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rounding", "expected"), [(le.Rounding.HALF_UP, "0.22"), (le.Rounding.HALF_EVEN, "0.23")]
)
def test_percent_rounds_per_item_by_the_program_mode(rounding: le.Rounding, expected: str) -> None:
    """10% of 0.25 is 0.025: HALF_UP takes 0.03 off, HALF_EVEN 0.02."""
    result = le.calculate(
        program(promo("p", le.PercentOff(D(10))), rounding=rounding),
        order(line("a", "0.25")),
        now=NOON,
    )
    assert finals(result) == [expected]


def test_amount_per_item_and_fixed_price() -> None:
    """5.00 off each item of a 3-item line; a fixed price sets every item to 7.00."""
    per_item = program(promo("p", le.AmountOffItem(D(5))))
    assert finals(le.calculate(per_item, order(line("a", "10.00", 3)), now=NOON)) == ["15.00"]
    fixed = program(promo("p", le.FixedPrice(D(7))))
    result = le.calculate(fixed, order(line("a", "10.00", 3), line("b", "5.00")), now=NOON)
    assert finals(result) == ["21.00", "5.00"]


def test_amount_per_order_is_allocated_by_headroom_largest_remainder() -> None:
    """100.00 over headrooms 100:200 is 33.33 + 66.67; the parts sum to the whole."""
    prog = program(promo("p", le.AmountOffOrder(D(100))))
    result = le.calculate(prog, order(line("a", "100.00"), line("b", "200.00")), now=NOON)
    assert [str(a.amount) for out in result.lines for a in out.applied] == ["33.33", "66.67"]


def test_buy_two_get_cheapest_free() -> None:
    """Of three items the cheapest (30.00) is free; most_expensive frees the 100.00 one."""
    cart = order(line("a", "100.00"), line("b", "50.00"), line("c", "30.00"))
    cheap = le.calculate(program(promo("p", le.BuyXGetY(buy=2, get=1))), cart, now=NOON)
    assert finals(cheap) == ["100.00", "50.00", "0.00"]
    dear = program(promo("p", le.BuyXGetY(buy=2, get=1, select="most_expensive")))
    assert finals(le.calculate(dear, cart, now=NOON)) == ["0.00", "50.00", "30.00"]


def test_tiered_percent_takes_the_highest_step_reached() -> None:
    """An order of 1500.00 reaches the 1000 step (5%), not the 2000 one (10%)."""
    steps = [le.Step(min_total=D(1000), percent=D(5)), le.Step(min_total=D(2000), percent=D(10))]
    prog = program(promo("p", le.TieredPercent(steps)))
    assert finals(le.calculate(prog, order(line("a", "1500.00")), now=NOON)) == ["1425.00"]


# --- clamp, caps and indivisible amounts --------------------------------------------------------


def test_min_price_clamps_and_the_trace_says_so() -> None:
    """50% off 100.00 with a floor of 80.00 takes only 20.00, reported as clamped."""
    result = le.calculate(
        program(promo("p", le.PercentOff(D(50)))),
        order(line("a", "100.00", minimum="80.00")),
        now=NOON,
    )
    assert finals(result) == ["80.00"]
    assert result.lines[0].applied[0].limited
    assert reasons(result) == {"p": le.Reason.CLAMPED}


def test_max_amount_and_program_share_cap_discounts() -> None:
    """max_amount caps one promotion; max_discount_percent caps all discounts together."""
    capped = program(promo("p", le.PercentOff(D(50)), max_amount=D(10)))
    assert finals(le.calculate(capped, order(line("a", "100.00")), now=NOON)) == ["90.00"]
    shared = program(
        promo("p", le.PercentOff(D(30))),
        promo("q", le.PercentOff(D(30))),
        max_discount_percent=D(40),
    )
    result = le.calculate(shared, order(line("a", "100.00")), now=NOON)
    assert finals(result) == ["60.00"]
    assert reasons(result) == {"p": le.Reason.APPLIED, "q": le.Reason.CAPPED}


def test_keep_uniform_leaves_the_sub_unit_remainder_with_the_merchant() -> None:
    """10.00 off a 3 × 10.00 line: 9.99 goes (3.33 an item); the price stays uniform."""
    prog = program(promo("p", le.AmountOffOrder(D(10))))
    result = le.calculate(prog, order(line("a", "10.00", 3)), now=NOON)
    assert str(result.lines[0].final_price_per_item) == "6.67"
    assert str(result.lines[0].applied[0].amount) == "9.99"


def test_breakdown_policy_takes_the_exact_amount_with_a_price_breakdown() -> None:
    """Under ``breakdown`` the full 10.00 goes: 2 × 6.67 + 1 × 6.66 = 20.00."""
    prog = program(promo("p", le.AmountOffOrder(D(10))), indivisible="breakdown")
    (out,) = le.calculate(prog, order(line("a", "10.00", 3)), now=NOON).lines
    assert str(out.final_total) == "20.00"
    assert [(n, str(p)) for n, p in out.breakdown] == [(2, "6.67"), (1, "6.66")]


# --- arbitration --------------------------------------------------------------------------------


def test_stack_compounds_sequentially_or_on_base() -> None:
    """Two 10% discounts: 81.00 sequentially, 80.00 on the base price."""
    two = (promo("p", le.PercentOff(D(10))), promo("q", le.PercentOff(D(10))))
    cart = order(line("a", "100.00"))
    assert finals(le.calculate(program(*two), cart, now=NOON)) == ["81.00"]
    on_base = program(*two, compounding="on_base")
    assert finals(le.calculate(on_base, cart, now=NOON)) == ["80.00"]


@pytest.mark.parametrize(
    ("choice", "winner", "final"),
    [
        ("priority", "small", "95.00"),
        ("best_for_customer", "big", "80.00"),
        ("best_for_merchant", "small", "95.00"),
    ],
)
def test_group_choice_picks_one_winner(choice: str, winner: str, final: str) -> None:
    """In a group, priority takes the first, best_for_customer the largest, merchant the least."""
    prog = program(
        promo("small", le.PercentOff(D(5)), priority=2),
        promo("big", le.PercentOff(D(20)), priority=1),
        choice=choice,
    )
    result = le.calculate(prog, order(line("a", "100.00")), now=NOON)
    assert finals(result) == [final]
    loser = ({"small", "big"} - {winner}).pop()
    assert reasons(result) == {winner: le.Reason.APPLIED, loser: le.Reason.LOST_ARBITRATION}


def test_line_scope_picks_a_winner_per_line() -> None:
    """Per line, the best of 10% on shoes and 30.00 off hats wins where it gives most."""
    groups = [le.Group(id="g", choice="best_for_customer", scope="line")]
    prog = program(
        promo("pct", le.PercentOff(D(10)), group="g"),
        promo("hats", le.AmountOffItem(D(30)), group="g", applies_to=Product(["hat"])),
        groups=groups,
    )
    cart = order(line("s", "100.00", product="shoe"), line("h", "100.00", product="hat"))
    assert finals(le.calculate(prog, cart, now=NOON)) == ["90.00", "70.00"]


def test_exclusive_promotion_holds_its_lines() -> None:
    """An exclusive discount of higher priority shuts out the others on its lines only."""
    prog = program(
        promo("vip", le.PercentOff(D(20)), exclusive=True, priority=5, applies_to=Product(["a"])),
        promo("all", le.PercentOff(D(10))),
    )
    result = le.calculate(prog, order(line("a", "100.00"), line("b", "100.00")), now=NOON)
    assert finals(result) == ["80.00", "90.00"]


def test_exclusive_promotion_skips_lines_already_discounted() -> None:
    """A lower-priority exclusive discount cannot join a line another discount touched."""
    prog = program(
        promo("first", le.PercentOff(D(10)), priority=5, applies_to=Product(["a"])),
        promo("solo", le.PercentOff(D(50)), exclusive=True),
    )
    result = le.calculate(prog, order(line("a", "100.00"), line("b", "100.00")), now=NOON)
    assert finals(result) == ["90.00", "50.00"]


def test_stop_after_ends_the_group() -> None:
    """Nothing of lower priority applies after a stop_after promotion that applied."""
    prog = program(
        promo("stop", le.PercentOff(D(10)), priority=5, stop_after=True),
        promo("later", le.PercentOff(D(10))),
    )
    result = le.calculate(prog, order(line("a", "100.00")), now=NOON)
    assert finals(result) == ["90.00"]
    assert reasons(result)["later"] is le.Reason.STOPPED


def test_custom_picker_plugs_in_by_name() -> None:
    """A caller-supplied picker decides a group whose choice names it; a missing one is an error."""

    class Last:
        def pick(self, options: Sequence[le.Option]) -> int | None:
            return len(options) - 1 if options else None

    prog = le.Program(
        settings=le.Settings(choice="last"),
        promotions=[promo("a", le.PercentOff(D(10)), priority=2), promo("b", le.PercentOff(D(1)))],
    )
    cart = order(line("x", "100.00"))
    assert finals(le.calculate(prog, cart, now=NOON, pickers={"last": Last()})) == ["99.00"]
    with pytest.raises(le.RuleError, match="last"):
        le.calculate(prog, cart, now=NOON)


def test_nested_group_competes_as_one_member() -> None:
    """A stacked subgroup (10% + 10% = 19.00) beats a single 15% in a best_for_customer root."""
    groups = [le.Group(id="pair", choice="stack")]
    prog = program(
        promo("a", le.PercentOff(D(10)), group="pair"),
        promo("b", le.PercentOff(D(10)), group="pair"),
        promo("c", le.PercentOff(D(15))),
        choice="best_for_customer",
        groups=groups,
    )
    result = le.calculate(prog, order(line("x", "100.00")), now=NOON)
    assert finals(result) == ["81.00"]
    assert reasons(result)["c"] is le.Reason.LOST_ARBITRATION


# --- points -------------------------------------------------------------------------------------


def test_redeem_is_limited_by_balance_and_reports_why() -> None:
    """Asking 500 with 300 active redeems 300, status limited."""
    prog = program(promo("r", le.Redeem()))
    result = le.calculate(prog, order(line("a", "1000.00"), redeem="500"), member("300"), now=NOON)
    (summary,) = result.points
    assert (summary.status, summary.redeemed) == (le.Status.LIMITED, D(300))
    assert summary.reason == "limited by the active balance"
    assert finals(result) == ["700.00"]


@pytest.mark.parametrize(
    ("prog", "who", "status"),
    [
        (program(promo("r", le.Redeem())), member("0"), le.Status.INSUFFICIENT_BALANCE),
        (program(promo("r", le.Redeem())), None, le.Status.NOT_MEMBER),
        (program(), member("100"), le.Status.NOT_AVAILABLE),
    ],
)
def test_redeem_statuses(prog: le.Program, who: le.Member | None, status: le.Status) -> None:
    """Zero balance, a guest, and no redeem promotion each get their own status, and no points."""
    result = le.calculate(prog, order(line("a", "100.00"), redeem="50"), who, now=NOON)
    assert (result.points[0].status, result.points[0].redeemed) == (status, D(0))
    assert finals(result) == ["100.00"]


def test_redeem_unknown_currency() -> None:
    """A request for a currency the program lacks is reported, not raised."""
    cart = le.Order(
        external_id="o",
        currency="RUB",
        lines=[line("a", "10.00")],
        redeem=[le.RedeemRequest(le.PointsRef(eid="stars"), D(5))],
    )
    result = le.calculate(program(promo("r", le.Redeem())), cart, member("10"), now=NOON)
    assert [(s.currency.eid, s.status) for s in result.points] == [
        ("bonus1", le.Status.SUCCESS),
        ("stars", le.Status.UNKNOWN_CURRENCY),
    ]


def test_redeem_max_percent_and_rate() -> None:
    """At 0.5 RUB a point, 50% of 100.00 is 50.00 = 100 points, whatever was asked beyond."""
    half = le.PointsCurrency(eid="bonus1", redeem_rate=D("0.5"))
    prog = le.Program(currencies=[half], promotions=[promo("r", le.Redeem(max_percent=D(50)))])
    result = le.calculate(prog, order(line("a", "100.00"), redeem="1000"), member("1000"), now=NOON)
    assert (result.points[0].redeemed, finals(result)) == (D(100), ["50.00"])
    assert result.points[0].reason == "limited by the promotion's max share"


def test_redeem_keeps_uniform_prices_in_whole_points() -> None:
    """A 3-item line takes points only in threes at rate 1: asking 10 redeems 9."""
    prog = program(promo("r", le.Redeem()))
    result = le.calculate(prog, order(line("a", "100.00", 3), redeem="10"), member("50"), now=NOON)
    assert (result.points[0].redeemed, finals(result)) == (D(9), ["291.00"])


def test_accrual_kinds_base_and_multiplier() -> None:
    """per_spend gives 10 per full 100.00 of the discounted total; gold tier doubles it."""
    prog = program(
        promo("d", le.PercentOff(D(10))),
        promo(
            "a",
            le.AccruePerSpend(
                currency="bonus1",
                points=D(10),
                per=D(100),
                base="discounted",
                tier_multipliers={"gold": D(2)},
            ),
        ),
        promo("f", le.AccrueFixed(currency="bonus1", points=D(7))),
    )
    cart = order(line("x", "250.00"))
    plain = le.calculate(prog, cart, member(), now=NOON)
    assert plain.points[0].accrued == D(27)  # 225.00 → 2 × 10, plus 7
    gold = le.calculate(prog, cart, member(tier="gold"), now=NOON)
    assert gold.points[0].accrued == D(47)


def test_accrual_is_allocated_to_lines_and_carries_expiry() -> None:
    """Order-level points split by base price (largest remainder); expiry = time + lifetime."""
    prog = program(promo("a", le.AccrueFixed(currency="bonus1", points=D(10))))
    result = le.calculate(prog, order(line("x", "10.00"), line("y", "20.00")), member(), now=NOON)
    assert [a.points for out in result.lines for a in out.applied] == [D(3), D(7)]
    assert result.lines[0].applied[0].expiration_date == NOON + dt.timedelta(days=365)


def test_guest_accrues_nothing() -> None:
    """Without a member there is no account to credit."""
    prog = program(promo("a", le.AccruePercent(currency="bonus1", percent=D(5))))
    result = le.calculate(prog, order(line("x", "100.00")), None, now=NOON)
    assert (result.points[0].status, result.points[0].accrued) == (le.Status.NOT_MEMBER, D(0))
    assert reasons(result) == {"a": le.Reason.NOT_MEMBER}


# --- conditions, codes, messages, trace ---------------------------------------------------------


def test_trace_reasons_for_promotions_that_do_not_apply() -> None:
    """Inactive, outside dates, a failed condition with an upsell hint, and no selected line."""
    prog = program(
        promo("off", le.PercentOff(D(5)), is_active=False),
        promo("old", le.PercentOff(D(5)), end=NOON - dt.timedelta(days=1)),
        promo("big", le.PercentOff(D(5)), conditions=[OrderTotal(min=D(1000))]),
        promo("none", le.PercentOff(D(5)), applies_to=Product(["nothing"])),
    )
    result = le.calculate(prog, order(line("x", "850.00")), now=NOON)
    assert reasons(result) == {
        "off": le.Reason.INACTIVE,
        "old": le.Reason.OUTSIDE_DATES,
        "big": le.Reason.CONDITION_FAILED,
        "none": le.Reason.NO_LINES,
    }
    assert result.trace[2].detail == "order_total: add 150.00 RUB more to qualify"


def test_create_time_decides_dates_over_now() -> None:
    """A promotion is judged at the order's create_time when the order has one."""
    window = Dates(start=NOON - dt.timedelta(hours=1), end=NOON + dt.timedelta(hours=1))
    prog = program(promo("p", le.PercentOff(D(10)), conditions=[window]))
    later = NOON + dt.timedelta(days=3)
    assert finals(le.calculate(prog, order(line("x", "10.00")), now=later)) == ["10.00"]
    placed = order(line("x", "10.00"), create_time=NOON)
    assert finals(le.calculate(prog, placed, now=later)) == ["9.00"]


def test_codes_messages_and_promo_code_status() -> None:
    """A code unlocks a discount; a code_issue is declared; a message fills its placeholders."""
    prog = program(
        promo("summer", le.PercentOff(D(10)), conditions=[PromoCodeEntered(codes=["SUMMER"])]),
        promo("gift", le.IssueCodes(pool_id=100, pool_name="Welcome")),
        promo("msg", le.Message(template="Saved {discount}, got {accrued} {{points}}")),
        promo("a", le.AccruePercent(currency="bonus1", percent=D(1))),
        promo("site", le.PercentOff(D(50)), conditions=[Endpoint(["site"])]),
    )
    cart = order(
        line("x", "1000.00"),
        endpoint="bot",
        promo_codes=[le.PromoCode("SUMMER", 42), le.PromoCode("OTHER", 42)],
    )
    result = le.calculate(prog, cart, member(), now=NOON)
    assert [(c.code, c.state) for c in result.promo_codes] == [
        ("SUMMER", le.CodeState.APPLIED),
        ("OTHER", le.CodeState.NOT_APPLICABLE),
    ]
    assert [(c.pool_id, c.count) for c in result.codes_to_issue] == [(100, 1)]
    assert [m.text for m in result.messages] == ["Saved 100.00, got 10 {points}"]


def test_delivery_is_discountable_only_when_the_program_says_so() -> None:
    """An order-level amount reaches the delivery slot only with delivery_discountable."""
    cart = order(line("x", "10.00", minimum="10.00"), delivery_cost=rub("300.00"))
    closed = program(promo("p", le.AmountOffOrder(D(100))))
    assert str(le.calculate(closed, cart, now=NOON).delivery_cost) == "300.00"
    opened = program(promo("p", le.AmountOffOrder(D(100))), delivery_discountable=True)
    result = le.calculate(opened, cart, now=NOON)
    assert str(result.delivery_cost) == "200.00"
    assert [(a.external_id, str(a.amount)) for a in result.applied] == [("p", "100.00")]
    assert str(result.discount_total) == "100.00"


# --- purity and bad input -----------------------------------------------------------------------


def test_same_input_same_output() -> None:
    """Calculation is deterministic: equal results, identical repr."""
    prog = program(
        promo("p", le.PercentOff(D(10))), promo("a", le.AccrueFixed(currency="bonus1", points=D(5)))
    )
    cart = order(line("x", "10.00"), line("y", "20.00", 2))
    first = le.calculate(prog, cart, member(), now=NOON)
    second = le.calculate(prog, cart, member(), now=NOON)
    assert first == second and repr(first) == repr(second)


def test_naive_now_is_rejected() -> None:
    """``now`` without a timezone is a different instant on every server."""
    with pytest.raises(le.ValidationError, match="now: must be a timezone-aware datetime"):
        le.calculate(program(), order(line("x", "1.00")), now=dt.datetime(2026, 1, 1))


def test_program_amount_finer_than_the_currency_is_a_rule_error() -> None:
    """0.5 JPY off cannot be taken; the error names the promotion."""
    cart = le.Order(
        external_id="o",
        currency="JPY",
        lines=[
            le.Line(
                external_id="a",
                product="a",
                count=1,
                base_price_per_item=le.Money.parse("100", "JPY"),
            )
        ],
    )
    with pytest.raises(le.RuleError, match="'p'"):
        le.calculate(program(promo("p", le.AmountOffItem(D("0.5")))), cart, now=NOON)


def test_repeated_redeem_currency_is_a_validation_error() -> None:
    """Two requests for one currency (by iid and eid) are ambiguous, so rejected."""
    cart = le.Order(
        external_id="o",
        currency="RUB",
        lines=[line("a", "10.00")],
        redeem=[
            le.RedeemRequest(le.PointsRef(eid="bonus1"), D(1)),
            le.RedeemRequest(le.PointsRef(iid=1), D(1)),
        ],
    )
    with pytest.raises(le.ValidationError, match=r"redeem_points\[1\]"):
        le.calculate(program(promo("r", le.Redeem())), cart, member("5"), now=NOON)


def test_amount_per_order_that_does_not_fit_is_reported_clamped() -> None:
    """100.00 off a cart with 60.00 above its floors takes 60.00 and says clamped."""
    prog = program(promo("p", le.AmountOffOrder(D(100))))
    result = le.calculate(prog, order(line("a", "100.00", minimum="40.00")), now=NOON)
    assert finals(result) == ["40.00"]
    assert reasons(result) == {"p": le.Reason.CLAMPED}


def test_a_picker_answering_outside_the_options_is_a_rule_error() -> None:
    """A plugged-in picker's bad answer is reported, not an IndexError."""

    class Broken:
        def pick(self, options: Sequence[le.Option]) -> int | None:
            return len(options)

    prog = le.Program(
        settings=le.Settings(choice="broken"), promotions=[promo("a", le.PercentOff(D(10)))]
    )
    with pytest.raises(le.RuleError, match="'broken' answered 1 for 1 options"):
        le.calculate(prog, order(line("x", "1.00")), now=NOON, pickers={"broken": Broken()})


# --- corners that were wrong (issue 9): each test failed on the code before its fix ------------

CENTS = le.PointsCurrency(eid="cents", iid=2, precision=2)
WHOLE = le.PointsCurrency(eid="whole", iid=3)


def two_currency_member(a: str, b: str, active: str = "500") -> le.Member:
    return le.Member(
        profile_id="p1",
        balances={a: le.Balance(D(active), D(active)), b: le.Balance(D(active), D(active))},
    )


def test_a_redeem_promotion_for_any_currency_serves_every_requested_one() -> None:
    """No currency means any: two currencies asked, both are redeemed, and the trace says so."""
    prog = le.Program(currencies=[BONUS, WHOLE], promotions=[promo("r", le.Redeem())])
    cart = le.Order(
        external_id="o",
        currency="RUB",
        lines=[line("a", "1000.00")],
        redeem=[
            le.RedeemRequest(le.PointsRef(eid="bonus1"), D(100)),
            le.RedeemRequest(le.PointsRef(eid="whole"), D(100)),
        ],
    )
    result = le.calculate(prog, cart, two_currency_member("bonus1", "whole"), now=NOON)
    assert [(s.currency.eid, s.status, s.redeemed) for s in result.points] == [
        ("bonus1", le.Status.SUCCESS, D(100)),
        ("whole", le.Status.SUCCESS, D(100)),
    ]
    assert finals(result) == ["800.00"]
    (entry,) = result.trace
    assert (entry.reason, entry.detail) == (
        le.Reason.APPLIED,
        "redeemed 100 bonus1; redeemed 100 whole",
    )


@pytest.mark.parametrize("reverse", [False, True])
def test_redemption_is_placed_exactly_whatever_the_line_order(reverse: bool) -> None:
    """3 × 20.00 + 7 × 10.00, no min prices: 10 points fit exactly (3 + 7), in either order."""
    lines = [line("a", "20.00", 3), line("b", "10.00", 7)]
    cart = order(*(lines[::-1] if reverse else lines), redeem="10")
    result = le.calculate(program(promo("r", le.Redeem())), cart, member("50"), now=NOON)
    assert (result.points[0].status, result.points[0].redeemed) == (le.Status.SUCCESS, D(10))
    assert str(result.final_total_price) == "120.00"


@pytest.mark.parametrize("reverse", [False, True])
def test_amount_per_order_finds_the_exact_uniform_split(reverse: bool) -> None:
    """10.00 off 3 × 5.00 + 7 × 10.00 is 3 × 0.58 + 7 × 1.18, in either line order."""
    lines = [line("a", "5.00", 3), line("b", "10.00", 7)]
    cart = order(*(lines[::-1] if reverse else lines))
    result = le.calculate(program(promo("p", le.AmountOffOrder(D(10)))), cart, now=NOON)
    assert str(result.final_total_price) == "75.00"
    prices = {out.line.external_id: str(out.final_price_per_item) for out in result.lines}
    assert prices == {"a": "4.42", "b": "8.82"}
    assert reasons(result) == {"p": le.Reason.APPLIED}


def test_best_for_customer_values_points_at_their_redeem_rate() -> None:
    """1.00 of a two-decimal currency is worth less than 50 whole points, both at rate 1."""
    prog = le.Program(
        settings=le.Settings(choice="best_for_customer"),
        currencies=[CENTS, WHOLE],
        promotions=[
            promo("cents", le.AccrueFixed(currency="cents", points=D(1)), priority=1),
            promo("whole", le.AccrueFixed(currency="whole", points=D(50))),
        ],
    )
    result = le.calculate(prog, order(line("a", "100.00")), two_currency_member("cents", "whole"),
                          now=NOON)  # fmt: skip
    assert reasons(result) == {"cents": le.Reason.LOST_ARBITRATION, "whole": le.Reason.APPLIED}
    assert [(s.currency.eid, s.accrued) for s in result.points] == [
        ("cents", D(0)),
        ("whole", D(50)),
    ]


@pytest.mark.parametrize("choice", ["best_for_customer", "best_for_merchant"])
def test_a_tie_goes_to_the_higher_priority(choice: str) -> None:
    """Equal benefits: the higher priority wins, in either direction of best."""
    prog = program(
        promo("low", le.PercentOff(D(10)), priority=1),
        promo("high", le.AmountOffItem(D(10)), priority=2),
        choice=choice,
    )
    result = le.calculate(prog, order(line("a", "100.00")), now=NOON)
    assert reasons(result)["high"] is le.Reason.APPLIED


def test_max_percent_counts_the_lines_not_a_discountable_delivery() -> None:
    """50% of the lines' 1000.00 is 500 points, though the delivery could take points too."""
    prog = program(promo("r", le.Redeem(max_percent=D(50))), delivery_discountable=True)
    cart = order(line("a", "1000.00"), redeem="2000", delivery_cost=rub("1000.00"))
    result = le.calculate(prog, cart, member("5000"), now=NOON)
    assert (result.points[0].redeemed, result.points[0].reason) == (
        D(500),
        "limited by the promotion's max share",
    )


def test_line_scope_winner_trace_tells_what_it_took_on_its_lines() -> None:
    """20% wins line x (10.00) and loses y to 15.00 off: its trace says 10.00, not 20.00."""
    groups = [le.Group(id="g", choice="best_for_customer", scope="line")]
    prog = program(
        promo("pct", le.PercentOff(D(20)), group="g"),
        promo("y15", le.AmountOffItem(D(15)), group="g", applies_to=Product(["y"])),
        groups=groups,
    )
    result = le.calculate(prog, order(line("x", "50.00"), line("y", "50.00")), now=NOON)
    assert finals(result) == ["40.00", "35.00"]
    detail = {e.external_id: e.detail for e in result.trace}
    assert (
        detail["pct"] == "took 10.00 off on the lines it won (on the whole order: took 20.00 off)"
    )
    assert detail["y15"] == "took 15.00 off"


def test_a_request_whose_iid_and_eid_disagree_does_not_hide_the_real_currency() -> None:
    """bonus1 keeps its 50 accrued points; the unmatched request is reported on its own."""
    prog = program(
        promo("a", le.AccrueFixed(currency="bonus1", points=D(50))), promo("r", le.Redeem())
    )
    cart = le.Order(
        external_id="o",
        currency="RUB",
        lines=[line("a", "100.00")],
        redeem=[le.RedeemRequest(le.PointsRef(iid=99, eid="bonus1"), D(5))],
    )
    result = le.calculate(prog, cart, member("10"), now=NOON)
    assert [(s.currency.eid, s.currency.iid, s.status, s.accrued) for s in result.points] == [
        ("bonus1", 1, le.Status.SUCCESS, D(50)),
        ("bonus1", 99, le.Status.UNKNOWN_CURRENCY, D(0)),
    ]


def test_an_order_amount_cut_by_min_prices_is_marked_limited() -> None:
    """100.00 off a line with 50.00 above its floor takes 50.00, flagged limited."""
    result = le.calculate(program(promo("p", le.AmountOffOrder(D(100)))),
                          order(line("a", "100.00", minimum="50.00")), now=NOON)  # fmt: skip
    (applied,) = result.lines[0].applied
    assert (str(applied.amount), applied.limited) == ("50.00", True)


@pytest.mark.parametrize(("select", "off"), [("most_expensive", "13.33"), ("cheapest", "13.32")])
def test_buy_x_get_y_under_breakdown_frees_a_real_unit(select: str, off: str) -> None:
    """A 3-item line at 39.97 in all is 13.32 + 13.32 + 13.33: the free unit is one of those."""
    prog = program(
        promo("cut", le.AmountOffOrder(D("20.03")), priority=2),
        promo("free", le.BuyXGetY(buy=2, get=1, select=select), priority=1),  # type: ignore[arg-type]
        indivisible="breakdown",
    )
    result = le.calculate(prog, order(line("a", "20.00", 3)), now=NOON)
    amounts = {a.external_id: str(a.amount) for a in result.lines[0].applied}
    assert amounts == {"cut": "20.03", "free": off}


def test_upsell_hint_on_the_current_total_allows_for_the_discount_so_far() -> None:
    """10% off already: to reach 1000.00 current from 810.00, add 211.12 (× 0.9 = 190.01)."""
    prog = program(
        promo("ten", le.PercentOff(D(10)), priority=2),
        promo("big", le.PercentOff(D(5)), conditions=[OrderTotal(min=D(1000), basis="current")]),
    )
    result = le.calculate(prog, order(line("a", "900.00")), now=NOON)
    detail = {e.external_id: e.detail for e in result.trace}
    assert detail["big"] == "order_total: add 211.12 RUB more to qualify"


@pytest.mark.parametrize(
    ("benefit", "kw", "detail"),
    [
        (le.AmountOffOrder(D(10)), {}, "took 9.99 off, cut to keep item prices uniform"),
        (le.AmountOffOrder(D("0.02")), {}, "too small to keep item prices uniform"),
        (le.PercentOff(D(50)), {"max_amount": D(5)}, "took 4.98 off, cut by a cap"),
    ],
)
def test_trace_names_the_real_cause_of_a_cut(
    benefit: object, kw: dict[str, object], detail: str
) -> None:
    """A keep_uniform cut is not a min-price clamp, and a cap is not "nothing above min prices"."""
    result = le.calculate(program(promo("p", benefit, **kw)), order(line("a", "10.00", 3)),
                          now=NOON)  # fmt: skip
    (entry,) = result.trace
    assert entry.detail == detail


def test_a_spent_discount_budget_is_named_as_the_cause() -> None:
    """With the program's max discount share used up, the trace blames the cap."""
    prog = program(promo("p", le.PercentOff(D(50))), max_discount_percent=D(0))
    (entry,) = le.calculate(prog, order(line("a", "10.00")), now=NOON).trace
    assert (entry.reason, entry.detail) == (le.Reason.NO_BENEFIT, "a cap leaves nothing to take")


def test_exclusive_trace_says_whose_exclusivity_blocked() -> None:
    """An exclusive promotion on already-discounted lines is blocked by its own exclusivity."""
    prog = program(
        promo("first", le.PercentOff(D(10)), priority=2),
        promo("alone", le.PercentOff(D(20)), exclusive=True),
    )
    result = le.calculate(prog, order(line("a", "10.00")), now=NOON)
    detail = {e.external_id: e.detail for e in result.trace}
    assert detail["alone"] == (
        "it is exclusive, and every line it selects has a benefit of this stage already"
    )


# --- rules shops bring from other engines ---------------------------------------------------------


@pytest.mark.parametrize(
    ("remainder", "points"), [("largest", [4, 3, 3]), ("first", [4, 3, 3]), ("last", [3, 3, 4])]
)
def test_remainder_policy_decides_who_gets_the_leftover_unit(
    remainder: str, points: list[int]
) -> None:
    """10 points over three equal lines: 3 each, and the tenth by the program's policy."""
    prog = program(promo("a", le.AccrueFixed(currency="bonus1", points=D(10))), remainder=remainder)
    cart = order(line("x", "10.00"), line("y", "10.00"), line("z", "10.00"))
    result = le.calculate(prog, cart, member(), now=NOON)
    assert [a.points for out in result.lines for a in out.applied] == [D(p) for p in points]


@pytest.mark.parametrize(
    ("where", "off"),
    [("item", ["0.01", "0.01", "0.01"]), ("line", ["0.01", "0.01", "0.01"]),
     ("order", ["0.01", "0.01", "0.00"])],
)  # fmt: skip
def test_percent_rounding_per_item_per_line_or_once_per_order(where: str, off: list[str]) -> None:
    """10% of three 0.05 lines: 0.005 rounds up on each line, but 0.015 → 0.02 once."""
    prog = program(promo("p", le.PercentOff(D(10))), percent_rounding=where)
    result = le.calculate(prog, order(*(line(n, "0.05") for n in "xyz")), now=NOON)
    assert [str(out.discount) for out in result.lines] == off


def test_buy_x_get_y_once_per_order() -> None:
    """Buy 1 get 1, once: six items give one free, not three."""
    once = le.BuyXGetY(buy=1, get=1, repeat=False)
    result = le.calculate(program(promo("b", once)), order(line("a", "10.00", 6)), now=NOON)
    assert str(result.final_total_price) == "50.04"  # 10.00 off, kept uniform: 6 × 8.34


def test_the_n_cheapest_units_free_with_no_buy_count() -> None:
    """buy = 0, get = 2: the two cheapest units of the order are free."""
    free = le.BuyXGetY(buy=0, get=2)
    cart = order(line("a", "30.00"), line("b", "10.00"), line("c", "20.00"))
    result = le.calculate(program(promo("b", free)), cart, now=NOON)
    assert finals(result) == ["30.00", "0.00", "0.00"]


@pytest.mark.parametrize(
    "benefit",
    [le.PercentOff(D(0)), le.AmountOffOrder(D(0)), le.AmountOffItem(D(0)),
     le.AccrueFixed(currency="bonus1", points=D(0)),
     le.AccruePercent(currency="bonus1", percent=D(0))],
)  # fmt: skip
def test_a_zero_benefit_applies_as_a_no_op(benefit: object) -> None:
    """A promotion parked at 0 % or 0.00 loads, changes nothing, and says no_benefit."""
    prog = le.program_from_dict(program(promo("z", benefit)).to_dict())
    result = le.calculate(prog, order(line("a", "10.00")), member(), now=NOON)
    assert (finals(result), result.points[0].accrued) == (["10.00"], D(0))
    assert reasons(result) == {"z": le.Reason.NO_BENEFIT}


def test_a_percent_above_100_is_refused_at_load() -> None:
    """No discount may take more than the price: 120% is a load error, not a silent clamp."""
    with pytest.raises(le.ValidationError, match=r"must be a decimal in \[0..100\]"):
        le.PercentOff(D(120))


def test_redemption_is_bounded_by_the_active_balance_not_the_total() -> None:
    """500 in total but 100 active (the rest not yet active or held): 100 can be redeemed."""
    who = le.Member(profile_id="p1", balances={"bonus1": le.Balance(D(100), D(500))})
    prog = program(promo("r", le.Redeem()))
    result = le.calculate(prog, order(line("a", "1000.00"), redeem="300"), who, now=NOON)
    (summary,) = result.points
    assert (summary.status, summary.redeemed, summary.active_balance) == (
        le.Status.LIMITED,
        D(100),
        D(100),
    )


# --- pickers and per-line arbitration at their edges (from the mutation baseline) --------------


@pytest.mark.parametrize(
    ("picker", "options", "winner"),
    [
        (le.FirstByPriority(), [0, 1, 5], 1),  # a first option giving nothing does not block
        (le.FirstByPriority(), [0, 0], None),
        (le.BestForCustomer(), [1, 0], 0),  # one minor unit is a benefit
        (le.BestForCustomer(), [0, 0], None),
        (le.BestForCustomer(), [3, 3], 0),  # a tie: the higher priority
        (le.BestForMerchant(), [0, 1, 2], 1),
        (le.BestForMerchant(), [2, 2], 0),
        (le.BestForMerchant(), [0], None),
    ],
)
def test_builtin_pickers_at_their_edges(
    picker: le.Picker, options: list[int], winner: int | None
) -> None:
    """Zero is no benefit, one unit is; ties go to the earlier (higher-priority) option."""
    from fractions import Fraction

    given = [le.Option(f"o{i}", -i, Fraction(b)) for i, b in enumerate(options)]
    assert picker.pick(given) == winner


@pytest.mark.parametrize("answer", [True, "0", 1.0])
def test_a_picker_answering_a_non_index_is_a_rule_error(answer: object) -> None:
    class Odd:
        def pick(self, options: Sequence[le.Option]) -> object:
            return answer

    two = [promo("a", le.PercentOff(D(10))), promo("b", le.PercentOff(D(5)))]
    prog = le.Program(settings=le.Settings(choice="odd"), promotions=two)
    with pytest.raises(le.RuleError, match="'odd' answered"):
        le.calculate(prog, order(line("x", "1.00")), now=NOON, pickers={"odd": Odd()})  # type: ignore[dict-item]


def test_line_scope_merges_every_line_past_one_nobody_wins() -> None:
    """A line no promotion touches does not stop the lines after it from taking their winners."""
    groups = [le.Group(id="g", choice="best_for_customer", scope="line")]
    prog = program(
        promo("y", le.PercentOff(D(10)), group="g", applies_to=Product(["y"])),
        promo("z", le.PercentOff(D(20)), group="g", applies_to=Product(["z"])),
        groups=groups,
    )
    cart = order(line("x", "10.00"), line("y", "10.00"), line("z", "10.00"))
    assert finals(le.calculate(prog, cart, now=NOON)) == ["10.00", "9.00", "8.00"]


def test_line_scope_winners_keep_their_lines_exclusive() -> None:
    """An exclusive per-line winner still holds its line against a later discount of the stage."""
    groups = [le.Group(id="g", choice="best_for_customer", scope="line", priority=5)]
    prog = program(
        promo("alone", le.PercentOff(D(10)), group="g", exclusive=True),
        promo("other", le.AmountOffItem(D(1)), group="g", applies_to=Product(["y"])),
        promo("after", le.PercentOff(D(50))),
        groups=groups,
    )
    result = le.calculate(prog, order(line("x", "10.00"), line("y", "10.00")), now=NOON)
    assert finals(result) == ["9.00", "9.00"]
    assert reasons(result)["after"] is le.Reason.EXCLUSIVE


def test_line_scope_falls_back_to_one_winner_when_the_mix_breaks_the_budget() -> None:
    """Mixing per-line winners would pass max_discount_percent: one winner for the order."""
    groups = [le.Group(id="g", choice="best_for_customer", scope="line")]
    prog = program(
        promo("x9", le.AmountOffItem(D(9)), group="g", applies_to=Product(["x"])),
        promo("y9", le.AmountOffItem(D(9)), group="g", applies_to=Product(["y"])),
        promo("all5", le.AmountOffItem(D(5)), group="g"),
        groups=groups,
        max_discount_percent=D(50),
    )
    result = le.calculate(prog, order(line("x", "10.00"), line("y", "10.00")), now=NOON)
    assert str(result.final_total_price) == "10.00"  # all5 on both lines: 10.00 of the 10.00 budget
    assert reasons(result) == {
        "all5": le.Reason.APPLIED,
        "x9": le.Reason.LOST_ARBITRATION,
        "y9": le.Reason.LOST_ARBITRATION,
    }


def test_a_losing_group_reports_each_of_its_promotions_and_who_beat_it() -> None:
    """Every promotion of a losing subgroup is noted lost, to the winner by name."""
    groups = [
        le.Group(id="pick", choice="best_for_customer"),
        le.Group(id="pair", parent="pick"),
    ]
    prog = program(
        promo("big", le.PercentOff(D(50)), group="pick"),
        promo("a", le.PercentOff(D(5)), group="pair"),
        promo("b", le.PercentOff(D(5)), group="pair"),
        groups=groups,
    )
    result = le.calculate(prog, order(line("x", "100.00")), now=NOON)
    detail = {e.external_id: e.detail for e in result.trace}
    assert detail["a"].startswith("lost to big (") and detail["b"].startswith("lost to big (")


def test_a_group_after_earlier_discounts_measures_only_its_own_benefit() -> None:
    """10% stacked first; then in a priority group a 0% member gives nothing, so 5.00 off wins."""
    groups = [le.Group(id="g", choice="priority")]
    prog = program(
        promo("first", le.PercentOff(D(10)), priority=9),
        promo("zero", le.PercentOff(D(0)), group="g", priority=2),
        promo("five", le.AmountOffItem(D(5)), group="g", priority=1),
        groups=groups,
    )
    result = le.calculate(prog, order(line("x", "100.00")), now=NOON)
    assert finals(result) == ["85.00"]


def test_a_plugged_in_picker_sees_ids_and_priorities_per_order_and_per_line() -> None:
    seen: list[tuple[str, int]] = []

    class Spy:
        def pick(self, options: Sequence[le.Option]) -> int | None:
            seen.extend((o.id, o.priority) for o in options)
            return 0

    for scope in ("order", "line"):
        seen.clear()
        prog = program(promo("a", le.PercentOff(D(10)), priority=3),
                       promo("b", le.PercentOff(D(5)), priority=1),
                       choice="spy", scope=scope)  # fmt: skip
        le.calculate(prog, order(line("x", "10.00")), now=NOON, pickers={"spy": Spy()})
        assert set(seen) == {("a", 3), ("b", 1)}


def test_line_scope_winners_mark_their_lines_for_a_later_exclusive_promotion() -> None:
    """A later exclusive discount skips lines a per-line winner already discounted."""
    groups = [le.Group(id="g", choice="best_for_customer", scope="line", priority=5)]
    prog = program(
        promo("x1", le.AmountOffItem(D(1)), group="g", applies_to=Product(["x"])),
        promo("alone", le.PercentOff(D(50)), exclusive=True),
        groups=groups,
    )
    result = le.calculate(prog, order(line("x", "10.00"), line("y", "10.00")), now=NOON)
    assert finals(result) == ["9.00", "5.00"]


def test_line_scope_keeps_a_mix_within_the_budget_and_a_full_winner_keeps_its_sentence() -> None:
    """The mix costs 3.00 of a 15.00 budget, so it stands; pct won all its lines: a plain trace."""
    groups = [le.Group(id="g", choice="best_for_customer", scope="line")]
    prog = program(
        promo("pct", le.PercentOff(D(10)), group="g", applies_to=Product(["x", "y"])),
        promo("z", le.AmountOffItem(D(1)), group="g", applies_to=Product(["z"])),
        groups=groups,
        max_discount_percent=D(50),
    )
    cart = order(line("x", "10.00"), line("y", "10.00"), line("z", "10.00"))
    result = le.calculate(prog, cart, now=NOON)
    assert finals(result) == ["9.00", "9.00", "9.00"]
    detail = {e.external_id: e.detail for e in result.trace}
    assert detail == {"pct": "took 2.00 off", "z": "took 1.00 off"}


def test_redeem_promotions_compete_per_currency_by_priority() -> None:
    """For bonus1 the higher priority wins and the other is lost to it; later ones too."""
    prog = program(
        promo("low", le.Redeem(max_percent=D(10)), priority=1),
        promo("high", le.Redeem(currency="bonus1"), priority=5),
        promo("lowest", le.Redeem()),
    )
    result = le.calculate(prog, order(line("a", "100.00"), redeem="30"), member("50"), now=NOON)
    assert (result.points[0].status, result.points[0].redeemed) == (le.Status.SUCCESS, D(30))
    detail = {e.external_id: (e.reason, e.detail) for e in result.trace}
    assert detail == {
        "high": (le.Reason.APPLIED, "redeemed 30 bonus1"),
        "low": (le.Reason.LOST_ARBITRATION, "lost to high"),
        "lowest": (le.Reason.LOST_ARBITRATION, "lost to high"),
    }


def test_no_redeem_promotion_for_the_order_says_so() -> None:
    """A redeem promotion whose conditions fail leaves the request not_available, with why."""
    prog = program(promo("r", le.Redeem(), conditions=[Endpoint(["app"])]))
    result = le.calculate(prog, order(line("a", "10.00"), redeem="5"), member("50"), now=NOON)
    (summary,) = result.points
    assert (summary.status, summary.reason) == (
        le.Status.NOT_AVAILABLE,
        "no redeem promotion applies to this order",
    )
    assert reasons(result) == {"r": le.Reason.CONDITION_FAILED}


def test_a_near_miss_hint_beyond_any_money_is_still_a_sentence() -> None:
    """Almost everything discounted away, the hint on the ``current`` basis scales past Money's
    cap; it was a ValidationError from writing the sentence, it is a sentence."""
    prog = program(
        promo("all", le.PercentOff(D(100)), priority=5),
        promo("far", le.PercentOff(D(1)), conditions=[OrderTotal(min=D(10**14), basis="current")]),
    )
    result = le.calculate(prog, order(line("a", "90000000000000", minimum="0.01")), now=NOON)
    assert finals(result) == ["0.01"]
    assert reasons(result)["far"] is le.Reason.CONDITION_FAILED
    hint = "order_total: add 899999999999999910000000000000.00 RUB more to qualify"
    assert result.trace[1].detail == hint
