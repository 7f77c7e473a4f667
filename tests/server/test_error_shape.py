"""Every HTTP error has one JSON shape, whoever raised it; this file pins it, status by status."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError

from consentgate.errors import TerminalStorageError, TransientStorageError
from consentgate.service import ConsentService

from .conftest import MAX_BODY, assert_error, bearer

pytestmark = pytest.mark.anyio

Call = Callable[[httpx.AsyncClient, dict[str, str]], Awaitable[httpx.Response]]
GRANT = {
    "subject": "user-1@example.com",
    "choices": [{"purpose": "marketing", "action": "grant", "notice_version": 1}],
}

CASES: list[tuple[str, int, str, Call]] = [
    (
        "malformed JSON",
        400,
        "invalid_json",
        lambda c, k: c.post("/v1/consents", content=b'{"subject": ', headers=bearer(k["admin"])),
    ),
    (
        "not UTF-8",
        400,
        "invalid_encoding",
        lambda c, k: c.post("/v1/consents", content=b'{"subject": "\xc3\x28"}', headers=bearer(k["admin"])),
    ),
    (
        "too deep",
        400,
        "json_too_deep",
        lambda c, k: c.post("/v1/consents", content=b"[" * 50 + b"]" * 50, headers=bearer(k["admin"])),
    ),
    ("no key", 401, "unauthorized", lambda c, k: c.get("/v1/subjects/u/state")),
    (
        "wrong scope",
        403,
        "forbidden",
        lambda c, k: c.get("/v1/subjects/u/state", headers=bearer(k["collect"])),
    ),
    ("no route", 404, "not_found", lambda c, k: c.get("/v1/nothing-here")),
    ("wrong method", 405, "method_not_allowed", lambda c, k: c.delete("/v1/consents")),
    (
        "too large",
        413,
        "body_too_large",
        lambda c, k: c.post("/v1/consents", content=b" " * (MAX_BODY + 1), headers=bearer(k["admin"])),
    ),
    (
        "not JSON",
        415,
        "unsupported_media_type",
        lambda c, k: c.post("/v1/consents", data={"subject": "u"}, headers=bearer(k["admin"])),
    ),
    (
        "schema",
        422,
        "invalid_request",
        lambda c, k: c.post("/v1/consents", json={"subject": "u"}, headers=bearer(k["admin"])),
    ),
    (
        "event",
        422,
        "invalid_event",
        lambda c, k: c.post(
            "/v1/consents",
            json={
                "subject": "u",
                "choices": [{"purpose": "marketing", "action": "grant", "notice_version": 9}],
            },
            headers=bearer(k["admin"]),
        ),
    ),
    (
        "query",
        422,
        "invalid_query",
        lambda c, k: c.get(
            "/v1/decisions", params={"subject": "u", "purpose": "nope"}, headers=bearer(k["read"])
        ),
    ),
    (
        "alias",
        422,
        "invalid_input",
        lambda c, k: c.post("/v1/subjects/u/aliases", json={"alias": "u"}, headers=bearer(k["admin"])),
    ),
]


@pytest.mark.parametrize(("name", "status", "code", "call"), CASES, ids=[c[0] for c in CASES])
async def test_every_error_has_the_one_shape(
    client: httpx.AsyncClient, keys: dict[str, str], name: str, status: int, code: str, call: Call
) -> None:
    assert_error(await call(client, keys), status, code)


async def test_problems_point_at_the_field_to_fix(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    body = {"subject": "u", "choices": [{"purpose": "marketing", "action": "grant", "notice_version": 9}]}
    error = assert_error(
        await client.post("/v1/consents", json=body, headers=bearer(keys["admin"])), 422, "invalid_event"
    )
    assert error["problems"] == [
        {"at": "choices[0].notice_version", "message": "notice 'marketing' has no version '9' (known: 1)"}
    ]
    assert "choices[0].notice_version" in error["message"]
    assert "nothing was stored" in error["message"]


async def test_unauthorized_says_how_to_authenticate(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/decisions", params={"subject": "u", "purpose": "marketing"})
    error = assert_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in error["message"]


async def test_method_not_allowed_names_the_allowed_methods(client: httpx.AsyncClient) -> None:
    response = await client.put("/healthz")
    error = assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET"
    assert "GET" in error["message"]


@pytest.mark.parametrize(
    "failure",
    [
        TransientStorageError("could not append to the ledger: database is locked"),
        OperationalError("x", {}, Exception("locked")),
    ],
    ids=["storage-error", "sqlalchemy-error"],
)
async def test_transient_storage_failure_is_503_with_retry_after(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    def fail(*_: Any) -> Any:
        raise failure

    monkeypatch.setattr(app.state.consentgate.heads, "heads", fail)  # /healthz reads the head with it
    response = await client.get("/healthz")
    assert_error(response, 503, "storage_unavailable")
    assert response.headers["retry-after"] == "1"


async def test_terminal_storage_failure_is_500_without_retry(
    client: httpx.AsyncClient, service: ConsentService, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_: Any, **__: Any) -> Any:
        raise TerminalStorageError("could not append to the ledger: disk is full")

    # The ledger's append is what fails on a full disk, whichever thread calls it (the group committer's).
    monkeypatch.setattr(service.ledger, "append", fail)
    response = await client.post("/v1/consents", json=GRANT, headers=bearer(keys["admin"]))
    error = assert_error(response, 500, "storage_failed")
    assert "disk is full" in error["message"]
    assert "retry-after" not in response.headers


async def test_a_bug_is_500_without_details(
    app: FastAPI, service: ConsentService, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: Any) -> Any:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(app.state.consentgate.heads, "heads", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        response = await c.get("/healthz")
    error = assert_error(response, 500, "internal_error")
    assert "secret" not in response.text
    assert "RuntimeError" not in error["message"]
