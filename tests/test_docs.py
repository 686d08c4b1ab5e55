"""The documentation cannot drift: the program format reference is checked against the loader key
by key, the command-line page against the argument parser, and every page's examples run.

``bash tools/docs.sh`` builds the site strict and runs the examples with Sphinx; these tests
need no Sphinx.
"""

from __future__ import annotations

import argparse
import doctest
import inspect
import re
import tomllib
import typing
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

import loyalty_engine as le
import loyalty_engine.store
import loyalty_engine.testing
from loyalty_engine.cli import _parser
from loyalty_engine.program import loader
from loyalty_engine.program.benefits import TYPE_OF

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts)
REFERENCE = DOCS / "program.md"
ROOT_HEADING = "Top level"  # the table of the document's own keys

_HEADING = re.compile(r"^(#{1,6}) (.*)$")
_PATH = re.compile(r"`([a-z_]+(?:\[\])?(?:\.[a-z_]+(?:\[\])?)*)`")  # `tier_groups[].tiers[]`
_TYPE = re.compile(r'`type = "(\w+)"`')
_TICKED = re.compile(r"`([^`]+)`")


# --- the program format reference --------------------------------------------------------------


@attrs.frozen
class Row:
    """One documented key: the table's section (path and promotion type), its kind, the key."""

    line: int
    path: str
    promotion_type: str | None
    kind: str | None
    key: str
    required: bool


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def reference_rows(text: str) -> Iterator[Row]:
    """Every row of every key table (a header with a ``key`` column), in the section its
    headings name: the nearest backticked path above it, and for benefits a ``type = "…"``."""
    lines = text.splitlines()
    sections: list[tuple[int, str | None, str | None]] = []  # (level, path, type) by level
    i = 0
    while i < len(lines):
        heading = _HEADING.match(lines[i])
        if heading:
            level, title = len(heading.group(1)), heading.group(2)
            paths = _PATH.findall(title)
            path = "|".join(paths) if paths else ("" if title == ROOT_HEADING else None)
            typed = _TYPE.search(title)
            sections = [s for s in sections if s[0] < level]
            sections.append((level, path, typed.group(1) if typed else None))
        if lines[i].startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("|---"):
            header = [cell.lower() for cell in _cells(lines[i])]
            path = next((s[1] for s in reversed(sections) if s[1] is not None), None)
            promotion_type = next((s[2] for s in reversed(sections) if s[2] is not None), None)
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                if "key" in header:
                    assert path is not None, f"program.md:{i + 1}: a key table under no section"
                    cells = dict(zip(header, _cells(lines[i]), strict=True))
                    kind_cell = cells.get("kind")
                    kind = _TICKED.findall(kind_cell)[0] if kind_cell else None
                    typed = _TYPE.search(kind_cell or "")
                    for section in path.split("|"):
                        yield Row(
                            line=i + 1,
                            path=section,
                            promotion_type=typed.group(1) if typed else promotion_type,
                            kind=kind,
                            key=_TICKED.findall(cells["key"])[0],
                            required="**required**" in cells["default"],
                        )
                i += 1
            continue
        i += 1


def attrs_classes(annotation: object) -> set[type]:
    """The attrs classes an annotation names: itself, or inside a union, a tuple, an optional."""
    if isinstance(annotation, type) and attrs.has(annotation):
        return {annotation}
    return {cls for arg in typing.get_args(annotation) for cls in attrs_classes(arg)}


def _field(cls: type, alias: str) -> attrs.Attribute[object] | None:
    return next((f for f in attrs.fields(cls) if f.init and f.alias == alias), None)


def resolve(path: str) -> set[type]:
    """The classes the loader reads at ``path`` (``""`` is the document): each step a field of
    the classes before, ``[]`` exactly where the field is a list."""
    classes = {le.Program}
    for part in path.split(".") if path else ():
        name, listed = part.removesuffix("[]"), part.endswith("[]")
        found: set[type] = set()
        for cls in classes:
            field = _field(cls, name)
            if field is None:
                continue
            annotation = typing.get_type_hints(cls)[field.name]
            is_list = typing.get_origin(annotation) is tuple and typing.get_args(annotation)[
                -1:
            ] == (...,)
            assert is_list == listed, f"{path}: write {name}{'[]' if is_list else ''}"
            found |= attrs_classes(annotation)
        assert found, f"{path}: names nothing the loader reads"
        classes = found
    return classes


