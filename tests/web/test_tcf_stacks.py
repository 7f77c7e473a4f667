"""TCF stacks in Chromium under the strict CSP, against a GVL with stacks in IAB's structure: the first
layer shows the policy's stacks (IAB's name and description) instead of their members; the second
still has a switch per purpose, and a stack's switch switches exactly its members; IAB's own library
reads exactly those purposes from the recorded TC string, with UseNonStandardTexts 0."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from consentgate.web.tcf.gvl import shipped_gvl
from tests.browser import artifacts
from tests.support.axe import violations
from tests.tcf import oracle
from tests.tcf.conftest import TCF
from tests.tcf.stacks_gvl import STACKS, VERSION, serve_from

from .conftest import Server, Site, assert_no_csp_violations
from .test_tcf_browser import LISTEN, _completed, _cookie, _oracle, _same_as_oracle, serve_tcf_site
from .test_tcf_layers import _toggle

__all__ = ["_oracle"]  # the oracle fixture, shared with test_tcf_browser

BANNER = "#consentgate-banner"
SHOWN = (STACKS["1"], STACKS["2"])  # special features 1 and 2; purposes 2 and 7


@pytest.fixture(scope="module")
def stacks_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Site]]:
    folder = tmp_path_factory.mktemp("tcf-stacks")
    gvl = serve_from(folder / "gvl")
    stacks = [s["id"] for s in SHOWN]
    with serve_tcf_site(folder, TCF | {"stacks": stacks}, {"CONSENTGATE_TCF_GVL_DIR": str(gvl)}) as served:
        yield served


def _ids(page: Page, selector: str) -> list[int]:
    found = page.locator(selector).evaluate_all("(es) => es.map((e) => +e.dataset.id)")
    return sorted(int(i) for i in found)


def test_a_stack_is_shown_first_and_switches_exactly_its_purposes(
    stacks_site: tuple[Server, Site], context: BrowserContext
) -> None:
    server, site = stacks_site
    page = context.new_page()
    page.goto(site.url("tcf.html"))
    page.wait_for_selector(".cg-tcf")
    assert_no_csp_violations(page)
    # first layer: the stacks with IAB's name and description, then what no stack holds, one by one
    held = {p for s in SHOWN for p in s["purposes"]}
    purposes = shipped_gvl().purposes  # the test list's purposes are the shipped ones
    assert page.locator(".cg-tcf-list li").all_inner_texts() == [
        f"{s['name']} {s['description']}" for s in SHOWN
    ] + [purposes[str(i)]["name"] for i in range(1, 12) if i not in held]
    assert violations(page, BANNER) == [], "first layer"
    page.screenshot(path=str(artifacts("tcf") / "stacks-first-layer.png"), full_page=True)

    page.locator("[data-consentgate-action=settings]").click()
    expect(page.locator(".cg-tcf .cg-rows")).to_be_visible()
    # every purpose and special feature keeps its own switch, inside its stack's group
    assert _ids(page, "[data-tcf=p]") == list(range(1, 12))
    assert _ids(page, "[data-tcf=sf]") == [1, 2]
    for stack in SHOWN:
        group = page.locator(".cg-tcf-stack", has=page.locator(f"#cg-tcf-s{stack['id']}"))
        assert group.get_attribute("aria-label") == stack["name"]
        members = group.locator("[data-tcf=p]").evaluate_all("(es) => es.map((e) => +e.dataset.id)")
        features = group.locator("[data-tcf=sf]").evaluate_all("(es) => es.map((e) => +e.dataset.id)")
        assert (sorted(members), sorted(features)) == (stack["purposes"], stack["specialFeatures"])
    assert page.locator("[data-tcf=s]:checked").count() == 0

    _toggle(page, "#cg-tcf-s2")
    assert _ids(page, "[data-tcf=p]:checked") == STACKS["2"]["purposes"]
    assert _ids(page, "[data-tcf=sf]:checked") == []
    _toggle(page, "#cg-tcf-p7")  # one member off: the stack is no longer all on
    expect(page.locator("#cg-tcf-s2")).not_to_be_checked()
    assert _ids(page, "[data-tcf=p]:checked") == [2]
    _toggle(page, "#cg-tcf-s2")  # on again: every member on
    assert _ids(page, "[data-tcf=p]:checked") == STACKS["2"]["purposes"]
    _toggle(page, "#cg-tcf-s1")
    _toggle(page, "#cg-tcf-s1")  # on and off again: its special features are off
    assert _ids(page, "[data-tcf=sf]:checked") == []
    assert violations(page, BANNER) == [], "second layer"
    page.screenshot(path=str(artifacts("tcf") / "stacks-settings.png"), full_page=True)

    page.evaluate(LISTEN)
    page.click("[data-consentgate-action=save]")
    done = _completed(page)
    decoded = oracle.decode(done["tcString"])
    assert decoded["purposeConsents"] == STACKS["2"]["purposes"]
    assert decoded["specialFeatureOptins"] == []
    assert decoded["useNonStandardTexts"] is False  # IAB's own stack texts were shown
    assert decoded["vendorListVersion"] == VERSION
    _same_as_oracle(done, decoded)
    assert _cookie(context, "euconsent-v2") == done["tcString"]
    subject = next(c["value"] for c in context.cookies() if c["name"] == "cg_vid")
    assert {e.signals.get("tc_string") for e in server.wait_events(subject, 1)} == {done["tcString"]}

    page.evaluate("consentgate.show()")  # reopened: the stack shows what its members say
    expect(page.locator("#cg-tcf-s2")).to_be_checked()
    expect(page.locator("#cg-tcf-s1")).not_to_be_checked()


def test_the_stacks_layers_pass_axe_in_arabic(
    stacks_site: tuple[Server, Site], context: BrowserContext
) -> None:
    _, site = stacks_site
    page = context.new_page()
    page.goto(site.url("tcf.html", locale="ar"))
    page.wait_for_selector(".cg-tcf-list")
    assert violations(page, BANNER) == [], "first layer"
    page.screenshot(path=str(artifacts("tcf") / "stacks-ar-first-layer.png"))
    page.locator("[data-consentgate-action=settings]").click()
    expect(page.locator(".cg-tcf-stack").first).to_be_visible()
    assert violations(page, BANNER) == [], "second layer"
    # IAB's texts are in English here (no translation stored), and say so to a screen reader
    assert set(page.locator(".cg-tcf-list strong").evaluate_all("(es) => es.map((e) => e.lang)")) == {"en"}
    page.locator(".cg-tcf-stack").first.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts("tcf") / "stacks-ar-settings.png"))
