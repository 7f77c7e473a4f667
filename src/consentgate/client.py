"""A Python client of the consentgate HTTP API, and the offline subject-token helper for backends.

Two ways for a site's backend to vouch for a logged-in person (see docs/security.md):

* it holds the token secret (``CONSENTGATE_TOKEN_SECRET``) and mints tokens itself, with no network
  call: :func:`issue_subject_token`;
* it holds an admin key and asks the server: :meth:`ConsentgateClient.issue_token`.

:class:`ConsentgateClient` speaks the API with an API key and/or a subject token and answers in the
library's own types — a remote :meth:`~ConsentgateClient.decide` returns the same
:class:`~consentgate.decide.Decision` as :meth:`ConsentService.decide` does locally — and turns the
API's error body into the library's exceptions (:mod:`consentgate.errors`): 401/403 →
:class:`AuthError`, 422 → :class:`EventError` / :class:`QueryError` / :class:`BadInput`, 503 and
connection failures → :class:`TransientStorageError` (retrying may help), other 5xx →
:class:`TerminalStorageError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote

import httpx

from consentgate.decide import Decision
from consentgate.errors import (
    AuthError,
    BadInput,
    ConsentgateError,
    EventError,
    QueryError,
    TerminalStorageError,
    TransientStorageError,
)
from consentgate.tokens import DEFAULT_TTL, TOKEN_HEADER, issue_subject_token

__all__ = ["ConsentgateClient", "IssuedToken", "Receipt", "issue_subject_token"]

PurposeAction = Literal["grant", "deny", "withdraw", "object", "opt_out"]
SubjectAction = Literal["gpc", "erase"]


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A subject token minted by the server; hand ``token`` to the person's browser session."""

    token: str
    subject: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the server stored: one event id per choice (in the order given) and when."""

    event_ids: tuple[str, ...]
    recorded_at: datetime


class ConsentgateClient:
    """The HTTP API over one connection pool.

    ``api_key`` goes in ``Authorization: Bearer``; a ``subject_token`` given to a call goes in
    ``X-Consentgate-Subject-Token`` and lets that call act for its subject without a read or admin
    key. Pass ``http`` to bring your own :class:`httpx.Client` (proxies, retries, tests); it is then
    yours to close.

    ::

        with ConsentgateClient("https://consent.example.com", api_key=ADMIN_KEY) as cg:
            cg.record("user-42@example.com", {"train_support_chatbot": True}, notice_version=2)
            cg.decide("user-42@example.com", "train_support_chatbot").allowed
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 10.0,
        http: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._owned = http is None
        self._http = http if http is not None else httpx.Client(timeout=timeout)

    def __repr__(self) -> str:  # never the key: reprs end up in logs and tracebacks
        return f"ConsentgateClient({self.base_url!r})"

    # -- capture -----------------------------------------------------------------------------------

    def record(
        self,
        subject: str,
        choices: Mapping[str, bool | PurposeAction] | None = None,
        *,
        action: SubjectAction | None = None,
        notice_id: str | None = None,
        notice_version: int | str | None = None,
        region: str | None = None,
        locale: str | None = None,
        source: str = "api",
        occurred_at: datetime | None = None,
        signals: Mapping[str, Any] | None = None,
        subject_token: str | None = None,
    ) -> Receipt:
        """Record one person's choices — purpose → ``True``/``False`` (a toggle) or an action such as
        ``"withdraw"`` — or one subject-level ``action`` (``"gpc"``, ``"erase"``). All or nothing."""
        body: dict[str, Any] = {"subject": subject, "source": source}
        if choices is not None:
            body["choices"] = [
                {"purpose": purpose, "allowed": choice}
                if isinstance(choice, bool)
                else {"purpose": purpose, "action": choice}
                for purpose, choice in choices.items()
            ]
        if action is not None:
            body["action"] = action
        optional = {
            "notice_id": notice_id,
            "notice_version": notice_version,
            "region": region,
            "locale": locale,
            "occurred_at": occurred_at.isoformat() if occurred_at is not None else None,
            "signals": dict(signals) if signals is not None else None,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        answer = self._call("POST", "/v1/consents", json=body, subject_token=subject_token)
        return Receipt(
            event_ids=tuple(e["event_id"] for e in answer["events"]),
            recorded_at=datetime.fromisoformat(answer["recorded_at"]),
        )

    # -- decisions ---------------------------------------------------------------------------------

    def decide(
        self,
        subject: str,
        purpose: str,
        *,
        at: datetime | None = None,
        region: str | None = None,
        subject_token: str | None = None,
    ) -> Decision:
        """May ``subject``'s data be used for ``purpose`` (now, or ``at``)? Needs a read key or a token."""
        params = {"subject": subject, "purpose": purpose}
        params.update(_when_where(at, region))
        answer = self._call("GET", "/v1/decisions", params=params, subject_token=subject_token)
        return _decision(answer)

    def state(
        self,
        subject: str,
        *,
        at: datetime | None = None,
        region: str | None = None,
        subject_token: str | None = None,
    ) -> dict[str, Decision]:
        """Every purpose's decision for ``subject``, by purpose id."""
        answer = self._call(
            "GET",
            f"/v1/subjects/{quote(subject, safe='')}/state",
            params=_when_where(at, region),
            subject_token=subject_token,
        )
        return {purpose: _decision(d) for purpose, d in answer["purposes"].items()}

    # -- credentials -------------------------------------------------------------------------------

    def issue_token(self, subject: str, ttl: int = DEFAULT_TTL) -> IssuedToken:
        """Mint a subject token on the server (admin key); for backends without the token secret."""
        answer = self._call("POST", "/v1/tokens", json={"subject": subject, "ttl_seconds": ttl})
        return IssuedToken(
            token=answer["token"],
            subject=answer["subject"],
            expires_at=datetime.fromisoformat(answer["expires_at"]),
        )

    # -- plumbing ----------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        subject_token: str | None = None,
    ) -> Any:
        headers: dict[str, str] = {}
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key}"
        if subject_token is not None:
            headers[TOKEN_HEADER] = subject_token
        url = f"{self.base_url}{path}"
        try:
            response = self._http.request(method, url, json=json, params=params, headers=headers)
        except httpx.TransportError as exc:
            raise TransientStorageError(f"could not reach consentgate at {self.base_url}: {exc}") from exc
        if response.is_success:
            return response.json()
        raise error_from(response)

    def close(self) -> None:
        if self._owned:
            self._http.close()

    def __enter__(self) -> ConsentgateClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def error_from(response: httpx.Response) -> ConsentgateError:
    """The library exception for an API error response (the server's one error shape)."""
    status = response.status_code
    try:
        detail = response.json()["error"]
        code, message = str(detail["code"]), str(detail["message"])
        problems = [(str(p["at"]), str(p["message"])) for p in detail.get("problems", [])]
    except (ValueError, KeyError, TypeError):  # not our error body: a proxy or load balancer answered
        code, message, problems = f"http_{status}", f"HTTP {status} {response.reason_phrase}", []
    if status in (401, 403):
        return AuthError(message, status=status)
    if code == "invalid_event":
        return EventError(message, problems=problems)
    if code == "invalid_query":
        return QueryError(message)
    if status < 500:
        return BadInput(message)
    if status in (502, 503, 504):
        return TransientStorageError(message)
    return TerminalStorageError(message)


def _when_where(at: datetime | None, region: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if at is not None:
        out["at"] = at.isoformat()
    if region is not None:
        out["region"] = region
    return out


def _decision(answer: Mapping[str, Any]) -> Decision:
    # Decision formats its reason from a template; the server's reason is final, so it is the argument.
    return Decision(
        allowed=bool(answer["allowed"]),
        basis=answer["basis"],
        region=str(answer["region"]),
        why=("{}", str(answer["reason"])),
        evidence_event=answer["evidence_event"],
    )
