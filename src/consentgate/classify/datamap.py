"""The data map: the policy's sources joined with what classification found in them.

For each source: what it is, the data categories it declares, the purposes it feeds (AI ones marked)
and on which lawful basis per region, how long it is kept, which vendors may receive its data for
those purposes, and — when its data was classified — the identifier types found, its level, and the
places where declaration and data disagree. Rendered as JSON, Markdown or HTML.

A source points at its data with an extra ``location`` key in the policy (a file, directory or DuckDB
database, relative to the policy file), or the caller passes ``{source id: path}``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from consentgate.classify.findings import LEVEL_ORDER, EntityType, Level
from consentgate.classify.tables import Classification
from consentgate.policy import Policy
from consentgate.policy.models import Source

# What each identifier type is, as a data category (fideslang-style names, as the policy uses).
CATEGORY_OF: dict[EntityType, str] = {
    EntityType.EMAIL: "user.contact.email",
    EntityType.PHONE: "user.contact.phone_number",
    EntityType.STREET_ADDRESS: "user.contact.address",
    EntityType.PERSON: "user.name",
    EntityType.DATE_OF_BIRTH: "user.demographic.date_of_birth",
    EntityType.CREDIT_CARD: "user.financial.credit_card",
    EntityType.IBAN: "user.financial.bank_account",
    EntityType.IP_ADDRESS: "user.device.ip_address",
    EntityType.COOKIE_ID: "user.device.cookie_id",
    EntityType.DEVICE_ID: "user.device.device_id",
    EntityType.HASHED_EMAIL: "user.unique_id.pseudonymous",
    EntityType.USER_ID: "user.unique_id",
}


def source_location(source: Source, policy_dir: Path) -> Path | None:
    if not source.location:
        return None
    p = Path(source.location)
    return p if p.is_absolute() else policy_dir / p


def build_datamap(
    policy: Policy, classified: Mapping[str, Classification], *, now: datetime | None = None
) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    purposes = {p.id: p for p in policy.purposes}
    out_sources = []
    ai_feeds: dict[str, list[str]] = {p.id: [] for p in policy.purposes if p.is_ai}
    for s in policy.sources:
        feeds = [purposes[pid] for pid in s.purposes if pid in purposes]
        for p in feeds:
            if p.is_ai:
                ai_feeds[p.id].append(s.id)
        vendors = [
            {
                "id": v.id,
                "purposes": sorted(set(v.purposes) & set(s.purposes)),
                "self_training": v.self_training,
            }
            for v in policy.vendors
            if set(v.purposes) & set(s.purposes)
        ]
        entry: dict[str, Any] = {
            "id": s.id,
            "kind": s.kind,
            "categories": list(s.categories),
            "personal_declared": s.personal,
            "retention_days": s.retention_days,
            "purposes": [
                {
                    "id": p.id,
                    "title": p.title,
                    "kind": p.kind.value,
                    "ai": p.is_ai,
                    "basis": {region: b.value for region, b in p.basis.items()},
                }
                for p in feeds
            ],
            "vendors": vendors,
            "classification": None,
            "findings": [],
        }
        c = classified.get(s.id)
        if c is not None:
            entry["classification"] = _summary(c)
        entry["findings"] = _findings(s, entry, c, feeds_ai=any(p.is_ai for p in feeds))
        out_sources.append(entry)
    return {
        "organization": policy.organization.name,
        "generated_at": now.isoformat(),
        "sources": out_sources,
        "ai_purposes": ai_feeds,
    }


def _summary(c: Classification) -> dict[str, Any]:
    types: dict[str, float] = {}
    columns: dict[str, dict[str, Any]] = {}
    special: set[str] = set()
    for t in c.tables:
        for col in t.columns:
            info = col.as_json()
            special.update(info["special_categories"])
            if info["level"] != Level.NON_PERSONAL.value:
                columns[f"{t.name}.{col.name}" if len(c.tables) > 1 else col.name] = {
                    "types": info["types"],
                    "level": info["level"],
                }
            for name, share in info["types"].items():
                types[name] = max(types.get(name, 0.0), share)
    return {
        "path": c.path,
        "level": c.level.value,
        "rows": sum(t.total_rows for t in c.tables),
        "types": dict(sorted(types.items())),
        "categories": sorted({CATEGORY_OF[EntityType(t)] for t in types}),
        "special_categories": sorted(special),
        "personal_columns": columns,
    }


def _findings(s: Source, entry: dict[str, Any], c: Classification | None, *, feeds_ai: bool) -> list[str]:
    notes: list[str] = []
    if feeds_ai and s.retention_days is None:
        notes.append("feeds an AI purpose but declares no retention_days")
    if c is None:
        if entry["classification"] is None:
            notes.append("not classified: give the source a `location` or pass its data with --data")
        return notes
    level = c.level
    if s.personal is False and LEVEL_ORDER[level] > LEVEL_ORDER[Level.NON_PERSONAL]:
        notes.append(f"declared personal: false, but the data is {level.value}")
    declared = list(s.categories)
    for cat in entry["classification"]["categories"]:
        if not any(cat == d or cat.startswith(d + ".") or d.startswith(cat + ".") for d in declared):
            notes.append(f"holds {cat} (found by classification) but does not declare it in categories")
    if level is Level.SENSITIVE:
        cats = ", ".join(entry["classification"]["special_categories"])
        notes.append(f"holds special-category data (GDPR Art. 9: {cats}); Art. 9(2) needs explicit consent")
    return notes


# -- rendering ----------------------------------------------------------------------------------------


def _basis_text(p: Mapping[str, Any]) -> str:
    return ", ".join(f"{r}: {b}" for r, b in p["basis"].items())


def to_markdown(dm: Mapping[str, Any]) -> str:
    lines = [f"# Data map — {dm['organization']}", "", f"Generated {dm['generated_at']}.", ""]
    lines += ["## AI purposes and the sources that feed them", ""]
    for pid, sources in dm["ai_purposes"].items():
        lines.append(f"- **{pid}**: {', '.join(sources) if sources else '(no source)'}")
    lines.append("")
    lines += ["## Sources", "", "| source | kind | level | holds | purposes (basis) | retention | vendors |",
              "|---|---|---|---|---|---|---|"]  # fmt: skip
    for s in dm["sources"]:
        c = s["classification"]
        level = c["level"] if c else "not classified"
        holds = (
            ", ".join(f"{t} {share:.0%}" for t, share in c["types"].items())
            if c
            else ", ".join(s["categories"])
        )
        purposes = "; ".join(
            f"{p['id']}{' (AI)' if p['ai'] else ''} [{_basis_text(p)}]" for p in s["purposes"]
        )
        retention = f"{s['retention_days']} days" if s["retention_days"] else "—"
        vendors = ", ".join(v["id"] for v in s["vendors"]) or "—"
        lines.append(
            f"| {s['id']} | {s['kind']} | {level} | {holds or '—'} | {purposes or '—'} "
            f"| {retention} | {vendors} |"
        )
    lines.append("")
    notes = [(s["id"], n) for s in dm["sources"] for n in s["findings"]]
    if notes:
        lines += ["## Findings", ""]
        lines += [f"- **{sid}**: {n}" for sid, n in notes]
        lines.append("")
    return "\n".join(lines)


def to_html(dm: Mapping[str, Any]) -> str:
    e = html.escape
    rows = []
    for s in dm["sources"]:
        c = s["classification"]
        level = c["level"] if c else "not classified"
        holds = (
            ", ".join(f"{t} {share:.0%}" for t, share in c["types"].items())
            if c
            else ", ".join(s["categories"])
        )
        purposes = "<br>".join(
            f"{e(p['id'])}{' <b>(AI)</b>' if p['ai'] else ''} <small>{e(_basis_text(p))}</small>"
            for p in s["purposes"]
        )
        findings = "".join(f"<li>{e(n)}</li>" for n in s["findings"])
        rows.append(
            f"<tr class='{e(level)}'><td>{e(s['id'])}</td><td>{e(s['kind'])}</td><td>{e(level)}</td>"
            f"<td>{e(holds) or '—'}</td><td>{purposes or '—'}</td>"
            f"<td>{e(str(s['retention_days'])) + ' days' if s['retention_days'] else '—'}</td>"
            f"<td>{e(', '.join(v['id'] for v in s['vendors'])) or '—'}</td><td><ul>{findings}</ul></td></tr>"
        )
    ai = "".join(
        f"<li><b>{e(pid)}</b>: {e(', '.join(src)) if src else '(no source)'}</li>"
        for pid, src in dm["ai_purposes"].items()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Data map — {e(dm["organization"])}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #ccc; padding: .4rem; vertical-align: top; }}
th {{ background: #f3f3f3; text-align: left; }}
tr.sensitive td:nth-child(3) {{ color: #a00; font-weight: bold; }}
tr.personal td:nth-child(3) {{ color: #b35c00; }} ul {{ margin: 0; padding-left: 1.1rem; }}
</style></head><body>
<h1>Data map — {e(dm["organization"])}</h1><p>Generated {e(dm["generated_at"])}.</p>
<h2>AI purposes and the sources that feed them</h2><ul>{ai}</ul>
<h2>Sources</h2>
<table><thead><tr><th>source</th><th>kind</th><th>level</th><th>holds</th><th>purposes (basis)</th>
<th>retention</th><th>vendors</th><th>findings</th></tr></thead><tbody>
{"".join(rows)}
</tbody></table></body></html>
"""
