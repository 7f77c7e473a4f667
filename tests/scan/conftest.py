"""The test site on loopback addresses and one full scan of it, shared by the scanner's tests."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from consentgate.cli import app

from .site import POLICY_WEB, serve

CHROMIUM = os.environ.get("CONSENTGATE_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_chromium() -> None:
    if not os.path.exists(CHROMIUM):
        msg = f"Chromium not found at {CHROMIUM} (run `make system-deps`)"
        if IN_CI:
            pytest.fail(f"{msg}; the scanner's tests must not be skipped in CI")
        pytest.skip(reason=f"!!! SKIPPING SCANNER TESTS: {msg}")


@pytest.fixture(scope="session")
def site() -> Iterator[dict[str, str]]:
    """host → address:port of every host of the test site."""
    with serve() as resolve:
        yield resolve


def resolve_args(resolve: dict[str, str]) -> list[str]:
    return [arg for host, target in resolve.items() for arg in ("--resolve", f"{host}={target}")]


@pytest.fixture(scope="session")
def scan_policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    policy = {
        "organization": {"name": "Example Shop Ltd", "contact": "privacy@example.com"},
        "web": POLICY_WEB,
        "purposes": [
            {"id": "site", "title": "Run the shop", "kind": "necessary", "basis": {"*": "contract"}}
        ],
    }
    path = tmp_path_factory.mktemp("policy") / "policy.yaml"
    path.write_text(yaml.safe_dump(policy))
    return path


@pytest.fixture(scope="session")
def scanned(
    site: dict[str, str], scan_policy: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """One scan of the shop through the command line, as a user runs it."""
    require_chromium()
    out = tmp_path_factory.mktemp("scan") / "scan.json"
    result = CliRunner().invoke(
        app,
        [
            "--policy",
            str(scan_policy),
            "scan",
            "http://shop.test/",
            "--out",
            str(out),
            "--suggest-policy",
            *resolve_args(site),
        ],
        env={"XDG_DATA_HOME": str(out.parent / "xdg"), "COLUMNS": "200"},
    )
    # The shop breaks the rules on purpose: the scan says so in its exit code (docs/scanner.md).
    assert result.exit_code == 3, result.output + repr(result.exception)
    return {"doc": json.loads(out.read_text()), "out": out, "output": result.output}
