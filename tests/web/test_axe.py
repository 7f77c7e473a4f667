"""Every layer of the banner and the privacy center pass axe-core with no violations (issue 17 item 5),
under the strict CSP, in a left-to-right and a right-to-left language."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import pytest
from playwright.sync_api import BrowserContext, expect

from consentgate.client import issue_subject_token
from tests.browser import artifacts
from tests.support.axe import violations

from .conftest import TOKEN_SECRET, Server, Site, assert_no_csp_violations, banner

BANNER = "#consentgate-banner"


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_the_first_layer_and_the_settings_pass_axe(
    make_context: Callable[..., BrowserContext], server: Server, site: Site, locale: str
) -> None:
    page = make_context().new_page()
    page.goto(site.url(locale=locale))
    expect(banner(page)).to_be_visible()
    # Checked before axe runs: axe's own probe adds an inline <style>, which the CSP rightly blocks.
    assert_no_csp_violations(page)
    assert violations(page, BANNER) == [], "first layer"
    # The always-active purposes are joined the locale's way (Intl.ListFormat): never a Latin comma in
    # Arabic, which joins two with "و" and more with "،".
    fixed = banner(page).locator(".cg-fixed").inner_text()
    assert ("," in fixed) == (locale == "en"), fixed
    banner(page).locator("[data-consentgate-action=settings]").click()
    expect(banner(page).get_by_role("switch").first).to_be_visible()
    assert violations(page, BANNER) == [], "settings layer"
    page.screenshot(path=str(artifacts("web") / f"axe-settings-{locale}.png"))


def test_the_opt_out_layer_with_the_gpc_notice_passes_axe(
    make_context: Callable[..., BrowserContext], server: Server, site: Site
) -> None:
    page = make_context(country="US", gpc=True).new_page()
    page.goto(site.url(region="US-CA"))
    expect(banner(page)).to_be_visible()
    expect(banner(page).locator(".cg-gpc")).to_be_visible()
    assert_no_csp_violations(page)
    assert violations(page, BANNER) == []


@pytest.mark.parametrize("locale", ["en", "fa"])
def test_the_privacy_center_passes_axe(
    make_context: Callable[..., BrowserContext], server: Server, locale: str
) -> None:
    token = issue_subject_token(TOKEN_SECRET, "axe-reader@example.com")
    page = make_context().new_page()
    page.goto(f"{server.base}/privacy-center?locale={locale}#token={quote(token)}")
    center = page.locator("#consentgate-privacy-center")
    expect(center).not_to_have_attribute("aria-busy", "true")
    assert violations(page) == []
    page.screenshot(path=str(artifacts("web") / f"axe-privacy-center-{locale}.png"), full_page=True)


def test_axe_reports_what_it_finds_inside_the_banner(
    make_context: Callable[..., BrowserContext], server: Server, site: Site
) -> None:
    # The checks above pass with an empty list; this shows the list fills when the banner breaks a rule,
    # so a silent axe (not loaded, wrong selector) cannot pass them.
    page = make_context().new_page()
    page.goto(site.url())
    expect(banner(page)).to_be_visible()
    page.evaluate(
        """() => { const b = document.querySelector('#consentgate-banner [data-consentgate-action=settings]');
                   b.textContent = ''; b.removeAttribute('aria-label'); }"""
    )
    assert "button-name" in {v["rule"] for v in violations(page, BANNER)}
