"""Gate 1: the client stamps records with do_not_train and consent_version, against the real app
in-process; the offline stamper does the same from snapshot files; and the chat-backend middleware
of docs/collection.md runs as written."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from fastapi import FastAPI

from consentgate import ConsentgateClient
from consentgate.auth.apikeys import create_key
from consentgate.client import SnapshotStamper, Stamp
from consentgate.errors import AuthError, BadInput
from consentgate.ledger.store import Ledger
from consentgate.pipeline import build_snapshot
from consentgate.policy import Policy
from consentgate.server import create_app
from consentgate.service import ConsentService
from consentgate.settings import Settings

BASE = "https://consent.example.com"
PURPOSE = "train_support_chatbot"
DOCS = Path(__file__).parents[1] / "docs" / "collection.md"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Counting(httpx.BaseTransport):
    """The app behind a synchronous httpx client (through a portal), counting requests by path;
    ``down`` makes every request fail as an unreachable server does."""

    def __init__(self, app: FastAPI, portal: BlockingPortal) -> None:
        self._transport = httpx.ASGITransport(app=app)
        self._portal = portal
        self.paths: list[str] = []
        self.down = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)

        async def send() -> httpx.Response:
            response = await self._transport.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return self._portal.call(send)


@pytest.fixture
def service(example_policy: Policy, tmp_path: Path) -> Iterator[ConsentService]:
    ledger = Ledger.open(str(tmp_path / "ledger.db"))
    try:
        yield ConsentService(example_policy, ledger)
    finally:
        ledger.close()


@pytest.fixture
def keys(service: ConsentService) -> dict[str, str]:
    return {scope: create_key(service.ledger.engine, scope)[1] for scope in ("read", "admin")}


@pytest.fixture
def portal() -> Iterator[BlockingPortal]:
    with start_blocking_portal() as p:
        yield p


@pytest.fixture
def transport(
    service: ConsentService, example_policy_path: Path, tmp_path: Path, portal: BlockingPortal
) -> Counting:
    settings = Settings(db=str(tmp_path / "ledger.db"), policy=example_policy_path)
    return Counting(create_app(settings, service=service), portal)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def client(transport: Counting, key: str, clock: Clock | None = None, **kw: Any) -> ConsentgateClient:
    return ConsentgateClient(BASE, key, http=httpx.Client(transport=transport), clock=clock or Clock(), **kw)


def raw(subject: str, action: str, when: datetime, **more: Any) -> tuple[str, dict[str, Any]]:
    body = {"subject": subject, "action": action, "purposes": [PURPOSE], "occurred_at": when.isoformat()}
    if action == "grant":
        body.update(notice_id="ai-training", locale="en")
    return "", {**body, **more}


def grant(admin: ConsentgateClient, subject: str, *, version: int = 2, **kw: Any) -> None:
    admin.record(subject, {PURPOSE: True}, notice_version=version, region="DE", locale="en", **kw)


def test_stamp_adds_the_flag_and_the_consent_version(transport: Counting, keys: dict[str, str]) -> None:
    admin = client(transport, keys["admin"])
    grant(admin, "ann@example.com")
    admin.record("bo@example.com", {PURPOSE: False}, notice_version=2, region="DE", locale="en")
    reader = client(transport, keys["read"])

    message = {"role": "user", "text": "My order never arrived"}
    stamped = reader.stamp(message, "ann@example.com", PURPOSE)
    assert stamped == {**message, "do_not_train": False, "consent_version": "ai-training@2"}
    assert "do_not_train" not in message  # the caller's record is not changed
    assert reader.stamp(message, "bo@example.com", PURPOSE)["do_not_train"] is True
    assert reader.consent_stamp("bo@example.com", PURPOSE) == Stamp(True, None)  # a refusal, no grant
    assert reader.consent_stamp("nobody@example.com", PURPOSE) == Stamp(True, None)
    # Under an opt-out basis (US) nobody objected: allowed, but no grant to name.
    assert reader.consent_stamp("cy@example.com", "security") == Stamp(False, None)


def test_a_grant_under_an_outdated_notice_names_its_version_and_does_not_allow(
    transport: Counting, keys: dict[str, str]
) -> None:
    admin = client(transport, keys["admin"])
    # v1, given before v2 (a material change) took effect: it no longer counts.
    grant(admin, "old@example.com", version=1, occurred_at=datetime(2026, 5, 1, tzinfo=UTC))
    stamp = client(transport, keys["read"]).consent_stamp("old@example.com", PURPOSE)
    assert stamp == Stamp(True, "ai-training@1")


def test_answers_are_cached_for_the_ttl_and_versions_for_good(
    transport: Counting, keys: dict[str, str], clock: Clock
) -> None:
    admin = client(transport, keys["admin"])
    grant(admin, "ann@example.com")
    reader = client(transport, keys["read"], clock, stamp_ttl=30)
    transport.paths.clear()
    for _ in range(50):  # a busy chat: one decision and one evidence read, not fifty
        assert reader.consent_stamp("ann@example.com", PURPOSE).do_not_train is False
    assert len(transport.paths) == 2
    assert transport.paths[1].endswith("/evidence")

    # Another backend records a withdrawal: this one sees it once its cached answer expires.
    admin.record("ann@example.com", {PURPOSE: "withdraw"})
    clock.now += 29
    assert reader.consent_stamp("ann@example.com", PURPOSE).do_not_train is False
    clock.now += 2
    assert reader.consent_stamp("ann@example.com", PURPOSE) == Stamp(True, None)


def test_recording_through_the_same_client_forgets_the_cached_stamp(
    transport: Counting, keys: dict[str, str]
) -> None:
    admin = client(transport, keys["admin"])
    grant(admin, "ann@example.com")
    assert admin.consent_stamp("ann@example.com", PURPOSE).do_not_train is False
    admin.record("ann@example.com", {PURPOSE: "withdraw"})
    assert admin.consent_stamp("ann@example.com", PURPOSE).do_not_train is True
    grant(admin, "ann@example.com")
    version_reads = sum(p.endswith("/evidence") for p in transport.paths)
    assert admin.consent_stamp("ann@example.com", PURPOSE) == Stamp(False, "ai-training@2")
    assert sum(p.endswith("/evidence") for p in transport.paths) == version_reads + 1  # a new grant
    admin.forget()
    assert admin.consent_stamp("ann@example.com", PURPOSE).do_not_train is False


def test_an_unreachable_service_fails_closed_without_stalling_every_message(
    transport: Counting, keys: dict[str, str], clock: Clock
) -> None:
    admin = client(transport, keys["admin"])
    grant(admin, "ann@example.com")
    reader = client(transport, keys["read"], clock)
    transport.down = True
    transport.paths.clear()
    stamp = reader.consent_stamp("ann@example.com", PURPOSE)
    assert (stamp.do_not_train, stamp.consent_version, stamp.degraded) == (True, None, True)
    assert reader.stamp({"t": 1}, "ann@example.com", PURPOSE) == {
        "t": 1, "do_not_train": True, "consent_version": None,
    }  # fmt: skip
    assert len(transport.paths) == 1  # backing off: no second attempt right away
    transport.down = False
    clock.now += 6
    assert reader.consent_stamp("ann@example.com", PURPOSE) == Stamp(False, "ai-training@2")


def test_errors_that_will_not_go_away_raise(transport: Counting) -> None:
    with pytest.raises(AuthError):
        client(transport, "cg_read_nope").stamp({}, "ann@example.com", PURPOSE)


# -- offline, from snapshot files ------------------------------------------------------------------------


def test_the_snapshot_stamper_needs_no_service(
    service: ConsentService, example_policy: Policy, tmp_path: Path
) -> None:
    when = datetime.now(UTC) - timedelta(hours=1)
    service.record(
        [
            raw("ann@example.com", "grant", when, notice_version=2, region="DE"),
            raw("bo@example.com", "deny", when, region="DE"),
        ],
        strict=False,
    )
    service.link("cookie-ann", "ann@example.com", "cookie_id")
    path = tmp_path / "consent.parquet"
    build_snapshot(example_policy, service.ledger, PURPOSE).write(path)

    clock = Clock()
    offline = SnapshotStamper(path, clock=clock)
    assert offline.purposes == [PURPOSE]
    assert offline.stamp({"t": 1}, "cookie-ann", PURPOSE) == {
        "t": 1,
        "do_not_train": False,
        "consent_version": None,
    }
    assert offline.consent_stamp("bo@example.com") == Stamp(True, None)  # one snapshot: purpose optional
    assert offline.consent_stamp("nobody@example.com") == Stamp(True, None)  # consent purpose: unknown denied
    with pytest.raises(BadInput, match="no snapshot for purpose 'marketing'"):
        offline.consent_stamp("ann@example.com", "marketing")

    # With the ledger at hand the deciding grant's notice version is looked up (once).
    with_ledger = SnapshotStamper(path, ledger=service.ledger)
    assert with_ledger.consent_stamp("ann@example.com") == Stamp(False, "ai-training@2")

    # A refreshed file is picked up after check_seconds.
    service.record([raw("ann@example.com", "withdraw", when + timedelta(minutes=1))], strict=False)
    newer = tmp_path / "new.parquet"
    build_snapshot(example_policy, service.ledger, PURPOSE).write(newer)
    shutil.move(newer, path)
    assert offline.consent_stamp("ann@example.com").do_not_train is False  # not looked at yet
    clock.now += 31
    assert offline.consent_stamp("ann@example.com").do_not_train is True


def test_a_snapshot_decision_past_its_valid_until_fails_closed(
    service: ConsentService, example_policy: Policy
) -> None:
    granted = datetime.now(UTC) - timedelta(days=394, hours=23)  # max_age_days 395: expires in an hour
    service.record([raw("ann@example.com", "grant", granted, notice_version=1, region="US-CA")], strict=False)
    snap = build_snapshot(example_policy, service.ledger, PURPOSE)
    later = datetime.now(UTC) + timedelta(hours=2)
    assert SnapshotStamper(snap).consent_stamp("ann@example.com").do_not_train is False
    stale = SnapshotStamper(snap, now=lambda: later).consent_stamp("ann@example.com")
    assert (stale.do_not_train, stale.degraded) == (True, True)


# -- the documented chat middleware ------------------------------------------------------------------------


def documented_example() -> str:
    text = DOCS.read_text(encoding="utf-8")
    marker = text.index("<!-- tested: tests/test_client_stamp.py")
    found = re.search(r"```python\n(.*?)```", text[marker:], re.S)
    assert found is not None
    return found.group(1)


def test_the_chat_middleware_in_the_docs_stamps_every_message(
    transport: Counting, keys: dict[str, str], portal: BlockingPortal, monkeypatch: pytest.MonkeyPatch
) -> None:
    grant(client(transport, keys["admin"]), "ann@example.com")
    monkeypatch.setenv("CONSENTGATE_URL", BASE)
    monkeypatch.setenv("CONSENTGATE_READ_KEY", keys["read"])
    namespace: dict[str, Any] = {}
    exec(compile(documented_example(), str(DOCS), "exec"), namespace)
    assert namespace["consent"].base_url == BASE
    namespace["consent"] = client(transport, keys["read"])  # the same client, wired to the test app

    backend = Counting(namespace["app"], portal)
    with httpx.Client(transport=backend, base_url="https://chat.example.com") as chat:
        for user in ("ann@example.com", "bo@example.com"):
            reply = chat.post("/chat", json={"text": "My order never arrived"}, headers={"X-User-Id": user})
            assert reply.status_code == 200
    stored = namespace["transcripts"]
    assert [(m["user_id"], m["role"], m["do_not_train"], m["consent_version"]) for m in stored] == [
        ("ann@example.com", "user", False, "ai-training@2"),
        ("ann@example.com", "assistant", False, "ai-training@2"),
        ("bo@example.com", "user", True, None),
        ("bo@example.com", "assistant", True, None),
    ]
