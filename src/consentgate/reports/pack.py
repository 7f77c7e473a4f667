"""A report document as data — sections of facts, notes and tables — and its two renderings: one
self-contained HTML page and one CSV file per table (``reports/audit.py`` fills it).

The HTML is for a regulator who may open it years later, offline, or print it: inline CSS, no
script, no external URL (links are in-page anchors only), and every value escaped with
``html.escape`` — notice wording, site names, cookie names and vendor names are text someone else
wrote. A missing value is shown as the table's ``missing`` words, never as ``None``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from consentgate.errors import BadInput

Cell = str | int | float | bool | None


@dataclass(frozen=True)
class Table:
    name: str  # the CSV file's stem: lowercase letters, digits and underscores
    title: str
    columns: tuple[str, ...]
    rows: list[dict[str, Cell]]
    empty: str  # what the page says when there are no rows
    missing: str = "—"  # how a cell without a value reads (the page's legend explains "—")

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "columns": list(self.columns), "rows": self.rows}


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    preformatted: str | None = None  # e.g. a signed checkpoint's JSON, to copy out exactly


@dataclass(frozen=True)
class Document:
    title: str
    subtitle: str
    sections: list[Section]

    def tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables]

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "subtitle": self.subtitle,
            "sections": [
                {
                    "id": s.id,
                    "title": s.title,
                    "facts": [{"fact": k, "value": v} for k, v in s.facts],
                    "notes": list(s.notes),
                    "tables": [t.to_json() for t in s.tables],
                }
                for s in self.sections
            ],
        }


CSS = """
:root{color-scheme:light}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;margin:2rem auto;
 max-width:72rem;padding:0 1rem}
h1{font-size:1.6rem;margin:0 0 .2rem}h2{font-size:1.25rem;margin:2rem 0 .5rem;border-bottom:2px solid #333;
 padding-bottom:.2rem}h3{font-size:1rem;margin:1.2rem 0 .4rem}
.sub{color:#444;margin:0 0 1rem}nav ol{columns:2;padding-left:1.2rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.5rem 0}dt{font-weight:600}
dd{margin:0;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;margin:.3rem 0 1rem;font-size:13px}
th,td{border:1px solid #999;padding:.25rem .4rem;text-align:left;vertical-align:top;overflow-wrap:break-word}
.scroll{overflow-x:auto}
th{background:#eee}td.n{text-align:right;font-variant-numeric:tabular-nums}
td.text{white-space:pre-wrap;min-width:22rem}
.note{background:#fff6d6;border-left:4px solid #c90;padding:.4rem .6rem;margin:.5rem 0}
.empty{font-style:italic;color:#444}
pre{background:#f4f4f4;border:1px solid #ccc;padding:.5rem;white-space:pre-wrap;overflow-wrap:anywhere}
footer{margin-top:2rem;color:#444;font-size:12px}
@media print{body{margin:0;max-width:none;font-size:11px}.scroll{overflow:visible}nav{display:none}
 h2{break-after:avoid}tr{break-inside:avoid}th{background:#eee !important;print-color-adjust:exact}}
"""


def _e(value: Cell) -> str:
    return escape(str(value), quote=True)


def _cell(value: Cell, missing: str, column: str) -> str:
    if value is None or value == "":
        return f"<td>{_e(missing)}</td>"
    if isinstance(value, bool):
        return f"<td>{'yes' if value else 'no'}</td>"
    if isinstance(value, int | float):
        return f'<td class="n">{_e(value)}</td>'
    return f'<td class="text">{_e(value)}</td>' if column == "text" else f"<td>{_e(value)}</td>"


def _table(t: Table) -> str:
    head = f"<h3 id='table-{_e(t.name)}'>{_e(t.title)}</h3>"
    if not t.rows:
        return head + f"<p class='empty'>{_e(t.empty)}</p>"
    ths = "".join(f"<th scope='col'>{_e(c)}</th>" for c in t.columns)
    body = "".join(
        "<tr>" + "".join(_cell(r.get(c), t.missing, c) for c in t.columns) + "</tr>" for r in t.rows
    )
    # A wide table scrolls sideways on a phone instead of breaking every word into letters; the
    # region takes focus (tabindex), so a keyboard can scroll it too.
    region = f"<div class='scroll' tabindex='0' role='region' aria-label='{_e(t.title)}'>"
    return head + f"{region}<table><thead><tr>{ths}</tr></thead><tbody>{body}</tbody></table></div>"


# Belt and braces: the page holds no script, and a browser that opens it also refuses to run or load
# anything (a wording that escaped escaping could still not fetch or execute).
CSP = "default-src 'none'; style-src 'unsafe-inline'"


def render_html(doc: Document, *, footer: str = "") -> str:
    """The whole document as one HTML page (UTF-8, no script, no external reference)."""
    toc = "".join(f"<li><a href='#{_e(s.id)}'>{_e(s.title)}</a></li>" for s in doc.sections)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">",
        f"<title>{_e(doc.title)}</title><style>{CSS}</style></head><body>",
        f"<header><h1>{_e(doc.title)}</h1><p class='sub'>{_e(doc.subtitle)}</p></header>",
        f"<nav aria-label='Contents'><h2>Contents</h2><ol>{toc}</ol></nav><main>",
    ]
    for s in doc.sections:
        parts.append(f"<section id='{_e(s.id)}' aria-labelledby='{_e(s.id)}-h'>")
        parts.append(f"<h2 id='{_e(s.id)}-h'>{_e(s.title)}</h2>")
        if s.facts:
            parts.append("<dl>" + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in s.facts) + "</dl>")
        parts += [f"<p class='note'>{_e(n)}</p>" for n in s.notes]
        if s.preformatted is not None:
            parts.append(f"<pre>{_e(s.preformatted)}</pre>")
        parts += [_table(t) for t in s.tables]
        parts.append("</section>")
    parts.append(f"</main><footer><p>{_e(footer)}</p></footer></body></html>\n")
    return "".join(parts)


def csv_texts(doc: Document) -> dict[str, str]:
    """Every table as CSV text (UTF-8 when written; a header row, empty cells for missing values),
    keyed by file name, with ``facts.csv`` for every section's facts: what a download offers."""
    texts = {"facts.csv": _csv(("section", "fact", "value"), _facts(doc.sections))}
    texts.update({f"{t.name}.csv": _csv(t.columns, t.rows) for t in doc.tables()})
    return texts


def write_csv(doc: Document, folder: Path) -> list[Path]:
    """:func:`csv_texts` as files in ``folder``; returns the files written."""
    written = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in csv_texts(doc).items():
            (folder / name).write_text(text, encoding="utf-8", newline="")
            written.append(folder / name)
    except OSError as exc:
        raise BadInput(f"cannot write the CSV files to {folder}: {exc.strerror or exc}") from exc
    return written


def _facts(sections: Sequence[Section]) -> list[dict[str, Cell]]:
    return [{"section": s.title, "fact": k, "value": v} for s in sections for k, v in s.facts]


def _csv(columns: Sequence[str], rows: Sequence[dict[str, Cell]]) -> str:
    buffer = io.StringIO()
    out = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    out.writeheader()
    out.writerows({c: _csv_cell(r.get(c)) for c in columns} for r in rows)
    return buffer.getvalue()


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Cell) -> Cell:
    """A missing value as an empty cell; text that a spreadsheet would run as a formula (OWASP "CSV
    injection": wording or a cookie name starting with ``=``) prefixed with ``'`` so it stays text."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
