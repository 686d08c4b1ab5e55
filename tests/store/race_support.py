"""What the store concurrency and kill tests share: a program, requests, the CLI, the checks.

The program has two currencies: ``bonus1``, which orders redeem (``redeem_promo``), and
``stars``, into which every ``bot`` order accrues a fixed 5 (``star_promo``), so a successful
member order writes two accounts in one operation. A ``shop`` order issues one code from pool 100
(``welcome_promo``). Requests are built in the seed 004 shape: the preorder's answer sent back as
``requested_promotions``.
"""

from __future__ import annotations

import contextlib
import decimal
import io
import json
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORKER = HERE / "worker.py"
IMPORT_AT = "2026-02-01T00:00:00Z"
COMMIT_AT = "2026-02-18T13:05:00Z"
CREATE_TIME = "2026-02-18T13:00:00Z"
REDEEM = "redeem_points:redeem_promo"
STARS = "accrue_points:star_promo"
EXACT = decimal.Context(prec=60, traps=[decimal.Inexact])  # the tests run under a hostile one

PROGRAM = """\
[[currencies]]
eid = "bonus1"
iid = 1
name = "Bonus points"

[[currencies]]
eid = "stars"
iid = 2
name = "Stars"

[[promotions]]
external_id = "redeem_promo"
name = "Point Redemption"
type = "redeem_points"
benefit = { currency = "bonus1" }

[[promotions]]
external_id = "star_promo"
name = "Stars"
type = "accrue_points"
benefit = { kind = "fixed", currency = "stars", points = "5" }
conditions = [{ kind = "endpoint", values = ["bot"] }]

[[promotions]]
external_id = "welcome_promo"
name = "Welcome Gift"
type = "code_issue"
benefit = { pool_id = 100, pool_name = "Welcome Promocodes" }
conditions = [{ kind = "endpoint", values = ["shop"] }]
"""


def write_program(directory: Path) -> Path:
    path = directory / "program.toml"
    path.write_text(PROGRAM)
    return path


def member_request(external_id: str, profile_id: str = "m1", redeem: int = 300) -> dict[str, Any]:
    """A ``bot`` order of 1000.00 paying ``redeem`` points and accruing 5 stars."""
    final = f"{1000 - redeem}.00"
    return {
        "external_id": external_id,
        "profile_id": profile_id,
        "data": {
            "endpoint": "bot",
            "currency": "RUB",
            "total_price": "1000.00",
            "final_total_price": final,
            "create_time": CREATE_TIME,
            "lines": [
                {
                    "external_id": "l1",
                    "sku": "skuA",
                    "base_price_per_item": "1000.00",
                    "final_price_per_item": final,
                    "count": 1,
                    "requested_promotions": [
                        {
                            "type": "accrue_points",
                            "promotion": {"external_id": "star_promo", "name": "Stars"},
                            "points_info": {"points_currency_eid": "stars", "amount": "5"},
                        },
                        {
                            "type": "redeem_points",
                            "promotion": {"external_id": "redeem_promo",
                                          "name": "Point Redemption"},
                            "amount": f"{redeem}.00",
                            "points_info": {"points_currency_eid": "bonus1",
                                            "amount": str(redeem)},
                        },
                    ],
                }
            ],
            "redeem_points": [{"points_currency_eid": "bonus1", "amount": redeem}],
        },
    }  # fmt: skip


def guest_request(external_id: str, *, code: bool = True) -> dict[str, Any]:
    """A guest's order of 1000.00: in the ``shop``, promised one code from pool 100; elsewhere
    (``code=False``) with no promotion at all, so the order's record is all it writes."""
    request: dict[str, Any] = {
        "external_id": external_id,
        "data": {
            "endpoint": "shop" if code else "web",
            "currency": "RUB",
            "total_price": "1000.00",
            "final_total_price": "1000.00",
            "create_time": CREATE_TIME,
            "lines": [
                {
                    "external_id": "l1",
                    "sku": "skuA",
                    "base_price_per_item": "1000.00",
                    "final_price_per_item": "1000.00",
                    "count": 1,
                }
            ],
        },
    }
    if code:
        request["data"]["requested_promotions"] = [
            {"type": "code_issue", "promotion": {"external_id": "welcome_promo",
                                                 "name": "Welcome Gift"}}
        ]  # fmt: skip
    return request


def code_request(external_id: str) -> dict[str, Any]:
    return guest_request(external_id)


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


def store_option(kind: str, path: Path) -> list[str]:
    return ["--db" if kind == "sqlite" else "--state", str(path)]


