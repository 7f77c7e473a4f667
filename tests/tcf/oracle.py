"""IAB's own TC-string library (@iabtechlabtcf/core, pinned in tests/tcf/oracle/package-lock.json) as
the judge of every TC string the tests produce: strings are decoded by it, never by our own code.

The oracle folder is a copy of the project's shared oracle (its README says how it works offline);
``npm ci`` installs the pinned library when it is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.support.npm import npm_ci, require_packages

ORACLE_DIR = Path(__file__).parent / "oracle"
LIBRARY = ORACLE_DIR / "node_modules" / "@iabtechlabtcf" / "core"


def require_oracle() -> None:
    """``npm ci`` the pinned library unless it is there; skip loudly (fail in CI) when impossible."""
    if LIBRARY.is_dir():
        return
    reason = "node not found (install Node.js: `make system-deps`)" if shutil.which("node") is None else None
    require_packages(reason or npm_ci(ORACLE_DIR), "TCF ORACLE TESTS")


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


def _encode(model: dict[str, Any], *options: str) -> str:
    out = subprocess.run(
        ["node", str(ORACLE_DIR / "oracle.mjs"), "encode", *options],
        input=json.dumps(model),
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return out.stdout.strip()


def encode_semantic(model: dict[str, Any], gvl: Path) -> str:
    """What a CMP built on IAB's library would write for ``model`` against ``gvl`` (its clean-ups)."""
    return _encode(model, "--gvl", str(gvl))


def encode_raw(model: dict[str, Any]) -> str:
    """IAB's library writing exactly ``model`` (its segment encoders, no GVL clean-ups): strings our
    own encoder did not write, for our decoder to read."""
    return _encode(model, "--raw")
