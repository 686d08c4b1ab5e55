"""Fuzz the Python API: every public constructor and function, one argument at a time.

The promise under test (docs/errors.md): bad input raises one typed error; everything the
library raises on purpose is a ``LoyaltyError``. So each call, starting from a valid one with one
argument replaced by a hostile value, must either succeed — and then what a caller does next
with the result (calculate, render, commit, replay) must keep the promise too — or raise a
``LoyaltyError``. Anything else (``TypeError``, ``RecursionError``, ``OverflowError``,
``decimal.InvalidOperation``, a bare ``ValueError``) is a hole. The plain-dict readers get the
document walk of the CLI fuzz, with Python values: the state document (``read_document``, and
the ``JsonFileStore`` over it as a file), a transaction row (``Transaction.from_row``) and the
requests; a store read from a hostile document is then committed to and replayed through the
service loop. Last, the caller's ``decimal`` context must change nothing: the same calculation,
commit (through the JSON store) and ledger operations under a hostile context give the same
answers. ``LOYALTY_FUZZ=deep`` runs every case; the default is a deterministic sample.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import itertools
import json
import random
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hostile import (
    DEEP,
    EXAMPLES,
    SEED,
    TIME_LIMIT,
    Report,
    bounded,
    describe,
    mutate,
    paths,
    shard,
)

import loyalty_engine as le
from loyalty_engine import conditions as c
from loyalty_engine.altcraft.commit import parse_commit_request, render_commit_response
from loyalty_engine.altcraft.preorder import parse_preorder_request, render_preorder_response
from loyalty_engine.altcraft.wire import read_json_file
from loyalty_engine.documents import load_member, member_from_dict
from loyalty_engine.errors import ConflictError, LoyaltyError, render_path
from loyalty_engine.store import (
    JsonFileStore,
    Match,
    MemoryStore,
    Store,
    commit_order,
    load,
    locate,
    member_at,
    read_document,
    to_document,
)
from loyalty_engine.store.tables import Tables

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
T0 = dt.datetime(2026, 2, 18, 13, 1, 6, tzinfo=dt.UTC)
UTC_MINUS_12 = dt.timezone(dt.timedelta(hours=-12))


def _nested_list(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth):
        value = [value]
    return value


def _nested_dict(depth: int) -> dict[str, object]:
    value: dict[str, object] = {}
    for _ in range(depth):
        value = {"b": value}
    return value


HOSTILE: tuple[tuple[str, object], ...] = (
    ("None", None),
    ("True", True),
    ("0", 0),
    ("-1", -1),
    ("10**5000", 10**5000),
    ("2**63", 2**63),
    ("1.5", 1.5),
    ("float('nan')", float("nan")),
    ("float('inf')", float("inf")),
    ("Decimal('NaN')", Decimal("NaN")),
    ("Decimal('sNaN')", Decimal("sNaN")),
    ("Decimal('Infinity')", Decimal("Infinity")),
    ("Decimal('1E+999999')", Decimal("1E+999999")),
    ("Decimal('-0')", Decimal("-0")),
    ("Decimal('1E-999999')", Decimal("1E-999999")),
    ("Decimal('0.0000001')", Decimal("0.0000001")),
    ("''", ""),
    ("'\\n'", "\n"),
    ("'x' * 100000", "x" * 100_000),
    ("'\\x1b[31m'", "\x1b[31m"),
    ("'\\ud800'", "\ud800"),
    ("naive datetime", dt.datetime(2026, 1, 1)),
    ("datetime.max UTC", dt.datetime.max.replace(tzinfo=dt.UTC)),
    ("datetime.min UTC", dt.datetime.min.replace(tzinfo=dt.UTC)),
    ("datetime.max -12:00", dt.datetime.max.replace(tzinfo=UTC_MINUS_12)),
    ("ISO string", "2026-01-01T00:00:00+00:00"),
    ("date", dt.date(2026, 1, 1)),
    ("[]", []),
    ("{}", {}),
    ("list nested 2000 deep", _nested_list(2000)),
    ("dict nested 2000 deep", _nested_dict(2000)),
    ('{"b": 5}', {"b": 5}),
    ("object()", object()),
)


# --- fixtures: valid values built from the examples -----------------------------------------


def _read(example: str, name: str) -> object:
    return read_json_file(EXAMPLES / example / name)


P3 = le.load_program(EXAMPLES / "seed_003" / "program.toml")
P4 = le.load_program(EXAMPLES / "seed_004" / "program.toml")
SHOW = le.load_program(EXAMPLES / "showcase" / "program.toml")
ORDER3 = parse_preorder_request(_read("seed_003", "request.json")).order
SHOW_ORDER = parse_preorder_request(_read("showcase", "request.json")).order
MEMBER3 = load_member(EXAMPLES / "seed_003" / "member.json")
SHOW_MEMBER = load_member(EXAMPLES / "showcase" / "member.json")
COMMIT4 = parse_commit_request(_read("seed_004", "request.json"))
assert COMMIT4.match is not None
MATCH4 = COMMIT4.match
STATE4_PATH = EXAMPLES / "seed_004" / "state.json"
STATE4 = _read("seed_004", "state.json")  # 0.1's state file: no schema
assert isinstance(STATE4, dict)


def store4(pools: Sequence[le.CodePool] | None = None) -> MemoryStore:
    """A fresh store holding seed 004's state; with ``pools`` in place of its own, if given."""
    if pools is None:
        return MemoryStore.over(read_document(STATE4))
    store = MemoryStore.over(read_document({**STATE4, "pools": []}))
    for pool in pools:
        store.add_pool(pool)
    return store


