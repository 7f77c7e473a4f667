"""Hostile input, case by case: each gets a specific 4xx in the one error shape and stores nothing.

test_limits.py covers the body guard's own cases in depth and test_consents.py the event rules of one
submission; this file holds the issue's list against both capture endpoints, on a ledger that already
has an event, so "stores nothing" means the count and the chain head did not move.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from consentgate.service import ConsentService

from .conftest import MAX_BODY, ago, assert_error, bearer

pytestmark = pytest.mark.anyio

Body = dict[str, Any]


def submission(**extra: Any) -> Body:
    return {
        "subject": "hostile-1@example.com",
        "occurred_at": ago(minutes=5),
        "region": "DE",
        "choices": [{"purpose": "train_support_chatbot", "action": "grant", "notice_version": 2}],
        **extra,
    }


def in_a_batch(body: Body) -> Body:
    return {"submissions": [submission(subject="fine-1@example.com"), body]}


@pytest.fixture
async def seeded(client: httpx.AsyncClient, keys: dict[str, str], service: ConsentService) -> tuple[int, str]:
    """One event already stored: the ledger head that every refused request must leave alone."""
    response = await client.post("/v1/consents", json=submission(), headers=bearer(keys["admin"]))
    assert response.status_code == 201, response.text
    return service.ledger.head()


def assert_unchanged(service: ConsentService, head: tuple[int, str]) -> None:
    assert service.ledger.head() == head
    assert service.ledger.count() == head[0]


def _far_future() -> str:
    return (datetime.now(UTC) + timedelta(days=365 * 30)).isoformat()


# (name, body patch, code, where the single submission's problem is reported)
EVENT_CASES: list[tuple[str, Callable[[], Body], str, str]] = [
    (
        "unknown purpose",
        lambda: {"choices": [{"purpose": "train_everything", "action": "grant", "notice_version": 2}]},
        "invalid_event",
        "choices[0].purpose",
    ),
    (
        "unknown notice version",
        lambda: {"choices": [{"purpose": "train_support_chatbot", "action": "grant", "notice_version": 99}]},
        "invalid_event",
        "choices[0].notice_version",
    ),
    (
        "timestamp without a zone",
        lambda: {"occurred_at": "2026-05-01T12:00:00"},
        "invalid_request",
        "occurred_at",
    ),
    ("date without a time", lambda: {"occurred_at": "2026-05-01"}, "invalid_request", "occurred_at"),
    ("far-future timestamp", lambda: {"occurred_at": _far_future()}, "invalid_event", "occurred_at"),
    (
        "just beyond the clock-skew allowance",
        lambda: {"occurred_at": (datetime.now(UTC) + timedelta(minutes=30)).isoformat()},
        "invalid_event",
        "occurred_at",
    ),
    ("year 9999", lambda: {"occurred_at": "9999-12-31T23:59:59+00:00"}, "invalid_event", "occurred_at"),
    # A submission's subject is checked by intake, as `consentgate record` checks it (same words).
    (
        "subject with a newline",
        lambda: {"subject": "victim\nINFO forged log line"},
        "invalid_event",
        "subject",
    ),
    ("subject with NUL", lambda: {"subject": "a\x00b"}, "invalid_event", "subject"),
    ("overlong subject", lambda: {"subject": "s" * 257}, "invalid_event", "subject"),
]


@pytest.mark.parametrize(("name", "patch", "code", "at"), EVENT_CASES, ids=[c[0] for c in EVENT_CASES])
async def test_bad_events_are_422_with_the_field_and_store_nothing(
    client: httpx.AsyncClient,
    keys: dict[str, str],
    service: ConsentService,
    seeded: tuple[int, str],
    name: str,
    patch: Callable[[], Body],
    code: str,
    at: str,
) -> None:
    admin = bearer(keys["admin"])
    one = await client.post("/v1/consents", json=submission(**patch()), headers=admin)
    error = assert_error(one, 422, code)
    assert at in [p["at"] for p in error["problems"]], error

    many = await client.post("/v1/consents/batch", json=in_a_batch(submission(**patch())), headers=admin)
    error = assert_error(many, 422, code)
    assert f"submissions[1].{at}" in [p["at"] for p in error["problems"]], error
    assert_unchanged(service, seeded)


RAW_CASES: list[tuple[str, bytes, int, str]] = [
    ("oversized", json.dumps(submission(signals={"pad": "x" * MAX_BODY})).encode(), 413, "body_too_large"),
    (
        "deep JSON",
        b'{"subject": "u", "signals": ' + b'{"a": ' * 100 + b"1" + b"}" * 101,
        400,
        "json_too_deep",
    ),
    ("deep and oversized", b"[" * 100_000 + b"]" * 100_000, 413, "body_too_large"),
    ("invalid UTF-8", b'{"subject": "\xed\xa0\x80", "action": "erase"}', 400, "invalid_encoding"),
    ("overlong UTF-8", b'{"subject": "\xc0\xaf", "action": "erase"}', 400, "invalid_encoding"),
    ("lone surrogate in a string", b'{"subject": "\\ud800", "action": "erase"}', 400, "invalid_encoding"),
    (
        "lone surrogate in a key",
        b'{"subject": "u", "action": "erase", "signals": {"\\udfff": 1}}',
        400,
        "invalid_encoding",
    ),
    (
        "number beyond a float",
        b'{"subject": "u", "action": "erase", "signals": {"x": 1e400}}',
        400,
        "invalid_json",
    ),
    ("truncated JSON", b'{"subject": "u", "action": "er', 400, "invalid_json"),
    ("NaN", b'{"subject": "u", "action": "erase", "signals": {"x": NaN}}', 400, "invalid_json"),
    ("Infinity", b'{"subject": "u", "action": "erase", "signals": {"x": -Infinity}}', 400, "invalid_json"),
    (
        "huge number",
        b'{"subject": "u", "action": "erase", "signals": {"x": 1' + b"0" * 5000 + b"}}",
        400,
        "invalid_json",
    ),
    ("not an object", b'["subject", "u"]', 422, "invalid_request"),
    ("null", b"null", 422, "invalid_request"),
    ("empty object", b"{}", 422, "invalid_request"),
]


@pytest.mark.parametrize(("name", "body", "status", "code"), RAW_CASES, ids=[c[0] for c in RAW_CASES])
async def test_hostile_bodies_are_refused_and_store_nothing(
    client: httpx.AsyncClient,
    keys: dict[str, str],
    service: ConsentService,
    seeded: tuple[int, str],
    name: str,
    body: bytes,
    status: int,
    code: str,
) -> None:
    headers = {**bearer(keys["admin"]), "Content-Type": "application/json"}
    for url in ("/v1/consents", "/v1/consents/batch"):
        assert_error(await client.post(url, content=body, headers=headers), status, code)
    assert_unchanged(service, seeded)


async def test_surrogate_pairs_are_fine(
    client: httpx.AsyncClient, keys: dict[str, str], service: ConsentService, seeded: tuple[int, str]
) -> None:
    body = b'{"subject": "emoji-\\ud83d\\ude00", "action": "gpc"}'  # what json.dumps sends for U+1F600
    response = await client.post("/v1/consents", content=body, headers=bearer(keys["admin"]))
    assert response.status_code == 201, response.text
    assert [e.subject for e in service.history("emoji-\U0001f600")] == ["emoji-\U0001f600"]


@pytest.mark.parametrize(
    "url",
    [
        "/v1/subjects/%FF/state",
        "/v1/subjects/%ED%A0%80/evidence",
        "/v1/decisions?subject=%C3&purpose=security",
        "/v1/consents?x=%FE",
        "/nowhere/%80",
    ],
    ids=["latin-1-path", "surrogate-path", "truncated-query", "post-query", "unknown-route"],
)
async def test_urls_that_are_not_utf8_are_400(
    client: httpx.AsyncClient,
    keys: dict[str, str],
    service: ConsentService,
    seeded: tuple[int, str],
    url: str,
) -> None:
    method = "POST" if url.startswith("/v1/consents") else "GET"
    response = await client.request(method, url, json=submission(), headers=bearer(keys["admin"]))
    error = assert_error(response, 400, "invalid_encoding")
    assert "UTF-8" in error["message"]
    assert_unchanged(service, seeded)


async def test_percent_encoded_utf8_is_fine(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    response = await client.get("/v1/subjects/J%C3%BCrgen%2Fx/state", headers=bearer(keys["admin"]))
    assert response.status_code == 200, response.text
    assert response.json()["subject"] == "Jürgen/x"


async def test_unknown_query_parameters_are_named_not_ignored(
    client: httpx.AsyncClient, keys: dict[str, str], service: ConsentService, seeded: tuple[int, str]
) -> None:
    read = bearer(keys["admin"])
    params = {"subject": "hostile-1@example.com", "purpose": "train_support_chatbot", "regoin": "US-CA"}
    error = assert_error(
        await client.get("/v1/decisions", params=params, headers=read), 422, "invalid_request"
    )
    assert [p["at"] for p in error["problems"]] == ["regoin"]
    assert "region" in error["problems"][0]["message"]  # it lists what the endpoint takes

    state = await client.get(
        "/v1/subjects/hostile-1@example.com/state", params={"att": ago(days=1)}, headers=read
    )
    assert [p["at"] for p in assert_error(state, 422, "invalid_request")["problems"]] == ["att"]
    posted = await client.post("/v1/consents", params={"dry_run": "1"}, json=submission(), headers=read)
    assert [p["at"] for p in assert_error(posted, 422, "invalid_request")["problems"]] == ["dry_run"]
    assert_unchanged(service, seeded)


async def test_known_query_parameters_still_work(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    params = {"subject": "u", "purpose": "security", "at": ago(minutes=1), "region": "DE"}
    response = await client.get("/v1/decisions", params=params, headers=bearer(keys["admin"]))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "path",
    ["/v1/subjects/a%0Ab/state", "/v1/subjects/a%00b/evidence", "/v1/subjects/a%7Fb/state"],
    ids=["newline", "nul", "del"],
)
async def test_control_characters_cannot_name_a_subject_in_a_path(
    client: httpx.AsyncClient, keys: dict[str, str], path: str
) -> None:
    response = await client.get(path, headers=bearer(keys["admin"]))
    assert response.status_code in (404, 422)
    assert_error(
        response, response.status_code, "not_found" if response.status_code == 404 else "invalid_request"
    )


async def test_an_alias_with_control_characters_is_refused(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    response = await client.post(
        "/v1/subjects/u/aliases", json={"alias": "cookie\r\n1"}, headers=bearer(keys["admin"])
    )
    error = assert_error(response, 422, "invalid_request")
    assert [p["at"] for p in error["problems"]] == ["alias"]
    assert "control characters" in error["problems"][0]["message"]


async def test_decision_queries_for_unknown_purposes_are_422(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    read = bearer(keys["admin"])
    single = await client.get("/v1/decisions", params={"subject": "u", "purpose": "sell_it"}, headers=read)
    assert [p["at"] for p in assert_error(single, 422, "invalid_query")["problems"]] == ["purpose"]
    batch = await client.post(
        "/v1/decisions/batch",
        json={"queries": [{"subject": "u", "purpose": "security"}, {"subject": "u", "purpose": "sell_it"}]},
        headers=read,
    )
    assert [p["at"] for p in assert_error(batch, 422, "invalid_query")["problems"]] == ["queries[1].purpose"]


async def test_a_parameter_that_takes_one_value_may_not_come_twice(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    """``?region=DE&region=US-CA`` must not quietly mean the last one; list parameters may repeat."""
    read = bearer(keys["read"])
    twice = await client.get("/v1/subjects/u-1/state?region=DE&region=US-CA", headers=read)
    body = assert_error(twice, 422, "invalid_request")
    assert body["problems"] == [{"at": "region", "message": "takes one value but was given 2; send it once"}]
    listed = await client.get("/v1/requests?status=received&status=verified", headers=read)
    assert listed.status_code == 200, listed.text
