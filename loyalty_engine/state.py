"""The CLI's state file: members' transactions, code pools and committed orders, as JSON.

The transactions are the state: each member's accounts are rebuilt by replaying them
(``Account.replay``), which also proves the file was not edited into an impossible ledger. Writing
is atomic: the new state goes to a temporary file in the same directory, is flushed to disk, and
replaces the old one with one rename, so a crash leaves either the old state or the new one.

``{"members": {profile_id: {"registered_at": …, "removed_at": null, "transactions": [row, …]}},
"pools": [{"pool_id": 100, "name": …, "reuse": "single", "codes": [{"code": …}], "used": []}],
"orders": {external_id: commit response}}``
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import attrs

from .altcraft.wire import Reader, read_json_file
from .errors import ValidationError, ValidationErrors
from .ledger.account import Account
from .ledger.export import moment_text, transaction_row
from .ledger.journal import Kind, Transaction
from .ledger.members import Membership
from .money import parse_decimal
from .pools import CodePool, PoolCode
from .program.program import Program
from .validators import checked


@attrs.frozen(kw_only=True)
class State:
    members: Mapping[str, Membership] = attrs.field(factory=dict)
    pools: tuple[CodePool, ...] = ()
    orders: Mapping[str, dict[str, object]] = attrs.field(factory=dict)  # stored responses


@checked
def load_state(path: str | os.PathLike[str], program: Program) -> State:
    """Read a state file; a missing file is an empty state."""
    try:
        exists = Path(path).exists()
    except (OSError, ValueError):
        raise ValidationError(
            (str(path)[:80],), str(path), "cannot read: not a valid path"
        ) from None
    if not exists:
        return State()
    return state_from_dict(read_json_file(path), program)


@checked
def save_state(path: str | os.PathLike[str], state: State) -> None:
    """Write the state atomically (temp file, fsync, rename)."""
    target = Path(path)
    text = json.dumps(state_to_dict(state), indent=1, ensure_ascii=False) + "\n"
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@checked
def state_to_dict(state: State) -> dict[str, object]:
    return {
        "members": {
            profile: {
                "registered_at": moment_text(m.registered_at),
                "removed_at": moment_text(m.removed_at),
                "transactions": [
                    transaction_row(row) for account in m.accounts for row in account.journal
                ],
            }
            for profile, m in sorted(state.members.items())
        },
        "pools": [
            {
                "pool_id": pool.pool_id,
                "name": pool.name,
                "reuse": pool.reuse,
                "codes": [
                    {"code": c.code, "expires_at": moment_text(c.expires_at)} for c in pool.codes
                ],
                "used": sorted(pool.used),
            }
            for pool in state.pools
        ],
        "orders": dict(sorted(state.orders.items())),
    }


@checked
def state_from_dict(data: object, program: Program) -> State:
    errors: list[ValidationError] = []
    top = Reader.of(data, (), errors)
    if top is None:
        ValidationErrors.collect(errors)
    assert top is not None
    members = {}
    raw = top.data.get("members", {})
    if not isinstance(raw, dict):
        top.fail("members", raw, "must be an object of profile_id → member")
        raw = {}
    for profile, value in raw.items():
        member = Reader.of(value, ("members", profile), errors)
        if member is None:
            continue
        registered = member.moment("registered_at")
        rows = [_transaction(item, program) for item in member.items("transactions")]
        if registered is None:
            member.fail("registered_at", None, "required")
        if errors:
            continue
        accounts = []
        for currency in program.currencies:
            own = [r for r in rows if r is not None and r.currency == currency.eid]
            try:
                accounts.append(Account.replay(profile, currency, own))
            except ValidationError as error:
                errors.append(error.at("members", profile, "transactions"))
        assert registered is not None
        members[profile] = Membership(
            profile_id=profile,
            registered_at=registered,
            accounts=accounts,
            removed_at=member.moment("removed_at"),
        )
    pools = []
    for item in top.items("pools"):
        codes = [
            code.build(PoolCode, code.text("code", required=True) or "?", code.moment("expires_at"))
            for code in item.items("codes")
        ]
        pool = item.build(
            CodePool,
            pool_id=item.integer("pool_id", required=True),
            name=item.text("name", required=True) or "?",
            reuse=item.text("reuse") or "single",
            codes=[c for c in codes if c is not None],
            used=item.texts("used"),
        )
        if isinstance(pool, CodePool):
            pools.append(pool)
    orders = top.data.get("orders", {})
    if not isinstance(orders, dict):
        top.fail("orders", orders, "must be an object of external_id → response")
        orders = {}
    ValidationErrors.collect(errors)
    return State(members=members, pools=tuple(pools), orders=orders)


def _transaction(item: Reader, program: Program) -> Transaction | None:
    def points(key: str) -> Decimal:
        value = item.text(key, required=True)
        try:
            return parse_decimal(value or "0", (*item.path, key), places=6)
        except ValidationError as error:
            item.errors.append(error)
            return Decimal(0)

    kind = item.text("transaction_type", required=True)
    if kind not in {k.value for k in Kind}:
        item.fail("transaction_type", kind, f"must be one of {[k.value for k in Kind]}")
        return None
    currency = item.text("points_currency_eid", required=True)
    if currency not in program.currencies_by_eid:
        item.fail("points_currency_eid", currency, "no such currency in the program")
        return None
    drawn: list[tuple[int, Decimal]] = []
    raw = item.data.get("drawn") or []
    for i, pair in enumerate(raw if isinstance(raw, list) else [raw]):
        if not (
            isinstance(pair, list)
            and len(pair) == 2
            and isinstance(pair[0], int)
            and isinstance(pair[1], str)
        ):
            item.fail("drawn", pair, f"entry {i} must be [lot id, points string]")
            return None
        try:
            drawn.append((pair[0], parse_decimal(pair[1], (*item.path, "drawn", i), places=6)))
        except ValidationError as error:
            item.errors.append(error)
            return None
    at = item.moment("created_at")
    row = item.build(
        Transaction,
        id=item.integer("transaction_id", required=True),
        profile_id=item.text("profile_id", required=True),
        currency=currency,
        eid=item.text("transaction_eid"),
        at=at,
        kind=Kind(kind),
        amount=points("amount"),
        delta=points("delta"),
        balance_before=points("balance_before"),
        balance_after=points("balance_after"),
        temp=item.data.get("temp") is True,
        deadline=item.moment("deadline"),
        activation=item.moment("activation_date"),
        expiration=item.moment("expiration_date"),
        refers_to=item.integer("refers_to"),
        promotion=item.text("promo_eid"),
        description=item.text("description"),
        source_type=item.text("source_type"),
        source_id=item.text("source_id"),
        drawn=tuple(drawn),
        earned_after=points("earned_after"),
        request=item.text("request") or "",
    )
    if at is None:
        item.fail("created_at", None, "required")
    return row if isinstance(row, Transaction) else None
