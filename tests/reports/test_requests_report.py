"""The requests report against an independent reckoning of generated requests, filed and closed by
the real request desk at chosen times, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from consentgate.ledger.store import Ledger
from consentgate.policy import Policy
from consentgate.reports.periods import Period
from consentgate.reports.rates import Interval
from consentgate.reports.requests import requests_report
from consentgate.requests import RequestDesk
from consentgate.requests.dates import due_on, extended_due_on
from consentgate.service import ConsentService

FIRST = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
PERIOD = Period(datetime(2026, 6, 10, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))


class Clock:
    def __init__(self) -> None:
        self.when = FIRST

    def __call__(self) -> datetime:
        return self.when


@dataclass(frozen=True)
class Filed:
    request_id: str
    kind: str
    received: datetime
    due: date
    closed: datetime | None
    rejected: bool


def file_requests(ledger: Ledger, policy: Policy, seed: int) -> list[Filed]:
    rnd = random.Random(seed)
    service = ConsentService(policy, ledger)
    clock = Clock()
    desk = RequestDesk(service, now=clock)
    out = []
    for i in range(36):
        subject = f"person-{seed}-{i}@example.com"
        service.record(
            [("e", {"subject": subject, "action": "grant", "purposes": ["product_analytics"],
                    "occurred_at": "2026-05-01T10:00:00Z", "region": "DE"})],
            strict=False,
        )  # fmt: skip
        kind = rnd.choice(("access", "withdraw", "object", "opt_out", "erase"))
        received = FIRST + timedelta(days=rnd.randrange(0, 140), minutes=rnd.randrange(1440))
        clock.when = received
        req = desk.file(kind, subject, verified_by="operator check" if rnd.random() < 0.6 else None)
        due = due_on(kind, received.date())
        if kind != "opt_out" and rnd.random() < 0.25:
            clock.when = received + timedelta(days=rnd.randrange(0, 25))
            desk.extend(req.request_id, reason="complex request")
            due = extended_due_on(received.date())
        fate = rnd.choice(("open", "reject", "complete", "complete"))
        closed: datetime | None = None
        rejected = False
        if fate == "reject" or (fate == "complete" and kind in ("access", "erase")):
            closed = received + timedelta(days=rnd.randrange(0, 100), hours=rnd.randrange(24))
            clock.when = closed
            desk.reject(req.request_id, reason="identity not confirmed")
            rejected = True
        elif fate == "complete":
            if req.status.value == "received":
                desk.verify(req.request_id, method="operator check")
            closed = received + timedelta(days=rnd.randrange(0, 100), hours=rnd.randrange(24))
            clock.when = closed
            assert desk.complete(req.request_id).status.value == "completed"
        out.append(Filed(req.request_id, kind, received, due, closed, rejected))
    return out


def reckon(filed: list[Filed], at: datetime) -> tuple[Counter[tuple[str, str, str]], set[str]]:
    """(month received, kind, state) counts and the ids not answered on time, as of ``at``."""
    counts: Counter[tuple[str, str, str]] = Counter()
    late = set()
    for f in filed:
        if not (PERIOD.start <= f.received < PERIOD.end) or f.received > at:
            continue
        if f.closed is not None and f.closed <= at:
            state = "closed_on_time" if f.closed.date() <= f.due else "closed_late"
        else:
            state = "overdue" if at.date() > f.due else "open"
        month = f.received.date().replace(day=1).isoformat()
        counts[(month, f.kind, state)] += 1
        counts[(month, f.kind, "received")] += 1
        counts[(month, f.kind, "rejected")] += f.rejected and state.startswith("closed")
        if state in ("closed_late", "overdue"):
            late.add(f.request_id)
    return counts, late


@pytest.mark.parametrize("at", [datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 8, 15, 12, tzinfo=UTC)])
def test_requests_report_matches_an_independent_reckoning(
    ledger_url: str, example_policy: Policy, at: datetime
) -> None:
    with Ledger.open(ledger_url) as ledger:
        filed = file_requests(ledger, example_policy, seed=5)
        report = requests_report(ledger.engine, PERIOD, at=at, interval=Interval.month)
    want, late = reckon(filed, at)
    got: Counter[tuple[str, str, str]] = Counter()
    for row in report["rows"]:
        assert row["received"] == sum(row[s] for s in ("closed_on_time", "closed_late", "open", "overdue"))
        for name in ("received", "closed_on_time", "closed_late", "open", "overdue", "rejected"):
            got[(row["period"], row["kind"], name)] += row[name]
    assert +got == +want
    assert {r["request_id"] for r in report["late"]} == late
    totals = {t["kind"]: t["received"] for t in report["totals"]}
    assert sum(totals.values()) == sum(v for (_, _, name), v in want.items() if name == "received")
    for entry in report["late"]:
        assert "subject" not in entry
        assert entry["days_late"] > 0
    states = {name for (_, _, name), v in want.items() if v}
    assert {"closed_on_time", "open"} <= states or {"closed_on_time", "overdue"} <= states
