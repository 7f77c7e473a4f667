"""Data-subject requests from the privacy center, in real Chromium against the real server.

A signed-in person (a subject token in the URL fragment, kept in sessionStorage) files requests with
``POST /v1/requests`` and follows them with ``GET /v1/subjects/{subject}/requests``: a copy of their
data (carried out at once, the report downloaded), an objection to AI training (carried out at once,
the AI switches turn off), and erasure (after an in-page confirmation; it waits for an operator).
Requests are filed only for people consentgate knows, so each test first records a choice through
the page's own switches.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import BrowserContext, Page, expect

from consentgate.client import issue_subject_token
from tests.browser import artifacts

from .conftest import AI_PURPOSES, HOSTILE_ORG, TOKEN_SECRET, Server, assert_no_csp_violations

REQUEST_ID = re.compile(r"req-[0-9a-f]+")


def open_center(context: BrowserContext, server: Server, subject: str, query: str = "") -> Page:
    page = context.new_page()
    token = issue_subject_token(TOKEN_SECRET, subject)
    page.goto(f"{server.base}/privacy-center{query}#token={quote(token)}")
    expect(page.locator("#consentgate-privacy-center")).not_to_have_attribute("aria-busy", "true")
    return page


def record_a_choice(page: Page, purpose: str = "product_analytics") -> None:
    """Make the person known to consentgate: one grant through the page's switch."""
    switch = page.locator(f'[data-purpose="{purpose}"]')
    switch.check()
    expect(page.locator("#pc-status")).not_to_be_empty()
    expect(switch).to_be_enabled()  # the switch is disabled until the page has refreshed
    expect(switch).to_be_checked()


def long_date(d: date) -> str:
    """A date as the page writes it in English (Intl, dateStyle long)."""
    return f"{d:%B} {d.day}, {d.year}"


def test_objecting_to_ai_training_turns_every_ai_purpose_off(context: BrowserContext, server: Server) -> None:
    subject = "objector@example.com"
    page = open_center(context, server, subject)
    for purpose in AI_PURPOSES:
        record_a_choice(page, purpose)

    button = page.get_by_role("button", name="Stop using my data to train AI")
    button.focus()
    page.keyboard.press("Enter")  # keyboard only
    status = page.locator("#pc-req-status")
    expect(status).to_contain_text("Done: your data will no longer be used to train AI. Reference ID: req-")
    for purpose in AI_PURPOSES:
        expect(page.locator(f'[data-purpose="{purpose}"]')).not_to_be_checked()
    assert page.evaluate("document.activeElement.id") == "pc-object"  # focus stays on the button

    request_id = REQUEST_ID.search(status.text_content() or "").group()  # type: ignore[union-attr]
    objections = [e for e in server.events(subject) if e.action.value == "object"]
    assert sorted(str(e.purpose) for e in objections) == sorted(AI_PURPOSES)
    assert {e.signals.get("request_id") for e in objections} == {request_id}
    assert {e.source for e in objections} == {"privacy_center"}
    [req] = server.requests(subject)
    assert (req.request_id, req.kind.value, req.status.value) == (request_id, "object", "completed")

    row = page.locator(f'#pc-mine-rows tr[data-request-id="{request_id}"]')
    expect(row).to_contain_text("Objection")
    expect(row).to_contain_text("Completed")
    expect(page.locator("#pc-events tr").first).to_contain_text("Objected")  # the history too
    assert_no_csp_violations(page)


def test_a_copy_of_your_data_downloads_the_readable_report(
    make_context: Callable[..., BrowserContext], server: Server
) -> None:
    subject = "copy-me@example.com"
    page = open_center(make_context(accept_downloads=True), server, subject)
    record_a_choice(page)
    expect(page.locator("#pc-mine-empty")).to_have_text("You have not made any requests yet.")

    with page.expect_download() as download:
        page.get_by_role("button", name="Get a copy of your data").click()
    today = datetime.now(UTC).date().isoformat()
    assert download.value.suggested_filename == f"access-report-{today}.html"
    report = Path(download.value.path()).read_text(encoding="utf-8")
    assert html.escape(HOSTILE_ORG) in report  # the organisation, as text
    assert HOSTILE_ORG not in report
    assert subject in report
    assert "Product analytics" in report  # the person's history
    assert ">Allowed<" in report  # the choice, in the person's words (act_grant)

    status = page.locator("#pc-req-status")
    expect(status).to_contain_text("Your report has been downloaded. Reference ID: req-")
    request_id = REQUEST_ID.search(status.text_content() or "").group()  # type: ignore[union-attr]
    row = page.locator(f'#pc-mine-rows tr[data-request-id="{request_id}"]')
    expect(row).to_contain_text("Copy of your data")
    expect(row).to_contain_text("Completed")
    expect(page.locator("#pc-mine-empty")).to_be_hidden()

    # The same report as JSON, without filing another request.
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the report as JSON").click()
    assert download.value.suggested_filename == f"access-report-{today}.json"
    body = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert body["controller"]["name"] == HOSTILE_ORG
    assert [(e["purpose"], e["action"]) for e in body["consent_history"]] == [("product_analytics", "grant")]
    assert [(r["request_id"], r["kind"], r["status"]) for r in body["requests"]] == [
        (request_id, "access", "completed")
    ]
    assert [r.kind.value for r in server.requests(subject)] == ["access"]

    # The evidence download is still there.
    with page.expect_download() as download:
        page.get_by_role("button", name="Download your evidence (JSON)").click()
    assert download.value.suggested_filename.startswith("consentgate-evidence-")
    assert page.evaluate("window.__xss") is None
    assert_no_csp_violations(page)


