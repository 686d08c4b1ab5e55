"""The ``preorder`` method on the wire (seed 003): request → ``Order``, result → response.

Choices where the contract is silent:
- ``final_price_per_item`` and ``final_total_price`` in a request are checked for format and
  otherwise ignored: preorder computes them. ``total_price``, when sent, must equal
  Σ base × count (a mismatch is an error, not trusted).
- Line-level ``amount`` and ``points_info.amount`` are **line totals**; a redeem promotion also
  carries ``amount``, the money its points took off (an extension of ours). ``limited`` (a
  benefit cut by min prices or caps) and ``price_breakdown`` (the ``breakdown`` policy) appear
  only when they say something.
- ``promocodes_info`` lists each entered code with ``status`` applied | not_applicable and the
  promotions it unlocked. Order-level ``applied_promotions`` holds delivery discounts, then
  ``code_issue`` declarations, then messages.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_DOWN, Decimal

import attrs

from ..errors import ValidationError, ValidationErrors
from ..model import MAX_LINES, Line, Order, PointsCurrency, PromoCode, RedeemRequest
from ..money import CURRENCY_EXPONENTS, Money, down_units, of_units, parse_decimal
from ..result import AppliedPromotion, CalculatedOrder
from ..store.records import Match
from ..validators import checked, trusted
from .wire import Reader

MATCHING = ("email", "phone", "profile_id", "custom")


@attrs.frozen(kw_only=True)
class PreorderRequest:
    """A parsed preorder request: who the customer is (``match``; ``None``: a guest), and the
    order."""

    external_id: str
    order: Order
    match: Match | None = None
    profile_id: str | None = None  # as sent, whatever ``matching`` says


def read_match(top: Reader, method: str | None) -> Match | None:
    """The matching block: ``matching`` names the field to use; without it, the first given of
    profile_id, email, phone. Neither: a guest."""
    if method is None:
        method = next((k for k in ("profile_id", "email", "phone") if top.data.get(k)), None)
        if method is None:
            return None
    if method not in MATCHING:
        top.fail("matching", method, f"must be one of {MATCHING}")
        return None
    key = "field_value" if method == "custom" else method
    value = top.data.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and method == "custom":
        value = str(value)  # the docs allow a number for a custom field's value
    if not isinstance(value, str) or not value.strip():
        top.fail(key, value, f"required: matching is {method!r}")
        return None
    name = top.text("field_name", required=True) if method == "custom" else None
    if method == "custom" and name is None:
        return None
    made = top.build(Match, method, value, field_name=name)
    return made if isinstance(made, Match) else None


@checked
def parse_preorder_request(data: object) -> PreorderRequest:
    """Read a preorder request; all problems are raised at once with their wire paths."""
    errors: list[ValidationError] = []
    top = Reader.of(data, (), errors)
    if top is None:
        ValidationErrors.collect(errors)
    assert top is not None
    external_id = top.text("external_id", required=True)
    match = read_match(top, top.text("matching"))
    body = Reader.of(top.data.get("data"), ("data",), errors)
    order = _order(body, external_id or "?") if body is not None else None
    ValidationErrors.collect(errors)
    assert order is not None and external_id is not None
    return PreorderRequest(
        external_id=external_id, order=order, match=match, profile_id=top.text("profile_id")
    )


def _order(body: Reader, external_id: str) -> Order | None:
    currency = body.text("currency", required=True) or "RUB"
    if currency not in CURRENCY_EXPONENTS:  # said once here, not again by every amount
        body.fail("currency", currency, "unknown ISO 4217 currency code")
    raw = body.data.get("lines")
    if isinstance(raw, list) and len(raw) > MAX_LINES:  # refuse before building 100,000 lines
        body.fail("lines", len(raw), f"more than {MAX_LINES} lines")
        return None
    lines = [_line(item, currency) for item in body.items("lines", required=True)]
    if "lines" in body.data and not lines and not body.errors:
        body.fail("lines", [], "an order needs at least one line")
    codes = [
        item.build(PromoCode, item.text("code", required=True), item.integer("pool_id"))
        for item in body.items("promocodes")
    ]
    redeem = [_redeem(item) for item in body.items("redeem_points")]
    delivery = _money(body, "delivery_cost", currency)
    for key in ("total_price", "final_total_price"):
        _money(body, key, currency)
    if body.errors:
        return None
    order = body.build(
        trusted(Order),
        external_id=external_id,
        currency=currency,
        lines=lines,
        endpoint=body.text("endpoint"),
        status=body.text("status"),
        region=body.text("region"),
        create_time=body.moment("create_time"),
        promo_codes=codes,
        redeem=redeem,
        tags=body.texts("tags"),
        custom_fields=body.custom("custom_fields"),
        **({"delivery_cost": delivery} if delivery is not None else {}),
    )
    if not isinstance(order, Order):
        return None
    stated = _money(body, "total_price", currency)
    if stated is not None and stated != order.total_price:
        body.fail(
            "total_price",
            str(stated),
            f"does not equal Σ base_price_per_item × count = {order.total_price}",
        )
        return None
    return order


def _money(reader: Reader, key: str, currency: str, *, required: bool = False) -> Money | None:
    text = reader.money_text(key, required=required)
    if text is None or currency not in CURRENCY_EXPONENTS:
        return None
    try:
        return Money.parse(text, currency, (*reader.path, key))
    except ValidationError as error:
        reader.errors.append(error)
        return None


def _line(item: Reader, currency: str) -> Line | None:
    base = _money(item, "base_price_per_item", currency, required=True)
    floor = _money(item, "min_price_per_item", currency)
    _money(item, "final_price_per_item", currency)
    count = item.integer("count", required=True)
    if base is None or count is None:
        return None
    line = item.build(
        trusted(Line),  # the reader's values have the annotated types
        external_id=item.text("external_id", required=True),
        product=item.text("product"),
        sku=item.text("sku"),
        count=count,
        base_price_per_item=base,
        min_price_per_item=floor if floor is not None else Money.zero(currency),
        custom_fields=item.custom("custom_fields"),
        line_number=item.integer("line_number"),
        status=item.text("status"),
    )
    return line if isinstance(line, Line) else None


def _redeem(item: Reader) -> RedeemRequest | None:
    iid, eid = item.integer("points_currency_iid"), item.text("points_currency_eid")
    if iid is None and eid is None:
        item.fail("points_currency_eid", None, "points_currency_iid or _eid is required")
        return None
    amount = item.number("amount", required=True)
    if amount is None:
        return None
    try:
        value = parse_decimal(amount, (*item.path, "amount"), places=6)
    except ValidationError as error:
        item.errors.append(error)
        return None
    ref = item.points_ref(iid, eid)
    if ref is None:
        return None
    request = item.build(RedeemRequest, ref, value)
    return request if isinstance(request, RedeemRequest) else None


# --- response ----------------------------------------------------------------------------------


@checked
def render_preorder_response(
    result: CalculatedOrder, *, profile_id: str | None
) -> dict[str, object]:
    """The seed 003 response shape, with money as strings in the currency's exponent."""
    order = result.order
    lines = []
    for index, out in enumerate(result.lines):
        line = out.line
        body: dict[str, object] = {
            "external_id": line.external_id,
            "line_number": line.line_number if line.line_number is not None else index,
            "count": line.count,
        }
        if line.product is not None:
            body["product"] = line.product
        if line.sku is not None:
            body["sku"] = line.sku
        body |= {
            "base_price_per_item": str(line.base_price_per_item),
            "min_price_per_item": str(line.min_price_per_item),
            "final_price_per_item": str(out.final_price_per_item),
            "custom_fields": _scalars(dict(line.custom_fields)),
        }
        if len(out.breakdown) > 1:
            body["price_breakdown"] = [
                {"count": n, "price_per_item": str(price)} for n, price in out.breakdown
            ]
        body["applied_promotions"] = [_applied(a) for a in out.applied]
        lines.append(body)
    order_level = [_applied(a) for a in result.applied]
    order_level += [
        {
            "type": "code_issue",
            "promotion": {"external_id": c.external_id, "name": c.name},
            "pool": {"pool_id": c.pool_id, "name": c.pool_name},
            "count": c.count,
        }
        for c in result.codes_to_issue
    ]
    order_level += [
        {
            "type": "message",
            "promotion": {"external_id": m.external_id, "name": m.name},
            "contents": [{"type": "text", "message": m.text}],
        }
        for m in result.messages
    ]
    points = [
        {
            **currency_fields(s.currency),
            "status": s.status.value,
            "active_amount_for_current_order": points_text(s.active_balance, s.currency),
            "accrue_points_amount_for_current_order": points_text(s.accrued, s.currency),
            "redeemed_points_amount_for_current_order": points_text(s.redeemed, s.currency),
            **({"reason": s.reason} if s.reason else {}),
        }
        for s in result.points
    ]
    codes = [
        {"code": c.code, "pool_id": c.pool_id, "status": c.state.value,
         "promotions": list(c.promotions)}
        for c in result.promo_codes
    ]  # fmt: skip
    return {
        "data": {
            "profile": {"profile_id": profile_id},
            "order": {
                "processing_target": "calculated",
                "total_price": str(result.total_price),
                "final_total_price": str(result.final_total_price),
                "delivery_cost": str(result.delivery_cost),
                "currency": order.currency,
                "lines": lines,
                "custom_fields": _scalars(dict(order.custom_fields)),
                "applied_promotions": order_level,
                "points_info": points,
                "promocodes_info": codes,
            },
        },
        "error": 0,
        "error_text": "Successful operation",
    }


