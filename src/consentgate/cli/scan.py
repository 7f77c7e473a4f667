"""``scan`` (crawl a site in Chromium; diff, report, declaration) and ``cookies`` (the cookie database).

``consentgate scan URL`` is short for ``consentgate scan site URL``: the ``scan`` group runs its
``site`` command when the first argument is not one of its commands. Playwright is imported only
when a browser is needed, so ``scan diff`` works in a CI job without it.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from consentgate.cli._shared import CliEnv, env_of
from consentgate.errors import BadInput

EXIT_GATE = 3  # scan: violations found; scan diff: a new one (1 stays "error", 2 "usage")
EXIT_INCOMPLETE = 4  # scan: no violations seen, but a phase's banner was not pressed: no clean verdict


class _DefaultToSite(TyperGroup):
    """``scan URL …`` runs ``scan site URL …``; ``scan diff …`` and the others run as named."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["site", *args]
        return list(super().parse_args(ctx, args))


class DeclarationFormat(StrEnum):
    html = "html"
    md = "md"


scan_app = typer.Typer(
    cls=_DefaultToSite,
    no_args_is_help=True,
    rich_markup_mode="markdown",
    help="Scan a website in real Chromium for what it sets before consent, after “reject all” and after "
    "“accept all”; compare scans; write reports and the cookie declaration.\n\n"
    "`consentgate scan URL` is short for `consentgate scan site URL`.",
)
cookies_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode="markdown",
    help="The cookie knowledge base (Open Cookie Database): look names up, download the current file.",
)


def _load_scan(path: Path) -> dict[str, Any]:
    from consentgate.scan.diff import check_document

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInput(f"{path}: not JSON ({exc})") from None
    return check_document(doc, str(path))


def _policy_if_any(env: CliEnv) -> Any:
    """The policy when its file exists: a scan needs none, but uses its web.cookies/web.trackers."""
    if env.settings.policy.exists():
        return env.policy()
    env.note(f"no policy file at {env.settings.policy}: categories come from the cookie database only")
    return None


def _knowledge(env: CliEnv, database: Path | None) -> Any:
    from consentgate.scan.knowledge import KnowledgeBase

    return KnowledgeBase.load(database or env.settings.cookie_database)


def _parse_resolve(values: list[str]) -> dict[str, str]:
    out = {}
    for v in values:
        host, sep, target = v.partition("=")
        if not sep or not host.strip() or not target.strip():
            raise typer.BadParameter(f"{v!r}: expected HOST=ADDRESS[:PORT]", param_hint="--resolve")
        out[host.strip().lower()] = target.strip()
    return out


