"""What each console page shows, as JSON-ready data: the pages (``routers/console.py``) render it and
``/v1/reports/…`` (``routers/reports.py``) serves it as it is, so the two never disagree.

Every figure comes from a function that already answers the question elsewhere (the chain monitor,
the request desk, the scan history, the data map, ``reports/``); this module only gathers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from consentgate.classify.datamap import build_datamap
from consentgate.errors import QueryError
from consentgate.policy import Policy
from consentgate.reports.audit import AuditOptions, build_audit_pack
from consentgate.reports.inventory import inventory, read_scan
from consentgate.reports.rates import Interval, RateReport, consent_rates, parse_instant, series_points
from consentgate.reports.risk import declared_level, risk_report
from consentgate.requests import RequestDesk, report_locale
from consentgate.requests.models import OPEN, DataRequest, Status
from consentgate.requests.report import access_report
from consentgate.scan.declaration import declaration_html
from consentgate.scan.diff import check_document, diff_scans
from consentgate.scan.history import ScanHistory
from consentgate.scan.schedule import declaration_scan
from consentgate.server.deps import ServerState
from consentgate.store.counts import event_counts
from consentgate.store.runs import RunStore
from consentgate.web import console_i18n

HISTORY_SCANS = 10  # scan diffs shown: the newest few are what an engineer checks after a release

# What the operator does next at each status (docs/requests.md), as the CLI command to run.
NEXT_STEP: dict[Status, str] = {
    Status.RECEIVED: 'consentgate requests verify {id} --method "…"',
    Status.VERIFIED: "consentgate requests complete {id}",
    Status.IN_PROGRESS: "consentgate requests complete {id}",
}


def ledger_view(state: ServerState) -> dict[str, Any]:
    """Head, the chain monitor's last verdict, events per action."""
    ledger = state.service.ledger
    seq, digest = ledger.head()
    counts = event_counts(ledger.engine)
    return {
        "head": {"seq": seq, "hash": digest},
        "verification": state.chain.status.to_json(),
        "events": {"total": sum(counts.values()), "by_action": counts},
        "signed_checkpoints": ledger.signer is not None,
    }


def subject_view(state: ServerState, subject: str, *, locale: str = "en") -> dict[str, Any]:
    """The access report of one person (history with the wording shown, evidence chain check,
    current decisions, runs, requests), its sentences in the console reader's ``locale``; raises
    ``UnknownSubject`` when the ledger has nothing."""
    service = state.service
    service.require_known(subject)
    return access_report(RequestDesk(service), subject, locale=report_locale.choose(locale, None, "en"))


def requests_view(state: ServerState, *, today: date | None = None) -> dict[str, Any]:
    """Every request: overdue first, then open ones by due date, then closed ones, newest first."""
    desk = RequestDesk(state.service)
    today = today or desk.today()
    found = desk.find()

    def order(r: DataRequest) -> tuple[int, str]:
        if r.overdue(today):
            return (0, r.due.isoformat())
        if r.is_open:
            return (1, r.due.isoformat())
        closed = r.closed_at or r.received_at
        return (2, f"{9999999999 - int(closed.timestamp()):010d}")

    rows = []
    for r in sorted(found, key=order):
        # Without the subject: the queue is worked by request id, and an audit key reading it should
        # not collect identifiers; the ledger page looks a person up when that is the question.
        row = {k: v for k, v in r.to_json(today=today).items() if k not in ("outcome", "subject")}
        row["days_left"] = (r.due - today).days if r.is_open else None
        row["next_step"] = NEXT_STEP[r.status].format(id=r.request_id) if r.status in OPEN else None
        rows.append(row)
    return {
        "today": today.isoformat(),
        "open": sum(1 for r in found if r.is_open),
        "overdue": sum(1 for r in found if r.overdue(today)),
        "requests": rows,
    }


