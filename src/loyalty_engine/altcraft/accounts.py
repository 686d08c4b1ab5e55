"""The points-account methods of the Loyalty API: a wire request in, a store operation, a
response out. Each method is a function ``(Context, Reader) -> response``; ``api.handle``
dispatches to them.

Choices where the contract is silent (docs/wire.md lists them all):
- ``transaction_id`` is ``Transaction.uuid``, a name-based UUID of (profile, currency, row id);
  commit, rollback and cancel find the row by it alone. A ``transaction_eid`` alone must name
  one transaction; when it names several, the matching block and currency narrow it.
- Commit, rollback and cancel are idempotent: each writes its row under the eid
  ``commit:<transaction_id>`` (``rollback:``, ``cancel:``), so a repeat answers the first row.
- Without a currency, ``balance``, accrue and redeem use the program's first currency.
- ``external_data`` is kept, as canonical JSON, in the row's ``source_id``.
- A held transaction (``is_temp``) without ``temp_timeout_sec`` times out after a day.
- Absent values are left out of responses (XML has no null).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from ..errors import LedgerError, NotFoundError, ValidationError, ValidationErrors
from ..ledger.account import Account, Posting
from ..ledger.effects import Effects
from ..ledger.export import EXPORT_COLUMNS, export_rows
from ..ledger.journal import Transaction, moment_text, transaction_uuid
from ..ledger.members import Change, Membership
from ..ledger.triggers import apply_trigger, list_triggers
from ..model import PointsCurrency, PointsRef
from ..money import parse_decimal
from ..program.accounts import TriggerRule
from ..program.program import Program
from ..store.protocol import Store
from ..store.records import Match, Profile, TransactionKey
from ..store.service import load, locate, register_member, remove_member, transact
from .codes import ApiError, Code
from .preorder import points_text, read_match
from .wire import Reader

HOLD_SECONDS = 86_400
MAX_EXTERNAL_DATA = 4096  # bytes of canonical JSON
_TASK = re.compile(r"task_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_PROFILES = uuid.UUID("0d4e8a55-2c1b-4f7e-8a3b-6d656d626572")


@attrs.frozen(kw_only=True)
class Context:
    """What a method works with: the store, the program, the time, where exports go."""

    store: Store
    program: Program
    now: dt.datetime
    exports: Path | None = None


Method = Callable[[Context, Reader], dict[str, object]]


def ok(**fields: object) -> dict[str, object]:
    """A success response: ``fields`` at the top level, then ``error`` and ``error_text``."""
    return {**fields, "error": 0, "error_text": "Successful operation"}


# --- reading -----------------------------------------------------------------------------------


def done(top: Reader) -> None:
    """Raise every problem found so far, all at once."""
    ValidationErrors.collect(top.errors)


def _program(ctx: Context, top: Reader) -> None:
    given = top.integer("loyalty_program_id", required=True)
    expected = ctx.program.settings.loyalty_program_id
    if given is not None and expected is not None and given != expected:
        raise ApiError(Code.UNKNOWN_PROGRAM, f"loyalty_program_id {given} is not served here "
                       f"(this is program {expected})")  # fmt: skip


def _match(top: Reader) -> Match:
    """The member the request names; raises every problem of the request read so far."""
    before = len(top.errors)
    match = read_match(top, top.text("matching"))
    if match is None and len(top.errors) == before:  # no problem with it: it is missing
        top.fail("matching", None, "required: email, phone, profile_id or custom")
    done(top)
    assert match is not None
    return match


@attrs.frozen
class _Currency:
    """A currency as the request names it, resolved once the whole request has been read (so
    that an unknown currency does not hide the request's other problems)."""

    ref: PointsRef | None  # None: the program's first

    def resolve(self, program: Program) -> PointsCurrency:
        if self.ref is None:
            if not program.currencies:
                raise ApiError(Code.UNKNOWN_CURRENCY, "the program has no points currency")
            return program.currencies[0]
        found = next((c for c in program.currencies if c.matches(self.ref)), None)
        if found is None:
            raise ApiError(Code.UNKNOWN_CURRENCY, f"no points currency {self.ref}")
        return found


def _currency(top: Reader, *, required: bool) -> _Currency:
    keys = ("points_currency_iid", "points_currency_eid")
    iid, eid = top.integer(keys[0]), top.text(keys[1])
    if iid is None and eid is None:
        if required and all(top.data.get(k) is None for k in keys):
            top.fail(keys[1], None, "points_currency_iid or _eid is required")
        return _Currency(None)
    ref = top.build(PointsRef, iid, eid)
    return _Currency(ref if isinstance(ref, PointsRef) else None)


def _moment(top: Reader, key: str, *, required: bool = False) -> dt.datetime | None:
    if required and top.data.get(key) is None:
        top.fail(key, None, "required")
    return top.moment(key)


def _amount(top: Reader, *, required: bool) -> Decimal | None:
    raw = top.number("amount", required=required)
    if raw is None:
        return None
    try:
        return parse_decimal(raw, (*top.path, "amount"), places=6)
    except ValidationError as error:
        top.errors.append(error)
        return None


def _flag(top: Reader, key: str) -> bool | None:
    value = top.data.get(key)
    if value is not None and not isinstance(value, bool):
        top.fail(key, value, "must be true or false")
        return None
    return value


def _external(top: Reader) -> str | None:
    value = top.data.get("external_data")
    if value is None:
        return None
    if not isinstance(value, Mapping):
        top.fail("external_data", value, "must be an object")
        return None
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)  # fmt: skip
    if len(text.encode()) > MAX_EXTERNAL_DATA:
        top.fail("external_data", len(text), f"larger than {MAX_EXTERNAL_DATA} bytes")
        return None
    return text


