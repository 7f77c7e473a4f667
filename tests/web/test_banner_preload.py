"""``web.accept.fetch_tags_while_recording`` (issue 17, item 4) in Chromium under the strict CSP.

On: the gated scripts a choice allows are downloaded while its record is in flight and run only
once the service has acknowledged it, each fetched once (the script is served from the preload).
Off (the default): nothing gated is requested before the acknowledgement. Either way, a record the
service never takes runs nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from consentgate.web import i18n
from tests.browser import artifacts
from tests.support import free_port

from .conftest import (
    Server,
    Site,
    _test_policy,
    assert_no_csp_violations,
    banner,
    ran,
    serve_site,
    start_server,
)

RECORD = "/v1/consents/browser"
# The page's gated scripts with a URL (tests/web/site/page.html): two declared with data-consent, one
# from a host the policy lists as an analytics tracker (held back automatically).
GATED = ("/tags/analytics.js", "/tags/marketing.js", "/tags/third.js?n=parsed")
EVERY_TAG = ["analytics", "inline-personalisation", "marketing", "third-parsed"]


@pytest.fixture(scope="module")
def preload_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Site]]:
    port = free_port()
    policy = _test_policy(f"http://127.0.0.1:{port}")
    policy["web"]["accept"] = {"fetch_tags_while_recording": True}
    with (
        start_server(tmp_path_factory.mktemp("preload"), policy) as server,
        serve_site(server, port, f"http://localhost:{port}") as site,
    ):
        yield server, site


def _watch_tags(page: Page) -> list[str]:
    """Every request the page makes for one of its gated scripts, in order (path and query)."""
    seen: list[str] = []

    def note(request: object) -> None:
        url = str(getattr(request, "url", ""))
        for tag in GATED:
            if url.endswith(tag):
                seen.append(tag)

    page.on("request", note)
    return seen


def _click_and_hold(page: Page, server: Server, requested: list[str]) -> list[Route]:
    """Click "Accept all" with the record held at the network (unanswered until released). What was
    requested before the click is forgotten: Chromium's parser fetches a third-party ``<script src>``
    ahead of any script (its preload scanner) even though the banner then holds it back unrun."""
    held: list[Route] = []
    page.route(f"{server.base}{RECORD}", lambda route: held.append(route))
    expect(banner(page)).to_be_visible()
    requested.clear()
    page.get_by_role("button", name="Accept all").click()
    while not held:
        page.wait_for_timeout(20)
    return held


def test_on_the_allowed_scripts_download_during_the_record_and_run_only_after_it(
    context: BrowserContext, preload_site: tuple[Server, Site]
) -> None:
    server, site = preload_site
    page = context.new_page()
    requested = _watch_tags(page)
    page.goto(site.url())
    held = _click_and_hold(page, server, requested)
    while len(requested) < len(GATED):
        page.wait_for_timeout(20)
    assert sorted(requested) == sorted(GATED)  # all downloaded, the record still unanswered
    page.wait_for_timeout(300)
    assert ran(page) == []  # downloaded, not run: the record is not acknowledged
    held[0].continue_()
    page.wait_for_function(f"() => (window.ran || []).length >= {len(EVERY_TAG)}")
    assert sorted(ran(page)) == EVERY_TAG
    expect(banner(page)).to_have_count(0)
    page.wait_for_timeout(200)
    assert sorted(requested) == sorted(GATED)  # each once: the scripts came from the preloads
    assert_no_csp_violations(page)
    page.screenshot(path=str(artifacts("web") / "banner-fetch-while-recording.png"))


def test_on_a_record_the_service_never_takes_runs_nothing(
    context: BrowserContext, preload_site: tuple[Server, Site]
) -> None:
    server, site = preload_site
    page = context.new_page()
    requested = _watch_tags(page)
    page.route(f"{server.base}{RECORD}", lambda route: route.abort("connectionrefused"))
    page.goto(site.url())
    page.get_by_role("button", name="Accept all").click()
    expect(banner(page).locator(".cg-err")).to_have_text(i18n.strings("en")["pending"])
    assert "/tags/analytics.js" in requested  # fetched on the click, as the setting says
    page.wait_for_timeout(500)
    assert ran(page) == []
    assert page.evaluate("consentgate.state().allowed.product_analytics") is False
    page.reload()
    expect(banner(page).locator(".cg-err")).to_have_text(i18n.strings("en")["pending"])
    page.wait_for_timeout(300)
    assert ran(page) == []
    assert_no_csp_violations(page)


def test_off_nothing_gated_is_requested_before_the_acknowledgement(
    context: BrowserContext, server: Server, site: Site
) -> None:
    page = context.new_page()
    requested = _watch_tags(page)
    page.goto(site.url())
    held = _click_and_hold(page, server, requested)
    page.wait_for_timeout(300)
    assert requested == []
    assert page.locator("link[rel=preload]").count() == 0
    held[0].continue_()
    page.wait_for_function(f"() => (window.ran || []).length >= {len(EVERY_TAG)}")
    assert sorted(requested) == sorted(GATED)
    assert_no_csp_violations(page)


# What happens on the page after "Accept all", in order: the gated analytics script inserted (the
# banner's copy of it, no longer text/plain), the banner's choice cookie written, the banner removed;
# each noted with the gated tags that had run by then. (The cookie is written twice: with the choice,
# then with the notices seen.)
ORDER_WATCH = """(() => {
  const order = window.__order = [], note = (what) => order.push([what, (window.ran || []).slice()]);
  const cookie = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
  Object.defineProperty(Document.prototype, 'cookie', {configurable: true,
    get() { return cookie.get.call(this); },
    set(v) { if (String(v).startsWith('cg_consent=')) note('cookie'); cookie.set.call(this, v); }});
  new MutationObserver((ms) => ms.forEach((m) => {
    m.addedNodes.forEach((n) => {
      const gated = n.tagName == 'SCRIPT' && n.type != 'text/plain';
      if (gated && /\\/tags\\/analytics\\.js$/.test(n.src)) note('inserted');
    });
    m.removedNodes.forEach((n) => { if (n.id == 'consentgate-banner') note('closed'); });
  })).observe(document, {childList: true, subtree: true});
})();"""


def _order_after_accepting(
    context: BrowserContext, server: Server, site: Site, *, preloaded: bool = False
) -> dict[str, list[str]]:
    """The first time each of those happened after the acknowledgement, in order, with the gated tags
    that had run by then; ``preloaded``: the record is answered once the script's preload is in."""
    context.add_init_script(ORDER_WATCH)
    page = context.new_page()
    page.goto(site.url())
    held = _click_and_hold(page, server, [])
    if preloaded:
        page.wait_for_function(
            "() => performance.getEntriesByType('resource')"
            ".some((e) => e.name.endsWith('/tags/analytics.js') && e.responseEnd > 0)"
        )
    page.evaluate("window.__order.length = 0")  # from here on: what the acknowledgement sets off
    held[0].continue_()
    expect(banner(page)).to_have_count(0)
    page.wait_for_function(f"() => (window.ran || []).length >= {len(EVERY_TAG)}")
    assert_no_csp_violations(page)
    first: dict[str, list[str]] = {}
    for what, tags in page.evaluate("window.__order"):
        first.setdefault(what, list(tags))
    return first


