"""Bodies the API must refuse before reading them as events: too large, not JSON, not UTF-8, too deep."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from consentgate.server.bodyguard import MAX_JSON_DEPTH, check_json
from consentgate.service import ConsentService

from .conftest import MAX_BODY, assert_error, bearer

pytestmark = pytest.mark.anyio


def valid_body(padding: int = 0) -> bytes:
    body: dict[str, Any] = {"subject": "u", "choices": [{"purpose": "security", "action": "object"}]}
    if padding:
        body["signals"] = {"note": "x" * padding}
    return json.dumps(body).encode()


async def test_body_over_the_limit_by_content_length(
    client: httpx.AsyncClient, keys: dict[str, str], service: ConsentService
) -> None:
    response = await client.post("/v1/consents", content=valid_body(MAX_BODY), headers=bearer(keys["admin"]))
    error = assert_error(response, 413, "body_too_large")
    assert str(MAX_BODY) in error["message"]
    assert service.ledger.count() == 0


async def test_streamed_body_over_the_limit_without_content_length(
    client: httpx.AsyncClient, keys: dict[str, str], service: ConsentService
) -> None:
    chunks_sent = 0

    async def stream() -> AsyncIterator[bytes]:
        nonlocal chunks_sent
        yield b'{"subject": "u", "signals": {"note": "'
        for _ in range(1000):
            chunks_sent += 1
            yield b"x" * 1000
        yield b'"}, "choices": [{"purpose": "security", "action": "object"}]}'

    response = await client.post("/v1/consents", content=stream(), headers=bearer(keys["admin"]))
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "body_too_large")
    assert service.ledger.count() == 0


async def test_body_just_under_the_limit_is_read(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    body = valid_body()
    # Read, then refused by the closed signals schema (no free-form "note"), not as a body.
    padded = valid_body(MAX_BODY - len(body) - 40)
    assert len(padded) <= MAX_BODY
    response = await client.post("/v1/consents", content=padded, headers=bearer(keys["admin"]))
    error = assert_error(response, 422, "invalid_request")
    assert "'note' is not a signal" in error["problems"][0]["message"]


@pytest.mark.parametrize(
    ("body", "code", "hint"),
    [
        (b'{"subject": "u", "choices": [}', "invalid_json", "line 1, column 30"),
        (b'{"subject": "u"', "invalid_json", "Expecting"),
        (b'{"subject": NaN}', "invalid_json", "NaN"),
        (b"\xef\xbb\xbf{}", "invalid_json", "BOM"),
        (b'{"subject": "caf\xe9"}', "invalid_encoding", "offset 16"),
        (b'{"subject": "\xff\xfe"}', "invalid_encoding", "UTF-8"),
        (b"[" * 20_000 + b"]" * 20_000, "json_too_deep", str(MAX_JSON_DEPTH)),
        (
            b'{"subject": "u", "signals": ' + b'{"a": ' * 40 + b"1" + b"}" * 40 + b', "action": "gpc"}',
            "json_too_deep",
            str(MAX_JSON_DEPTH),
        ),
    ],
    ids=["syntax", "truncated", "nan", "bom", "latin-1", "utf-16", "deep-array", "deep-signals"],
)
async def test_malformed_bodies_are_400_and_store_nothing(
    client: httpx.AsyncClient,
    keys: dict[str, str],
    service: ConsentService,
    body: bytes,
    code: str,
    hint: str,
) -> None:
    for url in ("/v1/consents", "/v1/consents/batch", "/v1/decisions/batch"):
        response = await client.post(
            url, content=body, headers={**bearer(keys["admin"]), "Content-Type": "application/json"}
        )
        error = assert_error(response, 400, code)
        assert hint in error["message"]
    assert service.ledger.count() == 0


async def test_wide_but_shallow_json_is_fine() -> None:
    assert check_json(json.dumps({"submissions": [{"choices": [{"a": [1, 2]}]}] * 500}).encode()) is None
    assert check_json(json.dumps([[[]]] * 1000).encode()) is None
    nested: Any = 1
    for _ in range(MAX_JSON_DEPTH):
        nested = [nested]
    assert check_json(json.dumps(nested).encode()) is None
    assert check_json(json.dumps([nested]).encode()) is not None


async def test_bodies_of_get_requests_are_not_parsed(client: httpx.AsyncClient) -> None:
    response = await client.request("GET", "/healthz", content=b"{not json")
    assert response.status_code == 200
    too_big = await client.request("GET", "/healthz", content=b" " * (MAX_BODY + 1))
    assert_error(too_big, 413, "body_too_large")
