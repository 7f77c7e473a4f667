"""One person: current state per purpose, the evidence of what they chose, and their identifiers.

``{subject}`` may contain slashes (percent-encoded or not): subject ids are the caller's, not ours.
State and evidence need a read or admin key, or a subject token for exactly this subject (what the
privacy center sends); linking identifiers needs an admin key, since a link merges two people's
choices.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response, status

from consentgate.server.auth import ADMIN, READ, Caller, authorize
from consentgate.server.checks import check_queries, decision_out
from consentgate.server.deps import INTACT_CHAIN, Chain, Service, Tokens
from consentgate.server.errors import COMMON_RESPONSES
from consentgate.server.schemas.common import IDENTIFIER_PATTERN, Identifier, ZonedTime
from consentgate.server.schemas.decisions import QueryRegion, SubjectState
from consentgate.server.schemas.subjects import AliasLink, AliasLinked

router = APIRouter(prefix="/v1/subjects", tags=["subjects"], responses=COMMON_RESPONSES)

SubjectId = Annotated[
    Identifier,
    Path(
        min_length=1,
        max_length=256,
        description="The person's identifier or an alias.",
        json_schema_extra={"pattern": IDENTIFIER_PATTERN},
    ),
]
At = Annotated[ZonedTime | None, Query(description="ISO 8601 with a time zone; defaults to now.")]
Reader = Annotated[Caller, Depends(READ)]


@router.get("/{subject:path}/state", summary="Every purpose's decision for one person")
def state(
    service: Service,
    caller: Reader,
    tokens: Tokens,
    chain: Chain,
    subject: SubjectId,
    at: At = None,
    region: Annotated[QueryRegion | None, Query()] = None,
) -> SubjectState:
    authorize(caller, [("subject", subject)], write=False, keyring=tokens)
    when = at or datetime.now(UTC)
    if region is not None:
        check_queries(service.policy, [("", None, region)])
    decisions = service.state(subject, when, region)
    return SubjectState(
        subject=subject,
        at=when,
        region=region,
        known=service.knows(subject),
        purposes={p: decision_out(d, chain.intact) for p, d in decisions.items()},
    )


@router.get(
    "/{subject:path}/evidence",
    summary="Proof of what one person chose",
    response_description="Every event with the exact wording shown (ISO/IEC TS 27560 field names where "
    "they map), the current decisions, and a check that the events' hash chain is intact. For an "
    "identifier the ledger knows nothing about: 200 with `known: false` and `chain.intact: null` "
    "(nothing was verified).",
)
def evidence(
    service: Service, caller: Reader, tokens: Tokens, chain: Chain, subject: SubjectId, at: At = None
) -> dict[str, Any]:
    authorize(caller, [("subject", subject)], write=False, keyring=tokens)
    out = service.evidence(subject, at)
    # The subject's own events were checked link by link (chain.intact); the whole ledger by the
    # service's chain check: an intact stretch inside an altered ledger is not proof.
    for decision in out["current"].values():
        decision["ledger_intact"] = chain.intact
    out["ledger_intact"] = chain.intact
    out["chain"]["ledger"] = chain.to_json()
    return out


@router.post(
    "/{subject:path}/aliases",
    dependencies=[Depends(ADMIN), INTACT_CHAIN],
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
