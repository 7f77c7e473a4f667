"""The console in real Chromium: sign in through the form, open every page at 1280x800 and 390x844,
charts drawn from data, no CSP violation, no page or console error, a skip link that works from the
keyboard, no sideways scrolling on a phone. Screenshots land in test-artifacts/console/."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from consentgate.auth.apikeys import create_key
from consentgate.ledger.store import Ledger
from consentgate.policy import load_policy
from consentgate.service import ConsentService
from consentgate.web import console_i18n, i18n
from tests.browser import artifacts, new_context
from tests.conftest import EXAMPLE_POLICY
from tests.console.conftest import seed
from tests.support import servers
from tests.support.axe import violations

PAGES = (  # path, English heading
    ("/console", "Overview"),
    ("/console/ledger", "Ledger"),
    ("/console/requests", "Data-subject requests"),
    ("/console/website", "Website"),
    ("/console/data-map", "Data map"),
    ("/console/risk", "Risk"),
)
VIEWPORTS = ({"width": 1280, "height": 800}, {"width": 390, "height": 844})
# Recorded from the first script on: CSP violations (the event fires on document) and errors.
WATCH = """
window.__problems = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__problems.push('CSP ' + e.violatedDirective + ' ' + e.blockedURI);
});
"""


@dataclass(frozen=True)
class Console:
    base: str
    key: str


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    folder = tmp_path_factory.mktemp("console")
    db = str(folder / "ledger.db")
    with Ledger.open(db) as ledger:
        seed(ConsentService(load_policy(EXAMPLE_POLICY), ledger), folder / "scan.json")
        _, key = create_key(ledger.engine, "audit", "browser test")
    env = {"CONSENTGATE_SCAN_FILE": str(folder / "scan.json"), "CONSENTGATE_LOG_LEVEL": "warning",
           **servers.NO_RATE_LIMITS}  # fmt: skip
    process = servers.start_server(db, EXAMPLE_POLICY, folder, extra_env=env, seal=False, timeout=60)
    try:
        yield Console(process.base_url, key)
    finally:
        process.stop(10)


def _watched(page: Page) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on(
        "console",
        lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None,
    )
    page.add_init_script(WATCH)
    return problems


def _all_problems(page: Page, problems: list[str]) -> list[str]:
    found: list[Any] = page.evaluate("window.__problems || []")
    return problems + [str(p) for p in found]


def _sign_in(page: Page, console: Console) -> None:
    page.goto(f"{console.base}/console")
    assert page.url.endswith("/console/sign-in")
    page.fill("#key", console.key)
    page.press("#key", "Enter")
    page.wait_for_url(f"{console.base}/console")
    assert console.key not in page.url


@pytest.fixture(scope="module")
def signed_in(browser: Browser, console: Console) -> dict[str, Any]:
    """A signed-in browser state (the session cookie) for tests that are not about signing in: the
    console allows five sign-ins per address in a burst."""
    with new_context(browser) as context:
        page = context.new_page()
        _sign_in(page, console)
        state: dict[str, Any] = context.storage_state()
        return state


def _drawn_pixels(page: Page, selector: str) -> int:
    """Non-transparent pixels on a canvas: more than zero once Chart.js has drawn on it."""
    count: int = page.eval_on_selector(
        selector,
        """(c) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                    let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i]) n++; } return n; }""",
    )
    return count


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v['width']}x{v['height']}")
def test_every_page_renders_under_the_csp(
    browser: Browser, console: Console, viewport: dict[str, int]
) -> None:
    shots = artifacts("console")
    size = f"{viewport['width']}x{viewport['height']}"
    with new_context(browser, viewport=viewport) as context:
        page = context.new_page()
        problems = _watched(page)
        _sign_in(page, console)
        for path, heading in PAGES:
            page.goto(console.base + path)
            assert page.inner_text("h1") == heading
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], (
                f"{path} scrolls sideways at {size}"
            )
            if path == "/console":
                page.wait_for_selector("canvas[data-drawn]", timeout=10_000)
                canvases = page.query_selector_all("canvas[data-chart]")
                assert len(canvases) == 3
                for canvas in canvases:
                    chart_id = canvas.get_attribute("id")
                    assert int(canvas.get_attribute("data-drawn") or 0) >= 1, chart_id
                    assert _drawn_pixels(page, f"#{chart_id}") > 500, f"{chart_id} is blank"
            name = path.strip("/").replace("/", "-")
            page.screenshot(path=str(shots / f"{name}-{size}.png"), full_page=True)
            assert _all_problems(page, problems) == [], path


def test_charts_have_their_figures_as_tables(
    browser: Browser, console: Console, signed_in: dict[str, Any]
) -> None:
    with new_context(browser, storage_state=signed_in) as context:
        page = context.new_page()
        page.goto(f"{console.base}/console")
        tables = page.query_selector_all("section table")
        assert len(tables) == 3
        first = tables[0]
        headers = [th.inner_text() for th in first.query_selector_all("thead th")]
        assert headers == ["Region", "Purpose", "People", "Allowed", "Rate (%)"]
        rows = {
            tuple(td.inner_text() for td in tr.query_selector_all("td"))[:2]: tr.inner_text()
            for tr in first.query_selector_all("tbody tr")
        }
        # The seeded choices: EU 2 of 3 allowed (consent), US-OPTOUT 1 of 2 (opt_out), BR 0 of 1.
        assert "66.7" in rows[("EU", "train_support_chatbot")]
        assert "50.0" in rows[("US-OPTOUT", "train_support_chatbot")]
        assert "0.0" in rows[("BR", "train_support_chatbot")]


def test_the_console_works_from_the_keyboard(
    browser: Browser, console: Console, signed_in: dict[str, Any]
) -> None:
    with new_context(browser, storage_state=signed_in) as context:
        page = context.new_page()
        page.goto(f"{console.base}/console")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
        assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        # The navigation is reachable by Tab (past the overview's form and CSV links, focus wraps
        # round to it) and opens a page with Enter.
        for _ in range(25):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.textContent") == "Risk":
                break
        page.keyboard.press("Enter")
        page.wait_for_url(f"{console.base}/console/risk")
        assert page.get_attribute("nav a[aria-current=page]", "href") == "/console/risk"


@pytest.mark.parametrize("locale", ["en", "he"])
def test_every_console_page_passes_axe(
    browser: Browser, console: Console, signed_in: dict[str, Any], locale: str
) -> None:
    # Issue 17 item 5: axe-core (tests/support/axe) finds nothing on any page, left to right and right
    # to left, with the charts drawn.
    with new_context(browser, storage_state=signed_in) as context:
        page = context.new_page()
        for path, _ in PAGES:
            page.goto(f"{console.base}{path}?lang={locale}")
            if path == "/console":
                page.wait_for_selector("canvas[data-drawn]", timeout=10_000)
            assert violations(page) == [], f"{path} in {locale}"
        page.goto(f"{console.base}/console/sign-in?lang={locale}")
        assert violations(page) == [], f"sign-in in {locale}"


def test_a_person_looked_up_on_the_ledger_page(
    browser: Browser, console: Console, signed_in: dict[str, Any]
) -> None:
    with new_context(browser, storage_state=signed_in) as context:
        page = context.new_page()
        problems = _watched(page)
        page.goto(f"{console.base}/console")
        page.goto(f"{console.base}/console/ledger")
        page.fill("#subject", "ana@example.com")
        page.press("#subject", "Enter")
        page.wait_for_selector("text=History with the wording shown")
        assert "ana@example.com" not in page.url
        history = page.inner_text("main")
        assert "grant" in history
        assert "train_support_chatbot" in history
        page.fill("#subject", "nobody@example.com")
        page.press("#subject", "Enter")
        page.wait_for_selector("text=The ledger holds nothing under this identifier.")
        assert _all_problems(page, problems) == []


def test_language_switch_and_sign_out(browser: Browser, console: Console) -> None:
    with new_context(browser) as context:
        page = context.new_page()
        _sign_in(page, console)
        page.select_option("#lang", "de")
        with page.expect_navigation():
            page.click("form.lang button")
        assert page.get_attribute("html", "lang") == "de"
        assert page.inner_text("h1") != "Overview"
        page.goto(f"{console.base}/console/risk")  # the choice is remembered
        assert page.get_attribute("html", "lang") == "de"
        page.click("form[action='/console/sign-out'] button")
        page.wait_for_url(f"{console.base}/console/sign-in")
        page.goto(f"{console.base}/console/risk")
        assert page.url.endswith("/console/sign-in")


def test_charts_load_only_on_the_console(console: Console) -> None:
    with servers.client(console.base) as http:
        for path in ("/privacy-center", "/banner.js"):
            assert "chart" not in http.get(path).text.lower(), path
        sign_in_page = http.get("/console/sign-in").text
        assert "chart.umd.min.js" not in sign_in_page  # only pages with charts load it
        assert http.get("/console/static/chart.umd.min.js").text.startswith("/*!\n * Chart.js v4")


def test_the_watch_would_see_a_violation(
    browser: Browser, console: Console, signed_in: dict[str, Any]
) -> None:
    """The CSP listener is live: an inline script added to a console page is blocked and reported,
    so an empty list in the tests above means no violation, not a deaf listener."""
    with new_context(browser, storage_state=signed_in) as context:
        page = context.new_page()
        problems = _watched(page)
        page.goto(f"{console.base}/console/risk")
        page.evaluate(
            "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
            " document.body.appendChild(s); }"
        )
        page.wait_for_function("window.__problems.length > 0")
        assert page.evaluate("window.__ran") is None
        assert any("script-src" in p for p in _all_problems(page, problems))


def test_the_overview_form_redraws_the_charts_and_names_a_field_to_fix(
    browser: Browser, console: Console, signed_in: dict[str, Any]
) -> None:
    shots = artifacts("console")
    with new_context(browser, storage_state=signed_in) as context:
        page = context.new_page()
        problems = _watched(page)
        page.goto(f"{console.base}/console")
        today = page.input_value("input[name=to]")
        page.fill("input[name=from]", "2026-01-01" if today > "2026-01-10" else "2025-01-01")
        page.select_option("select[name=interval]", "month")
        page.select_option("select[name=by]", "region")
        # The form is a plain GET: wait for the new page, or the old page's chart would answer.
        with page.expect_navigation():
            page.click("form.controls button")
        page.wait_for_selector("canvas[data-drawn]", timeout=10_000)
        assert "interval=month" in page.url
        assert "by=region" in page.url
        assert page.input_value("select[name=by]") == "region"  # the form shows what is drawn
        series = page.query_selector_all("section table")[1]
        assert [th.inner_text() for th in series.query_selector_all("thead th")][:3] == [
            "Date", "Purpose", "Region"
        ]  # fmt: skip
        assert _drawn_pixels(page, "#chart-over-time") > 500
        # The CSV link downloads the figures the page shows, under the same session.
        with page.expect_download() as download:
            page.click("#h-chart-over-time ~ p a.csv")
        assert download.value.suggested_filename.startswith("consent-rates-over-time-")
        page.screenshot(path=str(shots / "overview-by-region-monthly.png"), full_page=True)
        assert _all_problems(page, problems) == []
        page.fill("input[name=from]", "next spring")
        page.click("form.controls button")
        alert = page.wait_for_selector("[role=alert]")
        assert 'From: "next spring" is not a date' in alert.inner_text()
        assert page.query_selector("canvas") is None
        assert page.input_value("input[name=from]") == "next spring"
        page.screenshot(path=str(shots / "overview-field-to-fix.png"), full_page=True)
        # The page answers 400, which Chromium logs as a failed load; nothing else may appear.
        assert [p for p in _all_problems(page, problems) if "status of 400" not in p] == []


HEADING_KEYS = {"/console": "nav_overview", "/console/ledger": "nav_ledger",
                "/console/requests": "requests_title", "/console/website": "nav_website",
                "/console/data-map": "nav_datamap", "/console/risk": "nav_risk"}  # fmt: skip


def _read_every_page(page: Page, console: Console, locale: str, problems: list[str]) -> None:
    """Every console page and a page that does not exist, in ``locale``: its own words and
    direction, charts drawn, no sideways scrolling, no CSP violation or page error, nothing axe-core
    finds; a screenshot of each."""
    t, shots = console_i18n.strings(locale), artifacts("console")
    for path, _ in PAGES:
        page.goto(console.base + path)
        assert page.get_attribute("html", "lang") == locale
        assert page.get_attribute("html", "dir") == i18n.direction(locale)
        assert page.inner_text("h1") == t[HEADING_KEYS[path]], path
        if path == "/console":
            page.wait_for_selector("canvas[data-drawn]", timeout=10_000)
            assert len(page.query_selector_all("canvas[data-drawn]")) == 3
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280, path
        assert violations(page) == [], f"{path} in {locale}"
        page.screenshot(path=str(shots / f"{locale}-{path.strip('/').replace('/', '-')}.png"), full_page=True)
        assert _all_problems(page, problems) == [], path
    page.goto(f"{console.base}/console/no-such-page")
    assert page.inner_text("h1") == t["not_found_title"]
    assert t["not_found"] in page.inner_text("main")
    assert violations(page) == [], f"the missing page in {locale}"
    page.screenshot(path=str(shots / f"{locale}-not-found.png"), full_page=True)
    # Chromium logs the 404 as a failed load; nothing else may appear.
    assert [p for p in _all_problems(page, problems) if "status of 404" not in p] == []


def test_sign_in_and_read_every_page_in_a_new_locale(browser: Browser, console: Console) -> None:
    # Issue 16 item 2: the console in the privacy center's locales. Japanese from the browser's own
    # language (the sign-in form included), then Persian, right to left, from the language picker.
    with new_context(browser, locale="ja-JP") as context:
        page = context.new_page()
        problems = _watched(page)
        page.goto(f"{console.base}/console")
        assert page.url.endswith("/console/sign-in")
        assert page.inner_text("h1") == console_i18n.strings("ja")["sign_in"]
        assert violations(page) == [], "the sign-in page in ja"
        page.fill("#key", "cg_not_a_key")
        page.press("#key", "Enter")
        alert = page.wait_for_selector("[role=alert]")
        assert alert.inner_text() == console_i18n.strings("ja")["bad_key"]
        page.fill("#key", console.key)
        page.press("#key", "Enter")
        page.wait_for_url(f"{console.base}/console")
        # The refused key answered 401, which Chromium logs as a failed load; nothing else may appear.
        assert [p for p in problems if "status of 401" not in p] == []
        problems.clear()
        _read_every_page(page, console, "ja", problems)
        problems.clear()
        page.goto(f"{console.base}/console/risk")
        page.select_option("#lang", "fa")
        page.click("form.lang button")
        page.wait_for_url("**/console/risk?lang=fa")
        _read_every_page(page, console, "fa", problems)
        # Right to left on a phone: wide tables scroll inside their box, never the page.
        problems.clear()
        page.set_viewport_size({"width": 390, "height": 844})
        for path, _ in PAGES:
            page.goto(console.base + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, f"{path} in fa on a phone"
            name = path.strip("/").replace("/", "-")
            page.screenshot(path=str(artifacts("console") / f"fa-{name}-390x844.png"), full_page=True)
        assert _all_problems(page, problems) == []
