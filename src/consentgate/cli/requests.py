"""``requests file|list|show|verify|extend|reject|complete|report``: data-subject requests.

See docs/requests.md. ``requests file`` prints the new request's id alone on stdout, so a script can
capture it; ``requests complete ID`` carries the request out and records what happened.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from consentgate.cli._shared import CliEnv, env_of
from consentgate.errors import Incomplete
from consentgate.requests.models import RequestKind, Status

if TYPE_CHECKING:
    from consentgate.requests import DataRequest, RequestDesk
    from consentgate.requests.report_locale import ReportLocale

EXIT_INCOMPLETE = 4

requests_app = typer.Typer(
    help="Data-subject requests: access, object, withdraw, erase, opt_out.\n\n"
    "Each has a status (received → verified → in_progress → completed, or rejected with a reason) "
    "and a due date (one month; `extend` adds two with a reason; opt_out: 15 business days).\n\n"
    "Example:\n\n    ID=$(consentgate requests file --kind erase --subject user-42)\n\n"
    "    consentgate requests complete $ID",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

RequestId = Annotated[
    str,
    typer.Argument(metavar="ID", help="The request's id, e.g. `req-3f9a1c2b7d4e5f60`.", show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout, e.g. for `jq`.")]
ReasonOpt = Annotated[
    str,
    typer.Option(metavar="TEXT", help="Why, as the person will be told, e.g. `--reason 'many sources'`."),
]

LocaleOpt = Annotated[
    str | None,
    typer.Option(
        metavar="LOCALE",
        help="The person's language for the report's own words, dates and numbers (BCP 47), e.g. "
        "`--locale de` or `--locale pt-BR`; default: the policy's default locale. Notice wording and "
        "purpose titles are shown as recorded. A language the report lacks gives English, and says so.",
        show_default=False,
    ),
]


def _report_locale(env: CliEnv, locale: str | None, desk: RequestDesk) -> ReportLocale:
    """The locale a report is written in; a malformed tag is refused rather than silently ignored."""
    import re

    from consentgate.policy.locales import LOCALE_PATTERN
    from consentgate.requests.report_locale import FALLBACK, choose

    if locale is not None and not re.match(LOCALE_PATTERN, locale):
        raise typer.BadParameter(
            f"{locale!r} is not a language tag; use e.g. de, fr-CA or pt-BR", param_hint="--locale"
        )
    words = choose(locale, None, desk.service.policy.web.default_locale)
    if words.fell_back:
        env.note(FALLBACK.format(requested=locale))
    return words


def _desk(env: CliEnv, *, appends: bool = False) -> RequestDesk:
    from consentgate.requests import RequestDesk

    service = env.service(must_exist=True, appends=appends)
    return RequestDesk(service, base_dir=Path(env.settings.policy).resolve().parent)


def _show(env: CliEnv, req: DataRequest, as_json: bool) -> None:
    if as_json:
        env.emit_json(req.to_json(today=datetime.now(UTC).date()))
        return
    env.out.print(f"[bold]{req.request_id}[/]  {req.kind.value}  {req.status.value}")
    env.out.print(f"subject   {req.subject}")
    if req.purposes:
        env.out.print(f"purposes  {', '.join(req.purposes)}")
    env.out.print(f"received  {req.received_at.isoformat()} via {req.channel}")
    due = req.due.isoformat() + (f" (extended: {req.extension_reason})" if req.extended_due_on else "")
    env.out.print(f"due       {due}")
    if req.verified_by:
        env.out.print(f"verified  {req.verified_by}")
    if req.reason:
        env.out.print(f"reason    {req.reason}")
    for entry in req.log:
        env.out.print(f"  {entry.at.isoformat()}  {entry.status.value:<11} {entry.actor}  {entry.note or ''}")
    if req.outcome:
        import json

        env.out.print("outcome   " + json.dumps(req.outcome, indent=2, default=str))


@requests_app.command("file")
def file_(
    ctx: typer.Context,
    kind: Annotated[RequestKind, typer.Option(help="What the person asks, e.g. `--kind erase`.")],
    subject: Annotated[
        str,
        typer.Option(
            metavar="ID", help="The person's identifier, e.g. `--subject user-42`.", show_default=False
        ),
    ],
    purpose: Annotated[
        list[str] | None,
        typer.Option(
            "--purpose",
            metavar="PURPOSE",
            help="For object, withdraw and opt_out: a purpose it covers (repeat it); "
            "none means every AI purpose; e.g. `--purpose marketing`.",
            show_default=False,
        ),
    ] = None,
    verified_by: Annotated[
        str,
        typer.Option(
            metavar="HOW",
            help="How you checked the requester's identity, e.g. `--verified-by 'signed-in account'`.",
        ),
    ] = "operator (cli)",
    unverified: Annotated[
        bool,
        typer.Option(
            "--unverified",
            help="File it as received, identity still to be checked (`requests verify`), "
            "e.g. for a request by email.",
        ),
    ] = False,
    channel: Annotated[
        str, typer.Option(metavar="WORD", help="How it arrived, e.g. `--channel email`.")
    ] = "cli",
    note: Annotated[
        str | None,
        typer.Option(metavar="TEXT", help="A note for the log, e.g. a ticket number.", show_default=False),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """File a request and print its id on stdout.

    Example:

        consentgate requests file --kind object --subject user-42
    """
    env = env_of(ctx)
    req = _desk(env, appends=True).file(
        kind,
        subject,
        purposes=purpose or [],
        channel=channel,
        verified_by=None if unverified else verified_by,
        actor="cli",
        note=note,
    )
    if as_json:
        env.emit_json(req.to_json())
    else:
        typer.echo(req.request_id)
        env.note(f"{req.kind.value} request {req.status.value}, due {req.due.isoformat()}")


@requests_app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[
        list[Status] | None, typer.Option(help="Only these statuses (repeat it), e.g. `--status verified`.")
    ] = None,
    kind: Annotated[RequestKind | None, typer.Option(help="Only this kind, e.g. `--kind erase`.")] = None,
    subject: Annotated[
        str | None,
        typer.Option(
            metavar="ID", help="Only this person's requests, e.g. `--subject user-42`.", show_default=False
        ),
    ] = None,
    overdue: Annotated[
        bool,
        typer.Option("--overdue", help="Only open requests past their due date, e.g. for a daily check."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """List requests, oldest first.

    Example:

        consentgate requests list --overdue
    """
    env = env_of(ctx)
    desk = _desk(env)
    found = desk.find(status=status or [], kind=kind, subject=subject, overdue=overdue)
    today = desk.today()
    if as_json:
        env.emit_json([r.to_json(today=today) for r in found])
        return
    if not found:
        env.note("no requests" + (" overdue" if overdue else ""))
        return
    table = Table()
    table.add_column("id", no_wrap=True, min_width=20)
    for name, width in (("kind", 8), ("status", 11), ("received", 10), ("due", 10)):
        table.add_column(name, no_wrap=True, min_width=width)
    table.add_column("subject", overflow="ellipsis", no_wrap=True, max_width=40)
    for r in found:
        due = r.due.isoformat() + (" OVERDUE" if r.overdue(today) else "")
        table.add_row(
            r.request_id, r.kind.value, r.status.value, r.received_at.date().isoformat(), due, r.subject
        )
    env.out.print(table)


@requests_app.command("show")
def show(ctx: typer.Context, request_id: RequestId, as_json: JsonOpt = False) -> None:
    """Show one request with its log and outcome.

    Example:

        consentgate requests show req-3f9a1c2b7d4e5f60
    """
    env = env_of(ctx)
    _show(env, _desk(env).get(request_id), as_json)


@requests_app.command("verify")
def verify(
    ctx: typer.Context,
    request_id: RequestId,
    method: Annotated[
        str, typer.Option(metavar="HOW", help="How the identity was checked, e.g. `--method 'email link'`.")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Record that the requester's identity was checked.

    Example:

        consentgate requests verify req-3f9a1c2b7d4e5f60 --method "signed-in account"
    """
    env = env_of(ctx)
    _show(env, _desk(env).verify(request_id, method=method, actor="cli"), as_json)


