"""The synthetic history: reproducible, lazy, a valid preorder on every line, spread like real
orders, and a fit for the example what-if programs."""

import datetime as dt
import functools
import io
import itertools
import json
import re
import statistics
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import loyalty_engine as le
from loyalty_engine.altcraft.preorder import parse_preorder_request
from loyalty_engine.documents import member_from_dict
from loyalty_engine.whatif.sample import CATALOG, PROMO_CODES, sample_history, write_history

WHATIF = Path(__file__).resolve().parent.parent.parent / "examples" / "whatif"
START = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
END = START + dt.timedelta(days=92)
MONEY = re.compile(r"\d+\.\d\d")
CATEGORY = {p.product: p.category for p in CATALOG}


def text(orders: int, seed: int) -> str:
    stream = io.StringIO()
    assert write_history(stream, orders, seed=seed) == orders
    return stream.getvalue()


def kopeks(amount: object) -> int:
    assert isinstance(amount, str) and MONEY.fullmatch(amount), amount
    return int(amount.replace(".", ""))


def moment(record: Any) -> dt.datetime:
    return dt.datetime.fromisoformat(record["data"]["create_time"])


@functools.cache
def spread() -> tuple[Any, ...]:
    return tuple(sample_history(2000, seed=1))


# --- reproducible and lazy ----------------------------------------------------------------------


def test_same_seed_same_bytes() -> None:
    """A seed names one history, byte for byte: one JSON object a line, compact, "\\n"-ended."""
    first = text(300, seed=7)
    assert first == text(300, seed=7)
    lines = first.split("\n")
    assert len(lines) == 301 and lines[-1] == ""
    assert lines[0] == json.dumps(json.loads(lines[0]), ensure_ascii=False, separators=(",", ":"))


def test_different_seeds_differ() -> None:
    """Another seed, another history."""
    assert text(50, seed=1) != text(50, seed=2)


def test_write_history_to_a_path(tmp_path: Path) -> None:
    """A path gets the same bytes a stream does, with "\\n" line ends on every platform."""
    path = tmp_path / "history.jsonl"
    assert write_history(path, 40, seed=3) == 40
    assert path.read_bytes() == text(40, seed=3).encode()


def test_bundled_history_is_fresh() -> None:
    """examples/whatif/history.jsonl is write_history(…, 1000, seed=1): it never drifts."""
    assert (WHATIF / "history.jsonl").read_bytes() == text(1000, seed=1).encode()


def test_generator_is_lazy() -> None:
    """A billion-order history starts at once: nothing is drawn before it is asked for."""
    began = time.perf_counter()
    first = list(itertools.islice(sample_history(10**9, seed=1), 3))
    assert time.perf_counter() - began < 2
    assert [r["external_id"] for r in first] == ["o-000001", "o-000002", "o-000003"]


def test_memory_does_not_grow_with_orders() -> None:
    """Streaming ten times the orders takes no more memory: nothing is kept between orders."""

    def peak(orders: int) -> int:
        tracemalloc.start()
        for _ in sample_history(orders, seed=1):
            pass
        _, high = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return high

    assert peak(3_000) <= peak(300) + 16 * 1024


def test_bad_arguments_fail_at_the_call() -> None:
    """An impossible history is refused when asked for, not on the first order."""
    with pytest.raises(le.ValidationError, match="orders"):
        sample_history(-1, seed=1)
    with pytest.raises(le.ValidationError, match="start"):
        sample_history(1, seed=1, start=dt.datetime(2026, 7, 1))
    with pytest.raises(le.ValidationError, match="days"):
        sample_history(1, seed=1, days=0)


# --- every line an order ------------------------------------------------------------------------


def test_every_record_parses() -> None:
    """Each line is a valid preorder; members carry a valid snapshot, guests neither it nor a
    matching block."""
    for record in spread():
        request = parse_preorder_request(record)
        assert request.external_id == record["external_id"]
        if "member" in record:
            member = member_from_dict(record["member"])
            assert request.match is not None and request.match.value == member.profile_id
        else:
            assert request.match is None and "profile_id" not in record


@given(seed=st.integers(), orders=st.integers(min_value=0, max_value=20))
def test_any_seed_gives_valid_orders(seed: int, orders: int) -> None:
    """Whatever the seed: as many orders as asked, each parses, its total is Σ base × count,
    ids are unique and times never go back."""
    records: list[Any] = list(sample_history(orders, seed=seed))
    assert len(records) == orders
    assert len({r["external_id"] for r in records}) == orders
    times = [moment(r) for r in records]
    assert times == sorted(times)
    for record in records:
        order = parse_preorder_request(record).order
        data = record["data"]
        total = sum(kopeks(line["base_price_per_item"]) * line["count"] for line in data["lines"])
        assert kopeks(data["total_price"]) == total == order.total_price.minor
        if "member" in record:
            member_from_dict(record["member"])


# --- spread like real orders --------------------------------------------------------------------


def test_baskets() -> None:
    """Every category sells; baskets have 1 to 8 lines, mostly 1-3; groceries come by the
    several, other goods by 1-3; prices end in .00, .90 or .99."""
    sizes = Counter(len(r["data"]["lines"]) for r in spread())
    assert set(sizes) == set(range(1, 9))
    assert 10 * sum(sizes[n] for n in (1, 2, 3)) > 6 * sum(sizes.values())
    lines = [line for r in spread() for line in r["data"]["lines"]]
    assert {CATEGORY[line["product"]] for line in lines} == set(CATEGORY.values())
    grocery = {line["count"] for line in lines if CATEGORY[line["product"]] == "groceries"}
    other = {line["count"] for line in lines if CATEGORY[line["product"]] != "groceries"}
    assert grocery == set(range(1, 7)) and other == {1, 2, 3}
    assert {kopeks(line["base_price_per_item"]) % 100 for line in lines} == {0, 90, 99}
    floors = [line for line in lines if "min_price_per_item" in line]
    assert floors and all(CATEGORY[line["product"]] == "electronics" for line in floors)


