"""Things a policy may legally say but probably does not mean, as structured warnings.

A valid policy can still switch off a person's rights without a word: GPC ignored in a state whose
law makes it binding, consent that never expires, wording a visitor cannot read. ``policy check``
prints these (and fails on them with ``--strict``); the server and tests call :func:`policy_warnings`
directly, so there is one home for each rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from consentgate.policy.locales import INTERFACE_LOCALES, negotiate
from consentgate.policy.models import DEFAULT_REGION, Basis, NoticeVersion, Policy

# US states whose privacy laws require honouring a universal opt-out mechanism (Global Privacy
# Control) as of 2026. Sources: docs/standards.md, GPC (secondary, "verify per state") and the statutes:
#   US-CA  Cal. Civ. Code §1798.135(b), (e); Cal. Code Regs. tit. 11 §7025       (CCPA/CPRA)
#   US-CO  Colo. Rev. Stat. §6-1-1306(1)(a)(IV); 4 CCR 904-3 Part 5, from 2024-07-01 (CPA)
#   US-CT  Conn. Gen. Stat. §42-520(e)(1)(A)(ii), from 2025-01-01                     (CTDPA)
#   US-TX  Tex. Bus. & Com. Code §541.055(e), from 2025-01-01                        (TDPSA)
#   US-MT  Montana Consumer Data Privacy Act (SB 384, 2023), from 2025-01-01           (MCDPA)
#   US-NE  Nebraska Data Privacy Act (LB 1074, 2024), from 2025-01-01                  (NDPA)
#   US-NH  N.H. Rev. Stat. ch. 507-H (SB 255, 2024), from 2025-01-01
#   US-NJ  N.J. Stat. §56:8-166.4 et seq. (SB 332, 2024), from 2025-07-15             (NJDPA)
#   US-MN  Minnesota Consumer Data Privacy Act (HF 4757, 2024), from 2025-07-31       (MCDPA)
#   US-MD  Maryland Online Data Privacy Act (SB 541, 2024), from 2025-10-01           (MODPA)
#   US-OR  Oregon Consumer Privacy Act (SB 619, 2023), from 2026-01-01                 (OCPA)
#   US-DE  Delaware Personal Data Privacy Act (HB 154, 2023), from 2026-01-01          (DPDPA)
# Virginia, Utah, Iowa, Indiana, Tennessee, Kentucky and Rhode Island grant opt-out rights but do
# not require honouring the signal, so they are not listed.
GPC_STATES: dict[str, str] = {
    "US-CA": "California",
    "US-CO": "Colorado",
    "US-CT": "Connecticut",
    "US-DE": "Delaware",
    "US-MD": "Maryland",
    "US-MN": "Minnesota",
    "US-MT": "Montana",
    "US-NE": "Nebraska",
    "US-NH": "New Hampshire",
    "US-NJ": "New Jersey",
    "US-OR": "Oregon",
    "US-TX": "Texas",
}


@dataclass(frozen=True)
class PolicyWarning:
    """One probable mistake: a stable ``code`` for tools, where it is (a pydantic-style ``loc``) and why."""

    code: str
    loc: tuple[str | int, ...]
    message: str

    @property
    def path(self) -> str:
        out = ""
        for part in self.loc:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
        return out


def policy_warnings(policy: Policy, *, now: datetime) -> list[PolicyWarning]:
    """Every warning for ``policy`` as it stands at ``now`` (which notice versions are shown)."""
    return [
        *_gpc_not_honoured(policy),
        *_consent_without_expiry(policy),
        *_notice_problems(policy, now),
    ]


def _gpc_not_honoured(policy: Policy) -> list[PolicyWarning]:
    """A mandating state that lands in a region without ``honour_gpc`` (listed, or through ``US``).

    States that fall through to the ``"*"`` default are not flagged: a policy without any US region
    does not claim to serve US visitors on a US basis.
    """
    states_of: dict[str, list[str]] = {}
    for code in GPC_STATES:
        group = policy.region_group(code)
        if group != DEFAULT_REGION and not policy.honours_gpc(group):
            states_of.setdefault(group, []).append(code)
    return [
        PolicyWarning(
            "gpc_not_honoured",
            ("regions", group),
            f"region {group} covers {', '.join(GPC_STATES[c] for c in codes)} ({', '.join(codes)}), "
            "where the law makes a Global Privacy Control signal a binding opt-out, but does not set "
            "`honour_gpc: true`; GPC signals from there are ignored",
        )
        for group, codes in states_of.items()
    ]


def _consent_without_expiry(policy: Policy) -> list[PolicyWarning]:
    return [
        PolicyWarning(
            "consent_never_expires",
            ("purposes", i),
            f"purpose {p.id} rests on consent but has no `max_age_days`: a grant counts forever; "
            "regulators expect consent to be renewed (e.g. `max_age_days: 395`)",
        )
        for i, p in enumerate(policy.purposes)
        if Basis.CONSENT in p.basis.values() and p.max_age_days is None
    ]


def banner_locales(policy: Policy) -> list[str]:
    """The locales the banner offers for this policy: interface languages it ships
    (``policy/locales.py``, one ``web/i18n/*.json`` each) in which at least one notice has wording,
    plus the one it falls back to (``web.default_locale`` if shipped, else English). A visitor in any
    of them should read every notice in that language."""
    # Compared in lower case, named as shipped: wording under "pt-br" or "zh-hans" counts for pt-BR and
    # zh-Hans.
    shipped = {loc.lower(): loc for loc in INTERFACE_LOCALES}
    offered = {negotiate(None, None, policy.web.default_locale)}
    for notice in policy.notices:
        for version in notice.versions:
            offered |= {shipped[loc.lower()] for loc in version.text if loc.lower() in shipped}
    return sorted(offered)


def _has_wording(version: NoticeVersion, locale: str) -> bool:
    # The lookup Policy.wording makes before it falls back: the exact locale, then its language.
    language = locale.replace("_", "-").split("-", 1)[0].lower()
    return any(key.lower() in (locale.lower(), language) for key in version.text)


def _notice_problems(policy: Policy, now: datetime) -> list[PolicyWarning]:
    found: list[PolicyWarning] = []
    offered = banner_locales(policy)
    for i, p in enumerate(policy.purposes):
        notice = policy.notice(p.notice) if p.notice else None
        if notice is None:
            continue
        if p.id not in notice.purposes:
            found.append(
                PolicyWarning(
                    "notice_omits_purpose",
                    ("purposes", i, "notice"),
                    f"purpose {p.id} names notice {notice.id}, whose `purposes` do not list it; "
                    f"grants for {p.id} under that notice will be refused",
                )
            )
        current = policy.current_version(notice.id, now)
        if current is None and Basis.CONSENT in p.basis.values():
            found.append(
                PolicyWarning(
                    "no_version_in_force",
                    ("purposes", i, "notice"),
                    f"purpose {p.id} rests on consent under notice {notice.id}, which has no version in "
                    "force yet: nobody can consent to it today",
                )
            )
        shown = [v for v in notice.versions if v is current or v.effective_from > now]
        for v in shown:
            missing = [loc for loc in offered if not _has_wording(v, loc)]
            if missing:
                used = policy.wording(notice.id, v.label, missing[0])
                fallback = f"; visitors reading those see the {used[0]} wording" if used else ""
                found.append(
                    PolicyWarning(
                        "notice_missing_locale",
                        ("purposes", i, "notice"),
                        f"purpose {p.id}: notice {notice.id} version {v.label} has no wording in "
                        f"{', '.join(missing)}, which the banner offers{fallback}",
                    )
                )
    return found
