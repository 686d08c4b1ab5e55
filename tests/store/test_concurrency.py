"""Stores under concurrency: processes on one SQLite file or one JSON state file, and threads on
one MemoryStore (or each with its own SqliteStore / JsonFileStore on one file), all committing
for the same member at once.

The processes are ``worker.py``: each loads the library, waits at a barrier (a start file), then
runs its ``loyalty-engine commit`` command lines in-process (``cli.main``: the CLI's code path
without an interpreter start per commit, so the commits really overlap); one test starts plain
``loyalty-engine`` processes instead. The balance covers only some of the redemptions asked
for: the store's compare-and-swap must let exactly those through, and nothing of the others.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest
from race_support import (
    COMMIT_AT,
    IMPORT_AT,
    PROGRAM,
    REDEEM,
    STARS,
    balance,
    check_ledger,
    code_request,
    commit_argv,
    db_check,
    db_import,
    eids,
    export,
    guest_request,
    member_request,
    order_rows,
    race,
    response_of,
    rows_of,
    store_option,
    write_json,
    write_program,
)

import loyalty_engine as le
from loyalty_engine.altcraft.commit import parse_commit_request, render_commit_response
from loyalty_engine.errors import ConflictError
from loyalty_engine.ledger.effects import Effects
from loyalty_engine.store import (
    Committed,
    JsonFileStore,
    Match,
    MemoryStore,
    Profile,
    SqliteStore,
    Store,
    commit_order,
    import_document,
    member_at,
    to_document,
)
from loyalty_engine.store.tables import Tables

KINDS = ["sqlite", "json"]
OPENING = 1000  # bonus1 points of member m1
REDEEM_EACH = 300  # each order redeems this much: the balance covers 3 of them
CODES = ["WLCM-1", "WLCM-2", "WLCM-3"]
IMPORT = {
    "members": [{"profile_id": "m1", "registered_at": IMPORT_AT,
                 "balances": {"bonus1": str(OPENING)}}],
    "pools": [{"pool_id": 100, "name": "Welcome Promocodes", "codes": CODES}],
}  # fmt: skip


@pytest.fixture
def program(tmp_path: Path) -> Path:
    return write_program(tmp_path)


def new_store(tmp_path: Path, kind: str, program: Path) -> list[str]:
    """A store holding ``IMPORT``, made by ``loyalty-engine db import``."""
    store = store_option(kind, tmp_path / ("store.sqlite" if kind == "sqlite" else "state.json"))
    db_import(write_json(tmp_path / "import.json", IMPORT), program, store)
    return store


def requests(tmp_path: Path, build: Callable[[str], dict[str, Any]], ids: list[str]) -> list[Path]:
    return [write_json(tmp_path / f"request-{i}.json", build(i)) for i in ids]


# --- the checks, on a store exported in the state-file format (db export, to_document) -------


def assert_balance_race(
    document: Mapping[str, Any], answers: Mapping[str, Mapping[str, Any] | None]
) -> None:
    """Exactly the orders the balance covered succeeded, each stored whole; the rest left
    nothing; no point was spent twice and the balance never went below zero."""
    check_ledger(document)
    status = {
        eid: (a["data"]["status"] if a is not None else "gave up") for eid, a in answers.items()
    }
    assert set(status.values()) <= {"success", "outdated", "gave up"}, status
    won = sorted(eid for eid, s in status.items() if s == "success")
    assert len(won) == OPENING // REDEEM_EACH, status
    for eid in won:
        answer = answers[eid]
        assert answer is not None and answer["data"]["processing_target"] == "immediate"
        assert eids(order_rows(document, eid)) == [f"order:{eid}:{STARS}", f"order:{eid}:{REDEEM}"]
        assert document["orders"][eid]["response"] == answer
        assert document["orders"][eid]["profile_id"] == "m1"
    for eid in set(answers) - set(won):
        assert order_rows(document, eid) == [], eid
        assert eid not in document["orders"], eid
    assert sorted(document["orders"]) == won
    spent = [r for r in rows_of(document, "m1", "bonus1") if r["transaction_type"] == "redemption"]
    assert sorted(r["source_id"] for r in spent) == won  # each winner once, nobody twice
    assert all(r["amount"] == str(REDEEM_EACH) for r in spent)
    assert balance(document, "m1", "bonus1") == OPENING - REDEEM_EACH * len(won)
    assert balance(document, "m1", "stars") == 5 * len(won)
    # the winners were serialised: each saw the balance the one before it left
    reported = sorted(
        int(c["points_info"]["amount"])
        for eid in won
        for c in answers[eid]["data"]["points_changes"]  # type: ignore[index]
        if c["points_info"]["points_currency_eid"] == "bonus1"
    )
    assert reported == [OPENING - REDEEM_EACH * k for k in range(len(won), 0, -1)]


def assert_one_order_many_times(
    document: Mapping[str, Any], answers: Mapping[str, list[Mapping[str, Any] | None]]
) -> None:
    """Each order committed at once by several: one ``immediate``, the others replays of the
    same body, and its rows stored once."""
    check_ledger(document)
    for eid, got in answers.items():
        assert all(a is not None for a in got), (eid, got)
        targets = sorted(a["data"]["processing_target"] for a in got)  # type: ignore[index]
        assert targets == ["immediate"] + ["processed"] * (len(got) - 1), (eid, targets)
        bodies = [
            {**a["data"], "processing_target": None}  # type: ignore[index]
            for a in got
        ]
        assert all(b == bodies[0] for b in bodies), eid
        assert bodies[0]["status"] == "success"
        if eid.startswith("guest"):  # the order's record is all it wrote
            assert order_rows(document, eid) == [] and document["orders"][eid]["profile_id"] is None
        else:
            rows = eids(order_rows(document, eid))
            assert rows == [f"order:{eid}:{STARS}", f"order:{eid}:{REDEEM}"]
        assert document["orders"][eid]["response"]["data"] == {
            **bodies[0],
            "processing_target": "immediate",
        }
    assert sorted(document["orders"]) == sorted(answers)
    members = sum(1 for eid in answers if not eid.startswith("guest"))
    assert balance(document, "m1", "bonus1") == OPENING - 100 * members
    assert balance(document, "m1", "stars") == 5 * members


def assert_codes_handed_out_once(
    document: Mapping[str, Any], answers: Mapping[str, Mapping[str, Any] | None]
) -> None:
    """No code reached two orders; every code handed out is marked so; the pool ran dry."""
    handed: list[str] = []
    missing = 0
    for eid, answer in answers.items():
        assert answer is not None and answer["data"]["status"] == "success", (eid, answer)
        (issued,) = answer["data"]["issued_promocodes"]
        handed += issued["codes"]
        missing += issued.get("missing", 0)
        assert len(issued["codes"]) + issued.get("missing", 0) == 1, issued
        assert document["orders"][eid]["response"] == answer
    assert sorted(handed) == CODES, handed  # each code once, and all of them
    assert missing == len(answers) - len(CODES)
    (pool,) = document["pools"]
    assert sorted(pool["issued"]) == CODES and pool["codes"] == []
    assert sorted(document["orders"]) == sorted(answers)


def one_order(eid: str) -> dict[str, Any]:
    """An order committed by several at once: m1 paying 100 points, or a promotion-less guest."""
    return (
        guest_request(eid, code=False)
        if eid.startswith("guest")
        else member_request(eid, redeem=100)
    )


# --- processes ---------------------------------------------------------------------------------


def outcomes(results: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any] | None]]:
    for result in results:
        request = json.loads(Path(result["argv"][1]).read_text())
        yield request["external_id"], response_of(result)


@pytest.mark.parametrize("kind", KINDS)
def test_processes_racing_for_one_balance(tmp_path: Path, program: Path, kind: str) -> None:
    """4 processes × 5 orders of 300 points against a balance of 1000: exactly 3 succeed."""
    store = new_store(tmp_path, kind, program)
    jobs = []
    for w in range(4):
        ids = [f"w{w}-o{j}" for j in range(5)]
        paths = requests(tmp_path, lambda i: member_request(i, redeem=REDEEM_EACH), ids)
        jobs.append([commit_argv(p, program, store) for p in paths])
    answers = dict(outcomes(race(tmp_path, jobs)))
    assert len(answers) == 20
    assert_balance_race(export(store), answers)
    db_check(program, store)


@pytest.mark.parametrize("kind", KINDS)
def test_processes_committing_one_order_at_once(tmp_path: Path, program: Path, kind: str) -> None:
    """4 processes commit the same 3 orders for m1 and 5 guests' orders without promotions (an
    order's record is all they write), in the same sequence, at once."""
    store = new_store(tmp_path, kind, program)
    ids = ["guest-1", "same-a", "guest-2", "same-b", "guest-3", "same-c", "guest-4", "guest-5"]
    paths = requests(tmp_path, one_order, ids)
    jobs = [[commit_argv(p, program, store) for p in paths] for _ in range(4)]
    answers: dict[str, list[dict[str, Any] | None]] = {i: [] for i in ids}
    for eid, answer in outcomes(race(tmp_path, jobs)):
        answers[eid].append(answer)
    assert_one_order_many_times(export(store), answers)
    db_check(program, store)


