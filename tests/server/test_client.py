"""consentgate.client against the real app (in-process, through a blocking portal into the ASGI app):
the same answers as the service, the library's own exceptions, and the offline token helper."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from fastapi import FastAPI

from consentgate import ConsentgateClient, issue_subject_token
from consentgate.auth.tokens import Keyring
from consentgate.client import IssuedToken, Receipt, error_from
from consentgate.decide import Decision
from consentgate.errors import (
    AuthError,
    BadInput,
    EventError,
    QueryError,
    TerminalStorageError,
    TransientStorageError,
)
from consentgate.service import ConsentService

BASE = "https://consent.example.com"


class SyncASGITransport(httpx.BaseTransport):
    """The app behind a synchronous httpx client, as the client library uses it in real life."""

    def __init__(self, app: FastAPI, portal: BlockingPortal) -> None:
        self._transport = httpx.ASGITransport(app=app)
        self._portal = portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            response = await self._transport.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return self._portal.call(send)


@pytest.fixture
def http(app: FastAPI) -> Iterator[httpx.Client]:
    with start_blocking_portal() as portal, httpx.Client(transport=SyncASGITransport(app, portal)) as c:
        yield c


def client_with(http: httpx.Client, key: str | None) -> ConsentgateClient:
    return ConsentgateClient(BASE, key, http=http)


def test_record_then_decide_and_state_match_the_service(
    http: httpx.Client, keys: dict[str, str], service: ConsentService
) -> None:
    admin = client_with(http, keys["admin"])
    when = datetime.now(UTC) - timedelta(minutes=5)
    receipt = admin.record(
        "user-42@example.com",
        {"marketing": True, "security": "object"},
        notice_version=1,
        region="DE",
        locale="de",
        occurred_at=when,
        signals={"do_not_train": False},
    )
    assert isinstance(receipt, Receipt)
    stored = service.history("user-42@example.com")
    assert receipt.event_ids == tuple(e.event_id for e in stored)
    assert [(e.purpose, e.action.value) for e in stored] == [("marketing", "grant"), ("security", "object")]
    assert stored[0].occurred_at == when
    assert dict(stored[0].signals) == {"do_not_train": False}

    reader = client_with(http, keys["read"])
    remote = reader.decide("user-42@example.com", "marketing", region="DE")
    local = service.decide("user-42@example.com", "marketing", region="DE")
    assert isinstance(remote, Decision)
    assert remote.to_json() == local.to_json()
    state = reader.state("user-42@example.com", at=datetime.now(UTC))
    assert {p: d.allowed for p, d in state.items()} == {
        p: d.allowed for p, d in service.state("user-42@example.com").items()
    }


def test_subject_level_actions_and_a_token_instead_of_a_key(
    http: httpx.Client, keys: dict[str, str], keyring: Keyring, service: ConsentService
) -> None:
    token = keyring.issue("user-7@example.com")
    browser = client_with(http, keys["collect"])
    browser.record("user-7@example.com", action="gpc", region="US-CA", subject_token=token)
    tokenonly = client_with(http, None)
    assert (
        tokenonly.decide("user-7@example.com", "train_support_chatbot", subject_token=token).allowed is False
    )
    assert [e.action.value for e in service.history("user-7@example.com")] == ["gpc"]


def test_subjects_with_slashes_are_quoted(http: httpx.Client, keys: dict[str, str]) -> None:
    admin = client_with(http, keys["admin"])
    admin.record("tenant/7/user/1", {"security": "object"})
    assert admin.state("tenant/7/user/1")["security"].allowed is False


def test_issue_token_on_the_server(http: httpx.Client, keys: dict[str, str], keyring: Keyring) -> None:
    issued = client_with(http, keys["admin"]).issue_token("user-42@example.com", ttl=600)
    assert isinstance(issued, IssuedToken)
    assert keyring.verify(issued.token).subject == issued.subject == "user-42@example.com"
    assert issued.expires_at <= datetime.now(UTC) + timedelta(seconds=601)


def test_errors_become_the_librarys_exceptions(http: httpx.Client, keys: dict[str, str]) -> None:
    with pytest.raises(AuthError) as unknown:
        client_with(http, "cg_admin_nope").state("u")
    assert unknown.value.status == 401
    with pytest.raises(AuthError) as forbidden:
        client_with(http, keys["collect"]).record("user-1@example.com", {"marketing": False})
    assert forbidden.value.status == 403
    assert "visitor ids" in forbidden.value.message
    with pytest.raises(EventError) as bad_event:
        client_with(http, keys["admin"]).record("u", {"marketing": "grant"}, notice_version=9)
    assert bad_event.value.problems == [
        ("notice_version", "notice 'marketing' has no version '9' (known: 1)")
    ]
    with pytest.raises(QueryError):
        client_with(http, keys["read"]).decide("u", "train_everything")
    with pytest.raises(BadInput):
        client_with(http, keys["admin"]).issue_token("u", ttl=10**6)


def test_the_token_helper_is_what_the_server_verifies(keyring: Keyring) -> None:
    secret = "h" * 40
    token = issue_subject_token(secret, "user-42@example.com", ttl=60)
    assert Keyring([secret]).verify(token).subject == "user-42@example.com"


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (
            503,
            {"error": {"code": "storage_unavailable", "message": "m", "problems": []}},
            TransientStorageError,
        ),
        (502, None, TransientStorageError),
        (
            500,
            {"error": {"code": "storage_failed", "message": "disk full", "problems": []}},
            TerminalStorageError,
        ),
        (404, {"error": {"code": "not_found", "message": "no such", "problems": []}}, BadInput),
    ],
)
def test_server_failures_map_to_transient_or_terminal(
    status: int, body: object, error: type[Exception]
) -> None:
    response = (
        httpx.Response(status, json=body) if body is not None else httpx.Response(status, text="<html>")
    )
    assert type(error_from(response)) is error


def test_an_unreachable_server_is_transient_and_the_key_stays_out_of_reprs() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with ConsentgateClient(
        "http://consent.example.com",
        "cg_admin_secret",
        http=httpx.Client(transport=httpx.MockTransport(refuse)),
    ) as cg:
        with pytest.raises(TransientStorageError, match="could not reach"):
            cg.decide("u", "marketing")
        assert "cg_admin_secret" not in repr(cg)
