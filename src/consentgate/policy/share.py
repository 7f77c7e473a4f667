"""``web.share``: the domains of one site group, whose visitors' choices follow them between domains."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
)


class ShareSettings(BaseModel):
    # Closed like every policy model: a misspelt key is an error, never a silently ignored setting.
    model_config = ConfigDict(extra="forbid", frozen=True)

    domains: list[str] = Field(
        min_length=2,
        description="Host names of one site group, e.g. www.example.com and shop.example.net; a host "
        "also matches its subdomains. A choice made on one applies on the others (docs/web.md).",
    )
    handoff_seconds: int = Field(
        default=60,
        ge=5,
        le=600,
        description="How long a hand-off link stays redeemable; it is redeemed once, on arrival.",
    )

    @field_validator("domains")
    @classmethod
    def _host_names(cls, domains: list[str]) -> list[str]:
        cleaned = []
        for d in domains:
            host = d.strip().lower().rstrip(".")
            if not _HOSTNAME.match(host):
                raise ValueError(
                    f"{d!r} is not a host name such as www.example.com (no scheme, port or path)"
                )
            if host not in cleaned:
                cleaned.append(host)
        if len(cleaned) < 2:
            raise ValueError("a site group needs at least two different domains")
        return cleaned

    def domain_of(self, host: str) -> str | None:
        """The group's domain ``host`` belongs to (itself or a subdomain of it), else None."""
        host = host.strip().lower().rstrip(".")
        for d in self.domains:
            if host == d or host.endswith("." + d):
                return d
        return None
