"""The fields of every message of the Loyalty API, as data: what XML needs to be read back.

A shape is an object (a mapping of keys to shapes), a list (a one-item tuple: the items'
shape) or a kind: ``TEXT``, ``INT``, ``BOOL``, ``NUMBER`` (an integer, or a decimal string such
as "100.50"), ``FREE`` (an object of any keys: ``custom_fields``, ``external_data``). A key
missing from a shape is read as ``UNKNOWN``: text, or an object when it has elements. The
tables follow ``reference/altcraft-api.md`` §2 and seeds 003 and 004; the keys marked
"ours" are this engine's additions, documented in docs/wire.md.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeAlias


class Kind(enum.Enum):
    TEXT = "text"
    INT = "int"
    BOOL = "bool"
    NUMBER = "number"
    FREE = "free"
    UNKNOWN = "unknown"


TEXT, INT, BOOL, NUMBER, FREE, UNKNOWN = Kind
Shape: TypeAlias = "Mapping[str, Shape] | tuple[Shape] | Kind"

MATCHING: dict[str, Shape] = {
    "matching": TEXT, "email": TEXT, "phone": TEXT, "profile_id": TEXT, "field_name": TEXT,
    "field_value": TEXT,
}  # fmt: skip
CURRENCY: dict[str, Shape] = {"points_currency_iid": INT, "points_currency_eid": TEXT}
_PROGRAM: dict[str, Shape] = {"token": TEXT, "loyalty_program_id": INT}
_ERROR: dict[str, Shape] = {"error": INT, "error_text": TEXT}
_PROMOTION: dict[str, Shape] = {"external_id": TEXT, "name": TEXT}
_POINTS_INFO: dict[str, Shape] = {**CURRENCY, "name": TEXT, "amount": TEXT,
                                  "expiration_date": TEXT}  # fmt: skip
_APPLIED: dict[str, Shape] = {
    "type": TEXT, "promotion": _PROMOTION, "amount": TEXT, "points_info": _POINTS_INFO,
    "limited": BOOL, "pool": {"pool_id": INT, "name": TEXT}, "count": INT,
    "contents": ({"type": TEXT, "message": TEXT},),
}  # fmt: skip


def _order(promotions: str) -> dict[str, Shape]:
    line: dict[str, Shape] = {
        "external_id": TEXT, "product": TEXT, "sku": TEXT, "line_number": INT, "count": INT,
        "base_price_per_item": TEXT, "min_price_per_item": TEXT, "final_price_per_item": TEXT,
        "status": TEXT, "currency": TEXT, "custom_fields": FREE, promotions: (_APPLIED,),
    }  # fmt: skip
    return {
        "endpoint": TEXT, "status": TEXT, "currency": TEXT, "total_price": TEXT,
        "final_total_price": TEXT, "delivery_cost": TEXT, "create_time": TEXT, "region": TEXT,
        "lines": (line,), "promocodes": ({"code": TEXT, "pool_id": INT},),
        promotions: (_APPLIED,),
        "redeem_points": ({**CURRENCY, "name": TEXT, "amount": NUMBER},),
        "custom_fields": FREE, "tags": (TEXT,),
    }  # fmt: skip


_ORDER_REQUEST: dict[str, Shape] = {"token": TEXT, "external_id": TEXT, **MATCHING}
_TRANSACTION: dict[str, Shape] = {
    "transaction_id": TEXT, "transaction_eid": TEXT, **CURRENCY, "created_at": TEXT,
    "transaction_type": TEXT, "amount": TEXT, "balance_before": TEXT, "balance_after": TEXT,
    "temp": BOOL, "deadline": TEXT, "refers_to": TEXT, "promo_iid": INT, "promo_eid": TEXT,
    "description": TEXT, "activation_date": TEXT, "expiration_date": TEXT,
    "source_type": TEXT, "source_id": TEXT,
}  # fmt: skip
_RULE: dict[str, Shape] = {**CURRENCY, "static_amount": TEXT, "min_amount": TEXT,
                           "max_amount": TEXT}  # fmt: skip
_POSTING: dict[str, Shape] = {
    "transaction_id": TEXT, "transaction_eid": TEXT, "result_transaction_id": TEXT,
    **CURRENCY, "amount": TEXT, "balance": TEXT, "total_balance": TEXT,
}  # fmt: skip
_POINTS: dict[str, Shape] = {
    **_PROGRAM, **MATCHING, **CURRENCY, "promotion_id": TEXT, "amount": NUMBER,
    "is_temp": BOOL, "temp_timeout_sec": INT, "created_at": TEXT, "transaction_eid": TEXT,
    "external_data": FREE, "description": TEXT,
}  # fmt: skip
_BY_TRANSACTION: dict[str, Shape] = {
    "token": TEXT, "transaction_id": TEXT, "transaction_eid": TEXT, **MATCHING, **CURRENCY,
    "amount": NUMBER,
}  # fmt: skip

REQUESTS: dict[str, Mapping[str, Shape]] = {
    "preorder": {**_ORDER_REQUEST, "data": _order("applied_promotions")},
    "preorder_commit": {
        **_ORDER_REQUEST,
        "skip_triggers": BOOL,
        "data": _order("requested_promotions"),
    },
    "tiers": {**_PROGRAM, "tiers_group_id": INT, **MATCHING},
    "transactions_export": {
        **_PROGRAM,
        **CURRENCY,
        "from_id": TEXT,
        "date_from": TEXT,
        "date_to": TEXT,
    },
    "transactions_export_status": {"token": TEXT, "task_id": TEXT},
    "expiring_points": {
        **_PROGRAM,
        **CURRENCY,
        "date_from": TEXT,
        "date_to": TEXT,
        **MATCHING,
    },
    "transactions": {**_PROGRAM, **CURRENCY, "from_id": TEXT, "limit": INT, **MATCHING},
    "trigger_promotions": {**_PROGRAM, "from_id": INT, "limit": INT, "is_active": BOOL},
    "accrue_points": {**_POINTS, "activation_date": TEXT, "expiration_date": TEXT},
    "redeeme_points": _POINTS,
    "commit_transaction": _BY_TRANSACTION,
    "rollback_transaction": _BY_TRANSACTION,
    "cancel_transaction": _BY_TRANSACTION,
    "balance": {**_PROGRAM, **CURRENCY, **MATCHING},
    "register_member": {**_PROGRAM, "registration_date": TEXT, **MATCHING},
    "delete_member": {**_PROGRAM, **MATCHING},
}

_ORDER_RESPONSE: dict[str, Shape] = {
    "processing_target": TEXT, "total_price": TEXT, "final_total_price": TEXT,
    "delivery_cost": TEXT, "currency": TEXT, "custom_fields": FREE,
    "lines": ({
        "external_id": TEXT, "line_number": INT, "count": INT, "product": TEXT, "sku": TEXT,
        "base_price_per_item": TEXT, "min_price_per_item": TEXT, "final_price_per_item": TEXT,
        "custom_fields": FREE, "price_breakdown": ({"count": INT, "price_per_item": TEXT},),
        "applied_promotions": (_APPLIED,),
    },),
    "applied_promotions": (_APPLIED,),
    "points_info": ({
        **CURRENCY, "name": TEXT, "status": TEXT, "reason": TEXT,
        "active_amount_for_current_order": TEXT,
        "accrue_points_amount_for_current_order": TEXT,
        "redeemed_points_amount_for_current_order": TEXT,
    },),
    "promocodes_info": ({"code": TEXT, "pool_id": INT, "status": TEXT,
                         "promotions": (TEXT,)},),
}  # fmt: skip
_COMMIT_RESPONSE: dict[str, Shape] = {
    "status": TEXT, "processing_target": TEXT, "external_id": TEXT,
    "differences": ({"path": TEXT, "requested": TEXT, "actual": TEXT},),
    "issued_promocodes": ({"codes": (TEXT,), "pool": {"pool_id": INT, "name": TEXT},
                           "promotion": _PROMOTION, "missing": INT},),
    "points_changes": ({"points_info": _POINTS_INFO, "accrue_points": NUMBER,
                        "redeem_points": NUMBER},),
    "contents": ({"promotion": _PROMOTION, "contents": ({"type": TEXT, "message": TEXT},)},),
}  # fmt: skip

RESPONSES: dict[str, Mapping[str, Shape]] = {
    "preorder": {**_ERROR, "data": {"profile": {"profile_id": TEXT}, "order": _ORDER_RESPONSE}},
    "preorder_commit": {**_ERROR, "data": _COMMIT_RESPONSE},
    "tiers": {**_ERROR, "data": ({
        "tiers_group_id": INT, "tiers_group_type": TEXT, "tier_eid": TEXT, "tier_id": INT,
        "tier_order": INT, "tier_name": TEXT, "reached_at": TEXT,
    },)},
    "transactions_export": {**_ERROR, "data": {"task_id": TEXT}},
    "transactions_export_status": {**_ERROR, "data": {
        "task_id": TEXT, "status": TEXT, "rows": INT, "file": TEXT,
    }},
    "expiring_points": {**_ERROR, "data": {**CURRENCY, "expiring_points": TEXT}},
    "transactions": {**_ERROR, "data": (_TRANSACTION,), "next_from_id": TEXT,
                     "total_count": INT},
    "trigger_promotions": {**_ERROR, "next_from_id": INT, "total_count": INT, "data": ({
        "id": INT, "name": TEXT, "description": TEXT, "external_id": TEXT,
        "start_date": TEXT, "end_date": TEXT, "is_active": BOOL,
        "redeem_rules": (_RULE,), "accrual_rules": (_RULE,),
    },)},
    "accrue_points": {**_ERROR, "data": {**_POSTING, "transactions": (_POSTING,)}},
    "redeeme_points": {**_ERROR, "data": {**_POSTING, "transactions": (_POSTING,)}},
    "commit_transaction": {**_ERROR, "data": _POSTING},
    "rollback_transaction": {**_ERROR, "data": _POSTING},
    "cancel_transaction": {**_ERROR, "data": _POSTING},
    "balance": {**_ERROR, "data": {**CURRENCY, "total_balance": TEXT, "active_balance": TEXT}},
    "register_member": {**_ERROR, "profile_id": TEXT},
    "delete_member": {**_ERROR, "profile_id": TEXT},
}  # fmt: skip
ERROR: Mapping[str, Shape] = {
    **_ERROR, "errors": ({"path": TEXT, "reason": TEXT, "value": TEXT},),
}  # fmt: skip
