"""What the classifier commands share: their common options, the text scanner, output files.

The classifier (and DuckDB, for tables: the ``classify`` extra) is imported inside the functions, so
the rest of the CLI starts fast without it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

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


def make_scanner(ner_model: str | None, min_score: float = 0.4) -> Any:
    from consentgate.classify import Scanner
    from consentgate.classify.ner import load_ner

    return Scanner(min_score=min_score, ner=load_ner(ner_model) if ner_model else None)


def short_lang(value: str | None) -> str | None:
    if not value:
        return None
    short = value.split("-")[0].split("_")[0].lower()
    return short if short in ("en", "de", "fr", "es") else None


def write_lines(out: str, lines: list[str]) -> None:
    body = "".join(line + "\n" for line in lines)
    if out == "-":
        typer.echo(body, nl=False)
        return
    target = Path(out)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(body, encoding="utf-8")
    os.replace(tmp, target)
