"""The ledger on SQLite and on a real PostgreSQL: append, read back, chain, tamper detection."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from consentgate.errors import TerminalStorageError
from consentgate.ledger.chain import GENESIS, wording_hash
from consentgate.ledger.events import Action, NewEvent, NoticeText
from consentgate.ledger.store import Ledger

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _events(n: int, subject: str = "subj-1") -> list[NewEvent]:
    return [
        NewEvent(
            subject=subject,
            action=Action.GRANT if i % 2 == 0 else Action.WITHDRAW,
            occurred_at=(T0 + timedelta(minutes=i)).astimezone(),
            purpose="train_support_chatbot",
            region="DE",
            locale="de",
            source="api",
            signals={"i": i},
        )
        for i in range(n)
    ]


def test_append_assigns_a_contiguous_chain(ledger: Ledger) -> None:
    stored = ledger.append(_events(5))
    assert [e.seq for e in stored] == [1, 2, 3, 4, 5]
    assert stored[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(stored):
        assert after.prev_hash == before.hash
    assert ledger.head() == (5, stored[-1].hash)
    more = ledger.append(_events(2, subject="subj-2"))
    assert more[0].prev_hash == stored[-1].hash
    report = ledger.verify()
    assert report.ok, report
    assert report.checked == 7


def test_round_trip_keeps_the_zone_and_signals(ledger: Ledger) -> None:
    tz = datetime(2026, 3, 1, 14, 30, tzinfo=UTC).astimezone(
        __import__("datetime").timezone(timedelta(hours=5, minutes=30))
    )
    ledger.append(
        [NewEvent(subject="s", action=Action.GPC, occurred_at=tz, signals={"gpc": True}, region="US-CA")]
    )
    (ev,) = ledger.events_of(["s"])
    assert ev.occurred_at.utcoffset() == timedelta(hours=5, minutes=30)
    assert ev.occurred_at == tz
    assert ev.signals == {"gpc": True}
    assert ev.region == "US-CA"
    assert ev.recorded_at.tzinfo is not None


def test_wording_is_stored_once_per_hash(ledger: Ledger) -> None:
    wording = "Use my chats to train the chatbot."
    nt = NoticeText("ai-training", "1", "en", wording, wording_hash(wording))
    ledger.append(_events(1), [nt])
    ledger.append(_events(1), [nt])
    assert ledger.texts([nt.text_hash]) == {nt.text_hash: nt}
    with ledger.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM notice_texts")).scalar_one() == 1


def test_events_of_reads_only_those_subjects(ledger: Ledger) -> None:
    ledger.append(_events(3, "a") + _events(2, "b") + _events(1, "c"))
    assert {e.subject for e in ledger.events_of(["a", "c"])} == {"a", "c"}
    assert len(ledger.events_of(["a", "c"])) == 4
    assert ledger.events_of(["nobody"]) == []


def _tamper(ledger: Ledger, sql: str) -> None:
    with ledger.engine.begin() as conn:
        conn.execute(text(sql))


def test_verify_names_an_altered_row(ledger: Ledger) -> None:
    ledger.append(_events(6))
    _tamper(ledger, "UPDATE events SET action = 'grant' WHERE seq = 4")
    report = ledger.verify()
    assert not report.ok
    assert report.bad_seq == 4
    assert "altered" in (report.problem or "")


def test_verify_names_an_altered_timestamp(ledger: Ledger) -> None:
    ledger.append(_events(4))
    _tamper(ledger, "UPDATE events SET occurred_at = '2020-01-01T00:00:00+00:00' WHERE seq = 2")
    report = ledger.verify()
    assert (report.ok, report.bad_seq) == (False, 2)


def test_verify_names_an_altered_subject(ledger: Ledger) -> None:
    ledger.append(_events(4))
    _tamper(ledger, "UPDATE events SET subject = 'someone-else' WHERE seq = 3")
    report = ledger.verify()
    assert (report.ok, report.bad_seq) == (False, 3)
    assert "subject" in (report.problem or "")


def test_verify_names_a_deleted_middle_row(ledger: Ledger) -> None:
    ledger.append(_events(6))
    _tamper(ledger, "DELETE FROM events WHERE seq = 3")
    report = ledger.verify()
    assert not report.ok
    assert report.bad_seq == 4
    assert "deleted" in (report.problem or "")


def test_verify_notices_deletion_at_the_end(ledger: Ledger) -> None:
    ledger.append(_events(5))
    _tamper(ledger, "DELETE FROM events WHERE seq = 5")
    report = ledger.verify()
    assert not report.ok
    assert "end" in (report.problem or "")


def test_verify_names_reordered_rows(ledger: Ledger) -> None:
    ledger.append(_events(6))
    # Swap the positions of events 2 and 5 (their seq numbers), keeping every row's own content.
    _tamper(ledger, "UPDATE events SET seq = -2 WHERE seq = 2")
    _tamper(ledger, "UPDATE events SET seq = 2 WHERE seq = 5")
    _tamper(ledger, "UPDATE events SET seq = 5 WHERE seq = -2")
    report = ledger.verify()
    assert not report.ok
    assert report.bad_seq == 2


def test_verify_detects_altered_wording(ledger: Ledger) -> None:
    wording = "Use my chats to train the chatbot."
    ledger.append(_events(1), [NoticeText("ai-training", "1", "en", wording, wording_hash(wording))])
    _tamper(ledger, "UPDATE notice_texts SET text = 'Something milder.'")
    report = ledger.verify()
    assert not report.ok
    assert "wording" in (report.problem or "")


def test_verify_events_checks_links_of_a_subject(ledger: Ledger) -> None:
    ledger.append(_events(3, "a") + _events(3, "b"))
    evs = ledger.events_of(["a"])
    assert ledger.verify_events(evs) == (True, None)
    _tamper(ledger, "UPDATE events SET signals = '{\"i\": 99}' WHERE seq = 2")
    ok, problem = ledger.verify_events(ledger.events_of(["a"]))
    assert not ok
    assert "seq 2" in (problem or "")


def test_reopening_does_not_migrate_again_and_keeps_data(ledger_url: str) -> None:
    with Ledger.open(ledger_url) as first:
        first.append(_events(2))
    with Ledger.open(ledger_url) as second:
        assert second.count() == 2
        assert second.verify().ok
        assert json.dumps(second.verify().to_json())


def test_a_failed_append_stores_nothing_and_the_next_one_works(ledger: Ledger) -> None:
    """A row in the way of the next seq makes the append fail as a whole: no events, no wording, the
    head unmoved, a terminal error (retrying the same write cannot help); the connection goes back
    to the pool usable, and once the obstacle is gone the ledger carries on."""
    first = ledger.append(_events(2))
    with ledger.engine.begin() as conn:  # a rogue row at seq 3, the head left at 2
        conn.execute(
            text(
                "INSERT INTO events (seq, event_id, subject, subject_salt, subject_commit, action, "
                "source, occurred_at, occurred_us, recorded_at, recorded_us, signals, prev_hash, hash) "
                "VALUES (3, 'rogue', 's', 'x', 'c', 'grant', 'api', 'a', 0, 'b', 0, '{}', 'p', 'h')"
            )
        )
    wording = "A wording first seen in the failing append."
    nt = NoticeText("ai-training", "9", "en", wording, wording_hash(wording))
    with pytest.raises(TerminalStorageError, match="could not append to the ledger"):
        ledger.append(_events(3, subject="subj-9"), [nt])
    assert ledger.head() == (2, first[-1].hash)
    assert ledger.events_of(["subj-9"]) == []
    assert ledger.texts([nt.text_hash]) == {}
    with ledger.engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE event_id = 'rogue'"))
    for _ in range(3):  # every pooled connection still works
        ledger.append(_events(1, subject="subj-10"), [nt])
    assert ledger.texts([nt.text_hash]) == {nt.text_hash: nt}
    report = ledger.verify()
    assert report.ok, report
    assert report.checked == 5
