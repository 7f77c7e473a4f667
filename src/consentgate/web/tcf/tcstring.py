"""The TC string of IAB TCF v2.3: a core segment, the disclosed-vendors segment (mandatory since 2.3)
and, where the publisher uses its own purposes, the publisher-TC segment.

The encoder writes exactly the values it is given; which values a person's choices allow (vendors in
the Global Vendor List, the legal bases each vendor declares, the purposes that may never rest on a
legitimate interest) is decided in :mod:`consentgate.web.tcf.signals`, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum

from consentgate.web.tcf._bits import Bits, ranges, write_range_entries, write_vendor_section

TCF_VERSION = 2  # the string's format version; TCF 2.2 and 2.3 both write 2
PURPOSES = 11  # TCF purposes 1-11 (24 bits are reserved for them)
SPECIAL_FEATURES = 2  # special features 1-2 (12 bits reserved)
_SEGMENT_DISCLOSED = 1
_SEGMENT_PUBLISHER_TC = 3


class RestrictionType(IntEnum):
    """Publisher restriction types (spec, "Publisher Restrictions")."""

    NOT_ALLOWED = 0
    REQUIRE_CONSENT = 1
    REQUIRE_LI = 2


@dataclass(frozen=True)
class PublisherRestriction:
    purpose: int
    type: RestrictionType
    vendors: frozenset[int]


@dataclass(frozen=True)
class PublisherTC:
    """The publisher's own purposes (TCF purposes the publisher itself uses, and custom purposes)."""

    consents: frozenset[int] = frozenset()
    legitimate_interests: frozenset[int] = frozenset()
    custom_purposes: int = 0
    custom_consents: frozenset[int] = frozenset()
    custom_legitimate_interests: frozenset[int] = frozenset()


@dataclass(frozen=True)
class TCModel:
    """Every field of a TC string, as IAB's spec names them; ids are the ones that are set."""

    created: datetime
    last_updated: datetime
    cmp_id: int
    cmp_version: int
    consent_language: str
    vendor_list_version: int
    tcf_policy_version: int
    publisher_cc: str
    consent_screen: int = 1
    is_service_specific: bool = True
    use_non_standard_texts: bool = False
    purpose_one_treatment: bool = False
    special_feature_optins: frozenset[int] = frozenset()
    purpose_consents: frozenset[int] = frozenset()
    purpose_legitimate_interests: frozenset[int] = frozenset()
    vendor_consents: frozenset[int] = frozenset()
    vendor_legitimate_interests: frozenset[int] = frozenset()
    restrictions: tuple[PublisherRestriction, ...] = ()
    vendors_disclosed: frozenset[int] = frozenset()
    publisher_tc: PublisherTC | None = field(default=None)


def deciseconds(moment: datetime) -> int:
    """Deciseconds since the epoch, the unit of Created and LastUpdated."""
    return int(moment.astimezone(UTC).timestamp() * 10)


def day_of(moment: datetime) -> datetime:
    """Midnight UTC of the day: TCF 2.2+ CMPs write Created and LastUpdated at day precision so the
    timestamps cannot serve to fingerprint a person (IAB's reference library does the same)."""
    day = moment.astimezone(UTC)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def encode(model: TCModel) -> str:
    """The TC string: core, disclosed vendors, and publisher TC when the model has one."""
    segments = [_core(model), _disclosed(model)]
    if model.publisher_tc is not None:
        segments.append(_publisher(model.publisher_tc))
    return ".".join(seg.base64url() for seg in segments)


def _core(m: TCModel) -> Bits:
    bits = Bits()
    bits.number(TCF_VERSION, 6)
    bits.number(deciseconds(m.created), 36)
    bits.number(deciseconds(m.last_updated), 36)
    bits.number(m.cmp_id, 12)
    bits.number(m.cmp_version, 12)
    bits.number(m.consent_screen, 6)
    bits.letters(m.consent_language)
    bits.number(m.vendor_list_version, 12)
    bits.number(m.tcf_policy_version, 6)
    bits.flag(m.is_service_specific)
    bits.flag(m.use_non_standard_texts)
    bits.flags(m.special_feature_optins, 12)
    bits.flags(m.purpose_consents, 24)
    bits.flags(m.purpose_legitimate_interests, 24)
    bits.flag(m.purpose_one_treatment)
    bits.letters(m.publisher_cc)
    write_vendor_section(bits, m.vendor_consents)
    write_vendor_section(bits, m.vendor_legitimate_interests)
    kept = [r for r in m.restrictions if r.vendors]
    bits.number(len(kept), 12)
    for restriction in sorted(kept, key=lambda r: (r.purpose, r.type)):
        bits.number(restriction.purpose, 6)
        bits.number(restriction.type, 2)
        write_range_entries(bits, ranges(restriction.vendors))
    return bits


def _disclosed(m: TCModel) -> Bits:
    bits = Bits()
    bits.number(_SEGMENT_DISCLOSED, 3)
    write_vendor_section(bits, m.vendors_disclosed)
    return bits


def _publisher(p: PublisherTC) -> Bits:
    bits = Bits()
    bits.number(_SEGMENT_PUBLISHER_TC, 3)
    bits.flags(p.consents, 24)
    bits.flags(p.legitimate_interests, 24)
    bits.number(p.custom_purposes, 6)
    bits.flags(p.custom_consents, p.custom_purposes)
    bits.flags(p.custom_legitimate_interests, p.custom_purposes)
    return bits
