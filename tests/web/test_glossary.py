"""The legal terms read the same in every string of a locale (issue 17 item 5).

``web/glossary.json`` names, per locale, the one rendering of each legal concept (consent, withdraw,
object, opt-out, erase) with the inflected stems its grammar needs, and tags each interface key with
the concepts it expresses. A string that says "logged out" where the locale's term for opt-out is
"objection", or "delete" in one button and "erase" in the next, fails here.
"""

from __future__ import annotations

import json
import re
import unicodedata
from importlib.resources import files

import pytest

from consentgate.web import i18n

GLOSSARY = json.loads((files("consentgate.web") / "glossary.json").read_text(encoding="utf-8"))
CONCEPTS = set(GLOSSARY["concepts"])
TAGS: dict[str, list[str]] = GLOSSARY["keys"]
TERMS: dict[str, dict[str, list[str]]] = GLOSSARY["terms"]


# "(opt-out)" after a translated term is a gloss for readers who know the English; it must not stand in
# for the term itself ("Abgemeldet (Opt-out)" says "logged out").
ENGLISH_GLOSS = re.compile(r"\s*\(opt-out\)", re.IGNORECASE)


def fold(text: str) -> str:
    """Lower case without combining marks: Turkish "İ" lowers to "i" plus a dot, Arabic vowel signs
    are optional; neither should decide whether a term is used."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def uses(text: str, forms: list[str]) -> bool:
    text = fold(ENGLISH_GLOSS.sub("", text))
    return any(fold(form) in text for form in forms)


def test_every_interface_locale_has_a_glossary_of_every_concept() -> None:
    assert set(TERMS) == set(i18n.available())
    for locale, terms in TERMS.items():
        assert set(terms) == CONCEPTS, locale
        for concept, forms in terms.items():
            assert forms, f"{locale}.{concept} has no term"
            assert all(form == form.lower().strip() and form for form in forms), f"{locale}.{concept}"


def test_the_tags_are_the_english_strings_that_name_a_concept() -> None:
    # Tagged keys must say the concept in English, and every English string that says it is tagged:
    # a new key that mentions erasure cannot skip the check by not being listed.
    english = i18n.strings("en")
    assert set(TAGS) <= set(english)
    assert {c for tags in TAGS.values() for c in tags} == CONCEPTS
    for key, text in english.items():
        named = {c for c in CONCEPTS if uses(text, TERMS["en"][c])}
        assert named == set(TAGS.get(key, [])), f"en.{key} names {sorted(named)}; tagged {TAGS.get(key)}"


@pytest.mark.parametrize("locale", i18n.available())
def test_every_tagged_string_uses_the_locales_term(locale: str) -> None:
    strings = i18n.strings(locale)
    wrong = [
        f"{key} ({concept}): {strings[key]!r}"
        for key, concepts in TAGS.items()
        for concept in concepts
        if not uses(strings[key], TERMS[locale][concept])
    ]
    assert not wrong, f"{locale} strings missing the glossary term: {wrong}"
