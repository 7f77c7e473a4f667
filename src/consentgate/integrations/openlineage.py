"""Filter runs, exports and training runs as OpenLineage RunEvents (``pip install 'consentgate[lineage]'``).

Each run becomes a START and a COMPLETE (or FAIL) event of the job ``<kind>.<purpose>`` in the
namespace ``OPENLINEAGE_NAMESPACE`` (default ``consentgate``), with its inputs and outputs as
datasets and one custom run facet, ``consentgate``, carrying what an auditor of the lineage graph
needs: the purpose, the ledger head (seq and hash) the decisions came from, the policy fingerprint,
the counts, the output fingerprint, how far the snapshot was behind the ledger, and the violation
that stopped a training run.

Where events go is the OpenLineage client's own configuration (``OPENLINEAGE_URL``,
``OPENLINEAGE_CONFIG``, ``OPENLINEAGE__TRANSPORT__…``); :meth:`LineageEmitter.configured` returns
an emitter only when one of those is set, so nothing is sent, or printed, unless someone asked::

    emitter = LineageEmitter.configured()          # or LineageEmitter(OpenLineageClient(transport=…))
    with emitter.track(TrainingRun(...)) as run:   # START on entry, COMPLETE / FAIL on exit
        for batch in run.guard(loader): ...
    emitter.emit_finished(stored_manifest)         # a filter run or an export: START and COMPLETE
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from consentgate.errors import MissingExtra

try:
    import attr
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import RunFacet
except ImportError as exc:  # pragma: no cover - exercised by tests/test_missing_extra.py's pattern
    raise MissingExtra("emitting OpenLineage events", ["openlineage-python"], "lineage") from exc

if TYPE_CHECKING:
    from consentgate.pipeline.training import TrainingRun

PRODUCER = "https://consentgate.example.com/integrations/openlineage"
FACET_SCHEMA = "https://consentgate.example.com/spec/facets/1-0-0/ConsentgateRunFacet.json"
_ENV_KEYS = ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG")


@attr.define
class ConsentgateRunFacet(RunFacet):
    """The consent state a run used, so the lineage graph can answer "under which decisions?"."""

    kind: str
    purpose: str
    status: str
    ledgerHead: dict[str, Any]
    policyFingerprint: str | None
    counts: dict[str, Any]
    outputFingerprint: str | None = None
    staleness: dict[str, Any] | None = None
    violation: dict[str, Any] | None = None

    @staticmethod
    def _get_schema() -> str:
        return FACET_SCHEMA


class LineageEmitter:
    """Turns consentgate manifests into RunEvents and hands them to an OpenLineage client."""

    def __init__(self, client: OpenLineageClient, *, namespace: str | None = None) -> None:
        self.client = client
        self.namespace = namespace or os.environ.get("OPENLINEAGE_NAMESPACE") or "consentgate"

    @classmethod
    def configured(cls) -> LineageEmitter | None:
        """An emitter when the environment names a destination for events, else None (never the
        client's fallback of printing events on the console)."""
        if os.environ.get("OPENLINEAGE_DISABLED", "").strip().lower() == "true":
            return None
        named = any(os.environ.get(k) for k in _ENV_KEYS) or any(
            k.startswith("OPENLINEAGE__TRANSPORT") for k in os.environ
        )
        return cls(OpenLineageClient()) if named else None

    def emit(self, manifest: dict[str, Any], state: RunState) -> RunEvent:
        """One event for a run's manifest (as stored in ``runs``) in ``state``; returns it."""
        event = self.event(manifest, state)
        self.client.emit(event)
        return event

    def emit_finished(self, manifest: dict[str, Any]) -> None:
        """A run that is already over (a filter run, an export): its START and its COMPLETE."""
        self.emit(manifest, RunState.START)
        self.emit(manifest, RunState.COMPLETE if _status(manifest) == "completed" else RunState.FAIL)

    @contextmanager
    def track(self, run: TrainingRun) -> Iterator[TrainingRun]:
        """Enter ``run``, emit START; on exit let the run store its outcome, then emit COMPLETE, or
        FAIL for a violation or an error (with the run's final manifest)."""
        run.__enter__()
        self.emit(run.manifest(), RunState.START)
        try:
            yield run
        except BaseException as exc:
            run.__exit__(type(exc), exc, exc.__traceback__)
            self.emit(run.manifest(), RunState.FAIL)
            raise
        run.__exit__(None, None, None)
        self.emit(run.manifest(), RunState.COMPLETE if run.status == "completed" else RunState.FAIL)

    def event(self, manifest: dict[str, Any], state: RunState) -> RunEvent:
        kind = str(manifest.get("kind") or "filter")
        purpose = str(manifest["purpose"])
        when = manifest.get("started_at") if state == RunState.START else manifest.get("finished_at")
        outputs = _outputs(manifest, kind, self.namespace)
        return RunEvent(
            eventType=state,
            eventTime=str(when or datetime.now(UTC).isoformat()),
            run=Run(runId=str(manifest["run_id"]), facets={"consentgate": _facet(manifest, kind)}),
            job=Job(namespace=self.namespace, name=f"{kind}.{purpose}"),
            inputs=[InputDataset(namespace=ns, name=name) for ns, name in _inputs(manifest, kind)],
            outputs=[OutputDataset(namespace=ns, name=name) for ns, name in outputs],
            producer=PRODUCER,
        )


def _status(manifest: dict[str, Any]) -> str:
    return str(manifest.get("status") or "completed")  # filter runs and exports are stored once done


def _facet(m: dict[str, Any], kind: str) -> ConsentgateRunFacet:
    snap = m.get("snapshot") or {}
    head = (snap.get("last") or snap.get("first") or {}) if kind == "training" else snap
    return ConsentgateRunFacet(
        kind=kind,
        purpose=str(m["purpose"]),
        status=_status(m),
        ledgerHead={"seq": head.get("head_seq"), "hash": head.get("head_hash")},
        policyFingerprint=head.get("policy_fingerprint"),
        counts=dict(m.get("counts") or {}),
        outputFingerprint=m.get("output_fingerprint"),
        staleness=m.get("staleness"),
        violation=m.get("violation"),
        producer=PRODUCER,
    )


def _file(path: str) -> tuple[str, str]:
    """OpenLineage's dataset naming: a local file is namespace ``file`` and its absolute path; an
    object store URI is ``scheme://bucket`` and the key (``s3://example-data`` + ``chats/``)."""
    if "://" in path:
        scheme, _, rest = path.partition("://")
        host, _, name = rest.partition("/")
        return f"{scheme}://{host}", name or "/"
    return "file", str(Path(path).resolve())


def _inputs(m: dict[str, Any], kind: str) -> list[tuple[str, str]]:
    if kind == "training":
        return [_file(str(d["name"])) for d in m.get("dataset") or []]
    return [_file(f) for f in (m.get("input") or {}).get("files") or []]


def _outputs(m: dict[str, Any], kind: str, namespace: str) -> list[tuple[str, str]]:
    if kind == "training":
        return [(namespace, f"model/{m['model']}")]
    if kind == "export":
        vendor = (m.get("vendor") or {}).get("id")
        out = [_file(str(m["output"]))] if m.get("output") else []
        return [*out, (namespace, f"vendor/{vendor}")]
    return [_file(str(m["output"]))] if m.get("output") else []
