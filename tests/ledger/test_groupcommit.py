"""Group commit: concurrent appends share transactions, keep one chain, and fail independently."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from consentgate.ledger.events import Action, NewEvent
from consentgate.ledger.groupcommit import GroupCommitter
from consentgate.ledger.store import Ledger

T = datetime(2026, 5, 1, tzinfo=UTC)


def _ev(subject: str, n: int = 2) -> list[NewEvent]:
    return [NewEvent(subject=subject, action=Action.GRANT, occurred_at=T, purpose=f"p{i}") for i in range(n)]


def test_concurrent_appends_each_get_their_own_events_back(ledger: Ledger) -> None:
    committer = GroupCommitter(ledger)
    results: dict[str, list[str]] = {}
    lock = threading.Lock()

    def worker(i: int) -> None:
        for j in range(10):
            subject = f"s{i}-{j}"
            stored = committer.append(_ev(subject, 3))
            assert {e.subject for e in stored} == {subject}
            assert [e.purpose for e in stored] == ["p0", "p1", "p2"]
            with lock:
                results[subject] = [e.event_id for e in stored]

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    committer.close()
    assert len(results) == 80
    assert ledger.count() == 240
    report = ledger.verify()
    assert report.ok, report
    stored_ids = {e.event_id for e in ledger.iter_events()}
    assert stored_ids == {i for ids in results.values() for i in ids}


def test_a_failing_job_does_not_fail_its_neighbours(ledger: Ledger) -> None:
    committer = GroupCommitter(ledger)
    too_long = [NewEvent(subject="x", action=Action.GRANT, occurred_at=T, purpose="p" * 5000)]
    errors: list[BaseException] = []
    ok: list[int] = []

    def good(i: int) -> None:
        ok.append(len(committer.append(_ev(f"g{i}"))))

    def bad() -> None:
        try:
            committer.append(too_long)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=good, args=(i,)) for i in range(5)] + [threading.Thread(target=bad)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    committer.close()
    assert ok == [2] * 5
    if ledger.is_postgres:  # SQLite does not enforce VARCHAR lengths; PostgreSQL does
        assert len(errors) == 1
    assert ledger.verify().ok
    with pytest.raises(RuntimeError):
        committer.append(_ev("late"))


def test_submit_hands_back_a_future_and_a_job_cancelled_while_queued_is_not_stored(ledger: Ledger) -> None:
    committer = GroupCommitter(ledger)
    committer.append(_ev("first", 1))  # a chain head for the other writer below to lock
    # Another writer (another process, say) holds the ledger's write lock: the committer's thread
    # takes the next job and waits for the lock, so the job after it stays queued, cancellable.
    with ledger.engine.execution_options(ledger_write=True).begin() as conn:
        if ledger.is_postgres:
            conn.exec_driver_sql("SELECT seq FROM ledger_head FOR UPDATE")
        busy = committer.submit(_ev("busy"))
        deadline = time.monotonic() + 30
        while not busy.running():
            assert time.monotonic() < deadline, "the writer never took the job"
            time.sleep(0.01)
        queued = committer.submit(_ev("queued"))
        assert queued.cancel()
        assert not busy.cancel()  # taken by the writer: no longer withdrawable
    assert [e.subject for e in busy.result(timeout=30)] == ["busy", "busy"]
    assert queued.cancelled()
    assert [e.subject for e in committer.submit(_ev("after", 1)).result(timeout=30)] == [
        "after"
    ]  # writer lives
    committer.close()
    assert sorted({e.subject for e in ledger.iter_events()}) == ["after", "busy", "first"]
    assert ledger.verify().ok
