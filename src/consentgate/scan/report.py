"""The scan as one self-contained HTML page: summary, chart, violations, a table per page and per item.

No script and nothing loaded from elsewhere: inline CSS and an inline SVG chart, so the file can be
mailed, attached to a ticket or opened offline, and shows the same thing years later. Every value
from the scanned site (URLs, titles, cookie names) is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

from consentgate.scan.crawler import PHASES
from consentgate.scan.knowledge import ORDER

PHASE_LABELS = {
    "no_consent": "No consent",
    "rejected": "After “reject all”",
    "accepted": "After “accept all”",
}
COLOURS = {
    "necessary": "#4c9a5f",
    "security": "#3b7ea1",
    "functional": "#7a6fb0",
    "personalisation": "#b08a2e",
    "analytics": "#d07a2c",
    "marketing": "#c0392b",
    "unknown": "#8e8e8e",
}

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;
color:#1d1d1f;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}
h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.meta{color:#555}.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;min-width:8rem}
.card b{display:block;font-size:1.5rem}.bad b{color:#c0392b}
table{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:13px}
th,td{border-bottom:1px solid #eee;padding:.3rem .4rem;text-align:left;vertical-align:top}
th{background:#f6f6f6}td.n{text-align:right}.url{word-break:break-all}
.tag{display:inline-block;border-radius:3px;padding:0 .35rem;color:#fff;font-size:12px}
.ok{color:#4c9a5f}.warn{color:#c0392b;font-weight:600}
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _tag(category: str) -> str:
    return f'<span class="tag" style="background:{COLOURS.get(category, "#888")}">{_e(category)}</span>'


def chart_svg(doc: dict[str, Any]) -> str:
    """Stacked horizontal bars: cookies and storage keys present in each phase, by category."""
    items = [*doc.get("cookies", []), *doc.get("storage", [])]
    counts = {p: {c.value: 0 for c in ORDER} for p in PHASES}
    for item in items:
        for phase in item.get("phases", []):
            if phase in counts and item.get("category") in counts[phase]:
                counts[phase][item["category"]] += 1
    widest = max([sum(c.values()) for c in counts.values()] + [1])
    label_w, bar_w, row_h = 170, 560, 34
    height = row_h * len(PHASES) + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 60}" height="{height}" '
        'role="img" aria-label="Cookies and storage keys per phase, by category">'
    ]
    for i, phase in enumerate(PHASES):
        y = i * row_h + 8
        parts.append(f'<text x="0" y="{y + 17}" font-size="13">{_e(PHASE_LABELS[phase])}</text>')
        x = float(label_w)
        for cat, n in counts[phase].items():
            if not n:
                continue
            w = bar_w * n / widest
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="24" fill="{COLOURS[cat]}">'
                f"<title>{_e(cat)}: {n}</title></rect>"
            )
            if w > 18:
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + 17}" font-size="12" fill="#fff" '
                    f'text-anchor="middle">{n}</text>'
                )
            x += w
        parts.append(
            f'<text x="{x + 6:.1f}" y="{y + 17}" font-size="12">{sum(counts[phase].values())}</text>'
        )
    ly = len(PHASES) * row_h + 24
    lx = 0
    for cat in COLOURS:
        parts.append(f'<rect x="{lx}" y="{ly - 10}" width="12" height="12" fill="{COLOURS[cat]}"/>')
        parts.append(f'<text x="{lx + 16}" y="{ly}" font-size="12">{_e(cat)}</text>')
        lx += 16 + 9 * len(cat) + 18
    parts.append("</svg>")
    return "".join(parts)


def _table(headers: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f"<p class='ok'>{_e(empty)}</p>"
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _phases(phases: list[str]) -> str:
    return ", ".join(_e(p) for p in phases)


def render_html(doc: dict[str, Any]) -> str:
    s = doc.get("summary", {})
    unknown = s.get("unknown", {})
    n_unknown = sum(unknown.values()) if isinstance(unknown, dict) else 0
    violations = doc.get("violations", [])
    cards = [
        ("pages", s.get("pages", len(doc.get("pages", []))), False),
        ("cookies", s.get("cookies", 0), False),
        ("storage keys", s.get("storage", 0), False),
        ("third-party hosts", s.get("third_party_hosts", 0), False),
        ("violations", len(violations), bool(violations)),
        ("uncategorised", n_unknown, bool(n_unknown)),
    ]
    out = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Cookie scan of {_e(doc.get('site'))}</title><style>{CSS}</style></head><body>",
        f"<h1>Cookie scan of {_e(doc.get('site'))}</h1>",
        f"<p class='meta'>Start URL <span class='url'>{_e(doc.get('start_url'))}</span> · scanned "
        f"{_e(doc.get('started_at'))} in {_e(doc.get('duration_s'))} s · {_e(doc.get('browser'))} · "
        f"consentgate {_e(doc.get('tool', {}).get('version'))} · cookie database "
        f"{_e(doc.get('knowledge_base', {}).get('source'))} "
        f"({_e(doc.get('knowledge_base', {}).get('entries'))} entries)</p>",
        "<div class='cards'>",
        *(
            f"<div class='card{' bad' if bad else ''}'><b>{_e(n)}</b>{_e(label)}</div>"
            for label, n, bad in cards
        ),
        "</div>",
        f"<p class='verdict'><b>{_e(doc.get('verdict', {}).get('line', ''))}</b></p>",
        "<h2>Summary</h2>",
        chart_svg(doc),
        "<h2>Consent banner</h2>",
    ]
    rows = []
    for phase in PHASES:
        info = doc.get("phases", {}).get(phase, {})
        banner = info.get("banner")
        if phase == "no_consent":
            what = "no choice made"
        elif banner and banner.get("pressed", True):
            layer = " on the second layer" if banner.get("layer") == 2 else ""
            what = f"pressed {_e(banner.get('selector'))} ({_e(banner.get('via'))}){layer}"
        elif banner and banner.get("found"):
            what = "<span class='warn'>banner found, button not pressed: pages loaded without a choice</span>"
        else:
            what = "<span class='warn'>no banner button found: pages were loaded without a choice</span>"
        rows.append([_e(PHASE_LABELS[phase]), what, _e(info.get("pages"))])
    out.append(_table(["phase", "banner", "page loads"], rows, ""))

    out.append("<h2>Violations</h2><p>Items not known to be exempt, present before consent or after "
               "“reject all”; unclassified ones (nobody knows what they are) first.</p>")  # fmt: skip
    out.append(
        _table(
            ["type", "kind", "name / host", "category", "phase", "page", "caused by", "why"],
            [
                [
                    _e(v.get("type", "needs_consent")),
                    _e(v["kind"]),
                    _e(v.get("name") or v.get("host")),
                    _tag(v["category"]),
                    _e(v["phase"]),
                    f"<span class='url'>{_e(v.get('page'))}</span>",
                    f"<span class='url'>{_e(v.get('cause'))}</span>",
                    _e(v.get("reason", "")),
                ]
                for v in violations
            ],
            "No violations found.",
        )
    )

    out.append("<h2>Pages</h2>")
    page_rows = []
    for p in doc.get("page_details", []):
        cells = [
            f"<span class='url'>{_e(p['url'])}</span>" + (f"<br>{_e(p['title'])}" if p.get("title") else ""),
            _e(p.get("status") or p.get("error")),
            _e(p.get("depth")),
        ]
        for phase in PHASES:
            c = p.get("phases", {}).get(phase, {})
            v = c.get("violations", 0)
            cells.append(
                f"{_e(c.get('cookies', 0))} / {_e(c.get('storage', 0))} / "
                f"{_e(c.get('third_party_hosts', 0))}" + (f" <span class='warn'>({v}!)</span>" if v else "")
            )
        page_rows.append(cells)
    out.append(
        _table(
            ["page", "status", "depth"]
            + [f"{PHASE_LABELS[p]}: cookies / storage / 3rd-party hosts" for p in PHASES],
            page_rows,
            "No pages.",
        )
    )

    out.append("<h2>Cookies</h2>")
    out.append(
        _table(
            ["name", "domain", "party", "category", "phases", "first seen", "set by", "expires", "flags"],
            [
                [
                    _e(c["name"]),
                    _e(c["domain"]),
                    _e(c["party"]),
                    _tag(c["category"]) + f"<br><small>{_e(c.get('platform') or '')}</small>",
                    _phases(c["phases"]),
                    f"<span class='url'>{_e(c.get('first_seen'))}</span>",
                    f"<span class='url'>{_e(c.get('set_by'))}</span>",
                    "session" if c.get("session") else _e(c.get("expires")),
                    _e(
                        " ".join(
                            f
                            for f, on in (
                                ("Secure", c.get("secure")),
                                ("HttpOnly", c.get("http_only")),
                                (f"SameSite={c.get('same_site')}", c.get("same_site")),
                                ("blocked by the browser", c.get("blocked")),
                            )
                            if on
                        )
                    ),
                ]
                for c in doc.get("cookies", [])
            ],
            "No cookies.",
        )
    )
    out.append("<h2>Local and session storage</h2>")
    out.append(
        _table(
            ["key", "kind", "origin", "category", "phases", "first seen", "set by"],
            [
                [
                    _e(x["key"]),
                    _e(x["kind"]),
                    _e(x["origin"]),
                    _tag(x["category"]),
                    _phases(x["phases"]),
                    f"<span class='url'>{_e(x.get('first_seen'))}</span>",
                    f"<span class='url'>{_e(x.get('set_by'))}</span>",
                ]
                for x in doc.get("storage", [])
            ],
            "No storage keys.",
        )
    )
    out.append("<h2>Third-party hosts</h2>")
    out.append(
        _table(
            ["host", "category", "vendor", "phases", "requests", "first seen", "first initiator"],
            [
                [
                    _e(h["host"]),
                    _tag(h["category"]) + f"<br><small>{_e(h.get('category_source'))}</small>",
                    _e(h.get("vendor") or ""),
                    _phases(h["phases"]),
                    f"<span class='n'>{_e(h.get('requests'))}</span>",
                    f"<span class='url'>{_e(h.get('first_seen'))}</span>",
                    f"<span class='url'>{_e(h.get('initiator'))}</span>",
                ]
                for h in doc.get("hosts", [])
            ],
            "No third-party requests.",
        )
    )
    skipped = doc.get("skipped", [])
    if skipped:
        out.append("<h2>Not crawled</h2>")
        out.append(
            _table(
                ["URL", "why"],
                [[f"<span class='url'>{_e(x.get('url'))}</span>", _e(x.get("reason"))] for x in skipped],
                "",
            )
        )
    out.append("</body></html>\n")
    return "\n".join(out)
