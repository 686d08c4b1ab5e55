"""Untrusted text to plain documents, within limits checked before any work is done.

Every JSON and TOML document the library reads passes here: requests, programs, member and
state files. The parsers' own failures (a 5,000-digit integer, nesting that exhausts the stack,
a lone surrogate that no file or terminal can encode) become one ``ValidationError`` naming
the path, and a number is refused when writing it out again could take more than a line
(``1e999999999`` is 25 bytes in and a gigabyte out).
"""

from __future__ import annotations

import json
import re
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

    strict = isinstance(text, bytes)  # strict UTF-8 holds no surrogate: only an escape can
    try:
        if isinstance(text, bytes):  # json.loads would take UTF-16 and -32 too: we take UTF-8
            text = text.decode("utf-8-sig")
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
    check(data, texts=_SURROGATE_ESCAPE.search(text) is not None or not (strict or text.isascii()))
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
    check(data, texts=_SURROGATE_ESCAPE.search(text) is not None or not text.isascii())
    return data


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def check(document: object, *, texts: bool = True) -> None:
    """Refuse nesting past ``MAX_NESTING``, overlong numbers and (with ``texts``) text that is
    not Unicode. A quick walk says whether anything offends; the path is found again for the
    error."""
    if not _clean(document, texts):
        _refuse(document, texts)
        raise AssertionError("the walk and _refuse disagree")  # pragma: no cover


def _clean(document: object, texts: bool) -> bool:
    """The walk: only containers and their depths are kept; scalars are judged as they are met,
    text first (most of a document)."""
    stack: list[tuple[dict[object, object] | list[object], int]] = [([document], -1)]
    while stack:
        container, depth = stack.pop()
        if depth >= MAX_NESTING or (
            texts and isinstance(container, dict) and not all(map(_unicode, container))
        ):
            return False
        for value in container.values() if isinstance(container, dict) else container:
            if isinstance(value, str):
                if texts and not _unicode(value):
                    return False
            elif isinstance(value, dict | list):
                stack.append((value, depth + 1))
            elif isinstance(value, _TooLong) or (
                isinstance(value, int | Decimal) and not plain_number(value)
            ):
                return False
    return True


def _refuse(document: object, texts: bool, path: Path = ()) -> None:
    """Raise the error of the first offending node under ``document`` (depth first)."""
    value = document
    if isinstance(value, dict | list):
        if len(path) >= MAX_NESTING:
            raise ValidationError(path, "…", f"nested deeper than {MAX_NESTING}")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if texts and isinstance(key, str) and not _unicode(key):
                raise ValidationError(path, key, "not valid Unicode (a lone surrogate)")
            _refuse(item, texts, (*path, key))
    elif texts and isinstance(value, str) and not _unicode(value):
        raise ValidationError(path, value, "not valid Unicode (a lone surrogate)")
    elif isinstance(value, _TooLong):
        reason = f"a number of {len(value.text)} characters; at most {MAX_DIGITS} digits"
        raise ValidationError(path, value.text, reason)
    elif (
        isinstance(value, int | Decimal) and not isinstance(value, bool) and not plain_number(value)
    ):
        reason = f"must be a finite number of at most {MAX_DIGITS} digits"
        raise ValidationError(path, value, reason)


def _unicode(text: object) -> bool:
    if not isinstance(text, str) or text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
