"""Nothing personal that erasure cannot reach (issue 13): events and links that arrive later under an
erased identifier go to its pseudonym; the person's requests lose their contact data; and afterwards
the database files, SQLite's WAL and the service's logs hold none of the person's identifiers, e-mail
or IP address — on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import select

from consentgate.auth.apikeys import create_key
from consentgate.errors import BadInput
from consentgate.ledger import schema as t
from consentgate.ledger.events import Action, NewEvent
from consentgate.pipeline.snapshot import build_snapshot
from consentgate.requests import RequestDesk, Status
from consentgate.server import create_app
from consentgate.server.logs import JsonFormatter
from consentgate.service import ConsentService
from consentgate.settings import Settings

from .conftest import Invoke, grant, ok

# Distinctive enough to grep bytes for (a short id such as "ann" is inside "channel").
RAW = "subj-7f3a9c41"
COOKIE = "cookie-5e1d2b88"
LATER = "cookie-later-0b9e"
EMAIL = "ann.lee@example.com"
IP = "192.0.2.77"
PHONE = "+49 30 1234567"
SECRETS = (RAW, COOKIE, EMAIL, IP)


@pytest.fixture
def person(desk: RequestDesk) -> RequestDesk:
    """The desk, with RAW known by a grant and a linked cookie id."""
    desk.service.record([grant(RAW), grant(COOKIE, "analytics")])
    desk.service.link(COOKIE, RAW, "cookie_id")
    return desk


def stored_ids(svc: ConsentService) -> set[str]:
    """Every identifier the ledger's tables hold in the clear."""
    with svc.ledger.engine.connect() as conn:
        found = set(conn.execute(select(t.events.c.subject)).scalars())
        found |= set(conn.execute(select(t.aliases.c.alias)).scalars())
        found |= set(conn.execute(select(t.aliases.c.subject)).scalars())
        found |= set(conn.execute(select(t.requests.c.subject)).scalars())
    return found


def erase(desk: RequestDesk, subject: str = RAW, **kw: Any) -> Any:
    return desk.complete(desk.file("erase", subject, verified_by="operator", **kw).request_id)


# -- later events and links under an erased identifier ----------------------------------------------


def test_events_and_links_under_an_erased_id_go_to_its_pseudonym(person: RequestDesk) -> None:
    svc = person.service
    done = erase(person)
    evidence = done.outcome["erase_event"]
    svc.record([grant(RAW), grant(COOKIE, "analytics")])  # an old cookie, a retried upload
    assert svc.link(LATER, RAW, "cookie_id")  # a new cookie, linked to the erased person at login
    assert svc.link("acct-55", COOKIE, "account_id")
    assert not {RAW, COOKIE} & stored_ids(svc)
    key = svc.erasure_key
    with svc.ledger.engine.connect() as conn:
        later = conn.execute(
            select(t.events.c.subject).where(t.events.c.seq > svc.ledger.head()[0] - 2)
        ).scalars()
        assert sorted(later) == sorted([key.pseudonym(RAW), key.pseudonym(COOKIE)])
    for who in (RAW, COOKIE, LATER, "acct-55"):
        for purpose in ("train_chat", "analytics", "tune_ranker"):
            decision = svc.decide(who, purpose)
            assert (decision.allowed, decision.evidence_event) == (False, evidence), (who, purpose)
    for purpose in ("train_chat", "analytics"):
        keys = set(build_snapshot(svc.policy, svc.ledger, purpose).table.column("key").to_pylist())
        assert not {RAW, COOKIE} & keys
        assert key.pseudonym(RAW) in keys
    assert svc.ledger.verify().ok


def test_events_of_people_never_erased_keep_their_ids(person: RequestDesk) -> None:
    erase(person)
    person.service.record([grant("bob"), grant("dan")])
    assert {"bob", "dan"} <= stored_ids(person.service)
    assert person.service.decide("dan", "train_chat").allowed


def test_cli_record_import_and_link_after_erasure_store_no_raw_id(
    person: RequestDesk, cg: Invoke, ledger_url: str
) -> None:
    done = erase(person)
    ok(cg("record", "--subject", RAW, "--action", "grant", "--purpose", "train_chat",
          "--region", "DE", "--notice-version", "1"))  # fmt: skip
    line = {"subject": COOKIE, "action": "deny", "purposes": ["analytics"],
            "occurred_at": "2026-02-01T09:30:00+01:00"}  # fmt: skip
    ok(cg("import-events", "-", input=json.dumps(line) + "\n"))
    ok(cg("link", "--alias", LATER, "--subject", RAW, "--kind", "cookie_id"))
    assert not {RAW, COOKIE} & stored_ids(person.service)
    decision = json.loads(ok(cg("decide", "--subject", LATER, "--purpose", "train_chat", "--json")).stdout)
    assert (decision["allowed"], decision["evidence_event"]) == (False, done.outcome["erase_event"])
    assert ok(cg("ledger", "verify")).exit_code == 0


