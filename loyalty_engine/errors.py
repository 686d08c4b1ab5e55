"""One exception tree: everything the library raises on purpose is a ``LoyaltyError``.

Each subclass is also the matching builtin, so ``except ValueError`` keeps working for callers
who do not know our names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Path = tuple[str | int, ...]

_MAX_SHOWN = 80  # a 10 MB string must not become a 10 MB error message


def render_path(path: Path) -> str:
    """``("promotions", 3, "benefit")`` → ``promotions[3].benefit``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "<root>"


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


class LoyaltyError(Exception):
    """Root of every error this library raises deliberately."""


class ValidationError(LoyaltyError, ValueError):
    """Input that can never be calculated. Carries where, what and why."""

    def __init__(self, path: Path, value: object, reason: str) -> None:
        self.path, self.value, self.reason = tuple(path), value, reason
        super().__init__(f"{render_path(self.path)}: {reason} (got {_show(value)})")

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
        flat: list[ValidationError] = []
        for error in errors:
            flat.extend(error.errors if isinstance(error, ValidationErrors) else (error,))
        if len(flat) == 1:
            raise flat[0]
        if flat:
            raise cls(flat)


class RuleError(LoyaltyError, ValueError):
    """A program that loads but cannot be applied (a reference to nothing, an unknown mode)."""


class LedgerError(LoyaltyError, ValueError):
    """A points-account operation that is not allowed in the account's current state."""
