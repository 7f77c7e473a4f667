"""The notice as Markdown or as one HTML page.

The HTML page follows the audit pack (reports/pack.py): no script, every piece escaped with
``html.escape`` (titles, wording and names are text a policy editor wrote), and — standalone — inline
CSS under a CSP that forbids loading or running anything. The service serves the same page with its
stylesheet as a file instead (``css_href``), under the site's own CSP, which admits no inline style.
Policy wording carries its ``lang`` so screen readers switch voice; a right-to-left locale gets
``dir="rtl"``.
"""

from __future__ import annotations

import re
from html import escape

from consentgate.reports.notice.document import (
    Block,
    Frame,
    Heading,
    Line,
    Link,
    NoticeDocument,
    Paragraph,
    Quote,
    Value,
    Wording,
)
from consentgate.web.i18n import direction

CSS = """
:root{color-scheme:light}
body{font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;margin:2rem auto;
 max-width:44rem;padding:0 1rem}
h1{font-size:1.7rem;margin:0 0 1rem}h2{font-size:1.3rem;margin:2rem 0 .5rem;border-bottom:2px solid #333;
 padding-bottom:.2rem}h3{font-size:1.05rem;margin:1.2rem 0 .3rem}
blockquote{margin:.5rem 0;padding:.4rem .8rem;border-inline-start:4px solid #555;background:#f4f4f4}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.92em;overflow-wrap:anywhere}
.lang{font-size:.85em;color:#444}
a{color:#0b4fa8}
ul{padding-inline-start:1.3rem}li{margin:.3rem 0}li p{margin:.1rem 0}
@media print{body{margin:0;max-width:none}}
"""
_CSP = "default-src 'none'; style-src 'unsafe-inline'"
_SAFE_HREF = re.compile(r"^(https?://|mailto:|/|[A-Za-z0-9_.-]+(\?|$))")


def render_html(doc: NoticeDocument, *, css_href: str | None = None) -> str:
    """The notice as one HTML page: self-contained, or linking ``css_href`` for its styles."""
    lang = _e(doc.locale)
    style = (
        f"<link rel='stylesheet' href='{_e(css_href)}'>"
        if css_href is not None
        else f"<meta http-equiv='Content-Security-Policy' content=\"{_CSP}\"><style>{CSS}</style>"
    )
    parts = [
        f"<!doctype html><html lang='{lang}' dir='{_e(doc.direction)}'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<meta name='referrer' content='no-referrer'><link rel='icon' href='data:,'>",
        f"{style}<title>{_e(doc.title)}</title></head><body><main>",
        f"<h1>{_e(doc.title)}</h1>",
        *(_block_html(b) for b in doc.blocks),
        "</main></body></html>\n",
    ]
    return "".join(parts)


def _block_html(block: Block) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level} id='{_e(block.anchor)}'>{_line_html(block.line)}</h{block.level}>"
    if isinstance(block, Paragraph):
        return f"<p>{_line_html(block.line)}</p>"
    if isinstance(block, Quote):
        return f"<blockquote><p>{_line_html(block.line)}</p></blockquote>"
    items = []
    for item in block.items:
        lead, *rest = item
        more = "".join(f"<p>{_line_html(line)}</p>" for line in rest)
        items.append(f"<li>{_line_html(lead)}{more}</li>")
    return f"<ul>{''.join(items)}</ul>"


def _line_html(line: Line) -> str:
    out = []
    for piece in line:
        if isinstance(piece, Frame):
            out.append(_e(piece.text))
        elif isinstance(piece, Value):
            # <bdi>: a left-to-right name inside a right-to-left sentence keeps its punctuation in place.
            out.append(
                f"<bdi><code>{_e(piece.text)}</code></bdi>" if piece.code else f"<bdi>{_e(piece.text)}</bdi>"
            )
        elif isinstance(piece, Wording):
            mark = f" <span class='lang'>({_e(piece.language)})</span>" if piece.language else ""
            lang = f"lang='{_e(piece.locale)}' dir='{direction(piece.locale)}'"
            out.append(f"<span {lang}>{_e(piece.text)}</span>{mark}")
        else:
            out.append(_link_html(piece))
    return "".join(out)


def _link_html(link: Link) -> str:
    # Addresses come from the policy (already http(s) there) or the caller; anything else stays text.
    if not _SAFE_HREF.match(link.href):
        return _e(link.text)
    return f"<a href='{_e(link.href)}'>{_e(link.text)}</a>"


def _e(text: str) -> str:
    return escape(text, quote=True)


# -- Markdown -----------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")
_SPACE = re.compile(r"\s+")  # a line break in policy wording would end a Markdown list item


def render_markdown(doc: NoticeDocument) -> str:
    """The notice as CommonMark; policy text is escaped so it shows as written, never as markup."""
    lines = [f"# {_md(doc.title)}", ""]
    for block in doc.blocks:
        if isinstance(block, Heading):
            lines += [f"{'#' * block.level} {_line_md(block.line)}", ""]
        elif isinstance(block, Paragraph):
            lines += [_line_md(block.line), ""]
        elif isinstance(block, Quote):
            lines += [f"> {_line_md(block.line)}", ""]
        else:
            # An item's further lines end the previous one with a hard break ("\\" at the end).
            lines += ["- " + " \\\n  ".join(_line_md(line) for line in item) for item in block.items]
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _line_md(line: Line) -> str:
    out = []
    for piece in line:
        if isinstance(piece, Frame):
            out.append(_md(piece.text))
        elif isinstance(piece, Value):
            out.append(_code(piece.text) if piece.code else _md(piece.text))
        elif isinstance(piece, Wording):
            out.append(_md(piece.text) + (f" *({_md(piece.language)})*" if piece.language else ""))
        elif _SAFE_HREF.match(piece.href):
            out.append(f"[{_md(piece.text)}](<{piece.href.replace('>', '%3E').replace(' ', '%20')}>)")
        else:
            out.append(_md(piece.text))
    return "".join(out)


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", _SPACE.sub(" ", text))


def _code(text: str) -> str:
    return f"`` {text} ``" if "`" in text else f"`{text}`"
