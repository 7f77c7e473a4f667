"""Every policy message docs/policy.md quotes is what consentgate prints for the file it shows."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consentgate.cli import app

DOC = Path(__file__).parents[2] / "docs" / "policy.md"
MARK = "<!-- checked by tests/policy/test_docs.py -->"
# A checked policy: its YAML block, then (after some prose) the text block with the error it gets.
EXAMPLE = re.compile(re.escape(MARK) + r"\n```yaml\n(.*?)```.*?```text\n(.*?)```", re.S)
# A checked output line on its own: a text block straight after the mark.
QUOTE = re.compile(re.escape(MARK) + r"\n```text\n(.*?)```", re.S)


def _check(args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    monkeypatch.chdir(cwd)
    for name in ("CONSENTGATE_DB", "CONSENTGATE_POLICY"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner(env={"COLUMNS": "240"}).invoke(app, ["--db", "ledger.db", *args])
    return result.exit_code, result.stdout, result.stderr


EXAMPLES = EXAMPLE.findall(DOC.read_text(encoding="utf-8"))


def test_the_docs_show_checked_examples() -> None:
    assert len(EXAMPLES) >= 2
    assert QUOTE.findall(DOC.read_text(encoding="utf-8"))


@pytest.mark.parametrize(("policy", "expected"), EXAMPLES)
def test_quoted_errors_are_real_output(
    policy: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "policy.yaml").write_text(policy, encoding="utf-8")
    code, _, stderr = _check(["--policy", "policy.yaml", "policy", "check"], tmp_path, monkeypatch)
    assert code == 1
    assert stderr == expected


def test_quoted_warnings_are_real_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, example_policy_path: Path
) -> None:
    shutil.copyfile(example_policy_path, tmp_path / "policy.yaml")
    code, stdout, _ = _check(["--policy", "policy.yaml", "policy", "check"], tmp_path, monkeypatch)
    assert code == 0
    for block in QUOTE.findall(DOC.read_text(encoding="utf-8")):
        for line in block.splitlines():
            assert line in stdout.splitlines()
