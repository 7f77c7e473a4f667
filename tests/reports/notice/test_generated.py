"""The notice states exactly what a policy says, for policies hypothesis generates: per AI purpose its
sources, the basis in every region (GPC only where it matters), vendors and what they may do."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentgate.reports.notice import build_notice, notice_facts

from .support import EN, anchors, items, policy_of, section

BASES = ["consent", "legitimate_interest", "opt_out", "contract", "not_allowed"]
KINDS = ["ai_training", "fine_tuning", "analytics", "marketing", "necessary"]


@st.composite
def policies(draw: st.DrawFn) -> dict[str, Any]:
    n_regions = draw(st.integers(1, 4))
    codes = ["DE", "FR", "US-CA", "US", "BR", "JP"]
    regions = {
        f"R{i}": {"countries": [codes[i]], "honour_gpc": draw(st.booleans())} for i in range(n_regions)
    }
    purposes = []
    for i in range(draw(st.integers(1, 4))):
        basis = {rid: draw(st.sampled_from(BASES)) for rid in regions if draw(st.booleans())}
        if draw(st.booleans()) or not basis:
            basis["*"] = draw(st.sampled_from(BASES))
        purpose: dict[str, Any] = {
            "id": f"p{i}",
            "title": f"Purpose number {i}",
            "kind": draw(st.sampled_from(KINDS)),
            "basis": basis,
            "notice": "n",
        }
        if draw(st.booleans()):
            purpose["max_age_days"] = draw(st.integers(1, 900))
        if draw(st.booleans()):
            purpose["systems"] = draw(st.lists(st.sampled_from(["Bot A", "Ranker B", "Model C"]), max_size=2))
        purposes.append(purpose)
    ids = [p["id"] for p in purposes]
    sources = []
    for i in range(draw(st.integers(0, 3))):
        source: dict[str, Any] = {
            "id": f"src-{i}",
            "kind": "event_log",
            "purposes": draw(st.lists(st.sampled_from(ids), unique=True)),
            "categories": draw(st.lists(st.sampled_from(["user.content", "user.device"]), unique=True)),
        }
        if draw(st.booleans()):
            source["retention_days"] = draw(st.integers(1, 3650))
        sources.append(source)
    vendors = [
        {
            "id": f"v{i}",
            "name": f"Vendor {i}",
            "purposes": draw(st.lists(st.sampled_from(ids), unique=True)),
            "self_training": (trains := draw(st.booleans())),
            "self_training_approved": trains and draw(st.booleans()),
        }
        for i in range(draw(st.integers(0, 3)))
    ]
    notice = {
        "id": "n",
        "purposes": ids,
        "versions": [{"version": 1, "effective_from": "2026-01-01T00:00:00Z", "text": {"en": "Ask."}}],
    }
    return {
        "organization": {"name": "Example Org"},
        "regions": regions,
        "purposes": purposes,
        "notices": [notice],
        "sources": sources,
        "vendors": vendors,
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies())
def test_the_notice_says_what_the_policy_says(data: dict[str, Any]) -> None:
    policy = policy_of(data)
    doc = build_notice(policy, notice_facts(policy), "en")
    ai = [p for p in policy.purposes if p.is_ai]
    assert [a for a in anchors(doc) if a.startswith("purpose-")] == [f"purpose-{p.id}" for p in ai]
    if not ai:
        assert [EN["no_ai"]] in items(list(doc.blocks))
    for p in ai:
        # What data: each source feeding the purpose, in policy order, with what the policy says of it.
        feeding = [s for s in policy.sources if p.id in s.purposes]
        expected_data = [
            [
                EN["source"].format(source=s.id, kind=s.kind),
                EN["categories"].format(categories=", ".join(s.categories))
                if s.categories
                else EN["no_categories"],
                EN["retention"].format(days=s.retention_days) if s.retention_days else EN["no_retention"],
            ]
            for s in feeding
        ] or [[EN["no_sources"]]]
        assert items(section(doc, f"data-{p.id}")) == expected_data
        # When: every region once, with its basis (the "*" one where the purpose names none) and GPC
        # only where the basis is opt_out.
        said: dict[str, list[str]] = {}
        for item in items(section(doc, f"basis-{p.id}")):
            for rid in [*policy.regions, "*"]:
                label = (
                    EN["everywhere_else"]
                    if rid == "*"
                    else f"{rid} ({', '.join(policy.regions[rid].countries)})"
                )
                if label in item[0]:
                    assert rid not in said, f"{rid} listed twice"
                    said[rid] = item[1:]
        assert set(said) == {*policy.regions, "*"}
        for rid, lines in said.items():
            basis = p.basis.get(rid, p.basis.get("*"))
            if basis is None:
                assert lines == [EN["basis_unknown"]]
                continue
            expected = [EN[f"basis_{basis.value}"]]
            if basis.value == "consent" and p.max_age_days:
                expected.append(EN["consent_days"].format(days=p.max_age_days))
            if basis.value == "opt_out":
                honoured = rid != "*" and policy.regions[rid].honour_gpc
                expected.append(EN["gpc_yes" if honoured else "gpc_no"])
            assert lines == expected, rid
        # Who else: every vendor of the purpose, and whether it may train its own models.
        expected_vendors = [
            [
                EN[
                    "vendor_keeps_out"
                    if not v.self_training
                    else "vendor_trains"
                    if v.self_training_approved
                    else "vendor_refused"
                ].format(vendor=v.name)
            ]
            for v in policy.vendors
            if p.id in v.purposes
        ] or [[EN["no_vendors"]]]
        assert items(section(doc, f"vendors-{p.id}")) == expected_vendors
        systems = items(section(doc, f"systems-{p.id}"))
        if p.systems:
            assert systems == [[EN["systems_declared"].format(systems=", ".join(dict.fromkeys(p.systems)))]]
        else:
            assert systems == [[EN["no_systems"]]]
    # Withdrawal is offered only where some AI purpose rests on consent somewhere.
    requests = items(section(doc, "requests"))
    on_consent = any(
        policy.basis_for(p, rid) is not None and policy.basis_for(p, rid).value == "consent"  # type: ignore[union-attr]
        for p in ai
        for rid in [*policy.regions, "*"]
    )
    assert ([EN["req_withdraw"]] in requests) == on_consent
