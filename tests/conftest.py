"""Hypothesis profiles: ``ci`` (default; fast, derandomized) and ``deep`` (100,000 examples).

Select with ``LOYALTY_HYPOTHESIS_PROFILE=deep python -m pytest tests/properties``.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "deep",
    max_examples=5_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("LOYALTY_HYPOTHESIS_PROFILE", "ci"))
