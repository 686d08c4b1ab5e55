"""Untrusted text to plain documents, within limits checked before any work is done.

Every JSON and TOML document the library reads passes here: requests, programs, member and
state files. The parsers' own failures (a 5,000-digit integer, nesting that exhausts the stack,
a lone surrogate that no file or terminal can encode) become one ``ValidationError`` naming
the path, and a number is refused when writing it out again could take more than a line
(``1e999999999`` is 25 bytes in and a gigabyte out).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from decimal import Decimal

from .errors import Path, ValidationError
from .money import MAX_DIGITS, plain_number

MAX_NESTING = 64  # objects and lists inside each other; real documents use under ten
_MAX_NUMBER_TEXT = 2 * MAX_DIGITS + 10  # the longest number text worth converting


class _TooLong:
    """A number whose text is too long to convert; refused with its path by ``check``."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _guarded(convert: Callable[[str], object]) -> Callable[[str], object]:
    return lambda text: convert(text) if len(text) <= _MAX_NUMBER_TEXT else _TooLong(text)


def json_document(
    text: str | bytes, source: str, *, floats: Callable[[str], object] = Decimal
) -> object:
    """Parse JSON (numbers with a fraction through ``floats``) and ``check`` it."""

    def constant(name: str) -> object:
        raise ValidationError((source,), name, "not a JSON number")

    try:
        data = json.loads(
            text, parse_float=_guarded(floats), parse_int=_guarded(int), parse_constant=constant
        )
    except json.JSONDecodeError as error:
        reason = f"malformed JSON at line {error.lineno} column {error.colno}"
        raise ValidationError((source,), error.msg, reason) from None
    except RecursionError:
        raise ValidationError((source,), "…", f"nested deeper than {MAX_NESTING}") from None
    except UnicodeDecodeError:
        raise ValidationError((source,), "…", "not UTF-8") from None
    check(data)
    return data


def toml_document(text: str, source: str) -> object:
    """Parse TOML (floats stay floats, for the reader to refuse) and ``check`` it."""
    try:
        data = tomllib.loads(text, parse_float=_guarded(float))
    except tomllib.TOMLDecodeError as error:
        raise ValidationError((source,), source, f"malformed: {error}") from None
    except ValueError as error:  # tomllib lets int()'s digit limit through
        raise ValidationError((source,), source, f"malformed: {error}") from None
    except RecursionError:
        raise ValidationError((source,), "…", f"nested deeper than {MAX_NESTING}") from None
    check(data)
    return data


def check(document: object) -> None:
    """Refuse nesting past ``MAX_NESTING``, overlong numbers and text that is not Unicode."""
    stack: list[tuple[object, Path]] = [(document, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict | list):
            if len(path) >= MAX_NESTING:
                raise ValidationError(path, "…", f"nested deeper than {MAX_NESTING}")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    _text(key, path)
                stack.append((item, (*path, key)))
        elif isinstance(value, str):
            _text(value, path)
        elif isinstance(value, _TooLong):
            reason = f"a number of {len(value.text)} characters; at most {MAX_DIGITS} digits"
            raise ValidationError(path, value.text, reason)
        elif isinstance(value, int | Decimal) and not plain_number(value):
            reason = f"must be a finite number of at most {MAX_DIGITS} digits"
            raise ValidationError(path, value, reason)


def _text(text: str, path: Path) -> None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(path, text, "not valid Unicode (a lone surrogate)") from None
