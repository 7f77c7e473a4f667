"""What the banner's TCF layers show (``GET /v1/tcf/ui``): the layers' own words in the visitor's
language, and the served GVL's purposes, features and vendors: only those the disclosed vendors or the
publisher use (:mod:`consentgate.web.tcf.used`).

The purposes', stacks' and vendors' texts are the GVL's own, as TCF requires them to be shown unchanged: in
the visitor's language where IAB's translation of them is stored (``consentgate tcf add-translation``),
else in the GVL's English. Only the
vendors the banner discloses are listed, so a real GVL's thousand vendors are not sent to a site that
works with ten.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from consentgate.policy.locales import language
from consentgate.policy.tcf import CONSENT_ONLY_PURPOSES, TcfSettings
from consentgate.web.tcf.gvl import GVL_LANGUAGE, Gvl, GvlVendor
from consentgate.web.tcf.signals import disclosed_vendors
from consentgate.web.tcf.stacks import shown_stacks
from consentgate.web.tcf.used import used


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """The layers' words per banner locale (``web/tcf/i18n.json``)."""
    data: dict[str, dict[str, str]] = json.loads(
        (files("consentgate.web.tcf") / "i18n.json").read_text(encoding="utf-8")
    )["strings"]
    return data


def _texts(section: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    return {
        k: {"name": str(v.get("name", "")), "description": str(v.get("description", ""))}
        for k, v in section.items()
    }


def _policy_url(vendor: GvlVendor, lang: str) -> str | None:
    """The vendor's privacy policy in the visitor's language where it gives one, else its first."""
    urls = [
        u for u in (vendor.model_extra or {}).get("urls") or [] if isinstance(u, dict) and u.get("privacy")
    ]
    chosen = next((u for u in urls if str(u.get("langId", "")).lower() == lang), urls[0] if urls else None)
    return None if chosen is None else str(chosen["privacy"])


def _vendor(vendor: GvlVendor, lang: str) -> dict[str, Any]:
    extra = vendor.model_extra or {}
    retention = (extra.get("dataRetention") or {}).get("stdRetention")
    return {
        "id": vendor.id,
        "name": vendor.name,
        "purposes": vendor.purposes,
        "legIntPurposes": vendor.legIntPurposes,
        "flexiblePurposes": vendor.flexiblePurposes,
        "specialPurposes": vendor.specialPurposes,
        "features": list(extra.get("features") or []),
        "specialFeatures": vendor.specialFeatures,
        "retention": retention if isinstance(retention, int) else None,
        "data": list(extra.get("dataDeclaration") or []),
        "policy": _policy_url(vendor, lang),
    }


def layers(
    settings: TcfSettings, gvl: Gvl, locale: str, translated: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Everything the TCF layers show, for a banner locale (one of the interface locales);
    ``translated``: IAB's translation of the GVL's texts into the locale's language, if stored."""
    lang = language(locale)
    extra = gvl.model_extra or {}
    own = translated or {}
    vendors = [v for vid in disclosed_vendors(settings, gvl) if (v := gvl.vendor(vid)) is not None]
    use = used(settings, gvl)

    def texts(section: str, listed: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
        return _texts({k: own.get(section, {}).get(k) or v for k, v in listed.items()})

    def shown(section: str, listed: dict[str, dict[str, Any]], ids: frozenset[int]) -> dict[str, Any]:
        # only what the disclosed vendors or the publisher use: the layers name nothing else
        return texts(section, {k: v for k, v in listed.items() if k.isdigit() and int(k) in ids})

    categories = extra.get("dataCategories") or {}
    return {
        "locale": locale,
        "strings": catalogue()[locale],
        "gvl_version": gvl.vendorListVersion,
        # the language of the GVL's texts below (a TC string's ConsentLanguage)
        "language": lang if translated else GVL_LANGUAGE,
        "purposes": shown("purposes", gvl.purposes, use.purposes),
        "specialPurposes": shown("specialPurposes", extra.get("specialPurposes") or {}, use.special_purposes),
        "features": shown("features", extra.get("features") or {}, use.features),
        "specialFeatures": shown("specialFeatures", gvl.specialFeatures, use.special_features),
        "dataCategories": {
            k: str((own.get("dataCategories", {}).get(k) or v).get("name", "")) for k, v in categories.items()
        },
        # the purposes the visitor may object to (their legitimate interest), in the policy's order
        "legitimateInterests": sorted(set(settings.legitimate_interest_purposes) - CONSENT_ONLY_PURPOSES),
        "vendors": [_vendor(v, lang) for v in vendors],
        # IAB's stacks the first layer shows instead of their members (web.tcf.stacks; PolicyError when
        # the policy's list does not fit this GVL), in the same language as the purposes
        "stacks": [
            {
                **texts("stacks", {str(stack.id): stack.model_dump()})[str(stack.id)],
                "id": stack.id,
                "purposes": stack.purposes,
                "specialFeatures": stack.specialFeatures,
            }
            for stack in shown_stacks(settings, gvl)
        ],
        # Google's Ad Tech Providers outside the GVL, one switch each (the AC string), with the words
        # the policy gives (else the layers name them by id)
        "googleAc": [{"id": v.id, "name": v.name, "policy": v.privacy_url} for v in settings.ac_vendors()],
    }
