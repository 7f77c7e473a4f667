"""``datamap``: the policy's sources joined with what their data holds, and where the two disagree."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from consentgate.cli._classify import SampleRowsOpt
from consentgate.cli._shared import env_of
from consentgate.errors import BadInput


class OutputFormat(StrEnum):
    json = "json"
    markdown = "markdown"
    html = "html"


def datamap(
    ctx: typer.Context,
    data: Annotated[
        list[str] | None,
        typer.Option(
            metavar="SOURCE=PATH",
            help="Data of a policy source to classify (repeatable; overrides the source's `location`), "
            "e.g. `--data support-chats=exports/chats.parquet`.",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="Output format, e.g. `--format html`.")
    ] = OutputFormat.json,
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Write to this file instead of stdout, e.g. `--out datamap.html`.",
            show_default=False,
        ),
    ] = None,
    sample_rows: SampleRowsOpt = 10_000,
) -> None:
    """Join the policy's sources with what their data holds: purposes fed (and their basis), data
    found, retention, vendors, and where declaration and data disagree.

    A source's data is its `location` in the policy (relative to the policy file) or `--data`.

    Example:

        consentgate datamap --format markdown --out datamap.md

        consentgate datamap --data support-chats=exports/chats.parquet --format html --out datamap.html
    """
    from consentgate.classify.datamap import build_datamap, source_location, to_html, to_markdown
    from consentgate.classify.tables import classify_path

    env = env_of(ctx)
    policy = env.policy()
    paths: dict[str, Path] = {}
    base = Path(env.settings.policy).resolve().parent
    for s in policy.sources:
        loc = source_location(s, base)
        if loc is not None:
            paths[s.id] = loc
    known = {s.id for s in policy.sources}
    for item in data or []:
        sid, sep, raw = item.partition("=")
        if not sep or not raw:
            raise BadInput(f"--data {item!r}: expected SOURCE=PATH, e.g. support-chats=chats.parquet")
        if sid not in known:
            raise BadInput(
                f"--data {item!r}: {sid!r} is not a source in the policy (known: {', '.join(sorted(known))})"
            )
        paths[sid] = Path(raw)
    classified = {}
    for sid, path in paths.items():
        env.note(f"classifying {sid}: {path}")
        classified[sid] = classify_path(path, sample_rows=sample_rows)
    dm = build_datamap(policy, classified)
    body = (
        json.dumps(dm, indent=2, ensure_ascii=False) + "\n"
        if fmt is OutputFormat.json
        else to_markdown(dm)
        if fmt is OutputFormat.markdown
        else to_html(dm)
    )
    if out is None:
        typer.echo(body, nl=False)
    else:
        out.write_text(body, encoding="utf-8")
        env.note(f"wrote the data map to {out}")
