"""``POST /v1/consents/browser`` answered by the hot path (server/hotpath.py) gives the route's answer:
the same status, headers and body (event ids, hashes, sequence numbers and times aside, which differ
between any two records) for plain records, for every refusal, and for failures after the event budget
is spent; and the same facts stored. Both apps share one ledger; each keeps its own event budget.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentgate.auth.apikeys import create_key, revoke_key
from consentgate.errors import TerminalStorageError, TransientStorageError
from consentgate.ledger.store import Ledger
from consentgate.policy import Policy, load_policy
from consentgate.server import create_app
from consentgate.server.hotpath import HotPath
from consentgate.service import ConsentService
from consentgate.settings import Settings

from .conftest import ago, hash_of
from .test_cors import LISTED

pytestmark = pytest.mark.anyio

PATH = "/v1/consents/browser"
SERVICE = "https://consent.example.org"
PLAIN = {"Content-Type": "text/plain;charset=UTF-8"}
# What differs between two records of the same choices (and the request id every answer carries).
_VARYING = ("event_id", "hash", "seq")


@dataclass
class Pair:
    hot: httpx.AsyncClient
    routed: httpx.AsyncClient
    app: FastAPI
    service: ConsentService
    policy: Policy
    keys: dict[str, str]
    answered_here: list[int]

    def visitor(self) -> str:
        return str(self.app.state.consentgate.tokens.new_visitor_id())

    def token(self, subject: str) -> str:
        return str(self.app.state.consentgate.tokens.issue(subject))

    async def both(
        self, body: Any, origin: str | None = LISTED, query: str = "", **headers: str
    ) -> tuple[httpx.Response, httpx.Response]:
        """The same request to both apps; asserts the answers match, returns them."""
        sent = {**PLAIN, **({"Origin": origin} if origin is not None else {}), **headers}
        raw = body if isinstance(body, str) else json.dumps(body)
        hot = await self.hot.post(PATH + query, content=raw, headers=sent)
        routed = await self.routed.post(PATH + query, content=raw, headers=sent)
        assert (hot.status_code, comparable(hot)) == (routed.status_code, comparable(routed))
        for name in ("content-type", "access-control-allow-origin", "retry-after", "vary", "cache-control"):
            assert hot.headers.get(name) == routed.headers.get(name), name
        return hot, routed


def comparable(response: httpx.Response) -> Any:
    """The answer's bytes; for a receipt, its compact JSON in order without what varies per record
    (checked to be exactly the bytes sent, so field order and spacing are compared too)."""
    if response.status_code != 201:
        return response.content
    out = response.json()
    assert response.content == json.dumps(out, separators=(",", ":"), ensure_ascii=False).encode()
    assert out.pop("recorded_at")
    for event in out["events"]:
        for name in _VARYING:
            assert event.pop(name) is not None
    return json.dumps(out)


def _hot(app: FastAPI) -> HotPath:
    layer: Any = app.middleware_stack
    if layer is None:
        layer = app.middleware_stack = app.build_middleware_stack()
    while not isinstance(layer, HotPath):
        layer = layer.app
    return layer


def _apps(settings: Settings, service: ConsentService) -> tuple[FastAPI, FastAPI]:
    hot = create_app(settings, service=service)
    routed = create_app(settings, service=service)
    routed.user_middleware = [m for m in routed.user_middleware if m.cls is not HotPath]
    return hot, routed


@pytest.fixture
async def pair(tmp_path: Path, ledger_url: str, example_policy_path: Path) -> AsyncIterator[Pair]:
    """Both apps on SQLite and on PostgreSQL."""
    ledger = Ledger.open(ledger_url)
    try:
        policy = load_policy(example_policy_path)
        service = ConsentService(policy, ledger)
        async with _pair(Settings(db=ledger_url, policy=example_policy_path), service) as made:
            yield made
    finally:
        if service.committer is not None:
            service.committer.close()
        ledger.close()


@asynccontextmanager
async def _pair(settings: Settings, service: ConsentService) -> AsyncIterator[Pair]:
    """Both apps on ``service``, with keys of each kind and a count of the hot path's answers."""
    engine = service.ledger.engine
    keys = {s: create_key(engine, s, f"test {s}")[1] for s in ("collect", "read", "admin")}
    revoked, keys["revoked"] = create_key(engine, "collect", "test revoked")
    revoke_key(engine, revoked)
    hot_app, routed_app = _apps(settings, service)
    answered: list[int] = []
    layer = _hot(hot_app)
    answer = layer.record.answer

    async def counted(*args: Any) -> Any:
        answered.append(1)
        return await answer(*args)

    layer.record.answer = counted  # type: ignore[method-assign]
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=hot_app), base_url=SERVICE) as hot,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=routed_app), base_url=SERVICE) as routed,
    ):
        yield Pair(hot, routed, hot_app, service, service.policy, keys, answered)


