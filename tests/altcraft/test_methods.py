"""The sixteen Loyalty API methods through ``handle`` and ``respond``, in process: every example
in JSON and XML, every error code, idempotency, paging, tiers, export, and a fuzz.

Each case gets a fresh store holding the examples' member (20999 points, imported a week before
``NOW``) and first makes what its method needs: a held redemption to commit or roll back, an
accrual to cancel, a member to delete, an export to ask about.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from loyalty_engine.altcraft import api, shapes
from loyalty_engine.altcraft.api import Format, encode, handle, respond
from loyalty_engine.altcraft.codes import Code
from loyalty_engine.altcraft.shapes import BOOL, FREE, INT, NUMBER, TEXT, Shape
from loyalty_engine.altcraft.xml import read_xml
from loyalty_engine.program import load_program
from loyalty_engine.store import MemoryStore, SqliteStore, Store, import_document

ROOT = Path(__file__).resolve().parents[2]
API = ROOT / "examples" / "api"
SEED_003 = ROOT / "examples" / "seed_003" / "request.json"
NOW = dt.datetime(2026, 12, 3, 10, tzinfo=dt.UTC)
IMPORTED = NOW - dt.timedelta(days=7)
PROGRAM = load_program(API / "program.toml")
IMPORT = json.loads((API / "import.json").read_text(encoding="utf-8"))
TOKEN = "abcdefghijklmnqrstuvwxyz"
EMAIL = "example@example.com"
NEWCOMER = "new.member@example.com"
METHODS = sorted(api.METHODS)
Json = dict[str, Any]


# --- stores and calls -----------------------------------------------------------------------------


def memory_store() -> MemoryStore:
    store = MemoryStore()
    import_document(store, PROGRAM, copy.deepcopy(IMPORT), now=IMPORTED)
    return store


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Callable[[str], Store]]:
    """``stores("memory")`` or ``stores("sqlite")``: a new store with the examples' member."""
    made: list[Store] = []

    def make(kind: str) -> Store:
        if kind == "memory":
            store: Store = memory_store()
        else:
            store = SqliteStore(tmp_path / f"store{len(made)}.sqlite")
            import_document(store, PROGRAM, copy.deepcopy(IMPORT), now=IMPORTED)
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


@pytest.fixture
def store() -> MemoryStore:
    return memory_store()


def example(method: str) -> Json:
    path = SEED_003 if method == "preorder" else API / f"{method}.json"
    document: Json = json.loads(path.read_text(encoding="utf-8"))
    return document


def direct(method: str = "accrue_points", **changes: object) -> Json:
    """An accrue (or redeem) example without its trigger promotion, so the amount goes straight
    to the account; a change to ``None`` removes the key."""
    request = {**example(method), "promotion_id": None, **changes}
    return {k: v for k, v in request.items() if v is not None}


def call(store: Store, method: str, request: object, exports: Path | None = None) -> Json:
    return handle(method, request, store, PROGRAM, NOW, exports=exports)


def ok(store: Store, method: str, request: object, exports: Path | None = None) -> Json:
    answer = call(store, method, request, exports)
    assert answer["error"] == 0, answer
    return answer


def balance(store: Store, email: str = EMAIL) -> tuple[str, str]:
    data = ok(store, "balance", {**example("balance"), "email": email})["data"]
    return data["total_balance"], data["active_balance"]


def history(store: Store, email: str = EMAIL) -> list[Json]:
    rows: list[Json] = ok(
        store, "transactions", {**example("transactions"), "limit": 100, "email": email}
    )["data"]
    return rows


def prepare(store: Store, method: str, exports: Path) -> Json:
    """Make what ``method``'s example needs; its request."""
    if method == "commit_transaction":
        ok(store, "redeeme_points", example("redeeme_points"))
    elif method == "rollback_transaction":
        ok(store, "redeeme_points", {**example("redeeme_points"), "transaction_eid": "redeem-0002"})
    elif method == "cancel_transaction":
        ok(store, "accrue_points", example("accrue_points"))
    elif method == "delete_member":
        ok(store, "register_member", example("register_member"))
    elif method == "transactions_export_status":
        task = ok(store, "transactions_export", example("transactions_export"), exports)
        return {"token": TOKEN, "task_id": task["data"]["task_id"]}
    return example(method)


def decoded(reply: api.Reply, method: str, fmt: Format) -> Json:
    """The body of ``reply`` as a document, read with the shape its code says."""
    if fmt == "json":
        document: Json = json.loads(reply.body)
        return document
    shape = shapes.RESPONSES[method] if reply.code == 0 else shapes.ERROR
    return read_xml(reply.body, shape, source="reply")


# --- 1. every method, both formats ----------------------------------------------------------------

