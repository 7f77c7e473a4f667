"""Logs hold no subject ids, addresses, tokens or keys: requests carry recognisable ones, logs are grepped.

In-process through caplog (every logger, every level), and through a real ``consentgate serve``
process whose whole stderr is read, since that is where uvicorn's own lines would leak addresses.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from consentgate.auth.apikeys import create_key
from consentgate.auth.tokens import TOKEN_HEADER, issue_subject_token
from consentgate.ledger.store import Ledger
from consentgate.server.logs import ACCESS_LOGGER, JsonFormatter, key_id, log_config
from tests.support.servers import start_server

from .conftest import ago, bearer

SUBJECT = "zq-subject-7731@example.com"
ALIAS = "zq-alias-cookie-5512"
CLIENT_V4 = "192.0.2.77"
FORWARDED_V4 = "192.0.2.213"
CLIENT_V6 = "2001:db8:77::9"
SECRET = "zq-token-secret-" + "s" * 32
CONSENTGATE = Path(sys.executable).with_name("consentgate")


def _requests(c: httpx.Client | httpx.AsyncClient) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, url, kwargs) that put the subject in the path, the query and the body, and provoke errors."""
    body = {
        "subject": SUBJECT,
        "occurred_at": ago(minutes=1),
        "choices": [{"purpose": "security", "action": "object"}],
    }
    return [
        ("POST", "/v1/consents", {"json": body}),
        ("POST", "/v1/consents/batch", {"json": {"submissions": [body]}}),
        ("GET", "/v1/decisions", {"params": {"subject": SUBJECT, "purpose": "security"}}),
        ("GET", "/v1/decisions", {"params": {"subject": SUBJECT, "purpose": "no-such-purpose"}}),
        ("POST", "/v1/decisions/batch", {"json": {"queries": [{"subject": SUBJECT, "purpose": "security"}]}}),
        ("GET", f"/v1/subjects/{SUBJECT}/state", {}),
        ("GET", f"/v1/subjects/{SUBJECT}/evidence", {"params": {"at": ago(seconds=1)}}),
        ("POST", f"/v1/subjects/{SUBJECT}/aliases", {"json": {"alias": ALIAS}}),
        ("GET", f"/v1/subjects/{SUBJECT}/nothing-here", {}),
        ("POST", "/v1/consents", {"content": f'{{"subject": "{SUBJECT}", "x": \xff}}'.encode("latin-1")}),
        ("POST", "/v1/consents", {"json": {**body, "occurred_at": "2999-01-01T00:00:00Z"}}),
    ]


def _leaks(text: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s in text]


def _secrets(key: str, token: str) -> list[str]:
    payload = token.split(".")[1]
    return [SUBJECT, "zq-subject", ALIAS, CLIENT_V4, FORWARDED_V4, CLIENT_V6, "2001:db8:77", key,
            key.split("_", 3)[3], token, payload, SECRET]  # fmt: skip


# -- in-process ---------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("client_host", [CLIENT_V4, CLIENT_V6])
async def test_request_logs_name_no_one(
    app: Any, keys: dict[str, str], caplog: pytest.LogCaptureFixture, client_host: str
) -> None:
    token = app.state.consentgate.tokens.issue(SUBJECT)
    headers = {**bearer(keys["admin"]), TOKEN_HEADER: token, "X-Forwarded-For": FORWARDED_V4}
    transport = httpx.ASGITransport(app=app, client=(client_host, 4711))
    caplog.set_level(logging.DEBUG)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers) as c:
        statuses = [(await c.request(m, url, **kw)).status_code for m, url, kw in _requests(c)]
    assert {201, 200, 404, 400, 422} <= set(statuses)

    formatter = JsonFormatter()
    # httpx is this test's client, logging its own URLs; everything else is the server's.
    served = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    text = "\n".join(formatter.format(r) + repr(vars(r)) for r in served)
    assert _leaks(text, _secrets(keys["admin"], token)) == []

    lines = [json.loads(formatter.format(r)) for r in caplog.records if r.name == ACCESS_LOGGER]
    assert len(lines) == len(statuses)  # one line per request
    assert [line["status"] for line in lines] == statuses
    first = lines[0]
    assert set(first) >= {
        "ts",
        "level",
        "message",
        "method",
        "route",
        "status",
        "duration_ms",
        "key",
        "client",
    }
    assert first["route"] == "/v1/consents"
    assert first["key"] == key_id(keys["admin"])
    assert len(first["client"]) == 16
    routes = [line["route"] for line in lines]
    assert "/v1/subjects/{subject}/state" in routes
    assert routes[8] is None  # no route matched: nothing of the path is logged
    assert routes[9] == "/v1/consents"  # refused by the body guard, before routing, still attributed
    assert {line["client"] for line in lines} == {first["client"]}  # the same client, linkable in one run