def site(
    ctx: typer.Context,
    url: Annotated[
        str, typer.Argument(metavar="URL", help="Where to start, e.g. `https://www.example.com/`.")
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", metavar="FILE", help="The scan as JSON, e.g. `--out scan.json`.")
    ] = Path("scan.json"),
    html: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="The HTML report; default: next to --out with .html, e.g. `--html report.html`.",
            show_default=False,
        ),
    ] = None,
    max_pages: Annotated[
        int, typer.Option(min=1, metavar="N", help="Most pages to crawl, e.g. `--max-pages 200`.")
    ] = 50,
    ignore_robots: Annotated[
        bool,
        typer.Option(
            "--ignore-robots", help="Crawl what robots.txt disallows (your own site), e.g. `--ignore-robots`."
        ),
    ] = False,
    no_sitemap: Annotated[
        bool, typer.Option("--no-sitemap", help="Do not read sitemap.xml, e.g. `--no-sitemap`.")
    ] = False,
    concurrency: Annotated[
        int, typer.Option(min=1, max=32, metavar="N", help="Tabs open at once, e.g. `--concurrency 4`.")
    ] = 6,
    settle_ms: Annotated[
        int,
        typer.Option(
            min=50,
            metavar="MS",
            help="Quiet time (no request, no script write) that ends a page load, e.g. `--settle-ms 1000`.",
        ),
    ] = 500,
    page_timeout: Annotated[
        float, typer.Option(min=1, metavar="SECONDS", help="Longest wait per page, e.g. `--page-timeout 30`.")
    ] = 15.0,
    banner_timeout: Annotated[
        float,
        typer.Option(
            min=0, metavar="SECONDS", help="How long to wait for a banner, e.g. `--banner-timeout 10`."
        ),
    ] = 5.0,
    locale: Annotated[
        str, typer.Option(metavar="LOCALE", help="The browser's language, e.g. `--locale de-DE`.")
    ] = "en-US",
    resolve: Annotated[
        list[str] | None,
        typer.Option(
            metavar="HOST=ADDRESS[:PORT]",
            help="Send a host's requests to another address (staging, tests); repeatable, "
            "e.g. `--resolve www.example.com=192.0.2.10`.",
            show_default=False,
        ),
    ] = None,
    chromium: Annotated[
        str | None,
        typer.Option(
            metavar="PATH",
            envvar="CONSENTGATE_CHROMIUM",
            help="The Chromium binary; default /usr/bin/chromium, e.g. `--chromium /usr/bin/chromium`.",
            show_default=False,
        ),
    ] = None,
    cookie_database: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="An Open Cookie Database CSV instead of the installed one, e.g. "
            "`--cookie-database ocd.csv`.",
            show_default=False,
        ),
    ] = None,
    suggest: Annotated[
        bool,
        typer.Option(
            "--suggest-policy",
            help="Also print the policy's web.trackers and web.cookies entries for what was found, "
            "e.g. `--suggest-policy`.",
        ),
    ] = False,
    fail_on_violations: Annotated[
        bool,
        typer.Option(
            "--fail-on-violations",
            help="Kept for old scripts: `scan` always exits 3 when there is any violation "
            "(unclassified items included), e.g. `--fail-on-violations`.",
        ),
    ] = False,
) -> None:
    """Crawl a site in headless Chromium three times — without consent, after “reject all”, after
    “accept all” — and record every cookie, storage key and third-party request, categorised, with
    the violations: anything not strictly necessary before consent or after rejecting.

    Writes the scan as JSON (--out) and an HTML report next to it; prints a summary and a one-line
    verdict. Exit codes: 0 no violations and every phase's banner pressed; 3 violations (anything
    not exempt before consent or after “reject all”, unclassified items included); 4 no violations
    seen but a phase's banner was not found or not pressed, so no clean verdict is possible; 1 an
    error.

    Example:

        consentgate scan https://www.example.com/ --max-pages 100 --out scan.json
    """
    from consentgate.scan import ScanOptions, render_html, scan_site

    env = env_of(ctx)
    policy = _policy_if_any(env)
    kb = _knowledge(env, cookie_database)
    options = ScanOptions(
        max_pages=max_pages,
        respect_robots=not ignore_robots,
        use_sitemap=not no_sitemap,
        concurrency=concurrency,
        settle_ms=settle_ms,
        page_timeout_s=page_timeout,
        banner_timeout_s=banner_timeout,
        locale=locale,
        resolve=_parse_resolve(resolve or []),
        chromium=chromium,
    )
    progress = Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=env.err,
        transient=False,
    )
    labels = {"no_consent": "no consent", "rejected": "rejected", "accepted": "accepted"}
    tasks = {name: progress.add_task(label, total=None) for name, label in labels.items()}

    def tick(phase: str, done: int, total: int) -> None:
        progress.update(tasks[phase], completed=done, total=total)

    with progress:
        doc = scan_site(url, options, knowledge=kb, policy=policy, progress=tick)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    report = html or out.with_suffix(".html")
    report.write_text(render_html(doc), encoding="utf-8")
    _print_summary(env, doc)
    env.note(f"wrote {out} and {report}")
    if suggest:
        _print_suggestion(doc)
    verdict = doc["verdict"]
    style = {"clean": "green", "violations": "bold red", "incomplete": "bold yellow"}[verdict["status"]]
    env.out.print(Text(verdict["line"], style=style))
    del fail_on_violations  # the exit code says it always now
    if verdict["status"] == "violations":
        raise typer.Exit(EXIT_GATE)
    if verdict["status"] == "incomplete":
        raise typer.Exit(EXIT_INCOMPLETE)


