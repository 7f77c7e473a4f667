"""``consentgate snapshot`` and ``consentgate filter`` in-process, on a real SQLite ledger."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner, Result

from consentgate.cli import app
from consentgate.ledger.store import Ledger
from consentgate.pipeline import Snapshot, Suppression
from consentgate.pipeline.engines import EngineMissing, load
from consentgate.policy import load_policy
from consentgate.service import ConsentService

from .conftest import AT, POLICY, SUPPRESSION_KEY, ev, populate, records

Invoke = Callable[..., Result]


@pytest.fixture
def cg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    for name in (
        "CONSENTGATE_DB",
        "CONSENTGATE_POLICY",
        "CONSENTGATE_SUPPRESSION",
        "CONSENTGATE_SUPPRESSION_KEY_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    db = tmp_path / "ledger.db"
    with Ledger.open(str(db)) as led:
        populate(ConsentService(load_policy(POLICY), led))
    runner = CliRunner(env={"COLUMNS": "240"})

    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["--db", str(db), "--policy", str(POLICY), *args])

    return invoke


def test_snapshot_writes_parquet_and_updates_incrementally(cg: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "snap.parquet"
    first = cg("snapshot", "--purpose", "train_chat", "--out", str(out), "--at", AT.isoformat())
    assert first.exit_code == 0, first.output
    assert "12 identifiers of 10 people" in first.output
    assert "full" in first.output
    snap = Snapshot.read(out)
    assert snap.meta.purpose == "train_chat"
    assert len(snap) == 12
    again = cg("snapshot", "--purpose", "train_chat", "--from", str(out), "--out", str(out), "--json")
    assert again.exit_code == 0, again.output
    meta = json.loads(again.stdout)
    assert meta["built"] == "incremental"
    assert meta["head_seq"] == snap.meta.head_seq
    assert meta["file"] == str(out)


def test_filter_writes_output_and_manifest(cg: Invoke, tmp_path: Path) -> None:
    src = tmp_path / "records.parquet"
    pq.write_table(records(), src)
    out = tmp_path / "clean.parquet"
    manifest = tmp_path / "run.json"
    result = cg(
        "filter", "--purpose", "train_optout", "--subject-column", "user_id", "--input", str(src),
        "--output", str(out), "--manifest", str(manifest), "--source", "chats", "--at", AT.isoformat(),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "kept 6 of 48 records; dropped 42 (33 not_allowed, 3 do_not_train, 6 no_subject)" in result.output
    body = json.loads(manifest.read_text())
    assert body["format"] == "consentgate-filter-manifest/1"
    assert body["engine"] == "duckdb"
    assert body["counts"]["kept"] == 6
    assert body["counts"]["dropped"] == {
        "not_allowed": 33,
        "do_not_train": 3,
        "suppressed": 0,
        "no_subject": 6,
    }
    assert body["snapshot"]["unknown_subjects"]["allowed"] is True
    assert body["input"]["fingerprint"].startswith("sha256:")
    assert pq.read_metadata(out).num_rows == 6


def test_filter_with_a_snapshot_file_and_a_suppression_list(cg: Invoke, tmp_path: Path) -> None:
    snap = tmp_path / "snap.parquet"
    assert (
        cg("snapshot", "--purpose", "train_optout", "--out", str(snap), "--at", AT.isoformat()).exit_code == 0
    )
    src = tmp_path / "records.parquet"
    pq.write_table(records(), src)
    key = tmp_path / "key"
    key.write_bytes(SUPPRESSION_KEY + b"\n")
    sup = Suppression(SUPPRESSION_KEY)
    sup.add("gina")
    sup.save(tmp_path / "sup.json")
    result = cg(
        "filter", "--purpose", "train_optout", "--subject-column", "user_id", "--input", str(src),
        "--output", str(tmp_path / "out.parquet"), "--snapshot", str(snap), "--engine", "polars",
        "--suppression", str(tmp_path / "sup.json"), "--suppression-key-file", str(key),
        "--no-subject", "keep", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["engine"] == "polars"
    assert body["counts"]["dropped"]["suppressed"] == 3
    assert body["suppression"]["matched_subjects"] == 1
    # Without the key the list cannot be read, and a wrong key is refused rather than matching nothing.
    no_key = cg(
        "filter", "--purpose", "train_optout", "--subject-column", "user_id", "--input", str(src),
        "--output", str(tmp_path / "o2.parquet"), "--snapshot", str(snap),
        "--suppression", str(tmp_path / "sup.json"),
    )  # fmt: skip
    assert no_key.exit_code == 1
    assert "needs the list's key" in no_key.output
    key.write_bytes(b"another-key-of-enough-length")
    wrong = cg(
        "filter", "--purpose", "train_optout", "--subject-column", "user_id", "--input", str(src),
        "--output", str(tmp_path / "o3.parquet"), "--snapshot", str(snap),
        "--suppression", str(tmp_path / "sup.json"), "--suppression-key-file", str(key),
    )  # fmt: skip
    assert wrong.exit_code == 1
    assert "made with key" in wrong.output


def test_filter_errors_say_what_to_fix(cg: Invoke, tmp_path: Path) -> None:
    src = tmp_path / "records.parquet"
    pq.write_table(records(), src)
    base = ["filter", "--purpose", "train_chat", "--subject-column", "user_id", "--input", str(src)]
    r = cg(*base, "--output", str(tmp_path / "o.parquet"), "--source", "nope")
    assert r.exit_code == 1
    assert "unknown source 'nope'" in r.output
    r = cg(*base, "--output", str(src))
    assert r.exit_code == 1
    assert "would overwrite the input" in r.output
    r = cg(*base[:-1], str(tmp_path / "missing"), "--output", str(tmp_path / "o.parquet"))
    assert r.exit_code == 1
    assert "no such file or directory" in r.output
    snap = tmp_path / "snap.parquet"
    assert cg("snapshot", "--purpose", "train_optout", "--out", str(snap)).exit_code == 0
    r = cg(*base, "--output", str(tmp_path / "o.parquet"), "--snapshot", str(snap))
    assert r.exit_code == 1
    assert "snapshot is for purpose 'train_optout'" in r.output


def test_a_missing_engine_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "polars", None)  # makes `import polars` fail
    monkeypatch.delitem(sys.modules, "consentgate.pipeline.engines.polars", raising=False)
    with pytest.raises(EngineMissing, match=r"pip install 'consentgate\[pipeline\]'"):
        load("polars")
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    monkeypatch.delitem(sys.modules, "consentgate.pipeline.engines.spark", raising=False)
    with pytest.raises(EngineMissing, match=r"pip install 'consentgate\[spark\]'"):
        load("spark")


@pytest.mark.parametrize("name", ["snapshot", "filter"])
def test_help_shows_an_example_for_the_command_and_every_option(name: str) -> None:
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    assert command.help
    assert "Example" in command.help
    assert "consentgate" in command.help
    for param in command.params:
        if param.name != "help":
            assert "e.g." in (getattr(param, "help", None) or ""), f"{name}: {param.name}"


def test_late_events_reach_an_incrementally_updated_snapshot(cg: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "snap.parquet"
    assert cg("snapshot", "--purpose", "train_chat", "--out", str(out), "--at", AT.isoformat()).exit_code == 0
    raw = json.dumps(ev("dave", "grant", "2026-06-15T00:00:00Z")[1])
    events = tmp_path / "late.jsonl"
    events.write_text(raw + "\n")
    imported = cg("import-events", str(events))
    assert imported.exit_code == 0, imported.output
    result = cg(
        "snapshot", "--purpose", "train_chat", "--from", str(out), "--out", str(out), "--at", AT.isoformat()
    )
    assert result.exit_code == 0, result.output
    assert "incremental (1 person re-decided)" in result.output
    rows = {r["key"]: r["allowed"] for r in Snapshot.read(out).table.to_pylist()}
    assert rows["dave"] is True
