"""The Loyalty API over HTTP: a Starlette app on ``altcraft.respond`` (the ``[http]`` extra).

URLs as the contract's: ``POST /api/v1.1/loyalty/...`` and
``/api/v1.1/market/orders/preorder|preorder_commit``. The body is JSON or XML by its
``Content-Type`` and the answer comes in the same format. A token is required, compared in
constant time and never logged: ``Authorization: Bearer`` when the request has one, otherwise
the body's ``token`` (a header is the more deliberate credential, so a wrong one is not rescued
by the body). The body is read up to the limit and no further. A URL is matched exactly (no
redirect for a trailing slash: a shop's POST would not follow it). The store is opened once per
process; requests run one at a time on a worker thread (SQLite has one writer anyway), and
several server processes may share one SQLite database: the store's transactions keep them
apart.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Collection
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from .altcraft.api import Format, Reply, reply, respond
from .altcraft.codes import ApiError, Code, error_response, internal_error
from .altcraft.wire import MAX_BYTES
from .program.program import Program
from .store.protocol import Store

LOG = logging.getLogger("loyalty_engine.server")
PREFIX = "/api/v1.1"
ROUTES = {
    "/loyalty/account/tiers": "tiers",
    "/loyalty/transactions_export": "transactions_export",
    "/loyalty/transactions_export/status": "transactions_export_status",
    "/loyalty/account/expiring_points": "expiring_points",
    "/loyalty/account/transactions": "transactions",
    "/loyalty/trigger_promotions": "trigger_promotions",
    "/loyalty/accrue_points": "accrue_points",
    "/loyalty/redeeme_points": "redeeme_points",
    "/loyalty/redeem_points": "redeeme_points",
    "/loyalty/commit_transaction": "commit_transaction",
    "/loyalty/rollback_transaction": "rollback_transaction",
    "/loyalty/cancel_transaction": "cancel_transaction",
    "/loyalty/account/balance": "balance",
    "/loyalty/register_member": "register_member",
    "/loyalty/delete_member": "delete_member",
    "/market/orders/preorder": "preorder",
    "/market/orders/preorder_commit": "preorder_commit",
}
_FORMATS: dict[str, Format] = {
    "application/json": "json", "text/json": "json",
    "application/xml": "xml", "text/xml": "xml",
}  # fmt: skip


def _clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def create_app(
    store: Store,
    program: Program,
    *,
    tokens: Collection[str],
    exports: Path | None = None,
    limit: int = MAX_BYTES,
    clock: Callable[[], dt.datetime] = _clock,
) -> Starlette:
    """The ASGI app; ``tokens`` are the accepted tokens (at least one)."""
    if not tokens:
        raise ValueError("the server needs at least one accepted token")
    accepted = frozenset(tokens)
    one_at_a_time = threading.Lock()

    def call(method: str, body: bytes, fmt: Format, token: str | None) -> Reply:
        with one_at_a_time:
            return respond(method, body, fmt, store=store, program=program, now=clock,
                           tokens=accepted, token=token, exports=exports,
                           limit=limit)  # fmt: skip

    def endpoint(method: str) -> Callable[[Request], object]:
        async def run(request: Request) -> Response:
            kind = request.headers.get("content-type", "application/json")
            fmt = _FORMATS.get(kind.split(";")[0].strip().lower())
            if fmt is None:
                refused = ApiError(Code.UNSUPPORTED_MEDIA_TYPE,
                                   f"Content-Type {kind[:80]!r}: send application/json or "
                                   "application/xml")  # fmt: skip
                return _send(reply(error_response(refused), "json"))
            body = await _body(request, limit)
            if body is None:
                too_big = ApiError(Code.BODY_TOO_LARGE, f"the body is larger than {limit} bytes")
                return _send(reply(error_response(too_big), fmt))
            try:
                answer = await run_in_threadpool(call, method, body, fmt, _bearer(request))
            except Exception:  # a bug: logged here, and the client learns nothing of it
                LOG.exception("%s failed", method)
                answer = reply(internal_error(), fmt)
            return _send(answer)

        return run

    async def refused(request: Request, exc: Exception) -> Response:
        """Every URL and verb that is not a method gets an API error, not an HTML page."""
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        what = "POST only" if status == 405 else f"no method at {request.url.path[:200]!r}"
        return _send(reply(error_response(ApiError(Code.UNKNOWN_METHOD, what)), "json"), status)

    routes = [Route(PREFIX + path, endpoint(method), methods=["POST"])
              for path, method in ROUTES.items()]  # fmt: skip
    app = Starlette(routes=routes, exception_handlers={404: refused, 405: refused})
    app.router.redirect_slashes = False
    return app


async def _body(request: Request, limit: int) -> bytes | None:
    """The body, or ``None`` past ``limit`` bytes (read no further than that)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
    except ClientDisconnect:
        return b""
    return b"".join(chunks)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _send(answer: Reply, status: int | None = None) -> Response:
    return Response(answer.body, status_code=status or answer.status,
                    media_type=answer.content_type)  # fmt: skip


def read_tokens(path: str | Path) -> frozenset[str]:
    """One accepted token per line; blank lines and ``#`` comments are skipped."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return frozenset(t.strip() for t in lines if t.strip() and not t.lstrip().startswith("#"))
