"""What the banner needs for one page view, computed from the policy — and what it needs before that.

Two pieces, both pure functions of the policy (and, for the first, of one request):

* :func:`banner_config` — ``GET /v1/banner/config``: the purposes with their basis in the visitor's
  region, the notice wording in force with its sha256, the flow to show (opt-in where any purpose
  rests on consent, a notice with opt-out where they rest on opt-out or legitimate interest), whether
  the region honours Global Privacy Control, cookies to delete per purpose, and the interface strings
  of the visitor's locale.
* :func:`boot_data` — compiled into ``/banner.js`` itself, because it must act before any request can
  answer: the Google Consent Mode ``default`` per region (it must precede every tag, so it cannot wait
  for the network) and the hosts whose scripts are held back per purpose (a tag inserted while the
  configuration is on its way must already be blocked).

Nothing here trusts the policy's text as markup: it travels as JSON strings and the banner puts it
into the page as text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from consentgate.ledger.chain import wording_hash
from consentgate.policy.models import DEFAULT_REGION, Basis, Policy, Purpose, PurposeKind, region_code
from consentgate.web import i18n

CONSENT_MODE_TYPES = (
    "ad_storage",
    "ad_user_data",
    "ad_personalization",
    "analytics_storage",
    "functionality_storage",
    "personalization_storage",
    "security_storage",
)
# docs/standards.md, Consent Mode: marketing → the ad types, analytics → analytics_storage, preferences →
# functionality and personalization storage; security_storage is always granted (strictly necessary).
KIND_CONSENT_MODE: dict[PurposeKind, tuple[str, ...]] = {
    PurposeKind.MARKETING: ("ad_storage", "ad_user_data", "ad_personalization"),
    PurposeKind.ANALYTICS: ("analytics_storage",),
    PurposeKind.PERSONALISATION: ("functionality_storage", "personalization_storage"),
}
ALWAYS_GRANTED = ("security_storage",)
# GPC in a region that honours it opts out of sale, sharing and targeted ads (CCPA §7025): these stay
# denied whatever the banner's other state (docs/standards.md, Consent Mode).
GPC_DENIED = ("ad_storage", "ad_user_data", "ad_personalization")
# Bases on which a purpose is asked about: consent (opt in), opt_out and legitimate_interest (notice,
# with a way to say no). contract needs no choice; not_allowed is never shown.
ASKED = frozenset({Basis.CONSENT, Basis.OPT_OUT, Basis.LEGITIMATE_INTEREST})
ALLOWED_BEFORE_CHOICE = frozenset({Basis.OPT_OUT, Basis.LEGITIMATE_INTEREST, Basis.CONTRACT})
CHOICE_COOKIE = "cg_consent"
PRIVACY_CENTER_PATH = "/privacy-center"

Flow = Literal["opt_in", "opt_out", "none"]


class NoticeWording(BaseModel):
    id: str = Field(description="The notice's id, sent back as notice_id.")
    version: str = Field(description="The version in force now, sent back as notice_version.")
    locale: str = Field(description="Locale of the wording (the visitor's, else the policy's fallback).")
    text: str = Field(description="The exact wording to show, as plain text (never markup).")
    wording_hash: str = Field(description="sha256 (hex) of the UTF-8 text, sent back as wording_hash.")
    accepts: list[str] = Field(
        description="Versions whose grants still count: those at or after the newest material change."
    )


class BannerPurpose(BaseModel):
    id: str
    title: str = Field(description="The policy's title, plain text.")
    description: str | None = None
    kind: PurposeKind
    ai: bool = Field(description="An AI-training purpose (ai_training, fine_tuning): listed on its own.")
    basis: Basis = Field(description="The lawful basis in the visitor's region.")
    notice: str | None = Field(description="Notice to ask under; null when nothing can be asked.")
    ask: bool = Field(description="The visitor gets a choice for it (basis consent, opt_out or "
                      "legitimate_interest, and a notice version in force).")  # fmt: skip
    max_age_days: int | None = Field(description="A choice older than this is asked again.")
    consent_mode: list[str] = Field(description="Consent Mode types granted while it is allowed.")
    cookies: list[str] = Field(
        description="Regular expressions (anchored) over cookie names to delete while it is not allowed."
    )
    hosts: list[str] = Field(description="Hosts whose scripts are held back while it is not allowed.")


class GpcStatus(BaseModel):
    signal: bool = Field(description="This request carried Sec-GPC: 1.")
    honoured: bool = Field(description="The visitor's region treats GPC as an opt-out (honour_gpc).")


class Organization(BaseModel):
    name: str
    contact: str | None = None


class BannerConfig(BaseModel):
    """Everything the banner shows and records for one visitor's page view."""

    region: str | None = Field(description="ISO code the banner records with its events; null if unknown.")
    group: str = Field(description='The policy region it maps to, or "*".')
    locale: str = Field(description="Locale of the interface strings.")
    dir: Literal["ltr", "rtl"] = Field(description="Writing direction of the locale.")
    strings: dict[str, str] = Field(description="Interface strings of the locale (not the notices).")
    translations: str = Field(description="Path of the same strings as a static file.")
    flow: Flow = Field(
        description="opt_in: some purpose needs consent; opt_out: a notice with a way to opt out; "
        "none: nothing to ask."
    )
    purposes: list[BannerPurpose]
    notices: dict[str, NoticeWording] = Field(description="Notice id → the wording in force now.")
    gpc: GpcStatus
    organization: Organization
    privacy_center: str = Field(description="Path of the privacy center on this service.")
    requests_url: str | None = Field(description="Where people file data-subject requests, if set.")
    cookie: str = Field(description="Name of the first-party cookie the banner keeps choices in.")


