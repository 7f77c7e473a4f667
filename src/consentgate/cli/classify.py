"""``classify``: the identifier types each column holds, their share of rows, how personal each
column is.

Reading tables needs DuckDB (the ``classify`` extra); it is imported inside the command, so the
rest of the CLI starts fast without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from consentgate.cli._classify import NerOpt, SampleRowsOpt, make_scanner
from consentgate.cli._jsonl import make_progress
from consentgate.cli._shared import env_of


def classify(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(
            metavar="PATH",
            help="A Parquet, CSV, JSONL or DuckDB file, or a directory of them, e.g. `exports/`.",
        ),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON, e.g. for `jq '.columns.email.level'`.")
    ] = False,
    sample_rows: SampleRowsOpt = 10_000,
    ner_model: NerOpt = None,
) -> None:
    """Find the identifier types each column holds, their share of rows, and how personal each column is.

    Levels: non_personal, pseudonymous (online and internal identifiers), personal (direct
    identifiers), sensitive (GDPR Art. 9 special categories). Big inputs are sampled.

    Example:

        consentgate classify exports/customers.parquet --json

        consentgate classify warehouse.duckdb
    """
    from consentgate.classify.tables import classify_path

    env = env_of(ctx)
    scanner = make_scanner(ner_model)
    progress = make_progress(env.err, enabled=True)
    with progress:
        task = progress.add_task("classifying", total=None)

        def tick(table: str, column: str, done: int, total: int) -> None:
            progress.update(task, description=f"{table}: {column}", completed=done, total=total)

        result = classify_path(path, sample_rows=sample_rows, scanner=scanner, progress=tick)
    if as_json:
        env.emit_json(result.as_json())
        return
    for t in result.tables:
        sampled = f", {t.sampled_rows:,} sampled" if t.sampled_rows < t.total_rows else ""
        table = Table(
            title=f"{t.name} ({t.total_rows:,} rows{sampled}) — {t.level.value}", title_justify="left"
        )
        for col in ("column", "level", "types (share of non-empty rows)", "special categories"):
            table.add_column(col)
        for c in t.columns:
            info = c.as_json()
            types = ", ".join(f"{k} {v:.0%}" for k, v in info["types"].items()) or "—"
            style = {"sensitive": "bold red", "personal": "yellow", "pseudonymous": "cyan"}.get(
                info["level"], ""
            )
            table.add_row(
                c.name, Text(info["level"], style=style), types, ", ".join(info["special_categories"]) or ""
            )
        env.out.print(table)
