"""PySpark engine: Spark ``DataFrame`` in memory (lazy), Parquet files to a directory of part files.

The exceptions table is broadcast to every executor when it is small enough (the usual case: the
identifiers off the default are a fraction of the people), else joined with a shuffle. Counts come
from one aggregation job; the filtered DataFrame stays lazy, so writing it reads the input again
(Spark would otherwise have to cache the whole input).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from consentgate.errors import MissingExtra

try:
    from pyspark.sql import Column, DataFrame, SparkSession
    from pyspark.sql import functions as F
except ImportError as exc:
    raise MissingExtra("the spark engine", ["pyspark"], "spark") from exc

import pyarrow as pa

from consentgate.pipeline.plan import (
    KEY_COL,
    REASON_COL,
    VERDICT_COL,
    Counts,
    FilterPlan,
    ProgressFn,
    Verdict,
)

NAME = "spark"
# Up to this many identifiers the exceptions table is broadcast (a few tens of MB of strings);
# beyond it a shuffle join scales better than shipping the table to every executor.
BROADCAST_MAX_ROWS = 2_000_000


def handles(data: object) -> bool:
    return isinstance(data, DataFrame)


def schema(data: Any) -> pa.Schema:
    return head(data, 0).schema


def head(data: Any, n: int) -> pa.Table:
    return data.limit(n).toArrow()


def subjects(data: Any, plan: FilterPlan) -> Iterable[pa.Array]:
    uniq = data.select(_subject(plan).alias("s")).distinct()
    yield uniq.toArrow().column("s").combine_chunks().cast(pa.string())


def subjects_in_files(paths: Sequence[Path], plan: FilterPlan) -> Iterable[pa.Array]:
    return subjects(_read(paths), plan)


def filter_data(data: Any, plan: FilterPlan) -> tuple[Any, Counts]:
    spark = data.sparkSession
    exc = spark.createDataFrame(plan.exceptions)
    if plan.exceptions.num_rows <= BROADCAST_MAX_ROWS:
        exc = F.broadcast(exc)
    columns = list(data.columns)
    joined = data.join(exc, _subject(plan) == exc[KEY_COL], "left")
    tagged = joined.withColumn(REASON_COL, _verdict(plan))
    counts = Counts.from_verdicts(
        {int(r[0]): int(r[1]) for r in tagged.groupBy(REASON_COL).count().collect()}
    )
    kept = tagged.filter(F.col(REASON_COL) == 0).select(*[data[c] for c in columns])
    return kept, counts


def filter_files(paths: Sequence[Path], output: Path, plan: FilterPlan, progress: ProgressFn) -> Counts:
    progress(0, None)
    kept, counts = filter_data(_read(paths), plan)
    kept.write.mode("errorifexists").parquet(str(output))
    progress(counts.input, counts.input)
    return counts


def local_session(cores: str = "*") -> SparkSession:
    """A local Spark for command-line runs: no web UI, bound to the loopback interface."""
    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("consentgate")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")  # the CLI draws its own progress
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        # One machine: a handful of shuffle partitions, not the cluster default of 200.
        .config("spark.sql.shuffle.partitions", "8")
        .getOrCreate()
    )


# -- internals -------------------------------------------------------------------------------------


def _read(paths: Sequence[Path]) -> DataFrame:
    spark = SparkSession.getActiveSession() or local_session()
    return spark.read.parquet(*[str(p) for p in paths])


def _subject(plan: FilterPlan) -> Column:
    return F.col(plan.subject_column).cast("string")


def _verdict(plan: FilterPlan) -> Column:
    subj = _subject(plan)
    has = subj.isNotNull() & (subj != F.lit(""))
    listed = F.coalesce(F.col(VERDICT_COL).cast("int"), F.lit(int(plan.default_verdict)))
    no_subject = int(Verdict.KEEP if plan.keep_no_subject else Verdict.NO_SUBJECT)
    base = F.when(has, listed).otherwise(F.lit(no_subject))
    if plan.flag_column is None:
        return base
    flag = F.coalesce(F.col(plan.flag_column).cast("boolean"), F.lit(False))
    return F.when((base == 0) & flag, F.lit(int(Verdict.DO_NOT_TRAIN))).otherwise(base)
