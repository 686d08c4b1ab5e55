"""``kill -9`` in the middle of commits: the store opens, ``db check`` passes, and it is at the old
state or the new one — an order is fully there (its rows and its record) or not at all, and every
commit that answered is there.

A ``worker.py zygote`` (the library loaded once) forks a child per round; the child runs
``loyalty-engine commit`` command lines (``cli.main``) for one member, one after the other, and
logs each answer once it returned. The test SIGKILLs the child (30 rounds per store kind, all
delays from one seeded ``random.Random``):

- even rounds at a random moment: 0–150 ms after the start (up to 3 commits' time, at most
  400 ms, where a commit takes longer: JSON, or a loaded machine), so about a third of the kills
  land in the first commit; a round has twice the commits that fit, so the child is cut short;
- odd rounds aimed at a store write: the child says ``apply`` before each one, and the kill
  comes at a random moment of the 1st, 2nd or 3rd (every other one, for the JSON store, during
  the flush of the new state's temporary file). In these rounds the disk is made slow (2 ms
  before each SQLite COMMIT and each ``os.fsync``) so that aimed kills land inside the write
  even where the disk is fast. A store that wrote in place, or in two transactions, is caught.

After each kill the checks run that need no full replay (SQLite: ``PRAGMA integrity_check`` and
every account's version against its rows in one query; JSON: every account of the file), the
touched member is replayed, and the full ``db check`` runs a few times and at the end.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import random
import select
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from race_support import (
    PROGRAM,
    REDEEM,
    STARS,
    WORKER,
    balance,
    check_ledger,
    cli,
    commit_argv,
    db_check,
    eids,
    member_request,
    order_rows,
    store_option,
    write_json,
    write_program,
)

import loyalty_engine as le
from loyalty_engine.ledger.effects import Effects
from loyalty_engine.store import (
    JsonFileStore,
    MemoryStore,
    Profile,
    SqliteStore,
    Store,
    load,
    to_document,
)

ROUNDS = 30
SEED = 20260218
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
LOT, REDEEM_EACH = 20, 10  # every seeded row accrues 20 points; every order redeems 10
PROGRAM_VALUE = le.program_from_dict(tomllib.loads(PROGRAM))


def seed_members(count: int, rows: int) -> Iterator[tuple[Effects, Profile]]:
    """``count`` members with ``rows`` accruals each in bonus1 (and an empty stars account)."""
    bonus, stars = PROGRAM_VALUE.currencies
    for m in range(count):
        pid = f"p{m:03d}"
        account = le.Account.open(pid, bonus)
        for i in range(rows):
            at = T0 + dt.timedelta(minutes=i)
            account = account.accrue(Decimal(LOT), now=at, eid=f"seed:{i}").account
        membership = le.Membership(
            profile_id=pid, registered_at=T0, accounts=[account, le.Account.open(pid, stars)]
        )
        yield Effects.between(None, membership), Profile(profile_id=pid)


class Zygote:
    """``worker.py zygote``: forks a child per job; the test may SIGKILL the child any time."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER), "zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
        )
        self._buffer = b""
        self._backlog: list[list[str]] = []

    def _line(self, timeout: float = 30) -> list[str]:
        if self._backlog:
            return self._backlog.pop(0)
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            assert ready, "the zygote did not answer"
            chunk = os.read(fd, 4096)
            assert chunk, "the zygote died"
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode().split()

    def until(self, word: str) -> tuple[list[str], list[list[str]]]:
        """The next line saying ``word``, and the lines that came before it."""
        before = []
        while (line := self._line())[0] != word:
            before.append(line)
        return line, before

    def start(self, commands: Sequence[Sequence[str]], log: Path, announce: bool = False) -> int:
        """Fork a child running ``commands`` (``announce``: saying ``apply`` before each store
        write and ``applied`` after it); its pid."""
        assert self.process.stdin is not None
        job = {"log": str(log), "commands": [list(c) for c in commands], "announce": announce}
        self.process.stdin.write(json.dumps(job).encode() + b"\n")
        (_, pid), early = self.until("pid")
        self._backlog[:0] = early  # the child spoke before the zygote did
        return int(pid)

    def reap(self, pid: int) -> tuple[int, list[list[str]]]:
        """The child's wait status once it is gone, and what it said meanwhile."""
        assert self.process.stdin is not None
        self.process.stdin.write(b"reap\n")
        (_, child, status), said = self.until("done")
        assert int(child) == pid
        return int(status), said

    def close(self) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(b"quit\n")
            self.process.stdin.close()
            self.process.wait(timeout=10)
        finally:
            if self.process.poll() is None:  # ours, by its handle
                self.process.kill()
                self.process.wait()
            assert self.process.stdout is not None
            self.process.stdout.close()


