"""Consent rates: of the people who made a choice about a purpose, how many may be used for it, now or
at any instant, by region, notice version and source.

The interface (docs/reports.md defines every figure):

* :func:`consent_rates` ``(engine, policy, *, at=None, start=None, end=None, interval=None,
  by=("purpose", "region"), tz=None) -> RateReport``: one instant (``at``, default now) or a series
  (``start``, ``end`` and ``interval``: the instants ``start``, ``start`` + 1 interval, … up to
  ``end``). ``by`` is any of :data:`GROUPINGS` and must include ``"purpose"``.
* :class:`RateReport`: ``rows`` (:class:`RateRow`, sorted), ``as_json()`` (``{"at": …, "rows":
  [{"purpose", "region", "subjects", "allowed", "rate"}, …]}``; a series adds ``"at"`` to every row
  and ``"from"``, ``"to"``, ``"interval"``, ``"tz"`` beside the rows), ``csv_rows()`` (a header and
  one list per row) and ``write_csv(stream)``.
* :class:`RateRow`: ``purpose``, ``subjects``, ``allowed``, the grouping fields asked for (others
  are None), ``at`` for series rows, and ``rate`` (None when ``subjects`` is 0: no division).

For purpose P, region group R and instant T: ``subjects`` counts people (alias groups) whose region
at T is R (rule 1 of docs/decisions.md: their latest event's region) and who made at least one choice
(grant, deny, withdraw, object, opt_out) about P that occurred at or before T, whenever it was
recorded; people with an erasure in the ledger are left out at every T. ``allowed`` counts those whose
decision for P at T is allowed (:func:`consentgate.decide.decide_timeline`, every rule included).
A report at T is therefore what the ledger as it stands says about T: an event recorded late, but
dated before T, changes it. The figures come from a rollup kept up to date from the ledger's heads
(:mod:`consentgate.reports.rollup`); ``rows`` only hold groups with at least one subject.
"""

from __future__ import annotations

import calendar
import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import IO, TYPE_CHECKING, Any

from consentgate.errors import QueryError
from consentgate.reports import rollup
from consentgate.reports.persons import Tally
from consentgate.store.rates import GROUPINGS

if TYPE_CHECKING:
    from consentgate.policy import Policy
    from consentgate.store.engine import Engine

# A series longer than this is refused: ten years of days, and each point is a full report.
MAX_POINTS = 3_700


class Interval(StrEnum):
    day = "day"
    week = "week"
    month = "month"


@dataclass(frozen=True, slots=True)
class RateRow:
    """One group's figures at one instant. Grouping fields not asked for are None."""

    purpose: str
    subjects: int
    allowed: int
    region: str | None = None
    notice_version: str | None = None
    source: str | None = None
    at: datetime | None = None

    @property
    def rate(self) -> float | None:
        """``allowed / subjects``; None when nobody is counted, so no caller divides by zero."""
        return self.allowed / self.subjects if self.subjects else None


@dataclass(frozen=True, slots=True)
class Series:
    """What a series report covers: the instants ``start``, one ``interval`` later each time, …, up to
    ``end``, stepped on the wall clock of ``tz``."""

    start: datetime
    end: datetime
    interval: Interval
    tz: str
    points: tuple[datetime, ...]


@dataclass(frozen=True, slots=True)
class RateReport:
    """A consent-rate report at ``at``, or a series (``series``; ``at`` is then its last instant)."""

    at: datetime
    by: tuple[str, ...]
    rows: tuple[RateRow, ...]
    series: Series | None = None

    def columns(self) -> list[str]:
        """The row fields, in the order JSON and CSV give them."""
        head = ["at"] if self.series is not None else []
        return [*head, *self.by, "subjects", "allowed", "rate"]

    def row_json(self, row: RateRow) -> dict[str, Any]:
        values: dict[str, Any] = {
            "at": _iso(row.at) if row.at is not None else None,
            "purpose": row.purpose,
            "region": row.region,
            "notice_version": row.notice_version,
            "source": row.source,
            "subjects": row.subjects,
            "allowed": row.allowed,
            "rate": row.rate,
        }
        return {name: values[name] for name in self.columns()}

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"at": _iso(self.at)}
        if self.series is not None:
            s = self.series
            out.update({"from": _iso(s.start), "to": _iso(s.end), "interval": s.interval.value, "tz": s.tz})
        out["rows"] = [self.row_json(r) for r in self.rows]
        return out

    def csv_rows(self) -> list[list[str]]:
        """A header, then one list of strings per row: empty for a missing value or rate."""
        out = [self.columns()]
        for row in self.rows:
            out.append(["" if v is None else str(v) for v in self.row_json(row).values()])
        return out

    def write_csv(self, stream: IO[str]) -> None:
        csv.writer(stream, lineterminator="\n").writerows(self.csv_rows())


def consent_rates(
    engine: Engine,
    policy: Policy,
    *,
    at: datetime | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    interval: Interval | str | None = None,
    by: Sequence[str] = ("purpose", "region"),
    tz: str | tzinfo | None = None,
    through_end: bool = False,
) -> RateReport:
    """The consent-rate report at ``at`` (default now), or the series ``start``…``end`` by ``interval``
    (with ``through_end``, ``end`` is its last instant even when no step lands on it).

    Brings the rollup up to date with the ledger first (only people whose events, links or erasure
    changed are decided again), then answers from it.
    """
    groups = check_by(by)
    zone = zone_of(tz)
    if interval is None and (start is not None or end is not None):
        raise QueryError("a series needs --from, --to and --interval (day, week or month)")
    if interval is not None:
        if at is not None:
            raise QueryError("give either --at (one instant) or --from/--to/--interval (a series), not both")
        if start is None or end is None:
            raise QueryError("a series needs both --from and --to, e.g. --from 2026-05-01 --to 2026-05-31")
        step = _interval(interval)
        instants = series_points(
            _aware(start, "--from"), _aware(end, "--to"), step, zone, through_end=through_end
        )
        tally = rollup.tally(engine, policy, instants, groups)
        rows = _rows(tally, instants, groups, series=True)
        series = Series(start, end, step, _zone_name(zone), tuple(instants))
        return RateReport(instants[-1], groups, rows, series)
    when = _aware(at, "--at") if at is not None else datetime.now(UTC)
    tally = rollup.tally(engine, policy, [when], groups)
    return RateReport(when, groups, _rows(tally, [when], groups, series=False))


