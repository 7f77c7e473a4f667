"""Where consentgate's "Accept all" spends the time from the click to its record's request (cold loads).

The page and server are banner.py's. An init script wraps the platform calls the banner makes on a
click (its buttons looked up — ``root.querySelectorAll('button')``, or ``disabled`` set on them in
builds before the waiting state moved to a timer —, ``localStorage.setItem`` of the pending choice,
``fetch`` of the record) and stamps ``performance.now()`` around them; the resource timing gives the
request's start.
Then, on one warm page, the same ``fetch`` call alone, timed in interleaved rounds, for comparison.
Chromium's timer is coarsened to 0.1 ms here (no cross-origin isolation). ``--baseline REF`` loads
consentgate as of git REF too (its own server and banner), interleaved load by load with this checkout.

Run: .venv/bin/python benchmarks/banner_click.py [--runs 15] [--baseline main]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from banner import RECORD, RECORD_ROUTE, TAG, Ours, checkout, consentgate_banner, page, start_consentgate
from playwright.sync_api import Browser
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
  const q = Element.prototype.querySelectorAll;
  Element.prototype.querySelectorAll = function (sel) {
    if (sel == 'button' && this.id == 'consentgate-banner' && T.disable === undefined) T.disable = now();
    return q.call(this, sel);
  };
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
    "click to the banner's handler (its buttons)",
    "click to the fetch() call (choices built)",
    "the fetch() call itself",
    "click to localStorage.setItem (the pending copy)",
    "localStorage.setItem itself",
    "click to the request's start (resource timing)",
)


def cold_load(browser: Browser, url: str, ours: Ours) -> tuple[float, ...]:
    """One cold load: the click's parts (ms), as PARTS names them."""
    context = browser.new_context()
    try:
        context.add_init_script(STAMPS)
        tab = context.new_page()
        tab.goto(url)
        tab.wait_for_selector(ours.banner.selector)
        tab.click(ours.banner.accept)
        tab.wait_for_function("() => window.__tag !== undefined")
        t = tab.evaluate("window.__T")
        start = tab.evaluate(RECORD % json.dumps(RECORD_ROUTE))[0]
        click = t["click"]  # since the click: the banner may store its copy before or after the fetch
        return (
            t["disable"] - click,
            t["fetch"] - click,
            t["fetched"] - t["fetch"],
            t["store"] - click,
            t["stored"] - t["store"],
            start - click,
        )
    finally:
        context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="cold loads (a first one is dropped)")
    parser.add_argument("--baseline", metavar="REF", help="also load consentgate as of git REF, interleaved")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "tag.js").write_text(TAG, encoding="utf-8")
        site, httpd = serve_static(root)
        targets = [Ours(consentgate_banner("consentgate"), root / "cg")]
        if args.baseline:
            src = checkout(args.baseline, root / "rev")
            name = f"consentgate @ {args.baseline}"
            targets.append(Ours(consentgate_banner(name), root / "cg-rev", src=src))
        rows: dict[str, list[tuple[float, ...]]] = {o.banner.name: [] for o in targets}
        warm: list[float] = []
        try:
            for n, o in enumerate(targets):
                start_consentgate(o, site, trace=False)
                (root / f"page{n}.html").write_text(page(o.banner), encoding="utf-8")
            with launched() as browser:
                for run in range(args.runs + 1):
                    for n, o in enumerate(targets):
                        parts = cold_load(browser, f"{site}/page{n}.html", o)
                        if run:  # the first round warms up
                            rows[o.banner.name].append(parts)
                context = browser.new_context()
                tab = context.new_page()
                tab.goto(f"{site}/page0.html")
                tab.wait_for_function("() => window.consentgate && window.consentgate.state().ready")
                warm = tab.evaluate(WARM, [targets[0].api + RECORD_ROUTE, args.runs * 2])
                context.close()
        finally:
            for o in targets:
                if o.server is not None:
                    o.server.stop(10)
            httpd.shutdown()
    for name, got in rows.items():
        print(f"\n{name}, Accept all, {args.runs} cold loads (ms): median, min, max")
        for part, col in zip(PARTS, zip(*got, strict=True), strict=True):
            print(f"  {part:50} {statistics.median(col):6.2f} {min(col):6.2f} {max(col):6.2f}")
    print(
        f"  the same fetch() call on a warm page ({len(warm)} calls): median {statistics.median(warm):.2f}, "
        f"min {min(warm):.2f}, max {max(warm):.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
