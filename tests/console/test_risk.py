"""reports/risk.py on policies built for each list: sensitive sources first, missing translations of
versions in force or coming (never of retired ones), self-training vendors, missing retention."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from consentgate.policy import Policy, load_policy
from consentgate.policy.models import Source
from consentgate.reports.risk import declared_level, risk_report, special_category
from tests.conftest import EXAMPLE_POLICY

AT = datetime(2026, 12, 1, tzinfo=UTC)


def _policy(**changes: Any) -> Policy:
    data: dict[str, Any] = load_policy(EXAMPLE_POLICY).model_dump(mode="json")
    for key, value in changes.items():
        data[key] = value(data[key]) if callable(value) else value
    return Policy.model_validate(data)


@pytest.mark.parametrize(
    ("categories", "personal", "level"),
    [
        (["user.health_and_medical"], None, "sensitive"),
        (["user.demographic.religious_belief"], True, "sensitive"),
        (["user.biometric"], None, "sensitive"),
        (["user.content"], None, "personal"),
        (["system.operations"], True, "personal"),
        (["system.operations"], False, "non_personal"),
        (["system.operations"], None, "unknown"),
        (["user.device", "user.contact.third_party"], None, "personal"),  # "party" is not politics
    ],
)
def test_declared_level(categories: list[str], personal: bool | None, level: str) -> None:
    source = Source(id="s", kind="k", categories=categories, personal=personal)
    assert declared_level(source) == level


def test_special_categories_are_named() -> None:
    assert special_category("user.health_and_medical") == "health"
    assert special_category("user.demographic.political_opinion") == "political_opinion"
    assert special_category("user.behavior") is None


def test_ai_purposes_fed_by_sensitive_data_come_first_with_basis_per_region() -> None:
    def sources(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [*items, {"id": "health-notes", "kind": "free_text", "categories": ["user.health"],
                         "purposes": ["finetune_recommender"], "retention_days": 30}]  # fmt: skip

    report = risk_report(_policy(sources=sources), at=AT)
    first = report["ai_purposes"][0]
    assert first["purpose"] == "finetune_recommender"
    assert first["sensitive"] is True
    assert {"source": "health-notes", "level": "sensitive", "categories": ["user.health"]} in first["sources"]
    assert first["basis"]["EU"] == "consent"
    assert first["basis"]["US-OPTOUT"] == "opt_out"
    assert first["basis"]["BR"] == "legitimate_interest"
    assert first["basis"]["*"] == "consent"
    # Non-AI purposes and non-personal sources are not listed.
    assert {p["purpose"] for p in report["ai_purposes"]} <= {"train_support_chatbot", "finetune_recommender"}
    listed = {s["source"] for p in report["ai_purposes"] for s in p["sources"]}
    assert "status-page-metrics" not in listed


def test_missing_translations_of_versions_in_force_and_coming() -> None:
    def notices(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for n in items:
            if n["id"] == "ai-training":
                text = {"en": "New wording.", "de": "Neuer Wortlaut."}
                n["versions"].append(
                    {"version": 3, "effective_from": "2027-03-01T00:00:00Z", "reconsent": True, "text": text}
                )
        return items

    report = risk_report(_policy(notices=notices), at=AT)
    found = {(n["notice"], n["version"]): n["missing"] for n in report["notices_missing_translation"]}
    offered = set()
    for n in load_policy(EXAMPLE_POLICY).notices:
        for v in n.versions:
            offered |= set(v.text)
    assert ("ai-training", "3") in found  # a coming version lacking locales the others offer
    assert "de" not in found[("ai-training", "3")]
    assert set(found[("ai-training", "3")]) <= offered
    assert ("ai-training", "1") not in found  # replaced by version 2 before AT: not shown any more


def test_self_training_vendors_and_sources_without_retention() -> None:
    def sources(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        items[0].pop("retention_days")
        return items

    policy = _policy(sources=sources)
    report = risk_report(policy, at=AT)
    assert [s["source"] for s in report["sources_without_retention"]] == [policy.sources[0].id]
    vendors = report["self_training_vendors"]
    assert [v["vendor"] for v in vendors] == [v.id for v in policy.vendors if v.self_training]
    assert all(v["approved"] is False for v in vendors)