def test_key_ids_are_the_public_part_only() -> None:
    assert key_id("cg_admin_0123456789ab_SECRETSECRET") == "0123456789ab"
    assert key_id("something-else") == "other"
    assert key_id(None) is None


def test_exceptions_are_logged_without_their_message() -> None:
    try:
        raise ValueError(f"no such subject {SUBJECT}")
    except ValueError:
        record = logging.getLogger("uvicorn.error").makeRecord(
            "uvicorn.error", logging.ERROR, __file__, 1, "Exception in ASGI application", (), sys.exc_info()
        )
    line = json.loads(JsonFormatter().format(record))
    assert line["exc_type"] == "ValueError"
    assert line["stack"]
    assert SUBJECT not in json.dumps(line)


def test_log_config_turns_uvicorns_access_log_off() -> None:
    config = log_config("warning")
    assert config["loggers"]["uvicorn.access"]["handlers"] == []
    assert config["loggers"]["consentgate"]["level"] == "WARNING"


# -- a real `consentgate serve` -----------------------------------------------------------------------


def test_a_real_server_logs_json_and_nothing_that_identifies_anyone(
    tmp_path: Path, example_policy_path: Path
) -> None:
    db = str(tmp_path / "ledger.db")
    with Ledger.open(db) as ledger:
        _, key = create_key(ledger.engine, "admin")
    env = {
        "CONSENTGATE_TOKEN_SECRET": SECRET,
        # uvicorn trusts X-Forwarded-For from 127.0.0.1: the address below becomes the client address.
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
    }
    server = start_server(db, example_policy_path, tmp_path, via="cli", extra_env=env, seal=False, timeout=30)
    token = issue_subject_token(SECRET, SUBJECT)
    headers = {**bearer(key), TOKEN_HEADER: token, "X-Forwarded-For": FORWARDED_V4}
    try:
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=10) as c:
            statuses = [c.request(m, url, **kw).status_code for m, url, kw in _requests(c)]
            # A request line that no HTTP parser accepts, with the subject in it.
            with socket.create_connection(("127.0.0.1", server.port)) as raw:
                raw.sendall(f"GET /v1/subjects/{SUBJECT} HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n".encode())
                raw.recv(1000)
        assert {201, 200, 404, 400, 422} <= set(statuses)
    finally:
        server.stop(15, sig=signal.SIGINT)
    output = server.log_path.read_text()  # the server's stdout and stderr, as one stream

    assert _leaks(output, _secrets(key, token)) == [], output
    # Every line is JSON, but for the CLI's own note before the server starts.
    assert [line for line in output.splitlines() if not line.startswith("{")] == [
        f"serving on {server.base_url} (docs at /docs); Ctrl+C stops"
    ]
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["logger"] == ACCESS_LOGGER]
    assert [line["status"] for line in requests][-len(statuses) :] == statuses
    assert {line["key"] for line in requests[-len(statuses) :]} == {key_id(key)}
    assert any(line["logger"].startswith("uvicorn") for line in lines)  # uvicorn's own lines are JSON too


@pytest.mark.parametrize(("level", "request_lines"), [("info", True), ("warning", False)])
def test_an_app_started_by_uvicorn_itself_logs_our_lines_not_uvicorns(
    tmp_path: Path, example_policy_path: Path, level: str, request_lines: bool
) -> None:
    server = start_server(
        str(tmp_path / "ledger.db"), example_policy_path, tmp_path, uvicorn_args=("--log-level", level),
        seal=False, timeout=30,
    )  # fmt: skip
    try:
        url = f"{server.base_url}/v1/subjects/{SUBJECT}/state?at=x"
        assert httpx.get(url, headers={"X-Forwarded-For": FORWARDED_V4}).status_code == 401
    finally:
        server.stop(15, sig=signal.SIGINT)
    output = server.log_path.read_text()  # the server's stdout and stderr, as one stream
    assert _leaks(output, [SUBJECT, FORWARDED_V4]) == [], output
    assert not re.search(r'[0-9.]+:[0-9]+ - "GET', output), output  # uvicorn's access line: client - "GET …"
    ours = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert [line["status"] for line in ours] == ([200, 401] if request_lines else [])
