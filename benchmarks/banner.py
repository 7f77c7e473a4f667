"""Banner size and speed (issue 5): consentgate's banner against three open-source consent banners.

The baselines are installed from npm in the same run (`npm install --prefix benchmarks/out/banner-npm`):
vanilla-cookieconsent, Osano's cookieconsent and Klaro!, at pinned versions. For each banner:

* **size**: gzip (level 9) of the JavaScript and CSS a site loads, each file compressed on its own as a
  server would send it. consentgate's is what its server sends for the example policy (GPC, Consent
  Mode v2 with the policy's region defaults, tag gating and blocking, region flows, records and the
  AI-training toggle included; the interface strings of one locale come with the configuration).
* **time to banner**: headless Chromium (Debian's, as in the tests) loads a small page with the banner
  embedded as its documentation says; the time from navigation start until the banner is visible
  (a rendered box with non-zero size and opacity) is taken in the page (`performance.now()`), over
  several runs with a fresh browser context each (cold cache), interleaved; the median is reported.
  consentgate's page is served cross-origin from the real server (uvicorn, SQLite) and includes its
  configuration request; the others are configured in the page.
* **accept to tag** (issue 17): on the same load, once the banner is visible, "Accept all" is clicked;
  the time from the click event (a capturing listener, before the banner's own) until a gated analytics
  tag runs (it stamps `performance.now()`). Each banner gates the tag as its documentation shows
  (`data-consent`, `data-category`, Klaro's `data-name`, Osano's `onStatusChange`); consentgate's
  includes recording the choice in the ledger and the server's acknowledgement. Where consentgate's
  time goes: the page's resource timing, the server's access-log duration of each record, the same
  POST sent with and without what forces a CORS preflight (refused before anything is stored), in
  interleaved pairs, and real records from a warm page.

consentgate is measured both ways in the same run: as by default, and with the policy's
``web.accept.fetch_tags_while_recording`` (the gated scripts download while the record is in flight).
``--baseline REF`` adds consentgate as of a git revision (its server and banner; both ways where it
has the option), interleaved with the rest. ``--trace`` times each record's steps inside the server
(record_trace.py). ``--pin`` puts Chromium on CPU 0 and the servers on CPU 1. ``--network`` notes
the gated tag's requests per load (how many, Chromium's priority, the initiator).

Run: .venv/bin/python benchmarks/banner.py [--runs 15] [--baseline main] [--trace] [--pin] [--only-ours]
[--network]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from common import ROOT
from playwright.sync_api import Browser
from playwright.sync_api import Error as PlaywrightError
from tests.browser import launched, serve_static
from tests.support import free_port
from tests.support.servers import NO_RATE_LIMITS, PYTHON, Server, server_env

from consentgate.auth.apikeys import create_key
from consentgate.ledger.store import Ledger

OUT = ROOT / "benchmarks" / "out"
NPM_DIR = OUT / "banner-npm"
EXAMPLE_POLICY = ROOT / "src" / "consentgate" / "policy" / "example.yaml"
BUDGET = 8192


@dataclass
class Banner:
    name: str
    package: str  # npm package@version ("" for consentgate)
    js: list[str]  # paths under node_modules/<package name>/
    css: list[str]
    selector: str  # the element that is the visible banner
    accept: str  # its "Accept all" button
    head: str = ""  # page <head> additions
    body: str = ""  # page <body> additions
    sizes: dict[str, int] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)
    # per --settle (ms between the banner becoming visible and the click): ms from click to tag
    accepts: dict[int, list[float]] = field(default_factory=dict)
    # consentgate only, per --settle: click to request, the request, answer to the tag's fetch, fetch to
    # tag running, answer to tag running, the tag's download end minus the answer's end (< 0: in before
    # the answer)
    parts: dict[int, list[tuple[float, ...]]] = field(default_factory=dict)
    # --network: per load, the gated tag's requests as Chromium's DevTools protocol saw them
    # (Chromium's priority, initiator type)
    tag_requests: list[list[tuple[str, str]]] = field(default_factory=list)

    @property
    def module(self) -> str:
        return self.package.rsplit("@", 1)[0]


CONTENT = "<main><h1>An article</h1>" + "<p>Some text to read while the banner loads.</p>" * 20 + "</main>"

BASELINES = [
    Banner(
        "vanilla-cookieconsent",
        "vanilla-cookieconsent@3.1.0",
        ["dist/cookieconsent.umd.js"],
        ["dist/cookieconsent.css"],
        "#cc-main .cm",
        "#cc-main .cm [data-role=all]",
        head='<link rel="stylesheet" href="/node_modules/vanilla-cookieconsent/dist/cookieconsent.css">',
        body='<script type="text/plain" data-category="analytics" src="/tag.js"></script>'
        '<script src="/node_modules/vanilla-cookieconsent/dist/cookieconsent.umd.js"></script>'
        '<script src="/init/vanilla.js"></script>',
    ),
    Banner(
        "Osano cookieconsent",
        "cookieconsent@3.1.1",
        ["build/cookieconsent.min.js"],
        ["build/cookieconsent.min.css"],
        ".cc-window",
        ".cc-window .cc-allow",
        head='<link rel="stylesheet" href="/node_modules/cookieconsent/build/cookieconsent.min.css">'
        '<script src="/node_modules/cookieconsent/build/cookieconsent.min.js"></script>'
        '<script src="/init/osano.js"></script>',
    ),
    Banner(
        "Klaro!",
        "klaro@0.7.22",
        ["dist/klaro.js"],  # its styles are inside the script
        [],
        ".klaro .cookie-notice, .klaro .cookie-modal",
        ".klaro .cookie-notice .cm-btn-success",
        head='<script src="/init/klaro.js"></script>'
        '<script defer src="/node_modules/klaro/dist/klaro.js" data-config="klaroConfig"></script>',
        body='<script type="text/plain" data-type="text/javascript" data-name="analytics" '
        'data-src="/tag.js"></script>',
    ),
]

# Each configured as its documentation shows, with the same two buttons and an analytics category.
INIT = {
    # hideFromBots: it hides itself from automated browsers (navigator.webdriver) unless told not to.
    "vanilla.js": """CookieConsent.run({
  hideFromBots: false,
  categories: {necessary: {enabled: true, readOnly: true}, analytics: {}},
  language: {default: 'en', translations: {en: {
    consentModal: {title: 'Your privacy choices', description: 'We ask before we use your data.',
      acceptAllBtn: 'Accept all', acceptNecessaryBtn: 'Reject all', showPreferencesBtn: 'Settings'},
    preferencesModal: {title: 'Settings', acceptAllBtn: 'Accept all', acceptNecessaryBtn: 'Reject all',
      savePreferencesBtn: 'Save choices', sections: [{title: 'Analytics', linkedCategory: 'analytics'}]}}}}
});""",
    "osano.js": """window.addEventListener('load', function () {
  window.cookieconsent.initialise({type: 'opt-in', content: {
    message: 'We ask before we use your data.', allow: 'Accept all', deny: 'Reject all', link: 'Settings'},
    onStatusChange: function () {
      if (!this.hasConsented()) return;
      var s = document.createElement('script'); s.src = '/tag.js'; document.head.appendChild(s);
    }});
});""",
    "klaro.js": """window.klaroConfig = {version: 1, elementID: 'klaro', lang: 'en', acceptAll: true,
  translations: {en: {consentNotice: {description: 'We ask before we use your data.'},
    purposes: {analytics: 'Analytics'}}},
  services: [{name: 'analytics', title: 'Analytics', purposes: ['analytics']}]};""",
}

VISIBLE = """(() => {
  const check = () => {
    const el = document.querySelector(%s);
    if (el) {
      const r = el.getBoundingClientRect(), s = getComputedStyle(el);
      if (r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && Number(s.opacity) > 0) {
        window.__shown = performance.now();
        return;
      }
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
  document.addEventListener('click', () => {
    if (window.__click === undefined) window.__click = performance.now();
  }, true);
})();"""
TAG = "window.__tag = performance.now();"
# consentgate's record request (sent without a CORS preflight since issue 17 item 4).
RECORD_ROUTE = "/v1/consents/browser"
# Its timing in the page: [start, end of the answer, start of the tag's fetch, end of the tag's
# download]. The answer's end, not
# its first byte (which the banner acts on): a cross-origin entry without Timing-Allow-Origin gives
# responseStart as 0. The receipt is small enough to arrive with the headers.
RECORD = """(() => {
  const e = performance.getEntriesByType('resource').filter((r) => r.name.endsWith(%s)).pop();
  const t = performance.getEntriesByType('resource').filter((r) => r.name.endsWith('/tag.js')).pop();
  return e ? [e.startTime, e.responseEnd, t ? t.startTime : NaN, t ? t.responseEnd : NaN] : null;
})()"""


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def npm_install() -> Path:
    if shutil.which("npm") is None:
        sys.exit("npm is needed to install the baselines (Debian: apt-get install npm)")
    NPM_DIR.mkdir(parents=True, exist_ok=True)
    packages = [b.package for b in BASELINES]
    print(f"npm install --prefix {NPM_DIR.relative_to(ROOT)} {' '.join(packages)}", flush=True)
    subprocess.run(
        ["npm", "install", "--prefix", str(NPM_DIR), "--no-save", "--no-audit", "--no-fund",
         "--ignore-scripts", "--loglevel=error", *packages],
        check=True,
    )  # fmt: skip
    return NPM_DIR / "node_modules"


@dataclass
class Ours:
    """A consentgate target: its row in the tables, and the server (and code) it is served from."""

    banner: Banner
    folder: Path
    fetch_while_recording: bool = False  # the policy's web.accept.fetch_tags_while_recording
    src: Path | None = None  # another revision's src/ (--baseline); None: this checkout
    api: str = ""
    key: str = ""
    server: Server | None = None
    trace: Path | None = None
    served: dict[int, list[float]] = field(default_factory=dict)  # per --settle, the cold loads' records
    traced: dict[str, list[str]] = field(default_factory=dict)
    warm: tuple[list[float], list[float], list[float]] = ([], [], [])


def start_consentgate(ours: Ours, site_origin: str, *, trace: bool, cpus: set[int] | None = None) -> None:
    """The real server on the example policy, with the benchmark page's origin allowed (CORS); with
    ``trace``, the app of ``record_trace.py`` (timestamps of each record's steps, into a file)."""
    folder = ours.folder
    folder.mkdir(parents=True)
    text = EXAMPLE_POLICY.read_text(encoding="utf-8").replace(
        'origins: ["https://www.example.com",', f'origins: ["{site_origin}", "https://www.example.com",', 1
    )
    if ours.fetch_while_recording:
        text = text.replace("\nweb:\n", "\nweb:\n  accept: {fetch_tags_while_recording: true}\n", 1)
    policy = folder / "policy.yaml"
    policy.write_text(text, encoding="utf-8")
    db = str(folder / "ledger.db")
    with Ledger.open(db) as ledger:
        _, ours.key = create_key(ledger.engine, "collect", "banner benchmark")
    # info: the access log's per-request durations are the server's share of the record (server_times).
    extra = {**NO_RATE_LIMITS, "CONSENTGATE_LOG_LEVEL": "info"}
    app = "consentgate.server.app:create_app"
    if trace:
        ours.trace = folder / "trace.jsonl"
        extra["BANNER_TRACE"] = str(ours.trace)
        app = "record_trace:create_app"
    env = server_env(db, policy, extra, seal=False)
    if ours.src is not None:  # ahead of this checkout's (installed) package
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ours.src), env.get("PYTHONPATH")]))
    port = free_port()
    cmd = [PYTHON, "-m", "uvicorn", "--factory", app, "--app-dir", str(ROOT / "benchmarks"),
           "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "info"]  # fmt: skip
    log_path = folder / "consentgate.log"
    with open(log_path, "ab") as log:
        pin = None if cpus is None else (lambda: os.sched_setaffinity(0, cpus))
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=pin)
    ours.server = Server(proc, f"http://127.0.0.1:{port}", log_path, db, ours.banner.name).wait_ready(30)
    ours.api = ours.server.base_url
    ours.banner.head = f'<script src="{ours.api}/banner.js" data-key="{ours.key}"></script>'
    # What this server sends (for --baseline, the other revision's banner), as a site gets it.
    ours.banner.sizes = {
        name: gz(httpx.get(f"{ours.api}/{name}", timeout=10).content) for name in ("banner.js", "banner.css")
    }


