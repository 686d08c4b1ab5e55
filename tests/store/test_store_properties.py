"""Commit's properties again, through every store: what the core promises survives storage."""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import tempfile
from collections.abc import Iterator
from decimal import Decimal, localcontext
from pathlib import Path

import pytest
from hypothesis import event, given

import loyalty_engine as le
from loyalty_engine.altcraft.commit import render_commit_response
from loyalty_engine.money import CONTEXT
from loyalty_engine.store import (
    JsonFileStore,
    Match,
    MemoryStore,
    SqliteStore,
    Store,
    check,
    commit_order,
    import_document,
    load,
    member_at,
)
from loyalty_engine.testing import NOW, cases

Case = tuple[le.Program, le.Order, le.Member | None]
BEFORE = NOW - dt.timedelta(days=1)


def fresh(kind: str, where: Path) -> Store:
    if kind == "memory":
        return MemoryStore()
    return JsonFileStore(where / "s.json") if kind == "json" else SqliteStore(where / "s.sqlite")


@contextlib.contextmanager
def seeded(
    kind: str, program: le.Program, member: le.Member | None
) -> Iterator[tuple[Store, Match | None]]:
    """A fresh store holding ``member``'s active balances as opening accruals."""
    where = Path(tempfile.mkdtemp())
    store = fresh(kind, where)
    try:
        yield store, _join(store, program, member)
    finally:
        store.close()
        shutil.rmtree(where)


def _join(store: Store, program: le.Program, member: le.Member | None) -> Match | None:
    if member is None:
        return None
    balances = {eid: format(b.active, "f") for eid, b in member.balances if b.active > 0}
    entry = {"profile_id": member.profile_id, "balances": balances,
             "segments": sorted(member.segments), "tags": sorted(member.tags)}  # fmt: skip
    import_document(store, program, {"members": [entry]}, now=BEFORE)
    return Match("profile_id", member.profile_id)


def totals(store: Store, program: le.Program, profile_id: str) -> dict[str, Decimal]:
    found = load(store, program, profile_id)
    assert found is not None
    return {a.currency.eid: a.balance(NOW).total for a in found[0].accounts}


@pytest.mark.parametrize("kind", ["memory", "json", "sqlite"])
@given(case=cases())
def test_an_unchanged_preorder_commits_through_every_store_and_replays(
    kind: str, case: Case
) -> None:
    """Preorder from the store, commit through it: success; the points moved are exactly the
    result's; Σ rows (settled to now) = balance; every account replays; the same request again
    is its replay."""
    program, order, member = case
    with seeded(kind, program, member) as (store, match):
        seen = le.calculate(program, order, member_at(store, program, match, NOW), now=NOW,
                            pools=store.pools())  # fmt: skip
        before = totals(store, program, match.value) if match else {}
        done = commit_order(store, program, order, le.Requested.of(seen), match=match, now=NOW,
                            render=render_commit_response)  # fmt: skip
        assert done.result is not None
        assert done.result.status is le.CommitStatus.SUCCESS, done.result.differences
        event(f"store {kind}, {'member' if match else 'guest'}")
        if match is not None:
            after = totals(store, program, match.value)
            with localcontext(CONTEXT):
                for change in done.result.points_changes:
                    eid = change.currency.eid
                    assert after[eid] == before[eid] - change.redeemed + change.accrued
                    assert after[eid] == change.balance
                found = load(store, program, match.value)
                assert found is not None
                for account in found[0].accounts:  # settled: a lot may expire at NOW unwritten
                    settled, due = account.settle(NOW)
                    assert sum(r.delta for r in settled.journal) == after[account.currency.eid]
                    if due:
                        event("rows fell due at NOW")
            if done.result.points_changes:
                event("points moved")
        assert check(store, program) == ()
        again = commit_order(store, program, order, le.Requested.of(seen), match=match,
                             now=NOW + dt.timedelta(hours=1),
                             render=render_commit_response)  # fmt: skip
        assert again.result is None and again.response == done.response
