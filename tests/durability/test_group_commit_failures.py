"""Group commit when a shared commit fails: never store anyone's events twice.

A transaction whose COMMIT fails with a lost connection may have committed anyway (the server flushed
it and died before answering). Retrying its jobs one by one would then store their events a second
time. Only a failure that certainly rolled back — bad data in one job, found by an INSERT — may be
retried job by job; any other failure goes to every caller of the batch, unacknowledged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import pytest

from consentgate.errors import TransientStorageError
from consentgate.ledger.events import Action, ConsentEvent, NewEvent, NoticeText
from consentgate.ledger.groupcommit import GroupCommitter
from consentgate.ledger.store import Ledger

T = datetime(2026, 5, 1, tzinfo=UTC)


def _events(subject: str) -> list[NewEvent]:
    return [NewEvent(subject=subject, action=Action.DENY, occurred_at=T, purpose=p) for p in ("a", "b")]


class CommitsThenLosesTheAnswer(Ledger):
    """The first append waits until two more jobs queue behind it (so they are committed together);
    that shared append commits and then fails as if the connection dropped before COMMIT's answer."""

    def __init__(self, inner: Ledger, committer_queue_size: list[int]) -> None:
        super().__init__(inner.engine, url=inner.url)
        self.calls = 0
        self.queued = committer_queue_size

    def append(self, new: Sequence[NewEvent], texts: Iterable[NoticeText] = ()) -> list[ConsentEvent]:
        self.calls += 1
        if self.calls == 1:
            deadline = time.monotonic() + 30
            while self.queued[0] < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
        stored = super().append(new, texts)
        if self.calls == 2:
            raise TransientStorageError("could not append to the ledger: server closed the connection")
        return stored


@pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)
def test_an_ambiguous_shared_commit_is_not_retried_job_by_job(ledger: Ledger) -> None:
    queued = [0]
    flaky = CommitsThenLosesTheAnswer(ledger, queued)
    committer = GroupCommitter(flaky)
    outcomes: dict[str, str] = {}

    def submit(subject: str) -> None:
        try:
            committer.append(_events(subject))
            outcomes[subject] = "acknowledged"
        except TransientStorageError:
            outcomes[subject] = "failed"

    first = threading.Thread(target=submit, args=("first",))
    first.start()
    while flaky.calls == 0:  # the writer thread holds the first job
        time.sleep(0.005)
    rest = [threading.Thread(target=submit, args=(s,)) for s in ("second", "third")]
    for i, th in enumerate(rest):
        th.start()
        while committer._queue.qsize() < i + 1:
            time.sleep(0.005)
    queued[0] = 2
    for th in [first, *rest]:
        th.join(timeout=60)
    committer.close()

    assert outcomes == {"first": "acknowledged", "second": "failed", "third": "failed"}
    per_subject: dict[str, int] = {}
    for ev in ledger.iter_events():
        per_subject[ev.subject] = per_subject.get(ev.subject, 0) + 1
    # The lost answer's transaction did commit: its events are there once — never twice.
    assert per_subject == {"first": 2, "second": 2, "third": 2}
    assert ledger.verify().ok
