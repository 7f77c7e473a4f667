"""The TCF layers in Chromium under the strict CSP, for a site whose vendors use only some of the GVL's
purposes: the first and second layers name only those (and the special purposes, features and special
features the vendors use), and "Accept all", "Reject all" and a "Save" of every switch signal exactly
those; IAB's own library decodes each string, and ``__tcfapi`` (listeners and getTCData) agrees."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from consentgate.web.tcf.gvl import shipped_gvl
from tests.browser import artifacts
from tests.support.axe import violations
from tests.tcf import oracle
from tests.tcf.conftest import TCF

from .conftest import Server, Site, assert_no_csp_violations
from .test_tcf_browser import (
    ACCEPT,
    LISTEN,
    REJECT,
    _completed,
    _ids,
    _oracle,
    _same_as_oracle,
    serve_tcf_site,
)
from .test_tcf_layers import _toggle

__all__ = ["_oracle"]  # the oracle fixture, shared with test_tcf_browser

BANNER = "#consentgate-banner"
# Vendors 2, 3 and 8 of the shipped list (tests/tcf/test_used.py): nobody uses purposes 5, 6 and 11,
# special feature 2, special purpose 3 or features 1 and 3
FEW = TCF | {"vendors": [2, 3, 8]}
USED = [1, 2, 3, 4, 7, 8, 9, 10]
GET_TC_DATA = "() => new Promise((r) => __tcfapi('getTCData', 2, (d, ok) => r([d, ok])))"


@pytest.fixture(scope="module")
def few_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Site]]:
    with serve_tcf_site(tmp_path_factory.mktemp("tcf-used"), FEW) as served:
        yield served


def _unused_names() -> list[str]:
    gvl = shipped_gvl()
    extra = gvl.model_extra or {}
    return [gvl.purposes[str(p)]["name"] for p in (5, 6, 11)] + [
        gvl.specialFeatures["2"]["name"],
        extra["specialPurposes"]["3"]["name"],
        extra["features"]["1"]["name"],
        extra["features"]["3"]["name"],
    ]


def _open(page: Page, site: Site) -> None:
    page.goto(site.url("tcf.html"))
    page.wait_for_selector(".cg-tcf-list")


def _switches(page: Page, kind: str) -> list[int]:
    found = page.locator(f"[data-tcf={kind}]").evaluate_all("(es) => es.map((e) => +e.dataset.id)")
    return sorted(int(i) for i in found)


def _chosen(page: Page, button: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Press a banner button: what __tcfapi's listener got once done, and IAB's decoding of its string
    (checked to say the same)."""
    page.evaluate(LISTEN)
    page.click(button)
    done = _completed(page)
    decoded = oracle.decode(done["tcString"])
    _same_as_oracle(done, decoded)
    return done, decoded


def _recorded(server: Server, context: BrowserContext) -> set[Any]:
    subject = next(c["value"] for c in context.cookies() if c["name"] == "cg_vid")
    return {e.signals.get("tc_string") for e in server.wait_events(subject, 1)}


def test_the_first_layer_names_only_what_is_used_and_accept_all_signals_exactly_that(
    few_site: tuple[Server, Site], context: BrowserContext
) -> None:
    server, site = few_site
    page = context.new_page()
    _open(page, site)
    gvl = shipped_gvl()
    listed = page.locator(".cg-tcf-list li").all_inner_texts()
    assert listed == [gvl.purposes[str(p)]["name"] for p in USED] + [gvl.specialFeatures["1"]["name"]]
    text = page.locator(".cg-tcf").inner_text()
    assert [name for name in _unused_names() if name in text] == []
    assert_no_csp_violations(page)  # before axe, whose own styles the CSP reports
    assert violations(page, BANNER) == [], "first layer"
    page.screenshot(path=str(artifacts("tcf") / "used-first-layer.png"), full_page=True)

    done, decoded = _chosen(page, ACCEPT)
    assert decoded["purposeConsents"] == USED
    assert decoded["specialFeatureOptins"] == [1]
    assert decoded["vendorsDisclosed"] == [2, 3, 8]
    assert decoded["publisherConsents"] == TCF["publisher_purposes"]
    older, ok = page.evaluate(GET_TC_DATA)
    assert ok is True
    assert older["tcString"] == done["tcString"]
    assert _ids(older["purpose"]["consents"]) == USED
    assert _ids(older["specialFeatureOptins"]) == [1]
    # the ledger took it: live capture refuses a consent outside what the layers disclosed
    assert _recorded(server, context) == {done["tcString"]}


def test_the_second_layer_has_switches_only_for_what_is_used_and_a_save_of_all_of_them_equals_accept_all(
    few_site: tuple[Server, Site], context: BrowserContext
) -> None:
    server, site = few_site
    page = context.new_page()
    _open(page, site)
    page.locator("[data-consentgate-action=settings]").click()
    expect(page.locator(".cg-tcf .cg-rows")).to_be_visible()
    assert _switches(page, "p") == USED
    assert _switches(page, "sf") == [1]
    assert _switches(page, "pl") == sorted(TCF["legitimate_interest_purposes"])
    for vid in (2, 8):  # open every vendor's details: what each uses is named, nothing else
        summary = page.locator(f".cg-tcf-v:has(#cg-tcf-v{vid}) summary")
        summary.focus()
        page.keyboard.press("Enter")
    text = page.locator(".cg-tcf").inner_text()
    extra = shipped_gvl().model_extra or {}
    assert extra["specialPurposes"]["2"]["name"] in text  # vendor 2's special purpose
    assert extra["features"]["2"]["name"] in text  # vendor 8's feature
    assert [name for name in _unused_names() if name in text] == []
    assert violations(page, BANNER) == [], "second layer"
    page.screenshot(path=str(artifacts("tcf") / "used-settings.png"), full_page=True)

    for kind in ("p", "sf"):
        for i in _switches(page, kind):
            _toggle(page, f"#cg-tcf-{kind}{i}")
    done, decoded = _chosen(page, "[data-consentgate-action=save]")
    assert (decoded["purposeConsents"], decoded["specialFeatureOptins"]) == (USED, [1])
    assert _recorded(server, context) == {done["tcString"]}


def test_reject_all_signals_nothing_for_any_purpose(
    few_site: tuple[Server, Site], context: BrowserContext
) -> None:
    server, site = few_site
    page = context.new_page()
    _open(page, site)
    done, decoded = _chosen(page, REJECT)
    assert decoded["purposeConsents"] == []
    assert decoded["purposeLegitimateInterests"] == []  # every legitimate interest objected to
    assert decoded["specialFeatureOptins"] == []
    assert (decoded["publisherConsents"], decoded["publisherLegitimateInterests"]) == ([], [])
    older, _ = page.evaluate(GET_TC_DATA)
    assert _ids(older["purpose"]["consents"]) == []
    assert _recorded(server, context) == {done["tcString"]}