MEMBERSHIP4 = locate(store4(), P4, MATCH4)[0]
POOLS4 = store4().pools()
BONUS = P3.currencies[0]
FINE = le.PointsCurrency(eid="fine", precision=6, lifetime_days=30)
RUB = le.Money.parse("1500.00", "RUB")
LINE = ORDER3.lines[0]
QUAL = le.program_from_dict(
    {
        "currencies": [{"eid": "bonus1", "iid": 1}, {"eid": "qual", "qualifying": True}],
        "tier_groups": [{"id": 10, "currency": "qual", "tiers": [
            {"id": 13, "eid": "silver", "threshold": "100"},
            {"id": 14, "eid": "gold", "threshold": "1000"}]}],
        "trigger_promotions": [{"id": 5, "external_id": "app", "accrual_rules": [
            {"currency": "qual", "static_amount": "150", "max_amount": "500"}],
            "redeem_rules": [{"currency": "qual", "static_amount": "10"}]}],
    }
)  # fmt: skip
QUAL_MEMBERSHIP = le.register(QUAL, "p-q", now=T0).membership


def _account() -> le.Account:
    """An account with an accrual (id 1) and an open held redemption (id 2)."""
    account = le.Account.open("p1", FINE).accrue(Decimal("100.123456"), now=T0).account
    return account.redeem(Decimal("10.5"), now=T0, temp_timeout_sec=600).account


ACCOUNT = _account()
COMMITTED = le.commit(
    P4, COMMIT4.order, COMMIT4.requested, membership=MEMBERSHIP4, now=T0, pools=POOLS4
)
assert COMMITTED.status is le.CommitStatus.SUCCESS
AFTER = COMMITTED.membership
assert AFTER is not None


def _schema_1() -> dict[str, object]:
    """The current state document: a member with identities, segments and tags, account
    versions, an order committed (``order_0``, a copy of seed 004's), a code handed out."""
    store = store4()
    first = attrs.evolve(COMMIT4.order, external_id="order_0")
    done = commit_order(store, P4, first, COMMIT4.requested, match=MATCH4, now=T0,
                        render=render_commit_response)  # fmt: skip
    assert done.result is not None and done.result.status is le.CommitStatus.SUCCESS
    document = to_document(store)
    members = document["members"]
    assert isinstance(members, dict)
    members[MEMBERSHIP4.profile_id].update(
        email="a@example.com", phone="+7 900 123-45-67", fields={"card": "12345"},
        segments=["b2c"], tags=["vip"],
    )  # fmt: skip
    read_document(document)  # still a valid document
    return document


SCHEMA_1 = _schema_1()


# --- what a caller does with a result -----------------------------------------------------------


def use_result(result: le.CalculatedOrder, profile: str | None = None) -> None:
    json.dumps(render_preorder_response(result, profile_id=profile), ensure_ascii=False)
    [(t.external_id, t.reason, t.detail) for t in result.trace]
    le.Requested.of(result)


def use_order(order: le.Order) -> None:
    for program, member in ((P3, MEMBER3), (SHOW, SHOW_MEMBER), (P4, None)):
        use_result(le.calculate(program, order, member, now=NOW))


def use_line(line: le.Line) -> None:
    use_order(le.Order(external_id="o", currency=line.base_price_per_item.currency, lines=[line]))


def use_money(money: le.Money) -> None:
    str(money), money.minor, money < money
    use_line(le.Line(external_id="l", product="p", count=1, base_price_per_item=money))


def use_member(member: le.Member) -> None:
    use_result(le.calculate(P3, ORDER3, member, now=NOW))
    use_result(le.calculate(SHOW, SHOW_ORDER, member, now=NOW))


def use_program(program: le.Program) -> None:
    for order, member in ((ORDER3, MEMBER3), (SHOW_ORDER, SHOW_MEMBER)):
        use_result(le.calculate(program, order, member, now=NOW))
    again = le.program_from_dict(le.program_to_dict(program))
    if again != program:
        raise AssertionError("program_from_dict(program_to_dict(program)) is another program")
    membership = le.register(program, "p-new", now=T0).membership
    membership.member(program, now=NOW), membership.tiers(program)
    le.list_triggers(program, limit=100)
    for trigger in program.trigger_promotions:
        for side in ("accrual", "redeem"):
            with contextlib.suppress(LoyaltyError):  # refusing is fine; a crash is not
                le.apply_trigger(program, membership, trigger.id, side=side, now=NOW)  # type: ignore[arg-type]


def _program_with(**parts: Any) -> le.Program:
    fields: dict[str, Any] = {"currencies": P3.currencies, "catalog": SHOW.catalog}
    return le.Program(**{**fields, **parts})


def use_promotion(promotion: le.Promotion) -> None:
    use_program(_program_with(promotions=[promotion]))


def use_benefit(benefit: object) -> None:
    use_promotion(le.Promotion(external_id="b", benefit=benefit))  # type: ignore[arg-type]


