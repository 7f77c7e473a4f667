"""The text scanner: runs every detector over a text and settles overlaps.

Order matters. Shaped identifiers (e-mail, IBAN, card, IP, phone, ids) are found first; dates and
street addresses next; names last, with everything found before blocked, so "anna.schmidt@example.com"
is one e-mail and not a name, and "Calle de Miguel de Cervantes 12" one address. Where findings of
different types still overlap, the higher score wins, then the longer span.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from consentgate.classify.addresses import addresses
from consentgate.classify.context import STREET, ContextIndex
from consentgate.classify.dates import birth_dates
from consentgate.classify.findings import EntityType, Finding
from consentgate.classify.gazetteer import fold
from consentgate.classify.identifiers import identifiers
from consentgate.classify.ner import NerModel
from consentgate.classify.persons import persons
from consentgate.classify.structured import cards, emails, ibans, ip_addresses, phones

_LOCAL_PARTS = re.compile(r"[._+\-\d]+")
URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+", re.I)

# Ties between overlapping findings of equal score go to the more specific type.
PRIORITY = {
    EntityType.EMAIL: 0, EntityType.IBAN: 1, EntityType.CREDIT_CARD: 2, EntityType.HASHED_EMAIL: 3,
    EntityType.DEVICE_ID: 4, EntityType.COOKIE_ID: 5, EntityType.IP_ADDRESS: 6, EntityType.DATE_OF_BIRTH: 7,
    EntityType.USER_ID: 8, EntityType.STREET_ADDRESS: 9, EntityType.PHONE: 10, EntityType.PERSON: 11,
}  # fmt: skip


@dataclass
class Scanner:
    """Finds identifiers in free text. Build one and reuse it: it holds no per-text state.

    ``types`` limits the report to some types; ``min_score`` drops weak findings; ``ner`` adds an
    installed spaCy model's PERSON entities (optional, never downloaded).
    """

    types: frozenset[EntityType] = field(default_factory=lambda: frozenset(EntityType))
    min_score: float = 0.4
    ner: NerModel | None = None

    def scan(self, text: str, lang: str | None = None) -> list[Finding]:
        if not text:
            return []
        ctx = ContextIndex(text)
        shaped: list[Finding] = [
            *emails(text),
            *ibans(text),
            *cards(text),
            *ip_addresses(text),
            *identifiers(text, ctx),
            *phones(text, lang),
        ]
        shaped = _resolve(shaped)
        taken = [(f.start, f.end) for f in shaped]
        shaped.extend(birth_dates(text, ctx))
        triggers = [(h.kind[len(STREET) :], h.start, h.end) for h in ctx.streets]
        shaped.extend(f for f in addresses(text, triggers) if not _overlaps_any(f, taken))
        shaped = _resolve(shaped)
        blocked = sorted(
            [(f.start, f.end) for f in shaped if f.type is not EntityType.PERSON]
            + [m.span() for m in URL.finditer(text)]
        )
        evidence = frozenset(
            fold(part)
            for f in shaped
            if f.type is EntityType.EMAIL
            for part in _LOCAL_PARTS.split(text[f.start : f.end].split("@", 1)[0])
            if len(part) > 2
        )
        people = list(persons(text, ctx, blocked, evidence))
        if self.ner is not None:
            people.extend(f for f in self.ner.persons(text, lang) if not _overlaps_any(f, blocked))
        found = _resolve([*shaped, *people])
        return [f for f in found if f.type in self.types and f.score >= self.min_score]

    def scan_many(self, texts: Iterable[str], lang: str | None = None) -> list[list[Finding]]:
        return [self.scan(t, lang) for t in texts]


def _overlaps_any(f: Finding, spans: Sequence[tuple[int, int]]) -> bool:
    return any(s < f.end and f.start < e for s, e in spans)


def _resolve(findings: list[Finding]) -> list[Finding]:
    """Merge overlapping findings of one type into their union; between types keep the best."""
    if not findings:
        return []
    by_type: dict[EntityType, list[Finding]] = {}
    for f in findings:
        by_type.setdefault(f.type, []).append(f)
    merged: list[Finding] = []
    for items in by_type.values():
        items.sort(key=lambda f: f.start)
        cur = items[0]
        for f in items[1:]:
            if f.start < cur.end:
                best = cur if cur.score >= f.score else f
                cur = Finding(cur.start, max(cur.end, f.end), cur.type, max(cur.score, f.score), best.rule)
            else:
                merged.append(cur)
                cur = f
        merged.append(cur)
    merged.sort(key=lambda f: (-f.score, PRIORITY[f.type], -(f.end - f.start)))
    # Greedy by rank; kept spans never overlap, so their starts and ends sort alike and one bisection
    # finds the only neighbours a new span could overlap.
    starts: list[int] = []
    kept: list[Finding] = []
    for f in merged:
        i = bisect_right(starts, f.start)
        if i > 0 and kept[i - 1].end > f.start:
            continue
        if i < len(kept) and kept[i].start < f.end:
            continue
        starts.insert(i, f.start)
        kept.insert(i, f)
    return kept
