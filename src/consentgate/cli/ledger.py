"""``ledger verify``, ``ledger head`` and ``ledger signals``: is the evidence intact, what state is it
in, and does it hold signals that no erasure can reach?"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import typer
from rich.text import Text

from consentgate.cli._shared import env_of
from consentgate.ledger.events import ConsentEvent
from consentgate.ledger.signals import ALLOWED, outside_schema

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


@ledger_app.command("signals")
def signals(
    ctx: typer.Context,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print {"checked", "outside_schema": [{"seq", "event_id", "keys"}]}, e.g. for a records '
            "of processing inventory.",
        ),
    ] = False,
) -> None:
    """List events whose stored signals fall outside the closed schema; exit 1 if there are any.

    Ledgers written before the schema was closed may hold free-form signals (a note, an address).
    They sit under the chain hash, so neither an edit nor an erasure can remove them: this names
    them — sequence number, event id and the signal names, never their values — for your records.

    Example:

        consentgate ledger signals --json
    """
    env = env_of(ctx)
    ledger = env.ledger(must_exist=True)
    checked = 0

    def counted() -> Iterator[ConsentEvent]:
        nonlocal checked
        for event in ledger.iter_events():
            checked += 1
            yield event

    found = list(outside_schema(counted()))
    if as_json:
        rows = [{"seq": e.seq, "event_id": e.event_id, "keys": keys} for e, keys in found]
        env.emit_json({"checked": checked, "outside_schema": rows})
    elif not found:
        env.out.print(Text(f"signals fit the schema: {checked} events", style="green"))
    else:
        for e, keys in found:
            env.out.print(f"seq {e.seq} event {e.event_id}: {', '.join(keys)}")
        env.err.print(
            Text(
                f"{len(found)} of {checked} events hold signals outside the schema (allowed: "
                f"{', '.join(ALLOWED)}); they cannot be scrubbed, see docs/ledger.md",
                style="bold yellow",
            )
        )
    if found:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(ledger_app, name="ledger")
