"""pandas engine: ``pandas.DataFrame`` in memory; Parquet files streamed batch by batch.

Verdicts come from one hash lookup of the subject column in the plan's exceptions
(``Index.get_indexer``); row order and the index are preserved. For files, only the subject and
flag columns of each record batch become pandas objects and the batch is filtered with the mask,
so column types survive unchanged and memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from consentgate.errors import MissingExtra

try:
    import numpy as np
    import pandas as pd
except ImportError as exc:
    raise MissingExtra("the pandas engine", ["pandas"], "pipeline") from exc

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from consentgate.pipeline.plan import KEY_COL, VERDICT_COL, Counts, FilterPlan, ProgressFn, Verdict

NAME = "pandas"
BATCH_ROWS = 1 << 20


def handles(data: object) -> bool:
    return isinstance(data, pd.DataFrame)


def schema(data: Any) -> pa.Schema:
    # From the whole frame: an object column's type shows only in its values (an empty head is "null").
    return pa.Schema.from_pandas(data, preserve_index=False)


def head(data: Any, n: int) -> pa.Table:
    return pa.Table.from_pandas(data.head(n), preserve_index=False)


def subjects(data: Any, plan: FilterPlan) -> Iterable[pa.Array]:
    uniq = _subject(data[plan.subject_column]).dropna().unique()
    yield pa.array(list(uniq), pa.string())


def subjects_in_files(paths: Sequence[Path], plan: FilterPlan) -> Iterable[pa.Array]:
    for batch in _dataset(paths).to_batches(columns=[plan.subject_column], batch_size=BATCH_ROWS):
        yield from subjects(batch.to_pandas(), plan)


def filter_data(data: Any, plan: FilterPlan) -> tuple[Any, Counts]:
    lookup = _Lookup(plan)
    verdict = lookup.verdict(data)
    return data[verdict == 0], lookup.counts()


def filter_files(paths: Sequence[Path], output: Path, plan: FilterPlan, progress: ProgressFn) -> Counts:
    ds = _dataset(paths)
    total = ds.count_rows()
    lookup = _Lookup(plan)
    narrow = [c for c in (plan.subject_column, plan.flag_column) if c is not None]
    done = 0
    progress(0, total)
    with pq.ParquetWriter(output, ds.schema) as writer:
        for batch in ds.to_batches(batch_size=BATCH_ROWS):
            verdict = lookup.verdict(batch.select(narrow).to_pandas())
            writer.write_batch(batch.filter(pa.array(verdict == 0)))
            done += batch.num_rows
            progress(done, total)
    return lookup.counts()


# -- internals -------------------------------------------------------------------------------------


class _Lookup:
    def __init__(self, plan: FilterPlan) -> None:
        self.plan = plan
        exc = plan.exceptions
        self.index = pd.Index(exc.column(KEY_COL).to_pylist(), dtype=object)
        self.codes = np.asarray(exc.column(VERDICT_COL).to_numpy(zero_copy_only=False), dtype=np.int8)
        self.tally = np.zeros(len(Verdict), dtype=np.int64)

    def verdict(self, df: Any) -> Any:
        """A numpy int8 array of verdict codes (see core.Verdict), one per row of ``df``."""
        plan = self.plan
        subj = _subject(df[plan.subject_column])
        has = (subj.notna() & (subj != "")).to_numpy(dtype=bool, na_value=False)
        pos = self.index.get_indexer(subj.astype(object))
        found = np.where(pos >= 0, self.codes[np.maximum(pos, 0)] if len(self.codes) else 0, -1)
        listed = np.where(found >= 0, found, int(plan.default_verdict)).astype(np.int8)
        no_subject = Verdict.KEEP if plan.keep_no_subject else Verdict.NO_SUBJECT
        verdict = np.where(has, listed, np.int8(no_subject)).astype(np.int8)
        if plan.flag_column is not None:
            flag = df[plan.flag_column].fillna(False).astype(bool).to_numpy()
            verdict = np.where((verdict == 0) & flag, np.int8(Verdict.DO_NOT_TRAIN), verdict)
        self.tally += np.bincount(verdict, minlength=len(Verdict))
        return verdict

    def counts(self) -> Counts:
        return Counts.from_verdicts({code: int(n) for code, n in enumerate(self.tally) if n})


def _subject(col: Any) -> Any:
    return col.astype("string")


def _dataset(paths: Sequence[Path]) -> pads.Dataset:
    return pads.dataset([str(p) for p in paths], format="parquet")
