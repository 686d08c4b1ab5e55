"""attrs validators that raise our ``ValidationError`` (attrs' own raise bare ValueError).

Each names the field and the bad value, so an invalid value object fails the same way whether it
was built from a file, from the wire, or by hand.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import types
import typing
from collections.abc import Callable, Container, Iterable
from typing import Any, TypeVar

import attrs

from .errors import Path, ValidationError

# Every date the library reads lies in these years, so a lifetime (at most 100 years), a hold
# (at most one) or a change of time zone can never leave the range ``datetime`` represents.
MIN_YEAR, MAX_YEAR = 1900, 8999

Validator = Any  # attrs' validator callables; precise typing buys nothing here
F = TypeVar("F", bound=Callable[..., Any])


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


def parse_moment(value: object, path: Path) -> dt.datetime | None:
    """``None``, or ISO-8601 text with an offset read as an ``instant``: how stored documents
    (rows, state files) write their times."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(path, value, "must be an ISO-8601 string or null")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(path, value, "must be ISO-8601 with an offset") from None
    return instant(moment, path)


def optional(validator: Validator) -> Validator:
    """``validator``, or ``None``."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None:
            validator(instance, attribute, value)

    return check


def checked(function: F) -> F:
    """Check each argument against the classes its annotation names, before the body runs.

    A public function handed the wrong kind of value (``None`` for a program, a string for a
    time) raises ``ValidationError`` naming the parameter, not an ``AttributeError`` from deep
    inside. Generic annotations are checked by their container (``Sequence[Line]`` → a
    ``Sequence``); the body and the values' own validators check the rest. The plan is built on
    the first call, when every annotation can be resolved.
    """
    plan: list[tuple[str, int, tuple[type, ...]]] | None = None

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        nonlocal plan
        if plan is None:
            plan = _plan(function)
        _check(plan, args, kwargs)
        return function(*args, **kwargs)

    return typing.cast(F, run)


def _plan(function: Callable[..., Any]) -> list[tuple[str, int, tuple[type, ...]]]:
    hints = typing.get_type_hints(function)
    plan = []
    for position, (name, parameter) in enumerate(inspect.signature(function).parameters.items()):
        kinds = _classes(hints.get(name, Any))
        if kinds is not None and parameter.kind not in (
            parameter.VAR_KEYWORD,
            parameter.VAR_POSITIONAL,
        ):
            index = position if parameter.kind is not parameter.KEYWORD_ONLY else 1 << 30
            plan.append((name, index, kinds))
    return plan


def _classes(annotation: Any) -> tuple[type, ...] | None:
    """The classes an annotation admits, or ``None`` when it cannot be checked by isinstance."""
    if annotation is None or annotation is type(None):
        return (type(None),)
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        parts = [_classes(a) for a in typing.get_args(annotation)]
        return None if any(p is None for p in parts) else tuple(k for p in parts if p for k in p)
    if origin is not None:
        return (origin,) if isinstance(origin, type) else None
    if isinstance(annotation, type) and annotation not in (object, Any):
        return (annotation,)
    return None


def _names(kinds: tuple[type, ...]) -> str:
    named = {type(None): "None", dt.datetime: "a timezone-aware datetime"}
    return " or ".join(named.get(k, k.__name__) for k in kinds)


T = TypeVar("T")


def tuple_of(values: object, kind: Any, name: str) -> tuple[Any, ...]:
    """Converter body: a tuple of ``kind`` from a list or tuple; anything else names ``name``."""
    if not isinstance(values, list | tuple):
        raise ValidationError((name,), values, "must be a list")
    for index, item in enumerate(values):
        if not isinstance(item, kind):
            label = getattr(kind, "__name__", "condition")
            raise ValidationError((name, index), item, f"must be a {label}")
    return tuple(values)


C = TypeVar("C", bound=type)


def typed(cls: C) -> C:
    """Class decorator for attrs values: each field without a converter is checked against
    the classes its annotation names (as ``checked`` does for functions), so ``Promotion(name=5)``
    is a ``ValidationError``, not a crash at rendering. The class's own validators speak first:
    their messages are the precise ones."""
    init: Callable[..., None] = cls.__init__  # type: ignore[misc]
    plan: list[tuple[str, int, tuple[type, ...]]] | None = None

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal plan
        if plan is None:
            plan = _field_plan(cls)
        try:
            init(self, *args, **kwargs)
        except ValidationError:
            raise
        except Exception:
            _check(plan, args, kwargs)  # a wrong type made the body fail: say which
            raise
        _check(plan, args, kwargs)

    cls.__init__ = __init__  # type: ignore[misc]
    return cls


@functools.cache
def trusted(cls: type[T]) -> Callable[..., T]:
    """``cls``'s constructor without ``typed``'s check of the argument types: for the readers
    (of program files, of wire requests) whose values have exactly the annotated types already.
    The class's own validators still run."""
    init = getattr(vars(cls).get("__init__"), "__wrapped__", None)
    if init is None:
        return cls

    def build(*args: object, **kwargs: object) -> T:
        value = cls.__new__(cls)
        init(value, *args, **kwargs)
        return value

    return build


def _field_plan(cls: type) -> list[tuple[str, int, tuple[type, ...]]]:
    hints = typing.get_type_hints(cls)
    plan = []
    fields = [f for f in attrs.fields(cls) if f.init]
    for position, field in enumerate(fields):
        kinds = _classes(hints.get(field.name, Any)) if field.converter is None else None
        if kinds is not None:
            plan.append((field.alias, position if not field.kw_only else 1 << 30, kinds))
    return plan


def _check(
    plan: list[tuple[str, int, tuple[type, ...]]], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    for name, position, kinds in plan:
        if position < len(args):
            value = args[position]
        elif name in kwargs:
            value = kwargs[name]
        else:
            continue
        if (
            not isinstance(value, kinds)
            or (isinstance(value, bool) and bool not in kinds)
            or (isinstance(value, str) and str not in kinds)  # a str is a Sequence, not a list
        ):
            raise ValidationError((name,), value, f"must be {_names(kinds)}")