# What each answer always holds (docs/wire.md's table, reference §2); ``[]``: every item of a list
# that is not empty.
ALWAYS: dict[str, tuple[str, ...]] = {
    "preorder": (
        "data.profile.profile_id",
        "data.order.processing_target",
        "data.order.total_price",
        "data.order.final_total_price",
        "data.order.delivery_cost",
        "data.order.currency",
        "data.order.custom_fields",
        "data.order.applied_promotions",
        "data.order.promocodes_info",
        "data.order.lines[].external_id",
        "data.order.lines[].line_number",
        "data.order.lines[].count",
        "data.order.lines[].product",
        "data.order.lines[].base_price_per_item",
        "data.order.lines[].min_price_per_item",
        "data.order.lines[].final_price_per_item",
        "data.order.lines[].custom_fields",
        "data.order.lines[].applied_promotions[].type",
        "data.order.lines[].applied_promotions[].promotion.external_id",
        "data.order.lines[].applied_promotions[].points_info.amount",
        "data.order.points_info[].points_currency_iid",
        "data.order.points_info[].points_currency_eid",
        "data.order.points_info[].name",
        "data.order.points_info[].status",
        "data.order.points_info[].active_amount_for_current_order",
        "data.order.points_info[].accrue_points_amount_for_current_order",
        "data.order.points_info[].redeemed_points_amount_for_current_order",
    ),
    "preorder_commit": (
        "data.status",
        "data.processing_target",
        "data.external_id",
        "data.issued_promocodes",
        "data.contents",
        "data.points_changes[].points_info.points_currency_iid",
        "data.points_changes[].points_info.points_currency_eid",
        "data.points_changes[].points_info.name",
        "data.points_changes[].points_info.amount",
        "data.points_changes[].accrue_points",
        "data.points_changes[].redeem_points",
    ),
    "balance": ("data.total_balance", "data.active_balance", "data.points_currency_eid"),
    "accrue_points": (
        "data.transaction_id",
        "data.transaction_eid",
        "data.amount",
        "data.balance",
        "data.total_balance",
        "data.transactions[].transaction_id",
        "data.transactions[].amount",
        "data.transactions[].balance",
        "data.transactions[].total_balance",
    ),
    "commit_transaction": (
        "data.transaction_id",
        "data.result_transaction_id",
        "data.balance",
        "data.total_balance",
    ),
    "transactions": (
        "total_count",
        "data[].transaction_id",
        "data[].created_at",
        "data[].transaction_type",
        "data[].amount",
        "data[].balance_before",
        "data[].balance_after",
        "data[].temp",
    ),
    "expiring_points": ("data.expiring_points", "data.points_currency_eid"),
    "tiers": (
        "data[].tiers_group_id",
        "data[].tiers_group_type",
        "data[].tier_eid",
        "data[].tier_id",
        "data[].tier_order",
        "data[].tier_name",
        "data[].reached_at",
    ),
    "trigger_promotions": (
        "total_count",
        "data[].id",
        "data[].name",
        "data[].external_id",
        "data[].is_active",
        "data[].redeem_rules",
        "data[].accrual_rules",
    ),
    "register_member": ("profile_id",),
    "transactions_export": ("data.task_id",),
    "transactions_export_status": ("data.task_id", "data.status", "data.rows", "data.file"),
}
ALWAYS["redeeme_points"] = ALWAYS["accrue_points"]
ALWAYS["rollback_transaction"] = ALWAYS["cancel_transaction"] = ALWAYS["commit_transaction"]
ALWAYS["delete_member"] = ALWAYS["register_member"]


def present(document: object, path: str) -> bool:
    """``path`` is in ``document``; ``key[]`` is a list that is not empty, each item checked."""
    head, _, rest = path.partition(".")
    if head.endswith("[]"):
        items = document.get(head[:-2]) if isinstance(document, dict) else None
        return isinstance(items, list) and bool(items) and all(present(i, rest) for i in items)
    if not isinstance(document, dict) or head not in document:
        return False
    return not rest or present(document[head], rest)


KINDS: dict[object, Callable[[object], bool]] = {
    TEXT: lambda v: isinstance(v, str),
    INT: lambda v: isinstance(v, int) and not isinstance(v, bool),
    BOOL: lambda v: isinstance(v, bool),
    NUMBER: lambda v: isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool)),
    FREE: lambda v: isinstance(v, dict),
}


def misfits(value: object, shape: Shape, path: str = "") -> list[str]:
    """Where ``value`` leaves its shape: a key the shape lacks (XML could not read it back
    typed) or a value of another kind."""
    if isinstance(shape, Mapping):
        if not isinstance(value, dict):
            return [f"{path}: not an object"]
        return [
            problem
            for key, inner in value.items()
            for problem in (
                misfits(inner, shape[key], f"{path}.{key}")
                if key in shape
                else [f"{path}.{key}: not in the shape"]
            )
        ]
    if isinstance(shape, tuple):
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        return [p for i, item in enumerate(value) for p in misfits(item, shape[0], f"{path}[{i}]")]
    return [] if KINDS[shape](value) else [f"{path}: {value!r} is not {shape.value}"]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("method", METHODS)
