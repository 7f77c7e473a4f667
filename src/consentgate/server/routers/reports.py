"""``/v1/reports/…``: what the console's pages show, as JSON, for an admin or audit key.

=====================================  =================================================================
``GET /v1/reports/overview``           consent rates by region, over time, by notice version (the
                                       console form's ``from``, ``to``, ``interval``, ``by``)
``GET /v1/reports/ledger``             head, last verification, events per action
``GET /v1/reports/requests``           the request queue, overdue first, with next steps
``GET /v1/reports/website``            the latest scan's summary, violations, unclassified, diffs
``GET /v1/reports/data-map``           sources (declared level), purposes, vendors, runs with counts
``GET /v1/reports/risk``               reports/risk.py
``GET /v1/reports/audit-pack``         the audit pack (reports/audit.py): one HTML file
=====================================  =================================================================

Read-only: an audit key may call these and nothing that writes (consentgate.server.auth).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from consentgate.auth.apikeys import Scope
from consentgate.server import consoleviews as views
from consentgate.server.auth import require
from consentgate.server.deps import ServerState, server_state
from consentgate.server.errors import COMMON_RESPONSES
from consentgate.server.routers.console import attachment

router = APIRouter(
    prefix="/v1/reports",
    tags=["reports"],
    dependencies=[Depends(require(Scope.ADMIN, Scope.AUDIT))],
    responses={k: v for k, v in COMMON_RESPONSES.items() if k in (401, 403, 429)},
)


def _report(path: str, summary: str, view: Callable[[ServerState], dict[str, Any]]) -> None:
    async def report(request: Request) -> dict[str, Any]:
        return await run_in_threadpool(view, server_state(request))

    report.__doc__ = view.__doc__
    router.add_api_route(
        path, report, methods=["GET"], summary=summary, name=f"report{path.replace('/', '_')}"
    )


@router.get(
    "/overview",
    summary="Consent rates by purpose and region, over time, by notice version",
    responses={422: COMMON_RESPONSES[422]},
)
async def overview(
    request: Request,
    from_: Annotated[
        str | None, Query(alias="from", description="a date or ISO 8601 time with a zone")
    ] = None,
    to: Annotated[
        str | None, Query(description="a date (its whole day, so far) or a time, not in the future")
    ] = None,
    interval: Annotated[str | None, Query(description="day, week or month")] = None,
    by: Annotated[
        str | None, Query(description="region or notice_version: split the series by it too")
    ] = None,
) -> dict[str, Any]:
    """The console overview's reports for the same query as its form (``from``, ``to``, ``interval``,
    ``by``; defaults: the last 12 weeks by week, up to now); a field to fix answers 422."""
    sent = {
        k: v for k, v in {"from": from_, "to": to, "interval": interval, "by": by}.items() if v is not None
    }
    query = views.OverviewQuery.parse(sent)
    return await run_in_threadpool(views.overview_view, server_state(request), query)


_report("/ledger", "The ledger's head, last verification and events per action", views.ledger_view)
_report("/requests", "Data-subject requests, overdue first, with the next step", views.requests_view)
_report(
    "/website", "The latest website scan, its violations, unclassified items and diffs", views.website_view
)
_report("/data-map", "Sources, levels, purposes, vendors, runs and exports", views.datamap_view)
_report(
    "/risk", "AI purposes fed by personal data, missing translations, self-training vendors", views.risk_view
)


@router.get(
    "/audit-pack",
    summary="The audit pack: one self-contained HTML file for a regulator or auditor",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}, "description": "The pack, as an attachment."}},
)
async def audit_pack(request: Request) -> Response:
    """Policy fingerprint, notices, consent rates, requests, scans, runs and exports, the ledger head
    after a full verification and a checkpoint signed when a ledger key is configured."""
    body = await run_in_threadpool(views.audit_pack, server_state(request))
    return attachment(body)
