"""Who may do what: API keys (scopes) and subject tokens, as FastAPI dependencies.

The credentials themselves — keys, their cache, tokens — are ``consentgate.auth``'s; this module is
only the FastAPI layer that reads them from a request and answers 401/403.

Two credentials, checked in this order — every credential sent must be valid (401), and only then is
the request weighed against what it asks for (403):

* ``Authorization: Bearer KEY`` — an API key of scope ``collect``, ``read`` or ``admin``.
* ``X-Consentgate-Subject-Token: TOKEN`` — a subject token (:mod:`consentgate.auth.tokens`): lets the
  holder read and change the choices of the one subject it binds, with or without a key.

=======================================  ==========================================================
endpoint                                 who may call it
=======================================  ==========================================================
``POST /v1/consents``, ``…/batch``       admin; a token for each submission's subject; collect
                                         alone only for visitor ids this server issued
state, evidence, ``GET /v1/decisions``,  read, admin; or a token for that subject (for every query
``POST /v1/decisions/batch``             of a batch)
``POST /v1/visitors``                    collect, admin
``POST /v1/tokens``                      admin
``POST /v1/subjects/{s}/aliases``        admin
``/healthz``, ``/openapi.json``          anyone, no credentials
=======================================  ==========================================================

A collect key sits in every page that embeds the banner, so it proves nothing about who is calling:
on its own it may only create anonymous visitor ids and record choices for them. docs/security.md
holds the full matrix (which tests/server/test_authz_matrix.py checks cell by cell) and the threat
model.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from consentgate.auth.apikeys import Scope
from consentgate.auth.tokens import TOKEN_HEADER, Keyring, SubjectToken
from consentgate.errors import AuthError
from consentgate.server.deps import server_state
from consentgate.server.errors import RequestProblems

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `consentgate keys create --scope collect|read|admin`.",
)
_token_header = APIKeyHeader(
    name=TOKEN_HEADER,
    auto_error=False,
    scheme_name="SubjectToken",
    description="A subject token for one subject, minted by the site's backend "
    "(`POST /v1/tokens`, `consentgate tokens issue`, or `consentgate.client.issue_subject_token`).",
)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, authenticated: the API key's scope (None without a key) and the verified
    subject token (None without one). Authorisation is a pure question on this value."""

    scope: Scope | None
    token: SubjectToken | None

    def holds_token_for(self, subject: str) -> bool:
        # Exact match, no alias resolution: the backend that minted the token named this subject.
        return self.token is not None and self.token.subject == subject

    def reads_anyone(self) -> bool:
        """A read or admin key may read about every subject (a batch then checks none of them)."""
        return self.scope in (Scope.READ, Scope.ADMIN)

    def may_read(self, subject: str) -> bool:
        return self.reads_anyone() or self.holds_token_for(subject)

    def may_write(self, subject: str, *, visitor: bool) -> bool:
        """``visitor``: the subject is a visitor id this server issued (see :meth:`Keyring.is_visitor_id`)."""
        return (
            self.scope is Scope.ADMIN
            or self.holds_token_for(subject)
            or (self.scope is Scope.COLLECT and visitor)
        )


