"""The crawl: discover pages without consent, then revisit them after "reject all" and "accept all".

Phase ``no_consent`` crawls breadth first from the start URL, level by level (so a page limit keeps
the shallowest pages, in link order): links in the markup and links scripts added (read from the
live DOM, open shadow roots included), plus the site's sitemap. robots.txt is respected unless
told otherwise. Phases ``rejected`` and ``accepted`` each start a fresh profile, open the start
page, press the banner's button, and then load every page the first phase found. They run at the
same time; all phases share one limit on tabs open at once.

Everything a tab sees is recorded by an :class:`~consentgate.scan.observe.PageObserver`; the
cookie jar and storage are read after each page has settled (no request in flight and no script
activity for ``settle_ms``, at most ``page_timeout_s``).
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from consentgate.errors import BadInput
from consentgate.scan.browser import (
    chromium_path,
    launch_args,
    prepare_profile,
    require_playwright,
    user_agent,
)
from consentgate.scan.consent import BannerOutcome, press
from consentgate.scan.observe import PageObserver, Sighting
from consentgate.scan.robots import Robots, parse_robots, sitemap_locations
from consentgate.scan.sites import host_of, in_scope, looks_like_page, normalise, origin_of

PHASES = ("no_consent", "rejected", "accepted")
BINDING = "__consentgateScan"
MAX_SITEMAPS = 10
# Scripts often set cookies from a timer (a banner shown after 300 ms, a tag fired after 1 s): a
# page is not settled while a setTimeout of at most 3 s (counted by instrument.js) is pending, for
# up to TIMER_WAIT_S after its load event (so animation loops on setTimeout cannot hold it forever).
TIMER_WAIT_S = 3.0

Progress = Callable[[str, int, int], None]

_LINKS = """
() => {
  const out = [];
  const walk = (root) => {
    for (const a of root.querySelectorAll("a[href], area[href]")) out.push(a.href);
    for (const el of root.querySelectorAll("*")) if (el.shadowRoot) walk(el.shadowRoot);
  };
  walk(document);
  return out;
}
"""
_STORAGE = """
async () => {
  const keys = (name) => { try { return Object.keys(window[name]); } catch (e) { return []; } };
  let databases = [];
  try { databases = (await indexedDB.databases()).map((d) => d.name).filter(Boolean); } catch (e) { }
  return {href: location.href, localStorage: keys("localStorage"), sessionStorage: keys("sessionStorage"),
          indexedDB: databases};
}
"""


@dataclass(frozen=True)
class ScanOptions:
    """How to scan; the defaults suit a site of up to a few hundred pages."""

    max_pages: int = 50
    respect_robots: bool = True
    use_sitemap: bool = True
    concurrency: int = 6
    settle_ms: int = 500
    page_timeout_s: float = 15.0
    banner_timeout_s: float = 5.0
    locale: str = "en-US"
    resolve: dict[str, str] = field(default_factory=dict)
    chromium: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "max_pages": self.max_pages,
            "respect_robots": self.respect_robots,
            "use_sitemap": self.use_sitemap,
            "concurrency": self.concurrency,
            "settle_ms": self.settle_ms,
            "page_timeout_s": self.page_timeout_s,
            "banner_timeout_s": self.banner_timeout_s,
            "locale": self.locale,
            "resolve": dict(self.resolve),
        }


@dataclass
class PageVisit:
    url: str
    phase: str
    depth: int
    found_via: str  # start, link, sitemap
    status: int | None = None
    title: str | None = None
    error: str | None = None


@dataclass
class RawScan:
    """Everything the browser saw, before categorisation (see results.py)."""

    start_url: str
    options: ScanOptions
    started_at: datetime
    finished_at: datetime | None = None
    browser_version: str = ""
    visits: list[PageVisit] = field(default_factory=list)
    pages: list[PageVisit] = field(default_factory=list)  # the no_consent crawl, in BFS order
    skipped: list[dict[str, str]] = field(default_factory=list)
    clicks: dict[str, BannerOutcome | None] = field(default_factory=dict)
    sightings: list[Sighting] = field(default_factory=list)
    robots: dict[str, Any] = field(default_factory=dict)


def _instrument_js() -> str:
    return (resources.files("consentgate.scan") / "instrument.js").read_text(encoding="utf-8")


class _Tab:
    """A browser tab kept for the whole phase: its DevTools session reports to the current page's
    observer. Reusing tabs saves setting up a page, its bindings and its session for every load."""

    EVENTS = (
        ("Network.requestWillBeSent", "on_request"),
        ("Network.loadingFinished", "on_done"),
        ("Network.loadingFailed", "on_done"),
        ("Network.responseReceivedExtraInfo", "on_response_extra"),
    )

    def __init__(self, page: Any, cdp: Any) -> None:
        self.page = page
        self.cdp = cdp
        self.obs: PageObserver | None = None
        for event, method in self.EVENTS:
            cdp.on(event, self._dispatch(method))

    def _dispatch(self, method: str) -> Callable[[dict[str, Any]], None]:
        def handler(event: dict[str, Any]) -> None:
            if self.obs is not None:
                getattr(self.obs, method)(event)

        return handler


class _Phase:
    """One phase in its own browser profile."""

    def __init__(self, name: str, context: Any, scan: RawScan, tabs: asyncio.Semaphore) -> None:
        self.name = name
        self.context = context
        self.scan = scan
        self.tabs = tabs
        self.opts = scan.options
        self._idle: list[_Tab] = []
        self._by_page: dict[Any, _Tab] = {}
        self.done = 0

    async def install(self) -> None:
        await self.context.expose_binding(BINDING, self._on_record)
        await self.context.add_init_script(script=_instrument_js())

    def _on_record(self, source: dict[str, Any], record: Any) -> None:
        tab = self._by_page.get(source.get("page"))
        if tab is not None and tab.obs is not None and isinstance(record, dict):
            tab.obs.on_record(record)

    async def _tab(self) -> _Tab:
        while self._idle:
            tab = self._idle.pop()
            if not tab.page.is_closed():
                return tab
        page = await self.context.new_page()
        tab = _Tab(page, await self.context.new_cdp_session(page))
        await tab.cdp.send("Network.enable")
        self._by_page[page] = tab
        return tab

    async def visit(
        self, visit: PageVisit, *, links: bool = False, consent: str | None = None
    ) -> tuple[list[str], BannerOutcome | None]:
        async with self.tabs:
            return await self._visit(visit, links=links, consent=consent)

    async def _visit(
        self, visit: PageVisit, *, links: bool, consent: str | None
    ) -> tuple[list[str], BannerOutcome | None]:
        api = require_playwright()
        tab = await self._tab()
        page = tab.page
        obs = tab.obs = PageObserver(self.name, visit.url)
        found: list[str] = []
        click: BannerOutcome | None = None
        try:
            try:
                response = await page.goto(
                    visit.url, wait_until="load", timeout=self.opts.page_timeout_s * 1000
                )
                visit.status = response.status if response is not None else None
            except api.Error as exc:
                visit.error = str(exc).splitlines()[0][:300]
            await self._settle(page, obs)
            if consent is not None and visit.error is None:
                click = await press(page, consent, self.opts.banner_timeout_s)
                if click.pressed:
                    await self._after_click(page, obs)
            try:
                visit.title = (await page.title())[:200] or None
                if links:
                    found = [str(u) for u in await page.evaluate(_LINKS)]
            except api.Error:
                pass
            await self._snapshot(page, visit.url)
            # Leave the page while still observing it: what it sends on unload (beacons) is its own.
            with contextlib.suppress(api.Error):
                await page.goto("about:blank", timeout=self.opts.page_timeout_s * 1000)
        finally:
            self.scan.sightings.extend(obs.sightings(datetime.now(UTC)))
            tab.obs = None
            self._idle.append(tab)
        self.scan.visits.append(visit)
        self.done += 1
        return found, click

    async def _settle(self, page: Any, obs: PageObserver) -> None:
        """Wait until the network and scripts are quiet, and short timers have fired (within limits)."""
        quiet = self.opts.settle_ms / 1000
        start = time.monotonic()
        cap = self.opts.page_timeout_s
        timer_cap = min(cap, TIMER_WAIT_S)
        while time.monotonic() - start < cap:
            if obs.quiet_for(hanging_after=cap / 3) >= quiet and (
                time.monotonic() - start >= timer_cap or not await _timers_pending(page)
            ):
                return
            await asyncio.sleep(0.05)

    async def _after_click(self, page: Any, obs: PageObserver) -> None:
        api = require_playwright()
        await asyncio.sleep(0.1)  # a banner that reloads the page starts navigating now
        with contextlib.suppress(api.Error):
            await page.wait_for_load_state("load", timeout=self.opts.page_timeout_s * 1000)
        await self._settle(page, obs)

    async def _snapshot(self, page: Any, page_url: str) -> None:
        """The cookie jar and every frame's storage keys, as they are once the page has settled."""
        api = require_playwright()
        for c in await self.context.cookies():
            domain = str(c.get("domain", "")).lower()
            expires = c.get("expires", -1)
            attrs = {
                "name": c["name"],
                "domain": domain.lstrip("."),
                "host_only": not domain.startswith("."),
                "path": c.get("path", "/"),
                "expires": datetime.fromtimestamp(expires, UTC) if expires and expires > 0 else None,
                "secure": bool(c.get("secure")),
                "http_only": bool(c.get("httpOnly")),
                "same_site": c.get("sameSite"),
                "deleted": False,
                "blocked": [],
            }
            self.scan.sightings.append(
                Sighting("cookie", self.name, page_url, c["name"], attrs["domain"], "jar", attrs=attrs)
            )
        for frame in page.frames:
            try:
                state = await frame.evaluate(_STORAGE)
            except api.Error:
                continue
            href = str(state.get("href", ""))
            if not href.startswith("http"):
                continue
            for kind in ("localStorage", "sessionStorage", "indexedDB"):
                for key in state.get(kind, []):
                    self.scan.sightings.append(
                        Sighting(
                            "storage",
                            self.name,
                            page_url,
                            str(key),
                            host_of(href),
                            "snapshot",
                            attrs={"kind": kind, "origin": origin_of(href)},
                        )
                    )


