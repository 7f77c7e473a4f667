"""How the banner sits on the page (issue 17, item 6), in real Chromium at a laptop's 1280 by 800.

The opt-out notice is a bar along the bottom that leaves the page usable, as docs/web.md says; the
settings dialog shows every control, down to its "Privacy center" link, without anything cut off.
"""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, expect

from tests.browser import artifacts

from .conftest import Site, assert_no_csp_violations, banner

DESKTOP = {"width": 1280, "height": 800}


def test_settings_dialog_shows_its_privacy_center_link_whole(
    make_context: Callable[..., BrowserContext], site: Site
) -> None:
    page = make_context(viewport=DESKTOP).new_page()
    page.goto(site.url())
    dialog = banner(page)
    dialog.get_by_role("button", name="Settings").click()
    page.screenshot(path=str(artifacts("web") / "banner-settings-1280x800.png"))
    # As the dialog opens (focus on its first switch), without scrolling: the link and the buttons are
    # whole inside the scrolling box and the viewport, and nothing lies over them.
    clip = dialog.locator(".cg-box").bounding_box()
    assert clip is not None
    for control in (
        dialog.get_by_role("link", name="Privacy center"),
        dialog.get_by_role("button", name="Save choices"),
    ):
        box = control.bounding_box()
        assert box is not None
        assert clip["y"] <= box["y"], (box, clip)
        assert box["y"] + box["height"] <= clip["y"] + clip["height"], (box, clip)
        assert box["y"] + box["height"] <= DESKTOP["height"]
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        assert control.evaluate("(e, [x, y]) => e.contains(document.elementFromPoint(x, y))", [x, y])
    assert_no_csp_violations(page)


def test_opt_out_notice_is_a_bar_along_the_bottom_that_leaves_the_page_usable(
    make_context: Callable[..., BrowserContext], site: Site
) -> None:
    page = make_context(country="US", viewport=DESKTOP).new_page()  # basis opt_out: no dialog
    page.goto(site.url())
    bar = banner(page)
    expect(bar).to_be_visible()
    assert bar.get_attribute("role") == "region"
    assert bar.get_attribute("aria-modal") is None
    page.screenshot(path=str(artifacts("web") / "banner-opt-out-bar-1280x800.png"))
    box = bar.locator(".cg-box").bounding_box()
    assert box is not None
    assert (box["x"], box["width"]) == (0, DESKTOP["width"])  # edge to edge
    assert box["y"] + box["height"] == DESKTOP["height"]  # on the bottom edge
    assert box["height"] <= DESKTOP["height"] * 0.6
    # Above the bar the page is itself, not under a backdrop: its link takes the click.
    assert page.evaluate("document.elementFromPoint(20, 95).id") == "prefs"
    # Settings turn it into the dialog, as in every flow.
    bar.get_by_role("button", name="Settings").click()
    expect(bar).to_have_class("cg cg-opt_out cg-s")
    assert_no_csp_violations(page)
