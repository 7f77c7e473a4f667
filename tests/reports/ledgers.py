"""Generated ledgers for the report tests, and the independent computation they are checked against.

The expected figures are computed here from the definition in docs/reports.md, the plain way: read
every event and alias row back, group identifiers into people with a union-find of the test's own,
and ask :func:`consentgate.decide.decide` per person, purpose and instant. Nothing is shared with
``consentgate.reports`` (no spans, no rollup, no grouping code).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import text

from consentgate.decide import decide
from consentgate.errors import BadInput
from consentgate.ledger.events import Action, ConsentEvent, NewEvent
from consentgate.ledger.store import Ledger
from consentgate.policy import Policy
from consentgate.requests import RequestDesk
from consentgate.service import ConsentService

CHOICES = {Action.GRANT, Action.DENY, Action.WITHDRAW, Action.OBJECT, Action.OPT_OUT}
REGIONS = ["DE", "FR", "GB", "US-CA", "US-TX", "US", "BR", "JP", "CH", None]
SOURCES = ["banner", "api", "toggle", "privacy_center"]
ZONES = [
    UTC,
    timezone(timedelta(hours=2)),
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=5, minutes=30)),
]
# Events occur from here on, over two years: across the example policy's material notice change
# (2026-06-01) and its grants' expiry (395 and 730 days).
EPOCH = datetime(2024, 9, 1, tzinfo=UTC)
SPAN_DAYS = 730
LATE = datetime(2026, 12, 1, tzinfo=UTC)  # when late events and erasures are recorded (in the past)


class Generator:
    """Seeded random people and events, written to a real ledger."""

    def __init__(self, ledger: Ledger, policy: Policy, seed: int) -> None:
        self.ledger = ledger
        self.policy = policy
        self.rng = random.Random(seed)
        self.people: list[list[str]] = []  # each person's identifiers (the first is the main one)
        self.purposes = list(policy.purposes)

    def add_people(self, n: int, *, events_each: int = 6) -> None:
        start = len(self.people)
        svc = ConsentService(self.policy, self.ledger)
        for i in range(start, start + n):
            ids = [f"user-{i}@example.com"]
            if self.rng.random() < 0.35:
                ids.append(f"cookie-{i}")
                svc.link(ids[1], ids[0], "cookie_id")
            self.people.append(ids)
        news = [self.event(self.people[i]) for i in range(start, start + n) for _ in range(events_each)]
        self.append(news)

    def event(self, ids: Sequence[str], *, late: bool = False) -> NewEvent:
        rng = self.rng
        occurred = EPOCH + timedelta(
            seconds=rng.randrange(SPAN_DAYS * 86_400), microseconds=rng.randrange(10**6)
        )
        occurred = occurred.astimezone(rng.choice(ZONES))
        recorded = LATE if late else occurred + timedelta(seconds=rng.randrange(3 * 86_400))
        subject = rng.choice(list(ids))
        roll = rng.random()
        if roll < 0.1:
            return NewEvent(
                subject=subject,
                action=Action.GPC,
                occurred_at=occurred,
                region=rng.choice(REGIONS),
                source="banner",
                signals={"gpc": rng.random() < 0.8},
                recorded_at=recorded,
            )
        action = rng.choices(
            [Action.GRANT, Action.DENY, Action.WITHDRAW, Action.OBJECT, Action.OPT_OUT], [45, 15, 15, 5, 20]
        )[0]
        purpose = rng.choice(self.purposes)
        notice = purpose.notice if rng.random() < 0.9 else "marketing"
        version = rng.choice(["1", "1", "2", None]) if notice is not None else None
        return NewEvent(
            subject=subject,
            action=action,
            occurred_at=occurred,
            purpose=purpose.id,
            notice_id=notice,
            notice_version=version,
            region=rng.choice(REGIONS),
            source=rng.choice(SOURCES),
            recorded_at=recorded,
        )

    def append(self, news: Sequence[NewEvent]) -> None:
        for i in range(0, len(news), 500):
            self.ledger.append(news[i : i + 500])

    def late_events(self, n: int) -> None:
        """Events recorded now about the past, for people who already have some."""
        self.append([self.event(self.rng.choice(self.people), late=True) for _ in range(n)])

    def merge_people(self, n: int) -> None:
        """Link people who were apart until now: each pair becomes one person."""
        svc = ConsentService(self.policy, self.ledger)
        for _ in range(n):
            a, b = self.rng.sample(range(len(self.people)), 2)
            try:
                svc.link(self.people[a][0], self.people[b][0], "account_id")
            except BadInput:  # already an alias of a third person: linking is for good
                continue

    def erase(self, n: int) -> None:
        svc = ConsentService(self.policy, self.ledger)
        desk = RequestDesk(svc, adapters={}, now=lambda: LATE)
        for i in self.rng.sample(range(len(self.people)), n):
            subject = self.people[i][0]
            desk.complete(desk.file("erase", subject, verified_by="operator").request_id)


def expected_rows(
    ledger: Ledger, policy: Policy, at: datetime, by: Sequence[str] = ("purpose", "region")
) -> list[dict[str, Any]]:
    """The report's rows at ``at``, computed from the definition (see the module docstring)."""
    events = list(ledger.iter_events())
    with ledger.engine.connect() as conn:
        links = [(str(a), str(s)) for a, s in conn.execute(text("SELECT alias, subject FROM aliases"))]
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for a, s in links:
        ra, rs = find(a), find(s)
        if ra != rs:
            parent[ra] = rs
    persons: dict[str, list[ConsentEvent]] = {}
    for e in events:
        persons.setdefault(find(e.subject), []).append(e)
    counts: dict[tuple[Any, ...], list[int]] = {}
    for evs in persons.values():
        if any(e.action is Action.ERASE for e in evs):
            continue
        for purpose in policy.purposes:
            choices = [
                e for e in evs if e.purpose == purpose.id and e.action in CHOICES and e.occurred_at <= at
            ]
            if not choices:
                continue
            last = max(choices, key=lambda e: (e.occurred_at, e.recorded_at, e.seq))
            decision = decide(policy, evs, evs[0].subject, purpose.id, at)
            full = {
                "purpose": purpose.id,
                "region": decision.region,
                "notice_version": last.notice_version,
                "source": last.source,
            }
            key = tuple(full[g] for g in by)
            acc = counts.setdefault(key, [0, 0])
            acc[0] += 1
            acc[1] += decision.allowed
    rows = []
    for key, (subjects, allowed) in counts.items():
        row: dict[str, Any] = dict(zip(by, key, strict=True))
        row.update(subjects=subjects, allowed=allowed, rate=allowed / subjects)
        rows.append(row)
    return sorted(rows, key=_order(by))


def _order(by: Sequence[str]) -> Any:
    return lambda row: tuple("" if row[g] is None else str(row[g]) for g in by)


def sorted_rows(rows: Iterable[dict[str, Any]], by: Sequence[str]) -> list[dict[str, Any]]:
    return sorted(rows, key=_order(by))