@requests_app.command("extend")
def extend(
    ctx: typer.Context,
    request_id: RequestId,
    reason: ReasonOpt,
    as_json: JsonOpt = False,
) -> None:
    """Extend the due date by two further months (once, within the first month, with a reason).

    Example:

        consentgate requests extend req-3f9a1c2b7d4e5f60 --reason "records in 14 systems"
    """
    env = env_of(ctx)
    _show(env, _desk(env).extend(request_id, reason=reason, actor="cli"), as_json)


@requests_app.command("reject")
def reject(
    ctx: typer.Context,
    request_id: RequestId,
    reason: ReasonOpt,
    as_json: JsonOpt = False,
) -> None:
    """Reject a request, with the reason the person will be told.

    Example:

        consentgate requests reject req-3f9a1c2b7d4e5f60 --reason "identity could not be verified"
    """
    env = env_of(ctx)
    _show(env, _desk(env).reject(request_id, reason=reason, actor="cli"), as_json)


@requests_app.command("complete")
def complete(
    ctx: typer.Context,
    request_id: RequestId,
    subject: Annotated[
        str | None,
        typer.Option(
            metavar="ID",
            help="The person's identifier, needed only for a request filed after they were erased, "
            "e.g. `--subject user-42`.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="access: also write the report here (`.html` for the readable page, else JSON), "
            "e.g. `--out report.html`.",
            show_default=False,
        ),
    ] = None,
    locale: LocaleOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Carry out a request and record the outcome: an access report, objection or withdrawal events,
    or an erasure (erase event, suppression, records deleted in every registered source, ledger
    identifiers pseudonymised).

    An erasure that cannot reach a source leaves the request in_progress, says which source and why,
    and exits with 4; run the same command again once the source is back.

    Example:

        consentgate requests complete req-3f9a1c2b7d4e5f60
    """
    from consentgate.cli._errors import report_error

    env = env_of(ctx)
    desk = _desk(env, appends=True)
    words = _report_locale(env, locale, desk)
    written: list[dict[str, Any]] = []
    try:
        req = desk.complete(request_id, actor="cli", subject=subject, on_report=written.append, locale=words)
    except Incomplete as exc:
        report_error("Incomplete", exc.message)
        raise typer.Exit(EXIT_INCOMPLETE) from None
    if out is not None and written:
        out.write_text(_render(written[0], html=_is_html(out)), encoding="utf-8")
    _show(env, req, as_json)


@requests_app.command("report")
def report(
    ctx: typer.Context,
    subject: Annotated[
        str,
        typer.Option(
            metavar="ID", help="The person's identifier, e.g. `--subject user-42`.", show_default=False
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Write here instead of stdout (`.html` for the page), e.g. `--out user-42.html`.",
            show_default=False,
        ),
    ] = None,
    html: Annotated[
        bool, typer.Option("--html", help="Print the readable HTML page instead of JSON, e.g. to mail it.")
    ] = False,
    locale: LocaleOpt = None,
) -> None:
    """Print a person's access report (consent history, purposes, sources, training runs, vendors).

    Example:

        consentgate requests report --subject user-42 --out user-42.html --locale de
    """
    from consentgate.requests import access_report

    env = env_of(ctx)
    desk = _desk(env)
    body = access_report(desk, subject, locale=_report_locale(env, locale, desk))
    if out is not None:
        out.write_text(_render(body, html=_is_html(out)), encoding="utf-8")
        env.note(f"wrote {out}")
    else:
        typer.echo(_render(body, html=html), nl=False)


def _is_html(path: Path) -> bool:
    return path.suffix.lower() in (".html", ".htm")


def _render(report: dict[str, Any], *, html: bool) -> str:
    """The report as the page, or as JSON (plain, indented: what `jq` and an archive want)."""
    import json

    from consentgate.requests import report_html

    return report_html(report) if html else json.dumps(report, indent=2, ensure_ascii=False) + "\n"
