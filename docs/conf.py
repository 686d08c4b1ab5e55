"""The documentation site: Markdown pages (MyST), the API reference from docstrings, doctests.

``bash tools/docs.sh`` builds it strict (``-W --keep-going -n``) and runs every example.
"""

from __future__ import annotations

import doctest
from pathlib import Path
from typing import Any

import attrs
from sphinx.application import Sphinx
from sphinx.pycode import ModuleAnalyzer

import loyalty_engine
import loyalty_engine.store

ROOT = Path(__file__).resolve().parent.parent

project = "loyalty_engine"
author = "the loyalty_engine authors"
copyright = "the loyalty_engine authors, MIT licensed"
release = version = loyalty_engine.__version__

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.doctest"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3  # ``[text](page.md#a-heading)`` links resolve, and are checked
html_theme = "furo"
html_title = f"loyalty_engine {release}"

autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "undoc-members": True}

# Nitpicky: every cross-reference must resolve. Intersphinx would need the network, so references
# to the standard library and hypothesis stay plain text; a TypeVar is no documented object, and
# the internal structures below appear in signatures (an account's lots and journal, a program's
# index, a memory store's tables) without being API.
nitpick_ignore_regex = [
    (r"py:.*", r"(decimal|datetime|collections\.abc|typing|os|fractions|enum|pathlib)\..+"),
    (r"py:.*", r"(concurrent\.futures|sqlite3|threading|hypothesis\.strategies)\..+"),
    (r"py:class", r"loyalty_engine\..*\.[TKV]"),  # type variables
    (r"py:class", r"Condition"),  # unqualified in a converter's signature; Sphinx < 8 misses it
    (r"py:class", r"loyalty_engine\.ledger\.(lots\.Lots?|journal\.Journal|account\.Hold)"),
    (r"py:class", r"loyalty_engine\.(program\.index\.PromotionIndex|store\.tables\.Tables)"),
]

# The examples are run by ``sphinx-build -b doctest`` and, under pytest, by tests/test_docs.py.
# Both give them the hostile decimal context of the test suite (3 digits, rounding toward -inf,
# a trap on any rounding) and the repository root as the working directory (they read examples/).
# Exceptions are compared whole: an error message is part of what a page promises.
doctest_default_flags = doctest.ELLIPSIS | doctest.DONT_ACCEPT_TRUE_FOR_1
# Hypothesis runs derandomized, as in the suite's ci profile: the build gives the same verdict on
# every run (hunting for new failures is the suite's deep profile's job), and writes no database.
doctest_global_setup = f"""
import decimal as _decimal, os as _os
import hypothesis as _hypothesis
_hypothesis.settings.register_profile("docs", derandomize=True, database=None)
_hypothesis.settings.load_profile("docs")
_os.chdir({str(ROOT)!r})
_ambient = _decimal.getcontext()
_decimal.setcontext(_decimal.Context(
    prec=3, rounding=_decimal.ROUND_FLOOR, capitals=0,
    traps=[_decimal.Rounded, _decimal.InvalidOperation, _decimal.Overflow,
           _decimal.DivisionByZero]))
"""
doctest_global_cleanup = """
_decimal.setcontext(_ambient)
_hypothesis.settings.load_profile("default")
"""


def _derived_internals() -> frozenset[str]:
    """Fields derived at construction (``init=False, repr=False``, no docstring) of the public
    attrs classes: caches of the value's own, not what it promises. By name, as autodoc tells
    the skip hook no more; a name some class documents or takes is kept everywhere."""
    derived, kept = set(), set()
    for module in (loyalty_engine, loyalty_engine.store):
        for name in module.__all__:
            cls = getattr(module, name)
            if not (isinstance(cls, type) and attrs.has(cls)):
                continue
            documented = ModuleAnalyzer.for_module(cls.__module__).find_attr_docs()
            for field in attrs.fields(cls):
                internal = not (field.init or field.repr)
                internal = internal and (cls.__qualname__, field.name) not in documented
                (derived if internal else kept).add(field.name)
    return frozenset(derived - kept)


DERIVED = _derived_internals()


def _skip_derived(app: Sphinx, what: str, name: str, obj: Any, skip: bool, options: Any) -> bool:
    plain = not callable(obj) and not isinstance(obj, property)
    return skip or (what == "class" and plain and name in DERIVED)


def setup(app: Sphinx) -> None:
    app.connect("autodoc-skip-member", _skip_derived)
