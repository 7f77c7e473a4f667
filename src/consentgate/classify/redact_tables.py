"""Redact table files (Parquet, CSV, JSON Lines) with one of the in-process engines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from consentgate.classify.columns import value_types
from consentgate.classify.findings import EntityType, Level
from consentgate.classify.redact import Redactor
from consentgate.classify.redact_engines import (
    Columns,
    _need,
    redact_arrow,
    redact_duckdb,
    redact_pandas,
    redact_polars,
)
from consentgate.classify.tables import classify_path
from consentgate.errors import BadInput

FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "json", ".ndjson": "json"}


def parse_columns(spec: str) -> dict[str, EntityType | None]:
    out: dict[str, EntityType | None] = {}
    for item in (p.strip() for p in spec.split(",")):
        if not item:
            continue
        name, _, kind = item.partition("=")
        if kind:
            try:
                out[name] = EntityType(kind.upper())
            except ValueError:
                known = ", ".join(t.value for t in EntityType)
                raise BadInput(f"--columns {item!r}: unknown type {kind!r} (known: {known})") from None
        else:
            out[name] = None
    return out


def auto_columns(path: Path) -> dict[str, EntityType | None]:
    """Columns classification finds (pseudonymous or more personal): whole-value identifier columns get
    their dominant type, text columns are scanned."""
    result = classify_path(path, sample_rows=2_000)
    cols: dict[str, EntityType | None] = {}
    for table in result.tables:
        for c in table.columns:
            if c.level is Level.NON_PERSONAL:
                continue
            counted = c.counted()
            top = counted[0] if counted else None
            whole = top is not None and (c.hint is top or c.share(top) >= 0.5)
            cols[c.name] = top if whole else None
    return cols


def _format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise BadInput(f"{path}: unsupported format; use .parquet, .csv or .jsonl")
    return fmt


def redact_file(
    src: Path, dst: Path, redactor: Redactor, columns: Columns | None, engine: str = "arrow"
) -> list[str]:
    if not src.is_file():
        raise BadInput(f"{src}: no such file")
    fin, fout = _format(src), _format(dst)
    cols = dict(columns) if columns is not None else auto_columns(src)
    if engine == "arrow":
        _write_arrow(redact_arrow(_read_arrow(src, fin), cols, redactor), dst, fout)
    elif engine == "polars":
        pl = _need("polars", "pipeline")
        frame = {"parquet": pl.read_parquet, "csv": pl.read_csv, "json": pl.read_ndjson}[fin](src)
        _write_arrow(redact_polars(frame, cols, redactor).to_arrow(), dst, fout)
    elif engine == "pandas":
        pa = _need("pyarrow", "classify")
        frame = _read_arrow(src, fin).to_pandas()
        _write_arrow(
            pa.Table.from_pandas(redact_pandas(frame, cols, redactor), preserve_index=False), dst, fout
        )
    elif engine == "duckdb":
        duckdb = _need("duckdb", "pipeline")
        con = duckdb.connect()
        try:
            reader = {"parquet": "read_parquet", "csv": "read_csv", "json": "read_json_auto"}[fin]
            quoted = "'" + str(src).replace("'", "''") + "'"
            rel = redact_duckdb(con, f"SELECT * FROM {reader}({quoted})", cols, redactor)
            _write_arrow(rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow(), dst, fout)
        finally:
            con.close()
    else:
        raise BadInput(f"unknown engine {engine!r}")
    return list(cols)


def _read_arrow(path: Path, fmt: str) -> Any:
    pa = _need("pyarrow", "classify")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path)
    if fmt == "csv":
        import pyarrow.csv as pcsv

        return pcsv.read_csv(path)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return pa.Table.from_pylist(rows)


def _write_arrow(table: Any, path: Path, fmt: str) -> None:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    elif fmt == "csv":
        import pyarrow.csv as pcsv

        pcsv.write_csv(table, path)
    else:
        with path.open("w", encoding="utf-8") as fh:
            for row in table.to_pylist():
                fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


__all__ = ["auto_columns", "parse_columns", "redact_file", "value_types"]
