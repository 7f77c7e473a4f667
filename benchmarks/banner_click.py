"""Where consentgate's "Accept all" spends the time from the click to its record's request (cold loads).

The page and server are banner.py's. An init script wraps the platform calls the banner makes on a
click (``disabled`` on its buttons, ``localStorage.setItem`` of the pending choice, ``fetch`` of the
record) and stamps ``performance.now()`` around them; the resource timing gives the request's start.
Then, on one warm page, the same ``fetch`` call alone, timed in interleaved rounds, for comparison.
Chromium's timer is coarsened to 0.1 ms here (no cross-origin isolation).

Run: .venv/bin/python benchmarks/banner_click.py [--runs 15]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import tempfile
from pathlib import Path

from banner import RECORD, RECORD_ROUTE, TAG, Ours, consentgate_banner, page, start_consentgate
from tests.browser import launched, serve_static

STAMPS = """(() => {
  const T = window.__T = {}, now = () => performance.now();
  document.addEventListener('click', () => { if (T.click === undefined) T.click = now(); }, true);
  const set = Storage.prototype.setItem;
  Storage.prototype.setItem = function (k, v) {
    const t = now(); set.call(this, k, v);
    if (k == 'cg_pending' && T.stored === undefined) { T.store = t; T.stored = now(); }
  };
  const f = window.fetch;
  window.fetch = function (u) {
    const mine = String(u).includes('/v1/consents/browser') && T.fetch === undefined, t = now();
    const r = f.apply(this, arguments);
    if (mine) { T.fetch = t; T.fetched = now(); }
    return r;
  };
  const d = Object.getOwnPropertyDescriptor(HTMLButtonElement.prototype, 'disabled');
  Object.defineProperty(HTMLButtonElement.prototype, 'disabled', {get() { return d.get.call(this); },
    set(v) { if (v && T.disable === undefined) T.disable = now(); d.set.call(this, v); }});
})();"""
# The record's fetch alone on a warm page: the call's own (synchronous) time, then its answer awaited.
WARM = """async ([url, n]) => {
  const out = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const p = fetch(url + '?n=' + Math.random(), {method: 'POST', credentials: 'include', body: '{}'});
    out.push(performance.now() - t);
    await p.then((r) => r.text());
  }
  return out;
}"""
PARTS = (
    "click to the banner's handler (buttons disabled)",
    "handler to localStorage.setItem (choices built)",
    "localStorage.setItem",
    "setItem to the fetch() call",
    "the fetch() call itself",
    "click to the request's start (resource timing)",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="cold loads (a first one is dropped)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "tag.js").write_text(TAG, encoding="utf-8")
        site, httpd = serve_static(root)
        ours = Ours(consentgate_banner("consentgate"), root / "cg")
        rows: list[tuple[float, ...]] = []
        try:
            start_consentgate(ours, site, trace=False)
            (root / "page.html").write_text(page(ours.banner), encoding="utf-8")
            with launched() as browser:
                for _ in range(args.runs + 1):
                    context = browser.new_context()
                    try:
                        context.add_init_script(STAMPS)
                        tab = context.new_page()
                        tab.goto(f"{site}/page.html")
                        tab.wait_for_selector(ours.banner.selector)
                        tab.click(ours.banner.accept)
                        tab.wait_for_function("() => window.__tag !== undefined")
                        t = tab.evaluate("window.__T")
                        start = tab.evaluate(RECORD % json.dumps(RECORD_ROUTE))[0]
                        marks = [t["click"], t["disable"], t["store"], t["stored"], t["fetch"], t["fetched"]]
                        rows.append((*(b - a for a, b in itertools.pairwise(marks)), start - t["click"]))
                    finally:
                        context.close()
                context = browser.new_context()
                tab = context.new_page()
                tab.goto(f"{site}/page.html")
                tab.wait_for_function("() => window.consentgate && window.consentgate.state().ready")
                warm = tab.evaluate(WARM, [ours.api + RECORD_ROUTE, args.runs * 2])
                context.close()
        finally:
            if ours.server is not None:
                ours.server.stop(10)
            httpd.shutdown()
    print(f"\nconsentgate, Accept all, {args.runs} cold loads (ms): median, min, max")
    for name, col in zip(PARTS, zip(*rows[1:], strict=True), strict=True):
        print(f"  {name:50} {statistics.median(col):6.2f} {min(col):6.2f} {max(col):6.2f}")
    print(
        f"  the same fetch() call on a warm page ({len(warm)} calls): median {statistics.median(warm):.2f}, "
        f"min {min(warm):.2f}, max {max(warm):.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