def test_every_method_answers_its_example_in_json_and_xml(
    stores: Callable[[str], Store], tmp_path: Path, method: str, kind: str
) -> None:
    """The example, as the file holds it and rendered to XML, answers error 0 (HTTP 200) with
    every field the contract always sends, typed as its shape says; both answers are the same
    document."""
    exports = tmp_path / "exports"
    answers = []
    for fmt in ("json", "xml"):
        store = stores(kind)
        request = prepare(store, method, exports)
        path = SEED_003 if method == "preorder" else API / f"{method}.json"
        as_is = fmt == "json" and path.exists() and json.loads(path.read_text()) == request
        body = path.read_bytes() if as_is else encode(request, fmt)
        reply = respond(method, body, fmt, store=store, program=PROGRAM, now=NOW, exports=exports)
        assert (reply.code, reply.status, reply.content_type) == (0, 200, f"application/{fmt}")
        answers.append(decoded(reply, method, fmt))

    from_json, from_xml = answers
    assert from_xml == from_json
    assert misfits(from_json, shapes.RESPONSES[method]) == []
    missing = [p for p in (*ALWAYS[method], "error", "error_text") if not present(from_json, p)]
    assert missing == []
    assert from_json["error_text"] == "Successful operation"


def test_the_examples_give_the_documented_figures(store: MemoryStore) -> None:
    """In a working order, the examples move the balance as docs/wire.md says: +100, a held 50
    (active first), its commit, a cancelled accrual, and the preorder's 5% and 499."""
    assert balance(store) == ("20999", "20999")
    accrued = ok(store, "accrue_points", example("accrue_points"))["data"]
    assert (accrued["amount"], accrued["balance"], accrued["total_balance"]) == (
        "100",
        "21099",
        "21099",
    )
    held = ok(store, "redeeme_points", example("redeeme_points"))["data"]
    assert (held["balance"], held["total_balance"]) == ("21049", "21099")
    committed = ok(store, "commit_transaction", example("commit_transaction"))["data"]
    assert (committed["transaction_id"], committed["total_balance"]) == (
        held["transaction_id"],
        "21049",
    )
    cancelled = ok(store, "cancel_transaction", example("cancel_transaction"))["data"]
    assert (cancelled["transaction_id"], cancelled["balance"]) == (
        accrued["transaction_id"],
        "20949",
    )
    order = ok(store, "preorder", example("preorder"))["data"]["order"]
    (points, _) = order["points_info"]
    assert order["final_total_price"] == "139500.00"
    assert points["accrue_points_amount_for_current_order"] == "6999"
    done = ok(store, "preorder_commit", example("preorder_commit"))["data"]
    (change,) = done["points_changes"]
    assert (change["accrue_points"], change["redeem_points"]) == (6999, 499)
    assert balance(store) == (str(20949 + 6999 - 499),) * 2


# --- 2. error codes -------------------------------------------------------------------------------

NO_SUCH_ID = str(uuid.UUID(int=1))
ERRORS: dict[str, tuple[str, Json, int]] = {
    "unknown-method": ("no_such_method", {}, 4),
    "member-not-found-by-email": ("balance", {**example("balance"), "email": "no@example.com"}, 5),
    "member-not-found-by-profile-id": (
        "balance",
        {**example("balance"), "matching": "profile_id", "profile_id": "nobody"},
        5,
    ),
    "member-not-found-by-custom-field": (
        "tiers",
        {
            **example("tiers"),
            "matching": "custom",
            "field_name": "card_number",
            "field_value": "0000",
        },
        5,
    ),
    "unknown-currency-eid": ("balance", {**example("balance"), "points_currency_eid": "stars"}, 6),
    "unknown-currency-iid": (
        "accrue_points",
        {**direct(), "points_currency_eid": None, "points_currency_iid": 99},
        6,
    ),
    "insufficient-balance": (
        "redeeme_points",
        direct("redeeme_points", is_temp=None, temp_timeout_sec=None, amount="21000"),
        7,
    ),
    "transaction-not-found-by-id": ("commit_transaction", {"transaction_id": NO_SUCH_ID}, 8),
    "transaction-not-found-by-eid": ("cancel_transaction", {"transaction_eid": "nope"}, 8),
    "unknown-program": ("balance", {**example("balance"), "loyalty_program_id": 2}, 14),
    "unknown-tier-group": ("tiers", {**example("tiers"), "tiers_group_id": 99}, 14),
    "task-not-found": (
        "transactions_export_status",
        {"task_id": f"task_{uuid.UUID(int=2)}"},
        15,
    ),
    "removed-member": ("balance", {**example("balance"), "email": NEWCOMER}, 3),
}


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("case", ERRORS)
def test_each_refusal_has_its_code(
    store: MemoryStore, tmp_path: Path, case: str, fmt: Format
) -> None:
    """Each case answers its code with the code's HTTP status and a message, in either format;
    only code 1 lists ``errors``."""
    method, request, code = ERRORS[case]
    if case == "removed-member":
        ok(store, "register_member", example("register_member"))
        ok(store, "delete_member", example("delete_member"))
    body = encode({k: v for k, v in request.items() if v is not None}, fmt)
    reply = respond(method, body, fmt, store=store, program=PROGRAM, now=NOW, exports=tmp_path)
    document = decoded(reply, method, fmt)

    assert (reply.code, reply.status, document["error"]) == (code, Code(code).http, code)
    assert document["error_text"] and "errors" not in document