def website_view(state: ServerState, *, locale: str = "en") -> dict[str, Any]:
    """Every site's latest scan as ``consentgate report inventory`` and the audit pack count it (one
    function, reports/inventory.py, so the three agree); the items of the scan the declaration is
    built from; what changed between the newest scheduled scans."""
    settings, policy = state.settings, state.service.policy
    sites = inventory(policy, history_dir=settings.scan_history_dir, scan_files=_scan_files(state))["sites"]
    # ``unreadable``: the scan file the declaration would come from, when it cannot be read; the page
    # says so in the reader's language, ``problem`` says it in English for the JSON report.
    out: dict[str, Any] = {"sites": sites, "scan": None, "problem": None, "unreadable": None, "history": []}
    latest = declaration_scan(settings, policy)
    if latest is None:
        out["problem"] = (
            "no scan yet: run `consentgate scan URL --out scan.json` and set scan_file, or schedule "
            "scans (policy web.scan and scan_history_dir)"
        )
        return out
    from_history = settings.scan_file is None or latest != settings.scan_file
    row, details = read_scan(latest, "history" if from_history else "file")
    if details is None:
        out["problem"], out["unreadable"] = row["problem"], row["scan"]
        return out
    out["scan"] = {
        **row,
        "violation_items": details["violations"],
        # Items of category ``unknown`` (the row's ``uncategorised``), whether or not they broke a rule.
        "uncategorised_items": [
            {
                "kind": kind,
                "name": item.get("name") or item.get("key") or item.get("host"),  # cookie, storage, host
                "domain": item.get("domain") or item.get("origin") or item.get("host"),
            }
            for kind, key in (("cookie", "cookies"), ("storage", "storage"), ("host", "hosts"))
            for item in details[key]
            if item.get("category") == "unknown"
        ],
    }
    # The cookie declaration as the site publishes it (GET /v1/declaration), in the reader's language.
    out["declaration_html"] = declaration_html(_load_scan(latest), locale)
    if settings.scan_history_dir is not None and policy.web.scan is not None:
        history = ScanHistory(settings.scan_history_dir)
        for url in policy.web.scan.start_urls:
            paths = history.scans(url)[-(HISTORY_SCANS + 1) :]
            for old, new in pairwise(paths):
                a, b = _load_scan(old), _load_scan(new)
                diff = diff_scans(a, b)
                out["history"].append(
                    {
                        "site": url,
                        "from": a.get("started_at"),
                        "to": b.get("started_at"),
                        "changed": diff.changed,
                        **diff.as_json(),
                    }
                )
        out["history"].reverse()
    return out


def _scan_files(state: ServerState) -> tuple[Path, ...]:
    """The scan files this service names besides its scan history: the page and the pack read both."""
    scan_file = state.settings.scan_file
    return (scan_file,) if scan_file is not None else ()


