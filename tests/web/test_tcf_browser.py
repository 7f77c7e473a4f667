"""The TCF CMP in Chromium under the strict CSP: ``__tcfapi``, the locator frame and postMessage, the
``euconsent-v2`` cookie, and the TC string recorded with the banner's event as evidence. Every string
is decoded by IAB's own library (tests/tcf/oracle.py) and compared with ``__tcfapi``'s answer."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

from consentgate.policy.tcf import TcfSettings
from consentgate.web.tcf.gvl import shipped_gvl
from consentgate.web.tcf.signals import TcfChoices, tc_string
from tests.browser import artifacts
from tests.support import free_port
from tests.tcf import oracle
from tests.tcf.conftest import TCF

from .conftest import (
    SITE_DIR,
    Server,
    Site,
    _SiteHandler,
    _test_policy,
    assert_no_csp_violations,
    start_server,
)

ACCEPT = "[data-consentgate-action=accept-all]"
REJECT = "[data-consentgate-action=reject-all]"
LISTEN = """() => new Promise((done) => {
  window.tcfEvents = [];
  __tcfapi('addEventListener', 2, (d, ok) => { window.tcfEvents.push({d, ok}); done(d); });
})"""


@pytest.fixture(scope="module")
def tcf_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Site]]:
    with serve_tcf_site(tmp_path_factory.mktemp("tcf"), TCF) as served:
        yield served


@contextmanager
def serve_tcf_site(
    folder: Path, tcf: dict[str, Any], extra_env: dict[str, str] | None = None
) -> Iterator[tuple[Server, Site]]:
    """The service with ``web.tcf`` = ``tcf``, and a site on another loopback port embedding it."""
    port = free_port()
    policy = _test_policy(f"http://127.0.0.1:{port}")
    policy["web"]["tcf"] = tcf
    with start_server(folder, policy, extra_env) as server:
        handler = type(
            "Handler", (_SiteHandler,), {"api": server.base, "key": server.collect_key, "third": ""}
        )
        httpd = ThreadingHTTPServer(("127.0.0.1", port), lambda *a: handler(*a, directory=str(SITE_DIR)))
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            yield server, Site(f"http://127.0.0.1:{port}", "")
        finally:
            httpd.shutdown()
            httpd.server_close()


@pytest.fixture(scope="module", autouse=True)
def _oracle() -> None:
    oracle.require_oracle()


def _cookie(context: BrowserContext, name: str) -> str | None:
    return next((str(c["value"]) for c in context.cookies() if c["name"] == name), None)


def _ids(flags: dict[str, bool]) -> list[int]:
    return sorted(int(k) for k, v in flags.items() if v)


def _same_as_oracle(tc: dict[str, Any], decoded: dict[str, Any]) -> None:
    """``__tcfapi``'s TCData says what IAB's decoder reads from the same string."""
    assert _ids(tc["purpose"]["consents"]) == decoded["purposeConsents"]
    assert _ids(tc["purpose"]["legitimateInterests"]) == decoded["purposeLegitimateInterests"]
    assert _ids(tc["vendor"]["consents"]) == decoded["vendorConsents"]
    assert _ids(tc["vendor"]["legitimateInterests"]) == decoded["vendorLegitimateInterests"]
    assert _ids(tc["specialFeatureOptins"]) == decoded["specialFeatureOptins"]
    assert (tc["cmpId"], tc["cmpVersion"], tc["publisherCC"]) == (
        decoded["cmpId"], decoded["cmpVersion"], decoded["publisherCountryCode"]
    )  # fmt: skip
    assert tc["tcfPolicyVersion"] == decoded["policyVersion"]
    restrictions = {
        str(r["purposeId"]): {str(v): r["restrictionType"] for v in r["vendorIds"]}
        for r in decoded["publisherRestrictions"]
    }
    assert tc["publisher"]["restrictions"] == restrictions
    assert _ids(tc["publisher"]["consents"]) == decoded["publisherConsents"]
    assert _ids(tc["publisher"]["legitimateInterests"]) == decoded["publisherLegitimateInterests"]


def _open(page: Page, site: Site) -> None:
    page.goto(site.url("tcf.html"))
    page.wait_for_selector(ACCEPT)


def _completed(page: Page, timeout: float = 10_000) -> dict[str, Any]:
    """The TCData the listener (LISTEN) got once the visitor's action completed."""
    done = "window.tcfEvents.find((e) => e.d.eventStatus === 'useractioncomplete')"
    page.wait_for_function(f"() => !!{done}", timeout=timeout)
    found: dict[str, Any] = page.evaluate(f"{done}.d")
    return found


