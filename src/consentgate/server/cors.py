"""CORS for exactly the sites the policy lists under ``web.origins``, and for no others.

A page on a listed origin may call the API with credentials and read the answer; a preflight from any
other origin is refused with 403 in the common error shape, so the browser never sends the request.
Origins match exactly (scheme, host and port as the browser sends them; a trailing ``/`` in the policy
is ignored): ``https://example.com`` does not admit ``https://www.example.com``.

CORS only decides what a *browser* lets a page read. It is not authorization: a request without a
preflight (a ``text/plain`` beacon, or anything outside a browser) still reaches the API, which decides
with the key and subject token it carries. Every response says ``Vary: Origin`` so a cache never hands
one origin's answer to another.

``POST /v1/consents/browser`` is the one route made to be called *without* a preflight (the banner's
record, one round trip fewer between "Accept all" and the gated tags). No preflight means no browser
check before the request arrives, so :func:`require_browser_origin` makes the check there: the
request must carry an ``Origin`` in ``web.origins`` (or the service's own), else 403 and nothing is
stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consentgate.server.deps import server_state
from consentgate.server.errors import RequestProblems, error_response

ALLOWED_METHODS = ("GET", "POST")
# Headers a page may read from our answers, beyond the CORS-safelisted ones.
EXPOSED_HEADERS = "Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, X-Request-Id"
PREFLIGHT_MAX_AGE = 600
# A comma-separated list of header names (RFC 9110 tokens); anything else is not reflected.
_HEADER_LIST = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:\s*,\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$")


def listed_origins(origins: Iterable[str]) -> frozenset[str]:
    """The policy's ``web.origins`` as browsers send them: no surrounding space, no trailing ``/``."""
    return frozenset(o.strip().rstrip("/") for o in origins if o.strip())


def _not_allowed(origin: str, origins: frozenset[str]) -> str:
    listed = ", ".join(sorted(origins)) or "none"
    return (
        f"cross-origin requests from {origin} are not allowed; add it to web.origins in the policy "
        f"(now: {listed})"
    )


async def require_browser_origin(request: Request) -> None:
    """A FastAPI dependency for routes a browser calls without a preflight: 403 unless the request's
    ``Origin`` is listed in ``web.origins`` or is the service's own.

    Browsers send ``Origin`` with every POST and no page can forge it, so this is the check a preflight
    would have made, made where the request lands. A request without one is not from a browser page;
    such a client sends its key in ``Authorization`` to ``POST /v1/consents`` instead.
    """
    origin = request.headers.get("origin")
    if origin is None:
        message = (
            f"{request.url.path} is for browsers, which send an Origin header; other clients use "
            "POST /v1/consents with 'Authorization: Bearer KEY'"
        )
        raise RequestProblems("origin_not_allowed", message, [("header.Origin", message)], status=403)
    origins = listed_origins(server_state(request).service.policy.web.origins)
    if origin not in origins and origin != f"{request.url.scheme}://{request.url.netloc}":
        message = _not_allowed(origin, origins)
        raise RequestProblems("origin_not_allowed", message, [("header.Origin", message)], status=403)


class Cors:
    def __init__(self, app: ASGIApp, *, origins: Iterable[str]) -> None:
        self.app = app
        self.origins = listed_origins(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin: str | None = None
        for name, value in scope["headers"]:
            if name.lower() == b"origin":
                origin = value.decode("latin-1")  # the last one, as a dict of the headers would keep
        if scope["method"] == "OPTIONS" and origin is not None:
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
            asked_method = headers.get("access-control-request-method")
            if asked_method is not None:
                await self._preflight(origin, asked_method, headers.get("access-control-request-headers"))(
                    scope, receive, send
                )
                return
        allowed = origin is not None and origin in self.origins

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out.add_vary_header("Origin")
                if allowed:
                    assert origin is not None
                    out["Access-Control-Allow-Origin"] = origin
                    out["Access-Control-Allow-Credentials"] = "true"
                    out["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def _preflight(self, origin: str, method: str, asked_headers: str | None) -> ASGIApp:
        vary = {"Vary": "Origin"}
        if origin not in self.origins:
            message = _not_allowed(origin, self.origins)
            return error_response(403, "origin_not_allowed", message, [("header.Origin", message)], vary)
        if method.upper() not in ALLOWED_METHODS:
            message = f"cross-origin {method} requests are not allowed; use {' or '.join(ALLOWED_METHODS)}"
            return error_response(
                403, "origin_not_allowed", message, [("header.Access-Control-Request-Method", message)], vary
            )
        response = Response(
            status_code=204,
            headers={
                **vary,
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Credentials": "true",
                "Access-Control-Allow-Methods": ", ".join(ALLOWED_METHODS),
                "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE),
            },
        )
        # The origin is trusted, so the headers it asks for are allowed (Authorization, Content-Type,
        # and whatever a subject token travels in); malformed lists are not echoed.
        if asked_headers and _HEADER_LIST.match(asked_headers.strip()):
            response.headers["Access-Control-Allow-Headers"] = asked_headers.strip()
        return response
