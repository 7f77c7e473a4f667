"""IAB TCF v2.3 (policy ``web.tcf``): the Global Vendor List the banner shows, and TC strings.

===============================  =====================================================================
``GET /v1/tcf/gvl``              the GVL the service writes TC strings against (the browser never
                                 fetches IAB's list itself)
``GET /v1/tcf/ui``               what the banner's TCF layers show, in the visitor's language
``POST /v1/tcf/tc-string``       a visitor's TCF choices → the TC string and Google's Additional
                                 Consent string; the banner stores them in ``euconsent-v2`` and sends
                                 them with the consent event as evidence
===============================  =====================================================================

Both are public: the list is public data and encoding stores nothing. With ``web.tcf.enabled`` false
they answer 404, so a site that is not a CMP does not look like one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from consentgate.errors import BadInput, PolicyError
from consentgate.policy.locales import language
from consentgate.server.deps import AppSettings, Service
from consentgate.server.errors import COMMON_RESPONSES, ErrorBody, error_response
from consentgate.server.routers.web import ASSET_METHODS
from consentgate.server.routers.web import _served as served_asset  # ETag, gzip: as banner.js
from consentgate.web import asset, i18n, trim_js
from consentgate.web.tcf.gvl import current_gvl, gvl_dir, served_gvl, shown_language, translation
from consentgate.web.tcf.signals import TcfChoices, additional_consent, disclosed_vendors, tc_string
from consentgate.web.tcf.ui import layers
from consentgate.web.tcf.used import require_shown, used

router = APIRouter(tags=["tcf"])
_RESPONSES: dict[int | str, dict[str, Any]] = {
    k: v for k, v in COMMON_RESPONSES.items() if k in (404, 422, 429)
}
_UI_RESPONSES: dict[int | str, dict[str, Any]] = {
    **_RESPONSES,
    409: {"model": ErrorBody, "description": "The GVL served lacks a stack of web.tcf.stacks (docs/tcf.md)"},
}
_POST_RESPONSES: dict[int | str, dict[str, Any]] = {
    k: v for k, v in COMMON_RESPONSES.items() if k in (400, 404, 413, 415, 422, 429)
}
_NOT_ENABLED = "TCF is not enabled: set web.tcf.enabled (and web.tcf.cmp_id) in the policy"

_Id = Annotated[int, Field(ge=1, lt=1 << 16)]
# Bounds that keep the largest valid body under max_body_bytes' default (64 kB), so an oversized list
# is a 422 naming it: 24 purpose bits; about 1,100 GVL vendors today; Google lists about 600 ATPs.
Purposes = Annotated[list[_Id], Field(max_length=24)]
Vendors = Annotated[list[_Id], Field(max_length=2000)]
AtpIds = Annotated[list[_Id], Field(max_length=1000)]


class TcfChoiceBody(BaseModel):
    """What the visitor chose on the TCF layers; objections are to a legitimate interest."""

    model_config = ConfigDict(extra="forbid")

    purpose_consents: Purposes = Field(default_factory=list, description="TCF purposes (1-11) consented to.")
    purpose_objections: Purposes = Field(
        default_factory=list, description="Purposes whose LI was objected to."
    )
    special_features: Purposes = Field(
        default_factory=list, description="Special features (1-2) opted in to."
    )
    vendor_consents: Vendors = Field(default_factory=list, description="GVL vendors consented to.")
    vendor_objections: Vendors = Field(
        default_factory=list, description="GVL vendors whose LI was objected to."
    )
    google_ac_consents: AtpIds = Field(default_factory=list, description="Google ATP ids consented to.")
    publisher_consents: Purposes = Field(
        default_factory=list, description="The publisher's own purposes (1-11) consented to."
    )
    publisher_objections: Purposes = Field(
        default_factory=list, description="The publisher's own purposes whose LI was objected to."
    )
    locale: str = Field(default="en", max_length=35, description="The banner's language, e.g. de or pt-BR.")
    created: datetime | None = Field(
        default=None, description="When the visitor's first TC string was made (its Created); now if none."
    )


class TcStrings(BaseModel):
    tc_string: str = Field(
        description="The TC string (core.disclosedVendors, and .publisherTC where the policy declares "
        "publisher purposes), for euconsent-v2."
    )
    addtl_consent: str = Field(description="Google's Additional Consent string (spec version 2).")
    vendor_list_version: int
    tcf_policy_version: int


TCF_MARKER = b"/*TCF*/null"


@router.api_route("/tcf.js", methods=ASSET_METHODS, include_in_schema=False)
def tcf_js(request: Request, service: Service, settings: AppSettings) -> Response:
    """The CMP API (``__tcfapi``) with the CMP's ids, the served GVL's version, the disclosed vendors
    and the purposes and special features they use compiled in, so it answers ``ping`` at once and
    "Accept all" needs no request for the layers first."""
    tcf = service.policy.web.tcf
    if not tcf.enabled:
        return error_response(404, "not_found", _NOT_ENABLED)
    served = current_gvl(gvl_dir(settings.tcf_gvl_dir))
    use = used(tcf, served)
    boot = {
        "cmpId": tcf.cmp_id,
        "cmpVersion": tcf.cmp_version,
        "gvlVersion": served.vendorListVersion,
        "policyVersion": served.tcfPolicyVersion,
        "vendors": disclosed_vendors(tcf, served),
        # what "Accept all" consents to and "Reject all" objects to: only what the layers disclose
        "purposes": sorted(use.purposes),
        "specialFeatures": sorted(use.special_features),
        "ac": tcf.ac_vendor_ids(),
    }
    code = trim_js(asset("tcf", "tcf.js"))
    body = code.replace(TCF_MARKER, json.dumps(boot, separators=(",", ":")).encode(), 1)
    return served_asset(request, body, "tcf.js")


@router.get("/v1/tcf/gvl", summary="The Global Vendor List the service serves", responses=_RESPONSES)
def gvl(service: Service, settings: AppSettings) -> Response:
    """The GVL TC strings are written against: ``consentgate tcf update-gvl``'s copy, else the bundled
    snapshot (docs/tcf.md). Public and cacheable for five minutes."""
    if not service.policy.web.tcf.enabled:
        return error_response(404, "not_found", _NOT_ENABLED)
    body, served = served_gvl(gvl_dir(settings.tcf_gvl_dir))
    return Response(
        body,
        media_type="application/json",
        headers={
            "Cache-Control": "public, max-age=300",
            "X-Vendor-List-Version": str(served.vendorListVersion),
        },
    )


@router.get("/v1/tcf/ui", summary="What the banner's TCF layers show", responses=_UI_RESPONSES)
def ui(
    request: Request,
    service: Service,
    settings: AppSettings,
    locale: Annotated[str | None, Query(max_length=35, description="The banner's locale, e.g. de.")] = None,
) -> Response:
    """The TCF layers' own words in the banner's language (else ``Accept-Language``, else the policy's),
    and the served GVL's purposes, special features and the disclosed vendors (docs/tcf.md). Public
    and cacheable for five minutes, like the GVL."""
    tcf = service.policy.web.tcf
    if not tcf.enabled:
        return error_response(404, "not_found", _NOT_ENABLED)
    accept = None if locale else request.headers.get("accept-language")
    chosen = i18n.negotiate(locale, accept, service.policy.web.default_locale)
    directory = gvl_dir(settings.tcf_gvl_dir)
    try:
        translated = translation(directory, language(chosen), stacks=bool(tcf.stacks))
        body = layers(tcf, current_gvl(directory), chosen, translated)
    except PolicyError as exc:  # a list put in place by hand without the policy's stacks (update-gvl refuses)
        return error_response(409, "conflict", exc.message, exc.problems)
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        media_type="application/json",
        headers={"Cache-Control": "public, max-age=300", "Vary": "Accept-Language"},
    )


@router.post(
    "/v1/tcf/tc-string",
    summary="Encode a visitor's TCF choices as a TC string",
    response_model=TcStrings,
    responses=_POST_RESPONSES,
)
def encode_choices(body: TcfChoiceBody, service: Service, settings: AppSettings) -> Response:
    """The TC string for these choices under the policy's ``web.tcf`` and the served GVL: vendors
    outside the list or without the legal basis get no signal (docs/tcf.md, "Which bits are set"); a
    consent to a purpose or special feature the layers do not show is a 422 naming it."""
    tcf = service.policy.web.tcf
    if not tcf.enabled:
        return error_response(404, "not_found", _NOT_ENABLED)
    directory = gvl_dir(settings.tcf_gvl_dir)
    served = current_gvl(directory)
    # ConsentLanguage: the language the GVL's texts were shown in for the banner's locale
    shown = shown_language(directory, language(body.locale), stacks=bool(tcf.stacks))
    now = datetime.now(UTC)
    choices = TcfChoices(
        purpose_consents=frozenset(body.purpose_consents),
        purpose_objections=frozenset(body.purpose_objections),
        special_features=frozenset(body.special_features),
        vendor_consents=frozenset(body.vendor_consents),
        vendor_objections=frozenset(body.vendor_objections),
        google_ac_consents=frozenset(body.google_ac_consents),
        publisher_consents=frozenset(body.publisher_consents),
        publisher_objections=frozenset(body.publisher_objections),
    )
    created = body.created if body.created is not None and body.created.tzinfo is not None else now
    try:
        choices.check()
        require_shown(choices, used(tcf, served), served)
        text = tc_string(choices, tcf, served, language=shown, created=min(created, now), updated=now)
    except BadInput as exc:
        return error_response(422, "invalid_request", exc.message)
    answer = TcStrings(
        tc_string=text,
        addtl_consent=additional_consent(choices, tcf),
        vendor_list_version=served.vendorListVersion,
        tcf_policy_version=served.tcfPolicyVersion,
    )
    return Response(
        answer.model_dump_json(), media_type="application/json", headers={"Cache-Control": "no-store"}
    )
