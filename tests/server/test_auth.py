"""Every endpoint against every kind of key: none, collect, read, admin, revoked."""

from __future__ import annotations

import time
from pathlib import Path
from typing import get_args

import httpx
import pytest

from consentgate.auth.apikeys import KeyCache, Scope, create_key, revoke_key
from consentgate.auth.identity import ALIAS_KINDS
from consentgate.server import create_app
from consentgate.server.schemas.subjects import AliasKind
from consentgate.service import ConsentService
from consentgate.settings import Settings

from .conftest import ago, bearer

pytestmark = pytest.mark.anyio

SUBMISSION = {
    "subject": "user-1@example.com",
    "occurred_at": ago(minutes=5),
    "choices": [{"purpose": "marketing", "action": "grant", "notice_version": 1}],
}
# Which credential may call which endpoint is one table, tested cell by cell in test_authz_matrix.py
# against docs/security.md; this file keeps the mechanics of keys (headers, caching, revocation).


@pytest.mark.parametrize(
    "header",
    ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "cg_admin_without_scheme", "Bearer not-a-key"],
)
async def test_malformed_or_unknown_credentials_are_401(client: httpx.AsyncClient, header: str) -> None:
    response = await client.get("/v1/subjects/u/state", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_scheme_is_case_insensitive(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    response = await client.get("/v1/subjects/u/state", headers={"Authorization": f"bearer {keys['read']}"})
    assert response.status_code == 200


async def test_forbidden_names_the_scope_needed(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    response = await client.post("/v1/consents", json=SUBMISSION, headers=bearer(keys["read"]))
    message = response.json()["error"]["message"]
    assert "read key" in message
    assert "collect or admin" in message


async def test_a_rejected_request_stores_nothing(
    client: httpx.AsyncClient, keys: dict[str, str], service: ConsentService
) -> None:
    for headers in ({}, bearer(keys["read"]), bearer(keys["revoked"])):
        await client.post("/v1/consents", json=SUBMISSION, headers=headers)
    assert service.ledger.count() == 0


def test_key_cache_remembers_lookups_until_ttl(service: ConsentService) -> None:
    now = [1000.0]
    cache = KeyCache(service.ledger.engine, ttl=5.0, clock=lambda: now[0])
    key_id, key = create_key(service.ledger.engine, "read")
    assert cache.lookup(key) is Scope.READ
    revoke_key(service.ledger.engine, key_id)
    # Within the TTL the cached answer stands: that is the documented price of not querying per request.
    now[0] += 4.9
    assert cache.cached(key) == (True, Scope.READ)
    now[0] += 0.2
    assert cache.cached(key) == (False, None)
    assert cache.lookup(key) is None


def test_a_refreshed_key_stays_cached_and_a_revocation_is_learnt_at_the_next_refresh(
    service: ConsentService,
) -> None:
    """What keeps a site's key from expiring into a lookup after a lull, without a longer revocation."""
    now = [1000.0]
    cache = KeyCache(service.ledger.engine, ttl=5.0, clock=lambda: now[0])
    key_id, key = create_key(service.ledger.engine, "collect")
    other_id, other = create_key(service.ledger.engine, "read")
    assert cache.lookup(key) is Scope.COLLECT
    assert cache.lookup(other) is Scope.READ
    assert cache.lookup("guess") is None
    for _ in range(4):  # a quiet minute: nothing asks, the refresher runs every ttl / 2
        now[0] += 2.5
        cache.refresh()
    assert cache.cached(key) == (True, Scope.COLLECT)  # 10 s after its lookup, still no query needed
    assert cache.cached("guess") == (False, None)  # unknown keys are not kept fresh
    # Revoked in the database (by `consentgate keys revoke`, in another process): refused at once
    # after the next refresh, so never later than ttl after it was last verified.
    revoke_key(service.ledger.engine, other_id)
    now[0] += 2.5
    cache.refresh()
    assert cache.cached(other) == (True, None)
    assert cache.cached(key) == (True, Scope.COLLECT)
    revoke_key(service.ledger.engine, key_id)
    now[0] += 2.5
    cache.refresh()
    assert cache.cached(key) == (True, None)


def test_keys_unused_for_long_are_left_to_expire(service: ConsentService) -> None:
    now = [1000.0]
    cache = KeyCache(service.ledger.engine, ttl=5.0, clock=lambda: now[0])
    _, key = create_key(service.ledger.engine, "collect")
    assert cache.lookup(key) is Scope.COLLECT
    while now[0] < 1000.0 + KeyCache.KEEP_WARM + 10:
        now[0] += 2.5
        cache.refresh()
    assert cache.cached(key) == (False, None)
    assert cache.lookup(key) is Scope.COLLECT  # asked again, and kept fresh again from now on
    now[0] += 2.5
    cache.refresh()
    now[0] += 4  # 6.5 s after the lookup: held by the refresh
    assert cache.cached(key) == (True, Scope.COLLECT)


def test_the_refresher_thread_runs_and_stops(service: ConsentService) -> None:
    cache = KeyCache(service.ledger.engine, ttl=0.02)
    _, key = create_key(service.ledger.engine, "collect")
    assert cache.lookup(key) is Scope.COLLECT
    stop = cache.keep_fresh()
    try:
        deadline = time.monotonic() + 30
        while not cache.cached(key)[0] and time.monotonic() < deadline:
            time.sleep(0.005)
        first = cache._entries[next(iter(cache._entries))][0]
        while cache._entries[next(iter(cache._entries))][0] == first:
            assert time.monotonic() < deadline, "the refresher never ran"
            time.sleep(0.005)
    finally:
        stop()
    assert KeyCache(service.ledger.engine, ttl=0).keep_fresh() is not None  # no cache: nothing runs


def test_key_cache_remembers_unknown_keys_and_stays_bounded(service: ConsentService) -> None:
    cache = KeyCache(service.ledger.engine, ttl=60.0, max_entries=3)
    for i in range(10):
        assert cache.lookup(f"guess-{i}") is None
        assert cache.cached(f"guess-{i}") == (True, None)
    assert len(cache._entries) <= 3


def test_key_cache_with_zero_ttl_always_asks_the_database(service: ConsentService) -> None:
    cache = KeyCache(service.ledger.engine, ttl=0)
    key_id, key = create_key(service.ledger.engine, "admin")
    assert cache.lookup(key) is Scope.ADMIN
    revoke_key(service.ledger.engine, key_id)
    assert cache.lookup(key) is None


async def test_the_app_honours_key_cache_seconds(
    tmp_path: Path, example_policy_path: Path, service: ConsentService
) -> None:
    key_id, key = create_key(service.ledger.engine, "read")
    url, auth = "/v1/subjects/u/state", bearer(key)

    def client_with(ttl: float) -> httpx.AsyncClient:
        settings = Settings(db=str(tmp_path / "x.db"), policy=example_policy_path, key_cache_seconds=ttl)
        app = create_app(settings, service=service)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")

    async with client_with(0) as uncached, client_with(60) as cached:
        assert (await uncached.get(url, headers=auth)).status_code == 200
        assert (await cached.get(url, headers=auth)).status_code == 200
        revoke_key(service.ledger.engine, key_id)
        assert (await uncached.get(url, headers=auth)).status_code == 401
        assert (await cached.get(url, headers=auth)).status_code == 200  # until the TTL runs out


def test_alias_kinds_match_identity() -> None:
    assert set(get_args(AliasKind)) == set(ALIAS_KINDS)
