"""The authorization matrix: every action against every kind of credential, one cell per test.

MATRIX below is the single table; ``test_cell`` runs each cell against the app, and
``test_the_documented_matrix_is_the_tested_one`` reads the table in docs/security.md and requires it
to be this one, so the documentation cannot drift from what the server does.
"""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from consentgate.auth.tokens import Keyring
from consentgate.requests import RequestDesk
from consentgate.service import ConsentService

from .conftest import ago, assert_error, bearer, subject_token

pytestmark = pytest.mark.anyio

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"
SUBJECT = "user-1@example.com"
OTHER = "user-2@example.com"

CREDENTIALS = (
    "none",
    "collect",
    "collect + matching token",
    "collect + other subject's token",
    "collect + expired token",
    "collect + tampered token",
    "token alone",
    "read",
    "admin",
    "audit",
    "revoked key",
)
#                                         none col  +tok +oth +exp +tmp tok  read adm  aud  rev
MATRIX: dict[tuple[str, str], tuple[int, ...]] = {
    ("submit a choice for a visitor id", "POST /v1/consents"):
                                          (401, 201, 201, 201, 401, 401, 201, 403, 201, 403, 401),
    ("submit a choice for another subject", "POST /v1/consents"):
                                          (401, 403, 201, 403, 401, 401, 201, 403, 201, 403, 401),
    ("submit a batch for another subject", "POST /v1/consents/batch"):
                                          (401, 403, 201, 403, 401, 401, 201, 403, 201, 403, 401),
    ("withdraw", "POST /v1/consents"):
                                          (401, 403, 201, 403, 401, 401, 201, 403, 201, 403, 401),
    ("read state", "GET /v1/subjects/{subject}/state"):
                                          (401, 403, 200, 403, 401, 401, 200, 200, 200, 403, 401),
    ("read evidence", "GET /v1/subjects/{subject}/evidence"):
                                          (401, 403, 200, 403, 401, 401, 200, 200, 200, 403, 401),
    ("decide", "GET /v1/decisions"):
                                          (401, 403, 200, 403, 401, 401, 200, 200, 200, 403, 401),
    ("decide a batch", "POST /v1/decisions/batch"):
                                          (401, 403, 200, 403, 401, 401, 200, 200, 200, 403, 401),
    ("link an alias", "POST /v1/subjects/{subject}/aliases"):
                                          (401, 403, 403, 403, 401, 401, 403, 403, 201, 403, 401),
    ("issue a subject token", "POST /v1/tokens"):
                                          (401, 403, 403, 403, 401, 401, 403, 403, 201, 403, 401),
    ("issue a visitor id", "POST /v1/visitors"):
                                          (401, 201, 201, 201, 401, 401, 403, 403, 201, 403, 401),
    ("health", "GET /healthz"):
                                          (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("banner configuration", "GET /v1/banner/config"):
                                          (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("OpenAPI document", "GET /openapi.json"):
                                          (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("cookie declaration", "GET /v1/declaration"):
                                          (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    # public, the same for every credential; 404 here because the example policy leaves web.tcf off
    # (tests/tcf checks the 200s with it on)
    ("TCF vendor list", "GET /v1/tcf/gvl"):
                                          (404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    ("TCF string", "POST /v1/tcf/tc-string"):
                                          (404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    ("TCF layers", "GET /v1/tcf/ui"):
                                          (404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    # the banner's calls (collect key); 404 here because the example policy leaves web.share off
    # (tests/server/test_share.py checks them with it on)
    ("hand a choice to another domain", "POST /v1/share/handoff"):
                                          (401, 404, 404, 404, 401, 401, 403, 403, 404, 403, 401),
    ("redeem a hand-off", "POST /v1/share/redeem"):
                                          (401, 404, 404, 404, 401, 401, 403, 403, 404, 403, 401),
    ("file a data-subject request", "POST /v1/requests"):
                                          (401, 403, 201, 403, 401, 401, 201, 403, 201, 403, 401),
    ("list requests", "GET /v1/requests"):
                                          (401, 403, 403, 403, 401, 401, 403, 200, 200, 403, 401),
    ("read a request", "GET /v1/requests/{request_id}"):
                                          (401, 403, 200, 403, 401, 401, 200, 200, 200, 403, 401),
    ("read a person's requests", "GET /v1/subjects/{subject}/requests"):
                                          (401, 403, 200, 403, 401, 401, 200, 200, 200, 403, 401),
    ("read the access report", "GET /v1/subjects/{subject}/report"):
                                          (401, 403, 200, 403, 401, 401, 200, 200, 200, 403, 401),
    ("verify a request", "POST /v1/requests/{request_id}/verify"):
                                          (401, 403, 403, 403, 401, 401, 403, 403, 200, 403, 401),
    ("extend a request", "POST /v1/requests/{request_id}/extend"):
                                          (401, 403, 403, 403, 401, 401, 403, 403, 200, 403, 401),
    ("reject a request", "POST /v1/requests/{request_id}/reject"):
                                          (401, 403, 403, 403, 401, 401, 403, 403, 200, 403, 401),
    ("complete a request", "POST /v1/requests/{request_id}/complete"):
                                          (401, 403, 403, 403, 401, 401, 403, 403, 200, 403, 401),
    ("report: consent rates overview", "GET /v1/reports/overview"):
                                          (401, 403, 403, 403, 401, 401, 403, 403, 200, 200, 401),
    ("report: ledger", "GET /v1/reports/ledger"):
                                          (401, 403, 403, 403, 401, 401, 403, 403, 200, 200, 401),
    ("report: request queue", "GET /v1/reports/requests"):
                                          (401, 403, 403, 403, 401, 401, 403, 403, 200, 200, 401),
    ("report: website", "GET /v1/reports/website"):
                                          (401, 403, 403, 403, 401, 401, 403, 403, 200, 200, 401),
    ("report: data map", "GET /v1/reports/data-map"):
                                          (401, 403, 403, 403, 401, 401, 403, 403, 200, 200, 401),
    ("report: risk", "GET /v1/reports/risk"):
                                          (401, 403, 403, 403, 401, 401, 403, 403, 200, 200, 401),
    ("report: audit pack", "GET /v1/reports/audit-pack"):
                                          (401, 403, 403, 403, 401, 401, 403, 403, 200, 200, 401),
}  # fmt: skip
CELLS = [
    (action, endpoint, credential, statuses[i])
    for (action, endpoint), statuses in MATRIX.items()
    for i, credential in enumerate(CREDENTIALS)
]
REPORT_PATHS = {
    action: endpoint.rsplit("/", 1)[1] for action, endpoint in MATRIX if action.startswith("report: ")
}
WRITES = {"POST /v1/consents", "POST /v1/consents/batch"}


def _grant(subject: str) -> dict[str, Any]:
    return {
        "subject": subject,
        "occurred_at": ago(minutes=5),
        "choices": [{"purpose": "marketing", "action": "grant", "notice_version": 1}],
    }


def request_for(action: str, subject: str, request_id: str = "") -> tuple[str, str, dict[str, Any]]:
    """``(method, url, httpx keyword arguments)`` performing ``action`` on ``subject`` (and on the
    data-subject request ``request_id``, for the actions on one request)."""
    if action in ("submit a choice for a visitor id", "submit a choice for another subject"):
        return "POST", "/v1/consents", {"json": _grant(subject)}
    if action == "submit a batch for another subject":
        withdrawal = {"subject": subject, "choices": [{"purpose": "security", "action": "object"}]}
        return "POST", "/v1/consents/batch", {"json": {"submissions": [_grant(subject), withdrawal]}}
    if action == "withdraw":
        body = {"subject": subject, "choices": [{"purpose": "marketing", "action": "withdraw"}]}
        return "POST", "/v1/consents", {"json": body}
    if action == "read state":
        return "GET", f"/v1/subjects/{subject}/state", {}
    if action == "read evidence":
        return "GET", f"/v1/subjects/{subject}/evidence", {}
    if action == "decide":
        return "GET", "/v1/decisions", {"params": {"subject": subject, "purpose": "marketing"}}
    if action == "decide a batch":
        queries = [{"subject": subject, "purpose": p} for p in ("marketing", "security")]
        return "POST", "/v1/decisions/batch", {"json": {"queries": queries}}
    if action == "link an alias":
        return "POST", f"/v1/subjects/{subject}/aliases", {"json": {"alias": "cookie-7f3a"}}
    if action == "issue a subject token":
        return "POST", "/v1/tokens", {"json": {"subject": subject, "ttl_seconds": 600}}
    if action == "issue a visitor id":
        return "POST", "/v1/visitors", {}
    if action == "health":
        return "GET", "/healthz", {}
    if action == "banner configuration":
        return "GET", "/v1/banner/config", {"params": {"region": "DE"}}
    if action == "OpenAPI document":
        return "GET", "/openapi.json", {}
    if action == "cookie declaration":
        return "GET", "/v1/declaration", {}
    if action == "TCF vendor list":
        return "GET", "/v1/tcf/gvl", {}
    if action == "TCF string":
        return "POST", "/v1/tcf/tc-string", {"json": {"purpose_consents": [1]}}
    if action == "TCF layers":
        return "GET", "/v1/tcf/ui", {"params": {"locale": "de"}}
    if action == "hand a choice to another domain":
        return "POST", "/v1/share/handoff", {"json": {"visitor_id": subject, "target": "shop.example.net"}}
    if action == "redeem a hand-off":
        return "POST", "/v1/share/redeem", {"json": {"handoff": "cgh1.e30.AA", "visitor_id": subject}}
    if action == "file a data-subject request":
        return "POST", "/v1/requests", {"json": {"kind": "erase", "subject": subject}}
    if action == "list requests":
        return "GET", "/v1/requests", {}
    if action == "read a request":
        return "GET", f"/v1/requests/{request_id}", {}
    if action == "read a person's requests":
        return "GET", f"/v1/subjects/{subject}/requests", {}
    if action == "read the access report":
        return "GET", f"/v1/subjects/{subject}/report", {}
    if action == "verify a request":
        return "POST", f"/v1/requests/{request_id}/verify", {"json": {"method": "email link"}}
    if action in ("extend a request", "reject a request"):
        verb = action.split()[0]
        return "POST", f"/v1/requests/{request_id}/{verb}", {"json": {"reason": "complex request"}}
    if action.startswith("report: "):
        return "GET", "/v1/reports/" + REPORT_PATHS[action], {}
    if action == "complete a request":
        return "POST", f"/v1/requests/{request_id}/complete", {}
    raise AssertionError(f"no request for {action!r}")


def tampered(token: str) -> str:
    """The same token with its expiry pushed a day later, the signature left as it was."""
    prefix, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["exp"] += 86_400
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{prefix}.{forged}.{signature}"


def headers_for(credential: str, subject: str, keys: dict[str, str], keyring: Keyring) -> dict[str, str]:
    collect = bearer(keys["collect"])
    match credential:
        case "none":
            return {}
        case "collect":
            return collect
        case "collect + matching token":
            return {**collect, **subject_token(keyring.issue(subject))}
        case "collect + other subject's token":
            return {**collect, **subject_token(keyring.issue(OTHER))}
        case "collect + expired token":
            stale = keyring.issue(subject, ttl=600, now=time.time() - 3600)
            return {**collect, **subject_token(stale)}
        case "collect + tampered token":
            return {**collect, **subject_token(tampered(keyring.issue(subject)))}
        case "token alone":
            return subject_token(keyring.issue(subject))
        case "read" | "admin" | "audit":
            return bearer(keys[credential])
        case "revoked key":
            return bearer(keys["revoked"])
    raise AssertionError(f"no headers for {credential!r}")


@pytest.mark.parametrize(
    ("action", "endpoint", "credential", "expected"),
    CELLS,
    ids=[f"{action}|{credential}" for action, _, credential, _ in CELLS],
)
async def test_cell(
    client: httpx.AsyncClient,
    keys: dict[str, str],
    keyring: Keyring,
    service: ConsentService,
    action: str,
    endpoint: str,
    credential: str,
    expected: int,
) -> None:
    subject = keyring.new_visitor_id() if action == "submit a choice for a visitor id" else SUBJECT
    request_id = ""
    if "request" in endpoint or "report" in endpoint:
        # Requests are only filed for people consentgate knows; the actions on one request need one.
        service.record([("", {"subject": subject, "action": "object", "purposes": ["marketing"],
                              "occurred_at": ago(minutes=9)})])  # fmt: skip
        if "{request_id}" in endpoint:
            verified = None if action == "verify a request" else "operator"
            request_id = RequestDesk(service).file("erase", subject, verified_by=verified).request_id
    method, url, kwargs = request_for(action, subject, request_id)
    want = endpoint.replace("{subject}", subject).replace("{request_id}", request_id)
    assert f"{method} {url}".split("?")[0] == want
    response = await client.request(
        method, url, headers=headers_for(credential, subject, keys, keyring), **kwargs
    )
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert_error(response, expected, {401: "unauthorized", 403: "forbidden", 404: "not_found"}[expected])
    if endpoint in WRITES and expected >= 400:
        assert service.ledger.count() == 0, "a refused request must store nothing"


def documented_matrix(text: str) -> tuple[list[str], dict[tuple[str, str], tuple[int, ...]]]:
    """The columns and rows of the markdown table whose header starts ``| action | endpoint |``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"\|\s*action\s*\|\s*endpoint\s*\|", line))
    rows: list[list[str]] = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip().strip("`") for cell in line.strip().strip("|").split("|")])
    header, rule, *body = rows
    assert set("".join(rule)) <= set("-: "), "the second line of the table must be its rule"
    return header[2:], {(r[0], r[1]): tuple(int(c) for c in r[2:]) for r in body}


def test_the_documented_matrix_is_the_tested_one() -> None:
    columns, rows = documented_matrix(DOC.read_text(encoding="utf-8"))
    assert tuple(columns) == CREDENTIALS
    assert list(rows) == list(MATRIX), "docs/security.md lists other actions (or in another order)"
    for row, statuses in MATRIX.items():
        assert rows[row] == statuses, f"docs/security.md disagrees on {row}"


def test_every_endpoint_of_the_api_is_in_the_matrix(app: FastAPI) -> None:
    """A new endpoint must take a row: nobody adds one without deciding who may call it."""
    served = {f"{method.upper()} {path}" for path, item in app.openapi()["paths"].items() for method in item}
    assert served <= {endpoint for _, endpoint in MATRIX}
