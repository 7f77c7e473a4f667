"""A Python client of the consentgate HTTP API, and the offline subject-token helper for backends.

Two ways for a site's backend to vouch for a logged-in person (see docs/security.md):

* it holds the token secret (``CONSENTGATE_TOKEN_SECRET``) and mints tokens itself, with no network
  call: :func:`issue_subject_token`;
* it holds an admin key and asks the server: :meth:`ConsentgateClient.issue_token`.

At collection (gate 1), :meth:`ConsentgateClient.stamp` adds ``do_not_train`` and
``consent_version`` to each outgoing event or transcript message (see :mod:`consentgate.stamping`;
:class:`SnapshotStamper` does the same from snapshot files, without the network).

:class:`ConsentgateClient` speaks the API with an API key and/or a subject token and answers in the
library's own types — a remote :meth:`~ConsentgateClient.decide` returns the same
:class:`~consentgate.decide.Decision` as :meth:`ConsentService.decide` does locally — and turns the
API's error body into the library's exceptions (:mod:`consentgate.errors`): 401/403 →
:class:`AuthError`, 422 → :class:`EventError` / :class:`QueryError` / :class:`BadInput`, 503 and
connection failures → :class:`TransientStorageError` (retrying may help), other 5xx →
:class:`TerminalStorageError`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote

import httpx

from consentgate.auth.tokens import DEFAULT_TTL, TOKEN_HEADER, issue_subject_token
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
from consentgate.stamping import UNKNOWN, Bounded, SnapshotStamper, Stamp, version_label

__all__ = [
    "ConsentgateClient",
    "IssuedToken",
    "Receipt",
    "SnapshotStamper",
    "Stamp",
    "issue_subject_token",
]

STAMP_TTL = 30.0  # seconds a stamp is reused: a withdrawal reaches new stamps within this
UNREACHABLE_BACKOFF = 5.0  # after a failed call, stamps fail closed this long without calling again

PurposeAction = Literal["grant", "deny", "withdraw", "object", "opt_out"]
# No "erase": the server refuses it on /v1/consents; erasure is a data-subject request (/v1/requests).
SubjectAction = Literal["gpc"]


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
    yours to close. ``stamp_ttl`` is how long :meth:`stamp` reuses an answer (``clock`` measures it).

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
        stamp_ttl: float = STAMP_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._owned = http is None
        self._http = http if http is not None else httpx.Client(timeout=timeout)
        self._clock = clock
        self._stamps: Bounded[tuple[str, str], Stamp] = Bounded(100_000, stamp_ttl, clock)
        # Event id → "notice@version" (or None): events never change, so these never expire.
        self._versions: Bounded[str, str | None] = Bounded(100_000)
        self._unreachable_until = float("-inf")

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
        ``"withdraw"`` — or the subject-level ``action`` ``"gpc"``. All or nothing. A grant needs
        ``notice_version``, the version the person saw, or the server refuses it (422). ``signals``
        takes only the closed list of docs/api.md (``gpc``, ``do_not_train``, …): the service refuses
        anything else, since it would sit under the chain hash beyond erasure."""
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
        self.forget(subject)
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

    # -- stamping (gate 1) -------------------------------------------------------------------------

    def stamp(
        self,
        record: Mapping[str, Any],
        subject: str,
        purpose: str,
        *,
        subject_token: str | None = None,
    ) -> dict[str, Any]:
        """A copy of ``record`` with ``do_not_train`` (true unless ``subject`` is allowed for
        ``purpose`` now) and ``consent_version`` (``"notice@version"`` of the deciding grant, or None).

        Cheap enough for every chat message: an answer is reused for ``stamp_ttl`` seconds, and a
        grant's notice version is looked up once per grant. When the service cannot be reached the
        stamp fails closed (``do_not_train: true``) instead of raising; other errors (a bad key, an
        unknown purpose) raise, because they will not go away by themselves.
        """
        return self.consent_stamp(subject, purpose, subject_token=subject_token).apply(record)

    def consent_stamp(self, subject: str, purpose: str, *, subject_token: str | None = None) -> Stamp:
        """The stamp itself (see :meth:`stamp`); ``degraded`` is true when it failed closed."""
        hit, cached = self._stamps.get((subject, purpose))
        if hit and cached is not None:
            return cached
        if self._clock() < self._unreachable_until:
            return UNKNOWN
        try:
            decision = self.decide(subject, purpose, subject_token=subject_token)
            version = self._version_of(subject, decision.evidence_event, subject_token)
        except TransientStorageError:
            self._unreachable_until = self._clock() + UNREACHABLE_BACKOFF
            return UNKNOWN
        stamp = Stamp(do_not_train=not decision.allowed, consent_version=version)
        self._stamps.put((subject, purpose), stamp)
        return stamp

    def forget(self, subject: str | None = None) -> None:
        """Drop cached stamps (of one subject, or all): the next :meth:`stamp` asks the service.
        :meth:`record` does this for the subject it recorded."""
        if subject is None:
            self._stamps.drop()
        else:
            self._stamps.drop(lambda key: key[0] == subject)

    def _version_of(self, subject: str, event_id: str | None, subject_token: str | None) -> str | None:
        if event_id is None:
            return None
        hit, version = self._versions.get(event_id)
        if hit:
            return version
        # The evidence lists the person's events with their notices; remember them all at once.
        evidence = self._call(
            "GET", f"/v1/subjects/{quote(subject, safe='')}/evidence", subject_token=subject_token
        )
        for ev in evidence.get("events", []):
            notice = ev.get("privacy_notice")
            label = None
            if ev.get("action") == "grant" and notice is not None:
                label = version_label(notice["id"], notice["version"])
            self._versions.put(str(ev["event_id"]), label)
        hit, version = self._versions.get(event_id)
        return version if hit else None

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
