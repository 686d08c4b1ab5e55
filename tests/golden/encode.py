"""The golden corpus's two codecs, shared by ``generate.py`` and ``test_golden.py``.

Inputs: an ``Order`` ↔ a seed 003 preorder request body (read back by
``parse_preorder_request``), a ``Member`` ↔ the member document (read back by
``member_from_dict``), ``now`` ↔ ISO 8601; programs go through ``program_to_dict`` /
``program_from_dict``.

Outputs: one case's behaviour as three canonical JSON texts (sorted keys, no spaces, UTF-8):

- ``response``: the preorder wire response, as ``render_preorder_response`` writes it;
- ``trace``: ``[type, external_id, name, reason, detail]`` for each trace entry;
- ``figures``: library figures the wire leaves out or rounds (totals, per-line breakdowns, every
  applied promotion's exact Decimal ``str``, points summaries, codes, messages).

Or, when the calculation raises a ``LoyaltyError``, ``error``: its class name and message.

This file is not collected (its name does not start with ``test_``); pytest puts this directory
on ``sys.path``, as for ``tests/fuzz/hostile.py``, and ``generate.py`` runs from it.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeAlias

from loyalty_engine import calculate
from loyalty_engine.altcraft.preorder import parse_preorder_request, render_preorder_response
from loyalty_engine.documents import member_from_dict
from loyalty_engine.errors import LoyaltyError
from loyalty_engine.model import Line, Member, Order, PromoCode, RedeemRequest
from loyalty_engine.money import CONTEXT
from loyalty_engine.program import Program
from loyalty_engine.program.loader import program_from_dict
from loyalty_engine.result import AppliedPromotion, CalculatedOrder

Json: TypeAlias = Any  # a document of dicts, lists, str, int, bool and None (never a float)
Outcome: TypeAlias = dict[str, str]  # {"response", "trace", "figures"} or {"error"}
FIELDS = ("response", "trace", "figures")


def canonical(document: Json) -> str:
    """The one text of a JSON document: sorted keys, no spaces, non-ASCII as is."""
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


# --- inputs ------------------------------------------------------------------------------------


class Unencodable(ValueError):
    """A value the wire documents cannot carry (the case is skipped and counted)."""


def _moment(moment: dt.datetime) -> str:
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def encode_now(now: dt.datetime) -> str:
    return now.isoformat()


def decode_now(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _scalars(fields: Mapping[str, object], where: str) -> dict[str, Json]:
    out: dict[str, Json] = {}
    for key, value in fields.items():
        if not isinstance(value, str | int | bool) and value is not None:  # a Decimal
            raise Unencodable(f"{where} custom field {key!r}: {value!r} is not a JSON scalar")
        out[key] = value
    return out


def _line(line: Line) -> dict[str, Json]:
    if line.categories:  # the request has no place for them: the catalog supplies categories
        raise Unencodable(f"line {line.external_id!r} carries categories")
    out: dict[str, Json] = {
        "external_id": line.external_id,
        "count": line.count,
        "base_price_per_item": str(line.base_price_per_item),
        "min_price_per_item": str(line.min_price_per_item),
    }
    optional = {
        "product": line.product,
        "sku": line.sku,
        "line_number": line.line_number,
        "status": line.status,
    }
    out |= {key: value for key, value in optional.items() if value is not None}
    if line.custom_fields:
        out["custom_fields"] = _scalars(line.custom_fields, f"line {line.external_id!r}")
    return out


def _code(code: PromoCode) -> dict[str, Json]:
    out: dict[str, Json] = {"code": code.code}
    if code.pool_id is not None:
        out["pool_id"] = code.pool_id
    return out


def _redeem(request: RedeemRequest) -> dict[str, Json]:
    out: dict[str, Json] = {"amount": format(request.amount, "f")}
    if request.currency.iid is not None:
        out["points_currency_iid"] = request.currency.iid
    if request.currency.eid is not None:
        out["points_currency_eid"] = request.currency.eid
    return out


def encode_order(order: Order, *, profile_id: str | None = None) -> dict[str, Json]:
    """A preorder request (seed 003's shape) that ``parse_preorder_request`` reads as ``order``.

    ``profile_id`` (a member's) is sent at the top, as a client matching by profile id does.
    """
    with decimal.localcontext(CONTEXT):
        data: dict[str, Json] = {
            "currency": order.currency,
            "total_price": str(order.total_price),
            "delivery_cost": str(order.delivery_cost),
            "lines": [_line(line) for line in order.lines],
        }
        optional = {"endpoint": order.endpoint, "status": order.status, "region": order.region}
        data |= {key: value for key, value in optional.items() if value is not None}
        if order.create_time is not None:
            data["create_time"] = _moment(order.create_time)
        if order.promo_codes:
            data["promocodes"] = [_code(code) for code in order.promo_codes]
        if order.redeem:
            data["redeem_points"] = [_redeem(request) for request in order.redeem]
        if order.tags:
            data["tags"] = sorted(order.tags)
        if order.custom_fields:
            data["custom_fields"] = _scalars(order.custom_fields, "order")
    request: dict[str, Json] = {"external_id": order.external_id, "data": data}
    if profile_id is not None:
        request["profile_id"] = profile_id
    return request


def decode_inputs(
    case: Mapping[str, Json],
) -> tuple[Program, Order, Member | None, dt.datetime, str | None]:
    """A stored case's inputs, read by the package that is imported now."""
    program = program_from_dict(case["program"])
    request = parse_preorder_request(case["request"])
    member = member_from_dict(case["member"]) if case["member"] is not None else None
    profile_id = member.profile_id if member is not None else request.profile_id
    return program, request.order, member, decode_now(case["now"]), profile_id


# --- outputs -----------------------------------------------------------------------------------


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _applied(applied: Sequence[AppliedPromotion]) -> list[Json]:
    return [
        [
            a.type,
            a.external_id,
            None if a.amount is None else str(a.amount),
            _decimal(a.points),
            a.currency.eid if a.currency else None,
            a.expiration_date.isoformat() if a.expiration_date else None,
            a.limited,
        ]
        for a in applied
    ]


def figures(result: CalculatedOrder) -> dict[str, Json]:
    """What the wire response leaves out: exact Decimals (their ``str``, exponent and all)."""
    with decimal.localcontext(CONTEXT):  # str(Decimal) reads the context's ``capitals``
        return {
            "final_total_price": str(result.final_total_price),
            "discount_total": str(result.discount_total),
            "delivery_cost": str(result.delivery_cost),
            "lines": [
                [
                    str(line.final_total),
                    [[n, str(price)] for n, price in line.breakdown],
                    _applied(line.applied),
                ]
                for line in result.lines
            ],
            "applied": _applied(result.applied),
            "points": [
                {
                    "currency": s.currency.eid,
                    "status": s.status.value,
                    "active_balance": str(s.active_balance),
                    "accrued": str(s.accrued),
                    "redeemed": str(s.redeemed),
                    "requested": str(s.requested),
                    "reason": s.reason,
                }
                for s in result.points
            ],
            "promo_codes": [
                [c.code, c.pool_id, c.state.value, list(c.promotions)] for c in result.promo_codes
            ],
            "codes_to_issue": [
                [c.external_id, c.name, c.pool_id, c.pool_name, c.count]
                for c in result.codes_to_issue
            ],
            "messages": [[m.external_id, m.name, m.text] for m in result.messages],
        }


def outcome(
    program: Program,
    order: Order,
    member: Member | None,
    now: dt.datetime,
    profile_id: str | None,
) -> tuple[Outcome, CalculatedOrder | None]:
    """Calculate, as ``cli.py``'s preorder does, and render the behaviour to compare.

    The library runs under whatever decimal context the caller has (it must not notice); only
    this module's own ``str(Decimal)`` is pinned to ``CONTEXT``. A ``LoyaltyError`` from the
    calculation, the trace or the response is the outcome.
    """
    try:
        result = calculate(program, order, member, now=now)
        trace = [[e.type, e.external_id, e.name, e.reason.value, e.detail] for e in result.trace]
        response = render_preorder_response(result, profile_id=profile_id)
    except LoyaltyError as error:
        return {"error": canonical([type(error).__name__, str(error)])}, None
    rendered = {
        "response": canonical(response),
        "trace": canonical(trace),
        "figures": canonical(figures(result)),
    }
    return rendered, result


# --- comparing ---------------------------------------------------------------------------------


def first_difference(expected: Json, actual: Json, path: str = "") -> tuple[str, Json, Json]:
    """The first place two JSON documents differ, in document order: (path, expected, actual)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            if key not in expected or key not in actual:
                return (
                    f"{path}.{key}",
                    expected.get(key, "<absent>"),
                    actual.get(key, "<absent>"),
                )
            if expected[key] != actual[key]:
                return first_difference(expected[key], actual[key], f"{path}.{key}")
    elif isinstance(expected, list) and isinstance(actual, list):
        for index, (left, right) in enumerate(zip(expected, actual, strict=False)):
            if left != right:
                return first_difference(left, right, f"{path}[{index}]")
        if len(expected) != len(actual):
            return f"{path}.length", len(expected), len(actual)
    return path or "<root>", expected, actual


def _gist(outcome: Outcome) -> str:
    if "error" in outcome:
        return f"the error {_short(json.loads(outcome['error']))}"
    if set(outcome) == set(FIELDS):
        return "a calculated order"
    return _short(outcome)


def _short(value: Json) -> str:
    text = repr(value)
    return text if len(text) <= 300 else text[:297] + "..."


def describe(case_id: int, expected: Outcome, actual: Outcome) -> str | None:
    """``None`` when the outcomes are byte for byte equal; else where and how they first differ."""
    if expected == actual:
        return None
    if set(expected) != set(actual):
        return f"case {case_id}: expected {_gist(expected)}, got {_gist(actual)}"
    for field in sorted(expected, key=lambda f: FIELDS.index(f) if f in FIELDS else -1):
        if expected[field] != actual[field]:
            path, want, got = first_difference(
                json.loads(expected[field]), json.loads(actual[field])
            )
            return f"case {case_id}: {field}{path}: expected {_short(want)}, got {_short(got)}"
    raise AssertionError("unreachable: equal fields make equal outcomes")
