"""Getting data into and out of a store: ``db import``, ``db export``, ``db check``.

The import file (``examples/import.json``):
``{"members": [{"profile_id", "registered_at", "email", "phone", "fields": {name: value},
"segments": [], "tags": [], "balances": {currency: "points"}, "tiers": {group id: tier eid}}],
"pools": [{"pool_id", "name", "reuse", "codes": ["CODE" or {"code", "expires_at"}],
"used": []}]}``. A balance becomes one opening accrual (``transaction_eid``
``import:<currency>``, dated at the import, living the currency's lifetime from then); a tier is
carried over as qualification points in its group's currency, at least its threshold. No initial
balance is granted: the opening balance is the balance. A member the store has already is
skipped, so an import can be run again. A state file (``{"members": {…}}``) imports as it is:
its rows are replayed first and stored unchanged. Pools are added first (adding one again changes
nothing); then the members, codes handed out and orders go in one transaction: all, or none.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial

import attrs

from ..errors import LoyaltyError, ValidationError, ValidationErrors
from ..ledger.account import Account
from ..ledger.effects import AccountWrite, Effects, MemberWrite
from ..ledger.members import Membership
from ..money import parse_decimal
from ..pools import CodePool, PoolCode
from ..program.program import Program
from .document import Getter, pool_codes, read_document
from .memory import MemoryStore
from .protocol import Store
from .records import Profile
from .service import load

_MEMBER_KEYS = {"profile_id", "registered_at", "email", "phone", "fields", "segments", "tags",
                "balances", "tiers"}  # fmt: skip


@attrs.frozen(kw_only=True)
class Imported:
    """What ``import_document`` loaded: counts, and the members skipped as already there."""

    members: int = 0
    skipped: tuple[str, ...] = ()  # already members: left as they are
    pools: int = 0
    orders: int = 0


def import_document(store: Store, program: Program, data: object, *, now: dt.datetime) -> Imported:
    """Load an import file or a state file into ``store``; the whole file is checked first."""
    if isinstance(data, dict) and isinstance(data.get("members"), dict):
        return _import_state(store, program, data)
    errors: list[ValidationError] = []
    get = Getter(errors)
    top = get.mapping(data, ())
    if top is None:
        ValidationErrors.collect(errors)
    assert top is not None
    get.keys(top, (), {"members", "pools"})
    members = []
    for i, value in enumerate(get.items(top.get("members", []), ("members",))):
        made = _member(program, get, value, ("members", i), now)
        if made is not None:
            members.append(made)
    pools = []
    for i, value in enumerate(get.items(top.get("pools", []), ("pools",))):
        pool = _pool(get, value, ("pools", i))
        if pool is not None:
            pools.append(pool)
    ValidationErrors.collect(errors)
    for pool in pools:  # first: a pool that clashes stops the import before any member
        store.add_pool(pool)
    known = {m.profile_id for m, _ in members if store.member(m.profile_id) is not None}
    store.apply_all(
        [(Effects.between(None, m), p) for m, p in members if m.profile_id not in known]
    )
    skipped = tuple(m.profile_id for m, _ in members if m.profile_id in known)
    return Imported(members=len(members) - len(skipped), skipped=skipped, pools=len(pools))


def _member(
    program: Program, get: Getter, value: object, path: tuple[str | int, ...], now: dt.datetime
) -> tuple[Membership, Profile] | None:
    member = get.mapping(value, path)
    if member is None:
        return None
    get.keys(member, path, _MEMBER_KEYS)
    if not get.required(member, path, ("profile_id",)):
        return None
    since = get.moment(member.get("registered_at"), (*path, "registered_at")) or now
    profile = get.profile(member, path, member["profile_id"])
    opening: dict[str, Decimal] = {}
    balances = get.mapping(member.get("balances", {}), (*path, "balances")) or {}
    for eid, text in balances.items():
        where = (*path, "balances", eid)
        if eid not in program.currencies_by_eid:
            get.fail(where, eid, "no such points currency in the program")
            continue
        try:
            opening[eid] = program.currencies_by_eid[eid].points(parse_decimal(text, where), where)
        except ValidationError as error:
            get.errors.append(error)
    tiers = get.mapping(member.get("tiers", {}), (*path, "tiers")) or {}
    for group_id, tier_eid in tiers.items():
        where = (*path, "tiers", group_id)
        group = next((g for g in program.tier_groups if str(g.id) == group_id), None)
        tier = next((t for t in group.tiers if t.eid == tier_eid), None) if group else None
        if group is None or tier is None:
            get.fail(where, tier_eid, "no such tier group and tier in the program")
            continue
        have = opening.get(group.currency, Decimal(0))
        opening[group.currency] = max(have, tier.threshold)
    if profile is None:
        return None
    accounts = []
    for currency in program.currencies:
        account = Account.open(profile.profile_id, currency)
        points = opening.get(currency.eid, Decimal(0))
        if points < 0:
            get.fail((*path, "balances", currency.eid), str(points), "must not be negative")
        elif points > 0:
            try:
                account = account.accrue(
                    points,
                    now=now,
                    eid=f"import:{currency.eid}",
                    description="opening balance",
                    source_type="import",
                ).account
            except LoyaltyError as error:
                get.fail((*path, "balances", currency.eid), str(points), str(error))
        accounts.append(account)
    membership = Membership(
        profile_id=profile.profile_id, registered_at=min(since, now), accounts=accounts
    )
    return membership, profile


def _pool(get: Getter, value: object, path: tuple[str | int, ...]) -> CodePool | None:
    pool = get.mapping(value, path)
    if pool is None:
        return None
    get.keys(pool, path, {"pool_id", "name", "reuse", "codes", "used"})
    if not get.required(pool, path, ("pool_id", "name")):
        return None
    codes = pool_codes(get, pool.get("codes", []), (*path, "codes"))
    used = get.texts(pool.get("used", []), (*path, "used"))
    made: CodePool | None = get.build(
        path,
        partial(CodePool, pool_id=pool["pool_id"], name=pool["name"],
                reuse=pool.get("reuse", "single"), codes=codes, used=used),
    )  # fmt: skip
    return made


def _import_state(store: Store, program: Program, data: dict[str, object]) -> Imported:
    """A state file: every member replayed before anything is written."""
    source = MemoryStore.over(read_document(data))
    members = []
    for profile_id in source.profiles():
        found = load(source, program, profile_id)
        assert found is not None
        members.append(found)
    batch: list[tuple[Effects, Profile | None]] = []
    skipped: list[str] = []
    for membership, profile in members:
        if store.member(membership.profile_id) is not None:
            skipped.append(membership.profile_id)
            continue
        write = Effects(
            member=MemberWrite(
                profile_id=membership.profile_id, before=None, after=membership.registration
            ),
            accounts=tuple(
                AccountWrite(
                    profile_id=membership.profile_id,
                    currency=a.currency.eid,
                    version=0,
                    rows=tuple(a.journal),
                )
                for a in membership.accounts
            ),
        )
        batch.append((write, profile))
    added = len(batch)
    pools = source.pools()
    for pool in pools:  # first, and merged: adding a pool again changes nothing
        issued = source.issued(pool.pool_id)
        store.add_pool(
            attrs.evolve(pool, codes=[*pool.codes, *(PoolCode(c) for c in sorted(issued))])
        )
        fresh = sorted(issued - store.issued(pool.pool_id))
        if fresh:
            batch.append((Effects(issued=tuple((pool.pool_id, c) for c in fresh)), None))
    orders = [o for o in source.orders() if store.order(o.external_id) is None]
    batch += [(Effects(order=order), None) for order in orders]
    store.apply_all(batch)  # the members, their codes and orders: all, or none
    return Imported(members=added, skipped=tuple(skipped), pools=len(pools), orders=len(orders))


def check(store: Store, program: Program) -> tuple[str, ...]:
    """Every problem found by replaying every account of every member (empty: all is well)."""
    problems = []
    for profile_id in store.profiles():
        try:
            load(store, program, profile_id)
        except LoyaltyError as error:
            problems.append(f"member {profile_id!r}: {error}")
    try:
        store.pools()
        list(store.orders())
    except LoyaltyError as error:
        problems.append(str(error))
    return tuple(problems)
