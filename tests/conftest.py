"""Hypothesis profiles, and the hostile decimal context every test runs under.

Profiles: ``ci`` (default; fast, derandomized) and ``deep`` (100,000 examples).

Select with ``LOYALTY_HYPOTHESIS_PROFILE=deep``; ``LOYALTY_HYPOTHESIS_EXAMPLES=N`` overrides the
number of examples (to split a deep run over several processes, each with its own seed).
"""

import decimal
import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile(
    "ci", max_examples=150, derandomize=True, deadline=None, suppress_health_check=_QUIET
)
settings.register_profile("deep", max_examples=100_000, deadline=None, suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("LOYALTY_HYPOTHESIS_PROFILE", "ci"))
if "LOYALTY_HYPOTHESIS_EXAMPLES" in os.environ:
    settings.register_profile(
        "override", settings(), max_examples=int(os.environ["LOYALTY_HYPOTHESIS_EXAMPLES"])
    )
    settings.load_profile("override")


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
