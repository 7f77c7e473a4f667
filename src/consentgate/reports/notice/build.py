"""The notice in one language: :class:`NoticeFacts` worded with the locale's frame text.

Every fact the policy lacks is said to be missing, in the reader's language; the policy's own wording
(purpose titles, notice texts, where a toggle is) is quoted as written and, when it is not in the
reader's language, marked with the name of the language it is in — never machine-translated.
"""

from __future__ import annotations

from datetime import UTC, datetime

from consentgate.policy import Policy
from consentgate.policy.locales import language
from consentgate.policy.models import Basis, Purpose
from consentgate.reports.notice.catalogue import Catalogue, language_name
from consentgate.reports.notice.document import (
    Block,
    Bullets,
    Frame,
    Heading,
    Inline,
    Line,
    Link,
    NoticeDocument,
    Paragraph,
    Quote,
    Value,
    Wording,
)
from consentgate.reports.notice.facts import NoticeFacts, PurposeFacts, RegionBasis
from consentgate.web import i18n

_BASIS_KEY = {
    Basis.CONSENT: "basis_consent",
    Basis.OPT_OUT: "basis_opt_out",
    Basis.LEGITIMATE_INTEREST: "basis_legitimate_interest",
    Basis.CONTRACT: "basis_contract",
    Basis.NOT_ALLOWED: "basis_not_allowed",
}


def build_notice(
    policy: Policy, facts: NoticeFacts, locale: str, *, now: datetime | None = None
) -> NoticeDocument:
    """The notice for ``facts`` in ``locale`` (an interface locale, already negotiated).

    ``now`` picks the notice version in force (the wording a person is asked with today).
    """
    words = _Words(policy, Catalogue(locale), now or datetime.now(UTC))
    c = words.c
    blocks: list[Block] = [Paragraph(c.say("intro", organization=facts.organization))]
    if not facts.purposes:
        blocks.append(Paragraph(c.say("no_ai")))
    for pf in facts.purposes:
        blocks += words.purpose(pf, runs_read=facts.runs_read)
    blocks += words.choices(facts)
    blocks += words.requests(facts)
    if words.marked:
        blocks.insert(1, Paragraph(c.say("own_wording")))
    return NoticeDocument(locale, i18n.direction(locale), c.text("title"), tuple(blocks))


