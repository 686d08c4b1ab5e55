"""The hostile decimal context every test runs under.

Hypothesis profiles come from the package's pytest plugin (``loyalty_engine.pytest_plugin``):
``ci`` is this suite's default (``loyalty_profile`` in pyproject.toml), ``deep`` runs 100,000
examples; select with ``LOYALTY_HYPOTHESIS_PROFILE=deep`` or ``--loyalty-profile deep``, and
``LOYALTY_HYPOTHESIS_EXAMPLES=N`` overrides the count.
"""

import decimal
from collections.abc import Iterator

import pytest

# Every test runs under a caller's decimal context as hostile as it gets: 3 digits, rounding
# toward -inf, and a trap on any rounding. The library must not notice (it uses its own context);
# a Decimal operation that leaks into the ambient context fails the test that reaches it.
HOSTILE_CONTEXT = decimal.Context(
    prec=3,
    rounding=decimal.ROUND_FLOOR,
    capitals=0,
    traps=[decimal.Rounded, decimal.InvalidOperation, decimal.Overflow, decimal.DivisionByZero],
)


@pytest.fixture(autouse=True)
def _hostile_decimal_context() -> Iterator[None]:
    with decimal.localcontext(HOSTILE_CONTEXT):
        yield
