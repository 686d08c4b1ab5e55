"""Reading Altcraft-style JSON safely, and pulling typed fields out of it with their paths.

Wire requests may carry fields we do not use (the seed sends ``currency`` on every line); like the
API, we ignore unknown keys. Known keys are checked strictly, and every problem of a document is
collected with its path, then raised together.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path as FilePath

import attrs

from ..errors import Path, ValidationError, ValidationErrors
from ..model import INT64, Fields, PointsRef
from ..parse import json_document
from ..validators import checked, instant

MAX_BYTES = 10 * 1024 * 1024
_WIRE_KEYS: dict[str | int, str] = {"iid": "points_currency_iid", "eid": "points_currency_eid"}


def read_json(text: str | bytes, *, source: str, limit: int = MAX_BYTES) -> object:
    """Parse JSON with Decimal numbers; oversized, malformed or hostile input is an error."""
    if len(text) > limit:
        raise ValidationError((source,), len(text), f"larger than {limit} bytes")
    return json_document(text, source)


@checked
def read_json_file(path: str | os.PathLike[str], *, limit: int = MAX_BYTES) -> object:
    file = FilePath(path)
    try:
        size = file.stat().st_size
        if size > limit:
            raise ValidationError((file.name,), size, f"larger than {limit} bytes")
        return read_json(file.read_bytes(), source=file.name, limit=limit)
    except ValidationError:
        raise
    except ValueError:  # a NUL byte or a lone surrogate in the path
        raise ValidationError((file.name,), str(file), "cannot read: not a valid path") from None
    except OSError as error:
        raise ValidationError((file.name,), str(file), f"cannot read: {error.strerror}") from None


_MISSING = object()


def as_sent(error: ValidationError, document: object) -> ValidationError:
    """``error`` with each problem's value replaced by the document's value at its path, when
    the path names one: the core checks parsed values (``Decimal('-5')``, a re-rendered time),
    but a client looks for what it sent (``"-5"``)."""
    if isinstance(error, ValidationErrors):
        return ValidationErrors([as_sent(e, document) for e in error.errors])
    value: object = document
    for step in error.path:
        if isinstance(value, Mapping) and isinstance(step, str):
            value = value.get(step, _MISSING)
        elif isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
            value = value[step]
        else:
            value = _MISSING
        if value is _MISSING:
            return error
    if not error.path or isinstance(value, Mapping | list):  # a whole object: the reason says
        return error
    return ValidationError(error.path, value, error.reason)


@attrs.define
class Reader:
    """A JSON object being read: typed getters that record problems instead of raising."""

    data: Mapping[str, object]
    path: Path
    errors: list[ValidationError]

    @classmethod
    def of(cls, value: object, path: Path, errors: list[ValidationError]) -> Reader | None:
        if not isinstance(value, Mapping):
            errors.append(ValidationError(path, value, "must be an object"))
            return None
        return cls(value, path, errors)

    def fail(self, key: str | int, value: object, reason: str) -> None:
        self.errors.append(ValidationError((*self.path, key), value, reason))

    def _get(self, key: str, required: bool) -> object:
        value = self.data.get(key)
        if value is None and required:
            self.fail(key, None, "required")
        return value

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(key, value, "must be a string")
            return None
        return value

    def integer(self, key: str, *, required: bool = False) -> int | None:
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, value, "must be an integer")
            return None
        if value not in INT64:
            self.fail(key, value, "must be a 64-bit integer")
            return None
        return value

    def money_text(self, key: str, *, required: bool = False) -> str | None:
        """Money is a decimal *string* on the wire ("139999.00"); a JSON number is refused."""
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(key, value, 'money must be a decimal string such as "139999.00"')
            return None
        return value

    def number(self, key: str, *, required: bool = False) -> int | str | None:
        """An integer, or a decimal string (points of a fractional currency)."""
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            self.fail(key, value, 'must be an integer or a decimal string such as "100.50"')
            return None
        return value

    def moment(self, key: str) -> dt.datetime | None:
        value = self.text(key)
        if value is None:
            return None
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            self.fail(key, value, "must be an ISO-8601 date-time")
            return None
        if moment.utcoffset() is None:
            self.fail(key, value, "must carry a UTC offset (…Z)")
            return None
        try:
            return instant(moment, ())
        except ValidationError as error:
            self.fail(key, value, error.reason)  # the text as written, not the parsed time
            return None

    def items(self, key: str, *, required: bool = False) -> list[Reader]:
        value = self._get(key, required)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(key, value, "must be a list")
            return []
        out = []
        for index, item in enumerate(value):
            reader = Reader.of(item, (*self.path, key, index), self.errors)
            if reader is not None:
                out.append(reader)
        return out

    def texts(self, key: str) -> list[str]:
        value = self._get(key, False)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, value, "must be a list of strings")
            return []
        return value

    def custom(self, key: str) -> Fields:
        value = self._get(key, False)
        if value is None:
            return Fields()
        try:
            if not isinstance(value, Mapping):
                raise ValidationError((), value, "must be an object")
            return Fields(value)
        except ValidationError as error:
            self.errors.append(error.at(*self.path, key))
            return Fields()

    def points_ref(self, iid: int | None, eid: str | None) -> PointsRef | None:
        """A currency reference; its errors named by the wire keys (``points_currency_eid``)."""
        try:
            return PointsRef(iid, eid)
        except ValidationError as error:
            key = _WIRE_KEYS.get(error.path[0], error.path[0])
            self.fail(key, error.value, error.reason)
            return None

    def build(self, make: object, *args: object, **kwargs: object) -> object:
        """Call a value constructor, turning its (relative-path) errors into document errors."""
        try:
            return make(*args, **kwargs)  # type: ignore[operator]
        except ValidationError as error:
            self.errors.append(error.at(*self.path))
            return None
