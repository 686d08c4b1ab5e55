"""``loyalty-engine commit``: the seed 004 example, replays, outdated commits and the state file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from loyalty_engine.cli import main

HERE = Path(__file__).resolve().parent.parent / "examples" / "seed_004"


@pytest.fixture
def state(tmp_path: Path) -> Path:
    target = tmp_path / "state.json"
    shutil.copy(HERE / "state.json", target)
    return target


NOW = "2026-02-18T13:05:00Z"  # the commit, five minutes after the order's create_time


def commit(capsys: pytest.CaptureFixture[str], request: Path, state: Path) -> dict[str, object]:
    argv = ["commit", str(request), "--program", str(HERE / "program.toml"), "--state", str(state),
            "--now", NOW]  # fmt: skip
    assert main(argv) == 0
    out: dict[str, object] = json.loads(capsys.readouterr().out)
    return out


def test_seed_004_commits_with_the_seed_shape(
    capsys: pytest.CaptureFixture[str], state: Path
) -> None:
    response = commit(capsys, HERE / "request.json", state)
    assert response == json.loads((HERE / "expected.json").read_text())
    data = response["data"]
    assert isinstance(data, dict)
    (change,) = data["points_changes"]
    assert change == {
        "points_info": {"points_currency_iid": 1, "points_currency_eid": "bonus1",
                        "name": "Bonus points", "amount": "21500"},
        "accrue_points": 75,
        "redeem_points": 100,
    }  # fmt: skip
    saved = json.loads(state.read_text())
    rows = saved["members"]["696e304f547840a7286619e0"]["transactions"]
    assert [(r["transaction_type"], r["amount"], r["balance_after"]) for r in rows] == [
        ("accrual", "21525", "21525"),
        ("redemption", "100", "21425"),
        ("accrual", "75", "21500"),
    ]
    assert saved["pools"][0]["codes"] == [{"code": "WLCM-9034-LKZD", "expires_at": None}]
    assert "order_12345" in saved["orders"]


def test_a_replay_is_processed_and_leaves_the_state_alone(
    capsys: pytest.CaptureFixture[str], state: Path
) -> None:
    first = commit(capsys, HERE / "request.json", state)
    before = state.read_bytes()
    again = commit(capsys, HERE / "request.json", state)
    assert again["data"]["processing_target"] == "processed"  # type: ignore[index]
    assert {**again["data"], "processing_target": "immediate"} == first["data"]  # type: ignore[dict-item]
    assert state.read_bytes() == before


def test_an_outdated_commit_lists_differences_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], state: Path, tmp_path: Path
) -> None:
    request = json.loads((HERE / "request.json").read_text())
    request["data"]["lines"][0]["final_price_per_item"] = "1300.00"
    request["data"]["lines"][0]["requested_promotions"][0]["amount"] = "200.00"
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request))
    before = state.read_bytes()
    data = commit(capsys, path, state)["data"]
    assert data == {
        "status": "outdated",
        "external_id": "order_12345",
        "differences": [
            {"path": "lines[line_1].final_price_per_item", "requested": "1300.00",
             "actual": "1350.00"},
            {"path": "lines[line_1].promotions[discount:promo_1].amount", "requested": "200.00",
             "actual": "150.00"},
        ],
    }  # fmt: skip
    assert state.read_bytes() == before


def guest_request(tmp_path: Path) -> Path:
    """Seed 004 without a profile: the discount and the codes, no points."""
    request = json.loads((HERE / "request.json").read_text())
    del request["profile_id"]
    for line in request["data"]["lines"]:
        line["requested_promotions"] = [p for p in line["requested_promotions"]
                                        if p["type"] == "discount"]  # fmt: skip
        line["final_price_per_item"] = line["base_price_per_item"]
    request["data"]["lines"][0]["final_price_per_item"] = "1350.00"
    request["data"]["final_total_price"] = "2750.00"
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request))
    return path


def test_a_missing_state_file_starts_empty_and_an_explicit_guest_commits(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """No profile_id, email or phone: a guest, who moves no points; the order is stored."""
    state = tmp_path / "new" / "state.json"
    state.parent.mkdir()
    data = commit(capsys, guest_request(tmp_path), state)["data"]
    assert data["status"] == "success" and data["points_changes"] == []  # type: ignore[index]
    assert data["issued_promocodes"][0]["missing"] == 1  # type: ignore[index]
    saved = json.loads(state.read_text())
    assert saved["members"] == {} and saved["orders"]["order_12345"]["profile_id"] is None
    assert sorted(p.name for p in state.parent.iterdir()) == ["state.json", "state.json.lock"]


def test_a_member_not_found_is_an_error_not_a_guest(
    capsys: pytest.CaptureFixture[str], state: Path, tmp_path: Path
) -> None:
    """A profile the store does not know: exit 2, nothing written."""
    request = json.loads((HERE / "request.json").read_text())
    request["profile_id"] = "nobody"
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request))
    before = state.read_bytes()
    argv = ["commit", str(path), "--program", str(HERE / "program.toml"), "--state", str(state),
            "--now", NOW]  # fmt: skip
    assert main(argv) == 2
    assert "member not found (profile_id 'nobody')" in capsys.readouterr().err
    assert state.read_bytes() == before


def test_another_member_replaying_an_order_gets_a_conflict_not_its_response(
    capsys: pytest.CaptureFixture[str], state: Path, tmp_path: Path
) -> None:
    """The stored answer (with its balance) goes only to the same request from the same member."""
    commit(capsys, HERE / "request.json", state)
    before = state.read_bytes()
    argv = ["commit", str(guest_request(tmp_path)), "--program", str(HERE / "program.toml"),
            "--state", str(state), "--now", NOW]  # fmt: skip
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "'order_12345' was committed with another request or member" in captured.err
    assert state.read_bytes() == before


def test_a_tampered_state_file_is_refused(capsys: pytest.CaptureFixture[str], state: Path) -> None:
    saved = json.loads(state.read_text())
    saved["members"]["696e304f547840a7286619e0"]["transactions"][0]["balance_after"] = "99999"
    state.write_text(json.dumps(saved))
    argv = ["commit", str(HERE / "request.json"), "--program", str(HERE / "program.toml"),
            "--state", str(state), "--now", NOW]  # fmt: skip
    assert main(argv) == 2
    assert "does not replay" in capsys.readouterr().err
