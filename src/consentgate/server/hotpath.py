"""The requests every page view and every per-message check makes, without FastAPI's per-request
dependency solving: ``GET /v1/decisions``, ``GET /healthz``, ``GET /v1/banner/config``, the batch
of decisions a pipeline asks, ``POST /v1/decisions/batch``, and a banner's record of a choice,
``POST /v1/consents/browser``.

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

A batch (issue 20: 50,000 decisions/s) is validated here field by field, one validator call per field
for the whole batch instead of a model per query, with the validators of the route's own body model;
its JSON is the one the body guard already parsed (server/bodyguard.py). Any body that is not a plain
batch (a key the model does not know, a missing field, a value a validator refuses, more queries than
``max_batch``) goes to the route, which answers or refuses it as before.

A browser's record, ``POST /v1/consents/browser`` (issue 17: "Accept all" waits for its answer before
any gated tag runs), is answered here with the route's own functions (``routers/consents.py``): its
``Origin`` check, the chain check, the route's body validator, the key and token check, the write
check for the subject, then the event budget and the durable commit. Until the budget is spent nothing
has happened, and anything unusual — a query string, a body the validator refuses, an unlisted or
missing origin, a broken chain, a refused caller — goes to the route, which answers it as
before. From the budget on, the request is answered here, errors too: by the app's own exception
handler for the error (a 429, an event intake refuses, a storage failure), as the route's would be,
so nothing is charged or stored twice. Measured in-process (docs/benchmarks.md, "Accept all: the
record's CPU"), FastAPI's routing, dependency solving and response validation were about a fifth of
the record's CPU.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, cast, get_args, get_origin

from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.datastructures import Headers, QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from consentgate.auth.apikeys import Scope as KeyScope
from consentgate.auth.tokens import TOKEN_HEADER
from consentgate.errors import ConsentgateError
from consentgate.server.auth import Caller, authorize
from consentgate.server.bodyguard import PARSED_BODY
from consentgate.server.checks import check_queries
from consentgate.server.cors import require_browser_origin
from consentgate.server.deps import ServerState
from consentgate.server.geo import client_country
from consentgate.server.readcache import Asked
from consentgate.server.routers import consents, decisions, health, web
from consentgate.server.schemas.consents import BrowserSubmission
from consentgate.server.submissions import Plan

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


_ASKED = ("subject", "purpose", "at", "region")  # a query's fields, in the order of readcache.Asked


class _BatchBody:
    """The body of a batch route: a model with one field, a list of query models. Each query field
    keeps its own validator, applied to that field's values of the whole batch at once."""

    def __init__(self, route: APIRoute) -> None:
        self.route = route
        (param,) = route.dependant.body_params
        outer = param.field_info.annotation
        if route.dependant.query_params or not isinstance(outer, type) or not issubclass(outer, BaseModel):
            raise TypeError(f"{route.path}: expected one body model and no query parameters")
        ((self.name, listed),) = outer.model_fields.items()
        inner = get_args(listed.annotation)[0] if get_origin(listed.annotation) is list else None
        if not isinstance(inner, type) or not issubclass(inner, BaseModel):
            raise TypeError(f"{route.path}: expected a body of one list of query models")
        if tuple(inner.model_fields) != _ASKED:
            raise TypeError(f"{route.path}: a query has the fields {_ASKED}, in this order")
        self.fields: dict[str, tuple[TypeAdapter[list[Any]], Any]] = {}
        self.required: set[str] = set()
        for name, info in inner.model_fields.items():
            if info.alias not in (None, name) or info.validation_alias not in (None, name):
                raise TypeError(f"{route.path}: field {name} has an alias, which this check does not read")
            annotation: Any = info.annotation
            if info.metadata:
                annotation = Annotated[(annotation, *info.metadata)]
            self.fields[name] = (TypeAdapter(list[annotation]), info.get_default())
            if info.is_required():
                self.required.add(name)
        self.names = frozenset(self.fields)

    def queries(self, body: Any) -> list[Asked] | None:
        """The queries as ``(subject, purpose, at, region)``, or None for anything but a plain batch."""
        if not isinstance(body, dict) or len(body) != 1:
            return None
        items = body.get(self.name)
        if not isinstance(items, list) or not items or not all(type(item) is dict for item in items):
            return None
        # The keys of each distinct shape once: a batch's queries come in a few shapes.
        for keys in set(map(frozenset, items)):
            if not self.required <= keys <= self.names:
                return None
        columns: list[list[Any]] = []
        try:
            for name, (adapter, default) in self.fields.items():
                values = [item.get(name, default) for item in items]
                if name == "subject":  # the subjects are distinct: all validated at once, kept as given
                    columns.append(adapter.validate_python(values))
                    continue
                # A batch names a few distinct purposes, instants and regions: each validated once.
                distinct = list(dict.fromkeys(values))
                valid = dict(zip(distinct, adapter.validate_python(distinct), strict=True))
                columns.append(
                    [valid[v] for v in values] if len(valid) > 1 else [valid[values[0]]] * len(values)
                )
        except (ValidationError, TypeError):  # TypeError: a value that cannot be a key (a list)
            return None
        return list(zip(*columns, strict=True))


