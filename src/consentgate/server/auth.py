"""Bearer API keys → scopes, as FastAPI dependencies.

Which scope may call what (``admin`` includes every other scope):

=========================================  =======================
``POST /v1/consents``, ``…/consents/batch``  collect, admin
decisions, state, evidence                 read, admin
``POST /v1/subjects/{s}/aliases``          admin
``/healthz``, ``/openapi.json``            no key
=========================================  =======================

``read`` cannot submit choices and ``collect`` cannot read anything: a collect key sits in every page
that embeds the banner, so it must reveal nothing about anyone.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from consentgate.apikeys import Scope, authenticate
from consentgate.errors import AuthError
from consentgate.server.deps import server_state

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `consentgate keys create --scope collect|read|admin`.",
)


class KeyCache:
    """Key lookups remembered for ``ttl`` seconds.

    The banner's collect key comes with every page view; without the cache each request would pay a
    database round trip before doing anything. The price: a revoked key keeps working for at most
    ``ttl`` seconds in each server process. Unknown keys are remembered too, so guessing floods
    cannot turn into database load. Keys are held as hashes, never in the clear.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        ttl: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[str, tuple[float, Scope | None]] = {}
        self._lock = threading.Lock()

    def cached(self, key: str) -> tuple[bool, Scope | None]:
        """``(hit, scope)`` without touching the database."""
        entry = self._entries.get(_digest(key))
        if entry is None or entry[0] <= self.clock():
            return False, None
        return True, entry[1]

    def lookup(self, key: str) -> Scope | None:
        """The key's scope (None when unknown or revoked); may query the database, so call off the loop."""
        hit, scope = self.cached(key)
        if hit:
            return scope
        scope = authenticate(self.engine, key)
        if self.ttl > 0:
            with self._lock:
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()  # crude but bounded; a refill costs one query per key
                self._entries[_digest(key)] = (self.clock() + self.ttl, scope)
        return scope

    def forget(self) -> None:
        with self._lock:
            self._entries.clear()


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def require(*allowed: Scope) -> Callable[..., Awaitable[Scope]]:
    """A dependency that lets a request through only with a key whose scope is in ``allowed``."""
    names = " or ".join(s.value for s in allowed)

    async def check_key(
        request: Request,
        _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Scope:
        key = _bearer_key(request.headers.get("authorization"))
        keys = server_state(request).keys
        hit, scope = keys.cached(key)
        if not hit:
            scope = await run_in_threadpool(keys.lookup, key)
        if scope is None:
            raise AuthError("the API key is unknown or revoked; create one with `consentgate keys create`")
        if scope not in allowed:
            raise AuthError(
                f"a {scope.value} key may not call {request.method} {request.url.path}; "
                f"it needs a {names} key",
                status=403,
            )
        return scope

    return check_key


def _bearer_key(header: str | None) -> str:
    if not header:
        raise AuthError(
            "no API key: send 'Authorization: Bearer KEY' "
            "(create one with `consentgate keys create --scope …`)"
        )
    kind, _, key = header.strip().partition(" ")
    if kind.lower() != "bearer" or not key.strip():
        raise AuthError("the Authorization header must be 'Bearer KEY'")
    return key.strip()


SUBMIT = require(Scope.COLLECT, Scope.ADMIN)
READ = require(Scope.READ, Scope.ADMIN)
ADMIN = require(Scope.ADMIN)