@pytest.fixture
def zygote() -> Iterator[Zygote]:
    made = Zygote()
    try:
        yield made
    finally:
        made.close()


def read_log(log: Path) -> list[dict[str, Any]]:
    """The answers a child logged: whole lines only (a SIGKILL can cut the last one short, and
    an answer not wholly logged counts as not given)."""
    text = log.read_text() if log.exists() else ""
    return [json.loads(line) for line in text.split("\n")[:-1]]


def commits(
    tmp_path: Path, program: Path, store: list[str], pid: str, ids: list[str]
) -> list[list[str]]:
    out = []
    for eid in ids:
        request = write_json(tmp_path / f"{eid}.json", member_request(eid, pid, REDEEM_EACH))
        out.append(commit_argv(request, program, store))
    return out


@attrs.frozen
class Timing:
    commit: float  # seconds, median: one whole commit command
    write: float  # seconds, median: one store write (apply) within it
    fsync: float | None  # seconds, median: its first os.fsync (None: it calls none, SQLite)


def run_to_the_end(
    zygote: Zygote, tmp_path: Path, program: Path, store: list[str], pid: str, ids: list[str]
) -> Timing:
    """Commit ``ids`` for ``pid`` in a child left alone: each must succeed. How long it took."""
    log = tmp_path / f"{ids[0]}.log"
    child = zygote.start(commits(tmp_path, program, store, pid, ids), log, announce=True)
    status, said = zygote.reap(child)
    assert status == 0
    answers = read_log(log)
    statuses = [json.loads(a["stdout"])["data"]["status"] for a in answers]
    assert statuses == ["success"] * len(ids), answers
    began = [float(t) for word, _, t in said if word == "apply"]
    ended = [float(t) for word, _, t in said if word == "applied"]
    assert len(began) == len(ended) == len(ids), said
    flushes = []  # the first fsync of each write: the new state's temporary file
    for i, (word, *_) in enumerate(said):
        if word == "apply":
            starts = [float(u) for w, _, u in said[i:] if w == "fsync"][:1]
            ends = [float(u) for w, _, u in said[i:] if w == "fsynced"][:1]
            flushes += [e - b for b, e in zip(starts, ends, strict=True)]
    return Timing(
        commit=statistics.median(a["ended"] - a["began"] for a in answers),
        write=statistics.median(e - b for b, e in zip(began, ended, strict=True)),
        fsync=statistics.median(flushes) if flushes else None,
    )


CheckRound = Callable[[int, str, list[str], int], int]


def kill_rounds(
    zygote: Zygote, tmp_path: Path, program: Path, store: list[str], check: CheckRound,
    members: int, timing: Timing,
) -> Counter[str]:  # fmt: skip
    """``ROUNDS`` times: a child commits for one member and is SIGKILLed, then
    ``check(round, member, ids, answered)`` returns how many of the round's orders are stored.

    Even rounds kill at a random moment: 0–150 ms after the start (or up to 3 commits' time, at
    most 400 ms, when a commit takes longer). Odd rounds aim at a store write: at a random moment
    of the 1st, 2nd or 3rd ``apply`` (0–1.2 × its usual length after it began), where a store
    that is not atomic would be caught half-written; every other one of them, when the store
    calls ``os.fsync`` (the JSON store), at a random moment of that write's first flush: the new
    state is whole in its temporary file and not yet renamed. Returns what happened, counted."""
    rng = random.Random(SEED)
    longest = min(0.4, max(0.150, 3 * timing.commit))
    count = 2 * int(longest / timing.commit) + 4  # more than the child can get through
    seen: Counter[str] = Counter()
    for r in range(ROUNDS):
        pid = f"p{r % members:03d}"
        ids = [f"k{r:02d}-{j}" for j in range(count)]
        log = tmp_path / f"round{r}.log"
        aimed = r % 2 == 1
        child = zygote.start(commits(tmp_path, program, store, pid, ids), log, announce=aimed)
        if aimed:
            for _ in range(rng.randint(1, 3)):
                zygote.until("apply")
            if r % 4 == 3 and timing.fsync is not None:
                zygote.until("fsync")
                time.sleep(rng.uniform(0, timing.fsync))
            else:
                time.sleep(rng.uniform(0, 1.2 * timing.write))
        else:
            time.sleep(rng.uniform(0, longest))
        os.kill(child, signal.SIGKILL)  # not reaped yet: at worst a zombie, never reused
        status, said = zygote.reap(child)
        answered = read_log(log)
        for result in answered:  # every commit that returned answered success
            assert result["rc"] == 0 and result["stderr"] == "", result
            assert json.loads(result["stdout"])["data"]["status"] == "success", result
        stored = check(r, pid, ids, len(answered))
        seen["killed" if os.WIFSIGNALED(status) else "finished"] += 1
        seen["orders stored"] += stored
        if stored == 0:
            seen["killed in the first commit: old state"] += 1
        if stored == len(answered) + 1:
            seen["killed after the store committed, before the answer"] += 1
        if aimed and not any(word == "applied" for word, *_ in said):
            seen["killed inside a store write"] += 1
    seen["commits per round"] = count
    seen["max delay ms"] = round(longest * 1000)
    seen["write ms"] = round(timing.write * 1000, 1)
    seen["fsync ms"] = round((timing.fsync or 0) * 1000, 1)
    return seen


