"""Where AI training use of data is riskiest, read from the policy alone: a plain function.

Four lists a privacy lead asks for before an audit (docs/console.md, "Risk"):

* **AI purposes fed by personal or sensitive data**, with the lawful basis in every region — the
  combinations a regulator looks at first (EDPB Opinion 28/2024 on AI models, GDPR Art. 6 and 9);
* **notices missing a translation**: a version in force (or coming) that lacks a locale other notices
  offer, so some people would be shown another language's wording (or none they can read);
* **vendors allowed to train their own models** on the data, and whether the policy records that as
  a decision (``self_training_approved``);
* **sources without a retention period** (GDPR Art. 5(1)(e), storage limitation).

A source's level here is what the policy *declares* (its ``personal`` flag and data categories), not
what classification found in its data: ``consentgate datamap`` classifies the data itself. A source
that declares neither is ``unknown``, never assumed harmless.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from consentgate.classify.sensitive import ART9_COLUMN_WORDS
from consentgate.policy import Policy
from consentgate.policy.models import Source

DEFAULT_REGION = "*"


def declared_level(source: Source) -> str:
    """``sensitive``, ``personal``, ``non_personal`` or ``unknown``, from the declaration.

    Sensitive when a data category names a GDPR Art. 9 special category (``user.health``,
    ``user.demographic.religious_belief``); personal when the source says so or declares a ``user.``
    category (fideslang's data about people).
    """
    if any(special_category(c) for c in source.categories):
        return "sensitive"
    if source.personal or any(c == "user" or c.startswith("user.") for c in source.categories):
        return "personal"
    if source.personal is False:
        return "non_personal"
    return "unknown"


def special_category(category: str) -> str | None:
    """The Art. 9 special category a data category names, if any (``user.health_and_medical`` →
    ``health``), by the same words classification looks for in column names."""
    for segment in category.lower().split("."):
        for word in (segment, *re.split(r"[_\-]", segment)):
            found = ART9_COLUMN_WORDS.get(word)
            if found is not None and word not in _TOO_VAGUE:
                return found
    return None


# Column-name words that are too common in category names to mean a special category on their own.
_TOO_VAGUE = frozenset({"condition", "party", "union", "orientation", "belief", "beliefs", "treatment"})


def risk_report(policy: Policy, *, at: datetime | None = None) -> dict[str, Any]:
    """The four lists, as JSON-ready data; ``at`` decides which notice versions are in force."""
    at = at or datetime.now(UTC)
    return {
        "at": at.isoformat(),
        "ai_purposes": _ai_purposes(policy),
        "notices_missing_translation": _missing_translations(policy, at),
        "self_training_vendors": [
            {
                "vendor": v.id,
                "name": v.name or v.id,
                "purposes": list(v.purposes),
                "approved": v.self_training_approved,
            }
            for v in policy.vendors
            if v.self_training
        ],
        "sources_without_retention": [
            {"source": s.id, "kind": s.kind, "level": declared_level(s), "purposes": list(s.purposes)}
            for s in policy.sources
            if s.retention_days is None
        ],
    }


def _ai_purposes(policy: Policy) -> list[dict[str, Any]]:
    regions = [*policy.regions, DEFAULT_REGION]
    out = []
    for p in policy.purposes:
        if not p.is_ai:
            continue
        feeding = [
            {"source": s.id, "level": declared_level(s), "categories": list(s.categories)}
            for s in policy.sources
            if p.id in s.purposes and declared_level(s) in ("personal", "sensitive", "unknown")
        ]
        if not feeding:
            continue
        basis = {r: (p.basis.get(r) or p.basis.get(DEFAULT_REGION)) for r in regions}
        out.append(
            {
                "purpose": p.id,
                "title": p.title,
                "kind": p.kind.value,
                "sources": feeding,
                "sensitive": any(f["level"] == "sensitive" for f in feeding),
                "basis": {r: (b.value if b is not None else "none") for r, b in basis.items()},
            }
        )
    # Sensitive data first: special categories need an Art. 9(2) condition on top of a basis.
    return sorted(out, key=lambda e: (not e["sensitive"], e["purpose"]))


def _missing_translations(policy: Policy, at: datetime) -> list[dict[str, Any]]:
    """Versions in force at ``at`` or later that lack a locale offered by any of those versions (or
    the site's default locale)."""
    shown = [
        (n.id, v)
        for n in policy.notices
        for v in n.versions
        if v is policy.current_version(n.id, at) or v.effective_from > at
    ]
    expected = {policy.web.default_locale, *(loc for _, v in shown for loc in v.text)}
    out = []
    for notice_id, v in shown:
        missing = sorted(loc for loc in expected if not _offers(v.text, loc))
        if missing:
            out.append(
                {
                    "notice": notice_id,
                    "version": str(v.version),
                    "effective_from": v.effective_from.isoformat(),
                    "locales": sorted(v.text),
                    "missing": missing,
                }
            )
    return out


def _offers(text: dict[str, str], locale: str) -> bool:
    lowered = {k.lower() for k in text}
    return locale.lower() in lowered
