"""``observe``: calculate, and tell hypothesis what the calculation reached.

Run a property test with ``--hypothesis-show-statistics`` to see how often your strategies reach
each stage (discount, redeem, accrue, code issue, message), each trace reason, min-price clamps,
allocation remainders and arbitration ties: a stage no example reaches is a stage not tested.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

import attrs
from hypothesis import event

from ..arbitration import PICKERS, Option, Picker
from ..engine import calculate
from ..model import Member, Order
from ..money import CONTEXT
from ..pools import CodePool
from ..program import AccrueFixed, AccruePercent, AccruePerSpend, Program
from ..result import CalculatedOrder, Reason


def observe(
    program: Program,
    order: Order,
    member: Member | None = None,
    *,
    now: dt.datetime,
    pickers: Mapping[str, Picker] | None = None,
    pools: Sequence[CodePool] = (),
) -> CalculatedOrder:
    """``calculate(...)``, with an ``event()`` for each stage and outcome it reached."""
    ties: list[str] = []
    spies = {
        name: _Spy(name, picker, ties) for name, picker in {**PICKERS, **(pickers or {})}.items()
    }
    result = calculate(program, order, member, now=now, pickers=spies, pools=pools)
    for label in sorted(set(ties) | _labels(program, member, result)):
        event(label)
    return result


@attrs.frozen
class _Spy:
    """A picker that notes when its winner had a rival it could not tell apart."""

    name: str
    picker: Picker
    ties: list[str]

    def pick(self, options: Sequence[Option]) -> int | None:
        winner = self.picker.pick(options)
        if winner is not None:
            won = options[winner]
            if self.name == "priority":  # taken by priority: a rival of the same priority
                rivals = [o for o in options if o.priority == won.priority and o.benefit > 0]
            else:  # taken by benefit: a rival of the same benefit
                rivals = [o for o in options if o.benefit == won.benefit]
            if len(rivals) > 1:
                self.ties.append(f"arbitration: a tie, {self.name}")
            among = len(options) if len(options) < 3 else "3+"
            self.ties.append(f"arbitration: {self.name} chose among {among}")
        return winner


def _labels(program: Program, member: Member | None, result: CalculatedOrder) -> set[str]:
    labels = {"guest" if member is None else "member"}
    for entry in result.trace:
        labels.add(f"{entry.type}: {entry.reason.value}")
        if entry.applied:
            labels.add(f"stage reached: {entry.type}")
        if entry.reason is Reason.CLAMPED:
            labels.add("clamped at min prices")
    if any(summary.redeemed for summary in result.points):
        labels.add("points redeemed")
    spread: dict[tuple[str, str], list[tuple[int, Decimal]]] = {}
    for line in result.lines:
        for applied in line.applied:
            key = (applied.type, applied.external_id)
            spread.setdefault(key, []).append((line.base_total.minor, applied.points or Decimal(0)))
    if any(len(shares) > 1 for shares in spread.values()):
        labels.add("allocation: an amount split over 2+ lines")
    if any(_remainder(program, key, shares) for key, shares in spread.items()):
        labels.add("allocation: points split with a remainder")
    return labels


def _remainder(program: Program, key: tuple[str, str], shares: list[tuple[int, Decimal]]) -> bool:
    """Did points accrued on base totals split unevenly (known exactly only on that base)?"""
    promotion = next((p for p in program.promotions if p.key == key), None)
    benefit = promotion.benefit if promotion is not None else None
    if not isinstance(benefit, AccruePercent | AccruePerSpend | AccrueFixed) or len(shares) < 2:
        return False
    base = "base" if isinstance(benefit, AccrueFixed) else benefit.base
    if (base or program.settings.accrual_base) != "base":
        return False
    precision = program.currencies_by_eid[benefit.currency].precision
    units = [int(CONTEXT.scaleb(points, precision)) for _, points in shares]
    whole, weight = sum(units), sum(w for w, _ in shares)
    # free lines (weight 0) have no proportional share to miss: the split is not judged
    return weight > 0 and any(whole * w % weight for w, _ in shares)
