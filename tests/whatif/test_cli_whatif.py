"""``loyalty-engine whatif`` and ``sample-history`` as a user runs them: files written whole or not
at all, bad lines on stderr with their numbers, the same bytes whatever ``--jobs``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from loyalty_engine.cli import main
from loyalty_engine.whatif.sample import write_history

ROOT = Path(__file__).resolve().parents[2]
WHATIF = ROOT / "examples" / "whatif"
PROGRAMS = ["--program", str(WHATIF / "current.toml"), "--program", str(WHATIF / "proposed.toml")]
NOW = ["--now", "2026-10-01T00:00:00Z"]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("history") / "history.jsonl"
    lines = (WHATIF / "history.jsonl").read_text(encoding="utf-8").splitlines()[:200]
    lines[9] = "{not json"
    lines[19] = json.dumps({"external_id": "x", "data": {"currency": "RUB"}})
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(history: Path, where: Path, *extra: str) -> tuple[int, Path]:
    code = main(["whatif", str(history), *PROGRAMS, *NOW, "--out", str(where / "r.json"),
                 "--diff", str(where / "d.jsonl"), *extra])  # fmt: skip
    return code, where


def test_the_table_the_report_and_the_differences(
    history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 0; stdout is the table (a column a program); the report says 198 orders and 2 bad
    lines; each bad line is on stderr with its number; every difference line names an order
    of the history."""
    code, where = run(history, tmp_path, "--jobs", "1")
    out, err = capsys.readouterr()
    assert code == 0
    assert out.splitlines()[0] == "what-if: 200 lines, 198 orders, 2 bad (baseline current)"
    assert "current" in out.splitlines()[1] and "proposed" in out.splitlines()[1]
    report = json.loads((where / "r.json").read_text(encoding="utf-8"))
    assert report["history"] == {"lines": 200, "orders": 198, "bad": 2}
    assert [b["line"] for b in report["bad_records"]] == [10, 20]
    assert "line 10: json: malformed JSON" in err and "line 20: " in err
    assert (where / "r.json").stat().st_mode & 0o644 == 0o644  # readable, as open() makes it
    diffs = [json.loads(line) for line in (where / "d.jsonl").read_text().splitlines()]
    assert len(diffs) == report["comparisons"]["proposed"]["changed"]
    assert all(d["external_id"].startswith("o-") for d in diffs)


def test_jobs_and_chunks_change_no_byte(history: Path, tmp_path: Path) -> None:
    """``--jobs 2 --chunk-size 7`` writes the same report and differences as ``--jobs 1``."""
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    assert run(history, one, "--jobs", "1")[0] == 0
    assert run(history, two, "--jobs", "2", "--chunk-size", "7")[0] == 0
    for name in ("r.json", "d.jsonl"):
        assert (one / name).read_bytes() == (two / name).read_bytes()


def test_on_error_fail_exits_2_and_writes_nothing(
    history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first bad line stops the run: exit 2 naming line 10, and neither file exists (not
    even half of one); nothing is left in the folder."""
    code, where = run(history, tmp_path, "--jobs", "1", "--on-error", "fail")
    assert code == 2
    assert "line 10" in capsys.readouterr().err
    assert list(where.iterdir()) == []


def test_a_dask_scheduler_runs_it(history: Path, tmp_path: Path) -> None:
    """``--scheduler ADDRESS`` of a running ``LocalCluster``: the same report as ``--jobs 1``."""
    distributed = pytest.importorskip("distributed")
    one, dask = tmp_path / "one", tmp_path / "dask"
    one.mkdir(), dask.mkdir()
    assert run(history, one, "--jobs", "1")[0] == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:  # fmt: skip
        assert run(history, dask, "--scheduler", cluster.scheduler_address)[0] == 0
    assert (one / "r.json").read_bytes() == (dask / "r.json").read_bytes()


def test_progress_on_request_and_quiet_otherwise(history: Path, tmp_path: Path) -> None:
    """stderr is not a terminal here: no bar unless ``--progress``, which shows the orders done
    out of the history's lines."""
    command = [sys.executable, "-m", "loyalty_engine", "whatif", str(history), *PROGRAMS, *NOW,
               "--jobs", "1", "--chunk-size", "20"]  # fmt: skip
    quiet = subprocess.run(command, capture_output=True, text=True, check=True, timeout=120)
    shown = subprocess.run([*command, "--progress"], capture_output=True, text=True, check=True,
                           timeout=120)  # fmt: skip
    assert "orders" not in quiet.stderr
    assert "200/200" in shown.stderr and "orders" in shown.stderr
    assert quiet.stdout == shown.stdout


def test_history_from_stdin(history: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "loyalty_engine",
        "whatif",
        "-",
        *PROGRAMS,
        *NOW,
        "--jobs",
        "1",
    ]
    done = subprocess.run(command, input=history.read_text(), capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("what-if: 200 lines, 198 orders, 2 bad")


def test_sample_history_to_a_file_and_to_stdout(tmp_path: Path) -> None:
    """The same seed writes the same bytes to a file and to stdout; the file is what
    ``write_history`` writes."""
    path = tmp_path / "h.jsonl"
    assert main(["sample-history", "--orders", "30", "--seed", "7", "--out", str(path)]) == 0
    command = [sys.executable, "-m", "loyalty_engine", "sample-history", "--orders", "30",
               "--seed", "7"]  # fmt: skip
    printed = subprocess.run(command, capture_output=True, check=True, timeout=60).stdout
    assert printed == path.read_bytes()
    with (tmp_path / "again.jsonl").open("w", encoding="utf-8") as file:
        write_history(file, 30, seed=7)
    assert (tmp_path / "again.jsonl").read_bytes() == printed
    assert len(printed.splitlines()) == 30


def test_the_docs_show_what_the_example_prints(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/recipes/whatif.md, "The bundled example": the table under "prints" is the command's
    output."""
    page = (ROOT / "docs" / "recipes" / "whatif.md").read_text(encoding="utf-8")
    section = page[page.index("## The bundled example") :]
    shown = section[section.index("prints\n\n```\n") + len("prints\n\n```\n") :]
    shown = shown[: shown.index("```")]
    history = str(WHATIF / "history.jsonl")
    assert main(["whatif", history, *PROGRAMS, *NOW, "--jobs", "1"]) == 0
    assert capsys.readouterr().out == shown


def test_an_unreachable_scheduler_is_an_error_not_a_traceback(
    history: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing listens on the port: exit 2 with one line naming ``--scheduler``, no files."""
    pytest.importorskip("distributed")
    monkeypatch.setattr("loyalty_engine.whatif.job.SCHEDULER_TIMEOUT", 2)
    code, where = run(history, tmp_path, "--scheduler", "tcp://127.0.0.1:9")
    err = capsys.readouterr().err
    assert code == 2 and "--scheduler" in err and "Traceback" not in err, err
    assert list(where.iterdir()) == []
