"""Consent shared across a site group's domains (policy ``web.share``; docs/web.md).

===============================  =====================================================================
``GET /share.js``                the banner's add-on that hands a choice to the group's other domains
``POST /v1/share/handoff``       a short-lived signed hand-off of this visitor's choices to one
                                 other domain of the group (the page's ``Origin`` is the source)
``POST /v1/share/redeem``        on arrival: check the hand-off once, link this domain's visitor id
                                 to the person (alias kind ``shared_domain``), return their choices
===============================  =====================================================================

The ledger keeps one choice for the person: redeeming records a link, never a second consent event.
Both calls take the collect key and a visitor id the service issued; with ``web.share`` unset they
answer 404.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from consentgate.auth import handoff
from consentgate.errors import AuthError, Conflict, NotFound
from consentgate.policy.share import ShareSettings
from consentgate.server.auth import VISITORS
from consentgate.server.deps import INTACT_CHAIN, Service, Tokens
from consentgate.server.errors import COMMON_RESPONSES, error_response
from consentgate.server.routers.access import VISITOR_COOKIE
from consentgate.server.routers.web import ASSET_METHODS
from consentgate.server.routers.web import _served as served_asset
from consentgate.server.schemas.decisions import QueryRegion
from consentgate.store import handoffs
from consentgate.web import asset, trim_js

router = APIRouter(tags=["share"])
_NOT_ENABLED = "sharing across domains is not enabled: list the site group's domains in web.share"
SHARE_MARKER = b"/*SHARE*/null"


class HandoffRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    visitor_id: str = Field(max_length=256, description="This domain's visitor id (POST /v1/visitors).")
    target: str = Field(max_length=253, description="The host name of the link's destination.")


class HandoffIssued(BaseModel):
    handoff: str = Field(description="Put it in the link's fragment: #cg_handoff=…")
    source: str
    target: str
    expires_at: datetime


class RedeemRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    handoff: str = Field(max_length=handoff.MAX_CHARS, description="The hand-off from the link's fragment.")
    visitor_id: str = Field(max_length=256, description="This domain's visitor id (POST /v1/visitors).")
    region: QueryRegion | None = None


class SharedPurpose(BaseModel):
    allowed: bool
    chosen: bool = Field(description="True when a choice of the person decides it (not a default).")


class Redeemed(BaseModel):
    # The source domain's visitor id stays out: it is a credential there, and this page needs none.
    source: str
    domains: list[str]
    purposes: dict[str, SharedPurpose]


def _group(service: Service) -> ShareSettings:
    share = service.policy.web.share
    if share is None:
        raise NotFound(_NOT_ENABLED)
    return share


def _page_domain(share: ShareSettings, origin: str | None) -> str:
    """The group domain of the page that called (its ``Origin``), or a refusal naming the group."""
    host = urlsplit(origin).hostname if origin else None
    domain = share.domain_of(host) if host else None
    if domain is None:
        raise AuthError(
            f"the page's origin {origin or '(none sent)'} is not on a domain of web.share "
            f"({', '.join(share.domains)}); hand-offs work only between the group's domains"
        )
    return domain


def _visitor(tokens: Tokens, visitor_id: str) -> str:
    if not tokens.is_visitor_id(visitor_id):
        raise AuthError("visitor_id is not a visitor id this service issued; get one from POST /v1/visitors")
    return visitor_id


@router.api_route("/share.js", methods=ASSET_METHODS, include_in_schema=False)
def share_js(request: Request, service: Service) -> Response:
    """The add-on with the group's domains compiled in; 404 while ``web.share`` is unset."""
    share = service.policy.web.share
    if share is None:
        return error_response(404, "not_found", _NOT_ENABLED)
    body = trim_js(asset("share.js")).replace(SHARE_MARKER, json.dumps(share.domains).encode(), 1)
    return served_asset(request, body, "share.js")


@router.post(
    "/v1/share/handoff",
    dependencies=[Depends(VISITORS)],
    status_code=201,
    summary="Hand this visitor's choices to another domain of the site group",
    responses={k: v for k, v in COMMON_RESPONSES.items() if k in (400, 401, 403, 404, 409, 422, 429)},
)
def issue_handoff(
    body: HandoffRequest,
    request: Request,
    service: Service,
    tokens: Tokens,
    response: Response,
    origin: Annotated[str | None, Header()] = None,
) -> HandoffIssued:
    share = _group(service)
    source = _page_domain(share, origin)
    target = share.domain_of(body.target)
    if target is None or target == source:
        raise AuthError(
            f"{body.target!r} is not another domain of web.share ({', '.join(share.domains)}); "
            "links elsewhere get no hand-off"
        )
    subject = _visitor(tokens, body.visitor_id)
    # Where the browser sends its HttpOnly cookie (the service is same-site with the page), the id must
    # be that browser's own: knowing someone else's id is then not enough to read their choices.
    cookie = request.cookies.get(VISITOR_COOKIE)
    if cookie is not None and tokens.is_visitor_id(cookie) and cookie != subject:
        raise AuthError("visitor_id is not this browser's visitor id (its cg_vid cookie names another)")
    if not service.knows(subject):
        raise Conflict("this visitor has made no choice yet: there is nothing to hand over")
    token = handoff.issue(tokens, subject, source, target, share.handoff_seconds)
    response.headers["Cache-Control"] = "no-store"
    claims = handoff.verify(tokens, token)
    return HandoffIssued(handoff=token, source=source, target=target, expires_at=claims.expires_at)


@router.post(
    "/v1/share/redeem",
    dependencies=[Depends(VISITORS), INTACT_CHAIN],
    summary="Redeem a hand-off: this visitor id joins the person, whose choices apply here",
    responses={k: v for k, v in COMMON_RESPONSES.items() if k in (400, 401, 403, 404, 409, 422, 429)},
)
def redeem(
    body: RedeemRequest,
    service: Service,
    tokens: Tokens,
    response: Response,
    origin: Annotated[str | None, Header()] = None,
) -> Redeemed:
    share = _group(service)
    here = _page_domain(share, origin)
    claims = handoff.verify(tokens, body.handoff)
    if claims.target != here or share.domain_of(claims.source) is None:
        raise AuthError(
            f"this hand-off is for {claims.target}, from {claims.source}; it cannot be redeemed on {here} "
            f"(web.share: {', '.join(share.domains)})"
        )
    visitor = _visitor(tokens, body.visitor_id)
    if not handoffs.claim(service.ledger.engine, claims.token_id, claims.expires_at):
        raise Conflict("this hand-off was already redeemed; each one works once (follow the link again)")
    if visitor != claims.subject:
        service.link(visitor, claims.subject, "shared_domain")
    decisions = service.state(claims.subject, datetime.now(UTC), body.region)
    response.headers["Cache-Control"] = "no-store"
    return Redeemed(
        source=claims.source,
        domains=share.domains,
        purposes={
            p: SharedPurpose(allowed=d.allowed, chosen=d.evidence_event is not None)
            for p, d in decisions.items()
        },
    )