# -- request texts ----------------------------------------------------------------------------------


def test_request_texts_lose_contact_data_and_ids_when_the_erasure_completes(person: RequestDesk) -> None:
    key = person.service.erasure_key
    access = person.file("access", RAW, verified_by="support ticket 1234", note=f"{RAW} wrote from {EMAIL}")
    person.complete(access.request_id)
    req = person.file("erase", COOKIE, note=f"Ann Lee, {EMAIL}, called from {IP} about {COOKIE}")
    person.verify(req.request_id, method="email link")
    person.extend(req.request_id, reason=f"two copies; she asked us to call {PHONE}")
    done = person.complete(req.request_id)
    assert done.status is Status.COMPLETED
    assert done.outcome["ledger"]["scrubbed_texts"] >= 4
    mine = person.requests_of(RAW)
    assert {r.request_id for r in mine} == {access.request_id, req.request_id}
    text = json.dumps([r.to_json() for r in mine])
    for secret in (*SECRETS, PHONE, "Ann Lee"):
        assert secret not in text
    erase_log = [e.note for e in person.get(req.request_id).log]
    assert erase_log[0] == f"[PERSON], [EMAIL], called from [IP_ADDRESS] about {key.pseudonym(COOKIE)}"
    assert person.get(req.request_id).extension_reason == "two copies; she asked us to call [PHONE]"
    assert person.get(access.request_id).log[0].note == f"{key.pseudonym(RAW)} wrote from [EMAIL]"
    assert person.get(access.request_id).verified_by == "support ticket 1234"  # the method stays


def test_other_peoples_requests_are_not_touched(person: RequestDesk) -> None:
    bob = person.file("access", "bob", verified_by="operator", note=f"bob asked about {EMAIL}")
    erase(person)
    assert person.get(bob.request_id).log[0].note == f"bob asked about {EMAIL}"


def test_a_request_filed_after_erasure_stores_no_contact_data(person: RequestDesk) -> None:
    erase(person)
    later = person.file("erase", RAW, verified_by="operator", note=f"{RAW} again, from {IP}")
    assert later.log[0].note == f"{person.service.erasure_key.pseudonym(RAW)} again, from [IP_ADDRESS]"


@pytest.mark.parametrize("method", [EMAIL, f"called {PHONE}", f"login from {IP}"])
def test_verified_by_names_a_method_never_contact_data(person: RequestDesk, method: str) -> None:
    with pytest.raises(BadInput, match="not the contact data"):
        person.file("access", RAW, verified_by=method)
    assert person.requests_of(RAW) == []
    req = person.file("access", RAW)
    with pytest.raises(BadInput, match="not the contact data"):
        person.verify(req.request_id, method=method)
    assert person.get(req.request_id).status is Status.RECEIVED


