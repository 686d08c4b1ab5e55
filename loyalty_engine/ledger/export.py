"""Transactions as plain rows of JSON scalars: for the history API, CSV export and storage."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from .journal import Transaction

EXPORT_COLUMNS = (
    "transaction_id", "transaction_eid", "profile_id", "points_currency_eid", "created_at",
    "transaction_type", "amount", "delta", "balance_before", "balance_after", "temp", "deadline",
    "activation_date", "expiration_date", "refers_to", "promo_eid", "description", "source_type",
    "source_id",
)  # fmt: skip


def transaction_row(row: Transaction) -> dict[str, object]:
    """A history-API row (``transaction_id``, ``transaction_type``, …) plus what replay needs."""
    return {
        "transaction_id": row.id,
        "transaction_eid": row.eid,
        "profile_id": row.profile_id,
        "points_currency_eid": row.currency,
        "created_at": moment_text(row.at),
        "transaction_type": row.kind.value,
        "amount": format(row.amount, "f"),
        "delta": format(row.delta, "f"),
        "balance_before": format(row.balance_before, "f"),
        "balance_after": format(row.balance_after, "f"),
        "temp": row.temp,
        "deadline": moment_text(row.deadline),
        "activation_date": moment_text(row.activation),
        "expiration_date": moment_text(row.expiration),
        "refers_to": row.refers_to,
        "promo_eid": row.promotion,
        "description": row.description,
        "source_type": row.source_type,
        "source_id": row.source_id,
        "drawn": [[lot, format(points, "f")] for lot, points in row.drawn],
        "earned_after": format(row.earned_after, "f"),
        "request": row.request,
    }


def export_rows(
    rows: Iterable[Transaction], date_from: dt.datetime, date_to: dt.datetime
) -> list[dict[str, str]]:
    """The ``transactions_export`` file: rows created in [date_from, date_to] (both included),
    in id order, every value a string ("" for none), columns as ``EXPORT_COLUMNS``."""
    out = []
    for row in rows:
        if date_from <= row.at <= date_to:
            data = transaction_row(row)
            out.append({key: _cell(data[key]) for key in EXPORT_COLUMNS})
    return out


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def moment_text(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
