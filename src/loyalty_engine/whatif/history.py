"""History records: an order, the member as they stood then, what was charged.

A history file is JSON Lines, each line a preorder request body (seed 003's shape) with two
optional keys of ours, ``member`` (a snapshot in the ``--member`` file's format) and
``charged``. A line that is no order becomes a ``BadRecord`` with its line number and reason,
never an exception: a replay of millions of lines reports what it could not read.
"""

from __future__ import annotations

import datetime as dt

import attrs

from ..altcraft.preorder import parse_preorder_request
from ..altcraft.wire import read_json
from ..documents import member_from_dict
from ..errors import ValidationError, ValidationErrors
from ..model import Member, Order
from ..money import Money

MAX_LINE_BYTES = 1024 * 1024  # one order; a longer line is refused, not read whole


@attrs.frozen(kw_only=True)
class HistoryRecord:
    """One order of the history, ready to calculate: at ``create_time``, else at ``now``."""

    order: Order
    member: Member | None = None
    charged: Money | None = None
    line: int = 0  # where it came from (1-based; 0: not from a file)


@attrs.frozen
class BadRecord:
    """A history line that is no order: where, and why."""

    line: int
    reason: str


def read_record(text: str | bytes, line: int) -> HistoryRecord | BadRecord:
    """One history line; every problem (malformed JSON, an invalid order) is a ``BadRecord``."""
    try:
        document = read_json(text, source="json", limit=MAX_LINE_BYTES)
        if not isinstance(document, dict):
            raise ValidationError((), type(document).__name__, "a line must be a JSON object")
        extra = {key: document.pop(key) for key in ("member", "charged") if key in document}
        request = parse_preorder_request(document)
        member = None
        if extra.get("member") is not None:
            try:
                member = member_from_dict(extra["member"])
            except ValidationError as error:
                raise error.at("member") from None
        charged = None
        if extra.get("charged") is not None:
            charged = Money.parse(extra["charged"], request.order.currency, ("charged",))
        return HistoryRecord(order=request.order, member=member, charged=charged, line=line)
    except ValidationErrors as errors:
        return BadRecord(line, "; ".join(str(e) for e in errors.errors))
    except ValidationError as error:
        return BadRecord(line, str(error))


def when(record: HistoryRecord, now: dt.datetime) -> dt.datetime:
    """The moment the record is calculated at: the order's ``create_time``, else ``now``."""
    return record.order.create_time or now
