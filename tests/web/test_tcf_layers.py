"""The banner's TCF layers in Chromium under the strict CSP: the purposes, special features and vendors
of the served GVL with their switches; a "Save" records the TC string the switches produce before any
vendor sees it; IAB's own library decodes the recorded string, the cookie and ``__tcfapi``'s answer to
the same choices."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from consentgate.ledger.tcstring import decode
from consentgate.web.tcf.gvl import shipped_gvl
from tests.browser import artifacts
from tests.support.axe import violations
from tests.tcf import oracle
from tests.tcf.conftest import AC_IDS, TCF

from .conftest import Server, Site, assert_no_csp_violations
from .test_tcf_browser import (
    ACCEPT,
    LISTEN,
    _completed,
    _cookie,
    _failing_consents,
    _oracle,
    _same_as_oracle,
    tcf_site,
)

__all__ = ["_oracle", "tcf_site"]  # fixtures shared with test_tcf_browser

BANNER = "#consentgate-banner"
SAVE = "[data-consentgate-action=save]"
DISCLOSED = [v for v in TCF["vendors"] if shipped_gvl().vendor(v) is not None]


def _settings(page: Page, site: Site, locale: str = "en") -> None:
    page.goto(site.url("tcf.html", locale=locale))
    page.wait_for_selector(ACCEPT)
    page.locator("[data-consentgate-action=settings]").click()
    expect(page.locator(".cg-tcf .cg-rows")).to_be_visible()


def _vendor(page: Page, vendor_id: int) -> None:
    """Open a vendor's entry (a <details>) by keyboard, as a person without a mouse would."""
    summary = page.locator(f".cg-tcf-v:has(#cg-tcf-v{vendor_id}, #cg-tcf-vl{vendor_id}) summary")
    summary.focus()
    page.keyboard.press("Enter")


def _toggle(page: Page, switch: str) -> None:
    page.locator(switch).focus()
    page.keyboard.press("Space")


def test_the_layers_list_the_gvl_and_a_save_records_exactly_the_switches(
    tcf_site: tuple[Server, Site], context: BrowserContext
) -> None:
    server, site = tcf_site
    page = context.new_page()
    _settings(page, site)
    page.evaluate(LISTEN)
    gvl = shipped_gvl()
    layers = page.locator(".cg-tcf")
    # first layer: the vendor count and every purpose and special feature by the GVL's name
    listed = layers.locator(".cg-tcf-list li").all_inner_texts()
    assert listed == [gvl.purposes[str(i)]["name"] for i in range(1, 12)] + [
        gvl.specialFeatures[str(i)]["name"] for i in (1, 2)
    ]
    assert str(len(DISCLOSED)) in layers.locator("p").first.inner_text()
    # a switch per purpose, an objection switch per legitimate interest, special features off
    assert page.locator("[data-tcf=p]").count() == 11
    li = sorted(
        int(x) for x in page.locator("[data-tcf=pl]").evaluate_all("(e) => e.map((i) => i.dataset.id)")
    )
    assert li == sorted(TCF["legitimate_interest_purposes"])
    assert page.locator("[data-tcf=sf]:checked").count() == 0
    assert page.locator("[data-tcf=pl]:not(:checked)").count() == 0  # nobody has objected yet
    # each vendor: name, what it uses, retention, data, policy link
    entry = page.locator(".cg-tcf-v", has=page.locator("#cg-tcf-v755"))
    _vendor(page, 755)
    text = entry.inner_text()
    vendor = gvl.vendor(755)
    assert vendor is not None
    assert vendor.name in text
    assert gvl.purposes[str(vendor.legIntPurposes[0])]["name"] in text
    assert "396" in text  # days of retention, from the GVL
    assert entry.locator("a").get_attribute("href") == "https://example.invalid/755"

    _toggle(page, "#cg-tcf-p1")
    _toggle(page, "#cg-tcf-p3")
    _toggle(page, "#cg-tcf-pl7")  # object to the legitimate interest for purpose 7
    _toggle(page, "#cg-tcf-sf2")
    _toggle(page, "#cg-tcf-vl755")  # object to vendor 755's legitimate interest
    _vendor(page, 8)
    _toggle(page, "#cg-tcf-v8")
    page.screenshot(path=str(artifacts("tcf") / "layers-settings.png"), full_page=True)
    assert_no_csp_violations(page)
    page.click(SAVE)
    done = _completed(page)

    cookie = _cookie(context, "euconsent-v2")
    assert cookie is not None
    assert done["tcString"] == cookie
    decoded = oracle.decode(cookie)
    assert decoded["purposeConsents"] == [1, 3]
    assert decoded["purposeLegitimateInterests"] == sorted(set(TCF["legitimate_interest_purposes"]) - {7})
    assert decoded["specialFeatureOptins"] == [2]
    assert decoded["vendorConsents"] == [8]
    li_vendors = [
        v for v in DISCLOSED if (found := gvl.vendor(v)) and (found.legIntPurposes or found.specialPurposes)
    ]
    assert decoded["vendorLegitimateInterests"] == [v for v in li_vendors if v != 755]
    assert decoded["publisherConsents"] == sorted({1, 3} & set(TCF["publisher_purposes"]))
    assert decoded["publisherLegitimateInterests"] == sorted(
        set(TCF["publisher_legitimate_interest_purposes"]) - {7}
    )
    _same_as_oracle(done, decoded)
    older = page.evaluate("() => new Promise((r) => __tcfapi('getTCData', 2, (d) => r(d)))")
    assert older["tcString"] == cookie
    _same_as_oracle(older, decoded)

    # the ledger has the same string, with the Save that made it
    subject = next(c["value"] for c in context.cookies() if c["name"] == "cg_vid")
    events = server.wait_events(subject, 1)
    assert {e.signals.get("tc_string") for e in events} == {cookie}
    assert {e.signals.get("banner_choice") for e in events} == {"custom"}
    assert decode(cookie).purpose_consents == {1, 3}

    # reopened, the layers show what was chosen
    page.evaluate("consentgate.show()")  # opens on the settings layer
    expect(page.locator("#cg-tcf-p3")).to_be_checked()
    expect(page.locator("#cg-tcf-p2")).not_to_be_checked()
    expect(page.locator("#cg-tcf-pl7")).not_to_be_checked()
    expect(page.locator("#cg-tcf-pl8")).to_be_checked()
    expect(page.locator("#cg-tcf-sf2")).to_be_checked()


