"""The HTTP service: ``create_app`` wires settings, the consent service and the routers.

Everything a request needs hangs off ``app.state`` (see :mod:`consentgate.server.deps`), so several
apps — one per test, say — can live in one process without sharing anything.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import Depends, FastAPI

from consentgate.auth.apikeys import KeyCache
from consentgate.auth.secrets import load_keyring
from consentgate.ledger.groupcommit import GroupCommitter
from consentgate.ledger.signing import find_signer
from consentgate.ledger.store import Ledger
from consentgate.policy import load_policy
from consentgate.scan.schedule import start_scheduled_scans
from consentgate.server.bodyguard import BodyGuard
from consentgate.server.chain import ChainMonitor
from consentgate.server.deps import ServerState
from consentgate.server.errors import install_error_handlers
from consentgate.server.hotpath import HotPath
from consentgate.server.logs import ensure_logging
from consentgate.server.perimeter import install_perimeter
from consentgate.server.queryguard import reject_unknown_query
from consentgate.server.ratelimit import EventBudget
from consentgate.server.readcache import CachedDecisions, HeadProbe
from consentgate.server.routers import access, consents, decisions, health, subjects, web
from consentgate.server.routers import declaration as declaration_router
from consentgate.server.routers import reports as reports_router
from consentgate.server.routers import requests as requests_router
from consentgate.server.routers import share as share_router
from consentgate.server.routers import tcf as tcf_router
from consentgate.server.routers.console import install_console
from consentgate.service import ConsentService
from consentgate.settings import Settings
from consentgate.web.tcf.stacks import require_fitting_stacks

DESCRIPTION = """\
Consent for AI-training use of data: record people's choices, decide whether their data may be used
for a purpose, and prove it.

Send an API key as `Authorization: Bearer KEY`. Scopes: **collect** may get anonymous visitor ids
(`POST /v1/visitors`) and submit choices for them; **read** may read decisions, state and evidence;
**admin** may do everything; **audit** may read `/v1/reports/…` and sign in to the operator console
(`/console`), and writes nothing. A **subject token** (`X-Consentgate-Subject-Token`, minted by the site's
backend) lets a browser read and change the choices of the one subject it binds. The full matrix is in
docs/security.md. Every error has the shape
`{"error": {"code", "message", "problems": [{"at", "message"}]}}`, and invalid input stores nothing.
"""


def _version() -> str:
    try:
        return version("consentgate")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0"


def create_app(settings: Settings | None = None, *, service: ConsentService | None = None) -> FastAPI:
    """Build the app. Without ``service`` it loads ``settings.policy`` and opens ``settings.db``,
    and closes that ledger when the app shuts down; a passed-in service stays the caller's to close."""
    settings = settings or Settings()
    owned = service is None
    if service is None:
        policy = load_policy(settings.policy)
        # The TCF first layer's stacks must fit the GVL served (docs/tcf.md): checked before anything opens.
        require_fitting_stacks(policy.web.tcf, settings.tcf_gvl_dir)
        signer = find_signer(settings.ledger_key, settings.db)
        ledger = Ledger.open(settings.db, signer=signer)
        service = ConsentService(policy, ledger, gvl_directory=settings.tcf_gvl_dir)
    else:
        require_fitting_stacks(service.policy.web.tcf, settings.tcf_gvl_dir)

    # Concurrent submissions share durable commits (consentgate.ledger.groupcommit).
    own_committer = service.committer is None and settings.group_commit
    if own_committer:
        service.committer = GroupCommitter(service.ledger)

    chain = ChainMonitor(service.ledger, interval=settings.chain_check_seconds)
    keys = KeyCache(service.ledger.engine, ttl=settings.key_cache_seconds)
    heads = HeadProbe(service.ledger.engine)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        ensure_logging(settings.log_level)
        chain.start()  # in the background: until it answers, writes wait (server/chain.py)
        # Known keys verified again before they expire: no lookup on the first request after a lull.
        stop_keys = keys.keep_fresh()
        # Scheduled website scans (policy web.scan) run in a thread of their own (docs/scanner.md).
        scans = start_scheduled_scans(settings, service.policy)
        yield
        if scans is not None:
            scans.stop(timeout=10)
        await chain.stop()
        stop_keys()
        if own_committer and service.committer is not None:
            service.committer.close()
            service.committer = None
        heads.close()
        if owned:
            service.ledger.close()

    app = FastAPI(
        title="consentgate",
        version=_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
        # /docs is added by install_perimeter, with a CSP for what it loads; no ReDoc, no OAuth2 page.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        dependencies=[Depends(reject_unknown_query)],
    )
    app.state.consentgate = ServerState(
        settings=settings,
        service=service,
        keys=keys,
        tokens=load_keyring(service.ledger.engine, settings.token_secret),
        chain=chain,
        events=EventBudget(
            per_key=settings.rate_events_per_key,
            per_subject_minute=settings.events_per_subject_minute,
            burst_seconds=settings.rate_burst_seconds,
        ),
        heads=heads,
        decisions=CachedDecisions(service, heads),
    )
    # Made now (like the token secret) so decisions never look for it per request: with it known,
    # each decision call checks the suppression list in one query (see ConsentService.people).
    _ = service.erasure_key
    install_error_handlers(app)
    app.add_middleware(HotPath)  # innermost: every middleware below still applies (hotpath.py)
    app.add_middleware(BodyGuard, max_body_bytes=settings.max_body_bytes)
    install_perimeter(app, settings, service.policy)
    for router in (
        consents.router,
        decisions.router,
        subjects.router,
        access.router,
        health.router,
        web.router,
    ):
        app.include_router(router)
    app.include_router(requests_router.router)  # data-subject requests and access reports
    app.include_router(declaration_router.router)  # the website scanner's cookie declaration
    app.include_router(reports_router.router)  # what the console shows, as JSON (admin or audit key)
    app.include_router(tcf_router.router)  # IAB TCF v2.3: the GVL and TC strings (docs/tcf.md)
    app.include_router(share_router.router)  # web.share: choices across a site group's domains
    install_console(app)  # the operator console at /console (docs/console.md)
    return app
