"""The server-side tag gate in real Chromium: no request reaches a tracker host before consent.

One page with tracker tags (a ``<script src>`` right after banner.js, a module-less async script
written in upper case and protocol-relative, a preload hint, a pixel on a subdomain, an iframe) is
served four ways: as it is (the control: Chromium's preload scanner fetches the trackers although
banner.js keeps them from running), through the ASGI middleware (Starlette, a chunked and gzipped
stream), through the WSGI middleware (wsgiref), and as a static copy made by ``gate-html``. The
tracker hosts are names Chromium maps to a loopback address (``--host-resolver-rules``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from typer.testing import CliRunner

from consentgate.cli import app as cli
from consentgate.policy import load_policy
from consentgate.scan.browser import resolver_rules
from consentgate.web.middleware import TagGateASGI, TagGateWSGI
from consentgate.web.taggate import TrackerHosts
from tests.browser import CHROMIUM_ARGS, new_context, require_chromium, serve_static
from tests.conftest import EXAMPLE_POLICY

from .conftest import free_port, start_server

TRACKER_IP = "127.0.0.2"  # Linux routes all of 127/8 to lo
TRACKER_HOSTS = ("stats.example.net", "px.stats.example.net", "ads.example.net")
FRONTS = ("raw", "asgi", "wsgi", "static")
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Gated café</title>
<script src="{api}/banner.js" data-key="{key}" data-region="DE"></script>
<link rel="preload" as="script" href="http://ads.example.net/ads.js">
<script src="http://stats.example.net/analytics.js"></script>
<SCRIPT SRC="//ADS.EXAMPLE.NET/ads.js" async></SCRIPT>
</head><body><h1>Shop</h1>
<img src="http://px.stats.example.net/pixel.gif" alt="">
<iframe src="http://ads.example.net/frame.html" title="ad"></iframe>
<script src="/first.js"></script>
</body></html>
"""
FIRST_JS = b"(window.ran = window.ran || []).push('first');"