def use_condition(condition: object) -> None:
    line_level = c.is_line_filter(condition)  # type: ignore[arg-type]
    use_promotion(
        le.Promotion(
            external_id="c",
            benefit=le.PercentOff(Decimal(10)),
            conditions=[condition],  # type: ignore[list-item]
            applies_to=condition if line_level else None,  # type: ignore[arg-type]
        )
    )


def use_currency(currency: le.PointsCurrency) -> None:
    promotions = [
        le.Promotion(
            external_id="a", benefit=le.AccruePercent(currency=currency.eid, percent=Decimal(5))
        ),
        le.Promotion(external_id="r", benefit=le.Redeem(currency=currency.eid)),
    ]
    program = le.Program(currencies=[currency], promotions=promotions)
    order = attrs.evolve(
        ORDER3, redeem=[le.RedeemRequest(le.PointsRef(eid=currency.eid), Decimal(10))]
    )
    member = le.Member(
        profile_id="p", balances={currency.eid: le.Balance(Decimal(100), Decimal(100))}
    )
    use_result(le.calculate(program, order, member, now=NOW))
    use_program(program)
    account = le.register(program, "p", now=T0).membership.account(currency.eid)
    use_posting(account.accrue(Decimal(10), now=T0))


def use_commit(result: le.CommitResult, pools: Sequence[le.CodePool] = POOLS4) -> None:
    """Render the result; a commit made now is stored (in seed 004's state with the ``pools``
    it was given), written out as a document, read back, and every member replayed."""
    response = render_commit_response(result)
    json.dumps(response, ensure_ascii=False)
    if result.processing_target is not le.Target.IMMEDIATE:
        return
    store = store4(pools)
    store.apply(result.effects.with_response(response))
    again = reread(store)
    if result.membership is not None:
        membership, _ = load(again, P4, result.membership.profile_id) or (None, None)
        if membership is None or [a.balance(NOW) for a in membership.accounts] != [
            a.balance(NOW) for a in result.membership.accounts
        ]:
            raise AssertionError("the stored member replays to other balances")
    record, committed = again.order(result.external_id), result.effects.order
    if record is None or committed is None or (record.profile_id, record.fingerprint) != (
        committed.profile_id, committed.fingerprint
    ) or record.response != json.loads(json.dumps(response)):  # fmt: skip
        raise AssertionError("the committed order is not stored as committed")


def reread(store: Store) -> MemoryStore:
    """``store`` written out as a state document (JSON text) and read back; every member
    replays, or a LoyaltyError says why not."""
    text = json.dumps(to_document(store), ensure_ascii=False)
    again = MemoryStore.over(read_document(json.loads(text)))
    if to_document(again) != json.loads(text):
        raise AssertionError("the state document does not read back as it was written")
    for profile_id in again.profiles():
        load(again, P4, profile_id)
    return again


def _commit_with(**kwargs: Any) -> None:
    """Commit seed 004 with some arguments replaced, then use the result."""
    args: dict[str, Any] = {
        "program": P4, "order": COMMIT4.order, "requested": COMMIT4.requested,
        "membership": MEMBERSHIP4, "now": T0, "pools": POOLS4,
    }  # fmt: skip
    args.update(kwargs)
    use_commit(le.commit(**args), args["pools"])


def _commit_with_requested(**parts: Any) -> None:
    _commit_with(requested=attrs.evolve(COMMIT4.requested, **parts))


def use_posting(posting: le.Posting) -> None:
    account = posting.account
    account.balance(NOW), account.held(NOW), account.history(limit=100)
    rows = list(account.journal)
    for row in rows:
        use_row(row)
    again = le.Account.replay(account.profile_id, account.currency, rows)
    assert again.balance(NOW) == account.balance(NOW), "replay gives another balance"


def use_row(row: le.Transaction) -> None:
    """A row is written as JSON scalars and read back as itself."""
    data = json.loads(json.dumps(row.to_row(), ensure_ascii=False))
    if le.Transaction.from_row(data) != row:
        raise AssertionError("Transaction.from_row(row.to_row()) is another row")


def use_change(change: Any) -> None:
    membership = change.membership
    membership.member(QUAL, now=NOW), membership.tiers(QUAL)
    for account in membership.accounts:
        account.balance(NOW)
    for write in change.effects.accounts:  # the rows to store are the journal past its version
        if tuple(membership.account(write.currency).journal)[write.version :] != write.rows:
            raise AssertionError(f"effects for {write.currency} are not the journal's new rows")


def use_store(store: Store) -> None:
    """What a service does with a store: read every member, commit seed 004's order, replay
    it; another member under its external_id is refused."""
    reread(store)
    store.pools(), list(store.orders())
    args: dict[str, Any] = dict(program=P4, order=COMMIT4.order, requested=COMMIT4.requested,
                                now=T0, render=render_commit_response)  # fmt: skip
    done = commit_order(store, match=MATCH4, **args)
    json.dumps(done.response, ensure_ascii=False)
    if done.result is not None and done.result.status is not le.CommitStatus.SUCCESS:
        return  # outdated: nothing was stored
    again = commit_order(store, match=MATCH4, **args)
    if again.result is not None or again.response != done.response:
        raise AssertionError("a committed order does not replay its stored response")
    try:
        commit_order(store, match=None, **args)
    except ConflictError:
        pass
    else:
        raise AssertionError("a guest replaying a member's order was not refused")
    reread(store)


def use_tables(tables: Tables) -> None:
    use_store(MemoryStore.over(tables))


