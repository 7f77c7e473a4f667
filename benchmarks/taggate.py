"""The server-side tag gate's cost per page: rewriting against parsing alone (html.parser, same run).

The gate (consentgate.web.taggate) uses Python's html.parser to find start tags and copies every
other byte; the baseline is that parser reading the same page and doing nothing, so the difference is
what locating, checking and rewriting tags adds. The page is synthetic: a shop listing of product
cards (links, first-party images, text with entities) with two tracker tags to rewrite.

    .venv/bin/python benchmarks/taggate.py --cards 6000
"""

from __future__ import annotations

import argparse
from html.parser import HTMLParser

from common import median, timed

from consentgate.web.taggate import HtmlGate, TrackerHosts

HOSTS = TrackerHosts({"stats.example.net": ("product_analytics",), "ads.example.net": ("marketing",)})
CARD = (
    '<div class="card"><a href="/p/1">Product</a><img src="/img/1.png" alt="x">'
    "<p>Some text &amp; more text here, with <b>bold</b> words.</p></div>\n"
)


def page(cards: int) -> bytes:
    head = "<!doctype html><html><head><script src='https://stats.example.net/t.js'></script></head><body>"
    return (head + CARD * cards + "<img src='https://ads.example.net/p.gif'></body></html>").encode()


def gate(doc: bytes, chunk: int) -> bytes:
    g = HtmlGate(HOSTS)
    return b"".join(g.feed(doc[i : i + chunk]) for i in range(0, len(doc), chunk)) + g.close()


def parse_only(doc: bytes) -> None:
    p = HTMLParser(convert_charrefs=False)
    p.feed(doc.decode("latin-1"))
    p.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cards", type=int, default=6000, help="product cards on the page (6000 ≈ 0.86 MB)")
    ap.add_argument("--chunk", type=int, default=16384, help="bytes per chunk fed, as a server streams")
    args = ap.parse_args()
    doc = page(args.cards)
    assert gate(doc, args.chunk).count(b'type="text/plain"') == 1
    base = median(timed(lambda: parse_only(doc), repeat=7))
    ours = median(timed(lambda: gate(doc, args.chunk), repeat=7))
    mb = len(doc) / 1e6
    print(f"page: {mb:.2f} MB, fed in {args.chunk}-byte chunks")
    print(f"html.parser alone: {base * 1000:.0f} ms ({mb / base:.1f} MB/s)")
    print(f"tag gate:          {ours * 1000:.0f} ms ({mb / ours:.1f} MB/s), {ours / base:.2f}x the parser")


if __name__ == "__main__":
    main()
