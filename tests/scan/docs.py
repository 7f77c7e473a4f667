"""Small hand-made scan documents for the tests that need no browser."""

from __future__ import annotations

from typing import Any

ALL = ["no_consent", "rejected", "accepted"]


def cookie(name: str, category: str, phases: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "name": name, "domain": extra.pop("domain", "www.example.com"), "path": "/", "party": "first",
        "category": category, "category_source": "open-cookie-database",
        "platform": extra.pop("platform", None),
        "description": extra.pop("description", None), "phases": phases or ALL,
        "first_seen": "https://www.example.com/", "first_seen_phase": (phases or ALL)[0],
        "set_by": "https://www.example.com/app.js", "set_by_all": [], "expires": None,
        "session": extra.pop("session", False), "lifetime_s": extra.pop("lifetime_s", 86400 * 365),
        "retention": None, "secure": False, "http_only": False, "same_site": None, "host_only": True,
        "in_jar": True, "blocked": [], "pages": 1, **extra,
    }  # fmt: skip


def host(name: str, category: str, phases: list[str] | None = None) -> dict[str, Any]:
    return {
        "host": name, "party": "third", "category": category, "category_source": "trackers",
        "platform": None, "description": None, "vendor": None, "phases": phases or ALL,
        "first_seen": "https://www.example.com/", "initiator": "https://www.example.com/", "requests": 1,
    }  # fmt: skip


def violation(kind: str, name: str | None, host_: str, phase: str = "no_consent") -> dict[str, Any]:
    return {
        "kind": kind, "name": name, "host": host_, "category": "marketing", "phase": phase,
        "page": "https://www.example.com/", "cause": "https://www.example.com/app.js", "url": None,
    }  # fmt: skip


def document(
    cookies: list[dict[str, Any]] = (),  # type: ignore[assignment]
    hosts: list[dict[str, Any]] = (),  # type: ignore[assignment]
    violations: list[dict[str, Any]] = (),  # type: ignore[assignment]
    storage: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    return {
        "schema": "consentgate.scan/1",
        "site": "www.example.com",
        "start_url": "https://www.example.com/",
        "started_at": "2026-03-01T10:00:00Z",
        "finished_at": "2026-03-01T10:00:30Z",
        "pages": ["https://www.example.com/"],
        "cookies": list(cookies),
        "storage": list(storage),
        "requests": [],
        "hosts": list(hosts),
        "violations": list(violations),
    }