def test_redeem_points_is_an_alias_of_redeeme_points(stores: Callable[[str], Store]) -> None:
    """The contract spells it ``redeeme_points``; ``redeem_points`` answers the same, in
    ``handle`` and in ``respond``."""
    body = (API / "redeeme_points.json").read_bytes()
    answers = []
    for name in ("redeeme_points", "redeem_points"):
        store = stores("memory")
        reply = respond(name, body, "json", store=store, program=PROGRAM, now=NOW)
        answers.append(json.loads(reply.body))
        assert call(stores("memory"), name, example("redeeme_points")) == answers[-1]
    assert answers[0] == answers[1]
    assert answers[0]["data"]["balance"] == "20949"


def test_an_unknown_method_names_the_known_ones(store: MemoryStore) -> None:
    """``handle`` refuses an unknown method with 4 and lists the methods it knows."""
    answer = call(store, "redeem", example("redeeme_points"))
    assert answer["error"] == 4
    assert all(m in answer["error_text"] for m in METHODS)


def test_a_reused_eid_with_another_body_is_code_9(store: MemoryStore) -> None:
    """An eid already used answers 9 for a different amount or description, and writes
    nothing; an order's external_id committed with another body is 9 too."""
    first = ok(store, "accrue_points", direct(amount="10"))
    for change in ({"amount": "11"}, {"description": "other"}, {"is_temp": True}):
        assert call(store, "accrue_points", {**direct(amount="10"), **change})["error"] == 9
    assert len(history(store)) == 2 and balance(store) == ("21009", "21009")
    assert call(store, "accrue_points", direct(amount="10")) == first

    ok(store, "preorder_commit", example("preorder_commit"))
    other = example("preorder_commit")
    other["data"]["status"] = "paid"
    assert call(store, "preorder_commit", other)["error"] == 9


def test_an_identity_of_another_member_is_code_9(store: MemoryStore) -> None:
    """Registering a newcomer with the example member's phone is refused (9), and nobody is
    created."""
    request = {**example("register_member"), "phone": "+7 900 123-45-67"}
    assert call(store, "register_member", request)["error"] == 9
    assert call(store, "balance", {**example("balance"), "email": NEWCOMER})["error"] == 5


def test_an_eid_two_members_use_is_ambiguous_alone(store: MemoryStore) -> None:
    """Two members' accruals share an eid: naming it alone is 16 for cancel (and commit), the
    matching block picks one, and only that member's balance changes."""
    ok(store, "register_member", example("register_member"))
    ok(store, "accrue_points", direct(amount="10", transaction_eid="shared"))
    ok(store, "accrue_points", direct(amount="10", transaction_eid="shared", email=NEWCOMER))

    for method in ("cancel_transaction", "commit_transaction"):
        assert call(store, method, {"transaction_eid": "shared"})["error"] == 16
    ok(
        store,
        "cancel_transaction",
        {
            "transaction_eid": "shared",
            "matching": "email",
            "email": NEWCOMER,
            "points_currency_eid": "bonus1",
        },
    )
    assert balance(store, NEWCOMER) == ("0", "0")
    assert balance(store) == ("21009", "21009")


def test_an_eid_is_found_by_its_id_when_shared(store: MemoryStore) -> None:
    """``transaction_id`` names one row even when its eid is shared: no 16."""
    ok(store, "register_member", example("register_member"))
    mine = ok(store, "accrue_points", direct(amount="10", transaction_eid="shared"))["data"]
    ok(store, "accrue_points", direct(amount="10", transaction_eid="shared", email=NEWCOMER))
    answer = ok(store, "cancel_transaction", {"transaction_id": mine["transaction_id"]})
    assert answer["data"]["balance"] == "20999"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_token_is_checked_when_tokens_are_given(store: MemoryStore, fmt: Format) -> None:
    """With accepted ``tokens``: none, an empty or a wrong one is 11 (HTTP 401) and writes
    nothing; the right one in the body, or from outside it (``token=``, Authorization), is
    accepted; an outside token is the one checked."""
    tokens = {TOKEN, "second-token"}
    request = direct(amount="10")
    bare = {k: v for k, v in request.items() if k != "token"}

    def send(body: Json, token: str | None = None) -> int:
        reply = respond(
            "accrue_points",
            encode(body, fmt),
            fmt,
            store=store,
            program=PROGRAM,
            now=NOW,
            tokens=tokens,
            token=token,
        )
        assert reply.status == Code(reply.code).http
        assert decoded(reply, "accrue_points", fmt)["error"] == reply.code
        return reply.code

    assert send(bare) == 11
    assert send({**bare, "token": ""}) == 11
    assert send({**bare, "token": "nope"}) == 11
    assert send(request, token="nope") == 11  # the header's token, not the body's
    assert balance(store) == ("20999", "20999")
    assert send(request) == 0
    assert send({**bare, "transaction_eid": "second"}, token="second-token") == 0
    assert balance(store) == ("21019", "21019")


def test_without_tokens_there_is_no_check(store: MemoryStore) -> None:
    """``tokens=None`` (the local CLI): a body without a token is served."""
    body = encode({k: v for k, v in example("balance").items() if k != "token"}, "json")
    assert respond("balance", body, "json", store=store, program=PROGRAM, now=NOW).code == 0


