"""Test your own promotion rules: hypothesis strategies for our types, and our invariants.

Installed with the ``testing`` extra (``pip install 'loyalty_engine[testing]'``). Importing this
module registers strategies, so ``st.from_type(Order)`` and friends work.
"""

try:
    from hypothesis import strategies as st
except ModuleNotFoundError as error:  # say what to install, not only what is missing
    raise ModuleNotFoundError(
        "loyalty_engine.testing needs hypothesis: pip install 'loyalty_engine[testing]'",
        name=error.name,
    ) from error

from ..model import Line, Member, Order, PointsCurrency
from ..money import Money
from ..program import Program
from .invariants import InvariantViolation, check_invariants
from .strategies import (
    CATALOG,
    NOW,
    accruals,
    cases,
    discounts,
    line_filters,
    lines,
    members,
    money,
    order_conditions,
    orders,
    points_currencies,
    programs,
    promotions,
)

st.register_type_strategy(Money, st.sampled_from(("RUB", "JPY", "KWD")).flatmap(money))
st.register_type_strategy(Line, lines())
st.register_type_strategy(Order, orders())
st.register_type_strategy(PointsCurrency, points_currencies())
st.register_type_strategy(Member, members([]).filter(lambda m: m is not None))
st.register_type_strategy(Program, programs())

__all__ = [
    "CATALOG",
    "NOW",
    "InvariantViolation",
    "accruals",
    "cases",
    "check_invariants",
    "discounts",
    "line_filters",
    "lines",
    "members",
    "money",
    "order_conditions",
    "orders",
    "points_currencies",
    "programs",
    "promotions",
]
