"""The README's examples are executable: the Python runs as a doctest, the program format's
TOML loads and is seed 003's (the docs pages' examples run in tests/test_docs.py)."""

from __future__ import annotations

import doctest
import tomllib
from pathlib import Path

import pytest

import loyalty_engine as le

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def test_readme_examples_run() -> None:
    """Every ``>>>`` example in README.md gives the output printed beside it."""
    failures, attempted = doctest.testfile(
        str(README), module_relative=False, optionflags=doctest.ELLIPSIS
    )
    assert attempted >= 5
    assert failures == 0


def test_the_program_format_example_is_seed_003s_program() -> None:
    """The README's TOML is a valid program, the one the Quickstart runs (names aside)."""
    text = README.read_text(encoding="utf-8")
    block = text[text.index("```toml\n") + len("```toml\n") :]
    shown = le.program_from_dict(tomllib.loads(block[: block.index("```")]))
    seed = le.load_program(ROOT / "examples" / "seed_003" / "program.toml")
    assert shown.currencies == seed.currencies
    assert [(p.external_id, p.type, p.benefit) for p in shown.promotions] == [
        (p.external_id, p.type, p.benefit) for p in seed.promotions
    ]


def test_the_property_test_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's test file, as a user would save it, defines a property that passes (its
    import-free run from the installed wheel is tools/dist_smoke.sh's)."""
    text = README.read_text(encoding="utf-8")
    block = text[text.index("```python\n# test_my_rules.py") + len("```python\n") :]
    namespace: dict[str, object] = {}
    monkeypatch.chdir(ROOT)
    exec(compile(block[: block.index("```")], "test_my_rules.py", "exec"), namespace)
    test = namespace["test_my_rules_keep_every_invariant"]
    assert callable(test)
    test()
