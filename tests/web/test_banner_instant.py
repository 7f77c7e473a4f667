"""Instant accept with the record first (issue 17, item 4), in real Chromium on the cross-origin site.

The visitor id is fetched beside the configuration, so "Accept all" is one request; gated tags run
once the service has acknowledged the record, never before; a choice the service could not take waits
in localStorage, is retried, and nothing gated runs meanwhile — and the banner says so.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import BrowserContext, Page, Route, expect

from consentgate.web import i18n
from tests.browser import artifacts

from .conftest import EU_ASKED, Server, Site, assert_no_csp_violations, banner, ran, visitor_id

PENDING = i18n.strings("en")["pending"]


def first_view(context: BrowserContext, site: Site) -> tuple[Page, str]:
    """A first page view with the banner up, and the visitor id the banner fetched beside its
    configuration, before any click."""
    page = context.new_page()
    page.goto(site.url())
    expect(banner(page)).to_be_visible()
    return page, visitor_id(context)


def test_accept_all_is_one_request_and_tags_wait_for_its_acknowledgement(
    context: BrowserContext, server: Server, site: Site
) -> None:
    page, vid = first_view(context, site)
    assert server.events(vid) == []
    sent: list[str] = []
    page.on("request", lambda r: sent.append(f"{r.method} {r.url}") if server.base in r.url else None)
    held: list[Route] = []
    page.route(f"{server.base}/v1/consents/browser", lambda route: held.append(route))

    page.get_by_role("button", name="Accept all").click()
    while not held:
        page.wait_for_timeout(20)
    page.wait_for_timeout(300)  # unacknowledged: nothing gated may run however long it waits
    assert ran(page) == []
    assert server.events(vid) == []
    held[0].continue_()
    page.wait_for_function("() => (window.ran || []).length >= 4")
    expect(banner(page)).to_have_count(0)
    assert [s for s in sent if "OPTIONS" not in s] == [f"POST {server.base}/v1/consents/browser"]
    assert sorted(e.purpose or "" for e in server.events(vid)) == sorted(EU_ASKED)
    assert_no_csp_violations(page)


def _pending(page: Any) -> list[Any]:
    return list(json.loads(page.evaluate("localStorage.getItem('cg_pending') || '[]'")))


def test_unreachable_service_keeps_the_choice_retries_and_runs_nothing_meanwhile(
    context: BrowserContext, server: Server, site: Site
) -> None:
    page, vid = first_view(context, site)
    page.route(f"{server.base}/v1/consents/browser", lambda route: route.abort("connectionrefused"))
    clicked = datetime.now(UTC)
    page.get_by_role("button", name="Accept all").click()
    expect(banner(page).locator(".cg-err")).to_have_text(PENDING)
    assert [p["b"]["source"] for p in _pending(page)] == ["banner"]
    page.wait_for_timeout(300)
    assert ran(page) == []
    assert page.evaluate("consentgate.state().allowed.product_analytics") is False

    # The next page view, still without the service: the banner is up again and says why.
    page.reload()
    expect(banner(page).locator(".cg-err")).to_have_text(PENDING)
    page.screenshot(path=str(artifacts("web") / "banner-pending.png"))
    assert ran(page) == []
    assert server.events(vid) == []

    page.unroute(f"{server.base}/v1/consents/browser")  # the service is back: the retry goes through
    page.wait_for_function("() => (window.ran || []).length >= 4", timeout=10_000)
    expect(banner(page)).to_have_count(0)
    assert _pending(page) == []
    events = server.events(vid)
    assert sorted(e.purpose or "" for e in events) == sorted(EU_ASKED)
    # Recorded once, as the visitor acted then: the click's time, not the retry's.
    assert all(abs(e.occurred_at - clicked) < timedelta(seconds=2) for e in events)
    assert all(e.recorded_at > e.occurred_at for e in events)
    page.reload()
    expect(banner(page)).to_have_count(0)
    assert len(server.events(vid)) == len(EU_ASKED)
    assert_no_csp_violations(page)


def test_a_no_takes_effect_at_once_even_while_its_record_waits(
    context: BrowserContext, server: Server, site: Site
) -> None:
    page = context.new_page()
    page.goto(site.url())
    page.get_by_role("button", name="Accept all").click()
    page.wait_for_function("() => (window.ran || []).length >= 4")
    vid = visitor_id(context)
    assert "_test_an" in {c["name"] for c in context.cookies()}

    page.route(f"{server.base}/v1/consents/browser", lambda route: route.abort("connectionrefused"))
    page.evaluate("consentgate.show()")
    banner(page).get_by_role("button", name="Reject all").click()
    expect(banner(page).locator(".cg-err")).to_have_text(PENDING)
    # Withdrawn here already: the state says so and the purposes' cookies are gone.
    assert page.evaluate("consentgate.state().allowed.product_analytics") is False
    assert "_test_an" not in {c["name"] for c in context.cookies()}
    page.reload()
    expect(banner(page).locator(".cg-err")).to_have_text(PENDING)
    page.wait_for_timeout(300)
    assert ran(page) == []
    assert {e.action.value for e in server.events(vid)} == {"grant"}

    page.unroute(f"{server.base}/v1/consents/browser")
    expect(banner(page)).to_have_count(0, timeout=10_000)
    actions = [e.action.value for e in server.events(vid)]
    assert actions == ["grant"] * len(EU_ASKED) + ["withdraw"] * len(EU_ASKED)
    page.reload()
    page.wait_for_timeout(300)
    assert ran(page) == []
    expect(banner(page)).to_have_count(0)


def test_a_slow_answer_shows_the_banner_waiting_and_a_second_click_sends_nothing(
    context: BrowserContext, server: Server, site: Site
) -> None:
    page, vid = first_view(context, site)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.method) if r.url.endswith("/v1/consents/browser") else None)
    held: list[Route] = []
    page.route(f"{server.base}/v1/consents/browser", lambda route: held.append(route))
    buttons = banner(page).locator("button")

    banner(page).get_by_role("button", name="Accept all").click()
    while not held:
        page.wait_for_timeout(20)
    # Nothing changes on screen at the click; an answer still missing after 150 ms shows as waiting.
    expect(banner(page).get_by_role("button", name="Reject all")).to_be_disabled()
    assert all(buttons.nth(i).is_disabled() for i in range(buttons.count()))
    page.screenshot(path=str(artifacts("web") / "banner-waiting.png"))
    # A click meanwhile (a keyboard's Enter reaches a disabled button no more than a mouse) is dropped.
    banner(page).get_by_role("button", name="Reject all").dispatch_event("click")
    page.wait_for_timeout(200)
    assert sent == ["POST"]
    held[0].continue_()
    page.wait_for_function("() => (window.ran || []).length >= 4")
    expect(banner(page)).to_have_count(0)
    assert sent == ["POST"]
    assert {e.action.value for e in server.events(vid)} == {"grant"}
    assert_no_csp_violations(page)


def test_a_failed_answer_gives_the_buttons_back(context: BrowserContext, server: Server, site: Site) -> None:
    page, _ = first_view(context, site)
    page.route(
        f"{server.base}/v1/consents/browser",
        lambda route: route.fulfill(status=422, content_type="application/json", body='{"detail": "stale"}'),
    )
    banner(page).get_by_role("button", name="Accept all").click()
    expect(banner(page).locator(".cg-err")).to_be_visible()
    buttons = banner(page).locator("button")
    page.wait_for_timeout(300)  # the waiting state's timer must not fire after the answer
    assert not any(buttons.nth(i).is_disabled() for i in range(buttons.count()))
    assert ran(page) == []


# Fired from inside the answer's task (the moment the gated tag is inserted, before the banner's next
# task writes the cookie): a page left right after the acknowledgement.
LEAVE_AT_ACK = """() => new MutationObserver((ms, o) => {
  if (!ms.some((m) => [...m.addedNodes].some((n) => n.tagName == 'SCRIPT' && n.type != 'text/plain'
      && String(n.src).endsWith('/tags/analytics.js')))) return;
  o.disconnect();
  window.before = document.cookie.includes('cg_consent=');
  window.dispatchEvent(new PageTransitionEvent('pagehide', {persisted: false}));
  window.after = document.cookie.includes('cg_consent=');
}).observe(document, {childList: true, subtree: true})"""


def test_a_page_left_right_after_the_acknowledgement_keeps_the_choice(
    context: BrowserContext, server: Server, site: Site
) -> None:
    page, vid = first_view(context, site)
    page.evaluate(LEAVE_AT_ACK)
    banner(page).get_by_role("button", name="Accept all").click()
    page.wait_for_function("() => window.after !== undefined")
    # Not yet written when the tags started; written by the time the page is hidden.
    assert page.evaluate("[window.before, window.after]") == [False, True]
    assert len(server.events(vid)) == len(EU_ASKED)
    fresh = context.new_page()
    fresh.goto(site.url())
    fresh.wait_for_function("() => (window.ran || []).length >= 4")
    expect(banner(fresh)).to_have_count(0)
    assert len(server.events(vid)) == len(EU_ASKED)
