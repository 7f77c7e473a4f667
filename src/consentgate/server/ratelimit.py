"""Token buckets per API key and per client address, answering 429 with ``Retry-After``.

Each bucket holds ``rate * burst_seconds`` requests and refills at ``rate`` per second, so a client may
send a burst and then keeps its rate. Buckets live in this process only: with N server processes a
client gets N times the rate (docs/api.md says so). This is a guard against floods and runaway
scripts, not a quota system.

* **Per key**: keyed by a hash of the whole bearer value, so knowing a key's public id (it is in every
  collect key) does not let anyone drain that key's bucket. Unknown keys get buckets too; the
  per-address bucket is what stops someone cycling through made-up keys.
* **Per address**: the ASGI client address, which uvicorn replaces by the ``X-Forwarded-For`` address
  only when the request comes from a trusted proxy (``--forwarded-allow-ips``). IPv6 addresses are
  bucketed by their /64, since one host can use a whole /64.

``/healthz`` is exempt: load balancers poll it. CORS preflights are answered before this runs.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from consentgate.server.errors import error_response

EXEMPT_PATHS = frozenset({"/healthz"})
MAX_BUCKETS = 100_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """One bucket per name, ``capacity`` tokens each, refilled at ``rate`` tokens per second.

    Not thread-safe: the middleware uses it from the event loop only. At most ``max_buckets`` are kept,
    least recently used first out; a dropped bucket comes back full, which errs towards letting a
    request through.
    """

    def __init__(
        self,
        rate: float,
        capacity: float,
        *,
        max_buckets: int = MAX_BUCKETS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("a token bucket needs a positive rate and room for at least one request")
        self.rate = rate
        self.capacity = capacity
        self.max_buckets = max_buckets
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, name: str) -> tuple[bool, float, float]:
        """Spend one token: ``(allowed, tokens left, seconds until one more token)``."""
        now = self.clock()
        bucket = self._buckets.get(name)
        if bucket is None:
            bucket = _Bucket(self.capacity, now)
            self._buckets[name] = bucket
            if len(self._buckets) > self.max_buckets:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(name)
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return True, bucket.tokens, 0.0
        return False, bucket.tokens, (1 - bucket.tokens) / self.rate


def address_bucket(host: str | None) -> str:
    """The bucket name of a client address: the address itself, or its /64 for IPv6."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def bearer_value(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name.lower() == b"authorization":
            header: str = value.decode("latin-1")
            kind, _, key = header.strip().partition(" ")
            if kind.lower() != "bearer" or not key.strip():
                return None
            return key.strip()
    return None


class RateLimit:
    """ASGI middleware: refuse a request whose key or address has spent its bucket."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        per_key: float,
        per_ip: float,
        burst_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.keys = _buckets(per_key, burst_seconds, clock)
        self.addresses = _buckets(per_ip, burst_seconds, clock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        checks: list[tuple[TokenBuckets, str, str]] = []
        if self.addresses is not None:
            client = scope.get("client")
            checks.append((self.addresses, address_bucket(client[0] if client else None), "client address"))
        key = bearer_value(scope)
        if self.keys is not None and key is not None:
            checks.append((self.keys, hashlib.sha256(key.encode()).hexdigest(), "API key"))
        # The address first, and stop at the first refusal: a collect key is public, so one flooding
        # address must not spend the key's bucket that every visitor's banner shares.
        for buckets, name, what in checks:
            allowed, _, wait = buckets.take(name)
            if not allowed:
                await _refuse(buckets, what, wait)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _refuse(buckets: TokenBuckets, what: str, wait: float) -> Response:
    retry = max(1, math.ceil(wait))
    message = (
        f"too many requests from this {what}: at most {buckets.rate:g} per second "
        f"(bursts of {buckets.capacity:g}); retry after {retry} s"
    )
    headers = {
        "Retry-After": str(retry),
        "RateLimit-Limit": f"{buckets.capacity:.0f}",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": str(retry),
    }
    return error_response(429, "rate_limited", message, headers=headers)


def _buckets(rate: float, burst_seconds: float, clock: Callable[[], float]) -> TokenBuckets | None:
    if rate <= 0:
        return None
    return TokenBuckets(rate, max(1.0, rate * burst_seconds), clock=clock)
