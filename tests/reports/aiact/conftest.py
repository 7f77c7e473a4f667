"""A model trained for real: people's choices in a ledger (SQLite and PostgreSQL), a dataset file with
text, and ``consentgate.TrainingRun`` runs over it under the example policy."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from consentgate import TrainingRun
from consentgate.ledger.store import Ledger
from consentgate.pipeline import FilterOptions
from consentgate.policy import Policy, parse_policy_text
from consentgate.service import ConsentService

EXAMPLE = Path(__file__).parents[3] / "src" / "consentgate" / "policy" / "example.yaml"
PEOPLE = ["ann@example.com", "bo@example.com", "cy@example.com"]


def chats(n: int, *, offset: int = 0) -> pa.Table:
    """Support chats: a subject column, a flag, a nested list of messages (text inside structs)
    and non-ASCII text, so characters and bytes differ."""
    return pa.table(
        {
            "user_id": [PEOPLE[(i + offset) % len(PEOPLE)] for i in range(n)],
            "do_not_train": [False] * n,
            "messages": [
                [
                    {"role": "user", "content": f"Grüße, my order {i + offset} is late ✓"},
                    {"role": "assistant", "content": "Sorry — let me check."},
                ]
                for i in range(n)
            ],
            "turns": list(range(n)),
        }
    )


@dataclass
class Trained:
    ledger: Ledger
    url: str
    policy: Policy
    policy_text: str
    dir: Path
    train: Callable[..., str]


def example_text(**edits: str) -> str:
    """The example policy's YAML with whole lines replaced (key: the line's start)."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    for start, line in edits.items():
        hits = [i for i, text in enumerate(lines) if text.lstrip().startswith(start)]
        assert len(hits) == 1, start
        lines[hits[0]] = line
    return "\n".join(lines) + "\n"


@pytest.fixture
def trained(ledger_url: str, tmp_path: Path) -> Iterator[Trained]:
    ledger = Ledger.open(ledger_url)
    text = EXAMPLE.read_text(encoding="utf-8")
    policy = parse_policy_text(text)
    ConsentService(policy, ledger).record(
        [
            (
                "",
                {
                    "subject": who,
                    "action": "grant",
                    "purposes": ["train_support_chatbot", "finetune_recommender"],
                    "notice_id": "ai-training",
                    "notice_version": 2,
                    "region": "DE",
                    "locale": "en",
                    "occurred_at": "2026-07-01T10:00:00Z",
                },
            )
            for who in PEOPLE
        ]
    )

    def train(
        model: str,
        dataset: Path | str,
        *,
        purpose: str = "train_support_chatbot",
        source: str | None = None,
        policy: Policy | None = None,
        at: datetime = datetime(2026, 8, 1, 9, tzinfo=UTC),
        batches: list[pa.Table] | None = None,
    ) -> str:
        with TrainingRun(
            purpose,
            model=model,
            dataset=str(dataset),
            policy=policy or trained_policy.policy,
            ledger=ledger,
            options=FilterOptions(subject_column="user_id", source=source),
            now=lambda: at,
        ) as run:
            for batch in batches if batches is not None else [pq.read_table(dataset)]:
                run.check(batch)
        return run.run_id

    trained_policy = Trained(ledger, ledger_url, policy, text, tmp_path, train)
    try:
        yield trained_policy
    finally:
        ledger.close()


def write(table: pa.Table, path: Path, fmt: str = "parquet") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        pq.write_table(table, path)
    elif fmt == "jsonl":
        import json

        rows: list[dict[str, Any]] = table.to_pylist()
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    else:
        import pyarrow.csv as pcsv

        pcsv.write_csv(table, path)
    return path