def test_off_the_acknowledgement_starts_the_tags_before_the_cookie_and_the_banner_go(
    context: BrowserContext, server: Server, site: Site
) -> None:
    # The tags' fetches wait for nothing else the banner does once the choice is recorded.
    order = _order_after_accepting(context, server, site)
    assert list(order) == ["inserted", "cookie", "closed"]


def test_on_a_preloaded_tag_runs_before_the_cookie_and_the_banner_go(
    context: BrowserContext, preload_site: tuple[Server, Site]
) -> None:
    # Already downloaded, the script runs as soon as the acknowledgement's own task ends: the banner's
    # other work (the cookie, closing the banner) comes after it.
    order = _order_after_accepting(context, *preload_site, preloaded=True)
    assert list(order) == ["inserted", "cookie", "closed"]
    assert "analytics" in order["cookie"]
    assert "analytics" in order["closed"]


def test_on_the_record_is_sent_before_the_downloads_it_allows(
    context: BrowserContext, preload_site: tuple[Server, Site]
) -> None:
    # The preloads follow the record's fetch() call in the click's own task: they never hold it back.
    _, site = preload_site
    page = context.new_page()
    sent: list[str] = []
    page.goto(site.url())
    expect(banner(page)).to_be_visible()
    page.on("request", lambda r: sent.append("record" if r.url.endswith(RECORD) else r.url))
    page.get_by_role("button", name="Accept all").click()
    page.wait_for_function(f"() => (window.ran || []).length >= {len(EVERY_TAG)}")
    tags = [u for u in sent if u.endswith(GATED)]
    assert sorted(u.rsplit("/tags", 1)[1] for u in tags) == sorted(t.removeprefix("/tags") for t in GATED)
    assert sent.index("record") < min(sent.index(u) for u in tags)
