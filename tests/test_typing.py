"""The public API as a user's type checker sees it: ``mypy --strict`` over a user's script.

``typing/converters.py`` (the values that take a mapping or a list where they store a tuple), and
the Python examples of the pages in ``PAGES``, become scripts in a directory outside the
repository. mypy finds the package the way a user's does, through the installed (editable)
distribution and its ``py.typed``, so a layout it cannot see fails here too.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Every page's examples are written as a strict user's script would be: annotated functions,
# optionals narrowed before use, one type per name within a page.
PAGES = [
    ROOT / "README.md",
    *sorted(p for p in (ROOT / "docs").rglob("*.md") if "_build" not in p.parts),
]
FENCE = re.compile(
    r"^```(python|\{doctest\}|\{testcode\}|\{testsetup\})[^\n]*\n(.*?)^```", re.M | re.S
)
PROMPT = re.compile(r"^(>>>|\.\.\.)( |$)")


def script(page: Path) -> str:
    """The page's examples in order, as one module: doctest prompts off, their output dropped."""
    blocks = []
    for kind, body in FENCE.findall(page.read_text(encoding="utf-8")):
        lines = [line for line in body.splitlines() if not line.startswith(":")]  # options
        if kind == "{doctest}" or any(line.startswith(">>> ") for line in lines[:1]):
            lines = [PROMPT.sub("", line, count=1) for line in lines if PROMPT.match(line)]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def test_examples_and_converters_type_check_as_a_users_script(tmp_path: Path) -> None:
    """Every page's examples, and the converters, pass ``mypy --strict`` as a user's code."""
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    written = []
    for page in PAGES:
        if code := script(page):
            name = "_".join(page.relative_to(ROOT).with_suffix("").parts).replace("-", "_")
            (scripts / f"{name}.py").write_text(code + "\n", encoding="utf-8")
            written.append(name)
    assert len(written) > 10
    converters = (Path(__file__).parent / "typing" / "converters.py").read_text(encoding="utf-8")
    (scripts / "converters.py").write_text(converters, encoding="utf-8")
    # A canary proves the run checks strictly: its one error must be the only one reported.
    (scripts / "canary.py").write_text("def untyped(x):\n    return x\n", encoding="utf-8")
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), "."],
        cwd=scripts,
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in checked.stdout.splitlines() if ": error: " in line]
    assert errors == [
        "canary.py:1: error: Function is missing a type annotation  [no-untyped-def]"
    ], checked.stdout + checked.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("```python\nx = 1\n```\n", "x = 1"),
        (
            "```{doctest}\n>>> x = 1\n>>> x\n1\n>>> for i in []:\n...     pass\n```\n",
            "x = 1\nx\nfor i in []:\n    pass",
        ),
        ("```{testcode}\n:hide:\n\ny = 2\n```\n```sh\nls\n```\n", "\ny = 2"),
    ],
)
def test_examples_are_read_as_written(tmp_path: Path, text: str, expected: str) -> None:
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    assert script(page) == expected
