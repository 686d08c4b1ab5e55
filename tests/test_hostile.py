"""Each hostile-input hole found by fuzzing, by example: one typed error, bounded, or correct."""

from __future__ import annotations

import copy
import datetime as dt
import decimal
import json
import subprocess
import sys
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import loyalty_engine as le
from loyalty_engine.altcraft.commit import parse_commit_request
from loyalty_engine.altcraft.preorder import parse_preorder_request, render_preorder_response
from loyalty_engine.cli import main
from loyalty_engine.documents import member_from_dict
from loyalty_engine.parse import MAX_NESTING, check

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SEED3, SEED4 = EXAMPLES / "seed_003", EXAMPLES / "seed_004"
NOW = dt.datetime(2026, 2, 18, 13, 0, tzinfo=dt.UTC)
REQUEST = json.loads((SEED3 / "request.json").read_text())
PROGRAM = tomllib.loads((SEED3 / "program.toml").read_text())


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--now", "2026-02-18T13:00:00Z"])
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, text: str) -> str:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return str(tmp_path / name)


def preorder(capsys: pytest.CaptureFixture[str], tmp_path: Path, request: str) -> tuple[int, str]:
    path = write(tmp_path, "r.json", request)
    code, out, err = run(capsys, "preorder", path, "--program", str(SEED3 / "program.toml"))
    assert len(out) + len(err) < 100_000
    return code, err


def with_custom(raw: str) -> str:
    """The seed request whose order custom fields are ``raw`` JSON text, written as is."""
    request = copy.deepcopy(REQUEST)
    request["data"]["custom_fields"] = "@@"
    return json.dumps(request).replace('"@@"', raw)


def load(tmp_path: Path, name: str, text: str) -> le.Program:
    return le.load_program(write(tmp_path, name, text))


# --- output amplification, quadratic fields ----------------------------------------------------


@pytest.mark.parametrize("number", ["1e999999999", "-1e-999999999", "1" * 41, "9" * 5000])
def test_a_number_that_would_write_out_huge_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, number: str
) -> None:
    """A 538-byte request once printed 1 GB: now one line naming the field, exit 2."""
    code, err = preorder(capsys, tmp_path, with_custom('{"k": ' + number + "}"))
    assert code == 2
    assert err.startswith("loyalty-engine: error: data.custom_fields.k: ")
    assert err.count("\n") == 1


def test_custom_fields_are_bounded_in_number(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """1,000 fields per object read fine; one more is refused before any work."""
    fields = {f"k{i}": i for i in range(le.model.MAX_FIELDS)}
    code, _ = preorder(capsys, tmp_path, with_custom(json.dumps(fields)))
    assert code == 0
    fields["one more"] = 1
    code, err = preorder(capsys, tmp_path, with_custom(json.dumps(fields)))
    assert code == 2
    assert "data.custom_fields: more than 1000 custom fields" in err


def test_fields_look_up_by_name() -> None:
    """Fields reads a name through a dict, not a scan (80,000 fields once took a minute)."""
    fields = le.Fields({f"k{i}": i for i in range(1000)})
    assert fields["k999"] == 999 and dict(fields)["k0"] == 0
    with pytest.raises(KeyError):
        fields["nope"]


# --- the program loader ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda p: p["currencies"][0].pop("eid"), "currencies[0].eid: required"),
        (lambda p: p["promotions"][0].pop("external_id"), "promotions[0].external_id: required"),
        (lambda p: p["promotions"][0]["benefit"].pop("percent"), "benefit.percent: required"),
        (lambda p: p.update(groups=[{"choice": "best"}]), "groups[0].id: required"),
        (lambda p: p.update(catalog={"products": {"p": 5}}), "catalog.products.p: must be a list"),
        (lambda p: p.update(catalog={"products": {"p": [1]}}), "catalog.products.p[0]: must be"),
        (lambda p: p["promotions"][0].update(conditions=[None]), "conditions[0]: must be a table"),
        (
            lambda p: p["promotions"][0].update(conditions=[{"kind": "all", "of": [None]}]),
            "conditions[0].of[0]: must be a table",
        ),
    ],
)
def test_a_program_missing_a_key_or_holding_a_wrong_value_is_a_validation_error(
    change: Any, path: str
) -> None:
    """Each was a TypeError (keys counted, not named) or an AttributeError at calculation."""
    program = copy.deepcopy(PROGRAM)
    change(program)
    with pytest.raises(le.ValidationError) as raised:
        le.program_from_dict(program)
    assert path in str(raised.value)