def _click_and_wait(page: Page, button: str) -> dict[str, Any]:
    """Press a banner button; the TCData the listener got once the visitor's action completed."""
    page.click(button)
    return _completed(page)


def _failing_consents(page: Page) -> dict[str, bool]:
    """Consent POSTs answer 503 while the returned switch's "on" is true."""
    failing = {"on": True}

    def consents(route: Any) -> None:
        if failing["on"] and route.request.method == "POST":
            route.fulfill(status=503, body="")
        else:
            route.continue_()

    page.route("**/v1/consents/browser", consents)
    return failing


def test_accept_all_writes_the_string_answers_frames_and_records_it(
    tcf_site: tuple[Server, Site], context: BrowserContext
) -> None:
    server, site = tcf_site
    page = context.new_page()
    _open(page, site)
    ping = page.evaluate("() => new Promise((r) => __tcfapi('ping', 2, (p, ok) => r([p, ok])))")
    assert ping[1] is True
    assert (ping[0]["cmpStatus"], ping[0]["cmpId"]) == ("loaded", TCF["cmp_id"])
    assert ping[0]["displayStatus"] == "visible"
    first = page.evaluate(LISTEN)
    assert (first["eventStatus"], first["tcString"]) == ("cmpuishown", "")
    page.screenshot(path=str(artifacts("tcf") / "banner-with-tcf.png"))

    done = _click_and_wait(page, ACCEPT)
    cookie = _cookie(context, "euconsent-v2")
    assert cookie is not None
    assert done["tcString"] == cookie
    decoded = oracle.decode(cookie)
    assert decoded["purposeConsents"] == list(range(1, 12))
    assert decoded["specialFeatureOptins"] == [1, 2]
    assert decoded["vendorsDisclosed"] == [1, 2, 3, 8, 25, 755]  # the policy's, less 4 (deleted)
    assert decoded["vendorConsents"] == [1, 2, 8, 25, 755]  # 3 declares no consent purpose
    assert decoded["segments"] == ["core", "vendorsDisclosed", "publisherTC"]
    assert (decoded["publisherConsents"], decoded["publisherLegitimateInterests"]) == (
        TCF["publisher_purposes"], TCF["publisher_legitimate_interest_purposes"]
    )  # fmt: skip
    _same_as_oracle(done, decoded)
    assert done["addtlConsent"] == "2~89.1301~dv."

    # the same string is the evidence on every event the click recorded
    subject = next(c["value"] for c in context.cookies() if c["name"] == "cg_vid")
    events = server.wait_events(subject, 1)
    assert events
    assert {e.signals.get("tc_string") for e in events} == {cookie}
    assert {e.signals.get("addtl_consent") for e in events} == {"2~89.1301~dv."}

    # a vendor's frame asks through the locator frame, in both message forms the spec allows
    frame = page.frame_locator("#vendor")
    vendor = next(f for f in page.frames if f.url.endswith("tcf-frame.html"))
    assert frame.locator("p").inner_text() == "vendor"
    assert vendor.evaluate("ask('ping', 'a', false) && ask('addEventListener', 'b', true)")
    vendor.wait_for_function("() => window.replies.length >= 2")
    replies = {r["callId"]: r for r in vendor.evaluate("window.replies")}
    assert (replies["a"]["success"], replies["a"]["returnValue"]["cmpId"]) == (True, TCF["cmp_id"])
    assert replies["b"]["returnValue"]["tcString"] == cookie

    # removeEventListener: true for a listener that exists, then no more calls
    listener = first["listenerId"]
    removed = page.evaluate(f"() => new Promise((r) => __tcfapi('removeEventListener', 2, r, {listener}))")
    assert removed is True
    again = page.evaluate(f"() => new Promise((r) => __tcfapi('removeEventListener', 2, r, {listener}))")
    assert again is False
    assert page.evaluate("() => new Promise((r) => __tcfapi('nonsense', 2, (d, ok) => r(ok)))") is False
    assert_no_csp_violations(page)

    # a later page view answers from the cookie: tcloaded, same string, getTCData for older callers
    page.reload()
    page.wait_for_load_state("load")
    loaded = page.evaluate(LISTEN)
    assert (loaded["eventStatus"], loaded["tcString"]) == ("tcloaded", cookie)
    older = page.evaluate("() => new Promise((r) => __tcfapi('getTCData', 2, (d, ok) => r([d, ok]), [8, 4]))")
    assert older[1] is True
    assert older[0]["vendor"]["consents"] == {"8": True, "4": False}
    page.screenshot(path=str(artifacts("tcf") / "after-accept.png"))


