"""The summary as Markdown and as one self-contained HTML page, in the template's exact order.

Both print the template's header ("Version of the Summary", "Last update"), then 1.1 … 3.3 with each
answer and where it came from; an answer still to be completed reads "TO BE COMPLETED" with what
would fill it, so a draft cannot pass for a finished summary. The HTML follows the audit pack
(:mod:`consentgate.reports.pack`): inline CSS, no script, a Content-Security-Policy that forbids
loading anything, every value escaped.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from consentgate.reports.aiact.build import Summary
from consentgate.reports.aiact.fields import LAYOUT, TEMPLATE, Field
from consentgate.reports.pack import CSP, CSS

PARTS = {"1": "1. General information", "2": "2. List of data sources", "3": "3. Data processing aspects"}
OPEN = "TO BE COMPLETED"


def text(value: Any) -> str:
    """A value in words: yes/no, lists joined, numbers with thousands separators."""
    if value is None:
        return "not applicable"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list):
        return "; ".join(text(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')}: {text(v)}" for k, v in value.items() if v is not None)
    return str(value)


def _title(summary: Summary) -> str:
    return f"Public summary of training content: {summary.model}"


def _stamps(summary: Summary) -> list[tuple[str, str]]:
    return [
        ("Version of the Summary", str(summary.version.value)),
        ("Last update", str(summary.last_update.value)),
        ("Template followed", TEMPLATE),
    ]


def _rows(summary: Summary) -> list[tuple[str | None, str, str, list[tuple[str, Field]]]]:
    """(part heading when it starts, number, title, answers) per subsection, in order."""
    out: list[tuple[str | None, str, str, list[tuple[str, Field]]]] = []
    part = None
    for sub in LAYOUT:
        first = sub.number.split(".")[0]
        heading = PARTS[first] if first != part else None
        part = first
        answers = [(i.label, summary.fields[i.path]) for i in sub.items if i.path in summary.fields]
        out.append((heading, sub.number, sub.title, answers))
    return out


def _not_applicable(field: Field) -> bool:
    """A sub-question of a category not used: its ``from`` says so, and why, in one phrase."""
    return field.value is None and field.source.startswith("not applicable")


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!])")


def _md(value: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", value)


def render_markdown(summary: Summary) -> str:
    lines = [f"# {_md(_title(summary))}", ""]
    lines += [f"- **{label}:** {_md(value)}" for label, value in _stamps(summary)]
    if summary.open:
        lines += ["", f"**Draft: {len(summary.open)} answers are {OPEN}.**"]
    for heading, number, title, answers in _rows(summary):
        if heading:
            lines += ["", f"## {heading}"]
        lines += ["", f"### {number} {_md(title)}", ""]
        for label, field in answers:
            if field.open:
                lines.append(f"- **{_md(label)}:** **{OPEN}** — {_md(field.source)}")
            elif _not_applicable(field):
                lines.append(f"- **{_md(label)}:** {_md(field.source)}")
            else:
                shown = _md(text(field.value))
                lines.append(f"- **{_md(label)}:** {shown} _({field.provenance}: {_md(field.source)})_")
    return "\n".join(lines) + "\n"


_EXTRA_CSS = (
    ".tbc{background:#fde2e1;border-left:4px solid #b00;padding:.1rem .4rem;font-weight:600}"
    ".from{color:#555;font-size:12px}"
)


def render_html(summary: Summary) -> str:
    e = escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">",
        f"<title>{e(_title(summary))}</title><style>{CSS}{_EXTRA_CSS}</style></head><body>",
        f"<header><h1>{e(_title(summary))}</h1><dl>",
        *(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in _stamps(summary)),
        "</dl>",
    ]
    if summary.open:
        parts.append(f"<p class='note'>Draft: {len(summary.open)} answers are to be completed.</p>")
    parts.append("</header><main>")
    for heading, number, title, answers in _rows(summary):
        if heading:
            parts.append(f"<h2>{e(heading)}</h2>")
        parts.append(f"<section id='s{e(number)}'><h3>{e(number)} {e(title)}</h3><dl>")
        for label, field in answers:
            if field.open:
                value = f"<span class='tbc'>{OPEN}</span> <span class='from'>{e(field.source)}</span>"
            elif _not_applicable(field):
                value = e(field.source)
            else:
                shown = e(text(field.value))
                value = f"{shown}<br><span class='from'>{e(field.provenance)}: {e(field.source)}</span>"
            parts.append(f"<dt>{e(label)}</dt><dd>{value}</dd>")
        parts.append("</dl></section>")
    parts.append("</main></body></html>\n")
    return "".join(parts)