def use_json_store(store: JsonFileStore) -> None:
    """Reads only: the path may be anything, and the examples are never written."""
    reread(store)
    profile_id = store.find(MATCH4)
    found = load(store, P4, profile_id) if profile_id is not None else None
    le.commit(P4, COMMIT4.order, COMMIT4.requested, now=T0, pools=store.pools(),
              membership=found[0] if found else None)  # fmt: skip


_SCRATCH = tempfile.TemporaryDirectory(prefix="loyalty-api-fuzz-")
_FILES = itertools.count()


def state_file(document: object) -> JsonFileStore | None:
    """``document`` as the state file of a fresh directory (``None``: JSON cannot hold it, as
    ``object()``), and the JSON store over it."""
    try:
        text = json.dumps(document, default=str)  # a Decimal or datetime as its text
    except (ValueError, RecursionError):
        return None
    folder = Path(_SCRATCH.name) / str(next(_FILES))
    folder.mkdir()
    (folder / "state.json").write_text(text, encoding="utf-8")
    return JsonFileStore(folder / "state.json")


# --- the targets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A public callable, a valid call (by keyword), and what a caller does with the result."""

    name: str
    call: Callable[..., object]
    args: dict[str, object]
    use: Callable[[Any], object] | None = None


def _positional(function: Callable[..., object], *names: str) -> Callable[..., object]:
    """Call ``function`` with the named arguments in order (for positional-only parameters)."""
    return lambda **kw: function(*(kw[n] for n in names))


def t(label: str, call: Callable[..., object], use: Callable[[Any], object] | None = None, /,
      **args: object) -> Target:  # fmt: skip
    """A target; positional-only, so that ``name=``, ``call=`` are arguments of the call."""
    return Target(label, call, args, use)


def _with_group(g: le.Group) -> None:
    promotion = le.Promotion(external_id="x", group=g.id, benefit=le.PercentOff(Decimal(5)))
    use_program(_program_with(groups=[g], promotions=[promotion]))


def _with_rule(rule: le.TriggerRule) -> None:
    trigger = le.TriggerPromotion(id=1, external_id="t", accrual_rules=[rule], redeem_rules=[rule])
    use_program(attrs.evolve(QUAL, trigger_promotions=[trigger]))


def _with_tier(tier: le.Tier) -> None:
    use_program(attrs.evolve(QUAL, tier_groups=[le.TierGroup(id=1, currency="qual", tiers=[tier])]))


