"""``ledger verify`` finds tampering done directly in the database file; ``ledger head``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from consentgate.ledger.store import Ledger

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


# -- commands that append refuse an altered head (issue 13), on SQLite and PostgreSQL ----------------


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE events SET action = 'grant' WHERE seq = 3",  # the head's content
        "UPDATE events SET hash = '" + "f" * 64 + "' WHERE seq = 3",  # its hash, head left as it was
        "DELETE FROM events WHERE seq = 3",  # gone, the head still counts it
    ],
)
def test_commands_that_append_refuse_an_altered_head_with_exit_5(
    cg: Invoke, ledger_url: str, tmp_path: Path, tamper: str
) -> None:
    for i in range(3):
        result = cg("record", "--subject", f"user-{i}", "--action", "deny", "--purpose", AI, db=ledger_url)
        assert result.exit_code == 0, result.output
    with Ledger.open(ledger_url) as ledger, ledger.engine.begin() as conn:
        conn.execute(text(tamper))
    with Ledger.open(ledger_url) as ledger:
        before = (ledger.head(), ledger.count())

    events = tmp_path / "more.jsonl"
    events.write_text(
        json.dumps(
            {"subject": "user-9", "action": "deny", "purposes": [AI], "occurred_at": "2026-02-01T09:30:00Z"}
        )
        + "\n"
    )
    for args in (
        ("record", "--subject", "user-9", "--action", "deny", "--purpose", AI),
        ("import-events", str(events)),
        ("link", "--alias", "cookie-9f2c1a", "--subject", "user-9"),
        ("requests", "file", "--kind", "withdraw", "--subject", "user-0"),
    ):
        result = cg(*args, db=ledger_url)
        assert result.exit_code == 5, (args, result.output)
        assert "hash chain is broken at its head" in result.stderr
        assert "nothing was recorded" in result.stderr
    with Ledger.open(ledger_url) as ledger, ledger.engine.connect() as conn:
        assert (ledger.head(), ledger.count()) == before
        assert conn.execute(text("SELECT count(*) FROM aliases")).scalar_one() == 0
    assert cg("ledger", "verify", db=ledger_url).exit_code == 1  # and verify says where
