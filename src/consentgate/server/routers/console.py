"""The operator console: server-rendered pages at ``/console`` for a privacy team (docs/console.md).

=====================================  =================================================================
``GET/POST /console/sign-in``          a form for an admin or audit key; sets the session cookie
``POST /console/sign-out``             ends the session
``GET /console``                       overview: consent rates by region and purpose, over time, by
                                       notice version (charts with their tables), for the period and
                                       interval its form asks for (``from``, ``to``, ``interval``, ``by``)
``GET /console/overview.csv``          one of the overview's tables (``table=``) as CSV, same query
``GET/POST /console/ledger``           head, last verification, event counts; a person's history,
                                       evidence and access report (looked up by POST: the identifier
                                       stays out of addresses and access logs)
``GET /console/requests``              the request queue, overdue first, with the next step
``GET /console/website``               latest scan, violations, unclassified, diffs, declaration
``GET /console/data-map``              sources, levels, purposes, vendors, runs and exports
``GET /console/risk``                  reports/risk.py
``GET /console/audit-pack``            the audit pack (reports/audit.py), downloaded
``GET /console/static/{file}``         the console's CSS, script and Chart.js (public code)
=====================================  =================================================================

Sessions are consentgate.server.sessions'. Pages are Jinja2 templates in ``web/console/templates``
(autoescaped), with no inline script or style, under the same CSP as the privacy center.
"""

from __future__ import annotations

import inspect
import io
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any, cast
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.exceptions import HTTPException

from consentgate.auth.apikeys import active_scope_of, identify_key
from consentgate.errors import BadInput, Incomplete, StorageError, UnknownSubject
from consentgate.server import consoleviews as views
from consentgate.server.deps import ServerState, server_state
from consentgate.server.ratelimit import TokenBuckets, address_bucket
from consentgate.server.routers.web import ASSET_METHODS, _served
from consentgate.server.sessions import (
    CONSOLE_SCOPES,
    COOKIE,
    COOKIE_PATH,
    SESSION_SECONDS,
    SIGN_IN_BURST,
    SIGN_IN_RATE,
    Session,
    Sessions,
)
from consentgate.store.errors import DatabaseError
from consentgate.web import asset
from consentgate.web import console_i18n as i18n

router = APIRouter(prefix="/console", include_in_schema=False)

LANG_COOKIE = "cg_console_lang"
MAX_FORM_BYTES = 4096
STATIC = ("console.css", "console.js", "chart.umd.min.js")
PAGES = (  # path, i18n key of the label
    ("", "nav_overview"),
    ("/ledger", "nav_ledger"),
    ("/requests", "nav_requests"),
    ("/website", "nav_website"),
    ("/data-map", "nav_datamap"),
    ("/risk", "nav_risk"),
)
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    # Not the default no-referrer: under it Chromium sends ``Origin: null`` with a form post, and the
    # POST handlers require this origin. same-origin still tells other sites nothing.
    "Referrer-Policy": "same-origin",
}
OVERVIEW_FIELDS = ("from", "to", "interval", "by")
LangQuery = Annotated[str | None, Query(max_length=35, pattern=i18n.LOCALE_PATTERN)]


@dataclass
class Console:
    """What the console keeps per app: session signing, sign-in buckets, the templates."""

    sessions: Sessions
    sign_ins: TokenBuckets
    templates: Environment


def install_console(app: FastAPI) -> None:
    """Make the console's state (the session secret is read or made once, here) and mount it."""
    state = cast(ServerState, app.state.consentgate)
    app.state.console = Console(
        Sessions.for_database(state.service.ledger.engine),
        TokenBuckets(SIGN_IN_RATE, SIGN_IN_BURST),
        Environment(
            loader=PackageLoader("consentgate.web", "console/templates"),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
        ),
    )
    app.add_exception_handler(SignInNeeded, _to_sign_in)
    for kind in PAGE_ERRORS:
        app.add_exception_handler(kind, _with_error_pages(app.exception_handlers[kind]))
    app.include_router(router)


