"""Bodies of the credential endpoints: ``POST /v1/tokens`` and ``POST /v1/visitors``."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from consentgate.auth.tokens import DEFAULT_TTL, MAX_TTL
from consentgate.server.schemas.common import StrictModel, Subject


class TokenRequest(StrictModel):
    subject: Subject
    ttl_seconds: int = Field(
        default=DEFAULT_TTL,
        ge=1,
        le=MAX_TTL,
        strict=True,
        description=f"Lifetime in seconds, at most {MAX_TTL} (24 hours). Mint a fresh token per session "
        "rather than a long-lived one: a stolen token works until it expires.",
        examples=[3600],
    )


class IssuedToken(BaseModel):
    token: str = Field(description="Send it as the X-Consentgate-Subject-Token header. Never stored.")
    subject: str
    expires_at: datetime


class VisitorId(BaseModel):
    visitor_id: str = Field(
        description="An anonymous subject id this server issued; a collect key may record choices for it."
    )
    cookie: str = Field(description="Name of the first-party cookie that carries it (HttpOnly).")
    created: bool = Field(description="False when the request's cookie already held a valid visitor id.")