async def _timers_pending(page: Any) -> bool:
    """Whether the page has a short ``setTimeout`` still to fire (counted by instrument.js)."""
    try:
        return bool(await page.evaluate("() => window.__consentgatePendingTimers || 0"))
    except Exception:  # navigating, or a page that replaced the counter: do not wait on it
        return False


async def _fetch_text(page: Any, url: str, timeout_s: float) -> tuple[int | None, str]:
    """A text resource loaded through the browser (so host mappings apply), as status and body."""
    api = require_playwright()
    try:
        response = await page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
        if response is None:
            return None, ""
        return response.status, await response.text()
    except api.Error:
        return None, ""


async def _discover(page: Any, scan: RawScan) -> tuple[Robots, list[str]]:
    """robots.txt and the sitemap URLs, read in the first phase's profile before it starts."""
    opts = scan.options
    root = origin_of(scan.start_url)
    robots = Robots()
    if opts.respect_robots or opts.use_sitemap:
        status, text = await _fetch_text(page, f"{root}/robots.txt", opts.page_timeout_s)
        if status is not None and 200 <= status < 300:
            robots = parse_robots(text)
        elif status is not None and status >= 500:
            robots = Robots(disallow_all=True)
        scan.robots = {"status": status, "respected": opts.respect_robots, "sitemaps": robots.sitemaps}
    urls: list[str] = []
    if opts.use_sitemap:
        queue = list(robots.sitemaps) or [f"{root}/sitemap.xml"]
        seen: set[str] = set()
        while queue and len(seen) < MAX_SITEMAPS:
            sm = queue.pop(0)
            if sm in seen:
                continue
            seen.add(sm)
            status, text = await _fetch_text(page, sm, opts.page_timeout_s)
            if status is None or not 200 <= status < 300:
                continue
            locs, is_index = sitemap_locations(text)
            if is_index:
                queue.extend(locs)
            else:
                urls.extend(locs)
    return robots, urls


