"""A broken hash chain stops writes (issue 13, item 3), on SQLite and PostgreSQL.

A row altered with raw SQL, as someone with database access would: the service must not decide from
it as if nothing happened, nor acknowledge new events chained onto it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from consentgate.auth.apikeys import create_key
from consentgate.ledger.store import Ledger
from consentgate.policy import Policy
from consentgate.server import create_app
from consentgate.service import ConsentService
from consentgate.settings import Settings
from tests.support.servers import NO_RATE_LIMITS, client, spawn_server

from .conftest import ago, assert_error, bearer

SUBJECT = "chain-1@example.com"


def submission(subject: str = SUBJECT, action: str = "grant") -> dict[str, Any]:
    return {
        "subject": subject,
        "occurred_at": ago(minutes=5),
        "region": "DE",
        "choices": [{"purpose": "train_support_chatbot", "action": action, "notice_version": 2}],
    }


def seed(url: str, policy: Policy) -> str:
    """Three events (grant, deny, grant) for SUBJECT; returns an admin key."""
    with Ledger.open(url) as ledger:
        service = ConsentService(policy, ledger)
        for action in ("grant", "deny", "grant"):
            body = submission(action=action)["choices"][0]
            raw = {**submission(), "action": action, "purposes": [body["purpose"]], "notice_version": 2}
            raw.pop("choices")
            service.record([("", raw)])
        return create_key(ledger.engine, "admin", label="chain test")[1]


def alter(url: str, seq: int) -> None:
    """What an insider would do: flip a stored choice in place, leaving its hash as it was."""
    with Ledger.open(url, migrate_schema=False) as ledger, ledger.engine.begin() as conn:
        action = conn.execute(text("SELECT action FROM events WHERE seq = :s"), {"s": seq}).scalar_one()
        flipped = "grant" if action == "deny" else "deny"
        conn.execute(text("UPDATE events SET action = :a WHERE seq = :s"), {"a": flipped, "s": seq})


@pytest.fixture
async def broken(
    ledger_url: str, example_policy: Policy, example_policy_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, str, FastAPI]]:
    key = seed(ledger_url, example_policy)
    alter(ledger_url, 2)
    app = create_app(Settings(db=ledger_url, policy=example_policy_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c, key, app
    app.state.consentgate.service.ledger.close()


@pytest.mark.anyio
async def test_a_service_on_an_altered_ledger_refuses_every_write_and_says_where(
    broken: tuple[httpx.AsyncClient, str, FastAPI],
) -> None:
    c, key, app = broken
    ledger: Ledger = app.state.consentgate.service.ledger
    head = ledger.head()
    auth = bearer(key)

    writes = [
        ("/v1/consents", submission()),
        ("/v1/consents/batch", {"submissions": [submission("chain-2@example.com")]}),
        (f"/v1/subjects/{SUBJECT}/aliases", {"alias": "cookie-7f3a"}),
        ("/v1/requests", {"kind": "withdraw", "subject": SUBJECT}),
    ]
    for path, body in writes:
        error = assert_error(await c.post(path, json=body, headers=auth), 503, "ledger_broken")
        assert "seq 2" in error["message"], error
        assert error["problems"][0]["at"] == "ledger.seq[2]"
    assert ledger.head() == head  # nothing was chained onto the altered history

    health = await c.get("/healthz")
    assert health.status_code == 503
    assert health.json()["status"] == "ledger_broken"
    assert health.json()["chain"]["first_bad"]["seq"] == 2
    assert "altered" in health.json()["chain"]["first_bad"]["problem"]

    params = {"subject": SUBJECT, "purpose": "train_support_chatbot"}
    decision = await c.get("/v1/decisions", params=params, headers=auth)
    assert decision.status_code == 200
    assert decision.json()["ledger_intact"] is False
    batch = await c.post("/v1/decisions/batch", json={"queries": [params]}, headers=auth)
    assert [d["ledger_intact"] for d in batch.json()["decisions"]] == [False]
    state = (await c.get(f"/v1/subjects/{SUBJECT}/state", headers=auth)).json()
    assert {d["ledger_intact"] for d in state["purposes"].values()} == {False}
    evidence = (await c.get(f"/v1/subjects/{SUBJECT}/evidence", headers=auth)).json()
    assert evidence["ledger_intact"] is False
    assert evidence["aliases"] == []  # the refused link was not stored
    assert evidence["chain"]["ledger"]["first_bad"]["seq"] == 2
    assert {d["ledger_intact"] for d in evidence["current"].values()} == {False}


class GatedVerify:
    """The real verification, held until released: a huge ledger whose start-up check takes a while."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.release = threading.Event()

    def verify(self, *, resume: tuple[int, str] | None = None) -> Any:
        self.release.wait(30)
        return self.ledger.verify(resume=resume)


