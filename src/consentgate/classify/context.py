"""One pass over the text that finds every context phrase the detectors ask about.

All phrases of all languages go into one Aho–Corasick automaton (pyahocorasick), so the text is read
once whatever the number of phrases; detectors then ask "which phrase ends just before offset N?"
with a binary search instead of running hundreds of regular expressions.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick

from consentgate.classify.addresses import street_vocabulary
from consentgate.classify.findings import EntityType
from consentgate.classify.lexicon import (
    DOB_CONTEXT,
    GREETINGS,
    ID_CONTEXT,
    ID_NEGATIVE_CONTEXT,
    INFIX_GROUPS,
    NAME_INTRO_STRONG,
    STREET_TRIGGERS,
)

# Kinds of phrase.
DOB = "dob"
STREET = "street:"  # prefix of street-word kinds ("street:en", "street:de", …): gates address patterns
INTRO = "intro"
GREET = "greet"
NEG = "neg"


@dataclass(frozen=True, slots=True)
class Hit:
    start: int
    end: int
    kind: str  # DOB, INTRO, GREET, NEG, or an EntityType value for identifier contexts
    phrase: str


@lru_cache(maxsize=1)
def _automaton() -> ahocorasick.Automaton:
    table: dict[str, list[str]] = {}

    def add(phrase: str, kind: str) -> None:
        kinds = table.setdefault(phrase.lower(), [])
        if kind not in kinds:
            kinds.append(kind)

    for phrase, entity in ID_CONTEXT.items():
        for variant in _spellings(phrase):
            add(variant, entity.value)
    for phrase in ID_NEGATIVE_CONTEXT:
        for variant in _spellings(phrase):
            add(variant, NEG)
    for phrase in DOB_CONTEXT:
        for variant in _spellings(phrase):
            add(variant, DOB)
    for phrase in NAME_INTRO_STRONG:
        add(phrase, INTRO)
    for phrase in GREETINGS:
        add(phrase, GREET)
    vocabulary = street_vocabulary()
    for group, words in STREET_TRIGGERS.items():
        for phrase in {*words.split(), *(w.lower() for w in vocabulary.get(group, ()))}:
            add(phrase, STREET + group)
    auto = ahocorasick.Automaton()
    for phrase, kinds in table.items():
        auto.add_word(phrase, (phrase, tuple(kinds)))
    auto.make_automaton()
    return auto


def _spellings(phrase: str) -> set[str]:
    """ "customer id" is also written customer-id, customer_id and customerid in forms and logs."""
    if " " not in phrase:
        return {phrase}
    return {phrase, phrase.replace(" ", "-"), phrase.replace(" ", "_"), phrase.replace(" ", "")}


def lower_same_length(text: str) -> str:
    """``text.lower()`` with every offset kept: a few characters (İ) lower to two code points."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(lc := c.lower()) != 1 else lc for c in text)


def _is_word(ch: str) -> bool:
    return ch.isalnum()


class ContextIndex:
    """Context phrases found in one text, ordered by where they end."""

    __slots__ = ("_ends", "hits", "kinds", "lower", "streets")

    def __init__(self, text: str) -> None:
        self.lower = lower_same_length(text)
        low = self.lower
        n = len(low)
        hits: list[Hit] = []
        streets: list[Hit] = []
        for end_incl, (phrase, kinds) in _automaton().iter(low):
            start = end_incl - len(phrase) + 1
            end = end_incl + 1
            infix = [k for k in kinds if k.startswith(STREET) and k[len(STREET) :] in INFIX_GROUPS]
            for kind in infix:  # street words also end compounds: Goethestraße, Lindenallee
                if end >= n or not _is_word(low[end]):
                    streets.append(Hit(start, end, kind, phrase))
            # Whole words only: "order" must not fire inside "border", "em" inside "them".
            if start > 0 and _is_word(low[start - 1]) and _is_word(phrase[0]):
                continue
            if end < n and _is_word(low[end]) and _is_word(phrase[-1]):
                continue
            for kind in kinds:
                if kind in infix:
                    continue
                (streets if kind.startswith(STREET) else hits).append(Hit(start, end, kind, phrase))
        hits.sort(key=lambda h: (h.end, h.start))
        self.kinds = frozenset(h.kind for h in hits)
        self.hits = hits
        self.streets = streets
        self._ends = [h.end for h in hits]

    def before(self, pos: int, window: int) -> list[Hit]:
        """Hits that end in ``[pos - window, pos]``, nearest last."""
        hi = bisect_right(self._ends, pos)
        lo = bisect_right(self._ends, pos - window - 1, 0, hi)
        return self.hits[lo:hi]

    def after(self, pos: int, window: int) -> list[Hit]:
        """Hits that start in ``[pos, pos + window]``."""
        lo = bisect_right(self._ends, pos)
        out = []
        for h in self.hits[lo:]:
            if h.start > pos + window + 40:
                break
            if pos <= h.start <= pos + window:
                out.append(h)
        return out

    def of_kind(self, kind: str) -> list[Hit]:
        return [h for h in self.hits if h.kind == kind]


ID_KINDS = frozenset(e.value for e in (EntityType.USER_ID, EntityType.COOKIE_ID, EntityType.DEVICE_ID,
                                        EntityType.HASHED_EMAIL))  # fmt: skip
