"""calculate() and its edges against hand-written baselines, on workload W(L, P); every target
of the performance issue with its measured ratio, PASS or MISS.

W(L, P): orders of L lines against a program of P promotions of which 5 match: three percent
discounts on categories, one order-level amount (100.00 off when the base total is at least
1000.00), a 5% accrual. The baselines are compiled once per program from the ``Program`` itself
(product → fraction off, threshold and amount pre-converted), then per order straight-line code
doing the same arithmetic: the Decimal baseline on ``Decimal`` amounts, the int baseline on
integer kopeks (``Money.minor``). The order amount is placed as the engine places it, the largest
sum of whole-item multiples within each line's room above its min price: a greedy fill over the
lines, which is exact when it places all it could (every multiple of the steps' gcd up to the
amount), else a bitset subset-sum. Every run's figures (final total, accrued points) are
asserted equal to the engine's, order for order.

Sections, each a table, then a "targets" block (PASS/MISS):
- grid: ``calculate`` at L ∈ {1, 10, 100} × P ∈ {10, 100, 1000} beside both baselines, with the
  engine's peak traced memory per order (targets: ≤ 2× the Decimal baseline at W(1,10),
  W(10,100), W(100,100); at L = 10 on the same orders, P = 1,000 ≤ 1.1× P = 10);
- trace: ``calculate`` and reading ``result.trace`` against plain ``calculate`` (≤ 1.5× at
  W(10,100), ≤ 3× at W(10,1000));
- wire: seed-003 preorder request texts of the W(10,100) orders, ``json.loads`` →
  ``parse_preorder_request`` → ``calculate`` → ``render_preorder_response`` → ``json.dumps``,
  against ``json.loads`` + the Decimal baseline on the request dict + ``json.dumps`` of a
  response of the same shape (≤ 3×);
- load: a P = 1,000 program by ``program_from_dict(json.loads(text))`` and by ``load_program`` of
  the same document written as TOML, against ``json.loads`` / ``tomllib.loads`` of the same
  text (the loader's own share, parse taken off, < 50 µs per promotion).

Method: the compared runs share one process and are interleaved, best of ``--repeat`` rounds
(each round starts from a different run), timed on this process's CPU time by default: on a busy
machine, elapsed time charges a long run for the other work it waited behind more often than a
short one, which skews the ratios (``--clock wall`` for elapsed time; the last lines say how busy
the machine was). Compare ratios, not microseconds. ``--quick``: 10 orders, 1 round, a smoke run
of a few seconds.

    python benchmarks/bench_calculate.py [--orders N] [--repeat R] [--clock cpu|wall] [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import json
import math
import os
import random
import re
import tempfile
import time
import tomllib
import tracemalloc
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from functools import partial
from pathlib import Path
from typing import Any

import attrs

import loyalty_engine as le
from loyalty_engine.altcraft.preorder import parse_preorder_request, render_preorder_response
from loyalty_engine.conditions import Category, OrderTotal
from loyalty_engine.program.loader import load_program, program_from_dict, program_to_dict

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
CENT, ZERO = Decimal("0.01"), Decimal("0.00")
CONTEXT = decimal.Context(prec=28, rounding=ROUND_HALF_UP)  # the baselines' own, not the caller's
MATCHING = {"c0": Decimal(10), "c1": Decimal(5), "c2": Decimal(3)}  # category → percent
THRESHOLD, ORDER_OFF, ACCRUE = Decimal(1000), Decimal(100), Decimal(5)
LINES, PROMOTIONS = (1, 10, 100), (10, 100, 1000)
MEMBER = le.Member(profile_id="m", balances={"bonus1": le.Balance(Decimal(0), Decimal(0))})
Figures = list[tuple[str, Decimal]]  # per order: final total price, accrued points
Json = dict[str, Any]


# --- the workload ------------------------------------------------------------------------------


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


def request_body(order: le.Order) -> Json:
    """The order as a preorder request shaped like examples/seed_003/request.json (no points
    redeemed; the member matched by profile_id)."""
    return {
        "token": "abcdefghijklmnqrstuvwxyz",
        "external_id": order.external_id,
        "matching": "profile_id",
        "profile_id": MEMBER.profile_id,
        "data": {
            "endpoint": "site",
            "status": "new",
            "currency": order.currency,
            "delivery_cost": "0.00",
            "total_price": str(order.total_price),
            "lines": [
                {
                    "external_id": line.external_id,
                    "product": line.product,
                    "count": line.count,
                    "base_price_per_item": str(line.base_price_per_item),
                    "min_price_per_item": str(line.min_price_per_item),
                    "final_price_per_item": str(line.base_price_per_item),
                    "custom_fields": {},
                    "currency": order.currency,
                }
                for line in order.lines
            ],
        },
    }


# --- the engine --------------------------------------------------------------------------------


def engine(program: le.Program, orders: Sequence[le.Order]) -> Figures:
    out = []
    for order in orders:
        result = le.calculate(program, order, MEMBER, now=NOW)
        out.append((str(result.final_total_price), result.points[0].accrued))
    return out


def engine_traced(program: le.Program, orders: Sequence[le.Order]) -> Figures:
    """``engine``, and each result's trace read too (it is derived on first access)."""
    out = []
    for order in orders:
        result = le.calculate(program, order, MEMBER, now=NOW)
        if len(result.trace) < len(program.promotions):
            raise AssertionError(f"{order.external_id}: the trace leaves promotions out")
        out.append((str(result.final_total_price), result.points[0].accrued))
    return out


