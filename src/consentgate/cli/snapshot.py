"""``consentgate snapshot``: every known identifier's decision for a purpose, written to Parquet.

The pipeline needs the ``pipeline`` extra (pyarrow); it is imported inside the command, so the rest
of the CLI starts fast and works without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from consentgate.cli._shared import CliEnv, env_of, parse_at
from consentgate.cli.options import AtOpt, PurposeOpt

if TYPE_CHECKING:
    from consentgate.pipeline import Snapshot


def snapshot(
    ctx: typer.Context,
    purpose: PurposeOpt,
    out: Annotated[
        Path,
        typer.Option(
            metavar="FILE.parquet",
            help="Where to write the snapshot (replaced atomically), e.g. `--out consent.parquet`.",
        ),
    ],
    at: AtOpt = None,
    previous: Annotated[
        Path | None,
        typer.Option(
            "--from",
            metavar="PREV.parquet",
            help="Bring this earlier snapshot up to date by reading only newer events (may be the same "
            "file as --out), e.g. `--from consent.parquet`.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the snapshot's metadata as JSON, e.g. for `jq .head_seq`."),
    ] = False,
) -> None:
    """Write every known identifier's decision for a purpose to Parquet (one row per subject and alias).

    Each row holds key, person, allowed, basis, region, reason, evidence_event and valid_until; the
    file's metadata names the ledger head (seq and hash), the time and the policy it reflects.

    Example:

        consentgate snapshot --purpose train_support_chatbot --out consent.parquet

        consentgate snapshot --purpose train_support_chatbot --from consent.parquet --out consent.parquet
    """
    from consentgate.pipeline import Snapshot, build_snapshot

    env = env_of(ctx)
    policy = env.policy()
    ledger = env.ledger(must_exist=True)
    prev = Snapshot.read(previous) if previous is not None else None
    snap = build_snapshot(policy, ledger, purpose, parse_at(at), previous=prev)
    snap.write(out)
    if as_json:
        env.emit_json({**snap.meta.to_json(), "file": str(out)})
    else:
        _describe_snapshot(env, snap, out)


def _describe_snapshot(env: CliEnv, snap: Snapshot, out: Path) -> None:
    m = snap.meta
    allowed = sum(1 for a in snap.table.column("allowed").to_pylist() if a)
    how = (
        f"incremental ({m.recomputed_persons} {'person' if m.recomputed_persons == 1 else 'people'} "
        "re-decided)"
        if m.built == "incremental"
        else "full" + (f" ({m.rebuild_reason})" if m.rebuild_reason else "")
    )
    text = Text()
    text.append(f"{out}: ", style="bold")
    text.append(
        f"{m.rows} identifiers of {m.persons} people for {m.purpose} as of {m.at.isoformat()}, "
        f"{allowed} allowed; unknown identifiers {'allowed' if m.default_allowed else 'denied'} "
        f"({m.default_basis}); ledger head {m.head_seq} {m.head_hash[:12]}…; {how}"
    )
    env.out.print(text)
