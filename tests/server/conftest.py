"""The app in-process (httpx over ASGI) on a temporary SQLite ledger with the example policy."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from consentgate.auth.apikeys import create_key, revoke_key
from consentgate.auth.tokens import TOKEN_HEADER, Keyring
from consentgate.ledger.chain import wording_hash
from consentgate.ledger.store import Ledger
from consentgate.policy import Policy
from consentgate.server import create_app
from consentgate.service import ConsentService
from consentgate.settings import Settings

MAX_BODY = 64_000
MAX_BATCH = 200


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, migrated ledger file; copying it is much cheaper than migrating for every test."""
    path = tmp_path_factory.mktemp("template") / "ledger.db"
    Ledger.open(str(path)).close()
    return path


@pytest.fixture
def service(example_policy: Policy, tmp_path: Path, migrated_db: Path) -> Iterator[ConsentService]:
    shutil.copyfile(migrated_db, tmp_path / "ledger.db")
    ledger = Ledger.open(str(tmp_path / "ledger.db"))
    try:
        yield ConsentService(example_policy, ledger)
    finally:
        ledger.close()


@pytest.fixture
def settings(tmp_path: Path, example_policy_path: Path) -> Settings:
    scan = tmp_path / "scan.json"  # a website scan with nothing found, for GET /v1/declaration
    scan.write_text('{"schema": "consentgate.scan/1", "cookies": [], "storage": []}')
    return Settings(
        db=str(tmp_path / "ledger.db"),
        policy=example_policy_path,
        max_body_bytes=MAX_BODY,
        max_batch=MAX_BATCH,
        scan_file=scan,
    )


@pytest.fixture
def app(settings: Settings, service: ConsentService) -> FastAPI:
    return create_app(settings, service=service)


@pytest.fixture
def keys(service: ConsentService) -> dict[str, str]:
    """One key per scope (collect, read, admin, audit), plus a revoked admin key."""
    engine = service.ledger.engine
    out = {
        scope: create_key(engine, scope, label=f"test {scope}")[1]
        for scope in ("collect", "read", "admin", "audit")
    }
    revoked_id, out["revoked"] = create_key(engine, "admin", label="test revoked")
    revoke_key(engine, revoked_id)
    return out


@pytest.fixture
def keyring(app: FastAPI) -> Keyring:
    """The app's token keyring: what signs its subject tokens and visitor ids."""
    ring: Keyring = app.state.consentgate.tokens
    return ring


@pytest.fixture
def visitor(keyring: Keyring) -> str:
    """A visitor id the app issued: a collect key may record choices for it."""
    return keyring.new_visitor_id()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def subject_token(token: str) -> dict[str, str]:
    return {TOKEN_HEADER: token}


def ago(**delta: float) -> str:
    """A zone-aware ISO time in the past: events must not be in the future, whenever tests run."""
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def text_of(policy: Policy, notice: str, version: str, locale: str = "en") -> str:
    nv = policy.notice_version(notice, version)
    assert nv is not None
    return nv.text[locale]


def hash_of(policy: Policy, notice: str, version: str, locale: str = "en") -> str:
    return wording_hash(text_of(policy, notice, version, locale))


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The one error shape, exactly: {"error": {"code", "message", "problems": [{"at", "message"}]}}."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "problems"}
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    assert "Traceback" not in response.text
    assert isinstance(error["problems"], list)
    for problem in error["problems"]:
        assert set(problem) == {"at", "message"}
        assert isinstance(problem["at"], str)
        assert isinstance(problem["message"], str)
    return error
