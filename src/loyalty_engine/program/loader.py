"""Programs from dicts, JSON and TOML files, and back.

How this works: the document is walked against the attrs classes themselves. Each field's type
annotation says how to convert its value (``Decimal`` from a string, ``datetime`` from ISO-8601,
a condition from its ``kind``, a benefit from the promotion's ``type`` and ``kind``); the classes'
own validators then judge the values. The annotations are read once per class, into a plan: for
each field its key, whether it is required and a reader chosen for its type, so reading a table is
a loop over readers. Every problem is collected with its document path and all are raised
together. ``program_to_dict`` walks the same way in reverse, leaving out defaults, so
``program_from_dict(program_to_dict(p)) == p``.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import operator
import os
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from ..conditions import KINDS, MAX_DEPTH, Condition
from ..errors import Path as ErrorPath
from ..errors import ValidationError, ValidationErrors
from ..money import parse_decimal
from ..parse import json_document, toml_document
from ..validators import checked, instant, trusted, tuple_of
from .benefits import BENEFITS, TYPE_OF, Benefit
from .program import Program
from .promotion import BUILTIN_CHOICES, Promotion

MAX_BYTES = 5 * 1024 * 1024
_SINGLE_KIND = {"redeem_points": "redeem", "code_issue": "issue", "message": "text"}
_CONDITION = typing.get_type_hints(Promotion)["applies_to"]  # Condition | None
_TYPES = sorted({t for t, _ in BENEFITS})  # the promotion types
_BENEFIT_KEYS = ("type", "benefit")  # a promotion's, read first: together they name its benefit
_TABLE = (dict, Mapping)  # dict first: isinstance of an ABC is a Python-level call


class _Missing:
    """Marks a value that could not be converted (its error is already collected)."""


MISSING = _Missing()
_is_missing = functools.partial(operator.is_, MISSING)  # by identity: asks no value's ``__eq__``


@checked
def load_program(path: str | os.PathLike[str], *, choices: Iterable[str] = ()) -> Program:
    """A program from a ``.toml`` or ``.json`` file; errors name the file or the key path."""
    file = Path(path)
    source = (file.name,)
    if file.suffix not in (".toml", ".json"):
        raise ValidationError(source, file.suffix, "a program file must be .toml or .json")
    try:
        raw = file.read_bytes()
    except OSError as error:
        raise ValidationError(source, str(file), f"cannot read: {error.strerror}") from None
    except ValueError:  # a NUL byte or a lone surrogate in the path
        raise ValidationError(source, str(file), "cannot read: not a valid path") from None
    if len(raw) > MAX_BYTES:
        raise ValidationError(source, len(raw), f"larger than {MAX_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError(source, "…", "not UTF-8") from None
    if file.suffix == ".toml":
        data = toml_document(text, file.name)
    else:  # a JSON number with a fraction is refused where a decimal string belongs, as in TOML
        data = json_document(text, file.name, floats=float)
    return program_from_dict(data, choices=choices)


@checked
def program_from_dict(data: object, *, choices: Iterable[str] = ()) -> Program:
    """A program from a plain document; every problem is reported at once, with its path."""
    errors: list[ValidationError] = []
    program = _instance(Program, errors, data, (), 0)
    allowed = set(BUILTIN_CHOICES) | set(tuple_of(list(choices), str, "choices"))
    if isinstance(program, Program):
        named = [(("settings", "choice"), program.settings.choice)] + [
            (("groups", i, "choice"), g.choice) for i, g in enumerate(program.groups)
        ]
        errors += [
            ValidationError(path, choice, f"unknown choice; use one of {sorted(allowed)}")
            for path, choice in named
            if choice not in allowed
        ]
    ValidationErrors.collect(errors)
    assert isinstance(program, Program)
    return program


# --- reading, by plans worked out once per class -----------------------------------------------

Errors = list[ValidationError]
Read = Callable[[Errors, object, ErrorPath, int], object]
"""Converts one value: (the errors found so far, the value, its path, depth of conditions)."""


class _Field(typing.NamedTuple):
    """One field of a plan: its key in the document, whether it must be there, its reader."""

    alias: str
    required: bool
    read: Read


@attrs.frozen
class _Plan:
    """The readers of a class's fields, and every key its table may hold."""

    fields: tuple[_Field, ...]
    known: frozenset[str]
    build: Callable[..., object]


