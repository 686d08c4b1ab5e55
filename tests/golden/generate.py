"""Write the golden corpus: N (program, order, member, now) cases and what ``calculate`` did.

    python tests/golden/generate.py [--cases N] [--out PATH]   # N defaults to 4000

Run it with the engine to pin: ``PYTHONPATH=<a worktree of that commit>`` (a script's
``sys.path`` starts with its own directory, then ``PYTHONPATH``, ahead of the editable install;
the first line printed names the engine used). The corpus is gzip-compressed JSON Lines, one
case per line, each the canonical JSON of ``{"id", "knobs", "now", "program", "request",
"member", "expected"}``; ``expected`` holds ``encode.outcome``'s texts (``response``,
``trace``, ``figures``; or ``error``).

Determinism: the cases come from ``loyalty_engine.testing.strategies.cases()`` in a fixed
schedule of blocks (``BLOCKS``: currency × knob shape, each a share of N). Each block is one
``@given`` run with ``@seed(SEED + block)``, ``database=None`` and ``phases=[Phase.generate]``,
and with string hashing fixed (the script re-runs itself with ``PYTHONHASHSEED=0``: the
strategies draw promo codes as a set of strings, whose order is their hash order), so the same
N, the same strategies module and the same Hypothesis version (6.170.17 wrote the committed
corpus, from commit 86dd280, the engine before issue 14's rewrite) give the same corpus byte for
byte. A block draws a third more cases than its share (twice as many again while that is not
enough) and keeps the first ones that round-trip and are new, so skips never change N.

A case is kept only if its inputs survive the wire documents: ``program_from_dict`` of the
reloaded ``program_to_dict`` equals the program, ``parse_preorder_request`` of the reloaded
request equals the order, ``member_from_dict`` of the reloaded document equals the member, and
calculating from the read-back inputs gives the very outcome the original values give. The
expected outcome is calculated from the read-back inputs, exactly as the test does, under the
same hostile decimal context as ``tests/conftest.py`` (checked against the default context).
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import decimal
import gzip
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from encode import (
    Json,
    Outcome,
    Unencodable,
    canonical,
    decode_inputs,
    encode_now,
    encode_order,
    outcome,
)
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

import loyalty_engine
from loyalty_engine.documents import member_to_dict
from loyalty_engine.model import Member, Order
from loyalty_engine.program import Program
from loyalty_engine.program.loader import program_to_dict
from loyalty_engine.result import CalculatedOrder
from loyalty_engine.testing.strategies import NOW, cases

HERE = Path(__file__).resolve().parent
SEED = 20260314
OVERDRAW = 4 / 3  # cases drawn per case kept, for the skipped ones

# (max_lines, max_promotions, match, share), for each currency: every exponent (RUB and USD 2,
# JPY 0, KWD 3), 1–12 lines and promotions in the main, some wide carts, some tiny ones.
SHAPES = (
    (6, 6, 70, 150),  # the strategies' defaults
    (12, 12, 70, 300),
    (12, 12, 30, 150),  # mostly conditional promotions
    (3, 12, 90, 100),  # many promotions on a small cart
    (12, 3, 50, 150),  # few promotions on a large cart
    (1, 1, 70, 50),
    (12, 12, 100, 50),  # no conditions at all
    (40, 8, 70, 50),  # wider carts than 12 lines
)
CURRENCIES = ("RUB", "USD", "JPY", "KWD")
# (program's currency, order's currency, max_lines, max_promotions, match, share): a program
# written for another currency than the order's (its amounts finer than the order's currency,
# its points of another precision) raises RuleError and ValidationError, which are behaviour too.
BLOCKS = (
    *(
        (currency, currency, lines, promotions, match, share)
        for currency in CURRENCIES
        for lines, promotions, match, share in SHAPES
    ),
    ("KWD", "JPY", 6, 6, 70, 40),
    ("RUB", "JPY", 6, 6, 70, 40),
    ("JPY", "KWD", 6, 6, 70, 40),
)

# When the calculation runs: mostly the strategies' NOW (a Saturday, 10:00 UTC, inside their
# date and hour windows); also when windows have opened or closed, a weekday, the evening, and
# NOW as seen from +03:00. Orders with a create_time are judged at it instead.
MOMENTS = (
    NOW,
    NOW,
    NOW,
    NOW,
    NOW + dt.timedelta(hours=2),
    NOW + dt.timedelta(hours=11),
    NOW - dt.timedelta(days=2),
    NOW + dt.timedelta(days=1, minutes=1),
    NOW.astimezone(dt.timezone(dt.timedelta(hours=3))),
)

# The decimal context every test runs under (tests/conftest.py); the library must not notice it.
HOSTILE_CONTEXT = decimal.Context(
    prec=3,
    rounding=decimal.ROUND_FLOOR,
    capitals=0,
    traps=[decimal.Rounded, decimal.InvalidOperation, decimal.Overflow, decimal.DivisionByZero],
)

Case = tuple[Program, Order, Member | None, dt.datetime]


def draw(strategy: st.SearchStrategy[Any], count: int, block: int) -> list[Any]:
    """``count`` values of ``strategy``, the same every run: one seeded Hypothesis run."""
    drawn: list[Any] = []

    @seed(SEED + block)
    @settings(
        database=None,
        max_examples=count,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(strategy)
    def collect(value: Any) -> None:
        drawn.append(value)

    collect()
    return drawn


def shares(total: int) -> list[int]:
    """Each block's number of cases: its share of ``total``, the rounding on the first blocks."""
    weights = [share for *_, share in BLOCKS]
    counts = [total * w // sum(weights) for w in weights]
    for index in range(total - sum(counts)):
        counts[index % len(counts)] += 1
    return counts


def reloaded(document: Json) -> Json:
    """The document as the test will read it: through its canonical JSON text."""
    return json.loads(canonical(document))


class Stats:
    """Plain counters of what the corpus covers, printed at the end."""

    def __init__(self) -> None:
        self.counters: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter
        )

    def add(self, table: str, *keys: object) -> None:
        for key in keys:
            self.counters[table][str(key)] += 1

    def case(
        self,
        knobs: dict[str, Json],
        program: Program,
        order: Order,
        member: Member | None,
        now: dt.datetime,
        result: CalculatedOrder | None,
        expected: Outcome,
    ) -> None:
        s = program.settings
        self.add("currency", order.currency)
        self.add("program written for", knobs["program_currency"])
        self.add("lines per order", f"{len(order.lines):02d}")
        self.add("promotions per program", f"{len(program.promotions):02d}")
        self.add("settings.choice", s.choice)
        self.add("settings.scope", s.scope)
        self.add("settings.compounding", s.compounding)
        self.add("settings.indivisible", s.indivisible)
        self.add("settings.rounding", s.rounding.value)
        self.add("settings.remainder", s.remainder)
        self.add("settings.percent_rounding", s.percent_rounding)
        self.add("settings.accrual_base", s.accrual_base)
        self.add("settings.max_discount_percent", s.max_discount_percent is not None)
        self.add("settings.delivery_discountable", s.delivery_discountable)
        self.add("groups used (cases)", *sorted({p.group for p in program.promotions}, key=str))
        kinds = {type(p.benefit).__name__ for p in program.promotions}
        self.add("benefit kinds present (cases)", *sorted(kinds))
        self.add("customer", "guest" if member is None else "member")
        self.add("member tier", None if member is None else member.tier)
        self.add("redemption requested", bool(order.redeem))
        self.add("promo codes entered", bool(order.promo_codes))
        self.add("lines with a min price > 0 (cases)", any(ln.min_price_per_item.minor
                                                           for ln in order.lines))  # fmt: skip
        self.add("order create_time", order.create_time is not None)
        self.add("now", now.isoformat())
        if result is None:
            self.add("outcome", "error: " + json.loads(expected["error"])[0])
            return
        self.add("outcome", "calculated")
        of = {p.key: type(p.benefit).__name__ for p in program.promotions}
        trace = result.trace
        self.add("benefit kinds applied (cases)",
                 *sorted({of[(e.type, e.external_id)] for e in trace if e.applied}))  # fmt: skip
        self.add("types applied (cases)", *sorted({e.type for e in trace if e.applied}))
        self.add("trace reasons (cases)", *sorted({e.reason.value for e in trace}))
        self.add("trace reasons (entries)", *(e.reason.value for e in trace))
        self.add("points status (summaries)", *(p.status.value for p in result.points))
        self.add("code state (codes)", *(c.state.value for c in result.promo_codes))
        self.add("redeemed > 0", any(p.redeemed > 0 for p in result.points))
        self.add("accrued > 0", any(p.accrued > 0 for p in result.points))
        self.add("discount > 0", result.discount_total.minor > 0)
        self.add("price breakdown (cases)", any(len(ln.breakdown) > 1 for ln in result.lines))
        self.add("limited applied (cases)", any(a.limited for ln in result.lines
                                                for a in ln.applied))  # fmt: skip
        self.add("codes to issue (cases)", bool(result.codes_to_issue))
        self.add("messages (cases)", bool(result.messages))
        self.add("delivery discounted", result.delivery_cost != order.delivery_cost)

    def show(self, out: Callable[[str], None]) -> None:
        for table, counter in sorted(self.counters.items()):
            cells = ", ".join(f"{key} {n}" for key, n in sorted(counter.items()))
            out(f"  {table}: {cells}")