def wire_engine(program: le.Program, texts: Sequence[str]) -> list[str]:
    """Request text → ``Order`` → result → response text, as ``altcraft.api`` answers a preorder
    (the member given, where the API would read it from its store)."""
    out = []
    for text in texts:
        request = parse_preorder_request(json.loads(text))
        result = le.calculate(program, request.order, MEMBER, now=NOW)
        out.append(json.dumps(render_preorder_response(result, profile_id=MEMBER.profile_id)))
    return out


# --- the baselines -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Compiled:
    """What the baselines know of a program, derived from it once: per product the fraction its
    category's percent takes off, the order amount and its threshold, the accrual."""

    off: dict[str, Decimal]  # product → percent / 100
    off_units: dict[str, tuple[int, int, int]]  # (2n, 100d, 200d) for percent n/d: HALF_UP
    names: dict[str, str]  # product → its percent promotion's external_id
    threshold: Decimal
    threshold_units: int
    amount: Decimal
    amount_units: int
    amount_id: str
    accrue: Decimal  # percent / 100
    accrue_units: tuple[int, int]  # (n, 10000d) for percent n/d: points = kopeks × n // 10000d
    accrue_id: str
    currency: le.PointsCurrency


def compile_program(program: le.Program) -> Compiled:
    """Refuses a program the baselines cannot do by hand (they know these three kinds only)."""
    by_category: dict[str, tuple[Decimal, str]] = {}
    amount = threshold = accrue = None
    amount_id = accrue_id = ""
    for promotion in program.promotions:
        benefit, applies, conditions = promotion.benefit, promotion.applies_to, promotion.conditions
        if isinstance(benefit, le.PercentOff) and isinstance(applies, Category) and not conditions:
            for category in applies.values:
                assert category not in by_category, f"two percents on {category}"
                by_category[category] = (benefit.percent, promotion.external_id)
        elif isinstance(benefit, le.AmountOffOrder) and applies is None and amount is None:
            (total,) = conditions
            assert isinstance(total, OrderTotal) and total.basis == "base" and total.max is None
            assert total.min is not None
            amount, threshold, amount_id = benefit.amount, total.min, promotion.external_id
        elif isinstance(benefit, le.AccruePercent) and accrue is None and not conditions:
            assert benefit.base is None and not benefit.tier_multipliers and applies is None
            accrue, accrue_id = benefit.percent, promotion.external_id
        else:
            raise AssertionError(f"the baselines cannot do {promotion.external_id!r}")
    assert amount is not None and threshold is not None and accrue is not None
    (currency,) = program.currencies
    assert currency.precision == 0
    off, off_units, names = {}, {}, {}
    for product, categories in program.catalog.products:
        found = [by_category[c] for c in categories if c in by_category]
        assert len(found) <= 1, f"{product}: more than one percent"
        if found:
            percent, names[product] = found[0]
            off[product] = percent.scaleb(-2)
            n, d = percent.as_integer_ratio()
            off_units[product] = (2 * n, 100 * d, 200 * d)
    n, d = accrue.as_integer_ratio()
    return Compiled(
        off=off,
        off_units=off_units,
        names=names,
        threshold=threshold,
        threshold_units=int(threshold.scaleb(2)),
        amount=amount,
        amount_units=int(amount.scaleb(2)),
        amount_id=amount_id,
        accrue=accrue.scaleb(-2),
        accrue_units=(n, 100 * 100 * d),
        accrue_id=accrue_id,
        currency=currency,
    )


