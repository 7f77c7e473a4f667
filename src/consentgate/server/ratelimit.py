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
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from consentgate.server.errors import RequestProblems, error_response

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

    def take(self, name: str, cost: float = 1.0) -> tuple[bool, float, float]:
        """Spend ``cost`` tokens: ``(allowed, tokens left, seconds until there are enough)``."""
        wait = self.wait(name, cost)
        bucket = self._buckets[name]
        if wait == 0:
            bucket.tokens -= cost
            return True, bucket.tokens, 0.0
        return False, bucket.tokens, wait

    def wait(self, name: str, cost: float) -> float:
        """Seconds until the bucket holds ``cost`` tokens (0: now), spending nothing."""
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
        return 0.0 if bucket.tokens >= cost else (cost - bucket.tokens) / self.rate


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


class EventBudget:
    """Events, not requests: a batch of 10,000 submissions is one request to :class:`RateLimit` but
    tens of thousands of events. Submission endpoints charge every event they are about to store to

    * the key's bucket: ``per_key`` events per second, bursts of ``burst_seconds`` worth;
    * each subject's bucket: ``per_subject_minute`` events per minute, so one visitor id cannot be
      handed a flood of events through a public collect key.

    All or nothing: a request is refused before anything is spent when any bucket is short, and a
    request larger than a bucket could ever hold is refused as invalid (retrying cannot help). Thread
    safe: the batch endpoint runs in the threadpool.
    """

    def __init__(
        self,
        *,
        per_key: float,
        per_subject_minute: int,
        burst_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keys = _buckets(per_key, burst_seconds, clock)
        self.subjects = (
            TokenBuckets(per_subject_minute / 60, per_subject_minute, clock=clock)
            if per_subject_minute > 0
            else None
        )
        self._lock = threading.Lock()

    def charge(self, key: str | None, events_by_subject: Mapping[str, int]) -> None:
        """Spend the events or raise ``RequestProblems`` (429 ``rate_limited``, or 422 when too large)."""
        asks: list[tuple[TokenBuckets, str, float, str]] = []
        if self.keys is not None and key is not None:
            total = sum(events_by_subject.values())
            asks.append((self.keys, hashlib.sha256(key.encode()).hexdigest(), total, "this API key"))
        if self.subjects is not None:
            asks += [(self.subjects, s, n, f"subject {s!r}") for s, n in events_by_subject.items()]
        for buckets, _, cost, what in asks:
            if cost > buckets.capacity:
                message = (
                    f"this request holds {cost:g} events for {what}, more than the {buckets.capacity:g} "
                    "it may send at once; split it into smaller requests"
                )
                raise RequestProblems("invalid_request", message, [("events", message)])
        with self._lock:
            waits = [(buckets.wait(name, cost), buckets, what) for buckets, name, cost, what in asks]
            longest = max(waits, key=lambda w: w[0], default=None)
            if longest is not None and longest[0] > 0:
                raise _events_refused(longest[1], longest[2], longest[0])
            for buckets, name, cost, _ in asks:
                buckets.take(name, cost)


def _events_refused(buckets: TokenBuckets, what: str, wait: float) -> RequestProblems:
    retry = max(1, math.ceil(wait))
    per = f"{buckets.rate:g} per second" if buckets.rate >= 1 else f"{buckets.capacity:g} per minute"
    message = f"too many events for {what}: at most {per}; nothing was stored; retry after {retry} s"
    headers = {
        "Retry-After": str(retry),
        "RateLimit-Limit": f"{buckets.capacity:.0f}",
        "RateLimit-Remaining": "0",
    }
    return RequestProblems("rate_limited", message, [("events", message)], status=429, headers=headers)


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