@pytest.mark.parametrize("kind", KINDS)
def test_cli_processes_started_together_replay_one_order(
    tmp_path: Path, program: Path, kind: str
) -> None:
    """The same with plain ``loyalty-engine commit`` processes, all started at once."""
    store = new_store(tmp_path, kind, program)
    (path,) = requests(tmp_path, lambda i: member_request(i, redeem=100), ["cli-same"])
    command = [sys.executable, "-m", "loyalty_engine", *commit_argv(path, program, store)]
    running = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    got = []
    for process in running:
        out, err = process.communicate(timeout=30)
        got.append(response_of({"rc": process.returncode, "stdout": out, "stderr": err}))
    assert_one_order_many_times(export(store), {"cli-same": got})


@pytest.mark.parametrize("kind", KINDS)
def test_processes_never_hand_out_one_code_twice(tmp_path: Path, program: Path, kind: str) -> None:
    """4 processes × 2 guest orders, each promised a code, from a pool of 3 single-use codes."""
    store = new_store(tmp_path, kind, program)
    jobs = []
    for w in range(4):
        paths = requests(tmp_path, code_request, [f"code-w{w}-{j}" for j in range(2)])
        jobs.append([commit_argv(p, program, store) for p in paths])
    answers = dict(outcomes(race(tmp_path, jobs)))
    assert_codes_handed_out_once(export(store), answers)
    db_check(program, store)


