"""Durable stores: commits per second through SQLite (1 and 2 writer processes), and a preorder
reading its member from a store of 100,000 members.

Commits: ``commit_order`` of the seed 004 order (find and replay the member, calculate, compare,
apply one transaction: a redemption and an accrual row, a code handed out from the single-use pool
100, the order with its rendered response), each with its own external_id. "own members": every
commit is for another member, each holding 21525 points in one opening row, so every commit does
the same work; with 2 writers each process commits for its own half of them, and the two meet only
in SQLite's write lock and in the pool (each order takes a code from a place its fingerprint picks,
so two seldom want the same one; when they do, the loser's ``apply`` is refused and the whole commit
runs again: a retry; after 12 refusals it gives up). "one shared
member": both processes commit for one member, so they also conflict on its account version; its
history grows two rows a commit, so compare those rows with each other only. Every run of a group
commits the same total from a pool of exactly that many codes, so each sees the same pool sizes.
Baselines, in the same run: the same commits through a ``MemoryStore`` in one process (ratio =
commits/s ÷ its commits/s) and the bare core ``le.commit`` on the same members (the pools carried
from one commit to the next; no store, no render). Best of ``--repeat`` runs, each on a freshly
built store; writers are separate processes with their own connection, started at a barrier.

Preorder: ``member_at`` + ``store.pools()`` + ``calculate(..., pools=...)`` of the seed order for
random members of a store of ``--members`` members (one opening row each) with a pool of 1,000
codes, through SQLite and through a ``MemoryStore`` holding the same members; the baseline is
``calculate`` with the ``Member`` value and the pools already in hand (÷memory and ÷bare: µs
over theirs). The database was just written, so its pages are in the OS cache: this is the
store's own cost, not the disk's. The build is timed apart: one member's rows made with the
Python API and copied for each member (each read replays and checks them); into SQLite the first
``--durable`` a transaction each (``apply``, as a commit writes), the rest in one ``apply_all``
(as ``import_document`` writes).

Scaling: what a commit and a read cost as pool 100 and a member's history grow; a read both
first (nothing remembered, as in a fresh process) and again (the store remembers its last
replay of the member, so only rows added since run again: here none).

    python benchmarks/bench_store.py [--commits N] [--shared N] [--members N] [--repeat R]
        [--sample N] [--rounds R] [--durable N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import attrs

import loyalty_engine as le
from loyalty_engine.altcraft.commit import (
    CommitRequest,
    parse_commit_request,
    render_commit_response,
)
from loyalty_engine.altcraft.wire import read_json_file
from loyalty_engine.store import (
    ConflictError,
    Effects,
    Match,
    MemoryStore,
    Profile,
    Recent,
    SqliteStore,
    Store,
    commit_order,
    member_at,
)

T0 = dt.datetime(2026, 1, 10, 9, tzinfo=dt.UTC)  # the opening balances
NOW = dt.datetime(2026, 2, 18, 14, tzinfo=dt.UTC)  # the commits (the order is of 13:01 that day)
SEED_004 = Path(__file__).resolve().parent.parent / "examples" / "seed_004"
POINTS = Decimal(21525)
POOL_ID, POOL_NAME = 100, "Welcome Promocodes"
Job = tuple[str, le.Order]  # (profile_id, the seed order under its own external_id)


def seed() -> tuple[le.Program, CommitRequest]:
    program = le.load_program(SEED_004 / "program.toml")
    return program, parse_commit_request(read_json_file(SEED_004 / "request.json"))


PROGRAM = seed()[0]


def opening(program: le.Program, profile_id: str, rows: int = 1) -> le.Membership:
    """A member as ``import_document`` makes one: 21525 points in one opening accrual; with
    ``rows`` > 1, the rest of the history alternates a 100-point redemption and a 75 accrual."""
    membership = le.register(program, profile_id, now=T0).membership
    account = membership.account("bonus1")
    account = account.accrue(
        POINTS, now=T0, eid="import:bonus1", description="opening balance", source_type="import"
    ).account
    for k in range(1, rows):
        at = T0 + dt.timedelta(minutes=k)
        posting = (
            account.redeem(Decimal(100), now=at) if k % 2 else account.accrue(Decimal(75), now=at)
        )
        account = posting.account
    return membership.with_account(account)


def profile(profile_id: str) -> Profile:
    return Profile(profile_id=profile_id)


def add(store: Store, membership: le.Membership) -> None:
    store.apply(Effects.between(None, membership), profile=profile(membership.profile_id))


def pool(codes: int) -> le.CodePool:
    return le.CodePool(
        pool_id=POOL_ID, name=POOL_NAME, codes=[le.PoolCode(f"W-{i:06d}") for i in range(codes)]
    )


class Counted:
    """Counts the effects ``apply`` refuses: each one is a retry of the whole commit."""

    conflicts = 0

    def apply(self, effects: Effects, *, profile: Profile | None = None) -> None:
        try:
            super().apply(effects, profile=profile)  # type: ignore[misc]
        except ConflictError:
            self.conflicts += 1
            raise


class CountedSqlite(Counted, SqliteStore):
    pass


class CountedMemory(Counted, MemoryStore):
    pass


def commit_all(store: Store, request: CommitRequest, jobs: Sequence[Job]) -> int:
    """``commit_order`` each job; returns how many gave up (refused on every attempt)."""
    gave_up = 0
    for profile_id, order in jobs:
        try:
            done = commit_order(
                store,
                PROGRAM,
                order,
                request.requested,
                match=Match("profile_id", profile_id),
                now=NOW,
                render=render_commit_response,
            )
        except ConflictError:
            gave_up += 1
            continue
        result = done.result
        assert result is not None and result.status is le.CommitStatus.SUCCESS, done.response
        assert result.issued[0].codes, "the pool ran dry"
    return gave_up


def jobs_for(request: CommitRequest, pairs: Sequence[tuple[str, str]]) -> list[Job]:
    return [(pid, attrs.evolve(request.order, external_id=eid)) for pid, eid in pairs]


def writer(path: str, pairs: list[tuple[str, str]], barrier: Any, out: Any) -> None:
    """One writer process, with its own connection; ``pairs[0]`` is its warm-up commit."""
    _, request = seed()
    store = CountedSqlite(path, create=False)
    jobs = jobs_for(request, pairs)
    commit_all(store, request, jobs[:1])
    store.conflicts = 0
    barrier.wait()
    start = time.perf_counter()
    gave_up = commit_all(store, request, jobs[1:])
    end = time.perf_counter()
    store.close()
    out.put((start, end, len(jobs) - 1 - gave_up, store.conflicts, gave_up))


@attrs.frozen
class Run:
    seconds: float
    commits: int
    retries: int = 0
    gave_up: int = 0

    @property
    def rate(self) -> float:
        return self.commits / self.seconds


class Commits:
    """One member set; each run builds its store from it. Own-member commits go to distinct
    members, shared ones to the member ``hot``; each writer warms up on a member of its own."""

    def __init__(self, request: CommitRequest, total: int, shared: int) -> None:
        self.request, self.total, self.shared = request, total, shared
        self.own = [opening(PROGRAM, f"m{i:05d}") for i in range(total)]
        self.warm = [opening(PROGRAM, f"w{k}") for k in range(2)]
        self.hot = opening(PROGRAM, "hot")
        self.dir = tempfile.TemporaryDirectory(prefix="bench_store_")
        self.made = 0

    def pairs(self, writers: int, shared: bool) -> list[list[tuple[str, str]]]:
        """Each writer's (profile_id, external_id) list: its warm-up, then its share."""
        out = []
        for k in range(writers):
            if shared:
                share = [("hot", f"hot-{j}") for j in range(k, self.shared, writers)]
            else:
                share = [(self.own[j].profile_id, f"o-{j}") for j in range(k, self.total, writers)]
            out.append([(self.warm[k].profile_id, f"warm-{k}"), *share])
        return out

    def fill(self, store: Store, shared: bool) -> None:
        for membership in [*self.warm, self.hot] if shared else [*self.warm, *self.own]:
            add(store, membership)
        store.add_pool(pool((self.shared if shared else self.total) + len(self.warm)))

    def bare(self) -> Run:
        jobs = jobs_for(self.request, self.pairs(1, False)[0])
        members = {m.profile_id: m for m in [*self.warm, *self.own]}
        pools: tuple[le.CodePool, ...] = (pool(self.total + 1),)
        start = 0.0
        for n, (pid, order) in enumerate(jobs):
            if n == 1:  # after the warm-up
                start = time.perf_counter()
            result = le.commit(
                PROGRAM,
                order,
                self.request.requested,
                membership=members[pid],
                now=NOW,
                pools=pools,
            )
            assert result.status is le.CommitStatus.SUCCESS and result.issued[0].codes
            pools = result.pools
        return Run(time.perf_counter() - start, len(jobs) - 1)

    def memory(self, shared: bool) -> Run:
        store = CountedMemory()
        self.fill(store, shared)
        jobs = jobs_for(self.request, self.pairs(1, shared)[0])
        commit_all(store, self.request, jobs[:1])
        start = time.perf_counter()
        gave_up = commit_all(store, self.request, jobs[1:])
        seconds = time.perf_counter() - start
        verify(store, len(jobs) - gave_up)
        return Run(seconds, len(jobs) - 1 - gave_up, store.conflicts, gave_up)

    def sqlite(self, writers: int, shared: bool) -> Run:
        self.made += 1
        path = str(Path(self.dir.name) / f"run{self.made}.db")
        store = SqliteStore(path)
        self.fill(store, shared)
        store.close()
        ctx = mp.get_context("spawn")
        barrier, out = ctx.Barrier(writers), ctx.Queue()
        procs = [
            ctx.Process(target=writer, args=(path, mine, barrier, out))
            for mine in self.pairs(writers, shared)
        ]
        for proc in procs:
            proc.start()
        reports = [out.get(timeout=600) for _ in procs]
        for proc in procs:
            proc.join()
            assert proc.exitcode == 0, f"a writer exited with {proc.exitcode}"
        seconds = max(r[1] for r in reports) - min(r[0] for r in reports)
        commits, retries, gave_up = (sum(r[k] for r in reports) for k in (2, 3, 4))
        store = SqliteStore(path, create=False)
        verify(store, commits + writers)
        store.close()
        return Run(seconds, commits, retries, gave_up)


