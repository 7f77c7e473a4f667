"""Column redaction on every engine the pipeline gates support: Arrow, Polars, pandas, DuckDB, Spark.

Each wrapper is thin: the work is :meth:`Redactor.values` over Python strings, fed Arrow arrays batch
by batch (Polars ``map_batches``, a DuckDB Arrow UDF, a Spark ``pandas_udf``), so every engine gives the
same output for the same input and key. ``columns`` maps a column name to the identifier type its
whole values are, or ``None`` to scan the column as free text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from consentgate.classify.findings import EntityType
from consentgate.classify.redact import Redactor
from consentgate.classify.scanner import Scanner
from consentgate.errors import BadInput, MissingExtra

Columns = Mapping[str, EntityType | None]


def _need(module: str, extra: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra("redaction on this engine", [module.split(".")[0]], extra) from exc


def redact_array(
    array: Any, redactor: Redactor, entity: EntityType | None, scanner: Scanner | None = None
) -> Any:
    """An Arrow string array (or chunked array) redacted value by value; nulls stay null."""
    pa = _need("pyarrow", "classify")
    scanner = scanner or Scanner()
    values = array.to_pylist()
    out = redactor.values([None if v is None else str(v) for v in values], entity, scanner)
    return pa.array(out, type=pa.string())


def redact_arrow(table: Any, columns: Columns, redactor: Redactor) -> Any:
    """A ``pyarrow.Table`` with the named columns redacted."""
    _need("pyarrow", "classify")
    scanner = Scanner()
    for name, entity in columns.items():
        _check_column(name, table.column_names)
        idx = table.column_names.index(name)
        table = table.set_column(idx, name, redact_array(table.column(name), redactor, entity, scanner))
    return table


def redact_polars(frame: Any, columns: Columns, redactor: Redactor) -> Any:
    """A Polars ``DataFrame`` or ``LazyFrame`` with the named columns redacted (lazily for lazy)."""
    pl = _need("polars", "pipeline")
    scanner = Scanner()
    names = frame.collect_schema().names() if hasattr(frame, "collect_schema") else frame.columns
    exprs = []
    for name, entity in columns.items():
        _check_column(name, names)

        def batch(series: Any, entity: EntityType | None = entity) -> Any:
            return pl.from_arrow(redact_array(series.to_arrow(), redactor, entity, scanner))

        exprs.append(pl.col(name).map_batches(batch, return_dtype=pl.String).alias(name))
    return frame.with_columns(exprs)


def redact_pandas(frame: Any, columns: Columns, redactor: Redactor) -> Any:
    """A pandas ``DataFrame`` copy with the named columns redacted."""
    pd = _need("pandas", "pipeline")
    scanner = Scanner()
    out = frame.copy()
    for name, entity in columns.items():
        _check_column(name, list(out.columns))
        values = [None if pd.isna(v) else str(v) for v in out[name].tolist()]
        out[name] = pd.Series(redactor.values(values, entity, scanner), index=out.index, dtype="object")
    return out


def register_duckdb(con: Any, redactor: Redactor, name: str = "cg_redact") -> str:
    """Register ``name(value, type)`` as a DuckDB Arrow UDF: ``type`` is an EntityType name, or ``''``
    to scan the value as free text. Returns the function name, e.g. for
    ``SELECT cg_redact(email, 'EMAIL'), cg_redact(notes, '') FROM t``."""
    _need("duckdb", "pipeline")
    pa = _need("pyarrow", "classify")
    scanner = Scanner()

    def udf(values: Any, types: Any) -> Any:
        out = []
        for value, kind in zip(values.to_pylist(), types.to_pylist(), strict=True):
            entity = EntityType(kind) if kind else None
            out.append(redactor.value(value, entity, scanner))
        return pa.array(out, type=pa.string())

    con.create_function(name, udf, ["VARCHAR", "VARCHAR"], "VARCHAR", type="arrow", null_handling="special")
    return name


def redact_duckdb(con: Any, relation: str, columns: Columns, redactor: Redactor) -> Any:
    """A DuckDB relation over ``relation`` (a table name or a query) with the named columns redacted."""
    fn = register_duckdb(con, redactor)
    cols = [d[0] for d in con.execute(f"SELECT * FROM ({relation}) LIMIT 0").description]
    select = []
    for c in cols:
        ident = '"' + c.replace('"', '""') + '"'
        if c in columns:
            entity = columns[c]
            kind = entity.value if entity is not None else ""
            select.append(f"{fn}(CAST({ident} AS VARCHAR), '{kind}') AS {ident}")
        else:
            select.append(ident)
    for name in columns:
        _check_column(name, cols)
    return con.sql(f"SELECT {', '.join(select)} FROM ({relation})")


def redact_spark(frame: Any, columns: Columns, redactor: Redactor) -> Any:
    """A Spark ``DataFrame`` with the named columns redacted by a vectorised ``pandas_udf``."""
    _need("pyspark", "spark")
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.functions import pandas_udf
    from pyspark.sql.types import StringType

    pd = _need("pandas", "spark")
    out = frame
    for name, entity in columns.items():
        _check_column(name, frame.columns)
        vectorised: Any = pandas_udf  # its overloads cannot express a plain Series -> Series function
        out = out.withColumn(
            name, vectorised(_series_fn(pd, redactor, entity), StringType())(F.col(name).cast("string"))
        )
    return out


def _series_fn(pd: Any, redactor: Redactor, entity: EntityType | None) -> Any:
    """A ``pandas.Series -> pandas.Series`` function for ``pandas_udf``, which reads its type hints."""

    def run(series: Any) -> Any:
        values = [None if pd.isna(v) else str(v) for v in series.tolist()]
        return pd.Series(redactor.values(values, entity, Scanner()), dtype="object")

    run.__annotations__ = {"series": pd.Series, "return": pd.Series}
    return run


def _check_column(name: str, names: list[str]) -> None:
    if name not in names:
        raise BadInput(f"column {name!r} is not in the data (columns: {', '.join(names)})")
