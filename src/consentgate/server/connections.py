"""Limits on connections and request heads, enforced where uvicorn reads the socket.

uvicorn with httptools has no limit of its own on a request head: httptools gathers a header line that
never ends in memory (one connection sending 1 MiB lines grew a server from 226 MB to 1.25 GB), a
connection may take forever to finish its headers (slowloris), nothing counts header fields, and one
address may open as many connections as the process has file descriptors. ``h11_max_incomplete_event_size``
applies to the h11 parser only, and ``limit_concurrency`` counts every client together, so one
address can still take all of it. :class:`GuardedHttpToolsProtocol` is uvicorn's own protocol with
those four limits added, and ``consentgate serve`` runs it (``http=guarded_protocol(...)``):

* the head (request line and header fields) must fit ``max_head_bytes``, else 431 and close; the count
  is of bytes read while the head is incomplete, so memory per connection stays near that limit plus
  one socket read;
* at most ``max_header_fields`` fields, else 431 and close;
* a head must be complete within ``head_timeout`` seconds from the connection's start or from the first
  byte of a later request on it, else 408 and close (idle keep-alive connections keep uvicorn's
  ``timeout_keep_alive``);
* at most ``max_connections_per_ip`` open connections per client address (an IPv6 /64, as the rate
  limit buckets it); a connection beyond that is closed as soon as it is accepted, so it holds a file
  descriptor for no time.

Each server process counts its own connections. Behind a reverse proxy every connection comes from the
proxy's address: docs/security.md shows the proxy's equivalent limits and how to set these there.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import weakref
from collections import Counter
from dataclasses import dataclass
from typing import Any, NoReturn

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from consentgate.server.ratelimit import address_bucket
from consentgate.settings import Settings

log = logging.getLogger("consentgate.server")

# Open connections per address bucket, per uvicorn server (several apps may run in one test process).
_OPEN: weakref.WeakKeyDictionary[ServerState, Counter[str]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class ConnectionLimits:
    """The limits above; 0 turns the per-address cap off."""

    max_head_bytes: int = 16 * 1024
    max_header_fields: int = 100
    head_timeout: float = 10.0
    max_connections_per_ip: int = 64


_REFUSALS = {
    408: (b"Request Timeout", "request_timeout"),
    431: (b"Request Header Fields Too Large", "headers_too_large"),
}


class _HeadRefused(Exception):
    """Raised inside a parser callback to stop parsing; httptools re-raises it as a parser error."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, limits: ConnectionLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self._head_bytes = 0
        self._head_fields = 0
        self._head_parsed = 0
        self._too_large = f"the request head is larger than {limits.max_head_bytes} bytes"
        self._in_head = True  # a new connection owes us a request head
        self._deadline: asyncio.TimerHandle | None = None
        self._refusal: tuple[int, str] | None = None
        self._bucket: str | None = None

    # -- connection --------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        cap = self.limits.max_connections_per_ip
        if cap > 0:
            bucket = address_bucket(self.client[0] if self.client else None)
            counts = _OPEN.setdefault(self.server_state, Counter())
            if counts[bucket] >= cap:
                log.warning(
                    "refused a connection: this client address already has %d open (max_connections_per_ip)",
                    counts[bucket],
                )
                transport.abort()
                return
            counts[bucket] += 1
            self._bucket = bucket
        self._arm_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_deadline()
        if self._bucket is not None:
            counts = _OPEN.get(self.server_state)
            if counts is not None:
                counts[self._bucket] -= 1
                if counts[self._bucket] <= 0:
                    del counts[self._bucket]
            self._bucket = None
        super().connection_lost(exc)

    # -- the head ----------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_head and not self.transport.is_closing():
            # Bytes of a request whose head is still incomplete after this read (a read that also
            # completed an earlier pipelined request counts whole: the error is on the strict side).
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_head_bytes:
                self._refuse(431, self._too_large)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_fields = 0
        self._head_parsed = 0
        self._arm_deadline()

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_fields += 1
        if self._head_fields > self.limits.max_header_fields:
            self._stop(431, f"the request has more than {self.limits.max_header_fields} header fields")
        self._count_head(len(name) + len(value) + 4)  # "name: value\r\n"
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._disarm_deadline()
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers every parser error with 400; a refusal of ours carries its own status.
        if self._refusal is not None:
            status, text = self._refusal
            self._refuse(status, text)
            return
        super().send_400_response(msg)

    # -- helpers -----------------------------------------------------------------------------------

    def _count_head(self, size: int) -> None:
        """A head that arrived whole in one read is measured here, from what the parser found."""
        self._head_parsed += size
        if self._head_parsed > self.limits.max_head_bytes:
            self._stop(431, self._too_large)

    def _stop(self, status: int, text: str) -> NoReturn:
        """Stop the parser from inside a callback; ``send_400_response`` then answers ``status``."""
        self._refusal = (status, text)
        raise _HeadRefused

    def _arm_deadline(self) -> None:
        if self._deadline is None and self.limits.head_timeout > 0:
            self._deadline = self.loop.call_later(self.limits.head_timeout, self._head_timed_out)

    def _disarm_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _head_timed_out(self) -> None:
        self._deadline = None
        if self._in_head and not self.transport.is_closing():
            self._refuse(408, f"the request head did not arrive within {self.limits.head_timeout:g} s")

    def _refuse(self, status: int, text: str) -> None:
        """Answer in the common error shape and close: the request never reaches the app."""
        self._disarm_deadline()
        reason, code = _REFUSALS[status]
        error = {"code": code, "message": f"{text}; see docs/security.md", "problems": []}
        body = json.dumps({"error": error}).encode()
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n%s" % (status, reason, len(body), body)
        )
        self.transport.close()
        self._in_head = False


def connection_limits(settings: Settings) -> ConnectionLimits:
    return ConnectionLimits(
        max_head_bytes=settings.max_head_bytes,
        max_header_fields=settings.max_header_fields,
        head_timeout=settings.head_timeout_seconds,
        max_connections_per_ip=settings.max_connections_per_ip,
    )


def guarded_protocol(limits: ConnectionLimits) -> Any:
    """The ``http=`` value for ``uvicorn.run``: a picklable factory, so ``--workers`` processes get it."""
    return functools.partial(GuardedHttpToolsProtocol, limits=limits)
