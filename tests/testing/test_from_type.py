"""``st.from_type`` draws valid values of every public type, with no import of ours.

Our ``hypothesis`` entry point registers the strategies while hypothesis is imported
(``loyalty_engine.testing.types.register``); ``loyalty_engine.testing`` registers them too.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, find, given, settings
from hypothesis import strategies as st

import loyalty_engine as le
from loyalty_engine.testing import NOW
from loyalty_engine.testing.types import register

PUBLIC = [
    cls
    for cls in (getattr(le, name) for name in le.__all__)
    if isinstance(cls, type) and not issubclass(cls, BaseException)
]
QUIET = [HealthCheck.too_slow, HealthCheck.filter_too_much]  # results run the engine per draw
# what a drawn value is about, for --hypothesis-show-statistics
TOLD: dict[type, Callable[[Any], str]] = {
    le.Promotion: lambda promotion: f"benefit: {type(promotion.benefit).__name__}",
    le.Transaction: lambda row: f"transaction: {row.kind.value}",
    le.CommitResult: lambda result: f"commit: {result.status.value}, {result.processing_target}",
}

# Each public class, 30 draws, in an interpreter that imports only hypothesis and the package.
FRESH = textwrap.dedent(
    """
    from hypothesis import HealthCheck, Phase, given, settings, strategies as st
    import loyalty_engine as le

    def check(cls):
        @settings(max_examples=30, phases=[Phase.generate], database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(st.from_type(cls))
        def draw(value):
            if cls is le.Picker:  # a protocol: no isinstance
                assert callable(value.pick), value
            else:
                assert isinstance(value, cls), value

        try:
            draw()
        except Exception as error:
            print(f"{cls.__name__}: {error!r}"[:300])

    for name in le.__all__:
        cls = getattr(le, name)
        if isinstance(cls, type) and not issubclass(cls, BaseException):
            check(cls)
    """
)


def python(code: str, **env: str) -> subprocess.Popen[str]:
    """``code`` running in a fresh interpreter, hypothesis plugins on unless ``env`` says; a
    plugin that builds strategies while hypothesis is imported is an error, not a warning."""
    environ = {k: v for k, v in os.environ.items() if k != "HYPOTHESIS_NO_PLUGINS"}
    return subprocess.Popen(
        [sys.executable, "-W", "error:Slow code in plugin", "-c", code],
        env={**environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="module", autouse=True)
def fresh() -> Iterator[subprocess.Popen[str]]:
    """The fresh interpreter's run, started before the module's first test so that it runs
    beside the in-process ones (it takes as long as they do); the module's last test reads it."""
    process = python(FRESH)
    yield process
    process.kill()
    process.communicate()


@pytest.mark.parametrize("cls", PUBLIC, ids=lambda cls: cls.__name__)
@settings(max_examples=5, phases=[Phase.generate], database=None, suppress_health_check=QUIET)
@given(data=st.data())
def test_from_type_draws_instances(cls: type, data: st.DataObject) -> None:
    """Every public class resolves and gives an instance (the protocol Picker: a picker)."""
    value = data.draw(st.from_type(cls))
    if cls is le.Picker:
        assert callable(value.pick)
    else:
        assert isinstance(value, cls)
    if cls in TOLD:
        event(TOLD[cls](value))


def test_independent_programs_orders_and_members_calculate() -> None:
    """Drawn on their own, a program, an order and a member fit: ≥ 95 % of 300 calculate,
    and one in ten redeems points (46 of 300 when measured; 2 before half the programs drawn
    alone got a redeem promotion)."""
    seen: Counter[str] = Counter()

    @settings(max_examples=300, database=None, derandomize=True, suppress_health_check=QUIET)
    @given(st.from_type(le.Program), st.from_type(le.Order), st.from_type(le.Member))
    def run(program: le.Program, order: le.Order, member: le.Member) -> None:
        try:
            result = le.calculate(program, order, member, now=NOW)
        except le.LoyaltyError:
            seen["raised"] += 1
            return
        seen["calculated"] += 1
        seen["redeemed"] += any(summary.redeemed > 0 for summary in result.points)

    run()
    assert seen["calculated"] >= 285, seen
    assert seen["redeemed"] >= 30, seen


def test_a_supertype_draws_none_of_ours() -> None:
    """Registered for the class itself only: ``from_type(Mapping)`` never draws ``Fields``."""

    @settings(max_examples=50, database=None, phases=[Phase.generate])
    @given(st.from_type(Mapping))
    def run(value: object) -> None:
        assert not isinstance(value, le.Fields)

    run()


def test_registering_again_changes_nothing() -> None:
    """``register`` twice (the hook, then ``loyalty_engine.testing``) keeps the same strategies."""
    register()
    assert find(st.from_type(le.Money), lambda _: True) == le.Money.zero("RUB")
    assert type(find(st.from_type(le.Picker), lambda _: True)) is le.FirstByPriority


def test_the_entry_point_is_installed() -> None:
    """The package declares ``register`` in hypothesis' entry-point group."""
    ours = [
        point
        for point in importlib.metadata.entry_points(group="hypothesis")
        if point.value.startswith("loyalty_engine")
    ]
    assert [(point.name, point.value) for point in ours] == [
        ("loyalty_engine", "loyalty_engine.testing.types:register")
    ]
    assert ours[0].load() is register


# Importing hypothesis first is FRESH; these import it from inside loyalty_engine.testing, so
# the hook runs while our package is half imported.
FIRST = ("import loyalty_engine.testing", "from loyalty_engine.testing.types import register")


def test_importing_ours_first_registers() -> None:
    """Imported before hypothesis, our modules import and ``from_type`` is registered."""
    check = (
        "from hypothesis import find, strategies as st\n"
        "import loyalty_engine as le\n"
        "print(type(find(st.from_type(le.Picker), lambda _: True)).__name__)"
    )
    runs = {first: python(f"{first}\n{check}") for first in FIRST}
    for first, process in runs.items():
        out, err = process.communicate(timeout=60)
        assert (first, out.strip()) == (first, "FirstByPriority"), err


def test_without_plugins_loyalty_engine_testing_registers() -> None:
    """With ``HYPOTHESIS_NO_PLUGINS`` nothing registers until ``loyalty_engine.testing`` does."""
    code = textwrap.dedent(
        """
        from hypothesis import find, strategies as st
        import loyalty_engine as le

        def picker():
            try:
                return type(find(st.from_type(le.Picker), lambda _: True)).__name__
            except TypeError:  # unregistered: a protocol hypothesis cannot build
                return None

        before = picker()
        import loyalty_engine.testing
        print(before, picker())
        """
    )
    out, err = python(code, HYPOTHESIS_NO_PLUGINS="1").communicate(timeout=60)
    assert out.split() == ["None", "FirstByPriority"], err


def test_fresh_interpreter_draws_every_public_class(fresh: subprocess.Popen[str]) -> None:
    """Importing only hypothesis and the package, every public class gives 30 instances."""
    out, err = fresh.communicate(timeout=120)
    assert fresh.returncode == 0, err
    assert out == ""
