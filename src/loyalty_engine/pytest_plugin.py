"""The pytest plugin, installed with the package (entry point ``pytest11``): hypothesis profiles
and fixtures for property-testing promotion rules.

It is loaded by every pytest run in an environment that has the package, so it changes nothing
until asked, and works without hypothesis:

- ``--loyalty-profile ci|deep`` (else ``LOYALTY_HYPOTHESIS_PROFILE``, else the ini option
  ``loyalty_profile``) loads a hypothesis profile: ``ci`` (150 examples, derandomized, no
  deadline) or ``deep`` (100,000 examples). ``LOYALTY_HYPOTHESIS_EXAMPLES=N`` overrides the
  count, to split a deep run over processes.
- ``loyalty_program``: the ``Program`` at ``--loyalty-program PATH`` (else the ini option
  ``loyalty_program``, relative to the ini file), loaded once per session.
- ``check_invariants``: ``loyalty_engine.testing.check_invariants``, as a fixture.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from .program import Program, load_program

PROFILES = ("ci", "deep")
_EXAMPLES = {"ci": 150, "deep": 100_000}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("loyalty_engine")
    group.addoption(
        "--loyalty-profile",
        choices=PROFILES,
        help="load this hypothesis profile (also LOYALTY_HYPOTHESIS_PROFILE)",
    )
    group.addoption("--loyalty-program", metavar="PATH", help="the loyalty_program fixture's file")
    parser.addini("loyalty_profile", "the hypothesis profile to load by default (ci or deep)")
    parser.addini("loyalty_program", "the loyalty_program fixture's file, relative to the ini")


def pytest_configure(config: pytest.Config) -> None:
    name = (
        config.getoption("loyalty_profile")
        or os.environ.get("LOYALTY_HYPOTHESIS_PROFILE")
        or config.getini("loyalty_profile")
    )
    examples = os.environ.get("LOYALTY_HYPOTHESIS_EXAMPLES")
    if not name and not examples:
        return
    if name and name not in PROFILES:
        raise pytest.UsageError(f"loyalty profile {name!r}: must be one of {PROFILES}")
    try:
        from hypothesis import HealthCheck, settings
    except ModuleNotFoundError:
        raise pytest.UsageError(
            "a loyalty profile needs hypothesis: pip install 'loyalty_engine[testing]'"
        ) from None
    quiet = [HealthCheck.too_slow, HealthCheck.data_too_large]
    for profile in PROFILES:
        settings.register_profile(
            f"loyalty-{profile}",
            max_examples=_EXAMPLES[profile],
            derandomize=profile == "ci",
            deadline=None,
            suppress_health_check=quiet,
        )
    base = settings.get_profile(f"loyalty-{name}") if name else settings()
    if examples:
        if not examples.isdigit() or int(examples) < 1:
            raise pytest.UsageError(f"LOYALTY_HYPOTHESIS_EXAMPLES={examples!r}: a count >= 1")
        base = settings(base, max_examples=int(examples))
    settings.register_profile("loyalty", base)
    settings.load_profile("loyalty")


@pytest.fixture(scope="session")
def loyalty_program(pytestconfig: pytest.Config) -> Program:
    """The program file named by ``--loyalty-program`` or the ``loyalty_program`` ini option."""
    given = pytestconfig.getoption("loyalty_program")
    if given:
        path = Path(given)
    elif pytestconfig.getini("loyalty_program"):
        root = pytestconfig.inipath.parent if pytestconfig.inipath else pytestconfig.rootpath
        path = root / str(pytestconfig.getini("loyalty_program"))
    else:
        raise pytest.UsageError(
            "the loyalty_program fixture needs --loyalty-program PATH or the ini option "
            "loyalty_program"
        )
    return load_program(path)


@pytest.fixture(scope="session")  # a pure function: hypothesis's @given may take it
def check_invariants() -> Callable[..., None]:
    """``check_invariants(program, order, member, result)``: raises ``InvariantViolation``."""
    from .testing import check_invariants

    return check_invariants
