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
import sys
from collections.abc import Sequence

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
    rows = [("type", "promotion", "name", "outcome", "detail")]
    rows += [(t.type, t.external_id, t.name, t.reason.value, t.detail) for t in result.trace]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[4]])
             for row in rows]  # fmt: skip
    lines.insert(1, "  ".join([*("-" * w for w in widths), "------"]))
    currency = result.order.currency
    lines.append("")
    lines.append(f"total {result.total_price} {currency} → final {result.final_total_price} "
                 f"{currency} (delivery {result.delivery_cost})")  # fmt: skip
    for s in result.points:
        lines.append(f"points {s.currency.eid}: {s.status.value}, accrued {s.accrued}, "
                     f"redeemed {s.redeemed}" + (f" ({s.reason})" if s.reason else ""))  # fmt: skip
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "commit":
            print(json.dumps(_commit(args), indent=2, ensure_ascii=False))
            return 0
        request, member, result = _run(args)
    except ValidationErrors as errors:
        print(f"{PROG}: error: " + "; ".join(str(e) for e in errors.errors), file=sys.stderr)
        return 2
    except LoyaltyError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    if args.command == "explain":
        print(_table(result))
        return 0
    profile = request.profile_id or (member.profile_id if member else None)
    response = render_preorder_response(result, profile_id=profile)
    print(json.dumps(response, indent=2, ensure_ascii=False))
    return 0
