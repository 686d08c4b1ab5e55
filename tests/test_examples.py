"""The bundled examples produce what the README and docs/getting-started.md say, through the
command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loyalty_engine.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(capsys: pytest.CaptureFixture[str], folder: str, *extra: str) -> dict[str, object]:
    here = EXAMPLES / folder
    argv = [
        "preorder",
        str(here / "request.json"),
        "--program",
        str(here / "program.toml"),
        "--member",
        str(here / "member.json"),
        *extra,
    ]
    assert main(argv) == 0
    out: dict[str, object] = json.loads(capsys.readouterr().out)
    return out


def test_seed_003_reproduces_the_seed_response(capsys: pytest.CaptureFixture[str]) -> None:
    """final 139500.00, accrue 6999, redeem 499, active 20999, status success."""
    order = run(capsys, "seed_003", "--now", "2026-02-18T13:00:00Z")["data"]["order"]  # type: ignore[index]
    assert order["final_total_price"] == "139500.00"
    assert order["points_info"] == [
        {
            "points_currency_iid": 1,
            "points_currency_eid": "bonus1",
            "name": "Main Point",
            "status": "success",
            "active_amount_for_current_order": "20999",
            "accrue_points_amount_for_current_order": "6999",
            "redeemed_points_amount_for_current_order": "499",
        }
    ]
    (line,) = order["lines"]
    assert line["final_price_per_item"] == "139500.00"
    assert [(p["type"], p["points_info"]["amount"]) for p in line["applied_promotions"]] == [
        ("accrue_points", "6999"),
        ("redeem_points", "499"),
    ]


def test_seed_004_line_figures(capsys: pytest.CaptureFixture[str]) -> None:
    """10% off 1500.00 → 1350.00, 75 points on the base, 100 points down to the 650.00 floor."""
    order = run(capsys, "seed_004_lines")["data"]["order"]  # type: ignore[index]
    one, two = order["lines"]
    assert one["final_price_per_item"] == "1350.00"
    assert [
        (p["type"], p.get("amount"), p.get("points_info", {}).get("amount"))
        for p in one["applied_promotions"]
    ] == [
        ("discount", "150.00", None),
        ("accrue_points", None, "75"),
    ]
    assert two["final_price_per_item"] == "650.00"
    assert [p["points_info"]["amount"] for p in two["applied_promotions"]] == ["100"]
    assert order["final_total_price"] == "2650.00"


def test_showcase_output_is_pinned(capsys: pytest.CaptureFixture[str]) -> None:
    """The showcase's full response equals examples/showcase/expected.json."""
    expected = json.loads((EXAMPLES / "showcase" / "expected.json").read_text())
    assert run(capsys, "showcase") == expected
