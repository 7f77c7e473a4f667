"""Gate 4, the vendor export guard: only to vendors the policy allows, filtered like gate 2, recorded.

Before any data is read, the vendor must pass the policy (:func:`check_vendor`), else the export is
refused with :class:`~consentgate.errors.Refused` naming the policy keys to change:

1. the vendor is listed under ``vendors``;
2. the purpose is among that vendor's ``purposes``;
3. a vendor that trains its own models on the data (``self_training: true``) also has
   ``self_training_approved: true`` — the organisation's recorded decision to allow it.

Then the records go through the dataset filter (:func:`~consentgate.pipeline.filter.filter_files`,
the same semantics on every engine), and the export is stored in the ledger database (``runs``,
kind ``export``, with the vendor) together with keyed hashes of the identifiers it carried
(:mod:`consentgate.store.runs`), so a data-subject access report can list the vendors that
received a person's data. Nothing is left behind unrecorded: if the record cannot be stored, the
output is removed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from consentgate.errors import Refused
from consentgate.ledger.store import Ledger
from consentgate.pipeline.engines import DEFAULT_ENGINE
from consentgate.pipeline.filter import filter_files
from consentgate.pipeline.lineage import output_subjects, remove_output
from consentgate.pipeline.manifest import Manifest, write_json
from consentgate.pipeline.plan import FilterOptions, ProgressFn, no_progress
from consentgate.pipeline.snapshot import Snapshot, build_snapshot
from consentgate.pipeline.staleness import MaxStaleness, Staleness, enforce, snapshot_staleness
from consentgate.pipeline.suppression import ledger_suppression
from consentgate.policy.models import Policy, Vendor
from consentgate.store.runs import HASH_NAME, RunStore

EXPORT_FORMAT = "consentgate-export-manifest/1"


@dataclass(frozen=True)
class ExportResult:
    """The filter's manifest, the vendor it went to, and how many distinct identifiers it carried."""

    manifest: Manifest
    vendor: Vendor
    subjects: int
    subject_key_id: str

    @property
    def run_id(self) -> str:
        return self.manifest.run_id

    def to_json(self) -> dict[str, Any]:
        body = self.manifest.to_json()
        head = {
            "format": EXPORT_FORMAT,
            "kind": "export",
            "run_id": body.pop("run_id"),
            "purpose": body.pop("purpose"),
            "vendor": {
                "id": self.vendor.id,
                "name": self.vendor.name,
                "purposes": list(self.vendor.purposes),
                "self_training": self.vendor.self_training,
                "self_training_approved": self.vendor.self_training_approved,
            },
        }
        del body["format"]
        subjects = {"count": self.subjects, "stored_as": HASH_NAME, "key_id": self.subject_key_id}
        return {**head, **body, "subjects": subjects}

    def write(self, path: Path) -> None:
        write_json(path, self.to_json())


def check_vendor(policy: Policy, vendor_id: str, purpose: str) -> Vendor:
    """The vendor, if the policy allows sending it data for ``purpose``; else :class:`Refused` saying
    which policy key to change."""
    policy.require_purpose(purpose)
    index = next((i for i, v in enumerate(policy.vendors) if v.id == vendor_id), None)
    if index is None:
        known = ", ".join(v.id for v in policy.vendors) or "none"
        raise Refused(
            f"vendor {vendor_id!r} is not in the policy's `vendors` (it lists: {known}); to export to "
            f"it, add `{{id: {vendor_id}, purposes: [{purpose}], self_training: false}}` under `vendors`",
            purpose=purpose,
        )
    vendor = policy.vendors[index]
    where = f"vendors[{index}] ({vendor.id})"
    if purpose not in vendor.purposes:
        listed = ", ".join(vendor.purposes) or "none"
        raise Refused(
            f"vendor {vendor.id!r} may not receive data for {purpose!r}: {where}.purposes lists {listed}; "
            f"add {purpose} to {where}.purposes if the organisation allows it",
            purpose=purpose,
        )
    if vendor.self_training and not vendor.self_training_approved:
        raise Refused(
            f"vendor {vendor.id!r} trains its own models on the data it receives ({where}.self_training: "
            f"true) and the policy records no decision to allow that; set {where}.self_training_approved: "
            "true once the organisation has decided to, or choose another vendor",
            purpose=purpose,
        )
    return vendor


def export_files(
    policy: Policy,
    ledger: Ledger,
    vendor: str,
    purpose: str,
    input: Path | str,
    output: Path,
    options: FilterOptions,
    *,
    engine: str = DEFAULT_ENGINE,
    snapshot: Snapshot | None = None,
    at: datetime | None = None,
    manifest_path: Path | None = None,
    progress: ProgressFn = no_progress,
    max_staleness: MaxStaleness | None = None,
    staleness: Staleness | None = None,
) -> ExportResult:
    """Check the vendor, filter ``input`` into ``output`` for ``purpose``, and record the export.

    A source id in ``options`` is looked up in ``policy``; the ledger's erasure suppressions apply on
    top of any list the options carry. The manifest records how far the snapshot was behind the
    ledger (``staleness``, as a filter manifest does): a ``snapshot`` given is measured, warned
    about and refused beyond ``max_staleness`` before anything is read, unless the caller measured
    it already (``staleness``: the CLI, which says it in its own words)."""
    found = check_vendor(policy, vendor, purpose)
    options = replace(
        options.with_source_from(policy),
        suppression=ledger_suppression(ledger.engine, options.suppression),
    )
    snap = snapshot if snapshot is not None else build_snapshot(policy, ledger, purpose, at)
    if staleness is None:
        staleness = snapshot_staleness(ledger, snap, what="the export's snapshot")
        if snapshot is not None:
            enforce(staleness, max_staleness, purpose=purpose)
    manifest = filter_files(
        input, Path(output), snap, options, engine=engine, purpose=purpose, progress=progress
    )
    manifest = replace(manifest, staleness=staleness.to_json())
    store = RunStore(ledger.engine)
    try:
        hashes: set[bytes] = set()
        for ids in output_subjects(Path(output), options.subject_column):
            hashes |= store.hasher.many(ids)
        result = ExportResult(manifest, found, len(hashes), store.hasher.key_id)
        store.record(
            run_id=manifest.run_id,
            kind="export",
            purpose=purpose,
            vendor=found.id,
            started_at=manifest.started_at,
            finished_at=manifest.finished_at,
            records=manifest.counts.kept,
            hashes=hashes,
            manifest=result.to_json(),
            head_seq=int(manifest.snapshot["head_seq"]),
            output_fingerprint=manifest.output_fingerprint,
        )
    except BaseException:
        remove_output(Path(output))  # no export without its record
        raise
    if manifest_path is not None:
        result.write(manifest_path)
    return result
