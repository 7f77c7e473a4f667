"""Hugging Face ``datasets``: the dataset filter on what a ``Dataset`` shows, cacheable.

::

    from consentgate.integrations.hf import filter_dataset

    ds = load_dataset("parquet", data_files="chats/*.parquet")["train"].shuffle(seed=1).select(range(50_000))
    result = filter_dataset(ds, snapshot, FilterOptions(subject_column="user_id", suppression=suppression),
                            manifest_path=Path("filter-manifest.json"))
    train = result.data                          # a datasets.Dataset; result.manifest as for files

A ``Dataset`` after ``select``, ``shuffle`` or ``train_test_split`` is an *indices mapping* over its
Arrow table: ``hf.data.table`` still holds every row. The filter reads the subject (and flag) columns
of the visible rows, in their visible order, decides them with the Arrow engine (the same plan as
every filter: :mod:`consentgate.pipeline.plan`), and returns ``ds.select(kept)`` — another indices
mapping, no copy of the text. Suppression applies as in ``filter_files``.

**Stale snapshots.** Given the ``ledger``, the filter measures how far the snapshot is behind it
(:mod:`consentgate.pipeline.staleness`, as ``consentgate filter --snapshot`` does): a
:class:`~consentgate.errors.StaleDataWarning` with the events and the time behind, a
:class:`~consentgate.errors.StaleData` refusal beyond ``max_staleness`` (before anything is read),
and ``staleness`` in the manifest. Without the ledger nobody can tell, and the manifest says
``staleness: null``. Train on the result with ``TrainingRun(dataset=result.manifest)``: the run
measures it against the ledger again when it starts.

**Caching.** The result's ``_fingerprint`` is derived from the input's fingerprint, the snapshot's
ledger head and policy fingerprint, the purpose, the settings and the suppression list, so every
``.map()`` after it is cached by ``datasets`` and recomputed when any of those change (a withdrawal
moves the ledger head). ``Dataset.filter(fn)`` with a closure over the plan cannot give that: the
plan is not hashable, and ``datasets`` falls back to a random fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from consentgate.errors import BadInput, MissingExtra
from consentgate.ledger.store import Ledger
from consentgate.pipeline.engines import arrow as arrow_engine
from consentgate.pipeline.filter import FilterResult, _plan, _suppressed
from consentgate.pipeline.lineage import record_filter_run
from consentgate.pipeline.manifest import build_manifest, new_run_id
from consentgate.pipeline.plan import Counts, FilterOptions, FilterPlan
from consentgate.pipeline.snapshot import Snapshot
from consentgate.pipeline.staleness import MaxStaleness, enforce, snapshot_staleness

try:
    import datasets
except ImportError as exc:  # pragma: no cover - exercised where datasets is not installed
    raise MissingExtra("the Hugging Face datasets integration", ["datasets"], "hf") from exc

__all__ = ["SUBJECT_INDEX", "filter_dataset", "with_subject_index"]

FINGERPRINT_FORMAT = b"consentgate-hf-filter/1\n"
SUBJECT_INDEX = "consentgate_subject"
_READ_ROWS = 65_536  # subject columns are read in slices of this many visible rows


def filter_dataset(
    ds: datasets.Dataset,
    snapshot: Snapshot,
    options: FilterOptions,
    *,
    purpose: str | None = None,
    manifest_path: Path | None = None,
    ledger: Ledger | None = None,
    max_staleness: MaxStaleness | str | None = None,
    now: datetime | None = None,
) -> FilterResult:
    """Keep the visible rows of ``ds`` whose subject may be used; ``FilterResult.data`` is a
    ``datasets.Dataset`` with a fingerprint that ``datasets`` caches on (see the module docstring).
    ``ledger``: measure how far ``snapshot`` is behind it (warn, or refuse beyond ``max_staleness``);
    ``now``: the time its decisions' ``valid_until`` is compared with (default: the clock)."""
    if not isinstance(ds, datasets.Dataset):
        raise BadInput(
            f"filter_dataset takes a datasets.Dataset, not a {type(ds).__name__} (for a DatasetDict, "
            "filter each split: {name: filter_dataset(split, ...).data for name, split in dd.items()})"
        )
    limit = MaxStaleness.parse(max_staleness) if isinstance(max_staleness, str) else max_staleness
    if limit is not None and ledger is None:
        raise BadInput(
            f"max_staleness={limit.describe()!r} needs the ledger to compare the snapshot with: pass "
            "ledger=, or leave out max_staleness"
        )
    started = datetime.now(UTC)
    plan = _plan(snapshot, purpose, options)
    staleness = None
    if ledger is not None:
        what = "the snapshot given to filter_dataset"
        found = snapshot_staleness(ledger, snapshot, what=what, now=now or started)
        staleness = enforce(found, limit, purpose=plan.snapshot.purpose).to_json()
    wanted = [c for c in (plan.subject_column, plan.flag_column) if c is not None and c in ds.column_names]
    if plan.subject_column not in ds.column_names:
        raise BadInput(
            f"the dataset has no column {plan.subject_column!r} (it has {', '.join(ds.column_names)})"
        )
    plan = plan.check_schema(ds.features.arrow_schema)
    if plan.needs_subject_scan:
        subjects = (t.column(plan.subject_column).combine_chunks() for t in _visible(ds, wanted))
        plan = plan.with_suppressed(_suppressed(plan, subjects))
    keep: list[pa.Array] = []
    by_code: dict[int, int] = {}
    offset = 0
    for table in _visible(ds, wanted):
        codes = arrow_engine.verdicts(table, plan)
        for code, n in _counts(codes):
            by_code[code] = by_code.get(code, 0) + n
        keep.append(pc.add(pc.indices_nonzero(pc.equal(codes, 0)), offset))
        offset += table.num_rows
    counts = Counts.from_verdicts(by_code) if by_code else Counts(0, 0)
    kept = pa.concat_arrays(keep).to_numpy() if keep else []
    out = ds.select(kept, new_fingerprint=result_fingerprint(ds, plan))
    manifest = build_manifest(
        run_id=new_run_id(),
        engine="hf-datasets",
        plan=plan,
        counts=counts,
        fingerprint=f"datasets:{ds._fingerprint}",
        description=f"datasets.Dataset of {ds.num_rows} visible rows (fingerprint {ds._fingerprint})",
        started_at=started,
    )
    manifest = replace(manifest, output_fingerprint=f"datasets:{out._fingerprint}", staleness=staleness)
    if manifest_path is not None:
        manifest.write(manifest_path)
    if ledger is not None:
        # Stored in ``runs`` like a file filter run, so ``runs --subject`` finds the dataset and a
        # TrainingRun given this manifest references the run (its output fingerprint).
        record_filter_run(ledger, manifest, _output_subjects(out, plan.subject_column))
    return FilterResult(out, manifest)


