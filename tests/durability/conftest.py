"""A PostgreSQL cluster of the durability tests' own: they SIGKILL it, which the shared one must not see."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import IN_CI
from tests.pg import PgCluster, pg_bin_dir


@pytest.fixture(scope="module")
def crashable_pg() -> Iterator[PgCluster]:
    if pg_bin_dir() is None:
        msg = "PostgreSQL server binaries not found (install 'postgresql' or run `make system-deps`)"
        if IN_CI:
            pytest.fail(f"{msg}; PostgreSQL tests must not be skipped in CI")
        pytest.skip(reason=f"!!! SKIPPING POSTGRESQL TESTS: {msg}")
    cluster = PgCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()
