"""Test your own promotion rules: hypothesis strategies for our types, and our invariants.

Installed with the ``testing`` extra (``pip install 'loyalty_engine[testing]'``).
``st.from_type(Order)`` and friends work once hypothesis is imported (our ``hypothesis`` entry
point registers them); importing this module registers them too, for ``HYPOTHESIS_NO_PLUGINS``.
"""

try:
    import hypothesis  # noqa: F401 - imported first only to name the extra when it is missing
except ModuleNotFoundError as error:  # say what to install, not only what is missing
    raise ModuleNotFoundError(
        "loyalty_engine.testing needs hypothesis: pip install 'loyalty_engine[testing]'",
        name=error.name,
    ) from error

from .invariants import InvariantViolation, check_invariants
from .labels import observe
from .strategies import (
    POINTS,
    Case,
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
    vocabulary,
)
from .types import register
from .vocabulary import CATALOG, NOW, Vocabulary

register()

__all__ = [
    "CATALOG",
    "NOW",
    "POINTS",
    "Case",
    "InvariantViolation",
    "Vocabulary",
    "accruals",
    "cases",
    "check_invariants",
    "discounts",
    "line_filters",
    "lines",
    "members",
    "money",
    "observe",
    "order_conditions",
    "orders",
    "points_currencies",
    "programs",
    "promotions",
    "vocabulary",
]