def _output_subjects(ds: datasets.Dataset, column: str) -> Iterator[list[str]]:
    """Distinct non-empty subject ids of the filtered dataset's visible rows, a table at a time."""
    for table in _visible(ds, [column]):
        ids = pc.unique(table.column(column).combine_chunks()).to_pylist()
        yield [str(i) for i in ids if i not in (None, "")]


def result_fingerprint(ds: datasets.Dataset, plan: FilterPlan) -> str:
    """What the filtered dataset depends on, hashed: the input's ``datasets`` fingerprint (it covers
    ``select`` / ``shuffle`` / ``train_test_split``), the ledger state and policy the decisions came
    from, the settings, and the suppression list with the identifiers it matched here."""
    sup = plan.suppression
    basis = {
        "input": ds._fingerprint,
        "snapshot": plan.snapshot.head_json() | {"created_at": None, "rows": None},
        "default_allowed": plan.default_allowed,
        "settings": [plan.subject_column, plan.flag_column, plan.no_subject_rule],
        "suppression": None if sup is None else [sup.digest, sorted(plan.suppressed_ids)],
    }
    h = hashlib.sha256(FINGERPRINT_FORMAT)
    h.update(json.dumps(basis, sort_keys=True, default=str).encode())
    return h.hexdigest()[:32]


def with_subject_index(
    ds: datasets.Dataset, *, subject_column: str, flag_column: str | None = None
) -> tuple[datasets.Dataset, list[str | None], list[bool | None] | None]:
    """``(dataset with an integer column SUBJECT_INDEX, subjects, flags)``: row ``i``'s subject is
    ``subjects[ds[i][SUBJECT_INDEX]]``. What the ``transformers`` integration needs: Accelerate and
    the collators move integers, not strings, and the model never sees the column."""
    if subject_column not in ds.column_names:
        raise BadInput(f"the dataset has no column {subject_column!r} (it has {', '.join(ds.column_names)})")
    subjects = [None if s is None else str(s) for s in ds[subject_column]]
    flags = None
    if flag_column is not None and flag_column in ds.column_names:
        flags = [None if f is None else bool(f) for f in ds[flag_column]]
    indexed = ds.add_column(SUBJECT_INDEX, list(range(len(subjects))))
    return indexed, subjects, flags


def _visible(ds: datasets.Dataset, columns: list[str]) -> Iterator[pa.Table]:
    """The visible rows of these columns, in visible order (through the indices mapping)."""
    view = ds.select_columns(columns).with_format("arrow")
    for start in range(0, ds.num_rows, _READ_ROWS):
        table = view[start : start + _READ_ROWS]
        assert isinstance(table, pa.Table)
        yield table


def _counts(codes: pa.Array) -> list[tuple[int, int]]:
    return [(int(v["values"]), int(v["counts"])) for v in pc.value_counts(codes).to_pylist()]
