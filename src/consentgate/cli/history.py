"""``history``: a person's events, in the order decisions read them."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from consentgate.cli._shared import env_of, event_json


def history(
    ctx: typer.Context,
    subject: Annotated[
        str,
        typer.Option(
            metavar="SUBJECT",
            help="The person, any of their linked identifiers works, e.g. `--subject user-42`.",
        ),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the events as a JSON list, e.g. for `jq '.[].action'`.")
    ] = False,
) -> None:
    """List a person's events in decision order (when they acted, then when it was recorded).

    Exits 5 when the ledger knows nothing about the identifier (no events, links or erasure).

    Example:

        consentgate history --subject user-42
    """
    env = env_of(ctx)
    service = env.service(must_exist=True)
    service.require_known(subject)
    events = service.history(subject)
    if as_json:
        env.emit_json([event_json(e) for e in events])
        return
    if not events:  # known through a link alone
        env.note(f"no events for {subject} or the identifiers linked to it")
        return
    table = Table(title=f"history of {subject} ({len(events)} events)", title_justify="left")
    for column in (
        "seq",
        "occurred at",
        "action",
        "purpose",
        "notice",
        "region",
        "locale",
        "source",
        "event id",
    ):
        table.add_column(column, overflow="fold")
    for e in events:
        notice = f"{e.notice_id} v{e.notice_version}" if e.notice_id else ""
        style = "green" if e.action.value == "grant" else "red"
        table.add_row(
            str(e.seq),
            e.occurred_at.isoformat(),
            Text(e.action.value, style=style),
            e.purpose or "(all)",
            notice,
            e.region or "",
            e.locale or "",
            e.source,
            e.event_id,
        )
    env.out.print(table)
