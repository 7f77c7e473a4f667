"""The PyTorch example of docs/pipeline.md runs as written, against a ledger where its people
consented, and leaves the record it promises (the run, its subjects, its checkpoints)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from consentgate.ledger.store import Ledger
from consentgate.policy import load_policy
from consentgate.service import ConsentService
from consentgate.store.checkpoints import CheckpointStore
from consentgate.store.runs import RunStore

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "pipeline.md"
POLICY = ROOT / "src" / "consentgate" / "policy" / "example.yaml"


def snippet() -> str:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(
        r"<!-- tested: tests/integrations/test_docs\.py .*?-->\n```python\n(.*?)```", text, re.S
    )
    assert found is not None, "the tested PyTorch block is gone from docs/pipeline.md"
    return found.group(1)


def test_the_pytorch_example_runs_and_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "ledger.db"
    ledger = Ledger.open(str(db))
    now = datetime.now(UTC).isoformat()
    grants = [
        ("", {"subject": f"user-{i}@example.com", "action": "grant", "purposes": ["train_support_chatbot"],
              "notice_id": "ai-training", "notice_version": 2, "region": "DE", "locale": "en",
              "occurred_at": now})
        for i in range(4)
    ]  # fmt: skip
    ConsentService(load_policy(POLICY), ledger).record(grants, strict=False)
    monkeypatch.setenv("CONSENTGATE_DB", str(db))
    monkeypatch.setenv("CONSENTGATE_POLICY", str(POLICY))
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {}
    exec(compile(snippet(), str(DOC), "exec"), scope)
    run = scope["run"]
    assert getattr(run, "status", None) == "completed"
    runs = RunStore(ledger.engine)
    for i in range(4):
        assert [r.model for r in runs.used_by(f"user-{i}@example.com")[1]] == ["tiny-linear"]
    held = CheckpointStore(ledger.engine).containing(runs.hasher.many(["user-0@example.com"]))
    assert [c.name for c in next(iter(held.values()))] == [f"tiny-linear-{s}.pt" for s in (3, 7)]
    assert (tmp_path / "tiny-linear-7.pt").exists()
    ledger.close()