def test_members_and_guests() -> None:
    """About 15% guests; a few members buy often, most once or twice; a member's tier,
    segments and tags are the same at every visit."""
    records = spread()
    guests = sum("member" not in r for r in records)
    assert 5 * len(records) < 100 * guests < 30 * len(records)
    visits = Counter(r["profile_id"] for r in records if "member" in r)
    assert max(visits.values()) >= 15
    assert statistics.median(visits.values()) <= 3
    traits: dict[object, set[str]] = {}
    for record in records:
        if "member" in record:
            snapshot = dict(record["member"])
            del snapshot["balances"]
            traits.setdefault(record["profile_id"], set()).add(json.dumps(snapshot))
    assert all(len(seen) == 1 for seen in traits.values())
    snapshots = [r["member"] for r in records if "member" in r]
    assert {s["tier"] for s in snapshots} == {"bronze", "silver", "gold"}
    assert {g for s in snapshots for g in s["segments"]} == {"new", "vip"}


def test_balances_have_a_long_tail() -> None:
    """Many balances are zero, a few are tens of thousands; total is never below active."""
    balances = [r["member"]["balances"]["bonus1"] for r in spread() if "member" in r]
    active = sorted(int(b["active"]) for b in balances)
    assert 20 * len(active) < 100 * active.count(0) < 50 * len(active)
    assert active[-1] >= 10_000 > 50 * active[len(active) // 2]
    assert all(int(b["total"]) >= int(b["active"]) for b in balances)


def test_codes_and_redemptions() -> None:
    """About 10% of orders enter a known code; about 20% of member orders ask for points, never
    more than the member's active balance, and guests never do."""
    records = spread()
    codes = [r["data"]["promocodes"] for r in records if "promocodes" in r["data"]]
    assert 5 * len(records) < 100 * len(codes) < 15 * len(records)
    known = {(code, pool) for code, pool, _ in PROMO_CODES}
    assert {(c[0]["code"], c[0]["pool_id"]) for c in codes} == known
    members = [r for r in records if "member" in r]
    asking = [r for r in members if "redeem_points" in r["data"]]
    assert 12 * len(members) < 100 * len(asking) < 28 * len(members)
    for record in asking:
        (redeem,) = record["data"]["redeem_points"]
        active = int(record["member"]["balances"]["bonus1"]["active"])
        assert redeem["points_currency_eid"] == "bonus1" and 0 < redeem["amount"] <= active
    assert not any("redeem_points" in r["data"] for r in records if "member" not in r)


def test_times_delivery_and_charged() -> None:
    """Times fill the window in order, evenings busier than nights; some orders pay delivery;
    most carry what was charged, never above the base total and delivery."""
    records = spread()
    times = [moment(r) for r in records]
    assert times == sorted(times) and START <= times[0] <= times[-1] < END
    assert times[len(times) // 2] - START > dt.timedelta(days=40)
    hours = Counter((t.hour + 3) % 24 for t in times)  # Moscow time
    assert hours[20] > 3 * hours[3]
    delivery = [r for r in records if "delivery_cost" in r["data"]]
    assert 10 * len(records) < 100 * len(delivery) < 60 * len(records)
    charged = [r for r in records if "charged" in r]
    assert 100 * len(charged) > 90 * len(records)
    for record in charged:
        data = record["data"]
        ceiling = kopeks(data["total_price"]) + kopeks(data.get("delivery_cost", "0.00"))
        assert 0 <= kopeks(record["charged"]) <= ceiling


# --- the example programs -----------------------------------------------------------------------


@functools.cache
def replay() -> dict[str, list[le.CalculatedOrder]]:
    programs = {name: le.load_program(WHATIF / f"{name}.toml") for name in ("current", "proposed")}
    results: dict[str, list[le.CalculatedOrder]] = {name: [] for name in programs}
    for text_line in (WHATIF / "history.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(text_line)
        order = parse_preorder_request(record).order
        member = member_from_dict(record["member"]) if "member" in record else None
        assert order.create_time is not None
        for name, program in programs.items():
            results[name].append(le.calculate(program, order, member, now=order.create_time))
    return results


def test_example_catalogs_are_the_sample_catalog() -> None:
    """Both programs list every CATALOG product with its category, and nothing else."""
    expected = {p.product: frozenset({p.category}) for p in CATALOG}
    for name in ("current", "proposed"):
        assert dict(le.load_program(WHATIF / f"{name}.toml").catalog.products) == expected


def test_example_programs_calculate_every_order() -> None:
    """Both programs price all 1,000 orders, never above the base total; every promotion of
    each applies somewhere, and the two disagree on a good share of final totals."""
    results = replay()
    for name, program_results in results.items():
        assert len(program_results) == 1000
        assert all(0 <= r.final_total_price.minor <= r.total_price.minor for r in program_results)
        applied = {a.external_id for r in program_results for line in r.lines for a in line.applied}
        program = le.load_program(WHATIF / f"{name}.toml")
        assert applied == {p.external_id for p in program.promotions}, name
    differ = sum(
        a.final_total_price != b.final_total_price
        for a, b in zip(results["current"], results["proposed"], strict=True)
    )
    assert differ > 300