INVALID: dict[str, tuple[str, Json, list[tuple[str, str]]]] = {
    "amount-abc": ("accrue_points", {**direct(), "amount": "abc"}, [("amount", "'abc'")]),
    "profile-id-5": (
        "balance",
        {**example("balance"), "matching": "profile_id", "profile_id": 5},
        [("profile_id", "5")],
    ),
    "limit-as-text": (
        "transactions",
        {**example("transactions"), "limit": "20"},
        [("limit", "'20'")],
    ),
    "limit-0": ("transactions", {**example("transactions"), "limit": 0}, [("limit", "0")]),
    "is-active-yes": (
        "trigger_promotions",
        {**example("trigger_promotions"), "is_active": "yes"},
        [("is_active", "'yes'")],
    ),
    "two-problems": (
        "accrue_points",
        {**direct(), "amount": "abc", "is_temp": "yes"},
        [("amount", "'abc'"), ("is_temp", "'yes'")],
    ),
    "line-count": (
        "preorder",
        {
            **example("preorder"),
            "data": {
                **example("preorder")["data"],
                "lines": [{**example("preorder")["data"]["lines"][0], "count": "one"}],
            },
        },
        [("data.lines[0].count", "'one'")],
    ),
    "date": (
        "expiring_points",
        {**example("expiring_points"), "date_to": "next week"},
        [("date_to", "'next week'")],
    ),
    "no-matching": (
        "balance",
        {k: v for k, v in example("balance").items() if k not in ("matching", "email")},
        [("matching", "None")],
    ),
}


@pytest.mark.parametrize("case", INVALID)
def test_a_wrong_value_is_code_1_with_its_path_and_the_value_as_sent(
    store: MemoryStore, case: str
) -> None:
    """Each problem is listed under ``errors`` with its wire path and the value as sent."""
    method, request, problems = INVALID[case]
    answer = call(store, method, request)
    assert answer["error"] == 1
    assert [(e["path"], e["value"]) for e in answer["errors"]] == problems
    assert all(e["reason"] for e in answer["errors"])


@pytest.mark.parametrize("case", ["amount-abc", "line-count", "date"])
def test_a_wrong_value_in_xml_is_listed_alike(store: MemoryStore, case: str) -> None:
    """The same text in XML (where it is no type error of XML's own) lists the same problems."""
    method, request, _ = INVALID[case]
    reply = respond(method, encode(request, "xml"), "xml", store=store, program=PROGRAM, now=NOW)
    assert decoded(reply, method, "xml") == call(store, method, request)


def test_every_problem_is_listed_at_once(store: MemoryStore) -> None:
    """docs/wire.md: an invalid request lists *every* problem in ``errors[]``."""
    request = {**example("balance"), "loyalty_program_id": "1", "email": 5}
    answer = call(store, "balance", request)
    assert [e["path"] for e in answer["errors"]] == ["loyalty_program_id", "email"]


@pytest.mark.parametrize(
    ("method", "request_", "problem"),
    [
        ("accrue_points", direct(amount="-5"), ("amount", "'-5'")),
        ("redeeme_points", direct("redeeme_points", amount=0), ("amount", "0")),
        ("accrue_points", direct(amount="1.5"), ("amount", "'1.5'")),
        (
            "accrue_points",
            direct(amount="1", expiration_date="2020-01-01T00:00:00Z"),
            ("expiration_date", "'2020-01-01T00:00:00Z'"),
        ),
    ],
)
def test_an_amount_error_quotes_the_value_as_sent(
    store: MemoryStore, method: str, request_: Json, problem: tuple[str, str]
) -> None:
    """``value`` is what the client sent, so it can find it: ``'-5'``, not ``Decimal('-5')``."""
    answer = call(store, method, request_)
    assert answer["error"] == 1
    assert [(e["path"], e["value"]) for e in answer["errors"]] == [problem]


# --- 3. idempotency -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "request_", "after"),
    [
        ("accrue_points", direct(amount="10"), ("21009", "21009")),
        (
            "redeeme_points",
            direct("redeeme_points", is_temp=None, temp_timeout_sec=None),
            ("20949", "20949"),
        ),
        ("redeeme_points", example("redeeme_points"), ("20999", "20949")),
        ("accrue_points", example("accrue_points"), ("21099", "21099")),
    ],
    ids=["accrue", "redeem", "held-redeem", "trigger-accrue"],
)
def test_an_eid_replayed_is_one_transaction(
    store: MemoryStore, method: str, request_: Json, after: tuple[str, str]
) -> None:
    """The same request with the same eid, twice: the same answer, one row, one change."""
    first = ok(store, method, request_)
    assert call(store, method, request_) == first
    assert balance(store) == after
    assert [r["transaction_eid"] for r in history(store)].count(request_["transaction_eid"]) == 1