def test_reject_all_objects_to_every_legitimate_interest(
    tcf_site: tuple[Server, Site], context: BrowserContext
) -> None:
    _, site = tcf_site
    page = context.new_page()
    _open(page, site)
    page.evaluate(LISTEN)
    done = _click_and_wait(page, REJECT)
    decoded = oracle.decode(done["tcString"])
    assert decoded["purposeConsents"] == []
    assert decoded["purposeLegitimateInterests"] == []
    assert decoded["vendorConsents"] == []
    assert decoded["vendorLegitimateInterests"] == []
    assert (decoded["publisherConsents"], decoded["publisherLegitimateInterests"]) == ([], [])
    assert decoded["vendorsDisclosed"] == [1, 2, 3, 8, 25, 755]
    _same_as_oracle(done, decoded)
    assert done["addtlConsent"] == "2~~dv.89.1301"


def test_tcf_js_is_not_served_when_tcf_is_off(server: Server) -> None:
    import httpx

    assert httpx.get(server.base + "/tcf.js").status_code == 404


def test_a_string_that_did_not_disclose_a_vendor_is_asked_again(
    tcf_site: tuple[Server, Site], context: BrowserContext
) -> None:
    """A stored string is reused on later views only while it disclosed every vendor the site names
    now (and is this CMP's, under this policy version); one from before vendor 755 was added is not."""
    _, site = tcf_site
    gvl = shipped_gvl()
    when = datetime(2026, 1, 5, tzinfo=UTC)
    for vendors, status in (([1, 2, 3, 8, 25, 755], "tcloaded"), ([1, 2, 3, 8, 25], "cmpuishown")):
        policy = TcfSettings.model_validate({**TCF, "vendors": vendors})
        old = tc_string(
            TcfChoices(purpose_consents=frozenset({1})),
            policy,
            gvl,
            language="en",
            created=when,
            updated=when,
        )
        context.clear_cookies()
        context.add_cookies([{"name": "euconsent-v2", "value": old, "url": site.base}])
        page = context.new_page()
        page.goto(site.url("tcf.html"))
        seen = page.evaluate(LISTEN)
        assert (seen["eventStatus"], seen["tcString"]) == (status, old if status == "tcloaded" else "")
        page.close()


def test_vendors_see_no_consent_the_ledger_has_not_acknowledged(
    tcf_site: tuple[Server, Site], context: BrowserContext
) -> None:
    """Record first under TCF too: while the consent POST fails, "Accept all" writes no euconsent-v2
    cookie and __tcfapi's listeners get no useractioncomplete; once the service answers, they do."""
    _server, site = tcf_site
    page = context.new_page()
    failing = _failing_consents(page)
    _open(page, site)
    page.evaluate(LISTEN)
    page.click(ACCEPT)
    page.wait_for_selector(".cg-err:not([hidden])")
    assert _cookie(context, "euconsent-v2") is None
    statuses = page.evaluate("window.tcfEvents.map((e) => e.d.eventStatus)")
    assert "useractioncomplete" not in statuses
    failing["on"] = False
    _completed(page, timeout=15_000)
    assert _cookie(context, "euconsent-v2") is not None
