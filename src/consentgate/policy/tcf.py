"""``web.tcf``: the policy settings that make the banner an IAB TCF v2.3 CMP (docs/tcf.md)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

VendorId = Annotated[int, Field(ge=1, lt=1 << 16)]
TcfPurposeId = Annotated[int, Field(ge=1, le=11)]


class _Closed(BaseModel):
    # Closed like every policy model: a misspelt key is an error, never a silently ignored setting.
    model_config = ConfigDict(extra="forbid", frozen=True)


class RestrictionKind(StrEnum):
    NOT_ALLOWED = "not_allowed"
    REQUIRE_CONSENT = "require_consent"
    REQUIRE_LEGITIMATE_INTEREST = "require_legitimate_interest"


class TcfRestriction(_Closed):
    purpose: TcfPurposeId = Field(description="TCF purpose (1-11) the restriction applies to.")
    type: RestrictionKind = Field(
        description="not_allowed: the vendors may not process for the purpose at all; require_consent / "
        "require_legitimate_interest: a flexible vendor must use this legal basis."
    )
    vendors: list[VendorId] = Field(min_length=1, description="GVL vendor ids the restriction applies to.")


class TcfSettings(_Closed):
    enabled: bool = Field(default=False, description="Make the banner an IAB TCF v2.3 CMP (loads tcf.js).")
    cmp_id: int | None = Field(
        default=None,
        ge=2,
        lt=1 << 12,
        description="The CMP id IAB Europe assigned at registration; strings with an unregistered id are "
        "rejected by vendors (docs/tcf.md).",
    )
    cmp_version: int = Field(default=1, ge=1, lt=1 << 12, description="This CMP's version, raised on each "
                             "change to what the banner shows.")  # fmt: skip
    publisher_cc: str = Field(
        default="AA",
        pattern=r"^[A-Z]{2}$",
        description="The publisher's country, ISO 3166-1 alpha-2 (AA when unknown, as the spec allows).",
    )
    vendors: list[VendorId] | None = Field(
        default=None,
        description="GVL vendor ids this site works with (disclosed to the visitor); all vendors of the "
        "served GVL when left out.",
    )
    restrictions: list[TcfRestriction] = Field(
        default_factory=list, description="Publisher restrictions written into every TC string."
    )
    legitimate_interest_purposes: list[TcfPurposeId] = Field(
        default_factory=list,
        description="TCF purposes the publisher discloses a legitimate interest for (never 1, 3, 4, 5 "
        "or 6: TCF 2.2 allows only consent for them); the visitor can object to each.",
    )
    publisher_purposes: list[TcfPurposeId] = Field(
        default_factory=list,
        description="TCF purposes the publisher itself processes for on consent; with these (or "
        "publisher_legitimate_interest_purposes) TC strings carry the publisher-TC segment.",
    )
    publisher_legitimate_interest_purposes: list[TcfPurposeId] = Field(
        default_factory=list,
        description="TCF purposes the publisher itself processes for on a legitimate interest (never 1, "
        "3, 4, 5 or 6); the visitor can object to each.",
    )
    google_ac_vendors: list[Annotated[int, Field(ge=1)]] = Field(
        default_factory=list,
        description="Google Ad Tech Provider ids (not in the GVL) disclosed for Google's Additional "
        "Consent string (addtl_consent).",
    )

    @field_validator("legitimate_interest_purposes", "publisher_legitimate_interest_purposes")
    @classmethod
    def _li_allowed(cls, purposes: list[int]) -> list[int]:
        refused = sorted(set(purposes) & CONSENT_ONLY_PURPOSES)
        if refused:
            raise ValueError(
                f"purposes {', '.join(map(str, refused))} cannot rest on a legitimate interest under "
                "TCF 2.2 and later; ask for consent instead"
            )
        return purposes

    @model_validator(mode="after")
    def _registered(self) -> TcfSettings:
        if self.enabled and self.cmp_id is None:
            raise ValueError(
                "web.tcf.enabled needs cmp_id: the id IAB Europe assigns a registered CMP (docs/tcf.md)"
            )
        return self


# TCF 2.2 (policy version 4) took the legitimate interest away from these purposes.
CONSENT_ONLY_PURPOSES = frozenset({1, 3, 4, 5, 6})
