"""Fixtures for data-subject requests: a policy whose sources are real files made per test (Parquet,
DuckDB, a SQLite database reached as a SQL source), a ledger on SQLite or PostgreSQL, and a desk."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from consentgate.cli import app
from consentgate.ledger.signing import Signer
from consentgate.ledger.store import Ledger
from consentgate.pipeline import FilterOptions, build_snapshot, filter_files, record_filter_run
from consentgate.pipeline.manifest import Manifest
from consentgate.policy import Policy, load_policy
from consentgate.requests import RequestDesk
from consentgate.service import ConsentService

POLICY = Path(__file__).with_name("policy.yaml")
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, when: datetime = NOW) -> None:
        self.when = when

    def __call__(self) -> datetime:
        return self.when


def grant(
    subject: str, purpose: str = "train_chat", when: str = "2026-02-01T10:00:00Z", **over: Any
) -> tuple[str, Any]:
    raw = {
        "subject": subject,
        "action": "grant",
        "purposes": [purpose],
        "occurred_at": when,
        "region": "DE",
        "notice_id": "ai",
        "notice_version": 1,
        "locale": "en",
    }
    raw.update(over)
    return ("", raw)


def record_filtered(service: ConsentService, site: Path, name: str) -> Manifest:
    """ann, bob and zed's records in ``site/name``, filtered for train_chat into ``site/clean.parquet``
    (zed has no consent, so only ann's and bob's remain), and the filter run recorded."""
    src = site / name
    pq.write_table(pa.table({"user_id": ["ann", "bob", "zed"], "text": ["a", "b", "c"]}), src)
    snap = build_snapshot(service.policy, service.ledger, "train_chat")
    manifest = filter_files(src, site / "clean.parquet", snap, FilterOptions(subject_column="user_id"))
    record_filter_run(service.ledger, manifest)
    return manifest


def write_sources(root: Path) -> None:
    """Records of ann (also known by cookie c-ann), bob and cat in all three stores."""
    chats = root / "data" / "chats"
    chats.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.table({"user_id": ["ann", "bob", "ann"], "text": ["hi", "help", "thanks"]}),
        chats / "part-0.parquet",
        compression="zstd",
    )
    pq.write_table(pa.table({"user_id": ["cat", "bob"], "text": ["yo", "again"]}), chats / "part-1.parquet")
    con = duckdb.connect(str(root / "data" / "feedback.duckdb"))
    con.execute("CREATE TABLE feedback (user_id VARCHAR, cookie_id VARCHAR, text VARCHAR, stars INTEGER)")
    con.execute(
        "INSERT INTO feedback VALUES "
        "('ann', NULL, 'great', 5), (NULL, 'c-ann', 'slow', 2), ('bob', NULL, 'ok', 3)"
    )
    con.close()
    db = sqlite3.connect(root / "tickets" / "tickets.db") if (root / "tickets").exists() else None
    if db is None:
        (root / "tickets").mkdir()
        db = sqlite3.connect(root / "tickets" / "tickets.db")
    db.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY, customer TEXT, body TEXT)")
    db.executemany(
        "INSERT INTO tickets (customer, body) VALUES (?, ?)", [("ann", "refund"), ("bob", "login")]
    )
    db.commit()
    db.close()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with the policy and its sources' data; relative store paths resolve against it."""
    shutil.copyfile(POLICY, tmp_path / "policy.yaml")
    write_sources(tmp_path)
    monkeypatch.setenv("TICKETS_DIR", str(tmp_path / "tickets"))
    return tmp_path


@pytest.fixture
def policy(site: Path) -> Policy:
    return load_policy(site / "policy.yaml")


@pytest.fixture
def service(policy: Policy, ledger_url: str) -> Iterator[ConsentService]:
    led = Ledger.open(ledger_url)
    try:
        yield ConsentService(policy, led)
    finally:
        led.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desk(service: ConsentService, site: Path, clock: Clock) -> RequestDesk:
    service.record([grant("ann"), grant("bob"), grant("ann", "analytics")])
    service.link("c-ann", "ann", "cookie_id")
    return RequestDesk(service, base_dir=site, now=clock, backoff=0.0, sleep=lambda _: None)


Invoke = Callable[..., Result]


@pytest.fixture
def cg(site: Path, ledger_url: str, ledger_signer: Signer) -> Invoke:
    """The CLI on the test's ledger and policy; every command seals what it writes with the fixture's
    key, so `ledger verify` can say "intact"."""
    runner = CliRunner(env={"COLUMNS": "240", "CONSENTGATE_LEDGER_KEY": str(ledger_signer.path)})

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(
            app, ["--db", ledger_url, "--policy", str(site / "policy.yaml"), *args], input=input
        )

    return invoke


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result
