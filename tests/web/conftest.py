"""One real consentgate server and one test site for the whole session, both on loopback.

* ``server``: ``uvicorn --factory consentgate.server.app:create_app`` on 127.0.0.1 with a SQLite
  ledger in a temporary folder, the example policy plus a few test additions (hostile wording, the test
  site's origin, its cookies and a tracker host), the country taken from the ``X-Test-Country`` header
  (how a CDN's country header is configured), and a known token secret so tests mint subject tokens as
  a site's backend would.
* ``site``: a second origin (another port) serving ``tests/web/site/`` with a strict
  Content-Security-Policy — no inline script without the page's nonce, no eval — that admits only the
  site itself, the consentgate server and one "third party" (``localhost``, another host).

The banner is thus embedded cross-origin, as on a real site: CORS, the ``cg_vid`` cookie and the CSP
are all the real ones.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page

from consentgate.auth.apikeys import create_key
from consentgate.ledger.events import ConsentEvent
from consentgate.ledger.store import Ledger
from consentgate.policy import Policy, load_policy
from consentgate.requests import DataRequest, RequestDesk
from consentgate.service import ConsentService
from tests.browser import browser as browser
from tests.browser import new_context
from tests.conftest import EXAMPLE_POLICY
from tests.support import free_port, servers

SITE_DIR = Path(__file__).parent / "site"
COUNTRY_HEADER = "X-Test-Country"
TOKEN_SECRET = "test-secret-" + "x" * 40
# Policy text a hostile or careless editor could write: it must reach people as text, never as markup.
HOSTILE_TITLE = 'Marketing <img src=x onerror="window.__xss=1"> & <b>ads</b>'
HOSTILE_WORDING = (
    'Send me product news <b>by email</b> <img src=x onerror="window.__xss=2">'
    "<script>window.__xss=3</script> & measure which ads brought me here."
)
HOSTILE_ORG = 'Example Support Ltd <img src=x onerror="window.__xss=4">'
AI_PURPOSES = ("train_support_chatbot", "finetune_recommender")
# What the banner asks about in the EU (basis consent, notice in force): one event each per choice.
EU_ASKED = (
    "train_support_chatbot",
    "finetune_recommender",
    "product_analytics",
    "personalisation",
    "marketing",
)


@dataclass(frozen=True)
class Server:
    base: str  # http://127.0.0.1:PORT
    collect_key: str
    db: str
    policy: Policy

    def events(self, subject: str | None = None) -> list[ConsentEvent]:
        """Events in the ledger (of one subject), in chain order."""
        with Ledger.open(self.db, migrate_schema=False) as ledger:
            found = ledger.events_of({subject}) if subject is not None else list(ledger.iter_events())
        return sorted(found, key=lambda e: e.seq)

    def requests(self, subject: str) -> list[DataRequest]:
        """The subject's data-subject requests, oldest first, as the server's RequestDesk sees them."""
        with Ledger.open(self.db, migrate_schema=False) as ledger:
            return RequestDesk(ConsentService(self.policy, ledger)).requests_of(subject)

    def wait_events(self, subject: str, count: int, timeout: float = 5.0) -> list[ConsentEvent]:
        """The subject's events once there are at least ``count`` (for fire-and-forget requests)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.events(subject)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


@dataclass(frozen=True)
class Site:
    base: str  # http://127.0.0.1:PORT (the site)
    third_party: str  # http://localhost:PORT (another host: a third party)

    def url(self, page: str = "page.html", **query: str) -> str:
        q = "&".join(f"{k}={v}" for k, v in query.items())
        return f"{self.base}/{page}" + (f"?{q}" if q else "")


def _test_policy(site_origin: str) -> dict[str, Any]:
    data: dict[str, Any] = load_policy(EXAMPLE_POLICY).model_dump(mode="json")
    data["organization"]["name"] = HOSTILE_ORG
    web = data["web"]
    web["origins"] = [*web["origins"], site_origin]
    web["cookies"] = [
        *web.get("cookies", []),
        {"pattern": "_test_an*", "category": "analytics"},
        {"name": "_test_mk", "category": "marketing"},
        {"name": "_test_pz", "category": "personalisation"},
    ]
    web["trackers"] = [{"host": "localhost", "category": "analytics", "vendor": "Test third party"}]
    for purpose in data["purposes"]:
        if purpose["id"] == "marketing":
            purpose["title"] = HOSTILE_TITLE
    for notice in data["notices"]:
        if notice["id"] == "marketing":
            notice["versions"][0]["text"]["en"] = HOSTILE_WORDING
    return data


@pytest.fixture(scope="session")
def site_port() -> int:
    return free_port()


@contextmanager
def start_server(
    folder: Path, policy_data: dict[str, Any], extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    """A consentgate server subprocess on loopback with this policy, its ledger in ``folder``
    (``extra_env``: more settings, e.g. ``CONSENTGATE_TCF_GVL_DIR``)."""
    policy_path = folder / "policy.yaml"
    # JSON is YAML: no YAML 1.1 surprises (NO, Norway, stays a string).
    policy_path.write_text(json.dumps(policy_data), encoding="utf-8")
    policy = load_policy(policy_path)
    db = str(folder / "ledger.db")
    with Ledger.open(db) as ledger:
        _, collect = create_key(ledger.engine, "collect", "browser tests")
    env = {
        "CONSENTGATE_COUNTRY_HEADER": COUNTRY_HEADER,
        "CONSENTGATE_TOKEN_SECRET": TOKEN_SECRET,
        "CONSENTGATE_DEMO_KEY": collect,
        "CONSENTGATE_LOG_LEVEL": "warning",
        **servers.NO_RATE_LIMITS,
        **(extra_env or {}),
    }
    process = servers.start_server(db, policy_path, folder, extra_env=env, seal=False, timeout=30)
    try:
        yield Server(process.base_url, collect, db, policy)
    finally:
        process.stop(10)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, site_port: int) -> Iterator[Server]:
    with start_server(tmp_path_factory.mktemp("web"), _test_policy(f"http://127.0.0.1:{site_port}")) as s:
        yield s


