"""``loyalty-engine``: preorder calculation and order commit from the command line.

The clock is never read: the time comes from ``--now`` or the request's ``data.create_time``.
Bad input exits with status 2 and one line on stderr naming the field path and the bad value.
``commit`` keeps members, code pools and committed orders in a JSON state file, written
atomically; an ``outdated`` commit leaves it untouched.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

import attrs

from .altcraft.commit import parse_commit_request, render_commit_response
from .altcraft.preorder import PreorderRequest, parse_preorder_request, render_preorder_response
from .altcraft.wire import read_json_file
from .commit import CommitStatus, commit
from .documents import load_member
from .engine import calculate
from .errors import LoyaltyError, ValidationError, ValidationErrors
from .model import Member
from .program import Program, load_program
from .result import CalculatedOrder
from .state import load_state, save_state
from .validators import instant

PROG = "loyalty-engine"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("preorder", "print the Altcraft preorder response JSON"),
        ("explain", "print why each promotion applied or not, as a table"),
    ):
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument("request", help="preorder request JSON (seed 003 shape)")
        command.add_argument("--program", required=True, help="program TOML or JSON")
        command.add_argument("--member", help="member JSON; without it the customer is a guest")
        command.add_argument("--now", help="calculation time, ISO-8601 with offset")
    text = "confirm an order (preorder_commit): print the response, update the state file"
    command = commands.add_parser("commit", help=text, description=text)
    command.add_argument("request", help="preorder_commit request JSON (seed 004 shape)")
    command.add_argument("--program", required=True, help="program TOML or JSON")
    command.add_argument("--state", required=True, help="state JSON (created if missing)")
    command.add_argument("--now", help="commit time, ISO-8601 with offset")
    return parser


def _now(args: argparse.Namespace, default: dt.datetime | None) -> dt.datetime:
    now = default
    if args.now is not None:
        try:
            now = dt.datetime.fromisoformat(args.now)
        except ValueError:
            raise ValidationError(("--now",), args.now, "must be ISO-8601") from None
    if now is None:
        raise ValidationError(("--now",), None, "required when the request has no create_time")
    try:
        return instant(now, ())
    except ValidationError as error:
        raise ValidationError(("--now",), args.now, error.reason) from None


def _commit(args: argparse.Namespace) -> dict[str, object]:
    program = load_program(args.program)
    request = parse_commit_request(read_json_file(args.request))
    now = _now(args, request.order.create_time)
    state = load_state(args.state, program)
    stored = state.orders.get(request.external_id)
    if stored is not None:  # a replay: the stored answer, and nothing else happens
        data = stored.get("data")
        assert isinstance(data, dict)
        return {**stored, "data": {**data, "processing_target": "processed"}}
    membership = state.members.get(request.profile_id) if request.profile_id else None
    result = commit(program, request.order, request.requested, membership=membership, now=now,
                    pools=state.pools)  # fmt: skip
    response = render_commit_response(result)
    if result.status is CommitStatus.SUCCESS:
        members = dict(state.members)
        if result.membership is not None:
            members[result.membership.profile_id] = result.membership
        orders = {**state.orders, request.external_id: response}
        save_state(args.state, attrs.evolve(state, members=members, pools=result.pools,
                                            orders=orders))  # fmt: skip
    return response


def _preorder(args: argparse.Namespace) -> dict[str, object]:
    request, member, result = _run(args)
    profile = request.profile_id or (member.profile_id if member else None)
    return render_preorder_response(result, profile_id=profile)


def _explain(args: argparse.Namespace) -> str:
    return _table(_run(args)[2])


def _run(args: argparse.Namespace) -> tuple[PreorderRequest, Member | None, CalculatedOrder]:
    program: Program = load_program(args.program)
    request = parse_preorder_request(read_json_file(args.request))
    member = load_member(args.member) if args.member else None
    if member and request.profile_id and member.profile_id != request.profile_id:
        raise ValidationError(
            ("--member", "profile_id"), member.profile_id, f"request is for {request.profile_id}"
        )
    now = _now(args, request.order.create_time)
    return request, member, calculate(program, request.order, member, now=now)


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


# Each command returns its output: a JSON document, or text.
_COMMANDS: dict[str, Callable[[argparse.Namespace], dict[str, object] | str]] = {
    "preorder": _preorder,
    "explain": _explain,
    "commit": _commit,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        out = _COMMANDS[args.command](args)
    except ValidationErrors as errors:
        return _fail("; ".join(str(e) for e in errors.errors))
    except LoyaltyError as error:
        return _fail(str(error))
    if not isinstance(out, str):  # JSON escapes what a non-Unicode stdout cannot show
        unicode = (sys.stdout.encoding or "utf-8").lower().replace("-", "").startswith("utf")
        out = json.dumps(out, indent=2, ensure_ascii=not unicode)
    try:
        _write(sys.stdout, out)
    except BrokenPipeError:  # the reader went away (`| head`): no traceback, as the docs advise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


def _fail(message: str) -> int:
    _write(sys.stderr, f"{PROG}: error: {_printable(message)}")
    return 2
