"""Filter adapters, one module per engine, each with the same functions (the dlt shape):

``NAME``
    the engine's name on the command line.
``handles(data) -> bool``
    whether an in-memory object is this engine's (checked without importing other engines).
``schema(data) -> pyarrow.Schema`` / ``head(data, n) -> pyarrow.Table``
    the input's columns, and its first rows for the manifest fingerprint.
``subjects(data, plan)`` / ``subjects_in_files(paths, plan)``
    the distinct subject ids, as Arrow string arrays (only asked when a suppression list is set).
``filter_data(data, plan) -> (filtered data, Counts)``
    same kind out as in: a lazy input (Polars LazyFrame, DuckDB relation, Spark DataFrame) comes back
    lazy, its counts computed by one aggregation at filter time.
``filter_files(paths, output, plan, progress) -> Counts``
    Parquet files in, one Parquet file out (Spark: a directory of part files).

Importing a module whose library is missing raises :class:`~consentgate.errors.MissingExtra` naming
the extra to install. The semantics all of them implement are in :mod:`consentgate.pipeline.plan`.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol, cast

import pyarrow as pa

from consentgate.errors import BadInput, MissingExtra
from consentgate.pipeline.plan import Counts, FilterPlan, ProgressFn

# The name this package published before ``errors.MissingExtra`` served every extra; kept so that
# ``except EngineMissing`` in callers' code still catches what it caught.
EngineMissing = MissingExtra

ENGINES = ("duckdb", "polars", "arrow", "pandas", "spark")
DEFAULT_ENGINE = "duckdb"
EXTRAS = {
    "duckdb": "pipeline",
    "polars": "pipeline",
    "arrow": "pipeline",
    "pandas": "pipeline",
    "spark": "spark",
}
# The top-level package of each engine's data types, to pick an engine for an object cheaply.
_PACKAGES = {
    "pyarrow": "arrow",
    "polars": "polars",
    "pandas": "pandas",
    "duckdb": "duckdb",
    "pyspark": "spark",
}


class Engine(Protocol):
    NAME: str

    def handles(self, data: object) -> bool: ...

    def schema(self, data: Any) -> pa.Schema: ...

    def head(self, data: Any, n: int) -> pa.Table: ...

    def subjects(self, data: Any, plan: FilterPlan) -> Iterable[pa.Array]: ...

    def subjects_in_files(self, paths: Sequence[Path], plan: FilterPlan) -> Iterable[pa.Array]: ...

    def filter_data(self, data: Any, plan: FilterPlan) -> tuple[Any, Counts]: ...

    def filter_files(
        self, paths: Sequence[Path], output: Path, plan: FilterPlan, progress: ProgressFn
    ) -> Counts: ...


def load(name: str) -> Engine:
    """The engine module for ``name``; raises :class:`~consentgate.errors.MissingExtra` if its
    library is not installed."""
    if name not in ENGINES:
        raise BadInput(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
    return cast(Engine, importlib.import_module(f"consentgate.pipeline.engines.{name}"))


def engine_for(data: object) -> str:
    """The engine whose data type ``data`` is (a pyarrow Table, a Polars frame, …)."""
    top = type(data).__module__.split(".", 1)[0]
    name = _PACKAGES.get(top)
    if name is None:
        raise BadInput(
            f"cannot filter a {type(data).__module__}.{type(data).__name__}; pass a pyarrow Table, a "
            "Polars DataFrame/LazyFrame, a pandas DataFrame, a DuckDB relation or a Spark DataFrame"
        )
    return name


__all__ = ["DEFAULT_ENGINE", "ENGINES", "EXTRAS", "Engine", "EngineMissing", "engine_for", "load"]
