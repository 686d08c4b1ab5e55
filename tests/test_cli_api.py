"""``loyalty-engine api``: seed 003 through the CLI in JSON and XML; stdin, exit codes, pipes."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

import loyalty_engine as le
from loyalty_engine.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SEED_TEXT = (ROOT.parent / "shared" / "seeds" / "003_f5cf916680a9f34d.txt").read_text()
NOW = ["--now", "2026-02-18T13:00:00Z"]


def seed_response() -> dict[str, object]:
    """Seed 003's JSON response, plus our one documented extension: the money a redemption
    took off, as ``amount`` on the line's redeem promotion."""
    start = SEED_TEXT.index("{", SEED_TEXT.index("Response Example"))
    expected: dict[str, object] = json.JSONDecoder().raw_decode(SEED_TEXT[start:])[0]
    (line,) = expected["data"]["order"]["lines"]  # type: ignore[index]
    redeem = line["applied_promotions"][1]
    assert redeem["type"] == "redeem_points"
    line["applied_promotions"][1] = {
        "type": redeem["type"],
        "promotion": redeem["promotion"],
        "amount": "499.00",
        "points_info": redeem["points_info"],
    }
    return expected


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    path = str(tmp_path / "s.sqlite")
    program = ["--program", str(EXAMPLES / "seed_003" / "program.toml")]
    assert main(["db", "import", str(EXAMPLES / "api" / "import.json"), "--db", path,
                 *program, *NOW]) == 0  # fmt: skip
    capsys.readouterr()
    return ["--db", path, *program, *NOW]


def call(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    body: bytes,
) -> tuple[int, str]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(body)))
    code = main(argv)
    return code, capsys.readouterr().out


def test_seed_003_through_the_cli_in_json(
    db: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seed's JSON request on stdin gives the seed's JSON response (and exit 0)."""
    body = (EXAMPLES / "seed_003" / "request.json").read_bytes()
    code, out = call(capsys, monkeypatch, ["api", "preorder", *db], body)
    assert code == 0
    assert json.loads(out) == seed_response()


def test_seed_003_through_the_cli_in_xml(
    db: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seed's XML request gives the seed's XML response, byte for byte but for the
    extension's one element."""
    request, response = re.findall(r"<xml>.*?</xml>", SEED_TEXT, re.S)
    code, out = call(capsys, monkeypatch, ["api", "preorder", *db, "--format", "xml"],
                     request.encode())  # fmt: skip
    assert code == 0
    expected = response.replace(
        "<name>Point Redemption</name>\n</promotion>\n",
        "<name>Point Redemption</name>\n</promotion>\n<amount>499.00</amount>\n",
    )
    assert out.strip() == expected.strip()


@pytest.mark.parametrize(
    ("method", "body", "status", "error"),
    [
        ("balance", b'{"loyalty_program_id": 1, "email": "example@example.com"}', 0, 0),
        ("balance", b'{"loyalty_program_id": 1, "email": "nobody@example.com"}', 1, 5),
        ("balance", b'{"loyalty_program_id": 1, "email": ', 2, 1),
        ("no_such_method", b"{}", 2, 4),
        (
            "redeem_points",
            b'{"loyalty_program_id": 1, "email": "example@example.com", "amount": 99999}',
            1,
            7,
        ),
    ],
)
def test_exit_status_follows_the_answer(
    db: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    body: bytes,
    status: int,
    error: int,
) -> None:
    """0 for a success, 1 for an error response, 2 for unusable input; the answer is printed."""
    code, out = call(capsys, monkeypatch, ["api", method, *db], body)
    assert (code, json.loads(out)["error"]) == (status, error)


def test_a_closed_pipe_is_not_a_traceback(tmp_path: Path) -> None:
    """``| true`` (as ``| head`` does, leaving early): exit 141, nothing on stderr."""
    db = str(tmp_path / "s.sqlite")
    program = str(EXAMPLES / "seed_003" / "program.toml")
    request = json.loads((EXAMPLES / "seed_003" / "request.json").read_text())
    line = request["data"]["lines"][0]
    # a response far larger than a pipe's buffer, so the writer sees the reader leave
    request["data"]["lines"] = [{**line, "external_id": f"l{i}"} for i in range(2000)]
    del request["data"]["total_price"], request["data"]["redeem_points"]
    for key in ("matching", "email"):  # a guest: the store is empty
        del request[key]
    (tmp_path / "big.json").write_text(json.dumps(request))
    base = f"{sys.executable} -m loyalty_engine"
    script = (
        f"{base} api preorder {tmp_path / 'big.json'} --db {db} --program {program} "
        "| true; exit ${PIPESTATUS[0]}"
    )
    done = subprocess.run(["bash", "-c", script], capture_output=True)
    assert (done.returncode, done.stderr) == (141, b"")


def test_version() -> None:
    """``--version`` names the program and its version."""
    done = subprocess.run([sys.executable, "-m", "loyalty_engine", "--version"],
                          capture_output=True, text=True)  # fmt: skip
    assert re.fullmatch(r"loyalty-engine \d+\.\d+\.\d+\n", done.stdout)


def test_the_version_is_the_packages() -> None:
    """``le.__version__`` and ``--version`` come from the installed metadata, which comes from
    ``pyproject.toml``: one place to change it."""
    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    assert le.__version__ == metadata.version("loyalty_engine") == project["project"]["version"]
    assert metadata.metadata("loyalty_engine")["License-Expression"] == "MIT"
