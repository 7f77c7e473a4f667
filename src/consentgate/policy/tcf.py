"""``web.tcf``: the policy settings that make the banner an IAB TCF v2.3 CMP (docs/tcf.md)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from consentgate.policy.terms import web_address

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


class GoogleAcVendor(_Closed):
    """A Google Ad Tech Provider with the words the layers show for it; the operator copies them from
    Google's published ATP list (consentgate does not fetch it)."""

    id: Annotated[int, Field(ge=1)] = Field(description="The provider's id in Google's ATP list.")
    name: str | None = Field(
        default=None, min_length=1, max_length=200, description="Its name, as Google's ATP list gives it."
    )
    privacy_url: str | None = Field(default=None, description="Its privacy policy, an http(s) address.")

    @field_validator("privacy_url")
    @classmethod
    def _web_address(cls, url: str | None) -> str | None:
        return web_address(url, "https://ads.example.com/privacy")


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
    stacks: list[Annotated[int, Field(ge=1)]] | Literal["auto"] = Field(
        default_factory=list,
        description="GVL stacks the first layer shows instead of their purposes and special features one "
        "by one: stack ids of the served GVL (none overlapping, each only of purposes and special features "
        "the disclosed vendors or the publisher use), or auto for the fewest such stacks covering the most; "
        "the second layer still offers every purpose on its own.",
    )
    google_ac_vendors: list[Annotated[int, Field(ge=1)] | GoogleAcVendor] = Field(
        default_factory=list,
        description="Google Ad Tech Providers (not in the GVL) disclosed for Google's Additional Consent "
        "string (addtl_consent), each with its own switch in the layers: an id, or {id, name, "
        "privacy_url} with the words Google's ATP list gives.",
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

    @field_validator("stacks")
    @classmethod
    def _stacks_once(cls, stacks: list[int] | str) -> list[int] | str:
        if isinstance(stacks, list) and (twice := sorted({i for i in stacks if stacks.count(i) > 1})):
            raise ValueError(f"stacks {', '.join(map(str, twice))} are listed more than once; list each once")
        return stacks

    @field_validator("google_ac_vendors")
    @classmethod
    def _ac_once(cls, entries: list[int | GoogleAcVendor]) -> list[int | GoogleAcVendor]:
        ids = [e if isinstance(e, int) else e.id for e in entries]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            listed = ", ".join(map(str, twice))
            raise ValueError(f"providers {listed} are listed more than once; list each once")
        return entries

    def ac_vendors(self) -> list[GoogleAcVendor]:
        """The Google ATPs the layers disclose, in the policy's order, whichever form each is given in."""
        return [GoogleAcVendor(id=e) if isinstance(e, int) else e for e in self.google_ac_vendors]

    def ac_vendor_ids(self) -> list[int]:
        return sorted(v.id for v in self.ac_vendors())

    @model_validator(mode="after")
    def _registered(self) -> TcfSettings:
        if self.enabled and self.cmp_id is None:
            raise ValueError(
                "web.tcf.enabled needs cmp_id: the id IAB Europe assigns a registered CMP (docs/tcf.md)"
            )
        return self


# TCF 2.2 (policy version 4) took the legitimate interest away from these purposes.
CONSENT_ONLY_PURPOSES = frozenset({1, 3, 4, 5, 6})
