"""Stale data is visible and lineage reaches the model (issue 15, parts 3 and 5), on SQLite and
PostgreSQL: how far a snapshot or filtered file is behind the ledger, the limit that refuses it,
filter runs in ``runs`` with a content fingerprint, and training runs that trace their dataset to
the filter run that wrote it (and re-filter it when asked)."""

from __future__ import annotations

import hashlib
import json
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner, Result

from consentgate.cli import app
from consentgate.errors import BadInput, StaleData, StaleDataWarning
from consentgate.ledger.db import downgrade, make_engine, migrate
from consentgate.ledger.store import Ledger
from consentgate.pipeline import FilterOptions, build_snapshot, filter_files
from consentgate.pipeline.lineage import record_filter_run, trace_dataset
from consentgate.pipeline.staleness import MaxStaleness, enforce, snapshot_staleness
from consentgate.pipeline.training import TrainingRun
from consentgate.policy import Policy
from consentgate.service import ConsentService
from consentgate.store.runs import RunStore

from .conftest import POLICY, ev

USER_ID = FilterOptions(subject_column="user_id")
PURPOSE = "train_optout"  # opt-out by default ("*"), consent in the EU: no expiry to interfere


@pytest.fixture
def people(policy: Policy, shared: Ledger) -> ConsentService:
    """ken granted (EU, consent), carol opted out (US), pat has no events (allowed by default)."""
    service = ConsentService(policy, shared)
    service.record(
        [
            ev("ken", "grant", "2026-06-05T09:00:00Z", purpose=PURPOSE),
            ev("carol", "opt_out", "2026-06-05T09:00:00Z", purpose=PURPOSE, region="US-CA"),
        ],
        strict=False,
    )
    return service


def chats(path: Path) -> Path:
    users = ["ken", "pat", "carol", "ken", "pat", "ann"]
    pq.write_table(pa.table({"user_id": users, "text": [f"message {i}" for i in range(len(users))]}), path)
    return path


def withdraw(service: ConsentService, *subjects: str) -> None:
    service.record(
        [ev(s, "withdraw", "2026-06-06T09:00:00Z", purpose=PURPOSE) for s in subjects], strict=False
    )


def filtered(policy: Policy, ledger: Ledger, tmp_path: Path) -> tuple[Path, dict[str, object]]:
    out = tmp_path / "clean.parquet"
    snap = build_snapshot(policy, ledger, PURPOSE)
    manifest = filter_files(chats(tmp_path / "chats.parquet"), out, snap, USER_ID)
    return out, record_filter_run(ledger, manifest)


# -- the limit's syntax ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "events", "seconds"),
    [("100", 100, None), ("0", 0, None), ("10m", None, 600.0), ("90s", None, 90.0), ("1.5h", None, 5400.0),
     ("2d", None, 172800.0), ("100,10m", 100, 600.0), (" 10m , 5 ", 5, 600.0)],
)  # fmt: skip
def test_max_staleness_reads_events_durations_or_both(
    text: str, events: int | None, seconds: float | None
) -> None:
    assert MaxStaleness.parse(text) == MaxStaleness(events=events, seconds=seconds)


@pytest.mark.parametrize("text", ["", "ten", "10x", "-5", "10m,20m", "1,2", "10 minutes"])
def test_a_bad_max_staleness_says_how_to_write_one(text: str) -> None:
    with pytest.raises(BadInput, match=r"a number of ledger events \(`100`\), a duration"):
        MaxStaleness.parse(text)


# -- how far behind ----------------------------------------------------------------------------------


