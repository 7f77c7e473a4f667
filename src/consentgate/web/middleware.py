"""The tag gate as ASGI and WSGI middleware: HTML leaves the app with tracker tags inert (docs/web.md).

::

    app.add_middleware(TagGateASGI, policy="policy.yaml")          # FastAPI, Starlette
    app.wsgi_app = TagGateWSGI(app.wsgi_app, policy="policy.yaml") # Flask
    application = TagGateWSGI(get_wsgi_application(), policy=…)    # Django (wsgi.py; TagGateASGI in asgi.py)

Only ``text/html`` and ``application/xhtml+xml`` responses are touched, chunk by chunk as the app
sends them (:class:`consentgate.web.taggate.HtmlGate`); their ``Content-Length`` goes, since the
length changes. ``gzip`` and ``deflate`` bodies are inflated, rewritten and sent uncompressed (a
compressing middleware *outside* the gate, or the proxy, compresses again). Anything the gate cannot
rewrite — another content coding (``br``, ``zstd``), a partial response (206), a UTF-16 document —
passes unchanged with a WARNING log line, and so does every tracker tag it leaves fetchable (a
stylesheet, ``<video src>``): it never stays silent about what reaches the browser.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from pathlib import Path
from typing import Any, Generic, TypeVar

from consentgate.policy import Policy, load_policy
from consentgate.web.taggate import Finding, HtmlGate, TrackerHosts, ascii_compatible

log = logging.getLogger("consentgate.taggate")

HTML_TYPES = ("text/html", "application/xhtml+xml")
INFLATABLE = ("gzip", "x-gzip", "deflate")
# Servers may send a file without handing its bytes to the app's send(): turn that off for the app.
FILE_SENDS = ("http.response.pathsend", "http.response.zerocopysend")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
App = TypeVar("App")


def tracker_hosts(policy: Policy | str | Path | None, hosts: TrackerHosts | None) -> TrackerHosts:
    if hosts is not None:
        return hosts
    if policy is None:
        raise TypeError("give the policy (a Policy or its file) or hosts")
    return TrackerHosts.from_policy(policy if isinstance(policy, Policy) else load_policy(Path(policy)))


def log_findings(findings: list[Finding], where: str) -> None:
    """One WARNING per tracker tag the gate left fetchable; a DEBUG count of the ones it gated."""
    gated = sum(1 for f in findings if f.action == "gated")
    if gated:
        log.debug("%s: %d tracker tag(s) made inert", where, gated)
    for f in findings:
        if f.action == "left":
            log.warning(
                "%s line %d: <%s %s> loads %s before consent; the tag gate cannot make it inert "
                "(gate it by hand, docs/web.md)",
                where, f.line, f.tag, f.attribute, f.url,
            )  # fmt: skip


class _Body:
    """One HTML response body on its way out: inflated if need be, rewritten, findings logged."""

    def __init__(self, hosts: TrackerHosts, charset: str | None, inflate: bool, where: str) -> None:
        self.gate: HtmlGate | None = HtmlGate(hosts)
        self.charset = charset
        self.inflater = zlib.decompressobj(wbits=47) if inflate else None  # 47: gzip or zlib header
        self.where = where
        self.started = False

    def _rewrite(self, data: bytes) -> bytes:
        if not self.started and data:
            self.started = True
            if not ascii_compatible(self.charset, data):
                log.warning(
                    "%s: not rewritten (UTF-16/32 HTML); its tracker tags load as written", self.where
                )
                self.gate = None
        return self.gate.feed(data) if self.gate is not None and self.started else data

    def feed(self, chunk: bytes) -> bytes:
        return self._rewrite(self.inflater.decompress(chunk) if self.inflater else chunk)

    def close(self) -> bytes:
        out = self._rewrite(self.inflater.flush()) if self.inflater else b""
        if self.gate is not None:
            out += self.gate.close()
            log_findings(self.gate.findings, self.where)
        return out


def _is(name: str, wanted: str) -> bool:
    return name.strip().lower() == wanted


def _plan(
    hosts: TrackerHosts, status: int, headers: list[tuple[str, str]], where: str
) -> tuple[_Body | None, list[tuple[str, str]]]:
    """The body rewriter for a response (None: pass it on as it is) and the headers to send."""
    found = {name.lower(): value for name, value in headers}
    media, _, params = found.get("content-type", "").partition(";")
    if media.strip().lower() not in HTML_TYPES or not hosts.purposes:
        return None, headers
    coding = found.get("content-encoding", "identity").strip().lower()
    if status == 206 or coding not in ("identity", "", *INFLATABLE):
        what = "a partial response" if status == 206 else f"Content-Encoding {coding}"
        log.warning(
            "%s: HTML not rewritten (%s): its tracker tags load as written (docs/web.md)", where, what
        )
        return None, headers
    charset = next(
        (v for k, _, v in (p.partition("=") for p in params.split(";")) if _is(k, "charset")), None
    )
    drop = {"content-length", *(["content-encoding"] if coding in INFLATABLE else [])}
    kept = [(n, v) for n, v in headers if n.lower() not in drop]
    return _Body(hosts, charset, coding in INFLATABLE, where), kept


class _Wrapper(Generic[App]):
    """The wrapped app and the hosts to gate: from ``hosts``, else from the policy (or its file)."""

    def __init__(
        self, app: App, *, policy: Policy | str | Path | None = None, hosts: TrackerHosts | None = None
    ) -> None:
        self.app = app
        self.hosts = tracker_hosts(policy, hosts)
        if not self.hosts.purposes:
            log.warning(
                "the tag gate has no tracker host to gate (web.trackers with a category no purpose has "
                "as its kind): responses pass unchanged"
            )


class TagGateASGI(_Wrapper[ASGIApp]):
    """ASGI middleware (FastAPI, Starlette, Django's asgi.py): see the module doc."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ext = scope.get("extensions") or {}
        if any(k in ext for k in FILE_SENDS):
            scope = {**scope, "extensions": {k: v for k, v in ext.items() if k not in FILE_SENDS}}
        where = str(scope.get("path", "?"))
        body: _Body | None = None

        async def gated_send(message: Message) -> None:
            nonlocal body
            if message["type"] == "http.response.start":
                raw = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])]
                body, headers = _plan(self.hosts, int(message["status"]), raw, where)
                if body is not None:
                    encoded = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
                    message = {**message, "headers": encoded}
            elif message["type"] == "http.response.body" and body is not None:
                out = body.feed(message.get("body", b""))
                if not message.get("more_body", False):
                    out += body.close()
                message = {**message, "body": out}
            await send(message)

        await self.app(scope, receive, gated_send)


class TagGateWSGI(_Wrapper[WSGIApp]):
    """WSGI middleware (Flask, Django's wsgi.py, any PEP 3333 app): see the module doc."""

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        where = str(environ.get("PATH_INFO", "?"))
        state: dict[str, _Body | None] = {}

        def gated_start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            body, headers = _plan(self.hosts, int(status.split()[0]), headers, where)
            state["body"] = body
            write = start_response(status, headers, exc_info) if exc_info else start_response(status, headers)
            if body is None:
                return write
            return lambda data: write(body.feed(data))

        result = self.app(environ, gated_start)
        if "body" in state and state["body"] is None:
            return result  # started and not HTML: the app's iterable as it is (file wrappers stay fast)
        return self._rewritten(result, state)

    @staticmethod
    def _rewritten(result: Iterable[bytes], state: dict[str, _Body | None]) -> Iterator[bytes]:
        try:
            for chunk in result:
                body = state.get("body")
                yield body.feed(chunk) if body is not None else chunk
            body = state.get("body")
            if body is not None:
                yield body.close()
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
