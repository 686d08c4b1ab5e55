"""Is a promotion a candidate here, and on which slots? Every "no" lands in the trace with why."""

from __future__ import annotations

from collections.abc import Sequence

from ..conditions import Condition, Facts, OrderTotal, first_failure, selects
from ..money import money_text
from ..program.promotion import Promotion
from ..result import Reason
from .cart import Cart, Slot


def candidate_slots(promotion: Promotion, cart: Cart, *, delivery: bool) -> list[int] | None:
    """The slots ``promotion`` may act on now, or ``None`` (with the reason noted) if none.

    ``delivery``: whether this kind of benefit may reach the delivery slot at all.
    """
    facts = cart.facts
    if promotion.conditions:
        facts = facts.running(cart.current_total)
    chosen = selected(promotion, facts, cart.slots, delivery=delivery)
    if isinstance(chosen, tuple):
        cart.note(promotion, *chosen)
        return None
    free = [
        index
        for index in chosen
        if not cart.locked[index] and not (promotion.exclusive and cart.touched[index])
    ]
    if not free:
        if any(cart.locked[index] for index in chosen):
            why = "every line it selects is held by an exclusive promotion"
        else:
            why = "it is exclusive, and every line it selects has a benefit of this stage already"
        cart.note(promotion, Reason.EXCLUSIVE, why)
        return None
    return free


def selected(
    promotion: Promotion, facts: Facts, slots: Sequence[Slot], *, delivery: bool
) -> list[int] | tuple[Reason, str]:
    """The slots ``promotion`` selects, or why it is no candidate here at all.

    Whether the cart's lines are free is not asked: this is what the trace of a promotion the
    index ruled out derives from (``trace.py``), with the same words as a judged one.
    """
    if not promotion.is_active:
        return Reason.INACTIVE, "switched off (is_active = false)"
    if not promotion.live(facts.at):
        return Reason.OUTSIDE_DATES, f"not running at {facts.at.isoformat()}"
    if promotion.conditions:
        failed = first_failure(promotion.conditions, facts)
        if failed is not None:
            return Reason.CONDITION_FAILED, describe(failed, facts)
    chosen = [
        index
        for index, slot in enumerate(slots)
        if (
            (slot.line is None and delivery and promotion.applies_to is None)
            or (
                slot.line is not None
                and (
                    promotion.applies_to is None or selects(promotion.applies_to, facts, slot.line)
                )
            )
        )
    ]
    if not chosen:
        return Reason.NO_LINES, "its applies_to selects no line of this order"
    return chosen


def describe(condition: Condition, facts: Facts) -> str:
    """A sentence for the trace, with an upsell hint for a near miss on the order total."""
    if isinstance(condition, OrderTotal):
        missing = condition.shortfall(facts)
        if missing is not None:
            num, den = missing.as_integer_ratio()
            if condition.basis == "current" and 0 < facts.current_total < facts.base_total:
                # what the customer adds is discounted too, by the order's rate so far
                num, den = num * facts.base_total, den * facts.current_total
            amount = money_text(-(-num // den), facts.order.currency)  # rounded up
            return f"order_total: add {amount} {facts.order.currency} more to qualify"
    return failed(condition)


def failed(condition: Condition) -> str:
    """The sentence for a condition that does not hold, when no hint can be given."""
    return f"condition '{condition.kind}' does not hold"