def test_a_snapshot_behind_the_ledger_is_counted_warned_about_and_refused_beyond_the_limit(
    policy: Policy, people: ConsentService
) -> None:
    snap = build_snapshot(policy, people.ledger, PURPOSE)
    fresh = snapshot_staleness(people.ledger, snap)
    assert (fresh.events, fresh.stale, fresh.seconds) == (0, False, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        enforce(fresh, MaxStaleness(events=0))  # at the head: neither a warning nor a refusal

    withdraw(people, "ken", "pat", "ann")
    later = datetime.now(UTC) + timedelta(minutes=5)
    found = snapshot_staleness(people.ledger, snap, what="snapshot s.parquet", now=later)
    assert found.events == 3
    assert found.lag.ledger_seq == snap.meta.head_seq + 3
    assert found.seconds is not None
    assert 300 <= found.seconds < 400
    assert "snapshot s.parquet is 3 ledger events behind" in found.message()
    assert "out of date for 5 min" in found.message()
    with pytest.warns(StaleDataWarning, match="3 ledger events behind"):
        enforce(found, None)
    with pytest.warns(StaleDataWarning):
        enforce(found, MaxStaleness(events=3, seconds=3600))  # within both limits: used, with a warning
    with pytest.raises(StaleData, match="refused: the staleness limit allows 2 events") as err:
        enforce(found, MaxStaleness(events=2))
    assert err.value.events == 3
    with pytest.raises(StaleData, match="allows 60 s"):
        enforce(found, MaxStaleness(seconds=60))


def test_a_snapshot_of_another_ledger_is_unknown_never_fresh(
    policy: Policy, people: ConsentService, tmp_path: Path
) -> None:
    with Ledger.open(str(tmp_path / "other.db")) as other:
        ConsentService(policy, other).record([ev("zoe", "grant", "2026-06-05T09:00:00Z", purpose=PURPOSE)])
        foreign = build_snapshot(policy, other, PURPOSE)
    found = snapshot_staleness(people.ledger, foreign)
    assert not found.lag.known
    assert (found.events, found.seconds, found.stale) == (None, None, True)
    assert "cannot be known" in found.message()
    with pytest.warns(StaleDataWarning, match="does not hold"):
        enforce(found, None)
    with pytest.raises(StaleData):
        enforce(found, MaxStaleness(events=1000))


def test_decisions_past_their_valid_until_make_a_snapshot_stale_without_new_events(
    policy: Policy, shared: Ledger
) -> None:
    ConsentService(policy, shared).record([ev("amy", "grant", "2026-06-10T09:00:00Z")])  # 30 days
    snap = build_snapshot(policy, shared, "train_chat", datetime(2026, 6, 20, tzinfo=UTC))
    found = snapshot_staleness(shared, snap, now=datetime(2026, 7, 20, tzinfo=UTC))
    assert (found.events, found.expired, found.stale) == (0, 1, True)
    assert "is out of date in 1 of its decisions, whose valid_until has passed" in found.message()


# -- filter runs in runs -----------------------------------------------------------------------------


def test_a_filter_run_is_stored_with_the_sha256_of_its_output_and_the_subjects_it_kept(
    policy: Policy, people: ConsentService, tmp_path: Path
) -> None:
    out, stored = filtered(policy, people.ledger, tmp_path)
    digest = "sha256:" + hashlib.sha256(out.read_bytes()).hexdigest()
    assert stored["output_fingerprint"] == digest
    assert stored["kind"] == "filter"
    store = RunStore(people.ledger.engine)
    [run] = store.runs(kind="filter")
    assert run.run_id == stored["run_id"]
    assert run.manifest["output_fingerprint"] == digest
    assert (run.records, run.subjects) == (5, 3)  # ken, pat, ann kept; carol dropped
    assert [r.run_id for r in store.used({"ken"})] == [run.run_id]
    assert store.used({"carol"}) == []


def test_a_training_run_traces_its_dataset_to_the_filter_run_by_content(
    policy: Policy, people: ConsentService, tmp_path: Path
) -> None:
    out, stored = filtered(policy, people.ledger, tmp_path)
    moved = tmp_path / "renamed.parquet"
    out.rename(moved)  # the name changed, the bytes did not
    with TrainingRun(
        PURPOSE,
        "m",
        moved,
        policy=policy,
        ledger=people.ledger,
        options=USER_ID,
    ) as run:
        run.check(pq.read_table(moved))
    [entry] = run.manifest()["dataset"]
    assert entry["filter_run"] == stored["run_id"]
    assert entry["filtered_at_head"]["head_seq"] == people.ledger.head()[0]
    assert entry["staleness"]["events"] == 0
    unrelated = chats(tmp_path / "raw.parquet")
    assert trace_dataset(people.ledger, unrelated).filter_run is None


def test_a_stale_filtered_dataset_is_warned_about_refused_or_refiltered(
    policy: Policy, people: ConsentService, tmp_path: Path
) -> None:
    out, first = filtered(policy, people.ledger, tmp_path)
    withdraw(people, "ken")  # ken's records are in the filtered file

    def run(**kw: object) -> TrainingRun:
        return TrainingRun(
            PURPOSE,
            "m",
            out,
            policy=policy,
            ledger=people.ledger,
            options=USER_ID,
            **kw,
        )  # type: ignore[arg-type]

    with pytest.raises(StaleData, match="1 ledger event behind"), run(max_staleness="0"):
        pass
    assert RunStore(people.ledger.engine).runs(kind="training") == []  # refused before it started

    with pytest.warns(StaleDataWarning, match=f"filtered by run {first['run_id']}.*1 ledger event behind"):
        warned = run().__enter__()
    warned.__exit__(None, None, None)

    with run(refilter=True, max_staleness="0") as fresh:
        fresh.check(pq.read_table(out))  # ken's records are gone: no violation
    assert "ken" not in pq.read_table(out).column("user_id").to_pylist()
    [entry] = fresh.manifest()["dataset"]
    assert entry["refiltered_from"]["filter_run"] == first["run_id"]
    assert entry["filter_run"] not in (None, first["run_id"])
    assert entry["staleness"]["events"] == 0
    assert len(RunStore(people.ledger.engine).runs(kind="filter")) == 2


def test_migration_0006_adds_and_removes_the_output_fingerprint(ledger_url: str) -> None:
    engine = make_engine(ledger_url)
    try:
        migrate(engine)
        assert "output_fingerprint" in {c["name"] for c in inspect(engine).get_columns("runs")}
        downgrade(engine, "0005")
        assert "output_fingerprint" not in {c["name"] for c in inspect(engine).get_columns("runs")}
        migrate(engine)
        assert "output_fingerprint" in {c["name"] for c in inspect(engine).get_columns("runs")}
    finally:
        engine.dispose()


# -- the command line --------------------------------------------------------------------------------


def test_filter_with_an_old_snapshot_warns_refuses_with_exit_7_and_records_the_run(
    policy: Policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CONSENTGATE_DB", "CONSENTGATE_POLICY", "CONSENTGATE_MAX_STALENESS"):
        monkeypatch.delenv(name, raising=False)
    db = tmp_path / "ledger.db"
    with Ledger.open(str(db)) as led:
        service = ConsentService(policy, led)
        service.record([ev("ken", "grant", "2026-06-05T09:00:00Z", purpose=PURPOSE)])
        build_snapshot(policy, led, PURPOSE).write(tmp_path / "old.parquet")
        withdraw(service, "ken", "pat")
    src = chats(tmp_path / "chats.parquet")
    runner = CliRunner(env={"COLUMNS": "240"})

    def cg(*args: str) -> Result:
        return runner.invoke(app, ["--db", str(db), "--policy", str(POLICY), *args])

    def filter_(out: str, *more: str) -> Result:
        return cg(
            "filter", "--purpose", PURPOSE, "--subject-column", "user_id", "--input", str(src),
            "--output", str(tmp_path / out), "--snapshot", str(tmp_path / "old.parquet"), *more,
        )  # fmt: skip

    refused = filter_("a.parquet", "--max-staleness", "1")
    assert refused.exit_code == 7, refused.output
    assert "2 ledger events behind" in refused.stderr
    assert not (tmp_path / "a.parquet").exists()

    used = filter_("b.parquet", "--max-staleness", "2,1h", "--manifest", str(tmp_path / "b.json"))
    assert used.exit_code == 0, used.output
    assert "warning: snapshot" in used.stderr
    assert "2 ledger events behind" in used.stderr
    manifest = json.loads((tmp_path / "b.json").read_text())
    assert manifest["kind"] == "filter"
    assert manifest["staleness"]["events"] == 2
    assert (
        manifest["output_fingerprint"]
        == "sha256:" + hashlib.sha256((tmp_path / "b.parquet").read_bytes()).hexdigest()
    )
    # the stale snapshot still let ken through: the lineage says so, and runs --subject finds it
    listed = cg("runs", "--subject", "ken", "--json")
    assert listed.exit_code == 0, listed.output
    [run] = json.loads(listed.stdout)["runs"]
    assert (run["kind"], run["run_id"]) == ("filter", manifest["run_id"])
    table = cg("runs", "--kind", "filter")
    assert "b.parquet" in table.stdout

    fresh = cg(
        "filter", "--purpose", PURPOSE, "--subject-column", "user_id", "--input", str(src),
        "--output", str(tmp_path / "c.parquet"), "--max-staleness", "0", "--json",
    )  # fmt: skip
    assert fresh.exit_code == 0, fresh.output
    assert "warning" not in fresh.stderr
    assert json.loads(fresh.stdout)["staleness"]["events"] == 0
