"""The HTTP server: requests per second and latency over TCP, against the same calls in-process.

Workload: ``--clients`` lists of ``--requests`` mixed calls each on ``--members`` members of
1,000,000 points (examples/api/program.toml): 20% ``preorder`` and 20% ``preorder_commit`` of a
seed-003-like order (one line, 5% back in points, up to 499 points redeemed; each commit a new
external_id, its requested promotions those of the preorder's answer), 25% ``accrue_points``,
20% ``redeeme_points`` (new transaction_eids) and 15% ``balance``. Every call is made up front,
so each run sends the same bytes; every run starts from a fresh SQLite store of the same
members, so each sees the same history lengths (``--members`` sets how long they get; the
server remembers its last replay of each member, so a read replays only the rows added since).

Runs, each on its own store:
- baseline: ``altcraft.api.respond`` on the calls in-process, one after another (the clients'
  lists interleaved, as the server would see them): decode, token check, store, encode, and no
  HTTP; the tight floor of what the server can do, since it runs requests one at a time;
- ``loyalty-engine serve`` in a subprocess on 127.0.0.1, one ``httpx`` client sending them all;
- the same server, ``--clients`` threads with a connection each, started at a barrier.

ratio = requests/s ÷ the baseline's; latency is per call as the caller sees it (a client's
wait in the server's queue included). Every answer must be error 0.

    python benchmarks/bench_http.py [--clients N] [--requests N] [--members N]
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs
import httpx

from loyalty_engine.altcraft.api import handle, respond
from loyalty_engine.program import load_program
from loyalty_engine.server import PREFIX, ROUTES
from loyalty_engine.store import MemoryStore, SqliteStore, import_document

ROOT = Path(__file__).resolve().parent.parent
PROGRAM_FILE = ROOT / "examples" / "api" / "program.toml"
PROGRAM = load_program(PROGRAM_FILE)
TOKEN = "abcdefghijklmnqrstuvwxyz"
URLS = {method: path for path, method in reversed(list(ROUTES.items()))}
PRICES = (99_900, 150_000, 13_999_900)  # cents
OPENING = 1_000_000
Call = tuple[str, bytes]  # (method, JSON body)
Json = dict[str, Any]


def clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def members_document(members: int) -> Json:
    return {
        "members": [
            {"profile_id": f"m{m:04d}", "email": email(m), "balances": {"bonus1": str(OPENING)}}
            for m in range(members)
        ]
    }


def email(member: int) -> str:
    return f"m{member}@example.com"


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def order(external_id: str, member: int, price: int, count: int, redeem: int) -> Json:
    return {
        "token": TOKEN,
        "external_id": external_id,
        "matching": "email",
        "email": email(member),
        "data": {
            "endpoint": "site",
            "status": "new",
            "currency": "RUB",
            "delivery_cost": "0.00",
            "total_price": money(price * count),
            "redeem_points": [{"points_currency_iid": 1, "amount": redeem}],
            "lines": [
                {
                    "external_id": "line_1",
                    "product": "iphone17pmb256",
                    "count": count,
                    "base_price_per_item": money(price),
                    "min_price_per_item": "0.00",
                }
            ],
        },
    }


def commit_body(request: Json, calculated: Json) -> Json:
    """The preorder request with the answer's applied promotions as requested ones."""

    def requested(applied: list[Json]) -> list[Json]:
        return [
            {k: a[k] for k in ("type", "promotion", "amount", "points_info") if k in a}
            for a in applied
        ]

    body = copy.deepcopy(request)
    body["data"]["final_total_price"] = calculated["final_total_price"]
    body["data"]["requested_promotions"] = requested(calculated["applied_promotions"])
    for line, out in zip(body["data"]["lines"], calculated["lines"], strict=True):
        line["final_price_per_item"] = out["final_price_per_item"]
        line["requested_promotions"] = requested(out["applied_promotions"])
    return body


def workload(clients: int, requests: int, members: int) -> list[list[Call]]:
    """Each client's calls; commit bodies from a preorder calculated on a scratch store."""
    scratch = MemoryStore()
    import_document(scratch, PROGRAM, members_document(members), now=clock())
    lists = []
    for k in range(clients):
        rng, calls = random.Random(k), []
        for i in range(requests):
            member, draw = rng.randrange(members), rng.random()
            points = {
                "token": TOKEN,
                "loyalty_program_id": 1,
                "points_currency_eid": "bonus1",
                "matching": "email",
                "email": email(member),
            }
            if draw < 0.4:
                shape = (rng.choice(PRICES), rng.randint(1, 3), rng.choice((50, 100, 499)))
                request = order(f"o-{k}-{i}", member, *shape)
                if draw < 0.2:
                    calls.append(("preorder", request))
                else:
                    answer = handle("preorder", request, scratch, PROGRAM, clock())
                    calculated = answer["data"]["order"]  # type: ignore[index]
                    calls.append(("preorder_commit", commit_body(request, calculated)))
            elif draw < 0.65:
                amount = str(rng.randint(1, 100))
                calls.append(
                    ("accrue_points", {**points, "amount": amount, "transaction_eid": f"a-{k}-{i}"})
                )
            elif draw < 0.85:
                amount = str(rng.randint(1, 50))
                calls.append(
                    (
                        "redeeme_points",
                        {**points, "amount": amount, "transaction_eid": f"r-{k}-{i}"},
                    )
                )
            else:
                calls.append(("balance", points))
        lists.append([(method, json.dumps(body).encode()) for method, body in calls])
    return lists


