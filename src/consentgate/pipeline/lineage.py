"""Lineage from the filter to the model: filter runs stored in ``runs``, and datasets traced to them.

- :func:`record_filter_run` stores a filter run like an export (kind ``filter``): its manifest, the
  sha256 of what it wrote (``output_fingerprint``), and keyed hashes of the identifiers in its
  output, so ``consentgate runs --subject S`` also lists the filtered files that hold S's records.
- :func:`trace_dataset` finds the filter run(s) that wrote a dataset file, by hashing the file —
  the name may have changed, the bytes have not — and says how far behind the ledger the snapshot
  it was filtered with now is.
- :func:`refilter` filters such a file again against a fresh snapshot, in place, as a new filter run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads

from consentgate.errors import BadInput
from consentgate.ledger.store import Ledger
from consentgate.pipeline.filter import filter_files
from consentgate.pipeline.manifest import Manifest, fingerprint_content
from consentgate.pipeline.plan import FilterOptions
from consentgate.pipeline.snapshot import Snapshot
from consentgate.pipeline.staleness import Staleness, staleness_of
from consentgate.pipeline.suppression import ledger_suppression
from consentgate.store.lineage import runs_by_output
from consentgate.store.runs import HASH_NAME, RunRecord, RunStore


def filter_run_json(manifest: Manifest, subjects: int, key_id: str) -> dict[str, Any]:
    """A filter run's manifest as stored in ``runs``: the file's manifest, its kind and subject count."""
    body = manifest.to_json()
    return {
        **body,
        "kind": "filter",
        "subjects": {"count": subjects, "stored_as": HASH_NAME, "key_id": key_id},
    }


def record_filter_run(
    ledger: Ledger, manifest: Manifest, subjects: Iterable[list[str]] | None = None
) -> dict[str, Any]:
    """Store a finished filter run in ``runs`` (kind ``filter``) with keyed hashes of the identifiers
    its output holds; returns the stored manifest. ``subjects``: those identifiers, in batches, for
    an output that is not a file (a ``datasets.Dataset``); by default they are read from the file
    :func:`~consentgate.pipeline.filter_files` wrote."""
    if manifest.output_fingerprint is None or (subjects is None and manifest.output is None):
        raise BadInput("only a filter run that wrote a file can be recorded (use filter_files)")
    store = RunStore(ledger.engine)
    if subjects is None:
        column = str(manifest.settings["subject_column"])
        subjects = output_subjects(Path(str(manifest.output)), column)
    hashes: set[bytes] = set()
    for ids in subjects:
        hashes |= store.hasher.many(ids)
    stored = filter_run_json(manifest, len(hashes), store.hasher.key_id)
    store.record(
        run_id=manifest.run_id,
        kind="filter",
        purpose=manifest.purpose,
        started_at=manifest.started_at,
        finished_at=manifest.finished_at,
        records=manifest.counts.kept,
        hashes=hashes,
        manifest=stored,
        head_seq=int(manifest.snapshot["head_seq"]),
        output_fingerprint=manifest.output_fingerprint,
    )
    return stored


@dataclass(frozen=True)
class TracedDataset:
    """A local dataset file and the filter run that wrote it (None: no filter run wrote these bytes)."""

    path: Path
    content_fingerprint: str
    filter_run: RunRecord | None
    staleness: Staleness | None  # of the filter run's snapshot, against the ledger now

    def to_json(self) -> dict[str, Any]:
        run = self.filter_run
        return {
            "content_fingerprint": self.content_fingerprint,
            "filter_run": None if run is None else run.run_id,
            "filtered_at_head": None
            if run is None
            else {k: run.manifest["snapshot"].get(k) for k in ("head_seq", "head_hash", "at")},
            "staleness": None if self.staleness is None else self.staleness.to_json(),
        }


def trace_dataset(ledger: Ledger, path: Path, *, now: datetime | None = None) -> TracedDataset:
    """Hash ``path`` (a Parquet file or a directory of them), find the newest filter run that wrote
    exactly these bytes, and measure how far its snapshot is behind ``ledger``."""
    fingerprint = fingerprint_content(path)
    found = runs_by_output(ledger.engine, fingerprint, kind="filter")
    if not found:
        return TracedDataset(path, fingerprint, None, None)
    run = found[0]
    snap = run.manifest["snapshot"]
    what = f"dataset {path} (filtered by run {run.run_id})"
    lag = staleness_of(ledger, int(snap["head_seq"]), str(snap["head_hash"]), what=what, now=now)
    return TracedDataset(path, fingerprint, run, lag)


def refilter(ledger: Ledger, path: Path, snapshot: Snapshot, options: FilterOptions) -> dict[str, Any]:
    """Filter the Parquet file ``path`` again against ``snapshot`` (which should be current) and
    replace it atomically; the run is recorded as a new filter run, whose stored manifest is returned.

    Re-filtering the filtered file (not its original input) only removes records: people who
    withdrew since are dropped, and nobody the first run dropped comes back."""
    if not path.is_file():
        raise BadInput(
            f"refilter re-filters a Parquet file; {path} is not one (a directory of parts: filter it "
            "with `consentgate filter --input DIR --output FILE` and train on the file)"
        )
    tmp = path.with_name(f".{path.name}.refilter.parquet")
    manifest = filter_files(
        path,
        tmp,
        snapshot,
        replace(options, suppression=ledger_suppression(ledger.engine, options.suppression)),
        engine="arrow",  # keeps row order: a re-filtered file differs only by the records it dropped
    )
    try:
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    manifest = replace(manifest, output=str(path))
    return record_filter_run(ledger, manifest)


def output_subjects(output: Path, column: str) -> Iterator[list[str]]:
    """Distinct non-empty subject ids of a written output (a file, or Spark's directory of parts)."""
    if output.is_dir():
        files = sorted(
            str(p)
            for p in output.rglob("*.parquet")
            if not any(part.startswith((".", "_")) for part in p.relative_to(output).parts)
        )
    else:
        files = [str(output)]
    if not files:
        return
    for batch in pads.dataset(files, format="parquet").to_batches(columns=[column], batch_size=1 << 20):
        col = batch.column(0)
        if col.type != pa.string():
            col = col.cast(pa.string())
        yield [s for s in pc.unique(col).to_pylist() if s]


def remove_output(path: Path) -> None:
    """Remove a written output (a file, or Spark's directory of parts): no output without its record."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
