"""npm packages the tests need (pinned by a package-lock.json beside them), installed on first use.

Without Node the tests that need them skip loudly on a developer's machine and fail in CI (or with
``CONSENTGATE_REQUIRE_NPM`` set), as the browser tests do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def npm_ci(folder: Path) -> str | None:
    """``npm ci`` in ``folder``; the reason when that is impossible."""
    npm = shutil.which("npm")
    if npm is None:
        return "npm not found (install Node.js: `make system-deps`)"
    result = subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "npm_config_update_notifier": "false"},
    )
    if result.returncode != 0:
        return f"npm ci failed in {folder}: {result.stderr.strip()[-2000:]}"
    return None


def require_packages(reason: str | None, what: str) -> None:
    """Go on when ``reason`` is None; else skip (``what`` names the tests) or, in CI, fail."""
    if reason is None:
        return
    if IN_CI or os.environ.get("CONSENTGATE_REQUIRE_NPM"):
        pytest.fail(reason)
    pytest.skip(reason=f"!!! SKIPPING {what}: {reason}")
