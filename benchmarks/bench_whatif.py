"""The what-if replay: orders per second with 1 and 2 processes, against a plain loop, and its
peak memory as the history grows.

Workload: ``--orders`` orders (100,000) of ``write_history(path, orders, seed=1)`` in a temporary
file, replayed under examples/whatif/current.toml and proposed.toml; every run reads the file
line by line, as ``loyalty-engine whatif`` does.

Runs, interleaved for ``--repeat`` rounds (the fastest of each row is kept); each run is a fresh
process of this script (``--run``), which loads the programs, calculates the first 200 orders
once (a warm-up), and then times:
- baseline: a plain loop over the same lines: ``read_record(line, n)``, then ``calculate`` of the
  order under each program at its ``create_time``, and nothing else but two sums for the check
  below; ``read_record`` is timed apart inside the loop (the parse share);
- ``whatif(lines, programs, jobs=1)``: chunks of ``chunk_size`` (500) calculated in process,
  outcomes tallied, per-order differences built, the tallies merged;
- ``whatif(..., jobs=2)``: the same on a process pool of 2 workers, chunk sizes ``--chunks``;
- interleaved, on ``--small`` orders in one process: each slice of 500 lines through the plain
  loop and through ``whatif`` (jobs=1, one call a slice, its report rendered), in turns, which
  goes first alternating: the two meet the same moments of a noisy machine, where runs a minute
  apart do not.

ratio = µs/order ÷ the baseline's (targets: jobs=1 ≤ 1.2; the speed-up, jobs=1's time ÷ jobs=2's,
≥ 1.8 on 2 cores). median: of the 500-order chunks' µs/order, the baseline's and jobs=1's chunk
for chunk, which a burst of load on the machine moves less than the total. cpu: the run's process
and its pool's workers (waited for when the pool shuts down), so it shows what the pool costs
whatever the machine lent; main: the run's process alone; others: cores the rest of the machine
kept busy meanwhile (/proc/stat, stolen time included). The machine's ceiling for the speed-up:
two plain loops started together on ``--small`` orders, their orders/s summed ÷ one plain loop's
alone, run just before (2.0 when both cores run this work at full speed; a shared machine gives
less, and its noise can show more). Every whatif run must give the same report, byte for byte,
and the report's orders, Σ final totals and Σ accrued points must equal the plain loop's.

Memory: each run's peak RSS once its programs are loaded and warm (VmHWM, reset then through
/proc/self/clear_refs; the workers' from ``RUSAGE_CHILDREN``), at ``--orders`` and, for the plain
loop and whatif with 1 and 2 jobs, at ``--small`` (10,000) orders. Flat: peak at ``--orders`` ÷
at ``--small`` near 1.0. Not ``ru_maxrss`` of the run's own process: Linux carries the high-water
mark over ``exec``, so a child's is at least its parent's size at the fork.

    python benchmarks/bench_whatif.py [--orders N] [--small N] [--repeat R] [--chunks 500,2000]

A full run (100,000 orders, one round) takes about 7½ minutes on 2 cores; ``--orders 20000``
(three rounds) about 5½. Runs a minute apart differ by up to 20% on a shared machine: read the
ratio beside the interleaved one, and the speed-up beside the machine's ceiling.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import attrs

import loyalty_engine as le
from loyalty_engine.money import exponent, of_units
from loyalty_engine.whatif import BadRecord, read_record, whatif
from loyalty_engine.whatif.sample import write_history

ROOT = Path(__file__).resolve().parent.parent
PROGRAM_FILES = {
    "current": ROOT / "examples" / "whatif" / "current.toml",
    "proposed": ROOT / "examples" / "whatif" / "proposed.toml",
}
NOW = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)  # orders without create_time (the sample has none)
SEED = 1
CHUNK = 500  # whatif's default chunk size
CURRENCY, POINTS = "RUB", "bonus1"  # the sample's
WARM_UP = 200
Programs = list[tuple[str, le.Program]]
Sums = dict[str, tuple[int, str]]  # program → (Σ after in minor units, Σ accrued points)
Stamps = list[tuple[float, int]]  # (perf_counter, orders done since the previous stamp)
BEGAN = time.perf_counter()


def say(text: str) -> None:
    print(f"[bench_whatif {time.perf_counter() - BEGAN:6.1f}s] {text}", file=sys.stderr, flush=True)


def load_programs() -> Programs:
    return [(name, le.load_program(path)) for name, path in PROGRAM_FILES.items()]


def lines(path: Path) -> Iterator[str]:
    """The history line by line, as the command reads it."""
    with open(path, encoding="utf-8", errors="surrogateescape") as file:
        yield from file


# --- one run, in its own process -----------------------------------------------------------------


def plain(
    history: Iterable[str], programs: Programs, stamps: Stamps
) -> tuple[int, str, Sums, float]:
    """The baseline: parse each line, calculate it under each program; Σ after, Σ accrued."""
    after = [0] * len(programs)
    accrued = [Decimal(0) for _ in programs]
    parse, orders, clock = 0.0, 0, time.perf_counter
    for n, line in enumerate(history, 1):
        began = clock()
        record = read_record(line, n)
        parse += clock() - began
        assert not isinstance(record, BadRecord), record
        at = record.order.create_time or NOW
        for k, (_, program) in enumerate(programs):
            result = le.calculate(program, record.order, record.member, now=at)
            after[k] += result.final_total_price.minor + result.delivery_cost.minor
            accrued[k] += sum(s.accrued for s in result.points)
        orders += 1
        if orders % CHUNK == 0:
            stamps.append((clock(), CHUNK))
    if orders % CHUNK:
        stamps.append((clock(), orders % CHUNK))
    sums = {name: (after[k], format(accrued[k], "f")) for k, (name, _) in enumerate(programs)}
    return orders, "", sums, parse


def replay(
    history: Iterable[str], programs: Programs, jobs: int, chunk: int, stamps: Stamps
) -> tuple[int, str, Sums, float]:
    """``whatif`` on the lines: its orders, the report's digest and sums."""

    def progress(n: int) -> None:
        stamps.append((time.perf_counter(), n))

    report = whatif(history, programs, now=NOW, jobs=jobs, chunk_size=chunk, on_progress=progress)
    document = report.document()
    digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
    sums = {}
    for name, figures in document["programs"].items():
        after = int(Decimal(figures["money"][CURRENCY]["after"]).scaleb(exponent(CURRENCY)))
        sums[name] = (after, figures["points"][POINTS]["accrued"])
    return document["history"]["orders"], digest, sums, 0.0


