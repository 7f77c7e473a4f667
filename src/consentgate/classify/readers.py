"""Read tables to classify: Parquet, CSV, JSON Lines files and the tables of DuckDB databases.

DuckDB reads every format, counts rows and draws a reservoir sample without loading the whole input,
so a 50 GB Parquet file is classified from ``sample_rows`` rows. A directory is walked for files of
the known suffixes; a DuckDB database yields one table per table it holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from consentgate.errors import BadInput, MissingExtra

TABLE_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "csv", ".jsonl": "json",
                  ".ndjson": "json", ".json": "json"}  # fmt: skip
DB_SUFFIXES = (".duckdb", ".ddb", ".db")
DEFAULT_SAMPLE_ROWS = 10_000


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError as exc:
        raise MissingExtra("reading tables", ["duckdb"], "classify") from exc
    return duckdb


@dataclass
class Sample:
    """A sample of one table: column names and types, values per column, and the table's size."""

    name: str
    source: str
    total_rows: int
    columns: dict[str, list[Any]]
    dtypes: dict[str, str]

    @property
    def sampled_rows(self) -> int:
        return len(next(iter(self.columns.values()), []))


def discover(path: Path) -> list[tuple[str, Path]]:
    """Every readable input under ``path``: ``(format, file)`` with format parquet|csv|json|duckdb."""
    if not path.exists():
        raise BadInput(f"{path}: no such file or directory")
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    found: list[tuple[str, Path]] = []
    for f in files:
        suffix = f.suffix.lower()
        if suffix in TABLE_SUFFIXES:
            found.append((TABLE_SUFFIXES[suffix], f))
        elif suffix in DB_SUFFIXES and _is_duckdb(f):
            found.append(("duckdb", f))
        elif not path.is_dir():
            raise BadInput(
                f"{f}: unknown format; expected .parquet, .csv, .jsonl or a DuckDB database (.duckdb)"
            )
    if not found:
        raise BadInput(f"{path}: no Parquet, CSV, JSON Lines or DuckDB files found")
    return found


def _is_duckdb(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(16)
    return head[8:12] == b"DUCK"


def samples(path: Path, sample_rows: int = DEFAULT_SAMPLE_ROWS, seed: int = 42) -> Iterator[Sample]:
    """One :class:`Sample` per table found under ``path``."""
    duckdb = _duckdb()
    base = path if path.is_dir() else path.parent
    for fmt, file in discover(path):
        con = duckdb.connect()
        try:
            if fmt == "duckdb":
                con.execute(f"ATTACH {_lit(str(file))} AS src (READ_ONLY)")
                tables = con.execute(
                    "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'src' "
                    "ORDER BY schema_name, table_name"
                ).fetchall()
                for schema, table in tables:
                    rel = f"src.{_ident(schema)}.{_ident(table)}"
                    label = f"{file.relative_to(base)}:{table if schema == 'main' else f'{schema}.{table}'}"
                    yield _sample(con, rel, label, str(file), sample_rows, seed)
            else:
                reader = {"parquet": "read_parquet", "csv": "read_csv", "json": "read_json_auto"}[fmt]
                options = ", sample_size = -1" if fmt == "csv" else ""
                rel = f"{reader}({_lit(str(file))}{options})"
                yield _sample(con, rel, str(file.relative_to(base)), str(file), sample_rows, seed)
        except duckdb.Error as exc:
            raise BadInput(f"{file}: cannot read it as {fmt}: {exc}") from None
        finally:
            con.close()


def _sample(con: Any, rel: str, label: str, source: str, sample_rows: int, seed: int) -> Sample:
    total = int(con.execute(f"SELECT count(*) FROM {rel}").fetchone()[0])
    query = f"SELECT * FROM {rel}"
    if total > sample_rows:
        query += f" USING SAMPLE reservoir({int(sample_rows)} ROWS) REPEATABLE ({int(seed)})"
    result = con.execute(query)
    names = [d[0] for d in result.description]
    dtypes = {d[0]: str(d[1]) for d in result.description}
    rows = result.fetchall()
    columns = {name: [row[i] for row in rows] for i, name in enumerate(names)}
    return Sample(name=label, source=source, total_rows=total, columns=columns, dtypes=dtypes)


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'
