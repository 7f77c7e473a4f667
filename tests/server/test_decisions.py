"""Decisions, state, evidence and aliases over HTTP: the service's answers, with the question attached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from consentgate.policy import Policy
from consentgate.service import ConsentService

from .conftest import MAX_BATCH, ago, assert_error, bearer, hash_of, text_of

pytestmark = pytest.mark.anyio


@pytest.fixture
async def recorded(client: httpx.AsyncClient, keys: dict[str, str]) -> dict[str, Any]:
    """user-1 granted AI training (German wording) yesterday and denied marketing an hour ago."""
    body = {
        "submissions": [
            {
                "subject": "user-1@example.com",
                "occurred_at": ago(days=1),
                "region": "DE",
                "locale": "de",
                "notice_version": 2,
                "choices": [{"purpose": "train_support_chatbot", "action": "grant"}],
            },
            {
                "subject": "user-1@example.com",
                "occurred_at": ago(hours=1),
                "choices": [{"purpose": "marketing", "action": "deny"}],
            },
        ]
    }
    response = await client.post("/v1/consents/batch", json=body, headers=bearer(keys["admin"]))
    assert response.status_code == 201, response.text
    return {
        "grant": response.json()["submissions"][0]["events"][0],
        "deny": response.json()["submissions"][1]["events"][0],
    }


async def decide(client: httpx.AsyncClient, key: str, **params: str) -> httpx.Response:
    return await client.get("/v1/decisions", params=params, headers=bearer(key))


async def test_decision_json_has_the_contract_fields_and_the_question(
    client: httpx.AsyncClient, keys: dict[str, str], recorded: dict[str, Any]
) -> None:
    response = await decide(
        client, keys["read"], subject="user-1@example.com", purpose="train_support_chatbot"
    )
    assert response.status_code == 200
    body = response.json()
    contract = {"allowed", "basis", "region", "reason", "evidence_event"}
    assert set(body) == contract | {"ledger_intact", "subject", "purpose", "at"}
    assert body["ledger_intact"] is True
    assert body["allowed"] is True
    assert body["basis"] == "consent"
    assert body["region"] == "EU"
    assert body["evidence_event"] == recorded["grant"]["event_id"]
    assert (body["subject"], body["purpose"]) == ("user-1@example.com", "train_support_chatbot")
    assert abs(datetime.fromisoformat(body["at"]) - datetime.now(UTC)) < timedelta(minutes=1)


async def test_at_looks_back_in_time_and_keeps_its_zone(
    client: httpx.AsyncClient, keys: dict[str, str], recorded: dict[str, Any]
) -> None:
    before = (datetime.now(UTC) - timedelta(days=2)).astimezone(
        datetime.fromisoformat("2026-01-01T00:00-05:00").tzinfo
    )
    response = await decide(
        client,
        keys["admin"],
        subject="user-1@example.com",
        purpose="train_support_chatbot",
        at=before.isoformat(),
    )
    assert response.json()["allowed"] is False
    assert response.json()["evidence_event"] is None
    assert response.json()["at"] == before.isoformat()


async def test_query_region_overrides_the_events_region(
    client: httpx.AsyncClient, keys: dict[str, str], recorded: dict[str, Any]
) -> None:
    response = await decide(
        client, keys["read"], subject="someone-new", purpose="train_support_chatbot", region="US-CA"
    )
    assert (response.json()["allowed"], response.json()["basis"], response.json()["region"]) == (
        True,
        "opt_out",
        "US-OPTOUT",
    )
    by_group = await decide(
        client, keys["read"], subject="someone-new", purpose="train_support_chatbot", region="EU"
    )
    assert by_group.json()["basis"] == "consent"


@pytest.mark.parametrize(
    ("params", "code", "at"),
    [
        ({"purpose": "marketing", "at": "2026-05-01T12:00:00"}, "invalid_request", "at"),
        ({"purpose": "marketing", "at": "1 May 2026"}, "invalid_request", "at"),
        ({"purpose": "marketing", "at": "2026-05-01"}, "invalid_request", "at"),
        ({"purpose": "sell_to_brokers"}, "invalid_query", "purpose"),
        ({"purpose": "marketing", "region": "Narnia"}, "invalid_query", "region"),
        ({"at": ago(hours=1)}, "invalid_request", "purpose"),
    ],
    ids=["no-zone", "not-iso", "date-only", "unknown-purpose", "unknown-region", "no-purpose"],
)
async def test_bad_queries_say_what_to_fix(
    client: httpx.AsyncClient, keys: dict[str, str], params: dict[str, str], code: str, at: str
) -> None:
    error = assert_error(await decide(client, keys["read"], subject="u", **params), 422, code)
    assert [p["at"] for p in error["problems"]] == [at]


async def test_a_zone_less_at_names_the_fix(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    response = await decide(client, keys["read"], subject="u", purpose="marketing", at="2026-05-01T12:00:00")
    assert "add Z or an offset" in response.json()["error"]["message"]


async def test_batch_answers_in_request_order(
    client: httpx.AsyncClient, keys: dict[str, str], recorded: dict[str, Any]
) -> None:
    queries = [
        {"subject": "user-1@example.com", "purpose": "marketing"},
        {"subject": "nobody", "purpose": "train_support_chatbot"},
        {"subject": "user-1@example.com", "purpose": "train_support_chatbot", "at": ago(days=3)},
        {"subject": "user-1@example.com", "purpose": "train_support_chatbot"},
        {"subject": "nobody", "purpose": "service_delivery", "region": "BR"},
    ]
    response = await client.post(
        "/v1/decisions/batch", json={"queries": queries}, headers=bearer(keys["read"])
    )
    assert response.status_code == 200, response.text
    decisions = response.json()["decisions"]
    assert [(d["subject"], d["purpose"]) for d in decisions] == [
        (q["subject"], q["purpose"]) for q in queries
    ]
    assert [d["allowed"] for d in decisions] == [False, False, False, True, True]
    assert decisions[0]["evidence_event"] == recorded["deny"]["event_id"]
    assert decisions[3]["evidence_event"] == recorded["grant"]["event_id"]
    assert datetime.fromisoformat(decisions[2]["at"]) == datetime.fromisoformat(queries[2]["at"])
    single = await decide(client, keys["read"], subject="user-1@example.com", purpose="marketing")
    assert {k: v for k, v in single.json().items() if k != "at"} == {
        k: v for k, v in decisions[0].items() if k != "at"
    }


async def test_batch_locates_bad_queries(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    queries = [{"subject": "u", "purpose": "marketing"}] * 3
    queries[1] = {"subject": "u", "purpose": "nope"}
    response = await client.post(
        "/v1/decisions/batch", json={"queries": queries}, headers=bearer(keys["read"])
    )
    error = assert_error(response, 422, "invalid_query")
    assert [p["at"] for p in error["problems"]] == ["queries[1].purpose"]

    queries[1] = {"subject": "u", "purpose": "marketing", "at": "2026-05-01 12:00"}
    response = await client.post(
        "/v1/decisions/batch", json={"queries": queries}, headers=bearer(keys["read"])
    )
    error = assert_error(response, 422, "invalid_request")
    assert [p["at"] for p in error["problems"]] == ["queries[1].at"]

    too_many = {"queries": [{"subject": "u", "purpose": "marketing"}] * (MAX_BATCH + 1)}
    assert_error(
        await client.post("/v1/decisions/batch", json=too_many, headers=bearer(keys["read"])),
        422,
        "invalid_request",
    )


async def test_state_lists_every_purpose(
    client: httpx.AsyncClient, keys: dict[str, str], recorded: dict[str, Any], example_policy: Policy
) -> None:
    response = await client.get("/v1/subjects/user-1@example.com/state", headers=bearer(keys["read"]))
    assert response.status_code == 200
    body = response.json()
    assert body["subject"] == "user-1@example.com"
    assert body["region"] is None
    assert list(body["purposes"]) == [p.id for p in example_policy.purposes]
    assert body["purposes"]["train_support_chatbot"]["allowed"] is True
    assert body["purposes"]["marketing"]["allowed"] is False
    assert set(body["purposes"]["marketing"]) == {
        "allowed",
        "basis",
        "region",
        "reason",
        "evidence_event",
        "ledger_intact",
    }
    assert body["purposes"]["marketing"]["ledger_intact"] is True

    earlier = await client.get(
        "/v1/subjects/user-1@example.com/state",
        params={"at": ago(days=2), "region": "US"},
        headers=bearer(keys["read"]),
    )
    assert earlier.json()["region"] == "US"
    assert earlier.json()["purposes"]["marketing"]["basis"] == "opt_out"
    assert earlier.json()["purposes"]["marketing"]["allowed"] is True
    bad = await client.get("/v1/subjects/u/state", params={"at": "now"}, headers=bearer(keys["read"]))
    assert_error(bad, 422, "invalid_request")


async def test_evidence_includes_the_exact_wording_and_an_intact_chain(
    client: httpx.AsyncClient, keys: dict[str, str], recorded: dict[str, Any], example_policy: Policy
) -> None:
    response = await client.get("/v1/subjects/user-1@example.com/evidence", headers=bearer(keys["read"]))
    assert response.status_code == 200
    evidence = response.json()
    grant = next(e for e in evidence["events"] if e["event_id"] == recorded["grant"]["event_id"])
    assert grant["privacy_notice"] == {
        "id": "ai-training",
        "version": "2",
        "locale": "de",
        "text": text_of(example_policy, "ai-training", "2", "de"),
        "text_sha256": hash_of(example_policy, "ai-training", "2", "de"),
    }
    assert grant["event_time"].endswith("+00:00")
    assert evidence["chain"]["intact"] is True
    assert evidence["current"]["train_support_chatbot"]["allowed"] is True


async def test_an_unknown_subject_is_said_to_be_unknown_and_nothing_is_called_intact(
    client: httpx.AsyncClient, keys: dict[str, str], recorded: dict[str, Any]
) -> None:
    # It used to answer "intact" for 0 events, as if something had been verified.
    evidence = await client.get("/v1/subjects/nobody@example.com/evidence", headers=bearer(keys["read"]))
    assert evidence.status_code == 200
    body = evidence.json()
    assert body["known"] is False
    assert body["events"] == []
    assert body["chain"]["intact"] is None
    assert body["chain"]["checked_events"] == 0
    state = await client.get("/v1/subjects/nobody@example.com/state", headers=bearer(keys["read"]))
    assert state.json()["known"] is False
    for path in ("/v1/subjects/user-1@example.com/evidence", "/v1/subjects/user-1@example.com/state"):
        assert (await client.get(path, headers=bearer(keys["read"]))).json()["known"] is True


async def _granted_evidence(client: httpx.AsyncClient, keys: dict[str, str], **extra: Any) -> dict[str, Any]:
    """A grant of AI training under notice version 2 for ann@example.com, and the one event's evidence."""
    body = {
        "subject": "ann@example.com",
        "notice_version": 2,
        "choices": [{"purpose": "train_support_chatbot", "action": "grant"}],
        **extra,
    }
    assert (await client.post("/v1/consents", json=body, headers=bearer(keys["admin"]))).status_code == 201
    url = "/v1/subjects/ann@example.com/evidence"
    (event,) = (await client.get(url, headers=bearer(keys["read"]))).json()["events"]
    return dict(event)