# --- writing -----------------------------------------------------------------------------------


def currency_keys(currency: PointsCurrency) -> dict[str, object]:
    out: dict[str, object] = {}
    if currency.iid is not None:
        out["points_currency_iid"] = currency.iid
    return out | {"points_currency_eid": currency.eid}


def render_transaction(program: Program, row: Transaction) -> dict[str, object]:
    """A history row as the ``transactions`` method shows it."""
    currency = program.currencies_by_eid[row.currency]
    trigger = next((t for t in program.trigger_promotions if t.external_id == row.promotion), None)
    out: dict[str, object] = {
        "transaction_id": row.uuid,
        "transaction_eid": row.eid,
        **currency_keys(currency),
        "created_at": moment_text(row.at),
        "transaction_type": row.kind.value,
        "amount": points_text(row.amount, currency),
        "balance_before": points_text(row.balance_before, currency),
        "balance_after": points_text(row.balance_after, currency),
        "temp": row.temp,
        "deadline": moment_text(row.deadline),
        "refers_to": transaction_uuid(row.profile_id, row.currency, row.refers_to)
        if row.refers_to is not None
        else None,
        "promo_iid": trigger.id if trigger is not None else None,
        "promo_eid": row.promotion,
        "description": row.description,
        "activation_date": moment_text(row.activation),
        "expiration_date": moment_text(row.expiration),
        "source_type": row.source_type,
        "source_id": row.source_id,
    }
    return {k: v for k, v in out.items() if v is not None}


def _posting(account: Account, row: Transaction, now: dt.datetime) -> dict[str, object]:
    balance = account.balance(now)
    out: dict[str, object] = {
        "transaction_id": row.uuid,
        "transaction_eid": row.eid,
        **currency_keys(account.currency),
        "amount": points_text(row.amount, account.currency),
        "balance": points_text(balance.active, account.currency),
        "total_balance": points_text(balance.total, account.currency),
    }
    return {k: v for k, v in out.items() if v is not None}


