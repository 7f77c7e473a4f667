"""Report periods: a half-open time range and the calendar buckets (UTC days, ISO weeks, months)
the operator reports group by.

Buckets are UTC calendar units of ``occurred_at`` (when the person acted, however late it was
recorded), so a report over the same range gives the same rows wherever it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from consentgate.errors import QueryError
from consentgate.policy.models import to_micros
from consentgate.reports.rates import Interval

DEFAULT_DAYS = 30


@dataclass(frozen=True, slots=True)
class Period:
    """``[start, end)``, both time-zone aware."""

    start: datetime
    end: datetime

    @classmethod
    def of(cls, start: datetime | None, end: datetime | None, *, now: datetime | None = None) -> Period:
        """The range asked for; without ``end`` it ends now, without ``start`` it spans the
        ``DEFAULT_DAYS`` days before ``end``."""
        stop = end or now or datetime.now(UTC)
        begin = start or stop - timedelta(days=DEFAULT_DAYS)
        for name, value in (("--from", begin), ("--to", stop)):
            if value.tzinfo is None:
                raise QueryError(f"{name} {value.isoformat()} has no time zone; add one, e.g. Z or +01:00")
        if begin >= stop:
            raise QueryError(
                f"the period is empty: --from {begin.isoformat()} is not before --to {stop.isoformat()}"
            )
        return cls(begin, stop)

    @property
    def start_us(self) -> int:
        return to_micros(self.start)

    @property
    def end_us(self) -> int:
        return to_micros(self.end)

    def to_json(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def bucket(day: date, interval: Interval) -> str:
    """The first day of ``day``'s bucket, ISO formatted (weeks start on Monday, ISO 8601)."""
    if interval is Interval.week:
        day -= timedelta(days=day.weekday())
    elif interval is Interval.month:
        day = day.replace(day=1)
    return day.isoformat()


EPOCH_DAY = date(1970, 1, 1)  # day 0 of the day numbers the store counts in (UTC)
