"""Message stage: texts for the customer, filled from a fixed set of figures."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..program.benefits import Message
from ..program.program import Program
from ..program.promotion import Promotion
from ..result import MessageOut, Reason
from .cart import Cart
from .codes import ranked
from .eligibility import candidate_slots


def render(
    program: Program,
    promotions: Iterable[Promotion],
    cart: Cart,
    figures: Mapping[str, Mapping[str, str]],
) -> tuple[MessageOut, ...]:
    """Every live message promotion whose conditions hold, rendered in evaluation order.

    ``figures`` maps a currency eid (or ``""`` for no currency) to the placeholder values.
    """
    out = []
    first = program.currencies[0].eid if program.currencies else ""
    for promotion in ranked(promotions, Message):
        if candidate_slots(promotion, cart, delivery=True) is None:
            continue
        benefit = promotion.benefit
        assert isinstance(benefit, Message)
        text = benefit.render(figures[benefit.currency or first])
        out.append(MessageOut(external_id=promotion.external_id, name=promotion.name, text=text))
        cart.note(promotion, Reason.APPLIED, "message shown")
    return tuple(out)
