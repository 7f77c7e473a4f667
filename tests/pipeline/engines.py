"""Moving test data in and out of each engine, so one suite can run on all of them."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

# In-memory variants: each engine's native data kinds (Polars both eager and lazy).
MEMORY = ["arrow", "arrow-dataset", "polars", "polars-lazy", "pandas", "duckdb", "spark"]
FILES = ["arrow", "polars", "pandas", "duckdb", "spark"]


def engine_name(variant: str) -> str:
    return variant.split("-", 1)[0]


def to_engine(variant: str, table: pa.Table, request: pytest.FixtureRequest) -> Any:
    if variant == "arrow":
        return table
    if variant == "arrow-dataset":
        import pyarrow.dataset as pads

        return pads.dataset(table)
    if variant == "polars":
        import polars as pl

        return pl.from_arrow(table)
    if variant == "polars-lazy":
        import polars as pl

        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return frame.lazy()
    if variant == "pandas":
        import pandas as pd

        # Nullable integers, as a pandas user holding integer ids with gaps would have them.
        return table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    if variant == "duckdb":
        import duckdb

        con = duckdb.connect()
        request.addfinalizer(con.close)
        return con.from_arrow(table)
    if variant == "spark":
        return request.getfixturevalue("spark").createDataFrame(table)
    raise AssertionError(variant)


def to_arrow(variant: str, data: Any) -> pa.Table:
    if variant.startswith("arrow"):
        return data
    if variant == "polars":
        return data.to_arrow()
    if variant == "polars-lazy":
        return data.collect().to_arrow()
    if variant == "pandas":
        return pa.Table.from_pandas(data, preserve_index=False)
    if variant == "duckdb":
        return data.to_arrow_table()
    if variant == "spark":
        return data.toArrow()
    raise AssertionError(variant)


def rows(table: pa.Table, columns: list[str]) -> list[tuple[Any, ...]]:
    """Rows as tuples, sorted by the first column: engines may reorder; values must not change."""
    got = [tuple(r[c] for c in columns) for r in table.select(columns).to_pylist()]
    return sorted(got, key=lambda r: r[0])


def engine_param(variant: str) -> Any:
    return pytest.param(variant, marks=pytest.mark.spark) if variant == "spark" else variant
