"""Field types shared by several request bodies and query parameters."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
)

from consentgate.ledger.intake import (
    CONTROL_CHARS,
    MAX_LOCALE,
    MAX_SUBJECT,
    control_chars_problem,
    parse_time,
    version_label,
)
from consentgate.policy.models import region_code, region_problem

EXAMPLE_TIME = "2026-05-01T12:00:00+02:00"


def _zoned(value: Any, info: ValidationInfo) -> datetime:
    # intake's parser, so the API and the JSONL import reject the same timestamps with the same words.
    return parse_time(value, info.field_name or "time")


ZonedTime = Annotated[
    datetime,
    BeforeValidator(_zoned),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": [EXAMPLE_TIME]}),
]
"""ISO 8601 with a time zone (``Z`` or ``+02:00``): evidence must say when the person acted, wherever."""

VersionLabel = Annotated[
    str,
    BeforeValidator(version_label),
    WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string"}], "examples": [2]}),
]


def _printable(value: str) -> str:
    problem = control_chars_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


IDENTIFIER_PATTERN = f"^[^{CONTROL_CHARS}]+$"
Identifier = Annotated[str, AfterValidator(_printable)]
"""An id the caller chose (subject, alias): no control characters, so it fits in a URL path and a log."""

_SUBJECT = "The person's identifier: an account id, a cookie id or another alias."
Subject = Annotated[
    Identifier,
    Field(
        min_length=1,
        max_length=256,
        description=_SUBJECT,
        examples=["user-42@example.com"],
        json_schema_extra={"pattern": IDENTIFIER_PATTERN},
    ),
]

# The fields of a submitted event are plain strings here: intake's rules check them (ledger/intake.py),
# so POST /v1/consents and `consentgate record` refuse the same values with the same words, as one
# invalid_event listing every problem. The schema keeps the limits as documentation.
EventSubject = Annotated[
    str,
    Field(
        description=_SUBJECT,
        examples=["user-42@example.com"],
        json_schema_extra={"minLength": 1, "maxLength": MAX_SUBJECT, "pattern": IDENTIFIER_PATTERN},
    ),
]
Region = Annotated[
    str,
    Field(
        description="ISO 3166 code where the person is: a country (DE) or a subdivision (US-CA).",
        examples=["DE"],
        json_schema_extra={"minLength": 2, "maxLength": 8},
    ),
]
Locale = Annotated[
    str,
    Field(
        description="Language of the wording shown (BCP 47). Without it the evidence says the language "
        "was not recorded.",
        examples=["de-AT"],
        json_schema_extra={"maxLength": MAX_LOCALE},
    ),
]
Source = Annotated[
    str,
    Field(
        description="Where the choice was made: banner, toggle, form, privacy_center, api, import, …",
        json_schema_extra={"maxLength": 32},
    ),
]


class StrictModel(BaseModel):
    """Unknown fields are errors: a misspelt ``notice_verison`` must not silently record no version."""

    model_config = ConfigDict(extra="forbid")


def _iso_region(value: str) -> str:
    code = region_code(value)
    if code is None:
        raise ValueError(region_problem(value))
    return code


IsoRegion = Annotated[str, AfterValidator(_iso_region)]
"""An ISO 3166 code checked by the one region rule and returned in canonical form (``us-ca`` → ``US-CA``)."""