def accept_all(policy: Policy, subject: str, **more: Any) -> dict[str, Any]:
    """What the banner sends on "Accept all": every purpose of the AI-training notice, granted."""
    notice = policy.notice("ai-training")
    assert notice is not None
    version = str(notice.versions[-1].version)
    chosen = [
        {"purpose": p, "action": "grant", "notice_id": "ai-training", "notice_version": version,
         "wording_hash": hash_of(policy, "ai-training", version)}
        for p in notice.purposes
    ]  # fmt: skip
    return {
        "subject": subject,
        "source": "banner",
        "locale": "en",
        "region": "DE",
        "occurred_at": ago(seconds=2),
        "choices": chosen,
        "signals": {"banner_choice": "accept_all", "do_not_train": False},
        **more,
    }


async def test_a_plain_record_is_answered_here_with_the_routes_answer_and_facts(pair: Pair) -> None:
    first, second = pair.visitor(), pair.visitor()
    hot = await pair.hot.post(
        PATH,
        content=json.dumps({"key": pair.keys["collect"], "submission": accept_all(pair.policy, first)}),
        headers={**PLAIN, "Origin": LISTED},
    )
    routed = await pair.routed.post(
        PATH,
        content=json.dumps({"key": pair.keys["collect"], "submission": accept_all(pair.policy, second)}),
        headers={**PLAIN, "Origin": LISTED},
    )
    assert hot.status_code == routed.status_code == 201, hot.text
    assert comparable(hot) == comparable(routed)
    assert pair.answered_here == [1]  # the first by the hot path, the second by the route (no hot path)
    ledger = pair.service.ledger
    mine, theirs = ledger.events_of([first]), ledger.events_of([second])
    assert [e.event_id for e in mine] == [e["event_id"] for e in hot.json()["events"]]
    fields = ("purpose", "action", "notice_id", "notice_version", "wording_hash", "region", "locale")
    fields += ("source", "signals")  # type: ignore[assignment]
    assert [[getattr(e, f) for f in fields] for e in mine] == [
        [getattr(e, f) for f in fields] for e in theirs
    ]
    assert len(mine) >= 1
    assert ledger.verify().ok


async def test_unusual_requests_get_the_routes_answer(pair: Pair) -> None:
    collect = pair.keys["collect"]
    visitor = pair.visitor()
    good = accept_all(pair.policy, visitor)
    first = good["choices"][0]
    cases: list[tuple[Any, dict[str, Any]]] = [
        ({"key": collect, "submission": good}, {"origin": None}),
        ({"key": collect, "submission": good}, {"origin": "https://evil.example.net"}),
        ({"key": collect, "submission": good}, {"query": "?x=1"}),
        ({"submission": good}, {}),
        ({"key": "cg_collect_000000000000_unknown", "submission": good}, {}),
        ({"key": pair.keys["revoked"], "submission": good}, {}),
        ({"key": pair.keys["read"], "submission": good}, {}),
        ({"key": collect, "submission": accept_all(pair.policy, "someone@example.com")}, {}),
        ({"subject_token": pair.token("other@example.com"), "submission": good}, {}),
        ({"key": collect, "subject_token": "not-a-token", "submission": good}, {}),
        ({"key": collect, "submission": good, "extra": 1}, {}),
        ({"key": collect, "submission": {**good, "choices": []}}, {}),
        ({"key": collect, "submission": {**good, "choices": [{**first, "allowed": True}]}}, {}),
        ({"key": collect, "submission": {**good, "choices": [first, first]}}, {}),
        ({"key": collect, "submission": {**good, "action": "gpc"}}, {}),
        ({"key": "", "submission": good}, {}),
        ({"key": collect, "submission": None}, {}),
        ([{"key": collect}], {}),
        ("not json at all", {}),
        ({"key": collect, "submission": {**good, "occurred_at": "2026-05-01 12:00"}}, {}),
        ({"key": collect, "submission": {**good, "region": "D"}}, {}),
        # Refused after the budget is spent: answered here, by the app's handler for the error.
        ({"key": collect, "submission": {**good, "choices": [{**first, "purpose": "no_such_purpose"}]}}, {}),
        ({"key": collect, "submission": {**good, "choices": [{**first, "wording_hash": "0" * 64}]}}, {}),
        ({"key": collect, "submission": {**good, "occurred_at": "2999-01-01T00:00:00Z"}}, {}),
        ({"key": collect, "submission": {**good, "choices": None, "action": "erase"}}, {}),
        ({"key": collect, "submission": {**good, "signals": {"tc_string": "CQ-not-ours"}}}, {}),
    ]
    before = pair.service.ledger.count()
    for body, how in cases:
        hot, _ = await pair.both(body, **how)
        assert hot.status_code >= 400, (body, hot.text)
        assert set(hot.json()) == {"error"}
    assert pair.service.ledger.count() == before
    assert len(pair.answered_here) == 5  # only those past every check that costs nothing