def test_json_and_toml_programs_both_refuse_fractional_numbers(tmp_path: Path) -> None:
    """``"percent": 10.5`` loaded from JSON while TOML refused it: both refuse, both take ints."""
    program = copy.deepcopy(PROGRAM)
    program["promotions"][0]["benefit"]["percent"] = "@@"
    text = json.dumps(program)
    with pytest.raises(le.ValidationError, match=r"benefit\.percent: write decimals as strings"):
        load(tmp_path, "p.json", text.replace('"@@"', "10.5"))
    assert load(tmp_path, "p.json", text.replace('"@@"', "10")).promotions[0].benefit
    toml = (SEED3 / "program.toml").read_text().replace('percent = "5"', "percent = 10.5")
    with pytest.raises(le.ValidationError, match=r"benefit\.percent: write decimals as strings"):
        load(tmp_path, "p.toml", toml)


@pytest.mark.parametrize("name", ["p.json", "p.toml"])
def test_a_5000_digit_integer_is_a_validation_error(tmp_path: Path, name: str) -> None:
    """Python's own int-digits ValueError no longer escapes, from JSON or TOML."""
    if name == "p.json":
        text = json.dumps(PROGRAM).replace('"iid": 1', '"iid": ' + "9" * 5000)
    else:
        text = (SEED3 / "program.toml").read_text().replace("iid = 1", "iid = " + "9" * 5000)
    with pytest.raises(le.ValidationError, match=r"^p\.(json|toml)|currencies\[0\]\.iid"):
        load(tmp_path, name, text)


# --- points and dates at their limits ----------------------------------------------------------


def test_an_accrual_of_10_15_points_is_refused_alike_in_preorder_and_commit() -> None:
    """Preorder promised 10^15 points that commit refused under a misleading path."""
    program = copy.deepcopy(PROGRAM)
    program["promotions"][0]["benefit"] = {
        "kind": "per_spend", "currency": "bonus1", "per": "1", "points": "10000000000",
    }  # fmt: skip
    rules = le.program_from_dict(program)
    order = parse_preorder_request(REQUEST).order
    with pytest.raises(le.RuleError, match="10\\^15 points or more"):
        le.calculate(rules, order, le.Member(profile_id="p"), now=NOW)


def test_a_money_ratio_worth_10_15_points_is_a_rule_error() -> None:
    """Qualifying points used to quantize in the caller's context: InvalidOperation."""
    program = le.load_program(SEED4 / "program.toml")
    currencies = [
        le.PointsCurrency(eid=c.eid, iid=c.iid, money_ratio=Decimal("1E+12"))
        for c in program.currencies
    ]
    program = le.Program(
        currencies=currencies, promotions=program.promotions, settings=program.settings
    )
    order = parse_preorder_request(json.loads((SEED3 / "request.json").read_text())).order
    membership = le.register(program, "p1", now=NOW).membership
    who = membership.member(program, now=NOW)
    requested = le.Requested.of(le.calculate(program, order, who, now=NOW))
    with pytest.raises(le.RuleError, match="money_ratio"):
        le.commit(program, order, requested, membership=membership, now=NOW)


@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(9999, 12, 31, tzinfo=dt.UTC),
        dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5))),
        dt.datetime(9000, 1, 1, tzinfo=dt.UTC),
    ],
)
def test_dates_beyond_the_supported_years_are_validation_errors(moment: dt.datetime) -> None:
    """Near year 9999 a lifetime or a hold overflowed: every date is held to 1900..8999."""
    order = parse_preorder_request(REQUEST).order
    program = le.program_from_dict(PROGRAM)
    with pytest.raises(le.ValidationError, match=r"now: must fall in the years 1900\.\.8999"):
        le.calculate(program, order, None, now=moment)
    account = le.Account.open("p1", le.PointsCurrency(eid="b", lifetime_days=36_500))
    with pytest.raises(le.ValidationError, match="now: must fall in the years"):
        account.accrue(Decimal(1), now=moment)
    with pytest.raises(le.ValidationError, match="expiration_date: must fall in the years"):
        account.accrue(Decimal(1), now=NOW, expiration=moment)


def test_the_latest_supported_date_leaves_room_for_the_longest_lifetime_and_hold() -> None:
    """8999-12-31 + 36,500 days and + a one-year hold still fit in a datetime."""
    late = dt.datetime(8999, 12, 31, 11, 59, tzinfo=dt.timezone(dt.timedelta(hours=-12)))
    account = le.Account.open("p1", le.PointsCurrency(eid="b", lifetime_days=36_500))
    posting = account.accrue(Decimal(5), now=late, temp_timeout_sec=366 * 24 * 3600)
    assert posting.transaction.expiration is not None
    assert posting.transaction.expiration.year == 9099


