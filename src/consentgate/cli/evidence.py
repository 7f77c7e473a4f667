"""``evidence``: the proof of what a person chose, with the wording they saw and the chain's check."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from consentgate.cli._shared import env_of, parse_at
from consentgate.errors import UnknownSubject
from consentgate.service import unknown_subject_message


def evidence(
    ctx: typer.Context,
    subject: Annotated[
        str,
        typer.Option(metavar="SUBJECT", help="The person to prove choices for, e.g. `--subject user-42`."),
    ],
    at: Annotated[
        str | None,
        typer.Option(
            metavar="ISO_TIME",
            help="Time the 'current' decisions are for (default now), e.g. `--at 2026-07-01T00:00:00Z`.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the full evidence record (ISO/IEC TS 27560 field names), "
            "e.g. to answer an access request.",
        ),
    ] = False,
) -> None:
    """Show the evidence of what a person chose: every event with the exact wording shown, the
    current decision per purpose, and whether the hash chain of those events is intact.

    Exits 5 when the ledger knows nothing about the identifier (no events, links or erasure): there
    is then nothing to prove, and the policy's defaults are not a record of a choice.

    Example:

        consentgate evidence --subject user-42 --json > evidence-user-42.json
    """
    env = env_of(ctx)
    when = parse_at(at) if at is not None else None
    service = env.service(must_exist=True)
    record = service.evidence(subject, when)
    if not record["known"]:
        raise UnknownSubject(unknown_subject_message(subject), subject=subject)
    if as_json:
        env.emit_json(record)
        return
    _print_summary(ctx, record)


def _print_summary(ctx: typer.Context, record: dict[str, Any]) -> None:
    env = env_of(ctx)
    out = env.out
    out.print(Text(f"evidence for {record['pii_principal_id']}", style="bold"))
    ids = ", ".join(record["identifiers"])
    out.print(f"identifiers: {ids}")
    controllers = record["pii_controllers"]
    if controllers:
        first = controllers[0]
        out.print(f"controller: {first['party_name']} ({first.get('party_contact') or 'no contact'})")
    chain = record["chain"]
    if chain["intact"] is None:
        out.print("hash chain: nothing to verify (no events under these identifiers)")
    elif chain["intact"]:
        n = chain["checked_events"]
        out.print(Text(f"hash chain: intact for these {n} event{'' if n == 1 else 's'}", style="green"))
    else:
        out.print(Text(f"hash chain: BROKEN — {chain['problem']}", style="bold red"))
    out.print(f"ledger head: seq {chain['head']['seq']}, {chain['head']['hash']}")

    events = record["events"]
    out.print(Text(f"\n{len(events)} event(s):", style="bold"))
    for ev in events:
        what = ev["action"] + (f" {ev['purpose']}" if ev["purpose"] else "")
        where = ", ".join(x for x in (ev["region"], ev["language"], ev["collection_method"]) if x)
        out.print(f"  {ev['event_time']}  {what}  ({where})  event {ev['event_id']}")
        notice = ev["privacy_notice"]
        if notice:
            out.print(f"    notice {notice['id']} v{notice['version']}", end="")
            if notice["text"] is None:  # the wording is not in the ledger (an import without it)
                out.print(": wording not stored")
                continue
            shown = notice["locale"]
            if not ev["language_recorded"]:  # never present a default wording as the one read
                shown = f"language not recorded; the policy's {shown} wording"
            out.print(Text(f" [{shown}]: "), end="")  # Text: Rich would read [de] as markup
            out.print(Text(f"“{notice['text']}”", style="italic"))

    table = Table(title="current decisions", title_justify="left")
    for column in ("purpose", "allowed", "basis", "region", "reason"):
        table.add_column(column, overflow="fold")
    for pid, d in record["current"].items():
        table.add_row(
            pid,
            Text("yes" if d["allowed"] else "no", style="green" if d["allowed"] else "red"),
            d["basis"] or "",
            d["region"],
            d["reason"],
        )
    out.print()
    out.print(table)
