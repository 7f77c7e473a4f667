"""Conservative verdicts on hand-built items: what is exempt, what needs consent, and how categories
travel between hosts and what they set (verdict.py). The real-browser counterpart is test_scan_site."""

from __future__ import annotations

from typing import Any

from consentgate.scan.diff import diff_scans
from consentgate.scan.verdict import judge, overall, propagate

SITE = "www.example.com"
SEEN = {"no_consent": {"page": "https://www.example.com/", "url": None, "cause": "https://www.example.com/"}}


def cookie(
    name: str, category: str, source: str, *, domain: str = SITE, by: str | None = None
) -> dict[str, Any]:
    return {
        "name": name,
        "domain": domain,
        "party": "first" if domain.endswith("example.com") else "third",
        "category": category,
        "category_source": source,
        "set_by": by,
        "set_by_all": [{"via": "script", "url": by, "script": by}] if by else [],
        "_evidence": dict(SEEN),
    }


def host(
    name: str, category: str = "unknown", source: str = "none", loaded_by: str | None = None
) -> dict[str, Any]:
    return {
        "host": name,
        "party": "third",
        "category": category,
        "category_source": source,
        "vendor": None,
        "_evidence": dict(SEEN),
        "_initiators": {loaded_by} if loaded_by else set(),
    }


def _run(cookies: list[dict[str, Any]], hosts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    propagate(SITE, cookies, [], hosts)
    return judge(SITE, cookies, [], hosts)


def test_functional_is_exempt_only_first_party_and_set_by_the_site() -> None:
    own = cookie("lang", "functional", "open-cookie-database", by="https://www.example.com/app.js")
    theirs = cookie("_hjTLDTest", "functional", "open-cookie-database", by="https://replay.example.net/r.js")
    violations = _run([own, theirs], [host("replay.example.net")])
    assert own["verdict"] == "exempt"
    assert theirs["verdict"] == "needs_consent"
    assert {(v["kind"], v["name"] or v["host"]) for v in violations} == {
        ("cookie", "_hjTLDTest"),
        ("request", "replay.example.net"),  # the host took the category of what it set: functional
    }


def test_a_third_party_necessary_cookie_needs_consent_unless_the_policy_says_so() -> None:
    database = cookie("__cf_bm", "necessary", "open-cookie-database", domain="cdn.example.net")
    declared = cookie("widget", "necessary", "policy", domain="cdn.example.net")
    _run([database, declared], [host("cdn.example.net", "necessary", "trackers")])
    assert database["verdict"] == "needs_consent"
    assert declared["verdict"] == "exempt"


def test_categories_travel_both_ways_and_transitively() -> None:
    # tag.example.net writes a known marketing cookie and loads px.example.org, which sets an unknown one
    known = cookie("_fbp", "marketing", "open-cookie-database", by="https://tag.example.net/t.js")
    unknown = cookie("px", "unknown", "none", domain="px.example.org")
    hosts = [host("tag.example.net"), host("px.example.org", loaded_by="https://tag.example.net/t.js")]
    violations = _run([known, unknown], hosts)
    assert hosts[0]["category"] == "marketing"  # up: from what it sets
    assert hosts[1]["category"] == "marketing"  # down: from the host that loaded it
    assert unknown["category"] == "marketing"  # down again: from the host that set it
    assert unknown["category_source"] == "host:px.example.org"
    assert all(v["type"] == "needs_consent" for v in violations)


def test_a_declared_host_keeps_its_category_and_passes_it_on_as_declared() -> None:
    item = cookie("state", "unknown", "none", domain="cdn.example.net")
    loud = cookie("_ga", "analytics", "open-cookie-database", by="https://cdn.example.net/w.js")
    cdn = host("cdn.example.net", "necessary", "policy")
    _run([item, loud], [cdn])
    assert cdn["category"] == "necessary"  # the owner's word stands against the evidence
    assert item["category_source"] == "host:cdn.example.net (policy)"
    assert item["verdict"] == "exempt"
    assert loud["verdict"] == "needs_consent"


def test_unknown_items_are_violations_of_their_own_kind_listed_first() -> None:
    known = cookie("_ga", "analytics", "open-cookie-database", by="https://www.example.com/")
    mystery = cookie("zz", "unknown", "none", by="https://www.example.com/")
    violations = _run([known, mystery], [])
    assert [(v["type"], v["name"]) for v in violations] == [("unclassified", "zz"), ("needs_consent", "_ga")]
    phases = {"rejected": {"action": "reject", "banner": {"found": True, "pressed": True}}}
    verdict = overall(violations, phases, 1)
    assert verdict["status"] == "violations"
    assert "1 unclassified" in verdict["line"]


def test_a_phase_without_a_press_is_never_clean() -> None:
    phases = {
        "no_consent": {"action": None, "banner": None},
        "rejected": {"action": "reject", "banner": {"found": True, "pressed": False}},
        "accepted": {"action": "accept", "banner": None},
    }
    verdict = overall([], phases, 3)
    assert verdict["status"] == "incomplete"
    assert len(verdict["warnings"]) == 2
    assert "found but could not be pressed" in verdict["warnings"][0]


def test_a_new_unclassified_item_fails_scan_diff() -> None:
    def doc(violations: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "schema": "consentgate.scan/1",
            "cookies": [],
            "hosts": [],
            "storage": [],
            "violations": violations,
        }

    mystery = cookie("zz", "unknown", "none", by="https://www.example.com/")
    new = _run([mystery], [])
    assert diff_scans(doc([]), doc(new)).failed
