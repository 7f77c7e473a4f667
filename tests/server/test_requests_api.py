"""Data-subject requests over HTTP: what the privacy center and an operator's tools send."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from consentgate.auth.tokens import Keyring
from consentgate.ledger.store import Ledger
from consentgate.policy import load_policy
from consentgate.server import create_app
from consentgate.service import ConsentService
from consentgate.settings import Settings

from .conftest import ago, assert_error, bearer, subject_token

pytestmark = pytest.mark.anyio

ANN = "ann@example.com"


@pytest.fixture
def known(service: ConsentService) -> ConsentService:
    service.record(
        [
            (
                "",
                {
                    "subject": ANN,
                    "action": "object",
                    "purposes": ["marketing"],
                    "region": "US",
                    "occurred_at": ago(hours=1),
                },
            )
        ]
    )
    return service


async def test_a_token_holder_objects_to_ai_training_and_it_takes_effect_at_once(
    client: httpx.AsyncClient, keyring: Keyring, known: ConsentService
) -> None:
    assert known.decide(ANN, "finetune_recommender").allowed  # legitimate interest before the objection
    r = await client.post(
        "/v1/requests",
        json={"kind": "object", "subject": ANN, "channel": "privacy_center"},
        headers=subject_token(keyring.issue(ANN)),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "completed"
    assert body["verified_by"] == "subject_token"
    ai = sorted(p.id for p in known.policy.purposes if p.is_ai)
    assert sorted(body["outcome"]["purposes"]) == ai
    assert [s["status"] for s in body["log"]] == ["received", "verified", "in_progress", "completed"]
    assert all(not known.decide(ANN, p).allowed for p in ai)


async def test_erasure_waits_for_an_operator_then_the_token_still_finds_its_request(
    client: httpx.AsyncClient, keyring: Keyring, keys: dict[str, str], known: ConsentService
) -> None:
    token = subject_token(keyring.issue(ANN))
    r = await client.post("/v1/requests", json={"kind": "erase", "subject": ANN}, headers=token)
    assert r.status_code == 201
    rid = r.json()["request_id"]
    assert r.json()["status"] == "verified"
    # A second one while the first is open: 409, naming the first.
    dup = await client.post("/v1/requests", json={"kind": "erase", "subject": ANN}, headers=token)
    clash = assert_error(dup, 409, "conflict")
    assert rid in clash["message"]
    assert clash["problems"][0] == {"at": "request_id", "message": rid}
    # The operator carries it out.
    done = await client.post(f"/v1/requests/{rid}/complete", headers=bearer(keys["admin"]))
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"
    assert done.json()["subject"].startswith("erased:")
    # The person's token still reads their request, and their report shows the erasure.
    mine = await client.get(f"/v1/requests/{rid}", headers=token)
    assert mine.status_code == 200
    assert mine.json()["outcome"]["erase_event"]
    listed = await client.get(f"/v1/subjects/{ANN}/requests", headers=token)
    assert [x["request_id"] for x in listed.json()] == [rid]
    report = await client.get(f"/v1/subjects/{ANN}/report", headers=token)
    assert report.json()["erased"]["event_id"] == done.json()["outcome"]["erase_event"]
    assert known.ledger.verify().ok


async def test_bad_requests_are_refused_clearly(
    client: httpx.AsyncClient, keyring: Keyring, keys: dict[str, str], known: ConsentService
) -> None:
    admin = bearer(keys["admin"])
    unknown = await client.post("/v1/requests", json={"kind": "access", "subject": "nobody"}, headers=admin)
    assert "holds nothing about this subject" in assert_error(unknown, 404, "not_found")["message"]
    wrong = await client.post(
        "/v1/requests",
        json={"kind": "access", "subject": ANN},
        headers=subject_token(keyring.issue("mallory")),
    )
    assert_error(wrong, 403, "forbidden")
    self_verified = await client.post(
        "/v1/requests",
        json={"kind": "erase", "subject": ANN, "verified": False},
        headers=subject_token(keyring.issue(ANN)),
    )
    assert_error(self_verified, 403, "forbidden")
    kind = await client.post("/v1/requests", json={"kind": "forget", "subject": ANN}, headers=admin)
    assert_error(kind, 422, "invalid_request")
    purpose = await client.post(
        "/v1/requests", json={"kind": "object", "subject": ANN, "purposes": ["nope"]}, headers=admin
    )
    assert "unknown purpose" in assert_error(purpose, 422, "invalid_input")["message"]
    missing = await client.get("/v1/requests/req-0123456789abcdef", headers=admin)
    assert_error(missing, 404, "not_found")
    # An operator's unverified request cannot be completed before it is verified.
    r = await client.post(
        "/v1/requests", json={"kind": "erase", "subject": ANN, "verified": False}, headers=admin
    )
    rid = r.json()["request_id"]
    assert r.json()["status"] == "received"
    early = await client.post(f"/v1/requests/{rid}/complete", headers=admin)
    assert "not verified yet" in assert_error(early, 409, "conflict")["message"]
    ok = await client.post(f"/v1/requests/{rid}/verify", json={"method": "call-back"}, headers=admin)
    assert ok.json()["verified_by"] == "call-back"
    assert known.ledger.count() == 1  # nothing but the setup's event was recorded


async def test_the_report_as_a_page_and_the_overdue_list(
    client: httpx.AsyncClient, keyring: Keyring, keys: dict[str, str], known: ConsentService
) -> None:
    page = await client.get(
        f"/v1/subjects/{ANN}/report", params={"format": "html"}, headers=subject_token(keyring.issue(ANN))
    )
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "content-security-policy" in page.headers
    assert "<h1>Your data at Example Support Ltd</h1>" in page.text
    listed = await client.get("/v1/requests", params={"overdue": "true"}, headers=bearer(keys["read"]))
    assert listed.status_code == 200
    assert listed.json() == []


async def test_the_report_is_written_in_the_locale_asked_for_or_the_browsers(
    client: httpx.AsyncClient, keyring: Keyring, known: ConsentService
) -> None:
    url, token = f"/v1/subjects/{ANN}/report", subject_token(keyring.issue(ANN))
    page = await client.get(url, params={"format": "html", "locale": "de-AT"}, headers=token)
    assert page.headers["content-language"] == "de"
    assert '<html lang="de" dir="ltr">' in page.text
    assert "<h1>Ihre Daten bei Example Support Ltd</h1>" in page.text
    # The page's inline style is the only one its CSP admits, by hash; no other inline style or script.
    csp = page.headers["content-security-policy"]
    assert "style-src 'self' 'sha256-" in csp
    assert "unsafe-inline" not in csp
    assert "script-src 'self';" in csp
    farsi = await client.get(
        url, params={"format": "html"}, headers={**token, "Accept-Language": "fa-IR,en;q=0.5"}
    )
    assert '<html lang="fa" dir="rtl">' in farsi.text
    body = await client.get(url, params={"locale": "zh-Hant-HK"}, headers=token)
    assert body.headers["content-language"] == "zh-Hant"
    assert body.json()["locale"] == {"used": "zh-Hant", "requested": "zh-Hant-HK", "fell_back": False}
    missing = await client.get(url, params={"format": "html", "locale": "sw"}, headers=token)
    assert '<html lang="en" dir="ltr">' in missing.text
    assert "not available in the language you asked for (sw)" in missing.text
    bad = await client.get(url, params={"locale": "de<script>"}, headers=token)
    assert_error(bad, 422, "invalid_request")


async def test_an_erasure_that_cannot_reach_a_source_answers_503_and_can_be_retried(
    tmp_path: Path, settings: Settings, example_policy_path: Path
) -> None:
    text = example_policy_path.read_text()
    line = next(x for x in text.splitlines() if x.startswith("  - {id: support-chats"))
    store = ", store: {type: parquet, path: missing-folder, subject_columns: [user_id]}}"
    policy_path = tmp_path / "policy.yaml"
    policy_path.write_text(text.replace(line, line[:-1] + store))
    ledger = Ledger.open(str(tmp_path / "other.db"))
    try:
        service = ConsentService(load_policy(policy_path), ledger)
        service.record(
            [
                (
                    "",
                    {
                        "subject": ANN,
                        "action": "object",
                        "purposes": ["marketing"],
                        "occurred_at": ago(hours=1),
                    },
                )
            ]
        )
        app = create_app(settings.model_copy(update={"policy": policy_path}), service=service)
        from consentgate.auth.apikeys import create_key

        admin = bearer(create_key(ledger.engine, "admin")[1])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            r = await client.post("/v1/requests", json={"kind": "erase", "subject": ANN}, headers=admin)
            rid = r.json()["request_id"]
            failed = await client.post(f"/v1/requests/{rid}/complete", headers=admin)
            body = assert_error(failed, 503, "incomplete")
            assert body["problems"][0]["at"] == "sources.support-chats"
            assert "no such file or directory" in body["problems"][0]["message"]
            assert failed.headers["retry-after"] == "60"
            state = (await client.get(f"/v1/requests/{rid}", headers=admin)).json()
            assert state["status"] == "in_progress"
            assert not service.decide(ANN, "finetune_recommender").allowed  # suppressed already
            (tmp_path / "missing-folder").mkdir()
            again = await client.post(f"/v1/requests/{rid}/complete", headers=admin)
            assert again.json()["status"] == "completed"
    finally:
        ledger.close()
    shutil.rmtree(tmp_path / "missing-folder")
