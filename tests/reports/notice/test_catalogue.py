"""Every banner language has the notice's frame text: every key, the same placeholders, the locale's
legal terms (web/glossary.json), and right-to-left pages for right-to-left scripts."""

from __future__ import annotations

from html import escape
from importlib.resources import files

import pytest

from consentgate.policy import Policy
from consentgate.policy.locales import INTERFACE_LOCALES
from consentgate.reports.notice import render_notice
from consentgate.reports.notice.catalogue import placeholders, strings
from consentgate.web import i18n
from tests.web.test_glossary import CONCEPTS, TERMS, uses

from .support import EN

# The concepts each English string names: a translation of it must name them in the locale's terms.
TAGS = {key: {c for c in CONCEPTS if uses(text, TERMS["en"][c])} for key, text in EN.items()}


def test_there_is_one_catalogue_per_banner_language() -> None:
    folder = files("consentgate.reports.notice") / "i18n"
    found = sorted(f.name.removesuffix(".json") for f in folder.iterdir() if f.name.endswith(".json"))
    assert found == sorted(INTERFACE_LOCALES)


@pytest.mark.parametrize("locale", INTERFACE_LOCALES)
def test_every_catalogue_has_every_key_with_its_placeholders(locale: str) -> None:
    texts = strings(locale)
    assert list(texts) == list(EN)
    for key, text in texts.items():
        assert text.strip(), f"{locale}.{key} is empty"
        assert placeholders(text) == placeholders(EN[key]), f"{locale}.{key}: {text!r}"
    if locale != "en":
        # A file copied from English would pass the checks above; a translation differs in most strings.
        same = [k for k in EN if texts[k] == EN[k] and placeholders(EN[k]) != {EN[k].strip("{}")}]
        assert len(same) < len(EN) // 10, f"{locale} repeats the English of {same}"


def test_the_notice_names_every_legal_concept() -> None:
    # Otherwise the check below would pass for lack of anything to check.
    assert set().union(*TAGS.values()) == CONCEPTS


@pytest.mark.parametrize("locale", INTERFACE_LOCALES)
def test_every_string_naming_a_legal_concept_uses_the_locales_term(locale: str) -> None:
    texts = strings(locale)
    wrong = [
        f"{key} ({concept}): {texts[key]!r}"
        for key, concepts in TAGS.items()
        for concept in concepts
        if not uses(texts[key], TERMS[locale][concept])
    ]
    assert not wrong, f"{locale} strings missing the glossary term: {wrong}"


@pytest.mark.parametrize("locale", INTERFACE_LOCALES)
def test_the_html_page_has_the_locales_language_and_direction(example_policy: Policy, locale: str) -> None:
    page = render_notice(example_policy, locale, "html")
    direction = "rtl" if i18n.language(locale) in i18n.RTL_LANGUAGES else "ltr"
    assert f"<html lang='{locale}' dir='{direction}'>" in page
    assert f"<h1>{escape(strings(locale)['title'])}</h1>" in page