def assert_the_loop_did_its_job(seen: Counter[str]) -> None:
    print(dict(seen))  # shown with pytest -s
    assert seen["killed"] >= ROUNDS // 2, seen  # most children were cut short
    assert seen["orders stored"] > 0, seen  # some kills came after commits…
    assert seen["killed in the first commit: old state"] > 0, seen  # …and some before any
    assert seen["killed inside a store write"] >= ROUNDS // 6, seen  # and some in the middle


def assert_orders_whole(
    document: Mapping[str, Any], pid: str, ids: list[str], answered: int
) -> int:
    """Each order of the round is fully stored (its 2 rows and its record) or fully absent; the
    stored ones are the first few: every one that answered and at most one more (the one in
    flight, committed before its answer was logged). Returns how many are stored."""
    present = []
    for eid in ids:
        rows = order_rows(document, eid)
        if eid in document["orders"]:
            assert eids(rows) == [f"order:{eid}:{STARS}", f"order:{eid}:{REDEEM}"], eid
            assert all(r["profile_id"] == pid for r in rows), eid
            assert document["orders"][eid]["response"]["data"]["status"] == "success"
            present.append(eid)
        else:
            assert rows == [], f"{eid}: rows without the order"
    assert present == ids[: len(present)], present
    assert answered <= len(present) <= answered + 1, (answered, present)
    return len(present)


def assert_member_moved_by(
    before: Mapping[str, Any], after: Mapping[str, Any], pid: str, stored: int
) -> None:
    """The member's old rows unchanged, and their balances moved by exactly the orders stored."""
    old, new = before["members"][pid], after["members"][pid]
    for currency, version in old["accounts"].items():
        kept = [r for r in new["transactions"] if r["points_currency_eid"] == currency]
        was = [r for r in old["transactions"] if r["points_currency_eid"] == currency]
        assert kept[:version] == was, f"{pid}/{currency}: old rows changed"
        assert new["accounts"][currency] == version + stored
    spent = balance(before, pid, "bonus1") - balance(after, pid, "bonus1")
    assert spent == REDEEM_EACH * stored
    assert balance(after, pid, "stars") - balance(before, pid, "stars") == 5 * stored


def member_document(store: Store, pid: str) -> dict[str, Any]:
    """One member and every order, in the state-file format (``db export``, for one member)."""
    stored = store.member(pid)
    assert stored is not None
    member = {"accounts": dict(stored.versions), "transactions": [r.to_row() for r in stored.rows]}
    orders = {o.external_id: {"response": o.response} for o in store.orders()}
    document: dict[str, Any] = json.loads(json.dumps({"members": {pid: member}, "orders": orders}))
    return document


