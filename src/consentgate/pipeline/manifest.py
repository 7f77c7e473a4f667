"""The manifest every filter run writes: what went in, which consent state decided, what came out.

Input fingerprints (``sha256:…``), chosen to cost nothing next to the filter itself:

- files: sha256 over each input file's path (relative to the input given), size and modification time
  (nanoseconds), in sorted order. It identifies *this* file set as it was; it is not a content hash
  (hashing terabytes would cost more than filtering them), so a copied file fingerprints differently.
- in-memory data (Arrow table, DataFrame, relation): sha256 over the Arrow schema, the row count and
  the first 1,000 rows in Arrow IPC form.

Output fingerprints are content hashes (:func:`fingerprint_content`): the output is what later runs
build on, and a training run finds the filter run of its dataset by hashing the file it was given —
a copy, or a file moved to another machine, still matches. Hashing costs one read of the output.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from consentgate.pipeline.plan import Counts, FilterPlan

MANIFEST_FORMAT = "consentgate-filter-manifest/1"
SAMPLE_ROWS = 1000


@dataclass(frozen=True)
class Manifest:
    """One filter run, as JSON for auditors and for the training-run guard that builds on it."""

    run_id: str
    purpose: str
    engine: str
    input_fingerprint: str
    input_description: str
    snapshot: dict[str, Any]
    settings: dict[str, Any]
    counts: Counts
    started_at: datetime
    finished_at: datetime
    output: str | None = None
    suppression: dict[str, Any] | None = None
    input_files: list[str] = field(default_factory=list)
    output_fingerprint: str | None = None
    # How far the snapshot was behind the ledger when the run started (staleness.Staleness.to_json);
    # None when nobody checked (a snapshot used from Python without a ledger).
    staleness: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "run_id": self.run_id,
            "purpose": self.purpose,
            "engine": self.engine,
            "input": {
                "fingerprint": self.input_fingerprint,
                "description": self.input_description,
                "files": self.input_files,
            },
            "output": self.output,
            "output_fingerprint": self.output_fingerprint,
            "snapshot": self.snapshot,
            "staleness": self.staleness,
            "settings": self.settings,
            "suppression": self.suppression,
            "counts": self.counts.to_json(),
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
        }

    def write(self, path: Path) -> None:
        write_json(path, self.to_json())


def write_json(path: Path, body: dict[str, Any]) -> None:
    """Write a manifest atomically: a reader sees the old file or the whole new one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def new_run_id() -> str:
    return str(uuid.uuid4())


def build_manifest(
    *,
    run_id: str,
    engine: str,
    plan: FilterPlan,
    counts: Counts,
    fingerprint: str,
    description: str,
    started_at: datetime,
    output: str | None = None,
    input_files: Sequence[str] = (),
) -> Manifest:
    sup = plan.suppression
    return Manifest(
        run_id=run_id,
        purpose=plan.snapshot.purpose,
        engine=engine,
        input_fingerprint=fingerprint,
        input_description=description,
        snapshot={
            **plan.snapshot.head_json(),
            "unknown_subjects": {
                "allowed": plan.default_allowed,
                "basis": plan.snapshot.default_basis,
                "reason": plan.snapshot.default_reason,
            },
        },
        settings={
            "subject_column": plan.subject_column,
            "flag_column": plan.flag_column,
            "no_subject": plan.no_subject_rule,
        },
        suppression=None
        if sup is None
        else {"entries": len(sup), "digest": sup.digest, "matched_subjects": len(plan.suppressed_ids)},
        counts=counts,
        started_at=started_at,
        finished_at=datetime.now(UTC),
        output=output,
        input_files=list(input_files),
    )


def fingerprint_files(root: Path, files: Sequence[Path]) -> str:
    h = hashlib.sha256(b"consentgate-files/1\n")
    for f in sorted(files):
        st = f.stat()
        name = f.name if f == root else str(f.relative_to(root)) if f.is_relative_to(root) else str(f)
        h.update(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return "sha256:" + h.hexdigest()


def fingerprint_content(path: Path) -> str:
    """sha256 of a written file's bytes; for a directory (Spark's part files), sha256 over each
    file's relative name and content hash in sorted order, hidden and ``_`` files (``_SUCCESS``)
    skipped, so the same data written again fingerprints alike."""
    if path.is_file():
        return "sha256:" + _file_sha256(path)
    h = hashlib.sha256(b"consentgate-dir/1\n")
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = f.relative_to(path)
        if any(part.startswith((".", "_")) for part in rel.parts):
            continue
        h.update(f"{rel.as_posix()}\0{_file_sha256(f)}\n".encode())
    return "sha256:" + h.hexdigest()


def _file_sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def fingerprint_sample(sample: pa.Table, rows: int) -> str:
    """``sample`` is the first rows of the data (at most :data:`SAMPLE_ROWS`), ``rows`` its length."""
    h = hashlib.sha256(b"consentgate-data/1\n")
    h.update(sample.schema.remove_metadata().serialize().to_pybytes())
    h.update(f"{rows}\n".encode())
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, sample.schema) as writer:
        writer.write_table(sample.slice(0, SAMPLE_ROWS))
    h.update(sink.getvalue().to_pybytes())
    return "sha256:" + h.hexdigest()
