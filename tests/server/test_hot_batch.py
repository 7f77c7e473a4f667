"""``POST /v1/decisions/batch`` answered by the hot path (server/hotpath.py) gives exactly the route's
answer: the same status and body for plain batches, and every other body still reaches the route."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from consentgate.server import create_app
from consentgate.server.hotpath import HotPath
from consentgate.service import ConsentService
from consentgate.settings import Settings

from .conftest import MAX_BATCH, ago, bearer, subject_token

pytestmark = pytest.mark.anyio

PATH = "/v1/decisions/batch"


@pytest.fixture
async def route_only(settings: Settings, service: ConsentService) -> AsyncIterator[httpx.AsyncClient]:
    """The same service behind an app without the hot path: every request goes through FastAPI."""
    app = create_app(settings, service=service)
    app.user_middleware = [m for m in app.user_middleware if m.cls is not HotPath]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def ledger(client: httpx.AsyncClient, keys: dict[str, str], service: ConsentService) -> None:
    """Choices of several kinds, an alias, and a grant under an outdated notice version."""
    subs = [
        {"subject": "a@example.com", "occurred_at": ago(days=2), "region": "DE", "notice_version": 2,
         "choices": [{"purpose": "train_support_chatbot", "action": "grant"}]},
        {"subject": "a@example.com", "occurred_at": ago(hours=3),
         "choices": [{"purpose": "marketing", "action": "deny"}]},
        {"subject": "b@example.com", "occurred_at": ago(days=1), "region": "US-CA", "notice_version": 1,
         "choices": [{"purpose": "train_support_chatbot", "action": "grant"}]},
        {"subject": "c@example.com", "occurred_at": ago(days=1), "region": "FR",
         "choices": [{"purpose": "train_support_chatbot", "action": "withdraw"}]},
    ]  # fmt: skip
    body = {"submissions": subs}
    response = await client.post("/v1/consents/batch", json=body, headers=bearer(keys["admin"]))
    assert response.status_code == 201, response.text
    service.link("cookie-a", "a@example.com", "cookie_id")


def _hot(app: FastAPI) -> HotPath:
    layer: Any = app.middleware_stack
    while not isinstance(layer, HotPath):
        layer = layer.app
    return layer


def _comparable(response: httpx.Response, body: Any) -> tuple[int, Any]:
    """Status and JSON, with ``at`` left out where the query asked about "now" (each app has its own)."""
    out = response.json()
    if response.status_code == 200:
        for query, decision in zip(body["queries"], out["decisions"], strict=True):
            if query.get("at") is None:
                assert decision.pop("at")
    return response.status_code, out


async def _both(
    client: httpx.AsyncClient, route_only: httpx.AsyncClient, body: Any, headers: dict[str, str]
) -> tuple[int, Any]:
    hot = await client.post(PATH, json=body, headers=headers)
    routed = await route_only.post(PATH, json=body, headers=headers)
    assert _comparable(hot, body) == _comparable(routed, body)
    assert hot.headers["content-type"] == routed.headers["content-type"]
    return hot.status_code, hot.json()


PLAIN = [
    {"subject": "a@example.com", "purpose": "train_support_chatbot"},
    {"subject": "cookie-a", "purpose": "marketing"},
    {"subject": "b@example.com", "purpose": "train_support_chatbot", "region": "de"},
    {"subject": "b@example.com", "purpose": "train_support_chatbot", "at": "2026-01-02T00:00:00+02:00"},
    {"subject": "c@example.com", "purpose": "train_support_chatbot", "at": None, "region": None},
    {"subject": "nobody@example.com", "purpose": "service_delivery", "region": "EU"},
]


async def test_a_plain_batch_is_answered_here_with_the_routes_answer(
    app: FastAPI, client: httpx.AsyncClient, route_only: httpx.AsyncClient, keys: dict[str, str], ledger: None
) -> None:
    for key in ("read", "admin"):
        status, out = await _both(client, route_only, {"queries": PLAIN}, bearer(keys[key]))
        assert status == 200
        assert [d["subject"] for d in out["decisions"]] == [q["subject"] for q in PLAIN]
        assert out["decisions"][0]["allowed"] is True
    assert _hot(app).batch.queries({"queries": PLAIN}) is not None  # so it was served by the hot path


UNUSUAL: list[Any] = [
    {"queries": []},
    {"queries": {}},
    {"queries": PLAIN, "more": 1},
    {"queries": [{**PLAIN[0], "extra": True}]},
    {"queries": [{"subject": "a@example.com"}]},
    {"queries": [{"subject": "", "purpose": "marketing"}]},
    {"queries": [{"subject": "a\nb", "purpose": "marketing"}]},
    {"queries": [{"subject": "x" * 257, "purpose": "marketing"}]},
    {"queries": [{"subject": 42, "purpose": "marketing"}]},
    {"queries": [{"subject": "a@example.com", "purpose": "nope"}, PLAIN[0]]},
    {"queries": [{"subject": "a@example.com", "purpose": ["marketing"]}]},
    {"queries": [{"subject": "a@example.com", "purpose": "marketing", "region": "D"}]},
    {"queries": [{"subject": "a@example.com", "purpose": "marketing", "region": "X-1"}]},
    {"queries": [{"subject": "a@example.com", "purpose": "marketing", "at": "2026-05-01 12:00"}]},
    {"queries": [{"subject": "a@example.com", "purpose": "marketing", "at": 1_700_000_000}]},
    {"queries": [PLAIN[0]] * (MAX_BATCH + 1)},
    {"queries": [PLAIN[0], "not a query"]},
    [PLAIN[0]],
]


@pytest.mark.parametrize("body", UNUSUAL)
async def test_anything_else_gets_the_routes_answer(
    app: FastAPI,
    client: httpx.AsyncClient,
    route_only: httpx.AsyncClient,
    keys: dict[str, str],
    ledger: None,
    body: Any,
) -> None:
    status, out = await _both(client, route_only, body, bearer(keys["read"]))
    assert status >= 400
    assert set(out) == {"error"}


async def test_other_callers_get_the_routes_answer(
    client: httpx.AsyncClient, route_only: httpx.AsyncClient, keys: dict[str, str], ledger: None, app: FastAPI
) -> None:
    body = {"queries": PLAIN[:2]}
    assert (await _both(client, route_only, body, bearer(keys["collect"])))[0] == 403
    assert (await _both(client, route_only, body, bearer(keys["revoked"])))[0] == 401
    assert (await _both(client, route_only, body, {}))[0] == 401
    token = app.state.consentgate.tokens.issue("a@example.com")
    both = {**bearer(keys["read"]), **subject_token(token)}
    assert (await _both(client, route_only, body, both))[0] == 200
    mine = {"queries": [PLAIN[0], {**PLAIN[0], "purpose": "marketing"}]}
    assert (await _both(client, route_only, mine, subject_token(token)))[0] == 200
    assert (await _both(client, route_only, body, subject_token(token)))[0] == 403
    # A body sent as text/plain (what navigator.sendBeacon can send) or with no type is JSON too.
    for kind in ("text/plain", None):
        headers = {**bearer(keys["read"]), **({"Content-Type": kind} if kind else {})}
        raw = json.dumps(body).encode()
        hot = await client.post(PATH, content=raw, headers=headers)
        routed = await route_only.post(PATH, content=raw, headers=headers)
        assert hot.status_code == 200
        assert _comparable(hot, body) == _comparable(routed, body)
    # A query string goes to the route, which refuses a parameter the route does not take.
    hot = await client.post(f"{PATH}?x=1", json=body, headers=bearer(keys["read"]))
    routed = await route_only.post(f"{PATH}?x=1", json=body, headers=bearer(keys["read"]))
    assert (hot.status_code, hot.json()) == (routed.status_code, routed.json())


_SUBJECTS = ["a@example.com", "cookie-a", "b@example.com", "c@example.com", "nobody", "", "a\tb"]
_PURPOSES = ["train_support_chatbot", "marketing", "service_delivery", "analytics", "nope", ""]
_ATS = [None, "2026-01-02T00:00:00Z", "2026-03-01T10:00:00+02:00", "2026-03-01T10:00:00", "later"]
_REGIONS = [None, "DE", "de", "US-CA", "EU", "BR", "ZZ", "D"]
_ABSENT = object()


@st.composite
def _queries(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(1, 6))):
        query = {"subject": draw(st.sampled_from(_SUBJECTS)), "purpose": draw(st.sampled_from(_PURPOSES))}
        for name, values in (("at", _ATS), ("region", _REGIONS)):
            value = draw(st.sampled_from([_ABSENT, *values]))
            if value is not _ABSENT:
                query[name] = value
        if draw(st.integers(0, 20)) == 0:
            query["extra"] = 1
        out.append(query)
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(queries=_queries())
async def test_random_batches_get_the_routes_answer(
    client: httpx.AsyncClient,
    route_only: httpx.AsyncClient,
    keys: dict[str, str],
    ledger: None,
    queries: list[dict[str, Any]],
) -> None:
    await _both(client, route_only, {"queries": queries}, bearer(keys["read"]))


async def test_each_answer_carries_its_own_instant_as_asked(
    client: httpx.AsyncClient, route_only: httpx.AsyncClient, keys: dict[str, str], ledger: None
) -> None:
    """The same instant asked with different offsets, other instants, and "now": each answer's ``at``
    is its query's instant written as the response model writes it (its own offset kept), and the
    queries about "now" all carry the one instant the batch was answered for."""
    asked = [
        "2026-01-02T00:00:00+02:00",
        "2026-01-01T22:00:00Z",
        "2026-01-01T17:00:00-05:00",
        None,
        "2026-01-01T22:00:00.000250+00:00",
        "2026-01-02T00:00:00+02:00",
        None,
    ]
    queries = [
        {"subject": f"p{n}@example.com", "purpose": "marketing", "at": at} for n, at in enumerate(asked)
    ]
    instant = TypeAdapter(datetime)
    for app_client in (client, route_only):
        response = await app_client.post(PATH, json={"queries": queries}, headers=bearer(keys["read"]))
        assert response.status_code == 200, response.text
        got = [d["at"] for d in response.json()["decisions"]]
        for at, written in zip(asked, got, strict=True):
            if at is not None:
                assert written == instant.dump_python(instant.validate_python(at), mode="json")
        assert got[3] == got[6]
        assert instant.validate_python(got[3]).utcoffset() == timedelta(0)