def test_google_providers_switched_apart_agree_in_tcfapi_the_cookie_and_the_record(
    tcf_site: tuple[Server, Site], context: BrowserContext
) -> None:
    """One Google ATP switched on, the other left off: ``__tcfapi``'s ``addtlConsent``, the
    ``cg_addtl_consent`` cookie and the recorded event's evidence carry the same AC string, which names
    the refused one under ``dv.``; reopened, the switches show it."""
    server, site = tcf_site
    page = context.new_page()
    _settings(page, site)
    page.evaluate(LISTEN)
    named = next(e for e in TCF["google_ac_vendors"] if isinstance(e, dict))
    bare = next(e for e in TCF["google_ac_vendors"] if isinstance(e, int))
    section = page.locator(".cg-tcf-ac")
    assert section.count() == len(AC_IDS)
    assert (
        page.locator(".cg-tcf h3", has_text="Google").inner_text()
        == f"Google ad partners outside the TCF ({len(AC_IDS)})"
    )
    row = page.locator(".cg-tcf-ac", has=page.locator(f"#cg-tcf-ac{named['id']}"))
    assert named["name"] in row.inner_text()
    assert row.locator("a").get_attribute("href") == named["privacy_url"]
    assert (
        f"Ad partner {bare}" in page.locator(".cg-tcf-ac", has=page.locator(f"#cg-tcf-ac{bare}")).inner_text()
    )
    assert page.locator("[data-tcf=ac]:checked").count() == 0  # nothing consented before a choice
    _toggle(page, f"#cg-tcf-ac{named['id']}")
    page.screenshot(path=str(artifacts("tcf") / "layers-google-ac.png"), full_page=True)
    page.click(SAVE)
    done = _completed(page)

    expected = f"2~{named['id']}~dv.{bare}"
    assert done["addtlConsent"] == expected
    assert unquote(_cookie(context, "cg_addtl_consent") or "") == expected
    subject = next(c["value"] for c in context.cookies() if c["name"] == "cg_vid")
    events = server.wait_events(subject, 1)
    assert {e.signals.get("addtl_consent") for e in events} == {expected}
    assert {e.signals.get("tc_string") for e in events} == {done["tcString"]}
    assert_no_csp_violations(page)

    page.evaluate("consentgate.show()")
    expect(page.locator(f"#cg-tcf-ac{named['id']}")).to_be_checked()
    expect(page.locator(f"#cg-tcf-ac{bare}")).not_to_be_checked()
    # switched the other way round, the record follows
    _toggle(page, f"#cg-tcf-ac{named['id']}")
    _toggle(page, f"#cg-tcf-ac{bare}")
    page.click(SAVE)
    page.wait_for_selector(BANNER, state="detached")
    swapped = f"2~{bare}~dv.{named['id']}"
    page.wait_for_function(f"() => window.tcfEvents.some((e) => e.d.addtlConsent === {swapped!r})")
    assert unquote(_cookie(context, "cg_addtl_consent") or "") == swapped
    assert swapped in {e.signals.get("addtl_consent") for e in server.wait_events(subject, len(events) + 1)}


