"""Signing in to the console: the cookie's flags, CSRF refusals, what an audit key may do, and the
ways a session ends (sign-out, a revoked key, expiry, tampering)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from consentgate.auth.apikeys import Scope, authenticate, create_key, revoke_key
from consentgate.ledger.store import Ledger
from consentgate.server import create_app
from consentgate.service import ConsentService
from consentgate.settings import Settings
from tests.console.conftest import ORIGIN, csrf_of, sign_in
from tests.support.servers import run_cli

PAGES = ("/console", "/console/ledger", "/console/requests", "/console/website", "/console/data-map",
         "/console/risk")  # fmt: skip


def _set_cookie(client: TestClient, key: str) -> str:
    response = client.post(
        "/console/sign-in", data={"key": key}, headers={"Origin": ORIGIN}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/console"
    return response.headers["set-cookie"]


def test_the_session_cookie_is_httponly_strict_scoped_and_expiring(
    console_client: TestClient, console_keys: dict[str, str]
) -> None:
    header = _set_cookie(console_client, console_keys["audit"])
    attributes = [a.strip().lower() for a in header.split(";")]
    assert attributes[0].startswith("cg_console=")
    assert "httponly" in attributes
    assert "samesite=strict" in attributes
    assert "path=/console" in attributes
    max_age = next(a for a in attributes if a.startswith("max-age="))
    assert 0 < int(max_age.split("=")[1]) <= 24 * 3600
    assert "secure" not in attributes  # plain http: a Secure cookie would never come back
    # The cookie names the key by id: the key itself is in no header.
    assert console_keys["audit"] not in header


def test_over_https_the_cookie_is_secure(console_service: ConsentService, console_client: TestClient,
                                         console_keys: dict[str, str]) -> None:  # fmt: skip
    https = TestClient(console_client.app, base_url="https://testserver")
    response = https.post("/console/sign-in", data={"key": console_keys["admin"]},
                          headers={"Origin": "https://testserver"}, follow_redirects=False)  # fmt: skip
    assert response.status_code == 303
    assert "secure" in [a.strip().lower() for a in response.headers["set-cookie"].split(";")]


def test_every_page_needs_a_session(console_client: TestClient) -> None:
    for path in PAGES:
        response = console_client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/console/sign-in"


@pytest.mark.parametrize("scope", ["admin", "audit"])
def test_admin_and_audit_keys_open_every_page(
    console_client: TestClient, console_keys: dict[str, str], scope: str
) -> None:
    sign_in(console_client, console_keys[scope])
    for path in PAGES:
        response = console_client.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store"
        assert "script-src 'self';" in response.headers["content-security-policy"]
        assert f"Signed in with {scope} key" in response.text


@pytest.mark.parametrize("scope", ["collect", "read"])
def test_other_keys_and_unknown_keys_cannot_sign_in(
    console_client: TestClient, console_keys: dict[str, str], scope: str
) -> None:
    for key in (console_keys[scope], "cg_admin_000000000000_made-up"):
        response = console_client.post("/console/sign-in", data={"key": key}, headers={"Origin": ORIGIN})
        assert response.status_code == 401
        assert "not an admin or audit key" in response.text
        assert console_client.cookies.get("cg_console") is None


def test_sign_in_from_another_origin_is_refused(
    console_client: TestClient, console_keys: dict[str, str]
) -> None:
    for headers in ({"Origin": "https://attacker.example.com"}, {}):
        response = console_client.post(
            "/console/sign-in", data={"key": console_keys["admin"]}, headers=headers
        )
        assert response.status_code == 403
        assert console_client.cookies.get("cg_console") is None


def test_posts_need_the_sessions_csrf_token_and_this_origin(
    console_client: TestClient, console_keys: dict[str, str]
) -> None:
    sign_in(console_client, console_keys["audit"])
    token = csrf_of(console_client.get("/console/ledger").text)
    lookup = {"subject": "ana@example.com"}
    refused = [
        ({**lookup}, {"Origin": ORIGIN}),  # no token
        ({**lookup, "csrf": token[:-2] + "xx"}, {"Origin": ORIGIN}),  # a wrong token
        ({**lookup, "csrf": token}, {"Origin": "https://attacker.example.com"}),  # another site
        ({**lookup, "csrf": token}, {}),  # no Origin
    ]
    for form, headers in refused:
        response = console_client.post("/console/ledger", data=form, headers=headers)
        assert response.status_code == 403, (form, headers)
        assert "ana@example.com" not in response.text
    answer = console_client.post(
        "/console/ledger", data={**lookup, "csrf": token}, headers={"Origin": ORIGIN}
    )
    assert answer.status_code == 200
    assert "ana@example.com" in answer.text
    # Sign-out is a POST like any other: without the token the session lives on.
    assert console_client.post("/console/sign-out", headers={"Origin": ORIGIN}).status_code == 403
    assert console_client.get("/console", follow_redirects=False).status_code == 200


def test_a_token_is_bound_to_its_session(console_client: TestClient, console_keys: dict[str, str]) -> None:
    sign_in(console_client, console_keys["audit"])
    other_token = csrf_of(console_client.get("/console/ledger").text)
    sign_in(console_client, console_keys["admin"])  # a new session replaces the cookie
    response = console_client.post(
        "/console/ledger",
        data={"subject": "ana@example.com", "csrf": other_token},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 403


def test_sign_out_ends_the_session_even_for_a_copy_of_the_cookie(
    console_client: TestClient, console_keys: dict[str, str]
) -> None:
    cookie = sign_in(console_client, console_keys["audit"])
    token = csrf_of(console_client.get("/console").text)
    response = console_client.post("/console/sign-out", data={"csrf": token}, headers={"Origin": ORIGIN},
                                   follow_redirects=False)  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"] == "/console/sign-in"
    assert console_client.cookies.get("cg_console") is None
    console_client.cookies.set("cg_console", cookie, path="/console")
    assert console_client.get("/console", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session_in_every_process_on_the_database(
    console_service: ConsentService,
    console_client: TestClient,
    console_keys: dict[str, str],
    tmp_path: Path,
    example_policy_path: Path,
) -> None:
    """A second service on the same database (another worker, another machine) has its own memory:
    the sign-out reaches it through the database, so a copy of the cookie is refused there too."""
    cookie = sign_in(console_client, console_keys["admin"])
    ledger = Ledger.open(str(tmp_path / "ledger.db"))
    settings = Settings(db=str(tmp_path / "ledger.db"), policy=example_policy_path)
    other_service = ConsentService(console_service.policy, ledger)
    try:
        with TestClient(create_app(settings, service=other_service), base_url=ORIGIN) as other:
            other.cookies.set("cg_console", cookie, path="/console")
            assert (
                other.get("/console", follow_redirects=False).status_code == 200
            )  # one session, two processes
            token = csrf_of(console_client.get("/console").text)
            signed_out = console_client.post(
                "/console/sign-out", data={"csrf": token}, headers={"Origin": ORIGIN}, follow_redirects=False
            )
            assert signed_out.status_code == 303
            assert other.get("/console", follow_redirects=False).status_code == 303
    finally:
        ledger.close()


def test_revoking_the_key_ends_its_sessions(
    console_client: TestClient, console_service: ConsentService
) -> None:
    key_id, key = create_key(console_service.ledger.engine, "admin", "revoked soon")
    sign_in(console_client, key)
    assert console_client.get("/console/risk", follow_redirects=False).status_code == 200
    revoke_key(console_service.ledger.engine, key_id)
    response = console_client.get("/console/risk", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/sign-in"


def test_a_tampered_or_forged_cookie_is_no_session(
    console_client: TestClient, console_keys: dict[str, str], console_service: ConsentService
) -> None:
    cookie = sign_in(console_client, console_keys["audit"])
    payload, signature = cookie.split(".")
    # An edited payload (say, another key's id) under the old signature, a reversed signature,
    # nothing, and something that is not a session at all.
    forged = [payload[:-4] + "AAAA." + signature, payload + "." + signature[::-1], "", "x.y.z"]
    for value in forged:
        console_client.cookies.clear()
        console_client.cookies.set("cg_console", value, path="/console")
        assert console_client.get("/console", follow_redirects=False).status_code == 303, value


def test_an_expired_session_ends(console_client: TestClient, console_keys: dict[str, str]) -> None:
    sign_in(console_client, console_keys["audit"])
    sessions = console_client.app.state.console.sessions  # type: ignore[attr-defined]
    real_clock = sessions.clock
    try:
        sessions.clock = lambda: real_clock() + 9 * 3600
        assert console_client.get("/console", follow_redirects=False).status_code == 303
    finally:
        sessions.clock = real_clock


def test_sign_in_attempts_are_rate_limited(console_client: TestClient) -> None:
    statuses = [
        console_client.post(
            "/console/sign-in", data={"key": f"guess-{i}"}, headers={"Origin": ORIGIN}
        ).status_code
        for i in range(7)
    ]
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429, 429]


def test_an_audit_key_reads_reports_and_writes_nothing(
    console_client: TestClient, console_keys: dict[str, str]
) -> None:
    auth = {"Authorization": f"Bearer {console_keys['audit']}"}
    for report in ("overview", "ledger", "requests", "website", "data-map", "risk"):
        assert console_client.get(f"/v1/reports/{report}", headers=auth).status_code == 200, report
    event = {"subject": "zed@example.com", "action": "deny", "purposes": ["marketing"], "region": "DE"}
    writes = [
        ("POST", "/v1/consents", event),
        ("POST", "/v1/requests", {"kind": "access", "subject": "zed@example.com"}),
        ("POST", "/v1/tokens", {"subject": "zed@example.com"}),
        ("POST", "/v1/visitors", None),
        ("POST", "/v1/subjects/ana@example.com/aliases", {"alias": "cookie-1", "kind": "cookie"}),
    ]
    for method, path, body in writes:
        response = console_client.request(method, path, json=body, headers=auth)
        assert response.status_code == 403, (path, response.text)
    # Nor does it read one person's data through the API: that is the read scope's.
    reads = [
        "/v1/subjects/ana@example.com/evidence",
        f"/v1/decisions?subject=ana@example.com&purpose={'marketing'}",
    ]
    for path in reads:
        assert console_client.get(path, headers=auth).status_code == 403, path


@pytest.mark.parametrize("scope", ["collect", "read"])
def test_reports_need_an_admin_or_audit_key(
    console_client: TestClient, console_keys: dict[str, str], scope: str
) -> None:
    assert console_client.get("/v1/reports/risk").status_code == 401
    response = console_client.get(
        "/v1/reports/risk", headers={"Authorization": f"Bearer {console_keys[scope]}"}
    )
    assert response.status_code == 403
    assert "admin or audit" in response.json()["error"]["message"]


def test_the_key_is_never_in_a_url_or_a_log_line(
    console_client: TestClient, console_keys: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    key = console_keys["admin"]
    with caplog.at_level(logging.DEBUG):
        first = console_client.post("/console/sign-in", data={"key": key}, headers={"Origin": ORIGIN})
        token = csrf_of(first.text)
        console_client.post("/console/ledger", data={"subject": "ana@example.com", "csrf": token},
                            headers={"Origin": ORIGIN})  # fmt: skip
        console_client.post("/console/sign-out", data={"csrf": token}, headers={"Origin": ORIGIN})
        console_client.post("/console/sign-in", data={"key": key + "x"}, headers={"Origin": ORIGIN})
    assert caplog.records, "the access log wrote nothing: this test would prove nothing"
    for record in caplog.records:
        line = record.getMessage() + repr(record.__dict__)
        assert key not in line
        assert "ana@example.com" not in line  # looked up by POST: the identifier stays out of logs too
    for response in first.history:
        assert key not in str(response.url)
        assert key not in response.headers.get("location", "")
    assert key not in str(first.url)
    # The sign-in form posts: the page never puts a key in a GET form.
    page = console_client.get("/console/sign-in").text
    assert 'method="post" action="/console/sign-in"' in page
    assert 'type="password"' in page


def test_keys_create_makes_an_audit_key_that_signs_in(
    console_client: TestClient, console_service: ConsentService, example_policy_path: Path
) -> None:
    done = run_cli(
        console_service.ledger.url, example_policy_path, "keys", "create", "--scope", "audit", "--json"
    )
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)
    assert created["scope"] == "audit"
    assert authenticate(console_service.ledger.engine, created["key"]) is Scope.AUDIT
    sign_in(console_client, created["key"])
    assert console_client.get("/console/risk", follow_redirects=False).status_code == 200


def test_the_audit_pack_downloads_from_the_console_and_the_api(
    console_client: TestClient, console_keys: dict[str, str], console_service: ConsentService
) -> None:
    assert console_client.get("/console/audit-pack", follow_redirects=False).status_code == 303
    sign_in(console_client, console_keys["audit"])
    assert 'href="/console/audit-pack"' in console_client.get("/console").text
    head_hash = console_service.ledger.head()[1]
    for response in (
        console_client.get("/console/audit-pack"),
        console_client.get(
            "/v1/reports/audit-pack", headers={"Authorization": f"Bearer {console_keys['audit']}"}
        ),
    ):
        assert response.status_code == 200
        assert response.headers["content-disposition"].startswith('attachment; filename="audit-pack-')
        assert "Consent audit pack: Example Support Ltd" in response.text
        assert head_hash in response.text
