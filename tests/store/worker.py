"""A worker process for the store concurrency and kill tests (run as a script, never collected).

``python worker.py commit --out LOG --ready FILE --start FILE -- ARGV…``
    Imports the library, creates ``--ready``, waits for ``--start`` to exist (the barrier: every
    worker is loaded and waiting before any commits), then runs each ``loyalty-engine`` command
    line of ``ARGV`` (``commit``-separated: ``commit R1.json --program … -- commit R2.json …``)
    in-process with ``loyalty_engine.cli.main``, one after the other, and appends one JSON line
    per command to ``LOG``: ``{"argv", "rc", "stdout", "stderr", "began", "ended"}`` (the times
    on ``time.monotonic()``, which all processes share).

``python worker.py zygote``
    For the kill loop: imports the library once, then for each JSON line read from stdin
    (``{"log": LOG, "commands": [ARGV, …]}``) forks a child that runs those command lines like
    ``commit`` does (no barrier) and ``os._exit``s; the zygote prints ``pid N`` as soon as the
    child exists, and on the next line ``reap`` reaps it and prints ``done N STATUS``, so the
    test can SIGKILL the child at any moment without paying for an interpreter start each time.
    With ``"announce": true`` the child also prints ``apply N T`` and ``applied N T`` around
    every store write, and ``fsync N T`` / ``fsynced N T`` around each ``os.fsync``
    (``announce_applies``). ``quit`` (or EOF) ends it.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from race_support import run  # this directory is the script's: sys.path[0]

import loyalty_engine.cli  # noqa: F401  (loaded before the barrier, and before each fork)


def run_all(commands: list[list[str]], log: Path) -> None:
    with log.open("a", encoding="utf-8") as stream:
        for argv in commands:
            began = time.monotonic()  # one clock for every process: CLOCK_MONOTONIC
            done = {**run(argv), "began": began, "ended": time.monotonic()}
            stream.write(json.dumps(done) + "\n")
            stream.flush()  # a line in the log = a command that returned


def split(argv: list[str]) -> list[list[str]]:
    commands: list[list[str]] = [[]]
    for arg in argv:
        if arg == "--":
            commands.append([])
        else:
            commands[-1].append(arg)
    return [c for c in commands if c]


def wait_for(path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"worker: no {path} after {timeout} s")
        time.sleep(0.0005)


def announce_applies() -> None:
    """Make every store write say so on stdout first (``apply PID TIME``) and after it returned
    or raised (``applied PID TIME``), and every ``os.fsync`` too (``fsync``, ``fsynced``), TIME
    on ``time.monotonic()``: the test can then aim its SIGKILL at the write itself. Only in a
    forked child, on the store classes the CLI uses; it also makes the disk slow (below)."""
    from loyalty_engine.store import JsonFileStore, SqliteStore

    def say(word: str) -> None:
        os.write(1, f"{word} {os.getpid()} {time.monotonic()}\n".encode())

    for cls in (SqliteStore, JsonFileStore):
        original = cls.apply

        def apply(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> None:
            say("apply")
            try:
                _original(self, *args, **kwargs)
            finally:
                say("applied")

        cls.apply = apply  # type: ignore[method-assign]

    # and a slow disk, so that a SIGKILL aimed at a write lands inside it even where the disk
    # is fast (tmpfs): 2 ms before each flush of the JSON store (SQLite's flushes are in C)…
    fsync = os.fsync

    def announced_fsync(fd: int) -> None:
        say("fsync")
        time.sleep(0.002)
        fsync(fd)
        say("fsynced")

    os.fsync = announced_fsync

    # …and 2 ms before each SQLite COMMIT: the transaction is written, not yet committed
    class SlowCommit(sqlite3.Connection):
        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
            if sql == "COMMIT":
                time.sleep(0.002)
            return super().execute(sql, *args)

    sqlite3.connect = functools.partial(sqlite3.connect, factory=SlowCommit)  # type: ignore[assignment]


def zygote() -> None:
    for line in sys.stdin:
        if line.strip() in ("", "quit"):
            break
        job = json.loads(line)
        pid = os.fork()
        if pid == 0:  # the child: run the commands, then leave without any cleanup
            try:
                if job.get("announce"):
                    announce_applies()
                run_all(job["commands"], Path(job["log"]))
            finally:
                os._exit(0)
        print(f"pid {pid}", flush=True)
        # not reaped before the test says so: until then a finished child stays a zombie, and
        # its pid cannot be reused by a process the test's SIGKILL would then hit
        assert sys.stdin.readline().strip() == "reap"
        _, status = os.waitpid(pid, 0)
        print(f"done {pid} {status}", flush=True)


def cli(args: list[str]) -> None:
    if args[0] == "zygote":
        zygote()
        return
    assert args[0] == "commit", args
    options = dict(zip(args[1:7:2], args[2:7:2], strict=True))
    assert args[7] == "--", args
    Path(options["--ready"]).touch()
    wait_for(Path(options["--start"]))
    run_all(split(args[8:]), Path(options["--out"]))


if __name__ == "__main__":
    cli(sys.argv[1:])
