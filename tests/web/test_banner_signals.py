"""Region flows and Global Privacy Control, in real Chromium.

California (data-region="US-CA") rests the example purposes on opt_out and honours GPC; a browser
sending GPC (``navigator.globalPrivacyControl`` and ``Sec-GPC: 1``) must be opted out, recorded as a
``gpc`` event, and told so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from playwright.sync_api import BrowserContext, expect

from .conftest import Server, Site, banner, consent_calls, cookie_names, ran, visitor_id

OPT_OUT_PURPOSES = (
    "train_support_chatbot",
    "finetune_recommender",
    "product_analytics",
    "personalisation",
    "marketing",
)


def test_gpc_is_recorded_once_honoured_and_shown(
    make_context: Callable[..., BrowserContext], server: Server, site: Site
) -> None:
    context = make_context(country="US", gpc=True)
    page = context.new_page()
    page.goto(site.url(region="US-CA"))
    dialog = banner(page)
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("role", "region")  # a notice, not a blocking dialog
    expect(dialog.locator(".cg-gpc")).to_contain_text("Opt-out preference signal honoured")

    subject = visitor_id(context)
    events = server.wait_events(subject, 1)
    assert [(e.action.value, e.purpose, e.region) for e in events] == [("gpc", None, "US-CA")]
    assert events[0].signals == {"gpc": True, "via": "dom"}
    # The ledger's decision agrees with the banner: opted out of every opt_out purpose.
    now = datetime.now(UTC)
    for purpose in OPT_OUT_PURPOSES:
        assert server_decision(server, subject, purpose, now) is False
        assert page.evaluate(f"consentgate.allowed('{purpose}')") is False

    page.wait_for_timeout(300)
    assert ran(page) == []
    assert not cookie_names(context) & {"_test_an", "_test_mk", "_test_pz"}
    default = next(c[2] for c in consent_calls(page) if c[1] == "default")
    assert "region" not in default  # data-region given: one default for that region
    assert default["ad_user_data"] == default["ad_personalization"] == default["ad_storage"] == "denied"
    assert default["analytics_storage"] == "granted"  # GPC is about sale and sharing, not analytics...
    update = [c[2] for c in consent_calls(page) if c[1] == "update"][-1]
    assert update["analytics_storage"] == "denied"  # ...but the opt-out covers every opt_out purpose here

    # Closing the notice records nothing more; the next view records no second gpc event.
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_have_count(0)
    page.reload()
    page.wait_for_timeout(400)
    expect(banner(page)).to_have_count(0)
    assert len(server.events(subject)) == 1


def server_decision(server: Server, subject: str, purpose: str, at: datetime) -> bool:
    from consentgate.ledger.store import Ledger
    from consentgate.service import ConsentService

    with Ledger.open(server.db, migrate_schema=False) as ledger:
        return ConsentService(server.policy, ledger).decide(subject, purpose, at, "US-CA").allowed


def test_opt_out_region_runs_tags_until_the_visitor_opts_out(
    make_context: Callable[..., BrowserContext], server: Server, site: Site
) -> None:
    context = make_context(country="US")
    page = context.new_page()
    page.goto(site.url())  # the country header says US: basis opt_out, no GPC
    dialog = banner(page)
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("unless you say no")
    assert dialog.locator(".cg-gpc").count() == 0
    page.wait_for_function("() => (window.ran || []).length >= 4")  # allowed until the visitor says no
    dialog.get_by_role("button", name="Reject all").click()
    expect(dialog).to_have_count(0)
    events = server.events(visitor_id(context))
    assert sorted((e.purpose, e.action.value) for e in events) == sorted(
        (p, "opt_out") for p in OPT_OUT_PURPOSES
    )
    assert {e.region for e in events} == {"US"}
    assert not cookie_names(context) & {"_test_an", "_test_an_id", "_test_mk", "_test_pz"}
    page.reload()
    page.wait_for_timeout(300)
    assert ran(page) == []


def test_gpc_where_it_is_not_honoured_is_recorded_but_changes_nothing(
    make_context: Callable[..., BrowserContext], server: Server, site: Site
) -> None:
    context = make_context(country="DE", gpc=True)
    page = context.new_page()
    page.goto(site.url())
    expect(banner(page)).to_be_visible()
    assert banner(page).locator(".cg-gpc").count() == 0
    events = server.wait_events(visitor_id(context), 1)
    assert [(e.action.value, e.region) for e in events] == [("gpc", "DE")]
    # The EU asks for consent anyway: accepting is the visitor's explicit choice and counts.
    banner(page).get_by_role("button", name="Accept all").click()
    page.wait_for_function("() => (window.ran || []).includes('analytics')")
