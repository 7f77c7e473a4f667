"""``consentgate report …``: reports for the people who run the consent programme (docs/reports.md).

``report consent-rates`` prints a table by default, ``--json`` or ``--csv`` for machines. Other
reports join this group as commands of ``report_app``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from consentgate.cli._report_ops import register
from consentgate.cli._shared import CliEnv, env_of
from consentgate.errors import QueryError

if TYPE_CHECKING:
    from consentgate.reports import RateReport

report_app = typer.Typer(
    help="Reports for a privacy team or an auditor: consent rates, banner outcomes, GPC, requests, "
    "website inventory, the audit pack.\n\n"
    "Example:\n\n    consentgate report consent-rates --by purpose,region",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


@report_app.command("consent-rates")
def consent_rates(
    ctx: typer.Context,
    at: Annotated[
        str | None,
        typer.Option(
            metavar="TIME",
            help="The instant to report on (default now): ISO 8601 with a zone, or a date for its "
            "midnight in --tz, e.g. `--at 2026-07-01T00:00:00Z` or `--at 2026-07-01`.",
            show_default=False,
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="TIME",
            help="First instant of a series (with --to and --interval), e.g. `--from 2026-05-01`.",
            show_default=False,
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--to",
            metavar="TIME",
            help="Last instant a series may reach (included when a step lands on it), "
            "e.g. `--to 2026-05-31`.",
            show_default=False,
        ),
    ] = None,
    interval: Annotated[
        str | None,
        typer.Option(
            metavar="day|week|month",
            help="Step of a series, counted on the calendar of --tz, e.g. `--interval week`.",
            show_default=False,
        ),
    ] = None,
    by: Annotated[
        str,
        typer.Option(
            metavar="FIELDS",
            help="Group rows by these, comma-separated: purpose (always), region, notice_version, source; "
            "e.g. `--by purpose,region,notice_version`.",
        ),
    ] = "purpose,region",
    tz: Annotated[
        str,
        typer.Option(
            metavar="ZONE",
            help="Time zone of dates without a time and of day/week/month steps, e.g. `--tz Europe/Berlin`.",
        ),
    ] = "UTC",
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"at", "rows": [...]} as JSON, e.g. for `jq`.')
    ] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print CSV with a header row, e.g. for a spreadsheet.")
    ] = False,
) -> None:
    """Consent rates: of the people who made a choice about each purpose by an instant, how many may be
    used for it then, by region (and notice version, source), at one instant or as a series.

    `subjects` are people (alias groups) with a choice about the purpose that occurred by the instant,
    erased people left out; `allowed` those the decision allows then; `rate` is allowed / subjects.

    Example:

        consentgate report consent-rates --at 2026-07-01T00:00:00Z --json

        consentgate report consent-rates --from 2026-05-01 --to 2026-05-31 --interval day --csv
    """
    from consentgate.reports import consent_rates as compute
    from consentgate.reports import rollup
    from consentgate.reports.rates import parse_instant, zone_of

    if as_json and as_csv:
        raise QueryError("choose one of --json and --csv")
    env = env_of(ctx)
    zone = zone_of(tz)
    policy = env.policy()
    engine = env.ledger(must_exist=True).engine
    if rollup.needs_rebuild(engine, policy):
        env.note("deciding every person in the ledger once for this policy (later reports read what changed)")
    report = compute(
        engine,
        policy,
        at=parse_instant(at, "--at", zone) if at is not None else None,
        start=parse_instant(start, "--from", zone) if start is not None else None,
        end=parse_instant(end, "--to", zone) if end is not None else None,
        interval=interval,
        by=by,
        tz=zone,
    )
    if as_json:
        env.emit_json(report.as_json())
    elif as_csv:
        report.write_csv(sys.stdout)
    else:
        _print_table(env, report)


def _print_table(env: CliEnv, report: RateReport) -> None:
    s = report.series
    if s is not None:
        span = f"from {s.start.isoformat()} to {s.end.isoformat()}"
        title = f"Consent rates {span}, every {s.interval.value} ({s.tz})"
    else:
        title = f"Consent rates at {report.at.isoformat()}"
    if not report.rows:
        env.out.print(f"{title}: no one had made a choice about any purpose by then.", markup=False)
        return
    table = Table(title=title, title_justify="left")
    for name in report.columns():
        table.add_column(name, justify="right" if name in ("subjects", "allowed", "rate") else "left")
    for row in report.rows:
        cells = []
        for name, value in report.row_json(row).items():
            if name == "rate":
                cells.append(f"{value:.1%}" if value is not None else "no subjects")
            elif value is None:
                cells.append("—")
            else:
                cells.append(str(value))
        table.add_row(*cells)
    env.out.print(table)


# banner, gpc, requests, inventory and audit (cli/_report_ops.py).
register(report_app)