def targets() -> list[Target]:
    """Every public constructor and function, each with a valid call that sets every argument."""
    d, rub, day = Decimal, le.Money.parse, dt.timedelta(days=1)
    site, requested = c.Endpoint(["site"]), COMMIT4.requested
    # fmt: off
    return [
        # values
        t("Money", le.Money, use_money, amount=d("10.00"), currency="RUB"),
        t("Money.parse", le.Money.parse, use_money, value="10.00", currency="RUB", path=("a",)),
        t("Money.of_minor", le.Money.of_minor, use_money, minor=1000, currency="RUB"),
        t("Money.zero", le.Money.zero, use_money, currency="RUB"),
        t("allocate", le.allocate, None, total=10, weights=[1, 2], remainder="last", ties=[0, 1]),
        t("Fields", _positional(le.Fields, "items"),
          lambda f: use_line(attrs.evolve(LINE, custom_fields=f)), items={"a": "b", "n": 1}),
        t("Line", le.Line, use_line, external_id="l1", count=2, base_price_per_item=RUB,
          min_price_per_item=rub("1.00", "RUB"), product="sneakers", sku="SOCK-W",
          categories=["toys"], custom_fields={"channel": "b2b"}, line_number=1, status="new"),
        t("Order", le.Order, use_order, external_id="o1", currency="RUB", lines=[LINE],
          endpoint="site", status="new", region="moscow", create_time=T0,
          promo_codes=[le.PromoCode("SPRING", 7)],
          redeem=[le.RedeemRequest(le.PointsRef(1, "bonus1"), d(10))], tags=["vip"],
          custom_fields={"channel": "web"}, delivery_cost=rub("300.00", "RUB")),
        t("Member", le.Member, use_member, profile_id="p",
          balances={"bonus1": le.Balance(d(100), d(100))}, tier="gold", segments=["b2c"],
          tags=["vip"]),
        t("Balance", le.Balance, lambda b: use_member(le.Member(profile_id="p",
          balances={"bonus1": b})), active=d(100), total=d(120)),
        t("PointsCurrency", le.PointsCurrency, use_currency, eid="bonus1", iid=1, name="B",
          precision=2, redeem_rate=d("0.5"), lifetime_days=30, initial_balance=d(10),
          qualifying=False, money_ratio=d("0.1")),
        t("PointsRef", le.PointsRef, lambda r: use_order(attrs.evolve(ORDER3,
          redeem=[le.RedeemRequest(r, d(10))])), iid=1, eid="bonus1"),
        t("PromoCode", le.PromoCode, lambda p: use_order(attrs.evolve(SHOW_ORDER,
          promo_codes=[p])), code="SPRING", pool_id=7),
        t("RedeemRequest", le.RedeemRequest, lambda r: use_order(attrs.evolve(ORDER3,
          redeem=[r])), currency=le.PointsRef(eid="bonus1"), amount=d(10)),
        # program parts
        t("Settings", le.Settings, lambda s: use_program(attrs.evolve(SHOW, settings=s)),
          rounding=le.Rounding.HALF_EVEN, choice="best_for_customer", scope="line",
          compounding="on_base", max_discount_percent=d(30), delivery_discountable=True,
          indivisible="breakdown", accrual_base="paid", remainder="first",
          percent_rounding="order"),
        t("Catalog", le.Catalog, lambda cat: use_program(attrs.evolve(SHOW, catalog=cat)),
          products={"sneakers": ["shoes"]}, skus={"SOCK-W": ["socks"]}),
        t("Group", le.Group, _with_group, id="g", choice="priority", scope="line",
          compounding="on_base", priority=3, parent=None),
        t("Promotion", le.Promotion, use_promotion, external_id="p", name="P",
          benefit=le.PercentOff(d(10)), conditions=[site], applies_to=c.Category(["shoes"]),
          priority=2, exclusive=True, stop_after=True, group=None, max_amount=d(50),
          start=T0 - day, end=NOW + day, is_active=True),
        t("PercentOff", le.PercentOff, use_benefit, percent=d(10)),
        t("AmountOffItem", le.AmountOffItem, use_benefit, amount=d(10)),
        t("AmountOffOrder", le.AmountOffOrder, use_benefit, amount=d(10)),
        t("FixedPrice", le.FixedPrice, use_benefit, price=d(10)),
        t("BuyXGetY", le.BuyXGetY, use_benefit, buy=2, get=1, percent=d(100), select="cheapest",
          repeat=True),
        t("Step", le.Step, lambda s: use_benefit(le.TieredPercent([s])), min_total=d(100),
          percent=d(5)),
        t("TieredPercent", le.TieredPercent, use_benefit, steps=[le.Step(d(100), d(5))],
          basis="current"),
        t("AccruePercent", le.AccruePercent, use_benefit, currency="bonus1", percent=d(5),
          base="paid", tier_multipliers={"gold": d(2)}),
        t("AccruePerSpend", le.AccruePerSpend, use_benefit, currency="bonus1", points=d(10),
          per=d(1000), base="base", tier_multipliers={"gold": d(2)}),
        t("AccrueFixed", le.AccrueFixed, use_benefit, currency="bonus1", points=d(100),
          tier_multipliers={"gold": d(2)}),
        t("Redeem", le.Redeem, use_benefit, currency="bonus1", max_percent=d(50)),
        t("IssueCodes", le.IssueCodes, use_benefit, pool_id=100, pool_name="W", count=2),
        t("Message", le.Message, use_benefit, template="got {accrued}, {{x}}", currency="bonus1"),
        t("Tier", le.Tier, _with_tier, id=1, eid="silver", name="S", threshold=d(100)),
        t("TierGroup", le.TierGroup, lambda g: use_program(attrs.evolve(QUAL, tier_groups=[g])),
          id=1, name="t", type="cumulative", currency="qual",
          tiers=list(QUAL.tier_groups[0].tiers)),
        t("TriggerRule", le.TriggerRule, _with_rule, currency="qual", static_amount=d(150),
          min_amount=d(1), max_amount=d(500)),
        t("TriggerPromotion", le.TriggerPromotion,
          lambda tp: use_program(attrs.evolve(QUAL, trigger_promotions=[tp])), id=7,
          external_id="t", name="T", description="d", start_date=T0, end_date=NOW + day,
          is_active=True, accrual_rules=list(QUAL.trigger_promotions[0].accrual_rules),
          redeem_rules=[]),
        t("Program", le.Program, use_program, settings=SHOW.settings, currencies=SHOW.currencies,
          catalog=SHOW.catalog, groups=SHOW.groups, promotions=SHOW.promotions,
          tier_groups=(), trigger_promotions=()),
        # conditions
        *(t(f"conditions.{kind.__name__}", kind, use_condition, values=["x"])
          for kind in (c.Endpoint, c.Region, c.OrderTag, c.MemberTier, c.MemberSegment,
                       c.MemberTag, c.Product, c.Sku, c.Category)),
        t("conditions.PromoCodeEntered", c.PromoCodeEntered, use_condition, codes=["SPRING"],
          pool_id=7),
        t("conditions.LineCount", c.LineCount, use_condition, min=1, max=5),
        t("conditions.ItemCount", c.ItemCount, use_condition, min=1, max=5),
        t("conditions.OrderTotal", c.OrderTotal, use_condition, min=d(100), max=d(100000),
          basis="current"),
        t("conditions.Dates", c.Dates, use_condition, start=T0, end=NOW + day),
        t("conditions.Weekday", c.Weekday, use_condition, days=[1, 6]),
        t("conditions.Hour", c.Hour, use_condition, start=22, end=6),
        t("conditions.CustomField", c.CustomField, use_condition, field="channel",
          values=["b2b"], scope="line"),
        t("conditions.All", c.All, use_condition, of=[site]),
        t("conditions.AnyOf", c.AnyOf, use_condition, of=[site]),
        t("conditions.Not", c.Not, use_condition, of=site),
        # pools, commit, reversal
        t("PoolCode", le.PoolCode, lambda p: _commit_with(pools=[le.CodePool(pool_id=100,
          name="W", codes=[p])]), code="W-1", expires_at=NOW),
        t("CodePool", le.CodePool, lambda p: _commit_with(pools=[p]), pool_id=100, name="W",
          reuse="single", codes=[le.PoolCode("W-1")], used=["HYDO-4728-DZGU"]),
        t("RequestedPromotion", le.RequestedPromotion,
          lambda r: _commit_with_requested(promotions=[r]), type="discount",
          external_id="promo_1", amount=rub("150.00", "RUB"), points=d(75),
          currency=le.PointsRef(1, "bonus1")),
        t("RequestedLine", le.RequestedLine,
          lambda r: _commit_with_requested(lines=[r, *requested.lines[1:]]),
          external_id="line_1", final_price_per_item=rub("1350.00", "RUB"),
          promotions=list(requested.lines[0].promotions)),
        t("Requested", le.Requested, lambda r: _commit_with(requested=r),
          lines=list(requested.lines), promotions=list(requested.promotions),
          final_total_price=requested.final_total_price),
        t("Requested.of", le.Requested.of, None,
          result=le.calculate(P3, ORDER3, MEMBER3, now=NOW)),
        t("calculate", le.calculate, use_result, program=SHOW, order=SHOW_ORDER,
          member=SHOW_MEMBER, now=NOW, pickers={}),
        t("commit", le.commit, use_commit, program=P4, order=COMMIT4.order, requested=requested,
          membership=MEMBERSHIP4, now=T0, pools=POOLS4, committed={}, segments=["b2c"],
          tags=["vip"], pickers={}),
        t("reverse", le.reverse, use_change, committed=COMMITTED, membership=AFTER, now=NOW,
          lines={"line_2": 1}, refunded={"line_2": 0}, policy="allow_negative", eid="r1"),
        # accounts
        t("Account.open", le.Account.open, lambda a: use_posting(a.accrue(d(1), now=NOW)),
          profile_id="p1", currency=FINE),
        t("Account.replay", le.Account.replay, lambda a: use_posting(a.accrue(d(1), now=NOW)),
          profile_id="p1", currency=FINE, rows=list(ACCOUNT.journal)),
        t("Account.accrue", ACCOUNT.accrue, use_posting, amount=d("1.5"), now=NOW,
          activation=NOW, expiration=NOW + 9 * day, temp_timeout_sec=60, eid="e",
          promotion="p", description="d", source_type="api", source_id="s"),
        t("Account.redeem", ACCOUNT.redeem, use_posting, amount=d("1.5"), now=NOW,
          temp_timeout_sec=60, eid="e", promotion="p", description="d", source_type="api",
          source_id="s"),
        t("Account.commit_hold", ACCOUNT.commit_hold, use_posting, ref=2, now=T0, eid="e"),
        t("Account.rollback_hold", ACCOUNT.rollback_hold, use_posting, ref=2, now=T0, eid="e"),
        t("Account.cancel", ACCOUNT.cancel, use_posting, ref=1, now=T0, amount=d("0.000001"),
          policy="allow_negative", eid="e", description="d"),
        t("Account.forfeit", ACCOUNT.forfeit, use_posting, now=NOW, description="d"),
        t("Account.settle", ACCOUNT.settle, None, now=NOW),
        t("Account.balance", ACCOUNT.balance, None, now=NOW),
        t("Account.held", ACCOUNT.held, None, now=T0),
        t("Account.expiring", ACCOUNT.expiring, None, start=T0, end=NOW + 30 * day, now=T0),
        t("Account.history", ACCOUNT.history, None, from_id=0, limit=10),
        t("Account.transaction", ACCOUNT.transaction, None, ref=1),
        t("Account.outstanding", ACCOUNT.outstanding, None, ref=1, now=T0),
        # members and triggers
        t("register", le.register, use_change, program=QUAL, profile_id="p-q", now=T0,
          registration_date=T0, existing=QUAL_MEMBERSHIP),
        t("remove", le.remove, use_change, membership=QUAL_MEMBERSHIP, now=NOW, policy="keep"),
        t("apply_trigger", le.apply_trigger, use_change, program=QUAL,
          membership=QUAL_MEMBERSHIP, promotion="app", side="accrual", now=NOW, amount=d(200),
          currency=le.PointsRef(eid="qual"), eid="t1", temp_timeout_sec=None, description="d"),
        t("list_triggers", le.list_triggers, None, program=QUAL, from_id=0, limit=10,
          is_active=True),
        t("Membership.account", MEMBERSHIP4.account, None, currency="bonus1"),
        t("Membership.member", MEMBERSHIP4.member, use_member, program=P4, now=NOW,
          segments=["b2c"], tags=["vip"]),
        t("Membership.tiers", QUAL_MEMBERSHIP.tiers, None, program=QUAL),
        t("Membership.with_account", MEMBERSHIP4.with_account, None,
          account=MEMBERSHIP4.accounts[0]),
        # documents
        t("program_from_dict", le.program_from_dict, use_program, data=le.program_to_dict(SHOW),
          choices=["mine"]),
        t("program_to_dict", le.program_to_dict, None, program=SHOW),
        t("load_program", le.load_program, use_program,
          path=EXAMPLES / "showcase" / "program.toml", choices=()),
        t("member_from_dict", member_from_dict, use_member, data=_read("showcase", "member.json")),
        t("load_member", load_member, use_member, path=EXAMPLES / "showcase" / "member.json"),
        t("parse_preorder_request", parse_preorder_request, lambda r: use_order(r.order),
          data=_read("showcase", "request.json")),
        t("parse_commit_request", parse_commit_request,
          lambda r: _commit_with(order=r.order, requested=r.requested),
          data=_read("seed_004", "request.json")),
        t("render_preorder_response", render_preorder_response, None,
          result=le.calculate(P3, ORDER3, MEMBER3, now=NOW), profile_id="p"),
        # the store
        t("read_document", read_document, use_tables, data=SCHEMA_1),
        t("JsonFileStore", JsonFileStore, use_json_store, path=STATE4_PATH),
        t("Transaction.from_row", le.Transaction.from_row, use_row,
          data=list(ACCOUNT.journal)[1].to_row(), path=("rows", 1)),
        t("Match", Match, lambda m: member_at(store4(), P4, m, NOW), method="profile_id",
          value=MEMBERSHIP4.profile_id, field_name=None),
        t("read_json_file", read_json_file, None, path=EXAMPLES / "seed_003" / "request.json"),
    ]
    # fmt: on


