"""The storage contract, the same for every store: compare-and-swap, uniqueness, the service loop.

Each test runs against the memory store, the JSON state file and SQLite (``store`` fixture).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable, Iterator
from decimal import Decimal, localcontext
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import loyalty_engine as le
from loyalty_engine.altcraft.commit import render_commit_response
from loyalty_engine.errors import ConflictError, LedgerError, NotFoundError
from loyalty_engine.ledger import account as account_module
from loyalty_engine.ledger.effects import Effects
from loyalty_engine.money import CONTEXT
from loyalty_engine.store import (
    JsonFileStore,
    Match,
    MemoryStore,
    Profile,
    SqliteStore,
    Store,
    check,
    commit_order,
    import_document,
    load,
    member_at,
    register_member,
    remove_member,
    to_document,
)
from loyalty_engine.store.records import TransactionKey

T0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
PROGRAM = le.program_from_dict(
    {
        "currencies": [{"eid": "bonus", "iid": 1}],
        "promotions": [
            {"external_id": "spend", "name": "Spend points", "type": "redeem_points",
             "benefit": {"currency": "bonus"}},
            {"external_id": "code10", "name": "Code 10%", "type": "discount",
             "benefit": {"kind": "percent", "percent": "10"},
             "conditions": [{"kind": "promo_code", "pool_id": 7}]},
            {"external_id": "gift", "name": "Gift code", "type": "code_issue",
             "benefit": {"pool_id": 9, "pool_name": "Gifts"}},
        ],
    }
)  # fmt: skip
GIFTS = le.CodePool(pool_id=9, name="Gifts", codes=[le.PoolCode(f"G{i}") for i in range(3)])
RUNS = itertools.count()  # a fresh store per hypothesis example
ENTRY = le.CodePool(pool_id=7, name="Entry", codes=[le.PoolCode("E1"), le.PoolCode("E2")])

Factory = Callable[..., Store]


@pytest.fixture(params=["memory", "json", "sqlite"])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    """Opens the test's store ``name`` (again: a second open sees what the first wrote)."""
    opened: list[Store] = []
    memory: dict[str, MemoryStore] = {}

    def open_store(name: str = "state") -> Store:
        if request.param == "memory":
            return memory.setdefault(name, MemoryStore())
        store: Store = (
            JsonFileStore(tmp_path / f"{name}.json")
            if request.param == "json"
            else SqliteStore(tmp_path / f"{name}.sqlite")
        )
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        store.close()


@pytest.fixture
def store(make: Factory) -> Store:
    return make()


def join(store: Store, profile_id: str, points: int, **identities: str) -> None:
    import_document(
        store,
        PROGRAM,
        {"members": [{"profile_id": profile_id, "registered_at": "2026-01-01T00:00:00Z",
                      "balances": {"bonus": str(points)}, **identities}]},
        now=T0,
    )  # fmt: skip


def order(external_id: str, *, price: str = "1000.00", redeem: int = 0, code: str | None = None,
          created: dt.datetime = T0) -> le.Order:  # fmt: skip
    return le.Order(
        external_id=external_id,
        currency="RUB",
        create_time=created,
        lines=[le.Line(external_id="l1", product="p", count=1,
                       base_price_per_item=le.Money.parse(price, "RUB"))],
        redeem=[le.RedeemRequest(currency=le.PointsRef(eid="bonus"), amount=Decimal(redeem))]
        if redeem
        else [],
        promo_codes=[le.PromoCode(code=code, pool_id=7)] if code else [],
    )  # fmt: skip


def preorder(store: Store, the_order: le.Order, profile: str | None, now: dt.datetime = T0
             ) -> le.Requested:  # fmt: skip
    """What the customer saw: calculated from the store, as the CLI's preorder does."""
    match = Match("profile_id", profile) if profile else None
    member = member_at(store, PROGRAM, match, now)
    return le.Requested.of(le.calculate(PROGRAM, the_order, member, now=now, pools=store.pools()))


