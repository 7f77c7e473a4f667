"""The TC string of IAB TCF v2.3: a core segment, the disclosed-vendors segment (mandatory since 2.3)
and, where the publisher uses its own purposes, the publisher-TC segment (IAB TCF "Consent string and
vendor list formats v2.3", sections "Core string", "Disclosed vendors", "Publisher TC" and "Base64url
encoding").

The encoder writes exactly the values it is given; which values a person's choices allow (vendors in
the Global Vendor List, the legal bases each vendor declares, the purposes that may never rest on a
legitimate interest) is decided in :mod:`consentgate.web.tcf.signals`, once. The decoder reads a string
back into the same model, so the ledger can refuse a string the service could not have written
(:func:`issuer_problems`). Both live here, below the ledger, because intake decodes what it stores.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Protocol

from consentgate.errors import BadInput
from consentgate.policy.tcf import CONSENT_ONLY_PURPOSES, TcfSettings

# IAB's reference library pads a segment to a multiple of 24 bits (whole bytes and whole base64
# characters at once) before encoding; decoders ignore the padding, and matching it keeps our strings
# byte-identical with the library's wherever both pick the same vendor encoding.
_PAD_TO = 24


class Bits:
    """An append-only string of bits, written field by field in the order the spec lists them."""

    def __init__(self) -> None:
        self._bits: list[str] = []

    def number(self, value: int, width: int) -> None:
        if value < 0 or value >= 1 << width:
            raise ValueError(f"{value} does not fit in {width} bits")
        self._bits.append(format(value, f"0{width}b"))

    def flag(self, value: bool) -> None:
        self._bits.append("1" if value else "0")

    def flags(self, ids: Iterable[int], count: int) -> None:
        """A fixed bitfield for ids 1..count (bit i-1 set when id i is in ``ids``)."""
        chosen = set(ids)
        self._bits.append("".join("1" if i in chosen else "0" for i in range(1, count + 1)))

    def letters(self, text: str) -> None:
        """Two letters A-Z as 6-bit numbers from A=0 (consent language, publisher country)."""
        for char in text:
            self.number(ord(char) - ord("A"), 6)

    def __len__(self) -> int:
        return sum(len(b) for b in self._bits)

    def base64url(self) -> str:
        text = "".join(self._bits)
        text += "0" * (-len(text) % _PAD_TO)
        raw = int(text, 2).to_bytes(len(text) // 8, "big") if text else b""
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def ranges(ids: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted ids folded into inclusive runs of consecutive ids: 1,2,3,7 -> (1, 3), (7, 7)."""
    out: list[tuple[int, int]] = []
    for vid in sorted(set(ids)):
        if out and out[-1][1] == vid - 1:
            out[-1] = (out[-1][0], vid)
        else:
            out.append((vid, vid))
    return out


def write_range_entries(bits: Bits, runs: list[tuple[int, int]]) -> None:
    """NumEntries (12 bits), then per run IsARange, StartOrOnlyVendorId and, for a range, EndVendorId."""
    bits.number(len(runs), 12)
    for start, end in runs:
        bits.flag(start != end)
        bits.number(start, 16)
        if start != end:
            bits.number(end, 16)


def _range_cost(runs: list[tuple[int, int]]) -> int:
    return 12 + sum(17 if start == end else 33 for start, end in runs)


def write_vendor_section(bits: Bits, ids: Iterable[int]) -> None:
    """MaxVendorId, IsRangeEncoding and the vendors as a bitfield or as ranges, whichever is shorter
    (the spec leaves the choice to the CMP; a tie keeps the bitfield, which is simpler to read)."""
    chosen = sorted(set(ids))
    max_id = chosen[-1] if chosen else 0
    bits.number(max_id, 16)
    runs = ranges(chosen)
    use_ranges = _range_cost(runs) < max_id
    bits.flag(use_ranges)
    if use_ranges:
        write_range_entries(bits, runs)
    else:
        bits.flags(chosen, max_id)


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


# -- decoding ------------------------------------------------------------------------------------------

