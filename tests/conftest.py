"""Shared fixtures: the example policy, ledgers on SQLite and on a real PostgreSQL started here."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import psycopg
import pytest

from consentgate.ledger.store import Ledger
from consentgate.policy import Policy, load_policy

from .pg import PgCluster, pg_bin_dir

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
EXAMPLE_POLICY = Path(str(resources.files("consentgate.policy") / "example.yaml"))


@pytest.fixture(scope="session")
def example_policy_path() -> Path:
    return EXAMPLE_POLICY


@pytest.fixture(scope="session")
def example_policy() -> Policy:
    return load_policy(EXAMPLE_POLICY)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    if pg_bin_dir() is None:
        msg = "PostgreSQL server binaries not found (install 'postgresql' or run `make system-deps`)"
        if IN_CI:
            pytest.fail(f"{msg}; PostgreSQL tests must not be skipped in CI")
        pytest.skip(f"!!! SKIPPING POSTGRESQL TESTS: {msg}")
    cluster = PgCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> Iterator[str]:
    """A fresh, empty schema per test, selected through the connection's search_path."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(
        pg_cluster.url.replace("postgresql://", "postgresql://", 1), autocommit=True
    ) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield f"{pg_cluster.url}?options=-csearch_path%3D{schema}"
    with psycopg.connect(pg_cluster.url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test runs against SQLite and against a real PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "ledger.db")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    led = Ledger.open(ledger_url)
    try:
        yield led
    finally:
        led.close()
