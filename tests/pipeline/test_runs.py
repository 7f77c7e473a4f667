"""Run manifests in the ledger database (SQLite and PostgreSQL): who was used by which run, found
through any of the person's identifiers, stored only as keyed hashes; and ``consentgate runs``."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from consentgate.cli import app
from consentgate.ledger import schema as t
from consentgate.ledger.store import Ledger
from consentgate.pipeline import FilterOptions
from consentgate.pipeline.training import TrainingRun
from consentgate.policy import load_policy
from consentgate.service import ConsentService
from consentgate.store.runs import KEY_PURPOSE, RunStore

from .conftest import AT, POLICY, populate

T0 = datetime(2026, 6, 20, 8, 0, tzinfo=UTC)


def add_run(store: RunStore, run_id: str, ids: list[str], *, minutes: int, kind: str = "training") -> None:
    store.start(
        run_id=run_id,
        kind="export" if kind == "export" else "training",
        purpose="train_chat",
        model=None if kind == "export" else f"model-{run_id}",
        vendor="example-llm-host" if kind == "export" else None,
        started_at=T0 + timedelta(minutes=minutes),
        head_seq=7,
        manifest={"run_id": run_id},
    )
    store.add_subjects(run_id, store.hasher.many(ids))
    store.finish(
        run_id,
        status="completed",
        finished_at=T0 + timedelta(minutes=minutes + 1),
        records=10 * len(ids),
        subjects=len(ids),
        manifest={"run_id": run_id, "done": True},
        head_seq=9,
    )


def test_runs_are_found_through_any_identifier_of_the_person(shared: Ledger) -> None:
    ConsentService(load_policy(POLICY), shared).link("cookie-ann", "ann@example.com", "cookie_id")
    store = RunStore(shared.engine)
    add_run(store, "r1", ["ann@example.com", "bo@example.com"], minutes=0)
    add_run(store, "r2", ["cookie-ann"], minutes=5)  # the same person under her cookie id
    add_run(store, "r3", ["bo@example.com"], minutes=10, kind="export")

    ids, found = store.used_by("ann@example.com")
    assert ids == {"ann@example.com", "cookie-ann"}
    assert [r.run_id for r in found] == ["r2", "r1"]  # newest first
    assert [r.run_id for r in store.used_by("cookie-ann")[1]] == ["r2", "r1"]
    assert [r.run_id for r in store.used_by("bo@example.com")[1]] == ["r3", "r1"]
    assert [r.run_id for r in store.used_by("bo@example.com", kind="export")[1]] == ["r3"]
    assert store.used_by("nobody@example.com")[1] == []
    assert [r.run_id for r in store.runs()] == ["r3", "r2", "r1"]
    assert [r.run_id for r in store.runs(kind="training")] == ["r2", "r1"]

    r1 = store.get("r1")
    assert r1 is not None
    assert (r1.status, r1.records, r1.subjects, r1.head_seq_first, r1.head_seq_last) == (
        "completed", 20, 2, 7, 9,
    )  # fmt: skip
    assert r1.manifest == {"run_id": "r1", "done": True}
    assert r1.started_at == T0
    assert r1.to_json()["snapshot_head"] == {"first": 7, "last": 9}
    assert store.get("nope") is None


def test_identifiers_are_stored_only_as_keyed_hashes(shared: Ledger) -> None:
    store = RunStore(shared.engine)
    add_run(store, "r1", ["ann@example.com", "42"], minutes=0)
    with shared.engine.connect() as conn:
        hashes = list(conn.execute(select(t.run_subjects.c.subject_hash)).scalars())
        key_rows = list(
            conn.execute(select(t.service_secrets.c.kid).where(t.service_secrets.c.purpose == KEY_PURPOSE))
        )
    assert len(hashes) == 2
    assert all(re.fullmatch(r"[0-9a-f]{32}", h) for h in hashes)
    assert "ann@example.com" not in " ".join(hashes)
    assert len(key_rows) == 1
    # Every process on the database hashes alike: a second store finds the run.
    again = RunStore(shared.engine)
    assert again.hasher.key_id == store.hasher.key_id
    assert [r.run_id for r in again.used(["42"])] == ["r1"]
    # A different key finds nothing (which is why the key is never rotated).
    assert RunStore(shared.engine, key=b"another-key-0123456789").used(["42"]) == []
    assert "key" not in repr(store.hasher).replace("key_id", "")


def test_a_training_run_is_stored_on_both_databases(shared: Ledger) -> None:
    policy = load_policy(POLICY)
    populate(ConsentService(policy, shared))
    with TrainingRun(
        "train_chat", "support-bot-v7", "chats/", policy=policy, ledger=shared,
        options=FilterOptions("user_id"), now=lambda: AT,
    ) as run:  # fmt: skip
        run.check([{"user_id": "alice"}, {"user_id": "hal"}])
    store = RunStore(shared.engine)
    _, found = store.used_by("cookie-alice")
    assert [r.run_id for r in found] == [run.run_id]
    assert found[0].status == "completed"
    assert found[0].model == "support-bot-v7"
    assert found[0].subjects == 2


# -- the command line -----------------------------------------------------------------------------------


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("CONSENTGATE_DB", "CONSENTGATE_POLICY"):
        monkeypatch.delenv(name, raising=False)
    db = tmp_path / "ledger.db"
    with Ledger.open(str(db)) as led:
        ConsentService(load_policy(POLICY), led).link("cookie-ann", "ann@example.com", "cookie_id")
        store = RunStore(led.engine)
        add_run(store, "r1", ["ann@example.com"], minutes=0)
        add_run(store, "r2", ["bo@example.com"], minutes=5)
        add_run(store, "r3", ["cookie-ann"], minutes=10, kind="export")
    return db


def cg(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner(env={"COLUMNS": "240"}).invoke(app, ["--db", str(db), "--policy", str(POLICY), *args])
    return result.exit_code, result.stdout, result.stderr


def test_runs_subject_json_lists_the_runs_and_exports_that_used_the_person(cli_db: Path) -> None:
    code, out, _ = cg(cli_db, "runs", "--subject", "cookie-ann", "--json")
    assert code == 0
    body = json.loads(out)
    assert body["subject"] == "cookie-ann"
    assert body["identifiers"] == 2
    assert [(r["run_id"], r["kind"], r["vendor"]) for r in body["runs"]] == [
        ("r3", "export", "example-llm-host"),
        ("r1", "training", None),
    ]
    assert body["runs"][1]["model"] == "model-r1"
    assert body["runs"][1]["manifest"] == {"run_id": "r1", "done": True}
    code, out, _ = cg(cli_db, "runs", "--subject", "ann@example.com", "--kind", "training", "--json")
    assert [r["run_id"] for r in json.loads(out)["runs"]] == ["r1"]


def test_runs_json_lists_every_run(cli_db: Path) -> None:
    code, out, _ = cg(cli_db, "runs", "--json")
    assert code == 0
    assert [r["run_id"] for r in json.loads(out)["runs"]] == ["r3", "r2", "r1"]


def test_runs_prints_a_table(cli_db: Path) -> None:
    code, out, _ = cg(cli_db, "runs", "--subject", "ann@example.com")
    assert code == 0
    assert "runs and exports that used data of ann@example.com (2)" in out
    assert "model-r1" in out
    assert "example-llm-host" in out
    assert "7→9" in out
    # An identifier neither the ledger nor any run knows: exit 5, not "no run used it" (true of any typo).
    code, out, err = cg(cli_db, "runs", "--subject", "nobody@example.com")
    assert code == 5
    assert "knows nothing about 'nobody@example.com'" in err
    assert out == ""


def test_runs_needs_an_existing_ledger(tmp_path: Path) -> None:
    code, _, err = cg(tmp_path / "missing.db", "runs", "--json")
    assert code == 1
    assert "does not exist" in err


@pytest.mark.parametrize("name", ["runs", "export"])
def test_gate_commands_have_help_with_examples(name: str) -> None:
    import typer

    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    assert command.help
    assert "Example" in command.help
    assert f"consentgate {name}" in command.help
    for param in command.params:
        if param.name != "help":
            assert "e.g." in (param.help or ""), f"{name}: {param.name}"