def cli(*args: str | os.PathLike[str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """``loyalty-engine ARGS…`` as a separate process."""
    command = [sys.executable, "-m", "loyalty_engine", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def run(argv: Sequence[str | os.PathLike[str]]) -> dict[str, Any]:
    """``loyalty-engine ARGV…`` in this process (``cli.main``): ``{"argv", "rc", "stdout",
    "stderr"}``; a traceback is recorded as ``rc`` 99, never raised."""
    from loyalty_engine.cli import main

    argv = [str(a) for a in argv]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as exit_:  # argparse
            rc = exit_.code if isinstance(exit_.code, int) else 2
        except BaseException as error:
            rc = 99
            err.write(f"{type(error).__name__}: {error}\n{traceback.format_exc()}")
    return {"argv": argv, "rc": rc, "stdout": out.getvalue(), "stderr": err.getvalue()}


def export(store: Sequence[str]) -> dict[str, Any]:
    """``loyalty-engine db export``."""
    done = run(["db", "export", *store])
    assert done["rc"] == 0, done
    document: dict[str, Any] = json.loads(done["stdout"])
    return document


def db_check(program: Path, store: Sequence[str]) -> str:
    """``loyalty-engine db check``: it must pass."""
    done = run(["db", "check", "--program", program, *store])
    assert done["rc"] == 0, done
    assert done["stdout"].startswith("ok: "), done
    return str(done["stdout"])


def db_import(source: Path, program: Path, store: Sequence[str]) -> None:
    done = run(["db", "import", source, "--program", program, *store, "--now", IMPORT_AT])
    assert done["rc"] == 0, done


def commit_argv(request: Path, program: Path, store: Sequence[str]) -> list[str]:
    return ["commit", str(request), "--program", str(program), *store, "--now", COMMIT_AT]


# --- many processes at once -----------------------------------------------------------------


def race(
    directory: Path, jobs: Sequence[Sequence[Sequence[str]]], timeout: float = 40
) -> list[dict[str, Any]]:
    """Run ``jobs[i]`` (CLI command lines, in order) in worker process ``i``, all workers
    released at once; every command's result ``{"argv", "rc", "stdout", "stderr"}``."""
    start = directory / "start"
    workers, streams = [], []
    try:
        for i, commands in enumerate(jobs):
            argv = [sys.executable, str(WORKER), "commit", "--out", str(directory / f"log{i}"),
                    "--ready", str(directory / f"ready{i}"), "--start", str(start)]  # fmt: skip
            for command in commands:
                argv += ["--", *command]
            streams.append((directory / f"worker{i}.err").open("w"))
            workers.append(subprocess.Popen(argv, stdout=streams[-1], stderr=streams[-1]))
        deadline = time.monotonic() + timeout
        while not all((directory / f"ready{i}").exists() for i in range(len(jobs))):
            assert all(w.poll() is None for w in workers), _errors(directory, len(jobs))
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.002)
        start.touch()  # the barrier opens: everyone commits now
        for worker in workers:
            worker.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        for worker in workers:  # only ours, by their handles
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        for stream in streams:
            stream.close()
    assert all(w.returncode == 0 for w in workers), _errors(directory, len(jobs))
    results = []
    for i, commands in enumerate(jobs):
        lines = (directory / f"log{i}").read_text().splitlines()
        assert len(lines) == len(commands), _errors(directory, len(jobs))
        results += [json.loads(line) for line in lines]
    return results


def _errors(directory: Path, count: int) -> str:
    return "\n".join((directory / f"worker{i}.err").read_text() for i in range(count))


def response_of(result: Mapping[str, Any]) -> dict[str, Any] | None:
    """The commit's response (``None``: exit 2, which must be a conflict given up on)."""
    if result["rc"] == 2:
        assert "gave up after" in result["stderr"], result
        return None
    assert result["rc"] == 0 and result["stderr"] == "", result
    response: dict[str, Any] = json.loads(result["stdout"])
    return response


# --- the ledger as exported -----------------------------------------------------------------


def rows_of(document: Mapping[str, Any], profile_id: str, currency: str) -> list[dict[str, Any]]:
    rows = document["members"][profile_id]["transactions"]
    return [r for r in rows if r["points_currency_eid"] == currency]


def order_rows(document: Mapping[str, Any], external_id: str) -> list[dict[str, Any]]:
    """Every row of every member that an order posted (its ``order:<external_id>:`` eids)."""
    prefix = f"order:{external_id}:"
    return [
        row
        for member in document["members"].values()
        for row in member["transactions"]
        if (row["transaction_eid"] or "").startswith(prefix) or row["source_id"] == external_id
    ]


def check_ledger(document: Mapping[str, Any]) -> None:
    """Every account of every member, as exported, is whole: ids 1…n with n its recorded
    version, each row starting from the last one's balance, Σ delta = the balance, never below
    zero, and no transaction_eid twice."""
    with decimal.localcontext(EXACT):
        for profile_id, member in document["members"].items():
            currencies = {r["points_currency_eid"] for r in member["transactions"]}
            assert currencies <= set(member["accounts"]), profile_id
            for currency, version in member["accounts"].items():
                rows = rows_of(document, profile_id, currency)
                where = f"{profile_id}/{currency}"
                assert [r["transaction_id"] for r in rows] == list(range(1, len(rows) + 1)), where
                assert version == len(rows), f"{where}: version {version}, {len(rows)} rows"
                balance = Decimal(0)
                for row in rows:
                    assert Decimal(row["balance_before"]) == balance, (where, row)
                    balance += Decimal(row["delta"])
                    assert Decimal(row["balance_after"]) == balance, (where, row)
                    assert balance >= 0, (where, row)
                eids = [r["transaction_eid"] for r in rows if r["transaction_eid"] is not None]
                assert len(eids) == len(set(eids)), f"{where}: a transaction_eid twice"


def balance(document: Mapping[str, Any], profile_id: str, currency: str) -> Decimal:
    with decimal.localcontext(EXACT):
        return sum((Decimal(r["delta"]) for r in rows_of(document, profile_id, currency)),
                   Decimal(0))  # fmt: skip


def eids(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    return sorted(r["transaction_eid"] for r in rows)