async def test_a_grant_without_locale_says_the_language_was_not_recorded(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    event = await _granted_evidence(client, keys)
    assert (event["language"], event["language_recorded"]) == (None, False)
    assert event["privacy_notice"]["note"].startswith("language not recorded")


async def test_a_wording_hash_records_the_language_it_proves(
    client: httpx.AsyncClient, keys: dict[str, str], example_policy: Policy
) -> None:
    event = await _granted_evidence(
        client, keys, wording_hash=hash_of(example_policy, "ai-training", "2", "fr")
    )
    assert (event["language"], event["language_recorded"]) == ("fr", True)
    assert event["privacy_notice"]["locale"] == "fr"
    assert "note" not in event["privacy_notice"]


async def test_a_region_that_only_upper_cases_to_a_code_is_refused(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    dotless = "\u0131t"  # "\u0131t".upper() == "IT"
    params = {"subject": "u", "purpose": "train_support_chatbot", "region": dotless}
    decision = await client.get("/v1/decisions", params=params, headers=bearer(keys["read"]))
    error = assert_error(decision, 422, "invalid_query")
    assert "is not an ISO 3166 code" in error["message"]
    banner = await client.get("/v1/banner/config", params={"region": dotless})
    error = assert_error(banner, 422, "invalid_request")
    assert error["problems"] == [
        {"at": "region", "message": f"{dotless!r} is not an ISO 3166 code such as DE or US-CA"}
    ]


async def test_subject_ids_may_contain_slashes(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    body = {"subject": "tenant/7/user/1", "choices": [{"purpose": "security", "action": "object"}]}
    assert (await client.post("/v1/consents", json=body, headers=bearer(keys["admin"]))).status_code == 201
    for path in ("/v1/subjects/tenant/7/user/1/evidence", "/v1/subjects/tenant%2F7%2Fuser%2F1/evidence"):
        response = await client.get(path, headers=bearer(keys["read"]))
        assert response.json()["pii_principal_id"] == "tenant/7/user/1"
        assert len(response.json()["events"]) == 1


async def test_linking_an_alias_makes_choices_follow_the_person(
    client: httpx.AsyncClient, keys: dict[str, str], recorded: dict[str, Any], service: ConsentService
) -> None:
    url = "/v1/subjects/user-1@example.com/aliases"
    response = await client.post(
        url, json={"alias": "cookie-7f3a", "kind": "cookie_id"}, headers=bearer(keys["admin"])
    )
    assert response.status_code == 201
    assert response.json() == {
        "subject": "user-1@example.com",
        "alias": "cookie-7f3a",
        "kind": "cookie_id",
        "created": True,
    }
    again = await client.post(
        url, json={"alias": "cookie-7f3a", "kind": "cookie_id"}, headers=bearer(keys["admin"])
    )
    assert again.status_code == 200
    assert again.json()["created"] is False

    answer = await decide(client, keys["read"], subject="cookie-7f3a", purpose="train_support_chatbot")
    assert answer.json()["allowed"] is True
    assert answer.json()["evidence_event"] == recorded["grant"]["event_id"]

    taken = await client.post(
        "/v1/subjects/someone-else/aliases", json={"alias": "cookie-7f3a"}, headers=bearer(keys["admin"])
    )
    assert_error(taken, 422, "invalid_input")
    bad_kind = await client.post(url, json={"alias": "x", "kind": "passport"}, headers=bearer(keys["admin"]))
    error = assert_error(bad_kind, 422, "invalid_request")
    assert [p["at"] for p in error["problems"]] == ["kind"]
    assert service.ledger.count() == 2
