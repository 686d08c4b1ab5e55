"""Fuzz the command line: every path of every example document gets every hostile value.

The promise under test (docs/cli.md, "Exit status"): bad input exits with status 2 and one line on
stderr naming the field path and the bad value; good input exits 0 with valid output. Every case
is also bounded in time and in output size, so a hang or an amplification is a failure too.
``main`` runs in-process on files in a temporary directory; one test per base document collects
every failure and fails once with a summary. ``LOYALTY_FUZZ=deep`` runs every case.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
from hostile import (
    DEEP,
    EXAMPLES,
    MANY_KEYS,
    OUTPUT_LIMIT,
    TIME_LIMIT,
    Document,
    Mutation,
    Report,
    Sink,
    bounded,
    describe,
    document,
    mutations,
    render,
    sample,
    shard,
    text_of,
    toml_document,
)

from loyalty_engine.cli import main
from loyalty_engine.errors import render_path

NOW = "2026-06-01T12:00:00Z"
PREFIX = "loyalty-engine: error: "
AMPLIFICATION = 8  # output bytes allowed per input byte, beyond OUTPUT_LIMIT
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # what a terminal acts on

DOCUMENTS = [
    ("seed_003", "request", "json"),
    ("seed_003", "member", "json"),
    ("seed_003", "program", "toml"),
    ("seed_003", "program", "json"),
    ("showcase", "request", "json"),
    ("showcase", "member", "json"),
    ("showcase", "program", "toml"),
    ("showcase", "program", "json"),
    ("seed_004_lines", "request", "json"),
    ("seed_004_lines", "member", "json"),
    ("seed_004", "request", "json"),
    ("seed_004", "state", "json"),
    ("seed_004", "program", "toml"),
    ("seed_004", "program", "json"),
]


@dataclass
class Outcome:
    code: int | None
    out: Sink
    err: Sink
    error: BaseException | None
    seconds: float


def invoke(argv: list[str], limit: int = OUTPUT_LIMIT) -> Outcome:
    """``main(argv)`` in-process, bounded, with stdout and stderr captured."""
    out, err = Sink(limit), Sink(limit)
    code, error = None, None
    start = time.perf_counter()
    try:
        with bounded(), redirect_stdout(out), redirect_stderr(err):  # type: ignore[type-var]
            code = main(argv)
    except KeyboardInterrupt:
        raise
    except BaseException as escaped:  # SystemExit, timeouts, MemoryError: all findings
        error = escaped
    return Outcome(code, out, err, error, time.perf_counter() - start)


class Workspace:
    """The example's files in a temporary directory; the mutated one is rewritten per case."""

    def __init__(self, root: Path, example: str) -> None:
        self.root, self.example = root, example
        folder = EXAMPLES / example
        for name in ("request.json", "member.json", "program.toml", "state.json"):
            if (folder / name).exists():
                (root / name).write_bytes((folder / name).read_bytes())
        self.state = (folder / "state.json").read_bytes() if example == "seed_004" else b""

    def argv(self, command: str, program: str) -> list[str]:
        args = [command, str(self.root / "request.json"), "--program", str(self.root / program)]
        if command == "commit":
            return [*args, "--state", str(self.root / "state.json"), "--now", NOW]
        return [*args, "--member", str(self.root / "member.json"), "--now", NOW]

    def output_limit(self) -> int:
        """Output may echo the input (a 10,000-line order has a long answer), never amplify it."""
        size = sum(f.stat().st_size for f in self.root.iterdir() if f.is_file())
        return OUTPUT_LIMIT + AMPLIFICATION * size

    def commands(self) -> tuple[str, ...]:
        return ("commit",) if self.example == "seed_004" else ("preorder", "explain")

    def prepare(self, doc: Document, text: str) -> str:
        """Write the mutated document (and a fresh state); return the program file's name."""
        (self.root / doc.file_name).write_text(text, encoding="utf-8")
        if self.state:
            (self.root / "state.json").write_bytes(self.state)
        return doc.file_name if doc.role == "program" else "program.toml"


def naming(err: str, doc: Document, m: Mutation) -> str:
    """What the error line names: ``path`` (the mutated path or deeper), ``file`` (its name),
    ``document`` (``<root>``), ``ancestor``, ``elsewhere: <path>`` (another location of the
    document), or ``unnamed``."""
    message = err[len(PREFIX) :].rstrip("\n")
    named = {m.rendered_path(), render_path(m.path)}  # a renamed key may be missed by its old name
    if any(p in message or _escaped(p) in message for p in named):
        return "path"
    starts = _error_starts(message)
    if any(message.startswith(doc.file_name + ":", i) for i in starts):
        return "file"
    if not m.path or any(message.startswith("<root>:", i) for i in starts):
        return "document"  # the whole document replaced, or refused as a whole
    for k in range(len(m.path) - 1, 0, -1):
        if any(message.startswith(render_path(m.path[:k]) + ":", i) for i in starts):
            return "ancestor"
    for i in starts:
        token = message[i : i + 400].split(": ", 1)[0]
        first = re.split(r"[.\[]", token.removeprefix("--member."), maxsplit=1)[0]
        if first in doc.data or token.startswith("--"):
            return f"elsewhere: {token[:60]}"
    return "unnamed"