def _posted(account: Account, eid: str | None) -> Transaction:
    """The row an operation wrote (or, replayed, wrote the first time): its eid's, or the last."""
    row = account.journal.by_eid(eid) if eid is not None else None
    last = account.journal.get(account.version)
    assert last is not None, "an operation that posted wrote a row"
    return row if row is not None else last


# --- the methods -------------------------------------------------------------------------------


def balance(ctx: Context, top: Reader) -> dict[str, object]:
    _program(ctx, top)
    named = _currency(top, required=False)
    match = _match(top)
    currency = named.resolve(ctx.program)
    membership, _ = locate(ctx.store, ctx.program, match)
    points = membership.account(currency.eid).balance(ctx.now)
    return ok(data={**currency_keys(currency),
                    "total_balance": points_text(points.total, currency),
                    "active_balance": points_text(points.active, currency)})  # fmt: skip


def expiring_points(ctx: Context, top: Reader) -> dict[str, object]:
    _program(ctx, top)
    named = _currency(top, required=True)
    start, end = _moment(top, "date_from", required=True), _moment(top, "date_to", required=True)
    match = _match(top)
    currency = named.resolve(ctx.program)
    assert start is not None and end is not None
    membership, _ = locate(ctx.store, ctx.program, match)
    points = membership.account(currency.eid).expiring(start, end, now=ctx.now)
    return ok(data={**currency_keys(currency), "expiring_points": points_text(points, currency)})


def transactions(ctx: Context, top: Reader) -> dict[str, object]:
    _program(ctx, top)
    named = _currency(top, required=True)
    from_id = top.text("from_id")
    limit = top.integer("limit")
    match = _match(top)
    currency = named.resolve(ctx.program)
    membership, _ = locate(ctx.store, ctx.program, match, removed=True)
    after = None
    if from_id is not None:
        found = ctx.store.find_transactions(uuid=from_id)
        mine = [k for k in found if (k.profile_id, k.currency) ==
                (membership.profile_id, currency.eid)]  # fmt: skip
        if not mine:
            raise ValidationError(("from_id",), from_id, "not a transaction of this account")
        after = mine[0].id
    page = membership.account(currency.eid).history(from_id=after, limit=20 if limit is None
                                                    else limit)  # fmt: skip
    data = [render_transaction(ctx.program, row) for row in page.items]
    more = transaction_uuid(membership.profile_id, currency.eid, page.next_from_id) \
        if page.next_from_id is not None else None  # fmt: skip
    return ok(data=data, **({"next_from_id": more} if more else {}),
              total_count=page.total_count)  # fmt: skip


def trigger_promotions(ctx: Context, top: Reader) -> dict[str, object]:
    _program(ctx, top)
    from_id, limit, active = top.integer("from_id"), top.integer("limit"), _flag(top, "is_active")
    done(top)
    page = list_triggers(ctx.program, from_id=from_id, limit=20 if limit is None else limit,
                         is_active=active)  # fmt: skip
    data = []
    for t in page.items:
        item: dict[str, object] = {
            "id": t.id, "name": t.name, "description": t.description,
            "external_id": t.external_id, "start_date": moment_text(t.start_date),
            "end_date": moment_text(t.end_date), "is_active": t.is_active,
            "redeem_rules": [_rule(ctx.program, r) for r in t.redeem_rules],
            "accrual_rules": [_rule(ctx.program, r) for r in t.accrual_rules],
        }  # fmt: skip
        data.append({k: v for k, v in item.items() if v is not None})
    more = {"next_from_id": page.next_from_id} if page.next_from_id is not None else {}
    return ok(data=data, **more, total_count=page.total_count)


def _rule(program: Program, rule: TriggerRule) -> dict[str, object]:
    out: dict[str, object] = currency_keys(program.currencies_by_eid[rule.currency])
    for key in ("static_amount", "min_amount", "max_amount"):
        value = getattr(rule, key)
        if value is not None:
            out[key] = format(value, "f")
    return out


