"""Big files: one transaction either way, and the progress display stays on stderr."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from consentgate.cli import _jsonl

from .conftest import Invoke, count_events, write_jsonl

AI = "train_support_chatbot"
N = 5_000


def _rows(n: int) -> list[Any]:
    return [
        {"subject": f"user-{i % 997}", "action": "deny" if i % 3 else "grant", "purposes": [AI],
         "notice_version": 1, "region": "DE", "occurred_at": f"2026-02-{1 + i % 28:02d}T12:00:00Z"}
        for i in range(n)
    ]  # fmt: skip


def test_a_bad_last_line_stores_nothing_of_a_big_file(cg: Invoke, tmp_path: Path, db_file: Path) -> None:
    rows = _rows(N)
    rows[-1] = {**rows[-1], "occurred_at": "yesterday"}
    result = cg("import-events", str(write_jsonl(tmp_path / "big.jsonl", rows)))
    assert result.exit_code == 1
    assert f"line {N}: occurred_at" in result.stderr
    assert count_events(db_file) == 0


def test_progress_on_a_terminal_keeps_stdout_clean(
    cg: Invoke, tmp_path: Path, db_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_jsonl, "BIG_FILE_BYTES", 0)
    monkeypatch.setenv("FORCE_COLOR", "1")  # Rich then treats stderr as a terminal and draws the bar
    result = cg("import-events", str(write_jsonl(tmp_path / "big.jsonl", _rows(N))))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"imported {N} events ({N} lines)"
    assert "validating events" in result.stderr
    assert count_events(db_file) == N
