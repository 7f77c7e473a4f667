"""The website inventory: the newest scan per scheduled site, counts from the scan's items, and plain
words (never zeros) for a site never scanned or a file that is not a scan."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from consentgate.policy import Policy
from consentgate.reports.inventory import inventory
from consentgate.scan.history import ScanHistory
from tests.scan.docs import cookie, document, host, violation

SITES = ["https://www.example.com/", "https://shop.example.com/", "https://blog.example.com/"]


def scheduled(policy: Policy) -> Policy:
    data = policy.model_dump(mode="json")
    data["web"]["scan"] = {"start_urls": SITES}
    return Policy.model_validate(data)


def scan_doc(url: str, n: int) -> dict[str, Any]:
    """A scan with ``n`` of everything, one of each kind unknown/unclassified."""
    doc = document(
        cookies=[cookie(f"c{i}", "unknown" if i == 0 else "analytics") for i in range(n)],
        hosts=[host(f"t{i}.example.net", "marketing") for i in range(n + 1)],
        violations=[{**violation("cookie", f"c{i}", "www.example.com"), "type": "unclassified" if i == 0 else
                     "needs_consent"} for i in range(n)],
    )  # fmt: skip
    doc["start_url"] = url
    doc["finished_at"] = f"2026-11-0{n}T10:00:30Z"
    return doc


def test_the_newest_scan_of_each_site_and_plain_words_for_the_rest(
    tmp_path: Path, example_policy: Policy
) -> None:
    policy = scheduled(example_policy)
    history = ScanHistory(tmp_path / "scans")
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    history.save(SITES[0], scan_doc(SITES[0], 2), t0)
    history.save(SITES[0], scan_doc(SITES[0], 5), t0 + timedelta(days=3))  # the newest: counts from it
    history.save(SITES[1], scan_doc(SITES[1], 3), t0)
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps(scan_doc("https://help.example.com/", 4)), encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema": "something else"}', encoding="utf-8")

    report = inventory(
        policy, history_dir=tmp_path / "scans", scan_files=[extra, broken, tmp_path / "none.json"]
    )
    rows = {r["start_url"] or r["scan"]: r for r in report["sites"]}
    assert len(report["sites"]) == 6
    www = rows[SITES[0]]
    assert (www["cookies"], www["hosts"], www["violations"], www["unclassified"], www["uncategorised"]) == (
        5, 6, 5, 1, 1,
    )  # fmt: skip
    assert www["scanned_at"] == "2026-11-05T10:00:30Z"
    assert rows[SITES[1]]["cookies"] == 3
    blog = rows[SITES[2]]
    assert blog["scanned_at"] is None
    assert blog["cookies"] is None
    assert blog["problem"] == "never scanned"
    assert rows["https://help.example.com/"]["violations"] == 4
    assert "not a consentgate scan" in rows[str(broken)]["problem"]
    assert rows[str(broken)]["cookies"] is None
    assert "does not exist" in rows[str(tmp_path / "none.json")]["problem"]
    details = {d["start_url"]: d for d in report["details"]}
    assert [c["name"] for c in details[SITES[0]]["cookies"]] == [f"c{i}" for i in range(5)]
    assert len(details) == 3


def test_without_a_history_folder_scheduled_sites_say_why(example_policy: Policy) -> None:
    report = inventory(scheduled(example_policy))
    assert [r["problem"] for r in report["sites"]] == [
        "never scanned (no scan history folder is configured)"
    ] * 3
    assert inventory(example_policy) == {"sites": [], "details": [], "scheduled": False}
