"""The working state of one calculation: slots (lines, maybe the delivery) in minor units.

How this works: a ``Slot`` is static (base and floor totals, item count, the step a reduction
must be a multiple of). A ``Cart`` is the running state a stage mutates: line totals, what each
promotion did to each slot, exclusivity marks and the trace. It lives only inside one
``calculate`` call; arbitration trials work on ``copy()``s, so a losing trial leaves no trace.
"""

from __future__ import annotations

import attrs

from ..conditions import Facts
from ..program.promotion import Promotion
from ..result import Reason, TraceEntry


@attrs.define  # not frozen: built per line and per benefit, where frozen's setattr costs double
class Slot:
    """A line (``line`` = its index) or the delivery (``line`` is None), in minor units; never
    changed once built."""

    base: int  # base total: base price × count
    floor: int  # min total: min price × count; no promotion may cross it
    count: int
    step: int  # a reduction must be a multiple of this: count (keep_uniform) or 1 (breakdown)
    line: int | None
    rank: int  # place by line id (delivery last): who wins a tie, whatever the line order


@attrs.define  # not frozen, as Slot
class Record:
    """What one promotion did to one slot: money (minor units) and/or points (point units);
    never changed once built."""

    promotion: Promotion
    money: int = 0
    points: int = 0
    currency: str | None = None
    limited: bool = False


@attrs.define
class Cart:
    """Running state of the pipeline; mutable, and private to one calculation."""

    slots: tuple[Slot, ...]
    facts: Facts
    totals: list[int]
    records: list[tuple[Record, ...]]
    touched: list[bool]  # some promotion of the current stage acted on the slot
    locked: list[bool]  # an exclusive promotion of the current stage holds the slot
    gained: list[int]  # this stage's benefit per slot (in 1/stage.scale minor units): arbitration
    spent: int = 0  # money taken off by discounts so far (the program's max share reads it)
    trace: dict[tuple[str, str], TraceEntry] = attrs.Factory(dict)

    @classmethod
    def start(cls, slots: tuple[Slot, ...], facts: Facts) -> Cart:
        n = len(slots)
        return cls(
            slots=slots,
            facts=facts,
            totals=[slot.base for slot in slots],
            records=[()] * n,
            touched=[False] * n,
            locked=[False] * n,
            gained=[0] * n,
        )

    def copy(self) -> Cart:
        return Cart(
            slots=self.slots,
            facts=self.facts,
            totals=list(self.totals),
            records=list(self.records),
            touched=list(self.touched),
            locked=list(self.locked),
            gained=list(self.gained),
            spent=self.spent,
            trace=dict(self.trace),
        )

    def next_stage(self) -> None:
        """Exclusivity and benefit measures are per stage: a discount never blocks accrual."""
        n = len(self.slots)
        self.touched, self.locked, self.gained = [False] * n, [False] * n, [0] * n

    @property
    def current_total(self) -> int:
        """Σ running line totals, delivery excluded (``order_total`` with basis current)."""
        return sum(t for t, s in zip(self.totals, self.slots, strict=True) if s.line is not None)

    def record(self, index: int, record: Record, worth: int | None = None) -> None:
        """``worth``: the benefit for arbitration when it is not ``record.money`` (an accrual's
        points at their redeem rate, in the stage's scale)."""
        self.records[index] = (*self.records[index], record)
        self.touched[index] = True
        if record.promotion.exclusive:
            self.locked[index] = True
        self.gained[index] += record.money if worth is None else worth

    def note(self, promotion: Promotion, reason: Reason, detail: str) -> None:
        self.trace[promotion.key] = TraceEntry(
            type=promotion.type,
            external_id=promotion.external_id,
            name=promotion.name,
            reason=reason,
            detail=detail,
        )
