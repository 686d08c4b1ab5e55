"""The ``whatif`` command's edge: files in and out, progress on stderr, the executor.

Outputs are written to a temporary file beside their path and renamed into place when the run
succeeds, so a failed or interrupted run leaves no half report. Progress uses ``tqdm`` (the
``[whatif]`` extra) and shows only on a terminal, unless asked for; each bad line is reported
on stderr with its number whatever ``--on-error`` says.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import IO

from ..errors import ValidationError
from ..program import Program, load_program
from .history import BadRecord
from .report import render_table
from .run import OnError, whatif

SCHEDULER_TIMEOUT = 10  # seconds to reach a Dask scheduler before giving up


def names(paths: Sequence[str]) -> list[str]:
    """Each program's name: its file's stem, numbered when two files share one."""
    out: list[str] = []
    for path in paths:
        stem, n = Path(path).stem, 1
        name = stem
        while name in out:
            n += 1
            name = f"{stem}-{n}"
        out.append(name)
    return out


@contextlib.contextmanager
def output(path: str | None) -> Iterator[IO[str] | None]:
    """A text file that appears at ``path`` only if the block succeeds (``None``: no file)."""
    if path is None:
        yield None
        return
    target = Path(path)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, renamed on success
        "w", encoding="utf-8", dir=target.parent or ".", prefix=f".{target.name}.", delete=False
    )
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, 0o666 & ~_umask())  # as open() would have made it, not 0600
        os.replace(handle.name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        raise


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it: put it back at once
    os.umask(mask)
    return mask


def _lines(path: str) -> Iterator[str]:
    if path == "-":
        yield from sys.stdin
        return
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as file:
            yield from file
    except OSError as error:
        raise ValidationError((path,), path, f"cannot read: {error.strerror}") from None


def _count(path: str) -> int | None:
    """The history's line count, for the progress bar's ETA (a fast pass over the bytes)."""
    if path == "-":
        return None
    try:
        with open(path, "rb") as file:
            return sum(block.count(b"\n") for block in iter(lambda: file.read(1 << 20), b""))
    except OSError:
        return None


@contextlib.contextmanager
def _progress(
    path: str, shown: bool | None
) -> Iterator[tuple[Callable[[int], None], Callable[[str], None]]]:
    """(update, write) for the progress bar; without a bar, stderr lines."""
    wanted = sys.stderr.isatty() if shown is None else shown
    try:
        from tqdm import tqdm
    except ImportError:
        if shown:
            raise ValidationError(("--progress",), "tqdm", "needs the [whatif] extra: pip "
                                  "install 'loyalty_engine[whatif]'") from None  # fmt: skip
        wanted = False
    if not wanted:
        yield (lambda n: None), (lambda text: print(text, file=sys.stderr))
        return
    delay = 0 if shown else 0.5  # on a terminal, only a run longer than a moment shows one
    with tqdm(total=_count(path), unit=" orders", file=sys.stderr, delay=delay,
              dynamic_ncols=True) as bar:  # fmt: skip

        def update(n: int) -> None:
            bar.update(n)

        def write(text: str) -> None:
            bar.write(text, file=sys.stderr)

        yield update, write


@contextlib.contextmanager
def _executor(scheduler: str | None) -> Iterator[Executor | None]:
    if scheduler is None:
        yield None
        return
    try:
        from distributed import Client
    except ImportError:
        raise ValidationError(("--scheduler",), scheduler, "needs the [dask] extra: pip "
                              "install 'loyalty_engine[dask]'") from None  # fmt: skip
    try:
        client = Client(scheduler, timeout=SCHEDULER_TIMEOUT)  # type: ignore[no-untyped-call]
    except (OSError, ValueError) as error:  # refused, timed out, not an address
        raise ValidationError(("--scheduler",), scheduler, f"cannot connect: {error}") from None
    with client:
        yield client.get_executor()  # type: ignore[no-untyped-call]


def run(
    history: str,
    program_paths: Sequence[str],
    *,
    now: dt.datetime,
    jobs: int = 1,
    scheduler: str | None = None,
    chunk_size: int = 500,
    on_error: OnError = "skip",
    out: str | None = None,
    diff: str | None = None,
    html: str | None = None,
    progress: bool | None = None,
) -> str:
    """Replay ``history`` under the programs, write what was asked, return the table."""
    programs: dict[str, Program] = dict(
        zip(names(program_paths), map(load_program, program_paths), strict=True)
    )
    if html is not None:
        from .html import render_html, require_plotly

        require_plotly()  # fail before the replay when plotly is missing

    with (
        _progress(history, progress) as (update, write),
        _executor(scheduler) as executor,
        output(diff) as diffs,
    ):

        def bad(record: BadRecord) -> None:
            write(f"loyalty-engine: line {record.line}: {record.reason}")

        def changed(line: dict[str, object]) -> None:
            assert diffs is not None
            diffs.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")

        report = whatif(_lines(history), programs, now=now, jobs=jobs, executor=executor,
                        chunk_size=chunk_size, on_error=on_error, on_bad=bad,
                        on_diff=changed if diffs is not None else None,
                        on_progress=update)  # fmt: skip
    document = report.document()
    with output(out) as file:
        if file is not None:
            file.write(json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    with output(html) as file:
        if file is not None:
            file.write(render_html(document))
    return render_table(document)