def tiers(ctx: Context, top: Reader) -> dict[str, object]:
    _program(ctx, top)
    group_id = top.integer("tiers_group_id", required=True)
    match = _match(top)
    group = next((g for g in ctx.program.tier_groups if g.id == group_id), None)
    if group is None:
        raise ApiError(Code.UNKNOWN_PROGRAM, f"no tier group {group_id} in this program")
    membership, _ = locate(ctx.store, ctx.program, match)
    data = [
        {"tiers_group_id": r.group.id, "tiers_group_type": r.group.type, "tier_eid": r.tier.eid,
         "tier_id": r.tier.id, "tier_order": r.order, "tier_name": r.tier.name,
         "reached_at": moment_text(r.reached_at)}
        for r in membership.tiers(ctx.program)
        if r.group.id == group.id
    ]  # fmt: skip
    return ok(data=data)


def _points(side: str) -> Method:
    def method(ctx: Context, top: Reader) -> dict[str, object]:
        _program(ctx, top)
        promotion = top.text("promotion_id")
        given = any(top.data.get(k) is not None for k in ("points_currency_iid",
                                                          "points_currency_eid"))  # fmt: skip
        named = _currency(top, required=False)
        amount = _amount(top, required=promotion is None)
        temp, timeout = _flag(top, "is_temp"), top.integer("temp_timeout_sec")
        if timeout is not None and not temp:
            top.fail("temp_timeout_sec", timeout, "needs is_temp: true")
        created = _moment(top, "created_at")
        dates: dict[str, Any] = {}
        if side == "accrual":
            dates = {"activation": _moment(top, "activation_date"),
                     "expiration": _moment(top, "expiration_date")}  # fmt: skip
        eid, description = top.text("transaction_eid"), top.text("description")
        source = _external(top)
        match = _match(top)
        currency = named.resolve(ctx.program)
        if created is not None and created > ctx.now:
            raise ValidationError(("created_at",), top.data["created_at"], "is in the future")
        now = created or ctx.now
        hold = (timeout or HOLD_SECONDS) if temp else None

        def attempt() -> tuple[dict[str, object], Effects]:
            membership, _ = locate(ctx.store, ctx.program, match)
            if promotion is not None:
                change = apply_trigger(
                    ctx.program, membership, promotion, side=side,  # type: ignore[arg-type]
                    now=now, amount=amount, currency=_ref(currency) if given else None,
                    eid=eid, temp_timeout_sec=hold, description=description,
                    source_id=source, **dates,
                )  # fmt: skip
            else:
                account = membership.account(currency.eid)
                assert amount is not None
                common: dict[str, Any] = dict(
                    now=now, temp_timeout_sec=hold, eid=eid, description=description,
                    source_id=source,
                )  # fmt: skip
                posting = (account.accrue(amount, **dates, **common) if side == "accrual"
                           else account.redeem(amount, **common))  # fmt: skip
                change = Change.of(membership, membership.with_account(posting.account))
            rows = [
                _posting(account, _posted(account, eid), ctx.now)
                for account in _touched(membership, change.membership, eid)
            ]
            return ok(data={**rows[0], "transactions": rows}), change.effects

        return transact(ctx.store, attempt)

    return method


def _ref(currency: PointsCurrency) -> PointsRef:
    return PointsRef(currency.iid, currency.eid)


def _touched(before: Membership, after: Membership, eid: str | None) -> list[Account]:
    """The accounts an accrual or redemption posted to (a replay posted to its eid's)."""
    out = []
    for old, new in zip(before.accounts, after.accounts, strict=True):
        if new.version != old.version or (eid is not None and new.journal.by_eid(eid)):
            out.append(new)
    return out


