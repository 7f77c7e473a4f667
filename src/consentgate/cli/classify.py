"""``classify``, ``scan-text``, ``datamap`` and ``redact``: what the data really holds, on the command line.

Reading tables needs DuckDB (the ``classify`` extra); it is imported inside the commands, so the
rest of the CLI starts fast without it.
"""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from consentgate.cli._jsonl import make_progress, read_jsonl
from consentgate.cli._shared import CliEnv, env_of
from consentgate.errors import BadInput


class OutputFormat(StrEnum):
    json = "json"
    markdown = "markdown"
    html = "html"


class RedactMode(StrEnum):
    placeholder = "placeholder"
    pseudonym = "pseudonym"


class RedactEngine(StrEnum):
    arrow = "arrow"
    polars = "polars"
    pandas = "pandas"
    duckdb = "duckdb"


SampleRowsOpt = Annotated[
    int,
    typer.Option(
        min=1,
        metavar="N",
        help="Rows sampled per table (reservoir sample of bigger inputs), e.g. `--sample-rows 5000`.",
    ),
]
NerOpt = Annotated[
    str | None,
    typer.Option(
        metavar="MODEL",
        help="An installed spaCy model (package or directory) whose PERSON entities are added; never "
        "downloaded, e.g. `--ner-model en_core_web_sm`.",
        show_default=False,
    ),
]


def _scanner(ner_model: str | None, min_score: float = 0.4) -> Any:
    from consentgate.classify import Scanner
    from consentgate.classify.ner import load_ner

    return Scanner(min_score=min_score, ner=load_ner(ner_model) if ner_model else None)


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
    scanner = _scanner(ner_model)
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


def scan_text(
    ctx: typer.Context,
    file: Annotated[
        str, typer.Argument(metavar="FILE.jsonl", help="JSON Lines input, `-` for stdin, e.g. `chats.jsonl`.")
    ],
    field: Annotated[
        str, typer.Option(metavar="NAME", help="The field holding the text, e.g. `--field text`.")
    ] = "text",
    out: Annotated[
        str,
        typer.Option(
            metavar="FILE.jsonl",
            help="Where to write one result per record (`-` for stdout), e.g. `--out spans.jsonl`.",
        ),
    ] = "-",
    id_field: Annotated[
        str,
        typer.Option(metavar="NAME", help="The field holding the record id, e.g. `--id-field message_id`."),
    ] = "id",
    lang_field: Annotated[
        str,
        typer.Option(
            metavar="NAME",
            help="The field holding the language (en, de, fr, es), if any, e.g. `--lang-field locale`.",
        ),
    ] = "lang",
    lang: Annotated[
        str | None,
        typer.Option(
            metavar="LANG",
            help="Language of every record when records carry none, e.g. `--lang de`.",
            show_default=False,
        ),
    ] = None,
    min_score: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0, metavar="S", help="Drop findings scored below this, e.g. `--min-score 0.6`."
        ),
    ] = 0.4,
    ner_model: NerOpt = None,
) -> None:
    """Find identifiers in free text: one `{"id", "spans": [{"start", "end", "type", "score"}]}` per record.

    Offsets are Unicode code points, end exclusive. Records without the text field get empty spans
    (and a note on stderr); the id falls back to the line number.

    Example:

        consentgate scan-text chats.jsonl --field text --out spans.jsonl
    """
    env = env_of(ctx)
    scanner = _scanner(ner_model, min_score)
    data = read_jsonl(file, env.err, what="records")
    if data.problems:
        where, msg = data.problems[0]
        raise BadInput(
            f"{file} {where}: {msg}"
            + (f" (and {len(data.problems) - 1} more)" if len(data.problems) > 1 else "")
        )
    missing = 0
    lines: list[str] = []
    with make_progress(env.err, enabled=data.big) as progress:
        task = progress.add_task("scanning", total=len(data.rows))
        for number, row in data.rows:
            record = row if isinstance(row, dict) else {}
            text = record.get(field)
            rid = record.get(id_field, number)
            spans: list[dict[str, Any]] = []
            if isinstance(text, str):
                rec_lang = record.get(lang_field) if isinstance(record.get(lang_field), str) else lang
                spans = [f.as_json() for f in scanner.scan(text, _short_lang(rec_lang))]
            else:
                missing += 1
            lines.append(json.dumps({"id": rid, "spans": spans}, ensure_ascii=False))
            progress.advance(task)
    _write_lines(out, lines)
    if missing:
        env.note(f"{missing} record(s) had no string field {field!r}; their spans are empty")
    if out != "-":
        env.note(f"scanned {len(lines)} record(s) into {out}")


def _short_lang(value: str | None) -> str | None:
    if not value:
        return None
    short = value.split("-")[0].split("_")[0].lower()
    return short if short in ("en", "de", "fr", "es") else None


def _write_lines(out: str, lines: list[str]) -> None:
    body = "".join(line + "\n" for line in lines)
    if out == "-":
        typer.echo(body, nl=False)
        return
    target = Path(out)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(body, encoding="utf-8")
    os.replace(tmp, target)


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
    _write_lines(str(out), lines)
    env.note(f"redacted {len(lines)} record(s) into {out}")