def block_strategy(knobs: dict[str, Json]) -> st.SearchStrategy[Case]:
    """A block's cases; with another program currency, the program of one case and the order
    and member of another."""
    currency, written_for = knobs["currency"], knobs["program_currency"]
    shape = {k: knobs[k] for k in ("max_lines", "max_promotions", "match")}
    moment = st.sampled_from(MOMENTS)
    if written_for == currency:
        return st.tuples(cases(currency=currency, **shape), moment).map(
            lambda pair: (*pair[0], pair[1])
        )
    return st.tuples(
        cases(currency=written_for, **shape), cases(currency=currency, **shape), moment
    ).map(lambda triple: (triple[0][0], *triple[1][1:], triple[2]))


Kept = tuple[str, dict[str, Json], tuple[Any, ...]]  # (its key, the record, what Stats.case takes)


def keep(drawn: list[Case], quota: int, knobs: dict[str, Json], seen: set[str],
         skipped: collections.Counter[str]) -> list[Kept]:  # fmt: skip
    """The first ``quota`` drawn cases that round-trip and are new (``seen`` is not changed)."""
    kept: list[Kept] = []
    mine: set[str] = set()
    for program, order, member, now in drawn:
        if len(kept) == quota:
            break
        profile = member.profile_id if member is not None else None
        try:
            request = encode_order(order, profile_id=profile)
        except Unencodable:
            skipped["order not encodable"] += 1
            continue
        record: dict[str, Json] = {
            "now": encode_now(now),
            "program": reloaded(program_to_dict(program)),
            "request": reloaded(request),
            "member": None if member is None else reloaded(member_to_dict(member)),
        }
        key = canonical(record)
        if key in seen or key in mine:
            skipped["duplicate of an earlier case"] += 1
            continue
        program2, order2, member2, now2, profile2 = decode_inputs(record)
        if program2 != program:
            skipped["program does not round-trip"] += 1
            continue
        if order2 != order:
            skipped["order does not round-trip"] += 1
            continue
        if member2 != member:
            skipped["member does not round-trip"] += 1
            continue
        if now2 != now or now2.utcoffset() != now.utcoffset():
            skipped["now does not round-trip"] += 1
            continue
        with decimal.localcontext(HOSTILE_CONTEXT):
            expected, result = outcome(program2, order2, member2, now2, profile2)
            original, _ = outcome(program, order, member, now, profile)
        plain, _ = outcome(program2, order2, member2, now2, profile2)
        if original != expected:
            skipped["read-back inputs calculate differently"] += 1
            continue
        if plain != expected:  # the library noticed the caller's decimal context
            skipped["outcome depends on the decimal context"] += 1
            continue
        mine.add(key)
        record |= {"knobs": knobs, "expected": expected}
        kept.append((key, record, (knobs, program2, order2, member2, now2, result, expected)))
    return kept