# --- running a case -----------------------------------------------------------------------------


def attempt(
    report: Report, case: str, call: Callable[[], object], use: Callable[[Any], object] | None
) -> None:
    """One call: success (then ``use`` of its result) or a LoyaltyError; bounded in time."""
    start = time.perf_counter()
    stage = "call"
    try:
        with bounded():
            result = call()
            stage = "use"
            if use is not None:
                use(result)
    except LoyaltyError as error:
        try:
            str(error)
        except Exception as inner:  # the message itself must be buildable
            report.fail(
                case, f"{stage}: {type(error).__name__} whose str() raises {describe(inner)}"
            )
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # TypeError, RecursionError, timeouts: every one a finding
        report.fail(case, f"{stage}: {describe(error)}")
    seconds = time.perf_counter() - start
    if seconds > TIME_LIMIT:
        report.fail(case, f"{stage}: took {seconds:.1f} s")


def _sampled(items: list[Any], salt: str, keep: int) -> list[Any]:
    if DEEP:
        return shard(items)
    if len(items) <= keep:
        return items
    return random.Random(f"{SEED}:{salt}").sample(items, keep)


TARGETS = targets()


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_every_argument_of_every_public_callable(target: Target) -> None:
    """Each argument in turn gets each hostile value: success or a LoyaltyError, nothing else."""
    ok = Report(f"{target.name} (valid call)")
    attempt(ok, "valid call", lambda: target.call(**target.args), target.use)
    assert not ok.failures, ok.summary()
    report = Report(f"API fuzz {target.name}")
    cases = [(name, label, value) for name in target.args for label, value in HOSTILE]
    for name, label, value in _sampled(cases, target.name, keep=len(HOSTILE)):
        report.cases += 1
        args = {**target.args, name: value}
        attempt(
            report,
            f"{target.name}({name}={label})",
            lambda args=args: target.call(**args),
            target.use,
        )  # type: ignore[misc]
    report.check()