class _SiteHandler(SimpleHTTPRequestHandler):
    """Static files with a strict CSP; ``{{API}}``, ``{{KEY}}``, ``{{NONCE}}``, ``{{THIRD}}`` and
    ``{{EMBED}}`` (the banner's optional data- attributes, from the query) filled into HTML."""

    api = ""
    key = ""
    third = ""

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        path = SITE_DIR / url.path.lstrip("/")
        if url.path.endswith(".html") and path.is_file():
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            nonce = secrets.token_urlsafe(16)
            embed = " ".join(f'data-{name}="{query[name]}"' for name in ("region", "locale") if name in query)
            if "token" in query:
                embed += f' data-subject-token="{query["token"]}"'
            body = (
                path.read_text(encoding="utf-8")
                .replace("{{API}}", self.api)
                .replace("{{KEY}}", self.key)
                .replace("{{NONCE}}", nonce)
                .replace("{{THIRD}}", self.third)
                .replace("{{EMBED}}", embed)
                .encode()
            )
            csp = (
                f"default-src 'self'; script-src 'self' 'nonce-{nonce}' {self.api} {self.third}; "
                f"style-src 'self' {self.api}; connect-src 'self' {self.api}; img-src 'self' data:; "
                "frame-src 'self'; object-src 'none'; base-uri 'none'"
            )
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", csp)
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def end_headers(self) -> None:
        if not self.path.split("?")[0].endswith(".html"):
            self.send_header("Cache-Control", "no-store")
        super().end_headers()


@contextmanager
def serve_site(server: Server, port: int, third: str) -> Iterator[Site]:
    """The test site on 127.0.0.1:``port``, embedding ``server``'s banner, with ``third`` as its
    third-party host (``http://localhost:PORT``: another host, so another site)."""
    handler = type(
        "Handler",
        (_SiteHandler,),
        {"api": server.base, "key": server.collect_key, "third": third},
    )
    httpd = ThreadingHTTPServer(("127.0.0.1", port), lambda *a: handler(*a, directory=str(SITE_DIR)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{port}", third)
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="session")
def site(server: Server, site_port: int) -> Iterator[Site]:
    with serve_site(server, site_port, f"http://localhost:{site_port}") as s:
        yield s


# -- browser helpers ---------------------------------------------------------------------------------

CSP_WATCH = (
    "window.__csp = []; document.addEventListener('securitypolicyviolation', "
    "(e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
)
GPC_ON = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});"


@pytest.fixture
def context(browser: Any) -> Iterator[BrowserContext]:
    """A fresh browser context in the EU (the CDN country header says DE), watching for CSP violations."""
    with new_context(browser, extra_http_headers={COUNTRY_HEADER: "DE"}) as ctx:
        ctx.add_init_script(CSP_WATCH)
        yield ctx


@pytest.fixture
def make_context(browser: Any) -> Iterator[Callable[..., BrowserContext]]:
    """Contexts with other options (viewport, headers, GPC); closed after the test."""
    opened: list[Any] = []

    def make(*, country: str | None = "DE", gpc: bool = False, **options: Any) -> BrowserContext:
        headers = dict(options.pop("extra_http_headers", {}))
        if country:
            headers[COUNTRY_HEADER] = country
        if gpc:
            headers["Sec-GPC"] = "1"
        manager = new_context(browser, extra_http_headers=headers, **options)
        ctx = manager.__enter__()
        opened.append(manager)
        ctx.add_init_script(CSP_WATCH)
        if gpc:
            ctx.add_init_script(GPC_ON)
        return ctx

    yield make
    for manager in reversed(opened):
        manager.__exit__(None, None, None)


def banner(page: Page) -> Any:
    return page.locator("#consentgate-banner")


def visitor_id(context: BrowserContext, timeout: float = 5.0) -> str:
    """The server-issued visitor id in the HttpOnly ``cg_vid`` cookie (scripts cannot read it); waits
    for it, since the banner asks for one only when it first records something."""
    deadline = time.monotonic() + timeout
    while True:
        for cookie in context.cookies():
            if cookie["name"] == "cg_vid":
                return str(cookie["value"])
        if time.monotonic() > deadline:
            raise AssertionError("no cg_vid cookie: the banner never asked the server for a visitor id")
        time.sleep(0.05)


def cookie_names(context: BrowserContext) -> set[str]:
    return {str(c["name"]) for c in context.cookies()}


def ran(page: Page) -> list[str]:
    """Which test tags ran, in order (each pushes its name to window.ran)."""
    return list(page.evaluate("window.ran || []"))


def consent_calls(page: Page) -> list[Any]:
    """dataLayer entries: consent commands as ['consent', kind, state] and tag markers as ['tag', name]."""
    return list(
        page.evaluate(
            "(window.dataLayer || []).filter((e) => e[0] === 'consent' || e[0] === 'tag')"
            ".map((e) => Array.from(e))"
        )
    )


def assert_no_csp_violations(page: Page) -> None:
    assert page.evaluate("window.__csp") == []


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