def most_placeable(want: int, rooms: Iterable[tuple[int, int]]) -> int:
    """The largest sum ≤ ``want`` of multiples of each line's step within its room (kopeks): a
    bitset of reachable sums, each line's multiples added 1, 2, 4, … at a time."""
    reach, mask = 1, (1 << (want + 1)) - 1
    for room, step in rooms:
        left, take = min(room // step, want // step), 1
        while left:
            part = min(take, left)
            reach |= (reach << part * step) & mask
            left, take = left - part, take * 2
    return reach.bit_length() - 1


def exact_after_greedy(left: int, rooms: Sequence[tuple[int, int]], want: int) -> bool:
    """A greedy fill that left ``left`` of ``want`` unplaced is exact anyway when the rooms hold
    no more than ``want`` (it took them all) or what it placed is the largest multiple of the
    steps' gcd (every placeable sum is one)."""
    if not left or sum(room for room, _ in rooms) <= want:
        return True
    return left < math.gcd(*(step for room, step in rooms if room))


def decimal_baseline(
    c: Compiled, orders: Sequence[le.Order], bitset: list[str] | None = None
) -> Figures:
    """Straight-line Decimal per order; ``bitset`` collects the orders the greedy fill left to
    the exact search."""
    off, threshold, amount, accrue = c.off, c.threshold, c.amount, c.accrue
    out = []
    with decimal.localcontext(CONTEXT):
        for order in orders:
            base = final = ZERO
            rooms = []
            for line in order.lines:
                count = line.count
                price = line.base_price_per_item.amount
                floor = line.min_price_per_item.amount
                base += price * count
                fraction = off.get(line.product)  # type: ignore[arg-type]
                if fraction is not None:  # per item, HALF_UP, never under the min price
                    price = max(floor, price - (price * fraction).quantize(CENT, ROUND_HALF_UP))
                final += price * count
                rooms.append(((price - floor) * count, count))
            if base >= threshold:
                left = amount
                for room, count in rooms:  # the greedy fill: each line takes what it can
                    if room < left:
                        left -= room
                    else:
                        left %= CENT * count
                        if not left:
                            break
                if left:
                    units = [(int(room.scaleb(2)), count) for room, count in rooms]
                    want = int(amount.scaleb(2))
                    if not exact_after_greedy(int(left.scaleb(2)), units, want):
                        if bitset is not None:
                            bitset.append(order.external_id)
                        left = amount - Decimal(most_placeable(want, units)).scaleb(-2)
                final -= amount - left
            out.append((str(final), (base * accrue).to_integral_value(ROUND_FLOOR)))
    return out


def int_baseline(
    c: Compiled, orders: Sequence[le.Order], bitset: list[str] | None = None
) -> Figures:
    """The Decimal baseline's arithmetic on integer kopeks; Decimal only for the points out."""
    off, threshold, amount = c.off_units, c.threshold_units, c.amount_units
    accrue_n, accrue_d = c.accrue_units
    out = []
    for order in orders:
        base = final = 0
        rooms = []
        for line in order.lines:
            count = line.count
            price = line.base_price_per_item.minor
            floor = line.min_price_per_item.minor
            base += price * count
            ratio = off.get(line.product)  # type: ignore[arg-type]
            if ratio is not None:
                num, half, den = ratio
                price = max(floor, price - (price * num + half) // den)
            final += price * count
            rooms.append(((price - floor) * count, count))
        if base >= threshold:
            left = amount
            for room, count in rooms:
                if room < left:
                    left -= room
                else:
                    left %= count
                    if not left:
                        break
            if left and not exact_after_greedy(left, rooms, amount):
                if bitset is not None:
                    bitset.append(order.external_id)
                left = amount - most_placeable(amount, rooms)
            final -= amount - left
        out.append((f"{final // 100}.{final % 100:02d}", Decimal(base * accrue_n // accrue_d)))
    return out


def wire_baseline(c: Compiled, texts: Sequence[str]) -> list[str]:
    """``json.loads``, the Decimal baseline reading the request dict, and ``json.dumps`` of a
    response of the engine's shape and keys (the order amount shown on the lines the greedy fill
    put it on; line points each line's own 5%, where the engine splits the order's)."""
    cur = c.currency
    currency = {"points_currency_iid": cur.iid, "points_currency_eid": cur.eid, "name": cur.name}
    amount_promotion = {"external_id": c.amount_id, "name": c.amount_id}
    accrue_promotion = {"external_id": c.accrue_id, "name": c.accrue_id}
    off, threshold, amount, accrue = c.off, c.threshold, c.amount, c.accrue
    out = []
    with decimal.localcontext(CONTEXT):
        for text in texts:
            body = json.loads(text)
            data = body["data"]
            base = final = ZERO
            rooms: list[tuple[Decimal, int]] = []
            lines: list[tuple[Decimal, list[Json], Json]] = []
            for number, line in enumerate(data["lines"]):
                count = line["count"]
                was = price = Decimal(line["base_price_per_item"])
                floor = Decimal(line["min_price_per_item"])
                base += price * count
                applied: list[Json] = []
                fraction = off.get(line["product"])
                if fraction is not None:
                    price = max(floor, price - (price * fraction).quantize(CENT, ROUND_HALF_UP))
                    name = c.names[line["product"]]
                    applied.append(
                        {
                            "type": "discount",
                            "promotion": {"external_id": name, "name": name},
                            "amount": str((was - price) * count),
                        }
                    )
                final += price * count
                rooms.append(((price - floor) * count, count))
                lines.append(
                    (
                        price,
                        applied,
                        {
                            "external_id": line["external_id"],
                            "line_number": number,
                            "count": count,
                            "product": line["product"],
                            "base_price_per_item": line["base_price_per_item"],
                            "min_price_per_item": line["min_price_per_item"],
                            "points": (was * count * accrue).to_integral_value(ROUND_FLOOR),
                        },
                    )
                )
            shares = [ZERO] * len(rooms)
            if base >= threshold:
                left = amount
                for k, (room, count) in enumerate(rooms):
                    take = room if room < left else left - left % (CENT * count)
                    shares[k], left = take, left - take
                    if not left:
                        break
                if left:
                    units = [(int(room.scaleb(2)), count) for room, count in rooms]
                    want = int(amount.scaleb(2))
                    if not exact_after_greedy(int(left.scaleb(2)), units, want):
                        shares = [ZERO] * len(rooms)  # the search gives a sum, on no line
                        left = amount - Decimal(most_placeable(want, units)).scaleb(-2)
                final -= amount - left
            out_lines: list[Json] = []
            for (price, applied, line), share in zip(lines, shares, strict=True):
                if share:
                    price -= share / line["count"]
                    applied.append(
                        {"type": "discount", "promotion": amount_promotion, "amount": str(share)}
                    )
                points = line.pop("points")
                applied.append(
                    {
                        "type": "accrue_points",
                        "promotion": accrue_promotion,
                        "points_info": {**currency, "amount": str(points)},
                    }
                )
                out_lines.append(
                    {
                        **line,
                        "final_price_per_item": str(price),
                        "custom_fields": {},
                        "applied_promotions": applied,
                    }
                )
            points_info = {
                **currency,
                "status": "success",
                "active_amount_for_current_order": "0",
                "accrue_points_amount_for_current_order": str(
                    (base * accrue).to_integral_value(ROUND_FLOOR)
                ),
                "redeemed_points_amount_for_current_order": "0",
            }
            response = {
                "data": {
                    "profile": {"profile_id": body.get("profile_id")},
                    "order": {
                        "processing_target": "calculated",
                        "total_price": str(base),
                        "final_total_price": str(final),
                        "delivery_cost": "0.00",
                        "currency": data["currency"],
                        "lines": out_lines,
                        "custom_fields": {},
                        "applied_promotions": [],
                        "points_info": [points_info],
                        "promocodes_info": [],
                    },
                },
                "error": 0,
                "error_text": "Successful operation",
            }
            out.append(json.dumps(response))
    return out


def wire_figures(responses: Sequence[str]) -> Figures:
    out = []
    for text in responses:
        order = json.loads(text)["data"]["order"]
        points = order["points_info"][0]["accrue_points_amount_for_current_order"]
        out.append((order["final_total_price"], Decimal(points)))
    return out


# --- TOML, for the loader --------------------------------------------------------------------

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def toml_text(document: Mapping[str, object]) -> str:
    """``document`` as TOML: tables as ``[a.b]``, lists of tables as ``[[a]]``, the rest inline.
    Enough for ``program_to_dict``'s documents (no nulls, no floats); the caller reads it back."""
    out: list[str] = []
    _toml_table(out, (), document)
    return "\n".join(out).lstrip("\n") + "\n"


def _toml_table(out: list[str], path: tuple[str, ...], table: Mapping[str, object]) -> None:
    nested = []
    for key, value in table.items():
        if _is_table(value) or _is_tables(value):
            nested.append((key, value))
        else:
            out.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, value in nested:
        where = (*path, key)
        header = ".".join(map(_toml_key, where))
        if isinstance(value, Mapping):
            out += ["", f"[{header}]"]
            _toml_table(out, where, value)
        else:
            assert isinstance(value, list)
            for item in value:
                out += ["", f"[[{header}]]"]
                _toml_table(out, where, item)


def _is_table(value: object) -> bool:
    return isinstance(value, Mapping) and bool(value)


def _is_tables(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(map(_is_table, value))


def _toml_key(key: str) -> str:
    return key if _BARE.fullmatch(key) else json.dumps(key)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON's escapes are all TOML basic-string escapes
    if isinstance(value, list):
        return "[" + ", ".join(map(_toml_value, value)) + "]"
    if isinstance(value, Mapping):
        pairs = (f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    raise TypeError(f"no TOML for {value!r}")


# --- measuring ---------------------------------------------------------------------------------


CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}


@attrs.define
class Meter:
    """Times runs interleaved on ``clock``, best of ``repeat`` rounds; keeps the wall and CPU
    seconds of everything it timed, to show how much the rest of the machine took."""

    repeat: int
    clock: str
    wall: float = 0.0
    cpu: float = 0.0

    def best(self, runs: Mapping[str, Callable[[], object]]) -> dict[str, float]:
        """Each run's best seconds; a round runs every one once, starting one further along
        each time, so none always runs first (or right after the same other)."""
        clock, names = CLOCKS[self.clock], list(runs)
        best = dict.fromkeys(names, math.inf)
        for r in range(self.repeat):
            shift = r % len(names)
            for name in names[shift:] + names[:shift]:
                wall, cpu, start = time.perf_counter(), time.process_time(), clock()
                runs[name]()
                best[name] = min(best[name], clock() - start)
                self.wall += time.perf_counter() - wall
                self.cpu += time.process_time() - cpu
        return best


def peak_kib(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1024
    finally:
        tracemalloc.stop()


@attrs.frozen
class Target:
    what: str
    figures: str
    value: float
    limit: float
    strict: bool = False  # "<" rather than "≤"
    unit: str = "×"

    @property
    def met(self) -> bool:
        return self.value < self.limit if self.strict else self.value <= self.limit

    def line(self) -> str:
        sign = "<" if self.strict else "≤"
        verdict = "PASS" if self.met else "MISS"
        goal = f"{sign} {self.limit:g}{self.unit}"
        value = f"{self.value:.2f}{self.unit}"
        return f"{verdict:<5} {self.what:<46} {value:>11} {goal:<10} {self.figures}"


def rule(header: str) -> None:
    print(header)
    print("-" * len(header))


# --- the sections ------------------------------------------------------------------------------


def grid(orders_at: Callable[[int], list[le.Order]], meter: Meter) -> list[Target]:
    print("calculate against the baselines; µs per order, best of the interleaved rounds")
    rule(
        f"{'L':>4} {'P':>5} {'orders':>6} {'calculate':>10} {'Decimal':>8} {'ratio':>6} "
        f"{'int':>7} {'ratio':>6} {'KiB/order':>10} {'bitset':>7}"
    )
    programs = {p: build_program(p) for p in PROMOTIONS}
    compiled = {p: compile_program(program) for p, program in programs.items()}
    engine_us: dict[tuple[int, int], float] = {}
    decimal_us: dict[tuple[int, int], float] = {}
    for lines in LINES:
        orders = orders_at(lines)
        runs: dict[str, Callable[[], object]] = {}
        searched = {}
        for p, program in programs.items():
            c = compiled[p]
            by_decimal: list[str] = []
            by_int: list[str] = []
            want = engine(program, orders)
            assert decimal_baseline(c, orders, by_decimal) == want, (
                f"Decimal differs, W({lines},{p})"
            )
            assert int_baseline(c, orders, by_int) == want, f"int differs, W({lines},{p})"
            assert by_decimal == by_int, "the baselines searched different orders"
            searched[p] = len(by_int)
            runs |= {
                f"engine {p}": partial(engine, program, orders),
                f"Decimal {p}": partial(decimal_baseline, c, orders),
                f"int {p}": partial(int_baseline, c, orders),
            }
        best = meter.best(runs)
        for p, program in programs.items():
            us = {
                kind: best[f"{kind} {p}"] / len(orders) * 1e6
                for kind in ("engine", "Decimal", "int")
            }
            memory = peak_kib(partial(engine, program, orders)) / len(orders)
            engine_us[lines, p], decimal_us[lines, p] = us["engine"], us["Decimal"]
            print(
                f"{lines:>4} {p:>5} {len(orders):>6} {us['engine']:>10.1f} {us['Decimal']:>8.1f} "
                f"{us['engine'] / us['Decimal']:>6.2f} {us['int']:>7.1f} "
                f"{us['engine'] / us['int']:>6.2f} {memory:>10.1f} "
                f"{searched[p] / len(orders):>7.0%}"
            )
    print(
        "ratio: calculate ÷ the baseline left of it; KiB/order: calculate's traced peak over "
        "the run ÷ orders; bitset: orders whose order amount the greedy fill left to the search"
    )
    targets = [
        Target(
            f"calculate ÷ Decimal baseline, W({lines},{p})",
            f"{engine_us[lines, p]:.1f} ÷ {decimal_us[lines, p]:.1f} µs",
            engine_us[lines, p] / decimal_us[lines, p],
            2,
        )
        for lines, p in ((1, 10), (10, 100), (100, 100))
    ]
    few, many = engine_us[10, 10], engine_us[10, 1000]
    targets.append(
        Target(
            "calculate P=1000 ÷ P=10, L=10, same orders",
            f"{many:.1f} ÷ {few:.1f} µs",
            many / few,
            1.1,
        )
    )
    return targets


def trace(orders: Sequence[le.Order], meter: Meter) -> list[Target]:
    print("reading result.trace (derived on first access) against plain calculate; µs per order")
    rule(f"{'L':>4} {'P':>5} {'orders':>6} {'calculate':>10} {'+ trace':>10} {'ratio':>6}")
    targets = []
    for p, limit in ((100, 1.5), (1000, 3.0)):
        program = build_program(p)
        assert engine_traced(program, orders) == engine(program, orders)
        best = meter.best(
            {
                "plain": partial(engine, program, orders),
                "traced": partial(engine_traced, program, orders),
            }
        )
        plain, traced = (best[k] / len(orders) * 1e6 for k in ("plain", "traced"))
        print(
            f"{10:>4} {p:>5} {len(orders):>6} {plain:>10.1f} {traced:>10.1f} {traced / plain:>6.2f}"
        )
        targets.append(
            Target(
                f"calculate + .trace ÷ calculate, W(10,{p})",
                f"{traced:.1f} ÷ {plain:.1f} µs",
                traced / plain,
                limit,
            )
        )
    return targets


def wire(orders: Sequence[le.Order], meter: Meter) -> list[Target]:
    program = build_program(100)
    c = compile_program(program)
    texts = [json.dumps(request_body(order)) for order in orders]
    want = engine(program, orders)
    ours, theirs = wire_engine(program, texts), wire_baseline(c, texts)
    assert wire_figures(ours) == want, "the wire's figures differ from calculate's"
    assert wire_figures(theirs) == want, "the wire baseline's figures differ from calculate's"
    best = meter.best(
        {
            "engine": partial(wire_engine, program, texts),
            "baseline": partial(wire_baseline, c, texts),
        }
    )
    engine_us, base_us = (best[k] / len(orders) * 1e6 for k in ("engine", "baseline"))
    request_b = sum(map(len, texts)) / len(texts)
    print("a preorder on the wire, W(10,100): request text in, response text out; per order")
    rule(f"{'run':<52} {'µs':>8} {'ratio':>6} {'request B':>10} {'response B':>11}")
    for name, us, out in (
        ("json.loads + Decimal baseline + json.dumps", base_us, theirs),
        ("json.loads → parse → calculate → render → json.dumps", engine_us, ours),
    ):
        print(
            f"{name:<52} {us:>8.1f} {us / base_us:>6.2f} {request_b:>10.0f} "
            f"{sum(map(len, out)) / len(out):>11.0f}"
        )
    return [
        Target(
            "wire preorder ÷ its baseline, W(10,100)",
            f"{engine_us:.1f} ÷ {base_us:.1f} µs",
            engine_us / base_us,
            3,
        )
    ]


def load(meter: Meter) -> list[Target]:
    promotions = 1000
    program = build_program(promotions)
    document = program_to_dict(program)
    as_json, as_toml = json.dumps(document), toml_text(document)
    assert tomllib.loads(as_toml) == document, "the TOML does not read back as the document"
    with tempfile.TemporaryDirectory(prefix="bench_calculate_") as where:
        path = Path(where) / "program.toml"
        path.write_text(as_toml, encoding="utf-8")
        assert program_from_dict(json.loads(as_json)) == program
        assert load_program(path) == program
        runs: dict[str, Callable[[], object]] = {
            "json.loads(text)": partial(json.loads, as_json),
            "program_from_dict(json.loads(text))": lambda: program_from_dict(json.loads(as_json)),
            "tomllib.loads(text)": partial(tomllib.loads, as_toml),
            "load_program(path) of the .toml": partial(load_program, path),
        }
        best = meter.best(runs)
    print(
        f"loading a program of {promotions:,} promotions: {len(as_json) / 1024:.0f} KiB of JSON, "
        f"{len(as_toml) / 1024:.0f} KiB as TOML; best of the interleaved rounds"
    )
    rule(f"{'run':<40} {'µs/promotion':>13} {'ratio':>6} {'net µs':>7}")
    per = {name: seconds / promotions * 1e6 for name, seconds in best.items()}
    names = list(runs)
    for k, name in enumerate(names):
        parse = per[names[k - k % 2]]
        net = f"{per[name] - parse:.1f}" if k % 2 else ""
        print(f"{name:<40} {per[name]:>13.1f} {per[name] / parse:>6.2f} {net:>7}")
    print("ratio: ÷ the parse of the same text alone; net: the loader's own share, parse taken off")
    return [
        Target(
            f"{names[k]}, net, P=1000",
            f"{per[names[k]]:.1f} µs less parse {per[names[k - 1]]:.1f} µs",
            per[names[k]] - per[names[k - 1]],
            50,
            strict=True,
            unit=" µs",
        )
        for k in (1, 3)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, help="orders per workload (default 200; 10 quick)")
    parser.add_argument("--repeat", type=int, help="interleaved rounds (default 5; 1 quick)")
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="cpu",
        help="cpu (default): this process's CPU time, which other work on the machine does not "
        "inflate; wall: elapsed time",
    )
    args = parser.parse_args()
    count = args.orders or (10 if args.quick else 200)
    meter = Meter(repeat=args.repeat or (1 if args.quick else 5), clock=args.clock)
    started, load_average = time.perf_counter(), os.getloadavg()[0]
    cache: dict[int, list[le.Order]] = {}

    def orders_at(lines: int) -> list[le.Order]:  # fewer orders of many lines: same line count
        if lines not in cache:
            cache[lines] = build_orders(max(10, count // max(1, lines // 10)), lines)
        return cache[lines]

    rounds = f"{meter.repeat} interleaved round{'s' if meter.repeat > 1 else ''}"
    print(
        f"W(L, P): orders of L lines, P promotions of which 5 match; {count} orders (fewer at "
        f"L = 100); best of {rounds}, on the {meter.clock} clock"
    )
    print()
    targets = grid(orders_at, meter)
    print()
    targets += trace(orders_at(10), meter)
    print()
    targets += wire(orders_at(10), meter)
    print()
    targets += load(meter)
    print()
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load_average:.2f} at the start; the "
        f"timed runs took {meter.wall:.1f} s of wall clock for {meter.cpu:.1f} s of CPU "
        f"({meter.wall / meter.cpu:.2f}×: the rest is other work on the machine)"
    )
    met = sum(t.met for t in targets)
    print(f"targets: {met} of {len(targets)} met ({time.perf_counter() - started:.0f} s in all)")
    for target in targets:
        print("  " + target.line())


if __name__ == "__main__":
    main()
