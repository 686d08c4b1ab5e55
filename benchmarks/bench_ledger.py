"""The ledger at 1,000 / 10,000 / 100,000 transactions, and commit against preorder.

Ledger: an account is built from N accruals (one a minute, each living 10 years, so all N lots
stay open: the worst case for an index; a 1-day window holds up to 1,440 of them). Then each
query and operation is timed on it. The baseline, measured in the same run, is one plain Python
pass over the N lots (a ``sum`` over a list of ints): what any implementation that scans per
call would pay at least. A ratio far below 1 at N = 100,000, and a flat µs column from N = 1,000
up, mean no operation scans.

Commit: ``commit`` of the seed 004 order (recalculate, compare, post two transactions, issue a
code) against ``calculate`` of the same order, interleaved.

    python benchmarks/bench_ledger.py [--sizes 1000,10000,100000] [--repeat R]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import loyalty_engine as le
from loyalty_engine.altcraft.preorder import parse_preorder_request
from loyalty_engine.altcraft.wire import read_json_file
from loyalty_engine.ledger import Account

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
CURRENCY = le.PointsCurrency(eid="bonus", lifetime_days=3650)
SEED_004 = Path(__file__).resolve().parent.parent / "examples" / "seed_004"


def build(n: int) -> tuple[Account, float]:
    account = Account.open("p1", CURRENCY)
    start = time.perf_counter()
    for i in range(n):
        account = account.accrue(Decimal(100 + i % 7), now=T0 + dt.timedelta(minutes=i)).account
    return account, (time.perf_counter() - start) / n


def best(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` runs, in seconds (the least disturbed by the machine)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def ledger(sizes: list[int], repeat: int) -> None:
    print("ledger: µs per call; ratio = call / one Python pass over the N lots (baseline)")
    header = f"{'N':>7} {'op':<34} {'µs':>9} {'baseline µs':>12} {'ratio':>8}"
    print(header)
    print("-" * len(header))
    for n in sizes:
        measure(n, repeat)
        print()


def measure(n: int, repeat: int) -> None:
    account, per_accrual = build(n)
    now = account.as_of
    assert now is not None
    lots = [lot.units for lot in account.lots]
    middle = n // 2
    queries: list[tuple[str, Callable[[], object]]] = [
        ("balance(now)", lambda: account.balance(now)),
        ("expiring in a 1-day window", lambda: account.expiring(
            T0 + dt.timedelta(days=3651), T0 + dt.timedelta(days=3652), now=now)),
        ("history page (100 rows, middle)", lambda: account.history(from_id=middle, limit=100)),
        ("transaction by eid (absent)", lambda: account.journal.by_eid("nope")),
    ]  # fmt: skip
    # operations run as a caller runs them: each on the account the previous one returned
    chains: list[tuple[str, Callable[[Account, int], Account]]] = [
        ("redeem 250 (soonest lots)", lambda a, k: a.redeem(Decimal(250), now=now).account),
        ("accrue 100", lambda a, k: a.accrue(Decimal(100), now=now).account),
        ("cancel an accrual (middle)", lambda a, k: a.cancel(middle + k, now=now).account),
    ]
    base = best(lambda: sum(lots), repeat)
    for name, fn in queries:
        op = best(fn, repeat)
        print(f"{n:>7} {name:<34} {op * 1e6:>9.1f} {base * 1e6:>12.1f} {op / base:>8.3f}")
    for name, step in chains:
        current = account
        start = time.perf_counter()
        for k in range(repeat):
            current = step(current, k)
        op = (time.perf_counter() - start) / repeat
        print(f"{n:>7} {name:<34} {op * 1e6:>9.1f} {base * 1e6:>12.1f} {op / base:>8.3f}")
    print(f"{n:>7} {'(building: µs per accrual)':<34} {per_accrual * 1e6:>9.1f}")


def commit(repeat: int) -> None:
    program = le.load_program(SEED_004 / "program.toml")
    order = parse_preorder_request(read_json_file(SEED_004 / "request.json")).order
    now = T0 + dt.timedelta(days=60)
    membership = le.register(program, "p1", now=T0).membership
    funded = membership.account("bonus1").accrue(Decimal(21525), now=T0).account
    membership = membership.with_account(funded)
    member = membership.member(program, now=now)
    requested = le.Requested.of(le.calculate(program, order, member, now=now))
    pools = [le.CodePool(pool_id=100, name="Welcome", codes=[le.PoolCode("W-1")])]

    def one_commit() -> None:
        result = le.commit(program, order, requested, membership=membership, now=now, pools=pools)
        assert result.status is le.CommitStatus.SUCCESS

    def one_preorder() -> None:
        le.calculate(program, order, membership.member(program, now=now), now=now)

    rounds = [(best(one_commit, repeat), best(one_preorder, repeat)) for _ in range(5)]
    c, p = min(r[0] for r in rounds), min(r[1] for r in rounds)
    print("commit of the seed 004 order vs its preorder (member lookup + calculate)")
    print(f"commit {c * 1e6:.1f} µs, preorder {p * 1e6:.1f} µs, ratio {c / p:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    ledger([int(s) for s in args.sizes.split(",")], args.repeat)
    commit(args.repeat)


if __name__ == "__main__":
    main()
