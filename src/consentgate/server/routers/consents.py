"""Capture: record what people chose.

Who may record for whom (``consentgate.server.auth``): an admin key for anyone; a subject token for
its own subject; a collect key alone only for visitor ids this server issued. Every submission of a
batch is checked, and one refused subject refuses the whole batch, before anything is validated or
stored.

``POST /v1/consents/browser`` is the same record for a page's scripts, shaped so that a browser sends
it without a CORS preflight: credentials in the (``text/plain``) body instead of headers, and the
``Origin`` checked here (:func:`consentgate.server.cors.require_browser_origin`), since no preflight
checked it before.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from consentgate.auth.tokens import Keyring
from consentgate.server.auth import SUBMIT, SUBMITTERS, Caller, admit, authenticate, authorize
from consentgate.server.cors import require_browser_origin
from consentgate.server.deps import AppSettings, IntactChain, Service, Tokens
from consentgate.server.errors import COMMON_RESPONSES, RequestProblems
from consentgate.server.geo import ClientCountry
from consentgate.server.ratelimit import bearer_value
from consentgate.server.schemas.consents import (
    BatchReceipt,
    BrowserSubmission,
    Receipt,
    Submission,
    SubmissionBatch,
    SubmissionReceipt,
)
from consentgate.server.submissions import Plan, charge, plan, receipt, record, record_async
from consentgate.service import ConsentService

router = APIRouter(prefix="/v1/consents", tags=["consents"], responses=COMMON_RESPONSES)
Submitter = Annotated[Caller, Depends(SUBMIT)]


# The hot path (every banner click): ``async``, so only the blocking part (intake and the durable
# commit, ``record_async``) goes to FastAPI's threadpool; a plain ``def`` endpoint would go there
# twice, once to run and once more to validate its response.
@router.post("", status_code=status.HTTP_201_CREATED, summary="Record one person's choices")
async def submit(
    request: Request,
    body: Submission,
    service: Service,
    caller: Submitter,
    tokens: Tokens,
    country: ClientCountry,
    _: IntactChain,
) -> Receipt:
    """Store one event per choice (or one subject-level event), all or none.

    Per-choice notice fields override the top-level ones; ``occurred_at`` defaults to the server's
    clock; ``region`` defaults to the client's country where the server is set up to resolve it
    (docs/api.md). The events are durable when this answers. With a collect key the subject must be
    a visitor id from ``POST /v1/visitors``, or the request must carry a subject token for it.
    """
    return await _record_one(request, body, service, caller, tokens, country, bearer_value(request.scope))


@router.post(
    "/browser",
    status_code=status.HTTP_201_CREATED,
    summary="Record one person's choices from a web page, without a CORS preflight",
    dependencies=[Depends(require_browser_origin)],
)
async def submit_from_browser(
    request: Request,
    body: BrowserSubmission,
    service: Service,
    tokens: Tokens,
    country: ClientCountry,
    _: IntactChain,
) -> Receipt:
    """``POST /v1/consents`` for a page's scripts: the same submission and answer, with the key and
    subject token in the body, so the browser can send it as ``text/plain`` without a preflight.

    The request must come from a page on an origin in the policy's ``web.origins`` (its ``Origin``
    header), else 403 and nothing is stored. Cookies are never read: everything that authorises the
    write is in the body, which a page on another site cannot fill with this visitor's credentials.
    """
    caller = await browser_caller(request, body)
    return await _record_one(request, body.submission, service, caller, tokens, country, body.key)


async def browser_caller(request: Request, body: BrowserSubmission) -> Caller:
    """Who sent a browser record, from the credentials in its body; 401/403 as ``admit`` says."""
    credentials = await authenticate(request, body.key, body.subject_token)
    return admit(request, credentials, SUBMITTERS, "the body's subject_token", " in the body's key")


async def _record_one(
    request: Request,
    body: Submission,
    service: Service,
    caller: Caller,
    tokens: Tokens,
    country: str | None,
    key: str | None,
) -> Receipt:
    return await store_one(request, prepare_one(body, caller, tokens, country), service, key)


def prepare_one(body: Submission, caller: Caller, tokens: Keyring, country: str | None) -> Plan:
    """The events one submission plans, once ``caller`` may write for its subject (403 otherwise).
    Nothing is spent or stored yet: the hot path (server/hotpath.py) may still leave it to the route."""
    authorize(caller, [("subject", body.subject)], write=True, keyring=tokens)
    if body.region is None and country is not None:  # the client's country, never its address
        body = body.model_copy(update={"region": country})
    return plan([body], batch=False)


async def store_one(request: Request, planned: Plan, service: ConsentService, key: str | None) -> Receipt:
    """Spend ``key``'s and the subject's event budget (429), then store the events durably."""
    charge(request, planned, key)
    events = await record_async(service, planned)
    return Receipt(events=[receipt(e) for e in events], recorded_at=events[0].recorded_at)


# Plain ``def``: FastAPI runs it in its threadpool, so validating and committing a large batch never
# stalls the event loop.
@router.post("/batch", status_code=status.HTTP_201_CREATED, summary="Record many submissions at once")
def submit_batch(
    request: Request,
    body: SubmissionBatch,
    service: Service,
    settings: AppSettings,
    caller: Submitter,
    tokens: Tokens,
    _: IntactChain,
) -> BatchReceipt:
    """Store every submission in one transaction, or none of them if any is invalid.

    One commit for the whole batch is what lets SQLite take thousands of durable events per second.
    """
    if len(body.submissions) > settings.max_batch:
        message = f"{len(body.submissions)} submissions; send at most {settings.max_batch} per request"
        raise RequestProblems("invalid_request", message, [("submissions", message)])
    subjects = [(f"submissions[{i}].subject", s.subject) for i, s in enumerate(body.submissions)]
    authorize(caller, subjects, write=True, keyring=tokens)
    planned = plan(body.submissions, batch=True)
    charge(request, planned, bearer_value(request.scope))
    events = record(service, planned)
    grouped: list[SubmissionReceipt] = [SubmissionReceipt(events=[]) for _ in body.submissions]
    for owner, event in zip(planned.owners, events, strict=True):
        grouped[owner].events.append(receipt(event))
    return BatchReceipt(submissions=grouped, events_recorded=len(events), recorded_at=events[0].recorded_at)
