"""The console speaks the privacy center's languages: every file complete, every page rendered in
every one of them (the templates fail on a missing string), right to left where the script is."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from consentgate.web import console_i18n, i18n
from tests.console.conftest import sign_in

PAGES = ("/console", "/console/ledger", "/console/requests", "/console/website", "/console/data-map",
         "/console/risk", "/console/sign-in")  # fmt: skip


def test_the_console_offers_a_subset_of_the_privacy_centers_locales() -> None:
    # The console is read by the operator's team, not by the people whose data it is: it keeps every
    # official EU language (and Arabic and Hebrew) while the banner and privacy center grow further.
    offered = set(console_i18n.available())
    assert offered <= set(i18n.available())
    assert offered >= {"bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu", "it",
                       "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv", "ar", "he"}  # fmt: skip


@pytest.mark.parametrize(
    ("requested", "expected"), [("pt-BR", "pt"), ("sr", "en"), ("de-AT", "de"), ("he", "he")]
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


def test_every_page_renders_in_every_locale(console_client: TestClient, console_keys: dict[str, str]) -> None:
    sign_in(console_client, console_keys["audit"])
    for locale in console_i18n.available():
        strings = console_i18n.strings(locale)
        for path in PAGES:
            response = console_client.get(path, params={"lang": locale})
            assert response.status_code == 200, (locale, path)
            assert f'<html lang="{locale}" dir="{i18n.direction(locale)}">' in response.text
            assert strings["console"] in response.text
    # The last choice sticks (a cookie on /console) without the query parameter.
    console_client.get("/console/ledger", params={"lang": "he"})
    assert '<html lang="he" dir="rtl">' in console_client.get("/console/risk").text


def test_accept_language_picks_the_console_language(
    console_client: TestClient, console_keys: dict[str, str]
) -> None:
    page = console_client.get("/console/sign-in", headers={"Accept-Language": "fr-CA, de;q=0.5"}).text
    assert '<html lang="fr"' in page
    assert "Connectez-vous avec une clé" in page