@pytest.mark.parametrize("now", ["2026-01-01T00:00:00Z", dt.datetime(2026, 1, 1), 5])
def test_a_naive_or_text_now_is_a_validation_error(now: object) -> None:
    """``Account.accrue(now="…")`` was a TypeError."""
    account = le.Account.open("p1", le.PointsCurrency(eid="b", lifetime_days=10))
    for bad in (now, None):
        with pytest.raises(le.ValidationError, match="now: must be a timezone-aware datetime"):
            account.accrue(Decimal(1), now=bad)  # type: ignore[arg-type]
    with pytest.raises(le.ValidationError, match=r"activation(_date)?: must be a timezone-aware"):
        account.accrue(Decimal(1), now=NOW, activation=now)  # type: ignore[arg-type]


# --- the caller's decimal context --------------------------------------------------------------


def _seed3_response() -> dict[str, object]:
    program = le.load_program(SEED3 / "program.toml")
    request = parse_preorder_request(REQUEST)
    member = member_from_dict(json.loads((SEED3 / "member.json").read_text()))
    result = le.calculate(program, request.order, member, now=NOW)
    return render_preorder_response(result, profile_id=member.profile_id)


@pytest.mark.parametrize("precision", [1, 3, 10])
def test_the_callers_decimal_context_changes_nothing(precision: int) -> None:
    """With ``prec = 3`` seed 003 accrued ``7.00E+3``; every operation runs in our context."""
    expected = _seed3_response()
    hostile = decimal.Context(
        prec=precision,
        rounding=decimal.ROUND_FLOOR,
        capitals=0,
        traps=[decimal.Inexact, decimal.Rounded, decimal.InvalidOperation],
    )
    with decimal.localcontext(hostile):
        assert _seed3_response() == expected
        account = le.Account.open("p1", le.PointsCurrency(eid="b", precision=6))
        account = account.accrue(Decimal("12345.678901"), now=NOW).account
        account = account.redeem(Decimal("0.000001"), now=NOW).account
        assert account.balance(NOW).active == Decimal("12345.678900")


# --- depth ----------------------------------------------------------------------------------


def test_groups_nest_at_most_16_deep() -> None:
    """About 400 nested groups was a RecursionError in arbitration."""
    groups = [le.Group(id="g0")] + [le.Group(id=f"g{i}", parent=f"g{i - 1}") for i in range(1, 17)]
    assert le.Program(groups=groups[:16]).groups
    with pytest.raises(le.ValidationError, match=r"groups\[16\]\.parent: groups nested deeper"):
        le.Program(groups=groups)


def test_conditions_nest_at_most_32_deep_however_they_are_built() -> None:
    """The loader stopped at 32; a Python-built tree now stops there too."""
    condition: Any = le.conditions.Endpoint(["site"])
    for _ in range(le.conditions.MAX_DEPTH - 1):
        condition = le.conditions.Not(condition)
    with pytest.raises(le.ValidationError, match="nested deeper than 32"):
        le.conditions.Not(condition)
    with pytest.raises(le.ValidationError, match=r"of\[0\]: must be a condition"):
        le.conditions.All([None])  # type: ignore[list-item]


def _deep(levels: int) -> object:
    value: object = "x"
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(
    "read",
    [
        lambda v: le.program_from_dict({"promotions": v}),
        lambda v: member_from_dict({"profile_id": "p", "tags": v}),
        lambda v: parse_preorder_request({"data": {"order": v}}),
        lambda v: le.Fields({"k": v}),
    ],
)
def test_a_deeply_nested_value_is_shown_short_in_its_error(read: Any) -> None:
    """The error message's repr recursed through 100,000 levels: RecursionError."""
    with pytest.raises(le.ValidationError) as raised:
        read(_deep(100_000))
    assert len(str(raised.value)) < 300


def test_a_huge_integer_is_shown_by_its_size() -> None:
    """``repr`` of a 5,000-digit int raises ValueError; the message names the size instead."""
    error = le.ValidationError(("count",), 10**5000, "too big")
    assert str(error) == "count: too big (got <an integer of about 5000 digits>)"


# --- commit compares what it is sent -----------------------------------------------------------


def _commit_request(amount: object) -> dict[str, Any]:
    request = json.loads((SEED4 / "request.json").read_text())
    request["data"]["lines"][0]["requested_promotions"][1]["points_info"]["amount"] = amount
    return request