# --- threads, through the Python API -----------------------------------------------------------
#
# Two threads on one MemoryStore, as the brief of MemoryStore promises; and the same two threads
# each with its own SqliteStore or JsonFileStore on one file, which is how two processes see it
# but with the timing forced: every read of a member or of the pools lets the other thread run.


class Counting:
    """A store that counts the conflicts its ``apply`` raised (to see that the race happened),
    and is slow to read: after reading a member, an order or the pools it lets the other thread
    run, so both threads often compute on the same state and one of them must lose at
    ``apply``."""

    def __init__(self, inner: Store, counter: list[int]) -> None:
        self.inner = inner
        self.counter = counter
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def member(self, profile_id: str) -> Any:
        found = self.inner.member(profile_id)
        time.sleep(0.0002)
        return found

    def pools(self) -> Any:
        found = self.inner.pools()
        time.sleep(0.0002)
        return found

    def order(self, external_id: str) -> Any:
        found = self.inner.order(external_id)
        time.sleep(0.0002)
        return found

    def apply(self, effects: Effects, *, profile: Profile | None = None) -> None:
        try:
            self.inner.apply(effects, profile=profile)
        except ConflictError:
            with self._lock:
                self.counter[0] += 1
            raise


NOW = dt.datetime.fromisoformat(COMMIT_AT)
PROGRAM_VALUE = le.program_from_dict(tomllib.loads(PROGRAM))


