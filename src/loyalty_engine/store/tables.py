"""A store's state held in memory, with the compare-and-swap ``apply`` of the contract.

The in-memory store is these tables behind a lock; the JSON state file is these tables read
from the file and written back whole, under a file lock. Rows read from a file stay raw dicts
until their member is asked for, so a large file costs one parse, not one decode per row.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import attrs

from ..errors import ConflictError, LedgerError
from ..ledger.effects import Effects, OrderRecord, Registration
from ..ledger.journal import Transaction, transaction_uuid
from ..pools import CodePool, PoolCode
from .records import Match, Profile, StoredMember, TransactionKey

Row = Transaction | Mapping[str, object]  # a raw dict until decoded


@attrs.define
class PoolState:
    name: str
    reuse: str
    codes: list[PoolCode]  # every code ever added, in order
    issued: set[str] = attrs.Factory(set)
    used: set[str] = attrs.Factory(set)

    def value(self, pool_id: int) -> CodePool:
        live = [c for c in self.codes if c.code not in self.issued]
        return CodePool(pool_id=pool_id, name=self.name, reuse=self.reuse,  # type: ignore[arg-type]
                        codes=live, used=self.used)  # fmt: skip


@attrs.define
class Tables:
    profiles: dict[str, Profile] = attrs.Factory(dict)
    registrations: dict[str, Registration] = attrs.Factory(dict)
    rows: dict[str, dict[str, list[Row]]] = attrs.Factory(dict)  # profile → currency → rows
    identities: dict[tuple[str, str], str] = attrs.Factory(dict)
    pools: dict[int, PoolState] = attrs.Factory(dict)
    orders: dict[str, OrderRecord] = attrs.Factory(dict)
    versions: dict[str, dict[str, int]] = attrs.Factory(dict)  # as recorded, for the tail check
    # transaction lookups by uuid and by eid, built when first asked for, then kept current
    keys: dict[str, list[TransactionKey]] | None = attrs.field(default=None, eq=False)

    # --- reads ------------------------------------------------------------------------------

    def find(self, match: Match) -> str | None:
        if match.method == "profile_id":
            return match.value if match.value in self.registrations else None
        return self.identities.get(match.key)

    def member(self, profile_id: str) -> StoredMember | None:
        registration = self.registrations.get(profile_id)
        if registration is None:
            return None
        accounts = self.rows.setdefault(profile_id, {})
        rows: list[Transaction] = []
        for currency in sorted(accounts):
            rows += self.decoded(profile_id, currency)
        recorded = accounts.keys() | self.versions.get(profile_id, {}).keys()
        return StoredMember(
            profile=self.profiles.get(profile_id) or Profile(profile_id=profile_id),
            registration=registration,
            rows=tuple(rows),
            versions={c: self.version(profile_id, c) for c in sorted(recorded)},
        )

    def decoded(self, profile_id: str, currency: str) -> list[Transaction]:
        accounts = self.rows[profile_id]
        rows = accounts[currency]
        offset = sum(len(accounts[c]) for c in accounts if c < currency)  # as a file lists them
        for i, row in enumerate(rows):
            if not isinstance(row, Transaction):
                path = ("members", profile_id, "transactions", offset + i)
                rows[i] = Transaction.from_row(row, path)
        return rows  # type: ignore[return-value]

    def version(self, profile_id: str, currency: str) -> int:
        recorded = self.versions.get(profile_id, {}).get(currency)
        return recorded if recorded is not None else len(self.rows[profile_id].get(currency, []))

    def code_pools(self) -> tuple[CodePool, ...]:
        return tuple(pool.value(pool_id) for pool_id, pool in sorted(self.pools.items()))

    def find_transactions(
        self, *, uuid: str | None = None, eid: str | None = None
    ) -> tuple[TransactionKey, ...]:
        if self.keys is None:
            self.keys = {}
            for profile_id, accounts in self.rows.items():
                for currency, rows in accounts.items():
                    for row in rows:
                        self._index(profile_id, currency, _id(row), _eid(row))
        key = f"uuid:{uuid}" if uuid is not None else f"eid:{eid}"
        return tuple(sorted(self.keys.get(key, ()), key=attrs.astuple))

    def _index(self, profile_id: str, currency: str, id: object, eid: object) -> None:
        assert self.keys is not None
        if not isinstance(id, int):
            return  # a damaged raw row: reading its member reports it
        key = TransactionKey(profile_id, currency, id)
        self.keys.setdefault(f"uuid:{transaction_uuid(profile_id, currency, id)}", []).append(key)
        if isinstance(eid, str):
            self.keys.setdefault(f"eid:{eid}", []).append(key)

    def profile_ids(self) -> Iterator[str]:
        return iter(sorted(self.registrations))

    # --- the compare-and-swap ----------------------------------------------------------------

    def apply(self, batch: Sequence[tuple[Effects, Profile | None]]) -> None:
        """Check every condition of every operation first, then write: a conflict writes
        nothing. The operations of a batch must touch disjoint things (checked)."""
        disjoint(batch)
        for effects, profile in batch:
            self.check(effects, profile)
        for effects, profile in batch:
            self.write(effects, profile)

    def check(self, effects: Effects, profile: Profile | None) -> None:
        write = effects.member
        if write is not None and self.registrations.get(write.profile_id) != write.before:
            raise ConflictError(f"member {write.profile_id!r} changed since it was read")
        for account in effects.accounts:
            have = self.rows.get(account.profile_id, {}).get(account.currency, [])
            if len(have) != account.version:
                raise ConflictError(
                    f"account {account.profile_id}/{account.currency} is at version "
                    f"{len(have)}, the operation read version {account.version}"
                )
            check_ids(account.version, account.rows)
            eids = {_eid(row) for row in have} - {None}
            for row in account.rows:
                if row.eid is not None and row.eid in eids:
                    raise ConflictError(f"transaction_eid {row.eid!r} is taken")
                eids.add(row.eid)
        for pool_id, code in effects.issued:
            pool = self.pools.get(pool_id)
            if pool is None or code in pool.issued or all(c.code != code for c in pool.codes):
                raise ConflictError(f"code {code!r} of pool {pool_id} was handed out already")
        for pool_id, code in effects.used:
            pool = self.pools.get(pool_id)
            if pool is not None and code in pool.used:
                raise ConflictError(f"code {code!r} of pool {pool_id} was used already")
        if effects.order is not None and effects.order.external_id in self.orders:
            raise ConflictError(f"order {effects.order.external_id!r} is committed already")
        if profile is not None:
            for key in profile.identities():
                owner = self.identities.get(key)
                if owner is not None and owner != profile.profile_id:
                    raise ConflictError(f"{key[0]} {key[1]!r} belongs to member {owner!r}")

    def write(self, effects: Effects, profile: Profile | None) -> None:
        if effects.member is not None:
            self.registrations[effects.member.profile_id] = effects.member.after
            self.rows.setdefault(effects.member.profile_id, {})
        for account in effects.accounts:
            rows = self.rows.setdefault(account.profile_id, {}).setdefault(account.currency, [])
            rows += account.rows
            if self.keys is not None:
                for row in account.rows:
                    self._index(row.profile_id, row.currency, row.id, row.eid)
            self.versions.setdefault(account.profile_id, {})[account.currency] = len(rows)
        for pool_id, code in effects.issued:
            self.pools[pool_id].issued.add(code)
        for pool_id, code in effects.used:
            if pool_id in self.pools:
                self.pools[pool_id].used.add(code)
        if effects.order is not None:
            self.orders[effects.order.external_id] = effects.order
        if profile is not None:
            old = self.profiles.get(profile.profile_id)
            for key in old.identities() if old is not None else ():
                self.identities.pop(key, None)
            self.profiles[profile.profile_id] = profile
            for key in profile.identities():
                self.identities[key] = profile.profile_id

    def add_pool(self, pool: CodePool) -> None:
        state = self.pools.get(pool.pool_id)
        if state is None:
            once = list({c.code: c for c in reversed(pool.codes)}.values())[::-1]  # first wins
            self.pools[pool.pool_id] = PoolState(pool.name, pool.reuse, once, used=set(pool.used))
            return
        if (state.name, state.reuse) != (pool.name, pool.reuse):
            raise ConflictError(
                f"pool {pool.pool_id} is {state.name!r} ({state.reuse}), not "
                f"{pool.name!r} ({pool.reuse})"
            )
        known = {c.code for c in state.codes}
        state.codes += [c for c in pool.codes if c.code not in known]
        state.used |= pool.used


def disjoint(batch: Sequence[tuple[Effects, Profile | None]]) -> None:
    """Refuse a batch two of whose operations write the same thing."""
    claimed: set[object] = set()
    for effects, profile in batch:
        for key in _claims(effects, profile):
            if key in claimed:
                raise ConflictError(f"two operations of one batch touch {key}")
            claimed.add(key)


def _claims(effects: Effects, profile: Profile | None) -> Iterator[object]:
    """What an operation writes."""
    if effects.member is not None:
        yield ("member", effects.member.profile_id)
    for account in effects.accounts:
        yield ("account", account.profile_id, account.currency)
    yield from (("issued", *code) for code in effects.issued)
    yield from (("used", *code) for code in effects.used)
    if effects.order is not None:
        yield ("order", effects.order.external_id)
    if profile is not None:
        yield from (("identity", *key) for key in profile.identities())


def _eid(row: Row) -> object:
    return row.eid if isinstance(row, Transaction) else row.get("transaction_eid")


def _id(row: Row) -> object:
    return row.id if isinstance(row, Transaction) else row.get("transaction_id")


def check_ids(version: int, rows: tuple[Transaction, ...]) -> None:
    """Rows continue the account's numbering: a caller's bug, not a conflict."""
    for offset, row in enumerate(rows, start=1):
        if row.id != version + offset:
            raise LedgerError(f"row {row.id} does not follow version {version} of its account")
