"""The API's error codes: one stable table, from an exception to ``error``, text and HTTP status.

The platform documents only ``0`` ("Successful operation"); the rest is ours and never changes
meaning (new codes are added at the end). A commit that is ``outdated`` is not an error: the
contract answers it with ``error: 0`` and ``data.status: "outdated"``. Every response carries
``error`` and ``error_text``; a validation error also lists each problem under ``errors``
(path, reason, the value as sent).
"""

from __future__ import annotations

import enum

from ..errors import (
    ConflictError,
    InsufficientBalanceError,
    LedgerError,
    LoyaltyError,
    NotFoundError,
    ReusedIdError,
    RuleError,
    StoreError,
    UnknownTransactionError,
    ValidationError,
    ValidationErrors,
    render_path,
    show,
)


class Code(enum.IntEnum):
    """``error`` in a response, with its HTTP status: see the table in docs/wire.md."""

    OK = 0
    INVALID_REQUEST = 1
    PROGRAM_ERROR = 2
    REFUSED = 3
    UNKNOWN_METHOD = 4
    MEMBER_NOT_FOUND = 5
    UNKNOWN_CURRENCY = 6
    INSUFFICIENT_BALANCE = 7
    TRANSACTION_NOT_FOUND = 8
    ID_REUSED = 9
    BUSY = 10
    NOT_AUTHORIZED = 11
    BODY_TOO_LARGE = 12
    UNSUPPORTED_MEDIA_TYPE = 13
    UNKNOWN_PROGRAM = 14
    TASK_NOT_FOUND = 15
    AMBIGUOUS_TRANSACTION = 16
    STORE_ERROR = 17
    INTERNAL = 99

    @property
    def http(self) -> int:
        return _HTTP[self]


_HTTP = {
    Code.OK: 200, Code.INVALID_REQUEST: 400, Code.PROGRAM_ERROR: 500, Code.REFUSED: 422,
    Code.UNKNOWN_METHOD: 404, Code.MEMBER_NOT_FOUND: 404, Code.UNKNOWN_CURRENCY: 422,
    Code.INSUFFICIENT_BALANCE: 422, Code.TRANSACTION_NOT_FOUND: 404, Code.ID_REUSED: 409,
    Code.BUSY: 503, Code.NOT_AUTHORIZED: 401, Code.BODY_TOO_LARGE: 413,
    Code.UNSUPPORTED_MEDIA_TYPE: 415, Code.UNKNOWN_PROGRAM: 404, Code.TASK_NOT_FOUND: 404,
    Code.AMBIGUOUS_TRANSACTION: 409, Code.STORE_ERROR: 500, Code.INTERNAL: 500,
}  # fmt: skip


class ApiError(LoyaltyError):
    """A request the API refuses with a specific code (an unknown method, a wrong token, …)."""

    def __init__(self, code: Code, message: str) -> None:
        self.code = code
        super().__init__(message)


# the first class an error is an instance of decides: subclasses before their bases
_BY_CLASS: tuple[tuple[type[LoyaltyError], Code], ...] = (
    (ValidationError, Code.INVALID_REQUEST),
    (RuleError, Code.PROGRAM_ERROR),
    (InsufficientBalanceError, Code.INSUFFICIENT_BALANCE),
    (UnknownTransactionError, Code.TRANSACTION_NOT_FOUND),
    (ReusedIdError, Code.ID_REUSED),
    (LedgerError, Code.REFUSED),
    (NotFoundError, Code.MEMBER_NOT_FOUND),
    (ConflictError, Code.BUSY),
    (StoreError, Code.STORE_ERROR),
)


def code_of(error: LoyaltyError) -> Code:
    if isinstance(error, ApiError):
        return error.code
    return next((code for kind, code in _BY_CLASS if isinstance(error, kind)), Code.INTERNAL)


def error_response(error: LoyaltyError) -> dict[str, object]:
    """``{"error": code, "error_text": message}``, and for invalid input every problem."""
    code = code_of(error)
    out: dict[str, object] = {"error": int(code), "error_text": str(error)}
    if isinstance(error, ValidationError):
        problems = error.errors if isinstance(error, ValidationErrors) else (error,)
        out["errors"] = [
            {"path": render_path(e.path), "reason": e.reason, "value": show(e.value)}
            for e in problems
        ]
    return out


def internal_error() -> dict[str, object]:
    """What an unexpected failure answers: no detail leaks out (the server logs it)."""
    return {"error": int(Code.INTERNAL), "error_text": "internal error"}
