"""Hostile values, the walker that puts them at every path of a document, and the case bounds.

Shared by ``test_cli_fuzz.py`` and ``test_api_fuzz.py`` (pytest puts this directory on
``sys.path``; the name does not start with ``test_``, so it is not collected).

Why values are raw text: a document must be able to hold what ``json.dumps`` cannot write —
``1e999999999``, a 5000-digit integer, a lone surrogate escape. A document is serialised with a
unique placeholder string at the mutated path, and the quoted placeholder is then replaced by the
raw snippet. The same goes for TOML, through the small emitter below (TOML basic strings take
JSON's ``\\uXXXX`` escapes, so most snippets are the same text in both languages).

Modes: ``LOYALTY_FUZZ=deep`` runs every path × every value; the default is a deterministic
sample that keeps CI to seconds. ``LOYALTY_FUZZ_SEED=N`` draws another sample and
``LOYALTY_FUZZ_EXTRA=N`` enlarges it (N more random mutations per document);
``LOYALTY_FUZZ_SHARD=k/n`` runs the k-th of n slices of a deep run (one per core).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import random
import signal
import threading
import tomllib
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

import pytest

from loyalty_engine.errors import render_path

DEEP = os.environ.get("LOYALTY_FUZZ", "").lower() == "deep"
SEED = int(os.environ.get("LOYALTY_FUZZ_SEED", "0"))
EXTRA = int(os.environ.get("LOYALTY_FUZZ_EXTRA", "12"))  # sampled mutations beyond one per value
SHARD = os.environ.get("LOYALTY_FUZZ_SHARD", "")  # "k/n": the k-th of n processes of a deep run
EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"

TIME_LIMIT = 5.0  # seconds per case: a hang detector, not a benchmark
OUTPUT_LIMIT = 2 * 1024 * 1024  # bytes of stdout + stderr per case
MEMORY_HEADROOM = 768 * 1024 * 1024  # address space a case may add (where RLIMIT_AS exists)
PLACEHOLDER = "__loyalty_fuzz_placeholder__"
NESTING = 1000
MANY = 100_000
MANY_KEYS = MANY if DEEP else 20_000  # 100,000 custom fields take ~90 s today; CI stays short

DocPath = tuple[str | int, ...]
T = TypeVar("T")


# --- the catalogue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Hostile:
    """One hostile value: a label for reports, its JSON text, and its TOML text (None: none)."""

    label: str
    json: str
    toml: str | None


def _same(label: str, text: str) -> Hostile:
    return Hostile(label, text, text)


def _object(label: str, pairs: Sequence[tuple[str, str]]) -> Hostile:
    """An object from (key, raw value) pairs; the values must be valid in both languages."""
    body = ", ".join(f"{json.dumps(k)}: {v}" for k, v in pairs)
    toml = ", ".join(f"{json.dumps(k)} = {v}" for k, v in pairs)
    return Hostile(label, "{" + body + "}", "{" + toml + "}")


def _nested(label: str, opening: tuple[str, str], leaf: tuple[str, str], close: str) -> Hostile:
    """``opening`` (JSON, TOML) repeated NESTING times around ``leaf`` (JSON, TOML)."""
    return Hostile(
        label,
        opening[0] * NESTING + leaf[0] + close * NESTING,
        opening[1] * NESTING + leaf[1] + close * NESTING,
    )


_ENDPOINT = (
    '{"kind": "endpoint", "values": ["site"]}',
    '{"kind" = "endpoint", "values" = ["site"]}',
)


@functools.cache
def catalogue() -> tuple[Hostile, ...]:
    """About 50 values: wrong types, number and date limits, control characters, size, depth."""
    strings = [
        '""', '" "', '"\\n"', '"a\\nloyalty-engine: fake"', '"\\u001b[31mred"', '"\\u0000"',
        '"\\u007f\\u0085"', '"💥"', '"NaN"', '"Infinity"', '"-0"', '"-1"', '"1e5"', '"0.0000001"',
        '"99999999999999999999.99"', '"9999-12-31T23:59:59+00:00"', '"0001-01-01T00:00:00+00:00"',
        '"9999-12-31T23:59:59-12:00"', '"0001-01-01T00:00:00+14:00"', '"not a date"',
    ]  # fmt: skip
    return (
        Hostile("null", "null", None),
        *(_same(text, text) for text in ("true", "false", "0", "-1", "1.5", "-0.0")),
        *(_same(text, text) for text in ("1e999999999", "-1e-999999999")),
        _same("12345678901234567890123", "12345678901234567890123"),
        _same("2**63", str(2**63)),
        _same("5000-digit int", "9" * 5000),
        *(_same(text, text) for text in strings),
        _same('"x"*100000', '"' + "x" * MANY + '"'),
        _same('"\\ud800" (lone surrogate)', '"\\ud800"'),
        _same('"2026-01-01T00:00:00" (naive)', '"2026-01-01T00:00:00"'),
        *(_same(text, text) for text in ("[]", "{}", "[1e999999]", '["x"]')),
        Hostile("[null]", "[null]", None),
        _object('{"b": 5}', [("b", "5")]),
        _object('{"b": 1e999999999}', [("b", "1e999999999")]),
        _nested(f"list nested {NESTING} deep", ("[", "["), ("", ""), "]"),
        _nested(f"object nested {NESTING} deep", ('{"a": ', '{"a" = '), ("0", "0"), "}"),
        _same(f"{MANY} small strings", "[" + ", ".join(f'"s{i}"' for i in range(MANY)) + "]"),
        _object(f"object of {MANY_KEYS} keys", [(f"k{i}", str(i)) for i in range(MANY_KEYS)]),
        _nested(
            f"all-condition nested {NESTING} deep",
            ('{"kind": "all", "of": [', '{"kind" = "all", "of" = ['),
            _ENDPOINT,
            "]}",
        ),
        _nested(
            f"not-condition nested {NESTING} deep",
            ('{"kind": "not", "of": ', '{"kind" = "not", "of" = '),
            _ENDPOINT,
            "}",
        ),
    )


def key_catalogue() -> tuple[Hostile, ...]:
    """The string values that also make sense as object keys (renamed keys)."""
    wanted = {'""', '" "', '"\\n"', '"a\\nloyalty-engine: fake"', '"\\u001b[31mred"',
              '"\\u0000"', '"\\ud800" (lone surrogate)', '"💥"', '"x"*100000'}  # fmt: skip
    return tuple(h for h in catalogue() if h.label in wanted)


# --- documents ---------------------------------------------------------------------------------

Role = Literal["request", "member", "program", "state"]


@dataclass(frozen=True)
class Document:
    """One base document: an example file, in JSON or TOML form."""

    example: str  # seed_003, seed_004, showcase
    role: Role
    form: Literal["json", "toml"]
    data: dict[str, object]

    @property
    def file_name(self) -> str:
        return f"{self.role}.{self.form}"

    @property
    def name(self) -> str:
        return f"{self.example}/{self.file_name}"


def _iso(value: object) -> object:
    """tomllib's datetimes as ISO strings, for the JSON form of a TOML program."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    return value


