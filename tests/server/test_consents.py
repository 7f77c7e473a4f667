"""POST /v1/consents and its batch variant: one event per purpose, exact notices, all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from consentgate.ledger.events import Action
from consentgate.policy import Policy
from consentgate.server.errors import MAX_PROBLEMS
from consentgate.service import ConsentService

from .conftest import MAX_BATCH, ago, assert_error, bearer, hash_of

pytestmark = pytest.mark.anyio


def banner_submission(subject: str = "user-1@example.com", **extra: Any) -> dict[str, Any]:
    return {
        "subject": subject,
        "occurred_at": ago(minutes=10),
        "region": "DE",
        "locale": "de",
        "source": "banner",
        "notice_version": 2,
        "choices": [
            {"purpose": "train_support_chatbot", "action": "grant"},
            {"purpose": "finetune_recommender", "allowed": False},
            {"purpose": "product_analytics", "allowed": True, "notice_version": 1},
        ],
        **extra,
    }


async def post(client: httpx.AsyncClient, key: str, body: Any, url: str = "/v1/consents") -> httpx.Response:
    return await client.post(url, json=body, headers=bearer(key))


async def test_one_event_per_purpose_with_notice_version_and_wording_hash(
    client: httpx.AsyncClient,
    keys: dict[str, str],
    service: ConsentService,
    example_policy: Policy,
    visitor: str,
) -> None:
    # The banner's flow: a collect key recording for the visitor id the server issued.
    response = await post(client, keys["collect"], banner_submission(visitor))
    assert response.status_code == 201, response.text
    receipt = response.json()
    stored = service.history(visitor)

    assert [e["purpose"] for e in receipt["events"]] == [
        "train_support_chatbot",
        "finetune_recommender",
        "product_analytics",
    ]
    assert [e.purpose for e in stored] == [e["purpose"] for e in receipt["events"]]
    assert [e.action for e in stored] == [Action.GRANT, Action.DENY, Action.GRANT]
    assert [(e.notice_id, e.notice_version) for e in stored] == [
        ("ai-training", "2"),
        ("ai-training", "2"),
        ("cookies", "1"),  # the choice's own notice_version overrides the top-level one
    ]
    assert [e.wording_hash for e in stored] == [
        hash_of(example_policy, "ai-training", "2", "de"),
        hash_of(example_policy, "ai-training", "2", "de"),
        hash_of(example_policy, "cookies", "1", "de"),
    ]
    assert {e.source for e in stored} == {"banner"}
    assert {e.region for e in stored} == {"DE"}
    for sent, event in zip(receipt["events"], stored, strict=True):
        assert sent == {
            "event_id": event.event_id,
            "seq": event.seq,
            "purpose": event.purpose,
            "action": event.action.value,
            "notice_id": event.notice_id,
            "notice_version": event.notice_version,
            "wording_hash": event.wording_hash,
            "hash": event.hash,
        }
    assert datetime.fromisoformat(receipt["recorded_at"]) == stored[0].recorded_at


async def test_given_wording_hash_is_checked_and_kept(
    client: httpx.AsyncClient, keys: dict[str, str], service: ConsentService, example_policy: Policy
) -> None:
    french = hash_of(example_policy, "ai-training", "1", "fr")
    body = {
        "subject": "user-2@example.com",
        "occurred_at": ago(hours=1),
        "notice_id": "ai-training",
        "notice_version": "1",
        "wording_hash": french,
        "choices": [{"purpose": "train_support_chatbot", "action": "grant"}],
    }
    assert (await post(client, keys["admin"], body)).status_code == 201
    (event,) = service.history("user-2@example.com")
    assert event.wording_hash == french


async def test_occurred_at_keeps_its_zone_and_defaults_to_the_server_clock(
    client: httpx.AsyncClient, keys: dict[str, str], service: ConsentService
) -> None:
    when = (datetime.now(UTC) - timedelta(days=2)).astimezone(UTC).replace(microsecond=0)
    offset = when.astimezone(datetime.fromisoformat("2026-01-01T00:00:00+05:30").tzinfo).isoformat()
    body = {
        "subject": "a@example.com",
        "occurred_at": offset,
        "choices": [{"purpose": "security", "action": "object"}],
    }
    assert (await post(client, keys["admin"], body)).status_code == 201
    (event,) = service.history("a@example.com")
    assert event.occurred_at.isoformat() == offset

    before = datetime.now(UTC)
    body = {"subject": "b@example.com", "choices": [{"purpose": "security", "action": "object"}]}
    assert (await post(client, keys["admin"], body)).status_code == 201
    (event,) = service.history("b@example.com")
    assert before <= event.occurred_at <= datetime.now(UTC)
    assert event.source == "api"


@pytest.mark.parametrize(
    ("body", "action", "signals"),
    [
        ({"subject": "c-1", "region": "US-CA", "action": "gpc"}, Action.GPC, {"gpc": True}),
        ({"subject": "c-1", "action": "gpc", "signals": {"gpc": False}}, Action.GPC, {"gpc": False}),
    ],
    ids=["gpc", "gpc-false"],
)
async def test_subject_level_actions(
    client: httpx.AsyncClient,
    keys: dict[str, str],
    service: ConsentService,
    body: dict[str, Any],
    action: Action,
    signals: dict[str, Any],
) -> None:
    response = await post(client, keys["admin"], body)
    assert response.status_code == 201, response.text
    (sent,) = response.json()["events"]
    assert sent["purpose"] is None
    assert sent["action"] == action.value
    (event,) = service.history("c-1")
    assert (event.action, event.purpose, dict(event.signals)) == (action, None, signals)


@pytest.mark.parametrize("url", ["/v1/consents", "/v1/consents/batch"])
async def test_erase_is_refused_and_points_to_an_erasure_request(
    client: httpx.AsyncClient, keys: dict[str, str], service: ConsentService, url: str
) -> None:
    # It used to answer 201 and only append an event: nothing suppressed, no source touched.
    body: dict[str, Any] = {"subject": "c-1", "region": "DE", "action": "erase"}
    response = await post(
        client, keys["admin"], {"submissions": [body]} if url.endswith("batch") else body, url
    )
    error = assert_error(response, 422, "invalid_event")
    assert "POST /v1/requests" in error["message"]
    assert [p["at"] for p in error["problems"]] == [
        "submissions[0].action" if url.endswith("batch") else "action"
    ]
    assert service.history("c-1") == []


async def test_gpc_from_a_banner_opts_out_where_the_law_says_so(
    client: httpx.AsyncClient, keys: dict[str, str], visitor: str
) -> None:
    sent = await post(
        client,
        keys["collect"],
        {"subject": visitor, "region": "US-CA", "action": "gpc", "occurred_at": ago(minutes=1)},
    )
    assert sent.status_code == 201, sent.text
    answer = await client.get(
        "/v1/decisions",
        params={"subject": visitor, "purpose": "train_support_chatbot"},
        headers=bearer(keys["read"]),
    )
    assert answer.json()["allowed"] is False
    assert answer.json()["basis"] == "opt_out"


UNKNOWN_VERSION = {"notice_version": 9}
BAD_INPUT: list[tuple[str, dict[str, Any], int, str, str]] = [
    (
        "unknown purpose",
        {"choices": [{"purpose": "train_everything", "action": "grant", "notice_version": 1}]},
        422,
        "invalid_event",
        "choices[0].purpose",
    ),
    (
        "unknown notice version",
        {"choices": [{"purpose": "train_support_chatbot", "action": "grant", **UNKNOWN_VERSION}]},
        422,
        "invalid_event",
        "choices[0].notice_version",
    ),
    (
        "unknown notice",
        {"notice_id": "terms", "notice_version": 1, "choices": [{"purpose": "marketing", "action": "grant"}]},
        422,
        "invalid_event",
        "notice_id",
    ),
    (
        "notice does not cover purpose",
        {
            "notice_id": "cookies",
            "notice_version": 1,
            "choices": [{"purpose": "marketing", "action": "grant"}],
        },
        422,
        "invalid_event",
        "notice_id",
    ),
    (
        "wording hash mismatch",
        {
            "notice_version": 2,
            "wording_hash": "0" * 64,
            "choices": [{"purpose": "train_support_chatbot", "action": "grant"}],
        },
        422,
        "invalid_event",
        "wording_hash",
    ),
    (
        "grant without a notice version",
        {"choices": [{"purpose": "marketing", "action": "grant"}]},
        422,
        "invalid_event",
        "choices[0].notice_version",
    ),
    (
        "timestamp without zone",
        {"occurred_at": "2026-05-01T12:00:00", "choices": [{"purpose": "security", "action": "object"}]},
        422,
        "invalid_request",
        "occurred_at",
    ),
    (
        "timestamp not ISO",
        {"occurred_at": "yesterday", "choices": [{"purpose": "security", "action": "object"}]},
        422,
        "invalid_request",
        "occurred_at",
    ),
    (
        "far-future timestamp",
        {
            "occurred_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
            "choices": [
                {"purpose": "security", "action": "object"},
                {"purpose": "marketing", "action": "deny"},
            ],
        },
        422,
        "invalid_event",
        "occurred_at",
    ),
    (
        "bad region",
        {"region": "Germany", "choices": [{"purpose": "security", "action": "object"}]},
        422,
        "invalid_event",
        "region",
    ),
    (
        "bad locale",
        {"locale": "german!", "choices": [{"purpose": "security", "action": "object"}]},
        422,
        "invalid_event",
        "locale",
    ),
    (
        "bad source",
        {"source": "My Banner", "choices": [{"purpose": "security", "action": "object"}]},
        422,
        "invalid_event",
        "source",
    ),
    (
        "unknown action",
        {"choices": [{"purpose": "security", "action": "maybe"}]},
        422,
        "invalid_request",
        "choices[0].action",
    ),
    (
        "action and allowed",
        {"choices": [{"purpose": "security", "action": "object", "allowed": False}]},
        422,
        "invalid_request",
        "choices[0]",
    ),
    ("neither choices nor action", {}, 422, "invalid_request", "body"),
    (
        "choices and action",
        {"action": "erase", "choices": [{"purpose": "security", "action": "object"}]},
        422,
        "invalid_request",
        "body",
    ),
    ("empty choices", {"choices": []}, 422, "invalid_request", "choices"),
    (
        "purpose twice",
        {
            "choices": [
                {"purpose": "security", "action": "object"},
                {"purpose": "security", "action": "grant"},
            ]
        },
        422,
        "invalid_request",
        "body",
    ),
    (
        "misspelt field",
        {"notice_verison": 1, "choices": [{"purpose": "security", "action": "object"}]},
        422,
        "invalid_request",
        "notice_verison",
    ),
    (
        "boolean version",
        {"notice_version": True, "choices": [{"purpose": "marketing", "action": "grant"}]},
        422,
        "invalid_request",
        "notice_version",
    ),
    (
        "signals not an object",
        {"signals": [1], "choices": [{"purpose": "security", "action": "object"}]},
        422,
        "invalid_request",
        "signals",
    ),
    (
        "free-form signals",
        {"signals": {"email": "ann@example.com"}, "choices": [{"purpose": "security", "action": "object"}]},
        422,
        "invalid_request",
        "signals",
    ),
    (
        "consent mode value outside the enumeration",
        {"signals": {"consent_mode": {"ad_storage": "ok"}}, "action": "gpc"},
        422,
        "invalid_request",
        "signals.consent_mode.ad_storage",
    ),
]


@pytest.mark.parametrize(("name", "patch", "status", "code", "at"), BAD_INPUT, ids=[b[0] for b in BAD_INPUT])
async def test_bad_input_says_where_and_stores_nothing(
    client: httpx.AsyncClient,
    keys: dict[str, str],
    service: ConsentService,
    name: str,
    patch: dict[str, Any],
    status: int,
    code: str,
    at: str,
    visitor: str,
) -> None:
    body = {"subject": visitor, **patch}
    error = assert_error(await post(client, keys["collect"], body), status, code)
    assert at in [p["at"] for p in error["problems"]], error
    assert service.ledger.count() == 0


async def test_a_shared_field_is_reported_once_at_the_top_level(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    body = {
        "subject": "u",
        "occurred_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
        "choices": [{"purpose": p, "action": "deny"} for p in ("marketing", "security", "personalisation")],
    }
    error = assert_error(await post(client, keys["admin"], body), 422, "invalid_event")
    assert [p["at"] for p in error["problems"]] == ["occurred_at"]
    assert "future" in error["message"]


async def test_one_bad_choice_rejects_the_whole_submission(
    client: httpx.AsyncClient, keys: dict[str, str], service: ConsentService, visitor: str
) -> None:
    body = banner_submission(visitor)
    body["choices"].append({"purpose": "marketing", "action": "grant", "notice_version": 3})
    error = assert_error(await post(client, keys["collect"], body), 422, "invalid_event")
    assert [p["at"] for p in error["problems"]] == ["choices[3].notice_version"]
    assert service.ledger.count() == 0


async def test_batch_stores_every_submission_and_groups_the_receipt(
    client: httpx.AsyncClient, keys: dict[str, str], service: ConsentService
) -> None:
    submissions = [banner_submission(f"user-{i}@example.com") for i in range(5)]
    submissions.append({"subject": "user-0@example.com", "action": "gpc"})
    response = await post(client, keys["admin"], {"submissions": submissions}, "/v1/consents/batch")
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert receipt["events_recorded"] == 16 == service.ledger.count()
    assert [len(s["events"]) for s in receipt["submissions"]] == [3, 3, 3, 3, 3, 1]
    seqs = [e["seq"] for s in receipt["submissions"] for e in s["events"]]
    assert seqs == list(range(1, 17))
    assert receipt["submissions"][5]["events"][0]["action"] == "gpc"
    assert service.ledger.verify().ok


async def test_batch_is_all_or_nothing(
    client: httpx.AsyncClient, keys: dict[str, str], service: ConsentService
) -> None:
    submissions = [banner_submission(f"user-{i}@example.com") for i in range(5)]
    submissions[3]["choices"][1]["purpose"] = "sell_to_brokers"
    submissions[4]["occurred_at"] = "2026-05-01"
    response = await post(client, keys["admin"], {"submissions": submissions}, "/v1/consents/batch")
    error = assert_error(response, 422, "invalid_request")
    assert [p["at"] for p in error["problems"]] == ["submissions[4].occurred_at"]

    submissions[4]["occurred_at"] = ago(minutes=1)
    response = await post(client, keys["admin"], {"submissions": submissions}, "/v1/consents/batch")
    error = assert_error(response, 422, "invalid_event")
    assert [p["at"] for p in error["problems"]] == ["submissions[3].choices[1].purpose"]
    assert service.ledger.count() == 0


async def test_many_problems_are_counted_but_not_all_listed(
    client: httpx.AsyncClient, keys: dict[str, str], service: ConsentService
) -> None:
    submissions = [
        {"subject": f"u{i}", "choices": [{"purpose": f"p{i}", "action": "deny"}]} for i in range(MAX_BATCH)
    ]
    for extra in range(10):
        submissions[extra]["choices"].append({"purpose": f"q{extra}", "action": "deny"})
    response = await post(client, keys["admin"], {"submissions": submissions}, "/v1/consents/batch")
    error = assert_error(response, 422, "invalid_event")
    assert len(error["problems"]) == MAX_PROBLEMS
    assert f"and {MAX_BATCH + 10 - 1} more problem(s)" in error["message"]
    assert service.ledger.count() == 0


async def test_batch_size_is_limited(
    client: httpx.AsyncClient, keys: dict[str, str], service: ConsentService
) -> None:
    submissions = [{"subject": f"u{i}", "action": "erase"} for i in range(MAX_BATCH + 1)]
    response = await post(client, keys["admin"], {"submissions": submissions}, "/v1/consents/batch")
    error = assert_error(response, 422, "invalid_request")
    assert str(MAX_BATCH) in error["message"]
    assert service.ledger.count() == 0
    empty = await post(client, keys["admin"], {"submissions": []}, "/v1/consents/batch")
    assert_error(empty, 422, "invalid_request")


async def test_text_plain_bodies_are_read_as_json_for_beacons(
    client: httpx.AsyncClient, keys: dict[str, str], service: ConsentService, visitor: str
) -> None:
    body = b'{"subject": "%s", "choices": [{"purpose": "security", "action": "object"}]}' % visitor.encode()
    headers = {**bearer(keys["collect"]), "Content-Type": "text/plain;charset=UTF-8"}
    response = await client.post("/v1/consents", content=body, headers=headers)
    assert response.status_code == 201, response.text
    assert service.ledger.count() == 1
