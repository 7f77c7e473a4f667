"""What every visitor must be able to do and see: keyboard only, equal buttons, plain text, languages.

Screenshots of the banner (and of the privacy center, in test_privacy_center.py) at desktop and mobile
widths go to test-artifacts/web/ for people to look at.
"""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser import artifacts

from .conftest import (
    HOSTILE_TITLE,
    HOSTILE_WORDING,
    Server,
    Site,
    assert_no_csp_violations,
    banner,
    visitor_id,
)

DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 390, "height": 844}


def focused(page: Page) -> str:
    """What has focus: an action name, a purpose switch, an id, or the tag name."""
    return str(
        page.evaluate(
            """() => { const a = document.activeElement;
            return a.dataset.consentgateAction || a.dataset.purpose || a.id || a.tagName.toLowerCase(); }"""
        )
    )


def test_keyboard_only(context: BrowserContext, server: Server, site: Site) -> None:
    page = context.new_page()
    page.goto(site.url())
    expect(banner(page)).to_be_visible()
    assert focused(page) == "consentgate-banner"  # the dialog takes focus, so its title is read first
    order = []
    for _ in range(5):
        page.keyboard.press("Tab")
        order.append(focused(page))
    # Focus stays inside the dialog (it is modal) and wraps around.
    assert order == ["accept-all", "reject-all", "settings", "a", "accept-all"]
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # a visible focus ring
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "a"  # the privacy center link, backwards

    # Settings by keyboard: focus moves to the first switch; Space toggles it; Escape goes back.
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "settings"
    page.keyboard.press("Enter")
    assert focused(page) == "train_support_chatbot"  # AI training first, on its own
    switch = banner(page).get_by_role("switch", name="Train and improve our support chatbot")
    expect(switch).not_to_be_checked()  # nothing is pre-ticked
    page.keyboard.press("Space")
    expect(switch).to_be_checked()
    page.keyboard.press("Escape")
    assert focused(page) == "settings"
    expect(switch).to_be_hidden()

    # Settings again, then Save with the one switch on: one grant, one deny for each of the others.
    page.keyboard.press("Enter")
    for _ in range(5):
        page.keyboard.press("Tab")
    assert focused(page) == "accept-all"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert focused(page) == "save"
    page.keyboard.press("Enter")
    expect(banner(page)).to_have_count(0)
    events = {e.purpose: e.action.value for e in server.events(visitor_id(context))}
    assert events == {
        "train_support_chatbot": "grant",
        "finetune_recommender": "deny",
        "product_analytics": "deny",
        "personalisation": "deny",
        "marketing": "deny",
    }

    # Reopened from a link by keyboard, the dialog closes with Escape and gives focus back.
    page.focus("#prefs")
    page.keyboard.press("Enter")
    expect(banner(page)).to_be_visible()
    assert focused(page) == "consentgate-banner"
    page.keyboard.press("Escape")
    expect(banner(page)).to_have_count(0)
    assert focused(page) == "prefs"
    assert_no_csp_violations(page)


def test_accept_all_and_reject_all_are_equally_prominent(context: BrowserContext, site: Site) -> None:
    page = context.new_page()
    page.goto(site.url())
    dialog = banner(page)
    accept = dialog.get_by_role("button", name="Accept all")
    reject = dialog.get_by_role("button", name="Reject all")
    expect(accept).to_be_visible()
    props = ["backgroundColor", "color", "fontSize", "fontWeight", "borderTopWidth", "borderTopColor",
             "paddingTop", "paddingLeft", "borderRadius", "opacity"]  # fmt: skip
    style = "(el, props) => props.map((p) => getComputedStyle(el)[p])"
    assert accept.evaluate(style, props) == reject.evaluate(style, props)
    a, r = accept.bounding_box(), reject.bounding_box()
    assert a is not None
    assert r is not None
    assert abs(a["width"] - r["width"]) <= 1
    assert abs(a["height"] - r["height"]) <= 1
    assert a["y"] == r["y"]  # side by side, neither below the fold


def test_policy_text_is_never_interpreted_as_html(context: BrowserContext, site: Site) -> None:
    page = context.new_page()
    page.goto(site.url())
    dialog = banner(page)
    expect(dialog.locator('[data-notice="marketing"]')).to_have_text(HOSTILE_WORDING)
    dialog.get_by_role("button", name="Settings").click()
    expect(dialog.get_by_text(HOSTILE_TITLE, exact=True)).to_be_visible()
    assert dialog.locator("img, b, script, iframe").count() == 0
    page.wait_for_timeout(200)
    assert page.evaluate("window.__xss") is None
    assert_no_csp_violations(page)


def test_languages_and_right_to_left(make_context: Callable[..., BrowserContext], site: Site) -> None:
    context = make_context(locale="de-DE")
    page = context.new_page()
    page.goto(site.url())  # no data-locale: the browser's language
    dialog = banner(page)
    expect(dialog).to_have_attribute("lang", "de")
    expect(dialog.get_by_role("button", name="Alle ablehnen")).to_be_visible()
    expect(dialog.locator('[data-notice="ai-training"]')).to_contain_text("Support-Gespräche")

    page.goto(site.url(locale="ar"))  # data-locale wins over the browser
    dialog = banner(page)
    expect(dialog).to_have_attribute("dir", "rtl")
    expect(dialog.get_by_role("button", name="قبول الكل")).to_be_visible()
    accept = dialog.get_by_role("button", name="قبول الكل").bounding_box()
    reject = dialog.get_by_role("button", name="رفض الكل").bounding_box()
    assert accept is not None
    assert reject is not None
    assert accept["x"] > reject["x"]  # laid out right to left
    dialog.get_by_role("button", name="الإعدادات").click()
    page.screenshot(path=str(artifacts("web") / "banner-settings-rtl-desktop.png"))


def test_screenshots_of_the_banner_at_desktop_and_mobile_widths(
    make_context: Callable[..., BrowserContext], site: Site
) -> None:
    folder = artifacts("web")
    for name, viewport in (("desktop", DESKTOP), ("mobile", MOBILE)):
        page = make_context(viewport=viewport).new_page()
        page.goto(site.url())
        dialog = banner(page)
        expect(dialog).to_be_visible()
        page.screenshot(path=str(folder / f"banner-{name}.png"))
        dialog.get_by_role("button", name="Settings").click()
        page.screenshot(path=str(folder / f"banner-settings-{name}.png"))
        # Every control stays within the viewport's width (no sideways scrolling on a phone).
        box = dialog.locator(".cg-box").bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= viewport["width"]
    for name in ("banner-desktop", "banner-mobile", "banner-settings-desktop", "banner-settings-mobile"):
        assert (folder / f"{name}.png").stat().st_size > 5_000
