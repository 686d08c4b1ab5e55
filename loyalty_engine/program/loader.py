"""Programs from dicts, JSON and TOML files, and back.

How this works: the document is walked against the attrs classes themselves. Each field's type
annotation says how to convert its value (``Decimal`` from a string, ``datetime`` from ISO-8601,
a condition from its ``kind``, a benefit from the promotion's ``type`` and ``kind``); the classes'
own validators then judge the values. Every problem is collected with its document path and all
are raised together. ``program_to_dict`` walks the same way in reverse, leaving out defaults, so
``program_from_dict(program_to_dict(p)) == p``.
"""

from __future__ import annotations

import datetime as dt
import enum
import os
import types
import typing
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from ..conditions import KINDS, MAX_DEPTH, Condition
from ..errors import Path as ErrorPath
from ..errors import ValidationError, ValidationErrors
from ..money import parse_decimal
from ..parse import json_document, toml_document
from ..validators import checked, instant, tuple_of
from .benefits import BENEFITS, TYPE_OF, Benefit
from .program import Program
from .promotion import BUILTIN_CHOICES, Promotion

MAX_BYTES = 5 * 1024 * 1024
_SINGLE_KIND = {"redeem_points": "redeem", "code_issue": "issue", "message": "text"}
_CONDITION = typing.get_type_hints(Promotion)["applies_to"]  # Condition | None


class _Missing:
    """Marks a value that could not be converted (its error is already collected)."""


MISSING = _Missing()


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
    program = _Reader(errors).read(Program, data, ())
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


