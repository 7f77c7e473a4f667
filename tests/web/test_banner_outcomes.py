"""Which banner button made a choice, in real Chromium: every event of a click carries it in
``signals.banner_choice``, and the banner outcome report counts the clicks by it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from playwright.sync_api import BrowserContext, expect

from consentgate.ledger.store import Ledger
from consentgate.reports.banner import banner_outcomes
from consentgate.reports.periods import Period

from .conftest import EU_ASKED, Server, Site, assert_no_csp_violations, banner, visitor_id


def totals(server: Server) -> Counter[str]:
    """The banner outcome report over the last day, summed over days and regions."""
    now = datetime.now(UTC)
    with Ledger.open(server.db, migrate_schema=False) as ledger:
        report = banner_outcomes(
            ledger.engine, server.policy, Period(now - timedelta(days=1), now + timedelta(1))
        )
    out: Counter[str] = Counter()
    for row in report["rows"]:
        for name in ("accept_all", "reject_all", "custom", "unattributed"):
            out[name] += row[name]
        assert row["no_action"] is None
    return out


def test_each_button_names_itself_and_the_report_counts_one_click_each(
    context: BrowserContext, server: Server, site: Site
) -> None:
    before = totals(server)
    page = context.new_page()
    page.goto(site.url())
    page.get_by_role("button", name="Accept all").click()
    expect(banner(page)).to_have_count(0)
    accepted = server.events(visitor_id(context))
    assert len(accepted) == len(EU_ASKED)
    assert {e.signals.get("banner_choice") for e in accepted} == {"accept_all"}

    # Reopened: a custom selection ("Save choices") names itself, only the changed purpose is stored.
    page.click("#prefs")
    dialog = banner(page)
    dialog.get_by_role("switch", name="Product analytics").uncheck()
    dialog.get_by_role("button", name="Save choices").click()
    expect(dialog).to_have_count(0)
    custom = server.events(visitor_id(context))[len(accepted) :]
    assert [(e.purpose, e.signals.get("banner_choice")) for e in custom] == [("product_analytics", "custom")]

    # Reopened again: "Reject all".
    page.click("#prefs")
    banner(page).get_by_role("button", name="Reject all").click()
    expect(banner(page)).to_have_count(0)
    rejected = server.events(visitor_id(context))[len(accepted) + 1 :]
    assert rejected
    assert {e.signals.get("banner_choice") for e in rejected} == {"reject_all"}

    # The JavaScript API and the toggle are not the banner's buttons: nothing is named.
    page.evaluate("consentgate.set('product_analytics', true)")
    api = server.events(visitor_id(context))[-1]
    assert (api.source, "banner_choice" in api.signals) == ("api", False)
    assert_no_csp_violations(page)

    after = totals(server)
    assert after - before == Counter({"accept_all": 1, "custom": 1, "reject_all": 1})
