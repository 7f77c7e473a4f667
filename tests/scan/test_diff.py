"""scan diff: what changed between two scans, and the exit code a CI job stops on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from consentgate.cli import app
from consentgate.errors import BadInput
from consentgate.scan import diff_scans

from .docs import cookie, document, host, violation

OLD = document(
    cookies=[
        cookie("_ga", "analytics", ["accepted"]),
        cookie("old_one", "necessary"),
        cookie("x", "unknown"),
    ],
    hosts=[host("stats.example.net", "analytics", ["accepted"]), host("cdn.example.net", "unknown")],
    violations=[violation("cookie", "_fbp", "www.example.com")],
)


def test_nothing_changed() -> None:
    d = diff_scans(OLD, OLD)
    assert not d.changed
    assert not d.failed


def test_new_removed_and_recategorised() -> None:
    new = document(
        cookies=[
            cookie("_ga", "marketing", ["accepted"]),
            cookie("fresh", "necessary"),
            cookie("x", "unknown"),
        ],
        hosts=[host("stats.example.net", "marketing", ["accepted"]), host("ads.example.net", "marketing")],
    )
    d = diff_scans(OLD, new)
    assert [c["name"] for c in d.cookies_added] == ["fresh"]
    assert [c["name"] for c in d.cookies_removed] == ["old_one"]
    assert [(c["name"], c["old_category"], c["category"]) for c in d.cookies_recategorised] == [
        ("_ga", "analytics", "marketing")
    ]
    assert [h["host"] for h in d.hosts_added] == ["ads.example.net"]
    assert [h["host"] for h in d.hosts_removed] == ["cdn.example.net"]
    assert [v["name"] for v in d.violations_resolved] == ["_fbp"]
    assert not d.failed  # resolved violations and known newcomers do not fail the gate


def test_a_new_violation_fails() -> None:
    new = {**OLD, "violations": [*OLD["violations"], violation("request", None, "ads.example.net")]}
    d = diff_scans(OLD, new)
    assert [v["host"] for v in d.violations_added] == ["ads.example.net"]
    assert d.failed


def test_the_same_violation_in_another_phase_is_new() -> None:
    new = {
        **OLD,
        "violations": [*OLD["violations"], violation("cookie", "_fbp", "www.example.com", "rejected")],
    }
    assert diff_scans(OLD, new).failed


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["cookies"].append(cookie("mystery", "unknown")),
        lambda d: d["hosts"].append(host("new-tracker.example.net", "unknown")),
        lambda d: d["cookies"].__setitem__(0, cookie("_ga", "unknown", ["accepted"])),  # lost its category
    ],
)
def test_a_new_uncategorised_tracker_fails(change: Any) -> None:
    new = json.loads(json.dumps(OLD))
    change(new)
    d = diff_scans(OLD, new)
    assert d.failed
    assert len(d.uncategorised_trackers) == 1


def test_an_uncategorised_item_that_was_there_before_does_not_fail() -> None:
    assert not diff_scans(OLD, json.loads(json.dumps(OLD))).uncategorised_trackers


def test_documents_are_checked() -> None:
    with pytest.raises(BadInput, match="not a consentgate scan"):
        diff_scans({"schema": "other"}, OLD)


def _write(tmp_path: Path, name: str, doc: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def test_cli_exit_codes(tmp_path: Path) -> None:
    old = _write(tmp_path, "old.json", OLD)
    same = CliRunner().invoke(app, ["scan", "diff", old, old])
    assert same.exit_code == 0, same.output
    assert "No differences" in same.stdout
    worse = {**OLD, "violations": [*OLD["violations"], violation("request", None, "ads.example.net")]}
    new = _write(tmp_path, "new.json", worse)
    result = CliRunner().invoke(app, ["scan", "diff", old, new])
    assert result.exit_code == 3
    assert "New violations (1)" in result.stdout
    assert "ads.example.net" in result.stdout
    as_json = CliRunner().invoke(app, ["scan", "diff", old, new, "--json"])
    assert as_json.exit_code == 3
    assert json.loads(as_json.stdout)["violations"]["added"][0]["host"] == "ads.example.net"


def test_cli_reports_unreadable_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    result = CliRunner().invoke(app, ["scan", "diff", str(bad), str(bad)])
    assert result.exit_code == 1
    assert "not JSON" in result.output
    missing = CliRunner().invoke(app, ["scan", "diff", str(tmp_path / "nope.json"), str(bad)])
    assert missing.exit_code == 1
    assert "no such file" in missing.output


def test_a_real_scan_against_itself(scanned: dict[str, Any], tmp_path: Path) -> None:
    """A site that starts setting a new ungated tracker cookie fails the gate."""
    doc = scanned["doc"]
    later = json.loads(json.dumps(doc))
    later["cookies"].append(cookie("tracker_x", "unknown"))
    d = diff_scans(doc, later)
    assert d.failed
    assert [t["name"] for t in d.uncategorised_trackers] == ["tracker_x"]
