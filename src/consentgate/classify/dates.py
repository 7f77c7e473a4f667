"""Dates written the ways people write them in en/de/fr/es, and which of them are birth dates.

A date is a birth date when a birth phrase ("born", "geb.", "née le", "fecha de nacimiento") stands
just before it — with no other date in between — or a phrase such as "is my birthday" just after.
Order dates, log timestamps and delivery dates stay unreported: they are not personal on their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from consentgate.classify.context import DOB, ContextIndex, Hit
from consentgate.classify.findings import EntityType, Finding
from consentgate.classify.lexicon import MONTHS

_MONTH = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))
_DAY_SUFFIX = r"(?:st|nd|rd|th|er|ᵉʳ|º|°|\.)?"
DATE = re.compile(
    rf"""(?<![\w.:/-])(?:
      (?P<n1>\d{{1,2}})\s?(?P<s1>[./-])\s?(?P<n2>\d{{1,2}})\s?(?P=s1)\s?(?P<n3>\d{{4}}|\d{{2}})
    | (?P<iy>\d{{4}})(?P<s2>[-/.])(?P<im>\d{{1,2}})(?P=s2)(?P<id>\d{{1,2}})
    | (?:(?i:the)\s+)?(?P<td>\d{{1,2}}){_DAY_SUFFIX}\s+(?:(?i:of|de)\s+)?(?P<tm>(?i:{_MONTH}))\.?,?
      (?:\s+(?:(?i:de|del)\s+)?(?P<ty>\d{{4}}))?
    | (?P<mm>(?i:{_MONTH}))\.?\s+(?P<md>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<my>\d{{4}}))?
    )(?![\w]|[./-]\d)""",
    re.X,
)
YEAR_AFTER_BIRTH = re.compile(
    r"(?i:born\s+in|born|geboren|jahrgang|geburtsjahr:?|né\s+en|née\s+en|nacido\s+en|nacida\s+en"
    r"|año\s+de\s+nacimiento:?|year\s+of\s+birth:?|birth\s+year:?)\s*[:\-–]?\s*(?:in\s+|im\s+jahr\s+)?"
    r"(?P<y>(?:19|20)\d{2})(?!\d)"
)
_AFTER = re.compile(
    r"^[\s,)(]*(?:\(?(?:dob|d\.o\.b\.?|geb\.?|birthday|date of birth|geburtsdatum|geburtstag"
    r"|date de naissance|anniversaire|fecha de nacimiento|cumpleaños)\b|is my birthday|ist mein geburtstag"
    r"|geboren\b|born\b|née?\b|nacid[oa]\b"
    r"|es mi cumpleaños|c'est mon anniversaire)",
    re.I,
)

MAX_GAP = 40
_YEAR = re.compile(r"\d{4}")


def _plausible(m: re.Match[str]) -> bool:
    g = m.groupdict()
    if g["n1"] is not None:
        a, b = int(g["n1"]), int(g["n2"])
        return 1 <= a <= 31 and 1 <= b <= 31 and (a <= 12 or b <= 12)
    if g["iy"] is not None:
        return 1900 <= int(g["iy"]) <= 2099 and 1 <= int(g["im"]) <= 12 and 1 <= int(g["id"]) <= 31
    if g["td"] is not None:
        return 1 <= int(g["td"]) <= 31 and (g["ty"] is None or 1900 <= int(g["ty"]) <= 2099)
    return 1 <= int(g["md"]) <= 31 and (g["my"] is None or 1900 <= int(g["my"]) <= 2099)


def _has_year(m: re.Match[str]) -> bool:
    g = m.groupdict()
    return not (g["td"] is not None and g["ty"] is None) and not (g["mm"] is not None and g["my"] is None)


def dates(text: str) -> Iterator[tuple[int, int, bool]]:
    """Every plausible date as ``(start, end, has_year)``."""
    for m in DATE.finditer(text):
        if _plausible(m):
            yield m.start(), m.end(), _has_year(m)


_ANSWER_PREFIX = re.compile(r"[^\d\n]{0,32}$")


def _asked_on_previous_line(text: str, ctx: ContextIndex, start: int, prev_end: int) -> list[Hit]:
    """Chats answer on the next line: "Agent: your date of birth?" / "Customer: 12.03.1985"."""
    line_start = text.rfind("\n", 0, start) + 1
    if line_start == 0 or not _ANSWER_PREFIX.match(text, line_start, start) or prev_end > line_start:
        return []
    prev_start = text.rfind("\n", 0, line_start - 1) + 1
    return [
        h for h in ctx.before(line_start, line_start - prev_start) if h.kind == DOB and h.start >= prev_start
    ]


def birth_dates(text: str, ctx: ContextIndex) -> Iterator[Finding]:
    if DOB not in ctx.kinds:
        return  # every rule below needs a birth phrase somewhere in the text
    found = list(dates(text))
    prev_end = 0
    for i, (start, end, has_year) in enumerate(found):
        floor = max(prev_end, start - MAX_GAP, text.rfind("\n", 0, start) + 1)
        hits = [h for h in ctx.before(start, MAX_GAP) if h.kind == DOB and h.start >= floor]
        if not hits:
            hits = _asked_on_previous_line(text, ctx, start, prev_end)
        prev_end = end
        if hits:
            gap = start - hits[-1].end
            cross_line = "\n" in text[hits[-1].end : start]
            if (len(hits[-1].phrase) > 3 or gap <= 12 or cross_line) and (
                cross_line or not _YEAR.search(text, hits[-1].end, start)
            ):
                yield Finding(start, end, EntityType.DATE_OF_BIRTH, 0.9 if has_year else 0.7, "dob_context")
                continue
        nxt = found[i + 1][0] if i + 1 < len(found) else len(text)
        after = _AFTER.match(text[end : min(nxt, end + 40)])
        # "…, DOB 1980-01-01": a phrase right before the next date belongs to that date.
        if after and not (nxt < len(text) and nxt - (end + after.end()) <= 16):
            yield Finding(start, end, EntityType.DATE_OF_BIRTH, 0.85, "dob_context_after")
    for m in YEAR_AFTER_BIRTH.finditer(text):
        yield Finding(m.start("y"), m.end("y"), EntityType.DATE_OF_BIRTH, 0.6, "birth_year")