class _Words:
    def __init__(self, policy: Policy, catalogue: Catalogue, now: datetime) -> None:
        self.policy = policy
        self.c = catalogue
        self.now = now
        self.marked = False  # some policy wording is shown in another language than the notice's

    def wording(self, text: str, locale: str) -> Wording:
        if language(locale) == language(self.c.locale):
            return Wording(text, locale)
        self.marked = True
        return Wording(text, locale, language_name(locale, self.c.locale))

    def own(self, text: str) -> Wording:
        """Policy text that has one language only: the policy's default one."""
        return self.wording(text, self.policy.web.default_locale)

    # -- one purpose ---------------------------------------------------------------------------------

    def purpose(self, pf: PurposeFacts, *, runs_read: bool) -> list[Block]:
        c, p = self.c, pf.purpose
        blocks: list[Block] = [
            Heading(2, (self.own(p.title),), f"purpose-{p.id}"),
            Paragraph(c.say(f"kind_{p.kind.value}")),
            *self.asked_with(p),
            Heading(3, c.say("data_h"), f"data-{p.id}"),
            self.data(pf),
            Heading(3, c.say("systems_h"), f"systems-{p.id}"),
            *self.systems(pf, runs_read=runs_read),
            Heading(3, c.say("basis_h"), f"basis-{p.id}"),
            Bullets(tuple(self.basis(p, b) for b in pf.bases)),
            Heading(3, c.say("vendors_h"), f"vendors-{p.id}"),
            self.vendors(pf),
        ]
        return blocks

    def asked_with(self, p: Purpose) -> list[Block]:
        current = self.policy.current_version(p.notice, self.now) if p.notice else None
        found = (
            self.policy.wording(p.notice, current.version, self.c.locale) if p.notice and current else None
        )
        if found is None:
            return [Paragraph(self.c.say("no_wording"))]
        used, text = found
        quote = self.wording(text, used)
        lead = self.c.say("asked_with")
        if quote.language is not None:
            lead = self.c.say(
                "policy_wording_missing",
                language=Frame(language_name(self.c.locale, self.c.locale)),
                original=Frame(quote.language),
            )
        return [Paragraph(lead), Quote((quote,))]

    def data(self, pf: PurposeFacts) -> Block:
        c = self.c
        if not pf.sources:
            return Paragraph(c.say("no_sources"))
        items = []
        for s in pf.sources:
            lines = [c.say("source", source=Value(s.id, code=True), kind=Value(s.kind, code=True))]
            if s.categories:
                lines.append(
                    c.say("categories", categories=_joined([Value(k, code=True) for k in s.categories]))
                )
            else:
                lines.append(c.say("no_categories"))
            if s.retention_days is not None:
                lines.append(c.say("retention", days=str(s.retention_days)))
            else:
                lines.append(c.say("no_retention"))
            items.append(tuple(lines))
        return Bullets(tuple(items))

    def systems(self, pf: PurposeFacts, *, runs_read: bool) -> list[Block]:
        c = self.c
        lines: list[Line] = []
        if pf.declared_systems:
            lines.append(c.say("systems_declared", systems=_joined([Value(s) for s in pf.declared_systems])))
        if pf.trained_models:
            lines.append(c.say("systems_trained", systems=_joined([Value(m) for m in pf.trained_models])))
        if not pf.declared_systems and not pf.trained_models:
            lines.append(c.say("no_systems"))
        if runs_read and not pf.trained_models:
            lines.append(c.say("no_runs"))
        return [Paragraph(line) for line in lines]

    def basis(self, p: Purpose, rb: RegionBasis) -> tuple[Line, ...]:
        c = self.c
        places: list[Inline] = []
        for rid in rb.regions:
            if places:
                places.append(Value("; "))
            if rid in rb.countries:
                places.append(Value(f"{rid} ({', '.join(rb.countries[rid])})"))
            else:
                places.append(Frame(c.text("everywhere_else")))
        lines = [c.say("regions", regions=tuple(places))]
        if rb.basis is None:
            lines.append(c.say("basis_unknown"))
            return tuple(lines)
        lines.append(c.say(_BASIS_KEY[rb.basis]))
        if rb.basis is Basis.CONSENT and p.max_age_days is not None:
            lines.append(c.say("consent_days", days=str(p.max_age_days)))
        if rb.basis is Basis.OPT_OUT:
            lines.append(c.say("gpc_yes" if rb.honour_gpc else "gpc_no"))
        return tuple(lines)

    def vendors(self, pf: PurposeFacts) -> Block:
        c = self.c
        if not pf.vendors:
            return Paragraph(c.say("no_vendors"))
        items = []
        for v in pf.vendors:
            key = "vendor_keeps_out"
            if v.self_training:
                key = "vendor_trains" if v.self_training_approved else "vendor_refused"
            items.append((c.say(key, vendor=v.name or v.id),))
        return Bullets(tuple(items))

    # -- the person's choices ------------------------------------------------------------------------

    def choices(self, facts: NoticeFacts) -> list[Block]:
        c = self.c
        items: list[tuple[Line, ...]] = []
        if facts.banner:
            items.append((c.say("choice_banner"),))
        for pf in facts.purposes:
            if pf.purpose.toggle:
                items.append(
                    (
                        c.say(
                            "choice_toggle",
                            purpose=self.own(pf.purpose.title),
                            where=self.own(pf.purpose.toggle),
                        ),
                    )
                )
        if facts.privacy_center:
            link = Link(c.text("privacy_center"), facts.privacy_center)
            items.append((c.say("choice_center", link=link),))
        if not items:
            return []
        return [Heading(2, c.say("choices_h"), "choices"), Bullets(tuple(items))]

    def requests(self, facts: NoticeFacts) -> list[Block]:
        c = self.c
        kinds = ["req_access", "req_object", *(["req_withdraw"] if facts.any_consent else []), "req_erase"]
        blocks: list[Block] = [
            Heading(2, c.say("requests_h"), "requests"),
            Bullets(tuple((c.say(k),) for k in kinds)),
            Paragraph(c.say("models_forget")),
        ]
        if facts.requests_url:
            blocks.append(Paragraph(c.say("ask_link", link=Link(c.text("request_page"), facts.requests_url))))
        elif facts.privacy_center:
            blocks.append(
                Paragraph(c.say("ask_link", link=Link(c.text("center_page"), facts.privacy_center)))
            )
        elif facts.contact:
            return [*blocks, Paragraph(c.say("ask_contact", contact=_contact(facts.contact)))]
        else:
            blocks.append(Paragraph(c.say("no_contact")))
        if facts.contact:
            blocks.append(Paragraph(c.say("questions", contact=_contact(facts.contact))))
        return blocks


def _joined(values: list[Value]) -> Line:
    out: list[Inline] = []
    for v in values:
        if out:
            out.append(Value(", "))
        out.append(v)
    return tuple(out)


def _contact(contact: str) -> Inline:
    """An email address as a mailto: link; anything else (a postal address, a form's name) as text."""
    if "@" in contact and " " not in contact.strip() and ":" not in contact:
        return Link(contact.strip(), f"mailto:{contact.strip()}")
    if contact.startswith(("https://", "http://")) and " " not in contact:
        return Link(contact, contact)
    return Value(contact)