@pytest.mark.parametrize("zero", [0, "0"])
def test_a_requested_zero_points_is_compared(zero: object) -> None:
    """A customer shown 0 points got a successful commit that posted 75: now outdated."""
    program = le.load_program(SEED4 / "program.toml")
    request = parse_commit_request(_commit_request(zero))
    membership = le.register(program, "p1", now=NOW).membership
    account = membership.account("bonus1").accrue(Decimal(21525), now=NOW).account
    membership = membership.with_account(account)
    result = le.commit(
        program,
        request.order,
        request.requested,
        membership=membership,
        now=NOW + dt.timedelta(minutes=1),
        pools=[le.CodePool(pool_id=100, name="Welcome Promocodes", codes=[le.PoolCode("W-1")])],
    )
    assert result.status is le.CommitStatus.OUTDATED
    assert [(d.requested, d.actual) for d in result.differences] == [(str(zero), "75")]


def test_an_empty_requested_amount_is_a_validation_error() -> None:
    """``""`` was read as "not sent"; it is not a number."""
    with pytest.raises(le.ValidationError, match=r"points_info\.amount: must be a plain decimal"):
        parse_commit_request(_commit_request(""))


# --- output hygiene --------------------------------------------------------------------------


def test_a_newline_in_an_id_stays_on_one_stderr_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The second line of an error could impersonate the tool."""
    request = copy.deepcopy(REQUEST)
    request["profile_id"] = "a\nloyalty-engine: ok \x1b[2J"
    request["data"]["custom_fields"] = {"a\nloyalty-engine: ok": [1]}
    member = write(tmp_path, "m.json", json.dumps({"profile_id": "x", "balances": {}}))
    for args in (["--member", member], []):
        if not args:
            request["data"]["lines"][0]["count"] = "2"
        path = write(tmp_path, "r.json", json.dumps(request))
        code, out, err = run(capsys, "preorder", path, "--program", str(SEED3 / "program.toml"),
                             *args)  # fmt: skip
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and "\x1b" not in err


def test_explain_escapes_control_characters(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A promotion named with an escape sequence could drive the terminal."""
    program = copy.deepcopy(PROGRAM)
    program["promotions"][0]["name"] = "\x1b[31mred\nline"
    path = write(tmp_path, "p.json", json.dumps(program))
    code, out, _ = run(capsys, "explain", str(SEED3 / "request.json"), "--program", path)
    assert code == 0
    assert "\x1b" not in out and "\\x1b[31mred\\nline" in out


def _cli(*args: str, encoding: str = "utf-8", **kw: Any) -> subprocess.CompletedProcess[bytes]:
    env = {"PYTHONIOENCODING": encoding, "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "loyalty_engine", *args, "--now", "2026-02-18T13:01:06Z"]
    return subprocess.run(command, env=env, capture_output=True, check=False, **kw)


def test_a_non_utf8_stdout_gets_escaped_output() -> None:
    """On an ASCII stdout explain always crashed (the arrow of its total line)."""
    done = _cli("explain", str(SEED3 / "request.json"), "--program", str(SEED3 / "program.toml"),
                encoding="ascii")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert b"\\u2192" in done.stdout


def test_commit_on_a_non_utf8_stdout_prints_and_replays(tmp_path: Path) -> None:
    """commit saved the state, then crashed printing, so no replay could print the response."""
    state = tmp_path / "state.json"
    state.write_bytes((SEED4 / "state.json").read_bytes())
    program = (SEED4 / "program.toml").read_text().replace("Welcome Gift", "Подарок → 🎁")
    args = ("commit", str(SEED4 / "request.json"), "--program", write(tmp_path, "p.toml", program),
            "--state", str(state))  # fmt: skip
    first, again = _cli(*args, encoding="latin-1"), _cli(*args, encoding="latin-1")
    assert first.returncode == again.returncode == 0, first.stderr
    assert json.loads(first.stdout)["data"]["points_changes"][0]["points_info"]["amount"] == "21500"
    assert json.loads(again.stdout)["data"]["processing_target"] == "processed"
    gift = json.loads(again.stdout)["data"]["issued_promocodes"][0]["promotion"]["name"]
    assert gift == "Подарок → 🎁"


def test_a_closed_pipe_is_not_a_traceback() -> None:
    """``loyalty-engine preorder … | head -0`` printed a BrokenPipeError traceback; now it
    exits 141, as a shell reports a command killed by SIGPIPE (docs/cli.md, exit status)."""
    seed = [str(SEED3 / "request.json"), "--program", str(SEED3 / "program.toml")]
    command = [
        sys.executable,
        "-m",
        "loyalty_engine",
        "preorder",
        *seed,
        "--now",
        "2026-02-18 13:00Z",
    ]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()
    err = child.stderr.read()
    assert child.wait() == 141
    assert b"Traceback" not in err


# --- lax values ------------------------------------------------------------------------------


def test_a_member_file_with_total_below_active_is_refused() -> None:
    with pytest.raises(le.ValidationError, match=r"balances\.b\.total: is below active"):
        member_from_dict({"profile_id": "p", "balances": {"b": {"active": "5", "total": "4"}}})


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (lambda: le.PointsCurrency(eid="b", lifetime_days=True), "lifetime_days"),
        (lambda: le.Member(profile_id="p", balances={"b": 5}), "balances.b: must be a Balance"),
        (lambda: le.Fields({"k": Decimal("NaN")}), "k: must be a finite number"),
        (lambda: le.Fields({"k": Decimal("1E+999999")}), "k: must be a finite number"),
        (lambda: le.Balance(Decimal(5), Decimal(4)), "total: is below active"),
    ],
)
def test_the_python_api_refuses_what_the_files_refuse(build: Any, path: str) -> None:
    with pytest.raises(le.ValidationError, match=path):
        build()