def confirm(
    store: Store,
    the_order: le.Order,
    profile: str | None,
    *,
    requested: le.Requested | None = None,
    now: dt.datetime = T0,
) -> dict[str, object]:
    requested = requested or preorder(store, the_order, profile, now)
    done = commit_order(store, PROGRAM, the_order, requested,
                        match=Match("profile_id", profile) if profile else None, now=now,
                        render=render_commit_response)  # fmt: skip
    return dict(done.response["data"])  # type: ignore[arg-type]


def balance(store: Store, profile: str) -> Decimal:
    found = load(store, PROGRAM, profile)
    assert found is not None
    return found[0].account("bonus").balance(T0 + dt.timedelta(days=1)).total


# --- compare-and-swap --------------------------------------------------------------------------


def test_effects_computed_on_a_stale_member_conflict_and_write_nothing(store: Store) -> None:
    """Two commits computed on the same read: the first lands, the second changes nothing."""
    join(store, "p1", 1000)
    store.add_pool(GIFTS)
    found = load(store, PROGRAM, "p1")
    assert found is not None
    membership = found[0]
    results = []
    for external_id in ("o1", "o2"):
        the_order = order(external_id, redeem=600)
        seen = le.calculate(PROGRAM, the_order, membership.member(PROGRAM, now=T0), now=T0)
        results.append(le.commit(PROGRAM, the_order, le.Requested.of(seen),
                                 membership=membership, now=T0, pools=store.pools()))  # fmt: skip
    assert [w.version for w in results[1].effects.accounts] == [1]
    store.apply(results[0].effects)
    before = to_document(store)
    with pytest.raises(ConflictError, match="bonus is at version 2, the operation read version 1"):
        store.apply(results[1].effects)
    assert to_document(store) == before  # neither its rows, nor its code, nor its order
    assert balance(store, "p1") == 400
    (issued,) = results[0].issued
    assert store.order("o2") is None and store.issued(9) == set(issued.codes)


def test_a_transaction_eid_is_unique_per_account(store: Store) -> None:
    """A row reusing an eid of its account is a conflict, even at the right version."""
    join(store, "p1", 1000)
    found = load(store, PROGRAM, "p1")
    assert found is not None
    account = found[0].account("bonus")
    posting = account.redeem(Decimal(5), now=T0, eid="twice")
    forged = attrs.evolve(posting.transaction, eid="import:bonus")
    write = Effects.between(found[0], found[0].with_account(posting.account))
    forged_write = attrs.evolve(write.accounts[0], rows=(forged,))
    with pytest.raises(ConflictError, match="transaction_eid"):
        store.apply(attrs.evolve(write, accounts=(forged_write,)))
    assert balance(store, "p1") == 1000


def test_a_single_use_code_is_handed_out_and_used_once(store: Store) -> None:
    store.add_pool(GIFTS)
    store.apply(Effects(issued=((9, "G1"),), used=((9, "G2"),)))
    with pytest.raises(ConflictError, match="'G1' of pool 9 was handed out already"):
        store.apply(Effects(issued=((9, "G1"),)))
    with pytest.raises(ConflictError, match="'G2' of pool 9 was used already"):
        store.apply(Effects(used=((9, "G2"),)))
    with pytest.raises(ConflictError, match="handed out"):
        store.apply(Effects(issued=((9, "NOPE"),)))
    (pool,) = store.pools()
    assert [c.code for c in pool.codes] == ["G0", "G2"] and pool.used == {"G2"}


# --- the service loop ---------------------------------------------------------------------------


def test_a_commit_replays_for_the_same_request_only(store: Store) -> None:
    """The same request gets the stored answer; another member or body is a conflict."""
    join(store, "p1", 1000)
    join(store, "p2", 1000)
    first = confirm(store, order("o1", redeem=300), "p1")
    assert first["processing_target"] == "immediate"
    requested = preorder(store, order("o1", redeem=300), "p1")
    again = commit_order(store, PROGRAM, order("o1", redeem=300), requested,
                         match=Match("profile_id", "p1"), now=T0,
                         render=render_commit_response)  # fmt: skip
    assert again.result is None and again.response["data"] == first
    with pytest.raises(ConflictError, match="another request or member"):
        confirm(store, order("o1", redeem=300), "p2")
    with pytest.raises(ConflictError, match="another request or member"):
        confirm(store, order("o1", redeem=200), "p1")
    assert balance(store, "p1") == 700 and balance(store, "p2") == 1000


