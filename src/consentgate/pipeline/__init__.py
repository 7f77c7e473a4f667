"""Gates for datasets: consent snapshots (Arrow) and filters per engine, with manifests.

Needs the ``pipeline`` extra (``pip install 'consentgate[pipeline]'``; Spark: ``[spark]``)::

    from consentgate.pipeline import build_snapshot, filter_files, filter_records

    snap = build_snapshot(policy, ledger, "train_support_chatbot")
    result = filter_records(table, snap, subject_column="user_id")   # same kind of data back
    result.manifest.counts.kept

See docs/pipeline.md for the semantics (unknown subjects, records without subject, suppression).
"""

from consentgate.errors import MissingExtra

try:
    import pyarrow  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("the dataset pipeline", ["pyarrow"], "pipeline") from exc

from consentgate.pipeline.engines import DEFAULT_ENGINE, ENGINES, EngineMissing
from consentgate.pipeline.filter import FilterResult, filter_files, filter_records, input_files
from consentgate.pipeline.lineage import record_filter_run
from consentgate.pipeline.manifest import Manifest
from consentgate.pipeline.plan import (
    REASONS,
    Counts,
    FilterOptions,
    FilterPlan,
    NoSubject,
    Verdict,
    make_plan,
)
from consentgate.pipeline.snapshot import (
    SNAPSHOT_SCHEMA,
    Snapshot,
    SnapshotMeta,
    build_snapshot,
    policy_fingerprint,
    snapshot_table,
)
from consentgate.pipeline.staleness import MaxStaleness
from consentgate.pipeline.suppression import Suppression, SuppressionList

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "REASONS",
    "SNAPSHOT_SCHEMA",
    "Counts",
    "EngineMissing",
    "FilterOptions",
    "FilterPlan",
    "FilterResult",
    "Manifest",
    "MaxStaleness",
    "NoSubject",
    "Snapshot",
    "SnapshotMeta",
    "Suppression",
    "SuppressionList",
    "Verdict",
    "build_snapshot",
    "filter_files",
    "filter_records",
    "input_files",
    "make_plan",
    "policy_fingerprint",
    "record_filter_run",
    "snapshot_table",
]