def verify(store: Store, committed: int) -> None:
    """Nothing lost, nothing doubled: one order and one code for each commit that returned."""
    assert len(list(store.orders())) == committed
    assert len(store.issued(POOL_ID)) == committed


def commits(total: int, shared: int, repeat: int) -> None:
    _, request = seed()
    bench = Commits(request, total, shared)
    rows: list[tuple[str, int, Callable[[], Run]]] = [
        ("bare le.commit (no store)", 1, bench.bare),
        ("MemoryStore, own members", 1, lambda: bench.memory(False)),
        ("SqliteStore, own members", 1, lambda: bench.sqlite(1, False)),
        ("SqliteStore, own members", 2, lambda: bench.sqlite(2, False)),
        ("MemoryStore, one shared member", 1, lambda: bench.memory(True)),
        ("SqliteStore, one shared member", 1, lambda: bench.sqlite(1, True)),
        ("SqliteStore, one shared member", 2, lambda: bench.sqlite(2, True)),
    ]
    fastest: list[Run | None] = [None] * len(rows)
    for _ in range(repeat):  # interleaved: each round runs every row once
        for n, (_, _, run) in enumerate(rows):
            got, was = run(), fastest[n]
            fastest[n] = got if was is None or got.rate > was.rate else was
    bench.dir.cleanup()
    print(
        f"commits: the seed 004 order through commit_order, {total} a run for own members, "
        f"{shared} for one shared member; best of {repeat} runs"
    )
    print("ratio = commits/s ÷ the MemoryStore row of its group; retries = applies refused")
    header = (
        f"{'run':<31} {'procs':>5} {'µs/commit':>10} {'commits/s':>10} {'ratio':>6} "
        f"{'retries':>8} {'gave up':>8}"
    )
    print(header)
    print("-" * len(header))
    for (name, procs, _), fast in zip(rows, fastest, strict=True):
        base = fastest[4 if "shared" in name else 1]
        assert fast is not None and base is not None
        retries, gave_up = ("-", "-") if name.startswith("bare") else (fast.retries, fast.gave_up)
        print(
            f"{name:<31} {procs:>5} {1e6 / fast.rate:>10.1f} {fast.rate:>10.1f} "
            f"{fast.rate / base.rate:>6.2f} {retries:>8} {gave_up:>8}"
        )
    print()


