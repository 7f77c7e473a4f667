"""Fixtures for the classification tests: one scanner, helpers to read findings, one Spark session."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from consentgate.classify import Scanner

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def scanner() -> Scanner:
    return Scanner()


def found(scanner: Scanner, text: str, lang: str | None = None) -> list[tuple[str, str]]:
    """``(type, covered text)`` of every finding, in order."""
    return [(f.type.value, text[f.start : f.end]) for f in scanner.scan(text, lang)]


def types_of(scanner: Scanner, text: str, lang: str | None = None) -> set[str]:
    return {f.type.value for f in scanner.scan(text, lang)}


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local[2] Spark for the session, as tests/pipeline configures it (shared when both run:
    ``getOrCreate`` returns the live session)."""
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
        pytest.skip(f"!!! SKIPPING SPARK TESTS: {problem}")
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
