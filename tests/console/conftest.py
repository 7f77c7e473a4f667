"""The console's fixtures: a ledger seeded with choices in several regions, a data-subject request
and a website scan; the app in-process (Starlette's TestClient) for sessions and reports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from consentgate.auth.apikeys import create_key
from consentgate.ledger.store import Ledger
from consentgate.policy import Policy
from consentgate.requests import RequestDesk
from consentgate.server import create_app
from consentgate.service import ConsentService
from consentgate.settings import Settings
from tests.browser import browser as browser  # the fixture, once per package (tests/browser.py)

ORIGIN = "http://testserver"
# (subject, region, action) for train_support_chatbot, at the notice version in force; chosen so
# the rates differ by region: EU 2 of 3 allowed, US-CA (opt_out) 1 of 2, BR 0 of 1.
CHOICES = (
    ("ana@example.com", "DE", "grant"),
    ("ben@example.com", "FR", "grant"),
    ("cem@example.com", "NL", "deny"),
    ("dia@example.com", "US-CA", "opt_out"),
    ("eli@example.com", "US-CA", "grant"),
    ("fay@example.com", "BR", "withdraw"),
)
PURPOSE = "train_support_chatbot"


def seed(service: ConsentService, scan_file: Path | None = None) -> None:
    """Choices of CHOICES a week ago, an open access request and (optionally) a scan file."""
    when = datetime.now(UTC) - timedelta(days=7)
    version = service.policy.current_version("ai-training", when)
    assert version is not None
    raws = [
        (
            f"events[{i}]",
            {
                "subject": subject,
                "action": action,
                "purposes": [PURPOSE],
                "notice_id": "ai-training",
                "notice_version": str(version.version),
                "region": region,
                "locale": "en",
                "occurred_at": when.isoformat(),
            },
        )
        for i, (subject, region, action) in enumerate(CHOICES)
    ]
    service.record(raws, source="import", strict=False)
    RequestDesk(service).file("access", "ana@example.com", channel="email")
    if scan_file is not None:
        scan_file.write_text(json.dumps(SCAN), encoding="utf-8")


SCAN = {
    "schema": "consentgate.scan/1",
    "site": "www.example.com",
    "start_url": "https://www.example.com/",
    "started_at": "2026-11-30T09:00:00+00:00",
    "summary": {"pages": 3, "cookies": 2, "storage": 0, "third_party_hosts": 1, "unknown": {"cookies": 1}},
    "cookies": [
        {"name": "_demo_analytics_id", "domain": "www.example.com", "category": "analytics"},
        {"name": "_mystery", "domain": "www.example.com", "category": "unknown"},
    ],
    "storage": [],
    "hosts": [{"host": "tracker.example.net", "category": "analytics"}],
    "violations": [
        {"kind": "cookie", "name": "_demo_analytics_id", "category": "analytics", "phase": "no_consent",
         "page": "https://www.example.com/"},
    ],
}  # fmt: skip


@pytest.fixture
def console_service(example_policy: Policy, tmp_path: Path) -> Iterator[ConsentService]:
    ledger = Ledger.open(str(tmp_path / "ledger.db"))
    try:
        service = ConsentService(example_policy, ledger)
        seed(service, tmp_path / "scan.json")
        yield service
    finally:
        ledger.close()


@pytest.fixture
def console_keys(console_service: ConsentService) -> dict[str, str]:
    engine = console_service.ledger.engine
    return {
        scope: create_key(engine, scope, f"console {scope}")[1]
        for scope in ("collect", "read", "admin", "audit")
    }


@pytest.fixture
def console_client(
    console_service: ConsentService, tmp_path: Path, example_policy_path: Path
) -> Iterator[TestClient]:
    settings = Settings(
        db=str(tmp_path / "ledger.db"), policy=example_policy_path, scan_file=tmp_path / "scan.json"
    )
    with TestClient(create_app(settings, service=console_service), base_url=ORIGIN) as client:
        yield client


def sign_in(client: TestClient, key: str, *, origin: str = ORIGIN) -> str:
    """Sign in through the form; the session cookie's value (the client keeps it too)."""
    response = client.post(
        "/console/sign-in", data={"key": key}, headers={"Origin": origin}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    cookie = client.cookies.get("cg_console")
    assert cookie
    return cookie


def csrf_of(page_html: str) -> str:
    marker = 'name="csrf" value="'
    start = page_html.index(marker) + len(marker)
    return page_html[start : page_html.index('"', start)]
