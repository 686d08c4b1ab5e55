"""The HTTP server as a shop meets it: the real ``loyalty-engine serve`` in a subprocess, on a
free port of 127.0.0.1, driven with ``httpx`` over TCP.

Four servers, each on its own store (module-scoped, stopped at the end):
- ``seed``: seed 003's program, the example member (20999 points): the golden responses;
- ``api``: the examples' program and member, a token file of several tokens, the default body
  limit: every route, the token checks, hostile bodies;
- ``small``: the same with ``--max-body 1000``: the limit without sending megabytes;
- ``load``: the examples' program and eight members of 1,000,000 points each: 4 threads × 200
  operations, then the store is read with ``sqlite3`` to see that nothing was lost or doubled.

The server runs on the real clock; stores whose program lets points expire are imported a day
ago, so that the opening balances are alive whenever the tests run.
"""

from __future__ import annotations

import collections
import copy
import datetime as dt
import json
import random
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from loyalty_engine.altcraft.xml import write_xml
from loyalty_engine.server import PREFIX, ROUTES

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
API = EXAMPLES / "api"
SEED_003 = EXAMPLES / "seed_003"
SEED_TEXT = ROOT.parent / "shared" / "seeds" / "003_f5cf916680a9f34d.txt"
TOKEN = "abcdefghijklmnqrstuvwxyz"  # the examples' token
OTHER_TOKENS = ("second-token-5b1e9c", "third-token-0d77a2")
TOKEN_FILE = f"# accepted tokens\n\n{TOKEN}\n  {OTHER_TOKENS[0]}  \n{OTHER_TOKENS[1]}\n"
URLS = {method: path for path, method in reversed(list(ROUTES.items()))}  # the first URL of each
JSON_TYPE = {"Content-Type": "application/json"}
XML_TYPE = {"Content-Type": "application/xml"}
START_TIMEOUT = 15.0
Json = dict[str, Any]


# --- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cli(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "loyalty_engine", *args],
        check=True,
        capture_output=True,
        cwd=ROOT,
        timeout=60,
    )


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str  # http://127.0.0.1:PORT/api/v1.1
    db: Path
    log: Path

    def client(self, timeout: float = 10.0) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=timeout)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start(
    where: Path,
    program: Path,
    members: Path,
    *,
    imported_at: str,
    extra: Sequence[str] = (),
) -> Server:
    """Import ``members`` into a new SQLite store and serve it; returns once it accepts."""
    db, tokens, log = where / "state.sqlite", where / "tokens", where / "server.log"
    cli(
        "db",
        "import",
        str(members),
        "--db",
        str(db),
        "--program",
        str(program),
        "--now",
        imported_at,
    )
    tokens.write_text(TOKEN_FILE, encoding="utf-8")
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "loyalty_engine",
        "serve",
        "--db",
        str(db),
        "--program",
        str(program),
        "--tokens",
        str(tokens),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--exports",
        str(where / "exports"),
        *extra,
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    server = Server(process, f"http://127.0.0.1:{port}{PREFIX}", db, log)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if not server.alive():
            raise RuntimeError(f"the server exited: {log.read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(
                    f"no connection in {START_TIMEOUT} s: {log.read_text()}"
                ) from None
            time.sleep(0.05)