def document(example: str, role: Role, form: Literal["json", "toml"]) -> Document:
    folder = EXAMPLES / example
    if role == "program":
        data: dict[str, object] = tomllib.loads((folder / "program.toml").read_text("utf-8"))
        if form == "json":
            converted = _iso(data)
            assert isinstance(converted, dict)
            data = converted
    else:
        data = json.loads((folder / f"{role}.json").read_text("utf-8"))
    return Document(example, role, form, data)


# --- the walker and the mutations --------------------------------------------------------------


def paths(data: object, prefix: DocPath = ()) -> Iterator[DocPath]:
    """Every path of a document: the root, every container, every key and list index."""
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from paths(value, (*prefix, index))


@dataclass(frozen=True)
class Mutation:
    """Put ``value`` at ``path``, remove the item at ``path``, or rename the key at ``path``."""

    path: DocPath
    kind: Literal["value", "remove", "key"]
    value: Hostile | None = None

    @property
    def label(self) -> str:
        where = render_path(self.path)
        if self.kind == "remove":
            return f"{where} removed"
        assert self.value is not None
        if self.kind == "key":
            return f"{where} key renamed to {self.value.label}"
        return f"{where} = {self.value.label}"

    def rendered_path(self) -> str:
        """The path the error should name (a renamed key appears under its new name)."""
        if self.kind == "key":
            assert self.value is not None
            try:
                key = json.loads(self.value.json)
            except ValueError:
                key = self.value.json
            return render_path((*self.path[:-1], key))
        return render_path(self.path)


