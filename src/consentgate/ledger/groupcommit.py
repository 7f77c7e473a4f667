"""Group commit: many concurrent appends share one durable transaction.

A durable commit costs an fsync, and an fsync costs the same for one event as for a thousand. Under
load the HTTP service has many requests waiting to append a few events each; a single writer thread
takes everything that queued up while the previous commit was flushing and commits it together. Each
caller still returns only after *its* events are on disk, so an acknowledgement keeps meaning
"stored" — it just shares the fsync with its neighbours.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from consentgate.errors import TerminalStorageError
from consentgate.ledger.events import ConsentEvent, NewEvent, NoticeText
from consentgate.ledger.store import Ledger


@dataclass
class _Job:
    events: Sequence[NewEvent]
    texts: list[NoticeText]
    done: Future[list[ConsentEvent]] = field(default_factory=Future)


class GroupCommitter:
    """Serialises appends through one writer thread, batching whatever is waiting."""

    def __init__(self, ledger: Ledger, *, max_events: int = 20_000) -> None:
        self.ledger = ledger
        self.max_events = max_events
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="consentgate-group-commit", daemon=True)
        self._closed = False
        self._thread.start()

    def append(self, events: Sequence[NewEvent], texts: Iterable[NoticeText] = ()) -> list[ConsentEvent]:
        """Store the events durably (possibly together with others'); return them as stored."""
        return self.submit(events, texts).result()

    def submit(
        self, events: Sequence[NewEvent], texts: Iterable[NoticeText] = ()
    ) -> Future[list[ConsentEvent]]:
        """:meth:`append` without waiting: the future holds the events once they are durable (or the
        error). An event loop awaits it (``asyncio.wrap_future``) with no thread of its own blocked in
        between: the writer thread wakes the loop itself. A future cancelled before the writer takes
        its job is not stored; once taken, it can no longer be cancelled."""
        if self._closed:
            raise RuntimeError("the group committer is closed")
        job = _Job(events, list(texts))
        self._queue.put(job)
        return job.done

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._queue.put(None)
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            jobs = [first]
            size = len(first.events)
            stop = False
            while size < self.max_events:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                jobs.append(nxt)
                size += len(nxt.events)
            self._commit(jobs)
            if stop:
                return

    def _commit(self, jobs: list[_Job]) -> None:
        jobs = [j for j in jobs if j.done.set_running_or_notify_cancel()]
        if not jobs:
            return
        if len(jobs) == 1:
            self._commit_one(jobs[0])
            return
        try:
            stored = self.ledger.append(
                [e for j in jobs for e in j.events], [t for j in jobs for t in j.texts]
            )
        except TerminalStorageError:
            # Bad data in one job (an INSERT refused it, so nothing was committed) must not fail its
            # neighbours: retry each on its own.
            for job in jobs:
                self._commit_one(job)
            return
        except BaseException as exc:
            # A lost connection or a locked database: the COMMIT may even have happened (the server
            # flushed it and died before answering), and retrying job by job would then store every
            # event twice. Each caller gets the error instead — unacknowledged, as in any crash.
            for job in jobs:
                job.done.set_exception(exc)
            return
        offset = 0
        for job in jobs:
            n = len(job.events)
            job.done.set_result(stored[offset : offset + n])
            offset += n

    def _commit_one(self, job: _Job) -> None:
        try:
            job.done.set_result(self.ledger.append(job.events, job.texts))
        except BaseException as exc:  # handed to the waiting caller, who re-raises it
            job.done.set_exception(exc)
