"""Rate limits per API key and per client address: 429 in the error shape, with Retry-After."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from consentgate.auth.tokens import Keyring
from consentgate.server import create_app
from consentgate.server.ratelimit import EventBudget, RateLimit, TokenBuckets, address_bucket
from consentgate.service import ConsentService
from consentgate.settings import Settings

from .conftest import ago, assert_error, bearer

pytestmark = pytest.mark.anyio

Client = Callable[..., Any]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def on_clock(app: Any, clock: Clock) -> Any:
    """Put the app's request rate limits on ``clock``, so a slow test machine cannot refill a bucket
    between two requests and turn an expected 429 into a 200."""
    limits = [m for m in app.user_middleware if m.cls is RateLimit]
    assert len(limits) == 1, "create_app installs one RateLimit"
    limits[0].kwargs["clock"] = clock
    return app


@pytest.fixture
def limited(settings: Settings, service: ConsentService) -> Client:
    """``limited(per_key=…, per_ip=…, burst=…, client=("192.0.2.1", 1))`` → an httpx client."""

    @asynccontextmanager
    async def make(
        *,
        per_key: float = 0,
        per_ip: float = 0,
        burst: float = 1.0,
        client: tuple[str, int] = ("192.0.2.1", 1),
    ) -> AsyncIterator[httpx.AsyncClient]:
        update = {
            "rate_per_key": per_key,
            "rate_per_ip": per_ip,
            "rate_burst_seconds": burst,
        }
        app = on_clock(create_app(settings.model_copy(update=update), service=service), Clock())
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c

    return make


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=2, capacity=4, clock=clock)
    assert [buckets.take("k")[0] for _ in range(5)] == [True, True, True, True, False]
    allowed, _, wait = buckets.take("k")
    assert not allowed
    assert wait == pytest.approx(0.5)
    clock.now += 0.5
    assert buckets.take("k")[0]
    assert not buckets.take("k")[0]
    clock.now += 60  # refills to its capacity, not beyond
    assert [buckets.take("k")[0] for _ in range(5)] == [True, True, True, True, False]
    assert buckets.take("other")[0]  # buckets are independent


def test_buckets_are_bounded_and_forget_the_least_recent() -> None:
    buckets = TokenBuckets(rate=1, capacity=1, max_buckets=3, clock=Clock())
    for name in ("a", "b", "c"):
        assert buckets.take(name)[0]
    assert not buckets.take("a")[0]  # "a" is now the most recent
    assert buckets.take("d")[0]  # evicts "b"
    assert buckets.take("b")[0]  # back, full
    assert not buckets.take("a")[0]


@pytest.mark.parametrize(
    ("host", "bucket"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("testclient", "testclient"),
        (None, "unknown"),
    ],
)
def test_addresses_are_bucketed_by_host_or_ipv6_64(host: str | None, bucket: str) -> None:
    assert address_bucket(host) == bucket


async def test_per_key_limit_answers_429_with_retry_after(limited: Client, keys: dict[str, str]) -> None:
    async with limited(per_key=1, burst=3) as c:
        answers = [await c.get("/v1/subjects/u/state", headers=bearer(keys["admin"])) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        error = assert_error(answers[-1], 429, "rate_limited")
        assert "API key" in error["message"]
        assert answers[-1].headers["Retry-After"] == "1"
        assert answers[-1].headers["RateLimit-Limit"] == "3"
        assert answers[-1].headers["RateLimit-Remaining"] == "0"
        # Another key has a bucket of its own.
        assert (await c.get("/v1/subjects/u/state", headers=bearer(keys["read"]))).status_code == 200


async def test_per_address_limit_counts_every_key_and_none(limited: Client, keys: dict[str, str]) -> None:
    async with limited(per_ip=1, burst=2) as c:
        assert (await c.get("/v1/subjects/u/state", headers=bearer(keys["admin"]))).status_code == 200
        assert (await c.get("/v1/subjects/u/state", headers=bearer(keys["read"]))).status_code == 200
        error = assert_error(await c.get("/v1/subjects/u/state"), 429, "rate_limited")
        assert "client address" in error["message"]
    async with limited(per_ip=1, burst=2, client=("192.0.2.2", 1)) as other:
        # A fresh app, but the point stands: the bucket is the address's.
        assert (await other.get("/v1/subjects/u/state", headers=bearer(keys["admin"]))).status_code == 200


async def test_a_flooding_address_does_not_spend_a_shared_keys_bucket(
    settings: Settings, service: ConsentService, keys: dict[str, str]
) -> None:
    update = {"rate_per_key": 1, "rate_per_ip": 1, "rate_burst_seconds": 3}
    app = on_clock(create_app(settings.model_copy(update=update), service=service), Clock())
    collect = bearer(keys["collect"])  # public: it sits in every page with the banner

    async def call(host: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(host, 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return await c.post("/v1/consents", json={}, headers=collect)

    flood = [(await call("192.0.2.66")).status_code for _ in range(10)]
    assert flood.count(429) == 7
    # The three that got through spent the key's three tokens; the seven refused ones spent none of
    # them, so the key's bucket refills as if the flood had stopped at the address's limit.
    refused = await call("192.0.2.10")
    assert "API key" in assert_error(refused, 429, "rate_limited")["message"]


async def test_healthz_is_exempt(limited: Client) -> None:
    async with limited(per_ip=1, burst=1) as c:
        assert [(await c.get("/healthz")).status_code for _ in range(5)] == [200] * 5
        assert (await c.get("/openapi.json")).status_code == 200
        assert_error(await c.get("/openapi.json"), 429, "rate_limited")


async def test_zero_turns_the_limits_off(limited: Client, keys: dict[str, str]) -> None:
    async with limited(per_key=0, per_ip=0) as c:
        statuses = {
            (await c.get("/v1/subjects/u/state", headers=bearer(keys["admin"]))).status_code
            for _ in range(50)
        }
        assert statuses == {200}


async def test_a_refused_request_never_reaches_the_app() -> None:
    reached = 0

    async def app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal reached
        reached += 1
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    limiter = RateLimit(app, per_key=0, per_ip=1, burst_seconds=1, clock=Clock())
    transport = httpx.ASGITransport(app=limiter, client=("192.0.2.1", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        big = b"x" * 1_000_000
        statuses = [(await c.post("/v1/consents", content=big)).status_code for _ in range(3)]
    assert statuses == [204, 429, 429]
    assert reached == 1


def test_default_limits_fit_the_load_benchmark() -> None:
    """benchmarks/ledger.py sends ~900 requests in ~15 s from one address with one key, in bursts."""
    defaults = Settings()
    for rate in (defaults.rate_per_key, defaults.rate_per_ip):
        assert rate * defaults.rate_burst_seconds >= 1000
        assert rate >= 100


DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"


@pytest.mark.parametrize(
    "name",
    [
        "rate_per_key",
        "rate_per_ip",
        "rate_burst_seconds",
        "rate_events_per_key",
        "events_per_subject_minute",
        "max_head_bytes",
        "max_header_fields",
        "head_timeout_seconds",
        "max_connections_per_ip",
        "chain_check_seconds",
        "country_header",
        "geoip_db",
        "api_docs",
        "log_level",
        "max_body_bytes",
        "max_batch",
    ],
)
def test_the_settings_are_documented_with_their_env_names(name: str) -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert f"`{name}`" in text
    assert f"CONSENTGATE_{name.upper()}" in text
    assert name in Settings.model_fields


# -- events, not requests: what a batch holds counts (issue 13) ---------------------------------------


def choices(n: int) -> list[dict[str, Any]]:
    purposes = [
        "train_support_chatbot",
        "finetune_recommender",
        "product_analytics",
        "personalisation",
        "marketing",
    ]
    notice = {"train_support_chatbot": 2, "finetune_recommender": 2}
    return [{"purpose": p, "action": "deny", "notice_version": notice.get(p, 1)} for p in purposes[:n]]


def submission(subject: str, n: int = 1) -> dict[str, Any]:
    return {"subject": subject, "occurred_at": ago(minutes=1), "region": "DE", "choices": choices(n)}


@pytest.fixture
def budgeted(settings: Settings, service: ConsentService) -> Client:
    """``budgeted(per_key=…, per_subject_minute=…)`` → (client, clock): the event budget on a clock
    that moves only when the test moves it; request rate limits off."""

    @asynccontextmanager
    async def make(
        *, per_key: float = 0, per_subject_minute: int = 0, burst: float = 1.0
    ) -> AsyncIterator[tuple[httpx.AsyncClient, Clock]]:
        update = {"rate_per_key": 0, "rate_per_ip": 0, "rate_burst_seconds": burst}
        app = create_app(settings.model_copy(update=update), service=service)
        clock = Clock()
        budget = EventBudget(
            per_key=per_key, per_subject_minute=per_subject_minute, burst_seconds=burst, clock=clock
        )
        app.state.consentgate = dataclasses.replace(app.state.consentgate, events=budget)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, clock

    return make


async def test_a_public_collect_key_cannot_flood_the_ledger_through_batches(
    budgeted: Client, keys: dict[str, str], keyring: Keyring, service: ConsentService
) -> None:
    """The issue's attack in miniature: batches of many visitor ids through one collect key. The key
    may add 100 events per second (bursts of 100), however they are packed into requests."""
    visitors = [keyring.new_visitor_id() for _ in range(400)]
    async with budgeted(per_key=100) as (c, clock):
        statuses = []
        for i in range(8):  # 8 batches of 50 events at one instant
            batch = {"submissions": [submission(v) for v in visitors[i * 50 : (i + 1) * 50]]}
            response = await c.post("/v1/consents/batch", json=batch, headers=bearer(keys["collect"]))
            statuses.append(response.status_code)
        assert statuses == [201, 201] + [429] * 6
        assert service.ledger.count() == 100
        error = assert_error(response, 429, "rate_limited")
        assert "too many events for this API key" in error["message"]
        assert int(response.headers["Retry-After"]) >= 1

        clock.now += 0.5  # half a second refills 50 events: one more batch, not two
        batch = {"submissions": [submission(v) for v in visitors[100:150]]}
        assert (
            await c.post("/v1/consents/batch", json=batch, headers=bearer(keys["collect"]))
        ).status_code == 201
        batch = {"submissions": [submission(v) for v in visitors[150:151]]}
        assert (
            await c.post("/v1/consents/batch", json=batch, headers=bearer(keys["collect"]))
        ).status_code == 429
        assert service.ledger.count() == 150

        # Single submissions draw on the same budget as batches.
        single = await c.post("/v1/consents", json=submission(visitors[200]), headers=bearer(keys["collect"]))
        assert_error(single, 429, "rate_limited")


async def test_a_batch_larger_than_the_budget_could_ever_allow_is_refused_as_invalid(
    budgeted: Client, keys: dict[str, str], service: ConsentService
) -> None:
    async with budgeted(per_key=10) as (c, _):
        batch = {"submissions": [submission(f"big-{i}@example.com", 5) for i in range(3)]}  # 15 events
        error = assert_error(
            await c.post("/v1/consents/batch", json=batch, headers=bearer(keys["admin"])),
            422,
            "invalid_request",
        )
        assert "15 events" in error["message"]
        assert "split it" in error["message"]
    assert service.ledger.count() == 0


async def test_each_subject_gets_a_few_events_per_minute(
    budgeted: Client, keys: dict[str, str], service: ConsentService
) -> None:
    admin = bearer(keys["admin"])
    async with budgeted(per_subject_minute=8) as (c, clock):
        assert (
            await c.post("/v1/consents", json=submission("v-1@example.com", 5), headers=admin)
        ).status_code == 201
        refused = await c.post("/v1/consents", json=submission("v-1@example.com", 5), headers=admin)
        error = assert_error(refused, 429, "rate_limited")
        assert "subject 'v-1@example.com'" in error["message"]
        assert "8 per minute" in error["message"]
        # Packed into a batch with an innocent subject: all refused, nothing stored for either.
        batch = {"submissions": [submission("v-2@example.com", 2), submission("v-1@example.com", 4)]}
        assert (await c.post("/v1/consents/batch", json=batch, headers=admin)).status_code == 429
        assert service.ledger.count() == 5
        # Another subject is not affected, and the capped one recovers as the minute passes.
        assert (
            await c.post("/v1/consents", json=submission("v-2@example.com", 5), headers=admin)
        ).status_code == 201
        clock.now += 60
        assert (
            await c.post("/v1/consents", json=submission("v-1@example.com", 5), headers=admin)
        ).status_code == 201
