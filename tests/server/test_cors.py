"""CORS: the policy's web.origins (exactly), preflights answered, refusals in the error shape."""

from __future__ import annotations

import httpx
import pytest

from consentgate.policy import Policy
from consentgate.server.cors import Cors

from .conftest import ago, assert_error, bearer

pytestmark = pytest.mark.anyio

LISTED = "https://www.example.com"  # in the example policy's web.origins
# Origins that are not LISTED, however close they come to it.
FOREIGN = [
    "https://evil.example.net",
    "https://example.com",  # a parent domain is another origin
    "http://www.example.com",  # so is another scheme
    "https://www.example.com:8443",  # and another port
    "https://www.example.com.evil.example.net",
    "null",  # sandboxed frames and file: pages
]


def preflight(origin: str, method: str = "POST", headers: str | None = None) -> dict[str, str]:
    out = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        out["Access-Control-Request-Headers"] = headers
    return out


def test_the_example_policy_lists_the_origin_these_tests_use(example_policy: Policy) -> None:
    assert LISTED in example_policy.web.origins


async def test_a_listed_origin_gets_its_preflight(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/v1/consents",
        headers=preflight(LISTED, headers="authorization, content-type, x-consentgate-subject-token"),
    )
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["Access-Control-Allow-Origin"] == LISTED
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Access-Control-Allow-Methods"] == "GET, POST"
    assert (
        response.headers["Access-Control-Allow-Headers"]
        == "authorization, content-type, x-consentgate-subject-token"
    )
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    assert response.headers["Vary"] == "Origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("origin", FOREIGN)
async def test_other_origins_are_refused_with_403(client: httpx.AsyncClient, origin: str) -> None:
    response = await client.options("/v1/consents", headers=preflight(origin))
    error = assert_error(response, 403, "origin_not_allowed")
    assert "web.origins" in error["message"]
    assert [p["at"] for p in error["problems"]] == ["header.Origin"]
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.headers["Vary"] == "Origin"


async def test_methods_other_than_get_and_post_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.options("/v1/consents", headers=preflight(LISTED, method="DELETE"))
    error = assert_error(response, 403, "origin_not_allowed")
    assert [p["at"] for p in error["problems"]] == ["header.Access-Control-Request-Method"]


async def test_malformed_requested_headers_are_not_echoed(client: httpx.AsyncClient) -> None:
    response = await client.options("/v1/consents", headers=preflight(LISTED, headers="x-a\tb, <script>"))
    assert response.status_code == 204
    assert "Access-Control-Allow-Headers" not in response.headers


async def test_actual_requests_from_a_listed_origin_can_read_the_answer(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    headers = {**bearer(keys["admin"]), "Origin": LISTED}
    body = {
        "subject": "cors-1",
        "occurred_at": ago(minutes=1),
        "choices": [{"purpose": "security", "action": "object"}],
    }
    response = await client.post("/v1/consents", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["Access-Control-Allow-Origin"] == LISTED
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]
    assert response.headers["Vary"] == "Origin"
    # Errors too, or a page could not read what to fix.
    bad = await client.post("/v1/consents", json={}, headers=headers)
    assert bad.status_code == 422
    assert bad.headers["Access-Control-Allow-Origin"] == LISTED


async def test_actual_requests_from_other_origins_get_no_cors_headers(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    response = await client.get("/healthz", headers={"Origin": "https://evil.example.net"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.headers["Vary"] == "Origin"
    same_site = await client.get("/healthz")
    assert "Access-Control-Allow-Origin" not in same_site.headers
    assert same_site.headers["Vary"] == "Origin"  # a cache must not reuse it for another origin


async def test_an_options_request_that_is_not_a_preflight_is_routed(client: httpx.AsyncClient) -> None:
    response = await client.options("/v1/consents", headers={"Origin": LISTED})
    assert_error(response, 405, "method_not_allowed")


async def test_a_trailing_slash_in_the_policy_is_ignored() -> None:
    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("a preflight never reaches the app")

    cors = Cors(app, origins=["https://shop.example.com/", " "])
    assert cors.origins == frozenset({"https://shop.example.com"})
    transport = httpx.ASGITransport(app=cors)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        response = await c.options("/v1/consents", headers=preflight("https://shop.example.com"))
    assert response.status_code == 204