@pytest.mark.parametrize(
    ("method", "hold", "after"),
    [
        ("commit_transaction", "redeeme_points", ("20949", "20949")),
        ("rollback_transaction", "redeeme_points", ("20999", "20999")),
        ("commit_transaction", "accrue_points", ("21049", "21049")),
        ("rollback_transaction", "accrue_points", ("20999", "20999")),
        ("cancel_transaction", "accrue_points", ("20999", "20999")),
        ("cancel_transaction", "redeeme_points", ("20999", "20999")),
    ],
)
def test_commit_rollback_and_cancel_replayed_change_once(
    store: MemoryStore, method: str, hold: str, after: tuple[str, str]
) -> None:
    """Twice by eid, then by id: the same answer each time, one row written, the balance moved
    once."""
    held = method != "cancel_transaction"
    request = direct(
        hold, amount="50", transaction_eid="t-1", is_temp=held or None, temp_timeout_sec=None
    )
    target = ok(store, hold, request)["data"]
    rows = len(history(store))

    first = ok(store, method, {"transaction_eid": "t-1"})
    assert call(store, method, {"transaction_eid": "t-1"}) == first
    assert call(store, method, {"transaction_id": target["transaction_id"]}) == first
    assert first["data"]["transaction_id"] == target["transaction_id"]
    assert balance(store) == after
    assert len(history(store)) == rows + 1


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("commit_transaction", "rollback_transaction"),
        ("rollback_transaction", "commit_transaction"),
    ],
)
def test_a_closed_hold_cannot_be_closed_the_other_way(
    store: MemoryStore, first: str, then: str
) -> None:
    """A rollback after a commit (and a commit after a rollback) is refused (3)."""
    ok(store, "redeeme_points", example("redeeme_points"))
    ok(store, first, example("commit_transaction"))
    assert call(store, then, example("commit_transaction"))["error"] == 3


def test_a_replayed_commit_is_processed_and_changes_nothing(store: MemoryStore) -> None:
    """preorder_commit twice: ``immediate``, then the same answer as ``processed``; the points
    moved once."""
    first = ok(store, "preorder_commit", example("preorder_commit"))
    after = balance(store)
    again = ok(store, "preorder_commit", example("preorder_commit"))

    assert first["data"]["processing_target"] == "immediate"
    assert again["data"]["processing_target"] == "processed"
    assert {**again["data"], "processing_target": "immediate"} == first["data"]
    assert balance(store) == after == (str(20999 + 6999 - 499),) * 2


def test_an_outdated_commit_writes_nothing(store: MemoryStore) -> None:
    """A commit whose prices differ from the calculation is ``outdated`` (error 0) with its
    differences, and the balance stays."""
    request = example("preorder_commit")
    request["data"]["lines"][0]["final_price_per_item"] = "139000.00"
    answer = ok(store, "preorder_commit", request)["data"]
    assert answer["status"] == "outdated" and "processing_target" not in answer
    assert answer["differences"] == [
        {
            "path": "lines[line___ASTGRf].final_price_per_item",
            "requested": "139000.00",
            "actual": "139500.00",
        }
    ]
    assert balance(store) == ("20999", "20999")


# --- 4. history, expiring points, tiers -----------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 100])
def test_pages_of_the_history_add_up_to_the_whole(store: MemoryStore, limit: int) -> None:
    """Following ``next_from_id`` with a ``limit`` visits every row once, in order; each page
    says the same ``total_count``; the last page has no ``next_from_id``."""
    for i in range(6):
        ok(store, "accrue_points", direct(amount=str(i + 1), transaction_eid=f"e{i}"))
    whole = history(store)
    assert len(whole) == 7

    seen: list[Json] = []
    request = {**example("transactions"), "limit": limit}
    while True:
        page = ok(store, "transactions", request)
        assert page["total_count"] == 7 and len(page["data"]) <= limit
        seen += page["data"]
        if "next_from_id" not in page:
            break
        assert page["next_from_id"] == page["data"][-1]["transaction_id"]
        request = {**request, "from_id": page["next_from_id"]}
    assert seen == whole
    assert [r["transaction_eid"] for r in whole] == ["import:bonus1"] + [f"e{i}" for i in range(6)]
    assert [(r["balance_before"], r["balance_after"]) for r in whole[1:3]] == [
        ("20999", "21000"),
        ("21000", "21002"),
    ]


def history_of(store: Store, currency: str) -> list[Json]:
    request = {**example("transactions"), "points_currency_eid": currency}
    rows: list[Json] = ok(store, "transactions", request)["data"]
    return rows


def test_a_from_id_of_another_account_is_refused(store: MemoryStore) -> None:
    """``from_id`` must be a row of this account: another currency's row is error 1."""
    ok(store, "accrue_points", direct(amount="5", points_currency_eid="qual"))
    other = history_of(store, "qual")[0]["transaction_id"]
    answer = call(store, "transactions", {**example("transactions"), "from_id": other})
    assert (answer["error"], answer["errors"][0]["path"]) == (1, "from_id")


