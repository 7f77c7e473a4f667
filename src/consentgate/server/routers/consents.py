"""Capture: record what people chose. Collect keys may call only these two endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from consentgate.server.auth import SUBMIT
from consentgate.server.deps import AppSettings, Service
from consentgate.server.errors import COMMON_RESPONSES, RequestProblems
from consentgate.server.schemas.consents import (
    BatchReceipt,
    Receipt,
    Submission,
    SubmissionBatch,
    SubmissionReceipt,
)
from consentgate.server.submissions import plan, receipt, record

router = APIRouter(
    prefix="/v1/consents", tags=["consents"], dependencies=[Depends(SUBMIT)], responses=COMMON_RESPONSES
)


# Plain ``def`` endpoints: FastAPI runs them in its threadpool, so the blocking SQLite/PostgreSQL
# commit never stalls the event loop.
@router.post("", status_code=status.HTTP_201_CREATED, summary="Record one person's choices")
def submit(body: Submission, service: Service) -> Receipt:
    """Store one event per choice (or one subject-level event), all or none.

    Per-choice notice fields override the top-level ones; ``occurred_at`` defaults to the server's
    clock. The events are durable when this answers.
    """
    events = record(service, plan([body], batch=False))
    return Receipt(events=[receipt(e) for e in events], recorded_at=events[0].recorded_at)


@router.post("/batch", status_code=status.HTTP_201_CREATED, summary="Record many submissions at once")
def submit_batch(body: SubmissionBatch, service: Service, settings: AppSettings) -> BatchReceipt:
    """Store every submission in one transaction, or none of them if any is invalid.

    One commit for the whole batch is what lets SQLite take thousands of durable events per second.
    """
    if len(body.submissions) > settings.max_batch:
        message = f"{len(body.submissions)} submissions; send at most {settings.max_batch} per request"
        raise RequestProblems("invalid_request", message, [("submissions", message)])
    planned = plan(body.submissions, batch=True)
    events = record(service, planned)
    grouped: list[SubmissionReceipt] = [SubmissionReceipt(events=[]) for _ in body.submissions]
    for owner, event in zip(planned.owners, events, strict=True):
        grouped[owner].events.append(receipt(event))
    return BatchReceipt(submissions=grouped, events_recorded=len(events), recorded_at=events[0].recorded_at)
