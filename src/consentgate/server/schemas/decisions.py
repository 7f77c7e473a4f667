"""Bodies of the decision endpoints: ``/v1/decisions``, its batch variant, and a subject's state."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from consentgate.server.schemas.common import StrictModel, Subject, ZonedTime

QueryRegion = Annotated[
    str,
    Field(
        min_length=2,
        max_length=32,
        description="ISO 3166 code (DE, US-CA) or a region id of the policy (EU); "
        "defaults to the latest event's.",
        examples=["US-CA"],
    ),
]


class DecisionQuery(StrictModel):
    subject: Subject
    purpose: str = Field(min_length=1, max_length=128, description="A purpose id from the policy.")
    at: ZonedTime | None = Field(default=None, description="The moment asked about; defaults to now.")
    region: QueryRegion | None = None


class DecisionBatch(StrictModel):
    queries: list[DecisionQuery] = Field(
        min_length=1,
        description="At most the server's max_batch queries; answers come back in the same order.",
        examples=[[{"subject": "user-42@example.com", "purpose": "train_support_chatbot"}]],
    )


class DecisionOut(BaseModel):
    """The decision JSON of docs/decisions.md, plus the question it answers."""

    allowed: bool
    basis: str | None = Field(
        description="The lawful basis that applied, or null when the policy gives none."
    )
    region: str = Field(description="The policy's region group the decision used.")
    reason: str = Field(description="One line a person can read.")
    evidence_event: str | None = Field(description="Id of the event that decided it, if one did.")
    ledger_intact: bool | None = Field(
        description="Whether the service's latest check found the ledger's hash chain intact: false "
        "means the events this decision rests on may have been altered; null means the first check "
        "since start-up has not finished."
    )


class AnsweredDecision(DecisionOut):
    subject: str
    purpose: str
    at: datetime


class DecisionList(BaseModel):
    decisions: list[AnsweredDecision]


class SubjectState(BaseModel):
    subject: str
    at: datetime
    region: str | None = Field(description="The region asked about, or null for each purpose's default.")
    known: bool = Field(
        description="False when the ledger holds nothing under this identifier (no event, link or "
        "erasure): the decisions are then the policy's defaults for someone who never chose."
    )
    purposes: dict[str, DecisionOut] = Field(description="Every purpose of the policy, by id.")
