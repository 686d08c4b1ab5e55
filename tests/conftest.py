"""Hypothesis profiles: ``ci`` (default; fast, derandomized) and ``deep`` (100,000 examples).

Select with ``LOYALTY_HYPOTHESIS_PROFILE=deep``; ``LOYALTY_HYPOTHESIS_EXAMPLES=N`` overrides the
number of examples (to split a deep run over several processes, each with its own seed).
"""

import os

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