ErrorHandler = Callable[[Request, Any], Response | Awaitable[Response]]  # as Starlette keeps them
# What fails under /console answers with a page in the reader's language, with the status (and the
# Allow or Retry-After header) the JSON API would give; everywhere else the JSON error shape stays.
# (heading key, message key) by status; the API's error code where one status has several causes.
ERROR_PAGES = {
    404: ("not_found_title", "not_found"),
    405: ("error_title", "method_not_allowed"),
    413: ("error_title", "too_large"),
    500: ("error_title", "server_error"),
}
ERROR_CODES = {"storage_unavailable": ("error_title", "unavailable")}
OTHER_ERROR = ("error_title", "error_other")
KEPT_HEADERS = ("allow", "retry-after")
# Every kind server/errors.py answers (install_error_handlers runs first, server/app.py).
PAGE_ERRORS: tuple[type[Exception], ...] = (
    HTTPException, RequestValidationError, BadInput, StorageError, Incomplete, DatabaseError, Exception
)  # fmt: skip


def _with_error_pages(api: ErrorHandler) -> ErrorHandler:
    async def handle(request: Request, exc: Any) -> Response:
        answer = api(request, exc)
        response = await answer if inspect.isawaitable(answer) else answer
        path = request.url.path
        if path != COOKIE_PATH and not path.startswith(f"{COOKIE_PATH}/"):
            return response
        try:
            return _error_page(request, exc, response)
        except Exception:  # a page that cannot be drawn must not hide the error: the API's answer
            return response

    return handle


def _error_page(request: Request, exc: Exception, answer: Response) -> Response:
    t = i18n.strings(_locale(request, None))
    status = answer.status_code
    if isinstance(exc, RequestValidationError):  # a query parameter out of shape (``lang=…``)
        fields = ", ".join(sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("loc")}))
        heading, message = "error_title", t["bad_parameter"].format(fields=fields)
    else:
        code = json.loads(bytes(answer.body)).get("error", {}).get("code")
        heading, key = ERROR_CODES.get(code) or ERROR_PAGES.get(status, OTHER_ERROR)
        message = t[key].format(status=status)
    response = _page(request, "message.html", lang=None, current="", heading_key=heading,
                     session=None, status=status, message=message)  # fmt: skip
    response.headers.update({k: v for k, v in answer.headers.items() if k in KEPT_HEADERS})
    return response


def _console(request: Request) -> Console:
    return cast(Console, request.app.state.console)


class SignInNeeded(Exception):
    """No valid session: the page answers with a redirect to the sign-in form."""


async def _to_sign_in(request: Request, exc: Exception) -> Response:
    response = RedirectResponse("/console/sign-in", status_code=303)
    if request.cookies.get(COOKIE):  # an expired, ended or revoked session: clear what the browser holds
        response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


async def signed_in(request: Request) -> Session:
    """The request's session, its key checked in the database now (a revoked key ends it)."""
    console = _console(request)
    # In a worker thread: reading the session asks the database whether it was signed out.
    session = await run_in_threadpool(console.sessions.read, request.cookies.get(COOKIE))
    if session is None:
        raise SignInNeeded()
    engine = server_state(request).service.ledger.engine
    scope = await run_in_threadpool(active_scope_of, engine, session.key_id)
    if scope is None or scope not in CONSOLE_SCOPES:
        raise SignInNeeded()
    return session


SignedIn = Annotated[Session, Depends(signed_in)]


# -- rendering ----------------------------------------------------------------------------------------


def _locale(request: Request, lang: str | None) -> str:
    if lang is not None and lang in i18n.available():
        return lang
    return i18n.negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"), "en")


def _page(
    request: Request,
    template: str,
    *,
    lang: str | None,
    current: str,
    heading_key: str,
    session: Session | None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    console = _console(request)
    locale = _locale(request, lang)
    t = i18n.strings(locale)
    body = console.templates.get_template(template).render(
        t=t,
        locale=locale,
        direction=i18n.direction(locale),
        languages=i18n.languages(),
        heading=t[heading_key],
        organization=server_state(request).service.policy.organization.name,
        nav=[(path, t[key]) for path, key in PAGES],
        current=current,
        session=session,
        csrf=console.sessions.csrf_token(session) if session else "",
        signed_in_as=t["signed_in_as"].format(scope=session.scope.value, key_id=session.key_id)
        if session
        else "",
        charts=context.pop("charts", None),
        **context,
    )
    response = HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)
    if lang is not None and lang in i18n.available():
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=365 * 86400,
            path=COOKIE_PATH,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
    return response


