"""Capture: record what people chose.

Who may record for whom (``consentgate.server.auth``): an admin key for anyone; a subject token for
its own subject; a collect key alone only for visitor ids this server issued. Every submission of a
batch is checked, and one refused subject refuses the whole batch, before anything is validated or
stored.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from consentgate.server.auth import SUBMIT, Caller, authorize
from consentgate.server.deps import AppSettings, IntactChain, Service, Tokens
from consentgate.server.errors import COMMON_RESPONSES, RequestProblems
from consentgate.server.geo import ClientCountry
from consentgate.server.schemas.consents import (
    BatchReceipt,
    Receipt,
    Submission,
    SubmissionBatch,
    SubmissionReceipt,
)
from consentgate.server.submissions import charge, plan, receipt, record, record_async

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
    authorize(caller, [("subject", body.subject)], write=True, keyring=tokens)
    if body.region is None and country is not None:  # the client's country, never its address
        body = body.model_copy(update={"region": country})
    planned = plan([body], batch=False)
    charge(request, planned)
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
    charge(request, planned)
    events = record(service, planned)
    grouped: list[SubmissionReceipt] = [SubmissionReceipt(events=[]) for _ in body.submissions]
    for owner, event in zip(planned.owners, events, strict=True):
        grouped[owner].events.append(receipt(event))
    return BatchReceipt(submissions=grouped, events_recorded=len(events), recorded_at=events[0].recorded_at)
