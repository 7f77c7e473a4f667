"""First-name and surname gazetteers, read from the per-locale name lists that Faker maintains.

Faker (a well-kept package, MIT) ships curated first names and surnames for dozens of locales; we read
the lists of the four supported languages' countries plus the countries whose names are common among
their residents. Nothing is downloaded: the lists are Python modules inside the installed package.
"""

from __future__ import annotations

import importlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from consentgate.classify.lexicon import AMBIGUOUS_FIRST_NAMES, NOT_NAMES

LOCALES = (
    "en_US", "en_GB", "en_IE", "en_NZ", "en_IN",
    "de_DE", "de_AT", "de_CH", "fr_FR", "fr_CH", "fr_CA", "fr_BE", "es_ES", "es_MX", "es_AR", "es_CO",
    "es_CL", "it_IT", "pt_PT", "pt_BR", "nl_NL", "nl_BE", "pl_PL", "tr_TR", "cs_CZ", "sv_SE", "da_DK",
    "ro_RO", "hu_HU", "fi_FI", "no_NO", "hr_HR", "sk_SK", "sl_SI",
)  # fmt: skip
# A first name alone (no surname, no title) counts only when it is common where the four supported
# languages are spoken; names known only from other locales need a surname or a title beside them.
PRIMARY_LOCALES = frozenset(
    {"en_US", "en_GB", "en_IE", "de_DE", "de_AT", "de_CH", "fr_FR", "fr_CH", "es_ES", "es_MX"}
)


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """Case- and accent-insensitive key: ``García`` and ``GARCIA`` both become ``garcia``."""
    if word.isascii():
        return word.lower().replace("’", "'")
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("’", "'")


@dataclass(frozen=True)
class Gazetteer:
    first: frozenset[str]
    last: frozenset[str]
    ambiguous: frozenset[str]
    primary_first: frozenset[str]

    def is_primary_first(self, word: str) -> bool:
        key = fold(word)
        return key in self.primary_first or ("-" in key and all(p in self.first for p in key.split("-")))

    def is_first(self, word: str) -> bool:
        key = fold(word)
        if key in self.first:
            return True
        if "-" in key:  # Jean-Pierre, Hans-Peter, María-José
            parts = key.split("-")
            return all(p in self.first for p in parts)
        return False

    def is_last(self, word: str) -> bool:
        key = fold(word)
        if key in self.last:
            return True
        if "-" in key:  # Müller-Lüdenscheidt, García-Márquez
            return any(p in self.last for p in key.split("-"))
        return False

    def is_ambiguous(self, word: str) -> bool:
        return fold(word) in self.ambiguous


def _names(values: object) -> Iterable[str]:
    if isinstance(values, dict):
        return (str(k) for k in values)
    if isinstance(values, (tuple, list, set, frozenset)):
        return (str(v) for v in values)
    return ()


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    first: set[str] = set()
    last: set[str] = set()
    primary: set[str] = set()
    for locale in LOCALES:
        try:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        except (ImportError, AttributeError):  # pragma: no cover - a Faker release without the locale
            continue
        for attr in ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary"):
            names = {fold(n) for n in _names(getattr(provider, attr, ())) if _usable(n)}
            first.update(names)
            if locale in PRIMARY_LOCALES:
                primary.update(names)
        for attr in ("last_names", "last_names_male", "last_names_female"):
            last.update(fold(n) for n in _names(getattr(provider, attr, ())) if _usable(n))
    not_names = {fold(w) for w in NOT_NAMES}
    ambiguous = {fold(w) for w in AMBIGUOUS_FIRST_NAMES}
    return Gazetteer(
        first=frozenset(first - not_names),
        last=frozenset(last - not_names),
        ambiguous=frozenset(ambiguous),
        primary_first=frozenset(primary - not_names - ambiguous),
    )


def _usable(name: str) -> bool:
    # Latin-script single words only; multi-word entries ("de la Cruz") are handled by particles.
    return (len(name) >= 2 and " " not in name and name[0].isupper() and name.isascii()) or (
        len(name) >= 2
        and " " not in name
        and name[0].isupper()
        and all(c.isalpha() or c in "-'" for c in name)
        and all(ord(c) < 0x250 for c in name)
    )
