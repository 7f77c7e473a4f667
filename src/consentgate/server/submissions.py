"""Submissions → raw events for the service, and intake's problems back to request paths.

A submission's top-level fields are shared by its choices, so intake sees them once per choice. When
one of them is wrong, the problem is reported once, at the top-level field the caller must change
(``occurred_at``), not once per choice (``choices[2].occurred_at``).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from consentgate.errors import EventError
from consentgate.ledger.events import ConsentEvent
from consentgate.server.deps import server_state
from consentgate.server.errors import RequestProblems, summarise
from consentgate.server.schemas.consents import RecordedEvent, Submission
from consentgate.service import ConsentService

_SHARED = ("subject", "occurred_at", "region", "locale", "source", "signals")
_NOTICE = ("notice_id", "notice_version", "wording_hash")


@dataclass
class Plan:
    """Raw events in order, where each of their fields came from, and which submission owns each."""

    raws: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    origins: dict[str, dict[str, str]] = field(default_factory=dict)
    owners: list[int] = field(default_factory=list)

    def add(self, submission: Submission, prefix: str, index: int, now: datetime) -> None:
        base: dict[str, Any] = {
            "subject": submission.subject,
            "occurred_at": submission.occurred_at or now,
            "region": submission.region,
            "locale": submission.locale,
            "source": submission.source,
            "signals": None if submission.signals is None else submission.signals.to_json(),
        }
        shared = {name: f"{prefix}{name}" for name in (*_SHARED, *_NOTICE)}
        if submission.action is not None:
            raw = {**base, "action": submission.action, **_notice(submission)}
            self._push(f"{prefix}action", raw, {**shared, "action": f"{prefix}action"}, index)
            return
        for i, choice in enumerate(submission.choices or ()):
            here = f"{prefix}choices[{i}]"
            raw = {**base, "action": choice.resolved_action, "purpose": choice.purpose, **_notice(submission)}
            origin = {
                **shared,
                "action": f"{here}.{'action' if choice.action is not None else 'allowed'}",
                "purposes": f"{here}.purpose",
            }
            for name in _NOTICE:
                if getattr(choice, name) is not None:
                    raw[name] = getattr(choice, name)
                # A field given at neither level is missing for this choice, so point at the choice.
                if getattr(choice, name) is not None or getattr(submission, name) is None:
                    origin[name] = f"{here}.{name}"
            self._push(here, raw, origin, index)

    def _push(self, where: str, raw: dict[str, Any], origin: dict[str, str], index: int) -> None:
        self.raws.append((where, raw))
        self.origins[where] = origin
        self.owners.append(index)

    def relocate(self, problems: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        """Intake says ``choices[1]: notice_version``; the caller needs the field they sent."""
        out: list[tuple[str, str]] = []
        seen: set[tuple[str, str]] = set()
        for location, message in problems:
            where, _, name = location.partition(": ")
            head, dot, rest = name.partition(".")
            origin = self.origins.get(where, {})
            at = origin.get(head, f"{where}.{head}" if head else where) + (dot + rest)
            if (at, message) not in seen:
                seen.add((at, message))
                out.append((at, message))
        return out


def _notice(submission: Submission) -> dict[str, Any]:
    return {name: getattr(submission, name) for name in _NOTICE}


def plan(submissions: Sequence[Submission], *, batch: bool) -> Plan:
    now = datetime.now(UTC)
    out = Plan()
    for i, submission in enumerate(submissions):
        out.add(submission, f"submissions[{i}]." if batch else "", i, now)
    return out


def charge(request: Request, planned: Plan, key: str | None) -> None:
    """Spend the planned events from ``key``'s and each subject's event budget, or refuse (429)."""
    per_subject = Counter(str(raw["subject"]) for _, raw in planned.raws)
    server_state(request).events.charge(key, per_subject)


def record(service: ConsentService, planned: Plan) -> list[ConsentEvent]:
    """Store every planned event in one transaction, or none, with problems located in the request."""
    try:
        return service.record(planned.raws, source="api", strict=True)
    except EventError as exc:
        problems = planned.relocate(exc.problems)
        raise RequestProblems("invalid_event", summarise(problems), problems) from None


async def record_async(service: ConsentService, planned: Plan) -> list[ConsentEvent]:
    """``record`` for an ``async`` endpoint (one submission: a few events). Intake runs here, on the
    loop (pure, a fraction of a millisecond); the durable commit is the group committer's, whose
    thread wakes the loop when the events are on disk. Without a committer, ``record`` runs in the
    threadpool.

    Measured inside the server during the banner benchmark's cold loads (benchmarks.md): the record's
    time there was mostly its threads waiting for a CPU, much of it at the two hand-offs to and from
    a threadpool thread that this path does without.
    """
    if service.committer is None:
        return await run_in_threadpool(record, service, planned)
    try:
        pending = service.submit(planned.raws, source="api")
    except EventError as exc:
        problems = planned.relocate(exc.problems)
        raise RequestProblems("invalid_event", summarise(problems), problems) from None
    # Shielded: a client that goes away does not withdraw a record the writer may already hold.
    return await asyncio.shield(asyncio.wrap_future(pending))


def receipt(event: ConsentEvent) -> RecordedEvent:
    return RecordedEvent(
        event_id=event.event_id,
        seq=event.seq,
        purpose=event.purpose,
        action=event.action.value,
        notice_id=event.notice_id,
        notice_version=event.notice_version,
        wording_hash=event.wording_hash,
        hash=event.hash,
    )