# -- the grep test: database files, WAL and logs ----------------------------------------------------


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def api(person: RequestDesk, site: Path, ledger_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process on the desk's ledger, as an admin."""
    svc = person.service
    app = create_app(Settings(db=ledger_url, policy=site / "policy.yaml"), service=svc)
    _, key = create_key(svc.ledger.engine, "admin", "grep test")
    headers = {"Authorization": f"Bearer {key}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers) as c:
        yield c


def found_in(blobs: dict[str, bytes]) -> dict[str, list[str]]:
    """Which of the person's strings each blob still holds."""
    hits = {name: [s for s in SECRETS if s.encode() in blob] for name, blob in blobs.items()}
    return {name: found for name, found in hits.items() if found}


def sqlite_files(ledger_url: str) -> dict[str, bytes]:
    db = Path(ledger_url)
    return {p.name: p.read_bytes() for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()}


def pg_files(request: pytest.FixtureRequest, ledger_url: str) -> dict[str, bytes]:
    """A ``pg_dump`` of the test's schema (what any query, dump or replica can return), and the files of
    its indexes after a CHECKPOINT wrote the shared buffers out.

    Not the tables' own files: PostgreSQL does not zero the space a VACUUM frees in a heap page, so
    an old row's bytes may stay there until the page is reused (docs/security.md says so).
    """
    cluster = request.getfixturevalue("pg_cluster")
    schema = ledger_url.rsplit("%3D", 1)[1]
    out: dict[str, bytes] = {}
    with psycopg.connect(cluster.url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        rows = conn.execute(
            "SELECT c.relname, pg_relation_filepath(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'i'",
            (schema,),
        ).fetchall()
    for name, rel in rows:
        for f in sorted(cluster.data.glob(f"{rel}*")):
            out[f"{name}:{f.name}"] = f.read_bytes()
    dump = subprocess.run(
        [str(cluster.bindir / "pg_dump"), "-n", schema, "--data-only", cluster.url],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    out["pg_dump"] = dump.stdout
    return out


def database_files(request: pytest.FixtureRequest, ledger_url: str) -> dict[str, bytes]:
    if ledger_url.startswith("postgresql"):
        return pg_files(request, ledger_url)
    return sqlite_files(ledger_url)


def test_in_a_large_ledger_the_indexes_let_go_of_the_id_too(
    person: RequestDesk, ledger_url: str, request: pytest.FixtureRequest
) -> None:
    """PostgreSQL 14+ skips index vacuuming when few pages hold dead rows — one person's, among
    tens of thousands of events — which left the raw id in ``ix_events_subject`` (hence
    ``INDEX_CLEANUP ON``); SQLite zeroes what it frees (``secure_delete``)."""
    when = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    crowd = [NewEvent(f"crowd-{i:06d}", Action.DENY, when, purpose="analytics") for i in range(30_000)]
    for i in range(0, len(crowd), 5_000):
        person.service.ledger.append(crowd[i : i + 5_000])
    person.service.record([grant(RAW, when="2026-01-06T10:00:00Z")])
    erase(person)
    assert found_in(database_files(request, ledger_url)) == {}


@pytest.mark.anyio
async def test_after_erasure_no_file_wal_or_log_holds_the_id_email_or_ip(
    api: httpx.AsyncClient,
    person: RequestDesk,
    ledger_url: str,
    request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = api
    caplog.set_level(logging.DEBUG)
    postgres = ledger_url.startswith("postgresql")
    files = partial(database_files, request, ledger_url)
    # The person, over HTTP: a choice from their cookie, an erasure request with a note.
    made = await client.post("/v1/consents", json={
        "subject": COOKIE, "region": "DE", "source": "banner", "notice_version": 1,
        "choices": [{"purpose": "train_chat", "action": "grant"}],
        "signals": {"do_not_train": False, "consent_mode": {"ad_storage": "denied"}},
    })  # fmt: skip
    assert made.status_code == 201, made.text
    filed = await client.post("/v1/requests", json={
        "kind": "erase", "subject": RAW, "note": f"Ann Lee <{EMAIL}> wrote from {IP}; cookie {COOKIE}",
    })  # fmt: skip
    assert filed.status_code == 201, filed.text
    rid = filed.json()["request_id"]
    ext = await client.post(f"/v1/requests/{rid}/extend", json={"reason": f"reply to {EMAIL}"})
    assert ext.status_code == 200, ext.text
    before = found_in(files())
    assert set().union(*before.values()) == set(SECRETS), before  # the grep can find them

    done = await client.post(f"/v1/requests/{rid}/complete")
    assert done.status_code == 200, done.text
    storage = done.json()["outcome"]["storage"]
    # Later, under the raw ids: stored under the pseudonym, answered as usual.
    for who in (RAW, COOKIE):
        late = await client.post("/v1/consents", json={
            "subject": who, "region": "DE", "notice_version": 1,
            "choices": [{"purpose": "train_chat", "action": "grant"}],
        })  # fmt: skip
        assert late.status_code == 201, late.text
    linked = await client.post(f"/v1/subjects/{RAW}/aliases", json={"alias": LATER, "kind": "cookie_id"})
    assert linked.status_code == 201, linked.text
    shown = [
        (await client.get(f"/v1/requests/{rid}")).text,
        (await client.get(f"/v1/subjects/{RAW}/requests")).text,
        (await client.get("/v1/requests")).text,
    ]
    assert all(s not in text for s in SECRETS for text in shown), shown
    assert json.loads(shown[1])[0]["request_id"] == rid  # still found under the raw id
    for who in (RAW, LATER):
        decision = await client.get("/v1/decisions", params={"subject": who, "purpose": "train_chat"})
        assert decision.json()["allowed"] is False

    if not postgres:  # with the pool's connections still open: the erasure emptied the WAL itself
        assert storage["wal"] == "emptied", storage
    assert found_in(files()) == {}
    # Every record the service wrote, at any level; "httpx" is this test's own client, not the service.
    logs = "\n".join(JsonFormatter().format(r) for r in caplog.records if r.name != "httpx")
    assert "consentgate.access" in logs  # the logs were captured
    assert all(s not in logs for s in SECRETS)
