"""``consentgate signals``: what websites reserve against text and data mining, checked and stored.

``check`` exits 0 only when every mechanism of every origin was read; 3 when any answer is
``unknown`` (a fetch failed, a file was unreadable): done, but not everything is proven.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from consentgate.cli._shared import CliEnv, env_of

if TYPE_CHECKING:
    from consentgate.scan.reservations import OriginCheck

EXIT_UNKNOWN = 3

signals_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode="markdown",
    help="Publishers' rights reservations against AI training (robots.txt, TDMRep, noai), read and "
    "stored apart from personal consent (docs/reservations.md).",
)


def check(
    ctx: typer.Context,
    urls: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="URL…",
            help="Pages to check, e.g. https://news.example.com/articles/1; without any, the origins of "
            "the policy's crawled sources (sources[].crawl.origins).",
            show_default=False,
        ),
    ] = None,
    agent: Annotated[
        list[str] | None,
        typer.Option(
            "--agent",
            help="Another crawler's user-agent token to check in robots.txt, e.g. --agent ExampleBot "
            "(repeatable; the AI crawlers, * and the policy's crawlers are always checked).",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, e.g. --json | jq .")] = False,
) -> None:
    """Read robots.txt, TDMRep (tdmrep.json, header, meta) and noai directives for each URL's origin,
    print what each origin reserves, and store the checks in the ledger database.

    Exit 0: every mechanism of every origin was read; 3: some answer is unknown (its reason is
    shown; an unread document never counts as "not reserved"); 1: an error.

    Example:

        consentgate signals check https://news.example.com/ https://news.example.com/articles/1
    """
    from consentgate.errors import BadInput
    from consentgate.scan.reservations import check_reservations
    from consentgate.store.reservations import ReservationStore

    env = env_of(ctx)
    crawlers, origins = _policy_crawl(env)
    targets = list(urls or []) or [f"{o}/" for o in origins]
    if not targets:
        raise BadInput(
            "no URL to check: pass pages (consentgate signals check https://news.example.com/) or "
            "declare sources[].crawl.origins in the policy"
        )
    results = check_reservations(targets, agents=agent or [], crawlers=crawlers)
    store = ReservationStore(env.ledger().engine)
    store.add([u.to_json() for o in results for u in o.urls])
    if as_json:
        env.emit_json({"origins": [o.to_json() for o in results]})
    else:
        for origin in results:
            _print_origin(env, origin)
    incomplete = [o.origin for o in results if not o.complete]
    if incomplete:
        env.note(
            f"not everything could be read for {', '.join(incomplete)}: those answers are unknown, "
            "not 'not reserved'",
            style="yellow",
        )
        raise typer.Exit(EXIT_UNKNOWN)


def list_checks(
    ctx: typer.Context,
    origin: Annotated[
        str | None,
        typer.Option("--origin", help="Only this site, e.g. --origin https://news.example.com"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, e.g. --json | jq .")] = False,
) -> None:
    """List the stored rights-reservation checks, newest first.

    Example:

        consentgate signals list --origin https://news.example.com
    """
    from rich.table import Table

    from consentgate.scan.reservations import origin_of
    from consentgate.store.reservations import ReservationStore

    env = env_of(ctx)
    wanted = origin_of(origin) if origin else None
    checks = ReservationStore(env.ledger(must_exist=True).engine).checks(wanted)
    if as_json:
        env.emit_json({"checks": [c.to_json() for c in checks]})
        return
    if not checks:
        env.note(
            "no check stored" + (f" for {wanted}" if wanted else "") + "; run consentgate signals check URL"
        )
        return
    table = Table(title=f"rights-reservation checks ({len(checks)})", title_justify="left")
    for column in ("checked at", "origin", "url", "robots.txt", "TDMRep", "noai"):
        table.add_column(column, overflow="fold")
    for c in checks:
        table.add_row(c.checked_at, c.origin, c.url, *(c.verdicts[m] for m in ("robots", "tdmrep", "noai")))
    env.out.print(table)


def _policy_crawl(env: CliEnv) -> tuple[list[str], list[str]]:
    """The crawler names and origins of the policy's crawled sources; none when there is no policy
    file (a policy that exists but is invalid is an error, as everywhere)."""
    if not Path(env.settings.policy).exists():
        env.note(f"no policy at {env.settings.policy}: only the built-in AI crawlers and * are checked")
        return [], []
    agents: list[str] = []
    origins: list[str] = []
    for source in env.policy().sources:
        if source.crawl is not None:
            agents += source.crawl.agents
            origins += source.crawl.origins
    return agents, list(dict.fromkeys(origins))


_LABEL = {"yes": "reserved", "no": "not reserved", "unknown": "UNKNOWN"}
_STYLE = {"yes": "bold", "no": "", "unknown": "yellow"}


def _print_origin(env: CliEnv, origin: OriginCheck) -> None:
    from rich.table import Table

    first = origin.urls[0]
    docs = {d.url: d for d in first.documents}
    caption = []
    for name in ("robots.txt", ".well-known/tdmrep.json"):
        doc = docs.get(f"{origin.origin}/{name}")
        if doc is not None:
            state = doc.error or f"HTTP {doc.status}, sha256 {doc.sha256}"
            caption.append(f"{name}: {state}, fetched {doc.fetched_at}")
    table = Table(
        title=f"{origin.origin}: robots.txt {_LABEL[origin.verdict('robots')]}, TDMRep "
        f"{_LABEL[origin.verdict('tdmrep')]}, noai {_LABEL[origin.verdict('noai')]}"
        + ("" if origin.complete else " (not everything could be read: see UNKNOWN)"),
        title_justify="left",
        caption="\n".join(caption),
        caption_justify="left",
    )
    for column in ("url", "robots.txt", "TDMRep", "noai"):
        table.add_column(column, overflow="fold")
    for url in origin.urls:
        table.add_row(url.url, *(_cell(url.to_json(), m) for m in ("robots", "tdmrep", "noai")))
    env.out.print(table)


def _cell(check: dict[str, Any], mechanism: str) -> str:
    verdict = check["verdicts"][mechanism]
    found = [f for f in check["findings"] if f["mechanism"] == mechanism]
    label = f"[{_STYLE[verdict]}]{_LABEL[verdict]}[/]" if _STYLE[verdict] else _LABEL[verdict]
    if mechanism == "robots":
        if verdict == "yes":
            reserved = [f["agent"] for f in found if f["verdict"] == "yes"]
            return f"{label} for {', '.join(reserved)}\n{_escape(_evidence_lines(found, 'yes'))}"
        return f"{label}\n{_escape(_evidence_lines(found, verdict))}"
    shown = [f for f in found if f["verdict"] == verdict] or found
    return f"{label}\n" + "\n".join(_escape(f["evidence"]) for f in shown)


def _evidence_lines(found: list[dict[str, Any]], verdict: str) -> str:
    """The distinct evidence lines behind one verdict (robots.txt repeats one line for many agents)."""
    return "\n".join(dict.fromkeys(f["evidence"] for f in found if f["verdict"] == verdict))


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


signals_app.command("check")(check)
signals_app.command("list")(list_checks)
