"""OpenLineage events and MLflow params for consentgate runs, through the real clients: the
OpenLineage file transport (configured by environment, as a user would) and a local MLflow file
store in tmp_path. No network."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from consentgate.cli import app
from consentgate.errors import ConsentViolation
from consentgate.ledger.store import Ledger
from consentgate.pipeline import FilterOptions, build_snapshot, filter_files
from consentgate.pipeline.lineage import record_filter_run
from consentgate.pipeline.training import TrainingRun
from consentgate.policy import Policy, load_policy
from consentgate.service import ConsentService
from consentgate.store.runs import RunStore
from tests.pipeline.conftest import POLICY, ev

openlineage = pytest.importorskip("consentgate.integrations.openlineage")
mlflow_helper = pytest.importorskip("consentgate.integrations.mlflow")

PURPOSE = "train_optout"


@pytest.fixture
def policy() -> Policy:
    return load_policy(POLICY)


@pytest.fixture
def db(tmp_path: Path, policy: Policy, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("CONSENTGATE_DB", "CONSENTGATE_POLICY", "OPENLINEAGE_URL", "OPENLINEAGE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "ledger.db"
    with Ledger.open(str(path)) as led:
        ConsentService(policy, led).record(
            [
                ev("ken", "grant", "2026-06-05T09:00:00Z", purpose=PURPOSE),
                ev("carol", "opt_out", "2026-06-05T09:00:00Z", purpose=PURPOSE, region="US-CA"),
            ],
            strict=False,
        )
    return path


def chats(path: Path) -> Path:
    users = ["ken", "pat", "carol", "ann"]
    pq.write_table(pa.table({"user_id": users, "text": [f"message {i}" for i in range(4)]}), path)
    return path


def events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def file_transport(monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    """The OpenLineage client's file transport, configured by environment as a user would."""
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "file")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__LOG_FILE_PATH", str(log))
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__APPEND", "true")


def filter_cli(db: Path, src: Path, out: Path) -> Result:
    return CliRunner().invoke(
        app,
        ["--db", str(db), "--policy", str(POLICY), "filter", "--purpose", PURPOSE, "--subject-column",
         "user_id", "--input", str(src), "--output", str(out), "--json"],
    )  # fmt: skip


def test_the_filter_command_emits_start_and_complete_with_the_consent_facet(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "lineage.jsonl"
    file_transport(monkeypatch, log)
    monkeypatch.setenv("OPENLINEAGE_NAMESPACE", "example-team")
    src = chats(tmp_path / "chats.parquet")
    result = filter_cli(db, src, tmp_path / "clean.parquet")
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.stdout)
    start, complete = events(log)
    assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
    for event in (start, complete):
        assert event["run"]["runId"] == manifest["run_id"]
        assert event["job"] == {"namespace": "example-team", "name": f"filter.{PURPOSE}", "facets": {}}
        assert event["inputs"][0]["name"] == str(src.resolve())
        assert event["outputs"][0]["name"] == str((tmp_path / "clean.parquet").resolve())
    facet = complete["run"]["facets"]["consentgate"]
    with Ledger.open(str(db)) as led:
        seq, head_hash = led.head()
    assert facet["ledgerHead"] == {"seq": seq, "hash": head_hash}
    assert facet["policyFingerprint"] == manifest["snapshot"]["policy_fingerprint"]
    assert facet["outputFingerprint"] == manifest["output_fingerprint"]
    assert facet["counts"]["kept"] == 3  # ken, pat, ann; carol opted out
    assert facet["staleness"]["events"] == 0
    assert complete["eventTime"] == manifest["finished_at"]


