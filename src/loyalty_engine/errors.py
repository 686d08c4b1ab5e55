"""One exception tree: everything the library raises on purpose is a ``LoyaltyError``.

Each subclass is also the matching builtin, so ``except ValueError`` keeps working for callers
who do not know our names.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import reprlib
from collections.abc import Iterable, Sequence
from decimal import Decimal

Path = tuple[str | int, ...]

_MAX_SHOWN = 80  # a 10 MB string must not become a 10 MB error message
_TEXT = decimal.Context(capitals=1)  # how a Decimal is written in a message: 1E+2


class _Shown(reprlib.Repr):
    """A repr that stays short and safe for any value: deep, huge or hostile."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxstring, self.maxother = 3, _MAX_SHOWN, _MAX_SHOWN
        self.maxlist = self.maxtuple = self.maxdict = self.maxset = self.maxfrozenset = 4

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 128:  # str() of a 5,000-digit int raises; nobody reads it anyway
            return f"<an integer of about {x.bit_length() * 30103 // 100_000} digits>"
        return repr(x)

    # values as the user wrote them, not as Python spells them: 1.5, not Decimal('1.5')
    def repr_Decimal(self, x: Decimal, level: int) -> str:
        with decimal.localcontext(_TEXT):  # str() reads the context's capitals: not the caller's
            return str(x)

    def repr_datetime(self, x: dt.datetime, level: int) -> str:
        return x.isoformat()

    def repr_date(self, x: dt.date, level: int) -> str:
        return x.isoformat()

    def repr_Money(self, x: object, level: int) -> str:
        return f"{x} {getattr(x, 'currency', '')}"

    def repr_instance(self, x: object, level: int) -> str:
        try:
            text = repr(x)
        except Exception:
            return f"<{type(x).__name__}>"
        return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


_SHOWN = _Shown()
_PLAIN = re.compile(r"[\w\-+@:/.]{1,80}")  # a key written bare in a path


def show(value: object) -> str:
    """``value`` as an error message quotes it: bounded, one line, never raising."""
    text = repr(value) if isinstance(value, str) else _SHOWN.repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def render_path(path: Path) -> str:
    """``("promotions", 3, "benefit")`` → ``promotions[3].benefit``.

    A key that is not a plain word (a bracket, a space, a control character) is shown quoted,
    ``custom_fields['a b']``, so a path always reads as one unambiguous line.
    """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{show(part)}]"
        elif isinstance(part, str) and _PLAIN.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{show(part)}]"
    return out or "<root>"


class LoyaltyError(Exception):
    """Root of every error this library raises deliberately."""


class ValidationError(LoyaltyError, ValueError):
    """Input that can never be calculated. Carries where, what and why."""

    def __init__(self, path: Path, value: object, reason: str) -> None:
        self.path, self.value, self.reason = tuple(path), value, reason
        got = "missing" if value is None else f"got {show(value)}"
        super().__init__(f"{render_path(self.path)}: {reason} ({got})")

    def __reduce__(self) -> tuple[object, ...]:
        return (ValidationError, (self.path, self.value, self.reason))

    def at(self, *prefix: str | int) -> ValidationError:
        """The same error, seen from an enclosing document."""
        return ValidationError((*prefix, *self.path), self.value, self.reason)


class ValidationErrors(ValidationError):
    """Several problems in one document, all reported at once."""

    def __init__(self, errors: Sequence[ValidationError]) -> None:
        if not errors:
            raise ValueError("ValidationErrors needs at least one error")
        self.errors = tuple(errors)
        first = self.errors[0]
        super().__init__(first.path, first.value, first.reason)
        lines = [str(e) for e in self.errors]
        self.args = (f"{len(lines)} problem(s):\n  " + "\n  ".join(lines),)

    def __reduce__(self) -> tuple[object, ...]:
        return (ValidationErrors, (self.errors,))

    def at(self, *prefix: str | int) -> ValidationErrors:
        return ValidationErrors([e.at(*prefix) for e in self.errors])

    @classmethod
    def collect(cls, errors: Iterable[ValidationError]) -> None:
        """Raise every collected error (flattened), or nothing when there are none."""
        flat: dict[str, ValidationError] = {}  # each distinct problem once, in order found
        for error in errors:
            for one in error.errors if isinstance(error, ValidationErrors) else (error,):
                flat.setdefault(str(one), one)
        if len(flat) == 1:
            raise next(iter(flat.values()))
        if flat:
            raise cls(list(flat.values()))


class RuleError(LoyaltyError, ValueError):
    """A program that loads but cannot be applied (a reference to nothing, an unknown mode)."""


class LedgerError(LoyaltyError, ValueError):
    """A points-account operation that is not allowed in the account's current state."""


class ConflictError(LoyaltyError, RuntimeError):
    """The store moved on since the operation read it (or an id is taken): nothing was applied.

    Reload and retry (``store.transact`` does it), never overwrite.
    """


class InsufficientBalanceError(LedgerError):
    """A redemption the member's active balance does not cover."""


class UnknownTransactionError(LedgerError, LookupError):
    """An account has no transaction with the id or ``transaction_eid`` asked for."""


class ReusedIdError(LedgerError, ConflictError):
    """An id (a ``transaction_eid``, an order's ``external_id``) that was already used for a
    different request. Unlike other conflicts, retrying cannot help."""


class NotFoundError(LoyaltyError, LookupError):
    """What the request names does not exist (a member by its matching fields, an order)."""


class StoreError(LoyaltyError, OSError):
    """A store cannot be opened, read or written: a missing or read-only place, another schema
    version, a tampered or truncated file. The message names what and where."""
