"""API keys with scopes, stored only as sha256 hashes (``store/apikeys.py``).

Scopes: ``collect`` may get anonymous visitor ids and submit choices for them (it is public: it sits
in every page with the banner); ``read`` may read decisions, state and evidence; ``admin`` may do
everything; ``audit`` may read reports (``/v1/reports/…``) and sign in to the operator console
(``/console``, a subject's history and evidence included), and write nothing. Subject tokens
(:mod:`consentgate.auth.tokens`) let a browser act for one person; the full matrix is in docs/security.md.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING

from consentgate.errors import BadInput
from consentgate.store import apikeys as rows

if TYPE_CHECKING:
    from consentgate.store.engine import Engine


class Scope(StrEnum):
    COLLECT = "collect"
    READ = "read"
    ADMIN = "admin"
    AUDIT = "audit"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(engine: Engine, scope: str, label: str | None = None) -> tuple[str, str]:
    """Create a key; returns ``(key_id, secret key)``. The secret is shown once and never stored."""
    try:
        sc = Scope(scope)
    except ValueError:
        raise BadInput(f"scope {scope!r} is not one of {', '.join(s.value for s in Scope)}") from None
    key_id = secrets.token_hex(6)
    key = f"cg_{sc.value}_{key_id}_{secrets.token_urlsafe(24)}"
    rows.add_key(engine, key_id=key_id, key_hash=_hash(key), scope=sc.value, label=label)
    return key_id, key


def authenticate(engine: Engine, key: str) -> Scope | None:
    """The key's scope, or None when it is unknown or revoked."""
    scope = rows.active_scope(engine, _hash(key))
    return None if scope is None else Scope(scope)


def identify_key(engine: Engine, key: str) -> tuple[str, Scope] | None:
    """``(key_id, scope)`` of an active key, or None: a console session remembers the key by its id,
    never by the secret."""
    found = rows.active_key(engine, _hash(key))
    return None if found is None else (found[0], Scope(found[1]))


def active_scope_of(engine: Engine, key_id: str) -> Scope | None:
    """The scope of the key with this id while it is not revoked (one query, never cached: a console
    session asks on every request, so revoking the key ends its sessions at once)."""
    scope = rows.scope_by_id(engine, key_id)
    return None if scope is None else Scope(scope)


def revoke_key(engine: Engine, key_id: str) -> bool:
    return rows.revoke(engine, key_id)


def list_keys(engine: Engine) -> list[dict[str, str | None]]:
    return rows.all_keys(engine)


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
        entry = self._entries.get(_hash(key))
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
                self._entries[_hash(key)] = (self.clock() + self.ttl, scope)
        return scope

    def forget(self) -> None:
        with self._lock:
            self._entries.clear()