def checkout(ref: str, into: Path) -> Path:
    """``src/`` as of git ``ref``, unpacked into ``into``: the code a --baseline server runs."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "src"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into / "src"


def server_times(log: Path, route: str) -> dict[str, list[float]]:
    """Per method, the durations the server's access log gives for ``route``'s records (201; ms from
    the first byte the app sees until its answer is handed to uvicorn): the server's share."""
    out: dict[str, list[float]] = {}
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("route") == route and entry.get("status") == 201:
            out.setdefault(str(entry["method"]), []).append(float(entry["duration_ms"]))
    return out


def page(banner: Banner) -> str:
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{banner.name}</title>{banner.head}"
        f"</head><body>{CONTENT}{banner.body}</body></html>"
    )


def load_once(
    browser: Browser, banner: Banner, url: str, settle: int, *, network: bool = False
) -> tuple[float, float]:
    """One cold page load (a fresh context: empty cache and cookies): ms until the banner is visible,
    then ms from the click on "Accept all" (``settle`` ms after the banner became visible) until the
    gated tag runs. With ``network``, the gated tag's requests are noted from Chromium's DevTools
    protocol (how many, at what priority, from where)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        context.add_init_script(VISIBLE % json.dumps(banner.selector))
        page = context.new_page()
        tag_requests: list[tuple[str, str]] = []
        if network:
            cdp = context.new_cdp_session(page)
            cdp.on(
                "Network.requestWillBeSent",
                lambda e: (
                    tag_requests.append((e["request"]["initialPriority"], e["initiator"]["type"]))
                    if e["request"]["url"].endswith("/tag.js")
                    else None
                ),
            )
            cdp.send("Network.enable")
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        try:
            page.wait_for_function("() => window.__shown !== undefined", timeout=15_000)
        except PlaywrightError:
            sys.exit(f"{banner.name}: no banner within 15 s; page errors: {errors}")
        if settle:
            page.wait_for_timeout(settle)
        page.click(banner.accept)
        try:
            page.wait_for_function("() => window.__tag !== undefined", timeout=15_000)
        except PlaywrightError:
            sys.exit(f"{banner.name}: the gated tag did not run within 15 s of Accept all; errors: {errors}")
        shown, click, tag = page.evaluate("[window.__shown, window.__click, window.__tag]")
        if network:
            banner.tag_requests.append(tag_requests)
        record = page.evaluate(RECORD % json.dumps(RECORD_ROUTE))
        if record:
            start, answered, fetched, downloaded = record
            banner.parts.setdefault(settle, []).append(
                (start - click, answered - start, fetched - answered, tag - fetched, tag - answered,
                 downloaded - answered)
            )  # fmt: skip
        return float(shown), float(tag) - float(click)
    finally:
        context.close()


# The same POST to the record route from the benchmark page, with and without what forces a CORS
# preflight (an Authorization header, a JSON content type), in interleaved pairs; each URL is new,
# so no preflight comes from Chromium's cache. The body is refused (422) before anything is stored,
# so both variants cost the server the same and the difference is the preflight.
PREFLIGHT = """async ([url, key, pairs]) => {
  const time = async (init) => {
    const t = performance.now();
    await fetch(url + '?n=' + Math.random(), {method: 'POST', credentials: 'include', body: '{}', ...init});
    return performance.now() - t;
  };
  const out = [[], []];
  for (let i = 0; i < pairs; i++) {
    out[0].push(await time({headers: {'Content-Type': 'application/json', Authorization: 'Bearer ' + key}}));
    out[1].push(await time({}));
  }
  return out;
}"""


def measure(
    banners: list[Banner], urls: dict[str, str], runs: int, settles: list[int], *, network: bool = False
) -> None:
    """Interleaved, so machine noise spreads over all banners and both ways of clicking; a first round
    warms up and is dropped. Time to banner: from every load."""
    with launched() as browser:
        for b in banners:
            load_once(browser, b, urls[b.name], 0)
        for _ in range(runs):
            for settle in settles:
                for b in banners:
                    shown, accept = load_once(browser, b, urls[b.name], settle, network=network)
                    b.times.append(shown)
                    b.accepts.setdefault(settle, []).append(accept)


# Real records from the warm page, as the banner sends them (`consentgate.set`: one purpose, the
# durable commit), for a visitor who has chosen before: what a record costs without a cold load.
AGAIN = """async (n) => {
  const out = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await window.consentgate.set('product_analytics', i % 2 == 1);
    out.push(performance.now() - t);
  }
  return out;
}"""


def preflight_cost(url: str, api: str, key: str, pairs: int) -> tuple[list[float], list[float], list[float]]:
    """ms per request with a preflight and without (both refused before anything is stored), then ms
    per real record, from the consentgate page (one warm context, Accept all clicked first)."""
    with launched() as browser:
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(url)
            page.wait_for_function("() => window.consentgate && window.consentgate.state().ready")
            with_preflight, without = page.evaluate(PREFLIGHT, [api + RECORD_ROUTE, key, pairs])
            page.click("#consentgate-banner [data-consentgate-action=accept-all]")
            page.wait_for_function("() => window.__tag !== undefined")
            again = page.evaluate(AGAIN, pairs)
            return list(with_preflight), list(without), list(again)
        finally:
            context.close()


def consentgate_banner(name: str) -> Banner:
    return Banner(
        name,
        "",
        [],
        [],
        "#consentgate-banner .cg-box",
        "#consentgate-banner [data-consentgate-action=accept-all]",
        body='<script type="text/plain" data-consent="product_analytics" src="/tag.js"></script>',
    )


def clicked(settle: int) -> str:
    return f"click {settle} ms after the banner showed" if settle else "click as soon as the banner showed"


def report_ours(ours: Ours) -> None:
    """Where one consentgate target's time went: the page's resource timing, the server's access log,
    the warm page's requests and, with --trace, the server's steps."""
    for settle, parts in ours.banner.parts.items():
        report_parts(ours, settle, parts)
    report_server(ours)


def report_parts(ours: Ours, settle: int, parts: list[tuple[float, ...]]) -> None:
    """The page's resource timing of one way of clicking (medians)."""
    name = f"{ours.banner.name} ({clicked(settle)})"
    if parts:
        before, request, after, tag, ran, _ = (statistics.median(p) for p in zip(*parts, strict=True))
        # With the scripts fetched during the record, the fetch starts before the answer: what counts
        # is the answer to the tag running.
        fetch = f"answer to the tag's fetch {after:.1f} ms, fetch to tag running {tag:.1f} ms, "
        print(
            f"{name}, where it goes (medians): click to request {before:.1f} ms, request (durable "
            f"write, answer) {request:.1f} ms, {'' if ours.fetch_while_recording else fetch}"
            f"answer to tag running {ran:.1f} ms"
        )
        # With the option, the floor: loads where the preloaded script was in before the answer.
        ready = [p[4] for p in parts if p[5] <= 0]
        if ours.fetch_while_recording and ready:
            print(
                f"{name}: the tag downloaded before the answer in {len(ready)} of {len(parts)} "
                f"loads; answer to tag running in those: median {statistics.median(ready):.1f} ms, "
                f"min {min(ready):.1f}, max {max(ready):.1f}"
            )
    times = ours.served.get(settle)
    if times:
        print(
            f"{name}, server side (POST {RECORD_ROUTE}, access-log duration, {len(times)} requests): "
            f"median {statistics.median(times):.1f} ms, min {min(times):.1f}, max {max(times):.1f}"
        )


