"""API keys with scopes, stored only as sha256 hashes (``store/apikeys.py``).

Scopes: ``collect`` may get anonymous visitor ids and submit choices for them (it is public: it sits
in every page with the banner); ``read`` may read decisions, state and evidence; ``admin`` may do
everything; ``audit`` may read reports (``/v1/reports/…``) and sign in to the operator console
(``/console``, a subject's history and evidence included), and write nothing. Subject tokens
(:mod:`consentgate.auth.tokens`) let a browser act for one person; the full matrix is in docs/security.md.
"""

from __future__ import annotations

import hashlib
import logging
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

log = logging.getLogger("consentgate.auth")


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

    A server also keeps the known keys it used in the last ``KEEP_WARM`` seconds fresh in the
    background (:meth:`keep_fresh`): every ``ttl / 2`` seconds one query verifies them all again
    against the database, which every process shares, and restarts their ``ttl``. A site's key then
    never expires into a lookup (a thread hand-off and a query) on the first page view after a quiet
    spell, and revocation keeps its bound: each process learns of it from the database within
    ``ttl / 2`` seconds, so an answer is never older than ``ttl``.
    """

    KEEP_WARM = 3600.0

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
        self._used: dict[str, float] = {}  # when each known key was last asked for
        self._lock = threading.Lock()

    def cached(self, key: str) -> tuple[bool, Scope | None]:
        """``(hit, scope)`` without touching the database."""
        hashed = _hash(key)
        entry = self._entries.get(hashed)
        now = self.clock()
        if entry is None or entry[0] <= now:
            return False, None
        if entry[1] is not None:
            self._used[hashed] = now
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
                    self._used.clear()
                now = self.clock()
                self._entries[_hash(key)] = (now + self.ttl, scope)
                if scope is not None:
                    self._used[_hash(key)] = now
        return scope

    def refresh(self) -> None:
        """Verify the known keys used in the last ``KEEP_WARM`` seconds again, in one query, and
        restart their ``ttl`` from before it ran; a key revoked meanwhile is remembered as revoked."""
        started = self.clock()
        with self._lock:
            for hashed in [h for h, used in self._used.items() if started - used > self.KEEP_WARM]:
                del self._used[hashed]
            wanted = list(self._used)
        if not wanted:
            return
        active = rows.active_scopes(self.engine, wanted)
        with self._lock:
            for hashed in wanted:
                if hashed in self._entries:  # not cleared meanwhile
                    scope = active.get(hashed)
                    self._entries[hashed] = (started + self.ttl, None if scope is None else Scope(scope))
                    if scope is None:
                        self._used.pop(hashed, None)

    def keep_fresh(self) -> Callable[[], None]:
        """:meth:`refresh` every ``ttl / 2`` seconds in a daemon thread until the returned function is
        called (a server process's lifetime). Nothing to do when ``ttl`` is 0 (no cache)."""
        stop = threading.Event()
        if self.ttl <= 0:
            return stop.set

        def run() -> None:
            while not stop.wait(self.ttl / 2):
                try:
                    self.refresh()
                except Exception:  # a database that is down now: entries expire, lookups ask again
                    log.warning("could not verify the cached API keys again", exc_info=True)

        thread = threading.Thread(target=run, name="consentgate-key-refresh", daemon=True)
        thread.start()

        def halt() -> None:
            stop.set()
            thread.join(timeout=10)

        return halt

    def forget(self) -> None:
        with self._lock:
            self._entries.clear()
            self._used.clear()
