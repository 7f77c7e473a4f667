"""The banner in real Chromium on a cross-origin test site: gating, records, Consent Mode, withdrawal.

The visitor is in Germany (the configured country header says DE): every purpose the banner asks about
rests on consent there, so nothing may run and no tag cookie may exist before a choice.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from urllib.parse import quote

from playwright.sync_api import BrowserContext, Page, expect

from consentgate.ledger.events import ConsentEvent
from consentgate.policy import Policy

from .conftest import (
    EU_ASKED,
    Server,
    Site,
    assert_no_csp_violations,
    banner,
    consent_calls,
    cookie_names,
    ran,
    text_hash,
    visitor_id,
)

TAG_COOKIES = {"_test_an", "_test_an_id", "_test_mk", "_test_pz"}


def current(policy: Policy, purpose: str) -> tuple[str, str, str]:
    """(notice id, version in force, sha256 of its English wording) for a purpose."""
    p = policy.purpose(purpose)
    assert p is not None
    assert p.notice is not None
    version = policy.current_version(p.notice, datetime.now(UTC))
    assert version is not None
    return p.notice, version.label, text_hash(version.text["en"])


def assert_one_event_per_purpose(server: Server, events: list[ConsentEvent], action: str) -> None:
    assert sorted(e.purpose or "" for e in events) == sorted(EU_ASKED)
    for e in events:
        assert e.purpose is not None
        notice, version, digest = current(server.policy, e.purpose)
        assert (e.action.value, e.notice_id, e.notice_version, e.wording_hash) == (
            action,
            notice,
            version,
            digest,
        )
        assert (e.source, e.region, e.locale) == ("banner", "DE", "en")


def open_site(context: BrowserContext, site: Site, **query: str) -> Page:
    page = context.new_page()
    page.goto(site.url(**query))
    return page


def test_nothing_gated_runs_and_no_gated_cookie_exists_before_consent(
    context: BrowserContext, server: Server, site: Site
) -> None:
    page = open_site(context, site)
    expect(banner(page)).to_be_visible()
    page.wait_for_timeout(300)  # give anything that would wrongly run the time to do so
    assert ran(page) == []
    assert not cookie_names(context) & TAG_COOKIES
    # Iframes and images keep their data-src; the parser-inserted third-party script was held back.
    assert page.locator("iframe").get_attribute("src") is None
    assert page.locator("img").get_attribute("src") is None
    held = page.locator('script[data-consent="product_analytics"][type="text/plain"]')
    assert held.count() == 2  # the gated tag and the third-party script from the tracker host
    # Nothing was recorded before the visitor acted (the visitor id is issued beside the configuration,
    # so that "Accept all" is one request; an id alone is no record).
    assert server.events(visitor_id(context)) == []
    assert_no_csp_violations(page)


def test_accept_all_records_one_event_per_purpose_and_runs_the_tags(
    context: BrowserContext, server: Server, site: Site
) -> None:
    page = open_site(context, site)
    page.get_by_role("button", name="Accept all").click()
    expect(banner(page)).to_have_count(0)
    events = server.events(visitor_id(context))
    assert_one_event_per_purpose(server, events, "grant")
    consent_mode = events[0].signals["consent_mode"]
    assert consent_mode["analytics_storage"] == consent_mode["ad_storage"] == "granted"
    assert events[0].signals["do_not_train"] is False

    page.wait_for_function("() => (window.ran || []).length >= 4")
    assert set(ran(page)) == {"inline-personalisation", "analytics", "marketing", "third-parsed"}
    assert cookie_names(context) >= TAG_COOKIES
    assert page.locator("iframe").get_attribute("src") == "/frame.html"
    assert page.locator("img").get_attribute("src") == "/pixel.svg"
    # A script another script inserts from the tracker host runs too, now that analytics is allowed.
    page.click("#insert")
    page.wait_for_function("() => (window.ran || []).includes('third-dynamic')")

    # The next page view asks nothing, records nothing, and runs the tags from the stored choice.
    page.reload()
    page.wait_for_function("() => (window.ran || []).length >= 4")
    expect(banner(page)).to_have_count(0)
    assert len(server.events(visitor_id(context))) == len(EU_ASKED)
    assert_no_csp_violations(page)


def test_reject_all_records_one_event_per_purpose_and_runs_nothing(
    context: BrowserContext, server: Server, site: Site
) -> None:
    page = open_site(context, site)
    page.get_by_role("button", name="Reject all").click()
    expect(banner(page)).to_have_count(0)
    assert_one_event_per_purpose(server, server.events(visitor_id(context)), "deny")
    page.click("#insert")
    page.wait_for_timeout(300)
    assert ran(page) == []
    assert not cookie_names(context) & TAG_COOKIES
    assert page.evaluate("consentgate.state().do_not_train") is True
    page.reload()
    expect(banner(page)).to_have_count(0)
    page.wait_for_timeout(200)
    assert ran(page) == []


def test_consent_mode_default_comes_before_any_tag_and_updates_follow_choices(
    context: BrowserContext, site: Site
) -> None:
    page = open_site(context, site)
    expect(banner(page)).to_be_visible()
    # Google's tag (not gated) found the defaults already set: one per policy region and the fallback.
    saw = page.evaluate("window.googleSaw")
    assert saw
    assert set(saw) == {"default"}
    calls = consent_calls(page)
    first_tag = next(i for i, c in enumerate(calls) if c[0] == "tag")
    defaults = [c for c in calls[:first_tag] if c[1] == "default"]
    assert len(defaults) == len(calls[:first_tag]) == len(saw)
    eu = next(c[2] for c in defaults if "DE" in c[2].get("region", []))
    us_ca = next(c[2] for c in defaults if "US-CA" in c[2].get("region", []))
    fallback = [c[2] for c in defaults if "region" not in c[2]]
    assert eu["analytics_storage"] == eu["ad_user_data"] == "denied"  # consent basis: denied until a choice
    assert us_ca["analytics_storage"] == "granted"  # opt-out basis: granted until the person opts out
    assert len(fallback) == 1
    assert all(c[2]["security_storage"] == "granted" and c[2]["wait_for_update"] == 500 for c in defaults)
    # Once the configuration is in: an update with the visitor's state (nothing granted yet).
    updates = [c[2] for c in calls if c[1] == "update"]
    assert updates
    assert updates[-1]["analytics_storage"] == "denied"

    page.get_by_role("button", name="Accept all").click()
    page.wait_for_function("() => (window.ran || []).includes('analytics')")
    calls = consent_calls(page)
    grant = next(
        i for i, c in enumerate(calls) if c[1] == "update" and c[2]["analytics_storage"] == "granted"
    )
    assert calls[grant][2] == dict.fromkeys(calls[grant][2], "granted")
    assert grant < next(i for i, c in enumerate(calls) if c == ["tag", "analytics"])

    # A returning visitor's stored state is applied as the first thing after the defaults.
    page.reload()
    calls = consent_calls(page)
    first_update = next(i for i, c in enumerate(calls) if c[1] == "update")
    assert all(c[1] == "default" for c in calls[:first_update])
    assert calls[first_update][2]["analytics_storage"] == "granted"


def test_withdrawal_deletes_the_purposes_cookies_and_stops_its_tags_from_the_next_view(
    context: BrowserContext, server: Server, site: Site
) -> None:
    page = open_site(context, site)
    page.get_by_role("button", name="Accept all").click()
    page.wait_for_function("() => (window.ran || []).length >= 4")
    assert {"_test_an", "_test_an_id"} <= cookie_names(context)

    # Withdrawing takes the same interface and as few steps as giving (GDPR Art. 7(3)).
    page.click("#prefs")
    dialog = banner(page)
    expect(dialog).to_be_visible()
    switch = dialog.get_by_role("switch", name="Product analytics")
    expect(switch).to_be_checked()
    switch.uncheck()
    dialog.get_by_role("button", name="Save choices").click()
    expect(dialog).to_have_count(0)

    events = server.events(visitor_id(context))
    assert len(events) == len(EU_ASKED) + 1  # only the changed purpose is recorded
    withdrawal = events[-1]
    assert (withdrawal.purpose, withdrawal.action.value, withdrawal.notice_id) == (
        "product_analytics",
        "withdraw",
        "cookies",
    )
    assert withdrawal.signals["consent_mode"]["analytics_storage"] == "denied"
    assert not {"_test_an", "_test_an_id"} & cookie_names(context)  # deleted at once
    assert "_test_mk" in cookie_names(context)  # other purposes keep theirs
    assert page.evaluate("consentgate.allowed('product_analytics')") is False

    page.reload()
    page.wait_for_function("() => (window.ran || []).includes('marketing')")
    page.wait_for_timeout(200)
    assert "analytics" not in ran(page)
    assert "third-parsed" not in ran(page)
    assert not {"_test_an", "_test_an_id"} & cookie_names(context)


def _stored(context: BrowserContext, site: Site, value: dict[str, object]) -> None:
    raw = quote(json.dumps(value, separators=(",", ":")), safe="")
    context.add_cookies([{"name": "cg_consent", "value": raw, "url": site.base}])


def test_banner_asks_again_when_the_notice_version_changes_or_consent_expires(
    context: BrowserContext, server: Server, site: Site
) -> None:
    now_ms = int(time.time() * 1000)
    choices = {p: [1, now_ms, current(server.policy, p)[1]] for p in EU_ASKED}
    seen = {current(server.policy, p)[0]: current(server.policy, p)[1] for p in EU_ASKED}

    _stored(context, site, {"c": choices, "n": seen})
    page = open_site(context, site)
    page.wait_for_function("() => (window.ran || []).includes('analytics')")
    expect(banner(page)).to_have_count(0)

    # The AI-training notice went from version 1 to 2: a stored v1 choice is asked about again.
    _stored(
        context,
        site,
        {"c": {**choices, "train_support_chatbot": [1, now_ms, "1"]}, "n": {**seen, "ai-training": "1"}},
    )
    page.reload()
    expect(banner(page)).to_be_visible()
    expect(banner(page).locator('[data-notice="ai-training"]')).to_contain_text("including attachments")
    assert page.evaluate("consentgate.allowed('train_support_chatbot')") is False  # v2 needs re-consent

    # Consent older than the purpose's max_age_days (395) has expired.
    expired = now_ms - 400 * 86_400_000
    _stored(context, site, {"c": {**choices, "product_analytics": [1, expired, "1"]}, "n": seen})
    page.reload()
    expect(banner(page)).to_be_visible()
    assert page.evaluate("consentgate.allowed('product_analytics')") is False
    assert "analytics" not in ran(page)


def test_javascript_api(context: BrowserContext, server: Server, site: Site) -> None:
    page = open_site(context, site)
    state = page.evaluate("consentgate.ready")
    assert state["ready"] is True
    assert state["region"] == "DE"
    assert state["allowed"]["service_delivery"] is True  # contract: no choice needed
    assert state["allowed"]["product_analytics"] is False
    page.evaluate("window.changes = []; consentgate.onChange((s) => window.changes.push(s.allowed))")
    assert page.evaluate("window.changes.length") == 1  # called at once with the current state
    page.evaluate("consentgate.set('product_analytics', true)")
    assert page.evaluate("consentgate.allowed('product_analytics')") is True
    assert page.evaluate("window.changes.at(-1).product_analytics") is True
    events = server.events(visitor_id(context))
    assert [(e.purpose, e.action.value, e.source) for e in events] == [("product_analytics", "grant", "api")]
    page.evaluate("consentgate.show()")
    expect(banner(page)).to_be_visible()
    expect(banner(page).get_by_role("switch", name="Product analytics")).to_be_checked()
