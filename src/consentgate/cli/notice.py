"""``consentgate notice render``: the AI-training part of a privacy notice (docs/notice.md).

The models of stored training runs are read from the ledger database when there is one; without it
the notice names only the systems the policy declares, and the command says so on stderr (the notice
itself cannot tell a reader "no model was trained" when no ledger was read).
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from consentgate.cli._shared import CliEnv, env_of
from consentgate.errors import BadInput

notice_app = typer.Typer(
    help="The AI-training part of a privacy notice, in plain words, in every banner language.\n\n"
    "Example:\n\n    consentgate notice render --locale de --format html --out notice.de.html",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


class NoticeFormatChoice(StrEnum):
    md = "md"
    html = "html"


@notice_app.command("render")
def render(
    ctx: typer.Context,
    locale: Annotated[
        str | None,
        typer.Option(
            metavar="LOCALE",
            help="The reader's language (BCP 47), e.g. `--locale pt-BR`; default the policy's "
            "web.default_locale. A language the banner does not offer falls back as the banner does "
            "(stderr says which).",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        NoticeFormatChoice,
        typer.Option(
            "--format", help="Markdown, or one self-contained HTML page (no script), e.g. `--format html`."
        ),
    ] = NoticeFormatChoice.md,
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE", help="Write here instead of stdout, e.g. `--out notice.md`.", show_default=False
        ),
    ] = None,
    privacy_center: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="Where your privacy center is served, linked from the notice, e.g. "
            "`--privacy-center https://consent.example.com/privacy-center`.",
            show_default=False,
        ),
    ] = None,
    runs: Annotated[
        bool,
        typer.Option(
            "--runs/--no-runs",
            help="Name the models of the ledger's training runs as systems the data improves (read "
            "when the ledger database exists), or not, e.g. `--no-runs`.",
        ),
    ] = True,
) -> None:
    """Write the AI-training part of a privacy notice: per AI purpose, what data, which systems it
    improves, the basis in each region, retention, vendors, and the person's choices and requests.

    Our own words are translated into every banner language; the policy's wording is shown as
    written, marked with its language where it is not the reader's.

    Example:

        consentgate notice render --locale de --format html --out notice.de.html
    """
    from consentgate.policy.locales import LOCALE_PATTERN, negotiate
    from consentgate.reports.notice import render_notice

    env = env_of(ctx)
    policy = env.policy()
    if locale is not None and not re.match(LOCALE_PATTERN, locale):
        raise BadInput(f"--locale {locale!r} is not a language tag such as de, pt-BR or zh-Hant")
    if privacy_center is not None and not re.match(r"^https?://[^\s]+$", privacy_center):
        raise BadInput(f"--privacy-center {privacy_center!r} is not an http(s) address")
    chosen = negotiate(locale, None, policy.web.default_locale)
    # de-AT read as de (or no as nb) is the reader's language; kl read as the default is not, and the
    # person should know. A tag that matches itself gives the same answer whatever the default.
    if locale is not None and negotiate(locale, None, "ar") != negotiate(locale, None, "ja"):
        env.note(f"note: the notice has no text in {locale!r}; it is written in {chosen!r}")
    trained = _trained(env) if runs else None
    text = render_notice(policy, chosen, fmt.value, trained=trained, privacy_center=privacy_center)
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot write the notice to {out}: {exc.strerror or exc}") from exc
    env.note(f"wrote {out} ({chosen}, {fmt.value})")


def _trained(env: CliEnv) -> dict[str, list[str]] | None:
    from consentgate.store.engine import missing_sqlite_file

    missing = missing_sqlite_file(env.settings.db)
    if missing is not None:
        env.note(
            f"note: no ledger at {missing}: the notice names only the systems the policy declares, not "
            "the models of training runs (pass --db, or --no-runs to silence this)"
        )
        return None
    from consentgate.reports.notice.runs import trained_from
    from consentgate.store.runs import RunStore

    return trained_from(RunStore(env.ledger(must_exist=True).engine))
