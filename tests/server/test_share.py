"""Consent shared across a site group's domains (web.share) over HTTP, on SQLite and PostgreSQL:
a hand-off from one domain is redeemed once on another, links the two visitor ids, and the ledger
keeps one choice; expired, altered, replayed and foreign hand-offs are refused with a clear error."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from consentgate.auth import handoff
from consentgate.auth.apikeys import create_key
from consentgate.auth.tokens import Keyring
from consentgate.ledger import schema as t
from consentgate.ledger.store import Ledger
from consentgate.policy import load_policy
from consentgate.server import create_app
from consentgate.service import ConsentService
from consentgate.settings import Settings
from tests.conftest import EXAMPLE_POLICY

from .conftest import ago, assert_error, bearer

pytestmark = pytest.mark.anyio

SECRET = "s" * 16 + "-fictional-share-secret"
A, B = "http://www.example.com", "https://shop.example.net"
DOMAINS = ["example.com", "shop.example.net"]


class Sites:
    def __init__(self, client: httpx.AsyncClient, key: str, service: ConsentService) -> None:
        self.client, self.key, self.service, self.ledger = client, key, service, service.ledger

    async def visitor(self) -> str:
        self.client.cookies.clear()
        r = await self.client.post("/v1/visitors", headers=bearer(self.key))
        return str(r.json()["visitor_id"])

    async def post(self, path: str, origin: str, body: dict[str, Any]) -> httpx.Response:
        return await self.client.post(path, json=body, headers={**bearer(self.key), "Origin": origin})

    async def grant(self, subject: str, origin: str = A) -> None:
        body = {
            "subject": subject,
            "occurred_at": ago(minutes=1),
            "choices": [{"purpose": "marketing", "action": "grant", "notice_version": 1}],
        }
        r = await self.post("/v1/consents", origin, body)
        assert r.status_code == 201, r.text

    async def handoff(self, subject: str, target: str = "shop.example.net") -> httpx.Response:
        return await self.post("/v1/share/handoff", A, {"visitor_id": subject, "target": target})

    async def redeem(self, token: str, subject: str, origin: str = B) -> httpx.Response:
        return await self.post("/v1/share/redeem", origin, {"handoff": token, "visitor_id": subject})


def _policy(tmp_path: Path, share: dict[str, Any] | None) -> Path:
    data: dict[str, Any] = load_policy(EXAMPLE_POLICY).model_dump(mode="json")
    data["web"]["origins"] = [A, B]
    data["web"]["share"] = share
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


async def _sites(tmp_path: Path, ledger_url: str, share: dict[str, Any] | None) -> AsyncIterator[Sites]:
    policy_path = _policy(tmp_path, share)
    ledger = Ledger.open(ledger_url)
    try:
        _, key = create_key(ledger.engine, "collect", "share tests")
        settings = Settings(db=ledger_url, policy=policy_path, token_secret=SECRET)
        service = ConsentService(load_policy(policy_path), ledger)
        transport = httpx.ASGITransport(app=create_app(settings, service=service))
        async with httpx.AsyncClient(transport=transport, base_url="http://consent.example.org") as c:
            yield Sites(c, key, service)
    finally:
        ledger.close()


@pytest.fixture
async def sites(tmp_path: Path, ledger_url: str) -> AsyncIterator[Sites]:
    async for s in _sites(tmp_path, ledger_url, {"domains": DOMAINS}):
        yield s


async def test_a_choice_made_on_one_domain_applies_on_the_other_and_is_stored_once(sites: Sites) -> None:
    first = await sites.visitor()
    await sites.grant(first)
    issued = await sites.handoff(first)
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert (body["source"], body["target"]) == ("example.com", "shop.example.net")
    second = await sites.visitor()
    assert second != first
    redeemed = await sites.redeem(body["handoff"], second)
    assert redeemed.status_code == 200, redeemed.text
    answer = redeemed.json()
    assert answer["purposes"]["marketing"] == {"allowed": True, "chosen": True}
    assert answer["domains"] == DOMAINS
    assert first not in redeemed.text  # the other domain's visitor id is a credential there
    # The second domain's id now decides like the first, from the one choice in the ledger.
    assert sites.service.state(second)["marketing"].allowed
    assert [e.subject for e in sites.ledger.iter_events()] == [first]
    with sites.ledger.engine.connect() as conn:
        links = conn.execute(select(t.aliases.c.alias, t.aliases.c.subject, t.aliases.c.kind)).all()
    assert [tuple(r) for r in links] == [(second, first, "shared_domain")]


async def test_a_replayed_hand_off_is_refused(sites: Sites) -> None:
    first = await sites.visitor()
    await sites.grant(first)
    token = (await sites.handoff(first)).json()["handoff"]
    assert (await sites.redeem(token, await sites.visitor())).status_code == 200
    again = await sites.redeem(token, await sites.visitor())
    assert "already redeemed" in assert_error(again, 409, "conflict")["message"]


async def test_an_expired_hand_off_is_refused(sites: Sites) -> None:
    first = await sites.visitor()
    await sites.grant(first)
    old = handoff.issue(
        Keyring.from_setting(SECRET), first, "example.com", "shop.example.net", 60, now=time.time() - 61
    )
    refused = await sites.redeem(old, await sites.visitor())
    assert "expired" in assert_error(refused, 401, "unauthorized")["message"]


async def test_an_altered_hand_off_is_refused(sites: Sites) -> None:
    other, first = await sites.visitor(), await sites.visitor()
    await sites.grant(first)
    token = (await sites.handoff(first)).json()["handoff"]
    prefix, payload, mac = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = other  # someone else's choices
    forged = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode().rstrip("=")
    refused = await sites.redeem(f"{prefix}.{forged}.{mac}", await sites.visitor())
    assert "signature does not match" in assert_error(refused, 401, "unauthorized")["message"]
    # Signed by another deployment's secret: refused the same way.
    foreign = handoff.issue(Keyring.from_setting("x" * 40), first, "example.com", "shop.example.net", 60)
    assert (await sites.redeem(foreign, await sites.visitor())).status_code == 401


async def test_a_hand_off_is_redeemed_only_on_its_target_domain(sites: Sites) -> None:
    first = await sites.visitor()
    await sites.grant(first)
    token = (await sites.handoff(first)).json()["handoff"]
    refused = await sites.redeem(token, await sites.visitor(), origin=A)  # back on the source domain
    assert "cannot be redeemed on example.com" in assert_error(refused, 401, "unauthorized")["message"]
    outside = await sites.redeem(token, await sites.visitor(), origin="https://www.example.org")
    assert "not on a domain of web.share" in assert_error(outside, 401, "unauthorized")["message"]
    # Neither refusal used it up: the right domain still can.
    assert (await sites.redeem(token, await sites.visitor())).status_code == 200


async def test_hand_offs_go_only_to_the_groups_other_domains_and_only_with_a_choice(sites: Sites) -> None:
    first = await sites.visitor()
    nothing = await sites.handoff(first)
    assert "no choice yet" in assert_error(nothing, 409, "conflict")["message"]
    await sites.grant(first)
    elsewhere = await sites.handoff(first, target="tracker.example.org")
    assert "not another domain of web.share" in assert_error(elsewhere, 401, "unauthorized")["message"]
    itself = await sites.handoff(first, target="www.example.com")
    assert itself.status_code == 401
    invented = await sites.handoff("cgv1.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    assert "not a visitor id this service issued" in assert_error(invented, 401, "unauthorized")["message"]


async def test_without_web_share_everything_answers_404(tmp_path: Path, ledger_url: str) -> None:
    async for sites in _sites(tmp_path, ledger_url, None):
        first = await sites.visitor()
        assert_error(await sites.handoff(first), 404, "not_found")
        assert (await sites.client.get("/share.js")).status_code == 404
        assert (await sites.client.head("/share.js")).status_code == 404


async def test_share_js_is_served_with_the_group_compiled_in(sites: Sites) -> None:
    r = await sites.client.get("/share.js")
    assert r.status_code == 200
    assert json.dumps(DOMAINS) in r.text
    head = await sites.client.head("/share.js")
    assert head.status_code == 200
    assert head.content == b""


async def test_a_browser_whose_cookie_names_another_visitor_gets_no_hand_off(sites: Sites) -> None:
    victim = await sites.visitor()
    await sites.grant(victim)
    await sites.visitor()  # this browser's own cookie now names another visitor id
    refused = await sites.handoff(victim)
    assert "not this browser's visitor id" in assert_error(refused, 401, "unauthorized")["message"]
