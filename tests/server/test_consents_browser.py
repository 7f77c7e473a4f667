"""``POST /v1/consents/browser``, the banner's record without a CORS preflight, on SQLite and PostgreSQL.

The browser sends it as a CORS-safelisted request (a ``text/plain`` body, no custom header), so no
preflight checks the page's origin first: the service checks ``Origin`` itself. From a listed origin
(or the service's own) the choices are recorded exactly as ``POST /v1/consents`` records them; from
any other origin, or with no ``Origin``, nothing is stored and the answer says why.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from consentgate.auth.apikeys import create_key
from consentgate.auth.tokens import Keyring
from consentgate.ledger.store import Ledger
from consentgate.policy import Policy, load_policy
from consentgate.server import create_app
from consentgate.service import ConsentService
from consentgate.settings import Settings

from .conftest import ago, assert_error, bearer, hash_of
from .test_cors import FOREIGN, LISTED

pytestmark = pytest.mark.anyio

SERVICE = "https://consent.example.org"  # where the client below sends its requests
PLAIN = {"Content-Type": "text/plain;charset=UTF-8"}  # what fetch() sets for a string body


@dataclass
class Api:
    client: httpx.AsyncClient
    ledger: Ledger
    keyring: Keyring
    policy: Policy
    keys: dict[str, str]

    async def send(self, body: Any, origin: str | None = LISTED, **headers: str) -> httpx.Response:
        """The banner's request: the JSON as a text/plain string, with the page's Origin."""
        sent = {**PLAIN, **({"Origin": origin} if origin is not None else {}), **headers}
        return await self.client.post("/v1/consents/browser", content=json.dumps(body), headers=sent)


@pytest.fixture
async def api(tmp_path: Path, ledger_url: str, example_policy_path: Path) -> AsyncIterator[Api]:
    ledger = Ledger.open(ledger_url)
    try:
        keys = {scope: create_key(ledger.engine, scope, f"test {scope}")[1] for scope in ("collect", "read")}
        policy = load_policy(example_policy_path)
        service = ConsentService(policy, ledger)
        app = create_app(Settings(db=ledger_url, policy=example_policy_path), service=service)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SERVICE) as client:
            yield Api(client, ledger, app.state.consentgate.tokens, policy, keys)
    finally:
        ledger.close()


def choices(api: Api, subject: str, *, bad_second: bool = False) -> dict[str, Any]:
    """What the banner sends on "Accept all" for the AI-training notice's two purposes."""
    notice = api.policy.notice("ai-training")
    assert notice is not None
    version = str(notice.versions[-1].version)
    purposes = list(notice.purposes)[:2]
    out = [
        {"purpose": p, "action": "grant", "notice_id": "ai-training", "notice_version": version,
         "wording_hash": hash_of(api.policy, "ai-training", version)}
        for p in purposes
    ]  # fmt: skip
    if bad_second:
        out[1]["purpose"] = "no_such_purpose"
    return {
        "subject": subject,
        "source": "banner",
        "locale": "en",
        "occurred_at": ago(seconds=5),
        "choices": out,
        "signals": {"banner_choice": "accept_all"},
    }


async def test_a_listed_origin_records_the_choices_and_can_read_the_answer(api: Api) -> None:
    visitor = api.keyring.new_visitor_id()
    body = choices(api, visitor)
    response = await api.send({"key": api.keys["collect"], "submission": body})
    assert response.status_code == 201, response.text
    assert response.headers["Access-Control-Allow-Origin"] == LISTED
    stored = api.ledger.events_of([visitor])
    assert [(e.purpose, e.action.value) for e in stored] == [(c["purpose"], "grant") for c in body["choices"]]
    assert {e.source for e in stored} == {"banner"}
    assert [e["event_id"] for e in response.json()["events"]] == [e.event_id for e in stored]


async def test_the_same_choices_are_stored_as_post_v1_consents_stores_them(api: Api) -> None:
    """One submission, two routes: the stored facts differ only in subject and ids."""
    first, second = api.keyring.new_visitor_id(), api.keyring.new_visitor_id()
    direct = await api.client.post(
        "/v1/consents", json=choices(api, first), headers=bearer(api.keys["collect"])
    )
    assert direct.status_code == 201, direct.text
    browser = await api.send({"key": api.keys["collect"], "submission": choices(api, second)})
    assert browser.status_code == 201, browser.text

    fields = (
        *("purpose", "action", "notice_id", "notice_version", "wording_hash"),
        *("source", "locale", "signals"),
    )

    def facts(subject: str) -> list[tuple[Any, ...]]:
        return [tuple(getattr(e, f) for f in fields) for e in api.ledger.events_of([subject])]

    assert facts(first) == facts(second)
    assert len(facts(first)) == 2


