"""Where a wire request becomes a core call and a store transaction: ``handle`` and ``respond``.

``handle(method, request, store, program, now)`` takes a decoded request document and returns
the response document, an error response for any refusal (never a traceback). ``respond``
does the same for raw bytes in JSON or XML, with the token check and the size limit: the CLI's
``api`` and the HTTP server are thin layers over it. Writes go through the store's service
loop, so a conflict with another writer is retried, never overwritten.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Literal

import attrs

from ..commit import CommitStatus
from ..engine import calculate
from ..errors import LoyaltyError, StoreError, ValidationError
from ..program.program import Program
from ..store.protocol import Store
from ..store.service import Clock, commit_order, member_at
from . import shapes
from .accounts import METHODS as ACCOUNT_METHODS
from .accounts import Context, Method
from .codes import ApiError, Code, error_response, internal_error
from .commit import parse_commit_request, render_commit_response
from .preorder import parse_preorder_request, render_preorder_response
from .wire import MAX_BYTES, Reader, as_sent, read_json
from .xml import read_xml, write_xml

Format = Literal["json", "xml"]
ALIASES = {"redeem_points": "redeeme_points"}  # the contract spells it "redeeme"
CONTENT_TYPES: dict[Format, str] = {"json": "application/json", "xml": "application/xml"}


def _preorder(ctx: Context, top: Reader) -> dict[str, object]:
    request = parse_preorder_request(top.data)
    member = member_at(ctx.store, ctx.program, request.match, ctx.now)
    result = calculate(ctx.program, request.order, member, now=ctx.now, pools=ctx.store.pools())
    profile = member.profile_id if member is not None else request.profile_id
    return render_preorder_response(result, profile_id=profile)


def commit_response(
    store: Store, program: Program, request: object, now: Clock
) -> Mapping[str, object]:
    """preorder_commit: commit (or replay) and answer; a replay says ``processed``."""
    parsed = parse_commit_request(request)
    done = commit_order(store, program, parsed.order, parsed.requested, match=parsed.match,
                        now=now, render=render_commit_response)  # fmt: skip
    if done.result is not None:
        return done.response
    data = done.response.get("data")
    if not isinstance(data, dict) or data.get("status") != CommitStatus.SUCCESS.value:
        raise StoreError(f"order {parsed.external_id!r} was stored without its response")
    return {**done.response, "data": {**data, "processing_target": "processed"}}


def _commit(ctx: Context, top: Reader) -> dict[str, object]:
    return dict(commit_response(ctx.store, ctx.program, top.data, ctx.now))


METHODS: dict[str, Method] = {"preorder": _preorder, "preorder_commit": _commit,
                              **ACCOUNT_METHODS}  # fmt: skip


def method_name(method: str) -> str:
    """The method as the tables know it (``redeem_points`` → ``redeeme_points``)."""
    name = ALIASES.get(method, method)
    if name not in METHODS:
        known = ", ".join(sorted(METHODS))
        raise ApiError(Code.UNKNOWN_METHOD, f"unknown method {method!r}; known: {known}")
    return name


def handle(
    method: str,
    request: object,
    store: Store,
    program: Program,
    now: dt.datetime | Callable[[], dt.datetime],
    *,
    exports: Path | None = None,
) -> dict[str, object]:
    """Run one API call on ``store``; every refusal is an error response with its code.

    ``now`` is the time of the call, or a clock to read (a commit reads it after the member,
    so its time is never before the member's last operation). ``exports`` is where
    ``transactions_export`` writes its files.
    """
    try:
        name = method_name(method)
        top = Reader.of(request, (), [])
        if top is None:
            raise ValidationError((), request, "the request must be an object")
        at = now() if callable(now) else now
        ctx = Context(store=store, program=program, now=at, exports=exports)
        if name == "preorder_commit":  # the clock is read after the member, in commit_order
            return dict(commit_response(store, program, request, now))
        return METHODS[name](ctx, top)
    except ValidationError as error:
        return error_response(as_sent(error, request))
    except LoyaltyError as error:
        return error_response(error)


@attrs.frozen(kw_only=True)
class Reply:
    """An encoded response: what the server sends and the CLI prints."""

    status: int  # HTTP
    code: int  # the response's ``error``
    body: bytes
    content_type: str


def decode(body: bytes | str, fmt: Format, method: str, *, limit: int = MAX_BYTES) -> object:
    """The request document of ``method`` in ``fmt``; ``ValidationError`` when unusable."""
    if len(body) > limit:
        raise ApiError(Code.BODY_TOO_LARGE, f"the body is larger than {limit} bytes")
    if fmt == "xml":
        shape = shapes.REQUESTS.get(ALIASES.get(method, method), {})
        return read_xml(body, shape, source="body")
    return read_json(body, source="body", limit=limit)


def encode(document: Mapping[str, object], fmt: Format) -> bytes:
    if fmt == "xml":
        return write_xml(document)
    return json.dumps(document, ensure_ascii=False, indent=2, default=str).encode("utf-8")


def respond(
    method: str,
    body: bytes | str,
    fmt: Format,
    *,
    store: Store,
    program: Program,
    now: dt.datetime | Callable[[], dt.datetime],
    tokens: Collection[str] | None = None,
    token: str | None = None,
    exports: Path | None = None,
    limit: int = MAX_BYTES,
) -> Reply:
    """Decode, check the token, ``handle``, encode. ``tokens``: the accepted tokens (``None``:
    no check, the local CLI); ``token``: one from outside the body (``Authorization``)."""
    try:
        name = method_name(method)
        request = decode(body, fmt, name, limit=limit)
        if tokens is not None:
            sent = token if token is not None else _body_token(request)
            if not accepted(sent, tokens):
                raise ApiError(Code.NOT_AUTHORIZED, "a valid token is required")
        response = handle(name, request, store, program, now, exports=exports)
    except LoyaltyError as error:
        response = error_response(error)
    return reply(response, fmt)


def reply(response: Mapping[str, object], fmt: Format) -> Reply:
    code = response.get("error")
    known = Code(code) if isinstance(code, int) and code in Code._value2member_map_ else None
    if known is None:  # pragma: no cover - every response is built from the table
        response, known = internal_error(), Code.INTERNAL
    return Reply(status=known.http, code=int(known), body=encode(response, fmt),
                 content_type=CONTENT_TYPES[fmt])  # fmt: skip


def _body_token(request: object) -> str | None:
    value = request.get("token") if isinstance(request, Mapping) else None
    return value if isinstance(value, str) else None


def accepted(sent: str | None, tokens: Collection[str]) -> bool:
    """Compared in constant time against every accepted token (no early exit on a match)."""
    if not sent:
        return False
    given = sent.encode("utf-8", "surrogatepass")
    found = False
    for token in tokens:
        found |= hmac.compare_digest(given, token.encode("utf-8", "surrogatepass"))
    return found