async def test_failures_after_the_budget_is_spent_get_the_routes_answer(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    for error, status in ((TerminalStorageError, 500), (TransientStorageError, 503)):

        def fail(*_: Any, _error: type[Exception] = error, **__: Any) -> Any:
            raise _error("could not append to the ledger: disk is full")

        monkeypatch.setattr(pair.service.ledger, "append", fail)
        body = {"key": pair.keys["collect"], "submission": accept_all(pair.policy, pair.visitor())}
        hot, _ = await pair.both(body)
        assert hot.status_code == status
        assert "disk is full" in hot.json()["error"]["message"]
    assert len(pair.answered_here) == 2


async def test_a_subjects_event_budget_runs_out_the_same_way(
    tmp_path: Path, example_policy_path: Path
) -> None:
    ledger = Ledger.open(str(tmp_path / "ledger.db"))
    service = ConsentService(load_policy(example_policy_path), ledger)
    limited = Settings(
        db=str(tmp_path / "ledger.db"), policy=example_policy_path, events_per_subject_minute=3
    )
    try:
        async with _pair(limited, service) as pair:
            visitor = pair.visitor()
            body = {"key": pair.keys["collect"], "submission": accept_all(pair.policy, visitor)}
            first, _ = await pair.both(body)
            assert first.status_code == 201
            again, _ = await pair.both(body)
            assert again.status_code == 429
            assert again.headers["retry-after"]
            assert len(pair.answered_here) == 2
    finally:
        if service.committer is not None:
            service.committer.close()
        ledger.close()


async def test_a_broken_hot_path_is_caught(pair: Pair) -> None:
    """The comparison is not vacuous: a hot path that answers differently fails it."""
    layer = _hot(pair.app)
    answer = layer.record.answer

    async def wrong(*args: Any) -> Any:
        response = await answer(*args)
        response.status_code = 200
        return response

    layer.record.answer = wrong  # type: ignore[method-assign]
    body = {"key": pair.keys["collect"], "submission": accept_all(pair.policy, pair.visitor())}
    with pytest.raises(AssertionError):
        await pair.both(body)


@pytest.fixture
def sqlite_pair_state(tmp_path: Path, example_policy_path: Path) -> Iterator[tuple[Settings, ConsentService]]:
    ledger = Ledger.open(str(tmp_path / "ledger.db"))
    service = ConsentService(load_policy(example_policy_path), ledger)
    try:
        yield Settings(db=str(tmp_path / "ledger.db"), policy=example_policy_path), service
    finally:
        if service.committer is not None:
            service.committer.close()
        ledger.close()


_PURPOSES = ["train_support_chatbot", "marketing", "analytics", "service_delivery", "nope", ""]
_ACTIONS = ["grant", "deny", "withdraw", "object", "opt_out", "erase", "maybe"]
_VERSIONS = [None, "1", "2", 2, "9", ""]
_REGIONS = [None, "DE", "de", "US-CA", "FR", "ZZ", "D"]
_SIGNALS = [
    None,
    {},
    {"gpc": True},
    {"banner_choice": "accept_all"},
    {"banner_choice": "nope"},
    {"free": "x"},
]
_ABSENT = object()


@st.composite
def _submissions(draw: st.DrawFn) -> dict[str, Any]:
    chosen = []
    for _ in range(draw(st.integers(0, 4))):
        choice: dict[str, Any] = {"purpose": draw(st.sampled_from(_PURPOSES))}
        if draw(st.booleans()):
            choice["action"] = draw(st.sampled_from(_ACTIONS))
        else:
            choice["allowed"] = draw(st.sampled_from([True, False, "yes"]))
        for name, values in (("notice_version", _VERSIONS), ("wording_hash", [None, "ab", "0" * 64])):
            value = draw(st.sampled_from([_ABSENT, *values]))
            if value is not _ABSENT:
                choice[name] = value
        chosen.append(choice)
    out: dict[str, Any] = {"choices": chosen}
    for name, values in (
        ("region", _REGIONS),
        ("signals", _SIGNALS),
        ("locale", [None, "en", "de", "xx-YY-ZZ-1234567890"]),
        ("source", ["banner", "api", "toggle", 3]),
        ("notice_version", _VERSIONS),
        ("occurred_at", [ago(minutes=1), "2026-01-02T00:00:00", "yesterday"]),
    ):
        value = draw(st.sampled_from([_ABSENT, *values]))
        if value is not _ABSENT:
            out[name] = value
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(submission=_submissions(), credential=st.sampled_from(["collect", "admin", "read", "token", "none"]))
async def test_random_records_get_the_routes_answer(
    sqlite_pair_state: tuple[Settings, ConsentService], submission: dict[str, Any], credential: str
) -> None:
    async with _pair(*sqlite_pair_state) as pair:
        subject = pair.visitor()
        body: dict[str, Any] = {"submission": {**submission, "subject": subject}}
        if credential == "token":
            body["subject_token"] = pair.token(subject)
        elif credential != "none":
            body["key"] = pair.keys[credential]
        await pair.both(body)