_SEGMENT_NAMES = {
    _SEGMENT_DISCLOSED: "disclosed-vendors segment",
    _SEGMENT_PUBLISHER_TC: "publisher-TC segment",
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Reader:
    """The bits of one segment, read field by field; running out of bits is the sender's mistake."""

    def __init__(self, segment: str, name: str) -> None:
        self.name = name
        try:
            raw = base64.b64decode(segment + "=" * (-len(segment) % 4), altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise BadInput(f"its {name} is not base64url (A-Z, a-z, 0-9, - and _)") from None
        self._bits = format(int.from_bytes(raw, "big"), f"0{8 * len(raw)}b") if raw else ""
        self._at = 0

    def _take(self, width: int) -> str:
        end = self._at + width
        if end > len(self._bits):
            raise BadInput(
                f"its {self.name} ends after {len(self._bits)} bits, in the middle of a field: "
                "the string is cut short"
            )
        taken = self._bits[self._at : end]
        self._at = end
        return taken

    def number(self, width: int) -> int:
        return int(self._take(width), 2)

    def flag(self) -> bool:
        return self._take(1) == "1"

    def flags(self, count: int) -> frozenset[int]:
        """Ids 1..count whose bit is set. A vendor bitfield runs to thousands of bits with few set, so
        the set bits are searched for rather than every bit visited."""
        chunk, ids = self._take(count), []
        at = chunk.find("1")
        while at != -1:
            ids.append(at + 1)
            at = chunk.find("1", at + 1)
        return frozenset(ids)

    def letters(self, what: str) -> str:
        codes = (self.number(6), self.number(6))
        if any(c > 25 for c in codes):
            raise BadInput(f"its {what} is not two letters A-Z (6-bit codes {codes[0]} and {codes[1]})")
        return "".join(chr(ord("A") + c) for c in codes)

    def range_entries(self, what: str) -> frozenset[int]:
        ids: set[int] = set()
        for _ in range(self.number(12)):
            is_range = self.flag()
            start = self.number(16)
            end = self.number(16) if is_range else start
            if start < 1 or end < start:
                raise BadInput(
                    f"its {what} name the vendor range {start}-{end}; ids start at 1, ranges go up"
                )
            ids.update(range(start, end + 1))
        return frozenset(ids)

    def vendor_section(self, what: str) -> frozenset[int]:
        max_id = self.number(16)
        if not self.flag():
            return self.flags(max_id)
        ids = self.range_entries(what)
        if ids and max(ids) > max_id:
            raise BadInput(f"its {what} name vendor {max(ids)}, above the MaxVendorId {max_id} it gives")
        return ids

    def finish(self) -> None:
        """Only padding may follow the last field: zeros, fewer than the 24 bits encoders pad to."""
        rest = self._bits[self._at :]
        if "1" in rest or len(rest) >= _PAD_TO:
            raise BadInput(f"its {self.name} carries {len(rest)} bits after its last field")


def decode(text: str) -> TCModel:
    """The model a TC string carries; :class:`BadInput` saying what is wrong when it is not a TCF v2
    string with the segments TCF 2.3 requires (core and disclosed vendors, publisher TC optional)."""
    segments = text.split(".")
    core = _Reader(segments[0], "core segment")
    version = core.number(6)
    if version != TCF_VERSION:
        raise BadInput(f"its version is {version}; TCF 2.2 and 2.3 strings are version {TCF_VERSION}")
    created = _EPOCH + timedelta(milliseconds=100 * core.number(36))
    last_updated = _EPOCH + timedelta(milliseconds=100 * core.number(36))
    cmp_id, cmp_version, consent_screen = core.number(12), core.number(12), core.number(6)
    consent_language = core.letters("consent_language")
    vendor_list_version, tcf_policy_version = core.number(12), core.number(6)
    is_service_specific, use_non_standard_texts = core.flag(), core.flag()
    special_features, purposes, interests = core.flags(12), core.flags(24), core.flags(24)
    purpose_one_treatment = core.flag()
    publisher_cc = core.letters("publisher_cc")
    vendor_consents = core.vendor_section("vendor consents")
    vendor_interests = core.vendor_section("vendor legitimate interests")
    restrictions = []
    for _ in range(core.number(12)):
        purpose, kind = core.number(6), core.number(2)
        if kind not in {t.value for t in RestrictionType}:
            raise BadInput(
                f"its publisher restriction for purpose {purpose} has type {kind}; TCF defines 0-2"
            )
        vendors = core.range_entries(f"publisher restrictions for purpose {purpose}")
        restrictions.append(PublisherRestriction(purpose, RestrictionType(kind), vendors))
    core.finish()
    disclosed: frozenset[int] | None = None
    publisher: PublisherTC | None = None
    for place, segment in enumerate(segments[1:], start=2):
        reader = _Reader(segment, f"segment {place}")
        kind = reader.number(3)
        reader.name = _SEGMENT_NAMES.get(kind, reader.name)
        if kind == _SEGMENT_DISCLOSED and disclosed is None:
            disclosed = reader.vendor_section("disclosed vendors")
        elif kind == _SEGMENT_PUBLISHER_TC and publisher is None:
            publisher = _read_publisher(reader)
        else:
            raise BadInput(
                f"it has a segment of type {kind} (or one type twice); consentgate writes the core, one "
                "disclosed-vendors (type 1) and at most one publisher-TC (type 3) segment"
            )
        reader.finish()
    if disclosed is None:
        raise BadInput("it has no disclosed-vendors segment, which TCF 2.3 makes mandatory")
    return TCModel(
        created=created,
        last_updated=last_updated,
        cmp_id=cmp_id,
        cmp_version=cmp_version,
        consent_language=consent_language,
        vendor_list_version=vendor_list_version,
        tcf_policy_version=tcf_policy_version,
        publisher_cc=publisher_cc,
        consent_screen=consent_screen,
        is_service_specific=is_service_specific,
        use_non_standard_texts=use_non_standard_texts,
        purpose_one_treatment=purpose_one_treatment,
        special_feature_optins=special_features,
        purpose_consents=purposes,
        purpose_legitimate_interests=interests,
        vendor_consents=vendor_consents,
        vendor_legitimate_interests=vendor_interests,
        restrictions=tuple(restrictions),
        vendors_disclosed=disclosed,
        publisher_tc=publisher,
    )


def _read_publisher(reader: _Reader) -> PublisherTC:
    consents, interests = reader.flags(24), reader.flags(24)
    custom = reader.number(6)
    return PublisherTC(
        consents=consents,
        legitimate_interests=interests,
        custom_purposes=custom,
        custom_consents=reader.flags(custom),
        custom_legitimate_interests=reader.flags(custom),
    )


# -- what the service could have written ---------------------------------------------------------------


class Disclosed(Protocol):
    """What the banner's layers disclosed under one GVL (``consentgate.web.tcf.used``): the purposes and
    special features a TC string it wrote may consent to, the vendors it names, those of them a consent
    reaches and those with a legitimate interest, and the publisher restrictions it carries."""

    @property
    def purposes(self) -> frozenset[int]: ...

    @property
    def special_features(self) -> frozenset[int]: ...

    @property
    def vendors(self) -> frozenset[int]: ...

    @property
    def consent_vendors(self) -> frozenset[int]: ...

    @property
    def interest_vendors(self) -> frozenset[int]: ...

    @property
    def restrictions(self) -> tuple[PublisherRestriction, ...]: ...


@dataclass(frozen=True)
class TcfIssuer:
    """What the service writes TC strings as: the policy's ``web.tcf`` (an enabled one, so with a
    ``cmp_id``), every Global Vendor List it has served (vendorListVersion → tcfPolicyVersion), and
    ``disclosed``: what the layers disclosed under one of those lists (None: the service no longer has
    it). ``live`` is live capture: the string was written a moment ago under this very policy, so it
    must match all of it; an import may carry an earlier cmp_version, written under earlier settings."""

    settings: TcfSettings
    lists: Mapping[int, int]
    disclosed: Callable[[int], Disclosed | None]
    live: bool = True


def consents_in(model: TCModel) -> list[str]:
    """Every consent a model carries, named as the spec names the field (empty: it consents to nothing)."""
    publisher = model.publisher_tc or PublisherTC()
    found = {
        "purpose_consents": model.purpose_consents,
        "special_feature_optins": model.special_feature_optins,
        "vendor_consents": model.vendor_consents,
        "publisher_consents": publisher.consents,
        "publisher_custom_consents": publisher.custom_consents,
    }
    return [f"{name} {', '.join(map(str, sorted(ids)))}" for name, ids in found.items() if ids]


def issuer_problems(model: TCModel, issuer: TcfIssuer) -> list[str]:
    """Why the service could not have written this string, field by field (empty: it could have)."""
    problems = []
    tcf = issuer.settings
    if model.cmp_id != tcf.cmp_id:
        problems.append(f"cmp_id is {model.cmp_id}; this policy's web.tcf.cmp_id is {tcf.cmp_id}")
    if model.cmp_version > tcf.cmp_version or (issuer.live and model.cmp_version != tcf.cmp_version):
        problems.append(
            f"cmp_version is {model.cmp_version}; this policy's web.tcf.cmp_version is {tcf.cmp_version}"
        )
    had = ", ".join(map(str, sorted(issuer.lists))) or "none"
    policy = issuer.lists.get(model.vendor_list_version)
    if policy is None:
        problems.append(
            f"vendor_list_version is {model.vendor_list_version}, a Global Vendor List this service never "
            f"served (it has served {had})"
        )
        if model.tcf_policy_version not in set(issuer.lists.values()):
            problems.append(
                f"tcf_policy_version {model.tcf_policy_version} is not one of its lists' policies"
            )
    elif model.tcf_policy_version != policy:
        problems.append(
            f"tcf_policy_version is {model.tcf_policy_version}; vendor list {model.vendor_list_version} is "
            f"for policy version {policy}"
        )
    if not model.is_service_specific:
        problems.append("is_service_specific is 0; TCF 2.2 retired global scope and the service writes 1")
    outside = {
        "purpose_consents": (model.purpose_consents, PURPOSES),
        "purpose_legitimate_interests": (model.purpose_legitimate_interests, PURPOSES),
        "special_feature_optins": (model.special_feature_optins, SPECIAL_FEATURES),
    }
    for name, (ids, top) in outside.items():
        reserved = sorted(i for i in ids if i > top)
        if reserved:
            problems.append(
                f"{name} sets {', '.join(map(str, reserved))}; TCF defines 1-{top}, the rest is reserved"
            )
    if issuer.live:
        problems.extend(_policy_problems(model, tcf))
    return problems


def _ids(ids: Iterable[int]) -> str:
    return ", ".join(map(str, sorted(ids))) or "none"


def _policy_problems(model: TCModel, tcf: TcfSettings) -> list[str]:
    """What this policy's ``web.tcf`` never lets the service write (the rules of
    ``web.tcf.signals.tc_model`` that need no GVL). Only live capture is held to them: an imported
    string was written under the settings of its day."""
    problems = []
    if model.publisher_cc != tcf.publisher_cc:
        problems.append(
            f"publisher_cc is {model.publisher_cc}; this policy's web.tcf.publisher_cc is {tcf.publisher_cc}"
        )
    interests = set(tcf.legitimate_interest_purposes) - CONSENT_ONLY_PURPOSES
    if extra := model.purpose_legitimate_interests - interests:
        problems.append(
            f"purpose_legitimate_interests sets {_ids(extra)}; the policy declares a legitimate interest "
            f"only for {_ids(interests)}"
        )
    if tcf.vendors is not None and (extra := model.vendors_disclosed - set(tcf.vendors)):
        problems.append(f"vendors_disclosed names {_ids(extra)}, which the policy's web.tcf.vendors does not")
    for name, ids in (
        ("vendor_consents", model.vendor_consents),
        ("vendor_legitimate_interests", model.vendor_legitimate_interests),
    ):
        if extra := ids - model.vendors_disclosed:
            problems.append(f"{name} names {_ids(extra)}, vendors the string does not disclose")
    asked = set(tcf.publisher_purposes)
    publisher_li = set(tcf.publisher_legitimate_interest_purposes) - CONSENT_ONLY_PURPOSES
    publisher = model.publisher_tc
    if publisher is None:
        if asked or publisher_li:
            problems.append("has no publisher-TC segment, though the policy declares publisher purposes")
        return problems
    if not asked and not publisher_li:
        problems.append("has a publisher-TC segment, though the policy declares no publisher purposes")
    if extra := publisher.consents - asked:
        problems.append(
            f"publisher_consents sets {_ids(extra)}; the policy's publisher_purposes are {_ids(asked)}"
        )
    if extra := publisher.legitimate_interests - publisher_li:
        problems.append(
            f"publisher_legitimate_interests sets {_ids(extra)}; the policy's are {_ids(publisher_li)}"
        )
    if publisher.custom_purposes:
        problems.append(f"declares {publisher.custom_purposes} custom purposes; the policy has none")
    return problems
