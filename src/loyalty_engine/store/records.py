"""What a store keeps about a member besides their ledger: identities, segments and tags.

Identities are how a request finds a member (the platform's matching block): ``profile_id``,
``email``, ``phone`` or a custom field. Each is unique in a store. Emails are compared
case-insensitively; phones by their digits (and a leading ``+``), so ``+7 (900) 123-45-67`` and
``+79001234567`` are one phone.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable, Iterator, Mapping
from typing import Literal

import attrs

from ..errors import ValidationError
from ..ledger.effects import Registration
from ..ledger.journal import Transaction
from ..model import not_blank, to_texts
from ..validators import one_of, typed

Method = Literal["profile_id", "email", "phone", "custom"]
_NOT_PHONE = re.compile(r"[\s\-().]")


def _texts(values: Iterable[str]) -> frozenset[str]:
    return to_texts(values, "texts")


def _fields(
    values: Mapping[str, str] | Iterable[tuple[str, str]],
) -> tuple[tuple[str, str], ...]:
    if isinstance(values, tuple):  # already pairs (attrs.evolve passes the field back)
        values = dict(values)
    if not isinstance(values, Mapping) or not all(
        isinstance(k, str) and k and isinstance(v, str) and v for k, v in values.items()
    ):
        raise ValidationError(("fields",), values, "must map field names to non-empty strings")
    return tuple(sorted(values.items()))


@typed
@attrs.frozen(kw_only=True)
class Profile:
    """A member's identities and the segments and tags promotions see."""

    profile_id: str = attrs.field(validator=not_blank)
    email: str | None = None
    phone: str | None = None
    fields: tuple[tuple[str, str], ...] = attrs.field(factory=dict, converter=_fields)
    segments: frozenset[str] = attrs.field(default=frozenset(), converter=_texts)
    tags: frozenset[str] = attrs.field(default=frozenset(), converter=_texts)

    def identities(self) -> Iterator[tuple[str, str]]:
        """(kind, normalised value) pairs, each unique in a store."""
        if self.email is not None:
            yield "email", normal_email(self.email)
        if self.phone is not None:
            yield "phone", normal_phone(self.phone)
        for name, value in self.fields:
            yield f"field:{name}", value


@typed
@attrs.frozen
class Match:
    """How a request names its member: ``Match("email", "a@b.c")``,
    ``Match("custom", "12345", field_name="card")``."""

    method: Method = attrs.field(validator=one_of(typing.get_args(Method)))
    value: str = attrs.field(validator=not_blank)
    field_name: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.method == "custom") != (self.field_name is not None):
            raise ValidationError(("field_name",), self.field_name, "needed with custom only")

    @property
    def key(self) -> tuple[str, str]:
        """The identity this match looks up (kind, normalised value)."""
        if self.method == "email":
            return "email", normal_email(self.value)
        if self.method == "phone":
            return "phone", normal_phone(self.value)
        if self.method == "custom":
            return f"field:{self.field_name}", self.value
        return "profile_id", self.value


@attrs.frozen(kw_only=True)
class StoredMember:
    """One member as a store holds them, read at one moment: enough to rebuild the Membership."""

    profile: Profile
    registration: Registration
    rows: tuple[Transaction, ...]  # every account's rows, currency by currency, in id order
    versions: Mapping[str, int]  # currency eid → the account's version as the store records it


@attrs.frozen
class TransactionKey:
    """Where a transaction is: its account and its id there."""

    profile_id: str
    currency: str
    id: int


def normal_email(text: str) -> str:
    return text.strip().casefold()


def normal_phone(text: str) -> str:
    return _NOT_PHONE.sub("", text)