def _rows(
    tally: Tally, instants: Sequence[datetime], by: tuple[str, ...], *, series: bool
) -> tuple[RateRow, ...]:
    keep = [GROUPINGS.index(g) for g in by]
    rows: list[RateRow] = []
    for when, counts in zip(instants, tally, strict=True):
        merged: dict[tuple[Any, ...], list[int]] = {}
        for key, (subjects, allowed) in counts.items():
            if subjects == 0:
                continue
            sub = tuple(key[i] if i in keep else None for i in range(len(GROUPINGS)))
            acc = merged.setdefault(sub, [0, 0])
            acc[0] += subjects
            acc[1] += allowed
        for (purpose, region, version, source), (subjects, allowed) in sorted(merged.items(), key=_sort_key):
            rows.append(
                RateRow(purpose, subjects, allowed, region, version, source, when if series else None)
            )
    return tuple(rows)


def _sort_key(item: tuple[tuple[Any, ...], list[int]]) -> tuple[str, ...]:
    return tuple("" if v is None else str(v) for v in item[0])


def check_by(by: Sequence[str] | str) -> tuple[str, ...]:
    """The grouping fields, in :data:`GROUPINGS` order; a :class:`QueryError` naming the bad one."""
    names = [b.strip() for b in (by.split(",") if isinstance(by, str) else by)]
    names = [n for n in names if n]
    unknown = [n for n in names if n not in GROUPINGS]
    if unknown:
        raise QueryError(f"--by {unknown[0]!r} is not a grouping; use any of {', '.join(GROUPINGS)}")
    if "purpose" not in names:
        raise QueryError("--by must include purpose: a consent rate is always about one purpose")
    return tuple(g for g in GROUPINGS if g in names)


def zone_of(tz: str | tzinfo | None) -> tzinfo:
    if tz is None:
        return UTC
    if isinstance(tz, tzinfo):
        return tz
    if tz.upper() in ("UTC", "Z"):
        return UTC
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise QueryError(f"--tz {tz!r} is not a time zone name such as UTC or Europe/Berlin") from None


def _zone_name(zone: tzinfo) -> str:
    return "UTC" if zone is UTC else str(getattr(zone, "key", zone))


def parse_instant(value: str, option: str, zone: tzinfo = UTC) -> datetime:
    """An ISO 8601 instant with a zone, or a date (``2026-05-01``: its midnight in ``zone``)."""
    text = value.strip()
    try:
        if len(text) == 10:
            day = datetime.strptime(text, "%Y-%m-%d")
            return day.replace(tzinfo=zone)
        found = datetime.fromisoformat(text)
    except ValueError:
        raise QueryError(
            f"{option} {value!r} is not a date (2026-05-01) or an ISO 8601 time such as 2026-05-01T12:00:00Z"
        ) from None
    if found.tzinfo is None or found.utcoffset() is None:
        raise QueryError(f"{option} {value!r} has no time zone; add Z or an offset such as +02:00")
    return found


def _aware(value: datetime, option: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise QueryError(
            f"{option} {value.isoformat()!r} has no time zone; add Z or an offset such as +02:00"
        )
    return value


def _interval(value: Interval | str) -> Interval:
    try:
        return Interval(value)
    except ValueError:
        raise QueryError(f"--interval {value!r} is not one of day, week, month") from None


def series_points(
    start: datetime, end: datetime, step: Interval, zone: tzinfo, *, through_end: bool = False
) -> list[datetime]:
    """``start``, then one ``step`` later each time, up to and including ``end``, counted on the
    wall clock of ``zone`` (a day is a calendar day there, 23 or 25 hours across a DST change; a month
    keeps ``start``'s day of the month, or the month's last day when it is shorter).

    ``through_end`` adds ``end`` itself when no step lands on it: a chart of "January to today by
    month" must reach today, or a choice made since the 1st would be missing from it."""
    if end < start:
        raise QueryError(f"--to {_iso(end)} is before --from {_iso(start)}")
    local = start.astimezone(zone)
    out: list[datetime] = []
    n = 0
    while True:
        point = _step(local, step, n)
        if point > end:
            if through_end and out[-1] < end:
                out.append(end.astimezone(zone))
            return out
        out.append(point)
        n += 1
        if n > MAX_POINTS:
            raise QueryError(
                f"the series from {_iso(start)} to {_iso(end)} by {step.value} has more than "
                f"{MAX_POINTS} points; use a longer --interval or a shorter range"
            )


def _step(local: datetime, step: Interval, n: int) -> datetime:
    naive = local.replace(tzinfo=None)
    if step is Interval.month:
        months = naive.month - 1 + n
        year, month = naive.year + months // 12, months % 12 + 1
        day = min(naive.day, calendar.monthrange(year, month)[1])
        moved = naive.replace(year=year, month=month, day=day)
    else:
        moved = naive + timedelta(days=n * (7 if step is Interval.week else 1))
    zone = local.tzinfo
    return moved.replace(tzinfo=zone)


def _iso(value: datetime) -> str:
    return value.isoformat()