def consent_mode_types(policy: Policy, purpose: Purpose) -> list[str]:
    configured = policy.web.consent_mode.get(purpose.id)
    if configured is not None:
        return list(configured)
    return list(KIND_CONSENT_MODE.get(purpose.kind, ()))


def _glob_regex(glob: str) -> str:
    # fnmatch.translate gives Python syntax ((?s:…)\Z); this is the same glob as a JavaScript RegExp.
    out = "".join(".*" if c == "*" else "." if c == "?" else _js_escape(c) for c in glob)
    return f"^{out}$"


def _js_escape(char: str) -> str:
    return "\\" + char if char in r"\^$.|?*+()[]{}/-" else char


# A tracking category with no purpose kind of its own is gated by the purpose that covers it:
# "functional" (chat, session replay, embedded features) by personalisation, as Google Consent Mode
# files functionality_storage under it. Without this, a functional tracker would be blocked by none.
CATEGORY_KIND = {"functional": "personalisation"}


def _gates(category: str, purpose: Purpose) -> bool:
    return CATEGORY_KIND.get(category, category) == purpose.kind.value


def cookie_patterns(policy: Policy, purpose: Purpose) -> list[str]:
    """The policy's ``web.cookies`` rules whose category is this purpose's kind, as RegExp sources."""
    out = []
    for rule in policy.web.cookies:
        if not _gates(rule.category.value, purpose):
            continue
        if rule.name is not None:
            out.append(_glob_regex(rule.name.replace("*", "[*]").replace("?", "[?]")))
        elif rule.pattern is not None:
            out.append(_glob_regex(rule.pattern))
    return out


def blocked_hosts(policy: Policy, purpose: Purpose) -> list[str]:
    """Hosts of ``web.trackers`` whose category is this purpose's kind (subdomains match too)."""
    return sorted({t.host.lower() for t in policy.web.trackers if _gates(t.category.value, purpose)})


