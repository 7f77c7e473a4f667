"""A small shop with trackers, served on loopback addresses for the scanner's tests and benchmark.

Hosts (Chromium maps the names with ``--host-resolver-rules``; Linux routes all of 127/8 to lo):

=============  ==========  ===============================================================
shop.test      127.0.0.1   the first party: pages, a consentgate-style banner, robots, sitemap
analytics.test 127.0.0.2   a Google-Analytics-like tag (gated behind analytics consent)
ads.test       127.0.0.3   an ad pixel (ungated: the bug to find) and a retargeting tag (gated)
video.test     127.0.0.4   an embedded player in an iframe (ungated)
cdn.test       127.0.0.5   a widget library the policy declares necessary
other.test     127.0.0.6   another site whose banner is not consentgate's (a generic CMP)
replay.test    127.0.0.7   a session-replay vendor (ungated): "Functional" cookies in the Open
                           Cookie Database, its own cookie, local storage, IndexedDB, a beacon
aff.test       127.0.0.8   an affiliate network nobody lists, on the product pages only
cmp.test       127.0.0.9   pages using the released npm packages of open-source CMPs (test_cmps.py)
=============  ==========  ===============================================================

``EXPECTED`` is the ground truth: every cookie and storage key the site sets, with its phases and
category. The tests assert that the scanner finds exactly these.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

HOSTS = {
    "shop.test": "127.0.0.1",
    "analytics.test": "127.0.0.2",
    "ads.test": "127.0.0.3",
    "video.test": "127.0.0.4",
    "cdn.test": "127.0.0.5",
    "other.test": "127.0.0.6",
    "replay.test": "127.0.0.7",
    "aff.test": "127.0.0.8",
    "cmp.test": "127.0.0.9",
}
ALL = ["no_consent", "rejected", "accepted"]

# name -> (phases, category, party); storage keys are prefixed with their kind.
EXPECTED: dict[str, tuple[list[str], str, str]] = {
    "PHPSESSID": (ALL, "functional", "first"),  # Set-Cookie on every page; "Functional" in the database
    "consentgate_consent": (["rejected", "accepted"], "necessary", "first"),  # after the click
    "_ga": (["accepted"], "analytics", "first"),  # gated tag, document.cookie
    "_gid": (["accepted"], "analytics", "first"),
    "_fbp": (ALL, "marketing", "first"),  # ungated pixel.js, document.cookie
    "IDE": (ALL, "marketing", "third"),  # Set-Cookie on ads.test/track.gif (blocked by Chromium)
    "uids": (["accepted"], "marketing", "third"),  # gated retargeting tag's image, Set-Cookie
    "_gcl_au": (ALL, "marketing", "first"),  # Set-Cookie on a deep page only
    "_pk_id.1.a1b2": (ALL, "analytics", "first"),  # wildcard row, on a page only a script links
    "VISITOR_INFO1_LIVE": (ALL, "marketing", "third"),  # iframe document's Set-Cookie
    "YSC": (ALL, "functional", "third"),  # iframe script: a third party's, so it needs consent
    "widget_state": (ALL, "necessary", "third"),  # cdn.test response; policy says cdn.test is necessary
    "mystery_id": (ALL, "unknown", "first"),  # nobody knows it
    "_clck": (ALL, "analytics", "first"),  # written by a timer 1.5 s after the page loaded
    "localStorage:ajs_anonymous_id": (ALL, "analytics", "first"),  # sitemap-only page
    "sessionStorage:cart_state": (ALL, "necessary", "first"),  # the policy names it
    "localStorage:_hjid": (["accepted"], "analytics", "first"),  # gated tag
    # the session-replay vendor: database rows say "Functional"; what it alone sets inherits that
    "_hjTLDTest": (ALL, "functional", "first"),
    "_hjAbsoluteSessionInProgress": (ALL, "functional", "first"),
    "rp_uid": (ALL, "functional", "third"),  # Set-Cookie of replay.js's own response
    "localStorage:_hjLocalStorageTest": (ALL, "functional", "first"),
    "indexedDB:replay-buffer": (ALL, "functional", "first"),
    # the affiliate script on the product pages: nobody knows the network, so its items are unknown
    "aff_ref": (ALL, "unknown", "first"),  # document.cookie of aff.js
    "aff_uid": (ALL, "unknown", "third"),  # Set-Cookie of the click pixel aff.js requests
    "_uetsid": (ALL, "marketing", "first"),  # an inline script, no tag manager, no consent check
}
# Exempt before consent: first-party and set by the site, declared by the policy, or the choice itself.
EXEMPT = {"PHPSESSID", "consentgate_consent", "widget_state", "sessionStorage:cart_state"}
# Third-party hosts contacted before consent, and whether anyone knows what they are.
HOSTS_BEFORE_CONSENT = {"ads.test": "marketing", "video.test": "marketing", "cdn.test": "necessary",
                        "replay.test": "functional", "aff.test": "unknown"}  # fmt: skip
NEVER = {"private_marker"}  # set only under /private/, which robots.txt disallows

POLICY_WEB = {
    "cookies": [{"name": "cart_state", "category": "necessary", "description": "Keeps your basket."}],
    "trackers": [
        {"host": "analytics.test", "category": "analytics", "vendor": "Example Analytics"},
        {"host": "ads.test", "category": "marketing", "vendor": "Example Ads"},
        {"host": "cdn.test", "category": "necessary"},
    ],
}

BANNER_JS = r"""
(function () {
  function consent() {
    var m = document.cookie.match(/(?:^|; )consentgate_consent=([^;]*)/);
    return m && m[1];
  }
  function activate() {
    document.querySelectorAll('script[type="text/plain"][data-consent]').forEach(function (old) {
      var s = document.createElement("script");
      s.src = old.getAttribute("data-src");
      old.parentNode.replaceChild(s, old);
    });
  }
  function choose(value) {
    document.cookie = "consentgate_consent=" + value + "; path=/; max-age=31536000";
    var b = document.getElementById("consentgate-banner");
    if (b) b.remove();
    if (value === "accepted") activate();
  }
  var state = consent();
  if (state === "accepted") { activate(); return; }
  if (state) return;
  setTimeout(function () {  // banners often appear late: the scanner must wait for it
    var root = document.createElement("div");
    root.id = "consentgate-banner";
    root.innerHTML = '<p>We use cookies.</p>' +
      '<button data-consentgate-action="reject-all">Reject all</button>' +
      '<button data-consentgate-action="accept-all">Accept all</button>';
    document.body.appendChild(root);
    root.addEventListener("click", function (e) {
      var a = e.target.getAttribute("data-consentgate-action");
      if (a) choose(a === "accept-all" ? "accepted" : "rejected");
    });
  }, 300);
})();
"""

OTHER_CMP_JS = r"""
(function () {
  if (document.cookie.indexOf("cmp_choice=") >= 0) {
    if (document.cookie.indexOf("cmp_choice=all") >= 0) { document.cookie = "_ga=GA1.1.1; path=/"; }
    return;
  }
  var box = document.createElement("div");
  box.className = "cookie-notice";
  box.innerHTML = '<span>Wir verwenden Cookies.</span> <a href="#" id="yes">Alle akzeptieren</a> ' +
                  '<a href="#" id="no">Nur notwendige</a>';
  document.body.appendChild(box);
  box.querySelector("#yes").onclick = function (e) {
    e.preventDefault();
    document.cookie = "cmp_choice=all; path=/";
    document.cookie = "_ga=GA1.1.1; path=/";
    box.remove();
  };
  box.querySelector("#no").onclick = function (e) {
    e.preventDefault(); document.cookie = "cmp_choice=necessary; path=/"; box.remove();
  };
})();
"""


AFFILIATE = '<script src="http://aff.test/aff.js"></script>'
REPLAY_JS = r"""
document.cookie = "_hjTLDTest=1; path=/";
document.cookie = "_hjAbsoluteSessionInProgress=0; path=/; max-age=1800";
localStorage.setItem("_hjLocalStorageTest", "1");
var open = indexedDB.open("replay-buffer", 1);
open.onupgradeneeded = function () { open.result.createObjectStore("events"); };
open.onsuccess = function () {
  open.result.close();
  navigator.sendBeacon("http://replay.test/rec", JSON.stringify({events: 3}));
};
"""


def _page(title: str, body: str, *, extra_head: str = "") -> str:
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<script src="/static/banner.js"></script>
<script src="http://ads.test/pixel.js"></script>
<script type="text/plain" data-consent="analytics" data-src="http://analytics.test/ga.js"></script>
<script type="text/plain" data-consent="marketing" data-src="http://ads.test/retarget.js"></script>
<script src="http://cdn.test/widget.js"></script>
<script src="http://replay.test/replay.js"></script>
{extra_head}</head><body><nav><a href="/">Home</a> <a href="/products/">Products</a>
<a href="/about">About</a></nav><main>{body}</main></body></html>"""