def test_a_member_not_found_is_an_error_and_a_guest_needs_no_profile(store: Store) -> None:
    join(store, "p1", 1000, email="Ann@Example.com")
    with pytest.raises(NotFoundError, match="member not found"):
        confirm(store, order("o1"), "nobody")
    with pytest.raises(NotFoundError):
        member_at(store, PROGRAM, Match("email", "bob@example.com"), T0)
    assert confirm(store, order("o1"), None)["status"] == "success"
    record = store.order("o1")
    assert record is not None and record.profile_id is None


def test_identities_find_members_and_are_unique(store: Store) -> None:
    """Email ignores case, a phone its punctuation; custom fields match exactly."""
    join(store, "p1", 10, email="Ann@Example.com", phone="+7 (900) 123-45-67",
         fields={"card": "0042"})  # fmt: skip
    assert store.find(Match("email", "  ann@example.COM")) == "p1"
    assert store.find(Match("phone", "+79001234567")) == "p1"
    assert store.find(Match("custom", "0042", field_name="card")) == "p1"
    assert store.find(Match("custom", "42", field_name="card")) is None
    assert store.find(Match("profile_id", "p1")) == "p1"
    with pytest.raises(ConflictError, match="belongs to member 'p1'"):
        join(store, "p2", 10, email="ann@example.com")
    assert store.member("p2") is None  # the member came in whole or not at all


def test_a_used_single_use_code_is_not_applicable_at_preorder_already(store: Store) -> None:
    """Preorder reads the pools: the second customer sees E1 refused, and commit agrees."""
    store.add_pool(ENTRY)
    assert confirm(store, order("o1", code="E1"), None)["status"] == "success"
    seen = le.calculate(PROGRAM, order("o2", code="E1"), None, now=T0, pools=store.pools())
    assert [s.state for s in seen.promo_codes] == [le.CodeState.NOT_APPLICABLE]
    assert seen.final_total_price == le.Money.parse("1000.00", "RUB")
    assert confirm(store, order("o2", code="E1"), None)["status"] == "success"  # no discount


def test_orders_commit_in_any_create_time_order(store: Store) -> None:
    """The ledger is dated by the commit; an order created earlier may be committed later."""
    join(store, "p1", 1000)
    later = order("late", redeem=100, created=T0 + dt.timedelta(hours=2))
    earlier = order("early", redeem=100, created=T0)
    at = T0 + dt.timedelta(hours=3)
    assert confirm(store, later, "p1", now=at)["status"] == "success"
    assert confirm(store, earlier, "p1", now=at + dt.timedelta(minutes=1))["status"] == "success"
    found = load(store, PROGRAM, "p1")
    assert found is not None
    rows = list(found[0].account("bonus").journal)
    assert [(r.source_id, r.at) for r in rows[1:]] == [
        ("late", at), ("early", at + dt.timedelta(minutes=1))
    ]  # fmt: skip


def test_a_retry_reads_again_and_decides_again(make: Factory) -> None:
    """A conflict makes the loop reload: a redemption the balance no longer covers is outdated."""
    store = make()
    join(store, "p1", 500)
    requested = preorder(store, order("o1", redeem=400), "p1")
    other = preorder(store, order("o2", redeem=400), "p1")
    real_apply = store.apply
    calls: list[int] = []

    def interleaved(effects: Effects, *, profile: Profile | None = None) -> None:
        if not calls:  # another process commits o2 first, between our read and our write
            calls.append(1)
            confirm(store, order("o2", redeem=400), "p1", requested=other)
        real_apply(effects, profile=profile)

    store.apply = interleaved  # type: ignore[method-assign]
    data = confirm(store, order("o1", redeem=400), "p1", requested=requested)
    assert data["status"] == "outdated"
    assert balance(store, "p1") == 100 and store.order("o1") is None


# --- getting data in and out --------------------------------------------------------------------


