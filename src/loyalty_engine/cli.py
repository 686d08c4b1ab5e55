"""``loyalty-engine``: preorder calculation, order commit, the store and the Loyalty API.

Time: ``--now`` when given; otherwise a preorder is calculated at the request's
``data.create_time`` and a commit is dated by the clock (promotions are judged at the order's
``create_time`` either way). Bad input exits with status 2 and one line on stderr naming the
field path and the bad value; so do a member not found and a conflict. The member comes from
the store (``--db`` SQLite or ``--state`` JSON), the same for preorder and commit, or for a
quick stateless preorder from ``--member MEMBER.json``. A file argument ``-`` reads stdin.

Exit status: 0 done; 1 an error response of ``api``, or problems found by ``db check``; 2
unusable input (the one line on stderr says why); 141 the reader of stdout went away.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from . import __version__
from .altcraft.api import Reply, commit_response, respond
from .altcraft.codes import Code
from .altcraft.preorder import PreorderRequest, parse_preorder_request, render_preorder_response
from .altcraft.wire import MAX_BYTES, read_json, read_json_file
from .documents import load_member
from .engine import calculate
from .errors import LoyaltyError, ValidationError, ValidationErrors
from .model import Member
from .pools import CodePool
from .program import Program, load_program
from .result import CalculatedOrder
from .store import (
    MAX_STATE_BYTES,
    SCHEMA,
    SCHEMA_VERSION,
    Effects,
    JsonFileStore,
    SqliteStore,
    Store,
    to_document,
)
from .store.service import member_at
from .store.transfer import check, import_document
from .validators import instant

PROG = "loyalty-engine"
BROKEN_PIPE = 141  # as a shell reports a process killed by SIGPIPE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("preorder", "print the Altcraft preorder response JSON"),
        ("explain", "print why each promotion applied or not, as a table"),
    ):
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument("request", help="preorder request JSON (seed 003 shape)")
        command.add_argument("--program", required=True, help="program TOML or JSON")
        where = command.add_mutually_exclusive_group()
        where.add_argument("--member", help="member JSON, for a stateless preorder")
        _store_options(where)
        command.add_argument("--now", help="calculation time, ISO-8601 with offset")
    text = "confirm an order (preorder_commit): print the response, update the store"
    command = commands.add_parser("commit", help=text, description=text)
    command.add_argument("request", help="preorder_commit request JSON (seed 004 shape)")
    command.add_argument("--program", required=True, help="program TOML or JSON")
    _store_options(command.add_mutually_exclusive_group(required=True))
    command.add_argument("--now", help="commit time, ISO-8601 with offset (default: the clock)")
    text = "call a Loyalty API method: the request body on stdin, the response on stdout"
    command = commands.add_parser("api", help=text, description=text)
    command.add_argument("method", help="e.g. balance, accrue_points, preorder_commit")
    command.add_argument("request", nargs="?", default="-", help="request file (default: stdin)")
    command.add_argument("--program", required=True, help="program TOML or JSON")
    _store_options(command.add_mutually_exclusive_group(required=True))
    command.add_argument("--format", choices=("json", "xml"), default="json")
    command.add_argument("--now", help="the call's time, ISO-8601 (default: the clock)")
    command.add_argument("--exports", help="where transactions_export writes (default: "
                         "beside the store, STORE.exports/)")  # fmt: skip
    text = "serve the Loyalty API over HTTP (pip install 'loyalty_engine[http]')"
    command = commands.add_parser("serve", help=text, description=text)
    command.add_argument("--program", required=True, help="program TOML or JSON")
    _store_options(command.add_mutually_exclusive_group(required=True))
    command.add_argument("--host", default="127.0.0.1")
    command.add_argument("--port", type=int, default=8080)
    command.add_argument("--tokens", required=True, help="file of accepted tokens, one a line")
    command.add_argument("--exports", help="where transactions_export writes")
    command.add_argument("--max-body", type=int, default=MAX_BYTES, help="bytes (default 10 MiB)")
    text = "replay order history under several programs and compare them (docs/recipes/whatif.md)"
    command = commands.add_parser("whatif", help=text, description=text)
    command.add_argument("history", help="JSON Lines of preorder requests (- for stdin)")
    command.add_argument(
        "--program",
        action="append",
        required=True,
        help="program TOML or JSON; repeat; the first is the baseline",
    )
    command.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes (default: one a CPU; 1 runs in this one)",
    )
    command.add_argument(
        "--scheduler",
        help="a Dask scheduler's address: run on its cluster (pip install 'loyalty_engine[dask]')",
    )
    command.add_argument("--chunk-size", type=int, default=500, help="orders a task")
    command.add_argument(
        "--on-error",
        choices=("skip", "fail"),
        default="skip",
        help="a bad line: report it and go on (default), or stop",
    )
    command.add_argument("--out", help="write the report JSON here")
    command.add_argument("--diff", help="write the orders the programs disagree on (JSONL)")
    command.add_argument("--html", help="write the HTML report here (the [whatif] extra)")
    command.add_argument("--now", help="for orders without create_time (default: the clock)")
    shown = command.add_mutually_exclusive_group()
    shown.add_argument(
        "--progress",
        action="store_true",
        default=None,
        help="show progress even when stderr is not a terminal",
    )
    shown.add_argument("--no-progress", dest="progress", action="store_false")
    text = "write synthetic order history (JSON Lines) for demos, tests and benchmarks"
    command = commands.add_parser("sample-history", help=text, description=text)
    command.add_argument("--orders", type=int, required=True)
    command.add_argument("--seed", type=int, default=1)
    command.add_argument("--out", default="-", help="the file (default: stdout)")
    text = "the store: create it, load members and pools, export it, check every account"
    db = commands.add_parser("db", help=text, description=text)
    jobs = db.add_subparsers(dest="job", required=True)
    for job, text, program in (
        ("init", "create the database (or migrate it to this version's schema)", False),
        ("import", "load members and code pools (import file or state file)", True),
        ("export", "print the whole store in the state-file format", False),
        ("check", "replay every account; exit 1 naming each row that does not replay", True),
    ):
        command = jobs.add_parser(job, help=text, description=text)
        if job == "import":
            command.add_argument("file", help="import JSON (examples/import.json) or a state file")
        if program:
            command.add_argument("--program", required=True, help="program TOML or JSON")
        _store_options(command.add_mutually_exclusive_group(required=True))
        if job == "import":
            command.add_argument("--now", help="import time, ISO-8601 (default: the clock)")
    return parser


def _store_options(group: argparse._MutuallyExclusiveGroup) -> None:
    group.add_argument("--db", help="SQLite store (created if missing)")
    group.add_argument("--state", help="JSON state file (created if missing)")


def _store(args: argparse.Namespace) -> Store | None:
    if getattr(args, "db", None):
        return SqliteStore(args.db)
    if getattr(args, "state", None):
        return JsonFileStore(args.state)
    return None


def _clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _now(args: argparse.Namespace, default: dt.datetime | None) -> dt.datetime:
    if args.now is None:
        return default if default is not None else _clock()
    try:
        return instant(dt.datetime.fromisoformat(args.now), ())
    except ValueError:
        raise ValidationError(("--now",), args.now, "must be ISO-8601 with an offset") from None
    except ValidationError as error:
        raise ValidationError(("--now",), args.now, error.reason) from None


def _commit(args: argparse.Namespace) -> dict[str, object]:
    program = load_program(args.program)
    request = _read(args.request)
    now = _now(args, None) if args.now is not None else _clock
    store = _store(args)
    assert store is not None
    try:
        return dict(commit_response(store, program, request, now))
    finally:
        store.close()


def _read(path: str, limit: int = MAX_BYTES) -> object:
    """A JSON document from a file, or from stdin for ``-``."""
    if path == "-":
        return read_json(sys.stdin.buffer.read(limit + 1), source="stdin", limit=limit)
    return read_json_file(path, limit=limit)


def _exports(args: argparse.Namespace) -> Path:
    if args.exports:
        return Path(args.exports)
    return Path(f"{args.db or args.state}.exports")


def _api(args: argparse.Namespace) -> _Reply:
    program = load_program(args.program)
    now = _now(args, None) if args.now is not None else _clock
    body = sys.stdin.buffer.read(MAX_BYTES + 1) if args.request == "-" else _file(args.request)
    store = _store(args)
    assert store is not None
    try:
        answer = respond(args.method, body, args.format, store=store, program=program, now=now,
                         exports=_exports(args))  # fmt: skip
    finally:
        store.close()
    return _Reply(answer)


def _file(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read(MAX_BYTES + 1)
    except (OSError, ValueError) as error:
        raise ValidationError((path,), path, f"cannot read: {error}") from None


def _serve(args: argparse.Namespace) -> str:
    try:
        import uvicorn

        from .server import create_app, read_tokens
    except ImportError:
        raise ValidationError(("serve",), "uvicorn", "needs the [http] extra: pip install "
                              "'loyalty_engine[http]'") from None  # fmt: skip
    program = load_program(args.program)
    try:
        tokens = read_tokens(args.tokens)
    except (OSError, UnicodeDecodeError) as error:
        raise ValidationError(("--tokens",), args.tokens, f"cannot read: {error}") from None
    if not tokens:
        raise ValidationError(("--tokens",), args.tokens, "holds no token")
    store = _store(args)
    assert store is not None
    try:
        app = create_app(store, program, tokens=tokens, exports=_exports(args),
                         limit=args.max_body)  # fmt: skip
        uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False)
    finally:
        store.close()
    return "stopped"


def _whatif(args: argparse.Namespace) -> str:
    from .whatif import job

    return job.run(args.history, args.program, now=_now(args, None), jobs=args.jobs,
                   scheduler=args.scheduler, chunk_size=args.chunk_size, on_error=args.on_error,
                   out=args.out, diff=args.diff, html=args.html,
                   progress=args.progress)  # fmt: skip


def _sample_history(args: argparse.Namespace) -> str:
    from .whatif.job import output
    from .whatif.sample import write_history

    if args.orders < 0:
        raise ValidationError(("--orders",), args.orders, "must be 0 or more")
    if args.out == "-":
        written = write_history(sys.stdout, args.orders, seed=args.seed)
    else:
        with output(args.out) as file:
            assert file is not None
            written = write_history(file, args.orders, seed=args.seed)
    return "" if args.out == "-" else f"{written} orders written to {args.out}"


class _Reply:
    """An ``api`` answer: printed as it is, exit 1 for an error response, 2 unusable input."""

    def __init__(self, answer: Reply) -> None:
        self.answer = answer

    @property
    def status(self) -> int:
        if self.answer.code == 0:
            return 0
        return 2 if self.answer.code in _UNUSABLE else 1


def _preorder(args: argparse.Namespace) -> dict[str, object]:
    request, member, result = _run(args)
    profile = member.profile_id if member else request.profile_id
    return render_preorder_response(result, profile_id=profile)


def _explain(args: argparse.Namespace) -> str:
    return _table(_run(args)[2])


def _run(args: argparse.Namespace) -> tuple[PreorderRequest, Member | None, CalculatedOrder]:
    program: Program = load_program(args.program)
    request = parse_preorder_request(_read(args.request))
    now = _now(args, request.order.create_time)
    member: Member | None = None
    pools: tuple[CodePool, ...] = ()
    store = _store(args)
    if store is not None:
        try:
            member = member_at(store, program, request.match, now)
            pools = store.pools()
        finally:
            store.close()
    elif args.member:
        member = load_member(args.member)
        if request.profile_id and member.profile_id != request.profile_id:
            raise ValidationError(
                ("--member", "profile_id"),
                member.profile_id,
                f"request is for {request.profile_id}",
            )
    return request, member, calculate(program, request.order, member, now=now, pools=pools)


def _db(args: argparse.Namespace) -> dict[str, object] | str:
    store = _store(args)
    assert store is not None
    try:
        if args.job == "init":
            if isinstance(store, JsonFileStore):
                store.apply(Effects())  # writes the empty document when there is none
            version = SCHEMA_VERSION if isinstance(store, SqliteStore) else SCHEMA
            return {"store": os.fspath(args.db or args.state), "schema_version": version}
        if args.job == "export":
            return to_document(store)
        program = load_program(args.program)
        if args.job == "import":
            done = import_document(store, program, _read(args.file, limit=MAX_STATE_BYTES),
                                   now=_now(args, None))  # fmt: skip
            return {"members": done.members, "skipped": list(done.skipped), "pools": done.pools,
                    "orders": done.orders}  # fmt: skip
        problems = check(store, program)
        if problems:
            raise _Problems(problems)
        return f"ok: {sum(1 for _ in store.profiles())} member(s), every account replays"
    finally:
        store.close()


def _schema(store: Store) -> int:
    from .store.document import SCHEMA
    from .store.sqlite import SCHEMA_VERSION

    return SCHEMA_VERSION if isinstance(store, SqliteStore) else SCHEMA


class _Problems(Exception):
    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = problems


def _table(result: CalculatedOrder) -> str:
    rows = [["type", "promotion", "name", "outcome", "detail"]]
    rows += [[t.type, t.external_id, t.name, t.reason.value, t.detail] for t in result.trace]
    rows = [[_printable(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[4]])
             for row in rows]  # fmt: skip
    lines.insert(1, "  ".join([*("-" * w for w in widths), "------"]))
    currency = result.order.currency
    lines.append("")
    lines.append(f"total {result.total_price} {currency} → final {result.final_total_price} "
                 f"{currency} (delivery {result.delivery_cost})")  # fmt: skip
    for s in result.points:
        reason = f" ({s.reason})" if s.reason else ""
        line = f"points {s.currency.eid}: {s.status.value}, accrued {s.accrued}, "
        lines.append(_printable(f"{line}redeemed {s.redeemed}{reason}"))
    return "\n".join(lines)


def _printable(text: str) -> str:
    """One line and no terminal control: a newline or an escape in an id is shown escaped."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _write(stream: TextIO, text: str) -> None:
    """``text`` and a newline, in any encoding the stream has (what it lacks, escaped)."""
    encoding = stream.encoding or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        text = text.encode(encoding, "backslashreplace").decode(encoding)
    stream.write(text + "\n")
    stream.flush()


