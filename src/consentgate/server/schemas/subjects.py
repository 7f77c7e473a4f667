"""Bodies of the per-subject endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from consentgate.server.schemas.common import IDENTIFIER_PATTERN, Identifier, StrictModel

# The same list as identity.ALIAS_KINDS; tests/server pin that they agree.
AliasKind = Literal[
    "cookie_id", "device_id", "email_hash", "account_id", "visitor_id", "shared_domain", "other"
]


class AliasLink(StrictModel):
    alias: Identifier = Field(
        min_length=1,
        max_length=256,
        description="Another identifier of the same person, e.g. the banner's cookie id after login.",
        examples=["cookie-7f3a"],
        json_schema_extra={"pattern": IDENTIFIER_PATTERN},
    )
    kind: AliasKind = Field(default="other", description="What kind of identifier the alias is.")


class AliasLinked(BaseModel):
    subject: str
    alias: str
    kind: str
    created: bool = Field(description="False when the link already existed (linking is idempotent).")
