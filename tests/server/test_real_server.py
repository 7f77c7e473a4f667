"""A few checks through a real uvicorn process: real sockets, real HTTP parsing, settings from env."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from consentgate.auth.apikeys import create_key
from consentgate.auth.secrets import load_keyring
from consentgate.auth.tokens import TOKEN_HEADER
from consentgate.ledger.store import Ledger
from tests.support.servers import start_server

from .conftest import ago, bearer


@pytest.fixture
def server(tmp_path: Path, example_policy_path: Path) -> Iterator[tuple[str, str]]:
    """``(base url, admin key)`` of ``uvicorn --factory consentgate.server.app:create_app``."""
    db = str(tmp_path / "ledger.db")
    with Ledger.open(db) as ledger:
        _, key = create_key(ledger.engine, "admin")
    env = {"CONSENTGATE_MAX_BODY_BYTES": "2000"}
    server = start_server(db, example_policy_path, tmp_path, extra_env=env, seal=False, timeout=20)
    try:
        yield server.base_url, key
    finally:
        server.stop(10)


def test_real_server_records_decides_and_refuses(server: tuple[str, str]) -> None:
    base, key = server
    with httpx.Client(base_url=base, headers=bearer(key), timeout=10) as c:
        body = {
            "subject": "u@example.com",
            "occurred_at": ago(minutes=1),
            "choices": [{"purpose": "security", "action": "object"}],
        }
        assert c.post("/v1/consents", json=body).status_code == 201
        decision = c.get("/v1/decisions", params={"subject": "u@example.com", "purpose": "security"}).json()
        assert decision["allowed"] is False

        too_big = c.post("/v1/consents", content=b" " * 2001, headers={"Content-Type": "application/json"})
        assert too_big.status_code == 413
        assert too_big.json()["error"]["code"] == "body_too_large"

        broken = c.post(
            "/v1/consents", content=b'{"subject": "\xff"}', headers={"Content-Type": "application/json"}
        )
        assert broken.status_code == 400
        assert broken.json()["error"]["code"] == "invalid_encoding"
        assert c.get("/healthz").json()["ledger"]["seq"] == 1


def test_a_token_minted_by_another_process_on_the_same_database_works(
    server: tuple[str, str], tmp_path: Path
) -> None:
    """The server generated the token secret into the ledger; a CLI or backend process on the same
    database signs with it, and the server accepts the token over a real socket."""
    base, _ = server
    with Ledger.open(str(tmp_path / "ledger.db")) as ledger:
        token = load_keyring(ledger.engine, None).issue("u@example.com", 60)
    with httpx.Client(base_url=base, timeout=10) as c:
        ok = c.get("/v1/subjects/u@example.com/state", headers={TOKEN_HEADER: token})
        assert ok.status_code == 200, ok.text
        other = c.get("/v1/subjects/someone-else@example.com/state", headers={TOKEN_HEADER: token})
        assert other.status_code == 403
