"""The in-product toggle, the privacy center and the demo site, in real Chromium.

A signed-in person's browser holds a subject token minted by the site's backend (here: offline, with
the server's token secret, as ``consentgate.client.issue_subject_token`` does); the toggle and the
privacy center record through ``POST /v1/consents`` with it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import BrowserContext, expect

from consentgate.client import issue_subject_token
from tests.browser import artifacts

from .conftest import (
    HOSTILE_ORG,
    TOKEN_SECRET,
    Server,
    Site,
    assert_no_csp_violations,
    banner,
    text_hash,
)


def test_consent_toggle_records_with_the_subject_token(
    context: BrowserContext, server: Server, site: Site
) -> None:
    subject = "toggle-user@example.com"
    token = issue_subject_token(TOKEN_SECRET, subject)
    page = context.new_page()
    page.goto(site.url("toggle.html", token=quote(token)))
    banner(page).get_by_role("button", name="Reject all").click()  # the banner records for them too
    expect(banner(page)).to_have_count(0)

    toggle = page.get_by_role("switch")
    wording = server.policy.notice_version("ai-training", "2").text["en"]  # type: ignore[union-attr]
    expect(page.locator("consent-toggle label")).to_have_text(wording)
    expect(toggle).not_to_be_checked()
    toggle.check()
    expect(toggle).to_be_enabled()
    toggle.uncheck()
    expect(toggle).to_be_enabled()
    page.wait_for_timeout(100)

    events = server.events(subject)
    mine = [(e.purpose, e.action.value, e.source) for e in events if e.purpose == "train_support_chatbot"]
    assert mine == [
        ("train_support_chatbot", "deny", "banner"),
        ("train_support_chatbot", "grant", "toggle"),
        ("train_support_chatbot", "withdraw", "toggle"),
    ]
    grant = next(e for e in events if e.source == "toggle")
    assert (grant.notice_id, grant.notice_version, grant.wording_hash) == (
        "ai-training",
        "2",
        text_hash(wording),
    )
    assert "cg_vid" not in {c["name"] for c in context.cookies()}  # the token's subject, no visitor id
    assert_no_csp_violations(page)


def test_privacy_center_shows_and_changes_the_signed_in_persons_choices(
    make_context: Callable[..., BrowserContext], server: Server
) -> None:
    subject = "center-user@example.com"
    token = issue_subject_token(TOKEN_SECRET, subject)
    folder = artifacts("web")
    context = make_context(accept_downloads=True)
    page = context.new_page()
    page.goto(f"{server.base}/privacy-center#token={quote(token)}")
    center = page.locator("#consentgate-privacy-center")
    expect(center).not_to_have_attribute("aria-busy", "true")
    assert "token" not in page.url  # dropped from the address bar (and history) at once
    expect(page.locator("#pc-org")).to_have_text(HOSTILE_ORG)  # policy text stays text
    assert page.evaluate("window.__xss") is None

    analytics = page.get_by_role("switch", name="Product analytics")
    expect(analytics).not_to_be_checked()
    analytics.check()
    expect(page.locator("#pc-status")).to_have_text("Saved.")
    expect(page.locator("#pc-events tr")).to_have_count(1)
    expect(page.get_by_role("switch", name="Product analytics")).to_be_checked()
    page.get_by_role("switch", name="Product analytics").uncheck()
    expect(page.locator("#pc-events tr")).to_have_count(2)
    expect(page.locator("#pc-events tr").first).to_contain_text("Withdrawn")
    assert page.evaluate("document.activeElement.dataset.purpose") == "product_analytics"  # focus kept

    events = server.events(subject)
    assert [(e.purpose, e.action.value, e.source, e.region) for e in events] == [
        ("product_analytics", "grant", "privacy_center", "DE"),
        ("product_analytics", "withdraw", "privacy_center", "DE"),
    ]

    with page.expect_download() as download:
        page.get_by_role("button", name="Download your evidence (JSON)").click()
    evidence = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert evidence["pii_principal_id"] == subject
    assert [e["action"] for e in evidence["events"]] == ["grant", "withdraw"]
    assert evidence["chain"]["intact"] is True

    # Signed in, requests are filed here (tests/web/test_center_requests.py), not by e-mail.
    expect(page.locator("#pc-request-links")).to_be_hidden()
    expect(page.get_by_role("button", name="Get a copy of your data")).to_be_visible()
    page.screenshot(path=str(folder / "privacy-center-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(folder / "privacy-center-mobile.png"), full_page=True)
    assert_no_csp_violations(page)

    # The token lives in this tab only; a new tab without it is asked to sign in on the site.
    other = context.new_page()
    other.goto(f"{server.base}/privacy-center")
    expect(other.locator("#pc-signin")).to_be_visible()
    expect(other.locator("#pc-choices")).to_be_hidden()
    # Without a token the requests section keeps its links: requests_url, else an e-mail to the contact.
    expect(other.locator("#pc-actions")).to_be_hidden()
    links = other.locator("#pc-request-links a")
    expect(links).to_have_count(3)
    expect(links.first).to_be_visible()
    assert [links.nth(i).get_attribute("data-request") for i in range(3)] == ["access", "erase", "object"]
    assert links.first.get_attribute("href", timeout=1000).startswith("mailto:privacy@example.com?subject=")  # type: ignore[union-attr]
    assert_no_csp_violations(other)


def test_demo_site_shows_the_whole_flow(context: BrowserContext, server: Server) -> None:
    page = context.new_page()
    page.goto(f"{server.base}/demo/")
    dialog = banner(page)
    expect(dialog).to_be_visible()
    assert page.evaluate("window.demoTags") is None
    page.screenshot(path=str(artifacts("web") / "demo-desktop.png"))
    dialog.get_by_role("button", name="Accept all").click()
    page.wait_for_function("() => window.demoTags && Object.keys(window.demoTags).length === 3")
    expect(page.locator("#tag-analytics")).to_contain_text("running")
    expect(page.locator("#chat consent-toggle").get_by_role("switch")).to_be_checked()
    page.get_by_role("button", name="Sign in (demo)").click()
    expect(page.locator("#who")).to_contain_text("signed in")
    assert "#token=" in (page.locator("#pc-link").get_attribute("href") or "")
    assert_no_csp_violations(page)


def test_privacy_center_takes_a_token_given_while_the_tab_is_already_there(
    context: BrowserContext, server: Server
) -> None:
    """A link to /privacy-center#token=… followed from the center itself only changes the fragment."""
    first, second = "center-first@example.com", "center-second@example.com"
    page = context.new_page()
    page.goto(f"{server.base}/privacy-center")
    expect(page.locator("#pc-signin")).to_be_visible()

    go = "(t) => { location.hash = 'token=' + t; }"
    page.evaluate(go, quote(issue_subject_token(TOKEN_SECRET, first)))
    expect(page.get_by_role("switch", name="Product analytics")).not_to_be_checked()
    expect(page.locator("#pc-signin")).to_be_hidden()
    page.get_by_role("switch", name="Product analytics").check()
    expect(page.locator("#pc-events tr")).to_have_count(1)
    expect(page).to_have_url(f"{server.base}/privacy-center")  # the token left the address bar

    page.evaluate(go, quote(issue_subject_token(TOKEN_SECRET, second)))
    expect(page.get_by_role("switch", name="Product analytics")).not_to_be_checked()
    expect(page.locator("#pc-events")).to_contain_text("No choices recorded yet.")
    expect(page.locator("#pc-choices")).to_be_visible()
    assert [e.subject for e in server.events(first)] == [first]
    assert server.events(second) == []
    assert_no_csp_violations(page)