def test_erasure_is_confirmed_in_the_page_then_waits_for_an_operator(
    make_context: Callable[..., BrowserContext], server: Server
) -> None:
    subject = "erase-me@example.com"
    folder = artifacts("web")
    page = open_center(make_context(), server, subject)
    record_a_choice(page)
    erase = page.get_by_role("button", name="Erase my data", exact=True)
    confirm = page.locator("#pc-erase-confirm")
    yes = page.get_by_role("button", name="Yes, erase my data")

    # The first button only shows the warning and a second button, which takes the focus.
    expect(confirm).to_be_hidden()
    erase.click()
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("Erasure cannot be undone")
    expect(erase).to_have_attribute("aria-expanded", "true")
    assert page.evaluate("document.activeElement.id") == "pc-erase-yes"
    page.keyboard.press("Escape")  # Escape backs out, focus returns
    expect(confirm).to_be_hidden()
    expect(erase).to_have_attribute("aria-expanded", "false")
    assert page.evaluate("document.activeElement.id") == "pc-erase"
    erase.click()
    page.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    assert server.requests(subject) == []  # nothing was filed

    page.keyboard.press("Enter")  # on "Erase my data" again, keyboard only
    expect(yes).to_be_focused()
    page.screenshot(path=str(folder / "privacy-center-erase-confirm.png"), full_page=True)
    page.keyboard.press("Enter")
    status = page.locator("#pc-req-status")
    expect(status).to_contain_text("We have received your erasure request. Reference ID: req-")
    expect(confirm).to_be_hidden()

    [req] = server.requests(subject)
    assert (req.kind.value, req.status.value, req.verified_by, req.channel) == (
        "erase",
        "verified",
        "subject_token",
        "privacy_center",
    )
    expect(status).to_have_text(
        f"We have received your erasure request. Reference ID: {req.request_id}. Due by {long_date(req.due)}."
    )
    row = page.locator(f'#pc-mine-rows tr[data-request-id="{req.request_id}"]')
    expect(row).to_contain_text("Erasure")
    expect(row).to_contain_text("Confirmed")
    expect(row.locator("time")).to_have_attribute("datetime", req.due.isoformat())
    expect(row.locator("time")).to_have_text(long_date(req.due))

    # A second erasure while the first is open: a clear answer naming the open one, not an error.
    erase.click()
    yes.click()
    expect(status).to_have_text(
        f"You already have an open erasure request (reference ID {req.request_id}, due by "
        f"{long_date(req.due)}). We are working on it; there is no need to ask again."
    )
    assert [r.request_id for r in server.requests(subject)] == [req.request_id]
    expect(page.locator("#pc-mine-rows tr")).to_have_count(1)

    section = page.locator("#pc-requests")
    section.screenshot(path=str(folder / "privacy-center-requests-desktop.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    section.screenshot(path=str(folder / "privacy-center-requests-mobile.png"))
    assert_no_csp_violations(page)


def test_the_requests_list_follows_every_request(context: BrowserContext, server: Server) -> None:
    subject = "follower@example.com"
    page = open_center(context, server, subject)
    record_a_choice(page)
    page.get_by_role("button", name="Stop using my data to train AI").click()
    expect(page.locator("#pc-req-status")).to_contain_text("Reference ID")
    page.get_by_role("button", name="Erase my data", exact=True).click()
    page.get_by_role("button", name="Yes, erase my data").click()
    expect(page.locator("#pc-req-status")).to_contain_text("We have received your erasure request")

    filed = server.requests(subject)
    rows = page.locator("#pc-mine-rows tr")
    expect(rows).to_have_count(2)
    # Newest first, as filed on the server.
    assert [rows.nth(i).get_attribute("data-request-id") for i in range(2)] == [
        r.request_id for r in reversed(filed)
    ]
    expect(rows.nth(0)).to_contain_text("Erasure")
    expect(rows.nth(1)).to_contain_text("Objection")
    headers = page.locator("#pc-mine th")
    expect(headers).to_have_text(["Reference ID", "Request", "Status", "Due by"])

    # A reload (same tab, token in sessionStorage) shows the same list.
    page.reload()
    expect(page.locator("#pc-mine-rows tr")).to_have_count(2)
    assert_no_csp_violations(page)


def test_a_person_consentgate_does_not_know_is_told_so_politely(
    context: BrowserContext, server: Server
) -> None:
    page = open_center(context, server, "stranger@example.com")
    page.get_by_role("button", name="Get a copy of your data").click()
    expect(page.locator("#pc-req-status")).to_have_text(
        "We hold no data about you yet, so there is nothing to copy, object to or erase."
    )
    expect(page.locator("#pc-access-json")).to_be_hidden()
    expect(page.locator("#pc-mine-empty")).to_be_visible()
    assert server.requests("stranger@example.com") == []
    assert_no_csp_violations(page)


def test_requests_right_to_left_in_hebrew(
    make_context: Callable[..., BrowserContext], server: Server
) -> None:
    subject = "rtl-requests@example.com"
    page = open_center(make_context(), server, subject, "?locale=he")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    record_a_choice(page)
    page.get_by_role("button", name="מחיקת הנתונים שלי").click()
    page.get_by_role("button", name="כן, למחוק את הנתונים שלי").click()
    status = page.locator("#pc-req-status")
    expect(status).to_contain_text("קיבלנו את בקשת המחיקה שלך")
    [req] = server.requests(subject)
    expect(status).to_contain_text(req.request_id)
    expect(page.locator("#pc-mine-rows tr")).to_contain_text("מחיקה")
    page.locator("#pc-requests").screenshot(path=str(artifacts("web") / "privacy-center-requests-rtl.png"))
    assert_no_csp_violations(page)
