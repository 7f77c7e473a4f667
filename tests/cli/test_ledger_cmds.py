"""``ledger verify`` finds tampering done directly in the database file; ``ledger head``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from consentgate.ledger.store import Ledger

from .conftest import Invoke, count_events

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


# -- signatures, checkpoints, exit codes (docs/cli.md) ----------------------------------------------


def test_verify_with_the_auditors_public_key(cg: Invoke, five: list[str], db_file: Path) -> None:
    result = cg("ledger", "verify", "--public-key", str(db_file.parent / "ledger.pub"))
    assert result.exit_code == 0, result.output
    assert "signed: the head is sealed by key" in result.stdout


def test_an_unsigned_ledger_exits_3_not_0(cg: Invoke, tmp_path: Path) -> None:
    elsewhere = tmp_path / "nokey"
    elsewhere.mkdir()
    db = str(elsewhere / "plain.db")  # no ledger.key beside it: nothing seals the writes
    assert cg("record", "--subject", "user-1", "--action", "deny", "--purpose", AI, db=db).exit_code == 0
    result = cg("ledger", "verify", db=db)
    assert result.exit_code == 3
    assert "hashes intact" in result.stderr
    assert "UNSIGNED" in result.stderr
    assert "ledger intact" not in result.output
    body = json.loads(cg("ledger", "verify", "--json", db=db).stdout)
    assert body["ok"] is True
    assert body["intact"] is False


def test_a_forged_append_without_the_key_exits_3(cg: Invoke, five: list[str], db_file: Path) -> None:
    (db_file.parent / "ledger.key").rename(db_file.parent / "stolen.key")  # the attacker lacks the key
    assert (
        cg(
            "record", "--subject", "user-9", "--action", "grant", "--purpose", AI, "--notice-version", "1"
        ).exit_code
        == 0
    )
    result = cg("ledger", "verify", "--public-key", str(db_file.parent / "ledger.pub"))
    assert result.exit_code == 3
    assert "UNSIGNED TAIL" in result.stderr


def test_checkpoint_then_cut_off_end_fails_with_the_checkpoint(
    cg: Invoke, five: list[str], db_file: Path
) -> None:
    cp = db_file.parent / "head.json"
    made = cg("ledger", "checkpoint", "--out", str(cp))
    assert made.exit_code == 0, made.output
    assert json.loads(cp.read_text())["events"]["seq"] == 5
    _sql(
        db_file,
        "DELETE FROM ledger_seals WHERE id = (SELECT MAX(id) FROM ledger_seals)",
        "DELETE FROM events WHERE seq = 5",
        "UPDATE ledger_head SET seq = 4, hash = (SELECT hash FROM events WHERE seq = 4)",
    )
    assert cg("ledger", "verify").exit_code == 0  # undetectable without the checkpoint (docs/ledger.md)
    result = cg("ledger", "verify", "--checkpoint", str(cp))
    assert result.exit_code == 1
    assert "no longer extends the checkpoint" in result.stderr


def test_checkpoint_needs_a_key(cg: Invoke, tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    db = str(tmp_path / "x" / "n.db")
    assert cg("record", "--subject", "user-1", "--action", "deny", "--purpose", AI, db=db).exit_code == 0
    result = cg("ledger", "checkpoint", "--out", str(tmp_path / "cp.json"), db=db)
    assert result.exit_code == 1
    assert "no ledger key" in result.stderr


def test_record_refuses_to_append_onto_a_tampered_head(cg: Invoke, five: list[str], db_file: Path) -> None:
    _sql(db_file, "UPDATE events SET action = 'grant' WHERE seq = 5")
    result = cg("record", "--subject", "user-7", "--action", "deny", "--purpose", AI)
    assert result.exit_code == 6
    assert "hash chain is broken at its head" in result.stderr
    assert count_events(db_file) == 5


def test_keys_ledger_rotates_and_old_seals_keep_verifying(cg: Invoke, five: list[str], db_file: Path) -> None:
    again = cg("keys", "ledger")
    assert again.exit_code == 1
    assert "--rotate" in again.stderr
    rotated = cg("keys", "ledger", "--rotate")
    assert rotated.exit_code == 0, rotated.output
    pub = (db_file.parent / "ledger.pub").read_text()
    assert pub.count("BEGIN PUBLIC KEY") == 2
    assert cg("record", "--subject", "user-8", "--action", "deny", "--purpose", AI).exit_code == 0
    result = cg("ledger", "verify", "--public-key", str(db_file.parent / "ledger.pub"))
    assert result.exit_code == 0, result.output


# -- commands that append refuse an altered head (issue 13), on SQLite and PostgreSQL ----------------


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE events SET action = 'grant' WHERE seq = 3",  # the head's content
        "UPDATE events SET hash = '" + "f" * 64 + "' WHERE seq = 3",  # its hash, head left as it was
        "DELETE FROM events WHERE seq = 3",  # gone, the head still counts it
    ],
)
def test_commands_that_append_refuse_an_altered_head_with_exit_6(
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
        assert result.exit_code == 6, (args, result.output)
        assert "hash chain is broken at its head" in result.stderr
        assert "nothing was recorded" in result.stderr
    with Ledger.open(ledger_url) as ledger, ledger.engine.connect() as conn:
        assert (ledger.head(), ledger.count()) == before
        assert conn.execute(text("SELECT count(*) FROM aliases")).scalar_one() == 0
    assert cg("ledger", "verify", db=ledger_url).exit_code == 1  # and verify says where


def test_commands_that_append_refuse_an_altered_record_chain_head_with_exit_6(
    cg: Invoke, ledger_url: str
) -> None:
    """The pre-check is the append's own head check, over both chains: a tampered last record (a
    link here) stops even a command that stores no event itself (filing a request)."""
    assert (
        cg("record", "--subject", "user-0", "--action", "deny", "--purpose", AI, db=ledger_url).exit_code == 0
    )
    assert cg("link", "--alias", "cookie-0a1b2c", "--subject", "user-0", db=ledger_url).exit_code == 0
    last_record = "(SELECT MAX(seq) FROM ledger_records)"
    with Ledger.open(ledger_url) as ledger, ledger.engine.begin() as conn:
        conn.execute(text(f"UPDATE ledger_records SET body = '{{}}' WHERE seq = {last_record}"))
        (seq,) = conn.execute(text(f"SELECT {last_record}")).one()
    for args in (
        ("requests", "file", "--kind", "withdraw", "--subject", "user-0"),
        ("link", "--alias", "cookie-9f2c1a", "--subject", "user-0"),
        ("record", "--subject", "user-1", "--action", "deny", "--purpose", AI),
    ):
        result = cg(*args, db=ledger_url)
        assert result.exit_code == 6, (args, result.output)
        assert "hash chain is broken at its head" in result.stderr
        assert f"record {seq} (aliases, suppressions, wording) no longer hashes" in result.stderr
        assert "nothing was recorded" in result.stderr
    with Ledger.open(ledger_url) as ledger, ledger.engine.connect() as conn:
        assert ledger.count() == 1
        assert conn.execute(text("SELECT count(*) FROM requests")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM aliases")).scalar_one() == 1
