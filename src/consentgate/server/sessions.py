"""Console sessions: a signed cookie naming the API key that signed in, checked against the key on
every request.

The operator console (``/console``) is used from a browser, where an API key cannot be sent as a
header on every page view and must never travel in a URL. The person posts an admin or audit key
once (a form, ``POST /console/sign-in``); the answer sets ``cg_console``, a cookie holding the key's
*id* (never the key), its scope, a random session id and an expiry, signed with HMAC-SHA256 under a
secret the database keeps (``service_secrets``, purpose ``console_sessions``), so every server process
on the same database accepts the sessions of the others.

Why a signed cookie and not a sessions table: what must end a session is checked server-side anyway —
each request looks the key up by id (one indexed query, no cache), so revoking the key ends all its
sessions on the next request. Signing out is written to ``console_signouts`` in the database
(store/signouts.py), which every request checks too, so a copy of the cookie is refused by every
server process on the database, not only by the one that answered the sign-out.

The cookie is ``HttpOnly`` (no script reads it), ``SameSite=Strict`` (no other site's page makes the
browser send it), ``Path=/console`` (the JSON API never sees it), ``Secure`` when served over https,
and expires. Each POST also carries a per-session CSRF token (an HMAC of the session id) and must come
from this origin (``Origin``): three defences, any one of which stops a cross-site form post.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from consentgate.auth.apikeys import Scope

if TYPE_CHECKING:
    from consentgate.store.engine import Engine

COOKIE = "cg_console"
COOKIE_PATH = "/console"
SESSION_SECONDS = 8 * 3600  # a working day; the key, not the session, is the long-lived credential
SECRET_PURPOSE = "console_sessions"
CONSOLE_SCOPES = (Scope.ADMIN, Scope.AUDIT)
# Sign-in attempts per client address: a burst of 5, then one every 12 seconds. Keys are 190 bits of
# randomness, so this is about not being a free oracle and not filling logs, not about guessing odds.
SIGN_IN_RATE = 5 / 60
SIGN_IN_BURST = 5


@dataclass(frozen=True, slots=True)
class Session:
    """A verified session: which key signed in, with what scope, until when."""

    session_id: str
    key_id: str
    scope: Scope
    expires: int  # Unix seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sessions:
    """Makes and checks console session cookies and their CSRF tokens.

    ``engine``: the database where sign-outs are written and read, so every process honours them;
    without one (a process with no ledger) a sign-out is remembered in this process only.
    """

    def __init__(
        self, secret: bytes, *, clock: Callable[[], float] = time.time, engine: Engine | None = None
    ) -> None:
        self._secret = secret
        self.clock = clock
        self._engine = engine
        self._ended: dict[str, int] = {}
        self._lock = threading.Lock()

    @classmethod
    def for_database(cls, engine: Engine) -> Sessions:
        # Imported here: the store (SQLAlchemy) is needed only by a server that has a ledger.
        from consentgate.store.secrets import service_secret

        secret = service_secret(engine, SECRET_PURPOSE, lambda s: hashlib.sha256(s.encode()).hexdigest()[:16])
        return cls(secret.encode(), engine=engine)

    def _sign(self, *parts: str) -> str:
        return _b64(hmac.new(self._secret, "\x1f".join(parts).encode(), hashlib.sha256).digest())

    def issue(self, key_id: str, scope: Scope) -> tuple[Session, str]:
        """A new session for ``key_id`` and the cookie value that carries it."""
        session = Session(secrets.token_urlsafe(18), key_id, scope, int(self.clock()) + SESSION_SECONDS)
        payload = _b64(
            json.dumps(
                {"s": session.session_id, "k": key_id, "c": scope.value, "e": session.expires},
                separators=(",", ":"),
            ).encode()
        )
        return session, f"{payload}.{self._sign('session', payload)}"

    def read(self, cookie: str | None) -> Session | None:
        """The session a cookie carries, if its signature holds, it has not expired and was not ended
        here; None otherwise. Whether the key is still active is the caller's question (a query)."""
        if not cookie or cookie.count(".") != 1 or len(cookie) > 1024:
            return None
        payload, signature = cookie.split(".")
        if not hmac.compare_digest(signature, self._sign("session", payload)):
            return None
        try:
            data = json.loads(_unb64(payload))
            session = Session(str(data["s"]), str(data["k"]), Scope(data["c"]), int(data["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        if session.expires <= self.clock() or session.scope not in CONSOLE_SCOPES:
            return None
        with self._lock:
            if session.session_id in self._ended:
                return None
        if self._engine is not None:
            from consentgate.store.signouts import signed_out

            if signed_out(self._engine, session.session_id):
                return None
        return session

    def csrf_token(self, session: Session) -> str:
        return self._sign("csrf", session.session_id)

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token, self.csrf_token(session))

    def end(self, session: Session) -> None:
        """Sign the session out: here at once, and in the database for every other process."""
        now = int(self.clock())
        with self._lock:
            self._ended = {sid: until for sid, until in self._ended.items() if until > now}
            self._ended[session.session_id] = session.expires
        if self._engine is not None:
            from consentgate.store.signouts import sign_out

            sign_out(self._engine, session.session_id, session.expires, now)
