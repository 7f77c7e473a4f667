"""Data-subject requests against their deadlines: received, closed on time, closed late, open,
overdue — by kind and by the period they were received in (docs/reports.md).

Every request received in the period is in exactly one of four states *as of* ``at`` (default
now): ``closed_on_time`` (completed or rejected on or before its due date), ``closed_late``,
``open`` (not closed at ``at``, not yet past due) and ``overdue`` (not closed at ``at`` and ``at``'s
UTC date is after the due date). So ``received`` is always their sum. A request closed after ``at``
was open at ``at`` and is counted so: a report for last quarter reads as it would have then.

The due date is the request's own (``requests/dates.py``: one month, three when extended, 15
business days for an opt-out), compared in UTC calendar days as the request desk compares them. An
extension granted after ``at`` already counts at ``at``: the store keeps the current due date only.
Requests carry no subject here: the report is about the desk, not about people.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

from consentgate.reports.periods import Period, bucket
from consentgate.reports.rates import Interval
from consentgate.requests.models import DataRequest, RequestKind, Status
from consentgate.store.engine import Engine
from consentgate.store.requests import RequestStore

STATES = ("closed_on_time", "closed_late", "open", "overdue")
COUNTS = ("received", *STATES, "rejected")  # the figures of a row, in the order tables show them
LATE_COLUMNS = ("request_id", "kind", "state", "received_at", "due", "closed_at", "days_late")


def state_at(req: DataRequest, at: datetime) -> str:
    """Which of ``STATES`` ``req`` was in at ``at``."""
    if req.closed_at is not None and req.closed_at <= at:
        return "closed_on_time" if req.closed_at.astimezone(UTC).date() <= req.due else "closed_late"
    return "overdue" if at.astimezone(UTC).date() > req.due else "open"


def requests_report(
    engine: Engine, period: Period, *, at: datetime | None = None, interval: Interval = Interval.month
) -> dict[str, Any]:
    """Counts per (period bucket, kind), totals per kind, and every request not answered on time."""
    when = at or datetime.now(UTC)
    found = [
        r for r in RequestStore(engine).received_between(period.start, period.end) if r.received_at <= when
    ]
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    late: list[dict[str, Any]] = []
    for req in found:
        state = state_at(req, when)
        for c in (counts[(bucket(req.received_at.astimezone(UTC).date(), interval), req.kind.value)],
                  totals[req.kind.value]):  # fmt: skip
            c["received"] += 1
            c[state] += 1
            c["rejected"] += state.startswith("closed") and req.status is Status.REJECTED
        if state in ("closed_late", "overdue"):
            late.append(_late(req, state, when))
    return {
        **period.to_json(),
        "at": when.isoformat(),
        "interval": interval.value,
        "rows": [{"period": p, "kind": k, **_counts(c)} for (p, k), c in sorted(counts.items())],
        "totals": [{"kind": k.value, **_counts(totals[k.value])} for k in RequestKind if k.value in totals],
        "late": late,
    }


def _counts(c: Counter[str]) -> dict[str, int]:
    return {name: c[name] for name in COUNTS}


def _late(req: DataRequest, state: str, at: datetime) -> dict[str, Any]:
    """A request not answered on time, by id (no subject): for the desk to follow up."""
    end = req.closed_at if state == "closed_late" and req.closed_at is not None else at
    return {
        "request_id": req.request_id,
        "kind": req.kind.value,
        "state": state,
        "received_at": req.received_at.isoformat(),
        "due": req.due.isoformat(),
        "closed_at": None if state == "overdue" or req.closed_at is None else req.closed_at.isoformat(),
        "days_late": (end.astimezone(UTC).date() - req.due).days,
    }
