"""`consentgate record` and `POST /v1/consents` accept and refuse exactly the same events, in the same words.

One table of good and bad events goes through both: the CLI in-process (Typer's runner) and the API
in-process (httpx over ASGI), on one ledger, SQLite and PostgreSQL. Before the rules had one home, the
CLI recorded a grant without a notice version that the API refused, and took a dotless "it" region as IT.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from consentgate.auth.apikeys import create_key
from consentgate.cli import app as cli_app
from consentgate.ledger.store import Ledger
from consentgate.policy import Policy
from consentgate.server import create_app
from consentgate.service import ConsentService
from consentgate.settings import Settings

pytestmark = pytest.mark.anyio

AI = "train_support_chatbot"
DOTLESS_IT = "\u0131t"  # upper-cases to "IT"


def _when(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


@dataclass(frozen=True)
class Case:
    """One event as a person would give it to either surface."""

    action: str
    purposes: tuple[str, ...] = ()
    notice_version: str | None = None
    region: str | None = None
    locale: str | None = None
    occurred_at: str | None = None
    source: str | None = None
    subject: str = "parity@example.com"
    expect: frozenset[str] = field(default_factory=frozenset)  # fragments of the refusal; empty = accepted


CASES = {
    "grant with version": Case("grant", (AI,), "2", "DE", "de"),
    "grant under two notices": Case("grant", (AI, "product_analytics"), "1", "fr", "fr", _when(days=-300)),
    "deny without version": Case("deny", (AI,), region="US-CA"),
    "gpc": Case("gpc", region="US-CA"),
    "grant without version": Case("grant", (AI,), region="DE", expect=frozenset({"notice version"})),
    "grant for a purpose without notice": Case("grant", ("security",), "1", expect=frozenset({"no notice"})),
    "unknown version": Case("grant", (AI,), "9", expect=frozenset({"has no version '9'"})),
    "dotless i region": Case("deny", (AI,), region=DOTLESS_IT, expect=frozenset({"ISO 3166"})),
    "country name": Case("deny", (AI,), region="Germany", expect=frozenset({"ISO 3166"})),
    "unknown purpose": Case("deny", ("train_everything",), expect=frozenset({"unknown purpose"})),
    "erase": Case("erase", expect=frozenset({"requests file --kind erase", "POST /v1/requests"})),
    "future": Case("withdraw", (AI,), occurred_at=_when(days=2), expect=frozenset({"in the future"})),
    "no zone": Case("deny", (AI,), occurred_at="2026-05-01T12:00:00", expect=frozenset({"time zone"})),
    "bad locale": Case("deny", (AI,), locale="english!", expect=frozenset({"language tag"})),
    "long locale": Case("deny", (AI,), locale="en-" + "-".join(["abcdefgh"] * 4), expect=frozenset({"tag"})),
    "bad source": Case("deny", (AI,), source="Support Desk", expect=frozenset({"lowercase word"})),
    "blank subject": Case("deny", (AI,), subject="  ", expect=frozenset({"is required"})),
    "control character": Case("deny", (AI,), subject="u\n1", expect=frozenset({"control characters"})),
    "long subject": Case("deny", (AI,), subject="u" * 300, expect=frozenset({"longer than 256"})),
    "two problems": Case(
        "grant", ("train_everything",), region="Germany", expect=frozenset({"unknown purpose", "ISO 3166"})
    ),
}


def cli_args(case: Case) -> list[str]:
    args = ["record", "--subject", case.subject, "--action", case.action, "--json"]
    for p in case.purposes:
        args += ["--purpose", p]
    for flag, value in (
        ("--notice-version", case.notice_version),
        ("--region", case.region),
        ("--locale", case.locale),
        ("--occurred-at", case.occurred_at),
        ("--source", case.source),
    ):
        if value is not None:
            args += [flag, value]
    return args


def api_body(case: Case) -> dict[str, Any]:
    body: dict[str, Any] = {"subject": case.subject}
    for name in ("notice_version", "region", "locale", "occurred_at", "source"):
        if getattr(case, name) is not None:
            body[name] = getattr(case, name)
    if case.action in ("gpc", "erase"):
        body["action"] = case.action
    else:
        body["choices"] = [{"purpose": p, "action": case.action} for p in case.purposes]
    return body


def cli_messages(stderr: str) -> set[str]:
    """``  --region: 'x' is not …`` lines of the CLI's error, without the option names."""
    return {line.strip().split(": ", 1)[1] for line in stderr.splitlines() if line.startswith("  ")}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def policy_file(tmp_path: Path, example_policy_path: Path) -> Path:
    target = tmp_path / "policy.yaml"
    target.write_bytes(example_policy_path.read_bytes())
    return target


@pytest.fixture
async def surfaces(
    ledger_url: str, example_policy: Policy, policy_file: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, str, Ledger]]:
    ledger = Ledger.open(ledger_url)
    service = ConsentService(example_policy, ledger)
    admin = create_key(ledger.engine, "admin", label="parity")[1]
    app = create_app(Settings(db=ledger_url, policy=policy_file), service=service)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client, admin, ledger
    finally:
        ledger.close()


@pytest.mark.parametrize("name", list(CASES))
async def test_cli_and_api_accept_and_refuse_the_same_events_in_the_same_words(
    name: str, surfaces: tuple[httpx.AsyncClient, str, Ledger], ledger_url: str, policy_file: Path
) -> None:
    case = CASES[name]
    client, admin, ledger = surfaces
    before = ledger.count()
    response = await client.post(
        "/v1/consents", json=api_body(case), headers={"Authorization": f"Bearer {admin}"}
    )
    runner = CliRunner(env={"COLUMNS": "240"})
    result = runner.invoke(cli_app, ["--db", ledger_url, "--policy", str(policy_file), *cli_args(case)])

    if not case.expect:
        assert response.status_code == 201, response.text
        assert result.exit_code == 0, result.output
        api_events = response.json()["events"]
        cli_events = json.loads(result.stdout)["events"]
        fields = ("purpose", "action", "notice_id", "notice_version")
        assert [[e[f] for f in fields] for e in cli_events] == [[e[f] for f in fields] for e in api_events]
        stored = {(e.region, e.locale) for e in (ledger.event(x["event_id"]) for x in api_events) if e}
        assert stored == {(e["region"], e["locale"]) for e in cli_events}
        assert ledger.count() == before + 2 * len(api_events)
        return

    assert response.status_code == 422, response.text
    assert result.exit_code == 1, result.output
    api = {p["message"] for p in response.json()["error"]["problems"]}
    cli = cli_messages(result.stderr)
    assert cli == api
    for fragment in case.expect:
        assert any(fragment in m for m in api), (fragment, api)
    assert "None" not in result.stderr
    assert ledger.count() == before
