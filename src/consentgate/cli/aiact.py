"""``consentgate ai-act summary``: the EU AI Act public summary of training content (docs/aiact.md).

Exit 0 when every answer of the template is derived or declared; exit 3 when some are still to be
completed (the summary is written all the same, marked as a draft) — a gap is never a silent yes.
"""

from __future__ import annotations

import json
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from consentgate.cli._shared import env_of
from consentgate.errors import BadInput

if TYPE_CHECKING:
    from consentgate.reports.aiact import Summary

EXIT_INCOMPLETE = 3

ai_act_app = typer.Typer(
    help="EU AI Act: the public summary of a model's training content (Art. 53(1)(d)).\n\n"
    "Example:\n\n    consentgate ai-act summary --model support-bot --md --out summaries/",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


class Format(StrEnum):
    json = "json"
    md = "md"
    html = "html"


def _format(as_json: bool, as_md: bool, as_html: bool) -> Format:
    chosen = [f for f, on in ((Format.json, as_json), (Format.md, as_md), (Format.html, as_html)) if on]
    if len(chosen) > 1:
        raise BadInput("choose one of --json, --md and --html")
    return chosen[0] if chosen else Format.md


@ai_act_app.command("summary")
def summary(
    ctx: typer.Context,
    model: Annotated[
        str,
        typer.Option(
            metavar="NAME",
            help="The model: its training runs' model name, versions included, e.g. `--model support-bot`.",
        ),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Write JSON (field objects with provenance), e.g. for `jq`.")
    ] = False,
    as_md: Annotated[bool, typer.Option("--md", help="Write Markdown (the default), e.g. `--md`.")] = False,
    as_html: Annotated[
        bool, typer.Option("--html", help="Write one self-contained HTML page, e.g. `--html --out s.html`.")
    ] = False,
    answers: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="The provider's declared answers (YAML); default ai-act-answers.yaml next to the "
            "policy when it exists, e.g. `--answers config/ai-act-answers.yaml`.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        str | None,  # text, not Path: a trailing "/" (a directory to create) must survive
        typer.Option(
            metavar="FILE|DIR",
            help="Write here instead of stdout; a directory keeps every earlier summary and adds a new "
            "file named by model and time, e.g. `--out summaries/`.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Build the public summary of a model's training content (EU AI Act, Commission template of
    24 July 2025) from its training runs, their datasets and the policy's sources.

    Every answer says where it came from: derived, declared (the answers file) or to be completed.
    Exits 3 when any answer is still to be completed (the summary is still written), 1 when no
    training run recorded the model or a declared answer contradicts a derived one.

    Example:

        consentgate ai-act summary --model support-bot --html --out summaries/
    """
    from consentgate.reports.aiact import (
        DEFAULT_NAME,
        build_summary,
        load_answers,
        render_html,
        render_markdown,
    )

    env = env_of(ctx)
    fmt = _format(as_json, as_md, as_html)
    policy = env.policy()
    policy_dir = Path(env.settings.policy).parent
    if answers is None and (policy_dir / DEFAULT_NAME).is_file():
        answers = policy_dir / DEFAULT_NAME
    given = load_answers(answers) if answers is not None else {}
    built = build_summary(
        env.ledger(must_exist=True).engine,
        policy,
        model,
        answers=given,
        answers_file=str(answers) if answers is not None else "answers",
        policy_dir=policy_dir,
    )
    if fmt is Format.json:
        text = json.dumps(built.to_json(), indent=2, ensure_ascii=False) + "\n"
    elif fmt is Format.html:
        text = render_html(built)
    else:
        text = render_markdown(built)
    if out is None:
        sys.stdout.write(text)
    else:
        written = _write(out, built, fmt, text)
        env.note(f"wrote {written}")
    if built.open:
        env.note(
            f"{len(built.open)} answers are to be completed (exit 3): {', '.join(built.open)}", style="yellow"
        )
        raise typer.Exit(EXIT_INCOMPLETE)


def _write(where: str, built: Summary, fmt: Format, text: str) -> Path:
    """``where`` itself, or in a directory (one that exists, or a path ending in ``/``) a new file
    that never replaces an earlier summary: the template asks for old versions to be kept."""
    out = Path(where)
    if out.is_dir() or where.endswith(("/", "\\")):
        out.mkdir(parents=True, exist_ok=True)
        stamp = str(built.last_update.value).replace(":", "").replace("+0000", "Z")
        stem = f"{re.sub(r'[^A-Za-z0-9._-]', '_', built.model)}-{stamp}"
        for n in range(1, 1000):
            target = out / (f"{stem}.{fmt.value}" if n == 1 else f"{stem}-{n}.{fmt.value}")
            try:
                with target.open("x", encoding="utf-8") as fh:  # "x": never over an earlier file
                    fh.write(text)
            except FileExistsError:
                continue
            return target
        raise BadInput(f"{out} already holds 999 summaries of {built.model} made at {stamp}")
    out.write_text(text, encoding="utf-8")
    return out
