"""attrs validators that raise our ``ValidationError`` (attrs' own raise bare ValueError).

Each names the field and the bad value, so an invalid value object fails the same way whether it
was built from a file, from the wire, or by hand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container, Iterable
from typing import Any

import attrs

from .errors import Path, ValidationError

# Every date the library reads lies in these years, so a lifetime (at most 100 years), a hold
# (at most one) or a change of time zone can never leave the range ``datetime`` represents.
MIN_YEAR, MAX_YEAR = 1900, 8999

Validator = Any  # attrs' validator callables; precise typing buys nothing here


def one_of(options: Iterable[object]) -> Validator:
    """The value is one of ``options`` (a Literal's words, a range of ints)."""
    allowed: Container[object] = tuple(options) if not isinstance(options, range) else options

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, bool) and not any(isinstance(o, bool) for o in _listed(allowed)):
            raise ValidationError((attribute.name,), value, f"must be one of {_show(allowed)}")
        if value not in allowed:
            raise ValidationError((attribute.name,), value, f"must be one of {_show(allowed)}")

    return check


def of_type(kind: type | tuple[type, ...]) -> Validator:
    """The value is an instance of ``kind`` (``bool`` is not accepted as an ``int``)."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise ValidationError((attribute.name,), value, f"must be {names}")

    return check


def _listed(options: Container[object]) -> Iterable[object]:
    return options if isinstance(options, tuple | range) else ()


def _show(options: Container[object]) -> str:
    if isinstance(options, range):
        return f"{options.start}..{options.stop - 1}"
    return str(options)


def instant(value: object, path: Path) -> dt.datetime:
    """``value`` if it is a timezone-aware datetime in ``MIN_YEAR..MAX_YEAR``."""
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise ValidationError(path, value, "must be a timezone-aware datetime")
    try:
        year = value.astimezone(dt.UTC).year
    except OverflowError:
        year = value.year
    if not MIN_YEAR <= year <= MAX_YEAR or not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValidationError(path, value, f"must fall in the years {MIN_YEAR}..{MAX_YEAR}")
    return value


def optional(validator: Validator) -> Validator:
    """``validator``, or ``None``."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None:
            validator(instance, attribute, value)

    return check
