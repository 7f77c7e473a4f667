"""Arrow engine: ``pyarrow.Table`` / ``pyarrow.dataset.Dataset`` in memory, Parquet files streamed.

Records are processed in record batches of about a million rows, so a Parquet dataset of any size
streams through in bounded memory (with a progress bar on the command line). Lookups use
``pyarrow.compute.index_in`` against the plan's exceptions; row order is preserved.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from consentgate.errors import MissingExtra

try:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as pads
    import pyarrow.parquet as pq
except ImportError as exc:  # pragma: no cover - pyarrow is a core dependency of the pipeline
    raise MissingExtra("the arrow engine", ["pyarrow"], "pipeline") from exc

from consentgate.pipeline.plan import KEY_COL, VERDICT_COL, Counts, FilterPlan, ProgressFn, Verdict

NAME = "arrow"
BATCH_ROWS = 1 << 20


def handles(data: object) -> bool:
    return isinstance(data, pa.Table | pads.Dataset)


def schema(data: Any) -> pa.Schema:
    return data.schema


def head(data: Any, n: int) -> pa.Table:
    return data.slice(0, n) if isinstance(data, pa.Table) else data.head(n)


def subjects(data: Any, plan: FilterPlan) -> Iterable[pa.Array]:
    for batch in _batches(data):
        yield pc.unique(_subject(batch, plan))


def subjects_in_files(paths: Sequence[Path], plan: FilterPlan) -> Iterable[pa.Array]:
    return subjects(_dataset(paths), plan)


def filter_data(data: Any, plan: FilterPlan) -> tuple[pa.Table, Counts]:
    lookup = _Lookup(plan)
    kept: list[pa.RecordBatch] = []
    for batch in _batches(data):
        kept.append(lookup.keep(batch))
    out = pa.Table.from_batches(kept, schema=data.schema)
    return out, lookup.counts()


def filter_files(paths: Sequence[Path], output: Path, plan: FilterPlan, progress: ProgressFn) -> Counts:
    ds = _dataset(paths)
    total = ds.count_rows()
    lookup = _Lookup(plan)
    done = 0
    progress(0, total)
    with pq.ParquetWriter(output, ds.schema) as writer:
        for batch in ds.to_batches(batch_size=BATCH_ROWS):
            writer.write_batch(lookup.keep(batch))
            done += batch.num_rows
            progress(done, total)
    return lookup.counts()


def verdicts(batch: pa.RecordBatch | pa.Table, plan: FilterPlan) -> pa.Array:
    """Each record's verdict code (:class:`~consentgate.pipeline.plan.Verdict`), for callers that must
    know *which* records fail rather than drop them (the training-run guard stops on the first)."""
    return _Lookup(plan).verdict(batch)


# -- internals -------------------------------------------------------------------------------------


class _Lookup:
    """Verdicts for record batches, and the running counts."""

    def __init__(self, plan: FilterPlan) -> None:
        self.plan = plan
        exc = plan.exceptions
        self.keys = exc.column(KEY_COL).combine_chunks()
        self.verdicts = exc.column(VERDICT_COL).combine_chunks()
        self.tally: dict[int, int] = {}

    def verdict(self, batch: pa.RecordBatch) -> pa.Array:
        plan = self.plan
        subj = _subject(batch, plan)
        has = pc.fill_null(pc.not_equal(subj, ""), False)
        found = pc.take(self.verdicts, pc.index_in(subj, value_set=self.keys))
        v = pc.fill_null(found, pa.scalar(int(plan.default_verdict), pa.int8()))
        no_subject = Verdict.KEEP if plan.keep_no_subject else Verdict.NO_SUBJECT
        v = pc.if_else(has, v, pa.scalar(int(no_subject), pa.int8()))
        if plan.flag_column is not None:
            flag = pc.fill_null(batch.column(plan.flag_column).cast(pa.bool_()), False)
            v = pc.if_else(pc.and_(pc.equal(v, 0), flag), pa.scalar(int(Verdict.DO_NOT_TRAIN), pa.int8()), v)
        return v

    def keep(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        v = self.verdict(batch)
        for item in pc.value_counts(v).to_pylist():
            self.tally[item["values"]] = self.tally.get(item["values"], 0) + item["counts"]
        return batch.filter(pc.equal(v, 0))

    def counts(self) -> Counts:
        return Counts.from_verdicts(self.tally)


def _subject(batch: pa.RecordBatch, plan: FilterPlan) -> pa.Array:
    col = batch.column(plan.subject_column)
    return col if col.type == pa.string() else col.cast(pa.string())


def _batches(data: Any) -> Iterator[pa.RecordBatch]:
    if isinstance(data, pa.Table):
        yield from data.to_batches(max_chunksize=BATCH_ROWS)
    else:
        yield from data.to_batches(batch_size=BATCH_ROWS)


def _dataset(paths: Sequence[Path]) -> pads.Dataset:
    return pads.dataset([str(p) for p in paths], format="parquet")
