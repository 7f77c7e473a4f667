"""``ledger verify`` finds tampering done directly in the database file; ``ledger head``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from .conftest import Invoke

AI = "train_support_chatbot"


@pytest.fixture
def five(cg: Invoke) -> list[str]:
    ids = []
    for i in range(5):
        result = cg("record", "--subject", f"user-{i}", "--action", "deny", "--purpose", AI)
        assert result.exit_code == 0, result.output
        ids.append(result.stdout.strip())
    return ids


def _sql(db_file: Path, *statements: str) -> None:
    conn = sqlite3.connect(db_file)
    try:
        with conn:
            for statement in statements:
                conn.execute(statement)
    finally:
        conn.close()


def test_intact(cg: Invoke, five: list[str]) -> None:
    result = cg("ledger", "verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ledger intact: 5 events, head ")
    head = json.loads(cg("ledger", "head", "--json").stdout)
    assert head["hash"] in result.stdout
    assert head["seq"] == head["events"] == 5
    plain = cg("ledger", "head").stdout.split()
    assert plain == ["seq", "5", head["hash"]]


def test_intact_json(cg: Invoke, five: list[str]) -> None:
    body = json.loads(cg("ledger", "verify", "--json").stdout)
    assert body["ok"] is True
    assert body["checked"] == 5
    assert body["first_bad"] is None


def test_empty_ledger_is_intact(cg: Invoke) -> None:
    result = cg("ledger", "verify")
    assert result.exit_code == 0
    assert "ledger intact: 0 events" in result.stdout


def test_altered_purpose(cg: Invoke, five: list[str], db_file: Path) -> None:
    _sql(db_file, "UPDATE events SET purpose = 'marketing' WHERE seq = 3")
    result = cg("ledger", "verify")
    assert result.exit_code == 1
    assert "seq 3" in result.stderr
    assert five[2] in result.stderr
    assert "altered" in result.stderr
    body = json.loads(cg("ledger", "verify", "--json").stdout)
    assert body["ok"] is False
    assert body["first_bad"]["seq"] == 3
    assert body["first_bad"]["event_id"] == five[2]


def test_deleted_middle_row(cg: Invoke, five: list[str], db_file: Path) -> None:
    _sql(db_file, "DELETE FROM events WHERE seq = 2")
    result = cg("ledger", "verify")
    assert result.exit_code == 1
    assert "seq 3" in result.stderr  # the first event found out of place
    assert five[2] in result.stderr
    assert "deleted" in result.stderr


def test_swapped_rows(cg: Invoke, five: list[str], db_file: Path) -> None:
    _sql(
        db_file,
        "UPDATE events SET seq = -1 WHERE seq = 2",
        "UPDATE events SET seq = 2 WHERE seq = 4",
        "UPDATE events SET seq = 4 WHERE seq = -1",
    )
    result = cg("ledger", "verify")
    assert result.exit_code == 1
    assert "seq 2" in result.stderr
    assert five[3] in result.stderr  # the event now sitting at seq 2


def test_deleted_last_row(cg: Invoke, five: list[str], db_file: Path) -> None:
    _sql(db_file, "DELETE FROM events WHERE seq = 5")
    result = cg("ledger", "verify")
    assert result.exit_code == 1
    assert "deleted from the end" in result.stderr


def test_verify_does_not_create_a_missing_ledger(cg: Invoke, tmp_path: Path) -> None:
    result = cg("ledger", "verify", db=str(tmp_path / "nope.db"))
    assert result.exit_code == 1
    assert "does not exist" in result.stderr
    assert not (tmp_path / "nope.db").exists()


def test_signals_fit_the_schema(cg: Invoke, five: list[str]) -> None:
    result = cg("ledger", "signals")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "signals fit the schema: 5 events"


def test_signals_outside_the_schema_are_listed_by_name_never_by_value(cg: Invoke, db_file: Path) -> None:
    """A ledger written before the schema was closed: events appended without intake's check."""
    from datetime import UTC, datetime

    from consentgate.ledger.events import Action, NewEvent
    from consentgate.ledger.store import Ledger

    when = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    signals = [{"gpc": True, "via": "dom"}, {"note": "from ann@example.com", "ip": "192.0.2.9"}, {}]
    with Ledger.open(str(db_file)) as ledger:
        stored = ledger.append(
            [NewEvent(f"user-{i}", Action.GPC, when, signals=s) for i, s in enumerate(signals)]
        )
    result = cg("ledger", "signals")
    assert result.exit_code == 1
    assert result.stdout.strip() == f"seq 2 event {stored[1].event_id}: ip, note"
    assert "1 of 3 events hold signals outside the schema" in result.stderr
    assert "ann@example.com" not in result.output
    assert "192.0.2.9" not in result.output
    body = json.loads(cg("ledger", "signals", "--json").stdout)
    assert body == {
        "checked": 3,
        "outside_schema": [{"seq": 2, "event_id": stored[1].event_id, "keys": ["ip", "note"]}],
    }
