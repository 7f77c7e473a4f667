"""From what a visitor chose in the TCF banner to the TC string and Google's Additional Consent string.

The TCF rules that decide which bits may be set live here, once: a vendor gets a signal only while it is
in the served Global Vendor List and not deleted, and only for a legal basis it declares (or one a
publisher restriction gives a flexible vendor); vendors declaring special purposes alone keep their
legitimate-interest bit (TCF policy, June 2021); purposes 1, 3, 4, 5 and 6 never carry a legitimate
interest (TCF 2.2). IAB's reference library applies the same clean-ups before it encodes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from consentgate.errors import BadInput
from consentgate.ledger.tcstring import (
    PURPOSES,
    SPECIAL_FEATURES,
    PublisherRestriction,
    PublisherTC,
    RestrictionType,
    TCModel,
    day_of,
    encode,
)
from consentgate.policy.tcf import CONSENT_ONLY_PURPOSES, RestrictionKind, TcfSettings
from consentgate.web.tcf.gvl import Gvl, GvlVendor

_RESTRICTION_TYPES = {
    RestrictionKind.NOT_ALLOWED: RestrictionType.NOT_ALLOWED,
    RestrictionKind.REQUIRE_CONSENT: RestrictionType.REQUIRE_CONSENT,
    RestrictionKind.REQUIRE_LEGITIMATE_INTEREST: RestrictionType.REQUIRE_LI,
}


@dataclass(frozen=True)
class TcfChoices:
    """What the visitor chose on the TCF layers. Objections are to a legitimate interest (the right to
    object, TCF policy): a purpose or vendor not objected to keeps its LI signal."""

    purpose_consents: frozenset[int] = frozenset()
    purpose_objections: frozenset[int] = frozenset()
    special_features: frozenset[int] = frozenset()
    vendor_consents: frozenset[int] = frozenset()
    vendor_objections: frozenset[int] = frozenset()
    google_ac_consents: frozenset[int] = frozenset()
    publisher_consents: frozenset[int] = frozenset()
    publisher_objections: frozenset[int] = frozenset()

    def check(self) -> None:
        """Ids outside the ranges TCF defines are the caller's mistake, said plainly."""
        _in_range("purpose_consents", self.purpose_consents, PURPOSES)
        _in_range("purpose_objections", self.purpose_objections, PURPOSES)
        _in_range("special_features", self.special_features, SPECIAL_FEATURES)
        _in_range("vendor_consents", self.vendor_consents, (1 << 16) - 1)
        _in_range("vendor_objections", self.vendor_objections, (1 << 16) - 1)
        _in_range("google_ac_consents", self.google_ac_consents, None)
        _in_range("publisher_consents", self.publisher_consents, PURPOSES)
        _in_range("publisher_objections", self.publisher_objections, PURPOSES)


def _in_range(name: str, ids: Iterable[int], top: int | None) -> None:
    bad = sorted(i for i in ids if i < 1 or (top is not None and i > top))
    if bad:
        limit = f"1-{top}" if top is not None else "1 and up"
        raise BadInput(f"{name}: {', '.join(map(str, bad))} outside {limit}")


def disclosed_vendors(settings: TcfSettings, gvl: Gvl) -> list[int]:
    """The vendors the banner names: the policy's list (those the served GVL still has), or all."""
    active = gvl.active_vendor_ids()
    return active if settings.vendors is None else sorted(set(settings.vendors) & set(active))


def tc_model(
    choices: TcfChoices,
    settings: TcfSettings,
    gvl: Gvl,
    *,
    language: str,
    created: datetime,
    updated: datetime,
) -> TCModel:
    """The TC string's fields for these choices under this policy and GVL."""
    choices.check()
    if settings.cmp_id is None:
        raise BadInput("web.tcf.cmp_id is not set: the policy must name the CMP id IAB assigned")
    disclosed = set(disclosed_vendors(settings, gvl))
    restrictions = publisher_restrictions(settings, gvl)
    bases = vendor_bases(settings, gvl)
    consents = bases.consent & choices.vendor_consents
    interests = bases.legitimate_interest - choices.vendor_objections
    purpose_li = (
        set(settings.legitimate_interest_purposes) - CONSENT_ONLY_PURPOSES - choices.purpose_objections
    )
    return TCModel(
        created=day_of(created),
        last_updated=day_of(updated),
        cmp_id=settings.cmp_id,
        cmp_version=settings.cmp_version,
        consent_language=consent_language(language),
        vendor_list_version=gvl.vendorListVersion,
        tcf_policy_version=gvl.tcfPolicyVersion,
        publisher_cc=settings.publisher_cc,
        special_feature_optins=choices.special_features,
        purpose_consents=choices.purpose_consents,
        purpose_legitimate_interests=frozenset(purpose_li),
        vendor_consents=frozenset(consents),
        vendor_legitimate_interests=frozenset(interests),
        restrictions=restrictions,
        vendors_disclosed=frozenset(disclosed),
        publisher_tc=_publisher_tc(choices, settings),
    )


def _publisher_tc(choices: TcfChoices, settings: TcfSettings) -> PublisherTC | None:
    """The publisher's own purposes, when the policy declares any (the segment is left out otherwise):
    consent where the visitor gave it, a legitimate interest where they did not object."""
    asked = set(settings.publisher_purposes)
    interests = set(settings.publisher_legitimate_interest_purposes) - CONSENT_ONLY_PURPOSES
    if not asked and not interests:
        return None
    return PublisherTC(
        consents=frozenset(asked & choices.publisher_consents),
        legitimate_interests=frozenset(interests - choices.publisher_objections),
    )


