"""Checkpoints recorded against the people whose data they hold, and run subjects written
insert-or-ignore (the UNIQUE failure of issue 15 cannot happen), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result as CliResult
from typer.testing import CliRunner

from consentgate.cli import app
from consentgate.requests.desk import RequestDesk
from consentgate.requests.report import access_report, report_html
from consentgate.service import ConsentService
from consentgate.store.checkpoints import CheckpointStore
from consentgate.store.runs import RunStore

from .conftest import AT, PEOPLE, POLICY, World


def batch(*people: str) -> list[dict[str, str]]:
    return [{"user_id": p} for p in people]


def test_checkpoints_after_first_use_are_listed_for_the_person(world: World, tmp_path: Path) -> None:
    with world.run() as run:
        run.check(batch(PEOPLE[0], PEOPLE[1]))
        run.checkpoint("ckpt/step-1")
        run.check(batch(PEOPLE[2], PEOPLE[0]))
        run.checkpoint("ckpt/step-2")
        run.check(batch(PEOPLE[3]))
    assert [c["batches"] for c in run.manifest()["checkpoints"]] == [1, 2]
    runs = RunStore(world.ledger.engine)
    checkpoints = CheckpointStore(world.ledger.engine)

    def holding(who: str) -> list[str]:
        found = checkpoints.containing(runs.hasher.many([who]))
        return [c.name for c in found.get(run.run_id, [])]

    assert holding(PEOPLE[0]) == ["ckpt/step-1", "ckpt/step-2"]
    assert holding(PEOPLE[2]) == ["ckpt/step-2"]  # first used in batch 2
    assert holding(PEOPLE[3]) == []  # used after the last checkpoint: in the final model only
    assert holding(PEOPLE[4]) == []  # never used
    # The access report lists them for the person.
    desk = RequestDesk(ConsentService(world.policy, world.ledger), base_dir=tmp_path, now=lambda: AT)
    report = access_report(desk, PEOPLE[2], now=AT)
    assert [r["checkpoints"] for r in report["training_runs"]] == [["ckpt/step-2"]]
    assert "Checkpoints holding your data: ckpt/step-2." in report_html(report)


def test_a_subject_stored_twice_for_a_run_is_one_row_with_its_first_use(world: World) -> None:
    store = RunStore(world.ledger.engine)
    with world.run() as run:
        run.check(batch(PEOPLE[0]))
        h = store.hasher(PEOPLE[0])
        store.add_subjects(run.run_id, {h: 1})
        store.add_subjects(run.run_id, {h: 7})  # a retried or repeated write: no UNIQUE failure
        run.checkpoint("c1")
    assert [r.run_id for r in store.used_by(PEOPLE[0])[1]] == [run.run_id]
    assert run.manifest()["counts"]["subjects"] == 1
    found = CheckpointStore(world.ledger.engine).containing({h})
    assert [c.name for c in found[run.run_id]] == ["c1"]  # first use stayed batch 1


def test_runs_subject_says_which_runs_may_not_have_recorded_everything_yet(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONSENTGATE_DB", world.url)
    monkeypatch.setenv("CONSENTGATE_POLICY", str(POLICY))

    def ask(*extra: str) -> CliResult:
        out = CliRunner().invoke(app, ["runs", "--subject", PEOPLE[5], *extra])
        assert out.exit_code == 0, out.output
        return out

    with world.run() as run:
        run.check(batch(PEOPLE[5]))  # used, and not written yet (subjects are written every few seconds)
        assert json.loads(ask("--json").output)["runs_still_running"] == [run.run_id]
        assert "1 training run(s) still marked running" in ask().output
    after = json.loads(ask("--json").output)
    assert after["runs_still_running"] == []
    assert [r["run_id"] for r in after["runs"]] == [run.run_id]
