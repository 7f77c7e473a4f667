"""Bodies of ``POST /v1/consents`` and ``POST /v1/consents/batch``.

A submission is what one person did at one moment: either *choices* (one per purpose, each stored as
its own event) or one *subject-level action* (``gpc``) that concerns every purpose. The two are
mutually exclusive so one submission is one kind of fact; send both kinds in a batch.

``erase`` stays in the schema so that intake, not the schema, refuses it: the answer is then the same
``invalid_event`` that ``consentgate record --action erase`` gives, naming ``POST /v1/requests``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from consentgate.ledger.intake import purpose_twice, repeated
from consentgate.ledger.signals import Signals
from consentgate.server.schemas.common import (
    EXAMPLE_TIME,
    EventSubject,
    Locale,
    Region,
    Source,
    StrictModel,
    VersionLabel,
    ZonedTime,
)

PurposeAction = Literal["grant", "deny", "withdraw", "object", "opt_out"]
SubjectAction = Literal["gpc", "erase"]

_NOTICE_ID = "Id of the notice shown (defaults to the purpose's notice)."
_NOTICE_VERSION = "Version of the notice the person saw; a grant needs it."
_WORDING_HASH = "sha256 (hex) of the exact wording shown; checked against the policy's text for that version."


class Choice(StrictModel):
    """The person's choice for one purpose; give ``action``, or ``allowed`` for a simple toggle."""

    purpose: str = Field(
        description="A purpose id from the policy.", json_schema_extra={"minLength": 1, "maxLength": 128}
    )
    action: PurposeAction | None = Field(
        default=None,
        description="What the person did: grant, deny, withdraw, object or opt_out.",
    )
    allowed: bool | None = Field(
        default=None,
        description="Toggle shorthand: true records a grant, false a deny. Use instead of action.",
    )
    notice_id: str | None = Field(
        default=None, max_length=128, description=_NOTICE_ID + " Overrides the top level."
    )
    notice_version: VersionLabel | None = Field(
        default=None, description=_NOTICE_VERSION + " Overrides the top level."
    )
    wording_hash: str | None = Field(
        default=None, max_length=64, description=_WORDING_HASH + " Overrides the top level."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"purpose": "train_support_chatbot", "action": "grant"},
                {"purpose": "marketing", "allowed": False},
            ]
        }
    )

    @model_validator(mode="after")
    def _one_way_to_say_it(self) -> Choice:
        if (self.action is None) == (self.allowed is None):
            raise ValueError(
                "give either action (grant, deny, withdraw, object, opt_out) or allowed (true/false)"
            )
        return self

    @property
    def resolved_action(self) -> str:
        if self.action is not None:
            return self.action
        return "grant" if self.allowed else "deny"


class Submission(StrictModel):
    """One person's choices at one moment, or one subject-level action."""

    subject: EventSubject
    occurred_at: ZonedTime | None = Field(
        default=None, description="When the person acted, with a time zone. Defaults to the server's clock."
    )
    region: Region | None = None
    locale: Locale | None = None
    source: Source = "api"
    signals: Signals | None = Field(
        default=None,
        description=(
            "Facts about the request, from a closed list: gpc, via, do_not_train, consent_mode, "
            "request_id, banner_choice, tc_string, addtl_consent (the TCF strings; the TC string is "
            "decoded and must be one the service wrote, docs/tcf.md). "
            "Nothing free-form: signals are hashed into the ledger, where erasure cannot reach."
        ),
        examples=[{"gpc": True, "via": "header"}],
    )
    notice_id: str | None = Field(default=None, max_length=128, description=_NOTICE_ID)
    notice_version: VersionLabel | None = Field(default=None, description=_NOTICE_VERSION)
    wording_hash: str | None = Field(default=None, max_length=64, description=_WORDING_HASH)
    choices: list[Choice] | None = Field(
        default=None,
        min_length=1,
        description="One choice per purpose; each becomes one event. Mutually exclusive with action.",
    )
    action: SubjectAction | None = Field(
        default=None,
        description=(
            "A subject-level event instead of choices: gpc (the request carried Global Privacy Control; "
            "signals.gpc defaults to true). erase is refused with 422: erasure is a data-subject "
            "request (POST /v1/requests), which also suppresses the person and reaches their data."
        ),
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "subject": "user-42@example.com",
                    "occurred_at": EXAMPLE_TIME,
                    "region": "DE",
                    "locale": "de",
                    "source": "banner",
                    "notice_version": 2,
                    "choices": [
                        {"purpose": "train_support_chatbot", "action": "grant"},
                        {"purpose": "finetune_recommender", "allowed": False},
                    ],
                },
                {"subject": "cookie-7f3a", "region": "US-CA", "action": "gpc", "signals": {"gpc": True}},
            ]
        }
    )

    @model_validator(mode="after")
    def _choices_or_action(self) -> Submission:
        if self.choices is None and self.action is None:
            raise ValueError(
                "needs choices (a list of {purpose, action or allowed}) or the subject-level action gpc"
            )
        if self.choices is not None and self.action is not None:
            raise ValueError(
                "give choices or a subject-level action, not both; send two submissions in a batch"
            )
        if twice := repeated(c.purpose for c in self.choices or ()):
            raise ValueError(purpose_twice(twice))
        return self


class SubmissionBatch(StrictModel):
    """Many submissions stored all-or-nothing in one transaction (the fast path for importers)."""

    submissions: list[Submission] = Field(
        min_length=1, description="At most the server's max_batch submissions."
    )


class RecordedEvent(BaseModel):
    event_id: str = Field(description="Id of the stored event; decisions cite it as evidence_event.")
    seq: int = Field(description="Position in the hash chain.")
    purpose: str | None = Field(description="The purpose, or null for a subject-level event.")
    action: str
    notice_id: str | None
    notice_version: str | None
    wording_hash: str | None = Field(description="sha256 of the exact wording stored with the event.")
    hash: str = Field(description="The event's chain hash.")


class Receipt(BaseModel):
    """What was stored, in the order of the choices."""

    events: list[RecordedEvent]
    recorded_at: datetime


class SubmissionReceipt(BaseModel):
    events: list[RecordedEvent]


class BatchReceipt(BaseModel):
    """One entry per submission, in request order."""

    submissions: list[SubmissionReceipt]
    events_recorded: int
    recorded_at: datetime