def reachable() -> set[type]:
    """Every class the loader reads, from the document down."""
    seen: set[type] = set()
    todo = [le.Program]
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        hints = typing.get_type_hints(cls)
        todo += [c for f in attrs.fields(cls) if f.init for c in attrs_classes(hints[f.name])]
    return seen


def _kinded(cls: type) -> bool:
    return isinstance(getattr(cls, "kind", None), str)


def accepted(cls: type) -> set[str]:
    """The keys the loader accepts in a table of ``cls`` (``kind`` is a column, not a row)."""
    return set(loader._plan(cls).known) - ({"kind"} if _kinded(cls) else set())


def required(cls: type) -> set[str]:
    """The keys the loader requires in a table of ``cls``."""
    keys = {f.alias for f in loader._plan(cls).fields if f.required}
    return keys | ({"type", "benefit"} if cls is le.Promotion else set())


def problems(text: str) -> list[str]:
    """What the reference gets wrong about the loader; each line names the key."""
    out: list[str] = []
    documented: dict[type, dict[str, Row]] = {}
    for row in reference_rows(text):
        classes = resolve(row.path)
        if row.kind is not None:
            classes = {
                c
                for c in classes
                if getattr(c, "kind", None) == row.kind
                and (row.promotion_type is None or TYPE_OF.get(c) == row.promotion_type)
            }
        where = f"program.md:{row.line}: {row.path} {row.kind or ''}".rstrip()
        if len(classes) != 1:
            out.append(f"{where}: kind {row.kind!r} names no one table the loader reads")
            continue
        (cls,) = classes
        if row.key not in accepted(cls):
            out.append(f"{where}: {row.key!r} is documented, but the loader does not accept it")
        elif row.required != (row.key in required(cls)):
            out.append(f"{where}: {row.key!r} is {'not ' * row.required}required by the loader")
        documented.setdefault(cls, {})[row.key] = row
    for cls in sorted(reachable(), key=lambda c: c.__qualname__):
        for key in sorted(accepted(cls) - documented.get(cls, {}).keys()):
            name = f"{cls.__qualname__} ({cls.kind})" if _kinded(cls) else cls.__qualname__
            out.append(f"{name}: the loader accepts {key!r}, but program.md does not document it")
    return out


def test_the_program_reference_documents_exactly_the_keys_the_loader_accepts() -> None:
    """Every key of every table the loader reads is in program.md, with its required mark, and
    program.md documents no key the loader would refuse."""
    text = REFERENCE.read_text(encoding="utf-8")
    assert len(list(reference_rows(text))) > 100
    assert problems(text) == []


def test_the_reference_check_names_a_key_documented_or_accepted_alone() -> None:
    """The check fails both ways, naming the key: a row the loader does not accept, a key
    accepted but missing, a required mark that is wrong."""
    text = REFERENCE.read_text(encoding="utf-8")
    extra = "| `loyalty_program_id` | integer |"
    assert text.count(extra) == 1
    bogus = "| `rebate_percent` | decimal | none | not a key |\n"
    added = text.replace(extra, bogus + extra)
    removed = text.replace(text[text.index(extra) : text.index("\n", text.index(extra)) + 1], "")
    unmarked = text.replace(
        "| `eid` | text | **required** | the external id", "| `eid` | text | none |"
    )
    assert [p.split(": ", 1)[1] for p in problems(added)] == [
        "settings: 'rebate_percent' is documented, but the loader does not accept it"
    ]
    assert problems(removed) == [
        "Settings: the loader accepts 'loyalty_program_id', but program.md does not document it"
    ]
    assert [p.split(": ", 1)[1] for p in problems(unmarked)] == [
        "currencies[]: 'eid' is required by the loader"
    ]


def test_the_whole_program_example_loads_and_has_every_section() -> None:
    """The reference's TOML example is a valid program naming every top-level key."""
    text = REFERENCE.read_text(encoding="utf-8")
    section = text[text.index("## A whole program") :]
    example = section[section.index("```toml\n") + len("```toml\n") : section.index("\n```\n")]
    data = tomllib.loads(example)
    program = le.program_from_dict(data)
    assert set(data) == accepted(le.Program)
    assert {p.type for p in program.promotions} == {"discount", "accrue_points", "redeem_points"}


# --- the command line --------------------------------------------------------------------------


