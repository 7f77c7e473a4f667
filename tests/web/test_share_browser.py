"""Consent shared across a site group's domains (web.share) in Chromium, under the strict CSP: two
sites (127.0.0.1 and localhost are different sites to the browser, so no cookie crosses), a choice on
the first applies on the second after one link, the banner names the domains it covers, and the
ledger holds one choice and the alias link."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest
from playwright.sync_api import BrowserContext
from sqlalchemy import select

from consentgate.ledger import schema as t
from consentgate.ledger.store import Ledger
from tests.browser import artifacts
from tests.support import free_port

from .conftest import (
    SITE_DIR,
    Server,
    Site,
    _SiteHandler,
    _test_policy,
    assert_no_csp_violations,
    banner,
    ran,
    start_server,
)

ACCEPT = "[data-consentgate-action=accept-all]"


@pytest.fixture(scope="module")
def group(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Site]]:
    port = free_port()
    first, second = f"http://127.0.0.1:{port}", f"http://localhost:{port}"
    policy = _test_policy(first)
    policy["web"]["origins"].append(second)
    policy["web"]["trackers"] = []
    policy["web"]["share"] = {"domains": ["127.0.0.1", "localhost"]}
    with start_server(tmp_path_factory.mktemp("share"), policy) as server:
        handler = type(
            "Handler", (_SiteHandler,), {"api": server.base, "key": server.collect_key, "third": second}
        )
        httpd = ThreadingHTTPServer(("127.0.0.1", port), lambda *a: handler(*a, directory=str(SITE_DIR)))
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            yield server, Site(first, second)
        finally:
            httpd.shutdown()
            httpd.server_close()


def test_a_choice_on_one_domain_applies_on_the_other_without_asking(
    group: tuple[Server, Site], context: BrowserContext
) -> None:
    server, site = group
    page = context.new_page()
    page.goto(site.url("share.html"))
    covers = banner(page).locator(".cg-share")
    covers.wait_for()
    assert covers.text_content() == "Your choices apply on these sites: 127.0.0.1, localhost"
    page.screenshot(path=artifacts("web") / "share-first-domain.png")
    page.click(ACCEPT)
    page.wait_for_function("() => (window.ran || []).includes('marketing')")
    assert len(server.events()) > 0
    (first,) = {e.subject for e in server.events()}

    page.click("#other")
    page.wait_for_url(f"{site.third_party}/share.html")  # the hand-off is gone from the address
    state = page.evaluate("consentgate.ready")
    assert state["allowed"]["marketing"] is True
    page.wait_for_function("() => (window.ran || []).includes('marketing')")
    assert banner(page).count() == 0  # not asked again
    assert "cg_handoff" not in page.evaluate("location.href")
    page.evaluate("consentgate.show()")
    banner(page).locator(".cg-share").wait_for()
    page.screenshot(path=artifacts("web") / "share-second-domain.png")
    assert_no_csp_violations(page)

    # One choice in the ledger, and the second domain's visitor id linked to the first.
    assert {e.subject for e in server.events()} == {first}
    with Ledger.open(server.db, migrate_schema=False) as ledger, ledger.engine.connect() as conn:
        links = conn.execute(select(t.aliases.c.subject, t.aliases.c.kind)).all()
    assert [tuple(r) for r in links] == [(first, "shared_domain")]
    assert ran(page).count("marketing") == 1


def test_a_visitor_without_a_choice_follows_the_link_and_is_asked(
    group: tuple[Server, Site], context: BrowserContext
) -> None:
    _, site = group
    page = context.new_page()
    page.goto(site.url("share.html"))
    banner(page).wait_for()
    page.evaluate("() => document.getElementById('other').click()")  # the modal dialog covers the page
    page.wait_for_url(f"{site.third_party}/share.html")
    banner(page).wait_for()
    assert "marketing" not in ran(page)
    assert_no_csp_violations(page)