def report_server(ours: Ours) -> None:
    """The warm page's requests and, with --trace, the server's steps."""
    name = ours.banner.name
    preflighted, simple, again = ours.warm
    pre, plain = statistics.median(preflighted), statistics.median(simple)
    print(
        f"{name}, the same POST from a warm page, {len(simple)} interleaved pairs, refused before "
        f"anything is stored: with a CORS preflight (Authorization, JSON) median {pre:.1f} ms, as "
        f"sent now (text/plain, no custom header) {plain:.1f} ms: {pre - plain:.1f} ms for the preflight"
    )
    print(
        f"{name}, real records from the warm page ({len(again)}, consentgate.set, durable commit): "
        f"median {statistics.median(again):.1f} ms, min {min(again):.1f}, max {max(again):.1f}"
    )
    for phase, lines in ours.traced.items():
        print(f"{name}, inside the server ({phase}):")
        print("\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="page loads per banner (median reported)")
    parser.add_argument(
        "--trace", action="store_true",
        help="time each record's steps inside the server (record_trace.py) and print where it goes",
    )  # fmt: skip
    parser.add_argument(
        "--baseline", metavar="REF", action="append", default=[],
        help="also load consentgate as of git REF (its server and banner), interleaved; repeatable",
    )  # fmt: skip
    parser.add_argument(
        "--pin", action="store_true",
        help="Chromium and this script on CPU 0, the consentgate servers on CPU 1: the server no longer "
        "competes with the browser for a core, as where it runs on another machine",
    )  # fmt: skip
    parser.add_argument(
        "--only-ours", action="store_true", help="skip the peers (same-run comparisons of consentgate)"
    )
    parser.add_argument(
        "--network", action="store_true",
        help="note each load's requests for the gated tag over Chromium's DevTools protocol (count, "
        "Chromium's priority, initiator); one request per load with a preload: the script came from it. "
        "Adds the protocol's own overhead to every banner",
    )  # fmt: skip
    parser.add_argument(
        "--settle", default="1000,0", metavar="MS[,MS]",
        help="ms from the banner becoming visible to the click, one way of clicking each, interleaved; "
        "the first is the headline (default 1000,0: a person who has read the banner, and a click the "
        "moment it shows, while Chromium is still busy with the cold load)",
    )  # fmt: skip
    args = parser.parse_args()
    settles = [int(x) for x in args.settle.split(",")]

    server_cpus = None
    if args.pin:  # before Chromium starts: its processes inherit this affinity
        os.sched_setaffinity(0, {0})
        server_cpus = {1}
    modules = npm_install()
    peers = [] if args.only_ours else BASELINES
    for b in peers:
        folder = modules / b.module
        b.sizes = {name: gz((folder / name).read_bytes()) for name in (*b.js, *b.css)}

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ours = [
            Ours(consentgate_banner("consentgate"), root / "cg"),
            Ours(consentgate_banner("consentgate, fetch while recording"), root / "cg-fetch", True),
        ]
        for n, ref in enumerate(args.baseline):
            src = checkout(ref, root / f"rev{n}")
            ours.append(Ours(consentgate_banner(f"consentgate @ {ref}"), root / f"cg-rev{n}", src=src))
            if "fetch_tags_while_recording" in (src / "consentgate" / "policy" / "models.py").read_text(
                "utf-8"
            ):
                name = f"consentgate @ {ref}, fetch while recording"
                ours.append(Ours(consentgate_banner(name), root / f"cg-rev{n}-fetch", True, src=src))
        (root / "node_modules").symlink_to(modules, target_is_directory=True)
        (root / "init").mkdir()
        (root / "tag.js").write_text(TAG, encoding="utf-8")
        for name, code in INIT.items():
            (root / "init" / name).write_text(code, encoding="utf-8")
        site, httpd = serve_static(root)
        try:
            for o in ours:
                start_consentgate(o, site, trace=args.trace, cpus=server_cpus)
            banners = [o.banner for o in ours] + peers
            urls = {}
            for i, b in enumerate(banners):
                (root / f"page{i}.html").write_text(page(b), encoding="utf-8")
                urls[b.name] = f"{site}/page{i}.html"
            cold = time.perf_counter()
            measure(banners, urls, args.runs, settles, network=args.network)
            warm = time.perf_counter()
            for o in ours:
                o.warm = preflight_cost(urls[o.banner.name], o.api, o.key, args.runs * 2)
            end = time.perf_counter()
        finally:
            for o in ours:
                if o.server is not None:
                    o.server.stop(10)
            httpd.shutdown()
        loads = args.runs * len(settles)
        for o in ours:
            assert o.server is not None
            # the cold loads' records (after the warm-up load's, in the order of the loads), not the warm
            # page's that follow them
            posts = server_times(o.server.log_path, RECORD_ROUTE).get("POST", [])[1 : 1 + loads]
            for i, duration in enumerate(posts):
                o.served.setdefault(settles[i % len(settles)], []).append(duration)
            if o.trace is not None:
                from record_trace import breakdown

                o.traced = {
                    "cold loads": breakdown(o.trace, cold, warm),
                    "warm pages": breakdown(o.trace, warm, end),
                }

    ref = ours[0].banner
    our_total = sum(ref.sizes.values())
    print(f"\nsize: gzip -9 of each file a site loads (budget for consentgate: {BUDGET} B)")
    print(f"{'banner':44} {'version':8} {'JS + CSS gzip':>14} {'vs consentgate':>15}  files")
    results = []
    for b in banners:
        total = sum(b.sizes.values())
        version = b.package.rsplit("@", 1)[1] if b.package else "this"
        files = ", ".join(f"{n.rsplit('/', 1)[-1]} {s}" for n, s in b.sizes.items())
        kb = f"{total:>9,} B ({total / 1000:4.1f} KB)"
        print(f"{b.name:44} {version:8} {kb} {total / our_total:>6.2f}x  {files}")
        results.append({"banner": b.name, "package": b.package, "gzip_bytes": total, "files": b.sizes,
                        "time_to_banner_ms": b.times,
                        "accept_to_tag_ms": {str(k): v for k, v in b.accepts.items()}})  # fmt: skip
    print(f"\ntime from navigation to banner visible, headless Chromium, {loads} cold loads each (ms)")
    print(f"{'banner':44} {'median':>8} {'min':>8} {'max':>8}")
    for b in banners:
        print(f"{b.name:44} {statistics.median(b.times):8.1f} {min(b.times):8.1f} {max(b.times):8.1f}")
    fastest = {}
    for settle in settles:
        print(
            f"\nfrom the click on Accept all to the gated tag running, {clicked(settle)}, {args.runs} loads"
        )
        print(f"{'banner (ms)':44} {'median':>8} {'min':>8} {'max':>8} {'vs fastest peer':>16}")
        fastest[settle] = min((statistics.median(b.accepts[settle]) for b in peers), default=float("nan"))
        for b in banners:
            a = b.accepts[settle]
            m = statistics.median(a)
            print(f"{b.name:44} {m:8.1f} {min(a):8.1f} {max(a):8.1f} {m / fastest[settle]:>15.2f}x")
    print()
    for o in ours:
        report_ours(o)
    for b in banners if args.network else []:
        seen = Counter(" + ".join(f"{p} ({i})" for p, i in r) or "none" for r in b.tag_requests)
        counts = "; ".join(f"{k}: {n} loads" for k, n in seen.items())
        print(f"{b.name}, the gated tag's requests per load (priority, initiator): {counts}")
    for settle in settles if peers else []:
        for o in ours:
            ratio = statistics.median(o.banner.accepts[settle]) / fastest[settle]
            print(
                f"{o.banner.name} accept to tag, {clicked(settle)}: {ratio:.2f}x the fastest peer "
                f"(target <= 1.25x): {ratio <= 1.25}"
            )
    smaller = all(our_total < sum(b.sizes.values()) for b in peers)  # (no peers with --only-ours)
    within = our_total <= BUDGET
    print(f"\nconsentgate: {our_total} B gzip; within the budget: {within}", end="")
    print(f"; smaller than all three: {smaller}" if peers else "")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "banner.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0 if within and (smaller or args.only_ours) else 1


if __name__ == "__main__":
    sys.exit(main())