def test_import_opens_balances_keeps_identities_and_skips_known_members(store: Store) -> None:
    document = {
        "members": [{"profile_id": "p1", "email": "a@b.c", "segments": ["b2c"], "tags": ["vip"],
                     "balances": {"bonus": "250"}}],
        "pools": [{"pool_id": 9, "name": "Gifts", "codes": ["G0", {"code": "G1"}]}],
    }  # fmt: skip
    done = import_document(store, PROGRAM, document, now=T0)
    assert (done.members, done.skipped, done.pools) == (1, (), 1)
    again = import_document(store, PROGRAM, document, now=T0)
    assert (again.members, again.skipped) == (0, ("p1",))
    member = member_at(store, PROGRAM, Match("email", "A@B.C"), T0)
    assert member is not None and member.segments == {"b2c"} and member.tags == {"vip"}
    assert dict(member.balances) == {"bonus": le.Balance(Decimal(250), Decimal(250))}
    (row,) = store.member("p1").rows  # type: ignore[union-attr]
    assert (row.eid, row.source_type, row.at) == ("import:bonus", "import", T0)
    assert [c.code for c in store.pools()[0].codes] == ["G0", "G1"]
    assert check(store, PROGRAM) == ()


def test_import_refuses_a_bad_file_whole(store: Store) -> None:
    bad = {"members": [{"profile_id": "p1", "balances": {"bonus": "10"}},
                       {"profile_id": "p2", "balances": {"nope": "10"}, "colour": "red"}],
           "pools": [{"pool_id": 9, "name": "Gifts", "codes": [""]}]}  # fmt: skip
    with pytest.raises(le.ValidationError) as caught:
        import_document(store, PROGRAM, bad, now=T0)
    text = str(caught.value)
    assert "members[1].balances.nope: no such points currency" in text
    assert "members[1].colour: unknown key" in text
    assert "pools[0].codes[0]" in text
    assert list(store.profiles()) == [] and store.pools() == ()


def test_an_export_imports_into_any_store_unchanged(store: Store, tmp_path: Path) -> None:
    """Differential: the same history exported from each store, re-imported, exports the same."""
    join(store, "p1", 1000, email="a@b.c")
    store.add_pool(GIFTS)
    confirm(store, order("o1", redeem=300), "p1")
    exported = to_document(store)
    copy = SqliteStore(tmp_path / "copy.sqlite")
    done = import_document(copy, PROGRAM, json.loads(json.dumps(exported)), now=T0)
    assert (done.members, done.pools, done.orders) == (1, 1, 1)
    assert to_document(copy) == exported
    assert copy.issued(9) == store.issued(9) and len(store.issued(9)) == 1
    copy.close()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(st.tuples(st.integers(0, 700), st.sampled_from(["p1", "p2", None])),
                      min_size=1, max_size=6))  # fmt: skip
def test_every_store_answers_a_history_of_commits_as_the_memory_store_does(
    make: Factory, steps: list[tuple[int, str | None]]
) -> None:
    """Differential: the same commits through this store and a fresh memory store agree, answer
    by answer, and the books balance (Σ rows = balance ≥ 0). Every preorder is shown before
    any commit, so a later redemption the balance no longer covers is outdated."""
    store, reference = make(f"run{next(RUNS)}"), MemoryStore()
    for target in (store, reference):
        join(target, "p1", 1000)
        join(target, "p2", 300)
        target.add_pool(GIFTS)
    orders = [(order(f"o{i}", redeem=points if profile else 0), profile)
              for i, (points, profile) in enumerate(steps)]  # fmt: skip
    seen = [preorder(store, o, profile) for o, profile in orders]  # all shown before any commit
    for (the_order, profile), requested in zip(orders, seen, strict=True):
        answers = [confirm(target, the_order, profile, requested=requested)
                   for target in (store, reference)]  # fmt: skip
        assert answers[0] == answers[1]
        event(f"commit {answers[0]['status']}")
    for target in (store, reference):
        for profile in ("p1", "p2"):
            found = load(target, PROGRAM, profile)
            assert found is not None
            rows = list(found[0].account("bonus").journal)
            with localcontext(CONTEXT):
                assert sum(r.delta for r in rows) == balance(target, profile) >= 0
            assert found[0] == replayed_whole(target, profile)  # the resumed replays agree
        assert check(target, PROGRAM) == ()


