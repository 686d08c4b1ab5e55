"""``loyalty-engine db …`` and the store options of preorder / explain / commit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loyalty_engine.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SEED = EXAMPLES / "seed_004"
PROGRAM = ["--program", str(SEED / "program.toml")]
NOW = ["--now", "2026-02-18T13:05:00Z"]


def run(capsys: pytest.CaptureFixture[str], *argv: str, code: int = 0) -> str:
    assert main(list(argv)) == code
    captured = capsys.readouterr()
    return captured.out if code == 0 else captured.err


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    path = str(tmp_path / "state.sqlite")
    out = run(capsys, "db", "import", str(EXAMPLES / "import.json"), *PROGRAM, "--db", path,
              "--now", "2026-02-01T00:00:00Z")  # fmt: skip
    assert json.loads(out) == {"members": 2, "skipped": [], "pools": 1, "orders": 0}
    return path


def test_init_creates_the_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = run(capsys, "db", "init", "--db", str(tmp_path / "s.sqlite"))
    assert json.loads(out)["schema_version"] == 2
    out = run(capsys, "db", "init", "--state", str(tmp_path / "s.json"))
    assert json.loads((tmp_path / "s.json").read_text())["members"] == {}


def test_preorder_and_commit_read_one_member_from_the_store(
    db: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The preorder's answer, sent back unchanged, commits: both saw the same member."""
    request = json.loads((SEED / "request.json").read_text())
    request["matching"], request["email"] = "email", "ANNA@example.com"
    del request["profile_id"]
    path = tmp_path / "preorder.json"
    path.write_text(json.dumps(request))
    shown = json.loads(run(capsys, "preorder", str(path), *PROGRAM, "--db", db, *NOW))["data"]
    assert shown["profile"] == {"profile_id": "696e304f547840a7286619e0"}  # found by email
    (points,) = shown["order"]["points_info"]
    assert points["active_amount_for_current_order"] == "21525"
    response = json.loads(run(capsys, "commit", str(SEED / "request.json"), *PROGRAM, "--db", db,
                              *NOW))  # fmt: skip
    assert response == json.loads((SEED / "expected.json").read_text())
    table = run(capsys, "explain", str(path), *PROGRAM, "--db", db, *NOW)
    assert "points bonus1: success, accrued 75, redeemed 100" in table


def test_export_then_check(db: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run(capsys, "commit", str(SEED / "request.json"), *PROGRAM, "--db", db, *NOW)
    exported = json.loads(run(capsys, "db", "export", "--db", db))
    member = exported["members"]["696e304f547840a7286619e0"]
    assert member["email"] == "anna@example.com" and member["accounts"] == {"bonus1": 3}
    assert list(exported["orders"]) == ["order_12345"]
    assert exported["pools"][0]["issued"] == ["WLCM-5821-QPRT"]
    assert run(capsys, "db", "check", *PROGRAM, "--db", db).startswith("ok: 2 member(s)")
    state = tmp_path / "copy.json"
    state.write_text(json.dumps(exported))
    assert run(capsys, "db", "check", *PROGRAM, "--state", str(state)).startswith("ok: 2")
    member["transactions"][1]["amount"] = "99"
    state.write_text(json.dumps(exported))
    err = run(capsys, "db", "check", *PROGRAM, "--state", str(state), code=1)
    assert "stored transaction 2 does not replay" in err


def test_a_member_file_is_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    member = tmp_path / "m.json"
    member.write_text(json.dumps({"profile_id": "p", "balance": {"bonus1": {"active": "5"}}}))
    seed = EXAMPLES / "seed_003"
    err = run(capsys, "preorder", str(seed / "request.json"), "--program",
              str(seed / "program.toml"), "--member", str(member), *NOW, code=2)  # fmt: skip
    assert "balance: unknown key" in err


def test_a_bad_import_file_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"members": [{"profile_id": "p1"}, {"balances": {}}]}))
    path = tmp_path / "s.sqlite"
    err = run(capsys, "db", "import", str(bad), *PROGRAM, "--db", str(path), code=2)
    assert "members[1].profile_id: required" in err
    assert json.loads(run(capsys, "db", "export", "--db", str(path)))["members"] == {}
