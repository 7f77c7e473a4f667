"""The installed ``.venv/bin/consentgate`` as a real process, and the CLI on PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from consentgate.cli import app
from consentgate.ledger.signing import Signer

from .conftest import grant_args, write_jsonl

CONSENTGATE = Path(sys.executable).with_name("consentgate")
AI = "train_support_chatbot"


def _run(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CONSENTGATE), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_installed_command_end_to_end(tmp_path: Path) -> None:
    assert CONSENTGATE.exists(), "the console script is installed by `pip install -e .`"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSENTGATE_")}
    env.update(
        CONSENTGATE_DB=str(tmp_path / "c" / "consentgate.db"),
        CONSENTGATE_POLICY=str(tmp_path / "c" / "policy.yaml"),
    )

    assert _run("init", str(tmp_path / "c"), env=env).returncode == 0
    recorded = _run(*grant_args("user-1", "--region", "DE"), env=env)
    assert recorded.returncode == 0, recorded.stderr
    decided = _run("decide", "--subject", "user-1", "--purpose", AI, "--json", env=env)
    assert decided.returncode == 0, decided.stderr
    assert json.loads(decided.stdout)["evidence_event"] == recorded.stdout.strip()

    bad = write_jsonl(tmp_path / "bad.jsonl", [{"subject": "a", "action": "deny", "purposes": [AI],
                                                "occurred_at": "2026-01-01T00:00:00Z"}, "{oops"])  # fmt: skip
    failed = _run("import-events", str(bad), env=env)
    assert failed.returncode == 1
    assert "line 2" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert failed.stdout == ""

    verified = _run("ledger", "verify", env=env)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("ledger intact: 1 events")


def test_help_of_the_installed_command() -> None:
    result = _run("--help", env={**os.environ, "COLUMNS": "120"})
    assert result.returncode == 0
    assert "import-events" in result.stdout


def test_same_commands_on_postgresql_and_sqlite(
    ledger_url: str, policy_file: Path, ledger_signer: Signer
) -> None:
    runner = CliRunner(env={"CONSENTGATE_LEDGER_KEY": str(ledger_signer.path)})

    def cg(*args: str) -> str:
        result = runner.invoke(app, ["--db", ledger_url, "--policy", str(policy_file), *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    event_id = cg(*grant_args("user-1", "--region", "DE")).strip()
    assert (
        json.loads(cg("decide", "--subject", "user-1", "--purpose", AI, "--json"))["evidence_event"]
        == event_id
    )
    assert cg("ledger", "verify").startswith("ledger intact: 1 events")
    assert json.loads(cg("keys", "create", "--scope", "read", "--json"))["scope"] == "read"
