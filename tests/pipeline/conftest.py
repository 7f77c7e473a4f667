"""Fixtures for the pipeline tests: a small ledger with every kind of person, records that exercise
every rule, and one Spark session for the whole test session (Spark takes seconds to start)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from consentgate.ledger.store import Ledger
from consentgate.policy import Policy, load_policy
from consentgate.service import ConsentService

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POLICY = Path(__file__).with_name("policy.yaml")
AT = datetime(2026, 6, 20, tzinfo=UTC)
SUPPRESSION_KEY = b"test-suppression-key-0123456789"


def ev(
    subject: str, action: str, when: str, purpose: str | None = "train_chat", **over: Any
) -> tuple[str, Any]:
    raw: dict[str, Any] = {"subject": subject, "action": action, "occurred_at": when, "region": "DE"}
    if purpose is not None and action not in ("gpc", "erase"):
        raw["purposes"] = [purpose]
    if action == "grant":
        raw.update(notice_id="ai", notice_version=2 if when >= "2026-06" else 1, locale="en")
    raw.update(over)
    return ("", raw)


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy(POLICY)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    led = Ledger.open(str(tmp_path / "ledger.db"))
    try:
        yield led
    finally:
        led.close()


@pytest.fixture
def shared(ledger_url: str) -> Iterator[Ledger]:
    """A ledger on SQLite and on PostgreSQL (the root conftest's ``ledger_url``), for the tests of
    storage; ``ledger`` above is SQLite only."""
    led = Ledger.open(ledger_url)
    try:
        yield led
    finally:
        led.close()


@pytest.fixture
def service(policy: Policy, ledger: Ledger) -> ConsentService:
    return ConsentService(policy, ledger)


def populate(service: ConsentService) -> None:
    """People for both purposes; decisions at AT (2026-06-20) noted per person."""
    service.record(
        [
            ev("alice", "grant", "2026-06-10T09:00:00Z"),  # allowed; expires 2026-07-10
            ev("bob", "grant", "2026-05-20T09:00:00Z"),  # v1 grant: re-consent needed since 06-01
            ev("dave", "deny", "2026-06-02T09:00:00Z"),
            ev("frank", "grant", "2026-06-03T09:00:00Z"),
            ev("frank", "withdraw", "2026-06-04T09:00:00Z"),
            ev("hal", "grant", "2026-06-12T09:00:00Z"),  # allowed, but on the suppression list
            ev("erin", "grant", "2026-06-12T09:00:00Z"),
            ev("erin", "erase", "2026-06-13T09:00:00Z"),
            # train_optout: carol opted out in the US, ken granted in the EU, lee in the US did nothing
            ev("carol", "opt_out", "2026-06-05T09:00:00Z", purpose="train_optout", region="US-CA"),
            ev("ken", "grant", "2026-06-05T09:00:00Z", purpose="train_optout"),
            ev("lee", "gpc", "2026-06-05T09:00:00Z", purpose=None, region="US-CA", signals={"gpc": True}),
            ev("mia", "deny", "2026-06-06T09:00:00Z", purpose="train_optout", region="US-CA"),
        ],
        strict=False,
    )
    service.link("cookie-alice", "alice", "cookie_id")
    service.link("cookie-mia", "mia", "cookie_id")


SUBJECTS = [
    "alice", "cookie-alice", "bob", "dave", "frank", "hal", "erin", "carol", "ken", "lee", "mia",
    "cookie-mia", "gina", "zed", None, "",
]  # fmt: skip


def records() -> pa.Table:
    """Every subject with and without the flag, plus a null flag: 3 rows per subject."""
    rid, subject, flag, text = [], [], [], []
    for i, s in enumerate(SUBJECTS):
        for j, f in enumerate((False, True, None)):
            rid.append(i * 3 + j)
            subject.append(s)
            flag.append(f)
            text.append(f"message {i}/{j}")
    return pa.table(
        {
            "rid": pa.array(rid, pa.int64()),
            "user_id": pa.array(subject, pa.string()),
            "do_not_train": pa.array(flag, pa.bool_()),
            "text": pa.array(text, pa.string()),
        }
    )


@pytest.fixture
def populated(service: ConsentService) -> ConsentService:
    populate(service)
    return service
