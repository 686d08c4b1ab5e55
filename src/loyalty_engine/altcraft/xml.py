"""The contracts' XML: a ``<xml>`` root, an element per key, one element per list item.

XML writes every value as text and cannot tell a list of one from a single value, so reading
needs the message's ``Shape`` (``shapes.py``): it says which elements are lists, integers,
booleans or numbers; everything else is text, and unknown elements are kept as text or nested
objects, like unknown JSON keys. The document that comes out is what ``json.loads`` would give
for the same message, so one parser reads both formats. Conventions where XML has no word:
an empty element is an empty list, object or text as the shape says; a JSON ``null`` is an
absent element; a character XML 1.0 cannot carry is written as U+FFFD.

Parsing goes through ``defusedxml``: a DTD, an entity declaration or an external reference is
refused before anything is expanded (the billion-laughs and XXE attacks).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from ..errors import Path, ValidationError
from ..parse import MAX_NESTING, check
from .shapes import BOOL, FREE, INT, NUMBER, UNKNOWN, Shape

ROOT = "xml"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")  # ASCII: Python's \w allows more than XML
_INTEGER = re.compile(r"\s*-?\d{1,19}\s*\Z", re.ASCII)  # "٣" is not a number on the wire
_SURROGATE = re.compile("[\ud800-\udfff]")
_BAD_CHARS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;", '"': "&quot;"})
# an attribute's whitespace is normalised on reading unless written as references
_ATTRIBUTE = str.maketrans({"\n": "&#10;", "\t": "&#9;"})


def read_xml(data: bytes | str, shape: Mapping[str, Shape], *, source: str) -> dict[str, object]:
    """Parse an XML message into the document its JSON form would be."""
    try:
        import defusedxml.ElementTree as safe
        from defusedxml import DefusedXmlException
    except ImportError:  # pragma: no cover - the [xml] extra is installed with [http] and [dev]
        raise ValidationError((source,), "xml", "XML needs the 'defusedxml' package") from None
    if isinstance(data, str) and _SURROGATE.search(data):
        raise ValidationError((source,), "…", "text that is not Unicode (a lone surrogate)")
    try:
        root = safe.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise ValidationError((source,), type(error).__name__, "refused: DTDs and entities "
                              "are not accepted") from None  # fmt: skip
    except ParseError as error:
        line, column = error.position
        reason = f"malformed XML at line {line} column {column + 1}"
        raise ValidationError((source,), str(error).split(":")[0], reason) from None
    except (LookupError, ValueError, UnicodeError) as error:  # the declaration's encoding
        raise ValidationError((source,), "encoding", f"unusable encoding: {error}") from None
    except RecursionError:
        raise ValidationError((source,), "…", f"nested deeper than {MAX_NESTING}") from None
    if root.tag != ROOT:
        raise ValidationError((source,), root.tag, f"the root element must be <{ROOT}>")
    document = _object(root, shape, ())
    check(document)
    return document


def _object(element: Element, shape: Mapping[str, Shape], path: Path) -> dict[str, object]:
    if len(path) >= MAX_NESTING:
        raise ValidationError(path, "…", f"nested deeper than {MAX_NESTING}")
    out: dict[str, object] = {}
    for child in element:
        key = _key(child)
        inner = shape.get(key, UNKNOWN)
        if isinstance(inner, tuple):  # a list: one element per item; an empty one, no items
            items = out.setdefault(key, [])
            assert isinstance(items, list)
            if len(child) or child.text:
                items.append(_value(child, inner[0], (*path, key, len(items))))
            continue
        value = _value(child, inner, (*path, key))
        if key not in out:
            out[key] = value
        elif inner is UNKNOWN:  # a repeated unknown element: a list, as JSON would have it
            earlier = out[key]  # a value is never a list, so a list is the repetition's
            if isinstance(earlier, list):
                earlier.append(value)
            else:
                out[key] = [earlier, value]
        else:
            raise ValidationError((*path, key), value, "must appear once")
    return out


def _value(element: Element, shape: Shape, path: Path) -> object:
    if isinstance(shape, Mapping):
        return _object(element, shape, path)
    if len(element):
        if shape is FREE or shape is UNKNOWN:
            return _object(element, {}, path)
        raise ValidationError(path, _key(element[0]), "must be a value, not nested elements")
    text = element.text or ""
    if (shape is INT or shape is NUMBER) and _INTEGER.match(text):
        return int(text)
    if shape is BOOL and text.strip() in ("true", "false"):
        return text.strip() == "true"
    if shape is FREE and not text:
        return {}
    return text


def _key(element: Element) -> str:
    tag = element.tag if isinstance(element.tag, str) else "?"
    if tag == "item" and "key" in element.attrib:  # a key that is not an XML name
        return element.attrib["key"]
    return tag


def write_xml(document: Mapping[str, object]) -> bytes:
    """The message as the contracts write it: ``<xml>``, no declaration, one element a line."""
    parts = [f"<{ROOT}>"]
    for key, value in document.items():
        _write(parts, key, value)
    parts.append(f"</{ROOT}>")
    return "\n".join(parts).encode("utf-8")


def _write(parts: list[str], key: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, list | tuple):
        if not value:
            parts.append(_empty(key))
        for item in value:
            _write(parts, key, item)
        return
    open_tag, close_tag = _tags(key)
    if isinstance(value, Mapping):
        if not value:
            parts.append(_empty(key))
            return
        parts.append(open_tag)
        for inner, item in value.items():
            _write(parts, str(inner), item)
        parts.append(close_tag)
        return
    parts.append(f"{open_tag}{_text(value)}{close_tag}")


def _tags(key: str) -> tuple[str, str]:
    if _NAME.match(key):
        return f"<{key}>", f"</{key}>"
    return f'<item key="{_escape(key).translate(_ATTRIBUTE)}">', "</item>"


def _empty(key: str) -> str:
    open_tag, _ = _tags(key)
    return open_tag[:-1] + "/>"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return _escape(str(value))


def _escape(text: str) -> str:
    return _BAD_CHARS.sub("\ufffd", text).translate(_ESCAPES)
