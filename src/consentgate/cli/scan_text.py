"""``scan-text``: identifiers found in free text, as offsets per record."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from consentgate.cli._classify import NerOpt, make_scanner, short_lang, write_lines
from consentgate.cli._jsonl import make_progress, read_jsonl
from consentgate.cli._shared import env_of
from consentgate.errors import BadInput


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
    scanner = make_scanner(ner_model, min_score)
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
                spans = [f.as_json() for f in scanner.scan(text, short_lang(rec_lang))]
            else:
                missing += 1
            lines.append(json.dumps({"id": rid, "spans": spans}, ensure_ascii=False))
            progress.advance(task)
    write_lines(out, lines)
    if missing:
        env.note(f"{missing} record(s) had no string field {field!r}; their spans are empty")
    if out != "-":
        env.note(f"scanned {len(lines)} record(s) into {out}")
