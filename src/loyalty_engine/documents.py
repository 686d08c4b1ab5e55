"""Our own small JSON documents (not Altcraft's): the member file the CLI reads.

``{"profile_id": "p1", "tier": "gold", "segments": [], "tags": [],
"balances": {"bonus1": {"active": "20999", "total": "20999"}}}``; ``total`` defaults to ``active``.
Strict, as program files are: an unknown key (a typo such as ``"balance"``) is an error.
"""

from __future__ import annotations

import os
from decimal import Decimal

from .altcraft.wire import Reader, read_json_file
from .errors import ValidationError, ValidationErrors, show
from .model import MAX_POINTS_PRECISION, Balance, Member
from .money import parse_decimal
from .validators import checked


@checked
def member_from_dict(data: object) -> Member:
    errors: list[ValidationError] = []
    top = Reader.of(data, (), errors)
    member = None
    if top is not None:
        _known(top, _MEMBER_KEYS)
        balances = {}
        raw = top.data.get("balances", {})
        if not isinstance(raw, dict):
            top.fail("balances", raw, "must be an object of currency → balance")
            raw = {}
        for eid, value in raw.items():
            balance = Reader.of(value, ("balances", eid), errors)
            if balance is None:
                continue
            _known(balance, _BALANCE_KEYS)
            active = _points(balance, "active", required=True)
            total = _points(balance, "total")
            if active is not None:
                made = balance.build(Balance, active, total if total is not None else active)
                if isinstance(made, Balance):
                    balances[eid] = made
        member = top.build(
            Member,
            profile_id=top.text("profile_id", required=True),
            balances=balances,
            tier=top.text("tier"),
            segments=top.texts("segments"),
            tags=top.texts("tags"),
        )
    ValidationErrors.collect(errors)
    assert isinstance(member, Member)
    return member


_MEMBER_KEYS = frozenset({"profile_id", "tier", "segments", "tags", "balances"})
_BALANCE_KEYS = frozenset({"active", "total"})


def _known(reader: Reader, keys: frozenset[str]) -> None:
    for key in sorted(set(reader.data) - keys, key=show):
        reader.fail(key, reader.data[key], f"unknown key; expected one of {sorted(keys)}")


def _points(reader: Reader, key: str, *, required: bool = False) -> Decimal | None:
    value = reader.number(key, required=required)
    if value is None:
        return None
    try:
        return parse_decimal(value, (*reader.path, key), places=MAX_POINTS_PRECISION)
    except ValidationError as error:
        reader.errors.append(error)
        return None


@checked
def member_to_dict(member: Member) -> dict[str, object]:
    out: dict[str, object] = {"profile_id": member.profile_id}
    if member.tier is not None:
        out["tier"] = member.tier
    out["segments"] = sorted(member.segments)
    out["tags"] = sorted(member.tags)
    out["balances"] = {
        eid: {"active": format(b.active, "f"), "total": format(b.total, "f")}
        for eid, b in member.balances
    }
    return out


@checked
def load_member(path: str | os.PathLike[str]) -> Member:
    return member_from_dict(read_json_file(path))
