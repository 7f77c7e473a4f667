"""The vendor export guard: refuses vendors the policy does not allow (naming the key to change),
filters exactly like the dataset filter, and records which vendor received whose data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from consentgate.cli import app
from consentgate.errors import QueryError, Refused, StaleData, StaleDataWarning
from consentgate.ledger.store import Ledger
from consentgate.pipeline import FilterOptions, build_snapshot, filter_files
from consentgate.pipeline.export import EXPORT_FORMAT, check_vendor, export_files
from consentgate.pipeline.staleness import MaxStaleness
from consentgate.policy import Policy, load_policy
from consentgate.service import ConsentService
from consentgate.store.runs import RunStore

from .conftest import AT, POLICY, ev, populate, records

VENDORS = """
vendors:
  - {id: host, name: Example LLM Host, purposes: [train_chat, train_optout], self_training: false}
  - {id: labeller, purposes: [train_chat], self_training: true}
  - {id: approved-labeller, purposes: [train_chat], self_training: true, self_training_approved: true}
  - {id: analytics, purposes: [train_optout]}
"""


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY.read_text(encoding="utf-8") + VENDORS, encoding="utf-8")
    return path


@pytest.fixture
def vendor_policy(policy_file: Path) -> Policy:
    return load_policy(policy_file)


@pytest.fixture
def db(tmp_path: Path, vendor_policy: Policy) -> Path:
    path = tmp_path / "ledger.db"
    with Ledger.open(str(path)) as led:
        populate(ConsentService(vendor_policy, led))
    return path


@pytest.fixture
def records_file(tmp_path: Path) -> Path:
    path = tmp_path / "records.parquet"
    pq.write_table(records(), path)
    return path


@pytest.mark.parametrize(
    ("vendor", "purpose", "error", "needles"),
    [
        (
            "nobody",
            "train_chat",
            Refused,
            ["not in the policy's `vendors`", "host, labeller", "under `vendors`"],
        ),
        ("analytics", "train_chat", Refused, ["vendors[3] (analytics).purposes", "add train_chat"]),
        ("labeller", "train_chat", Refused, ["vendors[1] (labeller).self_training_approved: true"]),
        ("host", "nope", QueryError, ["unknown purpose 'nope'"]),
    ],
)
def test_vendors_the_policy_does_not_allow_are_refused(
    vendor_policy: Policy, vendor: str, purpose: str, error: type[Exception], needles: list[str]
) -> None:
    with pytest.raises(error) as caught:
        check_vendor(vendor_policy, vendor, purpose)
    for needle in needles:
        assert needle in str(caught.value)


@pytest.mark.parametrize(("vendor", "purpose"), [("host", "train_chat"), ("approved-labeller", "train_chat")])
def test_allowed_vendors_pass(vendor_policy: Policy, vendor: str, purpose: str) -> None:
    assert check_vendor(vendor_policy, vendor, purpose).id == vendor


def cg(db: Path, policy_file: Path, *args: str) -> Any:
    runner = CliRunner(env={"COLUMNS": "240"})
    return runner.invoke(app, ["--db", str(db), "--policy", str(policy_file), *args])


def test_export_filters_like_the_filter_and_records_the_vendor(
    db: Path, policy_file: Path, records_file: Path, tmp_path: Path, vendor_policy: Policy
) -> None:
    out = tmp_path / "to-vendor.parquet"
    manifest = tmp_path / "export.json"
    result = cg(
        db, policy_file, "export", "--vendor", "host", "--purpose", "train_optout", "--subject-column",
        "user_id", "--input", str(records_file), "--output", str(out), "--manifest", str(manifest),
        "--source", "chats", "--at", AT.isoformat(),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "6 of 48 records (3 subjects) for vendor host, purpose train_optout" in result.stdout
    assert "dropped 42 (33 not_allowed, 3 do_not_train, 6 no_subject)" in result.stdout

    # The same records as the dataset filter keeps, with the same counts.
    with Ledger.open(str(db)) as led:
        snap = build_snapshot(vendor_policy, led, "train_optout", AT)
        plain = filter_files(
            records_file,
            tmp_path / "plain.parquet",
            snap,
            FilterOptions(subject_column="user_id", source=vendor_policy.sources[0]),
        )
        assert pq.read_table(out).to_pylist() == pq.read_table(tmp_path / "plain.parquet").to_pylist()

        body = json.loads(manifest.read_text())
        assert body["format"] == EXPORT_FORMAT
        assert body["kind"] == "export"
        assert body["vendor"]["id"] == "host"
        assert body["vendor"]["self_training"] is False
        assert body["counts"] == plain.counts.to_json()
        assert body["snapshot"]["head_seq"] == snap.meta.head_seq
        assert body["subjects"]["count"] == 3
        assert body["output"] == str(out)

        # Stored: the vendor received ken's data (kept) but not carol's (opted out).
        store = RunStore(led.engine)
        (export,) = store.runs(kind="export")
        assert (export.vendor, export.purpose, export.records, export.subjects) == (
            "host",
            "train_optout",
            6,
            3,
        )
        assert export.run_id == body["run_id"]
        assert export.manifest == body
        assert [r.run_id for r in store.used_by("ken")[1]] == [export.run_id]
        assert store.used_by("carol")[1] == []

    listed = cg(db, policy_file, "runs", "--subject", "zed", "--json")
    assert [r["vendor"] for r in json.loads(listed.stdout)["runs"]] == ["host"]


@pytest.mark.parametrize(
    ("vendor", "purpose", "needle"),
    [
        ("nobody", "train_chat", "vendor 'nobody' is not in the policy's `vendors`"),
        ("analytics", "train_chat", "add train_chat to vendors[3] (analytics).purposes"),
        ("labeller", "train_chat", "set vendors[1] (labeller).self_training_approved: true"),
    ],
)
def test_the_cli_refuses_with_exit_1_and_exports_nothing(
    db: Path, policy_file: Path, records_file: Path, tmp_path: Path, vendor: str, purpose: str, needle: str
) -> None:
    out = tmp_path / "to-vendor.parquet"
    result = cg(
        db, policy_file, "export", "--vendor", vendor, "--purpose", purpose, "--subject-column", "user_id",
        "--input", str(records_file), "--output", str(out),
    )  # fmt: skip
    assert result.exit_code == 1
    assert "error (Refused)" in result.stderr
    assert needle in result.stderr
    assert str(policy_file) in result.stderr
    assert not out.exists()
    with Ledger.open(str(db)) as led:
        assert RunStore(led.engine).runs() == []


def test_an_approved_self_training_vendor_is_recorded_as_such(
    db: Path, records_file: Path, tmp_path: Path, vendor_policy: Policy
) -> None:
    with Ledger.open(str(db)) as led:
        result = export_files(
            vendor_policy,
            led,
            "approved-labeller",
            "train_chat",
            records_file,
            tmp_path / "o.parquet",
            FilterOptions(subject_column="user_id"),
            engine="polars",
            at=AT,
            manifest_path=tmp_path / "m.json",
        )
    body = result.to_json()
    assert body["vendor"]["self_training"] is True
    assert body["vendor"]["self_training_approved"] is True
    assert body["engine"] == "polars"
    assert json.loads((tmp_path / "m.json").read_text()) == body


def test_no_export_is_left_behind_unrecorded(
    db: Path, records_file: Path, tmp_path: Path, vendor_policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(RunStore, "record", broken)
    out = tmp_path / "o.parquet"
    with Ledger.open(str(db)) as led, pytest.raises(RuntimeError, match="went away"):
        export_files(
            vendor_policy,
            led,
            "host",
            "train_chat",
            records_file,
            out,
            FilterOptions(subject_column="user_id"),
            at=AT,
        )
    assert not out.exists()


@pytest.mark.spark
def test_a_spark_export_reads_its_part_files_for_the_record(
    db: Path, records_file: Path, tmp_path: Path, vendor_policy: Policy, spark: Any
) -> None:
    out = tmp_path / "to-vendor"
    with Ledger.open(str(db)) as led:
        result = export_files(
            vendor_policy,
            led,
            "host",
            "train_optout",
            records_file,
            out,
            FilterOptions(subject_column="user_id", source=vendor_policy.sources[0]),
            engine="spark",
            at=AT,
        )
        assert out.is_dir()
        assert (result.manifest.counts.kept, result.subjects) == (6, 3)
        assert [r.run_id for r in RunStore(led.engine).used_by("gina")[1]] == [result.run_id]


def test_an_export_records_how_far_its_snapshot_was_behind(
    db: Path, policy_file: Path, records_file: Path, tmp_path: Path, vendor_policy: Policy
) -> None:
    """Like a filter manifest, an export's says how far the snapshot it used was behind the ledger;
    a snapshot given from Python is warned about, and refused beyond max_staleness."""
    with Ledger.open(str(db)) as led:
        old = build_snapshot(vendor_policy, led, "train_optout")
        old.write(tmp_path / "old.parquet")
        ConsentService(vendor_policy, led).record(
            [ev(s, "withdraw", "2026-06-07T09:00:00Z", purpose="train_optout") for s in ("ken", "lee")],
            strict=False,
        )

        def export(out: str, **kw: Any) -> Any:
            return export_files(
                vendor_policy, led, "host", "train_optout", records_file, tmp_path / out,
                FilterOptions(subject_column="user_id"), **kw,
            )  # fmt: skip

        with pytest.raises(StaleData, match="2 ledger events behind"):
            export("a.parquet", snapshot=old, max_staleness=MaxStaleness(events=1))
        assert not (tmp_path / "a.parquet").exists()
        with pytest.warns(StaleDataWarning, match="2 ledger events behind"):
            used = export("b.parquet", snapshot=old, max_staleness=MaxStaleness(events=2))
        assert used.to_json()["staleness"]["events"] == 2
        fresh = export("c.parquet")
        assert fresh.to_json()["staleness"]["events"] == 0
        stored = {r.run_id: r.manifest for r in RunStore(led.engine).runs(kind="export")}
        assert stored[used.run_id]["staleness"]["events"] == 2

    result = cg(
        db, policy_file, "export", "--vendor", "host", "--purpose", "train_optout", "--subject-column",
        "user_id", "--input", str(records_file), "--output", str(tmp_path / "d.parquet"),
        "--snapshot", str(tmp_path / "old.parquet"), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 ledger events behind" in result.stderr
    assert json.loads(result.stdout)["staleness"]["events"] == 2