def test_kill_9_during_sqlite_commits(zygote: Zygote, tmp_path: Path) -> None:
    """10,000 rows (50 members × 200 accruals); 30 rounds of commits killed at random."""
    program = write_program(tmp_path)
    path = tmp_path / "db" / "store.sqlite"
    path.parent.mkdir()
    seeded = SqliteStore(path)
    try:
        for effects, profile in seed_members(50, 200):
            seeded.apply(effects, profile=profile)
    finally:
        seeded.close()
    store = store_option("sqlite", path)
    timing = run_to_the_end(zygote, tmp_path, program, store, "p049", ["warm-0", "warm-1"])

    def check(r: int, pid: str, ids: list[str], answered: int) -> int:
        with contextlib.closing(sqlite3.connect(path)) as db:  # a sound database file
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            # every account of every member ends at the version it records: db check's tail
            # check, over the whole store in one query (the replay of all 10,000 rows takes a
            # second, so the full db check runs in round 14 and after the last)
            bad = db.execute(
                "SELECT a.profile_id, a.currency, a.version, COUNT(t.transaction_id), "
                "MAX(t.transaction_id) FROM accounts a LEFT JOIN transactions t "
                "ON t.profile_id = a.profile_id AND t.points_currency_eid = a.currency "
                "GROUP BY a.profile_id, a.currency "
                "HAVING a.version != COUNT(t.transaction_id) "
                "OR a.version != COALESCE(MAX(t.transaction_id), 0)"
            ).fetchall()
            assert bad == [], bad
        opened = SqliteStore(path)  # it opens, and takes the write lock: nobody holds it
        try:
            assert load(opened, PROGRAM_VALUE, pid) is not None  # the member replays
            after = member_document(opened, pid)
        finally:
            opened.close()
        check_ledger(after)
        stored = assert_orders_whole(after, pid, ids, answered)
        assert_member_moved_by(before[pid], after, pid, stored)
        assert set(after["orders"]) - set(before[pid]["orders"]) == set(ids[:stored])
        for document in before.values():  # no order of another round came or went
            document["orders"] = after["orders"]
        before[pid] = after
        if r == ROUNDS // 2 - 1:  # and after the last round, from the command line
            db_check(program, store)
        return stored

    opened = SqliteStore(path)
    try:
        before = {f"p{m:03d}": member_document(opened, f"p{m:03d}") for m in range(ROUNDS)}
        assert sum(len(d["members"][p]["transactions"]) for p, d in before.items()) == 6000
    finally:
        opened.close()
    seen = kill_rounds(zygote, tmp_path, program, store, check, 50, timing)
    assert_the_loop_did_its_job(seen)
    run_to_the_end(zygote, tmp_path, program, store, "p000", ["after-0", "after-1"])
    done = cli("db", "check", "--program", program, *store)  # as an operator would run it
    assert done.returncode == 0 and done.stdout.startswith("ok: 50 member(s)"), done


def test_kill_9_during_json_commits(zygote: Zygote, tmp_path: Path) -> None:
    """A state file of 2,000 rows (20 members × 100 accruals); 30 rounds killed at random; at
    most the one temporary file is ever left beside it."""
    program = write_program(tmp_path)
    path = tmp_path / "state" / "state.json"
    path.parent.mkdir()
    seeded = MemoryStore()
    for effects, profile in seed_members(20, 100):
        seeded.apply(effects, profile=profile)
    path.write_text(json.dumps(to_document(seeded), indent=1) + "\n")
    store = store_option("json", path)
    allowed = {"state.json", "state.json.lock", ".state.json.tmp"}
    timing = run_to_the_end(zygote, tmp_path, program, store, "p019", ["warm-0", "warm-1"])
    documents = [json.loads(path.read_text())]
    temps = [0]  # rounds after which the temporary file was there

    def check(r: int, pid: str, ids: list[str], answered: int) -> int:
        left = {p.name for p in path.parent.iterdir()}
        assert left <= allowed and "state.json" in left, left  # at most the one temporary file
        temps[0] += ".state.json.tmp" in left
        after = json.loads(path.read_text())  # the file is whole JSON: the state-file document
        assert load(JsonFileStore(path), PROGRAM_VALUE, pid) is not None  # it reads; they replay
        check_ledger(after)  # every account of every member, as in the file
        stored = assert_orders_whole(after, pid, ids, answered)
        previous = documents[-1]
        assert_member_moved_by(previous, after, pid, stored)
        others = {p: m for p, m in after["members"].items() if p != pid}
        assert others == {p: m for p, m in previous["members"].items() if p != pid}
        assert set(after["orders"]) - set(previous["orders"]) == set(ids[:stored])
        assert set(previous["orders"]) <= set(after["orders"])
        documents[-1:] = [after]
        if r in (9, 19):  # and after the last round, from the command line
            db_check(program, store)
        return stored

    seen = kill_rounds(zygote, tmp_path, program, store, check, 20, timing)
    assert_the_loop_did_its_job(seen)
    assert temps[0] >= ROUNDS // 10, (temps, seen)  # kills left it; later writes reused it
    run_to_the_end(zygote, tmp_path, program, store, "p000", ["after-0", "after-1"])
    assert {p.name for p in path.parent.iterdir()} <= allowed  # the temporary file was reused
    done = cli("db", "check", "--program", program, *store)
    assert done.returncode == 0 and done.stdout.startswith("ok: 20 member(s)"), done
