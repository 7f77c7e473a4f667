"""The console speaks the privacy center's languages: every file complete, with the glossary's legal
terms, every page rendered in every one of them (the templates fail on a missing string), right to
left where the script is."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from consentgate.web import console_i18n, i18n
from tests.console.conftest import sign_in
from tests.web.test_glossary import CONCEPTS, TERMS, uses

PAGES = ("/console", "/console/ledger", "/console/requests", "/console/website", "/console/data-map",
         "/console/risk", "/console/sign-in")  # fmt: skip


def test_the_console_offers_exactly_the_privacy_centers_locales() -> None:
    # Issue 16: "in English plus the locales the privacy center has". A locale added to the privacy
    # center without a console file (or the other way round) fails here, so the two cannot drift.
    assert set(console_i18n.available()) == set(i18n.available())
    assert {code for code, _ in console_i18n.languages()} == set(i18n.available())


@pytest.mark.parametrize(
    ("requested", "expected"),
    [("pt-BR", "pt-BR"), ("pt-PT", "pt"), ("sr", "sr"), ("de-AT", "de"), ("he", "he"), ("sw", "en")],
)
def test_a_locale_the_console_lacks_falls_back_to_its_language_then_english(
    requested: str, expected: str
) -> None:
    assert console_i18n.negotiate(requested, None, "en") == expected


@pytest.mark.parametrize("locale", console_i18n.available())
def test_every_locale_has_every_string(locale: str) -> None:
    english = console_i18n.strings("en")
    strings = console_i18n.strings(locale)
    assert set(strings) == set(english)
    for key, text in strings.items():
        assert text.strip(), key
        assert set(re.findall(r"{\w+}", text)) == set(re.findall(r"{\w+}", english[key])), key


# The product's name says "consent" in every language; it is not a translation of the term.
PRODUCT = re.compile(r"consentgate", re.IGNORECASE)


def _named(text: str, locale: str) -> set[str]:
    return {c for c in CONCEPTS if uses(PRODUCT.sub("", text), TERMS[locale][c])}


@pytest.mark.parametrize("locale", console_i18n.available())
def test_every_string_naming_a_legal_term_uses_the_glossarys_rendering(locale: str) -> None:
    # web/glossary.json fixes one rendering per concept and locale (issue 17 item 5); the console's
    # strings are held to it too. The English string decides which concepts a key names, so a new key
    # cannot skip the check.
    english, strings = console_i18n.strings("en"), console_i18n.strings(locale)
    wrong = [
        f"{key}: {strings[key]!r} lacks {sorted(_named(text, 'en') - _named(strings[key], locale))}"
        for key, text in english.items()
        if not _named(text, "en") <= _named(strings[key], locale)
    ]
    assert not wrong, f"{locale} console strings missing the glossary term: {wrong}"


def test_the_glossary_check_reads_the_console_strings() -> None:
    # The check above is not vacuous: English console strings name consent, and a wrong rendering
    # would be caught.
    assert _named(console_i18n.strings("en")["console"], "en") == {"consent"}
    assert _named("Consentgate datamap", "en") == set()
    assert _named("Einwilligungskonsole", "de") == {"consent"}
    assert _named("Zustimmungskonsole", "de") == set()


def test_every_page_renders_in_every_locale(console_client: TestClient, console_keys: dict[str, str]) -> None:
    sign_in(console_client, console_keys["audit"])
    for locale in console_i18n.available():
        strings = console_i18n.strings(locale)
        for path in PAGES:
            response = console_client.get(path, params={"lang": locale})
            assert response.status_code == 200, (locale, path)
            assert f'<html lang="{locale}" dir="{i18n.direction(locale)}">' in response.text
            assert strings["console"] in response.text
            if path == "/console/data-map":  # the self-training mark is named, not a bare symbol
                assert f'role="img" aria-label="{escape(strings["self_training"])}"' in response.text
    # The last choice sticks (a cookie on /console) without the query parameter.
    console_client.get("/console/ledger", params={"lang": "he"})
    assert '<html lang="he" dir="rtl">' in console_client.get("/console/risk").text


def test_accept_language_picks_the_console_language(
    console_client: TestClient, console_keys: dict[str, str]
) -> None:
    page = console_client.get("/console/sign-in", headers={"Accept-Language": "fr-CA, de;q=0.5"}).text
    assert '<html lang="fr"' in page
    assert "Connectez-vous avec une clé" in page
