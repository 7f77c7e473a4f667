"""The CLI in-process through Typer's CliRunner, on a fresh SQLite ledger and the example policy."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from consentgate.cli import app
from consentgate.ledger.signing import KEY_FILE_NAME, create_key
from consentgate.ledger.store import Ledger

Invoke = Callable[..., Result]


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own CONSENTGATE_* variables must not leak into the tests."""
    for name in (
        "CONSENTGATE_DB",
        "CONSENTGATE_POLICY",
        "CONSENTGATE_HOST",
        "CONSENTGATE_PORT",
        "CONSENTGATE_TOKEN_SECRET",
        "CONSENTGATE_LEDGER_KEY",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def policy_file(tmp_path: Path, example_policy_path: Path) -> Path:
    target = tmp_path / "policy.yaml"
    shutil.copyfile(example_policy_path, target)
    return target


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    """A ledger with its key beside it (ledger.key, as `init` makes), so commands seal what they write."""
    path = tmp_path / "consentgate.db"
    with Ledger.open(str(path), signer=create_key(tmp_path / KEY_FILE_NAME)) as ledger:
        ledger.seal()
    return path


@pytest.fixture
def runner() -> CliRunner:
    # Wide enough that Rich tables and long lines stay on one line in assertions.
    return CliRunner(env={"COLUMNS": "240"})


@pytest.fixture
def cg(runner: CliRunner, db_file: Path, policy_file: Path) -> Invoke:
    """Run ``consentgate --db … --policy … ARGS`` in-process."""

    def invoke(*args: str, input: str | bytes | None = None, db: str | None = None) -> Result:
        full: Sequence[str] = ["--db", db or str(db_file), "--policy", str(policy_file), *args]
        return runner.invoke(app, list(full), input=input)

    return invoke


def grant_args(subject: str, *extra: str, version: str = "2") -> list[str]:
    """``record`` arguments for a grant of AI training under the example policy's notice ``version``."""
    return [
        "record", "--subject", subject, "--action", "grant", "--purpose", "train_support_chatbot",
        "--notice-version", version, *extra,
    ]  # fmt: skip


def count_events(db_file: Path) -> int:
    with Ledger.open(str(db_file)) as ledger:
        return ledger.count()


def json_lines(text: str) -> list[Any]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def write_jsonl(path: Path, rows: Sequence[Any | str]) -> Path:
    """Objects become JSON lines; strings are written as they are (to plant bad lines)."""
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8"
    )
    return path
