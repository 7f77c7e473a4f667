"""``redact``: identifiers replaced by typed placeholders or consistent keyed pseudonyms."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from consentgate.cli._classify import write_lines
from consentgate.cli._jsonl import make_progress, read_jsonl
from consentgate.cli._shared import CliEnv, env_of
from consentgate.errors import BadInput


class RedactMode(StrEnum):
    placeholder = "placeholder"
    pseudonym = "pseudonym"


class RedactEngine(StrEnum):
    arrow = "arrow"
    polars = "polars"
    pandas = "pandas"
    duckdb = "duckdb"


def redact(
    ctx: typer.Context,
    input: Annotated[
        Path, typer.Argument(metavar="IN", help="A JSONL, Parquet or CSV file, e.g. `customers.parquet`.")
    ],
    out: Annotated[
        Path,
        typer.Option(
            metavar="OUT", help="Where to write the redacted copy (same formats), e.g. `--out clean.parquet`."
        ),
    ],
    field: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="Redact this text field of a JSONL file record by record, e.g. `--field text`.",
            show_default=False,
        ),
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option(
            metavar="COL[=TYPE],…",
            help="Columns to redact; `=TYPE` marks whole-value identifiers, otherwise the column is scanned "
            "as text (default: every column classification finds personal), "
            "e.g. `--columns email=EMAIL,notes`.",
            show_default=False,
        ),
    ] = None,
    mode: Annotated[
        RedactMode, typer.Option(help="Typed placeholders or keyed HMAC pseudonyms, e.g. `--mode pseudonym`.")
    ] = RedactMode.placeholder,
    key_env: Annotated[
        str,
        typer.Option(
            metavar="VAR",
            help="Environment variable holding the pseudonym key (≥ 16 bytes), e.g. `--key-env PSEUDO_KEY`.",
        ),
    ] = "CONSENTGATE_PSEUDONYM_KEY",
    engine: Annotated[
        RedactEngine, typer.Option(help="Engine for tables, e.g. `--engine polars`.")
    ] = RedactEngine.arrow,
) -> None:
    """Replace identifiers with typed placeholders ([EMAIL]) or consistent keyed pseudonyms (EMAIL_3f9a…).

    Pseudonyms are HMAC-SHA256 under a secret key: the same value gets the same token everywhere,
    and nobody without the key can reverse it. The key comes from an environment variable, never the
    command line.

    Example:

        consentgate redact chats.jsonl --field text --out chats.redacted.jsonl

        CONSENTGATE_PSEUDONYM_KEY=… consentgate redact customers.parquet --mode pseudonym --out pseudo.parquet
    """
    from consentgate.classify.redact import Mode, Redactor, key_from_env

    env = env_of(ctx)
    redactor = Redactor(Mode(mode.value), key_from_env(key_env) if mode is RedactMode.pseudonym else None)
    if field is not None:
        _redact_jsonl_field(env, input, out, field, redactor)
        return
    from consentgate.classify.redact_tables import parse_columns, redact_file

    cols = parse_columns(columns) if columns else None
    done = redact_file(input, out, redactor, cols, engine.value)
    env.note(f"redacted {', '.join(done) or 'no column'} into {out}")


def _redact_jsonl_field(env: CliEnv, input: Path, out: Path, field: str, redactor: Any) -> None:
    from consentgate.classify import Scanner

    scanner = Scanner()
    data = read_jsonl(str(input), env.err, what="records")
    if data.problems:
        where, msg = data.problems[0]
        raise BadInput(f"{input} {where}: {msg}")
    lines = []
    with make_progress(env.err, enabled=data.big) as progress:
        task = progress.add_task("redacting", total=len(data.rows))
        for _, row in data.rows:
            if isinstance(row, dict) and isinstance(row.get(field), str):
                row = {**row, field: redactor.text(row[field], scanner.scan(row[field]))}
            lines.append(json.dumps(row, ensure_ascii=False))
            progress.advance(task)
    write_lines(str(out), lines)
    env.note(f"redacted {len(lines)} record(s) into {out}")
