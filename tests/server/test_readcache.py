"""The decision cache never answers with something ``decide`` would not say now (server/readcache.py).

Each test first makes the app answer (and cache) a decision, then changes what the decision rests on
behind the app's back — the CLI in another process, a second service on its own connections, an
alias link, an erasure, a notice version taking effect, a revoked key — and asks again. On SQLite and
PostgreSQL. The answers are checked against the pure function on the ledger as it is then.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from consentgate.auth.apikeys import create_key, revoke_key
from consentgate.decide import Timeline, decide, holds_until
from consentgate.ledger.events import ConsentEvent
from consentgate.ledger.store import Ledger
from consentgate.policy import Policy, load_policy
from consentgate.policy.models import to_micros
from consentgate.requests import RequestDesk
from consentgate.server import create_app
from consentgate.service import ConsentService
from consentgate.settings import Settings
from tests.support.servers import NO_RATE_LIMITS, spawn_server
from tests.support.servers import client as http_client

from .conftest import ago, assert_error, bearer

pytestmark = pytest.mark.anyio
PURPOSE = "train_support_chatbot"


def grant(subject: str, when: str, version: int = 2, **over: Any) -> tuple[str, dict[str, Any]]:
    raw = {
        "subject": subject, "action": "grant", "purposes": [PURPOSE], "occurred_at": when,
        "region": "DE", "locale": "en", "notice_id": "ai-training", "notice_version": version,
    }  # fmt: skip
    raw.update(over)
    return ("", raw)


@pytest.fixture
def service(example_policy: Policy, ledger_url: str) -> Iterator[ConsentService]:
    ledger = Ledger.open(ledger_url)
    try:
        yield ConsentService(example_policy, ledger)
    finally:
        ledger.close()


@pytest.fixture
def read_key(service: ConsentService) -> str:
    return create_key(service.ledger.engine, "read", label="cache test")[1]


def make_app(service: ConsentService, policy_path: Path, **settings: Any) -> FastAPI:
    base = Settings(db=service.ledger.url, policy=policy_path, rate_per_key=1e6, rate_per_ip=1e6)
    return create_app(base.model_copy(update=settings), service=service)


@pytest.fixture
async def client(service: ConsentService, example_policy_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(service, example_policy_path)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def ask(client: httpx.AsyncClient, key: str, subject: str, **params: str) -> dict[str, Any]:
    response = await client.get(
        "/v1/decisions", params={"subject": subject, "purpose": PURPOSE, **params}, headers=bearer(key)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def truth(service: ConsentService, subject: str, at: datetime) -> bool:
    """What the pure function says from the ledger as it is now (every alias and erasure resolved)."""
    events = service.ledger.events_of(service.person(subject))
    return decide(service.policy, events, subject, PURPOSE, at).allowed


async def test_a_write_by_the_cli_in_another_process_is_seen_by_the_next_request(
    client: httpx.AsyncClient, service: ConsentService, read_key: str, example_policy_path: Path
) -> None:
    service.record([grant("carol@example.com", ago(hours=2))])
    assert (await ask(client, read_key, "carol@example.com"))["allowed"] is True
    assert (await ask(client, read_key, "carol@example.com"))["allowed"] is True  # now from the cache
    main = "from consentgate.cli import main; main()"
    cli = [sys.executable, "-c", main, "--db", service.ledger.url, "--policy", str(example_policy_path)]
    done = subprocess.run(
        [*cli, "record", "--subject", "carol@example.com", "--action", "withdraw", "--purpose", PURPOSE],
        capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    answer = await ask(client, read_key, "carol@example.com")
    assert answer["allowed"] is False
    assert answer["allowed"] == truth(service, "carol@example.com", datetime.now(UTC))


async def test_an_alias_linked_elsewhere_takes_effect_at_once(
    client: httpx.AsyncClient, service: ConsentService, read_key: str, example_policy: Policy, ledger_url: str
) -> None:
    service.record([grant("acct-7@example.com", ago(hours=2))])
    assert (await ask(client, read_key, "cookie-7"))["allowed"] is False  # nobody known: consent needed
    with Ledger.open(ledger_url) as other:  # another writer, on connections of its own
        assert ConsentService(example_policy, other).link("cookie-7", "acct-7@example.com", "cookie_id")
    answer = await ask(client, read_key, "cookie-7")
    assert answer["allowed"] is True
    assert answer["allowed"] == truth(service, "cookie-7", datetime.now(UTC))


async def test_an_erasure_denies_at_once_even_for_a_cached_allowed(
    client: httpx.AsyncClient, service: ConsentService, read_key: str, example_policy: Policy, ledger_url: str
) -> None:
    service.record([grant("dan@example.com", ago(hours=2))])
    assert (await ask(client, read_key, "dan@example.com"))["allowed"] is True
    assert (await ask(client, read_key, "dan@example.com"))["allowed"] is True
    with Ledger.open(ledger_url) as other:
        desk = RequestDesk(ConsentService(example_policy, other), adapters={})
        desk.complete(desk.file("erase", "dan@example.com", verified_by="operator").request_id)
    answer = await ask(client, read_key, "dan@example.com")
    assert answer["allowed"] is False
    assert answer["allowed"] == truth(service, "dan@example.com", datetime.now(UTC))


async def test_an_explicit_at_is_answered_for_that_instant_not_from_a_now_entry(
    client: httpx.AsyncClient, service: ConsentService, read_key: str
) -> None:
    service.record([grant("erin@example.com", ago(days=2))])
    assert (await ask(client, read_key, "erin@example.com"))["allowed"] is True
    before = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    assert (await ask(client, read_key, "erin@example.com", at=before))["allowed"] is False


def _policy_with_new_version(path: Path, source: Path, effective: datetime) -> Path:
    """The example policy with a material (reconsent) version 3 of ai-training from ``effective``."""
    text = source.read_text()
    version_3 = (
        f"      - version: 3\n        effective_from: {effective.isoformat()}\n        reconsent: true\n"
        '        text:\n          en: "Use my support conversations to train our models, also for voice."\n'
    )
    marker = "  - id: cookies\n"
    assert text.count(marker) == 1
    path.write_text(text.replace(marker, version_3 + marker))
    return path


async def test_a_notice_version_taking_effect_ends_a_cached_allowed_at_that_instant(
    ledger_url: str, example_policy_path: Path, tmp_path: Path
) -> None:
    """No write happens: only the clock passes the instant version 3 takes effect. On a busy machine
    the set-up can outlast a short lead, so the lead grows until the first answers precede it."""
    with Ledger.open(ledger_url) as ledger:
        key = create_key(ledger.engine, "read", label="cache test")[1]
        for attempt, lead in enumerate((2.0, 6.0, 20.0)):
            effective = datetime.now(UTC) + timedelta(seconds=lead)
            path = _policy_with_new_version(
                tmp_path / f"policy-{attempt}.yaml", example_policy_path, effective
            )
            service = ConsentService(load_policy(path), ledger)
            subject = f"fay-{attempt}@example.com"
            service.record([grant(subject, ago(hours=1))])  # under version 2
            app = make_app(service, path)
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                    first, second = await ask(c, key, subject), await ask(c, key, subject)  # then cached
                    if datetime.fromisoformat(second["at"]) >= effective:
                        continue  # too slow to ask before the instant: try again with a longer lead
                    assert first["allowed"] is True
                    assert second["allowed"] is True
                    await asyncio.sleep(max(0.0, (effective - datetime.now(UTC)).total_seconds()) + 0.05)
                    answer = await ask(c, key, subject)
                    assert answer["allowed"] is False
                    assert "ai-training" in answer["reason"]
                    return
    raise AssertionError("could not ask before the new version took effect, even with a 20 s lead")


async def test_a_revoked_key_stops_working_once_its_cache_entry_ends(
    service: ConsentService, example_policy_path: Path
) -> None:
    key_id, key = create_key(service.ledger.engine, "read", label="soon revoked")
    service.record([grant("gus@example.com", ago(hours=1))])
    app = make_app(service, example_policy_path)
    keys = app.state.consentgate.keys
    now = [1000.0]
    keys.clock = lambda: now[0]  # the key cache's clock, moved by hand
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            assert (await ask(c, key, "gus@example.com"))["allowed"] is True
            revoke_key(service.ledger.engine, key_id)
            now[0] += keys.ttl + 0.001  # the documented bound: key_cache_seconds
            response = await c.get(
                "/v1/decisions",
                params={"subject": "gus@example.com", "purpose": PURPOSE},
                headers=bearer(key),
            )
            assert_error(response, 401, "unauthorized")


def _events(service: ConsentService, subject: str) -> list[ConsentEvent]:
    return service.ledger.events_of(service.person(subject))


def test_holds_until_is_where_the_pure_function_first_changes(service: ConsentService) -> None:
    """Expiry, an event dated later and a notice version: at the instant returned the answer is the
    same as at the start, and one microsecond later it may differ (here it does)."""
    policy = service.policy
    purpose = policy.require_purpose(PURPOSE)
    assert purpose.max_age_days is not None
    granted = datetime(2026, 6, 1, tzinfo=UTC)
    service.record([grant("hal@example.com", granted.isoformat())], strict=False)
    later = granted + timedelta(days=10)
    service.record(
        [("", {"subject": "hal@example.com", "action": "withdraw", "purposes": [PURPOSE],
               "occurred_at": later.isoformat(), "region": "DE"})],
        strict=False, allow_future=True,
    )  # fmt: skip
    events = _events(service, "hal@example.com")
    start = to_micros(granted + timedelta(days=1))
    until = holds_until(policy, Timeline(events), PURPOSE, start)
    assert until == to_micros(later) - 1

    def allowed(at_us: int) -> bool:
        at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=at_us)
        return decide(policy, events, "hal@example.com", PURPOSE, at).allowed

    assert allowed(start) is True
    assert allowed(until) is True
    assert allowed(until + 1) is False
    only_grant = [e for e in events if e.action.value == "grant"]
    expiry = holds_until(policy, Timeline(only_grant), PURPOSE, start)
    assert expiry <= to_micros(granted) + purpose.max_age_days * 86_400_000_000

    def allowed_grant(at_us: int) -> bool:
        at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=at_us)
        return decide(policy, only_grant, "hal@example.com", PURPOSE, at).allowed

    assert allowed_grant(expiry) is True
    # Every instant between the start and the bound gives the same answer (sampled).
    step = max(1, (expiry - start) // 97)
    assert all(allowed_grant(t) is True for t in range(start, expiry + 1, step))


async def test_a_batch_shares_the_cache_and_sees_another_writer(
    client: httpx.AsyncClient, service: ConsentService, read_key: str, example_policy: Policy, ledger_url: str
) -> None:
    people = [f"batch-{i}@example.com" for i in range(5)]
    service.record([grant(p, ago(hours=2)) for p in people])
    queries = [{"subject": p, "purpose": PURPOSE} for p in [*people, "nobody@example.com"]]

    async def batch() -> list[bool]:
        response = await client.post(
            "/v1/decisions/batch", json={"queries": queries}, headers=bearer(read_key)
        )
        assert response.status_code == 200, response.text
        return [d["allowed"] for d in response.json()["decisions"]]

    assert await batch() == [True] * 5 + [False]
    assert (await ask(client, read_key, people[2]))["allowed"] is True  # the same entry, from a single GET
    with Ledger.open(ledger_url) as other:
        withdraw = {
            "subject": people[2],
            "action": "withdraw",
            "purposes": [PURPOSE],
            "occurred_at": ago(hours=1),
        }
        ConsentService(example_policy, other).record([("", withdraw)])
    now = datetime.now(UTC)
    answers = await batch()
    assert answers == [True, True, False, True, True, False]
    assert answers == [truth(service, q["subject"], now) for q in queries]


def test_two_worker_processes_never_answer_from_a_stale_cache(
    ledger_url: str, example_policy: Policy, example_policy_path: Path, tmp_path: Path
) -> None:
    """``consentgate serve --workers 2``: each process has its own cache; a withdrawal recorded through
    either is seen by both on the next request (new connections spread over the two processes)."""
    with Ledger.open(ledger_url) as ledger:
        ConsentService(example_policy, ledger).record([grant("ivy@example.com", ago(hours=2))])
        key = create_key(ledger.engine, "admin", label="workers test")[1]
    env = {**NO_RATE_LIMITS, "CONSENTGATE_WORKERS": "2"}
    server = spawn_server(ledger_url, example_policy_path, tmp_path, via="cli", extra_env=env)
    params = {"subject": "ivy@example.com", "purpose": PURPOSE}

    def answers(n: int) -> list[bool]:
        out = []
        for _ in range(n):
            with http_client(server.base_url, key) as c:  # a new connection each time
                response = c.get("/v1/decisions", params=params)
                assert response.status_code == 200, response.text
                out.append(response.json()["allowed"])
        return out

    try:
        server.wait_ready(90)
        assert answers(16) == [True] * 16
        withdrawal = {
            "subject": "ivy@example.com", "occurred_at": ago(hours=1), "region": "DE",
            "choices": [{"purpose": PURPOSE, "action": "withdraw"}],
        }  # fmt: skip
        with http_client(server.base_url, key) as c:
            assert c.post("/v1/consents", json=withdrawal).status_code == 201
        assert answers(16) == [False] * 16
    finally:
        server.stop()


async def test_concurrent_requests_sharing_head_reads_all_see_an_earlier_write(
    client: httpx.AsyncClient, service: ConsentService, read_key: str, example_policy: Policy, ledger_url: str
) -> None:
    """On PostgreSQL requests that arrive together share head reads (server/readcache.py); each must
    still see every write that finished before it was sent."""
    people = [f"many-{i}@example.com" for i in range(24)]
    service.record([grant(p, ago(hours=2)) for p in people])
    assert all([(await ask(client, read_key, p))["allowed"] for p in people])
    for round_ in range(3):
        with Ledger.open(ledger_url) as other:
            action = "withdraw" if round_ % 2 == 0 else "grant"
            ConsentService(example_policy, other).record(
                [grant(p, ago(minutes=30 - round_), action=action) for p in people]
            )
        answers = await asyncio.gather(*(ask(client, read_key, p) for p in people))
        assert [a["allowed"] for a in answers] == [action == "grant"] * len(people)