def _print_summary(env: CliEnv, doc: dict[str, Any]) -> None:
    s = doc["summary"]
    env.out.print(
        Text(
            f"{doc['site']}: {s['pages']} pages, {s['cookies']} cookies, {s['storage']} storage keys, "
            f"{s['third_party_hosts']} third-party hosts, {s['violations']} violations "
            f"({doc['duration_s']} s)"
        )
    )
    if doc["violations"]:
        table = Table(title="Violations", title_justify="left")
        for col in ("type", "kind", "name / host", "category", "phase", "page", "caused by"):
            table.add_column(col, overflow="fold")
        for v in doc["violations"][:50]:
            table.add_row(
                v.get("type", "needs_consent"),
                v["kind"],
                v.get("name") or v["host"],
                v["category"],
                v["phase"],
                v["page"],
                v.get("cause") or "?",
            )
        env.out.print(table)
        if len(doc["violations"]) > 50:
            env.out.print(Text(f"… and {len(doc['violations']) - 50} more in the JSON and HTML report"))
    unknown = [c["name"] for c in doc["cookies"] if c["category"] == "unknown"]
    unknown += [h["host"] for h in doc["hosts"] if h["category"] == "unknown"]
    if unknown:
        env.out.print(
            Text(
                "Uncategorised (categorise them under web.cookies / web.trackers in the policy; "
                "`consentgate scan suggest-policy SCAN` drafts the entries): " + ", ".join(unknown),
                style="yellow",
            )
        )


def _print_suggestion(doc: dict[str, Any]) -> None:
    from consentgate.scan.suggest import render_yaml, suggest_policy

    typer.echo(render_yaml(suggest_policy(doc), doc["site"]), nl=False)


def suggest_policy(
    scan: Annotated[Path, typer.Argument(metavar="SCAN", help="A scan file, e.g. `scan.json`.")],
) -> None:
    """Print the policy's `web.trackers` and `web.cookies` entries for what a scan found, as YAML to
    paste into the policy, so the banner blocks what the site really loads. Unknown items are
    suggested as `marketing` and third-party items the database calls necessary as `functional`,
    each under a `# REVIEW:` comment: a suggestion never turns a violation into a pass.

    Example:

        consentgate scan suggest-policy scan.json >> web-entries.yaml
    """
    _print_suggestion(_load_scan(scan))


def diff(
    ctx: typer.Context,
    old: Annotated[Path, typer.Argument(metavar="OLD", help="The earlier scan, e.g. `scans/2026-01.json`.")],
    new: Annotated[Path, typer.Argument(metavar="NEW", help="The later scan, e.g. `scan.json`.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the differences as JSON, e.g. for `jq .violations.added`.")
    ] = False,
) -> None:
    """List new, removed and re-categorised cookies and third-party hosts, and new and resolved
    violations. Exits 3 when a new violation or a new uncategorised tracker appears, so a CI job or a
    monthly cron job can fail on it (1 means an error, such as an unreadable file).

    Example:

        consentgate scan diff scans/last-month.json scan.json
    """
    from consentgate.scan.diff import diff_scans

    env = env_of(ctx)
    d = diff_scans(_load_scan(old), _load_scan(new))
    if as_json:
        env.emit_json(d.as_json())
    else:
        _print_diff(env, d)
    if d.failed:
        raise typer.Exit(EXIT_GATE)


def _print_diff(env: CliEnv, d: Any) -> None:
    def section(title: str, rows: list[str], style: str = "") -> None:
        if rows:
            env.out.print(Text(f"{title} ({len(rows)})", style=f"bold {style}".strip()))
            for r in rows:
                env.out.print(Text(f"  {r}", style=style))

    def cookie(c: dict[str, Any]) -> str:
        return f"{c['name']} ({c['domain']}, {c['category']}, {'/'.join(c['phases'])})"

    def host(h: dict[str, Any]) -> str:
        return f"{h['host']} ({h['category']}, {'/'.join(h['phases'])})"

    def violation(v: dict[str, Any]) -> str:
        return f"{v['kind']} {v.get('name') or v['host']} ({v['category']}) in {v['phase']} on {v['page']}"

    section("New violations", [violation(v) for v in d.violations_added], "red")
    section("New uncategorised trackers", [f"{t['kind']} {t.get('name') or t.get('host')}"
                                           for t in d.uncategorised_trackers], "red")  # fmt: skip
    section("Resolved violations", [violation(v) for v in d.violations_resolved], "green")
    section("New cookies", [cookie(c) for c in d.cookies_added])
    section("Removed cookies", [cookie(c) for c in d.cookies_removed])
    section(
        "Re-categorised cookies", [f"{cookie(c)}, was {c['old_category']}" for c in d.cookies_recategorised]
    )
    section("New third-party hosts", [host(h) for h in d.hosts_added])
    section("Removed third-party hosts", [host(h) for h in d.hosts_removed])
    section("Re-categorised hosts", [f"{host(h)}, was {h['old_category']}" for h in d.hosts_recategorised])
    section("New storage keys", [f"{s['kind']} {s['key']} ({s['origin']})" for s in d.storage_added])
    section("Removed storage keys", [f"{s['kind']} {s['key']} ({s['origin']})" for s in d.storage_removed])
    if not d.changed:
        env.out.print(Text("No differences.", style="green"))


