"""The what-if replay: exact figures, the same report whatever the chunks and workers, bad lines
counted and located, and a history read as it is consumed, never ahead."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import itertools
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import loyalty_engine as le
from loyalty_engine.errors import ValidationError
from loyalty_engine.money import CONTEXT
from loyalty_engine.program import load_program
from loyalty_engine.whatif import BadRecord, HistoryRecord, read_record, whatif
from loyalty_engine.whatif.tally import BUCKET_NAMES, Outcome

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed_003"
WHATIF = ROOT / "examples" / "whatif"
NOW = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
HISTORY = (WHATIF / "history.jsonl").read_text(encoding="utf-8").splitlines()[:300]
PROGRAMS = {
    "current": load_program(WHATIF / "current.toml"),
    "proposed": load_program(WHATIF / "proposed.toml"),
}
Json = dict[str, Any]


def seed_line(external_id: str, *, member: bool) -> str:
    request: Json = json.loads((SEED / "request.json").read_text(encoding="utf-8"))
    request["external_id"] = external_id
    if member:
        request["member"] = json.loads((SEED / "member.json").read_text(encoding="utf-8"))
    request["charged"] = "139000.00"
    return json.dumps(request)


def dumped(report: le.whatif.Report) -> str:
    return json.dumps(report.document(), sort_keys=True)


def test_seed_003_figures_are_exact() -> None:
    """Seed 003 twice (a member, then a guest) under its own program: the seed's figures —
    139999.00 before, 139500.00 after for the member (499 points off), 6999 points accrued and
    499 redeemed — summed to the kopek; and against a program without promotions, every
    member order differs."""
    seed = load_program(SEED / "program.toml")
    bare = load_program(WHATIF / "current.toml")
    lines = [seed_line("a", member=True), seed_line("b", member=False)]
    document = whatif(lines, {"seed": seed, "bare": bare}, now=NOW).document()
    ours = document["programs"]["seed"]
    assert ours["orders"] == 2 and ours["refused"] == {}
    assert ours["money"] == {"RUB": {"orders": 2, "before": "279998.00", "after": "279499.00",
                                     "discount": "499.00", "charged": "278000.00"}}  # fmt: skip
    assert ours["points"] == {"bonus1": {"accrued": "6999", "redeemed": "499"}}
    assert ours["promotions"] == [
        {"type": "accrue_points", "external_id": "bonus", "name": "Point Accrual", "orders": 1,
         "cost": {"RUB": "0.00"}, "points": {"bonus1": "6999"}},
        {"type": "redeem_points", "external_id": "bonus", "name": "Point Redemption",
         "orders": 1, "cost": {"RUB": "499.00"}, "points": {"bonus1": "499"}},
    ]  # fmt: skip
    assert [b["orders"] for b in ours["discount_per_order"]] == [1, 1, 0, 0, 0, 0, 0, 0]
    assert document["history"] == {"lines": 2, "orders": 2, "bad": 0}


def test_a_report_equals_a_plain_loop_over_calculate() -> None:
    """Differential: each program's sums are those of a plain loop that parses each line and
    calls ``calculate`` (the reference), and each comparison is the difference of two loops."""
    document = whatif(HISTORY, PROGRAMS, now=NOW, chunk_size=64).document()
    for name, program in PROGRAMS.items():
        before = after = 0
        accrued = redeemed = Decimal(0)
        uses: dict[tuple[str, str], int] = {}
        for n, text in enumerate(HISTORY, 1):
            record = read_record(text, n)
            assert isinstance(record, HistoryRecord)
            result = le.calculate(program, record.order, record.member,
                                  now=record.order.create_time or NOW)  # fmt: skip
            before += result.total_price.minor + record.order.delivery_cost.minor
            after += result.final_total_price.minor + result.delivery_cost.minor
            with localcontext(CONTEXT):  # the suite runs under a hostile caller's context
                accrued += sum((p.accrued for p in result.points), Decimal(0))
                redeemed += sum((p.redeemed for p in result.points), Decimal(0))
            applied = {(a.type, a.external_id) for line in result.lines for a in line.applied}
            for key in applied | {(a.type, a.external_id) for a in result.applied}:
                uses[key] = uses.get(key, 0) + 1
        ours = document["programs"][name]
        assert ours["money"]["RUB"]["before"] == _money(before)
        assert ours["money"]["RUB"]["after"] == _money(after)
        assert ours["points"]["bonus1"] == {"accrued": str(accrued), "redeemed": str(redeemed)}
        assert {(p["type"], p["external_id"]): p["orders"] for p in ours["promotions"]} == uses
    current, proposed = (document["programs"][n]["money"]["RUB"] for n in PROGRAMS)
    delta = document["comparisons"]["proposed"]["money"]["RUB"]["after"]
    with localcontext(CONTEXT):
        assert Decimal(delta) == Decimal(proposed["after"]) - Decimal(current["after"])


def _money(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d}"


@functools.cache
def _serial() -> tuple[str, list[dict[str, object]]]:
    """The first 60 orders replayed in this thread, in one chunk: what every run must give."""
    diffs: list[dict[str, object]] = []
    report = whatif(HISTORY[:60], PROGRAMS, now=NOW, chunk_size=60, on_diff=diffs.append)
    return dumped(report), diffs


@given(size=st.integers(1, 70), threads=st.integers(1, 3))
def test_the_report_is_the_same_whatever_the_chunks_and_workers(size: int, threads: int) -> None:
    """Byte for byte: the report and the differences do not depend on the chunk size or on
    how many workers run the chunks (a thread pool here; processes and Dask below)."""
    event(f"chunks of {'1' if size == 1 else '≤ 10' if size <= 10 else '> 10'}")
    event(f"{threads} worker(s)")
    lines = HISTORY[:60]
    expected, expected_diffs = _serial()
    diffs: list[dict[str, object]] = []
    with ThreadPoolExecutor(threads) as pool:
        got = whatif(lines, PROGRAMS, now=NOW, executor=pool, chunk_size=size,
                     on_diff=diffs.append)  # fmt: skip
    assert dumped(got) == expected
    assert diffs == expected_diffs


def test_a_process_pool_gives_the_same_report() -> None:
    """``jobs=2``: two worker processes, the programs installed in each once."""
    serial = dumped(whatif(HISTORY, PROGRAMS, now=NOW))
    assert dumped(whatif(HISTORY, PROGRAMS, now=NOW, jobs=2, chunk_size=50)) == serial


def test_a_dask_cluster_gives_the_same_report() -> None:
    """On a ``distributed.LocalCluster`` of two worker processes, through
    ``Client.get_executor()``: the same report as in this process."""
    distributed = pytest.importorskip("distributed")
    serial = dumped(whatif(HISTORY, PROGRAMS, now=NOW))
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                 dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):  # fmt: skip
        report = whatif(HISTORY, PROGRAMS, now=NOW, executor=client.get_executor(),
                        chunk_size=40)  # fmt: skip
    assert dumped(report) == serial


BAD = {
    "not json": "{nope",
    "not an object": "[1, 2]",
    "no lines": json.dumps({"external_id": "x", "data": {"currency": "RUB", "total_price": "0"}}),
    "bad count": None,  # filled below: seed 003 with a count of "x"
    "bad member": None,
    "bad charged": None,
    "invalid utf-8": "\udcff",
}


def _bad_lines() -> dict[str, str]:
    lines = {k: v for k, v in BAD.items() if v is not None}
    request = json.loads(seed_line("c", member=True))
    count = copy.deepcopy(request)
    count["data"]["lines"][0]["count"] = "x"
    member = {**request, "member": {"balances": {}}}
    charged = {**request, "charged": "12.345"}
    lines |= {"bad count": json.dumps(count), "bad member": json.dumps(member),
              "bad charged": json.dumps(charged)}  # fmt: skip
    return lines


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_line_is_counted_and_located(case: str) -> None:
    """A bad line among good ones: counted in ``history.bad``, listed with its line number and
    a reason naming the field, reported to ``on_bad``; the good lines are all calculated
    (lines = orders + bad: nothing dropped), and a blank line is no line at all."""
    text = _bad_lines()[case]
    lines = [seed_line("a", member=True), "", text, seed_line("b", member=False)]
    heard: list[BadRecord] = []
    document = whatif(lines, PROGRAMS, now=NOW, on_bad=heard.append).document()
    assert document["history"] == {"lines": 3, "orders": 2, "bad": 1}
    assert document["programs"]["current"]["orders"] == 2
    (bad,) = document["bad_records"]
    assert bad["line"] == 3 and [b.line for b in heard] == [3]
    hint = {"bad count": "count", "bad member": "member.profile_id",
            "bad charged": "charged", "no lines": "lines"}.get(case)  # fmt: skip
    if hint is not None:
        assert hint in bad["reason"], bad


def test_on_error_fail_names_the_first_bad_line() -> None:
    lines = [seed_line("a", member=True), "{nope", "[]"]
    with pytest.raises(ValidationError, match="line 2"):
        whatif(lines, PROGRAMS, now=NOW, on_error="fail")


def test_only_the_first_hundred_bad_lines_are_listed_but_all_are_counted() -> None:
    document = whatif(["{"] * 150, PROGRAMS, now=NOW, chunk_size=7).document()
    assert document["history"]["bad"] == 150
    assert [b["line"] for b in document["bad_records"]] == list(range(1, 101))


def test_a_program_that_cannot_calculate_an_order_refuses_it_alone(tmp_path: Path) -> None:
    """An order one program cannot calculate (5.5 points to redeem, where its points are whole)
    is counted under that program's ``refused`` with a reason free of the order's values; the
    other program (points to two decimals) calculates it; the order is a difference, not a
    comparison."""
    seed = (SEED / "program.toml").read_text(encoding="utf-8")
    whole, cents = tmp_path / "whole.toml", tmp_path / "cents.toml"
    whole.write_text(seed, encoding="utf-8")
    cents.write_text(seed.replace('name = "Main Point"', 'name = "Main Point"\nprecision = 2'))
    programs = {"whole": load_program(whole), "cents": load_program(cents)}
    request = json.loads(seed_line("a", member=True))
    request["data"]["redeem_points"][0]["amount"] = "5.5"
    diffs: list[dict[str, object]] = []
    document = whatif([json.dumps(request)], programs, now=NOW, on_diff=diffs.append).document()
    reason = "redeem_points[0].amount: more decimals than points 'bonus1' allow"
    assert document["programs"]["whole"]["orders"] == 0
    assert document["programs"]["whole"]["refused"] == {reason: 1}
    assert document["programs"]["cents"]["orders"] == 1
    assert document["comparisons"]["cents"]["compared"] == 0
    (diff,) = diffs
    assert diff["programs"] == {"whole": {"refused": reason}, "cents": diff["programs"]["cents"]}  # type: ignore[index]


def test_the_history_is_read_as_it_is_consumed() -> None:
    """Streaming: with chunks of 10 and an executor of 4 workers, no more than 2 × 4 chunks are
    taken from the history ahead of the merge, whatever its length (here an endless one)."""
    pulled = 0

    def endless() -> Iterator[str]:
        nonlocal pulled
        for line in itertools.cycle(HISTORY[:20]):
            pulled += 1
            yield line

    merged = 0

    def progress(n: int) -> None:
        nonlocal merged
        merged += n
        assert pulled - merged <= 8 * 10 + 10, (pulled, merged)
        if merged >= 200:
            raise StopIteration  # leave the endless history

    pool = ThreadPoolExecutor(4)
    with pytest.raises(StopIteration):
        whatif(endless(), PROGRAMS, now=NOW, executor=pool, chunk_size=10, on_progress=progress)
    pool.shutdown()
    assert merged >= 200


@given(before=st.integers(0, 10**9), share=st.integers(0, 10**4))
def test_a_bucket_holds_its_upper_bound(before: int, share: int) -> None:
    """The discount share's bucket: 0% alone for no discount; otherwise the first bucket whose
    upper bound (in percent) is at or above the share, compared in integers."""
    discount = before * share // 10**4
    outcome = Outcome(currency="RUB", before=before, after=before - discount)
    bucket = BUCKET_NAMES[outcome.bucket()]
    event(bucket)
    if discount == 0:
        assert bucket == "0%"
        return
    low, _, high = bucket.rstrip("%").partition("–")
    with localcontext(CONTEXT):
        assert Decimal(low) * before < discount * 100 <= Decimal(high) * before


def _mutations() -> st.SearchStrategy[str]:
    """History lines as a broken export writes them: random text, random JSON, and real lines
    with one value replaced by a hostile one."""
    values = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.text(max_size=12)
        | st.sampled_from(
            ["NaN", "1e999", "-1", "0.001", "١٠٠", "\x00", "x" * 5000, [], {}, [[[]]]]
        )
    )

    def replaced(line: str, key: str, value: object) -> str:
        document = json.loads(line)
        target = document["data"] if key in document["data"] else document
        target[key] = value
        event(f"replaced {key}")
        return json.dumps(document)

    keys = st.sampled_from(
        [
            "lines",
            "total_price",
            "currency",
            "create_time",
            "delivery_cost",
            "member",
            "charged",
            "promocodes",
            "redeem_points",
            "external_id",
        ]
    )
    return (
        st.text(max_size=40).map(lambda t: (event("random text"), t)[1])
        | st.builds(json.dumps, st.dictionaries(st.text(max_size=6), values, max_size=4))
        | st.builds(replaced, st.sampled_from(HISTORY[:20]), keys, values)
    )


@given(lines=st.lists(_mutations(), min_size=1, max_size=4))
def test_no_line_breaks_the_replay(lines: list[str]) -> None:
    """Fuzz: whatever the lines hold, the replay finishes; each non-blank line is an order or a
    bad record (never both, never lost), and a program's refusal is counted, not raised."""
    document = whatif(lines, PROGRAMS, now=NOW).document()
    history = document["history"]
    assert history["lines"] == sum(1 for line in lines if line.strip())
    assert history["orders"] + history["bad"] == history["lines"]
    for program in document["programs"].values():
        assert program["orders"] + sum(program["refused"].values()) == history["orders"]
    event(f"{history['bad']} bad of {history['lines']}")
