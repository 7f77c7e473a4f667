"""``ledger verify``, ``ledger checkpoint``, ``ledger head`` and ``ledger signals``: is the evidence
intact, and provably so, and does it hold signals that no erasure can reach?"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from consentgate.cli._shared import env_of
from consentgate.errors import BadInput
from consentgate.ledger.events import ConsentEvent
from consentgate.ledger.signals import ALLOWED, outside_schema
from consentgate.ledger.signing import PublicKeys
from consentgate.ledger.verify import Checkpoint

# Exit codes of `ledger verify` (docs/cli.md): 0 only when the answer is an assurance.
EXIT_BROKEN = 1
EXIT_UNSIGNED = 3

ledger_app = typer.Typer(
    help="Inspect the append-only, hash-chained ledger.\n\nExample:\n\n    consentgate ledger verify",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def _read_checkpoint(path: Path) -> Checkpoint:
    try:
        return Checkpoint.from_json(json.loads(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise BadInput(f"cannot read checkpoint {path}: {exc.strerror or exc}") from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadInput(
            f"{path} is not a ledger checkpoint (`consentgate ledger checkpoint --out FILE`)"
        ) from exc


@ledger_app.command("verify")
def verify(
    ctx: typer.Context,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print {"ok", "signed", "intact", "checked", "head", "signature", "first_bad"} as JSON, '
            "e.g. for a monitoring job.",
        ),
    ] = False,
    public_key: Annotated[
        list[Path] | None,
        typer.Option(
            "--public-key",
            metavar="FILE",
            help="The ledger's public key(s) (PEM) you hold, e.g. `--public-key ledger.pub`; repeatable. "
            "Default: the .pub file beside the configured ledger key.",
            show_default=False,
        ),
    ] = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint",
            metavar="FILE",
            help="Also fail unless the ledger still extends this signed head, "
            "e.g. `--checkpoint head-2026-12-01.json` (catches cut-off and rewritten ends).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Re-hash both chains, hold the side tables to them and check the seals' signatures.

    Exit 0: intact and signed by a key you trust. Exit 1: something was altered, deleted, added or
    cut off (the first finding is named), or the ledger no longer extends the checkpoint. Exit 3:
    every hash is intact but the head is not proven by a signature (no key, or an unsigned tail):
    anyone with write access to the database could have rewritten it.

    Example:

        consentgate --db consent/consentgate.db ledger verify --public-key consent/ledger.pub
    """
    env = env_of(ctx)
    keys = PublicKeys.load(public_key) if public_key else None
    cp = _read_checkpoint(checkpoint) if checkpoint is not None else None
    report = env.ledger(must_exist=True).verify(keys=keys, checkpoint=cp)
    if as_json:
        env.emit_json(report.to_json())
    elif report.intact:
        env.out.print(
            Text(
                f"ledger intact: {report.checked} events, head {report.head_hash} (seq {report.head_seq}); "
                f"{report.signature_note}" + ("; extends the checkpoint" if cp else ""),
                style="green",
            )
        )
    elif report.ok:
        env.err.print(
            Text(
                f"hashes intact ({report.checked} events, head seq {report.head_seq}), "
                f"but {report.signature_note}",
                style="bold yellow",
            )
        )
    else:
        where = [f"table {report.table}"] if report.table else []
        if report.bad_seq is not None:
            where.append(f"seq {report.bad_seq}")
        if report.bad_event is not None:
            where.append(f"event {report.bad_event}")
        at = f" ({', '.join(where)})" if where else ""
        env.err.print(Text(f"ledger BROKEN{at}: {report.problem}", style="bold red"))
        env.err.print(f"{report.checked} events before it verified; the head records seq {report.head_seq}")
    if not report.ok:
        raise typer.Exit(EXIT_BROKEN)
    if not report.signed:
        raise typer.Exit(EXIT_UNSIGNED)


@ledger_app.command("checkpoint")
def checkpoint(
    ctx: typer.Context,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            metavar="FILE",
            help="Where to write the signed head (JSON), e.g. `--out head-2026-12-07.json`.",
            show_default=False,
        ),
    ],
) -> None:
    """Sign both chain heads with the ledger key and write them to FILE, to publish or keep elsewhere.

    Later, `ledger verify --checkpoint FILE` fails if the ledger no longer extends it: events cut off
    the end or a rewritten suffix, even by someone who also moved the head back.

    Example:

        consentgate ledger checkpoint --out /mnt/audit/head-2026-12-07.json
    """
    env = env_of(ctx)
    ledger = env.ledger(must_exist=True)
    report = ledger.verify()
    if not report.ok:
        raise BadInput(
            f"refusing to sign a checkpoint of a broken ledger: {report.problem} "
            "(see `consentgate ledger verify`)"
        )
    cp = ledger.checkpoint()
    out.write_text(json.dumps(cp.to_json(), indent=2) + "\n", encoding="utf-8")
    env.out.print(f"wrote {out}: events seq {cp.events_seq}, records seq {cp.records_seq}, key {cp.key_id}")


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