class _Trackers(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        body, kind = {
            "/analytics.js": (
                b"(window.ran = window.ran || []).push('analytics');",
                "application/javascript",
            ),
            "/ads.js": (b"(window.ran = window.ran || []).push('ads');", "application/javascript"),
            "/pixel.gif": (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif"),
            "/frame.html": (b"<!doctype html><p>ad</p>", "text/html"),
        }.get(path, (b"", "text/plain"))
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


class _QuietWSGI(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def _serve(httpd: Any) -> Any:
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def _asgi_app(page: bytes, hosts: TrackerHosts) -> Starlette:
    async def home(_: Request) -> StreamingResponse:
        async def chunks() -> Any:
            for i in range(0, len(page), 7):  # small chunks: tags arrive split across them
                yield page[i : i + 7]

        return StreamingResponse(chunks(), media_type="text/html")

    async def first(_: Request) -> Response:
        return Response(FIRST_JS, media_type="application/javascript")

    # The gate outside gzip: it inflates what the app compressed.
    middleware = [Middleware(TagGateASGI, hosts=hosts), Middleware(GZipMiddleware, minimum_size=10)]
    return Starlette(routes=[Route("/", home), Route("/first.js", first)], middleware=middleware)


def _wsgi_app(page: bytes) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"] == "/first.js":
            start_response("200 OK", [("Content-Type", "application/javascript")])
            return [FIRST_JS]
        start_response(
            "200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page)))]
        )
        return (page[i : i + 64] for i in range(0, len(page), 64))

    return app


@pytest.fixture(scope="module")
def fronts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """front name → the page's URL; the consentgate server lists each front's origin."""
    require_chromium()
    ports = {name: free_port() for name in FRONTS}
    data: dict[str, Any] = load_policy(EXAMPLE_POLICY).model_dump(mode="json")
    data["web"]["origins"] = [f"http://127.0.0.1:{p}" for p in ports.values()]
    data["web"]["trackers"] = [
        {"host": "stats.example.net", "category": "analytics", "vendor": "Example Stats"},
        {"host": "ads.example.net", "category": "marketing", "vendor": "Example Ads"},
    ]
    folder = tmp_path_factory.mktemp("taggate")
    servers: list[Any] = []
    uv: uvicorn.Server | None = None
    with start_server(folder, data) as server:
        page = PAGE.format(api=server.base, key=server.collect_key).encode()
        hosts = TrackerHosts.from_policy(server.policy)
        raw_dir, static_dir = folder / "raw", folder / "static"
        raw_dir.mkdir()
        (raw_dir / "index.html").write_bytes(page)
        (raw_dir / "first.js").write_bytes(FIRST_JS)
        result = CliRunner().invoke(
            cli,
            ["--policy", str(folder / "policy.yaml"), "gate-html", str(raw_dir), "--out", str(static_dir)],
        )
        assert result.exit_code == 0, result.output
        try:
            for name, directory in (("raw", raw_dir), ("static", static_dir)):
                servers.append(serve_static(directory, ports[name])[1])
            wsgi = make_server(
                "127.0.0.1", ports["wsgi"], TagGateWSGI(_wsgi_app(page), hosts=hosts),
                server_class=_ThreadingWSGIServer, handler_class=_QuietWSGI,
            )  # fmt: skip
            servers.append(_serve(wsgi))
            uv = uvicorn.Server(
                uvicorn.Config(_asgi_app(page, hosts), "127.0.0.1", ports["asgi"], log_level="warning")
            )
            threading.Thread(target=uv.run, daemon=True).start()
            _wait_up(f"http://127.0.0.1:{ports['asgi']}/first.js")
            yield {name: f"http://127.0.0.1:{port}/" for name, port in ports.items()}
        finally:
            if uv is not None:
                uv.should_exit = True
            for httpd in servers:
                httpd.shutdown()
                httpd.server_close()


def _wait_up(url: str) -> None:
    import time

    import httpx

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    pytest.fail(f"{url} did not come up")


@pytest.fixture(scope="module")
def mapped_browser(browser: Browser) -> Iterator[Browser]:
    """A second Chromium from the package's Playwright (one sync Playwright per thread) whose resolver
    sends the tracker hosts to a loopback server."""
    trackers = _serve(ThreadingHTTPServer((TRACKER_IP, 0), _Trackers))
    target = f"{TRACKER_IP}:{trackers.server_address[1]}"
    rules = resolver_rules(dict.fromkeys(TRACKER_HOSTS, target))
    mapped = browser.browser_type.launch(
        executable_path=require_chromium(), args=[*CHROMIUM_ARGS, f"--host-resolver-rules={rules}"]
    )
    try:
        yield mapped
    finally:
        mapped.close()
        trackers.shutdown()
        trackers.server_close()


def _tracker_requests(seen: list[str]) -> list[str]:
    from urllib.parse import urlsplit

    return [u for u in seen if (urlsplit(u).hostname or "") in TRACKER_HOSTS]


@contextmanager
def _open(browser: Browser, url: str) -> Iterator[tuple[Page, list[str]]]:
    with new_context(browser) as context:
        seen: list[str] = []
        context.on("request", lambda r: seen.append(r.url))
        page = context.new_page()
        page.goto(url)
        expect(page.locator("#consentgate-banner")).to_be_visible()
        page.wait_for_function("(window.ran || []).includes('first')")
        yield page, seen


def test_control_without_the_gate_chromium_fetches_trackers_before_consent(
    fronts: dict[str, str], mapped_browser: Browser
) -> None:
    with _open(mapped_browser, fronts["raw"]) as (page, seen):
        # banner.js keeps them from running, but the preload scanner has fetched them already.
        assert page.evaluate("window.ran") == ["first"]
        assert any(u.endswith("/analytics.js") for u in _tracker_requests(seen)), seen


@pytest.mark.parametrize("front", ["asgi", "wsgi", "static"])
def test_gated_page_makes_no_tracker_request_before_consent_and_runs_them_after(
    front: str, fronts: dict[str, str], mapped_browser: Browser
) -> None:
    with _open(mapped_browser, fronts[front]) as (page, seen):
        assert _tracker_requests(seen) == []
        assert page.evaluate("window.ran") == ["first"]
        assert page.title() == "Gated café"  # the rest of the page arrived as written

        page.get_by_role("button", name="Accept all").click()
        page.wait_for_function("['analytics', 'ads'].every((t) => (window.ran || []).includes(t))")
        page.wait_for_function("document.querySelector('img').complete && document.querySelector('img').src")
        after = _tracker_requests(seen)
        for path in (
            "stats.example.net/analytics.js",
            "ads.example.net/ads.js",
            "px.stats.example.net/pixel.gif",
        ):
            assert any(path in u for u in after), (path, after)
        page.wait_for_function("document.querySelector('iframe').src.endsWith('/frame.html')")
        expect(page.frame_locator("iframe").locator("p")).to_have_text("ad")


def test_gated_page_after_reject_still_makes_no_tracker_request(
    fronts: dict[str, str], mapped_browser: Browser
) -> None:
    with _open(mapped_browser, fronts["asgi"]) as (page, seen):
        page.get_by_role("button", name="Reject all").click()
        expect(page.locator("#consentgate-banner")).to_be_hidden()
        page.reload()
        page.wait_for_function("(window.ran || []).includes('first')")
        assert _tracker_requests(seen) == []