def a_day_ago() -> str:
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start(
        tmp_path_factory.mktemp("seed"),
        SEED_003 / "program.toml",
        API / "import.json",
        imported_at="2026-02-01T00:00:00Z",
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start(
        tmp_path_factory.mktemp("api"),
        API / "program.toml",
        API / "import.json",
        imported_at=a_day_ago(),
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start(
        tmp_path_factory.mktemp("small"),
        API / "program.toml",
        API / "import.json",
        imported_at=a_day_ago(),
        extra=["--max-body", "1000"],
    )
    yield server
    server.stop()


# --- requests -----------------------------------------------------------------------------------


def example(method: str) -> Json:
    document: Json = json.loads((API / f"{method}.json").read_text(encoding="utf-8"))
    return document


def post(client: httpx.Client, method: str, body: Json, **headers: str) -> httpx.Response:
    return client.post(
        URLS[method], content=json.dumps(body).encode(), headers={**JSON_TYPE, **headers}
    )


def answer(response: httpx.Response, status: int = 200, code: int = 0) -> Json:
    """The JSON body, after checking the status, the code and the two fields every body has."""
    assert response.headers["content-type"].startswith("application/json"), response.text
    document: Json = response.json()
    assert (response.status_code, document.get("error")) == (status, code), response.text
    assert isinstance(document["error_text"], str)
    return document


def without_token(body: Json) -> Json:
    return {k: v for k, v in body.items() if k != "token"}


# --- 1. golden: seed 003 -----------------------------------------------------------------------


def seed_text() -> str:
    if not SEED_TEXT.exists():
        pytest.skip(f"{SEED_TEXT} is not here")
    return SEED_TEXT.read_text(encoding="utf-8")


def seed_json_response() -> Json:
    """Seed 003's JSON "Response Example" plus our one documented extension: the line's
    redeem_points promotion carries the money it took off, ``"amount": "499.00"``."""
    text = seed_text()
    start_at = text.index("{", text.index("Response Example"))
    expected: Json = json.JSONDecoder().raw_decode(text[start_at:])[0]
    (line,) = expected["data"]["order"]["lines"]
    accrue, redeem = line["applied_promotions"]
    assert (accrue["type"], redeem["type"]) == ("accrue_points", "redeem_points")
    line["applied_promotions"][1] = {
        "type": redeem["type"],
        "promotion": redeem["promotion"],
        "amount": "499.00",
        "points_info": redeem["points_info"],
    }
    return expected


def seed_xml() -> tuple[str, str]:
    """The seed's XML request, and its XML response with the same one extension."""
    request, response = re.findall(r"^<xml>$.*?^</xml>$", seed_text(), re.S | re.M)
    marker = "<name>Point Redemption</name>\n</promotion>\n"
    assert response.count(marker) == 1
    return request, response.replace(marker, marker + "<amount>499.00</amount>\n")


def test_seed_003_over_http_in_json(seed: Server) -> None:
    """The seed's JSON request, as the file holds it, answers the seed's JSON response (200)."""
    with seed.client() as client:
        response = client.post(
            URLS["preorder"], content=(SEED_003 / "request.json").read_bytes(), headers=JSON_TYPE
        )
    assert answer(response) == seed_json_response()


def test_seed_003_over_http_in_xml(seed: Server) -> None:
    """The seed's XML request answers the seed's XML response byte for byte, as
    ``application/xml``; that is ``write_xml`` of the JSON answer, so both formats agree."""
    request, expected = seed_xml()
    with seed.client() as client:
        response = client.post(URLS["preorder"], content=request.encode(), headers=XML_TYPE)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/xml"
    assert response.text == expected
    assert response.content == write_xml(seed_json_response())


def test_seed_003_xml_request_with_json_content_type_is_refused(seed: Server) -> None:
    """The format is the Content-Type's: XML sent as JSON is malformed JSON (400, code 1)."""
    request, _ = seed_xml()
    with seed.client() as client:
        response = client.post(URLS["preorder"], content=request.encode(), headers=JSON_TYPE)
    answer(response, 400, 1)


# --- 2. every route ----------------------------------------------------------------------------


def commit_request(request: Json, order: Json) -> Json:
    """A preorder_commit body: the preorder request with the preorder answer's applied
    promotions sent back as ``requested_promotions`` and its final prices."""
    body = copy.deepcopy(request)

    def requested(applied: list[Json]) -> list[Json]:
        keys = ("type", "promotion", "amount", "points_info")
        return [{k: a[k] for k in keys if k in a} for a in applied]

    body["data"]["final_total_price"] = order["final_total_price"]
    body["data"]["requested_promotions"] = requested(order["applied_promotions"])
    for line, calculated in zip(body["data"]["lines"], order["lines"], strict=True):
        assert line["external_id"] == calculated["external_id"]
        line["final_price_per_item"] = calculated["final_price_per_item"]
        line["requested_promotions"] = requested(calculated["applied_promotions"])
    return body


POSTING = {
    "transaction_id",
    "transaction_eid",
    "points_currency_eid",
    "amount",
    "balance",
    "total_balance",
    "transactions",
}
RESULT = {
    "transaction_id",
    "result_transaction_id",
    "points_currency_eid",
    "balance",
    "total_balance",
}
ROW = {
    "transaction_id",
    "created_at",
    "transaction_type",
    "amount",
    "balance_before",
    "balance_after",
    "temp",
}
TIER = {
    "tiers_group_id",
    "tiers_group_type",
    "tier_eid",
    "tier_id",
    "tier_order",
    "tier_name",
    "reached_at",
}
TRIGGER = {"id", "name", "external_id", "is_active", "redeem_rules", "accrual_rules"}


def has(document: Json, keys: set[str]) -> None:
    assert keys <= document.keys(), f"missing {keys - document.keys()} in {document}"


def test_every_route_answers_its_example(api: Server) -> None:
    """Each ``examples/api/<method>.json``, posted in a working order, answers error 0 with the
    documented fields and the figures of docs/wire.md; every URL in ``ROUTES`` is among them (the
    ``redeem_points`` alias too), and the store ends holding what they did."""
    used: set[str] = set()

    def call(method: str, body: Json, url: str | None = None) -> Json:
        path = url or URLS[method]
        used.add(path)
        response = client.post(path, content=json.dumps(body).encode(), headers=JSON_TYPE)
        document = answer(response)
        return document

    with api.client() as client:
        accrued = call("accrue_points", example("accrue_points"))["data"]
        has(accrued, POSTING)
        assert (accrued["amount"], accrued["balance"], accrued["total_balance"]) == (
            "100",
            "21099",
            "21099",
        )
        assert [t["transaction_id"] for t in accrued["transactions"]] == [accrued["transaction_id"]]

        held = call("redeeme_points", example("redeeme_points"))["data"]
        has(held, POSTING)
        assert (held["transaction_eid"], held["balance"], held["total_balance"]) == (
            "redeem-0001",
            "21049",
            "21099",
        )
        committed = call("commit_transaction", example("commit_transaction"))["data"]
        has(committed, RESULT)
        assert committed["transaction_id"] == held["transaction_id"]
        assert (committed["balance"], committed["total_balance"]) == ("21049", "21049")

        second = {**example("redeeme_points"), "transaction_eid": "redeem-0002"}  # for rollback
        hold = call("redeeme_points", second, url="/loyalty/redeem_points")["data"]
        assert (hold["transaction_eid"], hold["balance"]) == ("redeem-0002", "20999")
        undone = call("rollback_transaction", example("rollback_transaction"))["data"]
        has(undone, RESULT)
        assert (undone["transaction_id"], undone["balance"]) == (hold["transaction_id"], "21049")

        cancelled = call("cancel_transaction", example("cancel_transaction"))["data"]
        has(cancelled, RESULT)
        assert (cancelled["transaction_id"], cancelled["balance"]) == (
            accrued["transaction_id"],
            "20949",
        )

        balance = call("balance", example("balance"))["data"]
        assert (balance["total_balance"], balance["active_balance"]) == ("20949", "20949")
        assert balance["points_currency_eid"] == "bonus1"
        expiring = call("expiring_points", example("expiring_points"))["data"]
        assert isinstance(expiring["expiring_points"], str)

        history = call("transactions", example("transactions"))
        assert history["total_count"] == len(history["data"]) == 7
        for row in history["data"]:
            has(row, ROW)
        assert history["data"][-1]["transaction_id"] == cancelled["result_transaction_id"]

        triggers = call("trigger_promotions", example("trigger_promotions"))
        assert [t["external_id"] for t in triggers["data"]] == ["PROMO123", "survey"]
        assert triggers["total_count"] == 2
        for trigger in triggers["data"]:
            has(trigger, TRIGGER)

        survey = {
            **example("accrue_points"),
            "promotion_id": "survey",
            "points_currency_eid": "qual",
            "transaction_eid": "survey-1",
        }
        survey.pop("amount")
        assert call("accrue_points", survey)["data"]["amount"] == "150"
        reached = call("tiers", example("tiers"))["data"]
        for tier in reached:
            has(tier, TIER)
            assert tier["tiers_group_id"] == 10
        assert ("silver1-2", "Silver") in {(t["tier_eid"], t["tier_name"]) for t in reached}
        assert "gold1-3" not in {t["tier_eid"] for t in reached}  # 150 < 500

        registered = call("register_member", example("register_member"))
        assert registered["profile_id"].startswith("p-")
        deleted = call("delete_member", example("delete_member"))
        assert deleted["profile_id"] == registered["profile_id"]

        task = call("transactions_export", example("transactions_export"))["data"]["task_id"]
        assert task.startswith("task_")
        status = call("transactions_export_status", {"token": TOKEN, "task_id": task})["data"]
        assert (status["task_id"], status["status"]) == (task, "done")
        assert isinstance(status["rows"], int) and Path(status["file"]).is_file()

        request: Json = json.loads((SEED_003 / "request.json").read_text(encoding="utf-8"))
        preorder = call("preorder", request)["data"]
        assert preorder["profile"] == {"profile_id": "696e304f547840a7286619e0"}
        order = preorder["order"]
        assert (order["processing_target"], order["final_total_price"]) == (
            "calculated",
            "139500.00",
        )
        done = call("preorder_commit", commit_request(request, order))["data"]
        has(
            done,
            {
                "status",
                "processing_target",
                "external_id",
                "issued_promocodes",
                "points_changes",
                "contents",
            },
        )
        assert (done["status"], done["processing_target"], done["external_id"]) == (
            "success",
            "immediate",
            "12",
        )
        (change,) = done["points_changes"]
        assert (change["accrue_points"], change["redeem_points"]) == (6999, 499)
        assert change["points_info"]["amount"] == str(20949 + 6999 - 499)

    assert used == set(ROUTES), f"not called: {set(ROUTES) - used}"


# --- 3. tokens ---------------------------------------------------------------------------------


def test_no_token_is_401_code_11(api: Server) -> None:
    """A body without ``token`` and no ``Authorization`` is refused: 401, error 11, JSON."""
    with api.client() as client:
        answer(post(client, "balance", without_token(example("balance"))), 401, 11)


def test_no_token_in_xml_is_401_in_xml(api: Server) -> None:
    """The refusal comes in the request's format: an XML body gets an XML 401."""
    body = (
        b"<xml><loyalty_program_id>1</loyalty_program_id><matching>email</matching>"
        b"<email>example@example.com</email></xml>"
    )
    with api.client() as client:
        response = client.post(URLS["balance"], content=body, headers=XML_TYPE)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/xml"
    assert "<error>11</error>" in response.text


@pytest.mark.parametrize("where", ["body", "bearer"])
def test_a_wrong_token_is_401(api: Server, where: str) -> None:
    """A token that is not in the file is refused, in the body or as a Bearer header; so are
    the file's comment line, a prefix of a token and an empty one."""
    body = without_token(example("balance"))
    with api.client() as client:
        for wrong in ("nope", TOKEN[:-1], TOKEN + "x", "# accepted tokens", TOKEN.upper(), ""):
            if where == "body":
                response = post(client, "balance", {**body, "token": wrong})
            else:
                response = post(client, "balance", body, Authorization=f"Bearer {wrong}".strip())
            answer(response, 401, 11)


def test_a_refused_token_writes_nothing(api: Server) -> None:
    """An accrual with a wrong token is 401 and posts no transaction (the eid stays free)."""
    body = {**example("accrue_points"), "token": "nope", "transaction_eid": "unauthorised-1"}
    with api.client() as client:
        answer(post(client, "accrue_points", body), 401, 11)
    with sqlite3.connect(api.db) as db:
        rows = db.execute(
            "SELECT COUNT(*) FROM transactions WHERE transaction_eid = ?", ("unauthorised-1",)
        ).fetchone()
    assert rows == (0,)


@pytest.mark.parametrize("token", [TOKEN, *OTHER_TOKENS])
def test_every_token_of_the_file_works_in_the_body_and_as_bearer(api: Server, token: str) -> None:
    """Each token of a file of several (with a comment, a blank line and padding) is accepted,
    in the body and as ``Authorization: Bearer`` (the scheme's case does not matter)."""
    body = without_token(example("balance"))
    with api.client() as client:
        answer(post(client, "balance", {**body, "token": token}))
        answer(post(client, "balance", body, Authorization=f"Bearer {token}"))
        answer(post(client, "balance", body, Authorization=f"bearer {token}"))


def test_a_bearer_header_is_the_token_even_when_the_body_has_another(api: Server) -> None:
    """The header wins (docs/wire.md): a wrong Bearer with a right body token is refused, a right
    Bearer with a wrong body token is accepted."""
    body = example("balance")
    with api.client() as client:
        answer(post(client, "balance", body, Authorization="Bearer nope"), 401, 11)
        answer(post(client, "balance", {**body, "token": "nope"}, Authorization=f"Bearer {TOKEN}"))


def test_bearer_works_for_xml(api: Server) -> None:
    """An XML body without a token is accepted with a Bearer header, and answered in XML."""
    body = (
        b"<xml><loyalty_program_id>1</loyalty_program_id><matching>email</matching>"
        b"<email>example@example.com</email></xml>"
    )
    with api.client() as client:
        response = client.post(
            URLS["balance"], content=body, headers={**XML_TYPE, "Authorization": f"Bearer {TOKEN}"}
        )
    assert response.status_code == 200
    assert "<error>0</error>" in response.text
    assert "<points_currency_eid>bonus1</points_currency_eid>" in response.text


# --- 4. hostile requests -----------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE xml [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<xml><token>abcdefghijklmnqrstuvwxyz</token><loyalty_program_id>1</loyalty_program_id>
<matching>email</matching><email>&lol9;</email></xml>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><token>abcdefghijklmnqrstuvwxyz</token><loyalty_program_id>1</loyalty_program_id>
<matching>email</matching><email>&xxe;</email></xml>"""
XXE_PARAMETER = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>
<xml><token>abcdefghijklmnqrstuvwxyz</token></xml>"""


def test_a_wrong_content_type_is_415_code_13(api: Server) -> None:
    """``text/plain`` (and an empty Content-Type, and a JSON-ish one we do not speak) is 415,
    error 13, answered in JSON; a charset parameter on JSON is fine."""
    body = json.dumps(example("balance")).encode()
    with api.client() as client:
        for kind in ("text/plain", "", "application/problem+json", "multipart/form-data"):
            response = client.post(URLS["balance"], content=body, headers={"Content-Type": kind})
            answer(response, 415, 13)
        ok = client.post(
            URLS["balance"],
            content=body,
            headers={"Content-Type": "Application/JSON; charset=utf-8"},
        )
        answer(ok)


def test_a_body_over_the_limit_is_413_code_12_at_once(small: Server) -> None:
    """With ``--max-body 1000``: 1001 bytes (declared), and a chunked body of megabytes with no
    length, are refused with 413, error 12, each in under 2 s; 1000 bytes exactly are read."""
    body = json.dumps(example("balance")).encode()
    exactly = body + b" " * (1000 - len(body))
    with small.client() as client:
        answer(client.post(URLS["balance"], content=exactly, headers=JSON_TYPE))
        started = time.perf_counter()
        answer(client.post(URLS["balance"], content=exactly + b" ", headers=JSON_TYPE), 413, 12)
        assert time.perf_counter() - started < 2

        def chunks() -> Iterator[bytes]:
            yield body
            for _ in range(64):
                yield b" " * 65536

        started = time.perf_counter()
        answer(client.post(URLS["balance"], content=chunks(), headers=JSON_TYPE), 413, 12)
        assert time.perf_counter() - started < 2
        response = client.post(
            URLS["balance"], content=b"<xml>" + b" " * 1000 + b"</xml>", headers=XML_TYPE
        )
        assert response.status_code == 413
        assert "<error>12</error>" in response.text  # in the request's format
        answer(client.post(URLS["balance"], content=body, headers=JSON_TYPE))  # still serving


def test_the_default_limit_is_10_mib(api: Server) -> None:
    """The default limit: 10 MiB + 1 byte is 413, error 12, in under 2 s."""
    huge = b" " * (10 * 1024 * 1024 + 1)
    with api.client(timeout=30) as client:
        started = time.perf_counter()
        answer(client.post(URLS["balance"], content=huge, headers=JSON_TYPE), 413, 12)
    assert time.perf_counter() - started < 2


def test_truncated_json_is_400_code_1(api: Server) -> None:
    """A JSON body cut short (and an empty, a non-UTF-8 and a NaN one) is 400, error 1, with
    the problem listed under ``errors``."""
    whole = json.dumps(example("balance")).encode()
    with api.client() as client:
        for body in (
            whole[:-7],
            whole[: len(whole) // 2],
            b"",
            b'{"token": "\xff"}',
            b'{"loyalty_program_id": NaN}',
        ):
            document = answer(client.post(URLS["balance"], content=body, headers=JSON_TYPE), 400, 1)
            assert document["errors"], document


def test_deeply_nested_documents_are_400(api: Server) -> None:
    """100,000 ``[`` (and ``{"a":`` and nested XML elements) are refused with 400, quickly, and
    the server keeps serving."""
    with api.client() as client:
        for body, kind in (
            (b"[" * 100_000, JSON_TYPE),
            (b'{"a":' * 100_000, JSON_TYPE),
            (b"<xml>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</xml>", XML_TYPE),
        ):
            started = time.perf_counter()
            response = client.post(URLS["balance"], content=body, headers=kind)
            assert response.status_code == 400, response.text[:300]
            assert time.perf_counter() - started < 2
        answer(post(client, "balance", example("balance")))


@pytest.mark.parametrize(
    "body",
    [BILLION_LAUGHS, XXE, XXE_PARAMETER],
    ids=["billion-laughs", "xxe", "xxe-parameter-entity"],
)
def test_xml_bombs_are_400_code_1(api: Server, body: bytes) -> None:
    """A DTD with entities is refused before anything expands or is fetched: 400, error 1, a
    small XML answer that shows no file; the server answers the next request."""
    with api.client() as client:
        started = time.perf_counter()
        response = client.post(URLS["balance"], content=body, headers=XML_TYPE)
        assert time.perf_counter() - started < 2
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/xml"
        assert "<error>1</error>" in response.text
        assert len(response.content) < 2000 and "root:" not in response.text
        answer(post(client, "balance", example("balance")))


def test_an_unknown_url_is_404_code_4_in_json(api: Server) -> None:
    """URLs that are no method (under the prefix, the root, a method's URL with a trailing slash
    or a NUL) are 404, error 4, a JSON body, whatever the request's Content-Type."""
    with api.client() as client:
        root = api.base.removesuffix(PREFIX)
        for url in (
            "/loyalty/nope",
            "/market/orders/preorder_rollback",
            "/loyalty",
            f"{root}/",
            f"{root}/favicon.ico",
            f"{root}/api/v1.0/loyalty/account/balance",
            URLS["balance"] + "/",  # no redirect: a POST would not follow it
        ):
            for headers in (JSON_TYPE, XML_TYPE):
                response = client.post(url, content=b"{}", headers=headers)
                answer(response, 404, 4)
        answer(client.post(URLS["balance"] + "%00", content=b"{}", headers=JSON_TYPE), 404, 4)


def test_get_on_a_method_url_is_405_in_json(api: Server) -> None:
    """GET, PUT, DELETE on a method's URL are 405 with an error body in JSON (code 4)."""
    with api.client() as client:
        for verb in ("GET", "PUT", "DELETE", "PATCH"):
            answer(client.request(verb, URLS["balance"]), 405, 4)
        assert client.head(URLS["balance"]).status_code == 405


def test_no_hostile_request_is_a_5xx_and_the_server_is_up(api: Server) -> None:
    """A volley of every hostile kind above: none answers 5xx; afterwards the server still
    answers, logged no traceback and never a token."""
    bodies: list[tuple[bytes, dict[str, str]]] = [
        (b"[" * 100_000, JSON_TYPE),
        (BILLION_LAUGHS, XML_TYPE),
        (XXE, XML_TYPE),
        (b"<xml><a>", XML_TYPE),
        (b"\x00\xff" * 100, JSON_TYPE),
        (b"{}", {"Content-Type": "x"}),
        (b'{"token": "' + TOKEN.encode() + b'", "loyalty_program_id": "1"}', JSON_TYPE),
        (b'{"token": 1e999999}', JSON_TYPE),
        (b'{"token": "' + b"9" * 100_000 + b'"}', JSON_TYPE),
    ]
    with api.client() as client:
        for method in ROUTES.values():
            for body, headers in bodies:
                response = client.post(URLS[method], content=body, headers=headers)
                assert response.status_code < 500, (method, body[:40], response.text)
        answer(post(client, "balance", example("balance")))
    assert api.alive()
    log = api.log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log and TOKEN not in log, log[-2000:]


# --- 5. load -----------------------------------------------------------------------------------

MEMBERS = 8
OPENING = 1_000_000
THREADS, OPERATIONS = 4, 200
PRICES = (99_900, 150_000, 13_999_900)  # cents


def email(member: int) -> str:
    return f"load{member}@example.com"


@pytest.fixture(scope="module")
def load(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    where = tmp_path_factory.mktemp("load")
    members = where / "members.json"
    document = {
        "members": [
            {
                "profile_id": f"load-member-{m}",
                "email": email(m),
                "registered_at": "2026-01-10T09:00:00Z",
                "balances": {"bonus1": str(OPENING)},
            }
            for m in range(MEMBERS)
        ]
    }
    members.write_text(json.dumps(document), encoding="utf-8")
    server = start(where, API / "program.toml", members, imported_at=a_day_ago())
    yield server
    server.stop()


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def order_request(external_id: str, member: int, price: int, count: int, redeem: int) -> Json:
    """A seed-003-like order: one line, 5% back in points, ``redeem`` points asked for."""
    return {
        "token": TOKEN,
        "external_id": external_id,
        "matching": "email",
        "email": email(member),
        "data": {
            "endpoint": "site",
            "status": "new",
            "currency": "RUB",
            "delivery_cost": "0.00",
            "total_price": money(price * count),
            "redeem_points": [{"points_currency_iid": 1, "amount": redeem}],
            "lines": [
                {
                    "external_id": "line_1",
                    "product": "iphone17pmb256",
                    "count": count,
                    "base_price_per_item": money(price),
                    "min_price_per_item": "0.00",
                    "custom_fields": {},
                }
            ],
        },
    }


def points_request(method: str, eid: str, member: int, amount: int) -> Json:
    return {
        "token": TOKEN,
        "loyalty_program_id": 1,
        "points_currency_eid": "bonus1",
        "amount": str(amount),
        "transaction_eid": eid,
        "matching": "email",
        "email": email(member),
    }


@dataclass
class Sent:
    """An accepted operation, to repeat: its method, body, member, signed points, answer."""

    method: str
    body: Json
    member: int
    delta: int
    data: Json


@dataclass
class Tally:
    """What one client saw."""

    latencies: list[float] = field(default_factory=list)
    statuses: collections.Counter[tuple[str, int, int]] = field(default_factory=collections.Counter)
    points: dict[str, Sent] = field(default_factory=dict)  # transaction_eid → the first answer
    orders: dict[str, Sent] = field(default_factory=dict)  # external_id → the first answer
    contested: dict[str, Json] = field(default_factory=dict)  # key → this client's answer
    problems: list[str] = field(default_factory=list)


class Client:
    """One load client: its own connection, its own tally."""

    def __init__(self, server: Server, number: int) -> None:
        self.http = server.client(timeout=60)
        self.number = number
        self.tally = Tally()
        self.random = random.Random(1000 + number)

    def send(self, method: str, body: Json) -> tuple[int, Json]:
        payload = json.dumps(body).encode()
        started = time.perf_counter()
        response = self.http.post(URLS[method], content=payload, headers=JSON_TYPE)
        self.tally.latencies.append(time.perf_counter() - started)
        document: Json = response.json()
        self.tally.statuses[(method, response.status_code, document.get("error", -1))] += 1
        return response.status_code, document

    def expect(self, method: str, body: Json, status: int = 200, code: int = 0) -> Json:
        got, document = self.send(method, body)
        if (got, document.get("error")) != (status, code):
            name = body.get("transaction_eid") or body.get("external_id")
            self.tally.problems.append(f"{method} {name}: {got} {document}")
        return document

    def points(self, method: str, eid: str, member: int, amount: int) -> Json:
        body = points_request(method, eid, member, amount)
        data: Json = self.expect(method, body).get("data", {})
        if data.get("amount") != str(amount):
            self.tally.problems.append(f"{method} {eid}: {data}")
        sign = 1 if method == "accrue_points" else -1
        self.tally.points[eid] = Sent(method, body, member, sign * amount, data)
        return data

    def order(self, external_id: str, member: int, price: int, count: int, redeem: int) -> Json:
        """preorder, then preorder_commit of what it calculated."""
        request = order_request(external_id, member, price, count, redeem)
        order = self.expect("preorder", request).get("data", {}).get("order", {})
        body = commit_request(request, order)
        data: Json = self.expect("preorder_commit", body).get("data", {})
        (line,) = order["lines"]
        calculated = {
            p["type"]: int(p["points_info"]["amount"]) for p in line["applied_promotions"]
        }
        (change,) = data.get("points_changes", [{}])
        accrued, redeemed = change.get("accrue_points"), change.get("redeem_points")
        if (accrued, redeemed) != (calculated["accrue_points"], calculated["redeem_points"]):
            self.tally.problems.append(f"commit {external_id}: {data} after {order}")
        if accrued != price * count * 5 // 10_000 or not 0 < (redeemed or 0) <= redeem:
            self.tally.problems.append(
                f"commit {external_id}: 5% of {price * count} cents "
                f"is not {accrued}, or {redeemed} > {redeem}"
            )
        sent = Sent("preorder_commit", body, member, (accrued or 0) - (redeemed or 0), data)
        self.tally.orders.setdefault(external_id, sent)
        return data

    def contest(self) -> None:
        """The same requests every client sends at the same moment: each is one operation."""
        for j in range(3):
            self.tally.contested[f"accrue-{j}"] = self.expect(
                "accrue_points", points_request("accrue_points", f"contested-{j}", j, 7)
            ).get("data", {})
        request = order_request("contested-order", 3, PRICES[1], 1, 100)
        order = self.expect("preorder", request).get("data", {}).get("order", {})
        commit = self.expect("preorder_commit", commit_request(request, order))
        self.tally.contested["order"] = commit.get("data", {})

    def repeat(self) -> None:
        """An earlier operation sent again: the first answer again, nothing written."""
        if self.random.random() < 0.5 and self.tally.orders:
            sent = self.random.choice(list(self.tally.orders.values()))
            data = self.expect("preorder_commit", sent.body).get("data", {})
            if data != {**sent.data, "processing_target": "processed"}:
                self.tally.problems.append(f"replay {sent.body['external_id']}: {data}")
        elif self.tally.points:
            sent = self.random.choice(list(self.tally.points.values()))
            data = self.expect(sent.method, sent.body).get("data", {})
            if data.get("transaction_id") != sent.data.get("transaction_id"):
                self.tally.problems.append(f"replay {sent.body['transaction_eid']}: {data}")

    def conflict(self) -> None:
        """An earlier transaction_eid or external_id with another request: 409, error 9."""
        if self.random.random() < 0.5 and self.tally.orders:
            sent = self.random.choice(list(self.tally.orders.values()))
            other = order_request(sent.body["external_id"], sent.member, PRICES[0], 2, 50)
            order = self.expect("preorder", other).get("data", {}).get("order", {})
            self.expect("preorder_commit", commit_request(other, order), 409, 9)
        elif self.tally.points:
            sent = self.random.choice(list(self.tally.points.values()))
            self.expect(sent.method, {**sent.body, "amount": "3"}, 409, 9)

    def run(self, barrier: threading.Barrier) -> Tally:
        k, rng = self.number, self.random
        with self.http:
            barrier.wait(timeout=30)
            self.contest()
            for i in range(OPERATIONS):
                member, draw = rng.randrange(MEMBERS), rng.random()
                if draw < 0.3:
                    self.order(
                        f"order-{k}-{i}",
                        member,
                        rng.choice(PRICES),
                        rng.randint(1, 3),
                        rng.choice((50, 100, 499)),
                    )
                elif draw < 0.6:
                    self.points("accrue_points", f"accrue-{k}-{i}", member, rng.randint(1, 100))
                elif draw < 0.85:
                    self.points("redeeme_points", f"redeem-{k}-{i}", member, rng.randint(1, 50))
                elif draw < 0.95:
                    self.repeat()
                else:
                    self.conflict()
        return self.tally


def percentile(sorted_values: list[float], share: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(share * len(sorted_values)))]


def balances(server: Server) -> list[tuple[int, int]]:
    out = []
    with server.client() as client:
        for member in range(MEMBERS):
            body = {
                "token": TOKEN,
                "loyalty_program_id": 1,
                "points_currency_eid": "bonus1",
                "matching": "email",
                "email": email(member),
            }
            data = answer(post(client, "balance", body))["data"]
            out.append((int(data["total_balance"]), int(data["active_balance"])))
    return out


def test_load_four_clients_lose_and_double_nothing(load: Server) -> None:
    """4 clients × 200 operations on 8 shared members: preorder + preorder_commit of new orders,
    accruals and redemptions with new eids, repeats of earlier ones and conflicting reuses of
    them, and the same requests sent by all four at once. No answer is 5xx; every accepted
    operation is in the store exactly once (transactions, orders); each repeat answers the
    first answer; each conflict is 409; and every balance is the opening plus what was
    accepted, by the balance method and by the rows' deltas."""
    before = balances(load)
    assert before == [(OPENING, OPENING)] * MEMBERS
    clients = [Client(load, k) for k in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        tallies = list(pool.map(lambda client: client.run(barrier), clients))
    wall = time.perf_counter() - started

    latencies = sorted(t for tally in tallies for t in tally.latencies)
    statuses: collections.Counter[tuple[str, int, int]] = collections.Counter()
    for tally in tallies:
        statuses.update(tally.statuses)
    print(
        f"\nload: {THREADS} clients × {OPERATIONS} operations, {len(latencies)} requests in "
        f"{wall:.2f} s: {len(latencies) / wall:.0f} requests/s, p50 "
        f"{percentile(latencies, 0.5) * 1e3:.1f} ms, p99 {percentile(latencies, 0.99) * 1e3:.1f}"
        f" ms; answers: {dict(sorted(statuses.items()))}"
    )
    problems = [p for tally in tallies for p in tally.problems]
    assert not problems, problems[:5]
    assert all(status < 500 for _, status, _ in statuses), statuses
    assert {(status, code) for _, status, code in statuses} <= {(200, 0), (409, 9)}, statuses
    assert wall < 50

    # the contested requests: one operation each, every client got the same answer
    for key in ("accrue-0", "accrue-1", "accrue-2"):
        ids = {tally.contested[key]["transaction_id"] for tally in tallies}
        assert len(ids) == 1, (key, ids)
    targets = sorted(tally.contested["order"]["processing_target"] for tally in tallies)
    assert targets == ["immediate"] + ["processed"] * (THREADS - 1), targets
    points: dict[str, Sent] = {}
    orders: dict[str, Sent] = {}
    for tally in tallies:
        points.update(tally.points)
        orders.update(tally.orders)
    for j in range(3):
        data = tallies[0].contested[f"accrue-{j}"]
        points[f"contested-{j}"] = Sent("accrue_points", {}, j, 7, data)
    data = tallies[0].contested["order"]
    (change,) = data["points_changes"]
    orders["contested-order"] = Sent(
        "preorder_commit", {}, 3, change["accrue_points"] - change["redeem_points"], data
    )

    with sqlite3.connect(load.db) as db:
        rows = db.execute(
            "SELECT profile_id, transaction_eid, source_type, source_id, transaction_type, delta"
            " FROM transactions WHERE profile_id LIKE 'load-member-%'"
        ).fetchall()
        stored_orders = db.execute("SELECT external_id, profile_id FROM orders").fetchall()
    api_rows = collections.Counter(
        (r[0], r[1]) for r in rows if r[2] != "order" and not r[1].startswith("import:")
    )
    expected = collections.Counter((f"load-member-{s.member}", eid) for eid, s in points.items())
    assert api_rows == expected  # each accepted accrual / redemption once, nothing else
    order_rows = collections.Counter((r[0], r[3], r[4]) for r in rows if r[2] == "order")
    wanted: collections.Counter[tuple[str, str, str]] = collections.Counter()
    for external_id, sent in orders.items():
        change = sent.data["points_changes"][0]
        for kind, key in (("accrual", "accrue_points"), ("redemption", "redeem_points")):
            if change[key]:
                wanted[(f"load-member-{sent.member}", external_id, kind)] += 1
    assert order_rows == wanted  # each accepted order's accrual and redemption once
    assert sorted(stored_orders) == sorted(
        (external_id, f"load-member-{sent.member}") for external_id, sent in orders.items()
    )

    after = balances(load)
    for member in range(MEMBERS):
        change_of = sum(s.delta for s in [*points.values(), *orders.values()] if s.member == member)
        total = OPENING + change_of
        assert after[member] == (total, total), (member, after[member], total)
        deltas = sum(int(r[5]) for r in rows if r[0] == f"load-member-{member}")
        assert deltas == total
