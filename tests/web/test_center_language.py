"""The privacy center speaks the person's language throughout (issue 17 item 2): in Japanese and
Persian (right to left), no English sentence of the interface's catalogue shows anywhere a person
can see or a screen reader can read — before sign-in, with choices and history, after a request.

The policy's own wording (notice texts, purpose titles) is English in the test policy and is meant to
be shown as written; the check is about the interface's words, which all come from web/i18n.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib.resources import files

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from consentgate.ledger.events import Action
from consentgate.policy.models import Basis
from consentgate.requests.models import RequestKind, Status
from consentgate.web import i18n
from tests.browser import artifacts

from .conftest import Server, assert_no_csp_violations
from .test_center_requests import open_center, record_a_choice

PLACEHOLDER = re.compile(r"\{\w+\}")
# What a person sees or hears: the text, the title, and the accessible names and descriptions.
SHOWN = """() => [document.title, document.body.innerText,
  ...[...document.querySelectorAll('[aria-label],[title],[alt],[placeholder]')].flatMap((e) =>
    ['aria-label', 'title', 'alt', 'placeholder'].map((a) => e.getAttribute(a) || ''))].join('\\n')"""


def english_sentences() -> set[str]:
    """Runs of three or more words of the English interface strings (between placeholders)."""
    return {
        part.strip()
        for text in i18n.strings("en").values()
        for part in PLACEHOLDER.split(text)
        if len(part.split()) >= 3
    }


def assert_no_english(page: Page, locale: str) -> None:
    shown = page.evaluate(SHOWN)
    leaked = sorted(s for s in english_sentences() if s in shown)
    assert not leaked, f"English in the {locale} privacy center: {leaked}"


def test_every_string_the_privacy_center_shows_is_a_catalogue_key() -> None:
    # Every locale file has every key of en.json (test_i18n.py); here, every key the page asks for is
    # one of them, including those it builds from a code, so no code ever shows as "undefined".
    script = (files("consentgate.web") / "privacy-center.js").read_text(encoding="utf-8")
    named = set(re.findall(r"S\('(\w+)'\)", script))
    named |= set(re.findall(r"\['#pc-[\w-]+', '(\w+)'\]", script))
    named |= set(re.findall(r"link\('\w+', '(\w+)'\)", script))
    assert len(named) >= 40
    prefixes = set(re.findall(r"S\('(\w+_)' \+", script))
    assert prefixes == {"act_", "basis_", "req_", "st_", "pc_"}
    named |= {f"act_{a.value}" for a in Action} | {f"req_{k.value}" for k in RequestKind}
    named |= {f"st_{s.value}" for s in Status}
    named |= {
        f"basis_{b.value}" for b in Basis if b is not Basis.NOT_ALLOWED
    }  # never offered (web/config.py)
    named |= {f"pc_{k}" for k in ("when", "purpose", "choice", "version")}  # the history's column heads
    missing = sorted(named - set(i18n.strings("en")))
    assert not missing, f"privacy-center.js shows keys no catalogue has: {missing}"
    # The page's static HTML holds no words of its own but the title the script replaces at once.
    page = (files("consentgate.web") / "privacy-center.html").read_text(encoding="utf-8")
    body = re.sub(r"<noscript>.*?</noscript>", "", page.split("<body>", 1)[1], flags=re.DOTALL)
    assert re.findall(r">([^<>]*\w[^<>]*)<", body) == ["Privacy center"]  # #pc-title, set from pc_title


@pytest.mark.parametrize(("locale", "direction"), [("ja", "ltr"), ("fa", "rtl")])
def test_no_english_leaks_into_the_privacy_center(
    make_context: Callable[..., BrowserContext], server: Server, locale: str, direction: str
) -> None:
    strings = i18n.strings(locale)
    # Not signed in: the sign-in hint and the request links.
    anonymous = make_context().new_page()
    anonymous.goto(f"{server.base}/privacy-center?locale={locale}")
    expect(anonymous.locator("#pc-signin")).to_have_text(strings["pc_signin"])
    expect(anonymous.locator("html")).to_have_attribute("dir", direction)
    assert_no_english(anonymous, locale)

    # Signed in: choices, history, requests, after a choice and an objection.
    page = open_center(make_context(accept_downloads=True), server, f"lang-{locale}@example.com",
                       query=f"?locale={locale}")  # fmt: skip
    expect(page.locator("html")).to_have_attribute("lang", locale)
    record_a_choice(page)
    expect(page.locator("#pc-status")).to_have_text(strings["pc_saved"])
    assert_no_english(page, locale)
    page.get_by_role("button", name=strings["pc_object_button"]).click()
    expect(page.locator("#pc-req-status")).to_contain_text(strings["pc_object_done"].split("{")[0].strip())
    expect(page.locator("#pc-mine-rows tr")).to_have_count(1)
    page.get_by_role("button", name=strings["pc_erase_button"]).click()
    expect(page.locator("#pc-erase-warning")).to_have_text(strings["pc_erase_warning"])
    assert_no_english(page, locale)
    assert_no_csp_violations(page)
    page.screenshot(path=str(artifacts("access-report") / f"privacy-center-{locale}.png"), full_page=True)


@pytest.mark.parametrize(
    ("query", "accept_language", "locale"),
    [("?locale=ar", "en", "ar"), ("", "de-AT,de;q=0.9,en;q=0.5", "de"), ("?locale=%3Cx%3E", "fi", "fi")],
)
def test_the_page_is_in_the_persons_language_before_its_script_runs(
    make_context: Callable[..., BrowserContext], server: Server, query: str, accept_language: str, locale: str
) -> None:
    """Without JavaScript (or before it runs) the title, the heading, the line saying the page needs
    JavaScript and the page's language and direction are already the person's: ``?locale=`` first,
    then the browser's languages; a ``?locale=`` that names no language is passed over."""
    strings = i18n.strings(locale)
    context = make_context(java_script_enabled=False, extra_http_headers={"Accept-Language": accept_language})
    page = context.new_page()
    response = page.goto(f"{server.base}/privacy-center{query}")
    assert response is not None
    assert response.ok
    assert response.headers["content-language"] == locale
    assert "Accept-Language" in response.headers["vary"]
    expect(page.locator("html")).to_have_attribute("lang", locale)
    expect(page.locator("html")).to_have_attribute("dir", i18n.direction(locale))
    assert page.title() == strings["pc_title"]
    expect(page.locator("#pc-title")).to_have_text(strings["pc_title"])
    # (text inside <noscript> is not matched by get_by_text; the element is what a person sees)
    expect(page.locator("noscript p")).to_have_text(strings["pc_needs_js"])
    expect(page.locator("noscript p")).to_be_visible()
    assert_no_english(page, locale)
    page.screenshot(path=str(artifacts("access-report") / f"privacy-center-no-script-{locale}.png"))