@functools.cache
def _plan(cls: type) -> _Plan:
    """How to read ``cls``, worked out on first use: dispatching on annotations per value was
    most of a load."""
    hints = typing.get_type_hints(cls)
    init = [field for field in attrs.fields(cls) if field.init]
    first = _BENEFIT_KEYS if cls is Promotion else ()  # by ``_benefit``, not by an annotation
    # ``kind`` names the class of a condition or a benefit; in any other table it is unknown
    kind = ("kind",) if isinstance(getattr(cls, "kind", None), str) else ()
    return _Plan(
        fields=tuple(
            _Field(field.alias, field.default is attrs.NOTHING, _reader(hints[field.name]))
            for field in init
            if field.alias not in first
        ),
        known=frozenset([*(field.alias for field in init), *first, *kind]),
        build=trusted(cls),  # the readers produced the annotated types (a tenth of a load)
    )


def _reader(kind: Any) -> Read:
    """The reader for a field annotated ``kind``: the dispatch is done here, not per value."""
    if kind == _CONDITION:
        return _or_none(_condition)
    if kind == Condition:
        return _condition
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (types.UnionType, typing.Union):
        (inner,) = [a for a in args if a is not type(None)]
        return _or_none(_reader(inner))
    if origin is typing.Literal:
        return _one_of(args)
    if origin is tuple and len(args) == 2 and args[1] is ...:
        return _tuple_of(args[0])
    if origin is tuple:
        key, item = args
        return _pair(_reader(key), _reader(item))
    if origin is frozenset:
        return _frozenset_of(args[0])
    if attrs.has(kind):
        return functools.partial(_instance, kind)
    if kind in _SCALARS:
        return _SCALARS[kind]
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return _member_of(kind)
    raise TypeError(f"no reader for {kind!r}")  # pragma: no cover - a programming error


def _fail(errors: Errors, path: ErrorPath, value: object, reason: str) -> _Missing:
    errors.append(ValidationError(path, value, reason))
    return MISSING


def _instance(cls: type, errors: Errors, value: object, path: ErrorPath, depth: int) -> object:
    """A ``cls`` from a table; the class's own validators judge the values its plan read."""
    if not isinstance(value, _TABLE):
        return _fail(errors, path, value, "must be a table / object")
    plan = _plan(cls)
    kwargs: dict[str, object] = {}
    if cls is Promotion:
        kwargs["benefit"] = _benefit(errors, value, path)
    for alias, required, read in plan.fields:
        if alias in value:
            kwargs[alias] = read(errors, value[alias], (*path, alias), depth)
        elif required:
            kwargs[alias] = _fail(errors, (*path, alias), None, "required")
    if not plan.known.issuperset(value):
        for key in value:
            if key not in plan.known:
                _fail(errors, (*path, key), value[key], "unknown key")
    if any(map(_is_missing, kwargs.values())):  # its error is collected; the whole is unbuilt
        return MISSING
    try:
        return plan.build(**kwargs)
    except ValidationErrors as error:
        errors.extend(error.at(*path).errors)
    except ValidationError as error:
        errors.append(error.at(*path))
    return MISSING


def _benefit(errors: Errors, promotion: Mapping[Any, object], path: ErrorPath) -> object:
    """A promotion's benefit: its class is named by ``type`` and the benefit's ``kind``."""
    kind = promotion.get("type")
    if kind not in _TYPES:
        return _fail(errors, (*path, "type"), kind, f"must be one of {_TYPES}")
    raw = promotion.get("benefit")
    if not isinstance(raw, _TABLE):
        return _fail(errors, (*path, "benefit"), raw, "must be a table / object")
    name = raw.get("kind", _SINGLE_KIND.get(kind))
    cls = BENEFITS.get((kind, name)) if isinstance(name, str) else None
    if cls is None:
        kinds = sorted(k for t, k in BENEFITS if t == kind)
        return _fail(errors, (*path, "benefit", "kind"), name, f"must be one of {kinds}")
    return _instance(cls, errors, raw, (*path, "benefit"), 0)


def _condition(errors: Errors, value: object, path: ErrorPath, depth: int) -> object:
    if depth >= MAX_DEPTH:
        return _fail(errors, path, "…", f"conditions nested deeper than {MAX_DEPTH}")
    if not isinstance(value, _TABLE):
        return _fail(errors, path, value, "must be a table / object with a kind")
    kind = value.get("kind")
    cls = KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        return _fail(errors, (*path, "kind"), kind, f"must be one of {sorted(KINDS)}")
    return _instance(cls, errors, value, path, depth + 1)


def _or_none(read: Read) -> Read:
    def optional(errors: Errors, value: object, path: ErrorPath, depth: int) -> object:
        return None if value is None else read(errors, value, path, depth)

    return optional


