"""The notice for the example policy and for edge cases: policy wording in a language the policy lacks,
hostile wording, where requests go, and the plain-language bar (Flesch reading ease >= 60)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
import textstat

from consentgate.policy import Policy
from consentgate.reports.notice import build_notice, notice_facts, render_notice
from consentgate.reports.notice.catalogue import language_name, strings
from consentgate.reports.notice.document import Quote, Wording

from .support import EN, anchors, items, plain, policy_of, section

CENTER = "https://consent.example.com/privacy-center"


def test_the_example_notice_covers_its_ai_purposes_only(example_policy: Policy) -> None:
    doc = build_notice(example_policy, notice_facts(example_policy, privacy_center=CENTER), "en")
    ai = [p for p in example_policy.purposes if p.is_ai]
    assert ai
    assert len(ai) < len(example_policy.purposes)
    assert [a for a in anchors(doc) if a.startswith("purpose-")] == [f"purpose-{p.id}" for p in ai]
    for p in ai:
        assert [EN["systems_declared"].format(systems=", ".join(p.systems))] in items(
            section(doc, f"systems-{p.id}")
        )
    # The banner, the in-product toggle the policy declares, and the privacy center.
    choices = [line for item in items(section(doc, "choices")) for line in item]
    assert EN["choice_banner"] in choices
    toggled = [p for p in ai if p.toggle]
    assert toggled
    for p in toggled:
        assert EN["choice_toggle"].format(purpose=p.title, where=p.toggle) in choices
    assert EN["choice_center"].format(link=EN["privacy_center"]) in choices
    requests = items(section(doc, "requests"))
    for key in ("req_access", "req_object", "req_withdraw", "req_erase", "models_forget"):
        assert [EN[key]] in requests
    assert [EN["ask_link"].format(link=EN["center_page"])] in requests


def test_the_english_frame_text_is_plain(example_policy: Policy) -> None:
    facts = notice_facts(example_policy, {"train_support_chatbot": ["support-bot-v3"]}, privacy_center=CENTER)
    text = build_notice(example_policy, facts, "en").frame_text()
    assert len(text.split()) > 300  # the whole frame, not a fragment of it
    assert textstat.flesch_reading_ease(text) >= 60


def _english_only(example_policy: Policy) -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(example_policy.model_dump(mode="json", exclude_none=True))
    for notice in data["notices"]:
        for version in notice["versions"]:
            version["text"] = {"en": version["text"]["en"]}
    return data


def test_policy_wording_missing_in_the_readers_language_is_said_and_shown_marked(
    example_policy: Policy,
) -> None:
    policy = policy_of(_english_only(example_policy))
    de = strings("de")
    doc = build_notice(policy, notice_facts(policy), "de")
    english = language_name("en", "de")
    assert english == "Englisch"  # named in the reader's language (CLDR), not in its own
    p = next(p for p in policy.purposes if p.is_ai)
    said = items(section(doc, f"purpose-{p.id}"))
    assert [de["policy_wording_missing"].format(language=language_name("de", "de"), original=english)] in said
    quote = next(b for b in section(doc, f"purpose-{p.id}") if isinstance(b, Quote))
    wording = quote.line[0]
    assert isinstance(wording, Wording)
    assert wording.language == english
    assert wording.locale == "en"
    # Purpose titles have one language, the policy's default: shown as written, marked.
    title = next(b for b in doc.blocks if getattr(b, "anchor", None) == f"purpose-{p.id}")
    assert title.line == (Wording(p.title, "en", english),)  # type: ignore[union-attr]
    assert [de["own_wording"]] in items(list(doc.blocks))
    md = render_notice(policy, "de", "md")
    assert f"{p.title} *({english})*" in md
    html = render_notice(policy, "de", "html")
    assert f"<span lang='en' dir='ltr'>{p.title}</span> <span class='lang'>({english})</span>" in html


def test_policy_wording_in_the_readers_language_is_used_unmarked(example_policy: Policy) -> None:
    doc = build_notice(example_policy, notice_facts(example_policy), "de")
    p = next(p for p in example_policy.purposes if p.is_ai and p.notice)
    version = example_policy.current_version(p.notice, datetime.now(UTC))
    assert version is not None
    assert "de" in version.text
    assert [strings("de")["asked_with"]] in items(section(doc, f"purpose-{p.id}"))
    quote = next(b for b in section(doc, f"purpose-{p.id}") if isinstance(b, Quote))
    assert quote.line == (Wording(version.text["de"], "de"),)


def test_hostile_policy_text_stays_text(example_policy: Policy) -> None:
    data: dict[str, Any] = copy.deepcopy(example_policy.model_dump(mode="json", exclude_none=True))
    data["organization"]["name"] = "Org <img src=x onerror=alert(1)>"
    data["purposes"][0]["title"] = "Train *bold* [x](javascript:alert(1)) <script>alert(2)</script>"
    policy = policy_of(data)
    html = render_notice(policy, "en", "html")
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    md = render_notice(policy, "en", "md")
    assert "\\<script\\>" in md
    assert "\\[x\\](javascript:alert(1))" in md
    assert "\\*bold\\*" in md


@pytest.mark.parametrize(
    ("web", "contact", "expected"),
    [
        ({"requests_url": "https://www.example.com/privacy/requests"}, "privacy@example.com", "request_page"),
        ({}, "privacy@example.com", "ask_contact"),
        ({}, None, "no_contact"),
    ],
)
def test_where_requests_go(
    example_policy: Policy, web: dict[str, str], contact: str | None, expected: str
) -> None:
    data: dict[str, Any] = copy.deepcopy(example_policy.model_dump(mode="json", exclude_none=True))
    data["web"].update(web)
    data["organization"].pop("contact", None)
    if contact:
        data["organization"]["contact"] = contact
    policy = policy_of(data)
    requests = items(section(build_notice(policy, notice_facts(policy), "en"), "requests"))
    if expected == "request_page":
        assert [EN["ask_link"].format(link=EN["request_page"])] in requests
        assert [EN["questions"].format(contact=contact)] in requests
    elif expected == "ask_contact":
        assert [EN["ask_contact"].format(contact=contact)] in requests
    else:
        assert [EN["no_contact"]] in requests
    html = render_notice(policy, "en", "html")
    if contact:
        assert f"<a href='mailto:{contact}'>{contact}</a>" in html


def test_without_a_ledger_the_notice_does_not_claim_no_model_was_trained(example_policy: Policy) -> None:
    unread = build_notice(example_policy, notice_facts(example_policy, None), "en")
    read_none = build_notice(example_policy, notice_facts(example_policy, {}), "en")
    p = next(p for p in example_policy.purposes if p.is_ai)
    assert [EN["no_runs"]] not in items(section(unread, f"systems-{p.id}"))
    assert [EN["no_runs"]] in items(section(read_none, f"systems-{p.id}"))


def test_a_purpose_without_sources_systems_or_vendors_says_so(example_policy: Policy) -> None:
    data: dict[str, Any] = copy.deepcopy(example_policy.model_dump(mode="json", exclude_none=True))
    data["purposes"].append(
        {
            "id": "train_new",
            "title": "A new model",
            "kind": "fine_tuning",
            "basis": {"*": "legitimate_interest"},
        }
    )
    policy = policy_of(data)
    doc = build_notice(policy, notice_facts(policy, {}), "en")
    assert items(section(doc, "data-train_new")) == [[EN["no_sources"]]]
    assert items(section(doc, "systems-train_new")) == [[EN["no_systems"]], [EN["no_runs"]]]
    assert items(section(doc, "vendors-train_new")) == [[EN["no_vendors"]]]
    assert [EN["no_wording"]] in items(section(doc, "purpose-train_new"))
    assert plain(doc.blocks[0].line).startswith(EN["intro"].split("{")[0])  # type: ignore[union-attr]
