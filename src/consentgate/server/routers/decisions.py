"""Decisions: may this person's data be used for this purpose, at this time, here?

A read or admin key may ask about anyone; a subject token only about its own subject (the banner
asking "may I load this tag for this visitor?" is reading that visitor's state).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic_core import to_json

from consentgate.server.auth import READ, Caller, authorize
from consentgate.server.checks import check_batch_queries, check_queries
from consentgate.server.deps import ServerState, server_state
from consentgate.server.errors import COMMON_RESPONSES, RequestProblems
from consentgate.server.readcache import Answer, Asked
from consentgate.server.schemas.common import Subject, ZonedTime
from consentgate.server.schemas.decisions import AnsweredDecision, DecisionBatch, DecisionList, QueryRegion

router = APIRouter(prefix="/v1/decisions", tags=["decisions"], responses=COMMON_RESPONSES)
Reader = Annotated[Caller, Depends(READ)]


@router.get("", summary="Decide one (subject, purpose, at, region)", response_model=AnsweredDecision)
async def decide(
    request: Request,
    caller: Reader,
    subject: Annotated[Subject, Query()],
    purpose: Annotated[str, Query(min_length=1, max_length=128, description="A purpose id from the policy.")],
    at: Annotated[ZonedTime | None, Query(description="ISO 8601 with a time zone; defaults to now.")] = None,
    region: Annotated[QueryRegion | None, Query()] = None,
) -> Response:
    """Answered from memory while nothing was recorded since and the answer cannot have changed with
    time (server/readcache.py); the answer is always the decision function's."""
    state = server_state(request)
    authorize(caller, [("subject", subject)], write=False, keyring=state.tokens)
    check_queries(state.service.policy, [("", purpose, region)])
    return await decision_answer(state, subject, purpose, at, region)


async def decision_answer(
    state: ServerState, subject: str, purpose: str, at: datetime | None, region: str | None
) -> Response:
    """The answer of ``GET /v1/decisions`` once the caller and the query passed; also served by the
    hot path (server/hotpath.py)."""
    chain = await state.chain.current()
    when = at or datetime.now(UTC)
    answer = await state.decisions.decide(subject, purpose, at, region, when)
    return Response(
        to_json(_row(answer, chain.intact, subject, purpose, when)), media_type="application/json"
    )


def _row(answer: Answer, intact: bool | None, subject: str, purpose: str, at: datetime) -> dict[str, object]:
    """AnsweredDecision's fields in its order (what /openapi.json documents), as plain data: one
    encode per response instead of a model per decision."""
    return {**answer, "ledger_intact": intact, "subject": subject, "purpose": purpose, "at": at}


@router.post("/batch", summary="Decide many queries; answers keep their order", response_model=DecisionList)
async def decide_batch(body: DecisionBatch, request: Request, caller: Reader) -> Response:
    """One alias resolution and one ledger read for all subjects not answered from the decision
    cache, however many queries; the answer is encoded once, without a model per decision."""
    state = server_state(request)
    asked = [(q.subject, q.purpose, q.at, q.region) for q in body.queries]
    check_batch(state, caller, asked)
    return await batch_answer(state, asked)


def check_batch(state: ServerState, caller: Caller, asked: Sequence[Asked]) -> None:
    """Refuse a batch that is too large, asks about someone the caller may not read about, or names
    a purpose or region the policy does not know; also the hot path's check (server/hotpath.py)."""
    if len(asked) > state.settings.max_batch:
        message = f"{len(asked)} queries; send at most {state.settings.max_batch} per request"
        raise RequestProblems("invalid_request", message, [("queries", message)])
    if not caller.reads_anyone() and not all(map(caller.may_read, {subject for subject, *_ in asked})):
        # Only a refusal needs each query's location: a path string per query cost more than the check.
        subjects = [(f"queries[{i}].subject", subject) for i, (subject, *_) in enumerate(asked)]
        authorize(caller, subjects, write=False, keyring=state.tokens)
    check_batch_queries(
        state.service.policy, [(purpose, region) for _, purpose, _, region in asked], "queries"
    )


async def batch_answer(state: ServerState, asked: Sequence[Asked]) -> Response:
    """The answer of ``POST /v1/decisions/batch`` once :func:`check_batch` passed; also served by
    the hot path."""
    chain = await state.chain.current()
    now = datetime.now(UTC)
    answers = await state.decisions.decide_many(asked, now)
    intact = chain.intact
    stamps = _stamps(now, asked)
    rows = [  # _row's fields, inline: a call per decision showed in the profile of cold batches
        {
            **a,
            "ledger_intact": intact,
            "subject": subject,
            "purpose": purpose,
            "at": stamps[None if at is None else (at, at.utcoffset())],
        }
        for (subject, purpose, at, _), a in zip(asked, answers, strict=True)
    ]
    return Response(to_json({"decisions": rows}), media_type="application/json")


def _stamps(now: datetime, asked: Sequence[Asked]) -> dict[object, str]:
    """Each distinct instant of a batch as the JSON text pydantic writes for it, made once: a
    batch asks about one or a few instants, and writing the same datetime into every row cost 0.5
    of the 1.2 ms of encoding 1,000 answers (docs/benchmarks.md, issue 20, branch cold3). Keyed by
    the instant *and* its offset: 00:00+02:00 and 22:00Z are equal datetimes, written differently."""
    out: dict[object, str] = {None: to_json(now).decode()[1:-1]}
    for at in {(at, at.utcoffset()) for _, _, at, _ in asked if at is not None}:
        out[at] = to_json(at[0]).decode()[1:-1]
    return out
