"""One exception tree: messages name path, reason and value; many errors are raised at once."""

from __future__ import annotations

import datetime as dt
import json
import pickle
from decimal import Decimal
from pathlib import Path as FilePath

import pytest

import loyalty_engine as le
from loyalty_engine.altcraft.preorder import parse_preorder_request
from loyalty_engine.errors import (
    LedgerError,
    LoyaltyError,
    Path,
    RuleError,
    ValidationError,
    ValidationErrors,
    render_path,
)

EXAMPLES = FilePath(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize(
    ("path", "rendered"),
    [
        ((), "<root>"),
        (("currency",), "currency"),
        (("promotions", 3, "benefit"), "promotions[3].benefit"),
        (("lines", 0, 1), "lines[0][1]"),
        ((2,), "[2]"),
        ((0, "amount"), "[0].amount"),
        (("a", "b", "c"), "a.b.c"),
    ],
)
def test_render_path(path: Path, rendered: str) -> None:
    """Names join with dots, indexes go in brackets, the empty path is <root>."""
    assert render_path(path) == rendered


def test_message_names_path_reason_and_value() -> None:
    """The message is '<path>: <reason> (got <repr of value>)'."""
    error = ValidationError(
        ("lines", 2, "base_price_per_item"), "10.005", "more decimals than RUB allows"
    )

    assert (
        str(error) == "lines[2].base_price_per_item: more decimals than RUB allows (got '10.005')"
    )
    assert (error.path, error.value, error.reason) == (
        ("lines", 2, "base_price_per_item"),
        "10.005",
        "more decimals than RUB allows",
    )


def test_path_is_kept_as_a_tuple() -> None:
    """A list path is stored as a tuple, so errors stay hashable and comparable."""
    error = ValidationError(["lines", 0], 1, "bad")  # type: ignore[arg-type]

    assert error.path == ("lines", 0)


def test_long_values_are_truncated_in_the_message() -> None:
    """A huge value shows only its first 77 characters of repr and '...'; the value is kept."""
    value = "x" * 10_000
    error = ValidationError(("note",), value, "too long")

    assert str(error) == "note: too long (got '" + "x" * 76 + "...)"
    assert error.value is value


def test_value_of_exactly_80_repr_characters_is_shown_whole() -> None:
    """The cut starts past 80 characters of repr: 78 letters plus quotes still show in full."""
    error = ValidationError(("note",), "y" * 78, "r")

    assert str(error) == "note: r (got '" + "y" * 78 + "')"


def test_at_prefixes_the_path() -> None:
    """at() returns the same error seen from an enclosing document; the original is unchanged."""
    inner = ValidationError(("benefit", "percent"), 150, "must be at most 100")

    outer = inner.at("promotions", 3)

    assert outer.path == ("promotions", 3, "benefit", "percent")
    assert (outer.value, outer.reason) == (150, "must be at most 100")
    assert str(outer) == "promotions[3].benefit.percent: must be at most 100 (got 150)"
    assert inner.path == ("benefit", "percent")


def test_collect_raises_nothing_for_no_errors() -> None:
    """An empty collection (list or iterator) raises nothing and returns None."""
    none: list[ValidationError] = []

    assert ValidationErrors.collect([]) is None
    assert ValidationErrors.collect(iter(none)) is None


def test_collect_raises_a_single_error_itself() -> None:
    """One collected error is raised as is, not wrapped."""
    error = ValidationError(("a",), 1, "bad")

    with pytest.raises(ValidationError) as caught:
        ValidationErrors.collect([error])

    assert caught.value is error
    assert type(caught.value) is ValidationError


def test_collect_raises_all_of_many() -> None:
    """Several errors come out together, in order, with every message listed."""
    first = ValidationError(("a",), 1, "bad")
    second = ValidationError(("b", 0), "x", "worse")

    with pytest.raises(ValidationErrors) as caught:
        ValidationErrors.collect(iter([first, second]))

    assert caught.value.errors == (first, second)
    assert str(caught.value) == "2 problem(s):\n  a: bad (got 1)\n  b[0]: worse (got 'x')"
    assert (caught.value.path, caught.value.value, caught.value.reason) == (("a",), 1, "bad")


def test_collect_flattens_nested_errors() -> None:
    """A ValidationErrors among the collected contributes its errors, not itself."""
    one, two, three = (ValidationError((name,), 0, "bad") for name in "xyz")

    with pytest.raises(ValidationErrors) as caught:
        ValidationErrors.collect([one, ValidationErrors([two, three])])

    assert caught.value.errors == (one, two, three)
    assert str(caught.value).startswith("3 problem(s):\n  x: bad (got 0)")


def test_collect_unwraps_a_group_of_one() -> None:
    """A ValidationErrors holding one error is raised as that one error."""
    only = ValidationError(("a",), 1, "bad")

    with pytest.raises(ValidationError) as caught:
        ValidationErrors.collect([ValidationErrors([only])])

    assert caught.value is only


def test_at_on_many_prefixes_every_error() -> None:
    """ValidationErrors.at() prefixes each collected error and stays a ValidationErrors."""
    many = ValidationErrors([ValidationError(("a",), 1, "bad"), ValidationError((0,), 2, "worse")])

    moved = many.at("programs", 1)

    assert isinstance(moved, ValidationErrors)
    assert [e.path for e in moved.errors] == [("programs", 1, "a"), ("programs", 1, 0)]
    assert (
        str(moved) == "2 problem(s):\n  programs[1].a: bad (got 1)\n  programs[1][0]: worse (got 2)"
    )


@pytest.mark.parametrize("cls", [ValidationError, ValidationErrors, RuleError, LedgerError])
def test_every_error_is_a_loyalty_error_and_a_value_error(cls: type[LoyaltyError]) -> None:
    """Callers who only know builtins can still catch everything with except ValueError."""
    assert issubclass(cls, LoyaltyError)
    assert issubclass(cls, ValueError)


@pytest.mark.parametrize(
    "error",
    [
        ValidationError(("a",), 1, "bad"),
        ValidationErrors([ValidationError(("a",), 1, "bad"), ValidationError(("b",), 2, "bad")]),
        RuleError("unknown promotion 'p1'"),
        LedgerError("account is closed"),
    ],
)
def test_except_value_error_catches_each(error: Exception) -> None:
    """A raised library error is caught by a plain except ValueError."""
    with pytest.raises(ValueError) as caught:
        raise error

    assert caught.value is error


def test_rule_and_ledger_errors_keep_their_message() -> None:
    """RuleError and LedgerError are plain exceptions carrying the given text."""
    assert str(RuleError("unknown mode 'x'")) == "unknown mode 'x'"
    assert str(LedgerError("nothing to refund")) == "nothing to refund"


def test_errors_survive_pickling() -> None:
    """Errors cross process boundaries (a process-pool what-if run) intact."""

    one = ValidationError(("lines", 0, "count"), 0, "must be positive")
    many = ValidationErrors([one, ValidationError(("a",), 1, "bad")])
    assert str(pickle.loads(pickle.dumps(one))) == str(one)
    assert [str(e) for e in pickle.loads(pickle.dumps(many)).errors] == [
        str(e) for e in many.errors
    ]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1.5"), "got 1.5"),
        (Decimal("1E+2"), "got 1E+2"),
        (Decimal("NaN"), "got NaN"),
        (dt.datetime(2026, 1, 1, 12, 30), "got 2026-01-01T12:30:00"),
        (dt.date(2026, 1, 1), "got 2026-01-01"),
        (le.Money.parse("10.50", "RUB"), "got 10.50 RUB"),
        ([Decimal("2"), "x"], "got [2, 'x']"),
        ("1.5", "got '1.5'"),
        (None, "missing"),
    ],
)
def test_values_are_shown_as_the_user_wrote_them(value: object, shown: str) -> None:
    """1.5, not Decimal('1.5'); a time in ISO 8601; text quoted; nothing given is "missing"."""
    assert str(le.ValidationError(("a",), value, "is wrong")) == f"a: is wrong ({shown})"


def test_each_distinct_problem_is_reported_once() -> None:
    same = le.ValidationError(("a",), 1, "is wrong")
    other = le.ValidationError(("b",), 1, "is wrong")
    with pytest.raises(le.ValidationErrors) as caught:
        le.ValidationErrors.collect([same, same, other, le.ValidationErrors([same, other])])
    assert [str(e) for e in caught.value.errors] == ["a: is wrong (got 1)", "b: is wrong (got 1)"]
    with pytest.raises(le.ValidationError) as one:
        le.ValidationErrors.collect([same, same])
    assert type(one.value) is le.ValidationError


def test_an_unknown_currency_is_said_once_where_it_was_written() -> None:
    request = json.loads((EXAMPLES / "seed_003" / "request.json").read_text())
    request["data"]["currency"] = "XXX"
    with pytest.raises(le.ValidationError) as caught:
        parse_preorder_request(request)
    assert str(caught.value) == "data.currency: unknown ISO 4217 currency code (got 'XXX')"