@pytest.mark.parametrize(
    ("date_from", "date_to", "expiring"),
    [
        ("2027-01-01T00:00:00Z", "2027-01-31T23:59:59Z", "40"),
        ("2027-01-15T12:00:00Z", "2027-01-15T12:00:00Z", "40"),  # both ends included
        ("2027-01-15T12:00:01Z", "2027-06-30T00:00:00Z", "0"),
        ("2027-01-01T00:00:00Z", "2027-12-31T23:59:59Z", "21039"),  # and the opening balance
        ("2027-11-26T10:00:00Z", "2027-11-26T10:00:00Z", "20999"),  # imported + 365 days
    ],
)
def test_expiring_points_count_the_lots_ending_in_the_window(
    store: MemoryStore, date_from: str, date_to: str, expiring: str
) -> None:
    """The points whose expiration falls in [date_from, date_to], both ends included."""
    ok(store, "accrue_points", direct(amount="40", expiration_date="2027-01-15T12:00:00Z"))
    request = {**example("expiring_points"), "date_from": date_from, "date_to": date_to}
    assert ok(store, "expiring_points", request)["data"]["expiring_points"] == expiring


def test_tiers_follow_the_qualifying_points(store: MemoryStore) -> None:
    """Bronze at 0, Silver at 100 (the survey's 150), Gold at 500; each with the time it was
    reached; spending ordinary points changes nothing."""

    def reached() -> list[tuple[str, str]]:
        data = ok(store, "tiers", example("tiers"))["data"]
        return [(t["tier_eid"], t["reached_at"]) for t in data]

    assert reached() == [("bronze1-1", "2026-01-10T09:00:00Z")]
    survey = {
        **example("accrue_points"),
        "promotion_id": "survey",
        "amount": None,
        "points_currency_eid": "qual",
        "transaction_eid": "survey-1",
    }
    assert ok(store, "accrue_points", survey)["data"]["amount"] == "150"
    assert reached() == [
        ("bronze1-1", "2026-01-10T09:00:00Z"),
        ("silver1-2", "2026-12-03T10:00:00Z"),
    ]
    ok(
        store,
        "redeeme_points",
        direct("redeeme_points", amount="1000", is_temp=None, temp_timeout_sec=None),
    )
    assert len(reached()) == 2
    ok(store, "accrue_points", direct(amount="350", points_currency_eid="qual"))
    assert [eid for eid, _ in reached()] == ["bronze1-1", "silver1-2", "gold1-3"]


# --- 5. register and delete -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_register_find_delete_register_again(stores: Callable[[str], Store], kind: str) -> None:
    """A newcomer registered by email has an empty balance found by that email; registering
    again finds the same member; after delete the member is refused (3: removed, docs/wire.md)
    and may register again; the example member is untouched."""
    store = stores(kind)
    assert call(store, "balance", {**example("balance"), "email": NEWCOMER})["error"] == 5
    first = ok(store, "register_member", example("register_member"))
    profile = first["profile_id"]
    assert re.fullmatch(r"p-[0-9a-f]{32}", profile)
    assert balance(store, NEWCOMER.upper()) == ("0", "0")  # emails compare case-insensitively
    assert ok(store, "register_member", example("register_member")) == first

    assert ok(store, "delete_member", example("delete_member"))["profile_id"] == profile
    assert call(store, "balance", {**example("balance"), "email": NEWCOMER})["error"] == 3
    assert ok(store, "register_member", example("register_member"))["profile_id"] == profile
    assert balance(store, NEWCOMER) == ("0", "0")
    assert balance(store) == ("20999", "20999")


def test_delete_forfeits_the_points_and_keeps_the_history(store: MemoryStore) -> None:
    """Deleting the example member writes a forfeit row of the whole balance; the history is
    still readable."""
    ok(store, "delete_member", {**example("delete_member"), "email": EMAIL})
    rows = history(store)
    assert [(r["transaction_type"], r["amount"], r["balance_after"]) for r in rows] == [
        ("accrual", "20999", "20999"),
        ("forfeit", "20999", "0"),
    ]


def test_delete_of_nobody_is_code_5(store: MemoryStore) -> None:
    """Deleting an email nobody has is member not found, not a registration."""
    assert call(store, "delete_member", example("delete_member"))["error"] == 5


# --- 6. export ------------------------------------------------------------------------------------

EXPORT_COLUMNS = [
    "transaction_id",
    "transaction_eid",
    "profile_id",
    "points_currency_eid",
    "created_at",
    "transaction_type",
    "amount",
    "delta",
    "balance_before",
    "balance_after",
    "temp",
    "deadline",
    "activation_date",
    "expiration_date",
    "refers_to",
    "promo_eid",
    "description",
    "source_type",
    "source_id",
]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_an_export_writes_every_row_of_the_currency_with_wire_ids(
    stores: Callable[[str], Store], tmp_path: Path, kind: str
) -> None:
    """``transactions_export`` answers a task id; its status is ``done`` with the row count and
    the file; the CSV has the documented columns and one row per transaction of the currency
    in the window, by the ids ``transactions`` shows (a cancel's ``refers_to`` included)."""
    store = stores(kind)
    exports = tmp_path / "exports"
    accrued = ok(store, "accrue_points", example("accrue_points"))["data"]
    ok(store, "cancel_transaction", example("cancel_transaction"))
    ok(store, "accrue_points", direct(amount="5", points_currency_eid="qual"))  # not exported
    ok(store, "register_member", example("register_member"))
    ok(store, "accrue_points", direct(amount="7", email=NEWCOMER))

    task = ok(store, "transactions_export", example("transactions_export"), exports)["data"]
    assert re.fullmatch(r"task_[0-9a-f-]{36}", task["task_id"])
    status = ok(store, "transactions_export_status", {"task_id": task["task_id"]}, exports)
    assert status["data"]["status"] == "done"
    with Path(status["data"]["file"]).open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        assert reader.fieldnames == EXPORT_COLUMNS
        rows = list(reader)

    assert status["data"]["rows"] == len(rows) == 4
    ids = {r["transaction_id"] for r in history(store) + history(store, NEWCOMER)}
    assert {r["transaction_id"] for r in rows} == ids
    assert {r["points_currency_eid"] for r in rows} == {"bonus1"}
    (cancel,) = [r for r in rows if r["refers_to"]]
    assert cancel["refers_to"] == accrued["transaction_id"]
    assert all(uuid.UUID(r["transaction_id"]) for r in rows)


