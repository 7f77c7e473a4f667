"""IAB's own TC-string library (@iabtechlabtcf/core, pinned in tests/tcf/oracle/package-lock.json) as
the judge of every TC string the tests produce: strings are decoded by it, never by our own code.

The oracle folder is a copy of the project's shared oracle (its README says how it works offline);
``npm ci`` installs the pinned library when it is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ORACLE_DIR = Path(__file__).parent / "oracle"
LIBRARY = ORACLE_DIR / "node_modules" / "@iabtechlabtcf" / "core"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _install() -> str | None:
    """``npm ci`` the pinned library unless it is there; the reason when that is impossible."""
    if LIBRARY.is_dir():
        return None
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        return "node/npm not found (install Node.js: `make system-deps`)"
    result = subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
        cwd=ORACLE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "npm_config_update_notifier": "false"},
    )
    return None if result.returncode == 0 else f"npm ci failed in {ORACLE_DIR}: {result.stderr[-2000:]}"


def require_oracle() -> None:
    reason = _install()
    if reason is not None:
        if IN_CI or os.environ.get("CONSENTGATE_REQUIRE_NPM"):
            pytest.fail(reason)
        pytest.skip(reason=f"!!! SKIPPING TCF ORACLE TESTS: {reason}")


def decode(tc_string: str) -> dict[str, Any]:
    """IAB's decoding of ``tc_string`` (the model JSON of oracle.mjs, without its raw-bit detail)."""
    out = subprocess.run(
        ["node", str(ORACLE_DIR / "oracle.mjs"), "decode", tc_string],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    model: dict[str, Any] = json.loads(out.stdout)
    model.pop("_segmentsDetail", None)
    return model


def encode_semantic(model: dict[str, Any], gvl: Path) -> str:
    """What a CMP built on IAB's library would write for ``model`` against ``gvl`` (its clean-ups)."""
    out = subprocess.run(
        ["node", str(ORACLE_DIR / "oracle.mjs"), "encode", "--gvl", str(gvl)],
        input=json.dumps(model),
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return out.stdout.strip()
