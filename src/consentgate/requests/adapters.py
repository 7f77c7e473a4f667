"""Erasure adapters: delete or anonymise one person's records where a source keeps them.

One small adapter per kind of store a policy can declare (``sources[].store``): a Parquet file or
directory, a DuckDB table, a SQL table (its statements in ``store/sources.py``). Each does two
things for a set of identifiers (a person's subject id and aliases, matched as text against the
``subject_columns``): ``count`` how many records it holds, and ``erase`` them — all of them or none:

* SQL and DuckDB: one transaction.
* Parquet: every affected file is rewritten to a temporary file next to it first; only when all were
  written are they moved over the originals (``os.replace``, atomic per file). A failure before that
  leaves every original untouched. The rewrite streams row group by row group, keeping the schema,
  its metadata and the compression.

Erasing twice is harmless: the second run finds nothing. The caller (``requests.desk``) retries a
failed adapter and reports what it could not reach.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, Protocol

from consentgate.errors import BadInput
from consentgate.policy.models import OnErase, Source, SourceStore, StoreType

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ErasureAdapter(Protocol):
    source_id: str

    def count(self, identifiers: Collection[str]) -> int:
        """How many records hold one of these identifiers."""
        ...

    def erase(self, identifiers: Collection[str]) -> int:
        """Delete or anonymise those records, all or none; returns how many changed."""
        ...


def adapters_for(sources: Collection[Source], base_dir: Path) -> dict[str, ErasureAdapter]:
    """An adapter for every source that declares a ``store``."""
    out: dict[str, ErasureAdapter] = {}
    for s in sources:
        if s.store is not None:
            out[s.id] = adapter(s.id, s.store, base_dir)
    return out


def adapter(source_id: str, store: SourceStore, base_dir: Path) -> ErasureAdapter:
    if store.type is StoreType.PARQUET:
        return ParquetAdapter(source_id, store, _path(store.path, base_dir))
    if store.type is StoreType.DUCKDB:
        return DuckDBAdapter(source_id, store, _path(store.path, base_dir))
    return SqlAdapter(source_id, store)


def _path(raw: str | None, base_dir: Path) -> Path:
    assert raw is not None  # the policy model requires it for these types
    p = Path(raw).expanduser()
    return p if p.is_absolute() else base_dir / p


def _nulled(store: SourceStore) -> list[str]:
    return [*store.subject_columns, *store.anonymise_columns]


# -- Parquet ----------------------------------------------------------------------------------------


class ParquetAdapter:
    def __init__(self, source_id: str, store: SourceStore, path: Path) -> None:
        self.source_id = source_id
        self.store = store
        self.path = path

    def _files(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        if self.path.is_dir():
            return sorted(p for p in self.path.rglob("*.parquet") if p.is_file())
        raise FileNotFoundError(f"{self.path}: no such file or directory (source {self.source_id!r})")

    def _mask(self, batch: Any, ids: Any) -> Any:
        import pyarrow as pa
        import pyarrow.compute as pc

        mask = pa.array([False] * batch.num_rows, pa.bool_())
        for col in self.store.subject_columns:
            if col not in batch.schema.names:
                raise BadInput(
                    f"source {self.source_id!r}: column {col!r} is not in the data; "
                    f"the files have {', '.join(batch.schema.names)} (fix sources[].store.subject_columns)"
                )
            values = pc.cast(batch.column(col), pa.string())
            mask = pc.or_(mask, pc.fill_null(pc.is_in(values, value_set=ids), False))
        return mask

    def count(self, identifiers: Collection[str]) -> int:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        ids = pa.array(sorted(identifiers), pa.string())
        total = 0
        for f in self._files():
            table = pq.read_table(f, columns=list(self.store.subject_columns))
            total += int(pc.sum(self._mask(table, ids)).as_py() or 0)
        return total

    def erase(self, identifiers: Collection[str]) -> int:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        ids = pa.array(sorted(identifiers), pa.string())
        pending: list[tuple[Path, Path]] = []
        written: list[Path] = []  # every temporary file begun, so a failure removes them all
        changed = 0
        try:
            for f in self._files():
                pf = pq.ParquetFile(f)
                hits = 0
                for i in range(pf.num_row_groups):
                    part = pf.read_row_group(i, columns=list(self.store.subject_columns))
                    hits += int(pc.sum(self._mask(part, ids)).as_py() or 0)
                if not hits:
                    continue
                tmp = f.with_name(f".{f.name}.erasing")
                written.append(tmp)
                meta = pf.metadata
                compression = (
                    meta.row_group(0).column(0).compression.lower() if meta.num_row_groups else "snappy"
                )
                with pq.ParquetWriter(tmp, pf.schema_arrow, compression=compression) as writer:
                    for i in range(pf.num_row_groups):
                        rg = pf.read_row_group(i)
                        writer.write_table(self._rewrite(rg, self._mask(rg, ids)))
                with open(tmp, "rb") as fh:
                    os.fsync(fh.fileno())
                pending.append((tmp, f))
                changed += hits
        except BaseException:
            for tmp in written:
                tmp.unlink(missing_ok=True)
            raise
        for tmp, f in pending:
            os.replace(tmp, f)
        if pending:
            _fsync_dir(pending[0][1].parent)
        return changed

    def _rewrite(self, table: Any, mask: Any) -> Any:
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.store.on_erase is OnErase.DELETE:
            return table.filter(pc.invert(mask))
        for col in _nulled(self.store):
            if col not in table.schema.names:
                raise BadInput(f"source {self.source_id!r}: column {col!r} (to anonymise) is not in the data")
            i = table.schema.get_field_index(col)
            nulls = pa.nulls(table.num_rows, table.schema.field(col).type)
            table = table.set_column(i, table.schema.field(col), pc.if_else(mask, nulls, table.column(col)))
        return table


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- DuckDB -----------------------------------------------------------------------------------------


def _quote(name: str) -> str:
    return ".".join(f'"{part}"' for part in name.split("."))


def _where(store: SourceStore) -> str:
    return " OR ".join(
        f"CAST({_quote(c)} AS VARCHAR) IN (SELECT id FROM consentgate_erase_ids)"
        for c in store.subject_columns
    )


class DuckDBAdapter:
    def __init__(self, source_id: str, store: SourceStore, path: Path) -> None:
        self.source_id = source_id
        self.store = store
        self.path = path

    def _connect(self, identifiers: Collection[str]) -> Any:
        import duckdb
        import pyarrow as pa

        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no such DuckDB database (source {self.source_id!r})")
        con = duckdb.connect(str(self.path))
        con.register("consentgate_erase_ids", pa.table({"id": pa.array(sorted(identifiers), pa.string())}))
        return con

    def count(self, identifiers: Collection[str]) -> int:
        con = self._connect(identifiers)
        try:
            q = f"SELECT count(*) FROM {_quote(self.store.table or '')} WHERE {_where(self.store)}"
            return int(con.execute(q).fetchall()[0][0])
        finally:
            con.close()

    def erase(self, identifiers: Collection[str]) -> int:
        con = self._connect(identifiers)
        table = _quote(self.store.table or "")
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                n = int(
                    con.execute(f"SELECT count(*) FROM {table} WHERE {_where(self.store)}").fetchall()[0][0]
                )
                if self.store.on_erase is OnErase.DELETE:
                    con.execute(f"DELETE FROM {table} WHERE {_where(self.store)}")
                else:
                    sets = ", ".join(f"{_quote(c)} = NULL" for c in _nulled(self.store))
                    con.execute(f"UPDATE {table} SET {sets} WHERE {_where(self.store)}")
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("CHECKPOINT")
            return n
        finally:
            con.close()


# -- SQL (SQLAlchemy) -------------------------------------------------------------------------------


def expand_env(url: str, env: Mapping[str, str] | None = None) -> str:
    """``${NAME}`` → the environment variable ``NAME``; a missing one is an error, not an empty string."""
    env = os.environ if env is None else env

    def sub(m: re.Match[str]) -> str:
        if m.group(1) not in env:
            raise BadInput(f"the source's url needs the environment variable {m.group(1)}, which is not set")
        return env[m.group(1)]

    return _ENV.sub(sub, url)


class SqlAdapter:
    def __init__(self, source_id: str, store: SourceStore) -> None:
        self.source_id = source_id
        self.store = store

    def _run(self, identifiers: Collection[str], *, erase: bool) -> int:
        from consentgate.store.sources import matching_rows

        change = None if not erase else ("delete" if self.store.on_erase is OnErase.DELETE else "null")
        return matching_rows(
            expand_env(self.store.url or ""),
            self.store.table or "",
            self.store.subject_columns,
            identifiers,
            change=change,
            nulled=_nulled(self.store),
            source_id=self.source_id,
        )

    def count(self, identifiers: Collection[str]) -> int:
        return self._run(identifiers, erase=False)

    def erase(self, identifiers: Collection[str]) -> int:
        return self._run(identifiers, erase=True)
