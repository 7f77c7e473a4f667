"""Log a consentgate manifest to MLflow (``pip install 'consentgate[lineage]'``): the few facts worth
filtering runs by as params, the whole manifest as a JSON artifact.

::

    with TrainingRun(...) as run, mlflow.start_run():
        ...
        log_manifest(run.manifest())            # or a filter run's stored manifest

Params are ``consentgate.<name>`` (purpose, kind, run id, ledger head seq and hash, policy
fingerprint, output fingerprint, counts, status); MLflow refuses to change a param within a run, so
log a training run's manifest once, when it is over (or log it to a new MLflow run).
"""

from __future__ import annotations

from typing import Any

from consentgate.errors import MissingExtra
from consentgate.pipeline.manifest import Manifest

try:
    import mlflow
except ImportError as exc:  # pragma: no cover
    raise MissingExtra("logging manifests to MLflow", ["mlflow-skinny"], "lineage") from exc

ARTIFACT = "consentgate/manifest.json"
PREFIX = "consentgate."


def manifest_params(manifest: dict[str, Any]) -> dict[str, str]:
    """The manifest's headline facts as MLflow params (strings; absent values left out, never "None")."""
    kind = str(manifest.get("kind") or "filter")
    snap = manifest.get("snapshot") or {}
    head = (snap.get("last") or snap.get("first") or {}) if kind == "training" else snap
    values: dict[str, Any] = {
        "kind": kind,
        "run_id": manifest.get("run_id"),
        "purpose": manifest.get("purpose"),
        "status": manifest.get("status") or ("completed" if kind != "training" else None),
        "model": manifest.get("model"),
        "ledger_head_seq": head.get("head_seq"),
        "ledger_head_hash": head.get("head_hash"),
        "policy_fingerprint": head.get("policy_fingerprint"),
        "output_fingerprint": manifest.get("output_fingerprint"),
    }
    counts = manifest.get("counts") or {}
    for name, value in counts.items():
        if isinstance(value, int | float | str):
            values[f"counts.{name}"] = value
    return {PREFIX + k: str(v) for k, v in values.items() if v is not None}


def log_manifest(
    manifest: dict[str, Any] | Manifest, *, artifact_file: str = ARTIFACT, run_id: str | None = None
) -> dict[str, str]:
    """Log params and the artifact to the active MLflow run (or ``run_id``); returns the params."""
    body = manifest.to_json() if isinstance(manifest, Manifest) else manifest
    params = manifest_params(body)
    if run_id is None:
        mlflow.log_params(params)
        mlflow.log_dict(body, artifact_file)
    else:
        client = mlflow.MlflowClient()
        for key, value in params.items():
            client.log_param(run_id, key, value)
        client.log_dict(run_id, body, artifact_file)
    return params
