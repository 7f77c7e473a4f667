"""Subject tokens and visitor ids: what lets a browser act for one person, and no one else.

A browser holds only a public ``collect`` key, so the key cannot say *whose* choices it may read or
change. Two signed strings do:

* a **subject token** ``cgst1.<payload>.<mac>`` — issued by the site's own backend (which knows who
  is logged in) for one subject and a short time. The payload is base64url JSON
  ``{"sub", "iat", "exp", "kid", "jti"}``; the MAC is HMAC-SHA256 over ``cgst1.<payload>``.
* a **visitor id** ``cgv1.<random>.<mac>`` — an anonymous subject id that the server itself issued
  (the ``cg_vid`` cookie). 128 random bits nobody can guess, signed so nobody can invent one.

Both are signed with the same secrets but under different *purpose labels*: the MAC key is
``HMAC(secret, label)``, so a visitor id can never verify as a token or the reverse, even though one
secret signs both (domain separation, as in RFC 5869's ``info`` parameter).

Several secrets may be active at once (rotation): the first signs, all verify. A token names its
signing key by ``kid`` (a short hash of the secret, never the secret), so a token signed with a
retired secret is refused with a message that says so instead of "bad signature".

Nothing here touches a database, the network or a server: the clock is a parameter, so every rule is
testable, and :func:`issue_subject_token` works in any backend that holds the secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from consentgate.errors import AuthError, BadInput

TOKEN_PREFIX = "cgst1"
VISITOR_PREFIX = "cgv1"
TOKEN_HEADER = "X-Consentgate-Subject-Token"
DEFAULT_TTL = 3600
MAX_TTL = 24 * 3600  # a stolen token is good for at most a day; backends mint fresh ones per session
LEEWAY = 60  # seconds of clock difference tolerated between the issuing backend and this server
MIN_SECRET_CHARS = 32
MAX_SUBJECT_CHARS = 256  # the API's limit on subject ids
# The longest token ``issue`` can make: a 256-character subject of characters outside the Basic
# Multilingual Plane is JSON-escaped to 12 characters each (a surrogate pair, ``\ud83d\ude00``),
# 3,072 bytes, 4,096 in base64url, plus the other claims and the signature: about 4,260. An ASCII
# subject of 256 characters makes about 500. Longer is refused unread (a 16 KiB request head allows it).
MAX_TOKEN_CHARS = 4608

_TOKEN_LABEL = b"consentgate/subject-token/v1"
_VISITOR_LABEL = b"consentgate/visitor-id/v1"
_KID_LABEL = b"consentgate/key-id/v1"
_NEW_SECRET_HINT = 'generate one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'
_REISSUE = "ask the site's backend for a new one (POST /v1/tokens or `consentgate tokens issue`)"


@dataclass(frozen=True, slots=True)
class SubjectToken:
    """A verified token: the one subject it binds, its lifetime, and which key signed it."""

    subject: str
    issued_at: datetime
    expires_at: datetime
    kid: str
    jti: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or "=" in text:
        raise ValueError("not unpadded base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    # Canonical only: the last character's unused low bits are ignored by the decoder, so several
    # strings decode to one MAC; accepting them would let a token be altered and still verify.
    if _b64(data) != text:
        raise ValueError("not canonical base64url")
    return data


def key_id(secret: str) -> str:
    """A short public name for a secret: rotation needs to know which secret signed a token."""
    return _b64(hashlib.sha256(_KID_LABEL + b"\0" + secret.encode()).digest())[:8]


def _mac(secret: str, label: bytes, message: str) -> bytes:
    subkey = hmac.new(secret.encode(), label, hashlib.sha256).digest()
    return hmac.new(subkey, message.encode("ascii"), hashlib.sha256).digest()


def _check_subject(subject: str) -> None:
    if not isinstance(subject, str) or not subject or len(subject) > MAX_SUBJECT_CHARS:
        raise BadInput(f"a token's subject must be a non-empty id of at most {MAX_SUBJECT_CHARS} characters")


def _check_ttl(ttl: int) -> None:
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 1 <= ttl <= MAX_TTL:
        raise BadInput(
            f"ttl must be a whole number of seconds from 1 to {MAX_TTL} (24 hours), got {ttl!r}; "
            "short-lived tokens limit what a stolen one can do — mint a new one per session"
        )


class Keyring:
    """The active secrets: the first signs, every one verifies.

    Rotation: put the new secret first and keep the old one after it for at least :data:`MAX_TTL`
    (tokens signed with it stay valid) — and for as long as visitor ids signed with it should keep
    working without a token (they live as long as the ``cg_vid`` cookie).
    """

    def __init__(self, secrets_: Sequence[str]) -> None:
        cleaned = [s.strip() for s in secrets_ if s.strip()]
        if not cleaned:
            raise BadInput(f"no token secret given; {_NEW_SECRET_HINT}")
        for s in cleaned:
            if len(s) < MIN_SECRET_CHARS:
                raise BadInput(
                    f"a token secret must have at least {MIN_SECRET_CHARS} characters "
                    f"(one of them has {len(s)}); {_NEW_SECRET_HINT}"
                )
        self._secrets = {key_id(s): s for s in reversed(cleaned)}  # a repeated secret counts once
        self.signing_kid = key_id(cleaned[0])

    @classmethod
    def from_setting(cls, value: str) -> Keyring:
        """``CONSENTGATE_TOKEN_SECRET``: one secret, or several separated by commas (newest first)."""
        return cls(value.split(","))

    @property
    def kids(self) -> list[str]:
        """Key ids of the active secrets, the signing one first."""
        return [self.signing_kid, *(k for k in self._secrets if k != self.signing_kid)]

    # -- subject tokens ----------------------------------------------------------------------------

    def issue(self, subject: str, ttl: int = DEFAULT_TTL, *, now: float | None = None) -> str:
        """A token binding ``subject`` for ``ttl`` seconds, signed with the newest secret."""
        _check_subject(subject)
        _check_ttl(ttl)
        issued = int(time.time() if now is None else now)
        claims = {
            "sub": subject,
            "iat": issued,
            "exp": issued + ttl,
            "kid": self.signing_kid,
            "jti": _b64(secrets.token_bytes(9)),
        }
        payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
        signed = f"{TOKEN_PREFIX}.{payload}"
        return f"{signed}.{_b64(_mac(self._secrets[self.signing_kid], _TOKEN_LABEL, signed))}"

    def verify(self, token: str, *, now: float | None = None) -> SubjectToken:
        """The token's claims, or :class:`AuthError` (401) saying why it is refused and what to do."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
            raise AuthError(f"the subject token is not valid (longer than {MAX_TOKEN_CHARS} characters)")
        parts = token.strip().split(".")
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            hint = (
                "that is a visitor id, not a token; send it as the subject instead"
                if parts[0] == VISITOR_PREFIX
                else f"a subject token looks like {TOKEN_PREFIX}.<payload>.<signature>"
            )
            raise AuthError(f"the subject token is malformed: {hint}")
        try:
            claims = json.loads(_unb64(parts[1]))
            mac = _unb64(parts[2])
        except (ValueError, binascii.Error, RecursionError):
            raise AuthError(f"the subject token is malformed or was altered; {_REISSUE}") from None
        kid = claims.get("kid") if isinstance(claims, dict) else None
        secret = self._secrets.get(kid) if isinstance(kid, str) else None
        if secret is None:
            raise AuthError(
                f"the subject token was signed with key {kid!r}, which this server does not accept "
                "(the secret was rotated out, or the token comes from another deployment); " + _REISSUE
            )
        if not hmac.compare_digest(_mac(secret, _TOKEN_LABEL, f"{parts[0]}.{parts[1]}"), mac):
            raise AuthError(f"the subject token's signature does not match: it was altered; {_REISSUE}")
        sub, iat, exp, jti = (claims.get(k) for k in ("sub", "iat", "exp", "jti"))
        if not (
            isinstance(sub, str)
            and sub
            and _is_int(iat)
            and _is_int(exp)
            and isinstance(jti, str)
            and 0 < exp - iat <= MAX_TTL
        ):
            raise AuthError("the subject token's claims are incomplete or out of range; " + _REISSUE)
        clock = time.time() if now is None else now
        if iat > clock + LEEWAY:
            raise AuthError(
                f"the subject token is issued in the future ({_iso(iat)}); "
                "check the clocks of the issuing backend and this server"
            )
        if exp + LEEWAY <= clock:
            raise AuthError(f"the subject token expired at {_iso(exp)}; " + _REISSUE)
        return SubjectToken(sub, _dt(iat), _dt(exp), str(kid), jti)

    # -- other signed strings (cross-domain hand-offs) ----------------------------------------------

    def sign(self, label: bytes, message: str) -> str:
        """A MAC of ``message`` under ``label`` (domain separation) with the newest secret."""
        return _b64(_mac(self._secrets[self.signing_kid], label, message))

    def signed(self, label: bytes, message: str, mac: str) -> bool:
        """True when ``mac`` is :meth:`sign`'s answer under any active secret (each in constant time)."""
        try:
            raw = _unb64(mac)
        except (ValueError, binascii.Error):
            return False
        found = False
        for secret in self._secrets.values():
            found |= hmac.compare_digest(_mac(secret, label, message), raw)
        return found

    # -- visitor ids -------------------------------------------------------------------------------

    def new_visitor_id(self) -> str:
        """A fresh anonymous subject id: 128 random bits, signed so the server can recognise its own."""
        body = f"{VISITOR_PREFIX}.{_b64(secrets.token_bytes(16))}"
        return f"{body}.{_b64(_mac(self._secrets[self.signing_kid], _VISITOR_LABEL, body))}"

    def is_visitor_id(self, value: str) -> bool:
        """True when this server (under any active secret) issued ``value`` as a visitor id."""
        parts = value.split(".") if isinstance(value, str) and len(value) <= MAX_SUBJECT_CHARS else []
        if len(parts) != 3 or parts[0] != VISITOR_PREFIX:
            return False
        try:
            mac = _unb64(parts[2])
            _unb64(parts[1])
        except (ValueError, binascii.Error):
            return False
        body = f"{parts[0]}.{parts[1]}"
        # No key id inside (the id stays short); every active secret is tried, each in constant time.
        found = False
        for secret in self._secrets.values():
            found |= hmac.compare_digest(_mac(secret, _VISITOR_LABEL, body), mac)
        return found


def issue_subject_token(
    secret: str, subject: str, ttl: int = DEFAULT_TTL, *, now: float | None = None
) -> str:
    """Mint a subject token offline, in a backend that holds the server's token secret.

    ``secret`` is the value of ``CONSENTGATE_TOKEN_SECRET`` (with several comma-separated secrets,
    the first one signs). Hand the token to the browser session of the logged-in ``subject``; the
    banner and privacy center send it as the ``X-Consentgate-Subject-Token`` header.
    """
    return Keyring.from_setting(secret).issue(subject, ttl, now=now)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _dt(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _iso(seconds: int) -> str:
    try:
        return _dt(seconds).isoformat()
    except (OverflowError, OSError, ValueError):
        return str(seconds)