def mutations(doc: Document) -> list[Mutation]:
    """Every mutation of a document: each path × each value, each removal, each key renamed."""
    values, keys = catalogue(), key_catalogue()
    out: list[Mutation] = []
    for path in paths(doc.data):
        out += [Mutation(path, "value", v) for v in values]
        if path:
            out.append(Mutation(path, "remove"))
        if path and isinstance(path[-1], str):
            out += [Mutation(path, "key", k) for k in keys]
    if doc.form == "toml":  # a TOML document is a table, and TOML has no null
        out = [m for m in out if m.path or m.kind != "value"]
        out = [m for m in out if m.value is None or m.value.toml is not None]
    return out


def shard(cases: list[T]) -> list[T]:
    """This process's share of a deep run split over processes (``LOYALTY_FUZZ_SHARD=k/n``)."""
    if not SHARD:
        return cases
    k, n = (int(part) for part in SHARD.split("/"))
    return cases[k - 1 :: n]


def sample(every: list[Mutation], salt: str) -> list[Mutation]:
    """The CI sample (deterministic): each value at one random path, then ``EXTRA`` random
    mutations of any kind (removals and renamed keys included)."""
    if DEEP:
        return shard(every)
    rng = random.Random(f"{SEED}:{salt}")
    by_value: dict[str, list[Mutation]] = {}
    for m in every:
        if m.value is not None and m.kind == "value":
            by_value.setdefault(m.value.label, []).append(m)
    chosen = {rng.choice(group) for group in by_value.values()}
    rest = [m for m in every if m not in chosen]
    chosen.update(rng.sample(rest, min(EXTRA, len(rest))))
    order = {m: i for i, m in enumerate(every)}
    return sorted(chosen, key=order.__getitem__)


def mutate(data: object, path: DocPath, kind: str, replacement: object = None) -> object:
    """A copy of ``data`` with the item at ``path`` replaced, removed or its key renamed.

    Only the containers along the path are copied (never the hostile value, which may be
    nested too deeply for ``copy.deepcopy``).
    """
    if not path:
        return replacement
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        out = dict(data)
        if rest:
            out[head] = mutate(data[head], rest, kind, replacement)  # type: ignore[index]
        elif kind == "remove":
            del out[head]  # type: ignore[arg-type]
        elif kind == "key":
            out = {(replacement if k == head else k): v for k, v in data.items()}
        else:
            out[head] = replacement  # type: ignore[index]
        return out
    assert isinstance(data, list) and isinstance(head, int)
    items = list(data)
    if rest:
        items[head] = mutate(data[head], rest, kind, replacement)
    elif kind == "remove":
        del items[head]
    else:
        items[head] = replacement
    return items


def text_of(doc: Document) -> str:
    """The unmutated document's text."""
    if doc.form == "json":
        return json.dumps(doc.data, ensure_ascii=False, indent=1)
    return toml_document(doc.data)


def render(doc: Document, m: Mutation) -> str | None:
    """The mutated document's text, or None when its language cannot say the value."""
    mutated = mutate(doc.data, m.path, m.kind, PLACEHOLDER)
    if doc.form == "json":
        text = json.dumps(mutated, ensure_ascii=False, indent=1)
        raw = m.value.json if m.value is not None else ""
    else:
        if not isinstance(mutated, dict) or (m.value is not None and m.value.toml is None):
            return None  # a TOML document is a table; TOML has no null
        text = toml_document(mutated)
        raw = m.value.toml or "" if m.value is not None else ""
    if m.kind == "remove":
        return text
    quoted = json.dumps(PLACEHOLDER)
    assert text.count(quoted) == 1
    return text.replace(quoted, raw)