def _load_scan(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return check_document(json.load(fh), str(path))


def datamap_view(state: ServerState) -> dict[str, Any]:
    """Sources with their declared level, purposes (with basis) and vendors; training runs, filter
    runs and exports with their counts. Levels are declared, not classified here (see risk.py)."""
    policy = state.service.policy
    dm = build_datamap(policy, {})
    levels = {s.id: declared_level(s) for s in policy.sources}
    for entry in dm["sources"]:
        entry["level"] = levels[entry["id"]]
    runs = RunStore(state.service.ledger.engine).runs()
    dm["vendors"] = [
        {
            "id": v.id,
            "name": v.name or v.id,
            "purposes": list(v.purposes),
            "self_training": v.self_training,
            "self_training_approved": v.self_training_approved,
        }
        for v in policy.vendors
    ]
    dm["runs"] = [{k: v for k, v in r.to_json().items() if k != "manifest"} for r in runs]
    dm["run_counts"] = {
        kind: sum(1 for r in runs if r.kind == kind) for kind in ("training", "filter", "export")
    }
    return dm


def risk_view(state: ServerState) -> dict[str, Any]:
    return risk_report(state.service.policy, at=datetime.now(UTC))


OVERVIEW_WEEKS = 12  # the default rate-over-time chart: a quarter, week by week
# A page draws every point of its series for every purpose: a year by day, with room for a leap year
# (the CLI allows reports.rates.MAX_POINTS; its CSV is the place for longer series).
MAX_PAGE_POINTS = 370
OVERVIEW_TABLES = ("by_region", "over_time", "by_notice_version")
SPLITS = ("region", "notice_version")  # what the series may be split by, besides purpose


# The overview form's fields, by the key of their label in the console's catalogue.
FIELD_LABELS = {"from": "from", "to": "to", "interval": "interval", "by": "group_by"}


class FormProblem(QueryError):
    """A field of the overview's form to fix, said in the reader's language.

    ``key`` names the sentence in the console's catalogue (``web/console/i18n``) and ``params`` fill
    it; :meth:`shown` renders it for a page, with the fields named by their labels on that page. The
    exception's message is the English sentence with the query parameters' own names, for the JSON
    API (``/v1/reports/overview``) and logs: one wording, kept in one place.
    """

    def __init__(self, field: str, key: str, **params: str) -> None:
        self.field, self.key, self.params = field, key, params
        super().__init__(console_i18n.strings("en")[key].format(**self._quoted(), field=field))

    def _quoted(self) -> dict[str, str]:
        # What the person typed, in quotes: "last tuesday" must read as their words, not ours.
        return {k: f'"{v}"' if k == "value" else v for k, v in self.params.items()}

    def shown(self, t: Mapping[str, str]) -> str:
        named = {"field": t[FIELD_LABELS[self.field]]}
        if "other" in self.params:
            named["other"] = t[FIELD_LABELS[self.params["other"]]]
        if "interval" in self.params:
            named["interval"] = t[f"interval_{self.params['interval']}"]
        return t[self.key].format(**{**self._quoted(), **named})


def _instant(value: str, field: str) -> datetime:
    """A date or a time with its zone, as :func:`parse_instant` reads it; a :class:`FormProblem`
    that says which of the two is wrong otherwise."""
    try:
        return parse_instant(value, field)
    except QueryError:
        try:
            naive = datetime.fromisoformat(value.strip()).tzinfo is None
        except ValueError:
            naive = False
        raise FormProblem(field, "query_no_zone" if naive else "query_not_time", value=value) from None


@dataclass(frozen=True, slots=True)
class OverviewQuery:
    """The overview's controls: the series ``start``…``end`` by ``interval``, split by purpose and
    ``split`` (None: purpose only); the region and notice-version tables are at ``end``."""

    start: datetime
    end: datetime
    interval: Interval
    split: str | None = None

    @classmethod
    def default(cls, now: datetime | None = None) -> OverviewQuery:
        end = now or datetime.now(UTC)
        return cls(end - timedelta(weeks=OVERVIEW_WEEKS), end, Interval.week)

    @classmethod
    def parse(cls, params: Mapping[str, str], *, now: datetime | None = None) -> OverviewQuery:
        """The query the form sent; a :class:`FormProblem` naming the field to fix. A missing field
        takes its default. A date alone means midnight UTC for ``from`` and the end of that day for
        ``to`` (not later than now: a rate at a future instant would be a projection, not a fact)."""
        now = now or datetime.now(UTC)
        default = cls.default(now)
        end = default.end
        if to := params.get("to", "").strip():
            end = _instant(to, "to")
            if end > now:
                raise FormProblem("to", "query_future", value=to)
            if len(to) == 10:  # a date: its whole day, so far
                end = min(end + timedelta(days=1), now)
        start = end - timedelta(weeks=OVERVIEW_WEEKS)
        if frm := params.get("from", "").strip():
            start = _instant(frm, "from")
        shown_from, shown_to = frm or start.date().isoformat(), to or end.date().isoformat()
        if start >= end:
            raise FormProblem("from", "query_order", value=shown_from, other="to", other_value=shown_to)
        try:
            interval = Interval(params.get("interval", "").strip() or "week")
        except ValueError:
            raise FormProblem(
                "interval", "query_choice", value=params["interval"], choices=", ".join(Interval)
            ) from None
        split = params.get("by", "").strip() or None
        if split is not None and split not in SPLITS:
            raise FormProblem("by", "query_choice", value=split, choices=", ".join(SPLITS))
        points = len(series_points(start, end, interval, UTC, through_end=True))
        if points > MAX_PAGE_POINTS:
            raise FormProblem(
                "from",
                "query_too_long",
                start=shown_from,
                end=shown_to,
                interval=interval.value,
                points=str(points),
                max=str(MAX_PAGE_POINTS),
            )
        return cls(start, end, interval, split)

    def shown(self) -> dict[str, str]:
        """The form's fields as a person types them: dates, not instants."""
        return {**self.params(), "from": self.start.date().isoformat(), "to": self.end.date().isoformat()}

    def params(self) -> dict[str, str]:
        """The exact query: what a CSV link repeats so it downloads the figures on the page."""
        return {"from": self.start.isoformat(), "to": self.end.isoformat(),
                "interval": self.interval.value, "by": self.split or ""}  # fmt: skip


def overview_reports(state: ServerState, query: OverviewQuery | None = None) -> dict[str, RateReport]:
    """Consent rates at the query's end by purpose and region, the series by purpose (and its split),
    and at its end by purpose and notice version (reports/rates.py: every figure a decision of
    decide.py)."""
    engine, policy = state.service.ledger.engine, state.service.policy
    q = query or OverviewQuery.default()
    by = ("purpose", q.split) if q.split else ("purpose",)
    return {
        "by_region": consent_rates(engine, policy, at=q.end, by=("purpose", "region")),
        "over_time": consent_rates(
            engine, policy, start=q.start, end=q.end, interval=q.interval, by=by, through_end=True
        ),
        "by_notice_version": consent_rates(engine, policy, at=q.end, by=("purpose", "notice_version")),
    }


def overview_view(state: ServerState, query: OverviewQuery | None = None) -> dict[str, Any]:
    """The overview's three reports as JSON (``{"at", "rows"}`` each; the series with its range)."""
    return {key: report.as_json() for key, report in overview_reports(state, query).items()}


def rate_charts(
    overview: dict[str, Any],
    t: dict[str, str],
    policy: Policy | None = None,
    *,
    locale: str = "en",
    split: str | None = None,
) -> list[dict[str, Any]]:
    """The overview's three charts: Chart.js data (rates in percent) and the same figures as table
    rows, so a person who cannot see the chart reads the table. A series split by region or notice
    version draws one line per purpose and group. With the policy, a notice version shows the dates
    its wording was in force beside its id (a bare "2" says nothing to the person who reads it).
    The intro names the instant the region table is at, as ``locale`` writes it: the form's ``to``
    may be in the past, and "now" would then be false. ``split`` is the query's (not guessed from the
    rows, so a table with no rows still heads the column the form chose)."""

    def lab(r: dict[str, Any], field: str) -> str:
        shown = _label(r[field], field)
        if field != "notice_version" or policy is None or r[field] is None:
            return shown
        dates = version_dates(policy, r["purpose"], str(r[field]))
        return f"{shown} ({dates})" if dates else shown

    at = console_i18n.instant(datetime.fromisoformat(overview["by_region"]["at"]), locale)
    specs = (
        ("by_region", "region", None, "bar", t["rates_title"], t["rates_intro"].format(at=at), t["region"]),
        ("over_time", "at", split, "line", t["rates_over_time"], None, t["date"]),
        ("by_notice_version", "notice_version", None, "bar", t["rates_by_notice"], None, t["notice_version"]),
    )
    charts = []
    for key, axis, extra, kind, title, intro, axis_label in specs:
        rows = overview[key]["rows"]

        def line(r: dict[str, Any], extra: str | None = extra) -> str:
            return r["purpose"] if extra is None else f"{r['purpose']} · {lab(r, extra)}"

        labels = sorted({lab(r, axis) for r in rows})
        lines = sorted({line(r) for r in rows})
        rate = {(line(r), lab(r, axis)): r["rate"] for r in rows}
        datasets = [{"label": n, "data": [_percent(rate.get((n, label))) for label in labels]} for n in lines]
        extra_header = [t[extra]] if extra else []
        charts.append(
            {
                "id": f"chart-{key.replace('_', '-')}",
                "key": key,
                "title": title,
                "intro": intro,
                "data": {"type": kind, "labels": labels, "datasets": datasets, "y_label": f"{t['rate']} (%)"},
                "headers": [
                    axis_label,
                    t["purpose"],
                    *extra_header,
                    t["subjects"],
                    t["allowed"],
                    f"{t['rate']} (%)",
                ],
                "rows": [
                    [
                        lab(r, axis),
                        r["purpose"],
                        *([lab(r, extra)] if extra else []),
                        r["subjects"],
                        r["allowed"],
                        _shown(r["rate"]),
                    ]
                    for r in sorted(rows, key=lambda r: (lab(r, axis), line(r)))
                ],
            }
        )
    return charts


def version_dates(policy: Policy, purpose: str, version: str) -> str | None:
    """When ``version`` of the notices asking about ``purpose`` was in force: its first day and the
    first day of the next version, dash-separated, or its first day and an open dash while it still
    is (or will be); dates as the policy writes them. Several notices' ranges joined by "; "."""
    ranges = []
    for notice in policy.notices:
        if purpose not in notice.purposes:
            continue
        ordered = sorted(notice.versions, key=lambda v: v.effective_from)
        for v, nxt in zip(ordered, [*ordered[1:], None], strict=True):
            if str(v.version) == version:
                until = nxt.effective_from.date().isoformat() if nxt is not None else ""
                ranges.append(f"{v.effective_from.date().isoformat()} \u2013 {until}".rstrip())
    return "; ".join(ranges) or None


def _label(value: str | None, axis: str) -> str:
    """An instant of the series (UTC) as its date, with the time when it is not midnight: the
    series' last instant is ``to``, which may fall on the same day as the step before it."""
    if value is None:
        return "-"
    if axis != "at":
        return str(value)
    return value[:10] if value[11:19] == "00:00:00" else f"{value[:10]} {value[11:16]}"


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


def _shown(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}"


def audit_pack(state: ServerState) -> str:
    """The audit pack (reports/audit.py) as one HTML file: a full verification of the ledger, a
    checkpoint signed when a ledger key is configured, the scans this service knows."""
    settings, ledger = state.settings, state.service.ledger
    options = AuditOptions(
        signer=ledger.signer,
        verify=True,
        history_dir=settings.scan_history_dir,
        scan_files=_scan_files(state),
    )
    return build_audit_pack(ledger.engine, state.service.policy, options)