async def identify(
    request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    """Authenticate every credential the request carries; 401 if one is missing or invalid.

    A token that fails is refused even where the key alone would do: a client sending a broken token
    has a bug (or is probing) and should hear about it rather than be half-trusted.
    """
    header = request.headers.get("authorization")
    raw_token = request.headers.get(TOKEN_HEADER)
    if not header and raw_token is None:
        raise AuthError(
            "no credentials: send an API key as 'Authorization: Bearer KEY' "
            "(create one with `consentgate keys create --scope …`), "
            f"or a subject token as '{TOKEN_HEADER}: TOKEN'"
        )
    return await authenticate(request, _bearer_key(header) if header else None, raw_token)


async def authenticate(request: Request, key: str | None, raw_token: str | None) -> Caller:
    """The caller of an API key and a subject token, wherever the request carried them (headers, or
    the body of ``POST /v1/consents/browser``); 401 if one is invalid."""
    state = server_state(request)
    scope: Scope | None = None
    if key is not None:
        hit, scope = state.keys.cached(key)
        if not hit:
            scope = await run_in_threadpool(state.keys.lookup, key)
        if scope is None:
            raise AuthError("the API key is unknown or revoked; create one with `consentgate keys create`")
    token = state.tokens.verify(raw_token) if raw_token is not None else None
    return Caller(scope, token)


Identified = Annotated[Caller, Depends(identify)]


def require(*allowed: Scope) -> Callable[..., Awaitable[Caller]]:
    """A dependency that lets a request through only with a key whose scope is in ``allowed``."""
    names = " or ".join(s.value for s in allowed)

    async def check_key(request: Request, caller: Identified) -> Caller:
        if caller.scope is None:
            raise AuthError(
                f"a subject token alone may not call {request.method} {request.url.path}; "
                f"it needs a {names} API key",
                status=403,
            )
        if caller.scope not in allowed:
            raise AuthError(
                f"a {caller.scope.value} key may not call {request.method} {request.url.path}; "
                f"it needs a {names} key",
                status=403,
            )
        return caller

    return check_key


def for_subjects(*allowed: Scope) -> Callable[..., Awaitable[Caller]]:
    """Let through a key of ``allowed`` scope, or any caller with a subject token; the endpoint then
    checks each subject it touches with :func:`authorize`."""

    # The token header parameter only documents the scheme in /openapi.json; ``identify`` reads it.
    async def check_caller(
        request: Request, caller: Identified, _: Annotated[str | None, Depends(_token_header)]
    ) -> Caller:
        return admit(request, caller, allowed, f"'{TOKEN_HEADER}'")

    return check_caller


def admit(
    request: Request, caller: Caller, allowed: Sequence[Scope], token_at: str, key_at: str = ""
) -> Caller:
    """``caller`` if it holds a subject token or a key of ``allowed`` scope, else 401 without either
    and 403 with another key; ``key_at`` and ``token_at`` say where the request carries them."""
    if caller.token is None and caller.scope not in allowed:
        if caller.scope is None:
            raise AuthError(
                f"no credentials: send an API key of scope {' or '.join(s.value for s in allowed)}"
                f"{key_at}, or a subject token in {token_at}"
            )
        raise AuthError(
            f"a {caller.scope.value} key may not call {request.method} {request.url.path}; it needs a "
            f"{' or '.join(s.value for s in allowed)} key, or a subject token for the subject in {token_at}",
            status=403,
        )
    return caller


def authorize(caller: Caller, subjects: Sequence[tuple[str, str]], *, write: bool, keyring: Keyring) -> None:
    """Refuse (403, one problem per subject) unless ``caller`` may act for every ``(where, subject)``.

    Checked before the body is validated as events, so a stranger learns nothing about anyone's
    subject from the answers.
    """
    problems: list[tuple[str, str]] = []
    for where, subject in subjects:
        allowed = (
            caller.may_write(subject, visitor=keyring.is_visitor_id(subject))
            if write
            else caller.may_read(subject)
        )
        if not allowed:
            problems.append((where, _denial(caller, subject, write=write)))
    if problems:
        message = problems[0][1] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        raise RequestProblems("forbidden", message, problems, status=403)


def _denial(caller: Caller, subject: str, *, write: bool) -> str:
    if caller.token is not None:
        return (
            f"the subject token is for another subject, not {subject!r}; a token lets its holder act "
            "only for the one subject it was issued for"
        )
    if write:
        return (
            f"a collect key may record choices only for visitor ids this server issued "
            f"(POST /v1/visitors), not for {subject!r}; send a subject token for it in "
            f"'{TOKEN_HEADER}' (issued by your backend) or use an admin key"
        )
    return f"reading {subject!r} needs a read or admin key, or a subject token for it in '{TOKEN_HEADER}'"


def _bearer_key(header: str) -> str:
    kind, _, key = header.strip().partition(" ")
    if kind.lower() != "bearer" or not key.strip():
        raise AuthError("the Authorization header must be 'Bearer KEY'")
    return key.strip()


SUBMITTERS = (Scope.COLLECT, Scope.ADMIN)
SUBMIT = for_subjects(*SUBMITTERS)
READ = for_subjects(Scope.READ, Scope.ADMIN)
VISITORS = require(Scope.COLLECT, Scope.ADMIN)
ADMIN = require(Scope.ADMIN)
