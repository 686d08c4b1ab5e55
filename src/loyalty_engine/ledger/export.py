"""The ``transactions_export`` file: transaction rows as CSV cells (``Transaction.to_row``)."""

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


def export_rows(
    rows: Iterable[Transaction], date_from: dt.datetime, date_to: dt.datetime
) -> list[dict[str, str]]:
    """The ``transactions_export`` file: rows created in [date_from, date_to] (both included),
    in id order, every value a string ("" for none), columns as ``EXPORT_COLUMNS``."""
    out = []
    for row in rows:
        if date_from <= row.at <= date_to:
            data = row.to_row()
            out.append({key: _cell(data[key]) for key in EXPORT_COLUMNS})
    return out


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
