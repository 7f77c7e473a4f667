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

from consentgate.ledger.intake import CONTROL_CHARS, control_chars_problem, parse_time

EXAMPLE_TIME = "2026-05-01T12:00:00+02:00"


def _zoned(value: Any, info: ValidationInfo) -> datetime:
    # intake's parser, so the API and the JSONL import reject the same timestamps with the same words.
    return parse_time(value, info.field_name or "time")


def _label(value: Any) -> str:
    # JSON true would pass as the integer 1 in pydantic's lax mode; a version label is never a boolean.
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value).strip() == "":
        raise ValueError(f'must be a notice version label such as 2 or "2", got {value!r}')
    return str(value).strip()


ZonedTime = Annotated[
    datetime,
    BeforeValidator(_zoned),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": [EXAMPLE_TIME]}),
]
"""ISO 8601 with a time zone (``Z`` or ``+02:00``): evidence must say when the person acted, wherever."""

VersionLabel = Annotated[
    str,
    BeforeValidator(_label),
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

Subject = Annotated[
    Identifier,
    Field(
        min_length=1,
        max_length=256,
        description="The person's identifier: an account id, a cookie id or another alias.",
        examples=["user-42@example.com"],
        json_schema_extra={"pattern": IDENTIFIER_PATTERN},
    ),
]

Region = Annotated[
    str,
    Field(
        min_length=2,
        max_length=8,
        description="ISO 3166 code where the person is: a country (DE) or a subdivision (US-CA).",
        examples=["DE"],
    ),
]


class StrictModel(BaseModel):
    """Unknown fields are errors: a misspelt ``notice_verison`` must not silently record no version."""

    model_config = ConfigDict(extra="forbid")
