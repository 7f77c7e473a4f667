"""What changed between two scans of a site: new, removed and re-categorised cookies and hosts, and
new and resolved violations.

The gate (``consentgate scan diff`` exits 3) fails when the new scan has a violation the old one
did not — unclassified items before consent are violations of their own kind (verdict.py), so they
fail it too — or an uncategorised tracker: a cookie, or a third-party host, whose category is
``unknown`` and that was not there (or not unknown) before, even if it appeared only after consent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from consentgate.errors import BadInput
from consentgate.scan.results import SCHEMA


@dataclass
class ScanDiff:
    cookies_added: list[dict[str, Any]] = field(default_factory=list)
    cookies_removed: list[dict[str, Any]] = field(default_factory=list)
    cookies_recategorised: list[dict[str, Any]] = field(default_factory=list)
    hosts_added: list[dict[str, Any]] = field(default_factory=list)
    hosts_removed: list[dict[str, Any]] = field(default_factory=list)
    hosts_recategorised: list[dict[str, Any]] = field(default_factory=list)
    storage_added: list[dict[str, Any]] = field(default_factory=list)
    storage_removed: list[dict[str, Any]] = field(default_factory=list)
    violations_added: list[dict[str, Any]] = field(default_factory=list)
    violations_resolved: list[dict[str, Any]] = field(default_factory=list)
    uncategorised_trackers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """A new violation or a new uncategorised tracker: what a CI job should stop on."""
        return bool(self.violations_added or self.uncategorised_trackers)

    @property
    def changed(self) -> bool:
        return any(getattr(self, name) for name in self.__dataclass_fields__)

    def as_json(self) -> dict[str, Any]:
        return {
            "failed": self.failed,
            "cookies": {
                "added": self.cookies_added,
                "removed": self.cookies_removed,
                "recategorised": self.cookies_recategorised,
            },
            "hosts": {
                "added": self.hosts_added,
                "removed": self.hosts_removed,
                "recategorised": self.hosts_recategorised,
            },
            "storage": {"added": self.storage_added, "removed": self.storage_removed},
            "violations": {"added": self.violations_added, "resolved": self.violations_resolved},
            "uncategorised_trackers": self.uncategorised_trackers,
        }


def check_document(doc: Any, where: str) -> dict[str, Any]:
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        found = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
        raise BadInput(f"{where}: not a consentgate scan (schema {found!r}, expected {SCHEMA!r})")
    return doc


def _cookie_key(c: dict[str, Any]) -> tuple[str, ...]:
    return (c["name"], c["domain"])


def _storage_key(s: dict[str, Any]) -> tuple[str, ...]:
    return (s["kind"], s["key"], s["origin"])


def _host_key(h: dict[str, Any]) -> tuple[str, ...]:
    return (h["host"],)


def _violation_key(v: dict[str, Any]) -> tuple[str, ...]:
    return (v["kind"], str(v.get("name")), str(v.get("host")), v["phase"])


def _brief_cookie(c: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "domain", "party", "category", "category_source", "phases", "first_seen", "set_by")
    return {k: c.get(k) for k in keys}


def _brief_host(h: dict[str, Any]) -> dict[str, Any]:
    return {k: h.get(k) for k in ("host", "category", "category_source", "vendor", "phases", "first_seen")}


def _brief_storage(s: dict[str, Any]) -> dict[str, Any]:
    return {k: s.get(k) for k in ("key", "kind", "origin", "party", "category", "phases", "first_seen")}


def diff_scans(old: dict[str, Any], new: dict[str, Any]) -> ScanDiff:
    old = check_document(old, "old scan")
    new = check_document(new, "new scan")
    d = ScanDiff()

    def compare(kind: str, key: Any, brief: Any) -> tuple[list[Any], list[Any], list[Any]]:
        before = {key(x): x for x in old.get(kind, [])}
        after = {key(x): x for x in new.get(kind, [])}
        added = [brief(x) for k, x in after.items() if k not in before]
        removed = [brief(x) for k, x in before.items() if k not in after]
        recat = [
            {**brief(x), "old_category": before[k]["category"]}
            for k, x in after.items()
            if k in before and before[k]["category"] != x["category"]
        ]
        return added, removed, recat

    d.cookies_added, d.cookies_removed, d.cookies_recategorised = compare(
        "cookies", _cookie_key, _brief_cookie
    )
    d.hosts_added, d.hosts_removed, d.hosts_recategorised = compare("hosts", _host_key, _brief_host)
    d.storage_added, d.storage_removed, _ = compare("storage", _storage_key, _brief_storage)

    before_v = {_violation_key(v) for v in old.get("violations", [])}
    after_v = {_violation_key(v) for v in new.get("violations", [])}
    d.violations_added = [v for v in new.get("violations", []) if _violation_key(v) not in before_v]
    d.violations_resolved = [v for v in old.get("violations", []) if _violation_key(v) not in after_v]

    newly_unknown = [c for c in d.cookies_added if c["category"] == "unknown"]
    newly_unknown += [c for c in d.cookies_recategorised if c["category"] == "unknown"]
    newly_hosts = [h for h in d.hosts_added if h["category"] == "unknown"]
    newly_hosts += [h for h in d.hosts_recategorised if h["category"] == "unknown"]
    d.uncategorised_trackers = [{"kind": "cookie", **c} for c in newly_unknown] + [
        {"kind": "host", **h} for h in newly_hosts
    ]
    return d