@dataclass
class Response:
    status: int
    body: str
    content_type: str = "text/html; charset=utf-8"
    cookies: tuple[str, ...] = ()


class ShopSite:
    """The routes of every host; ``extra_pages`` adds a catalogue for the benchmark."""

    def __init__(self, extra_pages: int = 0) -> None:
        self.extra_pages = extra_pages

    def pages(self) -> dict[str, str]:
        catalogue = "".join(
            f'<li><a href="/catalogue/{i}">Item {i}</a></li>' for i in range(self.extra_pages)
        )
        pages = {
            "/": _page(
                "Home",
                '<h1>Shop</h1><a href="/private/admin">Admin</a>'
                f"<ul>{catalogue}</ul>"
                "<script>var a=document.createElement('a');a.href='/hidden-by-script';a.textContent='x';"
                "document.body.appendChild(a);sessionStorage.setItem('cart_state','[]');</script>",
            ),
            "/products/": _page(
                "Products",
                extra_head=AFFILIATE,
                body='<a href="/products/shoes/">Shoes</a>'
                "<script>setTimeout(function () { document.cookie = '_clck=1|2; path=/'; }, 1500);</script>",
            ),
            "/products/shoes/": _page(
                "Shoes",
                '<a href="/products/shoes/red">Red shoes</a>'
                "<script>document.cookie='_uetsid=0a1b; path=/; max-age=86400';</script>",
                extra_head=AFFILIATE,
            ),
            "/products/shoes/red": _page("Red shoes", "<p>Deep page, sets a marketing cookie.</p>"),
            "/about": _page(
                "About",
                '<iframe src="http://video.test/embed/1" width="300" height="200"></iframe>'
                "<script>document.cookie='mystery_id=7; path=/';</script>",
            ),
            "/hidden-by-script": _page(
                "Hidden", "<script>document.cookie='_pk_id.1.a1b2=abc; path=/; max-age=34190000';</script>"
            ),
            "/orphan": _page("Orphan", "<script>localStorage.setItem('ajs_anonymous_id','\"x\"');</script>"),
            "/private/admin": _page("Private", "<script>document.cookie='private_marker=1';</script>"),
        }
        for i in range(self.extra_pages):
            nxt = f'<a href="/catalogue/{i + 1}">next</a>' if i + 1 < self.extra_pages else ""
            pages[f"/catalogue/{i}"] = _page(f"Item {i}", f"<p>Item {i}</p>{nxt}")
        return pages

    def route(self, host: str, path: str) -> Response:
        path = path.split("?", 1)[0]
        if host == "shop.test":
            return self._shop(path)
        if host == "other.test":
            body = "<!doctype html><html><head><title>Other</title></head><body><p>Andere Seite</p>"
            return Response(200, body + f"<script>{OTHER_CMP_JS}</script></body></html>")
        if host == "analytics.test" and path == "/ga.js":
            js = (
                "document.cookie='_ga=GA1.1.123.456; path=/; max-age=63072000';"
                "document.cookie='_gid=GA1.1.789; path=/; max-age=86400';"
                "localStorage.setItem('_hjid','1');"
                "navigator.sendBeacon('http://analytics.test/collect?v=2&tid=G-1');"
            )
            return Response(200, js, "application/javascript")
        if host == "ads.test" and path == "/pixel.js":
            js = (
                "document.cookie='_fbp=fb.1.123.456; path=/; max-age=7776000';"
                "var i=new Image(); i.src='http://ads.test/track.gif?ev=PageView';"
            )
            return Response(200, js, "application/javascript")
        if host == "ads.test" and path == "/retarget.js":
            return Response(200, "new Image().src='http://ads.test/rt.gif';", "application/javascript")
        if host == "ads.test" and path == "/track.gif":
            return Response(200, "GIF89a", "image/gif", ("IDE=AHWqTUk; Path=/; Max-Age=34128000",))
        if host == "ads.test" and path == "/rt.gif":
            return Response(200, "GIF89a", "image/gif", ("uids=42; Path=/; Max-Age=10368000",))
        if host == "video.test" and path.startswith("/embed/"):
            body = (
                "<!doctype html><html><body><p>player</p>"
                "<script>document.cookie='YSC=x; path=/';</script></body></html>"
            )
            return Response(200, body, cookies=("VISITOR_INFO1_LIVE=abc; Path=/; Max-Age=15465600",))
        if host == "cdn.test" and path == "/widget.js":
            return Response(200, "fetch('http://cdn.test/state');", "application/javascript")
        if host == "cdn.test" and path == "/state":
            return Response(200, "{}", "application/json", ("widget_state=1; Path=/",))
        if host == "replay.test" and path == "/replay.js":
            return Response(
                200, REPLAY_JS, "application/javascript", ("rp_uid=r1; Path=/; Max-Age=31536000",)
            )
        if host == "replay.test" and path == "/rec":
            return Response(204, "", "text/plain")
        if host == "aff.test" and path == "/aff.js":
            js = "document.cookie='aff_ref=p42; path=/; max-age=2592000'; new Image().src='http://aff.test/click.gif';"
            return Response(200, js, "application/javascript")
        if host == "aff.test" and path == "/click.gif":
            return Response(200, "GIF89a", "image/gif", ("aff_uid=u7; Path=/; Max-Age=2592000",))
        if host == "cmp.test":
            from .cmps import cmp_route  # cmps.py builds on this module

            return cmp_route(path)
        if host == "analytics.test" and path == "/collect":
            return Response(204, "", "text/plain")
        return Response(404, "not found", "text/plain")

    def _shop(self, path: str) -> Response:
        if path == "/robots.txt":
            return Response(200, "User-agent: *\nDisallow: /private/\nSitemap: http://shop.test/sitemap.xml\n",
                            "text/plain")  # fmt: skip
        if path == "/sitemap.xml":
            locs = "".join(f"<url><loc>http://shop.test{p}</loc></url>" for p in ("/", "/orphan", "/about"))
            xml = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'
            return Response(200, xml, "application/xml")
        if path == "/static/banner.js":
            return Response(200, BANNER_JS, "application/javascript")
        page = self.pages().get(path)
        if page is None:
            return Response(404, _page("Not found", "<p>Not found</p>"))
        cookies = ["PHPSESSID=s3ss10n; Path=/; HttpOnly; SameSite=Lax"]
        if path == "/products/shoes/red":
            cookies.append("_gcl_au=1.1.999; Path=/; Max-Age=7776000")
        return Response(200, page, cookies=tuple(cookies))


class _Handler(BaseHTTPRequestHandler):
    site: ClassVar[ShopSite]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").split(":")[0]
        r = self.site.route(host, self.path)
        data = r.body.encode()
        self.send_response(r.status)
        self.send_header("Content-Type", r.content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for c in r.cookies:
            self.send_header("Set-Cookie", c)
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_GET


@contextmanager
def serve(site: ShopSite | None = None) -> Iterator[dict[str, str]]:
    """Serve every host on its own loopback address; yields ``--resolve`` mappings host → ip:port."""
    handler = type("Handler", (_Handler,), {"site": site or ShopSite()})
    servers = []
    resolve = {}
    try:
        for host, ip in HOSTS.items():
            server = ThreadingHTTPServer((ip, 0), handler)
            server.daemon_threads = True
            servers.append(server)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            resolve[host] = f"{ip}:{server.server_address[1]}"
        yield resolve
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