def build(total: int, log: Callable[[str], None]) -> tuple[list[str], Stats, dict[str, int]]:
    """Each block's share of ``total``: it draws a third more cases than its share, and twice as
    many again until enough of them round-trip and are new (the small blocks repeat a lot)."""
    stats, skipped = Stats(), collections.Counter[str]()
    lines: list[str] = []
    seen: set[str] = set()
    for block, (quota, (written_for, currency, max_lines, promotions, match, _)) in enumerate(
        zip(shares(total), BLOCKS, strict=True)
    ):
        knobs = {"currency": currency, "program_currency": written_for, "max_lines": max_lines,
                 "max_promotions": promotions, "match": match}  # fmt: skip
        count = int(quota * OVERDRAW) + 5
        while True:
            tally = collections.Counter[str]()
            kept = keep(draw(block_strategy(knobs), count, block), quota, knobs, seen, tally)
            if len(kept) == quota:
                break
            log(f"  block {knobs}: {len(kept)} of {quota} from {count} drawn; drawing {2 * count}")
            count *= 2
        skipped += tally
        for key, record, facts in kept:
            seen.add(key)
            lines.append(canonical({"id": len(lines), **record}))
            stats.case(*facts)
        log(f"  block {knobs}: {quota} cases (skipped {dict(tally)})")
    return lines, stats, dict(skipped)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cases", type=int, default=4000, help="number of cases (4000)")
    parser.add_argument("--out", type=Path, default=HERE / "corpus.jsonl.gz")
    args = parser.parse_args(argv)
    if sys.flags.hash_randomization:
        parser.error("run with PYTHONHASHSEED=0 (running this file as a script does it)")

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    log(f"engine: {loyalty_engine.__file__}")
    started = time.perf_counter()
    lines, stats, skipped = build(args.cases, log)
    body = "".join(line + "\n" for line in lines).encode()
    # mtime=0 and no file name in the header: the same cases give the same bytes
    with (
        open(args.out, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as file,
    ):
        file.write(body)
    elapsed = time.perf_counter() - started
    size = args.out.stat().st_size
    print(f"{len(lines)} cases → {args.out} ({size:,} bytes; {len(body):,} uncompressed) "
          f"in {elapsed:.1f} s")  # fmt: skip
    print(f"skipped: {sum(skipped.values())} {dict(sorted(skipped.items()))}")
    print("coverage:")
    stats.show(print)
    return 0


if __name__ == "__main__":
    if os.environ.get("PYTHONHASHSEED") != "0":  # see the docstring: set order is hash order
        script = str(Path(__file__).resolve())
        environment = {**os.environ, "PYTHONHASHSEED": "0"}
        os.execve(sys.executable, [sys.executable, script, *sys.argv[1:]], environment)
    raise SystemExit(main())