@pytest.mark.parametrize("origin", FOREIGN)
async def test_a_foreign_origin_is_refused_and_nothing_is_stored(api: Api, origin: str) -> None:
    visitor = api.keyring.new_visitor_id()
    response = await api.send({"key": api.keys["collect"], "submission": choices(api, visitor)}, origin)
    error = assert_error(response, 403, "origin_not_allowed")
    assert origin in error["message"]
    assert "web.origins" in error["message"]
    assert [p["at"] for p in error["problems"]] == ["header.Origin"]
    assert "Access-Control-Allow-Origin" not in response.headers
    assert api.ledger.count() == 0


async def test_the_origin_is_checked_before_the_body(api: Api) -> None:
    """A page on another site learns nothing from the answer, not even whether its body was valid."""
    response = await api.send({"key": "not a key", "submission": {"subject": ""}}, "https://evil.example.net")
    assert_error(response, 403, "origin_not_allowed")


async def test_without_an_origin_the_route_refuses_and_names_the_one_to_use(api: Api) -> None:
    visitor = api.keyring.new_visitor_id()
    response = await api.send({"key": api.keys["collect"], "submission": choices(api, visitor)}, origin=None)
    error = assert_error(response, 403, "origin_not_allowed")
    assert "POST /v1/consents" in error["message"]
    assert api.ledger.count() == 0


async def test_a_page_served_by_the_service_itself_may_record(api: Api) -> None:
    visitor = api.keyring.new_visitor_id()
    response = await api.send({"key": api.keys["collect"], "submission": choices(api, visitor)}, SERVICE)
    assert response.status_code == 201, response.text
    assert len(api.ledger.events_of([visitor])) == 2


async def test_one_bad_choice_stores_none_of_them(api: Api) -> None:
    visitor = api.keyring.new_visitor_id()
    body = choices(api, visitor, bad_second=True)
    response = await api.send({"key": api.keys["collect"], "submission": body})
    error = assert_error(response, 422, "invalid_event")
    at = [p["at"] for p in error["problems"]]
    assert "choices[1].purpose" in at
    assert all(a.startswith("choices[1].") for a in at)  # located in the request as sent
    assert api.ledger.count() == 0


async def test_credentials_count_only_from_the_body(api: Api) -> None:
    """Nothing ambient authorises a write: not a key header, not the visitor's cookie."""
    visitor = api.keyring.new_visitor_id()
    api.client.cookies.set("cg_vid", visitor)
    response = await api.send({"submission": choices(api, visitor)}, **bearer(api.keys["collect"]))
    error = assert_error(response, 401, "unauthorized")
    assert "subject_token" in error["message"]
    assert api.ledger.count() == 0


@pytest.mark.parametrize(
    ("credentials", "status", "code"),
    [
        ({"key": "cg_collect_000000000000_unknown"}, 401, "unauthorized"),
        ({"key": "read"}, 403, "forbidden"),  # a read key records nothing, here as on /v1/consents
    ],
)
async def test_a_key_that_may_not_record_is_refused(
    api: Api, credentials: dict[str, str], status: int, code: str
) -> None:
    key = api.keys.get(credentials["key"], credentials["key"])
    visitor = api.keyring.new_visitor_id()
    response = await api.send({"key": key, "submission": choices(api, visitor)})
    assert_error(response, status, code)
    assert api.ledger.count() == 0


async def test_a_subject_token_in_the_body_records_for_its_subject_only(api: Api) -> None:
    token = api.keyring.issue("user-7@example.com")
    mine = await api.send({"subject_token": token, "submission": choices(api, "user-7@example.com")})
    assert mine.status_code == 201, mine.text
    other = await api.send({"subject_token": token, "submission": choices(api, "user-8@example.com")})
    assert_error(other, 403, "forbidden")
    assert api.ledger.count(["user-7@example.com"]) == 2
    assert api.ledger.count(["user-8@example.com"]) == 0


async def test_unknown_fields_beside_the_submission_are_refused(api: Api) -> None:
    visitor = api.keyring.new_visitor_id()
    body = {"key": api.keys["collect"], "submission": choices(api, visitor), "subject": visitor}
    response = await api.send(body)
    assert response.status_code == 422, response.text
    assert api.ledger.count() == 0
