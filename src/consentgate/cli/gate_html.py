"""``gate-html``: the tag gate for static sites — a copy of the site whose tracker tags are inert.

The same rewriting as the ASGI and WSGI middlewares (:mod:`consentgate.web.taggate`), run once at
build time. Exit 3, like ``scan diff``, when some tracker tag could not be made inert, so a build
never reports a gated site that is not.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from consentgate.cli._shared import env_of
from consentgate.errors import BadInput
from consentgate.web.taggate import Finding, TrackerHosts, ascii_compatible, gate_html

EXIT_LEFT = 3
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def gate_html_command(
    ctx: typer.Context,
    source: Annotated[
        Path, typer.Argument(metavar="IN", help="The built site (a folder) or one HTML file, e.g. `public/`.")
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            metavar="OUT",
            help="Where the gated copy goes (outside IN), e.g. `--out dist/`.",
        ),
    ],
) -> None:
    """Copy a static site with its tracker tags made inert until consent (the server-side tag gate).

    In every HTML file, `<script src>`, `<iframe src>`, `<img src|srcset>`, `<source srcset>` and
    preload hints pointing at a `web.trackers` host become the inert form banner.js activates once
    their purposes are allowed. Other files are copied as they are.

    Exits 3 when a tag still loads from a tracker host (a stylesheet, `<video src>`, a UTF-16
    page): each is listed.

    Example:

        consentgate gate-html public/ --out dist/
    """
    env = env_of(ctx)
    hosts = TrackerHosts.from_policy(env.policy())
    if not hosts.purposes:
        raise BadInput(
            "the policy lists no web.trackers host whose category is the kind of one of its purposes: "
            "there is nothing to gate"
        )
    src, dst = source.resolve(), out.resolve()
    if not src.exists():
        raise BadInput(f"{source}: no such file or folder")
    if _inside(dst, src) or _inside(src, dst):
        raise BadInput(f"--out {out} must be outside {source} (and not contain it)")
    files = [src] if src.is_file() else sorted(p for p in src.rglob("*") if p.is_file())
    gated = 0
    problems: list[str] = []
    for path in files:
        target = dst if src.is_file() else dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shown = path.name if src.is_file() else str(path.relative_to(src))
        if path.suffix.lower() not in HTML_SUFFIXES:
            shutil.copyfile(path, target)
            continue
        data = path.read_bytes()
        if not ascii_compatible(None, data[:4]):
            shutil.copyfile(path, target)
            problems.append(f"{shown}: not rewritten (UTF-16/32); its tracker tags load as written")
            continue
        rewritten, findings = gate_html(data, hosts)
        target.write_bytes(rewritten)
        gated += sum(1 for f in findings if f.action == "gated")
        problems += [_left(shown, f) for f in findings if f.action == "left"]
    env.out.print(Text(f"{len(files)} files copied to {out}; {gated} tracker tags made inert"))
    for line in problems:
        env.err.print(Text(line, style="yellow"))
    if problems:
        env.err.print(
            Text(f"{len(problems)} tracker loads left before consent: gate them by hand (docs/web.md)")
        )
        raise typer.Exit(EXIT_LEFT)


def _left(shown: str, f: Finding) -> str:
    return f"{shown}:{f.line}: <{f.tag} {f.attribute}> loads {f.url} before consent (not gated)"
