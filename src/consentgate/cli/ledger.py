"""``ledger verify`` and ``ledger head``: is the evidence intact, and what state is it in?"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from consentgate.cli._shared import env_of

ledger_app = typer.Typer(
    help="Inspect the append-only, hash-chained ledger.\n\nExample:\n\n    consentgate ledger verify",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


@ledger_app.command("verify")
def verify(
    ctx: typer.Context,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print {"ok", "checked", "head", "first_bad"} as JSON, e.g. for a monitoring job.',
        ),
    ] = False,
) -> None:
    """Re-hash every event and check each links to the one before; exit 1 naming the first bad event.

    Finds rows that were altered, deleted, reordered or cut off the end, and stored notice wording
    that was edited.

    Example:

        consentgate --db consent/consentgate.db ledger verify
    """
    env = env_of(ctx)
    report = env.ledger(must_exist=True).verify()
    if as_json:
        env.emit_json(report.to_json())
    elif report.ok:
        env.out.print(
            Text(
                f"ledger intact: {report.checked} events, head {report.head_hash} (seq {report.head_seq})",
                style="green",
            )
        )
    else:
        where = []
        if report.bad_seq is not None:
            where.append(f"seq {report.bad_seq}")
        if report.bad_event is not None:
            where.append(f"event {report.bad_event}")
        at = f" at {', '.join(where)}" if where else ""
        env.err.print(Text(f"ledger BROKEN{at}: {report.problem}", style="bold red"))
        env.err.print(f"{report.checked} events before it verified; the head records seq {report.head_seq}")
    if not report.ok:
        raise typer.Exit(1)


@ledger_app.command("head")
def head(
    ctx: typer.Context,
    as_json: Annotated[
        bool,
        typer.Option("--json", help='Print {"seq", "hash", "events"} as JSON, e.g. to pin in a manifest.'),
    ] = False,
) -> None:
    """Print the chain head (last sequence number and hash); pin it to prove nothing changed later.

    Example:

        consentgate ledger head --json
    """
    env = env_of(ctx)
    ledger = env.ledger(must_exist=True)
    seq, digest = ledger.head()
    if as_json:
        env.emit_json({"seq": seq, "hash": digest, "events": ledger.count()})
    else:
        env.out.print(f"seq {seq} {digest}")


def register(app: typer.Typer) -> None:
    app.add_typer(ledger_app, name="ledger")
