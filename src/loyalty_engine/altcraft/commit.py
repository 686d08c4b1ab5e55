"""The ``preorder_commit`` method on the wire (seed 004): request → order + requested, result →
response.

The request is a preorder request whose ``applied_promotions`` are called
``requested_promotions`` (order and line level); ``final_price_per_item`` and
``final_total_price``, when sent, are what the customer saw and are compared. Line-level amounts
are line totals, as in our preorder responses. Choices where the contract is silent:
- ``accrue_points`` / ``redeem_points`` in ``points_changes`` are integers for whole-point
  currencies (as the seed shows) and decimal strings for fractional ones; ``points_info.amount``
  is the *total* balance after the order.
- An ``outdated`` answer lists its ``differences`` (path, requested, actual); an issued-codes row
  whose pool ran dry says how many codes are ``missing``.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from ..commit import CommitResult, CommitStatus, Requested, RequestedLine, RequestedPromotion
from ..errors import ValidationError, ValidationErrors
from ..model import Order, PointsCurrency
from ..money import Money, parse_decimal
from ..program.benefits import BENEFITS
from ..store.records import Match
from ..validators import checked
from .preorder import currency_fields, parse_preorder_request, points_text
from .wire import Reader

TYPES = sorted({kind for kind, _ in BENEFITS})


@attrs.frozen(kw_only=True)
class CommitRequest:
    """A parsed commit request; ``match`` is ``None`` for an explicit guest (no profile_id,
    email or phone: the contract's commit has no ``matching`` key)."""

    external_id: str
    order: Order
    requested: Requested
    match: Match | None = None
    skip_triggers: bool = False


@checked
def parse_commit_request(data: object) -> CommitRequest:
    """Read a preorder_commit request; all problems are raised at once with their wire paths."""
    base = parse_preorder_request(data)
    assert isinstance(data, dict)
    errors: list[ValidationError] = []
    top = Reader(data, (), errors)
    body = Reader(data["data"], ("data",), errors)
    currency = base.order.currency
    lines = []
    for item in body.items("lines"):
        price = _money(item, "final_price_per_item", currency)
        lines.append(
            RequestedLine(
                external_id=item.text("external_id") or "?",
                final_price_per_item=price,
                promotions=_promotions(item, currency),
            )
        )
    requested = Requested(
        lines=lines,
        promotions=_promotions(body, currency),
        final_total_price=_money(body, "final_total_price", currency),
    )
    skip = top.data.get("skip_triggers", False)
    if not isinstance(skip, bool):
        top.fail("skip_triggers", skip, "must be true or false")
    ValidationErrors.collect(errors)
    return CommitRequest(
        external_id=base.external_id,
        order=base.order,
        requested=requested,
        match=base.match,
        skip_triggers=bool(skip),
    )


def _money(reader: Reader, key: str, currency: str) -> Money | None:
    text = reader.money_text(key)
    if text is None:
        return None
    try:
        return Money.parse(text, currency, (*reader.path, key))
    except ValidationError as error:
        reader.errors.append(error)
        return None


def _promotions(reader: Reader, currency: str) -> list[RequestedPromotion]:
    out = []
    for item in reader.items("requested_promotions"):
        kind = item.text("type", required=True)
        if kind is not None and kind not in TYPES:
            item.fail("type", kind, f"must be one of {TYPES}")
            continue
        promotion = Reader.of(item.data.get("promotion"), (*item.path, "promotion"), item.errors)
        external_id = promotion.text("external_id", required=True) if promotion else None
        amount = _money(item, "amount", currency)
        points, ref = None, None
        if item.data.get("points_info") is not None:
            info = Reader.of(item.data["points_info"], (*item.path, "points_info"), item.errors)
            if info is not None:
                iid, eid = info.integer("points_currency_iid"), info.text("points_currency_eid")
                ref = info.points_ref(iid, eid) if iid is not None or eid is not None else None
                raw = info.number("amount", required=True)
                try:  # "0" is compared like any amount; only a missing one is not
                    if raw is not None:
                        points = parse_decimal(raw, (*info.path, "amount"), places=6)
                except ValidationError as error:
                    info.errors.append(error)
        if kind is None or external_id is None:
            continue
        out.append(
            RequestedPromotion(
                type=kind,  # type: ignore[arg-type]
                external_id=external_id,
                amount=amount,
                points=points,
                currency=ref,
            )
        )
    return out


@checked
def render_commit_response(result: CommitResult) -> dict[str, object]:
    """The seed 004 response shape."""
    data: dict[str, object] = {"status": result.status.value}
    if result.status is CommitStatus.SUCCESS:
        assert result.processing_target is not None
        data["processing_target"] = result.processing_target.value
    data["external_id"] = result.external_id
    if result.status is CommitStatus.OUTDATED:
        data["differences"] = [
            {"path": d.path, "requested": d.requested, "actual": d.actual}
            for d in result.differences
        ]
        return {"data": data, "error": 0, "error_text": "Successful operation"}
    data["issued_promocodes"] = [
        {
            "codes": list(row.codes),
            "pool": {"pool_id": row.pool_id, "name": row.pool_name},
            "promotion": {"external_id": row.external_id, "name": row.name},
            **({"missing": row.missing} if row.missing else {}),
        }
        for row in result.issued
    ]
    data["points_changes"] = [
        {
            "points_info": {
                **currency_fields(c.currency),
                "amount": points_text(c.balance, c.currency),
            },
            "accrue_points": _count(c.accrued, c.currency),
            "redeem_points": _count(c.redeemed, c.currency),
        }
        for c in result.points_changes
    ]
    data["contents"] = [
        {
            "promotion": {"external_id": m.external_id, "name": m.name},
            "contents": [{"type": "text", "message": m.text}],
        }
        for m in result.messages
    ]
    return {"data": data, "error": 0, "error_text": "Successful operation"}


def _count(points: Decimal, currency: PointsCurrency) -> int | str:
    return int(points) if currency.precision == 0 else points_text(points, currency)
