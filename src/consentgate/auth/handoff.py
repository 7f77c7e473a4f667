"""Cross-domain hand-offs (policy ``web.share``): how a choice made on one domain reaches another.

Browsers partition third-party cookies by site, so the service cannot see that the visitor of
``a.example`` and of ``b.example`` is one person. The banner on the first domain asks for a hand-off
``cgh1.<payload>.<mac>`` — base64url JSON ``{"sub", "from", "to", "exp", "jti"}``, HMAC-SHA256 under
its own label with the subject-token secrets — and puts it in the fragment of a link to the second
domain (a fragment is never sent to a server nor in ``Referer``). The banner there redeems it once,
within seconds, which links its own visitor id to ``sub``.

Nothing here touches a database: the clock is a parameter. One use is the store's job
(``store/handoffs.py``).
"""

from __future__ import annotations

import binascii
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from consentgate.auth.tokens import Keyring, _b64, _unb64  # one base64url for every signed string
from consentgate.errors import AuthError

PREFIX = "cgh1"
MAX_CHARS = 1024
_LABEL = b"consentgate/share-handoff/v1"
_AGAIN = "follow the link from the other domain again for a new one"


@dataclass(frozen=True, slots=True)
class Handoff:
    subject: str
    source: str
    target: str
    expires_at: datetime
    token_id: str


def issue(
    keyring: Keyring, subject: str, source: str, target: str, ttl: int, *, now: float | None = None
) -> str:
    """A hand-off of ``subject``'s choices from domain ``source`` to domain ``target``."""
    claims = {
        "sub": subject,
        "from": source,
        "to": target,
        "exp": int(time.time() if now is None else now) + ttl,
        "jti": _b64(secrets.token_bytes(12)),
    }
    signed = f"{PREFIX}.{_b64(json.dumps(claims, separators=(',', ':'), sort_keys=True).encode())}"
    return f"{signed}.{keyring.sign(_LABEL, signed)}"


def verify(keyring: Keyring, token: str, *, now: float | None = None) -> Handoff:
    """The hand-off's claims, or :class:`AuthError` saying why it is refused."""
    parts = token.strip().split(".") if isinstance(token, str) and len(token) <= MAX_CHARS else []
    if len(parts) != 3 or parts[0] != PREFIX:
        raise AuthError(f"the hand-off is malformed: one looks like {PREFIX}.<payload>.<signature>")
    if not keyring.signed(_LABEL, f"{parts[0]}.{parts[1]}", parts[2]):
        raise AuthError(
            f"the hand-off's signature does not match: it was altered or comes from another service; {_AGAIN}"
        )
    try:
        claims = json.loads(_unb64(parts[1]))
    except (ValueError, binascii.Error):  # pragma: no cover - signed by us, so well formed
        raise AuthError(f"the hand-off is malformed; {_AGAIN}") from None
    sub, src, dst, exp, jti = (claims.get(k) for k in ("sub", "from", "to", "exp", "jti"))
    if not (all(isinstance(v, str) and v for v in (sub, src, dst, jti)) and isinstance(exp, int)):
        raise AuthError(f"the hand-off's claims are incomplete; {_AGAIN}")
    if exp <= (time.time() if now is None else now):
        expired = datetime.fromtimestamp(exp, UTC).isoformat()
        raise AuthError(f"the hand-off expired at {expired} (it lasts seconds, for one link); {_AGAIN}")
    return Handoff(str(sub), str(src), str(dst), datetime.fromtimestamp(exp, UTC), str(jti))
