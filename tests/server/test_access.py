"""Visitor ids and subject tokens over HTTP: the banner's and the privacy center's flows, the cookie,
batches with mixed subjects, and messages that say what to do. The matrix itself is in
test_authz_matrix.py."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from consentgate.auth.apikeys import create_key
from consentgate.auth.tokens import Keyring
from consentgate.client import issue_subject_token
from consentgate.server import create_app
from consentgate.server.routers.access import VISITOR_COOKIE, VISITOR_COOKIE_MAX_AGE
from consentgate.service import ConsentService
from consentgate.settings import Settings

from .conftest import ago, assert_error, bearer, subject_token

pytestmark = pytest.mark.anyio

SECRET = "k" * 16 + "-fictional-server-secret"


def grant(subject: str, purpose: str = "marketing") -> dict[str, Any]:
    return {
        "subject": subject,
        "occurred_at": ago(minutes=5),
        "choices": [{"purpose": purpose, "action": "grant", "notice_version": 1}],
    }


# -- visitor ids -------------------------------------------------------------------------------------


async def test_a_visitor_id_comes_with_a_first_party_cookie(
    client: httpx.AsyncClient, keys: dict[str, str], keyring: Keyring
) -> None:
    response = await client.post("/v1/visitors", headers=bearer(keys["collect"]))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["cookie"] == VISITOR_COOKIE == "cg_vid"
    assert body["created"] is True
    assert keyring.is_visitor_id(body["visitor_id"])
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"cg_vid={body['visitor_id']};")
    attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "path=/", "samesite=lax", f"max-age={VISITOR_COOKIE_MAX_AGE}"} <= attributes
    assert "secure" not in attributes  # plain http: a Secure cookie would never come back
    assert response.headers["cache-control"] == "no-store"


async def test_over_https_the_cookie_is_secure(app: Any, keys: dict[str, str]) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://consent.example.com") as c:
        response = await c.post("/v1/visitors", headers=bearer(keys["collect"]))
    assert "secure" in {a.strip().lower() for a in response.headers["set-cookie"].split(";")}


async def test_a_returning_visitor_keeps_their_id(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    first = (await client.post("/v1/visitors", headers=bearer(keys["collect"]))).json()["visitor_id"]
    again = await client.post("/v1/visitors", headers=bearer(keys["collect"]))  # the client sends the cookie
    assert again.status_code == 200
    assert again.json() == {"visitor_id": first, "cookie": "cg_vid", "created": False}


async def test_a_forged_cookie_gets_a_fresh_id(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    forged = "cgv1.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    client.cookies.set(VISITOR_COOKIE, forged)
    response = await client.post("/v1/visitors", headers=bearer(keys["collect"]))
    assert response.status_code == 201
    assert response.json()["visitor_id"] != forged


async def test_the_banner_flow_records_for_its_visitor_id(
    client: httpx.AsyncClient, keys: dict[str, str], service: ConsentService
) -> None:
    collect = bearer(keys["collect"])
    vid = (await client.post("/v1/visitors", headers=collect)).json()["visitor_id"]
    for action in ("grant", "withdraw"):  # withdrawing is as easy as granting (GDPR Art. 7(3))
        body = {"subject": vid, "choices": [{"purpose": "marketing", "action": action, "notice_version": 1}]}
        assert (await client.post("/v1/consents", json=body, headers=collect)).status_code == 201
    assert [e.action.value for e in service.history(vid)] == ["grant", "withdraw"]


async def test_a_made_up_visitor_id_is_refused_with_what_to_do(
    client: httpx.AsyncClient, keys: dict[str, str], keyring: Keyring, service: ConsentService
) -> None:
    other_server = Keyring([SECRET]).new_visitor_id()
    for subject in ("cgv1.guess.guess", other_server, "cookie-7f3a"):
        response = await client.post("/v1/consents", json=grant(subject), headers=bearer(keys["collect"]))
        error = assert_error(response, 403, "forbidden")
        assert error["problems"][0]["at"] == "subject"
        assert "POST /v1/visitors" in error["message"]
        assert "X-Consentgate-Subject-Token" in error["message"]
    assert service.ledger.count() == 0


# -- subject tokens ----------------------------------------------------------------------------------


async def test_an_admin_mints_tokens_that_the_server_accepts(
    client: httpx.AsyncClient, keys: dict[str, str], keyring: Keyring
) -> None:
    before = datetime.now(UTC)
    response = await client.post(
        "/v1/tokens",
        json={"subject": "user-42@example.com", "ttl_seconds": 900},
        headers=bearer(keys["admin"]),
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["subject"] == "user-42@example.com"
    expires = datetime.fromisoformat(body["expires_at"])
    assert before + timedelta(seconds=898) <= expires <= datetime.now(UTC) + timedelta(seconds=901)
    assert keyring.verify(body["token"]).subject == "user-42@example.com"
    state = await client.get("/v1/subjects/user-42@example.com/state", headers=subject_token(body["token"]))
    assert state.status_code == 200


@pytest.mark.parametrize("ttl", [0, 86_401, "3600", 3600.5, None])
async def test_token_lifetimes_are_bounded(client: httpx.AsyncClient, keys: dict[str, str], ttl: Any) -> None:
    response = await client.post(
        "/v1/tokens", json={"subject": "u", "ttl_seconds": ttl}, headers=bearer(keys["admin"])
    )
    error = assert_error(response, 422, "invalid_request")
    assert error["problems"][0]["at"] == "ttl_seconds"


async def test_the_token_is_checked_on_reads_and_writes_alike(
    client: httpx.AsyncClient, keys: dict[str, str], keyring: Keyring
) -> None:
    mine = subject_token(keyring.issue("user-1@example.com"))
    collect = bearer(keys["collect"])
    assert (
        await client.post("/v1/consents", json=grant("user-1@example.com"), headers={**collect, **mine})
    ).status_code == 201
    answer = await client.get(
        "/v1/decisions", params={"subject": "user-1@example.com", "purpose": "marketing"}, headers=mine
    )
    assert answer.json()["allowed"] is True
    evidence = await client.get("/v1/subjects/user-1@example.com/evidence", headers=mine)
    assert [e["action"] for e in evidence.json()["events"]] == ["grant"]


async def test_another_subjects_token_is_403_naming_the_subject(
    client: httpx.AsyncClient, keyring: Keyring
) -> None:
    response = await client.get(
        "/v1/subjects/user-2@example.com/evidence", headers=subject_token(keyring.issue("user-1@example.com"))
    )
    error = assert_error(response, 403, "forbidden")
    assert "another subject" in error["message"]
    assert "user-2@example.com" in error["message"]
    assert "user-1" not in response.text  # the answer does not echo whom the token is for


async def test_expired_and_tampered_tokens_are_401_with_what_to_do(
    client: httpx.AsyncClient, keys: dict[str, str], keyring: Keyring
) -> None:
    url = "/v1/subjects/user-1@example.com/state"
    stale = keyring.issue("user-1@example.com", 600, now=time.time() - 7200)
    error = assert_error(await client.get(url, headers=subject_token(stale)), 401, "unauthorized")
    assert "expired at" in error["message"]
    assert "POST /v1/tokens" in error["message"]
    # Even with a read key that would do on its own: a broken token is a bug worth hearing about.
    response = await client.get(url, headers={**bearer(keys["read"]), **subject_token(stale + "x")})
    assert "altered" in assert_error(response, 401, "unauthorized")["message"]


async def test_a_batch_names_every_refused_subject_and_stores_nothing(
    client: httpx.AsyncClient, keys: dict[str, str], keyring: Keyring, service: ConsentService
) -> None:
    headers = {**bearer(keys["collect"]), **subject_token(keyring.issue("user-1@example.com"))}
    vid = keyring.new_visitor_id()
    allowed = [grant("user-1@example.com"), grant(vid)]
    ok = await client.post("/v1/consents/batch", json={"submissions": allowed}, headers=headers)
    assert ok.status_code == 201, ok.text
    mixed = [*allowed, grant("user-2@example.com"), grant("user-3@example.com")]
    response = await client.post("/v1/consents/batch", json={"submissions": mixed}, headers=headers)
    error = assert_error(response, 403, "forbidden")
    assert [p["at"] for p in error["problems"]] == ["submissions[2].subject", "submissions[3].subject"]
    assert "(and 1 more)" in error["message"]
    assert service.ledger.count() == 2


async def test_a_decision_batch_with_a_token_may_ask_only_about_its_subject(
    client: httpx.AsyncClient, keyring: Keyring
) -> None:
    queries = [
        {"subject": "user-1@example.com", "purpose": "marketing"},
        {"subject": "user-2@example.com", "purpose": "marketing"},
    ]
    response = await client.post(
        "/v1/decisions/batch",
        json={"queries": queries},
        headers=subject_token(keyring.issue("user-1@example.com")),
    )
    error = assert_error(response, 403, "forbidden")
    assert [p["at"] for p in error["problems"]] == ["queries[1].subject"]


async def test_a_token_binds_the_exact_subject_string(client: httpx.AsyncClient, keyring: Keyring) -> None:
    mine = subject_token(keyring.issue("tenant/7/user/1"))
    ok = await client.get("/v1/subjects/tenant%2F7%2Fuser%2F1/state", headers=mine)
    assert ok.status_code == 200
    for near in ("tenant/7/user/1 ", "TENANT/7/USER/1", "tenant/7/user"):
        response = await client.get(f"/v1/subjects/{near}/state", headers=mine)
        assert response.status_code == 403, near


# -- where the secret comes from ---------------------------------------------------------------------


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_a_configured_secret_lets_backends_mint_tokens_offline(
    tmp_path: Path, example_policy_path: Path
) -> None:
    rotated = SecretStr(f"{'n' * 32},{SECRET}")
    app = create_app(Settings(db=str(tmp_path / "cfg.db"), policy=example_policy_path, token_secret=rotated))
    try:
        async with _client(app) as c:
            for secret in (SECRET, "n" * 32):  # the old secret still verifies during rotation
                token = issue_subject_token(secret, "user-42@example.com")
                response = await c.get("/v1/subjects/user-42@example.com/state", headers=subject_token(token))
                assert response.status_code == 200, response.text
            foreign = issue_subject_token("o" * 32, "user-42@example.com")
            response = await c.get("/v1/subjects/user-42@example.com/state", headers=subject_token(foreign))
            assert "rotated out" in assert_error(response, 401, "unauthorized")["message"]
    finally:
        app.state.consentgate.service.ledger.close()


async def test_servers_sharing_a_database_share_the_generated_secret(
    tmp_path: Path, example_policy_path: Path
) -> None:
    settings = Settings(db=str(tmp_path / "shared.db"), policy=example_policy_path)
    one, two = create_app(settings), create_app(settings)
    try:
        _, collect = create_key(one.state.consentgate.service.ledger.engine, "collect")
        async with _client(one) as a, _client(two) as b:
            vid = (await a.post("/v1/visitors", headers=bearer(collect))).json()["visitor_id"]
            assert (await b.post("/v1/consents", json=grant(vid), headers=bearer(collect))).status_code == 201
            token = one.state.consentgate.tokens.issue(vid)
            assert (await b.get(f"/v1/subjects/{vid}/state", headers=subject_token(token))).status_code == 200
    finally:
        for app in (one, two):
            app.state.consentgate.service.ledger.close()