def commands(parser: argparse.ArgumentParser, prefix: str = "") -> Iterator[tuple[str, list[str]]]:
    """Each command (``db import``) with its long options."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                path = f"{prefix} {name}".strip()
                options = [o for a in sub._actions for o in a.option_strings if o.startswith("--")]
                yield path, [o for o in options if o != "--help"]
                yield from commands(sub, path)


def names(text: str, option: str) -> bool:
    """Does ``text`` name ``option`` whole (``--now`` is not named by ``--now-iso``)?"""
    return re.search(rf"{re.escape(option)}(?![\w-])", text) is not None


def test_the_cli_page_names_every_command_and_option() -> None:
    """docs/cli.md's synopsis has a line per command with each of its options, and each option
    is explained below it."""
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    start = text.index("```\nloyalty-engine ") + len("```\n")
    synopsis, explained = text[start : text.index("```", start)], text[text.index("```", start) :]
    found = list(commands(_parser()))
    assert len(found) > 10
    missing = []
    for path, options in found:
        lines = [
            line for line in synopsis.splitlines() if line.startswith(f"loyalty-engine {path} ")
        ]
        if not lines and path != "db":
            missing.append(f"{path}: no synopsis line")
        missing += [
            f"{path} {option}"
            for option in options
            if not any(names(line, option) for line in lines) or not names(explained, option)
        ]
    assert "loyalty-engine --version" in synopsis
    assert missing == []


# --- the pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "page", [p for p in PAGES if ">>> " in p.read_text()], ids=lambda p: str(p.relative_to(DOCS))
)
def test_the_examples_of_a_page_run(page: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ``>>>`` example of the page gives the output printed beside it, under the suite's
    hostile decimal context (``sphinx-build -b doctest`` runs them too, outside pytest)."""
    monkeypatch.chdir(ROOT)  # the examples read examples/
    failures, attempted = doctest.testfile(
        str(page), module_relative=False, optionflags=doctest.ELLIPSIS, encoding="utf-8"
    )
    assert attempted > 0
    assert failures == 0


def fences(text: str) -> Iterator[tuple[str, str]]:
    """(info string, body) of each fenced block."""
    for found in re.finditer(r"^```([^\n]*)\n(.*?)^```$", text, re.MULTILINE | re.DOTALL):
        yield found.group(1), found.group(2)


def test_every_example_is_a_doctest_block() -> None:
    """A ``>>>`` example outside a ``{doctest}`` block would run under pytest but not in the
    Sphinx build; each such block ends with a blank line, so the closing fence is no output."""
    wrong = [
        f"{page.relative_to(DOCS)}: {info or 'plain'} block with >>>"
        for page in PAGES
        for info, body in fences(page.read_text(encoding="utf-8"))
        if (">>> " in body) != (info == "{doctest}")
        or (info == "{doctest}" and body[-2:] != "\n\n")
    ]
    assert wrong == []


def test_every_page_is_in_a_toctree() -> None:
    """Every page is reachable from docs/index.md through the toctrees (the strict build also
    refuses an orphan page)."""
    reached, todo = set(), [DOCS / "index.md"]
    while todo:
        page = todo.pop()
        if page in reached:
            continue
        reached.add(page)
        for info, body in fences(page.read_text(encoding="utf-8")):
            if info == "{toctree}":
                entries = [e for e in body.splitlines() if e and not e.startswith(":")]
                todo += [(page.parent / f"{entry}.md").resolve() for entry in entries]
    assert set(PAGES) - reached == set()
    assert reached <= set(PAGES), reached - set(PAGES)


def test_the_api_reference_names_every_public_value() -> None:
    """Classes and functions of ``__all__`` come through autodoc; each other value of it (a
    constant) is documented by name on its reference page."""
    missing = []
    for module, page in (
        (le, "loyalty_engine"),
        (loyalty_engine.store, "store"),
        (loyalty_engine.testing, "testing"),
    ):
        text = (DOCS / "reference" / f"{page}.md").read_text(encoding="utf-8")
        assert f".. automodule:: {module.__name__}\n" in text
        for name in module.__all__:
            value = getattr(module, name)
            plain = not (inspect.isclass(value) or inspect.isroutine(value))
            if (
                plain
                and not inspect.ismodule(value)
                and f":: {module.__name__}.{name}\n" not in text
            ):
                missing.append(f"{module.__name__}.{name}")
    assert missing == []


def test_the_readmes_links_reach_pages() -> None:
    """README.md links to docs pages that exist."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((docs/[^)#]+)", readme)
    assert len(links) > 5
    assert [link for link in links if not (ROOT / link).is_file()] == []