def _target(ctx: Context, top: Reader) -> TransactionKey:
    """The transaction a commit, rollback or cancel names."""
    tid, eid = top.text("transaction_id"), top.text("transaction_eid")
    if tid is None and eid is None:
        top.fail("transaction_id", None, "transaction_id or transaction_eid is required")
    done(top)
    keys = ctx.store.find_transactions(uuid=tid, eid=eid if tid is None else None)
    if any(top.data.get(k) is not None for k in ("matching", "profile_id", "email", "phone")):
        profile_id = ctx.store.find(_match(top))
        keys = tuple(k for k in keys if k.profile_id == profile_id)
    if any(top.data.get(k) is not None for k in ("points_currency_iid", "points_currency_eid")):
        named = _currency(top, required=True)
        done(top)
        currency = named.resolve(ctx.program)
        keys = tuple(k for k in keys if k.currency == currency.eid)
    shown = f"transaction_id {tid!r}" if tid is not None else f"transaction_eid {eid!r}"
    if not keys:
        raise ApiError(Code.TRANSACTION_NOT_FOUND, f"no transaction with {shown}")
    if len(keys) > 1:
        raise ApiError(Code.AMBIGUOUS_TRANSACTION, f"{len(keys)} transactions have {shown}: "
                       "send transaction_id, or the matching block and the currency")  # fmt: skip
    return keys[0]


def _by_transaction(verb: str, run: Callable[..., Posting]) -> Method:
    """commit, rollback or cancel: ``run(account, id, now=, eid=)``."""

    def method(ctx: Context, top: Reader) -> dict[str, object]:
        key = _target(ctx, top)
        target = transaction_uuid(key.profile_id, key.currency, key.id)
        eid = f"{verb}:{target}"

        def attempt() -> tuple[dict[str, object], Effects]:
            found = load(ctx.store, ctx.program, key.profile_id)
            if found is None:  # pragma: no cover - rows are never deleted
                raise NotFoundError(f"member {key.profile_id!r} not found")
            membership = found[0]
            posting = run(membership.account(key.currency), key.id, now=ctx.now, eid=eid)
            after = membership.with_account(posting.account)
            data = _posting(posting.account, posting.transaction, ctx.now)
            data = {**data, "transaction_id": target, "transaction_eid": None,
                    "result_transaction_id": posting.transaction.uuid}  # fmt: skip
            return ok(data={k: v for k, v in data.items() if v is not None}), Effects.between(
                membership, after
            )

        return transact(ctx.store, attempt)

    return method


def register(ctx: Context, top: Reader) -> dict[str, object]:
    _program(ctx, top)
    since = _moment(top, "registration_date")
    match = _match(top)
    email, phone = top.text("email"), top.text("phone")
    field = (top.text("field_name"), top.data.get("field_value"))
    done(top)
    profile_id = ctx.store.find(match)
    stored = ctx.store.member(profile_id) if profile_id is not None else None
    if profile_id is None:
        profile_id = top.text("profile_id") or _new_profile_id(match)
    old = stored.profile if stored is not None else Profile(profile_id=profile_id)
    fields = dict(old.fields)
    if field[0] is not None and field[1] is not None:
        fields.setdefault(field[0], str(field[1]))
    profile = attrs.evolve(old, email=old.email or email, phone=old.phone or phone,
                           fields=fields)  # fmt: skip
    for key in profile.identities():
        owner = ctx.store.find(Match(*_as_match(key)))
        if owner is not None and owner != profile_id:
            raise ApiError(Code.ID_REUSED, f"{key[0]} {key[1]!r} belongs to another member")
    register_member(ctx.store, ctx.program, profile, now=ctx.now, registration_date=since)
    return ok(profile_id=profile_id)


def _as_match(key: tuple[str, str]) -> tuple[Any, str, str | None]:
    kind, value = key
    if kind.startswith("field:"):
        return "custom", value, kind.removeprefix("field:")
    return kind, value, None


def _new_profile_id(match: Match) -> str:
    """A member first known by an email, phone or field gets an id derived from it: a repeated
    registration finds the same member."""
    kind, value = match.key
    return f"p-{uuid.uuid5(_PROFILES, f'{kind}:{value}').hex}"