@attrs.define
class Threaded:
    """Stores for threads: ``store()`` gives each thread its own (or the one MemoryStore)."""

    kind: str
    path: Path
    shared: MemoryStore | None = None
    opened: list[Store] = attrs.Factory(list)
    conflicts: list[int] = attrs.Factory(lambda: [0])

    def open(self) -> Store:
        if self.shared is not None:
            return self.shared
        made: Store = SqliteStore(self.path) if self.kind == "sqlite" else JsonFileStore(self.path)
        self.opened.append(made)
        return made

    def store(self) -> Counting:
        return Counting(self.open(), self.conflicts)

    def document(self) -> dict[str, Any]:
        """The whole store as ``db export`` prints it."""
        document: dict[str, Any] = json.loads(json.dumps(to_document(self.open())))
        return document


@pytest.fixture(params=["memory", "sqlite", "json"])
def threaded(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Threaded]:
    kind = request.param
    path = tmp_path / ("store.sqlite" if kind == "sqlite" else "state.json")
    made = Threaded(kind, path, MemoryStore() if kind == "memory" else None)
    import_document(made.open(), PROGRAM_VALUE, IMPORT, now=dt.datetime.fromisoformat(IMPORT_AT))
    # the in-memory compare-and-swap (MemoryStore, and the JSON store under its file lock) is
    # check-then-write: pause between the two, so a store that did not hold its lock across
    # both would let the other thread in (the GIL alone nearly never switches there)
    check = Tables.check

    def slow_check(self: Tables, *args: Any) -> None:
        check(self, *args)
        time.sleep(0.0002)

    monkeypatch.setattr(Tables, "check", slow_check)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, so the commits interleave
    try:
        yield made
    finally:
        sys.setswitchinterval(interval)
        for store in made.opened:
            store.close()


def threads(work: list[Callable[[], None]]) -> None:
    barrier = threading.Barrier(len(work))
    failures: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        try:
            barrier.wait(timeout=10)
            job()
        except BaseException as error:  # reported below, in the test's thread
            failures.append(error)

    running = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in running), "a thread hung"
    assert not failures, failures


def api_commit(store: Store, data: dict[str, Any]) -> dict[str, Any] | None:
    """Commit through ``commit_order`` as the CLI does; ``None`` when it gave up on conflicts."""
    request = parse_commit_request(data)
    try:
        done: Committed = commit_order(store, PROGRAM_VALUE, request.order, request.requested,
                                       match=request.match, now=NOW,
                                       render=render_commit_response)  # fmt: skip
    except ConflictError as error:
        assert "gave up after" in str(error)
        return None
    response = json.loads(json.dumps(dict(done.response)))
    if done.result is None:
        response["data"]["processing_target"] = "processed"
    return response  # type: ignore[no-any-return]


def test_threads_racing_for_one_balance(threaded: Threaded) -> None:
    """2 threads × 10 orders of 300 points against a balance of 1000: exactly 3 succeed."""
    answers: dict[str, dict[str, Any] | None] = {}

    def worker(t: int) -> Callable[[], None]:
        store = threaded.store()

        def job() -> None:
            for j in range(10):
                eid = f"t{t}-o{j}"
                answers[eid] = api_commit(store, member_request(eid, redeem=REDEEM_EACH))

        return job

    threads([worker(0), worker(1)])
    assert len(answers) == 20
    assert_balance_race(threaded.document(), answers)


def test_threads_committing_one_order(threaded: Threaded) -> None:
    """2 threads commit the same 5 orders for m1 and 3 guests', each order by both at once (a
    barrier before each: a lost race's retry pause would otherwise put them out of step)."""
    ids = ["same-0", "guest-0", "same-1", "same-2", "guest-1", "same-3", "same-4", "guest-2"]
    answers: dict[str, list[dict[str, Any] | None]] = {i: [] for i in ids}
    step = threading.Barrier(2)

    def worker() -> Callable[[], None]:
        store = threaded.store()

        def job() -> None:
            for eid in ids:
                step.wait(timeout=10)
                answers[eid].append(api_commit(store, one_order(eid)))

        return job

    threads([worker(), worker()])
    assert_one_order_many_times(threaded.document(), answers)


