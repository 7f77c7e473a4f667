"""Security headers: ``nosniff`` on every response, and a strict set on every HTML page.

HTML pages (the privacy center, /docs) get a Content-Security-Policy that allows only this origin,
no framing (``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``), no referrer and no powerful
browser features. A route that needs a different policy sets the header itself and keeps it: these
are defaults, not overrides (/docs does so, below).

/docs is FastAPI's Swagger UI, which loads its script and stylesheet from cdn.jsdelivr.net and starts
with one inline script. Its CSP allows exactly that CDN and that script (by its sha256), nothing else;
``Settings.api_docs = false`` removes the page. ReDoc and the OAuth2 redirect page are not served.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTML_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": (
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
        "payment=(), usb=()"
    ),
    "Cross-Origin-Opener-Policy": "same-origin",
}
DOCS_CDN = "https://cdn.jsdelivr.net"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = message.setdefault("headers", [])
                names = {name.lower(): value for name, value in raw}
                if b"x-content-type-options" not in names:
                    message["headers"] = [*raw, (b"x-content-type-options", b"nosniff")]
                if names.get(b"content-type", b"").lower().startswith(b"text/html"):
                    headers = MutableHeaders(scope=message)
                    for name, value in HTML_HEADERS.items():
                        headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def inline_script_hashes(html: bytes) -> list[str]:
    """CSP sources (``'sha256-…'``) for each inline ``<script>`` of a page."""
    return [
        f"'sha256-{base64.b64encode(hashlib.sha256(body).digest()).decode()}'"
        for body in re.findall(rb"<script>(.*?)</script>", html, flags=re.DOTALL)
    ]


def install_docs(app: FastAPI, *, path: str = "/docs") -> None:
    """Swagger UI at ``path`` with a CSP that admits exactly what the page loads."""
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} — API reference",
        # A data: URL instead of FastAPI's favicon on fastapi.tiangolo.com: one third party is enough.
        swagger_favicon_url="data:,",
    )
    body = bytes(page.body)
    csp = (
        f"default-src 'none'; script-src {DOCS_CDN} {' '.join(inline_script_hashes(body))}; "
        # Swagger UI sets style attributes on its elements.
        f"style-src {DOCS_CDN} 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )

    async def docs() -> HTMLResponse:
        return HTMLResponse(body, headers={"Content-Security-Policy": csp})

    app.add_api_route(path, docs, methods=["GET"], include_in_schema=False)