# --- the plain-dict readers, walked like the CLI's documents -------------------------------------


def _toml(example: str) -> dict[str, object]:
    return tomllib.loads((EXAMPLES / example / "program.toml").read_text("utf-8"))


READERS: dict[
    str, tuple[Callable[[], object], Callable[[Any], object], Callable[[Any], object]]
] = {
    "program_from_dict(showcase)": (lambda: _toml("showcase"), le.program_from_dict, use_program),
    "program_from_dict(seed_004)": (lambda: _toml("seed_004"), le.program_from_dict, use_program),
    "member_from_dict(showcase)": (
        lambda: _read("showcase", "member.json"),
        member_from_dict,
        use_member,
    ),
    "parse_preorder_request(showcase)": (
        lambda: _read("showcase", "request.json"),
        parse_preorder_request,
        lambda r: use_order(r.order),
    ),
    "parse_commit_request(seed_004)": (
        lambda: _read("seed_004", "request.json"),
        parse_commit_request,
        lambda r: _commit_with(order=r.order, requested=r.requested),
    ),
    "read_document(seed_004, 0.1)": (
        lambda: _read("seed_004", "state.json"),
        read_document,
        use_tables,
    ),
    "read_document(schema 1)": (lambda: SCHEMA_1, read_document, use_tables),
    "JsonFileStore(schema 1)": (
        lambda: SCHEMA_1,
        state_file,
        lambda store: store is None or use_store(store),
    ),
    "Transaction.from_row(held redemption)": (
        lambda: list(ACCOUNT.journal)[1].to_row(),
        le.Transaction.from_row,
        use_row,
    ),
}


def _dict_mutations(data: object) -> Iterator[tuple[str, tuple[str | int, ...], str, object]]:
    for path in paths(data):
        for label, value in HOSTILE:
            yield f"{render_path(path)} = {label}", path, "value", value
        if path:
            yield f"{render_path(path)} removed", path, "remove", None
        if path and isinstance(path[-1], str):
            for label, value in HOSTILE:
                if isinstance(value, str) or value is None or isinstance(value, int):
                    yield f"{render_path(path)} key renamed to {label}", path, "key", value


@pytest.mark.parametrize("reader", sorted(READERS))
def test_every_path_of_the_plain_dict_readers(reader: str) -> None:
    """The documents as dicts (as a caller builds them), hostile Python values at every path."""
    load, parse, use = READERS[reader]
    base = load()
    report = Report(f"API dict fuzz {reader}")
    every = list(_dict_mutations(base))
    for label, path, kind, value in _sampled(every, reader, keep=2 * len(HOSTILE)):
        report.cases += 1
        document = mutate(base, path, kind, value)
        attempt(report, f"{reader} {label}", lambda document=document: parse(document), use)  # type: ignore[misc]
    report.check()


