"""Credentials for browsers: anonymous visitor ids (collect key) and subject tokens (admin key).

A visitor id is what the banner records choices under before anyone logs in; it rides in the
first-party ``cg_vid`` cookie (the "signed cookie id"). A subject token is what a site's backend hands
to the browser session of a logged-in person, so the banner and the privacy center can read and change
that person's choices and no one else's. Backends that hold the token secret mint tokens offline
(``consentgate.client.issue_subject_token``); the others call ``POST /v1/tokens``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response, status

from consentgate.server.auth import ADMIN, VISITORS
from consentgate.server.deps import Tokens
from consentgate.server.errors import COMMON_RESPONSES
from consentgate.server.schemas.access import IssuedToken, TokenRequest, VisitorId

router = APIRouter(prefix="/v1", tags=["access"], responses=COMMON_RESPONSES)

VISITOR_COOKIE = "cg_vid"
# 13 months: the longest life the CNIL accepts for a consent cookie, and the example policy's
# max_age_days for consent (395), after which the banner asks again anyway.
VISITOR_COOKIE_MAX_AGE = 395 * 24 * 3600


@router.post(
    "/visitors",
    dependencies=[Depends(VISITORS)],
    status_code=status.HTTP_201_CREATED,
    summary="Get an anonymous visitor id (and its cookie)",
    responses={200: {"model": VisitorId, "description": "The request's cookie already held a valid one"}},
)
def new_visitor(request: Request, response: Response, tokens: Tokens) -> VisitorId:
    """Return the visitor id of the request's ``cg_vid`` cookie when it is one this server issued,
    else a new one; either way (re)set the cookie: HttpOnly, SameSite=Lax, Secure over https.

    The banner calls this on page load and records choices with the returned id as the subject, so
    a returning visitor keeps one id without the page's scripts ever reading the cookie.
    """
    current = request.cookies.get(VISITOR_COOKIE)
    if current is not None and tokens.is_visitor_id(current):
        visitor, created = current, False
        response.status_code = status.HTTP_200_OK
    else:
        visitor, created = tokens.new_visitor_id(), True
    response.set_cookie(
        VISITOR_COOKIE,
        visitor,
        max_age=VISITOR_COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        # Behind a TLS-terminating proxy, run uvicorn with --proxy-headers so the scheme is https here.
        secure=request.url.scheme == "https",
    )
    response.headers["Cache-Control"] = "no-store"
    return VisitorId(visitor_id=visitor, cookie=VISITOR_COOKIE, created=created)


@router.post(
    "/tokens",
    dependencies=[Depends(ADMIN)],
    status_code=status.HTTP_201_CREATED,
    summary="Mint a subject token for one subject",
)
def issue_token(body: TokenRequest, response: Response, tokens: Tokens) -> IssuedToken:
    """For backends that do not hold the token secret: call this with an admin key from the server
    side (never from a browser) when a person logs in, and hand the token to their session."""
    token = tokens.issue(body.subject, body.ttl_seconds)
    response.headers["Cache-Control"] = "no-store"
    return IssuedToken(token=token, subject=body.subject, expires_at=tokens.verify(token).expires_at)