@pytest.mark.anyio
async def test_while_the_first_check_runs_writes_wait_and_reads_say_unknown(
    ledger_url: str, example_policy: Policy, example_policy_path: Path
) -> None:
    key = seed(ledger_url, example_policy)
    app = create_app(Settings(db=ledger_url, policy=example_policy_path))
    monitor = app.state.consentgate.chain
    gated = GatedVerify(monitor.ledger)
    release = gated.release
    monitor.ledger = gated
    checking = threading.Thread(target=monitor.check)
    checking.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            for _ in range(200):  # until the thread holds the check
                if monitor.checking:
                    break
                time.sleep(0.01)
            response = await c.post("/v1/consents", json=submission(), headers=bearer(key))
            assert_error(response, 503, "ledger_unverified")
            assert int(response.headers["Retry-After"]) >= 1
            params = {"subject": SUBJECT, "purpose": "train_support_chatbot"}
            decision = await c.get("/v1/decisions", params=params, headers=bearer(key))
            assert decision.json()["ledger_intact"] is None
            assert (await c.get("/healthz")).json()["status"] == "verifying"
            release.set()
            checking.join(30)
            assert (await c.post("/v1/consents", json=submission(), headers=bearer(key))).status_code == 201
    finally:
        release.set()
        checking.join(30)
        app.state.consentgate.service.ledger.close()


def test_a_break_made_while_the_service_runs_is_caught_by_the_interval_check(
    ledger_url: str, example_policy: Policy, example_policy_path: Path, tmp_path: Path
) -> None:
    """``consentgate serve`` as shipped: intact at start, a row altered behind its back, then refused."""
    key = seed(ledger_url, example_policy)
    env = {**NO_RATE_LIMITS, "CONSENTGATE_CHAIN_CHECK_SECONDS": "0.2"}
    server = spawn_server(ledger_url, example_policy_path, tmp_path, via="cli", extra_env=env)
    try:
        server.wait_ready(60)
        with client(server.base_url, key) as c:
            assert c.post("/v1/consents", json=submission()).status_code == 201
            alter(ledger_url, 3)
            for _ in range(300):  # bounded: 300 polls of /healthz, a few checks' worth
                health = c.get("/healthz")
                if health.status_code == 503:
                    break
                time.sleep(0.05)
            assert health.status_code == 503, health.text
            assert health.json()["chain"]["first_bad"]["seq"] == 3
            response = c.post("/v1/consents", json=submission())
            assert_error(response, 503, "ledger_broken")
            params = {"subject": SUBJECT, "purpose": "train_support_chatbot"}
            assert c.get("/v1/decisions", params=params).json()["ledger_intact"] is False
    finally:
        server.stop()
    log = server.log_tail(20_000)
    assert "hash chain is broken at event seq 3" in log
    assert '"level": "error"' in log or '"level":"error"' in log


def test_interval_checks_resume_and_a_full_check_comes_round(ledger_url: str, example_policy: Policy) -> None:
    """Interval checks walk only what was appended since the last verified event; every
    FULL_CHECK_EVERY-th walks everything again, so an old row altered later is still caught."""
    from consentgate.server import chain as chain_module
    from consentgate.server.chain import ChainMonitor

    seed(ledger_url, example_policy)
    calls: list[tuple[int, str] | None] = []

    class Recording:
        def __init__(self, ledger: Ledger) -> None:
            self.ledger = ledger

        def verify(self, *, resume: tuple[int, str] | None = None) -> Any:
            calls.append(resume)
            return self.ledger.verify(resume=resume)

    with Ledger.open(ledger_url) as ledger:
        monitor = ChainMonitor(Recording(ledger), interval=60)
        assert monitor.check().state == "intact"
        assert calls[0] is None  # the first check walks every event
        assert monitor.check().state == "intact"
        head_seq, head_hash = ledger.head()
        assert calls[1] == (head_seq, head_hash)  # then only what came after the verified head
        for _ in range(chain_module.FULL_CHECK_EVERY - 2):
            monitor.check()
        monitor.check()
        assert calls[-1] is None  # the full walk comes round
        alter(ledger_url, 1)
        # an old row altered after it was checked: the resumed check cannot see it, the full one does
        assert monitor.check().state == "intact"
        assert monitor.check(full=True).state == "broken"
