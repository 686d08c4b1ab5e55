"""Order reversal: a cancelled or refunded order gives back what its commit moved.

The docs say nothing on how points follow an order's cancellation or refund. Ours:
- Each line's points (accrued and redeemed, per currency and promotion, as the commit's
  calculation recorded them) follow its items pro rata (points that paid for the delivery come
  back when the last item is refunded): after ``k`` of ``n`` items are refunded in
  total, floor(points × k / n) have been reversed. Refunds in several steps therefore add up to
  exactly the whole, and a full refund reverses everything.
- Accrued points are cancelled (policy ``allow_negative`` by default: the merchant takes back
  points that were spent, and the balance may go negative until later accruals repay it; pass
  ``refuse`` to get a ``LedgerError`` instead). Redeemed points return to the lots they came from.
- Points of an accrual that expired meanwhile are not taken back (they left the balance already).
- Qualification points (``money_ratio``) are not reversed: tiers are never lost.
- The caller passes what was refunded before (``refunded``: line id → items), since it keeps the
  order's status; ``eid`` makes a reversal idempotent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from .commit import CommitResult, CommitStatus
from .errors import LedgerError, ValidationError
from .ledger.account import CancelPolicy
from .ledger.journal import Kind
from .ledger.members import Change, Membership
from .model import PointsCurrency
from .money import to_units
from .validators import checked


@checked
def reverse(
    committed: CommitResult,
    membership: Membership,
    *,
    now: dt.datetime,
    lines: Mapping[str, int] | None = None,
    refunded: Mapping[str, int] | None = None,
    policy: CancelPolicy = "allow_negative",
    eid: str | None = None,
) -> Change:
    """Reverse ``lines`` (line id → items refunded now; ``None`` = all not yet refunded)."""
    result = committed.calculation
    if committed.status is not CommitStatus.SUCCESS or result is None:
        raise LedgerError(f"order {committed.external_id!r} was not committed")
    before = dict(refunded or {})
    counts = {line.line.external_id: line.line.count for line in result.lines}
    now_refunded = (
        dict(lines) if lines is not None else {k: n - before.get(k, 0) for k, n in counts.items()}
    )
    for line_id, items in before.items():
        if (
            line_id not in counts
            or isinstance(items, bool)
            or not isinstance(items, int)
            or not (0 <= items <= counts[line_id])
        ):
            raise ValidationError(("refunded", line_id), items, "not a count of the order's items")
    for line_id, items in now_refunded.items():
        if line_id not in counts:
            raise ValidationError(("lines", line_id), line_id, "no such line in the order")
        if isinstance(items, bool) or not isinstance(items, int) or items < 0:
            raise ValidationError(("lines", line_id), items, "must be a non-negative integer")
        if before.get(line_id, 0) + items > counts[line_id]:
            raise ValidationError(
                ("lines", line_id), items, f"more than the {counts[line_id]} items left to refund"
            )
    shares = [
        (line.applied, line.line.count, before.get(line.line.external_id, 0),
         before.get(line.line.external_id, 0) + now_refunded.get(line.line.external_id, 0))
        for line in result.lines
    ]  # fmt: skip
    was_whole = all(k0 == n for _, n, k0, _ in shares)
    is_whole = all(k1 == n for _, n, _, k1 in shares)
    shares.append((result.applied, 1, int(was_whole), int(is_whole)))  # the delivery goes last
    amounts: dict[tuple[str, str, str], tuple[PointsCurrency, int]] = {}
    for applied_here, n, k0, k1 in shares:
        for applied in applied_here:
            if applied.currency is None or applied.points is None or k1 == k0:
                continue
            units = to_units(applied.points, applied.currency.precision)
            assert units is not None, "the engine computes points at the currency's precision"
            key = (applied.currency.eid, applied.type, applied.external_id)
            _, done_units = amounts.get(key, (applied.currency, 0))
            share = units * k1 // n - units * k0 // n
            amounts[key] = (applied.currency, done_units + share)
    start = membership
    for (currency, kind, promotion), (points_currency, units) in sorted(amounts.items()):
        if not units:
            continue
        points = points_currency.of_units(units)
        account = membership.account(currency)
        tag = f"order:{committed.external_id}:{kind}:{promotion}"
        target = account.transaction(tag)
        expected = Kind.REDEMPTION if kind == "redeem_points" else Kind.ACCRUAL
        if target.kind is not expected:
            raise LedgerError(f"{tag} is a {target.kind.value}, not a {expected.value}")
        step_eid = f"{eid}:{currency}:{target.id}" if eid is not None else None
        done = account.journal.by_eid(step_eid) if step_eid is not None else None
        if done is not None:  # a retry: ask for what was cancelled then, so it replays
            points = done.amount
        else:
            points = min(points, account.outstanding(target.id, now=now))  # expired: gone
        if not points:
            continue
        posting = account.cancel(
            target.id,
            now=now,
            amount=points,
            policy=policy,
            eid=step_eid,
            description=f"order {committed.external_id} refunded",
        )
        membership = membership.with_account(posting.account)
    return Change.of(start, membership)