def replayed_whole(store: Store, profile_id: str) -> le.Membership:
    """The member rebuilt from all their stored rows, with nothing remembered."""
    stored = store.member(profile_id)
    assert stored is not None
    return le.Membership.from_rows(
        PROGRAM,
        profile_id,
        stored.rows,
        registered_at=stored.registration.registered_at,
        removed_at=stored.registration.removed_at,
    )


def test_a_remembered_member_replays_only_the_rows_added_since(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store remembers the members it replayed: a read runs again only the rows written
    since the last (here the last commit's redemption), and the member is the one a whole
    replay gives."""
    join(store, "p1", 1000)
    for i in range(5):
        confirm(store, order(f"o{i}", redeem=10), "p1")  # a redemption each: rows 2..6
    runs: list[int] = []
    real = account_module._redo
    monkeypatch.setattr(
        account_module, "_redo", lambda account, rows, i: runs.append(i) or real(account, rows, i)
    )
    assert load(store, PROGRAM, "p1") is not None and runs == [5]  # row 6, by index
    runs.clear()
    assert load(store, PROGRAM, "p1") is not None and runs == []
    confirm(store, order("o5", redeem=10), "p1")  # its own read runs nothing
    assert runs == []
    found = load(store, PROGRAM, "p1")
    assert found is not None and runs == [6]
    assert found[0] == replayed_whole(store, "p1")
    assert len(found[0].account("bonus").journal) == 7


def test_a_row_rewritten_to_an_equal_value_is_the_remembered_row(tmp_path: Path) -> None:
    """Rows are compared by value, as the ledger does: 300 rewritten as 300.000 under a warm
    store is the same row, so the remembered one stays; a fresh store reads the new text. The
    member is the same either way."""
    path = tmp_path / "state.sqlite"
    store = SqliteStore(path)
    join(store, "p1", 1000)
    confirm(store, order("o1", redeem=300), "p1")
    assert load(store, PROGRAM, "p1") is not None  # remembered now
    edit_behind(store, tmp_path, amount="300.000")
    other = SqliteStore(path)
    warm, fresh = load(store, PROGRAM, "p1"), load(other, PROGRAM, "p1")
    assert warm is not None and fresh is not None
    assert [str(r.amount) for r in warm[0].account("bonus").journal] == ["1000", "300"]
    assert [str(r.amount) for r in fresh[0].account("bonus").journal] == ["1000", "300.000"]
    assert warm[0] == fresh[0]
    store.close()
    other.close()


def edit_behind(store: Store, tmp_path: Path, *, amount: str | None) -> None:
    """Change p1's row 2 (its amount; with ``None``, delete it) in the store's file or database,
    as another program would, behind the store's back."""
    if isinstance(store, JsonFileStore):
        path = tmp_path / "state.json"
        saved = json.loads(path.read_text())
        rows = saved["members"]["p1"]["transactions"]
        if amount is None:
            rows.pop(1)
        else:
            rows[1]["amount"] = amount
        path.write_text(json.dumps(saved))
        return
    import sqlite3

    with sqlite3.connect(tmp_path / "state.sqlite") as db:
        if amount is None:
            db.execute("DELETE FROM transactions WHERE transaction_id = 2")
        else:
            db.execute("UPDATE transactions SET amount = ? WHERE transaction_id = 2", (amount,))


def test_a_row_changed_under_a_warm_store_is_still_caught(make: Factory, tmp_path: Path) -> None:
    """What a store remembers is keyed by the rows' content: a row edited in the file or the
    database by someone else, after this store replayed the member, fails the next read."""
    store = make()
    join(store, "p1", 1000)
    confirm(store, order("o1", redeem=300), "p1")
    assert load(store, PROGRAM, "p1") is not None  # remembered now
    if isinstance(store, MemoryStore):
        pytest.skip("nothing to tamper with outside the process")
    edit_behind(store, tmp_path, amount="301")
    with pytest.raises(LedgerError, match="stored transaction 2 does not replay"):
        load(store, PROGRAM, "p1")
    (problem,) = check(store, PROGRAM)
    assert "stored transaction 2 does not replay" in problem


def edit_closed(make: Factory, tmp_path: Path, *, amount: str | None) -> None:
    """p1 with one committed order in a store then closed, and its row 2 changed behind it
    (``edit_behind``); the memory store has nothing outside the process to change."""
    store = make()
    join(store, "p1", 1000)
    confirm(store, order("o1", redeem=300), "p1")
    if isinstance(store, MemoryStore):
        pytest.skip("nothing to change outside the process")
    store.close()
    edit_behind(store, tmp_path, amount=amount)


def test_check_names_a_row_that_does_not_replay(make: Factory, tmp_path: Path) -> None:
    edit_closed(make, tmp_path, amount="301")
    (problem,) = check(make(), PROGRAM)
    assert "member 'p1'" in problem and "stored transaction 2 does not replay" in problem


def test_a_lost_trailing_row_is_found(make: Factory, tmp_path: Path) -> None:
    """Replaying cannot see a missing last row; the account's recorded version can."""
    edit_closed(make, tmp_path, amount=None)
    with pytest.raises(le.LoyaltyError, match="records version 2 but its rows end at 1"):
        load(make(), PROGRAM, "p1")


def test_a_removed_member_cannot_preorder_or_commit(store: Store) -> None:
    join(store, "p1", 100)
    found = load(store, PROGRAM, "p1")
    assert found is not None
    store.apply(le.remove(found[0], now=T0).effects)
    with pytest.raises(LedgerError, match="removed"):
        member_at(store, PROGRAM, Match("profile_id", "p1"), T0)
    assert balance(store, "p1") == 0


def test_an_import_is_one_transaction_all_or_nothing(store: Store) -> None:
    """Two new members claiming one email: neither is imported."""
    twins = {"members": [{"profile_id": "p1", "email": "same@example.com"},
                         {"profile_id": "p2", "email": "SAME@example.com"}]}  # fmt: skip
    with pytest.raises(ConflictError, match="two operations of one batch touch"):
        import_document(store, PROGRAM, twins, now=T0)
    assert list(store.profiles()) == []


def test_a_tier_is_imported_as_qualification_points(store: Store) -> None:
    program = le.program_from_dict(
        {
            "currencies": [{"eid": "bonus", "iid": 1}, {"eid": "qual", "iid": 2,
                                                         "qualifying": True}],
            "tier_groups": [{"id": 10, "currency": "qual", "tiers": [
                {"id": 1, "eid": "silver", "threshold": "100"},
                {"id": 2, "eid": "gold", "threshold": "500"}]}],
        }
    )  # fmt: skip
    document = {"members": [{"profile_id": "p1", "tiers": {"10": "gold"},
                             "balances": {"bonus": "7"}}]}  # fmt: skip
    import_document(store, program, document, now=T0)
    member = member_at(store, program, Match("profile_id", "p1"), T0)
    assert member is not None and member.tier == "gold"
    assert dict(member.balances)["qual"].total == 500
    assert dict(member.balances)["bonus"].total == 7


def test_register_and_remove_through_the_store(store: Store) -> None:
    """Registration is idempotent and grants the initial balance once; removal forfeits."""
    program = le.program_from_dict(
        {"currencies": [{"eid": "bonus", "iid": 1, "initial_balance": "50"}]}
    )
    profile = Profile(profile_id="p1", email="ann@example.com")
    register_member(store, program, profile, now=T0)
    register_member(store, program, profile, now=T0 + dt.timedelta(hours=1))
    member = member_at(store, program, Match("email", "ann@example.com"), T0)
    assert member is not None and dict(member.balances)["bonus"].total == 50
    gone = remove_member(store, program, "p1", now=T0 + dt.timedelta(hours=2))
    assert gone.removed_at == T0 + dt.timedelta(hours=2)
    remove_member(store, program, "p1", now=T0 + dt.timedelta(hours=3))  # twice: no change
    with pytest.raises(LedgerError, match="removed"):
        member_at(store, program, Match("profile_id", "p1"), T0 + dt.timedelta(hours=3))
    back = register_member(store, program, profile, now=T0 + dt.timedelta(hours=4))
    later = T0 + dt.timedelta(hours=5)
    assert back.removed_at is None and back.account("bonus").balance(later).total == 0  # once
    with pytest.raises(NotFoundError):
        remove_member(store, program, "nobody", now=T0)


def test_a_committed_order_replays_after_its_member_left(store: Store) -> None:
    join(store, "p1", 1000)
    first = confirm(store, order("o1", redeem=100), "p1")
    found = load(store, PROGRAM, "p1")
    assert found is not None
    requested = preorder(store, order("o1", redeem=100), "p1")
    store.apply(le.remove(found[0], now=T0).effects)
    again = commit_order(store, PROGRAM, order("o1", redeem=100), requested,
                         match=Match("profile_id", "p1"), now=T0,
                         render=render_commit_response)  # fmt: skip
    assert again.result is None and again.response["data"] == first


def test_a_code_entered_twice_is_used_once(store: Store) -> None:
    store.add_pool(ENTRY)
    twice = attrs.evolve(order("o1"), promo_codes=[le.PromoCode("E1", 7), le.PromoCode("E1", 7)])
    assert confirm(store, twice, None)["status"] == "success"
    assert store.pools()[0].used == {"E1"}


def test_duplicate_codes_in_a_pool_are_one_code(store: Store) -> None:
    store.add_pool(le.CodePool(pool_id=9, name="Gifts", codes=[le.PoolCode("W1")] * 3))
    assert [c.code for c in store.pools()[0].codes] == ["W1"]


def test_a_preorder_of_an_order_older_than_the_last_commit_is_calculated(store: Store) -> None:
    """The member's balances are read as of their last operation when that is later."""
    join(store, "p1", 1000)
    confirm(store, order("o1", redeem=100), "p1", now=T0 + dt.timedelta(days=2))
    member = member_at(store, PROGRAM, Match("profile_id", "p1"), T0)
    assert member is not None and dict(member.balances)["bonus"].total == 900


def test_a_state_import_is_all_or_nothing_and_can_run_again(store: Store, tmp_path: Path) -> None:
    join(store, "p1", 1000)
    store.add_pool(GIFTS)
    confirm(store, order("o1", redeem=300), "p1")
    exported = to_document(store)
    copy = SqliteStore(tmp_path / "copy.sqlite")
    import_document(copy, PROGRAM, exported, now=T0)
    again = import_document(copy, PROGRAM, exported, now=T0)  # nothing new: changes nothing
    assert (again.members, again.orders, again.skipped) == (0, 0, ("p1",))
    assert to_document(copy) == exported
    other = SqliteStore(tmp_path / "other.sqlite")
    other.add_pool(attrs.evolve(GIFTS, name="Other"))
    with pytest.raises(ConflictError, match="pool 9 is 'Other'"):
        import_document(other, PROGRAM, exported, now=T0)
    assert list(other.profiles()) == [] and list(other.orders()) == []
    copy.close()
    other.close()


def test_a_negative_opening_balance_is_refused(store: Store) -> None:
    with pytest.raises(le.ValidationError, match="must not be negative"):
        join(store, "p1", -5)


def test_transactions_are_found_by_api_id_and_by_eid(make: Factory) -> None:
    """The API names a transaction by its uuid (or its eid) alone; every store finds it, also
    after it is reopened and after more rows were written."""
    store = make()
    join(store, "p1", 1000)
    join(store, "p2", 500)
    found = load(store, PROGRAM, "p1")
    assert found is not None
    first = found[0].account("bonus").journal.get(1)
    assert first is not None
    key = TransactionKey("p1", "bonus", 1)
    assert store.find_transactions(uuid=first.uuid) == (key,)
    posting = found[0].account("bonus").redeem(Decimal(5), now=T0, eid="shared")
    store.apply(Effects.between(found[0], found[0].with_account(posting.account)))
    other = load(store, PROGRAM, "p2")
    assert other is not None
    posting = other[0].account("bonus").redeem(Decimal(5), now=T0, eid="shared")
    store.apply(Effects.between(other[0], other[0].with_account(posting.account)))
    again = make()
    for view in (store, again):
        assert view.find_transactions(eid="shared") == (
            TransactionKey("p1", "bonus", 2),
            TransactionKey("p2", "bonus", 2),
        )
        assert view.find_transactions(uuid=posting.transaction.uuid) == (
            TransactionKey("p2", "bonus", 2),
        )
        assert view.find_transactions(uuid="no-such-id") == ()
