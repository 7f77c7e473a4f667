"""``consentgate report banner|gpc|requests|inventory|audit``: the operator reports beside consent
rates, and the audit pack (docs/reports.md). ``cli/report.py`` adds them to its group with
:func:`register`.

Each prints a table by default, ``--json`` for machines (the report function's own JSON) and
``--csv`` for a spreadsheet (a header row, empty cells for values not known).
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from consentgate.cli._shared import CliEnv, env_of
from consentgate.errors import BadInput, QueryError

if TYPE_CHECKING:
    from consentgate.reports.periods import Period
    from consentgate.reports.rates import Interval

FromOpt = Annotated[
    str | None,
    typer.Option(
        "--from",
        metavar="TIME",
        help="Start of the period (included): ISO 8601 with a zone, or a date for its UTC midnight; "
        "default 30 days before --to; e.g. `--from 2026-11-01`.",
        show_default=False,
    ),
]
ToOpt = Annotated[
    str | None,
    typer.Option(
        "--to",
        metavar="TIME",
        help="End of the period (excluded), default now, e.g. `--to 2026-12-01`.",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the report as JSON, e.g. for `jq`.")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV with a header row, e.g. for a spreadsheet.")]


def _interval_option(default: str) -> Any:
    return typer.Option(
        metavar="day|week|month",
        help=f"Group by UTC day, ISO week or month of when things happened (default {default}), "
        "e.g. `--interval week`.",
    )


def register(app: typer.Typer) -> None:
    """Add the commands of this module to the ``report`` group."""
    app.command("banner")(banner)
    app.command("gpc")(gpc)
    app.command("requests")(requests)
    app.command("inventory")(inventory)
    app.command("audit")(audit)


def banner(
    ctx: typer.Context,
    start: FromOpt = None,
    end: ToOpt = None,
    interval: Annotated[str, _interval_option("day")] = "day",
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Banner outcomes per day and region: how many clicks were "Accept all", "Reject all" or a custom
    selection ("Save"), from the banner's own events.

    `unattributed` counts banner choices recorded without the button (older banners, other clients);
    `no_action` (shown, no choice) is not known — the banner records nothing then — and is printed as
    "not known" (null in JSON, empty in CSV), never 0.

    Example:

        consentgate report banner --from 2026-11-01 --to 2026-12-01 --csv
    """
    from consentgate.reports.banner import OUTCOME_COLUMNS, banner_outcomes

    env, fmt = env_of(ctx), _format(as_json, as_csv)
    step = _interval(interval)
    report = banner_outcomes(_web_engine(env), env.policy(), _period(start, end), interval=step)
    columns = OUTCOME_COLUMNS
    _emit(
        env,
        fmt,
        report,
        report["rows"],
        columns,
        "Banner outcomes",
        "no banner choice was recorded in the period",
    )
    if fmt == "table":
        env.note(f"no_action: {report['no_action']}")