def best(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` runs, in seconds (the least disturbed by the machine)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def copy_for(template: Effects, profile_id: str) -> Effects:
    """``template`` (one member's opening rows, made with the Python API) for another member:
    the rows differ only in their profile_id, and a first read replays and checks them."""
    assert template.member is not None
    accounts = tuple(
        attrs.evolve(
            write,
            profile_id=profile_id,
            rows=tuple(attrs.evolve(row, profile_id=profile_id) for row in write.rows),
        )
        for write in template.accounts
    )
    member = attrs.evolve(template.member, profile_id=profile_id)
    return attrs.evolve(template, member=member, accounts=accounts)


def build(members: int, durable: int, codes: int, where: str) -> tuple[SqliteStore, MemoryStore]:
    """The same members in both stores; SQLite's first ``durable`` as a commit writes, a durable
    transaction each (``apply``), the rest in one transaction (``apply_all``, as an import)."""
    template = Effects.between(None, opening(PROGRAM, "template"))
    writes = [(copy_for(template, f"p{i:06d}"), profile(f"p{i:06d}")) for i in range(members)]
    sqlite, memory = SqliteStore(Path(where) / "members.db"), MemoryStore()
    start = time.perf_counter()
    memory.apply_all(writes)
    to_memory = time.perf_counter() - start
    start = time.perf_counter()
    for effects, who in writes[:durable]:
        sqlite.apply(effects, profile=who)
    one_each = time.perf_counter() - start
    start = time.perf_counter()
    sqlite.apply_all(writes[durable:])
    batched = time.perf_counter() - start
    for store in (memory, sqlite):
        store.add_pool(pool(codes))
    print(
        f"built: MemoryStore.apply_all {to_memory:.1f} s ({to_memory / members * 1e6:.0f} µs a "
        f"member); SqliteStore {one_each + batched:.1f} s: apply, a transaction each (the first "
        f"{durable:,}) {one_each / max(1, durable) * 1e6:.0f} µs a member, apply_all (the rest) "
        f"{batched / max(1, members - durable) * 1e6:.0f} µs a member"
    )
    return sqlite, memory


def preorders(members: int, sample: int, rounds: int, durable: int, codes: int = 1000) -> None:
    _, request = seed()
    program, order = PROGRAM, request.order
    print(
        f"preorder: the seed 004 order for {sample} random members a round of {members:,} (one "
        f"opening row each; pool {POOL_ID} of {codes:,} codes); best of {rounds} rounds"
    )
    with tempfile.TemporaryDirectory(prefix="bench_store_") as where:
        sqlite, memory = build(members, durable, codes, where)
        ids = [f"p{i:06d}" for i in range(members)]
        pools = memory.pools()
        assert pools == sqlite.pools()

        def read(store: Store, pid: str) -> le.Member:
            member = member_at(store, program, Match("profile_id", pid), NOW)
            assert member is not None
            return member

        def full(store: Store, pids: list[str]) -> None:
            for pid in pids:
                le.calculate(program, order, read(store, pid), now=NOW, pools=store.pools())

        def reads(store: Store, pids: list[str]) -> None:
            for pid in pids:
                read(store, pid)

        def pools_of(store: Store, pids: list[str]) -> None:
            for _ in pids:  # nothing kept: a list of 500 pools would only feed the collector
                store.pools()

        def bare(values: list[le.Member]) -> None:
            for member in values:
                le.calculate(program, order, member, now=NOW, pools=pools)

        rows: list[tuple[str, Callable[[list[str], list[le.Member]], object]]] = [
            ("SqliteStore: member_at + pools() + calculate", lambda p, v: full(sqlite, p)),
            ("MemoryStore: member_at + pools() + calculate", lambda p, v: full(memory, p)),
            ("bare calculate(Member, pools)", lambda p, v: bare(v)),
            ("SqliteStore: member_at", lambda p, v: reads(sqlite, p)),
            ("MemoryStore: member_at", lambda p, v: reads(memory, p)),
            ("SqliteStore: pools()", lambda p, v: pools_of(sqlite, p)),
            ("MemoryStore: pools()", lambda p, v: pools_of(memory, p)),
        ]
        rng = random.Random(7)
        times = [float("inf")] * len(rows)
        for _ in range(rounds):  # interleaved rounds, each on another random sample
            pids = rng.sample(ids, sample)
            values = [read(memory, pid) for pid in pids]
            want = le.calculate(program, order, values[0], now=NOW, pools=pools)
            for store in (sqlite, memory):
                member, here = read(store, pids[0]), store.pools()
                got = le.calculate(program, order, member, now=NOW, pools=here)
                assert got == want, "the stores disagree"
            for n, (_, fn) in enumerate(rows):
                times[n] = min(times[n], best(partial(fn, pids, values), 1) / sample)
        sqlite.close()
    header = f"{'op':<45} {'µs/op':>9} {'ops/s':>9} {'÷memory':>8} {'÷bare':>8}"
    print(header)
    print("-" * len(header))
    for n, ((name, _), t) in enumerate(zip(rows, times, strict=True)):
        versus = f"{t / times[1]:>8.2f}" if n < 3 else f"{'':>8}"
        print(f"{name:<45} {t * 1e6:>9.1f} {1 / t:>9.0f} {versus} {t / times[2]:>8.2f}")
    print()


def scaling(repeat: int) -> None:
    """A pool is read whole on every commit and preorder; a member's history is replayed whole
    on a first read, and only its new rows after that."""
    _, request = seed()
    print(f"scaling: µs per call, best of {repeat}")
    header = f"{'op':<44} {'MemoryStore':>12} {'SqliteStore':>12}"
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory(prefix="bench_store_") as where:
        for size in (10, 1000, 10_000):
            cells = []
            for store in (MemoryStore(), SqliteStore(Path(where) / f"pool{size}.db")):
                for j in range(repeat + 1):
                    add(store, opening(PROGRAM, f"c{j}"))
                store.add_pool(pool(size + repeat + 1))
                jobs = jobs_for(request, [(f"c{j}", f"c-{j}") for j in range(repeat + 1)])
                commit_all(store, request, jobs[:1])
                each = [best(partial(commit_all, store, request, [job]), 1) for job in jobs[1:]]
                cells.append((best(store.pools, repeat), min(each)))
                store.close()
            name = f"pools(), {size:,} codes"
            print(f"{name:<44} {cells[0][0] * 1e6:>12.1f} {cells[1][0] * 1e6:>12.1f}")
            name = f"commit_order, a pool of {size:,} codes"
            print(f"{name:<44} {cells[0][1] * 1e6:>12.1f} {cells[1][1] * 1e6:>12.1f}")
        for length in (1, 101, 1001):
            membership = opening(PROGRAM, f"h{length}", rows=length)
            match = Match("profile_id", membership.profile_id)
            cold, warm = [], []
            for store in (MemoryStore(), SqliteStore(Path(where) / f"history{length}.db")):
                add(store, membership)
                cold.append(best(partial(first_read, store, match), repeat))
                warm.append(best(partial(member_at, store, PROGRAM, match, NOW), repeat))
                store.close()
            rows = f"{length:,} row{'s' if length > 1 else ''}"
            for name, (memory, sqlite) in (
                (f"member_at, {rows}, first read", cold),
                (f"member_at, {rows}, remembered", warm),
            ):
                print(f"{name:<44} {memory * 1e6:>12.1f} {sqlite * 1e6:>12.1f}")


def first_read(store: MemoryStore | SqliteStore, match: Match) -> None:
    """A read with nothing remembered: every row decoded and replayed (as a fresh process)."""
    store.replays = Recent()
    if isinstance(store, SqliteStore):
        store._decoded = Recent()
    member_at(store, PROGRAM, match, NOW)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=600, help="own-member commits a run")
    parser.add_argument("--shared", type=int, default=100, help="shared-member commits a run")
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=500, help="random members a round")
    parser.add_argument("--durable", type=int, default=1000, help="built a transaction each")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5, help="preorder rounds")
    args = parser.parse_args()
    commits(args.commits, args.shared, args.repeat)
    preorders(args.members, args.sample, args.rounds, args.durable)
    scaling(args.repeat)


if __name__ == "__main__":
    main()