def _route(router_routes: list[Any], path: str, method: str = "GET") -> APIRoute:
    for route in router_routes:
        if isinstance(route, APIRoute) and route.path == path and method in (route.methods or ()):
            return route
    raise LookupError(f"no {method} route {path}")


def _reader(state: ServerState, headers: Headers) -> Caller | None:
    """The caller of a read or admin API key already in the key cache, sent alone; else None."""
    if TOKEN_HEADER.lower() in headers:
        return None
    kind, _, key = headers.get("authorization", "").strip().partition(" ")
    if kind.lower() != "bearer" or not key.strip():
        return None
    hit, scope = state.keys.cached(key.strip())
    if not hit or scope not in _READERS:
        return None
    return Caller(scope, None)


async def _decision(state: ServerState, app: Any, headers: Headers, params: Params) -> Response | None:
    caller = _reader(state, headers)
    if caller is None:
        return None
    subject, purpose, region = params["subject"], params["purpose"], params.get("region")
    try:
        authorize(caller, [("subject", subject)], write=False, keyring=state.tokens)
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


async def _batch(state: ServerState, headers: Headers, asked: list[Asked]) -> Response | None:
    caller = _reader(state, headers)
    if caller is None:
        return None
    try:
        decisions.check_batch(state, caller, asked)
    except ConsentgateError:
        return None
    return await decisions.batch_answer(state, asked)


_BATCH_PATH = "/v1/decisions/batch"
_RECORD_PATH = "/v1/consents/browser"


class _RecordRoute:
    """The browser record's route: its body's validator and its answer's serializer, as FastAPI
    applies them (``ModelField.validate``, then ``serialize_json`` of the returned receipt)."""

    def __init__(self, route: APIRoute) -> None:
        (self.body,) = route.dependant.body_params
        if route.response_field is None or route.status_code is None:
            raise TypeError(f"{route.path}: expected a response model and a status code")
        self.route = route
        self.receipt = route.response_field
        self.status = route.status_code

    async def prepared(
        self, request: Request, state: ServerState, value: Any
    ) -> tuple[BrowserSubmission, Plan] | None:
        """The validated body and its planned events, every check before a side effect passed; None
        (nothing spent, nothing stored) when the route should answer."""
        if not isinstance(value, dict):
            return None
        try:
            await require_browser_origin(request)
            await state.chain.require_intact()
            body, errors = self.body.validate(value, {}, loc=("body",))
            if errors:
                return None
            caller = await consents.browser_caller(request, body)
            country = await client_country(request)
            return body, consents.prepare_one(body.submission, caller, state.tokens, country)
        except Exception:  # the route runs it again; its error handlers give the answer
            return None

    async def answer(
        self, request: Request, state: ServerState, body: BrowserSubmission, planned: Plan
    ) -> Response:
        try:
            receipt = await consents.store_one(request, planned, state.service, body.key)
        except Exception as exc:
            return await _handled(request, exc)
        return Response(
            self.receipt.serialize_json(receipt), status_code=self.status, media_type="application/json"
        )


async def _handled(request: Request, exc: Exception) -> Response:
    """The app's answer to ``exc``, from the handler its exception middleware would pick (the nearest
    class in ``exc``'s MRO). Without one short of ``Exception``, ``exc`` goes on up, as from a route,
    to the outermost middleware's catch-all (which also logs it)."""
    handlers = request.app.exception_handlers
    for kind in type(exc).__mro__:
        if kind is Exception:
            break
        handler = handlers.get(kind)
        if handler is not None:
            answer = handler(request, exc)
            return cast(Response, await answer if inspect.isawaitable(answer) else answer)
    raise exc


class HotPath:
    """ASGI middleware: answers the plain requests above itself, hands everything else on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.routes = {
            "/v1/decisions": _Route(_route(decisions.router.routes, "/v1/decisions"), _decision),
            "/healthz": _Route(_route(health.router.routes, "/healthz"), _health),
            "/v1/banner/config": _Route(_route(web.router.routes, "/v1/banner/config"), _banner),
        }
        self.batch = _BatchBody(_route(decisions.router.routes, _BATCH_PATH, "POST"))
        self.record = _RecordRoute(_route(consents.router.routes, _RECORD_PATH, "POST"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == _BATCH_PATH:
            if await self._batch(scope, receive, send):
                return
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == _RECORD_PATH:
            if await self._record(scope, receive, send):
                return
            await self.app(scope, receive, send)
            return
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

    async def _batch(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer a plain batch here; False when the route should see the request."""
        if scope["query_string"] or PARSED_BODY not in scope:
            return False
        asked = self.batch.queries(scope[PARSED_BODY])
        if asked is None:
            return False
        app = scope["app"]
        try:
            response = await _batch(app.state.consentgate, Headers(scope=scope), asked)
        except Exception:  # the route runs it again; its error handlers give the answer
            response = None
        if response is None:
            return False
        scope["route"] = self.batch.route
        await response(scope, receive, send)
        return True

    async def _record(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer a plain browser record here; False when the route should see the request."""
        if scope["query_string"] or PARSED_BODY not in scope:
            return False
        request = Request(scope, receive)
        state: ServerState = scope["app"].state.consentgate
        prepared = await self.record.prepared(request, state, scope[PARSED_BODY])
        if prepared is None:
            return False
        scope["route"] = self.record.route
        response = await self.record.answer(request, state, *prepared)
        await response(scope, receive, send)
        return True
