"""The policy's ``web.trackers`` and ``web.cookies`` entries for what a scan found.

The banner blocks what these lists say needs consent, so they must follow the site: a scan writes
them. A suggestion never turns a violation into a pass: an item whose category is unknown is
suggested as ``marketing`` (blocked until consent) and marked for review, and a third-party item the
database calls necessary — which needed consent on this site (verdict.py) — is suggested as
``functional``, also marked. Declaring something necessary stays a decision a person makes.
Entries the policy already declares are left out.
"""

from __future__ import annotations

import json
from typing import Any

from consentgate.scan.knowledge import EXEMPT, Category

UNKNOWN_AS = Category.MARKETING


def _suggest(item: dict[str, Any]) -> tuple[str, str | None]:
    """The category to write, and why a person should look at it (None when nothing to review)."""
    category = str(item["category"])
    if category == Category.UNKNOWN:
        return UNKNOWN_AS.value, "unclassified by the scan: blocked until consent; set the real category"
    if item.get("verdict") == "needs_consent" and Category(category) in EXEMPT:
        return Category.FUNCTIONAL.value, f"the database says {category}, but a third party sets it; review"
    return category, None


def _declared(item: dict[str, Any]) -> bool:
    source = str(item.get("category_source", ""))
    return source == "policy" or source.endswith("(policy)")


def suggest_policy(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """``{"trackers": [...], "cookies": [...]}``: one entry per third-party host and per name."""
    trackers = []
    for h in doc.get("hosts", []):
        if _declared(h):
            continue
        category, review = _suggest(h)
        entry: dict[str, Any] = {"host": h["host"], "category": category}
        if h.get("vendor"):
            entry["vendor"] = h["vendor"]
        trackers.append((entry, review))
    cookies: dict[str, tuple[dict[str, Any], str | None]] = {}
    for item in [*doc.get("cookies", []), *doc.get("storage", [])]:
        name = item.get("name") or item.get("key")
        if not name or _declared(item):
            continue
        category, review = _suggest(item)
        previous = cookies.get(name)
        if previous is not None and previous[0]["category"] == category:
            continue
        entry = {"name": name, "category": category}
        if item.get("description"):
            entry["description"] = str(item["description"])[:200]
        if previous is None or review is not None:  # the same name twice: the one to review wins
            cookies[name] = (entry, review)
    return {
        "trackers": [e | ({"_review": r} if r else {}) for e, r in trackers],
        "cookies": [e | ({"_review": r} if r else {}) for e, r in cookies.values()],
    }


def render_yaml(suggestion: dict[str, list[dict[str, Any]]], site: str) -> str:
    """The suggestion as a ``web:`` block to paste into the policy, review notes as comments."""
    lines = [f"# web.trackers and web.cookies for {site}, written by `consentgate scan`", "web:"]
    for key in ("trackers", "cookies"):
        entries = suggestion[key]
        lines.append(f"  {key}:" + ("" if entries else " []"))
        for entry in entries:
            review = entry.get("_review")
            if review:
                lines.append(f"    # REVIEW: {review}")
            fields = [f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in entry.items() if k != "_review"]
            lines.append("    - {" + ", ".join(fields) + "}")
    return "\n".join(lines) + "\n"
