"""The tag gate's rewriting, its middlewares' HTTP handling and ``gate-html``, without a browser.

tests/web/test_taggate_browser.py shows in Chromium that the inert form is what banner.js activates.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from consentgate.cli import app as cli
from consentgate.policy import load_policy
from consentgate.web.middleware import TagGateASGI, TagGateWSGI
from consentgate.web.taggate import HtmlGate, TrackerHosts, gate_html
from tests.conftest import EXAMPLE_POLICY

HOSTS = TrackerHosts({"stats.example.net": ("product_analytics",), "ads.example.net": ("marketing", "m2")})


def gated(html: str) -> str:
    out, _ = gate_html(html.encode(), HOSTS)
    return out.decode()


# -- which tags, which URLs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://stats.example.net/t.js",
        "HTTPS://STATS.EXAMPLE.NET/t.js",
        "//stats.example.net/t.js",
        "http://cdn.eu.stats.example.net:8443/t.js",
        " https://stats.example.net./t.js ",
        "https://stats.exa&#10;mple.net/t.js",  # browsers drop newlines inside URLs
        "https://%73tats.example.net/t.js",  # and percent-decode hosts
        "https:\\\\stats.example.net\\t.js",
        "https://user@stats.example.net/t.js",
        "https:/stats.example.net/t.js",  # a host on an http page
        "https://stats\u3002example\uff0enet/t.js",  # IDNA maps full-width dots to dots
    ],
)
def test_script_from_a_tracker_host_becomes_inert(url: str) -> None:
    out = gated(f'<script src="{url}" async></script>')
    assert out.startswith('<script type="text/plain" data-consent="product_analytics" data-src=')
    assert " src=" not in out
    assert " async>" in out


@pytest.mark.parametrize(
    "url",
    [
        "https://notstats.example.net/t.js",
        "https://stats.example.net.evil.example/t.js",
        "/t.js",
        "t.js",
        "https://www.example.com/stats.example.net/t.js",
        "data:text/javascript,1",
    ],
)
def test_other_urls_pass_untouched(url: str) -> None:
    html = f'<script src="{url}"></script><img src="{url}">'
    assert gated(html) == html


def test_module_scripts_keep_their_type_for_later() -> None:
    out = gated('<script type="module" src="https://ads.example.net/m.js"></script>')
    assert out == (
        '<script type="text/plain" data-consent="marketing m2" data-type="module" '
        'data-src="https://ads.example.net/m.js"></script>'
    )


def test_scripts_the_browser_does_not_fetch_are_left_alone() -> None:
    for kind in ("text/plain", "application/ld+json", "text/template"):
        html = f'<script type="{kind}" src="https://ads.example.net/x"></script>'
        assert gated(html) == html


def test_iframe_img_srcset_and_source() -> None:
    out = gated(
        '<iframe src="https://ads.example.net/f" width="3"></iframe>'
        '<img src="/a.png" srcset="/a.png 1x, https://stats.example.net/b.png 2x" '
        'alt="x &amp; &quot;y&quot;">'
        '<picture><source srcset="https://ads.example.net/c.webp"></picture>'
    )
    assert '<iframe data-consent="marketing m2" data-src="https://ads.example.net/f" width="3">' in out
    assert (
        '<img data-consent="product_analytics" data-src="/a.png" '
        'data-srcset="/a.png 1x, https://stats.example.net/b.png 2x" alt="x &amp; &quot;y&quot;">'
    ) in out
    assert '<source data-consent="marketing m2" data-srcset="https://ads.example.net/c.webp">' in out


def test_preload_hints_are_neutralised_and_other_loads_reported() -> None:
    out, findings = gate_html(
        b'<link rel="preload" as="script" href="//ads.example.net/a.js">'
        b'<link rel="dns-prefetch preconnect" href="https://stats.example.net">'
        b'<link rel="stylesheet" href="https://ads.example.net/s.css">'
        b'<video src="https://stats.example.net/v.mp4"></video>',
        HOSTS,
    )
    text = out.decode()
    assert (
        '<link data-consent="marketing m2" rel="preload" as="script" data-href="//ads.example.net/a.js">'
        in text
    )
    assert 'data-href="https://stats.example.net"' in text
    assert '<link rel="stylesheet" href="https://ads.example.net/s.css">' in text
    left = [(f.tag, f.url) for f in findings if f.action == "left"]
    assert left == [("link", "https://ads.example.net/s.css"), ("video", "https://stats.example.net/v.mp4")]


def test_first_src_wins_like_the_browser() -> None:
    out = gated('<img src="https://ads.example.net/p.gif" src="/safe.gif" data-src="/old">')
    assert out == '<img data-consent="marketing m2" data-src="https://ads.example.net/p.gif">'


def test_every_other_byte_passes_unchanged() -> None:
    head = (
        b'<!DOCTYPE html>\r\n<html><head><meta charset="windows-1252"><title>caf\xe9 &amp; cr\xeape</title>'
    )
    tail = b"</head><body><!-- <script src=https://ads.example.net/in-comment.js> --><p>x</p></body></html>"
    out, _ = gate_html(head + b'<SCRIPT SRC="https://ads.example.net/a.js"></SCRIPT>' + tail, HOSTS)
    assert out.startswith(head)
    assert out.endswith(b"</SCRIPT>" + tail)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "<p class=a>text</p>",
                "<script>if (a < b) document.write('<img src=x>')</script>",
                '<script src="https://ads.example.net/a.js"></script>',
                "<img srcset='https://stats.example.net/x.png 2x'>",
                "<!-- comment <b> -->",
                "caf\u00e9 \u2603 &amp; &nbsp;",
                "<br/>",
                "\n\r\n",
                "<style>a{b:c}</style>",
                '<iframe src="https://www.example.com/"></iframe>',
            ]
        ),
        max_size=12,
    ),
    st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=10),
)
def test_streaming_in_any_chunks_gives_the_same_bytes(parts: list[str], sizes: list[int]) -> None:
    doc = "".join(parts).encode()
    whole, _ = gate_html(doc, HOSTS)
    gate, out, at, i = HtmlGate(HOSTS), [], 0, 0
    while at < len(doc):
        n = sizes[i % len(sizes)]
        out.append(gate.feed(doc[at : at + n]))
        at, i = at + n, i + 1
    out.append(gate.close())
    assert b"".join(out) == whole
    if "ads.example.net" not in doc.decode() and "stats.example.net" not in doc.decode():
        assert whole == doc


def test_hosts_follow_the_banner_rule_category_is_kind() -> None:
    data: dict[str, Any] = load_policy(EXAMPLE_POLICY).model_dump(mode="json")
    data["web"]["trackers"] = [
        {"host": "stats.example.net", "category": "analytics"},
        {"host": "Ads.Example.NET", "category": "marketing"},
    ]
    from consentgate.policy.models import Policy

    hosts = TrackerHosts.from_policy(Policy.model_validate(data))
    assert hosts.purposes_for("https://a.stats.example.net/x") == ("product_analytics",)
    assert hosts.purposes_for("https://ads.example.net/x") == ("marketing",)


# -- middlewares ----------------------------------------------------------------------------------------

PAGE = b'<html><head><script src="https://ads.example.net/a.js"></script></head><body>ok</body></html>'


def _asgi(body: bytes, headers: list[tuple[bytes, bytes]], chunks: int = 1) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        step = max(1, len(body) // chunks)
        pieces = [body[i : i + step] for i in range(0, len(body), step)] or [b""]
        for n, piece in enumerate(pieces):
            await send({"type": "http.response.body", "body": piece, "more_body": n < len(pieces) - 1})

    return TagGateASGI(app, hosts=HOSTS)


def _get_asgi(app: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://site.example"
        ) as c:
            return await c.get("/")

    result: list[httpx.Response] = []
    # A thread of its own: the browser tests of this package keep Playwright's loop in the main thread.
    t = threading.Thread(target=lambda: result.append(asyncio.run(go())))
    t.start()
    t.join()
    return result[0]


def test_asgi_rewrites_html_and_drops_content_length() -> None:
    r = _get_asgi(
        _asgi(PAGE, [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", b"95")], 5)
    )
    assert r.status_code == 200
    assert 'data-src="https://ads.example.net/a.js"' in r.text
    assert r.text.endswith("<body>ok</body></html>")
    assert "content-length" not in r.headers or int(r.headers["content-length"]) == len(r.content)


def test_asgi_inflates_gzip() -> None:
    r = _get_asgi(
        _asgi(gzip.compress(PAGE), [(b"content-type", b"text/html"), (b"content-encoding", b"gzip")], 3)
    )
    assert "content-encoding" not in r.headers
    assert 'type="text/plain" data-consent="marketing m2"' in r.text


def test_asgi_leaves_other_content_and_says_so_for_unknown_codings(caplog: pytest.LogCaptureFixture) -> None:
    js = b'document.write("<script src=https://ads.example.net/a.js></script>")'
    r = _get_asgi(_asgi(js, [(b"content-type", b"application/javascript")]))
    assert r.content == js
    with caplog.at_level(logging.WARNING, logger="consentgate.taggate"):
        r = _get_asgi(_asgi(b"BR-BYTES", [(b"content-type", b"text/html"), (b"content-encoding", b"br")]))
    assert r.content == b"BR-BYTES"
    assert "Content-Encoding br" in caplog.text
    assert "load as written" in caplog.text


def test_asgi_logs_tracker_loads_it_cannot_gate(caplog: pytest.LogCaptureFixture) -> None:
    page = b'<link rel="stylesheet" href="https://ads.example.net/s.css">'
    with caplog.at_level(logging.WARNING, logger="consentgate.taggate"):
        _get_asgi(_asgi(page, [(b"content-type", b"text/html")]))
    assert "https://ads.example.net/s.css before consent" in caplog.text


def test_utf16_html_passes_unchanged_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    page = "\ufeff" + PAGE.decode()
    body = page.encode("utf-16-le")
    with caplog.at_level(logging.WARNING, logger="consentgate.taggate"):
        r = _get_asgi(_asgi(body, [(b"content-type", b"text/html; charset=utf-16")]))
    assert r.content == body
    assert "UTF-16/32" in caplog.text


def _wsgi_call(app: Any) -> tuple[str, list[tuple[str, str]], bytes]:
    got: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        got["status"], got["headers"] = status, headers
        return lambda data: None

    result = app({"PATH_INFO": "/", "REQUEST_METHOD": "GET"}, start_response)
    body = b"".join(result)
    getattr(result, "close", lambda: None)()
    return got["status"], got["headers"], body


def test_wsgi_rewrites_generators_and_closes_the_apps_iterable() -> None:
    closed: list[bool] = []

    class Body:
        def __iter__(self) -> Any:
            return iter([PAGE[:20], PAGE[20:]])

        def close(self) -> None:
            closed.append(True)

    def app(environ: Any, start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(PAGE)))])
        return Body()

    status, headers, body = _wsgi_call(TagGateWSGI(app, hosts=HOSTS))
    assert status == "200 OK"
    assert ("Content-Length", str(len(PAGE))) not in headers
    assert b'data-src="https://ads.example.net/a.js"' in body
    assert closed == [True]


def test_wsgi_returns_non_html_iterables_as_they_are() -> None:
    files = [b"GIF89a"]

    def app(environ: Any, start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "image/gif"), ("Content-Length", "6")])
        return files

    assert TagGateWSGI(app, hosts=HOSTS)({}, lambda *a: None) is files


def test_middleware_needs_a_policy_or_hosts_and_says_when_it_has_nothing_to_gate(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with pytest.raises(TypeError, match="policy"):
        TagGateWSGI(lambda e, s: [])
    with caplog.at_level(logging.WARNING, logger="consentgate.taggate"):
        TagGateWSGI(lambda e, s: [], policy=EXAMPLE_POLICY)  # no web.trackers
    assert "no tracker host to gate" in caplog.text


# -- gate-html -----------------------------------------------------------------------------------------


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    data: dict[str, Any] = load_policy(EXAMPLE_POLICY).model_dump(mode="json")
    data["web"]["trackers"] = [{"host": "ads.example.net", "category": "marketing"}]
    path = tmp_path / "policy.json"
    import json

    path.write_text(json.dumps(data))
    return path


def _run(policy: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--policy", str(policy), "gate-html", *args])


def test_gate_html_copies_the_site_and_gates_html(policy_file: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "blog").mkdir(parents=True)
    (site / "index.html").write_bytes(PAGE)
    (site / "blog" / "post.htm").write_bytes(b'<img src="//ADS.example.net/p.gif">')
    (site / "app.js").write_bytes(b'load("<script src=https://ads.example.net/a.js>")')
    r = _run(policy_file, str(site), "--out", str(tmp_path / "out"))
    assert r.exit_code == 0, r.output
    assert "3 files" in r.output
    assert "2 tracker tags made inert" in r.output
    assert b'data-src="https://ads.example.net/a.js"' in (tmp_path / "out" / "index.html").read_bytes()
    assert (tmp_path / "out" / "blog" / "post.htm").read_bytes().startswith(b'<img data-consent="marketing"')
    assert (tmp_path / "out" / "app.js").read_bytes() == (site / "app.js").read_bytes()


def test_gate_html_exits_3_when_a_tracker_load_is_left(policy_file: Path, tmp_path: Path) -> None:
    page = tmp_path / "in.html"
    page.write_bytes(b'<link rel="stylesheet" href="https://ads.example.net/s.css">')
    r = _run(policy_file, str(page), "--out", str(tmp_path / "out.html"))
    assert r.exit_code == 3
    assert "in.html:1: <link href> loads https://ads.example.net/s.css before consent" in r.output


def test_gate_html_refuses_out_inside_in_and_a_policy_without_trackers(
    policy_file: Path, tmp_path: Path
) -> None:
    (tmp_path / "site").mkdir()
    r = _run(policy_file, str(tmp_path / "site"), "--out", str(tmp_path / "site" / "dist"))
    assert r.exit_code == 1
    assert "must be outside" in r.output
    r = CliRunner().invoke(
        cli,
        ["--policy", str(EXAMPLE_POLICY), "gate-html", str(tmp_path / "site"), "--out", str(tmp_path / "o")],
    )
    assert r.exit_code == 1
    assert "nothing to gate" in r.output