def _applied(applied: AppliedPromotion) -> dict[str, object]:
    out: dict[str, object] = {
        "type": applied.type,
        "promotion": {"external_id": applied.external_id, "name": applied.name},
    }
    if applied.amount is not None:
        out["amount"] = str(applied.amount)
    if applied.currency is not None and applied.points is not None:
        info: dict[str, object] = {
            **currency_fields(applied.currency),
            "amount": points_text(applied.points, applied.currency),
        }
        if applied.expiration_date is not None:
            info["expiration_date"] = _moment(applied.expiration_date)
        out["points_info"] = info
    if applied.limited:
        out["limited"] = True
    return out


def currency_fields(currency: PointsCurrency) -> dict[str, object]:
    out: dict[str, object] = {}
    if currency.iid is not None:
        out["points_currency_iid"] = currency.iid
    return out | {"points_currency_eid": currency.eid, "name": currency.name}


def points_text(amount: Decimal, currency: PointsCurrency) -> str:
    """Points at the currency's precision: "6999" for whole points, "100.50" for precision 2.

    Finer decimals (a balance from a member file) are cut toward zero: never more than there is.
    """
    units = down_units(amount, currency.precision, ROUND_DOWN)
    return format(of_units(units, currency.precision), "f")


def _moment(moment: dt.datetime) -> str:
    """UTC with milliseconds, as the contracts write times: 2027-02-18T00:00:00.000Z."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _scalars(fields: dict[str, object]) -> dict[str, object]:
    return {k: format(v, "f") if isinstance(v, Decimal) else v for k, v in fields.items()}
