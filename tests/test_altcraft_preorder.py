"""The preorder wire codec reads the seed 003 request and writes the seed 003 response."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

import loyalty_engine as le
from loyalty_engine.altcraft.preorder import (
    parse_preorder_request,
    render_preorder_response,
)
from loyalty_engine.altcraft.wire import read_json
from loyalty_engine.conditions import Product
from loyalty_engine.store.records import Match

SEED = Path(__file__).resolve().parent.parent / "examples" / "seed_003"
SEED_RESPONSE = {
    "data": {
        "profile": {"profile_id": "696e304f547840a7286619e0"},
        "order": {
            "processing_target": "calculated",
            "total_price": "139999.00",
            "final_total_price": "139500.00",
            "delivery_cost": "0.00",
            "currency": "RUB",
            "lines": [
                {
                    "external_id": "line___ASTGRf",
                    "line_number": 0,
                    "count": 1,
                    "product": "iphone17pmb256",
                    "base_price_per_item": "139999.00",
                    "min_price_per_item": "0.00",
                    "final_price_per_item": "139500.00",
                    "custom_fields": {},
                    "applied_promotions": [
                        {
                            "type": "accrue_points",
                            "promotion": {"external_id": "bonus", "name": "Point Accrual"},
                            "points_info": {
                                "points_currency_iid": 1,
                                "points_currency_eid": "bonus1",
                                "name": "Main Point",
                                "amount": "6999",
                            },
                        },
                        {
                            "type": "redeem_points",
                            "promotion": {"external_id": "bonus", "name": "Point Redemption"},
                            "points_info": {
                                "points_currency_iid": 1,
                                "points_currency_eid": "bonus1",
                                "name": "Main Point",
                                "amount": "499",
                            },
                        },
                    ],
                }
            ],
            "custom_fields": {},
            "applied_promotions": [],
            "points_info": [
                {
                    "points_currency_iid": 1,
                    "points_currency_eid": "bonus1",
                    "name": "Main Point",
                    "status": "success",
                    "active_amount_for_current_order": "20999",
                    "accrue_points_amount_for_current_order": "6999",
                    "redeemed_points_amount_for_current_order": "499",
                }
            ],
            "promocodes_info": [],
        },
    },
    "error": 0,
    "error_text": "Successful operation",
}


def seed_request() -> object:
    return read_json((SEED / "request.json").read_text(), source="request.json")


def test_seed_request_parses() -> None:
    """The exact seed 003 request becomes an Order (unknown line 'currency' is ignored)."""
    request = parse_preorder_request(seed_request())
    assert (request.external_id, request.match, request.profile_id) == (
        "12",
        Match("email", "example@example.com"),
        None,
    )
    order = request.order
    assert (order.currency, order.endpoint, order.status, str(order.total_price)) == (
        "RUB",
        "site",
        "new",
        "139999.00",
    )
    (line,) = order.lines
    assert (line.external_id, line.product, line.count, str(line.base_price_per_item)) == (
        "line___ASTGRf",
        "iphone17pmb256",
        1,
        "139999.00",
    )
    assert order.redeem == (le.RedeemRequest(le.PointsRef(iid=1), Decimal(499)),)


def test_seed_response_is_reproduced() -> None:
    """The response equals the seed's, except our documented redeem ``amount`` extension."""
    program = le.load_program(SEED / "program.toml")
    member = le.Member(
        profile_id="696e304f547840a7286619e0",
        balances={"bonus1": le.Balance(Decimal(20999), Decimal(20999))},
    )
    request = parse_preorder_request(seed_request())
    result = le.calculate(
        program, request.order, member, now=dt.datetime(2026, 2, 18, tzinfo=dt.UTC)
    )
    response = render_preorder_response(result, profile_id=member.profile_id)
    redeem = response["data"]["order"]["lines"][0]["applied_promotions"][1]  # type: ignore[index]
    assert redeem.pop("amount") == "499.00"
    assert response == SEED_RESPONSE


def data_with(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "currency": "RUB",
        "endpoint": "site",
        "status": "new",
        "lines": [{"external_id": "a", "product": "p", "count": 2, "base_price_per_item": "10.00"}],
    }
    base.update(changes)
    return {"external_id": "o", "data": base}


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (
            data_with(
                lines=[
                    {"external_id": "a", "product": "p", "count": 1, "base_price_per_item": 12.5}
                ]
            ),
            "data.lines[0].base_price_per_item: money must be a decimal string",
        ),
        (data_with(lines=[]), "data.lines: an order needs at least one line"),
        (
            data_with(
                lines=[
                    {"external_id": "a", "product": "p", "count": 0, "base_price_per_item": "1.00"}
                ]
            ),
            "data.lines[0].count: must be an integer in 1..1000000 (got 0)",
        ),
        (
            data_with(
                lines=[
                    {
                        "external_id": "a",
                        "product": "p",
                        "count": "1",
                        "base_price_per_item": "1.00",
                    }
                ]
            ),
            "data.lines[0].count: must be an integer (got '1')",
        ),
        (
            data_with(total_price="25.00"),
            "data.total_price: does not equal Σ base_price_per_item × count = 20.00",
        ),
        (data_with(create_time="2026-02-18T13:01:05"), "data.create_time: must carry a UTC offset"),
        (data_with(currency="XXX"), "currency"),
        (
            data_with(
                lines=[
                    {"external_id": "a", "product": "p", "count": 1, "base_price_per_item": "1.005"}
                ]
            ),
            "data.lines[0].base_price_per_item: more decimals than RUB allows",
        ),
        (
            data_with(lines=[{"external_id": "a", "count": 1, "base_price_per_item": "1.00"}]),
            "data.lines[0].product: product or sku is required",
        ),
        ({"data": {}}, "external_id: required"),
    ],
)
def test_bad_requests_name_the_wire_path(request_: object, expected: str) -> None:
    """Each bad request raises a ValidationError whose message starts with the wire path."""
    with pytest.raises(le.ValidationError) as caught:
        parse_preorder_request(request_)
    text = str(caught.value)
    assert expected in text