class Crawler:
    def __init__(self, start_url: str, options: ScanOptions, progress: Progress | None = None) -> None:
        start = normalise(start_url)
        if start is None:
            raise BadInput(f"{start_url!r} is not an http(s) URL, e.g. https://www.example.com/")
        self.scan = RawScan(start_url=start, options=options, started_at=datetime.now(UTC))
        self.progress = progress or (lambda phase, done, total: None)
        self._tmp: list[tempfile.TemporaryDirectory[str]] = []
        self._user_agent: str | None = None

    async def run(self) -> RawScan:
        api = require_playwright()
        executable = chromium_path(self.scan.options.chromium)
        self._user_agent = user_agent(executable)
        tabs = asyncio.Semaphore(max(1, self.scan.options.concurrency))
        async with api.async_playwright() as pw:
            contexts = await asyncio.gather(*(self._launch(pw, executable) for _ in PHASES))
            try:
                phases = [_Phase(n, c, self.scan, tabs) for n, c in zip(PHASES, contexts, strict=True)]
                await self._crawl(phases[0])
                await asyncio.gather(
                    self._consent_phase(phases[1], "reject"), self._consent_phase(phases[2], "accept")
                )
            finally:
                for c in contexts:
                    with contextlib.suppress(api.Error):
                        await c.close()
                for tmp in self._tmp:
                    tmp.cleanup()
        self.scan.finished_at = datetime.now(UTC)
        return self.scan

    async def _launch(self, pw: Any, executable: str) -> Any:
        tmp = tempfile.TemporaryDirectory(prefix="consentgate-scan-")
        self._tmp.append(tmp)
        prepare_profile(Path(tmp.name))
        opts = self.scan.options
        return await pw.chromium.launch_persistent_context(
            tmp.name,
            executable_path=executable,
            headless=True,
            args=launch_args(opts.resolve),
            locale=opts.locale,
            user_agent=self._user_agent,
            viewport={"width": 1280, "height": 900},
            service_workers="allow",
        )

    async def _crawl(self, phase: _Phase) -> None:
        scan, opts = self.scan, self.scan.options
        context = phase.context
        page = context.pages[0] if context.pages else await context.new_page()
        cdp = await context.new_cdp_session(page)
        scan.browser_version = str((await cdp.send("Browser.getVersion")).get("product", ""))
        await cdp.detach()
        robots, sitemap_urls = await _discover(page, scan)
        await page.close()
        await context.clear_cookies()  # robots.txt and sitemaps may set cookies; the phase starts empty
        await phase.install()

        seen: set[str] = set()
        level: list[PageVisit] = []

        def admit(url: str | None, depth: int, via: str) -> None:
            if url is None or url in seen:
                return
            seen.add(url)
            if not in_scope(url, scan.start_url):
                return
            if not looks_like_page(url):
                return
            if opts.respect_robots and not robots.allowed(url):
                scan.skipped.append({"url": url, "reason": "robots.txt"})
                return
            if len(scan.pages) >= opts.max_pages:
                scan.skipped.append({"url": url, "reason": "max_pages"})
                return
            visit = PageVisit(url, phase.name, depth, via)
            scan.pages.append(visit)
            level.append(visit)

        admit(scan.start_url, 0, "start")
        if not scan.pages:
            raise BadInput(
                f"robots.txt of {origin_of(scan.start_url)} disallows {scan.start_url}; "
                "pass --ignore-robots to scan a site you run"
            )
        depth = 0
        pending_sitemap = [normalise(u) for u in sitemap_urls]
        while level:
            current, level = level, []
            results = await asyncio.gather(*(self._crawl_one(phase, v) for v in current))
            depth += 1
            for links in results:
                for link in links:
                    admit(normalise(link), depth, "link")
            if depth == 1:
                for url in pending_sitemap:
                    admit(url, depth, "sitemap")
        start = scan.pages[0]
        if start.error is not None:
            raise BadInput(f"could not load {start.url}: {start.error}")

    async def _crawl_one(self, phase: _Phase, visit: PageVisit) -> list[str]:
        links, _ = await phase.visit(visit, links=True)
        self.progress(phase.name, phase.done, max(len(self.scan.pages), phase.done))
        return links

    async def _consent_phase(self, phase: _Phase, action: str) -> None:
        await phase.install()
        pages = [p.url for p in self.scan.pages if p.error is None]
        total = len(pages) + 1
        _, click = await phase.visit(PageVisit(self.scan.start_url, phase.name, 0, "start"), consent=action)
        self.scan.clicks[phase.name] = click
        self.progress(phase.name, phase.done, total)

        async def one(url: str) -> None:
            await phase.visit(PageVisit(url, phase.name, 0, "revisit"))
            self.progress(phase.name, phase.done, total)

        await asyncio.gather(*(one(u) for u in pages))


def crawl(start_url: str, options: ScanOptions, progress: Progress | None = None) -> RawScan:
    """Run a scan to completion (blocking); see :func:`consentgate.scan.scan_site`."""
    return asyncio.run(Crawler(start_url, options, progress).run())
