"""The trace of every promotion from one calculation, without judging the rest a second time.

How this works: a calculation judges only the index's candidates and notes why each applied or
not. A promotion the index ruled out cannot apply, and its trace says what judging it in full
would have said: ``stopped`` when a stop_after promotion ended its stack group before it,
``not_member`` for an accrual and a guest, else the first check it fails — switched off, outside
its dates, a condition, no line selected — found by the same ``selected`` a judged promotion
goes through. Most of those verdicts are the same for every order (no dates, the condition the
index keys on comes first) and are built once per program (``TracePlan``).

A full judgement is still needed, and ``derive`` says so with ``None``, when the first failure
depends on the running cart (an order total on the ``current`` basis), for a redemption (its
verdict depends on the requests, in turn), and when a plugged-in picker arbitrates (it may
choose a promotion that gives nothing).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import attrs

from ..arbitration import PICKERS, Picker
from ..conditions import All, AnyOf, Condition, Not, OrderTotal
from ..model import Member
from ..program.index import APPLIES_TO
from ..program.program import ROOT, Program
from ..program.promotion import Promotion
from ..result import Reason, TraceEntry
from .cart import Cart
from .eligibility import failed, selected

Stoppers = Mapping[str, Mapping[str, tuple[tuple[int, str], str]]]  # stage → group → stopper


@attrs.frozen
class TracePlan:
    """Per promotion of a program: its verdict whenever the index rules it out, if that is the
    same for every order, and whether it needs a full judgement instead."""

    fixed: tuple[TraceEntry | None, ...]
    judge: frozenset[int]

    @classmethod
    def of(cls, program: Program) -> TracePlan:
        found = program.plans.get(cls)
        if found is None:
            found = program.plans[cls] = cls._build(program)
        assert isinstance(found, TracePlan)
        return found

    @classmethod
    def _build(cls, program: Program) -> TracePlan:
        fixed = []
        judge = set()
        for position, promotion in enumerate(program.promotions):
            source = program.index.sources[position]
            verdict = None
            if not promotion.is_active:
                verdict = Reason.INACTIVE, "switched off (is_active = false)"
            elif promotion.start is None and promotion.end is None:
                if source == 0:
                    verdict = Reason.CONDITION_FAILED, failed(promotion.conditions[0])
                elif source == APPLIES_TO and not promotion.conditions:
                    verdict = Reason.NO_LINES, "its applies_to selects no line of this order"
            fixed.append(None if verdict is None else _entry(promotion, *verdict))
            if promotion.type == "redeem_points" or any(
                _running(c) for c in (*promotion.conditions, promotion.applies_to) if c
            ):
                judge.add(position)
        return cls(tuple(fixed), frozenset(judge))


def derive(
    program: Program,
    cart: Cart,
    member: Member | None,
    judged: Sequence[int],
    stoppers: Stoppers,
    pickers: Mapping[str, Picker],
) -> tuple[TraceEntry, ...] | None:
    """Every promotion's entry, in program order; ``None`` when a full judgement is needed."""
    plan = TracePlan.of(program)
    if any(pickers[c] is not PICKERS.get(c) for c in program.choices if c != "stack"):
        return None
    promotions = program.promotions
    ruled_out = set(range(len(promotions))).difference(judged)
    if not ruled_out.isdisjoint(plan.judge):
        return None
    notes = dict(cart.trace)
    for position in ruled_out:
        promotion = promotions[position]
        entry = _stopped(program, promotion, stoppers.get(promotion.type, {}))
        if entry is None and promotion.type == "accrue_points" and member is None:
            entry = _entry(promotion, Reason.NOT_MEMBER, "a guest has no points account")
        if entry is None:
            entry = plan.fixed[position]
        if entry is None:
            verdict = selected(promotion, cart.facts, cart.slots, delivery=False)
            if not isinstance(verdict, tuple):
                return None  # the index ruled out one that could apply: judge it in full
            entry = _entry(promotion, *verdict)
        notes[promotion.key] = entry
    return tuple(notes[p.key] for p in promotions)


def _stopped(
    program: Program, promotion: Promotion, stoppers: Mapping[str, tuple[tuple[int, str], str]]
) -> TraceEntry | None:
    """``stopped`` if it, or a group holding it, comes after a stack group's stopper."""
    if not stoppers:
        return None
    rank, group_id = promotion.rank, promotion.group or ROOT
    while True:
        stopper = stoppers.get(group_id)
        if stopper is not None and rank > stopper[0]:
            return _entry(promotion, Reason.STOPPED, f"{stopper[1]} has stop_after set")
        if group_id == ROOT:
            return None
        group = program.group(group_id)
        rank, group_id = group.rank, group.parent or ROOT


def _running(condition: Condition) -> bool:
    """Does it read the running total (so its outcome depends on where it is judged)?"""
    return any(isinstance(c, OrderTotal) and c.basis == "current" for c in _walk(condition))


def _walk(condition: Condition) -> Iterator[Condition]:
    yield condition
    if isinstance(condition, All | AnyOf):
        for inner in condition.of:
            yield from _walk(inner)
    elif isinstance(condition, Not):
        yield from _walk(condition.of)


def _entry(promotion: Promotion, reason: Reason, detail: str) -> TraceEntry:
    return TraceEntry(type=promotion.type, external_id=promotion.external_id,
                      name=promotion.name, reason=reason, detail=detail)  # fmt: skip