# --- the caller's decimal context changes nothing ----------------------------------------------


def hostile_context(trapping: bool) -> decimal.Context:
    """Three digits, rounding toward −∞, no capitals; ``trapping``: any rounding raises, else the
    roundings pass silently (and would change figures)."""
    traps = [decimal.InvalidOperation, decimal.Overflow, decimal.DivisionByZero]
    if trapping:
        traps += [decimal.Inexact, decimal.Rounded]
    return decimal.Context(prec=3, rounding=decimal.ROUND_FLOOR, capitals=0, traps=traps)


def _seed_003() -> str:
    program = le.load_program(EXAMPLES / "seed_003" / "program.toml")
    request = parse_preorder_request(_read("seed_003", "request.json"))
    member = load_member(EXAMPLES / "seed_003" / "member.json")
    result = le.calculate(program, request.order, member, now=NOW)
    response = render_preorder_response(result, profile_id=member.profile_id)
    trace = [(t.external_id, t.reason.value, t.detail) for t in result.trace]
    return json.dumps([response, trace], ensure_ascii=False)


def _seed_004(tmp: Path) -> str:
    """Commit seed 004 through a fresh copy of its JSON state file, then replay it."""
    program = le.load_program(EXAMPLES / "seed_004" / "program.toml")
    request = parse_commit_request(_read("seed_004", "request.json"))
    path = tmp / "state.json"
    path.write_bytes(STATE4_PATH.read_bytes())
    store = JsonFileStore(path)
    args: dict[str, Any] = {
        "program": program, "order": request.order, "requested": request.requested,
        "match": request.match, "now": T0, "render": render_commit_response,
    }  # fmt: skip
    done = commit_order(store, **args)
    assert done.result is not None and done.result.status is le.CommitStatus.SUCCESS
    replay = commit_order(store, **args)
    assert replay.result is None
    return json.dumps([done.response, replay.response, path.read_text("utf-8")],
                      ensure_ascii=False)  # fmt: skip


def _ledger() -> str:
    """Fractional points (precision 6): accrue, hold, commit, partial cancel, expiry, history."""
    fine = le.PointsCurrency(
        eid="fine", precision=6, lifetime_days=30, redeem_rate=Decimal("0.333333")
    )
    day = dt.timedelta(days=1)
    account = le.Account.open("p1", fine)
    account = account.accrue(Decimal("100.123456"), now=T0).account
    account = account.accrue(Decimal("0.000001"), now=T0 + day, expiration=T0 + 40 * day).account
    held = account.redeem(Decimal("33.333333"), now=T0 + day, temp_timeout_sec=600)
    account = held.account.commit_hold(held.transaction.id, now=T0 + day).account
    account = account.cancel(1, now=T0 + 2 * day, amount=Decimal("12.345678"),
                             policy="allow_negative").account  # fmt: skip
    account = account.cancel(3, now=T0 + 2 * day, amount=Decimal("0.000007")).account
    out: list[object] = [
        str(account.balance(T0 + 3 * day)),
        str(account.expiring(T0, T0 + 31 * day, now=T0 + 3 * day)),
        str(account.outstanding(1, now=T0 + 3 * day)),
        str(account.balance(T0 + 35 * day)),
        [r.to_row() for r in account.journal],
        [r.to_row() for r in account.settle(T0 + 50 * day)[1]],
        [le.Transaction.from_row(r.to_row()).to_row() for r in account.journal],
    ]
    return json.dumps(out, ensure_ascii=False)


def _context_state() -> tuple[object, ...]:
    ctx = decimal.getcontext()
    return (ctx.prec, ctx.rounding, ctx.Emin, ctx.Emax, ctx.capitals, ctx.clamp,
            sorted(str(k) for k, v in ctx.traps.items() if v))  # fmt: skip


@pytest.mark.parametrize("trapping", [True, False], ids=["trapping", "quiet"])
@pytest.mark.parametrize(
    "scenario", ["seed_003 calculate", "seed_004 commit", "ledger precision 6"]
)
def test_the_callers_decimal_context_changes_nothing(
    scenario: str, trapping: bool, tmp_path: Path
) -> None:
    """The same answers under a hostile ambient context, and the context left as it was."""
    run = {"seed_003 calculate": _seed_003, "seed_004 commit": lambda: _seed_004(tmp_path),
           "ledger precision 6": _ledger}[scenario]  # fmt: skip
    before = _context_state()
    expected = run()
    assert _context_state() == before, "the default context was changed"
    with decimal.localcontext(hostile_context(trapping)):
        inside = _context_state()
        try:
            got = run()
        except Exception as error:
            pytest.fail(f"{scenario} under a hostile context: {describe(error)}", pytrace=False)
        assert _context_state() == inside, "the caller's context was changed"
    if got != expected:
        first = next(i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b)
        pytest.fail(
            f"{scenario}: the answer depends on the caller's decimal context; from character "
            f"{first}: {got[max(0, first - 40) : first + 60]!r} instead of "
            f"{expected[max(0, first - 40) : first + 60]!r}",
            pytrace=False,
        )
