"""DuckDB engine: relations in memory (and so any SQL), Parquet files with ``COPY … TO``.

The kept rows are exactly what a hand-written filter would be: an ``ANTI JOIN`` against the denied
identifiers when unknown subjects are allowed (a ``SEMI JOIN`` / ``IN`` against the allowed ones
when they are not), plus the flag predicate. For files the counts then need one narrow pass over the
rows that can carry a rarer reason (flagged, without subject, suppressed); ``not_allowed`` is what
remains, so the whole run costs little more than the hand-written anti-join
(measured: benchmarks/filter.py).

SQL users: :func:`filter_sql` takes a connection and a query (or table name) and returns the
filtered relation; the plan's tables are registered on that connection as ``consentgate_keys`` and
``consentgate_exceptions``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from consentgate.errors import MissingExtra

try:
    import duckdb
except ImportError as exc:
    raise MissingExtra("the duckdb engine", ["duckdb"], "pipeline") from exc

import pyarrow as pa

from consentgate.pipeline.plan import (
    KEY_COL,
    VERDICT_COL,
    Counts,
    FilterPlan,
    ProgressFn,
    Verdict,
    no_progress,
)

NAME = "duckdb"
_IN = "consentgate_input"


def handles(data: object) -> bool:
    return isinstance(data, duckdb.DuckDBPyRelation)


def schema(data: Any) -> pa.Schema:
    return head(data, 0).schema


def head(data: Any, n: int) -> pa.Table:
    return data.limit(n).to_arrow_table()


def subjects(data: Any, plan: FilterPlan) -> Iterable[pa.Array]:
    rel = data.query(_IN, f"SELECT DISTINCT {_subject(plan, 'i')} AS s FROM {_IN} i")
    for batch in rel.to_arrow_reader(1 << 20):
        yield batch.column(0)


def subjects_in_files(paths: Sequence[Path], plan: FilterPlan) -> Iterable[pa.Array]:
    con = duckdb.connect()
    try:
        rel = con.sql(f"SELECT DISTINCT {_subject(plan, 'i')} AS s FROM {_read(paths)} i")
        for batch in rel.to_arrow_reader(1 << 20):
            yield batch.column(0)
    finally:
        con.close()


def filter_data(data: Any, plan: FilterPlan) -> tuple[Any, Counts]:
    # DuckDB finds these two Arrow tables by their variable names (a "replacement scan").
    consentgate_keys = plan.join_keys()  # noqa: F841
    consentgate_exceptions = plan.exceptions  # noqa: F841
    counts_rel = data.query(
        _IN,
        f"SELECT {_verdict(plan)} AS v, count(*) FROM {_IN} i "
        f"LEFT JOIN consentgate_exceptions e ON {_subject(plan, 'i')} = e.{KEY_COL} GROUP BY v",
    )
    counts = Counts.from_verdicts({int(v): int(n) for v, n in counts_rel.fetchall()})
    return data.query(_IN, _kept_sql(plan, _IN, "consentgate_keys")), counts


def filter_sql(con: Any, source: str, plan: FilterPlan) -> Any:
    """Filter a table name or a query on ``con``; returns a lazy relation (counts: use filter_data)."""
    con.register("consentgate_keys", plan.join_keys())
    con.register("consentgate_exceptions", plan.exceptions)
    src = (
        source
        if source.lstrip().lower().startswith(("select", "from", "with"))
        else f"SELECT * FROM {source}"
    )
    return con.sql(_kept_sql(plan, f"({src})", "consentgate_keys"))


def filter_files(paths: Sequence[Path], output: Path, plan: FilterPlan, progress: ProgressFn) -> Counts:
    con = duckdb.connect()
    try:
        # Row order is not kept anyway (the join runs in parallel); without this DuckDB would also
        # re-sequence row groups before writing, and a thread that falls behind holds up the rest.
        con.execute("SET preserve_insertion_order = false")
        con.register("consentgate_keys_arrow", plan.join_keys())
        con.register("consentgate_exceptions_arrow", plan.exceptions)
        con.execute("CREATE TEMP TABLE consentgate_keys AS SELECT * FROM consentgate_keys_arrow")
        con.execute("CREATE TEMP TABLE consentgate_exceptions AS SELECT * FROM consentgate_exceptions_arrow")
        if plan.suppressed_ids:
            found = pa.table({KEY_COL: pa.array(sorted(plan.suppressed_ids), pa.string())})
            con.register("consentgate_suppressed", found)
        src = _read(paths)
        total = int(con.execute(f"SELECT count(*) FROM {src}").fetchall()[0][0])
        progress(0, total)
        copy = (
            f"COPY ({_kept_sql(plan, src, 'consentgate_keys')}) TO {_literal(str(output))} (FORMAT parquet)"
        )
        with _Watch(con, progress, total):
            kept = int(con.execute(copy).fetchall()[0][0])
        side = _rare_counts(con, src, plan)
        progress(total, total)
    finally:
        con.close()
    return Counts.settle(total=total, kept=kept, **side)


def _rare_counts(con: Any, src: str, plan: FilterPlan) -> dict[str, int]:
    """The reasons other than not_allowed, each counted by a query that reads little: flagged rows
    only (a few per cent), and Parquet statistics usually answer "no empty subject" without reading
    any data. ``not_allowed`` is then what remains of the dropped rows."""
    out = {"do_not_train": 0, "suppressed": 0, "no_subject": 0}
    if plan.flag_column is not None:
        q = (
            f"SELECT count(*) FROM {src} i LEFT JOIN consentgate_exceptions e "
            f"ON {_subject(plan, 'i')} = e.{KEY_COL} WHERE {_flag(plan)} AND {_verdict(plan)} = "
            f"{int(Verdict.DO_NOT_TRAIN)}"
        )
        out["do_not_train"] = int(con.execute(q).fetchall()[0][0])
    if not plan.keep_no_subject:
        s = _subject(plan, "i")
        q = f"SELECT count(*) FROM {src} i WHERE {s} IS NULL OR {s} = ''"
        out["no_subject"] = int(con.execute(q).fetchall()[0][0])
    if plan.suppressed_ids:
        q = (
            f"SELECT count(*) FROM {src} i "
            f"SEMI JOIN consentgate_suppressed x ON {_subject(plan, 'i')} = x.{KEY_COL}"
        )
        out["suppressed"] = int(con.execute(q).fetchall()[0][0])
    return out


# -- SQL pieces ------------------------------------------------------------------------------------


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _read(paths: Sequence[Path]) -> str:
    return f"read_parquet([{', '.join(_literal(str(p)) for p in paths)}])"


def _subject(plan: FilterPlan, alias: str) -> str:
    col = f"{alias}.{_ident(plan.subject_column)}"
    return col if plan.subject_is_string else f"CAST({col} AS VARCHAR)"


def _has(plan: FilterPlan, alias: str = "i") -> str:
    s = _subject(plan, alias)
    return f"({s} IS NOT NULL AND {s} <> '')"


def _flag(plan: FilterPlan, alias: str = "i") -> str:
    if plan.flag_column is None:
        return "false"
    col = f"{alias}.{_ident(plan.flag_column)}"
    return f"({col} IS TRUE)" if plan.flag_is_boolean else f"coalesce(CAST({col} AS BOOLEAN), false)"


def _kept_sql(plan: FilterPlan, src: str, keys: str) -> str:
    subject_ok = "true" if plan.keep_no_subject else _has(plan)
    if plan.default_allowed:
        return (
            f"SELECT i.* FROM {src} i ANTI JOIN {keys} k ON {_subject(plan, 'i')} = k.{KEY_COL} "
            f"WHERE {subject_ok} AND NOT {_flag(plan)}"
        )
    if not plan.keep_no_subject:
        return (
            f"SELECT i.* FROM {src} i SEMI JOIN {keys} k ON {_subject(plan, 'i')} = k.{KEY_COL} "
            f"WHERE NOT {_flag(plan)}"
        )
    listed = f"{_subject(plan, 'i')} IN (SELECT {KEY_COL} FROM {keys})"
    return f"SELECT i.* FROM {src} i WHERE (NOT {_has(plan)} OR {listed}) AND NOT {_flag(plan)}"


def _verdict(plan: FilterPlan) -> str:
    listed = f"coalesce(e.{VERDICT_COL}, {int(plan.default_verdict)})"
    no_subject = int(Verdict.KEEP if plan.keep_no_subject else Verdict.NO_SUBJECT)
    base = f"(CASE WHEN {_has(plan)} THEN {listed} ELSE {no_subject} END)"
    return f"(CASE WHEN {base} = 0 AND {_flag(plan)} THEN {int(Verdict.DO_NOT_TRAIN)} ELSE {base} END)"


class _Watch:
    """Polls DuckDB's own progress estimate while a statement runs, for the progress bar."""

    def __init__(self, con: Any, progress: ProgressFn, total: int) -> None:
        self.con, self.progress, self.total = con, progress, total
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.25):
            pct = self.con.query_progress()
            if pct is not None and pct >= 0:
                self.progress(int(self.total * min(float(pct), 100.0) / 100), self.total)

    def __enter__(self) -> _Watch:
        if self.progress is not no_progress:  # nobody is watching: no polling thread
            # DuckDB estimates progress only with its progress bar on; ours draws it instead.
            self.con.execute("SET enable_progress_bar = true")
            self.con.execute("SET enable_progress_bar_print = false")
            self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join()
