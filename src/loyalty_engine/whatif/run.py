"""Replay history under several programs: chunks of orders, any ``Executor``, a fixed merge.

How it works: the history is cut into chunks of ``chunk_size`` lines; each chunk goes to a worker
(``run_chunk``), which parses its lines, calculates every order under every program and returns
the chunk's tallies, its per-order differences and its bad lines. The caller merges the results
in chunk order, so the report and the differences are the same whatever the executor, the number
of workers or the chunk size. At most ``2 × workers`` chunks are in flight: memory stays flat
however long the history.

The programs are pickled once. A process pool made here (``jobs``) installs them in each worker
when it starts; with an executor of yours (a Dask ``Client.get_executor()``) they travel with
each chunk — a few KB beside the chunk's lines — and each worker unpickles them once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import pickle
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Literal

import attrs

from ..engine import calculate
from ..errors import LoyaltyError, ValidationError, ValidationErrors, render_path
from ..money import money_text
from ..program.program import Program
from ..validators import instant
from .history import BadRecord, HistoryRecord, read_record, when
from .report import Report
from .tally import ComparisonTally, Outcome, ProgramTally

Item = str | bytes | HistoryRecord
OnError = Literal["skip", "fail"]
Named = tuple[tuple[str, Program], ...]

_INSTALLED: dict[bytes, Named] = {}  # per worker process: the programs, unpickled once


@attrs.frozen
class Task:
    """A chunk for a worker: its lines (numbered), the programs, the default ``now``."""

    key: bytes  # the programs' digest
    blob: bytes | None  # the pickled programs; None: installed in the worker already
    items: tuple[tuple[int, Item], ...]
    now: dt.datetime
    diffs: bool = True  # build the per-order differences (only when someone listens)


@attrs.frozen
class ChunkResult:
    tallies: tuple[ProgramTally, ...]
    comparisons: tuple[ComparisonTally, ...]  # each program after the first, against it
    diffs: tuple[dict[str, object], ...]
    bad: tuple[BadRecord, ...]
    lines: int


def _install(key: bytes, blob: bytes) -> Named:
    found = _INSTALLED.get(key)
    if found is None:
        found = pickle.loads(blob)  # our own pickle, made by the caller's process
        _INSTALLED.clear()
        _INSTALLED[key] = found
    return found


def run_chunk(task: Task) -> ChunkResult:
    """Calculate every order of the chunk under every program (in a worker)."""
    programs = _INSTALLED[task.key] if task.blob is None else _install(task.key, task.blob)
    tallies = tuple(ProgramTally() for _ in programs)
    comparisons = tuple(ComparisonTally() for _ in programs[1:])
    diffs: list[dict[str, object]] = []
    bad: list[BadRecord] = []
    for line, item in task.items:
        if isinstance(item, HistoryRecord):
            record: HistoryRecord | BadRecord = item if item.line else attrs.evolve(item, line=line)
        else:
            record = read_record(item, line)
        if isinstance(record, BadRecord):
            bad.append(record)
            continue
        at = when(record, task.now)
        outcomes: list[Outcome | str] = []
        for (_, program), tally in zip(programs, tallies, strict=True):
            try:
                result = calculate(program, record.order, record.member, now=at)
            except LoyaltyError as error:
                reason = _reason(error)
                tally.refused[reason] += 1
                outcomes.append(reason)
                continue
            outcome = Outcome.of(result)
            tally.add(outcome, record.charged.minor if record.charged else None)
            outcomes.append(outcome)
        base, changed = outcomes[0], False
        for other, comparison in zip(outcomes[1:], comparisons, strict=True):
            if isinstance(base, Outcome) and isinstance(other, Outcome):
                changed |= comparison.add(other, base)
            else:
                changed |= isinstance(base, Outcome) != isinstance(other, Outcome)
        if changed and task.diffs:
            diffs.append(_diff(record, [name for name, _ in programs], outcomes))
    return ChunkResult(tallies, comparisons, tuple(diffs), tuple(bad), len(task.items))


def _reason(error: LoyaltyError) -> str:
    """A refusal's reason without the order's own values, so that reasons can be counted."""
    if isinstance(error, ValidationError) and not isinstance(error, ValidationErrors):
        return f"{render_path(error.path)}: {error.reason}"
    return str(error)


def _diff(
    record: HistoryRecord, names: Sequence[str], outcomes: Sequence[Outcome | str]
) -> dict[str, object]:
    order = record.order

    def shown(outcome: Outcome | str) -> dict[str, object]:
        if isinstance(outcome, str):
            return {"refused": outcome}
        return {"after": money_text(outcome.after, order.currency),
                "discount": money_text(outcome.discount, order.currency),
                "accrued": {e: format(p, "f") for e, p in sorted(outcome.accrued)},
                "redeemed": {e: format(p, "f") for e, p in sorted(outcome.redeemed)},
                "promotions": [use.external_id for use in outcome.uses]}  # fmt: skip

    return {
        "line": record.line,
        "external_id": order.external_id,
        "profile_id": record.member.profile_id if record.member else None,
        "currency": order.currency,
        "programs": {name: shown(o) for name, o in zip(names, outcomes, strict=True)},
    }


def whatif(
    history: Iterable[Item],
    programs: Mapping[str, Program] | Sequence[tuple[str, Program]],
    *,
    now: dt.datetime,
    jobs: int = 1,
    executor: Executor | None = None,
    chunk_size: int = 500,
    on_error: OnError = "skip",
    on_diff: Callable[[dict[str, object]], None] | None = None,
    on_bad: Callable[[BadRecord], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Report:
    """Replay ``history`` (history lines or ``HistoryRecord``s) under each of ``programs``; the
    first is the baseline the others are compared with.

    ``now`` is when an order without ``create_time`` is calculated. ``jobs`` > 1 runs a process
    pool of that many workers; ``executor`` runs on yours instead (a Dask cluster's). Each
    differing order goes to ``on_diff`` and each bad line to ``on_bad``, in history order;
    ``on_error="fail"`` raises a ``ValidationError`` naming the first bad line instead.
    ``on_progress`` hears how many lines each finished chunk held.
    """
    instant(now, ("now",))
    named: Named = tuple(programs.items()) if isinstance(programs, Mapping) else tuple(programs)
    names = [name for name, _ in named]
    if not named or len(set(names)) != len(names):
        raise ValidationError(("programs",), names, "give one or more programs, named uniquely")
    if chunk_size < 1 or jobs < 1:
        raise ValidationError(("chunk_size",), (chunk_size, jobs), "chunk_size and jobs are ≥ 1")
    blob = pickle.dumps(named)
    key = hashlib.sha256(blob).digest()
    chunks = _chunks(history, chunk_size)
    want = on_diff is not None
    report = Report.empty(names)
    pool = None
    if executor is None and jobs > 1:
        pool = executor = ProcessPoolExecutor(jobs, initializer=_install, initargs=(key, blob))
    try:
        if executor is None:
            _install(key, blob)
            results: Iterator[ChunkResult] = (
                run_chunk(Task(key, None, c, now, want)) for c in chunks
            )
        else:
            ship = None if pool is not None else blob
            tasks = (Task(key, ship, c, now, want) for c in chunks)
            results = _in_order(executor, tasks, depth=2 * max(jobs, _workers(executor)))
        for result in results:
            if result.bad and on_error == "fail":
                first = result.bad[0]
                raise ValidationError((f"line {first.line}",), "…", first.reason)
            report.merge(result)
            for bad in result.bad:
                if on_bad is not None:
                    on_bad(bad)
            if on_diff is not None:
                for diff in result.diffs:
                    on_diff(diff)
            if on_progress is not None:
                on_progress(result.lines)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return report


def _chunks(history: Iterable[Item], size: int) -> Iterator[tuple[tuple[int, Item], ...]]:
    """Numbered non-blank items, ``size`` at a time."""
    numbered = (
        (n, item)
        for n, item in enumerate(history, 1)
        if isinstance(item, HistoryRecord) or item.strip()
    )
    while chunk := tuple(itertools.islice(numbered, size)):
        yield chunk


def _in_order(executor: Executor, tasks: Iterator[Task], *, depth: int) -> Iterator[ChunkResult]:
    """Results in submission order, with at most ``depth`` chunks in flight."""
    pending: deque[Future[ChunkResult]] = deque()
    try:
        for task in tasks:
            pending.append(executor.submit(run_chunk, task))
            if len(pending) >= depth:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()


def _workers(executor: Executor) -> int:
    """How many workers an executor has, as far as it says (a pool does; Dask's may not)."""
    count = getattr(executor, "_max_workers", None)
    return count if isinstance(count, int) and count > 0 else 4