def delete(ctx: Context, top: Reader) -> dict[str, object]:
    _program(ctx, top)
    membership, _ = locate(ctx.store, ctx.program, _match(top), removed=True)
    remove_member(ctx.store, ctx.program, membership.profile_id, now=ctx.now)
    return ok(profile_id=membership.profile_id)


# --- transactions export -----------------------------------------------------------------------


def export(ctx: Context, top: Reader) -> dict[str, object]:
    """Write the CSV now and answer its task id; ``transactions_export_status`` reads it."""
    _program(ctx, top)
    named = _currency(top, required=True)
    start, end = _moment(top, "date_from", required=True), _moment(top, "date_to", required=True)
    from_id = top.text("from_id")
    done(top)
    currency = named.resolve(ctx.program)
    assert start is not None and end is not None
    if end < start:
        raise ValidationError(("date_to",), top.data["date_to"], "is before date_from")
    folder = _exports(ctx)
    rows: list[Transaction] = []
    for profile_id in ctx.store.profiles():
        stored = ctx.store.member(profile_id)
        if stored is not None:
            rows += [r for r in stored.rows if r.currency == currency.eid]
    rows = [r for r in rows if start <= r.at <= end]
    rows.sort(key=lambda r: (r.at, r.profile_id, r.id))
    if from_id is not None:
        at = next((i for i, r in enumerate(rows) if r.uuid == from_id), None)
        if at is None:
            raise ValidationError(("from_id",), from_id, "not a transaction of this currency")
        rows = rows[at + 1 :]
    request = json.dumps({k: v for k, v in top.data.items() if k != "token"}, sort_keys=True,
                         default=str)  # fmt: skip
    task = f"task_{uuid.uuid5(_PROFILES, f'{request}|{ctx.now.isoformat()}')}"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row, cells in zip(rows, export_rows(rows, start, end), strict=True):
        refers = row.refers_to
        cells["transaction_id"] = row.uuid  # the API's ids, not the account's row numbers
        cells["refers_to"] = transaction_uuid(row.profile_id, row.currency, refers) if refers \
            else ""  # fmt: skip
        writer.writerow(cells)
    path = folder / f"{task}.csv"
    temp = folder / f".{task}.csv.tmp"
    temp.write_text(out.getvalue(), encoding="utf-8")
    os.replace(temp, path)
    return ok(data={"task_id": task})


def export_status(ctx: Context, top: Reader) -> dict[str, object]:
    task = top.text("task_id", required=True)
    done(top)
    assert task is not None
    if not _TASK.match(task):
        raise ValidationError(("task_id",), task, "not a task id (task_<uuid>)")
    path = _exports(ctx) / f"{task}.csv"
    try:
        with path.open(encoding="utf-8", newline="") as file:
            count = sum(1 for _ in csv.reader(file)) - 1
    except FileNotFoundError:
        raise ApiError(Code.TASK_NOT_FOUND, f"no export task {task}") from None
    return ok(data={"task_id": task, "status": "done", "rows": count, "file": str(path)})


def _exports(ctx: Context) -> Path:
    if ctx.exports is None:
        raise LedgerError("transactions_export needs an exports directory (--exports)")
    try:
        ctx.exports.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise LedgerError(f"{ctx.exports}: cannot create the exports directory ({error})") from None
    return ctx.exports


METHODS: dict[str, Method] = {
    "balance": balance,
    "expiring_points": expiring_points,
    "transactions": transactions,
    "trigger_promotions": trigger_promotions,
    "tiers": tiers,
    "accrue_points": _points("accrual"),
    "redeeme_points": _points("redeem"),
    "commit_transaction": _by_transaction("commit", Account.commit_hold),
    "rollback_transaction": _by_transaction("rollback", Account.rollback_hold),
    "cancel_transaction": _by_transaction("cancel", Account.cancel),
    "register_member": register,
    "delete_member": delete,
    "transactions_export": export,
    "transactions_export_status": export_status,
}
