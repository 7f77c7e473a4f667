"""The access report downloaded from the privacy center is in the page's language (issue 17 item 2),
in real Chromium against the real server: German and Arabic (right to left), opened under the
server's strict Content-Security-Policy, with axe-core finding nothing.

Screenshots: test-artifacts/access-report/.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import BrowserContext, Route, expect

from consentgate.client import issue_subject_token
from consentgate.requests.report_locale import catalogue
from consentgate.web import i18n
from tests.browser import artifacts
from tests.support.axe import violations

from .conftest import TOKEN_SECRET, Server, assert_no_csp_violations
from .test_center_requests import open_center, record_a_choice

PLACEHOLDER = re.compile(r"\{\w+\}")


def english_sentences() -> set[str]:
    """Every run of three or more words of the report's English catalogue (between placeholders)."""
    return {
        part.strip()
        for text in catalogue("en").values()
        for part in PLACEHOLDER.split(text)
        if len(part.split()) >= 3
    }


@pytest.mark.parametrize(("locale", "direction"), [("de", "ltr"), ("ar", "rtl")])
def test_the_downloaded_report_is_in_the_privacy_centers_language(
    make_context: Callable[..., BrowserContext], server: Server, locale: str, direction: str
) -> None:
    subject = f"report-{locale}@example.com"
    context = make_context(accept_downloads=True)
    page = open_center(context, server, subject, query=f"?locale={locale}")
    expect(page.locator("html")).to_have_attribute("lang", locale)
    record_a_choice(page)

    with page.expect_download() as download:
        page.get_by_role("button", name=i18n.strings(locale)["pc_req_access"]).click()
    body = Path(download.value.path()).read_bytes()
    assert_no_csp_violations(page)

    # The same bytes, opened at the server's origin with the CSP the server sends for the report.
    token = issue_subject_token(TOKEN_SECRET, subject)
    served = page.request.get(
        f"{server.base}/v1/subjects/{quote(subject)}/report?format=html&locale={locale}",
        headers={"X-Consentgate-Subject-Token": token},
    )
    assert served.headers["content-language"] == locale
    csp = served.headers["content-security-policy"]
    viewer = context.new_page()

    def fulfil(route: Route) -> None:
        route.fulfill(
            status=200,
            body=body,
            headers={"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": csp},
        )

    viewer.route(f"{server.base}/downloaded-report", fulfil)
    viewer.goto(f"{server.base}/downloaded-report")
    html = viewer.locator("html")
    expect(html).to_have_attribute("lang", locale)
    expect(html).to_have_attribute("dir", direction)
    strings = catalogue(locale)
    expect(viewer.locator("h2").first).to_have_text(strings["h_choices"])
    expect(viewer.locator("main")).to_contain_text(strings["limit_forget"])
    text = viewer.locator("body").inner_text()
    leaked = sorted(s for s in english_sentences() if s in text)
    assert not leaked, f"English in the {locale} report: {leaked}"
    assert "None" not in text
    # The policy's own notice wording is shown as recorded, marked with the language it was shown in.
    assert viewer.locator("td[lang]").count() >= 1

    # Its stylesheet is admitted by hash (the page is styled), and nothing else inline would be.
    assert viewer.evaluate("getComputedStyle(document.body).maxWidth") != "none"
    assert_no_csp_violations(viewer)
    assert violations(viewer) == []
    viewer.screenshot(path=str(artifacts("access-report") / f"report-{locale}.png"), full_page=True)
    viewer.evaluate("() => { const s = document.createElement('style'); s.textContent = 'body{color:red}';"
                    " document.head.append(s); }")  # fmt: skip
    viewer.wait_for_function("window.__csp.some((v) => v.startsWith('style-src'))")  # the CSP is enforced
