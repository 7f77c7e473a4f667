"""What the banner's TCF layers disclose and "Accept all" signals: only the purposes, special purposes,
features and special features the disclosed vendors declare, and the publisher's own purposes.

TCF Policy (Appendix A/B) asks a CMP to disclose what the vendors it discloses (and the publisher) use,
and a CMP must not signal consent for a purpose the person was not shown. A GVL names every purpose
IAB defines; a site working with three vendors uses a few of them. Computed once per policy and list
on the service, so the layers, ``tcf.js``'s "Accept all" and the ledger's check of recorded strings
read the same set (docs/tcf.md, "What the layers show").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from consentgate.errors import BadInput
from consentgate.ledger.tcstring import PublisherRestriction
from consentgate.policy.tcf import RestrictionKind, TcfSettings
from consentgate.web.tcf.gvl import Gvl, GvlStack, gvl_of
from consentgate.web.tcf.signals import TcfChoices, disclosed_vendors, publisher_restrictions, vendor_bases


@dataclass(frozen=True)
class Used:
    """The purposes, special features (both ask for a choice), special purposes and features (both
    only disclosed) the banner discloses a use of under one policy and GVL."""

    purposes: frozenset[int]
    special_features: frozenset[int]
    special_purposes: frozenset[int] = frozenset()
    features: frozenset[int] = frozenset()
    # the vendors disclosed, those a consent reaches and those with a legitimate interest to signal, and
    # the publisher restrictions a string carries (what the ledger checks a recorded string against)
    vendors: frozenset[int] = frozenset()
    consent_vendors: frozenset[int] = frozenset()
    interest_vendors: frozenset[int] = frozenset()
    restrictions: tuple[PublisherRestriction, ...] = ()

    def choices(self) -> str:
        """What a person may consent to, for operators: "purposes 1, 2, 7; special features 1"."""
        return f"purposes {_listed(self.purposes)}; special features {_listed(self.special_features)}"

    def holds(self, stack: GvlStack) -> bool:
        """Whether every member of ``stack`` is used (a stack must not disclose an unused purpose)."""
        return set(stack.purposes) <= self.purposes and set(stack.specialFeatures) <= self.special_features


def used(settings: TcfSettings, gvl: Gvl) -> Used:
    """What the disclosed vendors declare (a purpose on consent, legitimate interest or either), less
    what a ``not_allowed`` restriction forbids the vendor, and the publisher's own purposes.

    A vendor IAB deleted, or one the policy does not disclose, uses nothing here: it gets no signal.
    """
    forbidden = {
        (vid, rule.purpose)
        for rule in settings.restrictions
        if rule.type == RestrictionKind.NOT_ALLOWED
        for vid in rule.vendors
    }
    purposes = set(settings.legitimate_interest_purposes)
    purposes |= set(settings.publisher_purposes) | set(settings.publisher_legitimate_interest_purposes)
    special_features: set[int] = set()
    special_purposes: set[int] = set()
    features: set[int] = set()
    for vid in disclosed_vendors(settings, gvl):
        vendor = gvl.vendor(vid)
        if vendor is None:
            continue
        declared = set(vendor.purposes) | set(vendor.legIntPurposes) | set(vendor.flexiblePurposes)
        purposes |= {p for p in declared if (vid, p) not in forbidden}
        special_features |= set(vendor.specialFeatures)
        special_purposes |= set(vendor.specialPurposes)
        features |= {f for f in (vendor.model_extra or {}).get("features") or [] if isinstance(f, int)}
    # only ids the list defines: a vendor entry naming purpose 12 names nothing a person could be shown
    bases = vendor_bases(settings, gvl)
    return Used(
        vendors=frozenset(disclosed_vendors(settings, gvl)),
        consent_vendors=bases.consent,
        interest_vendors=bases.legitimate_interest,
        restrictions=publisher_restrictions(settings, gvl),
        purposes=frozenset(purposes & _ids(gvl.purposes)),
        special_features=frozenset(special_features & _ids(gvl.specialFeatures)),
        special_purposes=frozenset(special_purposes & _ids((gvl.model_extra or {}).get("specialPurposes"))),
        features=frozenset(features & _ids((gvl.model_extra or {}).get("features"))),
    )


def require_shown(choices: TcfChoices, use: Used, gvl: Gvl) -> None:
    """Consent only to what the layers show: a consent to an unused purpose or special feature would be
    a signal the person was never asked for, so :class:`BadInput` names it rather than writing it (or
    dropping it, which would tell the caller it was recorded). Objections to unused purposes are
    harmless, and a "Reject all" from a page loaded before a GVL update sends them: they are let be."""
    problems = [
        f"{name} {_listed(extra)}: no vendor the banner discloses (web.tcf.vendors) and not the publisher "
        f"uses {'it' if len(extra) == 1 else 'them'} under GVL {gvl.vendorListVersion}, so the layers "
        f"never show {'it' if len(extra) == 1 else 'them'}; consent is possible to {_listed(shown)}"
        for name, given, shown in (
            ("purpose_consents", choices.purpose_consents, use.purposes),
            ("special_features", choices.special_features, use.special_features),
        )
        if (extra := given - shown)
    ]
    if problems:
        raise BadInput("; ".join(problems))


def _listed(ids: frozenset[int]) -> str:
    return ", ".join(map(str, sorted(ids))) or "none"


def used_under(settings: TcfSettings, directory: Path, version: int) -> Used | None:
    """What the banner disclosed under the list with this ``vendorListVersion`` and this policy (None:
    the service no longer has that list). The ledger asks for every recorded TC string, so the answer
    is kept while the list object is the same."""
    gvl = gvl_of(directory, version)
    if gvl is None:
        return None
    key = (id(settings), id(gvl))
    kept = _USED.get(key)
    if kept is None or kept[0] is not settings or kept[1] is not gvl:
        if len(_USED) >= 16:  # a service has one policy and a few lists; tests make many
            _USED.clear()
        kept = _USED[key] = (settings, gvl, used(settings, gvl))
    return kept[2]


# (id(settings), id(gvl)) → both, kept alive so the ids stay theirs, and what they use
_USED: dict[tuple[int, int], tuple[TcfSettings, Gvl, Used]] = {}


def _ids(section: object) -> set[int]:
    return {int(k) for k in section if str(k).isdigit()} if isinstance(section, dict) else set()
