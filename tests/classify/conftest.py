"""Fixtures for the classification tests: one scanner, helpers to read findings, one Spark session."""

from __future__ import annotations

import os

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
