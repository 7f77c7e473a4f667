"""Security headers: nosniff on every response, the full set on HTML, and /docs' CSP admits only itself."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from consentgate.server import create_app
from consentgate.server.headers import HTML_HEADERS, inline_script_hashes
from consentgate.service import ConsentService
from consentgate.settings import Settings

from .conftest import MAX_BODY, bearer

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("method", "url", "content"),
    [
        ("GET", "/healthz", None),
        ("GET", "/openapi.json", None),
        ("GET", "/v1/subjects/u/state", None),  # 401
        ("GET", "/nowhere", None),  # 404
        ("DELETE", "/v1/consents", None),  # 405
        ("POST", "/v1/consents", b"{"),  # 400, from the body guard
        ("POST", "/v1/consents", b" " * (MAX_BODY + 1)),  # 413
    ],
)
async def test_every_response_says_nosniff(
    client: httpx.AsyncClient, method: str, url: str, content: bytes | None
) -> None:
    response = await client.request(method, url, content=content)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in response.headers  # JSON needs none of the HTML set
    assert response.headers["X-Request-Id"]


async def test_html_pages_get_the_full_set(app: FastAPI) -> None:
    async def page() -> HTMLResponse:
        return HTMLResponse("<p>hello</p>")

    async def framed() -> HTMLResponse:
        return HTMLResponse(
            "<p>embeddable</p>", headers={"Content-Security-Policy": "frame-ancestors https:"}
        )

    app.add_api_route("/page", page, include_in_schema=False)
    app.add_api_route("/framed", framed, include_in_schema=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        response = await c.get("/page")
        for name, value in HTML_HEADERS.items():
            assert response.headers[name] == value
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "default-src 'self'" in csp
        assert "'unsafe-inline'" not in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "camera=()" in response.headers["Permissions-Policy"]
        # A page that sets its own policy keeps it; the rest still come.
        own = await c.get("/framed")
        assert own.headers["Content-Security-Policy"] == "frame-ancestors https:"
        assert own.headers["Referrer-Policy"] == "no-referrer"


async def test_docs_csp_admits_exactly_the_cdn_and_the_inline_script(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = {d.split()[0]: d.split()[1:] for d in response.headers["Content-Security-Policy"].split("; ") if d}
    page = response.content
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["https://cdn.jsdelivr.net", *inline_script_hashes(page)]
    assert len(inline_script_hashes(page)) == 1
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    # Everything the page loads from elsewhere is on the CDN the policy names; nothing else.
    external = re.findall(rb'(?:src|href)="(https?://[^"]+)"', page)
    assert external
    assert all(url.startswith(b"https://cdn.jsdelivr.net/") for url in external), external
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_redoc_and_the_oauth2_page_are_not_served(client: httpx.AsyncClient) -> None:
    assert (await client.get("/redoc")).status_code == 404
    assert (await client.get("/docs/oauth2-redirect")).status_code == 404


async def test_docs_can_be_turned_off(
    settings: Settings, service: ConsentService, keys: dict[str, str]
) -> None:
    app = create_app(settings.model_copy(update={"api_docs": False}), service=service)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        assert (await c.get("/docs")).status_code == 404
        assert (await c.get("/openapi.json")).status_code == 200
        assert (await c.get("/v1/subjects/u/state", headers=bearer(keys["admin"]))).status_code == 200


def test_inline_script_hashes_are_csp_sha256_sources() -> None:
    # echo -n "alert(1)" | openssl dgst -sha256 -binary | base64
    assert inline_script_hashes(b"<script>alert(1)</script><script src=x></script>") == [
        "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
    ]


def test_docs_api_md_shows_the_policy_that_is_sent() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    assert f"`{HTML_HEADERS['Content-Security-Policy']}`" in docs
    for name in HTML_HEADERS:
        assert f"`{name}`" in docs