async def _form(request: Request) -> dict[str, str]:
    """A small urlencoded form (the console's forms have one or two fields)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(413)
    fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=8)
    return {k: v[0] for k, v in fields.items()}


def _same_origin(request: Request) -> bool:
    """The form was posted by a page of this origin (browsers send Origin on every POST)."""
    host = request.headers.get("host")
    return host is not None and request.headers.get("origin") == f"{request.url.scheme}://{host}"


def _refused(request: Request, session: Session | None) -> HTMLResponse:
    t = i18n.strings(_locale(request, None))
    return _page(
        request,
        "message.html",
        lang=None,
        current="",
        heading_key="refused",
        session=session,
        status=403,
        message=t["csrf_refused"],
    )


async def _checked_post(request: Request, session: Session) -> dict[str, str] | HTMLResponse:
    """The form of a POST from a signed-in page, or the refusal: same origin and the session's
    CSRF token, both required."""
    form = await _form(request)
    if not _same_origin(request) or not _console(request).sessions.csrf_ok(session, form.get("csrf")):
        return _refused(request, session)
    return form


# -- sign-in ------------------------------------------------------------------------------------------


@router.get("/sign-in")
def sign_in_form(request: Request, lang: LangQuery = None) -> Response:
    return _page(request, "sign_in.html", lang=lang, current="/sign-in", heading_key="sign_in",
                 session=None, message=None)  # fmt: skip


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    console = _console(request)
    t = i18n.strings(_locale(request, None))

    def again(message: str, status: int) -> Response:
        return _page(request, "sign_in.html", lang=None, current="/sign-in", heading_key="sign_in",
                     session=None, status=status, message=message)  # fmt: skip

    client = request.client.host if request.client else None
    allowed, _, _ = console.sign_ins.take(address_bucket(client))
    if not allowed:
        return again(t["too_many"], 429)
    form = await _form(request)
    if not _same_origin(request):
        return _refused(request, None)
    key = form.get("key", "").strip()
    engine = server_state(request).service.ledger.engine
    found = await run_in_threadpool(identify_key, engine, key) if key else None
    if found is None or found[1] not in CONSOLE_SCOPES:
        return again(t["bad_key"], 401)
    _, cookie = console.sessions.issue(*found)
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=SESSION_SECONDS,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/sign-out")
async def sign_out(request: Request, session: SignedIn) -> Response:
    form = await _checked_post(request, session)
    if isinstance(form, HTMLResponse):
        return form
    await run_in_threadpool(_console(request).sessions.end, session)
    response = RedirectResponse("/console/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


# -- pages --------------------------------------------------------------------------------------------


def _view_page(path: str, template: str, key: str, view: Callable[[ServerState], dict[str, Any]]) -> None:
    async def page(request: Request, session: SignedIn, lang: LangQuery = None) -> Response:
        data = await run_in_threadpool(view, server_state(request))
        return _page(request, template, lang=lang, current=path, heading_key=key, session=session,
                     view=data, regions=[*server_state(request).service.policy.regions, "*"])  # fmt: skip

    router.add_api_route(path, page, methods=["GET"], name=f"console{path.replace('/', '_')}")


_view_page("/requests", "requests.html", "requests_title", views.requests_view)
_view_page("/data-map", "datamap.html", "nav_datamap", views.datamap_view)
_view_page("/risk", "risk.html", "nav_risk", views.risk_view)


@router.get("")
async def overview(request: Request, session: SignedIn, lang: LangQuery = None) -> Response:
    """Rates for the period the form asks for (``from``, ``to``, ``interval``, ``by`` in the query:
    they hold no secret); a field to fix is named on the page, with no figures beside it."""
    locale = _locale(request, lang)
    t = i18n.strings(locale)
    sent = {k: v for k, v in request.query_params.items() if k in OVERVIEW_FIELDS}
    try:
        query = views.OverviewQuery.parse(sent)
    except views.FormProblem as exc:
        return _page(request, "overview.html", lang=lang, current="", heading_key="nav_overview",
                     session=session, charts=[], form=sent, problem=exc.shown(t), csv_query="",
                     status=400)  # fmt: skip
    state = server_state(request)
    data = await run_in_threadpool(views.overview_view, state, query)
    charts = views.rate_charts(data, t, state.service.policy, locale=locale, split=query.split)
    return _page(request, "overview.html", lang=lang, current="", heading_key="nav_overview",
                 session=session, charts=charts, problem=None, form={**query.shown(), **sent},
                 csv_query=urlencode(query.params()))  # fmt: skip


@router.get("/overview.csv")
async def overview_csv(request: Request, session: SignedIn, table: str = "over_time") -> Response:
    """One of the overview's tables as CSV, for the same query as the page it is linked from."""
    if table not in views.OVERVIEW_TABLES:
        raise HTTPException(404)
    sent = {k: v for k, v in request.query_params.items() if k in OVERVIEW_FIELDS}
    try:
        query = views.OverviewQuery.parse(sent)
    except views.FormProblem as exc:
        text = exc.shown(i18n.strings(_locale(request, None)))
        return Response(f"{text}\n", status_code=400, media_type="text/plain; charset=utf-8",
                        headers=PAGE_HEADERS)  # fmt: skip
    reports = await run_in_threadpool(views.overview_reports, server_state(request), query)
    out = io.StringIO()
    reports[table].write_csv(out)
    name = f"consent-rates-{table.replace('_', '-')}-{query.start.date()}-{query.end.date()}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={**PAGE_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/website")