def test_an_export_window_and_from_id_narrow_it(store: MemoryStore, tmp_path: Path) -> None:
    """A window before the rows exports none; ``from_id`` exports only the rows after it."""
    first = ok(store, "accrue_points", direct(amount="1", transaction_eid="a"))["data"]
    ok(store, "accrue_points", direct(amount="2", transaction_eid="b"))

    def rows(**changes: str) -> int:
        request = {**example("transactions_export"), **changes}
        task = ok(store, "transactions_export", request, tmp_path)["data"]
        status = ok(store, "transactions_export_status", task, tmp_path)["data"]
        count: int = status["rows"]
        return count

    assert rows() == 3
    assert rows(date_to="2026-11-01T00:00:00Z") == 0
    assert rows(from_id=first["transaction_id"]) == 1


def test_an_export_without_a_directory_is_refused(store: MemoryStore) -> None:
    """Without an exports directory (``exports=None``) an export is refused (3)."""
    assert call(store, "transactions_export", example("transactions_export"))["error"] == 3


# --- 7. fuzz --------------------------------------------------------------------------------------

HOSTILE: list[object] = [
    *(None, True, False, 0, -1, 2**63, -(2**63) - 1, 10**30, 10**60),
    *(1.5, -0.0, 1e300, float("nan"), float("inf")),
    *("NaN", "Infinity", "-0", "1e999", "0.0000001", "100.505", "-100", "١٠٠"),
    *("", " ", "\x00", "\u202e", "\ud800", "x" * 10_000, "task_../../etc/passwd"),
    *("2026-02-30T00:00:00Z", "2026-01-01T00:00:00", "9999-12-31T23:59:59+14:00"),
    *([], [[[[]]]], [None] * 3, {}, {"a": {"b": {"c": []}}}, {"matching": "email"}),
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


def paths(value: object, at: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every place in a document where a value sits."""
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    out = [at] if at else []
    for key, inner in items:
        out += paths(inner, (*at, key))
    return out


def replaced(document: Json, path: tuple[str | int, ...], value: object) -> Json:
    out = copy.deepcopy(document)
    parent: Any = out
    for key in path[:-1]:
        parent = parent[key]
    if value is ...:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return out


@st.composite
def bodies(draw: st.DrawFn, method: str, request: Json, fmt: Format) -> bytes:
    """Random bytes, a random document, or the method's request with one value replaced by a
    hostile one (or removed, or a key added)."""
    kind = draw(st.sampled_from(["bytes", "document", "replaced", "removed", "added"]))
    event(f"body: {kind}")
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    document: Json
    if kind == "document":
        document = draw(
            st.dictionaries(
                st.sampled_from(sorted(request)) | st.text(max_size=8), json_values, max_size=6
            )
        )
    elif kind == "added":
        key = draw(st.sampled_from(sorted(shapes.REQUESTS[method])) | st.text(max_size=8))
        document = {**request, key: draw(st.sampled_from(HOSTILE) | json_values)}
    else:
        path = draw(st.sampled_from(paths(request)))
        value = ... if kind == "removed" else draw(st.sampled_from(HOSTILE) | json_values)
        document = replaced(request, path, value)
    if fmt == "xml":
        return encode(document, "xml")
    return json.dumps(document).encode()


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("exports")


@pytest.mark.parametrize("fmt", ["json", "xml"])
@given(data=st.data())
def test_no_body_is_an_internal_error(exports: Path, fmt: Format, data: st.DataObject) -> None:
    """Whatever arrives for whichever method, ``respond`` answers: a Reply whose body decodes,
    with ``error``, ``error_text`` and the code's HTTP status, never 99 (a bug)."""
    method = data.draw(st.sampled_from([*METHODS, "redeem_points"]), label="method")
    name = api.ALIASES.get(method, method)
    store = memory_store()
    request = prepare(store, name, exports)
    body = data.draw(bodies(name, request, fmt), label="body")

    reply = respond(method, body, fmt, store=store, program=PROGRAM, now=NOW, exports=exports)
    event(f"method: {method}")
    event(f"error: {reply.code}")
    assert reply.code != Code.INTERNAL
    document = decoded(reply, name, fmt)
    assert document["error"] == reply.code and isinstance(document["error_text"], str)
    assert reply.status == Code(reply.code).http
    if reply.code == 1:
        assert document["errors"]