@attrs.frozen
class _Reader:
    errors: list[ValidationError]

    def fail(self, path: ErrorPath, value: object, reason: str) -> _Missing:
        self.errors.append(ValidationError(path, value, reason))
        return MISSING

    def read(self, kind: Any, value: object, path: ErrorPath, depth: int = 0) -> object:
        """Convert ``value`` to the annotated type ``kind``."""
        if kind == _CONDITION and value is None:
            return None
        if kind in (_CONDITION, Condition):
            return self.condition(value, path, depth)
        origin, args = typing.get_origin(kind), typing.get_args(kind)
        if origin in (types.UnionType, typing.Union):
            if value is None and type(None) in args:
                return None
            (inner,) = [a for a in args if a is not type(None)]
            return self.read(inner, value, path, depth)
        if origin is typing.Literal:
            return value if value in args else self.fail(path, value, f"must be one of {args}")
        if origin is tuple:
            return self.sequence(args, value, path, depth)
        if origin is frozenset:
            items = self.sequence((args[0], ...), value, path, depth)
            return frozenset(items) if isinstance(items, tuple) else MISSING
        if attrs.has(kind):
            return self.instance(kind, value, path, depth)
        return self.scalar(kind, value, path)

    def scalar(self, kind: Any, value: object, path: ErrorPath) -> object:
        if kind is bool or kind is str:
            ok = isinstance(value, kind)
            return value if ok else self.fail(path, value, f"must be a {kind.__name__}")
        if kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
            return value if ok else self.fail(path, value, "must be an integer")
        if kind is Decimal:
            if isinstance(value, float):
                return self.fail(path, value, 'write decimals as strings, e.g. "10.5"')
            try:
                return parse_decimal(value, path)
            except ValidationError as error:
                self.errors.append(error)
                return MISSING
        if kind is dt.datetime:
            return self.moment(value, path)
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            names = [m.value for m in kind]
            if not isinstance(value, str) or value not in names:  # our enums are words
                return self.fail(path, value, f"must be one of {names}")
            return kind(value)
        raise TypeError(f"no reader for {kind!r}")  # pragma: no cover - a programming error

    def moment(self, value: object, path: ErrorPath) -> object:
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value)
            except ValueError:
                return self.fail(path, value, "must be an ISO-8601 date-time")
        if not isinstance(value, dt.datetime) or value.utcoffset() is None:
            return self.fail(path, value, "must be a date-time with an offset (…Z)")
        try:
            return instant(value, path)
        except ValidationError as error:
            return self.fail(path, str(value), error.reason)

    def sequence(self, args: tuple[Any, ...], value: object, path: ErrorPath, depth: int) -> object:
        if len(args) == 2 and args[1] is ...:
            if isinstance(value, Mapping) and typing.get_origin(args[0]) is tuple:
                pairs = [self.read(args[0], v, path, depth) for v in value.items()]
                return MISSING if any(p is MISSING for p in pairs) else tuple(pairs)
            if not isinstance(value, list | tuple):
                return self.fail(path, value, "must be a list")
            items = [self.read(args[0], v, (*path, i), depth) for i, v in enumerate(value)]
            return MISSING if any(i is MISSING for i in items) else tuple(items)
        if not isinstance(value, list | tuple) or len(value) != len(args):
            return self.fail(path, value, "must be a pair")
        key, item = value
        pair = (self.read(args[0], key, path, depth), self.read(args[1], item, (*path, key), depth))
        return MISSING if any(p is MISSING for p in pair) else pair

    def instance(self, cls: type, value: object, path: ErrorPath, depth: int) -> object:
        if not isinstance(value, Mapping):
            return self.fail(path, value, "must be a table / object")
        data = dict(value)
        extra: dict[str, object] = {}
        if cls is Promotion:
            extra["benefit"] = self.benefit(data.pop("type", None), data, path)
        hints = typing.get_type_hints(cls)
        kwargs: dict[str, object] = {}
        known = set()
        complete = True
        for field in attrs.fields(cls):
            if not field.init:
                continue
            known.add(field.alias)
            if field.alias in extra:
                kwargs[field.alias] = extra[field.alias]
            elif field.alias in data:
                kwargs[field.alias] = self.read(
                    hints[field.name], data[field.alias], (*path, field.alias), depth
                )
            elif field.default is attrs.NOTHING:
                self.fail((*path, field.alias), None, "required")
                complete = False
        for key in data:
            if key not in known and key not in ("kind",):
                self.fail((*path, key), data[key], "unknown key")
        if not complete or any(v is MISSING for v in kwargs.values()):
            return MISSING
        try:
            return cls(**kwargs)
        except ValidationErrors as error:
            self.errors.extend(error.at(*path).errors)
        except ValidationError as error:
            self.errors.append(error.at(*path))
        return MISSING

    def benefit(self, kind: object, data: dict[str, object], path: ErrorPath) -> object:
        types_ = sorted({t for t, _ in BENEFITS})
        if kind not in types_:
            return self.fail((*path, "type"), kind, f"must be one of {types_}")
        raw = data.get("benefit")
        if not isinstance(raw, Mapping):
            return self.fail((*path, "benefit"), raw, "must be a table / object")
        name = raw.get("kind", _SINGLE_KIND.get(kind))
        cls = BENEFITS.get((kind, name)) if isinstance(name, str) else None
        if cls is None:
            kinds = sorted(k for t, k in BENEFITS if t == kind)
            return self.fail((*path, "benefit", "kind"), name, f"must be one of {kinds}")
        data.pop("benefit")
        return self.instance(cls, raw, (*path, "benefit"), 0)

    def condition(self, value: object, path: ErrorPath, depth: int) -> object:
        if depth >= MAX_DEPTH:
            return self.fail(path, "…", f"conditions nested deeper than {MAX_DEPTH}")
        if not isinstance(value, Mapping):
            return self.fail(path, value, "must be a table / object with a kind")
        kind = value.get("kind")
        cls = KINDS.get(kind) if isinstance(kind, str) else None
        if cls is None:
            return self.fail((*path, "kind"), value.get("kind"), f"must be one of {sorted(KINDS)}")
        return self.instance(cls, value, path, depth + 1)


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
