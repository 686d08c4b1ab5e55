"""The shipped pytest plugin, as a user's project meets it: a fresh pytest process in a fresh
directory, the plugin found by its entry point."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SEED3 = Path(__file__).resolve().parent.parent / "examples" / "seed_003"

USER_TEST = """
from hypothesis import given, settings
from loyalty_engine import calculate
from loyalty_engine.testing import NOW, orders

@settings(max_examples=5)
@given(order=orders("RUB"))
def test_my_rules(loyalty_program, check_invariants, order):
    result = calculate(loyalty_program, order, None, now=NOW)
    check_invariants(loyalty_program, order, None, result)
"""

PROFILE_TEST = """
from hypothesis import settings

def test_examples():
    now = settings.default
    print("max_examples", now.max_examples, "derandomize", now.derandomize)
"""


def run(where: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", *args],
        cwd=where,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(SEED3 / "program.toml", tmp_path / "program.toml")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nloyalty_program = "program.toml"\n'
    )
    (tmp_path / "test_rules.py").write_text(USER_TEST)
    (tmp_path / "test_profile.py").write_text(PROFILE_TEST)
    return tmp_path


def test_a_users_property_test_gets_the_program_and_the_invariants(project: Path) -> None:
    done = run(project, "test_rules.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_the_plugin_is_inert_until_a_profile_is_asked_for(project: Path) -> None:
    """No option: the settings are what they are without the plugin (hypothesis's own default,
    its ``ci`` profile on a CI machine); then the option, the variable, the count."""
    plain = run(project, "test_profile.py").stdout.splitlines()[0]
    assert plain.startswith("max_examples ")
    assert (
        plain == run(project, "test_profile.py", "-p", "no:loyalty_engine").stdout.splitlines()[0]
    )
    deep = run(project, "test_profile.py", "--loyalty-profile", "deep")
    assert "max_examples 100000 derandomize False" in deep.stdout
    ci = run(project, "test_profile.py", LOYALTY_HYPOTHESIS_PROFILE="ci")
    assert "max_examples 150 derandomize True" in ci.stdout
    split = run(
        project, "test_profile.py", "--loyalty-profile", "deep", LOYALTY_HYPOTHESIS_EXAMPLES="7"
    )
    assert "max_examples 7 derandomize False" in split.stdout
    bad = run(project, "test_profile.py", LOYALTY_HYPOTHESIS_PROFILE="fast")
    assert bad.returncode != 0
    assert "must be one of ('ci', 'deep')" in bad.stderr


def test_the_program_fixture_says_how_to_name_the_file(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    done = run(project, "test_rules.py")
    assert done.returncode != 0
    assert "needs --loyalty-program PATH or the ini option loyalty_program" in done.stdout
    named = run(project, "test_rules.py", "--loyalty-program", str(project / "program.toml"))
    assert named.returncode == 0, named.stdout + named.stderr


def test_the_toolkit_without_hypothesis_names_the_extra() -> None:
    code = "import sys; sys.modules['hypothesis'] = None; import loyalty_engine.testing"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 1
    assert "loyalty_engine.testing needs hypothesis: pip install 'loyalty_engine[testing]'" in (
        done.stderr
    )


@pytest.mark.skipif(
    any(k.startswith("LOYALTY_HYPOTHESIS_") for k in os.environ), reason="a profile was chosen"
)
def test_this_suite_runs_the_ci_profile_by_default() -> None:
    """``loyalty_profile = "ci"`` in our pyproject.toml: the plugin loaded it for this run."""
    from hypothesis import settings

    assert (settings.default.max_examples, settings.default.derandomize) == (150, True)