def test_a_save_reaches_no_vendor_until_the_ledger_has_it(
    tcf_site: tuple[Server, Site], context: BrowserContext
) -> None:
    server, site = tcf_site
    page = context.new_page()
    failing = _failing_consents(page)
    _settings(page, site)
    page.evaluate(LISTEN)
    _toggle(page, "#cg-tcf-p1")
    page.click(SAVE)
    page.wait_for_selector(".cg-err:not([hidden])")
    assert _cookie(context, "euconsent-v2") is None
    assert "useractioncomplete" not in page.evaluate("window.tcfEvents.map((e) => e.d.eventStatus)")
    subject = next(c["value"] for c in context.cookies() if c["name"] == "cg_vid")
    assert server.events(subject) == []
    failing["on"] = False
    done = _completed(page, timeout=15_000)
    assert oracle.decode(done["tcString"])["purposeConsents"] == [1]
    assert {e.signals.get("tc_string") for e in server.wait_events(subject, 1)} == {done["tcString"]}


def test_choose_records_before_it_applies(tcf_site: tuple[Server, Site], context: BrowserContext) -> None:
    """``consentgateTcf.choose`` (a site's own finer UI) goes through the ledger like a Save: refused
    while the visitor has made no choice, recorded and then applied afterwards."""
    server, site = tcf_site
    page = context.new_page()
    page.goto(site.url("tcf.html"))
    page.wait_for_selector(ACCEPT)
    refused = page.evaluate(
        "consentgateTcf.choose({purpose_consents: [2]}).then(() => 'applied', (e) => e.message)"
    )
    assert "nothing was recorded" in refused
    assert _cookie(context, "euconsent-v2") is None
    page.click(ACCEPT)
    page.wait_for_selector(BANNER, state="detached")
    chosen = page.evaluate("consentgateTcf.choose({purpose_consents: [2], vendor_consents: [8]})")
    assert _cookie(context, "euconsent-v2") == chosen["tc_string"]
    decoded = oracle.decode(chosen["tc_string"])
    assert (decoded["purposeConsents"], decoded["vendorConsents"]) == ([2], [8])
    subject = next(c["value"] for c in context.cookies() if c["name"] == "cg_vid")
    recorded = [e.signals.get("tc_string") for e in server.wait_events(subject, 1)]
    assert chosen["tc_string"] in recorded


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_the_tcf_layers_pass_axe_in_the_visitors_language(
    make_context: Callable[..., BrowserContext], tcf_site: tuple[Server, Site], locale: str
) -> None:
    _, site = tcf_site
    page = make_context().new_page()
    page.goto(site.url("tcf.html", locale=locale))
    page.wait_for_selector(".cg-tcf")
    assert_no_csp_violations(page)
    assert violations(page, BANNER) == [], "first layer"
    page.locator("[data-consentgate-action=settings]").click()
    _vendor(page, 8)
    assert violations(page, BANNER) == [], "settings layer"
    heading = page.locator(".cg-tcf h3").first.inner_text()
    assert heading == ("Purposes" if locale == "en" else "الأغراض")
    # The GVL's own texts are IAB's English (no translation stored), and say so to a screen reader.
    titles = page.locator(".cg-tcf strong[lang]")
    assert titles.count() > 0
    assert set(titles.evaluate_all("(es) => es.map((e) => e.lang)")) == {"en"}
    page.screenshot(path=str(artifacts("tcf") / f"layers-{locale}.png"), full_page=True)
