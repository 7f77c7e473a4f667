"""One person: current state per purpose, the evidence of what they chose, and their identifiers.

``{subject}`` may contain slashes (percent-encoded or not): subject ids are the caller's, not ours.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response, status

from consentgate.server.auth import ADMIN, READ
from consentgate.server.checks import check_queries, decision_out
from consentgate.server.deps import Service
from consentgate.server.errors import COMMON_RESPONSES
from consentgate.server.schemas.common import ZonedTime
from consentgate.server.schemas.decisions import QueryRegion, SubjectState
from consentgate.server.schemas.subjects import AliasLink, AliasLinked

router = APIRouter(prefix="/v1/subjects", tags=["subjects"], responses=COMMON_RESPONSES)

SubjectId = Annotated[
    str, Path(min_length=1, max_length=256, description="The person's identifier or an alias.")
]
At = Annotated[ZonedTime | None, Query(description="ISO 8601 with a time zone; defaults to now.")]


@router.get(
    "/{subject:path}/state", dependencies=[Depends(READ)], summary="Every purpose's decision for one person"
)
def state(
    service: Service, subject: SubjectId, at: At = None, region: Annotated[QueryRegion | None, Query()] = None
) -> SubjectState:
    when = at or datetime.now(UTC)
    if region is not None:
        check_queries(service.policy, [("", None, region)])
    decisions = service.state(subject, when, region)
    return SubjectState(
        subject=subject, at=when, region=region, purposes={p: decision_out(d) for p, d in decisions.items()}
    )


@router.get(
    "/{subject:path}/evidence",
    dependencies=[Depends(READ)],
    summary="Proof of what one person chose",
    response_description="Every event with the exact wording shown (ISO/IEC TS 27560 field names where "
    "they map), the current decisions, and a check that the events' hash chain is intact.",
)
def evidence(service: Service, subject: SubjectId, at: At = None) -> dict[str, Any]:
    return service.evidence(subject, at)


@router.post(
    "/{subject:path}/aliases",
    dependencies=[Depends(ADMIN)],
    status_code=status.HTTP_201_CREATED,
    summary="Link another identifier to this person",
    responses={200: {"model": AliasLinked, "description": "The link already existed"}},
)
def link_alias(service: Service, subject: SubjectId, body: AliasLink, response: Response) -> AliasLinked:
    """Choices made under either identifier then count for both (e.g. a cookie id and an account id)."""
    created = service.link(body.alias, subject, body.kind)
    if not created:
        response.status_code = status.HTTP_200_OK
    return AliasLinked(subject=subject, alias=body.alias, kind=body.kind, created=created)
