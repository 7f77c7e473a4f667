"""The three reads every page view and every per-message check makes, without FastAPI's per-request
dependency solving: ``GET /v1/decisions``, ``GET /healthz`` and ``GET /v1/banner/config``.

Profiled under load (docs/benchmarks.md, "Reads at line rate"), FastAPI 0.165 spends more time per
request resolving the dependency tree (query parameters, the app-wide unknown-parameter guard, the
credential dependencies, each re-inspected on every call) than these endpoints spend answering. This
layer sits inside every middleware (access log, security headers, CORS, rate limit, body guard), so
those still apply, and answers only the *plain* request: parameters the route takes, each once,
valid by the route's own validators (taken from the route, not restated), and for decisions an API
key of read or admin scope already in the key cache and no subject token. Anything else — an unknown
or repeated parameter, a value the route would refuse, no key, an unknown or uncached key, a subject
token, an unknown purpose or region — goes on to the route unchanged, which answers it (or refuses it)
exactly as before; so does a request whose answer fails here (a database that is locked, say): the
route then fails the same way and the app's error handlers answer in the common error shape. The
answers themselves are the routes' own functions, so both ways give the same bytes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import Headers, QueryParams
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from consentgate.auth.apikeys import Scope as KeyScope
from consentgate.auth.tokens import TOKEN_HEADER
from consentgate.errors import ConsentgateError
from consentgate.server.auth import Caller, authorize
from consentgate.server.checks import check_queries
from consentgate.server.deps import ServerState
from consentgate.server.routers import decisions, health, web

Params = dict[str, Any]
Handler = Callable[[ServerState, Any, Headers, Params], Awaitable[Response | None]]
_READERS = (KeyScope.READ, KeyScope.ADMIN)


class _Route:
    """A route's query parameters with their validators, built once from the route itself."""

    def __init__(self, route: APIRoute, handler: Handler) -> None:
        self.route = route
        self.handler = handler
        self.adapters: dict[str, TypeAdapter[Any]] = {}
        self.required: set[str] = set()
        for field in route.dependant.query_params:
            info = field.field_info
            annotation: Any = info.annotation
            if info.metadata:
                annotation = Annotated[(annotation, *info.metadata)]
            self.adapters[field.alias] = TypeAdapter(annotation)
            if info.is_required():
                self.required.add(field.alias)

    def params(self, query_string: bytes) -> Params | None:
        """The validated parameters, or None when the route should see the request itself."""
        if not query_string:
            return {} if not self.required else None
        items = QueryParams(query_string).multi_items()  # as Request.query_params parses it
        out: Params = {}
        for name, value in items:
            adapter = self.adapters.get(name)
            if adapter is None or name in out or value == "":
                return None
            try:
                out[name] = adapter.validate_python(value)
            except ValidationError:
                return None
        return out if self.required <= out.keys() else None


def _route(router_routes: list[Any], path: str) -> APIRoute:
    for route in router_routes:
        if isinstance(route, APIRoute) and route.path == path and "GET" in (route.methods or ()):
            return route
    raise LookupError(f"no GET route {path}")


async def _decision(state: ServerState, app: Any, headers: Headers, params: Params) -> Response | None:
    if TOKEN_HEADER.lower() in headers:
        return None
    kind, _, key = headers.get("authorization", "").strip().partition(" ")
    if kind.lower() != "bearer" or not key.strip():
        return None
    hit, scope = state.keys.cached(key.strip())
    if not hit or scope not in _READERS:
        return None
    subject, purpose, region = params["subject"], params["purpose"], params.get("region")
    try:
        authorize(Caller(scope, None), [("subject", subject)], write=False, keyring=state.tokens)
        check_queries(state.service.policy, [("", purpose, region)])
    except ConsentgateError:
        return None
    return await decisions.decision_answer(state, subject, purpose, params.get("at"), region)


async def _health(state: ServerState, app: Any, headers: Headers, params: Params) -> Response | None:
    return await health.health_answer(state)


async def _banner(state: ServerState, app: Any, headers: Headers, params: Params) -> Response | None:
    resolver = getattr(app.state, "country", None)
    country = None
    if resolver is not None and resolver.enabled:
        if resolver.by_address:  # the client address: let the route (and its dependency) do it
            return None
        country = resolver.country(headers, None)
    return web.banner_answer(app, headers, country, params.get("locale"), params.get("region"))


class HotPath:
    """ASGI middleware: answers the plain requests above itself, hands everything else on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.routes = {
            "/v1/decisions": _Route(_route(decisions.router.routes, "/v1/decisions"), _decision),
            "/healthz": _Route(_route(health.router.routes, "/healthz"), _health),
            "/v1/banner/config": _Route(_route(web.router.routes, "/v1/banner/config"), _banner),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hot = self.routes.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "GET" else None
        if hot is not None:
            params = hot.params(scope["query_string"])
            if params is not None:
                app = scope["app"]
                try:
                    response = await hot.handler(app.state.consentgate, app, Headers(scope=scope), params)
                except Exception:  # the route runs it again; its error handlers give the answer
                    response = None
                if response is not None:
                    scope["route"] = hot.route  # the access log names the route template
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)
