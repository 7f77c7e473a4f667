"""Real Chromium for the tests of what people see: Debian's ``chromium`` driven by Playwright.

Never Playwright's own browser download (``playwright install`` is not run anywhere) and never a mocked
DOM (docs/testing.md, "Tiers"). ``scripts/system-deps.sh`` installs Chromium when it is missing; without
it these tests fail in CI and are skipped, loudly, on a developer's machine.

Import the browser fixture into a package's ``conftest.py`` and open a fresh context per test (cheap,
isolated cookies and storage)::

    from tests.browser import browser as browser  # the fixture, re-exported

    def test_page(browser: Browser) -> None:
        with new_context(browser) as context:
            page = context.new_page()

``artifacts(name)`` is the folder for screenshots and other files a run leaves for people to look at
(``test-artifacts/NAME/``, ignored by git).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
DEFAULT_CHROMIUM = "/usr/bin/chromium"
# No sandbox: CI runs as root, where Chromium refuses its sandbox. The rest keep the browser off the
# network (no update checks, no component downloads): tests reach only loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def chromium_path() -> str | None:
    """Debian's Chromium: ``CONSENTGATE_CHROMIUM`` if set, else ``chromium`` on PATH, else /usr/bin."""
    configured = os.environ.get("CONSENTGATE_CHROMIUM")
    if configured:
        return configured
    found = shutil.which("chromium")
    if found:
        return found
    return DEFAULT_CHROMIUM if Path(DEFAULT_CHROMIUM).exists() else None


def require_chromium() -> str:
    path = chromium_path()
    if path is None:
        msg = "Chromium not found (install Debian's 'chromium' package or run `make system-deps`)"
        if IN_CI:
            pytest.fail(f"{msg}; browser tests must not be skipped in CI")
        pytest.skip(reason=f"!!! SKIPPING BROWSER TESTS: {msg}")
    return path


@contextmanager
def launched(**options: Any) -> Iterator[Browser]:
    """A headless Chromium for the duration of the block (for scripts such as benchmarks/banner.py)."""
    path = options.pop("executable_path", None) or chromium_path() or DEFAULT_CHROMIUM
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, **options)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One browser per test package (each test opens its own context).

    Not per session: while Playwright's sync API is alive it keeps its event loop marked as running in
    the main thread, so asyncio tests (anyio, httpx over ASGI) in other packages could not start their
    own. Package scope ends it when the importing package's tests are done; inside that package, run
    async clients in a thread of their own (tests/web/test_config.py does).
    """
    path = require_chromium()
    with launched(executable_path=path) as b:
        yield b


@contextmanager
def new_context(browser: Browser, **options: Any) -> Iterator[BrowserContext]:
    """A fresh context (its own cookies, storage and cache), closed at the end of the block."""
    options.setdefault("viewport", {"width": 1280, "height": 800})
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)
    try:
        yield context
    finally:
        context.close()


def artifacts(name: str) -> Path:
    """``test-artifacts/NAME/``, created when missing."""
    folder = ARTIFACTS / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


def serve_static(root: Path, port: int = 0) -> tuple[str, ThreadingHTTPServer]:
    """Files under ``root`` on 127.0.0.1 (``port`` 0: any free one), uncached, in a daemon thread;
    the caller shuts the server down."""
    httpd = ThreadingHTTPServer(("127.0.0.1", port), partial(_QuietFiles, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{httpd.server_address[1]}", httpd
