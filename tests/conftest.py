"""Shared fixtures: the example policy, ledgers on SQLite and on a real PostgreSQL started here.

PostgreSQL comes from one launcher (tests/support/pg.py): ``pg_cluster`` is the session's shared cluster
(a fresh schema per test through ``pg_url``); ``crashable_pg`` is a private one per test module, for
tests that SIGKILL it, which the shared one must not see.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
import pytest

from consentgate.ledger.signing import Signer, create_key
from consentgate.ledger.store import Ledger
from consentgate.policy import Policy, load_policy

from .support.pg import PgCluster, pg_bin_dir

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
EXAMPLE_POLICY = Path(str(resources.files("consentgate.policy") / "example.yaml"))


@pytest.fixture(scope="session")
def example_policy_path() -> Path:
    return EXAMPLE_POLICY


@pytest.fixture(scope="session")
def example_policy() -> Policy:
    return load_policy(EXAMPLE_POLICY)


def _running_cluster() -> Iterator[PgCluster]:
    """A cluster of its own, stopped and removed afterwards; a loud skip without the server binaries
    (a failure in CI, where PostgreSQL tests must run)."""
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


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    yield from _running_cluster()


@pytest.fixture(scope="module")
def crashable_pg() -> Iterator[PgCluster]:
    yield from _running_cluster()


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


@pytest.fixture
def ledger_signer(tmp_path: Path) -> Signer:
    """A fresh ledger key in a file (as `consentgate keys ledger` makes one), outside the database."""
    return create_key(tmp_path / "keys" / "ledger.key")


@pytest.fixture
def signed_ledger(ledger_url: str, ledger_signer: Signer) -> Iterator[Ledger]:
    """A ledger on SQLite and on PostgreSQL that seals every write with ``ledger_signer``."""
    led = Ledger.open(ledger_url, signer=ledger_signer)
    try:
        yield led
    finally:
        led.close()


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local[2] Spark for the whole test session (pipeline filters, redaction): no UI, loopback
    only, two shuffle partitions. Spark starts slowly, so every package shares this one."""
    problem = None
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        problem = "pyspark is not installed (pip install 'consentgate[spark]')"
    if problem is None and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        problem = "no Java runtime (Spark needs Java 17+)"
    if problem is not None:
        if IN_CI:
            pytest.fail(f"{problem}; Spark tests must not be skipped in CI")
        pytest.skip(reason=f"!!! SKIPPING SPARK TESTS: {problem}")
    # The redaction UDF runs in Spark's Python workers: they must be this interpreter (with consentgate
    # and pandas installed), not whatever `python3` is on the PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    active = SparkSession.getActiveSession()
    session = active or (
        SparkSession.builder.master("local[2]")
        .appName("consentgate-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        if active is None:
            session.stop()