def _escaped(text: str) -> str:
    """``text`` as the CLI prints it: what is not printable, escaped as in a repr."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _error_starts(message: str, most: int = 1000) -> list[int]:
    """Where each of the (first ``most``) errors joined by "; " begins."""
    out, i = [0], message.find("; ")
    while i >= 0 and len(out) < most:
        out.append(i + 2)
        i = message.find("; ", i + 2)
    return out


def judge(command: str, o: Outcome, doc: Document, m: Mutation, report: Report) -> list[str]:
    """The problems with one outcome; an empty list when the CLI kept its promise."""
    if o.error is not None:
        return [describe(o.error)]
    problems = []
    if o.seconds > TIME_LIMIT:
        problems.append(f"took {o.seconds:.1f} s")
    if o.out.size + o.err.size > o.out.limit:
        problems.append(f"printed {o.out.size + o.err.size:,} bytes (bound {o.out.limit:,})")
    err, out = o.err.text, o.out.text
    if o.code == 2:
        if o.out.size:
            problems.append("exit 2 with output on stdout")
        if not err.startswith(PREFIX):
            problems.append(f"stderr does not start with {PREFIX!r}: {err[:100]!r}")
        if err.count("\n") != 1 or not err.endswith("\n"):
            problems.append(f"stderr is {err.count(chr(10))} lines: {err[:150]!r}")
        if CONTROL.search(err):
            problems.append(f"control character in stderr: {err[:150]!r}")
        named = naming(err, doc, m)
        if named == "unnamed":
            problems.append(f"does not name {m.rendered_path()!r}: {err[:150]!r}")
        elif named.startswith("elsewhere"):
            report.note("names another path", f"{doc.name} {m.label} → {named}")
        elif named in ("file", "document"):
            report.note(f"names the {named}", f"{doc.name} {m.label} → {err[:100]!r}")
    elif o.code == 0:
        if o.err.size:
            problems.append(f"exit 0 with stderr {err[:100]!r}")
        if command == "explain":
            if CONTROL.search(out) or re.search("^loyalty-engine:", out, re.M):
                problems.append(f"control character or fake message in the table: {out[:100]!r}")
        elif o.out.size <= o.out.limit:
            try:
                json.loads(out)
            except ValueError as error:
                problems.append(f"stdout is not JSON: {error}")
    else:
        problems.append(f"exit {o.code}")
    return problems


def run_case(ws: Workspace, doc: Document, m: Mutation, report: Report, turn: int) -> None:
    """One mutation through every command (deep), or through one of them in turn (sample)."""
    text = render(doc, m)
    assert text is not None
    program = ws.prepare(doc, text)
    commands = ws.commands()
    for command in commands if DEEP else commands[turn % len(commands) :][:1]:
        argv = ws.argv(command, program)
        outcome = invoke(argv, ws.output_limit())
        problems = judge(command, outcome, doc, m, report)
        if not problems and command == "commit" and outcome.code == 0:
            problems = _replays(argv, outcome)
        for problem in problems:
            report.fail(f"{doc.name} {command} {m.label}", problem)


def _replays(argv: list[str], first: Outcome) -> list[str]:
    """A successful commit wrote the state; committing again must read it back and replay."""
    data = json.loads(first.out.text).get("data", {})
    if data.get("status") != "success":
        return []
    again = invoke(argv, first.out.limit)
    if again.error is not None:
        return [f"replay: {describe(again.error)}"]
    if again.code != 0:
        return [f"replay exits {again.code}: {again.err.text[:150]!r}"]
    target = json.loads(again.out.text).get("data", {}).get("processing_target")
    return [] if target == "processed" else [f"replay answered {target!r}"]


@pytest.mark.parametrize(
    ("example", "role", "form"), DOCUMENTS, ids=["/".join(d) for d in DOCUMENTS]
)
def test_every_path_of_every_document(example: str, role: str, form: str, tmp_path: Path) -> None:
    """Each mutation: exit 0 with valid output, or exit 2 with one line naming the path."""
    doc = document(example, role, form)  # type: ignore[arg-type]
    ws = Workspace(tmp_path, example)
    for command in ws.commands():  # the unmutated document must succeed
        ok = invoke(ws.argv(command, ws.prepare(doc, text_of(doc))))
        assert ok.code == 0 and ok.error is None, (ok.err.text, ok.error)
    report = Report(f"CLI fuzz {doc.name}")
    start = time.perf_counter()
    for turn, m in enumerate(sample(mutations(doc), doc.name)):
        report.cases += 1
        run_case(ws, doc, m, report, turn)
    report.title += f" in {time.perf_counter() - start:.1f} s"
    report.check()


# --- whole documents of hostile shape ----------------------------------------------------------


PROMOTIONS = 5000 if DEEP else 1000


def _seed(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((EXAMPLES / "seed_003" / name).read_text("utf-8"))
    return data


def _program_with_group_chain(depth: int) -> dict[str, object]:
    """Groups nested ``depth`` deep through ``parent``, a promotion in the innermost one."""
    groups = [{"id": "g0"}] + [{"id": f"g{i}", "parent": f"g{i - 1}"} for i in range(1, depth)]
    promotion = {"external_id": "deep", "type": "discount", "group": f"g{depth - 1}",
                 "benefit": {"kind": "percent", "percent": "1"}}  # fmt: skip
    return {
        "currencies": [{"eid": "bonus1", "iid": 1}],
        "groups": groups,
        "promotions": [promotion],
    }


def _program_with_promotions(count: int) -> dict[str, object]:
    promotions = [
        {"external_id": f"p{i}", "type": "discount", "benefit": {"kind": "percent", "percent": "1"}}
        for i in range(count)
    ]
    return {"currencies": [{"eid": "bonus1", "iid": 1}], "promotions": promotions}


def _request_with_lines(count: int, price: str, items: int) -> dict[str, object]:
    request = _seed("request.json")
    data = request["data"]
    assert isinstance(data, dict)
    del data["total_price"]
    data["lines"] = [
        {"external_id": f"l{i}", "product": "p", "count": items, "base_price_per_item": price}
        for i in range(count)
    ]
    return request


def _request_with(key: str, items: list[object]) -> dict[str, object]:
    request = _seed("request.json")
    data = request["data"]
    assert isinstance(data, dict)
    data[key] = items
    return request


SHAPES: dict[str, Callable[[], dict[str, dict[str, object] | str]]] = {
    "groups nested 1000 deep (toml)": lambda: {
        "program.toml": toml_document(_program_with_group_chain(1000))
    },
    "groups nested 1000 deep (json)": lambda: {"program.json": _program_with_group_chain(1000)},
    f"{PROMOTIONS} stacked promotions": lambda: {
        "program.json": _program_with_promotions(PROMOTIONS)
    },
    "10,000 lines": lambda: {"request.json": _request_with_lines(10_000, "1.00", 1)},
    "10,001 lines": lambda: {"request.json": _request_with_lines(10_001, "1.00", 1)},
    "10,000 lines of 1,000,000 × 99999.99 (just below 10^15)": lambda: {
        "request.json": _request_with_lines(10_000, "99999.99", 1_000_000)
    },
    "10,000 lines of 1,000,000 × 100000.00 (10^15)": lambda: {
        "request.json": _request_with_lines(10_000, "100000.00", 1_000_000)
    },
    "10,000 promo codes": lambda: {
        "request.json": _request_with("promocodes", [{"code": f"C{i}"} for i in range(10_000)])
    },
    "10,000 redeem requests of one currency": lambda: {
        "request.json": _request_with(
            "redeem_points", [{"points_currency_iid": 1, "amount": 1}] * 10_000
        )
    },
    "request over 10 MB": lambda: {
        "request.json": {**_seed("request.json"), "pad": "x" * 11_000_000}
    },
    "program over 5 MB": lambda: {
        "program.json": {**_program_with_promotions(1), "pad": "x" * 6_000_000}
    },
    f"member with {MANY_KEYS} balances": lambda: {
        "member.json": {
            "profile_id": "p",
            "balances": {f"c{i}": {"active": "1"} for i in range(MANY_KEYS)},
        }
    },
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_documents_of_hostile_shape(shape: str, tmp_path: Path) -> None:
    """Size and depth spread over a whole document, which no single value reaches."""
    if not shard([shape]):
        pytest.skip("run by the first shard")
    ws = Workspace(tmp_path, "seed_003")
    program = "program.toml"
    for name, content in SHAPES[shape]().items():
        text = content if isinstance(content, str) else json.dumps(content)
        (tmp_path / name).write_text(text, encoding="utf-8")
        if name.startswith("program"):
            program = name
    doc = Document("seed_003", "request", "json", {"data": {}})
    m = Mutation((), "remove")
    report = Report(f"CLI shape {shape!r}")
    for command in ws.commands() if DEEP else ws.commands()[:1]:
        report.cases += 1
        outcome = invoke(ws.argv(command, program), ws.output_limit())
        for problem in judge(command, outcome, doc, m, report):
            if not problem.startswith("does not name"):  # no single path to name here
                report.fail(f"{shape} {command}", problem)
    report.check()