@pytest.mark.parametrize(
    ("active", "shown"), [("-0", "0"), ("20999.5", "20999"), ("0.000001", "0"), ("-0.5", "0")]
)
def test_a_balance_renders_what_can_be_spent(active: str, shown: str) -> None:
    """``-0`` rendered as "-0", and 20999.5 whole points as "21000" though 20999 are spendable."""
    program = le.load_program(SEED3 / "program.toml")
    member = member_from_dict({"profile_id": "p", "balances": {"bonus1": {"active": active}}})
    order = parse_preorder_request(REQUEST).order
    response = render_preorder_response(
        le.calculate(program, order, member, now=NOW), profile_id="p"
    )
    data: Any = response["data"]
    assert data["order"]["points_info"][0]["active_amount_for_current_order"] == shown


def test_an_eid_retry_compares_amounts_by_value() -> None:
    """Decimal("100.0") after Decimal("100") was refused as a different request."""
    account = le.Account.open("p1", le.PointsCurrency(eid="b"))
    first = account.accrue(Decimal("100"), now=NOW, eid="t1")
    again = first.account.accrue(Decimal("100.0"), now=NOW, eid="t1")
    assert again.replayed and again.account == first.account
    later = dt.datetime(2026, 2, 18, 16, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    spent = first.account.redeem(Decimal(1), now=later, eid="t2", description="x")
    assert spent.account.redeem(Decimal("1.00"), now=later, eid="t2", description="x").replayed


@pytest.mark.parametrize("eid", ["", " "])
def test_a_blank_redeem_currency_is_named_by_its_wire_path(eid: str) -> None:
    """The deep fuzz run: the error said ``eid:`` (PointsRef's own field), not the wire path."""
    request = copy.deepcopy(json.loads((EXAMPLES / "showcase" / "request.json").read_text()))
    request["data"]["redeem_points"][0]["points_currency_eid"] = eid
    with pytest.raises(le.ValidationError) as raised:
        parse_preorder_request(request)
    assert str(raised.value).startswith("data.redeem_points[0].points_currency_eid: ")


def nested(levels: int, inner: object = None) -> object:
    """``levels`` lists inside each other, ``inner`` in the innermost; a table at every other."""
    document = inner
    for level in range(levels):
        document = {"k": document} if level % 2 else [document]
    return document


def test_the_document_check_stops_at_max_nesting_exactly() -> None:
    """``MAX_NESTING`` containers inside each other pass; one more is refused, with its path."""
    check(nested(MAX_NESTING, "x"))
    with pytest.raises(le.ValidationError, match=f"nested deeper than {MAX_NESTING}"):
        check(nested(MAX_NESTING + 1))


@pytest.mark.parametrize(
    "document",
    [["ok", "\ud800"], {"\udfff": 1}, {"a": [{"b": "x\udc00"}]}],
    ids=["in a list", "a key", "deep"],
)
def test_the_document_check_refuses_lone_surrogates_in_text_only_when_asked(
    document: object,
) -> None:
    """Text that is not Unicode is refused wherever it is; without ``texts`` (a pure-ASCII
    source cannot hold one) it is not looked for."""
    with pytest.raises(le.ValidationError, match="not valid Unicode"):
        check(document)
    check(document, texts=False)


@pytest.mark.parametrize("number", [10**40, -(10**40), Decimal("1e40"), Decimal("NaN")])
def test_the_document_check_refuses_numbers_past_the_digit_limit(number: object) -> None:
    with pytest.raises(le.ValidationError, match="at most 40 digits"):
        check({"a": [1, "x", {"b": number}]}, texts=False)
    check({"a": [1, "x", {"b": 10**39}]}, texts=False)