def _one_of(options: tuple[object, ...]) -> Read:
    reason = f"must be one of {options}"

    def literal(errors: Errors, value: object, path: ErrorPath, depth: int) -> object:
        return value if value in options else _fail(errors, path, value, reason)

    return literal


def _tuple_of(kind: Any) -> Read:
    """A list of ``kind``; a table too when ``kind`` is a pair (its items are the pairs)."""
    item = _reader(kind)
    pairs = typing.get_origin(kind) is tuple

    def sequence(errors: Errors, value: object, path: ErrorPath, depth: int) -> object:
        if pairs and isinstance(value, _TABLE):
            items = [item(errors, v, path, depth) for v in value.items()]
        elif isinstance(value, (list, tuple)):
            items = [item(errors, v, (*path, i), depth) for i, v in enumerate(value)]
        else:
            return _fail(errors, path, value, "must be a list")
        return MISSING if any(map(_is_missing, items)) else tuple(items)

    return sequence


def _pair(key: Read, item: Read) -> Read:
    """A key and its value; the value's errors are reported under the key."""

    def pair(errors: Errors, value: object, path: ErrorPath, depth: int) -> object:
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            return _fail(errors, path, value, "must be a pair")
        name, content = value
        out = (key(errors, name, path, depth), item(errors, content, (*path, name), depth))
        return MISSING if any(map(_is_missing, out)) else out

    return pair


def _frozenset_of(kind: Any) -> Read:
    items = _tuple_of(kind)

    def unordered(errors: Errors, value: object, path: ErrorPath, depth: int) -> object:
        out = items(errors, value, path, depth)
        return frozenset(out) if isinstance(out, tuple) else MISSING

    return unordered


def _member_of(kind: type[enum.Enum]) -> Read:
    names = [member.value for member in kind]
    reason = f"must be one of {names}"

    def member(errors: Errors, value: object, path: ErrorPath, depth: int) -> object:
        if not isinstance(value, str) or value not in names:  # our enums are words
            return _fail(errors, path, value, reason)
        return kind(value)

    return member


def _exactly(kind: type) -> Read:
    reason = f"must be a {kind.__name__}"

    def read(errors: Errors, value: object, path: ErrorPath, depth: int) -> object:
        return value if isinstance(value, kind) else _fail(errors, path, value, reason)

    return read


def _integer(errors: Errors, value: object, path: ErrorPath, depth: int) -> object:
    ok = isinstance(value, int) and not isinstance(value, bool)
    return value if ok else _fail(errors, path, value, "must be an integer")


def _decimal(errors: Errors, value: object, path: ErrorPath, depth: int) -> object:
    if isinstance(value, float):
        return _fail(errors, path, value, 'write decimals as strings, e.g. "10.5"')
    try:
        return parse_decimal(value, path)
    except ValidationError as error:
        errors.append(error)
        return MISSING


def _moment(errors: Errors, value: object, path: ErrorPath, depth: int) -> object:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return _fail(errors, path, value, "must be an ISO-8601 date-time")
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        return _fail(errors, path, value, "must be a date-time with an offset (…Z)")
    try:
        return instant(value, path)
    except ValidationError as error:
        return _fail(errors, path, str(value), error.reason)


_SCALARS: dict[object, Read] = {
    bool: _exactly(bool),
    str: _exactly(str),
    int: _integer,
    Decimal: _decimal,
    dt.datetime: _moment,
}


# --- back to a document ------------------------------------------------------------------------


@checked
def program_to_dict(program: Program) -> dict[str, object]:
    """The program as a plain document (the file format), defaults left out."""
    out = _write(program)
    assert isinstance(out, dict)
    return out


def _write(value: object) -> object:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, frozenset):
        return sorted(_write(v) for v in value)  # type: ignore[type-var]
    if isinstance(value, tuple):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            return {k: _write(v) for k, v in value}
        return [_write(v) for v in value]
    if attrs.has(type(value)):
        return _write_instance(value)
    return value


def _write_instance(value: Any) -> dict[str, object]:
    out: dict[str, object] = {}
    if isinstance(value, Promotion):
        out["type"] = TYPE_OF[type(value.benefit)]
    kind = getattr(type(value), "kind", None)
    if isinstance(kind, str) and isinstance(value, Condition | Benefit):
        out["kind"] = kind
    for field in attrs.fields(type(value)):
        if not field.init:
            continue
        item = getattr(value, field.name)
        default = field.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = default.factory(value) if default.takes_self else default.factory()
        if default is not attrs.NOTHING and item == default:
            continue
        out[field.alias] = _write(item)
    return out
