"""Why a record-first "Accept all" pays for the first frame after the click: Chromium's input deferral.

Since 2024 Chromium (feature ``DeferRendererTasksAfterInput``, on by default) holds a page's tasks back
from a discrete input event (a click) until the next frame: a network answer that arrives in between
is handed to the page's script only after that frame. This script shows it on a plain page, without
consentgate: a button whose click handler sends a small ``POST`` to a loopback server (HTTP/1.1,
answer with ``Timing-Allow-Origin``) and stamps when the ``fetch`` promise resolves. Per load, the
time since the click of the answer's last byte (resource timing, ``responseEnd``) and of the promise
resolving, in Debian's Chromium as the tests launch it and, interleaved in the same run, with
``--disable-features=DeferRendererTasksAfterInput``. Each load is cold (a fresh context); the click
comes ``--settle`` ms after the page has loaded, as a person's would.

A banner that runs its tags in its click handler (the peers in banner.py) has its tag's request out
before the frame and its answer handled right after it; a banner that waits for its record's
acknowledgement gets that acknowledgement after the frame, and only then asks for the tag.

Run: .venv/bin/python benchmarks/input_deferral.py [--runs 15] [--settle 1000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from common import ROOT  # noqa: F401  (puts the checkout on sys.path for tests.browser)
from playwright.sync_api import Browser, sync_playwright
from tests.browser import CHROMIUM_ARGS, DEFAULT_CHROMIUM, chromium_path, serve_static

PAGE = """<!doctype html><html lang=en><head><meta charset=utf-8><title>input deferral</title></head>
<body><button id=b type=button>Accept</button><script>
document.addEventListener('click', () => { window.__click = performance.now(); }, true);
document.getElementById('b').addEventListener('click', async () => {
  const api = new URLSearchParams(location.search).get('api');
  const r = await fetch(api + '/record?' + Math.random(), {method: 'POST', body: '{}'});
  window.__resolved = performance.now();
  await r.text();
  window.__read = true;
});
</script></body></html>"""
TIMES = """() => {
  const e = performance.getEntriesByType('resource').filter((r) => r.name.includes('/record?')).pop();
  return [e.responseEnd - window.__click, window.__resolved - window.__click];
}"""
WITHOUT = "--disable-features=DeferRendererTasksAfterInput"


class Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(201)
        for name, value in (("Access-Control-Allow-Origin", "*"), ("Timing-Allow-Origin", "*")):
            self.send_header(name, value)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


def load(browser: Browser, url: str, settle: int) -> tuple[float, float]:
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(url)
        tab.wait_for_timeout(settle)
        tab.click("#b")
        tab.wait_for_function("() => window.__read === true")
        answered, resolved = tab.evaluate(TIMES)
        return float(answered), float(resolved)
    finally:
        context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="cold loads each way (a first round is dropped)")
    parser.add_argument("--settle", type=int, default=1000, help="ms from the page's load to the click")
    args = parser.parse_args()
    api = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        (Path(tmp) / "page.html").write_text(PAGE, encoding="utf-8")
        site, httpd = serve_static(Path(tmp))
        stack.callback(httpd.shutdown)
        stack.callback(api.shutdown)
        url = f"{site}/page.html?api=http://127.0.0.1:{api.server_address[1]}"
        chromium = stack.enter_context(sync_playwright()).chromium
        path = chromium_path() or DEFAULT_CHROMIUM
        ways = {
            "Chromium as the tests launch it": chromium.launch(executable_path=path, args=CHROMIUM_ARGS),
            f"with {WITHOUT}": chromium.launch(executable_path=path, args=[*CHROMIUM_ARGS, WITHOUT]),
        }
        for browser in ways.values():
            stack.callback(browser.close)
        got: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
        for run in range(args.runs + 1):
            for name, browser in ways.items():
                timing = load(browser, url, args.settle)
                if run:
                    got[name].append(timing)
    print(
        f"a click's fetch, {args.runs} cold loads each way, the click {args.settle} ms after the load "
        "(ms since the click)"
    )
    print(f"{'':58} {'answer in':>10} {'promise resolved':>17} {'held back':>10}")
    for name, rows in got.items():
        answered = statistics.median(a for a, _ in rows)
        resolved = statistics.median(r for _, r in rows)
        held = statistics.median(r - a for a, r in rows)
        print(f"{name:58} {answered:10.1f} {resolved:17.1f} {held:10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