# Each command returns its output: a JSON document, text, or an API reply.
_COMMANDS: dict[str, Callable[[argparse.Namespace], dict[str, object] | str | _Reply]] = {
    "preorder": _preorder,
    "explain": _explain,
    "commit": _commit,
    "db": _db,
    "api": _api,
    "serve": _serve,
    "whatif": _whatif,
    "sample-history": _sample_history,
}
_UNUSABLE = {Code.INVALID_REQUEST, Code.UNKNOWN_METHOD, Code.BODY_TOO_LARGE}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        out = _COMMANDS[args.command](args)
    except ValidationErrors as errors:
        return _fail("; ".join(str(e) for e in errors.errors))
    except LoyaltyError as error:
        return _fail(str(error))
    except _Problems as found:  # db check: every problem, one line each, then exit 1
        for problem in found.problems:
            _write(sys.stderr, f"{PROG}: {_printable(problem)}")
        return 1
    status = 0
    try:
        if isinstance(out, _Reply):  # the API's bytes, as the server would send them
            sys.stdout.flush()
            sys.stdout.buffer.write(out.answer.body + b"\n")
            sys.stdout.flush()
            return out.status
        if not isinstance(out, str):  # JSON escapes what a non-Unicode stdout cannot show
            unicode = (sys.stdout.encoding or "utf-8").lower().replace("-", "").startswith("utf")
            out = json.dumps(out, indent=2, ensure_ascii=not unicode)
        if out:  # sample-history to stdout has written its lines itself
            _write(sys.stdout, out)
    except BrokenPipeError:  # the reader went away (`| head`): no traceback, as the docs advise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE
    return status


def _fail(message: str) -> int:
    _write(sys.stderr, f"{PROG}: error: {_printable(message)}")
    return 2