def banner_config(
    policy: Policy,
    *,
    region: str | None,
    locale: str | None,
    accept_language: str | None,
    gpc_signal: bool,
    now: datetime,
) -> BannerConfig:
    """The configuration for a visitor in ``region`` (an ISO code or a policy region id; None when
    unknown) who asked for ``locale`` (else ``Accept-Language``), at ``now``."""
    group = policy.region_group(region)
    ui = i18n.negotiate(locale, accept_language, policy.web.default_locale)
    notices: dict[str, NoticeWording] = {}
    purposes: list[BannerPurpose] = []
    for p in policy.purposes:
        basis = policy.basis_for(p, group)
        if basis is None or basis is Basis.NOT_ALLOWED:
            continue
        notice = p.notice if basis in ASKED else None
        if notice is not None and notice not in notices:
            wording = _wording(policy, notice, ui, now)
            if wording is None:
                notice = None  # no version in force yet: nothing can be asked under it
            else:
                notices[notice] = wording
        purposes.append(
            BannerPurpose(
                id=p.id,
                title=p.title,
                description=p.description,
                kind=p.kind,
                ai=p.is_ai,
                basis=basis,
                notice=notice,
                ask=notice is not None,
                max_age_days=p.max_age_days,
                consent_mode=consent_mode_types(policy, p),
                cookies=cookie_patterns(policy, p),
                hosts=blocked_hosts(policy, p),
            )
        )
    asked = [p for p in purposes if p.ask]
    flow: Flow = "opt_in" if any(p.basis is Basis.CONSENT for p in asked) else "opt_out" if asked else "none"
    org = policy.organization
    return BannerConfig(
        region=region_code(region),
        group=group,
        locale=ui,
        dir="rtl" if i18n.direction(ui) == "rtl" else "ltr",
        strings=i18n.strings(ui),
        translations=f"/i18n/{ui}.json",
        flow=flow,
        purposes=purposes,
        notices=notices,
        gpc=GpcStatus(signal=gpc_signal, honoured=policy.honours_gpc(group)),
        organization=Organization(name=org.name, contact=org.contact),
        privacy_center=PRIVACY_CENTER_PATH,
        requests_url=policy.web.requests_url,
        cookie=CHOICE_COOKIE,
    )


def next_change(policy: Policy, now: datetime) -> datetime | None:
    """When :func:`banner_config` can next answer differently for the same request: the first notice
    version taking effect after ``now`` (it changes the wording in force and the versions accepted).
    None when no version is scheduled. Shared caches may keep a configuration only until then."""
    upcoming = [v.effective_from for n in policy.notices for v in n.versions if v.effective_from > now]
    return min(upcoming, default=None)


def _wording(policy: Policy, notice_id: str, locale: str, now: datetime) -> NoticeWording | None:
    version = policy.current_version(notice_id, now)
    if version is None:
        return None
    resolved = policy.wording(notice_id, version.label, locale)
    assert resolved is not None
    used, text = resolved
    return NoticeWording(
        id=notice_id,
        version=version.label,
        locale=used,
        text=text,
        wording_hash=wording_hash(text),
        accepts=[v.label for v in policy.accepted_versions(notice_id, now)],
    )


def boot_data(policy: Policy) -> dict[str, Any]:
    """What ``banner.js`` must know before its first request returns.

    ``cm``: one Consent Mode default per policy region, with its ISO codes, and a last one without
    codes (Google's global fallback; the most specific region wins). A type is granted before any
    choice only where every purpose mapped to it may run without one there (opt_out, legitimate
    interest, contract). ``gpc`` marks the regions where a GPC signal must deny the ad types.
    ``hosts``: purpose id → hosts whose scripts wait until the purpose is allowed.
    """
    mapped = {
        t: [p for p in policy.purposes if t in consent_mode_types(policy, p)] for t in CONSENT_MODE_TYPES
    }

    def granted(group: str) -> list[str]:
        out = []
        for t in CONSENT_MODE_TYPES:
            users = mapped[t]
            if t in ALWAYS_GRANTED or (
                users and all(policy.basis_for(p, group) in ALLOWED_BEFORE_CHOICE for p in users)
            ):
                out.append(t)
        return out

    defaults: list[dict[str, Any]] = [
        {"region": list(r.countries), "granted": granted(rid), "gpc": r.honour_gpc}
        for rid, r in policy.regions.items()
    ]
    defaults.append({"granted": granted(DEFAULT_REGION), "gpc": policy.honours_gpc(DEFAULT_REGION)})
    hosts = {p.id: h for p in policy.purposes if (h := blocked_hosts(policy, p))}
    return {"cm": defaults, "hosts": hosts}