def gpc(
    ctx: typer.Context,
    start: FromOpt = None,
    end: ToOpt = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """GPC share per region: of the identifiers the banner, toggle or privacy center saw in the
    period, how many sent Global Privacy Control.

    Visitors without GPC reach the ledger only by choosing, so this is a share of the visitors who
    reached the ledger, not of all visitors.

    Example:

        consentgate report gpc --from 2026-11-01 --json
    """
    from consentgate.reports.banner import GPC_COLUMNS, gpc_share

    env, fmt = env_of(ctx), _format(as_json, as_csv)
    report = gpc_share(_web_engine(env), env.policy(), _period(start, end))
    columns = GPC_COLUMNS
    _emit(
        env, fmt, report, report["rows"], columns, "GPC share", "no visitor reached the ledger in the period"
    )


def requests(
    ctx: typer.Context,
    start: FromOpt = None,
    end: ToOpt = None,
    at: Annotated[
        str | None,
        typer.Option(
            metavar="TIME",
            help="Count states as of this instant (default now), e.g. `--at 2026-10-01T00:00:00Z`.",
            show_default=False,
        ),
    ] = None,
    interval: Annotated[str, _interval_option("month")] = "month",
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Data-subject requests received in the period, by kind and month: closed on time, closed late,
    open (not yet due), overdue — as of --at.

    Every request received is in exactly one of the four states. `--json` also lists the requests
    not answered on time, by id.

    Example:

        consentgate report requests --from 2026-01-01 --to 2027-01-01 --json
    """
    from consentgate.reports.rates import parse_instant
    from consentgate.reports.requests import COUNTS, requests_report

    env, fmt = env_of(ctx), _format(as_json, as_csv)
    when = parse_instant(at, "--at") if at is not None else None
    period = _period(start, end, now=when)
    step = _interval(interval)
    report = requests_report(_engine(env), period, at=when, interval=step)
    columns = ("period", "kind", *COUNTS)
    _emit(env, fmt, report, report["rows"], columns, "Requests", "no request was received in the period")
    if fmt == "table" and report["late"]:
        late = ", ".join(f"{r['request_id']} ({r['state']}, {r['days_late']} days)" for r in report["late"])
        env.note(f"not answered on time: {late}", style="yellow")


def inventory(
    ctx: typer.Context,
    scan: Annotated[
        list[Path] | None,
        typer.Option(
            "--scan",
            metavar="FILE",
            help="Also report this scan file (`consentgate scan --out FILE`); repeat for more, "
            "e.g. `--scan scan.json`.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """What the latest scan of each site found: cookies, storage, third-party hosts, violations,
    unclassified and uncategorised items.

    Sites are the policy's scheduled start URLs (web.scan) with their newest scan in
    scan_history_dir, and any --scan FILE. A site never scanned says so, with no counts.

    Example:

        consentgate report inventory --scan scan.json
    """
    from consentgate.reports.inventory import inventory as compute

    env, fmt = env_of(ctx), _format(as_json, as_csv)
    files = list(scan or [])
    if not files and env.settings.scan_file is not None:
        files.append(env.settings.scan_file)
    report = compute(env.policy(), history_dir=env.settings.scan_history_dir, scan_files=files)
    columns = (
        "start_url", "scanned_at", "verdict", "cookies", "storage", "hosts", "violations", "unclassified",
        "uncategorised", "problem",
    )  # fmt: skip
    empty = "no site to report on: the policy schedules no scans (web.scan) and no --scan FILE was given"
    _emit(env, fmt, report, report["sites"], columns, "Website inventory", empty)


def audit(
    ctx: typer.Context,
    out: Annotated[
        Path,
        typer.Option("--out", metavar="FILE", help="Where to write the HTML pack, e.g. `--out audit.html`."),
    ],
    csv_dir: Annotated[
        Path | None,
        typer.Option(
            "--csv-dir",
            metavar="DIR",
            help="Also write every table of the pack as DIR/<table>.csv, e.g. `--csv-dir audit-csv`.",
            show_default=False,
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="TIME",
            help="Start of the period reports (banner, GPC, requests), default a year before --to; "
            "e.g. `--from 2026-01-01`.",
            show_default=False,
        ),
    ] = None,
    end: ToOpt = None,
    scan: Annotated[
        list[Path] | None,
        typer.Option(
            "--scan",
            metavar="FILE",
            help="Also include this scan file; repeat for more, e.g. `--scan scan.json`.",
            show_default=False,
        ),
    ] = None,
    no_verify: Annotated[
        bool,
        typer.Option(
            "--no-verify",
            help="Skip the full ledger verification (about a minute per million events); the pack then "
            "says the ledger was not verified and signs no checkpoint; e.g. for a draft of a huge ledger.",
        ),
    ] = False,
) -> None:
    """Write the audit pack: one self-contained HTML file for a regulator or auditor (policy fingerprint,
    notices with every version's wording, consent rates, banner outcomes, requests on time, latest
    scans, training runs and exports, the ledger head, its verification and a signed checkpoint).

    No script and no external reference: it opens offline and prints. With a ledger key configured and
    a verification that found nothing altered, a checkpoint is signed into the pack.

    Example:

        consentgate report audit --out audit.html --csv-dir audit-csv
    """
    from consentgate.reports.audit import AuditOptions, audit_document, render_pack, write_audit_csv
    from consentgate.reports.periods import Period
    from consentgate.reports.rates import parse_instant

    env = env_of(ctx)
    policy = env.policy()
    ledger = env.ledger(must_exist=True)
    stop = parse_instant(end, "--to") if end is not None else datetime.now(UTC)
    begin = parse_instant(start, "--from") if start is not None else None
    period = Period.of(begin, stop) if begin is not None else None
    files = list(scan or []) or ([env.settings.scan_file] if env.settings.scan_file is not None else [])
    options = AuditOptions(
        period=period,
        at=stop,
        signer=ledger.signer,
        verify=not no_verify,
        history_dir=env.settings.scan_history_dir,
        scan_files=tuple(files),
    )
    doc = audit_document(ledger.engine, policy, options)
    try:
        out.write_text(render_pack(doc), encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot write {out}: {exc.strerror or exc}") from exc
    env.out.print(f"wrote {out}", markup=False)
    if csv_dir is not None:
        written = write_audit_csv(doc, csv_dir)
        env.out.print(f"wrote {len(written)} CSV files to {csv_dir}", markup=False)
    for section in doc.sections:
        for fact, value in section.facts:
            if fact in ("Verification", "Checkpoint"):
                env.note(f"{fact}: {value}")
        for note in section.notes:
            if note.startswith("No checkpoint"):
                env.note(note, style="yellow")


# -- shared --------------------------------------------------------------------------------------------


def _format(as_json: bool, as_csv: bool) -> str:
    if as_json and as_csv:
        raise QueryError("choose one of --json and --csv")
    return "json" if as_json else "csv" if as_csv else "table"


def _engine(env: CliEnv) -> Any:
    return env.ledger(must_exist=True).engine


def _web_engine(env: CliEnv) -> Any:
    """The engine, after saying on stderr when the banner/GPC rollup is about to be built."""
    from consentgate.reports import web_rollup

    engine = _engine(env)
    if web_rollup.needs_rebuild(engine, env.policy()):
        env.note("counting the ledger's banner and GPC events once (later reports read what changed)")
    return engine


def _period(start: str | None, end: str | None, *, now: datetime | None = None) -> Period:
    from consentgate.reports.periods import Period
    from consentgate.reports.rates import parse_instant

    return Period.of(
        parse_instant(start, "--from") if start is not None else None,
        parse_instant(end, "--to") if end is not None else None,
        now=now,
    )


def _interval(value: str) -> Interval:
    from consentgate.reports.rates import Interval

    try:
        return Interval(value)
    except ValueError:
        raise QueryError(f"--interval {value!r} is not one of day, week, month") from None


def _emit(
    env: CliEnv,
    fmt: str,
    report: dict[str, Any],
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    title: str,
    empty: str,
) -> None:
    if fmt == "json":
        env.emit_json(report)
        return
    if fmt == "csv":
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(columns)
        out.writerows(["" if r.get(c) is None else r.get(c) for c in columns] for r in rows)
        return
    span = f" from {report['from']} to {report['to']}" if "from" in report else ""
    if not rows:
        env.out.print(f"{title}{span}: {empty}.", markup=False)
        return
    table = Table(title=f"{title}{span}", title_justify="left")
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*(_shown(r.get(c), c) for c in columns))
    env.out.print(table)


def _shown(value: Any, column: str) -> str:
    if value is None:
        return "not known" if column == "no_action" else "—"
    if column == "share" and isinstance(value, float):
        return f"{value:.1%}"
    return str(value)
