"""The JSON state file: what it does to the file system, and what it refuses to read."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

import loyalty_engine as le
from loyalty_engine.errors import StoreError
from loyalty_engine.ledger.effects import Effects
from loyalty_engine.store import JsonFileStore, load, read_document

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples" / "seed_004"
PROGRAM = le.load_program(EXAMPLES / "program.toml")
PROFILE = "696e304f547840a7286619e0"
T0 = dt.datetime(2026, 2, 18, 13, tzinfo=dt.UTC)


@pytest.fixture
def state(tmp_path: Path) -> Path:
    target = tmp_path / "state.json"
    shutil.copy(EXAMPLES / "state.json", target)
    return target


def spend(store: JsonFileStore, points: int) -> None:
    found = load(store, PROGRAM, PROFILE)
    assert found is not None
    membership = found[0]
    account = membership.account("bonus1").redeem(Decimal(points), now=T0).account
    store.apply(Effects.between(membership, membership.with_account(account)))


def test_the_state_file_of_0_1_reads_as_written_and_is_rewritten_in_schema_1(state: Path) -> None:
    assert "schema" not in json.loads(state.read_text())
    store = JsonFileStore(state)
    spend(store, 25)
    saved = json.loads(state.read_text())
    assert (saved["schema"], saved["row_schema"]) == (1, 1)
    assert saved["members"][PROFILE]["accounts"] == {"bonus1": 2}
    assert [r["balance_after"] for r in saved["members"][PROFILE]["transactions"]] == [
        "21525", "21500"
    ]  # fmt: skip


def test_the_mode_is_kept_and_a_symlink_is_followed(state: Path, tmp_path: Path) -> None:
    state.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(state)
    spend(JsonFileStore(link), 25)
    assert link.is_symlink() and link.resolve() == state
    assert state.stat().st_mode & 0o777 == 0o640
    assert len(json.loads(state.read_text())["members"][PROFILE]["transactions"]) == 2


def test_a_read_only_file_or_directory_is_refused_untouched(state: Path) -> None:
    before = state.read_bytes()
    state.chmod(0o444)
    with pytest.raises(StoreError, match="the state file is read-only"):
        spend(JsonFileStore(state), 25)
    state.chmod(0o644)
    state.parent.chmod(0o555)
    try:
        with pytest.raises(StoreError, match="the directory is read-only"):
            spend(JsonFileStore(state), 25)
    finally:
        state.parent.chmod(0o755)
    assert state.read_bytes() == before


def test_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such directory"):
        JsonFileStore(tmp_path / "nowhere" / "state.json")


def test_a_failed_write_leaves_the_old_file_and_no_stale_cache(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The replace fails: the file is as it was, and the store does not believe otherwise."""
    before = state.read_bytes()
    store = JsonFileStore(state)

    def broken(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("loyalty_engine.store.jsonfile.os.replace", broken)
    with pytest.raises(StoreError, match="No space left on device"):
        spend(store, 25)
    monkeypatch.undo()
    assert state.read_bytes() == before
    found = load(store, PROGRAM, PROFILE)
    assert found is not None and found[0].account("bonus1").version == 1


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(schema=2), "schema: this version reads schema 1"),
        (lambda d: d.update(schema=True), "schema: this version reads schema 1"),
        (lambda d: d["orders"].update(o1="not an object"), "orders.o1: must be an object"),
        (lambda d: d["pools"][0]["codes"].append({"code": ""}), "pools[0].codes[2]"),
        (lambda d: d["members"][PROFILE].update(colour="red"), "colour: unknown key"),
    ],
)
def test_a_tampered_file_is_refused_naming_the_place(
    state: Path, edit: object, message: str
) -> None:
    document = json.loads(state.read_text())
    edit(document)  # type: ignore[operator]
    state.write_text(json.dumps(document))
    with pytest.raises(StoreError, match=message.replace("[", r"\[").replace("]", r"\]")):
        JsonFileStore(state).pools()


def test_a_rollback_row_without_refers_to_is_refused_not_a_crash(state: Path) -> None:
    document = json.loads(state.read_text())
    row = document["members"][PROFILE]["transactions"][0]
    document["members"][PROFILE]["transactions"].append(
        {**row, "transaction_id": 2, "transaction_type": "rollback", "refers_to": None}
    )
    state.write_text(json.dumps(document))
    with pytest.raises(StoreError, match=r"transactions\[1\]\.refers_to: required for this type"):
        load(JsonFileStore(state), PROGRAM, PROFILE)


def test_the_document_codec_round_trips(state: Path) -> None:
    tables = read_document(json.loads(state.read_text()))
    assert sorted(tables.registrations) == [PROFILE]
    assert [c.code for c in tables.code_pools()[0].codes] == ["WLCM-5821-QPRT", "WLCM-9034-LKZD"]


def test_an_account_whose_every_row_was_lost_is_found(state: Path) -> None:
    spend(JsonFileStore(state), 25)
    document = json.loads(state.read_text())
    document["members"][PROFILE]["transactions"] = []
    state.write_text(json.dumps(document))
    with pytest.raises(StoreError, match="records version 2 but its rows end at 0"):
        load(JsonFileStore(state), PROGRAM, PROFILE)


def test_only_utf_8_is_read(state: Path) -> None:
    """json.loads would take UTF-16, where a lone surrogate escape hides from the check."""
    document = json.loads(state.read_text())
    document["members"][PROFILE]["tags"] = ["\ud800"]
    state.write_bytes(json.dumps(document).encode("utf-16"))
    with pytest.raises(StoreError, match="not UTF-8"):
        JsonFileStore(state).pools()
