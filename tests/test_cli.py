"""The loyalty-engine command: JSON out on success, one stderr line and exit 2 on bad input."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

import loyalty_engine as le
from loyalty_engine.cli import main
from loyalty_engine.documents import member_from_dict, member_to_dict

SEED = Path(__file__).resolve().parent.parent / "examples" / "seed_003"
ARGS = [
    str(SEED / "request.json"),
    "--program",
    str(SEED / "program.toml"),
    "--member",
    str(SEED / "member.json"),
    "--now",
    "2026-02-18T13:00:00Z",
]


def test_preorder_prints_the_response(capsys: pytest.CaptureFixture[str]) -> None:
    """preorder prints the response JSON with the seed's figures and exits 0."""
    assert main(["preorder", *ARGS]) == 0
    order = json.loads(capsys.readouterr().out)["data"]["order"]
    assert order["final_total_price"] == "139500.00"


def test_explain_prints_the_trace_table(capsys: pytest.CaptureFixture[str]) -> None:
    """explain lists every promotion with its outcome, then the totals."""
    assert main(["explain", *ARGS]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["type", "promotion", "name", "outcome", "detail"]
    assert out[2].split()[:5] == ["accrue_points", "bonus", "Point", "Accrual", "applied"]
    assert "total 139999.00 RUB → final 139500.00 RUB (delivery 0.00)" in out


def bad(tmp_path: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("loyalty-engine: error: ")
    return lines[0]


def test_bad_request_is_one_line_with_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad field gives exit 2 and one stderr line naming its path and value."""
    request = tmp_path / "r.json"
    request.write_text(
        json.dumps(
            {
                "external_id": "x",
                "data": {
                    "currency": "RUB",
                    "lines": [
                        {
                            "external_id": "a",
                            "product": "p",
                            "count": -1,
                            "base_price_per_item": "1.00",
                        }
                    ],
                },
            }
        )
    )
    line = bad(
        tmp_path,
        capsys,
        "preorder",
        str(request),
        "--program",
        str(SEED / "program.toml"),
        "--now",
        "2026-01-01T00:00:00Z",
    )
    assert "data.lines[0].count: must be an integer in 1..1000000 (got -1)" in line


def test_several_errors_share_the_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A program with two errors is reported on one line, both named."""
    program = tmp_path / "p.toml"
    program.write_text(
        '[[promotions]]\nexternal_id = "a"\ntype = "x"\n[[currencies]]\neid = "b"\nprecision = 9\n'
    )
    line = bad(
        tmp_path,
        capsys,
        "preorder",
        str(SEED / "request.json"),
        "--program",
        str(program),
        "--now",
        "2026-01-01T00:00:00Z",
    )
    assert "promotions[0].type" in line and "currencies[0].precision" in line


def test_without_now_or_create_time_the_clock_is_read(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The edge defaults to the clock: the same answer as --now at the clock's time."""
    assert main(["preorder", *ARGS]) == 0
    pinned = capsys.readouterr().out
    moment = dt.datetime(2026, 2, 18, 13, tzinfo=dt.UTC)
    monkeypatch.setattr("loyalty_engine.cli._clock", lambda: moment)
    assert main(["preorder", *ARGS[:-2]]) == 0
    assert capsys.readouterr().out == pinned

    def stopped() -> dt.datetime:
        raise LookupError("the clock was read")

    monkeypatch.setattr("loyalty_engine.cli._clock", stopped)
    with pytest.raises(LookupError):
        main(["preorder", *ARGS[:-2]])
    assert main(["preorder", *ARGS]) == 0  # --now: the clock is not read


def test_member_must_match_the_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A member file for another profile than the request's is refused."""
    member = tmp_path / "m.json"
    member.write_text(json.dumps({"profile_id": "someone-else"}))
    request = tmp_path / "r.json"
    doc = json.loads((SEED / "request.json").read_text())
    doc["profile_id"] = "696e304f547840a7286619e0"
    request.write_text(json.dumps(doc))
    line = bad(
        tmp_path,
        capsys,
        "preorder",
        str(request),
        "--program",
        str(SEED / "program.toml"),
        "--member",
        str(member),
        "--now",
        "2026-01-01T00:00:00Z",
    )
    assert "profile_id" in line


def test_missing_file_is_a_clean_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unreadable request file is exit 2, not a traceback."""
    line = bad(
        tmp_path,
        capsys,
        "preorder",
        str(tmp_path / "none.json"),
        "--program",
        str(SEED / "program.toml"),
        "--now",
        "2026-01-01T00:00:00Z",
    )
    assert "none.json: cannot read" in line


def test_module_entry_point_has_no_traceback(tmp_path: Path) -> None:
    """``python -m loyalty_engine`` on bad input: exit 2, one line, no traceback."""
    request = tmp_path / "r.json"
    request.write_text("{")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "loyalty_engine",
            "preorder",
            str(request),
            "--program",
            str(SEED / "program.toml"),
            "--now",
            "2026-01-01T00:00:00Z",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert run.stderr.startswith("loyalty-engine: error: r.json:")


def test_member_document_round_trip() -> None:
    """The member file format reads and writes the same member; total defaults to active."""
    member = member_from_dict(
        {
            "profile_id": "p",
            "tier": "gold",
            "tags": ["vip"],
            "balances": {"bonus1": {"active": "20999"}},
        }
    )
    assert member.balance("bonus1") == le.Balance(
        le.Money.parse("20999", "JPY").amount, le.Money.parse("20999", "JPY").amount
    )
    assert member_from_dict(member_to_dict(member)) == member


def test_member_document_errors_have_paths() -> None:
    """Bad balances are reported with their path."""
    with pytest.raises(le.ValidationError, match=r"balances.bonus1.active: required"):
        member_from_dict({"profile_id": "p", "balances": {"bonus1": {}}})
    with pytest.raises(le.ValidationError, match=r"balances.bonus1.active: must be"):
        member_from_dict({"profile_id": "p", "balances": {"bonus1": {"active": 1.5}}})