def fresh_store(where: Path, name: str, members: int) -> Path:
    path = where / f"{name}.sqlite"
    store = SqliteStore(path)
    import_document(store, PROGRAM, members_document(members), now=clock())
    store.close()
    return path


@attrs.frozen
class Run:
    seconds: float
    latencies: tuple[float, ...]  # sorted
    answers: Counter[tuple[int, int]]  # (HTTP status, error) → how many

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, share: float) -> float:
        return self.latencies[min(len(self.latencies) - 1, int(share * len(self.latencies)))]


def interleaved(lists: Sequence[Sequence[Call]]) -> list[Call]:
    return [call for row in zip(*lists, strict=True) for call in row]


def baseline(path: Path, lists: Sequence[Sequence[Call]]) -> Run:
    store = SqliteStore(path, create=False)
    tokens = frozenset({TOKEN})
    latencies, answers = [], Counter[tuple[int, int]]()
    start = time.perf_counter()
    for method, body in interleaved(lists):
        began = time.perf_counter()
        reply = respond(
            method, body, "json", store=store, program=PROGRAM, now=clock, tokens=tokens
        )
        latencies.append(time.perf_counter() - began)
        answers[(reply.status, reply.code)] += 1
    seconds = time.perf_counter() - start
    store.close()
    return Run(seconds, tuple(sorted(latencies)), answers)


class Server:
    """``loyalty-engine serve`` on a free port; stopped by ``close``."""

    def __init__(self, path: Path) -> None:
        tokens = path.with_suffix(".tokens")
        tokens.write_text(TOKEN + "\n", encoding="utf-8")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        argv = [
            sys.executable,
            "-m",
            "loyalty_engine",
            "serve",
            "--db",
            str(path),
            "--program",
            str(PROGRAM_FILE),
            "--tokens",
            str(tokens),
            "--port",
            str(port),
        ]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{port}{PREFIX}"
        deadline = time.monotonic() + 15
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError("the server accepted no connection in 15 s") from None
                time.sleep(0.05)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def over_http(path: Path, lists: Sequence[Sequence[Call]], clients: int) -> Run:
    """``clients`` threads, each with its own connection, share the calls out (1: all of them,
    interleaved as the baseline runs them)."""
    server = Server(path)
    shares = [interleaved(lists)] if clients == 1 else [list(calls) for calls in lists]
    barrier = threading.Barrier(len(shares))

    def client(calls: Sequence[Call]) -> tuple[list[float], Counter[tuple[int, int]]]:
        latencies, answers = [], Counter[tuple[int, int]]()
        headers = {"Content-Type": "application/json"}
        with httpx.Client(base_url=server.base, timeout=120) as http:
            http.post(URLS["trigger_promotions"], json={"token": TOKEN}, headers=headers)
            barrier.wait()
            for method, body in calls:
                began = time.perf_counter()
                response = http.post(URLS[method], content=body, headers=headers)
                latencies.append(time.perf_counter() - began)
                answers[(response.status_code, response.json()["error"])] += 1
        return latencies, answers

    try:
        start = time.perf_counter()
        with ThreadPoolExecutor(len(shares)) as pool:
            results = list(pool.map(client, shares))
        seconds = time.perf_counter() - start
    finally:
        server.close()
    answers = Counter[tuple[int, int]]()
    for _, counted in results:
        answers.update(counted)
    return Run(seconds, tuple(sorted(t for got, _ in results for t in got)), answers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=500, help="calls a client")
    parser.add_argument("--members", type=int, default=40)
    args = parser.parse_args()
    lists = workload(args.clients, args.requests, args.members)
    mix = Counter(method for calls in lists for method, _ in calls)
    total = sum(mix.values())
    print(
        f"http: {args.clients} clients × {args.requests} calls = {total} on {args.members} "
        f"members; mix {dict(sorted(mix.items()))}"
    )
    rows: list[tuple[str, Callable[[Path], Run]]] = [
        ("in-process respond (baseline)", lambda path: baseline(path, lists)),
        ("HTTP, 1 client", lambda path: over_http(path, lists, 1)),
        (f"HTTP, {args.clients} clients", lambda path: over_http(path, lists, args.clients)),
    ]
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench_http_") as where:
        for n, (_, run) in enumerate(rows):
            runs.append(run(fresh_store(Path(where), f"run{n}", args.members)))
    header = (
        f"{'run':<31} {'seconds':>8} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'ratio':>6} {'p50 ÷ base':>11}"
    )
    print(header)
    print("-" * len(header))
    base = runs[0]
    for (name, _), got in zip(rows, runs, strict=True):
        print(
            f"{name:<31} {got.seconds:>8.2f} {got.rate:>11.1f} {got.percentile(0.5) * 1e3:>8.2f} "
            f"{got.percentile(0.99) * 1e3:>8.2f} {got.rate / base.rate:>6.2f} "
            f"{got.percentile(0.5) / base.percentile(0.5):>11.2f}"
        )
    for (name, _), got in zip(rows, runs, strict=True):
        if set(got.answers) != {(200, 0)}:
            print(f"{name}: answers other than error 0: {dict(got.answers)}")
            raise SystemExit(1)


if __name__ == "__main__":
    main()
