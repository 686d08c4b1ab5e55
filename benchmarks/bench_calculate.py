"""calculate() against a hand-written baseline, on workload W(L, P).

W(L, P): orders of L lines against a program of P promotions of which 5 match: three percent
discounts on categories, one order-level amount over a threshold, a 5% accrual. The baseline
is a plain loop over dicts and Decimal doing the same arithmetic for the same orders, knowing in
advance which promotions match. Both run in the same process, interleaved, so the ratio is
meaningful on a noisy machine; absolute microseconds are not.

    python benchmarks/bench_calculate.py [--orders N] [--repeat R]
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import random
import time
import tracemalloc
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import partial

import loyalty_engine as le
from loyalty_engine.conditions import Category, OrderTotal

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
CENT = Decimal("0.01")
MATCHING = {"c0": Decimal(10), "c1": Decimal(5), "c2": Decimal(3)}  # category → percent
THRESHOLD, ORDER_OFF, ACCRUE = Decimal(1000), Decimal(100), Decimal(5)


def build_program(promotions: int) -> le.Program:
    matching = [
        le.Promotion(
            external_id=f"pct_{cat}",
            benefit=le.PercentOff(pct),
            priority=1,
            applies_to=Category([cat]),
        )
        for cat, pct in MATCHING.items()
    ] + [
        le.Promotion(
            external_id="order_off",
            benefit=le.AmountOffOrder(ORDER_OFF),
            conditions=[OrderTotal(min=THRESHOLD)],
        ),
        le.Promotion(
            external_id="accrue", benefit=le.AccruePercent(currency="bonus1", percent=ACCRUE)
        ),
    ]
    idle = [
        le.Promotion(
            external_id=f"idle_{k}",
            benefit=le.PercentOff(Decimal(7)),
            applies_to=Category([f"x{k}"]),
        )
        for k in range(promotions - len(matching))
    ]
    return le.Program(
        currencies=[le.PointsCurrency(eid="bonus1", iid=1)],
        catalog=le.Catalog(products={f"p{i}": [f"c{i % 3}"] for i in range(30)}),
        promotions=matching + idle,
    )


def build_orders(count: int, lines: int, seed: int = 7) -> list[le.Order]:
    rng = random.Random(seed)
    orders = []
    for n in range(count):
        items = []
        for i in range(lines):
            base = rng.randint(100, 50_000)
            items.append(
                le.Line(
                    external_id=f"l{i}",
                    product=f"p{rng.randrange(30)}",
                    count=rng.randint(1, 3),
                    base_price_per_item=le.Money.of_minor(base, "RUB"),
                    min_price_per_item=le.Money.of_minor(
                        base * rng.choice((0, 50, 90)) // 100, "RUB"
                    ),
                )
            )
        orders.append(le.Order(external_id=f"o{n}", currency="RUB", lines=items))
    return orders


MEMBER = le.Member(profile_id="m", balances={"bonus1": le.Balance(Decimal(0), Decimal(0))})


def engine(program: le.Program, orders: Sequence[le.Order]) -> list[tuple[str, Decimal]]:
    out = []
    for order in orders:
        result = le.calculate(program, order, MEMBER, now=NOW)
        out.append((str(result.final_total_price), result.points[0].accrued))
    return out


def baseline(program: le.Program, orders: Sequence[le.Order]) -> list[tuple[str, Decimal]]:
    """The same arithmetic by hand: dicts, Decimal, no framework, matching known in advance."""
    ctx = decimal.Context(rounding=decimal.ROUND_HALF_UP)
    out = []
    for order in orders:
        lines = [
            {
                "cat": f"c{int(line.product[1:]) % 3}",  # type: ignore[index]
                "count": line.count,
                "price": line.base_price_per_item.amount,
                "min": line.min_price_per_item.amount,
            }
            for line in order.lines
        ]
        for line in lines:  # percent per item, HALF_UP, clamped at the min price
            off = (line["price"] * MATCHING[line["cat"]] / 100).quantize(CENT, context=ctx)
            line["price"] = max(line["min"], line["price"] - off)
            line["total"] = line["price"] * line["count"]
        base = sum(line.base_price_per_item.amount * line.count for line in order.lines)
        final = sum(x["total"] for x in lines)
        if base >= THRESHOLD:  # 100.00 off: the largest sum of whole-item steps within the rooms
            want = int(ORDER_OFF * 100)
            reach, mask = 1, (1 << (want + 1)) - 1
            for x in lines:
                room, step = int((x["total"] - x["min"] * x["count"]) * 100), x["count"]
                left, take = min(room // step, want // step), 1
                while left:  # up to ``left`` copies of ``step``: 1, 2, 4, … at a time
                    part = min(take, left)
                    reach |= (reach << part * step) & mask
                    left, take = left - part, take * 2
            final -= Decimal(reach.bit_length() - 1) / 100
        points = (base * ACCRUE / 100).to_integral_value(rounding=decimal.ROUND_FLOOR)
        out.append((f"{final:.2f}", points))
    return out


def per_order(fn: Callable[[], object], orders: int, repeat: int) -> float:
    """Best-of-``repeat`` microseconds per order."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best / orders * 1e6


def peak_per_order(fn: Callable[[], object], orders: int) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / orders / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'L':>4} {'P':>5} {'engine µs':>10} {'baseline µs':>12} {'ratio':>6} {'KiB/order':>10}")
    for lines in (1, 10, 100):
        orders = build_orders(max(10, args.orders // max(1, lines // 10)), lines)
        for promotions in (10, 100, 1000):
            program = build_program(promotions)
            assert engine(program, orders) == baseline(program, orders), "results differ"
            ours = per_order(partial(engine, program, orders), len(orders), args.repeat)
            theirs = per_order(partial(baseline, program, orders), len(orders), args.repeat)
            memory = peak_per_order(partial(engine, program, orders), len(orders))
            print(
                f"{lines:>4} {promotions:>5} {ours:>10.1f} {theirs:>12.1f} "
                f"{ours / theirs:>6.2f} {memory:>10.1f}"
            )


if __name__ == "__main__":
    main()
