"""The scheduled-scan webhook: a JSON body, signed with HMAC-SHA256 so the receiver can trust it.

The header ``X-Consentgate-Signature: sha256=HEX`` is the HMAC-SHA256 of the exact body bytes under
the secret in the environment variable the policy names (``web.scan.webhook.secret_env``). The body
carries ``sent_at``: receivers should refuse old deliveries (replays). Nothing is ever sent unsigned:
without the secret, delivery fails with an error log line.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from consentgate.policy.models import ScanWebhook

log = logging.getLogger("consentgate.scan.schedule")

SIGNATURE_HEADER = "X-Consentgate-Signature"
TIMEOUT_S = 10.0


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver runs on the raw body before parsing it (docs/scanner.md shows it standalone)."""
    return hmac.compare_digest(sign(secret, body), signature)


def deliver(webhook: ScanWebhook, payload: dict[str, Any], env: Mapping[str, str]) -> bool:
    """POST ``payload``; True when the receiver answered 2xx. Failures are logged, never raised: a
    webhook that is down must not stop the next scan."""
    secret = env.get(webhook.secret_env)
    if not secret:
        log.error(
            "scan webhook not sent: the environment variable %s (its secret) is not set", webhook.secret_env
        )
        return False
    body = json.dumps({**payload, "sent_at": datetime.now(UTC).isoformat()}, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body)}
    try:
        response = httpx.post(webhook.url, content=body, headers=headers, timeout=TIMEOUT_S)
    except httpx.HTTPError as exc:
        log.error("scan webhook to %s failed: %s", webhook.url, type(exc).__name__)
        return False
    if not response.is_success:
        log.error("scan webhook to %s answered HTTP %d", webhook.url, response.status_code)
        return False
    return True
