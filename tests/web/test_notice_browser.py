"""The privacy center links to the AI-training notice, in the language the center is shown in; the
notice renders in real Chromium under the site's CSP with no violation, no page error and no axe-core
violation, left to right and right to left."""

from __future__ import annotations

from collections.abc import Callable
from html import unescape

import pytest
from playwright.sync_api import BrowserContext, expect

from consentgate.reports.notice.catalogue import strings
from consentgate.web import i18n
from tests.browser import artifacts
from tests.support.axe import violations

from .conftest import HOSTILE_ORG, Server, assert_no_csp_violations


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_the_privacy_center_links_to_the_notice(
    make_context: Callable[..., BrowserContext], server: Server, locale: str
) -> None:
    page = make_context().new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server.base}/privacy-center?locale={locale}")
    link = page.locator("#pc-notice")
    expect(link).to_be_visible()
    expect(link).to_have_text(i18n.strings(locale)["ai_section"])
    link.click()
    page.wait_for_url(f"**/notice?locale={locale}")
    texts = strings(locale)
    expect(page.get_by_role("heading", level=1)).to_have_text(unescape(texts["title"]))
    assert page.locator("html").get_attribute("dir") == i18n.direction(locale)
    for purpose in (p for p in server.policy.purposes if p.is_ai):
        expect(page.locator(f"#purpose-{purpose.id}")).to_be_visible()
    # The stylesheet applied (the page is styled, not bare): main is a centred column.
    assert page.evaluate("getComputedStyle(document.body).maxWidth") != "none"
    # Policy text someone else wrote stays text.
    expect(page.locator("main p").first).to_contain_text(HOSTILE_ORG)
    assert page.evaluate("window.__xss") is None
    assert_no_csp_violations(page)
    assert errors == []
    assert violations(page) == []
    page.screenshot(path=str(artifacts("notice") / f"notice-{locale}.png"), full_page=True)
