"""The browser side: ``/banner.js`` and what it loads, the privacy center, translations, the demo site.

=====================================  =================================================================
``GET /banner.js``, ``/banner.css``    the banner (with the policy's Consent Mode defaults and blocked
                                       hosts compiled in) and its styles; also defines
                                       ``<consent-toggle>``
``GET /v1/banner/config``              what one visitor is shown: purposes, basis in their region,
                                       wording in force with its sha256, GPC, interface strings
``GET /i18n/{locale}.json``            interface strings of one locale
``GET /privacy-center`` (+ .js, .css)  a person's choices, history and evidence, with a subject token
``GET /notice`` (+ .css)               the AI-training notice in the visitor's language (docs/notice.md)
``GET /demo/``, ``POST /demo/session``  the demo site, only when ``Settings.demo_key`` is set
=====================================  =================================================================

None of these needs credentials: they serve public policy text and code. Recording still goes
through ``POST /v1/consents`` with its rules (consentgate.server.auth). HTML pages get the strict
Content-Security-Policy of consentgate.server.headers; nothing here needs an inline script.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from typing import Annotated, Any, cast

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException

from consentgate.policy import Policy
from consentgate.server.deps import AppSettings, ServerState, Service, Tokens
from consentgate.server.errors import COMMON_RESPONSES
from consentgate.server.geo import ClientCountry, CountryResolver
from consentgate.server.routers.access import VISITOR_COOKIE, VISITOR_COOKIE_MAX_AGE
from consentgate.server.schemas.common import IsoRegion
from consentgate.settings import Settings
from consentgate.web import asset, i18n, keep_blocks, trim_css, trim_js
from consentgate.web.config import BannerConfig, banner_config, boot_data, next_change

router = APIRouter(tags=["web"])

BOOT_MARKER = b"/*BOOT*/null"
STATIC_MAX_AGE = 300  # /banner.js keeps one URL for ever, so caches may hold it only briefly
DEMO_TOKEN_TTL = 3600
# HEAD as well as GET for every file: link checkers, uptime probes and CDNs ask with HEAD (RFC 9110 §9.3.2).
ASSET_METHODS = ["GET", "HEAD"]
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
}
_CONFIG_RESPONSES: dict[int | str, dict[str, Any]] = {
    k: v for k, v in COMMON_RESPONSES.items() if k in (400, 404, 422, 429, 503)
}


@router.get(
    "/v1/banner/config",
    summary="What the banner shows one visitor",
    responses={
        **_CONFIG_RESPONSES,
        304: {"description": "The configuration the client holds (If-None-Match) is still current."},
    },
    response_model=BannerConfig,
)
async def config(
    request: Request,
    country: ClientCountry,
    locale: Annotated[
        str | None,
        Query(
            max_length=35,
            pattern=i18n.LOCALE_PATTERN,
            description="The visitor's language (BCP 47); defaults to Accept-Language, then the policy's.",
            examples=["de-AT"],
        ),
    ] = None,
    region: Annotated[
        IsoRegion | None,
        Query(
            description="ISO 3166 code of the visitor's country or subdivision (the embed's data-region); "
            "defaults to the country the server resolves (country_header, geoip_db), else the policy's "
            'default ("*").',
            examples=["US-CA"],
        ),
    ] = None,
) -> Response:
    """Purposes with their basis in the visitor's region, the notice wording in force (with the
    sha256 the banner sends back), the flow (opt-in or notice with opt-out), Consent Mode types and
    cookies per purpose, whether Global Privacy Control is honoured there, and the interface strings.

    Public: it serves policy text, the same to every visitor of a region and locale, so shared caches
    (a CDN) may keep it: ``Cache-Control: public`` until the next notice version takes effect (at most
    five minutes), a strong ``ETag`` (``304`` on ``If-None-Match``), and ``Vary`` naming each request
    header it was derived from. ``Sec-GPC: 1`` on this request is reported back as ``gpc.signal``
    (hence ``Vary: Sec-GPC``). A visitor's own choices are not in it: they come from
    ``GET /v1/subjects/{subject}/state``, never cached.
    """
    return banner_answer(request.app, request.headers, country, locale, region)


def banner_answer(
    app: Any, headers: Headers, country: str | None, locale: str | None, region: str | None
) -> Response:
    """The answer of ``/v1/banner/config`` for valid parameters; also served by the hot path
    (server/hotpath.py)."""
    # Sec-GPC: only the exact value "1" counts, from any one of several headers (w3c/gpc).
    gpc = any(value.strip() == "1" for value in headers.getlist("sec-gpc"))
    accept_language = None if locale else headers.get("accept-language")
    answer = _banner_configs(app).get(region or country, locale, accept_language, gpc)
    resolver: CountryResolver | None = getattr(app.state, "country", None)
    out = {
        "ETag": answer.etag,
        "Cache-Control": answer.cache_control(region is not None, resolver),
        "Vary": _vary(resolver, region=region, locale=locale),
    }
    if answer.etag in headers.get("if-none-match", ""):
        return Response(status_code=304, headers=out)
    return Response(answer.body, media_type="application/json", headers=out)


def _vary(resolver: CountryResolver | None, *, region: str | None, locale: str | None) -> str:
    """The request headers the answer depends on, besides the query string (and CORS's Origin)."""
    names = ["Sec-GPC"]
    if locale is None:
        names.append("Accept-Language")
    if region is None and resolver is not None and resolver.header is not None:
        names.append(resolver.header)
    return ", ".join(names)


@dataclass(frozen=True, slots=True)
class _Answer:
    body: bytes
    etag: str
    until: datetime | None  # when the next notice version takes effect

    def cache_control(self, explicit_region: bool, resolver: CountryResolver | None) -> str:
        """``public`` unless the region came from the client's address (a GeoIP look-up): a shared
        cache cannot vary on that, so only the visitor's own browser may keep it."""
        seconds = STATIC_MAX_AGE
        if self.until is not None:
            seconds = max(0, min(seconds, int((self.until - datetime.now(UTC)).total_seconds())))
        by_address = not explicit_region and resolver is not None and resolver.by_address
        return f"{'private' if by_address else 'public'}, max-age={seconds}"


class _BannerConfigs:
    """Rendered configurations by (region, locale, Accept-Language, GPC signal), each kept until the
    next notice version takes effect; at most ``MAX_CONFIGS`` (the inputs come from the client)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._answers: dict[tuple[str | None, str | None, str | None, bool], _Answer] = {}

    def get(self, region: str | None, locale: str | None, accept_language: str | None, gpc: bool) -> _Answer:
        now = datetime.now(UTC)
        key = (region, locale, accept_language, gpc)
        found = self._answers.get(key)
        if found is not None and (found.until is None or now < found.until):
            return found
        cfg = banner_config(
            self.policy,
            region=region,
            locale=locale,
            accept_language=accept_language,
            gpc_signal=gpc,
            now=now,
        )
        body = cfg.model_dump_json().encode()
        answer = _Answer(body, f'"{hashlib.sha256(body).hexdigest()[:32]}"', next_change(self.policy, now))
        if len(self._answers) >= MAX_CONFIGS:
            self._answers.clear()
        self._answers[key] = answer
        return answer


MAX_CONFIGS = 10_000


def _banner_configs(app: Any) -> _BannerConfigs:
    found: _BannerConfigs | None = getattr(app.state, "banner_configs", None)
    if found is None:
        policy = cast(ServerState, app.state.consentgate).service.policy
        found = app.state.banner_configs = _BannerConfigs(policy)
    return found


# -- static files -------------------------------------------------------------------------------------


def _served(request: Request, body: bytes, name: str, *, cache_control: str | None = None) -> Response:
    """A file with an ETag, answered 304 when the browser has it, gzipped when the browser takes gzip."""
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    suffix = name[name.rfind(".") :]
    headers = {
        "ETag": etag,
        "Cache-Control": cache_control or f"public, max-age={STATIC_MAX_AGE}",
        "Vary": "Accept-Encoding",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", "") and suffix != ".html":
        body = _gzipped(body)
        headers["Content-Encoding"] = "gzip"
    if request.method == "HEAD":  # the headers GET would send, Content-Length included; no body
        headers["Content-Length"] = str(len(body))
        body = b""
    return Response(body, media_type=_TYPES[suffix], headers=headers)


@cache
def _gzipped(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=9, mtime=0)


def compiled_banner(policy: Policy) -> bytes:
    """banner.js with the policy's boot data in place of its marker (ASCII JSON: valid JavaScript)."""
    optional = {"preload"} if policy.web.accept.fetch_tags_while_recording else set()
    code = trim_js(keep_blocks(asset("banner.js"), optional))
    boot = json.dumps(boot_data(policy), separators=(",", ":"), ensure_ascii=True).encode()
    return code.replace(BOOT_MARKER, boot, 1)


@router.api_route("/banner.js", methods=ASSET_METHODS, include_in_schema=False)
def banner_js(request: Request, service: Service) -> Response:
    # Compiled once per app: the policy of an app never changes.
    body: bytes | None = getattr(request.app.state, "banner_js", None)
    if body is None:
        body = request.app.state.banner_js = compiled_banner(service.policy)
    return _served(request, body, "banner.js")


@router.api_route("/banner.css", methods=ASSET_METHODS, include_in_schema=False)
def banner_css(request: Request) -> Response:
    return _served(request, trim_css(asset("banner.css")), "banner.css")


@router.api_route("/i18n/{name}", methods=ASSET_METHODS, include_in_schema=False)
def translations(request: Request, name: str) -> Response:
    locale = name.removesuffix(".json")
    if not name.endswith(".json") or locale not in i18n.available():
        raise HTTPException(404)
    return _served(request, asset("i18n", name), name)


@router.api_route("/privacy-center", methods=ASSET_METHODS, include_in_schema=False)
def privacy_center(request: Request, service: Service) -> Response:
    """The page in the language its script will choose (``?locale=``, else ``Accept-Language``, else
    the policy's), so that what shows before the script runs — the title, the heading, the line for a
    browser without JavaScript — and the ``lang``/``dir`` a screen reader starts with are already the
    person's. An unusable ``?locale=`` falls back like a missing one: this is a page, not an API."""
    asked, accepted = request.query_params.get("locale"), request.headers.get("accept-language")
    chosen = i18n.negotiate(asked, accepted, service.policy.web.default_locale)
    response = _served(request, _center_page(chosen), "privacy-center.html", cache_control="no-cache")
    response.headers["Content-Language"] = chosen
    response.headers["Vary"] = "Accept-Encoding, Accept-Language"
    return response


@cache
def _center_page(locale: str) -> bytes:
    strings = i18n.strings(locale)
    title = html.escape(strings["pc_title"], quote=False)
    words = {
        '<html lang="en">': f'<html lang="{locale}" dir="{i18n.direction(locale)}">',
        "<title>Privacy center</title>": f"<title>{title}</title>",
        '<h1 id="pc-title">Privacy center</h1>': f'<h1 id="pc-title">{title}</h1>',
        "<p>This page needs JavaScript.</p>": f"<p>{html.escape(strings['pc_needs_js'], quote=False)}</p>",
    }
    page = asset("privacy-center.html").decode()
    for english, own in words.items():
        if english not in page:
            raise RuntimeError(f"privacy-center.html no longer holds {english!r}: update _center_page")
        page = page.replace(english, own, 1)
    return page.encode()


@router.api_route("/privacy-center.js", methods=ASSET_METHODS, include_in_schema=False)
def privacy_center_js(request: Request) -> Response:
    return _served(request, asset("privacy-center.js"), "privacy-center.js")


@router.api_route("/privacy-center.css", methods=ASSET_METHODS, include_in_schema=False)
def privacy_center_css(request: Request) -> Response:
    return _served(request, asset("privacy-center.css"), "privacy-center.css")


@router.api_route("/notice", methods=ASSET_METHODS, include_in_schema=False)
def ai_notice(
    request: Request,
    service: Service,
    locale: Annotated[str | None, Query(max_length=35, pattern=i18n.LOCALE_PATTERN)] = None,
) -> Response:
    """The AI-training notice (``consentgate notice render``) in the visitor's language: ``?locale=``,
    else ``Accept-Language``, else the policy's; the models of the ledger's training runs included.
    Rendered per request (runs change), styled by ``/notice.css`` under the site's CSP."""
    from consentgate.reports.notice import render_notice
    from consentgate.reports.notice.runs import trained_from
    from consentgate.store.runs import RunStore

    policy = service.policy
    chosen = i18n.negotiate(locale, request.headers.get("accept-language"), policy.web.default_locale)
    trained = trained_from(RunStore(service.ledger.engine))
    page = render_notice(
        policy, chosen, "html", trained=trained, privacy_center="privacy-center", css_href="notice.css"
    )
    response = _served(request, page.encode(), "notice.html", cache_control="no-cache")
    response.headers["Content-Language"] = chosen
    response.headers["Vary"] = "Accept-Encoding, Accept-Language"
    return response


@router.api_route("/notice.css", methods=ASSET_METHODS, include_in_schema=False)
def ai_notice_css(request: Request) -> Response:
    from consentgate.reports.notice.render import CSS

    return _served(request, CSS.encode(), "notice.css")


# -- the demo site (make run) -------------------------------------------------------------------------


def _demo_key(settings: Settings) -> str:
    key = settings.demo_key
    if not key:
        raise HTTPException(404)
    return key


@cache
def _demo_files() -> frozenset[str]:
    folder = files("consentgate.web") / "demo"
    return frozenset(f.name for f in folder.iterdir() if f.name[f.name.rfind(".") :] in _TYPES)


@router.api_route("/demo", methods=ASSET_METHODS, include_in_schema=False)
def demo_root(settings: AppSettings) -> Response:
    _demo_key(settings)
    return RedirectResponse("/demo/", status_code=307)


@router.api_route("/demo/", methods=ASSET_METHODS, include_in_schema=False)
def demo_page(request: Request, settings: AppSettings) -> Response:
    key = html.escape(_demo_key(settings), quote=True)
    page = asset("demo", "index.html").replace(b"{{COLLECT_KEY}}", key.encode())
    return _served(request, page, "index.html", cache_control="no-cache")


@router.api_route("/demo/{name}", methods=ASSET_METHODS, include_in_schema=False)
def demo_file(request: Request, settings: AppSettings, name: str) -> Response:
    _demo_key(settings)
    if name not in _demo_files() or name == "index.html":
        raise HTTPException(404)
    return _served(request, asset("demo", name), name, cache_control="no-cache")


@router.post("/demo/session", include_in_schema=False)
def demo_session(
    request: Request, response: Response, settings: AppSettings, tokens: Tokens
) -> dict[str, str]:
    """The demo's stand-in for a site's login: a subject token for the visitor id in this browser's
    ``cg_vid`` cookie (a new one if it has none). A real site's backend mints the token for the account
    it has just authenticated (docs/security.md); this shortcut exists only while the demo is on."""
    _demo_key(settings)
    current = request.cookies.get(VISITOR_COOKIE)
    visitor = current if current is not None and tokens.is_visitor_id(current) else tokens.new_visitor_id()
    response.set_cookie(
        VISITOR_COOKIE,
        visitor,
        max_age=VISITOR_COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    response.headers["Cache-Control"] = "no-store"
    return {"token": tokens.issue(visitor, DEMO_TOKEN_TTL), "subject": visitor}