# --- a tiny TOML emitter -----------------------------------------------------------------------


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F or 0xD800 <= ord(char) < 0xE000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return (
            "{ " + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
        )
    raise TypeError(f"TOML cannot say {type(value).__name__}")


def toml_document(data: Mapping[str, object]) -> str:
    """Top-level ``key = value`` lines; every table and array written inline."""
    return "".join(f"{toml_string(k)} = {toml_value(v)}\n" for k, v in data.items())


# --- bounds every case runs under --------------------------------------------------------------


class CaseTimeout(BaseException):
    """Raised by the watchdog; a BaseException so that no ``except Exception`` swallows it."""


class Sink:
    """A UTF-8 text stream that counts what it is given and keeps only the first ``limit`` bytes.

    It encodes strictly, as a UTF-8 terminal or pipe does, so unencodable output (a lone
    surrogate) fails here as it would for a real user.
    """

    encoding = "utf-8"

    def __init__(self, limit: int = OUTPUT_LIMIT) -> None:
        self.limit, self.size, self.parts = limit, 0, list[str]()

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        if self.size + len(data) <= self.limit:
            self.parts.append(text)
        self.size += len(data)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    @property
    def text(self) -> str:
        return "".join(self.parts)


def _address_space() -> int | None:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


@contextlib.contextmanager
def bounded(seconds: float = TIME_LIMIT, memory: int = MEMORY_HEADROOM) -> Iterator[None]:
    """Interrupt the case after ``seconds`` (``CaseTimeout``) and cap the memory it may add
    (``MemoryError``), where the platform allows; elsewhere the case just runs."""
    watchdog = (
        hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    )
    limits = None
    try:
        import resource

        used = _address_space()
        if used is not None:
            limits = resource.getrlimit(resource.RLIMIT_AS)
            hard = limits[1]
            cap = used + memory if hard == resource.RLIM_INFINITY else min(used + memory, hard)
            resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, ValueError, OSError):
        limits = None

    def expire(signum: int, frame: object) -> None:
        raise CaseTimeout(f"longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire) if watchdog else None
    if watchdog:
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        if watchdog:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        if limits is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, limits)


def describe(error: BaseException) -> str:
    """``Type: message`` and the last frame inside loyalty_engine (or the last frame at all)."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "/loyalty_engine/" in f.filename.replace(os.sep, "/")]
    frame = (ours or frames or [None])[-1]
    where = ""
    if frame is not None:
        short = frame.filename.replace(os.sep, "/").split("/loyalty_engine/")[-1]
        where = f" at {short}:{frame.lineno} in {frame.name}"
    try:
        message = str(error)
    except Exception as inner:  # a message that cannot be built is worth seeing too
        message = f"<str() raised {type(inner).__name__}>"
    if isinstance(error, MemoryError) and not message:
        message = f"more than {MEMORY_HEADROOM >> 20} MiB more memory"
    message = message.replace("\n", "\\n")
    if len(message) > 160:
        message = message[:157] + "..."
    return f"{type(error).__name__}: {message}{where}"


# --- collecting failures -----------------------------------------------------------------------


@dataclass
class Report:
    """Every failure of one test, so that a single run shows every hole; fails once at the end."""

    title: str
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)

    def fail(self, case: str, problem: str) -> None:
        self.failures.append(f"{case}: {problem}")

    def note(self, kind: str, text: str) -> None:
        self.notes.setdefault(kind, []).append(text)

    def summary(self, shown: int = 30) -> str:
        mode = "deep" if DEEP else f"sample (seed {SEED})"
        lines = [f"{self.title}: {self.cases} cases ({mode}), {len(self.failures)} failed"]
        lines += [f"  {f}" for f in self.failures[:shown]]
        if len(self.failures) > shown:
            lines.append(f"  ... and {len(self.failures) - shown} more")
        for kind, texts in sorted(self.notes.items()):
            lines.append(f"  note: {len(texts)} × {kind}; e.g. {texts[0]}")
        return "\n".join(lines)

    def check(self) -> None:
        if not self.failures:
            print("\n" + self.summary())  # the counts, visible with -s
        else:  # a deep run lists every failure, for the triage
            pytest.fail(self.summary(shown=len(self.failures) if DEEP else 30), pytrace=False)