def test_a_training_run_tracked_emits_fail_with_the_violation(
    db: Path, tmp_path: Path, policy: Policy
) -> None:
    from openlineage.client import OpenLineageClient
    from openlineage.client.transport.file import FileConfig, FileTransport

    log = tmp_path / "run.jsonl"
    client = OpenLineageClient(transport=FileTransport(FileConfig(log_file_path=str(log), append=True)))
    emitter = openlineage.LineageEmitter(client, namespace="ml")
    run = TrainingRun(PURPOSE, "bot-v1", "s3://example-data/chats/", policy=policy, ledger=str(db),
                      options=FilterOptions(subject_column="user_id"))  # fmt: skip
    with emitter.track(run) as active:
        active.check([{"user_id": "ken"}, {"user_id": "pat"}])
        with pytest.raises(ConsentViolation):
            active.check([{"user_id": "carol"}])
    start, fail = events(log)
    assert (start["eventType"], fail["eventType"]) == ("START", "FAIL")
    assert fail["job"]["name"] == f"training.{PURPOSE}"
    assert [(d["namespace"], d["name"]) for d in fail["inputs"]] == [("s3://example-data", "chats/")]
    assert fail["outputs"][0]["name"] == "model/bot-v1"
    facet = fail["run"]["facets"]["consentgate"]
    assert facet["status"] == "stopped_by_violation"
    assert facet["violation"]["reason"] == "not_allowed"
    assert facet["counts"] == {"batches": 1, "records": 2, "subjects": 2}
    with Ledger.open(str(db)) as led:
        stored = RunStore(led.engine).get(run.run_id)
    assert stored is not None
    assert stored.status == "stopped_by_violation"


def test_no_destination_configured_means_no_emitter(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG", "OPENLINEAGE__TRANSPORT__TYPE"):
        monkeypatch.delenv(name, raising=False)
    assert openlineage.LineageEmitter.configured() is None
    monkeypatch.setenv("OPENLINEAGE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("OPENLINEAGE_DISABLED", "true")
    assert openlineage.LineageEmitter.configured() is None


def test_mlflow_gets_the_manifest_as_params_and_an_artifact(
    db: Path, tmp_path: Path, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 keeps the file store, opt-in
    mlflow.set_tracking_uri((tmp_path / "mlruns").as_uri())
    with Ledger.open(str(db)) as led:
        snap = build_snapshot(policy, led, PURPOSE)
        manifest = filter_files(
            chats(tmp_path / "in.parquet"),
            tmp_path / "out.parquet",
            snap,
            FilterOptions(subject_column="user_id"),
        )
        stored = record_filter_run(led, manifest)
    with mlflow.start_run() as active:
        params = mlflow_helper.log_manifest(stored)
    logged = mlflow.MlflowClient().get_run(active.info.run_id).data.params
    assert logged == params
    assert logged["consentgate.run_id"] == manifest.run_id
    assert logged["consentgate.ledger_head_seq"] == str(snap.meta.head_seq)
    assert logged["consentgate.ledger_head_hash"] == snap.meta.head_hash
    assert logged["consentgate.output_fingerprint"] == manifest.output_fingerprint
    assert logged["consentgate.counts.kept"] == "3"
    assert "None" not in logged.values()
    artifact = Path(active.info.artifact_uri.removeprefix("file://")) / "consentgate" / "manifest.json"
    assert json.loads(artifact.read_text()) == stored


def test_openlineage_url_sends_the_events_over_http(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OPENLINEAGE_URL, the client's simplest configuration, against a receiver on 127.0.0.1."""
    received: list[dict[str, Any]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(
                {"path": self.path, **json.loads(self.rfile.read(int(self.headers["Content-Length"])))}
            )
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args: Any) -> None:  # keep the test output clean
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("OPENLINEAGE_URL", f"http://127.0.0.1:{server.server_port}")
        src = chats(tmp_path / "chats.parquet")
        result = filter_cli(db, src, tmp_path / "clean.parquet")
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr
    assert [(e["path"], e["eventType"]) for e in received] == [
        ("/api/v1/lineage", "START"),
        ("/api/v1/lineage", "COMPLETE"),
    ]
    assert received[1]["run"]["runId"] == json.loads(result.stdout)["run_id"]


def test_an_unreachable_lineage_backend_is_a_warning_not_a_failed_filter(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file_transport(monkeypatch, tmp_path / "missing-dir" / "x.jsonl")
    src = chats(tmp_path / "chats.parquet")
    result = filter_cli(db, src, tmp_path / "clean.parquet")
    assert result.exit_code == 0, result.output
    assert "was not sent to OpenLineage" in result.stderr
    assert (tmp_path / "clean.parquet").exists()