def policy_gaps(settings: TcfSettings, gvl: Gvl) -> list[str]:
    """What ``web.tcf`` names that this GVL cannot carry out: vendors it does not have (or deleted),
    which no TC string will mention, and restrictions that change nothing and are left out."""
    gaps = []
    named = set(settings.vendors or []) | {v for r in settings.restrictions for v in r.vendors}
    missing = sorted(v for v in named if gvl.vendor(v) is None)
    if missing:
        gaps.append(
            f"web.tcf names vendors {', '.join(map(str, missing))}, which GVL {gvl.vendorListVersion} "
            "does not list (or lists as deleted): TC strings will not mention them"
        )
    for i, rule in enumerate(settings.restrictions):
        kind = _RESTRICTION_TYPES[rule.type]
        idle = sorted(
            v
            for v in rule.vendors
            if (vendor := gvl.vendor(v)) and not _restriction_applies(vendor, rule.purpose, kind)
        )
        if idle:
            gaps.append(
                f"web.tcf.restrictions[{i}] ({rule.type.value} for purpose {rule.purpose}) changes nothing "
                f"for vendors {', '.join(map(str, idle))} under GVL {gvl.vendorListVersion}: left out"
            )
    return gaps


@dataclass(frozen=True)
class VendorBases:
    """Of the disclosed vendors: those a consent reaches (a purpose declared on consent, or a flexible
    one the policy's restrictions put on consent) and those with a legitimate interest to signal (a
    purpose on it, a special purpose, or a flexible one the restrictions put on it). A consent to any
    other vendor says nothing the vendor could use, so the service never writes one."""

    consent: frozenset[int]
    legitimate_interest: frozenset[int]


def vendor_bases(settings: TcfSettings, gvl: Gvl) -> VendorBases:
    """What :func:`tc_model` can signal per vendor, whatever the choices (one rule for the string
    written and for the ledger's check of a recorded one)."""
    restrictions = publisher_restrictions(settings, gvl)

    def restricted_to(vendor: GvlVendor, kind: RestrictionType) -> bool:
        return any(vendor.id in r.vendors and r.type == kind for r in restrictions)

    consent, interest = set(), set()
    for vid in disclosed_vendors(settings, gvl):
        vendor = gvl.vendor(vid)
        if vendor is None:
            continue
        flexible = bool(vendor.flexiblePurposes)
        if vendor.purposes or (flexible and restricted_to(vendor, RestrictionType.REQUIRE_CONSENT)):
            consent.add(vid)
        if (
            vendor.legIntPurposes
            or vendor.specialPurposes
            or (flexible and restricted_to(vendor, RestrictionType.REQUIRE_LI))
        ):
            interest.add(vid)
    return VendorBases(frozenset(consent), frozenset(interest))


def publisher_restrictions(settings: TcfSettings, gvl: Gvl) -> tuple[PublisherRestriction, ...]:
    """The policy's restrictions, for the served vendors they change something for (TCF spec,
    "Publisher Restrictions"; IAB's library drops the others the same way)."""
    out: dict[tuple[int, RestrictionType], set[int]] = {}
    for rule in settings.restrictions:
        kind = _RESTRICTION_TYPES[rule.type]
        for vid in rule.vendors:
            vendor = gvl.vendor(vid)
            if vendor is not None and _restriction_applies(vendor, rule.purpose, kind):
                out.setdefault((rule.purpose, kind), set()).add(vid)
    return tuple(PublisherRestriction(p, k, frozenset(v)) for (p, k), v in sorted(out.items()))


def _restriction_applies(vendor: GvlVendor, purpose: int, kind: RestrictionType) -> bool:
    """Forbidding a purpose needs the vendor to use it; switching its legal basis needs the purpose
    flexible and declared under the other basis."""
    if kind == RestrictionType.NOT_ALLOWED:
        return purpose in vendor.purposes or purpose in vendor.legIntPurposes
    if purpose not in vendor.flexiblePurposes:
        return False
    other = vendor.legIntPurposes if kind == RestrictionType.REQUIRE_CONSENT else vendor.purposes
    return purpose in other


def consent_language(locale: str) -> str:
    """The two-letter ISO 639-1 code TC strings carry, from a banner locale such as ``pt-BR``."""
    code = locale.split("-")[0].split("_")[0].upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise BadInput(f"{locale!r} has no two-letter ISO 639-1 language for the TC string (e.g. de, pt-BR)")
    return code


def tc_string(
    choices: TcfChoices,
    settings: TcfSettings,
    gvl: Gvl,
    *,
    language: str,
    created: datetime,
    updated: datetime,
) -> str:
    return encode(tc_model(choices, settings, gvl, language=language, created=created, updated=updated))


def additional_consent(choices: TcfChoices, settings: TcfSettings) -> str:
    """Google's Additional Consent string, specification version 2: ``2~consented~dv.disclosed``.

    The first list holds the Google Ad Tech Providers the visitor consented to; ``dv.`` lists those
    disclosed without consent, so a reader can tell "asked, refused" from "never asked".
    """
    disclosed = set(settings.ac_vendor_ids())
    consented = sorted(disclosed & choices.google_ac_consents)
    refused = sorted(disclosed - choices.google_ac_consents)
    return f"2~{'.'.join(map(str, consented))}~dv.{'.'.join(map(str, refused))}"