def interleaved(path: Path, programs: Programs) -> dict[str, Any]:
    """The history in slices of ``CHUNK`` lines, each through the plain loop and through
    ``whatif`` (jobs=1) in turns; each slice's seconds, and the sums over all slices."""
    history = list(lines(path))
    seconds: dict[str, list[float]] = {"plain": [], "whatif": []}
    sums: dict[str, Sums] = {"plain": {}, "whatif": {}}
    for k in range(0, len(history), CHUNK):
        part = history[k : k + CHUNK]
        turns: list[tuple[str, Callable[[], tuple[int, str, Sums, float]]]] = [
            ("plain", partial(plain, part, programs, [])),
            ("whatif", partial(replay, part, programs, 1, CHUNK, [])),
        ]
        for name, fn in turns if k // CHUNK % 2 == 0 else turns[::-1]:
            start = time.perf_counter()
            _, _, got, _ = fn()
            seconds[name].append(time.perf_counter() - start)
            for program, (units, points) in got.items():
                was_units, was_points = sums[name].get(program, (0, "0"))
                total = format(Decimal(was_points) + Decimal(points), "f")
                sums[name][program] = (was_units + units, total)
    return {"orders": len(history), "seconds": seconds, "sums": sums}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine_busy() -> float | None:
    """CPU seconds the whole machine has been busy (stolen time too), from /proc/stat."""
    try:
        with open("/proc/stat", encoding="ascii") as file:
            ticks = [int(t) for t in file.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # less idle, iowait


def peak_kib(reset: bool = False) -> int:
    """This process's peak RSS (VmHWM) in KiB; ``reset``: start a new peak here (Linux)."""
    try:
        if reset:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as file:
                file.write("5")
        with open("/proc/self/status", encoding="ascii") as file:
            for line in file:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # carries the parent's size


def run_child(kind: str, path: Path, sync: bool) -> None:
    """``--run KIND PATH``: one timed run on ``path`` (``plain`` or ``whatif:JOBS:CHUNK``), after
    a warm-up (``sync``: then "ready" on stdout, and wait for a line on stdin); its figures as one
    JSON line on stdout."""
    programs = load_programs()
    for n, line in enumerate(lines(path), 1):  # each program's first calculations, untimed
        record = read_record(line, n)
        assert not isinstance(record, BadRecord), record
        for _, program in programs:
            le.calculate(program, record.order, record.member, now=NOW)
        if n == WARM_UP:
            break
    if kind == "interleaved":
        print(json.dumps(interleaved(path, programs)))
        return
    fn: Callable[[Stamps], tuple[int, str, Sums, float]]
    if kind == "plain":
        fn = partial(plain, lines(path), programs)
    else:
        _, jobs, chunk = kind.split(":")
        fn = partial(replay, lines(path), programs, int(jobs), int(chunk))
    if sync:
        print("ready", flush=True)
        sys.stdin.readline()
    loaded = peak_kib(reset=True)
    stamps: Stamps = []
    busy, own, children = machine_busy(), time.process_time(), children_cpu()
    start = time.perf_counter()
    orders, digest, sums, parse = fn(stamps)
    seconds = time.perf_counter() - start
    own = time.process_time() - own
    cpu = own + children_cpu() - children
    idle = machine_busy()
    others = None if busy is None or idle is None else max(0.0, idle - busy - cpu) / seconds
    previous, chunks = start, []
    for at, n in stamps:
        chunks.append(1e6 * (at - previous) / n)
        previous = at
    figures = {
        "seconds": seconds, "cpu": cpu, "own": own, "others": others, "orders": orders,
        "digest": digest, "sums": sums, "chunks": chunks, "parse": parse,
        "loaded_kib": loaded, "peak_kib": peak_kib(),
        "workers_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    }  # fmt: skip
    print(json.dumps(figures))


# --- the benchmark -------------------------------------------------------------------------------


@attrs.frozen
class Run:
    seconds: float
    cpu: float  # the run's process and its waited-for children
    own: float  # the run's process alone
    others: float | None  # cores the rest of the machine kept busy, on average
    orders: int
    digest: str  # of the report document ("": the baseline)
    sums: Sums
    chunks: tuple[float, ...]  # each chunk's µs/order (the baseline: each 500 lines)
    parse: float  # the baseline's read_record time
    loaded_kib: int
    peak_kib: int
    workers_kib: int

    @property
    def rate(self) -> float:
        return self.orders / self.seconds

    def median(self) -> float:
        return statistics.median(self.chunks)


def measure(kind: str, path: Path) -> Run:
    argv = [sys.executable, __file__, "--run", kind, str(path)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"--run {kind} {path} failed:\n{done.stderr}")
    return parsed(done.stdout)


def parsed(stdout: str) -> Run:
    figures: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    figures["sums"] = {name: tuple(pair) for name, pair in figures["sums"].items()}
    figures["chunks"] = tuple(figures["chunks"])
    return Run(**figures)


def measure_interleaved(path: Path) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--run", "interleaved", str(path)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"--run interleaved {path} failed:\n{done.stderr}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def exact(sums: Sums) -> dict[str, tuple[int, Decimal]]:
    return {name: (int(units), Decimal(points)) for name, (units, points) in sums.items()}


def at_once(kind: str, path: Path, count: int = 2) -> list[Run]:
    """``count`` runs of ``kind``, each in its own process, timed from the same moment: each
    says "ready" once warm and waits for a line on its stdin."""
    argv = [sys.executable, __file__, "--run", kind, str(path), "--sync"]
    started = [
        subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    for process in started:
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
    for process in started:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    outputs = [process.communicate()[0] for process in started]
    if any(process.returncode for process in started):
        raise SystemExit(f"--run {kind} {path} failed")
    return [parsed(out) for out in outputs]


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000, help="the memory runs' small size")
    parser.add_argument("--repeat", type=int, help="rounds (default: 1 at 100,000, at most 3)")
    parser.add_argument("--chunks", default="500,2000", help="chunk sizes for jobs=2")
    parser.add_argument("--run", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--sync", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_child(args.run[0], Path(args.run[1]), args.sync)
        return
    repeat = args.repeat or max(1, min(3, 100_000 // args.orders))
    chunks = [int(c) for c in args.chunks.split(",")]
    assert chunks and chunks[0] == CHUNK, f"--chunks starts with {CHUNK}, the speed-up's"
    rows = [
        ("plain loop (baseline)", "plain"),
        (f"whatif jobs=1 chunk {CHUNK}", f"whatif:1:{CHUNK}"),
        *((f"whatif jobs=2 chunk {chunk}", f"whatif:2:{chunk}") for chunk in chunks),
    ]
    with tempfile.TemporaryDirectory(prefix="bench_whatif_") as where:
        path, small = Path(where) / "history.jsonl", Path(where) / "small.jsonl"
        say(f"writing {args.orders:,} and {args.small:,} orders (seed {SEED})")
        write_history(path, args.orders, seed=SEED)
        write_history(small, args.small, seed=SEED)
        size = path.stat().st_size
        load = os.getloadavg()[0]
        runs: list[list[Run]] = [[] for _ in rows]
        for r in range(repeat):  # interleaved: each round runs every row once
            for k, (name, kind) in enumerate(rows):
                say(f"round {r + 1}/{repeat}: {name}")
                runs[k].append(measure(kind, path))
                got = runs[k][-1]
                say(f"  {got.seconds:.1f} s, {got.rate:,.0f} orders/s")
        small_runs: dict[int, Run] = {}
        for k in (1, 2, 0):  # the plain loop last: it is also the "alone" of the ceiling
            name, kind = rows[k]
            say(f"{name} on {args.small:,} orders")
            small_runs[k] = measure(kind, small)
        say(f"the machine's ceiling: two plain loops at once on {args.small:,} orders")
        pair = at_once("plain", small)
        say(f"interleaved: the plain loop and whatif slice for slice on {args.small:,} orders")
        mixed = measure_interleaved(small)
    check(args.orders, [run for row in runs for run in row], runs[0][0])
    few = [small_runs[k] for k in range(3)]
    check(args.small, [*few, *pair], few[0])
    for name in ("plain", "whatif"):
        assert exact(mixed["sums"][name]) == exact(few[0].sums), (name, mixed["sums"])
    ceiling = sum(few[0].seconds / run.seconds for run in pair)
    fastest = [min(row, key=lambda run: run.seconds) for row in runs]
    print(
        f"what-if: {args.orders:,} orders × {len(PROGRAM_FILES)} programs "
        f"({', '.join(PROGRAM_FILES)}), a history of {size / 1e6:.1f} MB; best of {repeat} "
        f"round{'s' if repeat > 1 else ''}, each run a fresh process"
    )
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load:.2f} at the start; its ceiling on "
        f"this work: two plain loops at once on {args.small:,} orders did {ceiling:.2f}× the "
        f"orders/s of one alone ({few[0].seconds:.1f} s; at once "
        + ", ".join(f"{run.seconds:.1f}" for run in pair)
        + " s)"
    )
    speed([name for name, _ in rows], fastest, chunks, ceiling, mixed)
    print()
    memory([name for name, _ in rows], runs, few, args.small, args.orders)


def check(orders: int, runs: Sequence[Run], base: Run) -> None:
    """The compared runs agree: one report; its figures are the plain loop's."""
    replays = [run for run in runs if run.digest]
    assert base.orders == orders, (base.orders, orders)
    for run in runs:
        assert run.orders == orders, (run.orders, orders)
        assert run.sums == base.sums, (run.sums, base.sums)
        if run.digest:
            assert run.digest == replays[0].digest, "two whatif runs gave different reports"


def speed(
    names: Sequence[str],
    runs: Sequence[Run],
    chunks: Sequence[int],
    ceiling: float,
    mixed: dict[str, Any],
) -> None:
    base, one, two = runs[0], runs[1], runs[2]
    print(
        "ratio = ÷ the plain loop's; median: µs/order of the median 500-order chunk (in "
        "process); cpu: the run's process and its workers; main: the run's process alone "
        "(µs/order); others: cores the rest of the machine kept busy meanwhile"
    )
    header = (
        f"{'run':<30} {'seconds':>8} {'orders/s':>9} {'µs/order':>9} {'ratio':>6} "
        f"{'median':>7} {'ratio':>6} {'cpu µs/order':>13} {'ratio':>6} {'main':>6} "
        f"{'cpu/wall':>9} {'others':>7}"
    )
    print(header)
    print("-" * len(header))
    for name, run in zip(names, runs, strict=True):
        median = ("-", "-") if run.own < 0.5 * run.cpu else (
            f"{run.median():.1f}", f"{run.median() / base.median():.2f}")  # fmt: skip
        others = "-" if run.others is None else f"{run.others:.2f}"
        print(
            f"{name:<30} {run.seconds:>8.2f} {run.rate:>9.0f} {1e6 / run.rate:>9.1f} "
            f"{run.seconds / base.seconds:>6.2f} {median[0]:>7} {median[1]:>6} "
            f"{1e6 * run.cpu / run.orders:>13.1f} {run.cpu / base.cpu:>6.2f} "
            f"{1e6 * run.own / run.orders:>6.0f} {run.cpu / run.seconds:>9.2f} {others:>7}"
        )
        if run is base:
            for label, seconds in (
                ("  of which read_record", base.parse),
                ("  of which calculate × 2, rest", base.seconds - base.parse),
            ):
                print(f"{label:<30} {seconds:>8.2f} {'':>9} {1e6 * seconds / base.orders:>9.1f} "
                      f"{seconds / base.seconds:>6.2f}")  # fmt: skip
    print()
    speedup = one.seconds / two.seconds
    print(f"speed-up jobs=2 ÷ jobs=1, chunk {CHUNK}: {speedup:.2f}× (target ≥ 1.8×: "
          f"{verdict(speedup >= 1.8)}; {speedup / ceiling:.0%} of the machine's ceiling "
          f"{ceiling:.2f}×)" + "".join(
              f"; chunk {chunk}: {one.seconds / run.seconds:.2f}×"
              for chunk, run in zip(chunks[1:], runs[3:], strict=True)))  # fmt: skip
    overhead = one.seconds / base.seconds
    print(
        f"whatif jobs=1 ÷ plain loop: {overhead:.2f}× in total (target ≤ 1.2×: "
        f"{verdict(overhead <= 1.2)}), {one.median() / base.median():.2f}× chunk for chunk "
        f"(median), {one.cpu / base.cpu:.2f}× in CPU time"
    )
    turns = mixed["seconds"]
    paired = sum(turns["whatif"]) / sum(turns["plain"])
    median = statistics.median(w / p for w, p in zip(turns["whatif"], turns["plain"], strict=True))
    print(
        f"  interleaved, on {mixed['orders']:,} orders in one process: whatif and the plain loop "
        f"took each {CHUNK}-line slice in turns: {paired:.2f}× in total (target: "
        f"{verdict(paired <= 1.2)}), {median:.2f}× the median slice"
    )
    print(
        f"parse share: read_record is {base.parse / base.seconds:.0%} of the plain loop, "
        f"{base.parse / one.seconds:.0%} of whatif jobs=1"
    )
    totals = "; ".join(
        f"{name} {format(of_units(units, exponent(CURRENCY)), 'f')} {CURRENCY}, {points} {POINTS}"
        for name, (units, points) in base.sums.items()
    )
    print(
        f"checks: every whatif run gave the same report (sha256 {one.digest[:16]}…); its orders, "
        f"Σ final totals and Σ accrued points equal the plain loop's: {totals}"
    )


def memory(
    names: Sequence[str], runs: Sequence[Sequence[Run]], small: Sequence[Run], few: int, many: int
) -> None:
    """Each row's highest peak over the rounds at ``many`` orders, and at ``few`` (the plain
    loop, whatif with 1 and 2 jobs)."""
    print(
        "peak RSS (VmHWM from when the programs are loaded and warm) of each run's process, "
        "reading the file line by line; workers: the larger worker's"
    )
    header = f"{'run':<30} {'orders':>8} {'loaded MB':>10} {'peak MB':>8} {'workers MB':>11}"
    print(header)
    print("-" * len(header))
    table = [(name, many, list(row)) for name, row in zip(names, runs, strict=True)]
    for k, run in enumerate(small):  # before the same run at ``many``
        table.insert(2 * k, (names[k], few, [run]))
    for name, orders, row in table:
        loaded, peak = max(r.loaded_kib for r in row), max(r.peak_kib for r in row)
        workers = max(r.workers_kib for r in row)
        shown = f"{workers / 1024:.1f}" if "jobs=2" in name else "-"
        print(f"{name:<30} {orders:>8,} {loaded / 1024:>10.1f} {peak / 1024:>8.1f} {shown:>11}")
    ratios = []
    for k, name in enumerate(names[:3]):
        big = runs[k]
        ratios.append(max(r.peak_kib for r in big) / small[k].peak_kib)
        text = f"{name.split(' chunk')[0]}: peak at {many:,} ÷ at {few:,} = {ratios[-1]:.2f}"
        if k == 2:
            ratios.append(max(r.workers_kib for r in big) / small[k].workers_kib)
            text += f", the workers' {ratios[-1]:.2f}"
        print(text)
    print(f"memory flat (every ratio ≤ 1.10): {verdict(max(ratios) <= 1.1)}")


if __name__ == "__main__":
    main()
