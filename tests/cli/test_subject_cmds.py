"""``history`` and ``evidence``: what the ledger holds about one person, and the proof."""

from __future__ import annotations

import json

import pytest

from consentgate.policy import Policy

from .conftest import Invoke

AI = "train_support_chatbot"


@pytest.fixture
def person(cg: Invoke) -> list[str]:
    ids = []
    for args in (
        (
            "--action",
            "grant",
            "--purpose",
            AI,
            "--notice-version",
            "2",
            "--locale",
            "fr",
            "--occurred-at",
            "2026-07-01T09:00:00+02:00",
        ),
        ("--action", "withdraw", "--purpose", AI, "--occurred-at", "2026-08-01T09:00:00+02:00"),
        ("--action", "gpc", "--occurred-at", "2026-06-01T09:00:00-07:00"),
    ):
        result = cg("record", "--subject", "user-9", "--region", "FR", *args)
        assert result.exit_code == 0, result.output
        ids.append(result.stdout.strip())
    return ids


def test_history_is_in_decision_order(cg: Invoke, person: list[str]) -> None:
    result = cg("history", "--subject", "user-9", "--json")
    events = json.loads(result.stdout)
    # The GPC event was recorded last but happened first.
    assert [e["event_id"] for e in events] == [person[2], person[0], person[1]]
    assert [e["action"] for e in events] == ["gpc", "grant", "withdraw"]
    assert events[1]["occurred_at"] == "2026-07-01T09:00:00+02:00"


def test_history_table(cg: Invoke, person: list[str]) -> None:
    result = cg("history", "--subject", "user-9")
    assert result.exit_code == 0, result.output
    assert "history of user-9 (3 events)" in result.stdout
    for event_id in person:
        assert event_id in result.stdout
    assert "ai-training v2" in result.stdout


def test_evidence_json_contains_the_exact_wording(
    cg: Invoke, person: list[str], example_policy: Policy
) -> None:
    result = cg("evidence", "--subject", "user-9", "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    v2 = example_policy.notice_version("ai-training", 2)
    assert v2 is not None
    grant = next(e for e in record["events"] if e["action"] == "grant")
    assert grant["privacy_notice"]["text"] == v2.text["fr"]
    assert grant["privacy_notice"]["locale"] == "fr"
    assert v2.text["fr"] in result.stdout
    assert record["chain"]["intact"] is True
    assert record["current"][AI]["allowed"] is False
    assert record["pii_principal_id"] == "user-9"


def test_evidence_summary(cg: Invoke, person: list[str], example_policy: Policy) -> None:
    result = cg("evidence", "--subject", "user-9")
    assert result.exit_code == 0, result.output
    v2 = example_policy.notice_version("ai-training", 2)
    assert v2 is not None
    assert v2.text["fr"] in result.stdout
    assert "hash chain: intact" in result.stdout
    assert "current decisions" in result.stdout


def test_evidence_at_a_past_time(cg: Invoke, person: list[str]) -> None:
    record = json.loads(
        cg("evidence", "--subject", "user-9", "--at", "2026-07-15T00:00:00Z", "--json").stdout
    )
    assert record["current"][AI]["allowed"] is True