def test_a_hundred_thousand_lines_fail_before_any_is_built() -> None:
    """An order over the line limit is refused on its length alone."""
    line = {"external_id": "a", "product": "p", "count": 1, "base_price_per_item": "1.00"}
    with pytest.raises(le.ValidationError, match=r"data\.lines: more than 10000 lines"):
        parse_preorder_request(data_with(lines=[line] * 100_000))


def test_hostile_json_fails_fast() -> None:
    """Oversized, deeply nested and NaN-bearing JSON are ValidationErrors, not crashes."""
    with pytest.raises(le.ValidationError, match="larger than"):
        read_json("[" + " " * (11 * 1024 * 1024) + "]", source="r.json")
    with pytest.raises(le.ValidationError, match="nested deeper than 64"):
        read_json("[" * 100_000 + "]" * 100_000, source="r.json")
    with pytest.raises(le.ValidationError, match="not a JSON number"):
        read_json('{"a": NaN}', source="r.json")
    with pytest.raises(le.ValidationError, match="malformed JSON at line 1"):
        read_json("{", source="r.json")


def test_breakdown_limited_and_order_level_promotions_render() -> None:
    """Extensions appear only when they say something: breakdown, limited, codes, messages."""
    program = le.Program(
        settings=le.Settings(indivisible="breakdown"),
        promotions=[
            le.Promotion(
                external_id="off",
                benefit=le.AmountOffOrder(Decimal(10)),
                applies_to=Product(["pa"]),
            ),
            le.Promotion(
                external_id="cut", benefit=le.PercentOff(Decimal(50)), applies_to=Product(["pb"])
            ),
            le.Promotion(external_id="gift", benefit=le.IssueCodes(pool_id=3, pool_name="G")),
            le.Promotion(external_id="hi", benefit=le.Message(template="Total {final_total}")),
        ],
    )
    order = parse_preorder_request(
        data_with(
            lines=[
                {"external_id": "a", "product": "pa", "count": 3, "base_price_per_item": "10.00"},
                {
                    "external_id": "b",
                    "product": "pb",
                    "count": 1,
                    "base_price_per_item": "10.00",
                    "min_price_per_item": "9.00",
                },
            ]
        )
    ).order
    result = le.calculate(program, order, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    body = render_preorder_response(result, profile_id=None)["data"]["order"]  # type: ignore[index]
    one, two = body["lines"]
    assert one["final_price_per_item"] == "6.67"
    assert one["price_breakdown"] == [
        {"count": 2, "price_per_item": "6.67"},
        {"count": 1, "price_per_item": "6.66"},
    ]
    assert "price_breakdown" not in two and "limited" not in one["applied_promotions"][0]
    assert two["applied_promotions"] == [
        {
            "type": "discount",
            "promotion": {"external_id": "cut", "name": "cut"},
            "amount": "1.00",
            "limited": True,
        }
    ]
    assert body["applied_promotions"] == [
        {
            "type": "code_issue",
            "promotion": {"external_id": "gift", "name": "gift"},
            "pool": {"pool_id": 3, "name": "G"},
            "count": 1,
        },
        {
            "type": "message",
            "promotion": {"external_id": "hi", "name": "hi"},
            "contents": [{"type": "text", "message": "Total 29.00"}],
        },
    ]


def test_error_codes_are_stable() -> None:
    """Validation 1 (with each problem listed), rule 2, ledger 3, the specific ones their own."""
    from loyalty_engine import errors
    from loyalty_engine.altcraft.codes import error_response

    assert error_response(le.ValidationError(("a",), 1, "bad")) == {
        "error": 1,
        "error_text": "a: bad (got 1)",
        "errors": [{"path": "a", "reason": "bad", "value": "1"}],
    }
    assert error_response(le.RuleError("r"))["error"] == 2
    assert error_response(le.LedgerError("l"))["error"] == 3
    assert error_response(errors.NotFoundError("n"))["error"] == 5
    assert error_response(errors.ConflictError("c"))["error"] == 10
    assert error_response(errors.StoreError("s"))["error"] == 17


def test_response_is_json_serialisable_and_deterministic() -> None:
    """The rendered response serialises the same way twice."""
    program = le.load_program(SEED / "program.toml")
    order = parse_preorder_request(seed_request()).order
    now = dt.datetime(2026, 2, 18, tzinfo=dt.UTC)
    first = json.dumps(
        render_preorder_response(le.calculate(program, order, now=now), profile_id=None)
    )
    second = json.dumps(
        render_preorder_response(le.calculate(program, order, now=now), profile_id=None)
    )
    assert first == second