def report(
    scan: Annotated[Path, typer.Argument(metavar="SCAN", help="A scan file, e.g. `scan.json`.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", metavar="FILE", help="Where to write it, e.g. `--out report.html`.")
    ] = Path("report.html"),
) -> None:
    """Write the self-contained HTML report of a scan again (the scan command writes one already).

    Example:

        consentgate scan report scan.json --out report.html
    """
    from consentgate.scan import render_html

    out.write_text(render_html(_load_scan(scan)), encoding="utf-8")


def declaration(
    scan: Annotated[Path, typer.Argument(metavar="SCAN", help="A scan file, e.g. `scan.json`.")],
    locale: Annotated[
        str, typer.Option(metavar="LOCALE", help="Language: en, de, fr or es, e.g. `--locale de`.")
    ] = "en",
    fmt: Annotated[
        DeclarationFormat,
        typer.Option("--format", help="html (a snippet to embed) or md (Markdown), e.g. `--format md`."),
    ] = DeclarationFormat.html,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", metavar="FILE", help="Write to a file instead of stdout, e.g. `--out cookies.md`."
        ),
    ] = None,
) -> None:
    """Print the cookie declaration of a scan: cookies and storage grouped by category, in a language.

    The service serves the same at /v1/declaration (setting scan_file).

    Example:

        consentgate scan declaration scan.json --locale de --format md
    """
    from consentgate.scan import declaration_html, declaration_markdown

    doc = _load_scan(scan)
    text = declaration_markdown(doc, locale) if fmt is DeclarationFormat.md else declaration_html(doc, locale)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


def update(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="Download from here instead of the upstream repository (setting cookie_database_url), "
            "e.g. `--url https://mirror.example.com/ocd.csv`.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE",
            help="Where to keep it; default: setting cookie_database, else "
            "~/.local/share/consentgate/, e.g. `--out ocd.csv`.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Download the current Open Cookie Database, check it, and use it for later scans; prints what
    changed against the database in use until now (entries added, removed, re-categorised).

    Example:

        consentgate cookies update
    """
    from consentgate.scan.knowledge import user_database_path
    from consentgate.scan.update import update as run_update

    env = env_of(ctx)
    destination = out or env.settings.cookie_database or user_database_path()
    current = _knowledge(env, None)
    r = run_update(url or env.settings.cookie_database_url, destination, current)
    env.out.print(
        Text(
            f"{r.entries} entries written to {r.destination}: {len(r.added)} added, {len(r.removed)} "
            f"removed, {len(r.recategorised)} re-categorised (was {current.provenance.source}, "
            f"{current.provenance.entries} entries)"
        )
    )
    for old, new in r.recategorised[:50]:
        env.out.print(Text(f"  {new.name} ({new.platform}): {old.category.value} → {new.category.value}"))
    for w in r.warnings[:20]:
        env.note(w)
    if out is not None and out not in (env.settings.cookie_database, user_database_path()):
        env.note(f"scans use it with --cookie-database {out} (or env CONSENTGATE_COOKIE_DATABASE)")


def lookup(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="A cookie or storage key name, e.g. `_ga`.")],
    domain: Annotated[
        str | None,
        typer.Option(metavar="DOMAIN", help="The cookie's domain, e.g. `--domain doubleclick.net`."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the answer as JSON, e.g. for `jq .category`.")
    ] = False,
) -> None:
    """Say what a cookie name is for: the policy's web.cookies first, then the cookie database.

    Example:

        consentgate cookies lookup _ga
    """
    env = env_of(ctx)
    kb = _knowledge(env, None).with_policy(_policy_if_any(env))
    m = kb.cookie(name, domain)
    answer = {
        "name": name,
        "category": m.category.value,
        "source": m.source,
        "matched": m.rule,
        "platform": m.platform,
        "description": m.description,
        "retention": m.retention,
    }
    if as_json:
        env.emit_json(answer)
    else:
        env.out.print(
            Text(f"{name}: {m.category.value} ({m.source}{f', {m.platform}' if m.platform else ''})")
        )
        if m.description:
            env.out.print(Text(f"  {m.description}"))


scan_app.command("site")(site)
scan_app.command("diff")(diff)
scan_app.command("report")(report)
scan_app.command("declaration")(declaration)
scan_app.command("suggest-policy")(suggest_policy)
cookies_app.command("update")(update)
cookies_app.command("lookup")(lookup)