async def website(request: Request, session: SignedIn, lang: LangQuery = None) -> Response:
    locale = _locale(request, lang)
    data = await run_in_threadpool(lambda: views.website_view(server_state(request), locale=locale))
    return _page(request, "website.html", lang=lang, current="/website", heading_key="nav_website",
                 session=session, view=data)  # fmt: skip


@router.get("/ledger")
async def ledger(request: Request, session: SignedIn, lang: LangQuery = None) -> Response:
    data = await run_in_threadpool(views.ledger_view, server_state(request))
    return _page(request, "ledger.html", lang=lang, current="/ledger", heading_key="nav_ledger",
                 session=session, view=data, subject=None, report=None, lookup_error=None)  # fmt: skip


@router.post("/ledger")
async def ledger_lookup(request: Request, session: SignedIn) -> Response:
    form = await _checked_post(request, session)
    if isinstance(form, HTMLResponse):
        return form
    state = server_state(request)
    subject = form.get("subject", "").strip()
    data = await run_in_threadpool(views.ledger_view, state)
    report, problem = None, None
    locale = _locale(request, None)
    t = i18n.strings(locale)
    try:
        report = (
            await run_in_threadpool(partial(views.subject_view, state, subject, locale=locale))
            if subject
            else None
        )
    except UnknownSubject:
        problem = t["unknown_subject"]
    return _page(request, "ledger.html", lang=None, current="/ledger", heading_key="nav_ledger",
                 session=session, view=data, subject=subject, report=report,
                 lookup_error=problem)  # fmt: skip


@router.get("/audit-pack")
async def audit_pack(request: Request, session: SignedIn) -> Response:
    """The audit pack as a download (a GET: it changes nothing, so no CSRF token is needed)."""
    body = await run_in_threadpool(views.audit_pack, server_state(request))
    return attachment(body)


def attachment(body: str) -> Response:
    """The audit pack as a file to save, dated, never cached (it names the ledger head)."""
    name = f"audit-pack-{datetime.now(UTC).date().isoformat()}.html"
    return Response(
        body,
        media_type="text/html; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@router.api_route("/static/{name}", methods=ASSET_METHODS)
def static(request: Request, name: str) -> Response:
    if name not in STATIC:
        raise HTTPException(404)
    return _served(request, asset("console", name), name)