def test_threads_never_hand_out_one_code_twice(threaded: Threaded) -> None:
    """2 threads × 4 guest orders, each promised a code, from a pool of 3 single-use codes."""
    answers: dict[str, dict[str, Any] | None] = {}

    def worker(t: int) -> Callable[[], None]:
        store = threaded.store()

        def job() -> None:
            for j in range(4):
                answers[f"t{t}-{j}"] = api_commit(store, code_request(f"t{t}-{j}"))

        return job

    threads([worker(0), worker(1)])
    assert_codes_handed_out_once(threaded.document(), answers)


def test_a_request_built_with_the_api_commits_under_a_race(threaded: Threaded) -> None:
    """``Requested.of(calculate(…))`` as a service would build it, on the member as read before
    the race: two threads commit the same 10 orders of 300 points each."""
    match = Match("profile_id", "m1")
    member = member_at(threaded.open(), PROGRAM_VALUE, match, NOW)
    ids = [f"api-{j}" for j in range(10)]
    orders = [parse_commit_request(member_request(i, redeem=REDEEM_EACH)).order for i in ids]
    made = [(o, le.Requested.of(le.calculate(PROGRAM_VALUE, o, member, now=NOW))) for o in orders]
    statuses: dict[str, list[tuple[str, Any]]] = {i: [] for i in ids}

    def worker() -> Callable[[], None]:
        store = threaded.store()

        def job() -> None:
            for order, requested in made:
                done = commit_order(store, PROGRAM_VALUE, order, requested, match=match,
                                    now=NOW, render=render_commit_response)  # fmt: skip
                target = done.result.processing_target if done.result is not None else "replay"
                status = done.response["data"]["status"]  # type: ignore[index]
                statuses[order.external_id].append((status, target))

        return job

    threads([worker(), worker()])
    document = threaded.document()
    check_ledger(document)
    won = sorted(document["orders"])
    assert len(won) == OPENING // REDEEM_EACH
    for eid, got in statuses.items():
        if eid in won:  # one thread committed it, the other replayed it
            assert sorted(s for s, _ in got) == ["success", "success"], got
            assert sum(1 for _, t in got if t == "replay") == 1, got
            assert len(order_rows(document, eid)) == 2
        else:
            assert [s for s, _ in got] == ["outdated", "outdated"], got
            assert order_rows(document, eid) == []
    assert balance(document, "m1", "bonus1") == OPENING - REDEEM_EACH * len(won)


class LandsFirst:
    """A store on which, the first time the member is read, another commit lands just before:
    one whose clock read came after this one's (the service was descheduled in between, or
    another host's clock runs a little ahead)."""

    def __init__(self, inner: Store, land: Callable[[], None]) -> None:
        self.inner, self.land, self.landed = inner, land, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def member(self, profile_id: str) -> Any:
        if not self.landed:
            self.landed = True
            self.land()
        return self.inner.member(profile_id)


def test_a_commit_dated_by_the_clock_survives_a_later_commit_landing_first() -> None:
    """``commit_order(now=clock)`` reads the clock after the member, and never dates a commit
    before the member's last operation: another commit, dated a little later, landing first
    is a retried conflict, not a LedgerError."""
    program, inner = PROGRAM_VALUE, MemoryStore()
    import_document(inner, program, IMPORT, now=dt.datetime.fromisoformat(IMPORT_AT))
    first = NOW + dt.timedelta(minutes=1)

    def other() -> None:
        request = parse_commit_request(member_request("other", redeem=100))
        done = commit_order(inner, program, request.order, request.requested,
                            match=request.match, now=first + dt.timedelta(milliseconds=1),
                            render=render_commit_response)  # fmt: skip
        assert done.response["data"]["status"] == "success"  # type: ignore[index]

    clock = iter([first, first + dt.timedelta(milliseconds=5), first + dt.timedelta(seconds=1)])
    request = parse_commit_request(member_request("mine", redeem=100))
    done = commit_order(LandsFirst(inner, other), program, request.order, request.requested,
                        match=request.match, now=lambda: next(clock),
                        render=render_commit_response)  # fmt: skip
    assert done.response["data"]["status"] == "success"  # type: ignore[index]
