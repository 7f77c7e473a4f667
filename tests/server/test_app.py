"""create_app on its own: settings in, no shared state, health, and a self-describing OpenAPI document."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from consentgate.auth.apikeys import create_key
from consentgate.server import create_app
from consentgate.settings import Settings

from .conftest import ago, bearer

pytestmark = pytest.mark.anyio


async def test_create_app_opens_the_ledger_and_policy_from_settings(
    tmp_path: Path, example_policy_path: Path
) -> None:
    settings = Settings(db=str(tmp_path / "own.db"), policy=example_policy_path)
    app = create_app(settings)
    service = app.state.consentgate.service
    try:
        _, key = create_key(service.ledger.engine, "admin")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as c:
            body = {
                "subject": "u",
                "occurred_at": ago(minutes=1),
                "choices": [{"purpose": "security", "action": "object"}],
            }
            assert (await c.post("/v1/consents", json=body, headers=bearer(key))).status_code == 201
            health = (await c.get("/healthz")).json()
        assert health["status"] == "ok"
        assert health["ledger"] == {"seq": 1, "hash": service.ledger.head()[1]}
        assert (tmp_path / "own.db").exists()
    finally:
        service.ledger.close()


async def test_two_apps_share_nothing(tmp_path: Path, example_policy_path: Path) -> None:
    one = create_app(Settings(db=str(tmp_path / "one.db"), policy=example_policy_path))
    two = create_app(Settings(db=str(tmp_path / "two.db"), policy=example_policy_path))
    try:
        _, key = create_key(one.state.consentgate.service.ledger.engine, "read")
        for app, expected in ((one, 200), (two, 401)):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://testserver"
            ) as c:
                assert (await c.get("/v1/subjects/u/state", headers=bearer(key))).status_code == expected
    finally:
        for app in (one, two):
            app.state.consentgate.service.ledger.close()


async def test_healthz_reports_the_ledger_head(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["ledger"] == {"seq": 0, "hash": "0" * 64}
    assert body["chain"]["state"] == "intact"
    assert body["chain"]["intact"] is True
    assert body["chain"]["first_bad"] is None


async def test_openapi_documents_bodies_auth_and_the_error_shape(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/openapi.json")).json()
    paths = doc["paths"]
    for path, method in [
        ("/v1/consents", "post"),
        ("/v1/consents/batch", "post"),
        ("/v1/decisions", "get"),
        ("/v1/decisions/batch", "post"),
        ("/v1/subjects/{subject}/state", "get"),
        ("/v1/subjects/{subject}/evidence", "get"),
        ("/v1/subjects/{subject}/aliases", "post"),
        ("/v1/visitors", "post"),
        ("/v1/tokens", "post"),
        ("/healthz", "get"),
    ]:
        assert method in paths[path], path
    schemas = doc["components"]["schemas"]
    submission = schemas["Submission"]
    assert submission["examples"]
    for field in ("occurred_at", "choices", "action", "notice_version", "wording_hash", "signals"):
        assert "description" in submission["properties"][field], field
    assert submission["properties"]["occurred_at"]["anyOf"][0]["format"] == "date-time"
    assert "description" in schemas["Choice"]["properties"]["allowed"]
    consents = paths["/v1/consents"]["post"]
    assert consents["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorBody"
    )
    assert "HTTPValidationError" not in schemas
    assert doc["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key from `consentgate keys create --scope collect|read|admin`.",
    }
    assert doc["components"]["securitySchemes"]["SubjectToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Consentgate-Subject-Token",
        "description": doc["components"]["securitySchemes"]["SubjectToken"]["description"],
    }
    # Either credential may do for a subject's own choices; admin endpoints take API keys only.
    assert consents["security"] == [{"ApiKey": []}, {"SubjectToken": []}]
    assert paths["/v1/subjects/{subject}/state"]["get"]["security"] == [{"ApiKey": []}, {"SubjectToken": []}]
    assert paths["/v1/subjects/{subject}/aliases"]["post"]["security"] == [{"ApiKey": []}]
    assert paths["/v1/tokens"]["post"]["security"] == [{"ApiKey": []}]
    assert "security" not in paths["/healthz"]["get"]
